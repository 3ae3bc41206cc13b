//! The deterministic engine: one thread, one event at a time, no I/O, no clock reads, no tokio.
//! Time comes in as an argument (`now`, ns); batches go out through `next_batch`. The same engine
//! runs live, against the simulator and in backtests; only the driver differs.
//!
//! Pieces (each a room of its own):
//! - [`types`], [`events`], [`reject`], [`config`]: vocabulary, inputs/outputs, reason codes, limits.
//! - [`market_state`], [`positions`], [`orders`]: what is known.
//! - [`intents`] (intents to orders), [`gates`] (the ordered gate lists and the approved-order
//!   type), [`execution`] (venue answers, fills), [`safety`] (HardStop, timer checks, flatten):
//!   what is decided.
//! - [`scheduler`], [`hardstop`], [`budget`], [`risk`], [`flatten`], [`edge`]: the seeds' components.

pub mod backoff;
pub mod budget;
mod calls;
pub mod config;
pub mod edge;
pub mod events;
mod execution;
pub mod flatten;
pub mod gates;
pub mod hardstop;
mod intents;
pub mod market_state;
pub mod orders;
pub mod positions;
mod reconcile;
pub mod reject;
pub mod risk;
mod safety;
pub mod scheduler;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
#[cfg(test)]
mod tests;
pub mod types;
mod view;

use crate::plugins::{CallOutcome, StrategySlot};
use budget::ActionBudget;
use config::{EngineConfig, RiskLimits};
use edge::EdgeTracker;
use events::{ConnectionState, EngineNote, Event, OperatorCommand};
use hardstop::{HardStopLatch, HardStopReason};
use market_state::MarketState;
use orders::OrderTracker;
use plugin_api::{
    Ctx, FfiDecimal, FillView, Intents, MarketIdx, MarketSnapshot, OrderUpdateView, PositionView,
    Refusal, Role,
};
use positions::PositionTracker;
use reject::{RefusalCounters, RejectReason};
use risk::RiskMonitor;
use scheduler::{ActionBatch, BatchScheduler};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use types::{Cloid, MarketId, MarketRegistry, StrategyId, VenueId};

/// A strategy as the engine holds it: the plugin slot plus the views it reads.
struct StrategyEntry {
    slot: StrategySlot,
    /// The strategy's markets, by `MarketIdx`.
    markets: Vec<MarketId>,
    /// What the strategy sees, kept up to date by the engine (no allocation per call).
    view_markets: Vec<MarketSnapshot>,
    view_positions: Vec<PositionView>,
}

/// Per-venue connection state.
#[derive(Debug, Clone, Copy)]
struct VenueStatus {
    state: ConnectionState,
    /// Last time (ns) the venue was Ready or sent market data while Ready (0 = never).
    last_live: u64,
    /// Venue time (ms) of the last reconciled account state.
    as_of_ms: u64,
    /// A live reconcile is under way since this engine time (ns): no entries on this venue
    /// until its answer (None: none).
    reconciling_since: Option<u64>,
    /// Engine time (ns) of the last drift correction on this venue (0 = none).
    last_drift_ns: u64,
    /// Another strategy-host trades this account (its orders or fills seen, not adopted): no
    /// entries here, and its orders are left alone.
    foreign_host: bool,
}

/// A PlacePair in flight: its two legs.
#[derive(Debug, Clone, Copy)]
struct PairRecord {
    legs: [Cloid; 2],
    /// Set once a leg failed: the other is cancelled and any fill of it flattened.
    broken: bool,
}

/// Which strategy callback to make.
#[derive(Debug, Clone, Copy)]
enum Call {
    Market(MarketIdx),
    Timer,
    Fill(FillView),
    OrderUpdate(OrderUpdateView),
    Reject(Refusal),
}

/// Applied fills remembered for live reconciles (a reconcile's account state is at most a few
/// seconds old: far fewer fills than this happen in that time).
const RECENT_FILLS: usize = 1024;

/// Fill ids remembered for deduplication (a venue snapshot holds at most a few thousand).
const SEEN_FILLS: usize = 200_000;

/// Rounds of deferred callbacks per event (a refusal → on_reject → new intent → refusal loop is
/// cut there; what remains is delivered with the next event, never dropped).
const MAX_CALLBACK_ROUNDS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("strategy `{strategy}` names market `{market}` which is not configured")]
    UnknownMarket { strategy: String, market: String },
    #[error("too many strategies (max {max})")]
    TooManyStrategies { max: usize },
}

