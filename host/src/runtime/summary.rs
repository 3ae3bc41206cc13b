//! The run summary: a view of the metrics room and the engine's end-of-run state, printed and
//! written as JSON on exit. Every configured strategy is listed (idle ones too); trades are round
//! trips (a market's position from flat back to flat), PnL is net of fees, in the quote currency;
//! positions left open are said together with what the next run does with them.

use crate::engine::Engine;
use crate::journal::writer::JournalProgress;
use crate::metrics::{Metrics, PluginCalls, StrategyCounts};
use crate::venue::AdapterStats;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// Hyperliquid's perps (and the HIP-3 dexes the host trades) settle in USDC.
pub const CURRENCY: &str = "USDC";

#[derive(Debug, Clone, Serialize)]
pub struct PositionLine {
    pub market: String,
    pub size: Decimal,
    pub avg_entry: Decimal,
    pub realized_pnl: Decimal,
    pub unrealized_pnl: Decimal,
}

/// One configured strategy's run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StrategyLine {
    pub role: String,
    pub plugin: String,
    /// Round trips it opened, and those that made money net of fees.
    pub round_trips: u64,
    pub wins: u64,
    /// Its closed round trips' realized PnL minus their fees.
    pub net_pnl: Decimal,
    pub fees: Decimal,
    pub fills: u64,
    pub entries: u64,
    pub exits: u64,
    pub refusals: u64,
}

/// Where the run came from and where it was written (for the commands to look further).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunInfo {
    pub run_id: i64,
    pub config: String,
    pub journal: String,
    /// Venues whose simulator ran in-process, and the file it keeps its accounts in for the
    /// next run.
    pub in_process_sims: Vec<(String, String)>,
    /// `live` or `paper`.
    pub mode: String,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub seconds: f64,
    pub run: RunInfo,
    pub currency: &'static str,
    pub fills: u64,
    pub round_trips: u64,
    /// Closed round trips' realized PnL minus their fees.
    pub net_pnl: Decimal,
    /// Fees on every fill of the run (open positions' entries included).
    pub fees: Decimal,
    /// Every configured strategy, by name.
    pub strategy_lines: BTreeMap<String, StrategyLine>,
    pub strategies: BTreeMap<String, StrategyCounts>,
    pub exits_by_reason: BTreeMap<String, u64>,
    pub refusals_by_reason: BTreeMap<String, u64>,
    /// Position tracker's realized PnL, net of every fill's fee (open positions' entries
    /// included), and the open positions at the mark.
    pub realized_pnl: Decimal,
    pub unrealized_pnl: Decimal,
    pub positions: Vec<PositionLine>,
    /// What the next run does with the positions left open (None: none are).
    pub open_positions_next: Option<String>,
    pub open_orders: usize,
    pub hard_stop: Option<String>,
    pub hard_stop_triggers: BTreeMap<String, u64>,
    pub plugins: Vec<PluginCalls>,
    /// Tick-to-order (a market frame read → the order post it caused written): observations and
    /// the bucket bounds (µs) under which half and 99% fall.
    pub tick_to_order_count: u64,
    pub tick_to_order_p50_us: Option<f64>,
    pub tick_to_order_p99_us: Option<f64>,
    /// Each venue adapter's counters at the end of its task.
    pub venues: BTreeMap<String, AdapterStats>,
    pub reconcile_requests: BTreeMap<String, u64>,
    pub drift_corrections: BTreeMap<String, u64>,
    /// Venues where another strategy-host trades the same account (no entries were made there).
    pub foreign_hosts: Vec<String>,
    pub journal: Option<JournalProgress>,
    /// A paper run's local accounts, one per venue (empty when live).
    pub paper_accounts: Vec<crate::paper::PaperAccount>,
}

/// A decimal as people read it: no trailing zeros, at most `dp` places.
pub fn dec(d: Decimal, dp: u32) -> String {
    d.round_dp(dp).normalize().to_string()
}

/// A signed amount: `+1.23`, `-0.5`, `0`.
pub fn signed(d: Decimal, dp: u32) -> String {
    let d = d.round_dp(dp).normalize();
    if d > Decimal::ZERO {
        format!("+{d}")
    } else {
        d.to_string()
    }
}

