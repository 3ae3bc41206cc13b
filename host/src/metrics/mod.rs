//! The metrics room: one registry of what a run counts, fed by engine notes (fills, entries,
//! exits, HardStop triggers, reconcile requests), the venue adapters' counters, the plugins'
//! call statistics and the journal writer's progress. The run summary is a view of it, and
//! nothing counted is dropped at shutdown: each venue task's last counters are kept here when
//! it ends. The Prometheus endpoint ([`prom`], served by [`server`]) is another view: a sample
//! of this room and of the engine's gate headroom, taken once a second on the engine thread and
//! rendered on the server's own thread.

pub mod hist;
pub mod prom;
pub mod server;

use crate::engine::Engine;
use crate::engine::events::EngineNote;
use crate::engine::orders::Purpose;
use crate::engine::reject::RejectReason;
use crate::engine::types::{StrategyId, VenueId};
use crate::journal::writer::JournalProgress;
use crate::venue::AdapterStats;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// What one strategy did, counted from notes.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct StrategyCounts {
    pub fills: u64,
    /// Entry decisions (orders not reduce-only, a pair's two legs once) that filled at least once.
    pub entries: u64,
    /// Flattens this strategy asked for, and its own reduce-only closes that filled.
    pub exits: u64,
}

/// One strategy's plugin calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginCalls {
    pub name: String,
    pub plugin: String,
    pub calls: u64,
    pub calls_over_budget: u64,
    pub disabled: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Live fills (not the ones a reconcile replayed).
    pub fills: u64,
    /// By strategy name ("(host)" for the host's own orders).
    pub strategies: BTreeMap<String, StrategyCounts>,
    pub exits_by_reason: BTreeMap<String, u64>,
    pub hard_stop_triggers: BTreeMap<String, u64>,
    /// `ReconcileRequest` notes, by venue name.
    pub reconcile_requests: BTreeMap<String, u64>,
    /// Venues on which another strategy-host was found trading the same account.
    pub foreign_hosts: std::collections::BTreeSet<String>,
    /// Positions a live reconcile found wrong and corrected, by venue name.
    pub drift_corrections: BTreeMap<String, u64>,
    /// Each venue adapter's counters, by venue name: the last reading.
    pub venues: BTreeMap<String, AdapterStats>,
    /// The journal writer's progress: the last reading.
    pub journal: Option<JournalProgress>,
    /// Refusals by reason (the engine's `RefusalCounters`): the last reading.
    pub refusals_by_reason: BTreeMap<String, u64>,
    /// Each strategy's plugin call statistics, by strategy: the last reading.
    pub plugin_calls: Vec<PluginCalls>,
    /// Refusals by (reason, strategy) from the engine's notes ("(host)": the host's own
    /// orders). `already_flattening` is counted by the engine but not noted, so it is only in
    /// `refusals_by_reason`.
    /// Keyed by ids (no string is built per refusal on the engine thread); the views name them.
    pub refusals: BTreeMap<(RejectReason, Option<StrategyId>), u64>,
    /// Live fills by (strategy, market).
    pub fills_by: BTreeMap<(Option<StrategyId>, crate::engine::types::MarketId), u64>,
    /// Tick-to-order over every venue (read at the run's end).
    pub tick_to_order: hist::Histogram,
    /// Round trips, PnL net of fees and fees per strategy (the backtest's own accounting).
    pub trips: crate::backtest::report::Reporter,
    /// The run's mode (`live`, `paper`; empty: live).
    pub mode: &'static str,
    /// Each paper venue's account: the last reading.
    pub paper: Vec<crate::paper::PaperAccount>,
    /// Orders (and pairs) whose first fill was already counted as an entry or exit: the last
    /// `ENTERED` of them (`entered_order`, oldest first out), so a host that runs for months
    /// does not grow with its orders.
    entered: HashSet<u128>,
    entered_order: std::collections::VecDeque<u128>,
}

/// Orders remembered for counting entries once (an order's fills come within seconds of it).
const ENTERED: usize = 100_000;