pub struct Engine {
    cfg: EngineConfig,
    registry: MarketRegistry,
    market_state: MarketState,
    positions: PositionTracker,
    orders: OrderTracker,
    risk: RiskMonitor,
    /// Shared with the venue writers: their pre-send guard reads it once more right before
    /// signing, closing the engine → writer race.
    latch: Arc<HardStopLatch>,
    scheduler: BatchScheduler,
    budget: ActionBudget,
    /// By `VenueId`.
    venues: Vec<VenueStatus>,
    /// By `StrategyId`.
    strategies: Vec<StrategyEntry>,
    /// Per market: the strategies subscribed to it and its index in each.
    subscribers: Vec<Vec<(StrategyId, MarketIdx)>>,
    /// The reused intent buffer every plugin call writes into.
    intents: Intents,
    /// Callbacks (refusals, order updates, fills) waiting for their strategy. Never delivered
    /// while intents are being applied, so no plugin call re-enters the shared intent buffer.
    deferred: VecDeque<(StrategyId, Call)>,
    refusals: RefusalCounters,
    /// (venue, tid) of the last `SEEN_FILLS` fills applied: a snapshot resent after a reconnect,
    /// or a repeated frame, is never counted twice. Bounded (oldest first out, `seen_order`) so
    /// a host that runs for months, or a backtest of a year, does not grow with its fills; a
    /// fill older than that can only come back in a snapshot the account state already holds.
    seen_fills: HashSet<(VenueId, u64)>,
    seen_order: VecDeque<(VenueId, u64)>,
    /// PlacePairs with a leg still active, by pair id (the id is in each leg's `Purpose`).
    pairs: HashMap<u32, PairRecord>,
    next_pair: u32,
    edge: EdgeTracker,
    /// The high 64 bits of every cloid this run makes (unique across restarts), the low
    /// bits count (`next_cloid`): deterministic within a run.
    cloid_prefix: u64,
    next_cloid: u64,
    /// What happened besides batches, for the metrics room and the journal (`drain_notes`).
    notes: Vec<EngineNote>,
    /// Operator pause: entries refused, exits and flattens go on.
    entries_paused: bool,
    /// The last applied fills (venue, market, venue time ms, signed size), so a live reconcile
    /// whose account state predates some of them keeps their effect (`reconcile`).
    recent_fills: VecDeque<(VenueId, MarketId, u64, rust_decimal::Decimal)>,
    /// The cloid prefixes of this journal's runs (None: not known, e.g. no journal): an order or
    /// fill with another strategy-host prefix belongs to another host on the same account.
    known_prefixes: Option<Vec<(u64, u64)>>,
    /// HardStop flattens that could not be sent yet (their warning is rate-limited).
    flatten_retries: u64,
    /// Seed 002: backoff after repeated rejections, stuck reduce-only recovery.
    backoff: backoff::RejectBackoff,
    /// Orders the venue said filled whose fills have not all arrived: cloid and since when (ns).
    /// Past `fill_grace_ms` the engine asks for a reconcile (a lost fill frame).
    awaiting_fills: Vec<(Cloid, u64)>,
}