impl Summary {
    /// The summary of a run: what `metrics` counted (call `Metrics::read_engine` first), and the
    /// engine's state at the end (positions, PnL, open orders, the latch).
    pub fn view(metrics: &Metrics, engine: &Engine, seconds: f64, run: RunInfo) -> Summary {
        let trips = &metrics.trips.summary;
        let mut s = Summary {
            seconds,
            run,
            currency: CURRENCY,
            fills: metrics.fills,
            round_trips: trips.round_trips,
            net_pnl: trips.strategies.values().map(|x| x.net_pnl).sum(),
            fees: trips.fees,
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
            tick_to_order_count: metrics.tick_to_order.count(),
            tick_to_order_p50_us: metrics.tick_to_order.quantile_bound(0.5).map(|s| s * 1e6),
            tick_to_order_p99_us: metrics.tick_to_order.quantile_bound(0.99).map(|s| s * 1e6),
            ..Summary::default()
        };
        for (sid, name) in engine.strategy_names() {
            let slot = engine.strategy_slot(sid);
            let r = trips.strategies.get(name).cloned().unwrap_or_default();
            let c = metrics.strategies.get(name).cloned().unwrap_or_default();
            let refusals = metrics
                .refusals
                .iter()
                .filter(|((_, who), _)| *who == Some(sid))
                .map(|(_, n)| n)
                .sum();
            s.strategy_lines.insert(
                name.to_string(),
                StrategyLine {
                    role: format!("{:?}", slot.role).to_lowercase(),
                    plugin: slot.plugin.clone(),
                    round_trips: r.round_trips,
                    wins: r.wins,
                    net_pnl: r.net_pnl,
                    fees: r.fees,
                    fills: c.fills,
                    entries: c.entries,
                    exits: c.exits,
                    refusals,
                },
            );
        }
        s.realized_pnl = engine.positions().total_realized();
        let mut open_venues = std::collections::BTreeSet::new();
        for (m, key) in engine.registry().markets() {
            let p = engine.position(m);
            let u = p.unrealized(engine.market(m).mark);
            s.unrealized_pnl += u;
            if !p.size.is_zero() || !p.realized.is_zero() {
                s.positions.push(PositionLine {
                    market: key.to_string(),
                    size: p.size,
                    avg_entry: p.avg_entry,
                    realized_pnl: p.realized,
                    unrealized_pnl: u,
                });
            }
            if !p.size.is_zero() {
                open_venues.insert(key.venue.clone());
            }
        }
        if !open_venues.is_empty() {
            let paper = s.run.mode == "paper";
            let (sims, real): (Vec<String>, Vec<String>) = open_venues
                .into_iter()
                .partition(|v| !paper && s.run.in_process_sims.iter().any(|(n, _)| n == v));
            let mut says = Vec::new();
            if paper {
                says.push(format!(
                    "on {} (paper): the journal keeps them in the paper account; the next `strategy-host run --paper --config {}` resumes them and its exit strategies manage them (`--fresh` starts a new account)",
                    real.join(", "),
                    s.run.config
                ));
            }
            if !real.is_empty() && !paper {
                says.push(format!(
                    "on {}: the next `strategy-host run --config {}` reads them from the venue at start and its exit strategies manage them",
                    real.join(", "),
                    s.run.config
                ));
            }
            if !sims.is_empty() {
                says.push(format!(
                    "on {}: the in-process simulator keeps them for the next run (`--fresh` starts it flat)",
                    sims.join(", ")
                ));
            }
            s.open_positions_next = Some(says.join("; "));
        }
        s.open_orders = engine.orders().active_count();
        s.paper_accounts = metrics.paper.clone();
        s.hard_stop = engine.latch().reason().map(|r| r.name().to_string());
        s
    }

