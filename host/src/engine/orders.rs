//! `OrderTracker`: every order the engine made, keyed by cloid, through its lifecycle:
//! Queued → Sent → Resting → PartiallyFilled → Filled; CancelPending → Cancelled or
//! FilledDuringCancel; Rejected; UnknownOutcome (sent, no answer: the venue's state decides);
//! Dropped (purged by HardStop before it was sent).
//!
//! An order stays *active* (its unfilled size counted as pending exposure) until it is terminal
//! AND every fill the venue reported for it has been applied: a post result saying "filled" can
//! arrive before the fills themselves, and the exposure must not vanish in between.

use super::positions::Pending;
use super::types::{Cloid, MarketId, Side, StrategyId, Tif};
use plugin_api::OrderStatus;
use rust_decimal::Decimal;
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderState {
    Queued,
    Sent,
    Resting,
    PartiallyFilled,
    Filled,
    CancelPending,
    Cancelled,
    FilledDuringCancel,
    Rejected,
    UnknownOutcome,
    Dropped,
}

impl OrderState {
    pub fn is_terminal(self) -> bool {
        use OrderState::*;
        matches!(
            self,
            Filled | Cancelled | FilledDuringCancel | Rejected | Dropped
        )
    }

    /// The status code a plugin sees.
    pub fn status(self) -> OrderStatus {
        use OrderState::*;
        match self {
            Queued | Sent => OrderStatus::PENDING,
            Resting => OrderStatus::RESTING,
            PartiallyFilled => OrderStatus::PARTIALLY_FILLED,
            Filled => OrderStatus::FILLED,
            CancelPending => OrderStatus::CANCEL_PENDING,
            Cancelled | Dropped => OrderStatus::CANCELLED,
            FilledDuringCancel => OrderStatus::FILLED_DURING_CANCEL,
            Rejected => OrderStatus::REJECTED,
            UnknownOutcome => OrderStatus::UNKNOWN_OUTCOME,
        }
    }
}

/// Why the host made the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A strategy's Place intent.
    Strategy,
    /// One leg of a strategy's PlacePair.
    PairLeg(u32),
    /// A Flatten (strategy intent, HardStop, disabled strategy, failed pair leg).
    Flatten,
    /// An open venue order this run did not make, found by reconciliation.
    Adopted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackedOrder {
    pub cloid: Cloid,
    pub oid: Option<u64>,
    pub market: MarketId,
    /// The strategy whose intent made it (None for the host's own flattens).
    pub owner: Option<StrategyId>,
    pub tag: u64,
    pub side: Side,
    pub px: Decimal,
    pub sz: Decimal,
    pub tif: Tif,
    pub reduce_only: bool,
    pub purpose: Purpose,
    pub state: OrderState,
    /// Size filled so far, from fills applied.
    pub filled: Decimal,
    /// Σ px × sz of the fills applied (average fill price = fill_value / filled).
    pub fill_value: Decimal,
    /// Total size the venue says will have filled once the order is done (known once terminal).
    pub final_filled: Option<Decimal>,
    pub created_ns: u64,
}

impl TrackedOrder {
    pub fn avg_fill_px(&self) -> Decimal {
        if self.filled.is_zero() {
            Decimal::ZERO
        } else {
            self.fill_value / self.filled
        }
    }

    /// Size that may still fill (counted as pending exposure while active).
    pub fn unfilled(&self) -> Decimal {
        let cap = if self.state.is_terminal() {
            self.final_filled.unwrap_or(self.filled)
        } else {
            self.final_filled.unwrap_or(self.sz)
        };
        (cap - self.filled).max(Decimal::ZERO)
    }

    /// Active: may still change the position.
    pub fn is_active(&self) -> bool {
        !self.state.is_terminal() || self.unfilled() > Decimal::ZERO
    }
}

/// Terminal orders kept for late fills and lookups before the oldest are forgotten.
const KEEP_TERMINAL: usize = 50_000;

#[derive(Debug, Clone, Default)]
pub struct OrderTracker {
    orders: HashMap<Cloid, TrackedOrder>,
    by_oid: HashMap<u64, Cloid>,
    /// Active orders per market (small: one or two).
    active: Vec<Vec<Cloid>>,
    /// Orders that became inactive, oldest first (for pruning).
    retired: VecDeque<Cloid>,
}

impl OrderTracker {
    pub fn new(markets: usize) -> Self {
        OrderTracker {
            active: vec![Vec::with_capacity(4); markets],
            ..Default::default()
        }
    }

    pub fn insert(&mut self, o: TrackedOrder) {
        self.active[o.market.index()].push(o.cloid);
        self.orders.insert(o.cloid, o);
    }

    pub fn get(&self, c: Cloid) -> Option<&TrackedOrder> {
        self.orders.get(&c)
    }

    pub fn by_oid(&self, oid: u64) -> Option<Cloid> {
        self.by_oid.get(&oid).copied()
    }

    pub fn set_oid(&mut self, c: Cloid, oid: u64) {
        if let Some(o) = self.orders.get_mut(&c) {
            o.oid = Some(oid);
            self.by_oid.insert(oid, c);
        }
    }

    /// Active orders in a market.
    pub fn active_in(&self, m: MarketId) -> &[Cloid] {
        &self.active[m.index()]
    }