impl Engine {
    /// Builds an engine. `strategies` are created plugin slots (their `markets` must be in
    /// `registry`). `cloid_prefix` must differ between runs (e.g. the run's start time in ms):
    /// it makes cloids unique across restarts while keeping a run deterministic.
    pub fn new(
        cfg: EngineConfig,
        limits: RiskLimits,
        registry: MarketRegistry,
        strategies: Vec<StrategySlot>,
        latch: Arc<HardStopLatch>,
        cloid_prefix: u64,
        intent_capacity: usize,
    ) -> Result<Engine, EngineError> {
        let n_markets = registry.market_count();
        let n_venues = registry.venue_count().max(1);
        if strategies.len() > u16::MAX as usize {
            return Err(EngineError::TooManyStrategies {
                max: u16::MAX as usize,
            });
        }
        let mut subscribers = vec![Vec::new(); n_markets];
        let mut entries = Vec::with_capacity(strategies.len());
        for (i, slot) in strategies.into_iter().enumerate() {
            let sid = StrategyId(i as u16);
            let mut markets = Vec::with_capacity(slot.markets.len());
            for (j, name) in slot.markets.iter().enumerate() {
                let m = registry
                    .lookup(name)
                    .ok_or_else(|| EngineError::UnknownMarket {
                        strategy: slot.name.clone(),
                        market: name.clone(),
                    })?;
                subscribers[m.index()].push((sid, MarketIdx(j as u32)));
                markets.push(m);
            }
            let view_markets = (0..markets.len())
                .map(|j| MarketSnapshot::empty(MarketIdx(j as u32)))
                .collect();
            let view_positions = (0..markets.len())
                .map(|j| PositionView::flat(MarketIdx(j as u32)))
                .collect();
            entries.push(StrategyEntry {
                slot,
                markets,
                view_markets,
                view_positions,
            });
        }
        Ok(Engine {
            market_state: MarketState::new(n_markets, cfg.stale_after_ms)
                .with_max_distance_bps(cfg.max_book_distance_bps),
            positions: PositionTracker::new(n_markets),
            orders: OrderTracker::new(n_markets),
            risk: RiskMonitor::new(limits),
            scheduler: BatchScheduler::new(latch.clone(), n_venues, cfg.max_batch_orders),
            budget: ActionBudget::new(
                cfg.action_budget,
                cfg.action_refill_per_sec,
                cfg.action_reserve,
                n_venues,
                cfg.venue_budget_reserve,
            ),
            venues: vec![
                VenueStatus {
                    state: ConnectionState::Disconnected,
                    last_live: 0,
                    as_of_ms: 0,
                    reconciling_since: None,
                    last_drift_ns: 0,
                    foreign_host: false,
                };
                n_venues
            ],
            strategies: entries,
            subscribers,
            intents: Intents::with_capacity(intent_capacity),
            deferred: VecDeque::with_capacity(32),
            refusals: RefusalCounters::default(),
            seen_fills: HashSet::new(),
            seen_order: VecDeque::new(),
            pairs: HashMap::new(),
            next_pair: 1,
            edge: EdgeTracker::new(
                n_markets,
                cfg.edge_threshold_bps,
                cfg.edge_summary_interval_ms,
            ),
            cloid_prefix,
            next_cloid: 1,
            notes: Vec::with_capacity(64),
            entries_paused: false,
            recent_fills: VecDeque::with_capacity(RECENT_FILLS),
            awaiting_fills: Vec::new(),
            known_prefixes: None,
            flatten_retries: 0,
            backoff: backoff::RejectBackoff::new(
                n_markets,
                backoff::BackoffConfig {
                    after_rejects: cfg.backoff_after_rejects,
                    base_ms: cfg.backoff_base_ms,
                    max_ms: cfg.backoff_max_ms,
                    stuck_after: cfg.stuck_after_rejects,
                    stuck_hardstop_after: cfg.stuck_hardstop_after,
                },
            ),
            latch,
            registry,
            cfg,
        })
    }

    /// Processes one event at engine time `now` (ns).
    pub fn handle(&mut self, event: Event, now: u64) {
        match event {
            Event::Bbo { market, bid, ask } => {
                self.market_state.update_bbo(market, bid, ask, now);
                self.on_market_update(market, now);
            }
            Event::AssetCtx {
                market,
                oracle,
                mark,
                mid,
                funding,
            } => {
                self.market_state
                    .update_ctx(market, oracle, mark, mid, funding, now);
                self.on_market_update(market, now);
            }
            Event::Book { market, bids, asks } => {
                self.market_state.update_bbo(
                    market,
                    bids.first().copied(),
                    asks.first().copied(),
                    now,
                );
                self.on_market_update(market, now);
            }
            Event::OrderUpdate(u) => self.on_order_update(u, now),
            Event::Fill(f) => self.on_fill(f, now),
            Event::PostResult { cloid, outcome } => self.on_post_result(cloid, outcome, now),
            Event::CancelResult { cloid, outcome } => self.on_cancel_result(cloid, outcome, now),
            Event::Connection { venue, state } => self.on_connection(venue, state, now),
            Event::Reconciled {
                venue,
                as_of_ms,
                positions,
                open_orders,
            } => self.on_reconciled(venue, as_of_ms, &positions, &open_orders, now),
            Event::ReconcileStarted { venue } => {
                self.venues[venue.0 as usize].reconciling_since = Some(now);
            }
            Event::LiveReconciled {
                venue,
                as_of_ms,
                positions,
                open_orders,
            } => self.on_live_reconciled(venue, as_of_ms, &positions, &open_orders, now),
            Event::VenueBudget { venue, used, cap } => {
                self.budget.set_venue_budget(venue, used, cap)
            }
            Event::BatchDropped { cloids } => self.on_batch_dropped(&cloids, now),
            Event::Timer => self.on_timer(now),
            Event::Operator(cmd) => self.on_operator(cmd, now),
        }
        self.deliver_deferred(now);
    }

