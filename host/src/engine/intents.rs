//! From intents to queued orders: validation, then the gates (`gates`: one ordered list for
//! entries, one for reduce-only orders, pairs through either taken together), then the queue.
//! An exit-role strategy's orders are forced reduce-only. Cancels always go out.

use super::gates::{Approved, Candidate, Kind};
use super::orders::{OrderState, Purpose, TrackedOrder};
use super::reject::RejectReason;
use super::scheduler::CancelRequest;
use super::types::{Cloid, MarketId, StrategyId};
use super::{Engine, PairRecord};
use plugin_api::{Intent, PlaceIntent, Role};
use rust_decimal::Decimal;

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

    fn resolve(
        &self,
        sid: StrategyId,
        p: PlaceIntent,
    ) -> Result<Candidate, (MarketId, RejectReason)> {
        let markets = &self.strategies[sid.index()].markets;
        let Some(&m) = markets.get(p.market.index()) else {
            return Err((markets[0], RejectReason::InvalidIntent));
        };
        if p.px.get() <= Decimal::ZERO || p.sz.get() <= Decimal::ZERO {
            return Err((m, RejectReason::InvalidIntent));
        }
        Ok(Candidate { market: m, p })
    }

    /// Notional of a market at its valuation price: |position| + unfilled entry orders.
    pub(super) fn exposure(&self, m: MarketId) -> Decimal {
        let size = self.positions.get(m).size.abs() + self.positions.pending(m).new_size;
        if size.is_zero() {
            return Decimal::ZERO;
        }
        size * self.market_state.valuation_price(m).unwrap_or_default()
    }

    fn place_entry(&mut self, sid: StrategyId, o: Candidate, now: u64) -> Result<(), RejectReason> {
        let [a] = self.approve(Kind::Entry, [o], now).map_err(|(_, r)| r)?;
        self.enqueue(Some(sid), a, Purpose::Strategy, now);
        Ok(())
    }

    /// A strategy's reduce-only order, cut to the position it reduces.
    fn place_reduce_only(
        &mut self,
        sid: StrategyId,
        mut o: Candidate,
        now: u64,
    ) -> Result<(), RejectReason> {
        let size = self.positions.get(o.market).size;
        o.p.sz = o.p.sz.get().min(size.abs()).into();
        let [a] = self.approve(Kind::Reduce, [o], now).map_err(|(_, r)| r)?;
        self.enqueue(Some(sid), a, Purpose::Strategy, now);
        Ok(())
    }

    /// Both legs through the gates together (an exit's pair, or two reduce-only legs, through the
    /// reduce gates), both queued or neither.
    fn place_pair(
        &mut self,
        sid: StrategyId,
        a: Candidate,
        b: Candidate,
        role: Role,
        now: u64,
    ) -> Result<(), (Option<MarketId>, RejectReason)> {
        let closing = role == Role::Exit || (a.p.reduce_only && b.p.reduce_only);
        let kind = if closing { Kind::Reduce } else { Kind::Entry };
        let [a, b] = self.approve(kind, [a, b], now)?;
        let pair = self.next_pair;
        self.next_pair += 1;
        let ca = self.enqueue(Some(sid), a, Purpose::PairLeg(pair), now);
        let cb = self.enqueue(Some(sid), b, Purpose::PairLeg(pair), now);
        self.pairs.insert(
            pair,
            PairRecord {
                legs: [ca, cb],
                broken: false,
            },
        );
        Ok(())
    }

    /// Records an approved order and queues it for its venue.
    pub(super) fn enqueue(
        &mut self,
        owner: Option<StrategyId>,
        a: Approved,
        purpose: Purpose,
        now: u64,
    ) -> Cloid {
        let cloid = self.new_cloid();
        let (m, p) = (a.market(), *a.intent());
        self.orders.insert(TrackedOrder {
            cloid,
            oid: None,
            market: m,
            owner,
            tag: p.tag,
            side: p.side,
            px: p.px.get(),
            sz: p.sz.get(),
            tif: p.tif,
            reduce_only: a.reduce_only(),
            purpose,
            state: OrderState::Queued,
            filled: Decimal::ZERO,
            fill_value: Decimal::ZERO,
            final_filled: None,
            created_ns: now,
        });
        let venue = self.registry.venue_of(m);
        self.scheduler.enqueue_order(venue, a.with_cloid(cloid));
        self.refresh_market(m);
        if let Some(t) = self.orders.get(cloid) {
            self.notes.push(super::events::EngineNote::Order(*t));
        }
        cloid
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
