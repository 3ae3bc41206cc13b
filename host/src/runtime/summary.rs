//! The run summary: a view of the metrics room and the engine's end-of-run state, printed and
//! written as JSON on exit.

use crate::engine::Engine;
use crate::journal::writer::JournalProgress;
use crate::metrics::{Metrics, PluginCalls, StrategyCounts};
use crate::venue::AdapterStats;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct PositionLine {
    pub market: String,
    pub size: Decimal,
    pub avg_entry: Decimal,
    pub realized_pnl: Decimal,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub seconds: f64,
    pub fills: u64,
    pub strategies: BTreeMap<String, StrategyCounts>,
    pub exits_by_reason: BTreeMap<String, u64>,
    pub refusals_by_reason: BTreeMap<String, u64>,
    pub realized_pnl: Decimal,
    pub unrealized_pnl: Decimal,
    pub positions: Vec<PositionLine>,
    pub open_orders: usize,
    pub hard_stop: Option<String>,
    pub hard_stop_triggers: BTreeMap<String, u64>,
    pub plugins: Vec<PluginCalls>,
    /// Each venue adapter's counters at the end of its task.
    pub venues: BTreeMap<String, AdapterStats>,
    pub reconcile_requests: BTreeMap<String, u64>,
    pub drift_corrections: BTreeMap<String, u64>,
    /// Venues where another strategy-host trades the same account (no entries were made there).
    pub foreign_hosts: Vec<String>,
    pub journal: Option<JournalProgress>,
}

impl Summary {
    /// The summary of a run: what `metrics` counted (call `Metrics::read_engine` first), and the
    /// engine's state at the end (positions, PnL, open orders, the latch).
    pub fn view(metrics: &Metrics, engine: &Engine, seconds: f64) -> Summary {
        let mut s = Summary {
            seconds,
            fills: metrics.fills,
            strategies: metrics.strategies.clone(),
            exits_by_reason: metrics.exits_by_reason.clone(),
            hard_stop_triggers: metrics.hard_stop_triggers.clone(),
            venues: metrics.venues.clone(),
            reconcile_requests: metrics.reconcile_requests.clone(),
            drift_corrections: metrics.drift_corrections.clone(),
            foreign_hosts: metrics.foreign_hosts.iter().cloned().collect(),
            journal: metrics.journal,
            refusals_by_reason: metrics.refusals_by_reason.clone(),
            plugins: metrics.plugin_calls.clone(),
            ..Summary::default()
        };
        s.realized_pnl = engine.positions().total_realized();
        for (m, key) in engine.registry().markets() {
            let p = engine.position(m);
            s.unrealized_pnl += p.unrealized(engine.market(m).mark);
            if !p.size.is_zero() || !p.realized.is_zero() {
                s.positions.push(PositionLine {
                    market: key.to_string(),
                    size: p.size,
                    avg_entry: p.avg_entry,
                    realized_pnl: p.realized,
                });
            }
        }
        s.open_orders = engine.orders().active_count();
        s.hard_stop = engine.latch().reason().map(|r| r.name().to_string());
        s
    }

    /// The human-readable summary.
    pub fn render(&self) -> String {
        let mut s = format!(
            "run summary ({:.1} s): {} fills, realized PnL {}, unrealized PnL {}, open orders {}, HardStop {}\n",
            self.seconds,
            self.fills,
            self.realized_pnl.round_dp(4),
            self.unrealized_pnl.round_dp(4),
            self.open_orders,
            self.hard_stop.as_deref().unwrap_or("off")
        );
        for (name, c) in &self.strategies {
            s += &format!(
                "  strategy {name}: {} entries, {} exits, {} fills\n",
                c.entries, c.exits, c.fills
            );
        }
        if !self.exits_by_reason.is_empty() {
            s += &format!("  exits by reason: {}\n", join(&self.exits_by_reason));
        }
        if !self.refusals_by_reason.is_empty() {
            s += &format!("  refusals by reason: {}\n", join(&self.refusals_by_reason));
        }
        for p in &self.positions {
            s += &format!(
                "  position {}: {} @ {} (realized {})\n",
                p.market,
                p.size,
                p.avg_entry.round_dp(6),
                p.realized_pnl.round_dp(4)
            );
        }
        for (name, v) in &self.venues {
            s += &format!(
                "  venue {name}: {} sessions, {} frames ({} unreadable), {} posts, {} unknown outcomes, {} reconciles ({} failed), {} drift corrections\n",
                v.sessions,
                v.frames,
                v.unreadable_frames,
                v.posts,
                v.unknown_outcomes,
                v.reconciles,
                v.reconciles_failed,
                self.drift_corrections.get(name).copied().unwrap_or(0)
            );
        }
        for v in &self.foreign_hosts {
            s += &format!(
                "  venue {v}: ANOTHER strategy-host trades this account: no entries were made there\n"
            );
        }
        for p in &self.plugins {
            if let Some(why) = &p.disabled {
                s += &format!("  strategy {} DISABLED: {why}\n", p.name);
            }
        }
        s
    }
}

fn join(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