    /// The next batch of actions for the venue writer, or None when nothing is queued (any
    /// venue, round-robin: tests and single-driver loops).
    pub fn next_batch(&mut self, now: u64) -> Option<ActionBatch> {
        let taken = self.scheduler.next_batch();
        self.hand_out(taken, now)
    }

    /// The next batch for `venue`: what that venue's own task asks for. This is the one road from
    /// the engine to a venue writer in `run`.
    pub fn next_batch_for(&mut self, venue: VenueId, now: u64) -> Option<ActionBatch> {
        let taken = self.scheduler.next_batch_for(venue);
        self.hand_out(taken, now)
    }

    /// Whether `venue` has actions queued (its venue task is woken for them).
    pub fn has_work_for(&self, venue: VenueId) -> bool {
        self.scheduler.has_work(venue)
    }

    /// Cleans up what the latched scheduler purged, and marks the batch's orders sent.
    fn hand_out(
        &mut self,
        (batch, dropped): (Option<ActionBatch>, Vec<(Cloid, MarketId)>),
        now: u64,
    ) -> Option<ActionBatch> {
        for (cloid, _) in dropped {
            self.drop_order(cloid, RejectReason::HardStop, now);
        }
        self.deliver_deferred(now);
        let batch = batch?;
        for o in &batch.orders {
            if let Some(t) = self.orders.set_state(o.cloid, orders::OrderState::Sent) {
                self.notes.push(EngineNote::Order(t));
            }
        }
        Some(batch)
    }

