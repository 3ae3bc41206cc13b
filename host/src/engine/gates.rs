//! The pre-trade gates, as a type. An order reaches the `BatchScheduler` only as an
//! [`ApprovedOrder`], which only [`Engine::approve`] makes: it runs one ordered list of gates
//! over the order (or both legs of a pair, taken together), then takes the action budget. A new
//! gate is one function, one entry in a list, one reason code.
//!
//! Risk-increasing orders ([`ENTRY_GATES`], seed 004's order): HardStop → EntriesPaused →
//! ReadyTrading → MarketDataSane → MaxPositionPerMarket → MaxPositionTotal → HasPosition →
//! PendingOrder → RejectionBackoff, then ActionBudget. Reduce-only orders, flattens and pair closes ([`REDUCE_GATES`]): they must
//! reduce an open position and need a connected venue; they pass HardStop and MaxPosition and may
//! draw on the budget's reserve. Both lists end with RejectionBackoff: a market and side the
//! venue keeps rejecting waits, whatever the order.

use super::Engine;
use super::reject::RejectReason;
use super::scheduler::OrderRequest;
use super::types::{Cloid, MarketId};
use plugin_api::PlaceIntent;
use rust_decimal::Decimal;

/// An order the gates judge: a market and what is asked there.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub market: MarketId,
    pub p: PlaceIntent,
}

/// A refusal: the reason, and the market whose order failed a per-market gate (None for the
/// gates that judge the whole account).
pub type Refused = (Option<MarketId>, RejectReason);

/// One gate: passes the orders (one, or a pair's two legs) or refuses them.
pub type Gate = fn(&Engine, &[Candidate], u64) -> Result<(), Refused>;

/// The gates of risk-increasing orders, in order.
pub const ENTRY_GATES: &[Gate] = &[
    hard_stop,
    entries_paused,
    ready_trading,
    market_data_sane,
    max_position_per_market,
    max_position_total,
    has_position,
    pending_order,
    rejection_backoff,
];

/// The gates of orders that only reduce (exits, flattens, pair closes), in order.
pub const REDUCE_GATES: &[Gate] = &[reduces_position, venue_connected, rejection_backoff];

/// What kind of order is asked for: which list it goes through and which budget it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Entry,
    Reduce,
}

/// An order that passed the gates, not yet given its cloid. Only `Engine::approve` makes one.
#[derive(Debug)]
pub struct Approved {
    c: Candidate,
    reduce_only: bool,
}

/// An approved order with its cloid: what `BatchScheduler` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovedOrder(OrderRequest);

impl Approved {
    pub fn market(&self) -> MarketId {
        self.c.market
    }

    pub fn intent(&self) -> &PlaceIntent {
        &self.c.p
    }

    pub fn reduce_only(&self) -> bool {
        self.reduce_only
    }

    /// The order as the venue writer gets it.
    pub fn with_cloid(self, cloid: Cloid) -> ApprovedOrder {
        let p = self.c.p;
        ApprovedOrder(OrderRequest {
            cloid,
            market: self.c.market,
            side: p.side,
            px: p.px.get(),
            sz: p.sz.get(),
            tif: p.tif,
            reduce_only: self.reduce_only,
        })
    }
}

impl ApprovedOrder {
    pub fn into_request(self) -> OrderRequest {
        self.0
    }

    /// For the scheduler's own unit tests, which exercise queueing, not the gates.
    #[cfg(test)]
    pub(crate) fn for_test(o: OrderRequest) -> ApprovedOrder {
        ApprovedOrder(o)
    }
}

impl Engine {
    /// Runs `kind`'s gates over `orders` (taken together), then takes the action budget for all
    /// of them or none. The only way to an [`Approved`] order.
    pub(super) fn approve<const N: usize>(
        &mut self,
        kind: Kind,
        orders: [Candidate; N],
        now: u64,
    ) -> Result<[Approved; N], Refused> {
        let list = match kind {
            Kind::Entry => ENTRY_GATES,
            Kind::Reduce => REDUCE_GATES,
        };
        for gate in list {
            gate(self, &orders, now)?;
        }
        let protective = kind == Kind::Reduce;
        self.take_budget(&orders, protective, now)
            .map_err(|r| (None, r))?;
        Ok(orders.map(|c| Approved {
            c,
            reduce_only: protective,
        }))
    }

    /// Every order's budget or none (a pair across two venues takes one from each).
    fn take_budget(
        &mut self,
        orders: &[Candidate],
        protective: bool,
        now: u64,
    ) -> Result<(), RejectReason> {
        let mut taken: [(u16, u64); 2] = [(0, 0); 2];
        let mut n = 0;
        for o in orders {
            let v = self.registry.venue_of(o.market);
            if let Some(t) = taken[..n].iter_mut().find(|(x, _)| *x == v.0) {
                t.1 += 1;
            } else if n < taken.len() {
                taken[n] = (v.0, 1);
                n += 1;
            } else {
                return Err(RejectReason::InvalidIntent);
            }
        }
        for i in 0..n {
            let (v, k) = taken[i];
            if !self
                .budget
                .try_take(super::types::VenueId(v), k, protective, now)
            {
                for &(v, k) in &taken[..i] {
                    self.budget.refund(super::types::VenueId(v), k);
                }
                return Err(RejectReason::ActionBudget);
            }
        }
        Ok(())
    }
}

