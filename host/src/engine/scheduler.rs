//! `BatchScheduler`: queues per venue and hands out batches with cancels first, then reduce-only
//! orders, then new orders. The HardStop latch is a constructor argument (a safety device that can
//! be forgotten is not one): while latched, new orders never leave a queue, and a batch already
//! handed to the writer is filtered once more right before signing (`ActionBatch::enforce_hard_stop`).

use super::gates::ApprovedOrder;
use super::hardstop::HardStopLatch;
use super::types::{Cloid, MarketId, Side, Tif, VenueId};
use rust_decimal::Decimal;
use std::collections::VecDeque;
use std::sync::Arc;

/// An order ready for the venue adapter (which rounds price and size to the venue's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRequest {
    pub cloid: Cloid,
    pub market: MarketId,
    pub side: Side,
    pub px: Decimal,
    pub sz: Decimal,
    pub tif: Tif,
    pub reduce_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelRequest {
    pub cloid: Cloid,
    pub market: MarketId,
    pub oid: Option<u64>,
}

/// One venue's next actions: cancels, then orders (reduce-only first, then new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionBatch {
    pub venue: VenueId,
    pub cancels: Vec<CancelRequest>,
    pub orders: Vec<OrderRequest>,
}

impl ActionBatch {
    /// The writer's pre-send guard: if the latch is set, removes every non-reduce-only order and
    /// returns the dropped cloids (report them back with `Event::BatchDropped`).
    pub fn enforce_hard_stop(&mut self, latch: &HardStopLatch) -> Vec<Cloid> {
        if !latch.is_triggered() {
            return Vec::new();
        }
        let mut dropped = Vec::new();
        self.orders.retain(|o| {
            if o.reduce_only {
                true
            } else {
                dropped.push(o.cloid);
                false
            }
        });
        dropped
    }