/// Remembers an order or pair as counted (the last `ENTERED`): false when it already was.
fn remember(
    set: &mut HashSet<u128>,
    order: &mut std::collections::VecDeque<u128>,
    key: u128,
) -> bool {
    if !set.insert(key) {
        return false;
    }
    order.push_back(key);
    if order.len() > ENTERED
        && let Some(old) = order.pop_front()
    {
        set.remove(&old);
    }
    true
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    pub fn name(engine: &Engine, sid: Option<StrategyId>) -> String {
        sid.map_or_else(
            || "(host)".to_string(),
            |s| engine.strategy_slot(s).name.clone(),
        )
    }

    /// Counts one engine note.
    pub fn note(&mut self, engine: &Engine, n: &EngineNote) {
        self.trips.note(engine, n);
        match n {
            EngineNote::Refused {
                strategy, reason, ..
            } => {
                *self.refusals.entry((*reason, *strategy)).or_default() += 1;
            }
            EngineNote::Fill { replayed: true, .. } => {}
            EngineNote::Fill { fill, strategy, .. } => {
                self.fills += 1;
                let who = Self::name(engine, *strategy);
                *self.fills_by.entry((*strategy, fill.market)).or_default() += 1;
                let c = self.strategies.entry(who).or_default();
                c.fills += 1;
                if let Some(cloid) = fill.cloid
                    && let Some(o) = engine.orders().get(cloid)
                    && remember(&mut self.entered, &mut self.entered_order, cloid.0)
                {
                    // A pair is one entry decision: its second leg is not counted again.
                    let pair_seen = match o.purpose {
                        Purpose::PairLeg(id) => !remember(
                            &mut self.entered,
                            &mut self.entered_order,
                            u128::MAX - id as u128,
                        ),
                        _ => false,
                    };
                    if !o.reduce_only {
                        if !pair_seen {
                            c.entries += 1;
                        }
                    } else if o.purpose != Purpose::Flatten {
                        // A strategy's own reduce-only close (e.g. a pair closed by spread-exit);
                        // flattens are counted from their notes below.
                        c.exits += 1;
                        *self.exits_by_reason.entry("pair_close".into()).or_default() += 1;
                    }
                }
            }
            EngineNote::Flatten {
                reason, strategy, ..
            } => {
                *self
                    .exits_by_reason
                    .entry(reason.kind.name().to_string())
                    .or_default() += 1;
                self.strategies
                    .entry(Self::name(engine, *strategy))
                    .or_default()
                    .exits += 1;
            }
            EngineNote::HardStopTriggered(r) => {
                *self
                    .hard_stop_triggers
                    .entry(r.name().to_string())
                    .or_default() += 1;
            }
            EngineNote::ReconcileRequest { venue } => {
                let name = engine.registry().venue_name(*venue).to_string();
                *self.reconcile_requests.entry(name).or_default() += 1;
            }
            EngineNote::ForeignHost { venue } => {
                let name = engine.registry().venue_name(*venue).to_string();
                self.foreign_hosts.insert(name);
            }
            EngineNote::PositionDrift { venue, .. } => {
                let name = engine.registry().venue_name(*venue).to_string();
                *self.drift_corrections.entry(name).or_default() += 1;
            }
            _ => {}
        }
    }

    /// A venue adapter's counters (at the end of its task, or any time before).
    pub fn venue_stats(&mut self, engine: &Engine, venue: VenueId, stats: AdapterStats) {
        let name = engine.registry().venue_name(venue).to_string();
        self.venues.insert(name, stats);
    }

    pub fn journal_progress(&mut self, p: JournalProgress) {
        self.journal = Some(p);
    }

    /// Reads the counters the engine keeps itself (refusals, plugin calls).
    pub fn read_engine(&mut self, engine: &Engine) {
        self.refusals_by_reason = engine
            .refusals()
            .nonzero()
            .map(|(r, n)| (r.name().to_string(), n))
            .collect();
        self.plugin_calls = engine
            .strategy_names()
            .map(|(sid, name)| {
                let slot = engine.strategy_slot(sid);
                let st = slot.stats();
                PluginCalls {
                    name: name.to_string(),
                    plugin: slot.plugin.clone(),
                    calls: st.calls,
                    calls_over_budget: st.over_budget,
                    disabled: slot.disabled_reason().map(str::to_string),
                }
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set of orders counted as entries keeps the last `ENTERED` only.
    #[test]
    fn counted_orders_are_bounded() {
        let (mut set, mut order) = (HashSet::new(), std::collections::VecDeque::new());
        assert!(remember(&mut set, &mut order, 0));
        assert!(!remember(&mut set, &mut order, 0), "counted once");
        for k in 1..=ENTERED as u128 {
            assert!(remember(&mut set, &mut order, k));
        }
        assert_eq!(set.len(), ENTERED);
        assert!(!set.contains(&0), "the oldest is forgotten");
        assert!(!remember(&mut set, &mut order, ENTERED as u128));
    }
}
