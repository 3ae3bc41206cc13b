//! The backtest's summary: PnL net of fees and funding per strategy, trades as round trips (a
//! market's position from flat back to flat), win rate, max drawdown, turnover, fees, funding,
//! exits by reason, refusals by reason, and what the data held (skips, gaps, unknown coins).
//! Every figure is a `Decimal` or a count, keyed in sorted maps: the same run renders the same
//! bytes.

use crate::engine::Engine;
use crate::engine::events::EngineNote;
use crate::engine::types::{Cloid, MarketId, Side};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A round trip in progress.
#[derive(Debug, Clone)]
struct Trip {
    strategy: String,
    size: Decimal,
    pnl: Decimal,
    fees: Decimal,
    funding: Decimal,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StrategyReport {
    pub round_trips: u64,
    pub wins: u64,
    /// Wins over round trips (0 when there were none).
    pub win_rate: Decimal,
    /// Realized PnL − fees + funding of its round trips (closed ones).
    pub net_pnl: Decimal,
    pub fees: Decimal,
    pub funding: Decimal,
    /// Notional traded by its orders (entries and exits alike).
    pub turnover: Decimal,
    pub fills: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// First and last data time (ns since the epoch).
    pub first_ns: u64,
    pub last_ns: u64,
    pub records: u64,
    pub events: u64,
    pub net_pnl: Decimal,
    pub realized_pnl: Decimal,
    pub fees: Decimal,
    pub funding: Decimal,
    pub turnover: Decimal,
    pub round_trips: u64,
    pub wins: u64,
    pub win_rate: Decimal,
    /// Largest fall of equity (realized net + open positions marked to the mid) from a peak.
    pub max_drawdown: Decimal,
    pub fills: u64,
    /// Positions still open at the end, marked to the last mid (not in the round trips).
    pub open_positions: BTreeMap<String, Decimal>,
    pub unrealized_pnl: Decimal,
    pub strategies: BTreeMap<String, StrategyReport>,
    /// Round trips by what closed them (the exit's flatten reason, or the closing strategy).
    pub exits: BTreeMap<String, u64>,
    /// Refused intents by reason.
    pub refusals: BTreeMap<String, u64>,
    pub hard_stops: Vec<String>,
    /// The engine asked for a reconcile (a fill or answer it could not explain). Simulated
    /// execution neither loses nor invents frames, so this stays 0 unless the engine and the
    /// simulated venue disagree: a bug to report, shown in the text when it happens.
    pub reconcile_requests: u64,
    pub execution: super::exec::ExecStats,
    pub latency: LatencyReport,
    pub data: DataReport,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LatencyReport {
    pub mode: String,
    /// The data's own order round trips (µs): how many, and their median.
    pub recorded_round_trips: u64,
    pub recorded_median_us: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DataReport {
    pub files: Vec<FileReport>,
    /// Lines skipped (`on_bad_line = "skip"`), by reason.
    pub skipped_lines: BTreeMap<String, u64>,
    /// Records for coins no configured market trades (`on_unknown_coin = "skip"`), by coin.
    pub unknown_coins: BTreeMap<String, u64>,
    /// Gaps longer than `max_gap_secs` in a venue's market data (`on_gap = "skip"`).
    pub gaps: Vec<Gap>,
    /// Frames recorded as unreadable by the venue's decoder (as live would have counted them).
    pub unreadable_frames: u64,
    /// Frames replayed that carry no market data (user channels, answers, pongs).
    pub ignored_frames: u64,
    /// Configured markets no record mentioned.
    pub markets_without_data: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub kind: super::data::Kind,
    pub lines: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub venue: String,
    pub from_ns: u64,
    pub to_ns: u64,
}

/// Builds the summary from the engine's notes as they happen (the backtest's, and the live
/// run's round trips and PnL per strategy: `Metrics::trips`).
#[derive(Debug, Clone)]
pub struct Reporter {
    trips: HashMap<MarketId, Trip>,
    /// Each market's latest flatten order and why (exits name their reason through them):
    /// one per market, so it does not grow with the data.
    flatten_reasons: HashMap<MarketId, (Cloid, &'static str)>,
    /// Position per market as the fills say (the engine's own view, replayed).
    position: HashMap<MarketId, Decimal>,
    realized_net: Decimal,
    peak: Decimal,
    pub summary: Summary,
}

impl Default for Reporter {
    fn default() -> Self {
        Reporter {
            trips: HashMap::new(),
            flatten_reasons: HashMap::new(),
            position: HashMap::new(),
            realized_net: Decimal::ZERO,
            peak: Decimal::ZERO,
            summary: Summary::default(),
        }
    }
}

fn strategy_name(engine: &Engine, s: Option<crate::engine::types::StrategyId>) -> String {
    s.and_then(|id| {
        engine
            .strategy_names()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.to_string())
    })
    .unwrap_or_else(|| "(host)".into())
}

impl Reporter {
    pub fn note(&mut self, engine: &Engine, n: &EngineNote) {
        match n {
            EngineNote::Flatten {
                market,
                cloid,
                reason,
                ..
            } => {
                self.flatten_reasons
                    .insert(*market, (*cloid, reason.kind.name()));
            }
            EngineNote::Refused { reason, .. } => {
                *self
                    .summary
                    .refusals
                    .entry(reason.name().to_string())
                    .or_default() += 1;
            }
            EngineNote::HardStopTriggered(r) => self.summary.hard_stops.push(r.name().to_string()),
            EngineNote::ReconcileRequest { .. } => self.summary.reconcile_requests += 1,
            EngineNote::Fill {
                fill,
                strategy,
                realized,
                replayed: false,
            } => {
                let who = strategy_name(engine, *strategy);
                let notional = fill.px * fill.sz;
                let s = &mut self.summary;
                s.fills += 1;
                s.fees += fill.fee;
                s.turnover += notional;
                // The engine's `realized` is net of this fill's fee: the gross is put back
                // here, and fees are taken once (they were taken twice before).
                let gross = *realized + fill.fee;
                s.realized_pnl += gross;
                let st = s.strategies.entry(who.clone()).or_default();
                st.fills += 1;
                st.turnover += notional;
                self.realized_net += *realized;
                let signed = if fill.side == Side::Buy {
                    fill.sz
                } else {
                    -fill.sz
                };
                let pos = self.position.entry(fill.market).or_default();
                let before = *pos;
                *pos += signed;
                let after = *pos;
                let trip = self.trips.entry(fill.market).or_insert_with(|| Trip {
                    strategy: who.clone(),
                    size: Decimal::ZERO,
                    pnl: Decimal::ZERO,
                    fees: Decimal::ZERO,
                    funding: Decimal::ZERO,
                });
                if before.is_zero() {
                    trip.strategy = who.clone();
                }
                trip.size = after;
                trip.pnl += gross;
                trip.fees += fill.fee;
                let closed = !before.is_zero()
                    && (after.is_zero() || after.is_sign_positive() != before.is_sign_positive());
                if closed {
                    let reason = match self.flatten_reasons.get(&fill.market) {
                        Some((c, why)) if Some(*c) == fill.cloid => why.to_string(),
                        _ => who.clone(),
                    };
                    let t = self.trips.remove(&fill.market).expect("the trip above");
                    self.close_trip(t, reason);
                    if !after.is_zero() {
                        // Flipped through zero: the rest opens a new round trip.
                        self.trips.insert(
                            fill.market,
                            Trip {
                                strategy: who,
                                size: after,
                                pnl: Decimal::ZERO,
                                fees: Decimal::ZERO,
                                funding: Decimal::ZERO,
                            },
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn close_trip(&mut self, t: Trip, reason: String) {
        let net = t.pnl - t.fees + t.funding;
        let s = &mut self.summary;
        s.round_trips += 1;
        *s.exits.entry(reason).or_default() += 1;
        let st = s.strategies.entry(t.strategy).or_default();
        st.round_trips += 1;
        st.net_pnl += net;
        st.fees += t.fees;
        st.funding += t.funding;
        if net > Decimal::ZERO {
            st.wins += 1;
            s.wins += 1;
        }
    }

    /// Funding paid (negative) or received on `market`'s open position.
    pub fn funding(&mut self, market: MarketId, amount: Decimal) {
        self.summary.funding += amount;
        self.realized_net += amount;
        if let Some(t) = self.trips.get_mut(&market) {
            t.funding += amount;
        }
    }

    /// Marks equity (realized net + open positions at `mid`) for the drawdown.
    pub fn mark(&mut self, mid: &dyn Fn(MarketId) -> Option<Decimal>, engine: &Engine) {
        let mut equity = self.realized_net;
        for (m, size) in &self.position {
            if size.is_zero() {
                continue;
            }
            if let Some(px) = mid(*m) {
                let entry = engine.position(*m).avg_entry;
                equity += *size * (px - entry);
            }
        }
        self.peak = self.peak.max(equity);
        self.summary.max_drawdown = self.summary.max_drawdown.max(self.peak - equity);
    }

    /// Totals, rates and the open positions at the end.
    pub fn finish(&mut self, engine: &Engine, mid: &dyn Fn(MarketId) -> Option<Decimal>) {
        self.mark(mid, engine);
        let s = &mut self.summary;
        s.net_pnl = s.strategies.values().map(|x| x.net_pnl).sum();
        let rate = |w: u64, n: u64| {
            if n == 0 {
                Decimal::ZERO
            } else {
                (Decimal::from(w) / Decimal::from(n)).round_dp(4)
            }
        };
        s.win_rate = rate(s.wins, s.round_trips);
        for st in s.strategies.values_mut() {
            st.win_rate = rate(st.wins, st.round_trips);
        }
        let mut markets: Vec<_> = self.position.iter().filter(|(_, z)| !z.is_zero()).collect();
        markets.sort_by_key(|(m, _)| **m);
        for (m, size) in markets {
            s.open_positions
                .insert(engine.registry().key(*m).to_string(), *size);
            if let Some(px) = mid(*m) {
                s.unrealized_pnl += (*size * (px - engine.position(*m).avg_entry)).round_dp(6);
            }
        }
    }
}

impl Summary {
    /// The text form (what `backtest` prints).
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        let secs = (self.last_ns.saturating_sub(self.first_ns)) as f64 / 1e9;
        let _ = writeln!(o, "backtest summary");
        let _ = writeln!(
            o,
            "  data:        {} records, {} events, {:.1} s of venue time",
            self.records, self.events, secs
        );
        let _ = writeln!(
            o,
            "  net PnL:     {} (realized {}, fees {}, funding {}); open positions marked: {}",
            self.net_pnl.round_dp(4),
            self.realized_pnl.round_dp(4),
            self.fees.round_dp(4),
            self.funding.round_dp(4),
            self.unrealized_pnl.round_dp(4)
        );
        let _ = writeln!(
            o,
            "  round trips: {} ({} won, win rate {}); fills {}; turnover {}; max drawdown {}",
            self.round_trips,
            self.wins,
            self.win_rate,
            self.fills,
            self.turnover.round_dp(2),
            self.max_drawdown.round_dp(4)
        );
        for (name, s) in &self.strategies {
            let _ = writeln!(
                o,
                "  {name:<14} trips {:>4}  win rate {:<6}  net {:>12}  fees {:>10}  funding {:>8}  turnover {}",
                s.round_trips,
                s.win_rate,
                s.net_pnl.round_dp(4),
                s.fees.round_dp(4),
                s.funding.round_dp(4),
                s.turnover.round_dp(2)
            );
        }
        let list = |m: &BTreeMap<String, u64>| {
            if m.is_empty() {
                "none".to_string()
            } else {
                m.iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let _ = writeln!(o, "  exits:       {}", list(&self.exits));
        let _ = writeln!(o, "  refusals:    {}", list(&self.refusals));
        if self.reconcile_requests > 0 {
            let _ = writeln!(
                o,
                "  RECONCILE REQUESTS: {} (the engine could not explain an answer of the simulated venue)",
                self.reconcile_requests
            );
        }
        if !self.hard_stops.is_empty() {
            let _ = writeln!(o, "  HARD STOPS:  {}", self.hard_stops.join(", "));
        }
        let e = &self.execution;
        let _ = writeln!(
            o,
            "  execution:   {} orders, {} rejected by the venue's rules, {} taker / {} maker fills, {} cancels; latency {} ({} recorded round trips, median {} us)",
            e.orders,
            e.rejected,
            e.taker_fills,
            e.maker_fills,
            e.cancels,
            self.latency.mode,
            self.latency.recorded_round_trips,
            self.latency.recorded_median_us
        );
        if !self.open_positions.is_empty() {
            let _ = writeln!(
                o,
                "  open at end: {}",
                self.open_positions
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let d = &self.data;
        let _ = writeln!(
            o,
            "  data files:  {}; skipped lines: {}; unknown coins: {}; gaps: {}; unreadable frames: {}",
            d.files.len(),
            list(&d.skipped_lines),
            list(&d.unknown_coins),
            d.gaps.len(),
            d.unreadable_frames
        );
        if !d.markets_without_data.is_empty() {
            let _ = writeln!(o, "  NO DATA for: {}", d.markets_without_data.join(", "));
        }
        o
    }
}