    pub fn active(&self) -> impl Iterator<Item = &TrackedOrder> {
        self.active
            .iter()
            .flatten()
            .filter_map(|c| self.orders.get(c))
    }

    pub fn active_count(&self) -> usize {
        self.active.iter().map(Vec::len).sum()
    }

    /// Sets the state; returns the order after the change. Terminal states are sticky except
    /// that fills may still arrive (they update `filled`, not the state).
    pub fn set_state(&mut self, c: Cloid, state: OrderState) -> Option<TrackedOrder> {
        let o = self.orders.get_mut(&c)?;
        if !o.state.is_terminal() {
            o.state = state;
        }
        let o = *o;
        self.refresh_active(c);
        Some(o)
    }

    /// Records the final filled size the venue reported (post result or terminal update).
    pub fn set_final_filled(&mut self, c: Cloid, total: Decimal) {
        if let Some(o) = self.orders.get_mut(&c) {
            o.final_filled = Some(total.min(o.sz).max(o.filled));
        }
        self.refresh_active(c);
    }

    /// Applies a fill; moves the state to PartiallyFilled / Filled / FilledDuringCancel.
    pub fn apply_fill(&mut self, c: Cloid, px: Decimal, sz: Decimal) -> Option<TrackedOrder> {
        let o = self.orders.get_mut(&c)?;
        o.filled += sz;
        o.fill_value += px * sz;
        let done = o.filled >= o.sz;
        o.state = match o.state {
            OrderState::CancelPending if done => OrderState::FilledDuringCancel,
            OrderState::CancelPending => OrderState::CancelPending,
            s if s.is_terminal() => s,
            _ if done => OrderState::Filled,
            _ => OrderState::PartiallyFilled,
        };
        if done && o.final_filled.is_none() {
            o.final_filled = Some(o.sz);
        }
        let o = *o;
        self.refresh_active(c);
        Some(o)
    }

    fn refresh_active(&mut self, c: Cloid) {
        let Some(o) = self.orders.get(&c) else { return };
        if o.is_active() {
            return;
        }
        let list = &mut self.active[o.market.index()];
        if let Some(i) = list.iter().position(|x| *x == c) {
            list.swap_remove(i);
            self.retired.push_back(c);
            if self.retired.len() > KEEP_TERMINAL
                && let Some(old) = self.retired.pop_front()
                && let Some(gone) = self.orders.remove(&old)
                && let Some(oid) = gone.oid
            {
                self.by_oid.remove(&oid);
            }
        }
    }

    /// Pending aggregates of a market, for the gates.
    pub fn pending_in(&self, m: MarketId) -> Pending {
        let mut p = Pending::default();
        for c in &self.active[m.index()] {
            let o = &self.orders[c];
            if o.reduce_only {
                p.reduce_count += 1;
            } else {
                p.new_count += 1;
                p.new_size += o.unfilled();
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(c: u128, sz: i64) -> TrackedOrder {
        TrackedOrder {
            cloid: Cloid(c),
            oid: None,
            market: MarketId(0),
            owner: None,
            tag: 0,
            side: Side::Buy,
            px: Decimal::from(100),
            sz: Decimal::from(sz),
            tif: Tif::Ioc,
            reduce_only: false,
            purpose: Purpose::Strategy,
            state: OrderState::Sent,
            filled: Decimal::ZERO,
            fill_value: Decimal::ZERO,
            final_filled: None,
            created_ns: 0,
        }
    }

    #[test]
    fn resting_partial_filled_lifecycle_with_average_price() {
        let mut t = OrderTracker::new(1);
        t.insert(order(1, 3));
        t.set_state(Cloid(1), OrderState::Resting);
        let o = t
            .apply_fill(Cloid(1), Decimal::from(100), Decimal::ONE)
            .unwrap();
        assert_eq!(o.state, OrderState::PartiallyFilled);
        let o = t
            .apply_fill(Cloid(1), Decimal::from(103), Decimal::TWO)
            .unwrap();
        assert_eq!(o.state, OrderState::Filled);
        assert_eq!(o.avg_fill_px(), Decimal::from(102));
        assert!(t.active_in(MarketId(0)).is_empty());
    }

    #[test]
    fn cancel_pending_then_filled_is_filled_during_cancel() {
        let mut t = OrderTracker::new(1);
        t.insert(order(1, 2));
        t.set_state(Cloid(1), OrderState::CancelPending);
        let o = t
            .apply_fill(Cloid(1), Decimal::from(100), Decimal::TWO)
            .unwrap();
        assert_eq!(o.state, OrderState::FilledDuringCancel);
    }

    #[test]
    fn exposure_stays_pending_until_reported_fills_arrive() {
        let mut t = OrderTracker::new(1);
        t.insert(order(1, 5));
        // The post result says the IOC filled 3 of 5 and the rest was cancelled: terminal...
        t.set_final_filled(Cloid(1), Decimal::from(3));
        t.set_state(Cloid(1), OrderState::Filled);
        // ...but none of the 3 has been applied yet: still pending exposure.
        assert_eq!(t.pending_in(MarketId(0)).new_size, Decimal::from(3));
        t.apply_fill(Cloid(1), Decimal::from(100), Decimal::from(3));
        assert_eq!(t.pending_in(MarketId(0)), Pending::default());
    }
}