    /// Takes the notes accumulated since the last call.
    pub fn drain_notes(&mut self) -> std::vec::Drain<'_, EngineNote> {
        self.notes.drain(..)
    }

    fn new_cloid(&mut self) -> Cloid {
        let c = Cloid(((self.cloid_prefix as u128) << 64) | self.next_cloid as u128);
        self.next_cloid += 1;
        c
    }

    fn venue_ready(&self, venue: VenueId) -> bool {
        self.venues[venue.0 as usize].state == ConnectionState::Ready
    }

    /// A live reconcile of this venue is under way: its answer is awaited before new risk.
    fn venue_reconciling(&self, venue: VenueId) -> bool {
        self.venues[venue.0 as usize].reconciling_since.is_some()
    }

    /// Another host was found trading this venue's account (`foreign_seen`).
    fn foreign_host(&self, venue: VenueId) -> bool {
        self.venues[venue.0 as usize].foreign_host
    }

    /// The cloid prefixes this journal's runs used (set at start-up from the journal).
    pub fn set_known_cloid_prefixes(&mut self, prefixes: Vec<(u64, u64)>) {
        self.known_prefixes = Some(prefixes);
    }

    /// A cloid of strategy-host's form (a millisecond timestamp between 2017 and 2100 above a
    /// counter) whose prefix no run of this journal used: another host made it.
    fn is_foreign(&self, c: Cloid) -> bool {
        let Some(known) = &self.known_prefixes else {
            return false;
        };
        let prefix = (c.0 >> 64) as u64;
        let counter = c.0 as u64;
        (1_500_000_000_000..4_100_000_000_000).contains(&prefix)
            && counter < (1 << 40)
            && prefix != self.cloid_prefix
            && !known.iter().any(|(lo, hi)| (*lo..=*hi).contains(&prefix))
    }

    /// Another host trades this venue's account: warned loudly, and this host stops adding risk
    /// there (unless configured to adopt what it finds).
    fn foreign_seen(&mut self, venue: VenueId, c: Cloid, what: &str) {
        let v = &mut self.venues[venue.0 as usize];
        if !v.foreign_host {
            tracing::error!(
                venue = %self.registry.venue_name(venue),
                %c,
                "another strategy-host trades this account ({what} with a cloid no run of this \
                 journal made): this host leaves its orders alone and sends no order on this \
                 venue (it cannot tell whose position it would close). Stop the other host, or \
                 set [engine] unknown_orders = \"adopt\" to take its orders over"
            );
        }
        v.foreign_host = true;
        self.notes.push(EngineNote::ForeignHost { venue });
    }

    fn on_connection(&mut self, venue: VenueId, state: ConnectionState, now: u64) {
        let v = &mut self.venues[venue.0 as usize];
        v.state = state;
        if state == ConnectionState::Ready {
            v.last_live = now;
        }
        if state == ConnectionState::Disconnected {
            // The reconnect's own sync replaces any live reconcile that was under way.
            v.reconciling_since = None;
        }
        tracing::info!(
            venue = %self.registry.venue_name(venue),
            ?state,
            "venue connection"
        );
    }

    fn on_operator(&mut self, cmd: OperatorCommand, now: u64) {
        // A stop pauses entries and cancels orders: not a warning. What takes risk off by
        // force (HardStop, flatten all) or puts it back (release) is.
        match cmd {
            OperatorCommand::PauseEntries
            | OperatorCommand::ResumeEntries
            | OperatorCommand::CancelAll => tracing::info!(?cmd, "operator command"),
            _ => tracing::warn!(?cmd, "operator command"),
        }
        match cmd {
            OperatorCommand::HardStop => self.trigger_hard_stop(HardStopReason::Operator, now),
            OperatorCommand::ReleaseHardStop => {
                if self.latch.is_triggered() {
                    self.latch.release();
                    self.notes.push(EngineNote::HardStopReleased);
                }
            }
            OperatorCommand::PauseEntries => self.entries_paused = true,
            OperatorCommand::ResumeEntries => self.entries_paused = false,
            OperatorCommand::CancelAll => {
                let working: Vec<Cloid> = self
                    .orders
                    .active()
                    .filter(|o| {
                        !o.state.is_terminal() && o.state != orders::OrderState::CancelPending
                    })
                    .map(|o| o.cloid)
                    .collect();
                for c in working {
                    self.cancel_order(c, now);
                }
            }
            OperatorCommand::FlattenAll => {
                let open: Vec<MarketId> = self.positions.open_markets().collect();
                for m in open {
                    let reason = plugin_api::FlattenReason::new(plugin_api::FlattenKind::MANUAL, 0);
                    let _ = self.flatten(m, reason, None, None, now);
                }
            }
            OperatorCommand::Flatten(m) => {
                if self.positions.get(m).size.is_zero() {
                    tracing::info!(market = %self.registry.key(m), "flatten: no position");
                } else {
                    let reason = plugin_api::FlattenReason::new(plugin_api::FlattenKind::MANUAL, 0);
                    if let Err(r) = self.flatten(m, reason, None, None, now) {
                        tracing::warn!(market = %self.registry.key(m), reason = r.name(), "flatten refused");
                    }
                }
            }
        }
    }

    fn on_strategy_disabled(&mut self, sid: StrategyId, reason: String, now: u64) {
        self.notes.push(EngineNote::StrategyDisabled {
            strategy: sid,
            reason,
        });
        // Its positions go to the market's exit strategies; a market with none is flattened.
        let markets = self.strategies[sid.index()].markets.clone();
        for m in markets {
            if self.positions.get(m).size.is_zero() {
                continue;
            }
            if !self.has_live_exit(m) {
                let reason = plugin_api::FlattenReason::new(
                    plugin_api::FlattenKind::STRATEGY_DISABLED,
                    self.positions.get(m).entry_ns.min(now),
                );
                let _ = self.flatten(m, reason, None, None, now);
            }
        }
    }

    /// Whether an enabled exit strategy watches this market (it manages any position there).
    fn has_live_exit(&self, m: MarketId) -> bool {
        self.subscribers[m.index()].iter().any(|(sid, _)| {
            let s = &self.strategies[sid.index()].slot;
            s.role == Role::Exit && !s.is_disabled()
        })
    }

    /// A restart found the journal latched: the HardStop stays on (and keeps flattening) until an
    /// operator releases it.
    pub fn restore_hard_stop(&mut self, now: u64) {
        self.trigger_hard_stop(HardStopReason::Restored, now);
    }
}
