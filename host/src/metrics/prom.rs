//! The Prometheus view of the metrics room: [`Sample::take`] reads the room and the engine's gate
//! headroom on the engine thread (once a second: a few hundred numbers, no formatting), and
//! [`render`] writes the text exposition format on the server's thread.
//!
//! Names follow Prometheus conventions: `strategy_host_` prefix, base units (`_seconds`, `_usd`
//! for the quote currency), `_total` on counters. Labels: `venue`, `market` (`venue/coin`),
//! `strategy`, `reason`. Every family is listed in [`FAMILIES`] with its type and help, and in
//! docs/operations.md.

use super::Metrics;
use super::hist::{BOUNDS_NS, Histogram};
use crate::engine::Engine;
use crate::engine::types::VenueId;
use crate::journal::writer::JournalProgress;
use crate::venue::AdapterStats;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

#[derive(Debug, Clone, Copy)]
pub struct Family {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

macro_rules! families {
    ($($id:ident = $name:literal, $kind:ident, $help:literal;)*) => {
        /// Family ids: the index into [`FAMILIES`].
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum F { $($id),* }
        pub const FAMILIES: &[Family] = &[$(Family { name: $name, kind: Kind::$kind, help: $help }),*];
    };
}

families! {
    UP = "strategy_host_up", Gauge, "1 while the host runs; labels: the journal's run id, and the mode (live or paper).";
    PAPER_BALANCE = "strategy_host_paper_balance_usd", Gauge, "A paper venue's local account: start balance + realized PnL + funding - fees.";
    SAMPLE_AGE = "strategy_host_sample_age_seconds", Gauge, "Age of this sample (taken once a second on the engine thread).";
    REFUSALS = "strategy_host_refusals_total", Counter, "Intents the gates refused, by reason and strategy.";
    MAXPOS_LIMIT = "strategy_host_max_position_limit_usd", Gauge, "MaxPosition limit per market (market=\"total\": over all markets).";
    MAXPOS_EXPOSURE = "strategy_host_max_position_exposure_usd", Gauge, "What MaxPosition counts: |position| + unfilled entries, at the valuation price.";
    MAXPOS_HEADROOM = "strategy_host_max_position_headroom_usd", Gauge, "MaxPosition limit minus exposure: the notional an entry may still add.";
    BUDGET_AVAILABLE = "strategy_host_action_budget_available", Gauge, "Host action budget tokens available now.";
    BUDGET_CAPACITY = "strategy_host_action_budget_capacity", Gauge, "Host action budget capacity.";
    VENUE_BUDGET = "strategy_host_venue_request_budget_remaining", Gauge, "What the venue says is left of the address's request budget.";
    LOSS_HEADROOM = "strategy_host_hardstop_loss_headroom_usd", Gauge, "Realized PnL (net of fees) still allowed to fall before the cumulative-loss HardStop.";
    CONSEC_LOSSES = "strategy_host_consecutive_losses", Gauge, "Losing round trips in a row (HardStop at strategy_host_consecutive_losses_limit).";
    CONSEC_LIMIT = "strategy_host_consecutive_losses_limit", Gauge, "HardStop threshold for losing round trips in a row.";
    HARDSTOP = "strategy_host_hardstop_latched", Gauge, "1 while the HardStop latch is set (label reason), else 0.";
    HARDSTOP_TRIGGERS = "strategy_host_hardstop_triggers_total", Counter, "HardStop triggers, by reason.";
    ENTRIES_PAUSED = "strategy_host_entries_paused", Gauge, "1 while entries are paused by the operator or the stop.";
    OPEN_ORDERS = "strategy_host_open_orders", Gauge, "Orders in flight or resting.";
    POSITION = "strategy_host_position_size", Gauge, "Position per market, in the coin (negative: short).";
    NOTIONAL = "strategy_host_position_notional_usd", Gauge, "|position| at the mark.";
    UNREALIZED = "strategy_host_unrealized_pnl_usd", Gauge, "Unrealized PnL per market at the mark.";
    REALIZED = "strategy_host_realized_pnl_usd", Gauge, "Realized PnL per market (before fees) since the position tracker started.";
    STRATEGY_PNL = "strategy_host_strategy_net_pnl_usd", Gauge, "Closed round trips' PnL net of fees, per strategy, this run.";
    STRATEGY_FEES = "strategy_host_strategy_fees_usd", Gauge, "Fees paid on closed round trips, per strategy, this run.";
    ROUND_TRIPS = "strategy_host_round_trips_total", Counter, "Round trips (flat to flat), per strategy.";
    FILLS = "strategy_host_fills_total", Counter, "Fills, by strategy and market.";
    FEES = "strategy_host_fees_usd_total", Counter, "Fees paid on every fill this run.";
    TICK_TO_ORDER = "strategy_host_tick_to_order_seconds", Histogram, "From a market frame read off the socket to the order post it caused written to the socket.";
    PLUGIN_CALL = "strategy_host_plugin_call_seconds", Histogram, "Plugin call time, by strategy.";
    PLUGIN_OVER = "strategy_host_plugin_calls_over_budget_total", Counter, "Plugin calls slower than plugins.call_budget_us, by strategy.";
    PLUGIN_DISABLED = "strategy_host_strategy_disabled", Gauge, "1 when the strategy was disabled (a panic or error).";
    RECONNECTS = "strategy_host_venue_reconnects_total", Counter, "Venue sessions begun after the first.";
    FRAMES = "strategy_host_venue_frames_total", Counter, "Frames read from the venue.";
    UNREADABLE = "strategy_host_venue_unreadable_frames_total", Counter, "Frames the adapter could not read.";
    POSTS = "strategy_host_venue_posts_total", Counter, "Requests posted to the venue.";
    VENUE_ERRORS = "strategy_host_venue_errors_total", Counter, "Error frames and refused requests from the venue.";
    RECONCILES = "strategy_host_venue_reconciles_total", Counter, "Reconciles begun while live (result=failed: answers that could not be applied).";
    CORRECTIONS = "strategy_host_reconcile_corrections_total", Counter, "Positions a reconcile found wrong and corrected, per venue.";
    RECONCILE_REQUESTS = "strategy_host_reconcile_requests_total", Counter, "Reconciles the engine asked for (something it could not explain).";
    DATA_AGE = "strategy_host_venue_data_age_seconds", Gauge, "Time since the venue was last live (market data while ready).";
    JOURNAL_PENDING = "strategy_host_journal_records_pending", Gauge, "Journal records sent and not yet committed.";
    JOURNAL_LAG = "strategy_host_journal_commit_lag_seconds", Gauge, "How long records have been waiting without a commit (0 when none wait).";
    JOURNAL_COMMITTED = "strategy_host_journal_records_committed_total", Counter, "Journal records committed.";
    JOURNAL_STALLS = "strategy_host_journal_stalls_total", Counter, "Times the SCHED_IDLE journal writer was raised because it fell behind.";
}

pub type Labels = Vec<(&'static str, String)>;

/// One reading: the engine thread's numbers, ready to render.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Wall-clock time it was taken (ms since the epoch).
    pub taken_ms: u64,
    pub series: Vec<(F, Labels, f64)>,
    /// Histograms: family, labels, counts, and the units per µs of their sum.
    pub hists: Vec<(F, Labels, Histogram, u64)>,
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

impl Sample {
    fn put(&mut self, fam: F, labels: Labels, v: f64) {
        self.series.push((fam, labels, v));
    }

    /// Reads the room (what notes counted) and the engine (plugin call statistics straight from
    /// the slots). `journal`: the writer's progress and how long records have waited uncommitted
    /// (see `LagWatch`).
    pub fn take(
        m: &Metrics,
        engine: &Engine,
        now_ns: u64,
        run: i64,
        journal: Option<(JournalProgress, f64)>,
    ) -> Sample {
        let mut s = Sample {
            taken_ms: crate::timefmt::now_ms(),
            ..Sample::default()
        };
        let mode = if m.mode.is_empty() { "live" } else { m.mode };
        s.put(
            F::UP,
            vec![("run", run.to_string()), ("mode", mode.to_string())],
            1.0,
        );
        for a in &m.paper {
            s.put(
                F::PAPER_BALANCE,
                vec![("venue", a.venue.clone())],
                f(a.balance()),
            );
        }
        for ((reason, strategy), n) in &m.refusals {
            s.put(
                F::REFUSALS,
                vec![
                    ("reason", reason.name().to_string()),
                    ("strategy", Metrics::name(engine, *strategy)),
                ],
                *n as f64,
            );
        }
        let limits = engine.risk().limits();
        let mut total = Decimal::ZERO;
        let reg = engine.registry();
        for (id, key) in reg.markets() {
            let market = key.to_string();
            let strategy = engine
                .entry_strategy_of(id)
                .map_or_else(String::new, |sid| engine.strategy_slot(sid).name.clone());
            let ml = || {
                vec![
                    ("market", market.clone()),
                    ("venue", reg.venue_name(reg.venue_of(id)).to_string()),
                ]
            };
            let exposure = engine.exposure_of(id);
            total += exposure;
            s.put(F::MAXPOS_LIMIT, ml(), f(limits.max_notional_per_market));
            s.put(F::MAXPOS_EXPOSURE, ml(), f(exposure));
            s.put(
                F::MAXPOS_HEADROOM,
                ml(),
                f(limits.max_notional_per_market - exposure),
            );
            let p = engine.position(id);
            let mark = engine.market(id).mark;
            let mut pl = ml();
            pl.push(("strategy", strategy));
            s.put(F::POSITION, pl.clone(), f(p.size));
            s.put(F::NOTIONAL, pl.clone(), f(p.size.abs() * mark));
            s.put(F::UNREALIZED, pl.clone(), f(p.unrealized(mark)));
            s.put(F::REALIZED, pl, f(p.realized));
        }
        let tl = || vec![("market", "total".to_string())];
        s.put(F::MAXPOS_LIMIT, tl(), f(limits.max_notional_total));
        s.put(F::MAXPOS_EXPOSURE, tl(), f(total));
        s.put(
            F::MAXPOS_HEADROOM,
            tl(),
            f(limits.max_notional_total - total),
        );
        let (avail, cap) = engine.action_budget(now_ns);
        s.put(F::BUDGET_AVAILABLE, vec![], avail as f64);
        s.put(F::BUDGET_CAPACITY, vec![], cap as f64);
        for v in 0..reg.venue_count() {
            let id = VenueId(v as u16);
            let vl = || vec![("venue", reg.venue_name(id).to_string())];
            if let Some(left) = engine.venue_request_budget(id) {
                s.put(F::VENUE_BUDGET, vl(), left as f64);
            }
            if let Some(t) = engine.venue_last_live(id) {
                s.put(F::DATA_AGE, vl(), now_ns.saturating_sub(t) as f64 / 1e9);
            }
        }
        let risk = engine.risk();
        s.put(
            F::LOSS_HEADROOM,
            vec![],
            f(limits.max_cumulative_loss + risk.cumulative_pnl()),
        );
        s.put(F::CONSEC_LOSSES, vec![], risk.consecutive_losses() as f64);
        s.put(
            F::CONSEC_LIMIT,
            vec![],
            limits.max_consecutive_losses as f64,
        );
        match engine.latch().reason() {
            Some(r) => s.put(F::HARDSTOP, vec![("reason", r.name().to_string())], 1.0),
            None => s.put(F::HARDSTOP, vec![("reason", String::new())], 0.0),
        }
        for (reason, n) in &m.hard_stop_triggers {
            s.put(
                F::HARDSTOP_TRIGGERS,
                vec![("reason", reason.clone())],
                *n as f64,
            );
        }
        s.put(
            F::ENTRIES_PAUSED,
            vec![],
            if engine.entries_paused() { 1.0 } else { 0.0 },
        );
        s.put(
            F::OPEN_ORDERS,
            vec![],
            engine.orders().active_count() as f64,
        );
        let trips = &m.trips.summary;
        for (sid, name) in engine.strategy_names() {
            let r = trips.strategies.get(name).cloned().unwrap_or_default();
            let sl = || vec![("strategy", name.to_string())];
            s.put(F::STRATEGY_PNL, sl(), f(r.net_pnl));
            s.put(F::STRATEGY_FEES, sl(), f(r.fees));
            s.put(F::ROUND_TRIPS, sl(), r.round_trips as f64);
            let slot = engine.strategy_slot(sid);
            let st = slot.stats();
            s.put(F::PLUGIN_OVER, sl(), st.over_budget as f64);
            s.put(
                F::PLUGIN_DISABLED,
                sl(),
                if slot.is_disabled() { 1.0 } else { 0.0 },
            );
            let (h, per_us) = slot.call_times();
            s.hists.push((F::PLUGIN_CALL, sl(), h, per_us));
        }
        for ((strategy, market), n) in &m.fills_by {
            s.put(
                F::FILLS,
                vec![
                    ("strategy", Metrics::name(engine, *strategy)),
                    ("market", reg.key(*market).to_string()),
                ],
                *n as f64,
            );
        }
        s.put(F::FEES, vec![], f(trips.fees));
        for (venue, n) in &m.drift_corrections {
            s.put(F::CORRECTIONS, vec![("venue", venue.clone())], *n as f64);
        }
        for (venue, n) in &m.reconcile_requests {
            s.put(
                F::RECONCILE_REQUESTS,
                vec![("venue", venue.clone())],
                *n as f64,
            );
        }
        if let Some((p, lag)) = journal {
            s.put(
                F::JOURNAL_PENDING,
                vec![],
                p.sent.saturating_sub(p.done) as f64,
            );
            s.put(F::JOURNAL_LAG, vec![], lag);
            s.put(F::JOURNAL_COMMITTED, vec![], p.done as f64);
            s.put(F::JOURNAL_STALLS, vec![], p.stalls as f64);
        }
        s
    }

    /// A venue task's live counters and tick-to-order histogram (read on the server's thread).
    pub fn add_venue(&mut self, venue: &str, st: &AdapterStats, tick_to_order: Histogram) {
        let vl = || vec![("venue", venue.to_string())];
        self.put(F::RECONNECTS, vl(), st.sessions.saturating_sub(1) as f64);
        self.put(F::FRAMES, vl(), st.frames as f64);
        self.put(F::UNREADABLE, vl(), st.unreadable_frames as f64);
        self.put(F::POSTS, vl(), st.posts as f64);
        self.put(
            F::VENUE_ERRORS,
            vl(),
            (st.venue_errors + st.requests_refused) as f64,
        );
        self.put(
            F::RECONCILES,
            vec![("venue", venue.to_string()), ("result", "begun".into())],
            st.reconciles as f64,
        );
        self.put(
            F::RECONCILES,
            vec![("venue", venue.to_string()), ("result", "failed".into())],
            st.reconciles_failed as f64,
        );
        self.hists
            .push((F::TICK_TO_ORDER, vl(), tick_to_order, 1000));
    }
}

/// How long journal records have waited without a commit: 0 while none wait; otherwise the time
/// since the committed count last moved (or since records began to wait).
#[derive(Debug, Default)]
pub struct LagWatch {
    last_done: u64,
    waiting_since_ns: Option<u64>,
}

impl LagWatch {
    pub fn lag(&mut self, p: JournalProgress, now_ns: u64) -> f64 {
        if p.sent <= p.done {
            self.waiting_since_ns = None;
        } else if p.done != self.last_done || self.waiting_since_ns.is_none() {
            self.waiting_since_ns = Some(now_ns);
        }
        self.last_done = p.done;
        self.waiting_since_ns
            .map_or(0.0, |t| now_ns.saturating_sub(t) as f64 / 1e9)
    }
}

fn escape(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn labels(l: &[(&str, String)], extra: Option<(&str, &str)>, out: &mut String) {
    if l.is_empty() && extra.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    let all = l.iter().map(|(k, v)| (*k, v.as_str())).chain(extra);
    for (k, v) in all {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(k);
        out.push_str("=\"");
        escape(v, out);
        out.push('"');
    }
    out.push('}');
}

fn num(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

/// The text exposition format (version 0.0.4), families in [`FAMILIES`] order.
pub fn render(s: &Sample, now_ms: u64) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let mut series: Vec<&(F, Labels, f64)> = s.series.iter().collect();
    series.sort_by_key(|x| x.0);
    let mut hists: Vec<&(F, Labels, Histogram, u64)> = s.hists.iter().collect();
    hists.sort_by_key(|x| x.0);
    for (i, fam) in FAMILIES.iter().enumerate() {
        let here: Vec<_> = series.iter().filter(|x| x.0 as usize == i).collect();
        let hs: Vec<_> = hists.iter().filter(|x| x.0 as usize == i).collect();
        let age = i == F::SAMPLE_AGE as usize && s.taken_ms != 0;
        if here.is_empty() && hs.is_empty() && !age {
            continue;
        }
        let kind = match fam.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(out, "# HELP {} {}", fam.name, fam.help);
        let _ = writeln!(out, "# TYPE {} {kind}", fam.name);
        if age {
            let _ = writeln!(
                out,
                "{} {}",
                fam.name,
                now_ms.saturating_sub(s.taken_ms) as f64 / 1e3
            );
        }
        for (_, l, v) in here.iter().map(|x| (&x.0, &x.1, x.2)) {
            out.push_str(fam.name);
            labels(l, None, &mut out);
            out.push(' ');
            num(v, &mut out);
            out.push('\n');
        }
        for (_, l, h, per_us) in hs.iter().map(|x| (&x.0, &x.1, &x.2, x.3)) {
            let mut cum = 0;
            for (b, c) in BOUNDS_NS
                .iter()
                .map(|b| Some(*b))
                .chain([None])
                .zip(h.counts)
            {
                cum += c;
                let le = b.map_or("+Inf".to_string(), |b| format!("{}", b as f64 / 1e9));
                let _ = write!(out, "{}_bucket", fam.name);
                labels(l, Some(("le", &le)), &mut out);
                let _ = writeln!(out, " {cum}");
            }
            let _ = write!(out, "{}_sum", fam.name);
            labels(l, None, &mut out);
            out.push(' ');
            num(h.sum_seconds(per_us), &mut out);
            out.push('\n');
            let _ = write!(out, "{}_count", fam.name);
            labels(l, None, &mut out);
            let _ = writeln!(out, " {cum}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_exposition_format() {
        let mut s = Sample {
            taken_ms: 1_000,
            ..Sample::default()
        };
        s.put(
            F::REFUSALS,
            vec![
                ("reason", "has_position".into()),
                ("strategy", "a\"b".into()),
            ],
            3.0,
        );
        s.put(F::OPEN_ORDERS, vec![], 2.0);
        let mut h = Histogram::default();
        h.observe_ns(1_500);
        h.observe_ns(100_000_000);
        s.hists
            .push((F::TICK_TO_ORDER, vec![("venue", "hl".into())], h, 1000));
        let text = render(&s, 3_500);
        assert!(text.contains("# TYPE strategy_host_refusals_total counter\n"));
        assert!(text.contains(
            "strategy_host_refusals_total{reason=\"has_position\",strategy=\"a\\\"b\"} 3\n"
        ));
        assert!(text.contains("strategy_host_open_orders 2\n"));
        assert!(text.contains("strategy_host_sample_age_seconds 2.5\n"));
        assert!(text.contains(
            "strategy_host_tick_to_order_seconds_bucket{venue=\"hl\",le=\"0.000001\"} 0\n"
        ));
        assert!(text.contains(
            "strategy_host_tick_to_order_seconds_bucket{venue=\"hl\",le=\"0.0000025\"} 1\n"
        ));
        assert!(
            text.contains(
                "strategy_host_tick_to_order_seconds_bucket{venue=\"hl\",le=\"+Inf\"} 2\n"
            )
        );
        assert!(text.contains("strategy_host_tick_to_order_seconds_count{venue=\"hl\"} 2\n"));
        assert!(text.contains("strategy_host_tick_to_order_seconds_sum{venue=\"hl\"} 0.1000015\n"));
        // Families without series are left out.
        assert!(!text.contains("strategy_host_fills_total"));
    }

    /// docs/grafana-dashboard.json queries only families the endpoint serves (it cannot drift).
    #[test]
    fn the_dashboard_queries_real_families() {
        let d: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/grafana-dashboard.json")).unwrap();
        let mut queried = 0;
        for p in d["panels"].as_array().unwrap() {
            for t in p["targets"].as_array().into_iter().flatten() {
                let expr = t["expr"].as_str().unwrap();
                let names = expr
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|w| w.starts_with("strategy_host_"));
                for n in names {
                    let base = ["_bucket", "_sum", "_count"]
                        .iter()
                        .find_map(|s| n.strip_suffix(s))
                        .unwrap_or(n);
                    assert!(
                        FAMILIES.iter().any(|f| f.name == base || f.name == n),
                        "the dashboard queries {n}, which the endpoint does not serve"
                    );
                    queried += 1;
                }
            }
        }
        assert!(queried > 30, "{queried}");
    }

    #[test]
    fn journal_lag_counts_from_when_records_began_to_wait() {
        let mut w = LagWatch::default();
        let p = |sent, done| JournalProgress {
            sent,
            done,
            stalls: 0,
        };
        assert_eq!(w.lag(p(5, 5), 1_000_000_000), 0.0);
        assert_eq!(w.lag(p(7, 5), 2_000_000_000), 0.0);
        assert_eq!(w.lag(p(9, 5), 4_000_000_000), 2.0);
        assert_eq!(w.lag(p(9, 8), 5_000_000_000), 0.0, "a commit resets it");
        assert_eq!(w.lag(p(9, 9), 6_000_000_000), 0.0);
    }
}
