//! From intents to queued orders: validation, the gates in seed 004's order, and the budget.
//!
//! Risk-increasing orders: HardStop → EntriesPaused → ReadyTrading → MaxPositionPerMarket →
//! MaxPositionTotal → HasPosition → PendingOrder → ActionBudget.
//! Reduce-only orders, flattens and cancels pass HardStop and MaxPosition, need a connected venue,
//! and may draw on the budget's reserve. An exit-role strategy's orders are forced reduce-only.

use super::orders::{OrderState, Purpose, TrackedOrder};
use super::reject::RejectReason;
use super::scheduler::{CancelRequest, OrderRequest};
use super::types::{Cloid, MarketId, StrategyId};
use super::{Engine, PairRecord};
use plugin_api::{Intent, PlaceIntent, Role};
use rust_decimal::Decimal;

/// A validated Place, resolved to an engine market.
#[derive(Debug, Clone, Copy)]
struct Order {
    market: MarketId,
    p: PlaceIntent,
}

impl Engine {
    pub(super) fn apply_intent(&mut self, sid: StrategyId, intent: Intent, now: u64) {
        let role = self.strategies[sid.index()].slot.role;
        match intent {
            Intent::Place(p) => {
                let o = match self.resolve(sid, p) {
                    Ok(o) => o,
                    Err((m, r)) => return self.refuse(Some(sid), m, p.tag, r),
                };
                let result = if p.reduce_only || role == Role::Exit {
                    self.place_reduce_only(sid, o, now)
                } else {
                    self.place_entry(sid, o, now)
                };
                if let Err(r) = result {
                    self.refuse(Some(sid), o.market, p.tag, r);
                }
            }
            Intent::PlacePair(pair) => {
                let legs = (self.resolve(sid, pair.a), self.resolve(sid, pair.b));
                let (a, b) = match legs {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err((m, r)), _) | (_, Err((m, r))) => {
                        self.refuse(Some(sid), m, pair.a.tag, r);
                        return;
                    }
                };
                if let Err((leg, r)) = self.place_pair(sid, a, b, role, now) {
                    // The leg that failed carries the reason; its partner is refused with it.
                    let (bad, other) = if leg == Some(b.market) && a.market != b.market {
                        (b, a)
                    } else {
                        (a, b)
                    };
                    self.refuse(Some(sid), bad.market, bad.p.tag, r);
                    self.refuse(
                        Some(sid),
                        other.market,
                        other.p.tag,
                        RejectReason::PairLegRefused,
                    );
                }
            }
            Intent::Flatten(f) => {
                let Some(&m) = self.strategies[sid.index()].markets.get(f.market.index()) else {
                    let m = self.strategies[sid.index()].markets[0];
                    return self.refuse(Some(sid), m, 0, RejectReason::InvalidIntent);
                };
                let slip = f.max_slippage_bps.into_option().map(|d| d.get());
                if let Err(r) = self.flatten(m, f.reason, slip, Some(sid), now) {
                    // Already flattening is the normal outcome of the two exit paths both asking:
                    // counted, not told back (the strategy would only ask again).
                    if r == RejectReason::AlreadyFlattening {
                        self.refusals.add(r);
                    } else {
                        self.refuse(Some(sid), m, 0, r);
                    }
                }
            }
            Intent::Cancel(c) => {
                let Some(&m) = self.strategies[sid.index()].markets.get(c.market.index()) else {
                    let m = self.strategies[sid.index()].markets[0];
                    return self.refuse(Some(sid), m, c.tag, RejectReason::InvalidIntent);
                };
                if !self.cancel_tagged(sid, m, c.tag, now) {
                    self.refuse(Some(sid), m, c.tag, RejectReason::UnknownOrder);
                }
            }
        }
    }

    fn resolve(&self, sid: StrategyId, p: PlaceIntent) -> Result<Order, (MarketId, RejectReason)> {
        let markets = &self.strategies[sid.index()].markets;
        let Some(&m) = markets.get(p.market.index()) else {
            return Err((markets[0], RejectReason::InvalidIntent));
        };
        if p.px.get() <= Decimal::ZERO || p.sz.get() <= Decimal::ZERO {
            return Err((m, RejectReason::InvalidIntent));
        }
        Ok(Order { market: m, p })
    }

    /// The gates for risk-increasing orders, for one or more orders taken together. A refusal
    /// names the market whose order failed a per-market gate (None for the global ones).
    fn entry_gates(
        &self,
        orders: &[Order],
        now: u64,
    ) -> Result<(), (Option<MarketId>, RejectReason)> {
        if self.latch.is_triggered() {
            return Err((None, RejectReason::HardStop));
        }
        if self.entries_paused {
            return Err((None, RejectReason::EntriesPaused));
        }
        for o in orders {
            let venue = self.registry.venue_of(o.market);
            if !self.venue_ready(venue) || !self.market_state.is_fresh(o.market, now) {
                return Err((Some(o.market), RejectReason::NotReady));
            }
        }
        let limits = self.risk.limits();
        let added = |m: MarketId| -> Decimal {
            orders
                .iter()
                .filter(|o| o.market == m)
                .map(|o| o.p.sz.get())
                .sum()
        };
        for o in orders {
            let mark = self
                .market_state
                .valuation_price(o.market)
                .ok_or((Some(o.market), RejectReason::NotReady))?;
            if self.exposure(o.market) + added(o.market) * mark > limits.max_notional_per_market {
                return Err((Some(o.market), RejectReason::MaxPositionPerMarket));
            }
        }
        let mut total = Decimal::ZERO;
        for (m, _) in self.registry.markets() {
            total += self.exposure(m);
        }
        for o in orders {
            let mark = self
                .market_state
                .valuation_price(o.market)
                .unwrap_or_default();
            total += o.p.sz.get() * mark;
        }
        if total > limits.max_notional_total {
            return Err((None, RejectReason::MaxPositionTotal));
        }
        for o in orders {
            if !self.cfg.allow_stacking && !self.positions.get(o.market).size.is_zero() {
                return Err((Some(o.market), RejectReason::HasPosition));
            }
            if !self.cfg.allow_concurrent_entries && self.positions.pending(o.market).new_count > 0
            {
                return Err((Some(o.market), RejectReason::PendingOrder));
            }
        }
        Ok(())
    }

    /// Notional of a market at its valuation price: |position| + unfilled entry orders.
    pub(super) fn exposure(&self, m: MarketId) -> Decimal {
        let size = self.positions.get(m).size.abs() + self.positions.pending(m).new_size;
        if size.is_zero() {
            return Decimal::ZERO;
        }
        size * self.market_state.valuation_price(m).unwrap_or_default()
    }

    fn place_entry(&mut self, sid: StrategyId, o: Order, now: u64) -> Result<(), RejectReason> {
        self.entry_gates(&[o], now).map_err(|(_, r)| r)?;
        let venue = self.registry.venue_of(o.market);
        if !self.budget.try_take(venue, 1, false, now) {
            return Err(RejectReason::ActionBudget);
        }
        self.enqueue(Some(sid), o, false, Purpose::Strategy, now);
        Ok(())
    }

    fn place_reduce_only(
        &mut self,
        sid: StrategyId,
        mut o: Order,
        now: u64,
    ) -> Result<(), RejectReason> {
        let venue = self.registry.venue_of(o.market);
        if !self.venue_ready(venue) {
            return Err(RejectReason::NotReady);
        }
        let size = self.positions.get(o.market).size;
        if plugin_api::Side::closing(size) != Some(o.p.side) {
            return Err(RejectReason::NothingToReduce);
        }
        let sz = o.p.sz.get().min(size.abs());
        o.p.sz = sz.into();
        if !self.budget.try_take(venue, 1, true, now) {
            return Err(RejectReason::ActionBudget);
        }
        self.enqueue(Some(sid), o, true, Purpose::Strategy, now);
        Ok(())
    }

    fn place_pair(
        &mut self,
        sid: StrategyId,
        a: Order,
        b: Order,
        role: Role,
        now: u64,
    ) -> Result<(), (Option<MarketId>, RejectReason)> {
        if role == Role::Exit || (a.p.reduce_only && b.p.reduce_only) {
            // Closing a pair: each leg reduce-only; both must be able to reduce.
            for o in [a, b] {
                let size = self.positions.get(o.market).size;
                if plugin_api::Side::closing(size) != Some(o.p.side) {
                    return Err((Some(o.market), RejectReason::NothingToReduce));
                }
                if !self.venue_ready(self.registry.venue_of(o.market)) {
                    return Err((Some(o.market), RejectReason::NotReady));
                }
            }
            self.take_pair_budget(a.market, b.market, true, now)
                .map_err(|r| (None, r))?;
            let pair = self.next_pair;
            self.next_pair += 1;
            let ca = self.enqueue(Some(sid), a, true, Purpose::PairLeg(pair), now);
            let cb = self.enqueue(Some(sid), b, true, Purpose::PairLeg(pair), now);
            self.pairs.insert(
                pair,
                PairRecord {
                    legs: [ca, cb],
                    broken: false,
                },
            );
            return Ok(());
        }
        self.entry_gates(&[a, b], now)?;
        self.take_pair_budget(a.market, b.market, false, now)
            .map_err(|r| (None, r))?;
        let pair = self.next_pair;
        self.next_pair += 1;
        let ca = self.enqueue(Some(sid), a, false, Purpose::PairLeg(pair), now);
        let cb = self.enqueue(Some(sid), b, false, Purpose::PairLeg(pair), now);
        self.pairs.insert(
            pair,
            PairRecord {
                legs: [ca, cb],
                broken: false,
            },
        );
        Ok(())
    }

    /// Both legs' budget or neither.
    fn take_pair_budget(
        &mut self,
        a: MarketId,
        b: MarketId,
        protective: bool,
        now: u64,
    ) -> Result<(), RejectReason> {
        let (va, vb) = (self.registry.venue_of(a), self.registry.venue_of(b));
        if va == vb {
            return if self.budget.try_take(va, 2, protective, now) {
                Ok(())
            } else {
                Err(RejectReason::ActionBudget)
            };
        }
        if !self.budget.try_take(va, 1, protective, now) {
            return Err(RejectReason::ActionBudget);
        }
        if !self.budget.try_take(vb, 1, protective, now) {
            self.budget.refund(va, 1);
            return Err(RejectReason::ActionBudget);
        }
        Ok(())
    }

    /// Records an order and queues it for its venue.
    fn enqueue(
        &mut self,
        owner: Option<StrategyId>,
        o: Order,
        reduce_only: bool,
        purpose: Purpose,
        now: u64,
    ) -> Cloid {
        let cloid = self.new_cloid();
        let p = o.p;
        self.orders.insert(TrackedOrder {
            cloid,
            oid: None,
            market: o.market,
            owner,
            tag: p.tag,
            side: p.side,
            px: p.px.get(),
            sz: p.sz.get(),
            tif: p.tif,
            reduce_only,
            purpose,
            state: OrderState::Queued,
            filled: Decimal::ZERO,
            fill_value: Decimal::ZERO,
            final_filled: None,
            created_ns: now,
        });
        let venue = self.registry.venue_of(o.market);
        self.scheduler.enqueue_order(
            venue,
            OrderRequest {
                cloid,
                market: o.market,
                side: p.side,
                px: p.px.get(),
                sz: p.sz.get(),
                tif: p.tif,
                reduce_only,
            },
        );
        self.refresh_market(o.market);
        if let Some(t) = self.orders.get(cloid) {
            self.notes.push(super::events::EngineNote::Order(*t));
        }
        cloid
    }

    /// Host-made order (flattens) from raw parts.
    pub(super) fn enqueue_host_order(
        &mut self,
        owner: Option<StrategyId>,
        m: MarketId,
        p: PlaceIntent,
        now: u64,
    ) -> Cloid {
        self.enqueue(owner, Order { market: m, p }, true, Purpose::Flatten, now)
    }

    /// Cancels the strategy's active orders with `tag` in `m`; false if there were none.
    fn cancel_tagged(&mut self, sid: StrategyId, m: MarketId, tag: u64, now: u64) -> bool {
        let targets: Vec<Cloid> = self
            .orders
            .active_in(m)
            .iter()
            .copied()
            .filter(|c| {
                self.orders
                    .get(*c)
                    .is_some_and(|o| o.owner == Some(sid) && o.tag == tag)
            })
            .collect();
        for c in &targets {
            self.cancel_order(*c, now);
        }
        !targets.is_empty()
    }

    /// Cancels one order: unsent ones are simply removed from the queue.
    pub(super) fn cancel_order(&mut self, c: Cloid, now: u64) {
        let Some(o) = self.orders.get(c).copied() else {
            return;
        };
        let venue = self.registry.venue_of(o.market);
        match o.state {
            OrderState::Queued if self.scheduler.remove_order(venue, c) => {
                self.orders.set_final_filled(c, Decimal::ZERO);
                self.orders.set_state(c, OrderState::Dropped);
                self.order_changed(c, now);
            }
            OrderState::Sent
            | OrderState::Resting
            | OrderState::PartiallyFilled
            | OrderState::UnknownOutcome => {
                // Cancels always go out: they only ever reduce risk (the reserve covers them).
                let _ = self.budget.try_take(venue, 1, true, now);
                self.orders.set_state(c, OrderState::CancelPending);
                self.scheduler.enqueue_cancel(
                    venue,
                    CancelRequest {
                        cloid: c,
                        market: o.market,
                        oid: o.oid,
                    },
                );
                self.order_changed(c, now);
            }
            _ => {}
        }
    }
}
