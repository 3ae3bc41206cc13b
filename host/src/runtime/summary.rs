//! The run summary: counted from engine notes while running, printed and written as JSON on exit.

use crate::engine::Engine;
use crate::engine::events::EngineNote;
use crate::engine::types::StrategyId;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Default, Clone, Serialize)]
pub struct StrategyCounts {
    pub fills: u64,
    /// Entry orders (not reduce-only) that filled at least once.
    pub entries: u64,
    /// Flattens this strategy asked for, and its own reduce-only closes that filled.
    pub exits: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PositionLine {
    pub market: String,
    pub size: Decimal,
    pub avg_entry: Decimal,
    pub realized_pnl: Decimal,
}

#[derive(Debug, Clone, Serialize)]
pub struct StrategyLine {
    pub name: String,
    pub plugin: String,
    pub calls: u64,
    pub calls_over_budget: u64,
    pub disabled: Option<String>,
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
    pub plugins: Vec<StrategyLine>,
    /// Not serialized: orders already counted.
    #[serde(skip)]
    entered: HashSet<u128>,
}

impl Summary {
    fn name(engine: &Engine, sid: Option<StrategyId>) -> String {
        sid.map_or_else(
            || "(host)".to_string(),
            |s| engine.strategy_slot(s).name.clone(),
        )
    }

    /// Counts one note.
    pub fn note(&mut self, engine: &Engine, n: &EngineNote) {
        match n {
            EngineNote::Fill { replayed: true, .. } => {}
            EngineNote::Fill { fill, strategy, .. } => {
                self.fills += 1;
                let name = Self::name(engine, *strategy);
                let c = self.strategies.entry(name).or_default();
                c.fills += 1;
                if let Some(cloid) = fill.cloid
                    && let Some(o) = engine.orders().get(cloid)
                    && self.entered.insert(cloid.0)
                {
                    if !o.reduce_only {
                        c.entries += 1;
                    } else if o.purpose != crate::engine::orders::Purpose::Flatten {
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
            _ => {}
        }
    }

    /// Fills in the end-of-run state.
    pub fn finish(&mut self, engine: &Engine, seconds: f64) {
        self.seconds = seconds;
        self.refusals_by_reason = engine
            .refusals()
            .nonzero()
            .map(|(r, n)| (r.name().to_string(), n))
            .collect();
        self.realized_pnl = engine.positions().total_realized();
        self.unrealized_pnl = Decimal::ZERO;
        self.positions.clear();
        for (m, key) in engine.registry().markets() {
            let p = engine.position(m);
            let mark = engine.market(m).mark;
            self.unrealized_pnl += p.unrealized(mark);
            if !p.size.is_zero() || !p.realized.is_zero() {
                self.positions.push(PositionLine {
                    market: key.to_string(),
                    size: p.size,
                    avg_entry: p.avg_entry,
                    realized_pnl: p.realized,
                });
            }
        }
        self.open_orders = engine.orders().active_count();
        self.hard_stop = engine.latch().reason().map(|r| r.name().to_string());
        self.plugins = engine
            .strategy_names()
            .map(|(sid, name)| {
                let s = engine.strategy_slot(sid);
                let st = s.stats();
                StrategyLine {
                    name: name.to_string(),
                    plugin: s.plugin.clone(),
                    calls: st.calls,
                    calls_over_budget: st.over_budget,
                    disabled: s.disabled_reason().map(str::to_string),
                }
            })
            .collect();
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