fn hard_stop(e: &Engine, _: &[Candidate], _: u64) -> Result<(), Refused> {
    if e.latch.is_triggered() {
        return Err((None, RejectReason::HardStop));
    }
    Ok(())
}

fn entries_paused(e: &Engine, _: &[Candidate], _: u64) -> Result<(), Refused> {
    if e.entries_paused {
        return Err((None, RejectReason::EntriesPaused));
    }
    Ok(())
}

/// ReadyTrading: the venue is connected, subscribed and reconciled (no live reconcile pending,
/// no other host on the account), and the market's data fresh.
fn ready_trading(e: &Engine, orders: &[Candidate], now: u64) -> Result<(), Refused> {
    for o in orders {
        let venue = e.registry.venue_of(o.market);
        if !e.venue_ready(venue)
            || e.venue_reconciling(venue)
            || e.foreign_host(venue)
            || !e.market_state.is_fresh(o.market, now)
        {
            return Err((Some(o.market), RejectReason::NotReady));
        }
    }
    Ok(())
}

/// The market's data makes sense (`MarketData::bad_since_ns`): never trade a crossed book.
fn market_data_sane(e: &Engine, orders: &[Candidate], _: u64) -> Result<(), Refused> {
    for o in orders {
        if e.market_state.get(o.market).is_bad() {
            return Err((Some(o.market), RejectReason::BadMarketData));
        }
    }
    Ok(())
}

/// Size the orders add in market `m`.
fn added(orders: &[Candidate], m: MarketId) -> Decimal {
    orders
        .iter()
        .filter(|o| o.market == m)
        .map(|o| o.p.sz.get())
        .sum()
}

/// MaxPosition per market: |position| + unfilled entries + these orders, at the mark.
fn max_position_per_market(e: &Engine, orders: &[Candidate], _: u64) -> Result<(), Refused> {
    let limit = e.risk.limits().max_notional_per_market;
    for o in orders {
        let mark = e
            .market_state
            .valuation_price(o.market)
            .ok_or((Some(o.market), RejectReason::NotReady))?;
        if e.exposure(o.market) + added(orders, o.market) * mark > limit {
            return Err((Some(o.market), RejectReason::MaxPositionPerMarket));
        }
    }
    Ok(())
}

/// MaxPosition over every market, pending entries included.
fn max_position_total(e: &Engine, orders: &[Candidate], _: u64) -> Result<(), Refused> {
    let mut total = Decimal::ZERO;
    for (m, _) in e.registry.markets() {
        total += e.exposure(m);
    }
    for o in orders {
        let mark = e.market_state.valuation_price(o.market).unwrap_or_default();
        total += o.p.sz.get() * mark;
    }
    if total > e.risk.limits().max_notional_total {
        return Err((None, RejectReason::MaxPositionTotal));
    }
    Ok(())
}

/// HasPosition: one position per market unless `allow_stacking`.
fn has_position(e: &Engine, orders: &[Candidate], _: u64) -> Result<(), Refused> {
    for o in orders {
        if !e.cfg.allow_stacking && !e.positions.get(o.market).size.is_zero() {
            return Err((Some(o.market), RejectReason::HasPosition));
        }
    }
    Ok(())
}

/// PendingOrder: one entry in flight per market unless `allow_concurrent_entries`.
fn pending_order(e: &Engine, orders: &[Candidate], _: u64) -> Result<(), Refused> {
    for o in orders {
        if !e.cfg.allow_concurrent_entries && e.positions.pending(o.market).new_count > 0 {
            return Err((Some(o.market), RejectReason::PendingOrder));
        }
    }
    Ok(())
}

/// RejectionBackoff: a market and side the venue keeps rejecting waits (seed 002 Phase 5).
fn rejection_backoff(e: &Engine, orders: &[Candidate], now: u64) -> Result<(), Refused> {
    for o in orders {
        if e.backoff.waiting(o.market, o.p.side, now) {
            return Err((Some(o.market), RejectReason::RejectionBackoff));
        }
    }
    Ok(())
}

/// A reduce-only order must close (part of) the open position: its side is the closing side.
fn reduces_position(e: &Engine, orders: &[Candidate], _: u64) -> Result<(), Refused> {
    for o in orders {
        let size = e.positions.get(o.market).size;
        if plugin_api::Side::closing(size) != Some(o.p.side) {
            return Err((Some(o.market), RejectReason::NothingToReduce));
        }
    }
    Ok(())
}

/// A reduce-only order needs its venue connected and reconciled (data may be stale: closing is
/// always allowed), and no other host trading the account (it cannot tell whose position it
/// would close).
fn venue_connected(e: &Engine, orders: &[Candidate], _: u64) -> Result<(), Refused> {
    for o in orders {
        let venue = e.registry.venue_of(o.market);
        if !e.venue_ready(venue) || e.foreign_host(venue) {
            return Err((Some(o.market), RejectReason::NotReady));
        }
    }
    Ok(())
}
