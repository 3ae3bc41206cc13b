//! Simulated execution: the venue's side of a backtest. The engine's batches arrive here after a
//! latency; orders are rounded exactly as the live writer rounds them (`tick::prepare_order`),
//! checked and matched by the simulator's own rules (`sim::matching`) against the replayed book;
//! the venue's answers (fills, order updates, post results) come back as the same engine events
//! the live adapter makes, after the latency again. Resting orders fill as the book moves, by
//! the queue model (`[backtest] queue`). Fees are the maker/taker rates (HIP-3 markets: times
//! `hip3_fee_multiplier`); funding is paid hourly from the replayed asset contexts.
//!
//! Not simulated (docs/backtest.md, "Limits"): margin and liquidation, the address request
//! budget, the market impact of our own orders on later book snapshots (each snapshot replaces
//! the book: liquidity we took reappears), trades (the archive has none).

use super::config::{BacktestConfig, QueueModel};
pub use super::latency::Latency;
use crate::engine::events::{
    CancelOutcome, Event, FillEvent, OrderUpdate, PostOutcome, VenueOrderStatus,
};
use crate::engine::scheduler::{ActionBatch, CancelRequest, OrderRequest};
use crate::engine::types::{Cloid, MarketId, Side, Tif as EngineTif, VenueId};
use crate::sim::matching::{self, BookLevel, Tif};
use crate::venue::hyperliquid::codes::reason_for_error;
use crate::venue::hyperliquid::tick::{AssetSpec, prepare_order};
use rust_decimal::Decimal;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub use super::account::MarketAccount;
use super::book::Book;

const HOUR_NS: u64 = 3_600_000_000_000;
const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// A market's venue rules and fees.
#[derive(Debug, Clone, Copy)]
pub struct MarketRules {
    pub venue: VenueId,
    pub spec: AssetSpec,
    pub taker_bps: Decimal,
    pub maker_bps: Decimal,
}

#[derive(Debug, Clone)]
struct Resting {
    cloid: Cloid,
    oid: u64,
    market: MarketId,
    is_buy: bool,
    px: Decimal,
    left: Decimal,
    orig: Decimal,
    reduce_only: bool,
    /// Size shown ahead of it at its price (risk-averse queue model).
    ahead: Decimal,
}

#[derive(Debug)]
enum Work {
    /// A batch reaches the venue.
    Arrive(ActionBatch, u64),
    /// An answer reaches the host.
    Deliver(Event),
}

/// What execution did, for the summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExecStats {
    pub batches: u64,
    pub orders: u64,
    pub cancels: u64,
    /// Refused by the venue's rules (tick, lot, minimum value, reduce-only, Alo, Ioc with no
    /// match), as the live writer or venue would.
    pub rejected: u64,
    pub taker_fills: u64,
    pub maker_fills: u64,
    /// Orders the HardStop guard dropped from a batch (as the live writer's pre-send guard).
    pub dropped_by_hard_stop: u64,
}

pub struct Execution {
    rules: Vec<Option<MarketRules>>,
    books: Vec<Book>,
    /// The venue's position per market (reduce-only clamp, funding).
    position: Vec<Decimal>,
    resting: Vec<Resting>,
    queue_model: QueueModel,
    pub latency: Latency,
    /// The simulated order round trips drawn (journaled as `order_round_trip`).
    pub rtt: crate::metrics::hist::Histogram,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    work: std::collections::HashMap<u64, Work>,
    seq: u64,
    next_oid: u64,
    next_tid: u64,
    latch: std::sync::Arc<crate::engine::hardstop::HardStopLatch>,
    pub stats: ExecStats,
    /// Funding paid (negative) or received per market, for the summary.
    pub funding: Vec<Decimal>,
    /// Latest (oracle, funding rate) per market, and the next hour boundary funding is paid on.
    ctx: Vec<Option<(Decimal, Decimal)>>,
    next_hour: Option<u64>,
    /// The venue's side of the account per market: average entry, realized PnL and fees paid
    /// (a paper account is this).
    pub accounts: Vec<MarketAccount>,
    /// Events produced at once and not yet taken (due now).
    scratch: Vec<(u64, Event)>,
}