    pub fn is_empty(&self) -> bool {
        self.cancels.is_empty() && self.orders.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
struct VenueQueues {
    /// Always sent whole, first: they only take risk off.
    cancels: VecDeque<CancelRequest>,
    /// Reduce-only orders go before new ones, so a full batch never delays an exit.
    reduce: VecDeque<OrderRequest>,
    new: VecDeque<OrderRequest>,
}

impl VenueQueues {
    fn is_empty(&self) -> bool {
        self.cancels.is_empty() && self.reduce.is_empty() && self.new.is_empty()
    }
}

#[derive(Debug)]
pub struct BatchScheduler {
    /// A constructor argument, not an option: while latched, new orders never leave a queue.
    latch: Arc<HardStopLatch>,
    /// By `VenueId`.
    queues: Vec<VenueQueues>,
    /// Round-robin start, so one busy venue cannot starve another.
    next_venue: usize,
    /// Orders per batch at most (one signed action; the venue's per-request limit).
    max_orders: usize,
}

impl BatchScheduler {
    pub fn new(latch: Arc<HardStopLatch>, venues: usize, max_orders: usize) -> Self {
        BatchScheduler {
            latch,
            queues: vec![VenueQueues::default(); venues],
            next_venue: 0,
            max_orders: max_orders.max(1),
        }
    }

    pub fn latch(&self) -> &Arc<HardStopLatch> {
        &self.latch
    }

    pub fn enqueue_cancel(&mut self, venue: VenueId, c: CancelRequest) {
        self.queues[venue.0 as usize].cancels.push_back(c);
    }

    /// Queues an order. Only the gates make an `ApprovedOrder`: nothing else reaches a queue.
    pub fn enqueue_order(&mut self, venue: VenueId, o: ApprovedOrder) {
        let o = o.into_request();
        let q = &mut self.queues[venue.0 as usize];
        if o.reduce_only {
            q.reduce.push_back(o);
        } else {
            q.new.push_back(o);
        }
    }

    /// Removes a queued (unsent) order; true if it was queued.
    pub fn remove_order(&mut self, venue: VenueId, cloid: Cloid) -> bool {
        let q = &mut self.queues[venue.0 as usize];
        for list in [&mut q.reduce, &mut q.new] {
            if let Some(i) = list.iter().position(|o| o.cloid == cloid) {
                list.remove(i);
                return true;
            }
        }
        false
    }

    /// Purges every queued new (non-reduce-only) order, returning each one's (cloid, market)
    /// so the caller can clean up its pending markers.
    pub fn drop_new_orders(&mut self) -> Vec<(Cloid, MarketId)> {
        self.queues
            .iter_mut()
            .flat_map(|q| q.new.drain(..))
            .map(|o| (o.cloid, o.market))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.queues.iter().all(VenueQueues::is_empty)
    }

    /// The next batch for some venue, or None. While the latch is set, new orders are purged
    /// instead of batched; their (cloid, market) are returned alongside for cleanup.
    pub fn next_batch(&mut self) -> (Option<ActionBatch>, Vec<(Cloid, MarketId)>) {
        let dropped = self.purge_if_latched();
        let n = self.queues.len();
        for k in 0..n {
            let v = (self.next_venue + k) % n;
            if self.queues[v].is_empty() {
                continue;
            }
            self.next_venue = (v + 1) % n;
            return (Some(self.take_batch(v)), dropped);
        }
        (None, dropped)
    }

    /// The next batch for `venue` (its own venue task asks), with the same purge as `next_batch`.
    pub fn next_batch_for(
        &mut self,
        venue: VenueId,
    ) -> (Option<ActionBatch>, Vec<(Cloid, MarketId)>) {
        let dropped = self.purge_if_latched();
        let v = venue.0 as usize;
        if self.queues.get(v).is_none_or(VenueQueues::is_empty) {
            return (None, dropped);
        }
        (Some(self.take_batch(v)), dropped)
    }

    /// Whether `venue` has actions waiting (its task is woken for them).
    pub fn has_work(&self, venue: VenueId) -> bool {
        self.queues
            .get(venue.0 as usize)
            .is_some_and(|q| !q.is_empty())
    }

    fn purge_if_latched(&mut self) -> Vec<(Cloid, MarketId)> {
        if self.latch.is_triggered() {
            self.drop_new_orders()
        } else {
            Vec::new()
        }
    }

    /// Venue `v`'s cancels, then up to `max_orders` orders (reduce-only first).
    fn take_batch(&mut self, v: usize) -> ActionBatch {
        let q = &mut self.queues[v];
        let cancels: Vec<_> = q.cancels.drain(..).collect();
        let mut orders = Vec::new();
        while orders.len() < self.max_orders {
            match q.reduce.pop_front() {
                Some(o) => orders.push(o),
                None => break,
            }
        }
        while orders.len() < self.max_orders {
            match q.new.pop_front() {
                Some(o) => orders.push(o),
                None => break,
            }
        }
        ActionBatch {
            venue: VenueId(v as u16),
            cancels,
            orders,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::hardstop::HardStopReason;

    fn order(c: u128, reduce_only: bool) -> ApprovedOrder {
        ApprovedOrder::for_test(OrderRequest {
            cloid: Cloid(c),
            market: MarketId(0),
            side: Side::Buy,
            px: Decimal::ONE,
            sz: Decimal::ONE,
            tif: Tif::Ioc,
            reduce_only,
        })
    }

    #[test]
    fn batches_are_cancels_then_reduce_only_then_new() {
        let latch = Arc::new(HardStopLatch::new());
        let mut s = BatchScheduler::new(latch, 1, 40);
        let v = VenueId(0);
        s.enqueue_order(v, order(1, false));
        s.enqueue_order(v, order(2, true));
        s.enqueue_cancel(
            v,
            CancelRequest {
                cloid: Cloid(9),
                market: MarketId(0),
                oid: None,
            },
        );
        s.enqueue_order(v, order(3, false));
        let (b, dropped) = s.next_batch();
        let b = b.unwrap();
        assert!(dropped.is_empty());
        assert_eq!(b.cancels.len(), 1);
        let ids: Vec<u128> = b.orders.iter().map(|o| o.cloid.0).collect();
        assert_eq!(ids, vec![2, 1, 3]);
        assert!(s.next_batch().0.is_none());
    }

    #[test]
    fn latched_scheduler_and_pre_send_guard_drop_new_orders() {
        let latch = Arc::new(HardStopLatch::new());
        let mut s = BatchScheduler::new(latch.clone(), 1, 40);
        let v = VenueId(0);
        s.enqueue_order(v, order(1, false));
        s.enqueue_order(v, order(2, true));
        // The writer already holds this batch when the latch trips.
        let mut held = s.next_batch().0.unwrap();
        s.enqueue_order(v, order(3, false));
        s.enqueue_order(v, order(4, true));
        latch.trigger(HardStopReason::Operator);
        let (b, dropped) = s.next_batch();
        assert_eq!(dropped, vec![(Cloid(3), MarketId(0))]);
        assert_eq!(
            b.unwrap()
                .orders
                .iter()
                .map(|o| o.cloid.0)
                .collect::<Vec<_>>(),
            vec![4]
        );
        assert_eq!(held.enforce_hard_stop(&latch), vec![Cloid(1)]);
        assert_eq!(held.orders.len(), 1);
        assert!(held.orders[0].reduce_only);
    }
}