    /// The human-readable summary.
    pub fn render(&self) -> String {
        let c = self.currency;
        let mut s = format!(
            "{}run summary ({:.1} s, run {}): {} round trips, net PnL {} {c} after {} {c} fees ({} fills), open orders {}, HardStop {}\n",
            if self.run.mode == "paper" {
                "PAPER "
            } else {
                ""
            },
            self.seconds,
            self.run.run_id,
            self.round_trips,
            signed(self.net_pnl, 4),
            dec(self.fees, 4),
            self.fills,
            self.open_orders,
            self.hard_stop.as_deref().unwrap_or("off")
        );
        let width = self
            .strategy_lines
            .keys()
            .map(|k| k.len())
            .max()
            .unwrap_or(0);
        for (name, l) in &self.strategy_lines {
            let what = if l.fills == 0 && l.refusals == 0 {
                "idle: no orders".to_string()
            } else if l.role == "entry" {
                format!(
                    "{} round trips ({} won), net PnL {} {c}, fees {} {c}, {} fills",
                    l.round_trips,
                    l.wins,
                    signed(l.net_pnl, 4),
                    dec(l.fees, 4),
                    l.fills
                )
            } else {
                format!("{} exits, {} fills", l.exits, l.fills)
            };
            let refused = if l.refusals > 0 {
                format!(", {} refused", l.refusals)
            } else {
                String::new()
            };
            s += &format!("  {name:<width$}  {:<5} {}{refused}\n", l.role, what);
        }
        if !self.exits_by_reason.is_empty() {
            s += &format!("  exits by reason: {}\n", join(&self.exits_by_reason));
        }
        if !self.refusals_by_reason.is_empty() {
            s += &format!("  refusals by reason: {}\n", join(&self.refusals_by_reason));
        }
        let open: Vec<_> = self
            .positions
            .iter()
            .filter(|p| !p.size.is_zero())
            .collect();
        if !open.is_empty() {
            s += "  positions LEFT OPEN:\n";
            for p in &open {
                s += &format!(
                    "    {} {} @ {} (unrealized {} {c})\n",
                    p.market,
                    dec(p.size, 8),
                    dec(p.avg_entry, 6),
                    signed(p.unrealized_pnl, 4)
                );
            }
            if let Some(next) = &self.open_positions_next {
                s += &format!("    next run: {next}\n");
            }
        }
        if let (Some(p50), Some(p99)) = (self.tick_to_order_p50_us, self.tick_to_order_p99_us) {
            s += &format!(
                "  tick-to-order: {} orders, p50 ≤ {} µs, p99 ≤ {} µs\n",
                self.tick_to_order_count,
                fmt_us(p50),
                fmt_us(p99)
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
        for a in &self.paper_accounts {
            s += &format!("  {}\n", a.render());
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
        if !self.run.journal.is_empty() {
            let (cfg, run) = (&self.run.config, self.run.run_id);
            s += &format!(
                "  look further: strategy-host journal fills --config {cfg} --run {run}\n                strategy-host report --config {cfg} --run {run} --out report.html\n"
            );
        }
        s
    }
}

fn fmt_us(v: f64) -> String {
    if v.is_infinite() {
        "∞".into()
    } else {
        format!("{v}")
    }
}

fn join(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::{EngineConfig, RiskLimits};
    use crate::engine::testkit::{Harness, scripted};
    use plugin_api::{Intent, MarketIdx, PlaceIntent, Role, Side, Tif};

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// A run that ends with a position open says so, with what the next run does about it, and
    /// lists the strategy that did nothing.
    #[test]
    fn an_open_position_and_an_idle_strategy_are_said() {
        let (es, entry) = scripted("entry", Role::Entry, &["hl/BTC"]);
        let (xs, _) = scripted("quiet-exit", Role::Exit, &["hl/BTC"]);
        let limits = RiskLimits {
            max_notional_per_market: d("1000"),
            max_notional_total: d("1000"),
            ..RiskLimits::default()
        };
        let mut h = Harness::new(EngineConfig::default(), limits, &["hl/BTC"], vec![es, xs]);
        let m = h.market("hl/BTC");
        h.all_ready();
        h.quote(m, d("99"), d("101"), d("100"));
        entry
            .lock()
            .unwrap()
            .next
            .push_back(Intent::Place(PlaceIntent::new(
                MarketIdx(0),
                Side::Buy,
                d("101"),
                d("1"),
                Tif::Ioc,
            )));
        h.quote(m, d("99"), d("101"), d("100"));
        let cloid = h.batches()[0].orders[0].cloid;
        h.fill_ioc(cloid, d("101"));
        let mut metrics = Metrics::new();
        for n in h.engine.drain_notes().collect::<Vec<_>>() {
            metrics.note(&h.engine, &n);
        }
        metrics.read_engine(&h.engine);
        let run = |sims: &[&str]| RunInfo {
            run_id: 3,
            config: "my.toml".into(),
            journal: "j.db".into(),
            in_process_sims: sims
                .iter()
                .map(|s| (s.to_string(), format!("j.db.sim-{s}.json")))
                .collect(),
            mode: "live".into(),
        };
        let s = Summary::view(&metrics, &h.engine, 1.0, run(&[]));
        let text = s.render();
        assert!(
            text.contains("positions LEFT OPEN:\n    hl/BTC 1 @ 101"),
            "{text}"
        );
        assert!(
            text.contains("next run: on hl: the next `strategy-host run --config my.toml` reads them from the venue"),
            "{text}"
        );
        assert!(text.contains("quiet-exit  exit  idle: no orders"), "{text}");
        assert!(text.contains("entry       entry 0 round trips"), "{text}");
        assert!(text.contains("--run 3"), "{text}");
        let sim = Summary::view(&metrics, &h.engine, 1.0, run(&["hl"]));
        assert!(
            sim.render().contains(
                "the in-process simulator keeps them for the next run (`--fresh` starts it flat)"
            ),
            "{}",
            sim.render()
        );
        assert_eq!(s.currency, "USDC");
        assert_eq!(s.fills, 1);
    }

    #[test]
    fn decimals_read_as_people_write_them() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(dec(d("0.0627185348950248522194521536"), 8), "0.06271853");
        assert_eq!(dec(d("2.50000"), 4), "2.5");
        assert_eq!(signed(d("1.20"), 4), "+1.2");
        assert_eq!(signed(d("-0.5"), 4), "-0.5");
        assert_eq!(signed(Decimal::ZERO, 4), "0");
    }
}