impl Execution {
    pub fn new(
        rules: Vec<Option<MarketRules>>,
        cfg: &BacktestConfig,
        latency: Latency,
        latch: std::sync::Arc<crate::engine::hardstop::HardStopLatch>,
    ) -> Execution {
        let n = rules.len();
        Execution {
            rules,
            books: vec![Book::default(); n],
            position: vec![Decimal::ZERO; n],
            resting: Vec::new(),
            queue_model: cfg.queue,
            latency,
            rtt: Default::default(),
            queue: BinaryHeap::new(),
            work: std::collections::HashMap::new(),
            seq: 0,
            next_oid: 1_000,
            next_tid: 1,
            latch,
            stats: ExecStats::default(),
            funding: vec![Decimal::ZERO; n],
            ctx: vec![None; n],
            next_hour: None,
            accounts: vec![MarketAccount::default(); n],
            scratch: Vec::new(),
        }
    }

    /// A position the account already holds (a paper account resumed).
    pub fn restore(&mut self, market: MarketId, size: Decimal, entry_px: Decimal) {
        if let Some(p) = self.position.get_mut(market.index()) {
            *p = size;
            self.accounts[market.index()].entry_px = entry_px;
        }
    }

    /// Order and trade ids continue from `next` (a paper venue's ids must never repeat across
    /// runs: the journal keys fills by trade id).
    pub fn continue_ids_from(&mut self, next: u64) {
        self.next_oid = self.next_oid.max(next);
        self.next_tid = self.next_tid.max(next);
    }

    /// The next order or trade id this venue would give.
    pub fn next_id(&self) -> u64 {
        self.next_oid.max(self.next_tid) + 1
    }

    /// Runs every piece of pending work now, whatever it is due (a paper venue before it states
    /// its account: nothing in flight is left out of it); returns the events.
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        while self.next_due().is_some() {
            self.run_due(out);
        }
    }

    fn schedule(&mut self, at: u64, w: Work) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq)));
        self.work.insert(self.seq, w);
    }

    /// When the next piece of work is due (None: nothing pending).
    pub fn next_due(&self) -> Option<u64> {
        self.queue.peek().map(|Reverse((t, _))| *t)
    }

    /// A batch the engine handed out at `now`: it reaches the venue after half a round trip.
    pub fn submit(&mut self, batch: ActionBatch, now: u64) {
        self.stats.batches += 1;
        let rtt = self.latency.next_rtt();
        self.rtt.observe_ns(rtt);
        self.schedule(now + rtt / 2, Work::Arrive(batch, rtt - rtt / 2));
    }

    /// Runs the work due at `t` (the earliest): returns the events that reach the host then.
    pub fn run_due(&mut self, out: &mut Vec<Event>) -> u64 {
        let Some(Reverse((t, seq))) = self.queue.pop() else {
            return 0;
        };
        match self.work.remove(&seq).expect("scheduled work") {
            Work::Deliver(ev) => out.push(ev),
            Work::Arrive(batch, back) => {
                self.arrive(batch, t);
                for (delay, ev) in std::mem::take(&mut self.scratch) {
                    self.schedule(t + back.max(delay), Work::Deliver(ev));
                }
            }
        }
        t
    }

    /// The batch at the venue at `t`: the live writer's HardStop guard, then cancels, then orders.
    fn arrive(&mut self, mut batch: ActionBatch, t: u64) {
        let dropped = batch.enforce_hard_stop(&self.latch);
        if !dropped.is_empty() {
            self.stats.dropped_by_hard_stop += dropped.len() as u64;
            self.scratch
                .push((0, Event::BatchDropped { cloids: dropped }));
        }
        for c in &batch.cancels {
            self.cancel(c);
        }
        for o in &batch.orders {
            self.order(batch.venue, o, t);
        }
    }

    fn cancel(&mut self, c: &CancelRequest) {
        self.stats.cancels += 1;
        let found = self
            .resting
            .iter()
            .position(|r| r.cloid == c.cloid || c.oid.is_some_and(|o| o == r.oid));
        let outcome = match found {
            Some(i) => {
                let r = self.resting.remove(i);
                self.scratch
                    .push((0, update(&self.rules, &r, VenueOrderStatus::Cancelled)));
                CancelOutcome::Success
            }
            None => CancelOutcome::Failed,
        };
        self.scratch.push((
            0,
            Event::CancelResult {
                cloid: c.cloid,
                outcome,
            },
        ));
    }

    fn reject(&mut self, cloid: Cloid, msg: &str) {
        self.stats.rejected += 1;
        self.scratch.push((
            0,
            Event::PostResult {
                cloid,
                outcome: PostOutcome::Rejected(reason_for_error(msg)),
            },
        ));
    }

    fn order(&mut self, venue: VenueId, o: &OrderRequest, t: u64) {
        self.stats.orders += 1;
        let m = o.market.index();
        let Some(rules) = self.rules.get(m).copied().flatten() else {
            self.reject(o.cloid, "Unknown asset.");
            return;
        };
        debug_assert_eq!(rules.venue, venue);
        // The live writer's rounding, then the venue's checks and matching.
        let (px, sz) = match prepare_order(o.px, o.sz, o.side, o.reduce_only, &rules.spec) {
            Ok(x) => x,
            Err(reason) => {
                self.stats.rejected += 1;
                self.scratch.push((
                    0,
                    Event::PostResult {
                        cloid: o.cloid,
                        outcome: PostOutcome::Rejected(reason),
                    },
                ));
                return;
            }
        };
        let is_buy = o.side == Side::Buy;
        let reducible = self.reducible(o.market, is_buy);
        let sz = match matching::check_order(&rules.spec, px, sz, o.reduce_only, reducible) {
            Ok(s) => s,
            Err(e) => return self.reject(o.cloid, &e),
        };
        let tif = match o.tif {
            EngineTif::Gtc => Tif::Gtc,
            EngineTif::Ioc => Tif::Ioc,
            EngineTif::Alo => Tif::Alo,
        };
        let book = &self.books[m];
        let opposite = if is_buy { &book.asks } else { &book.bids };
        let taken = match matching::take(opposite, is_buy, px, sz, tif) {
            Ok(t) => t,
            Err(matching::AloWouldMatch) => {
                return self.reject(o.cloid, "Post only order would have immediately matched");
            }
        };
        self.next_oid += 1;
        let oid = self.next_oid;
        let (mut filled, mut value) = (Decimal::ZERO, Decimal::ZERO);
        for (lvl, take) in taken.fills {
            self.fill(o.market, o.cloid, oid, is_buy, lvl, take, true, t, 0);
            filled += take;
            value += lvl * take;
        }
        let mut r = Resting {
            cloid: o.cloid,
            oid,
            market: o.market,
            is_buy,
            px,
            left: taken.left,
            orig: sz,
            reduce_only: o.reduce_only,
            ahead: Decimal::ZERO,
        };
        let filled_outcome = |filled: Decimal, value: Decimal| PostOutcome::Filled {
            oid,
            total_sz: filled,
            avg_px: (value / filled).round_dp(6),
        };
        if r.left.is_zero() {
            self.scratch
                .push((0, update(&self.rules, &r, VenueOrderStatus::Filled)));
            self.scratch.push((
                0,
                Event::PostResult {
                    cloid: o.cloid,
                    outcome: filled_outcome(filled, value),
                },
            ));
            return;
        }
        if tif == Tif::Ioc {
            self.scratch
                .push((0, update(&self.rules, &r, VenueOrderStatus::Cancelled)));
            if filled.is_zero() {
                return self.reject(
                    o.cloid,
                    "Order could not immediately match against any resting orders.",
                );
            }
            self.scratch.push((
                0,
                Event::PostResult {
                    cloid: o.cloid,
                    outcome: filled_outcome(filled, value),
                },
            ));
            return;
        }
        // It rests, behind what is shown at its price.
        let book = &self.books[m];
        let own = if is_buy { &book.bids } else { &book.asks };
        r.ahead = own
            .iter()
            .find(|(p, _)| *p == px)
            .map_or(Decimal::ZERO, |(_, s)| *s);
        self.scratch
            .push((0, update(&self.rules, &r, VenueOrderStatus::Open)));
        self.scratch.push((
            0,
            Event::PostResult {
                cloid: o.cloid,
                outcome: PostOutcome::Resting { oid },
            },
        ));
        self.resting.push(r);
    }

    fn reducible(&self, m: MarketId, is_buy: bool) -> Decimal {
        let p = self.position[m.index()];
        if (is_buy && p < Decimal::ZERO) || (!is_buy && p > Decimal::ZERO) {
            p.abs()
        } else {
            Decimal::ZERO
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fill(
        &mut self,
        market: MarketId,
        cloid: Cloid,
        oid: u64,
        is_buy: bool,
        px: Decimal,
        sz: Decimal,
        taker: bool,
        t: u64,
        delay: u64,
    ) {
        let rules = self.rules[market.index()].expect("rules of a traded market");
        let bps = if taker {
            self.stats.taker_fills += 1;
            rules.taker_bps
        } else {
            self.stats.maker_fills += 1;
            rules.maker_bps
        };
        let fee = (px * sz * bps / BPS).round_dp(6);
        let signed = if is_buy { sz } else { -sz };
        self.accounts[market.index()].fill(self.position[market.index()], signed, px, fee);
        self.position[market.index()] += signed;
        let tid = self.next_tid;
        self.next_tid += 1;
        self.scratch.push((
            delay,
            Event::Fill(FillEvent {
                venue: rules.venue,
                market,
                cloid: Some(cloid),
                oid,
                tid,
                side: if is_buy { Side::Buy } else { Side::Sell },
                px,
                sz,
                fee,
                time_ms: t / 1_000_000,
            }),
        ));
    }

    /// The book of `market` at `t`: a full snapshot (`depth`) replaces it; a best bid and offer
    /// replaces the top and drops the levels it passed. Resting orders it now crosses fill.
    pub fn on_book(
        &mut self,
        market: MarketId,
        bids: &[BookLevel],
        asks: &[BookLevel],
        depth: bool,
        t: u64,
    ) {
        let m = market.index();
        if m >= self.books.len() {
            return;
        }
        self.books[m].update(bids, asks, depth);
        if !self.resting.iter().any(|r| r.market == market) {
            return;
        }
        self.match_resting(market, t);
    }

    fn match_resting(&mut self, market: MarketId, t: u64) {
        let delay = self.latency.push_delay();
        let mut i = 0;
        while i < self.resting.len() {
            if self.resting[i].market != market {
                i += 1;
                continue;
            }
            let book = &self.books[market.index()];
            let r = &mut self.resting[i];
            let (own, opposite) = if r.is_buy {
                (&book.bids, &book.asks)
            } else {
                (&book.asks, &book.bids)
            };
            // The queue ahead shrinks as the shown size at its price does (never grows).
            let shown = own
                .iter()
                .find(|(p, _)| *p == r.px)
                .map_or(Decimal::ZERO, |(_, s)| *s);
            r.ahead = r.ahead.min(shown);
            let through = opposite
                .first()
                .is_some_and(|(p, _)| if r.is_buy { *p < r.px } else { *p > r.px });
            let eligible = match self.queue_model {
                QueueModel::Touch => true,
                QueueModel::RiskAverse => through || r.ahead.is_zero(),
            };
            let mut sz = if eligible {
                matching::resting_fill(r.is_buy, r.px, r.left, opposite)
            } else {
                Decimal::ZERO
            };
            if sz.is_zero() {
                i += 1;
                continue;
            }
            let (is_buy, px, reduce_only) = (r.is_buy, r.px, r.reduce_only);
            if reduce_only {
                sz = sz.min(self.reducible(market, is_buy));
            }
            let (cloid, oid) = (self.resting[i].cloid, self.resting[i].oid);
            if sz > Decimal::ZERO {
                self.fill(market, cloid, oid, is_buy, px, sz, false, t, delay);
                self.resting[i].left -= sz;
            }
            let r = &self.resting[i];
            let status = if r.left.is_zero() {
                Some(VenueOrderStatus::Filled)
            } else if reduce_only && self.reducible(market, is_buy).is_zero() {
                Some(VenueOrderStatus::Cancelled)
            } else {
                None
            };
            match status {
                Some(s) => {
                    let r = self.resting.remove(i);
                    self.scratch.push((delay, update(&self.rules, &r, s)));
                }
                None => {
                    let ev = update(&self.rules, &self.resting[i], VenueOrderStatus::Open);
                    self.scratch.push((delay, ev));
                    i += 1;
                }
            }
        }
        for (d, ev) in std::mem::take(&mut self.scratch) {
            self.schedule(t + d, Work::Deliver(ev));
        }
    }

    /// The latest asset context of `market`: what its next hour's funding is paid at.
    pub fn on_ctx(&mut self, market: MarketId, oracle: Decimal, rate: Decimal) {
        if let Some(c) = self.ctx.get_mut(market.index()) {
            *c = Some((oracle, rate));
        }
    }

    /// Hourly funding at every hour boundary after `from` (the first call's `t` when not set
    /// before) up to `t`: every open position pays (or receives) size × oracle × rate at its
    /// market's latest context. `paid(market, amount)` for each payment (negative: paid).
    pub fn funding_until(&mut self, t: u64, mut paid: impl FnMut(MarketId, Decimal)) {
        let mut next = *self.next_hour.get_or_insert((t / HOUR_NS + 1) * HOUR_NS);
        while t >= next {
            for m in 0..self.ctx.len() {
                if let (Some((oracle, rate)), Some(p)) = (self.ctx[m], self.position.get(m))
                    && !p.is_zero()
                {
                    let amount = -(*p * oracle * rate).round_dp(6);
                    self.funding[m] += amount;
                    if !amount.is_zero() {
                        paid(MarketId(m as u32), amount);
                    }
                }
            }
            next += HOUR_NS;
        }
        self.next_hour = Some(next);
    }

    /// Funding starts with the first hour boundary after `t`.
    pub fn funding_from(&mut self, t: u64) {
        self.next_hour = Some((t / HOUR_NS + 1) * HOUR_NS);
    }

    /// The venue's position in `market`.
    pub fn position(&self, market: MarketId) -> Decimal {
        self.position
            .get(market.index())
            .copied()
            .unwrap_or_default()
    }

    /// The book's mid of `market`, if both sides are known.
    pub fn mid(&self, market: MarketId) -> Option<Decimal> {
        let b = self.books.get(market.index())?;
        Some((b.bids.first()?.0 + b.asks.first()?.0) / Decimal::TWO)
    }

    /// The orders resting on `venue` (a reconnect's account state).
    pub fn open_orders(&self, venue: VenueId) -> Vec<crate::engine::events::VenueOpenOrder> {
        self.resting
            .iter()
            .filter(|r| self.rules[r.market.index()].is_some_and(|x| x.venue == venue))
            .map(|r| crate::engine::events::VenueOpenOrder {
                market: r.market,
                oid: r.oid,
                cloid: Some(r.cloid),
                side: if r.is_buy { Side::Buy } else { Side::Sell },
                px: r.px,
                sz: r.left,
            })
            .collect()
    }

    /// Orders resting at the end.
    pub fn resting_count(&self) -> usize {
        self.resting.len()
    }
}

fn update(rules: &[Option<MarketRules>], r: &Resting, status: VenueOrderStatus) -> Event {
    let venue = rules[r.market.index()].map_or(VenueId(0), |x| x.venue);
    Event::OrderUpdate(OrderUpdate {
        venue,
        cloid: Some(r.cloid),
        oid: r.oid,
        status,
        filled_total: match status {
            VenueOrderStatus::Open => None,
            _ => Some(r.orig - r.left),
        },
    })
}

#[cfg(test)]
#[path = "exec_tests.rs"]
mod tests;
