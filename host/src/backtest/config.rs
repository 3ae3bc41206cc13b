//! `[backtest]`: how `backtest` simulates execution and treats bad data (docs/backtest.md).

use rust_decimal::Decimal;
use serde::Deserialize;

/// How long an order takes to reach the venue and its answer to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LatencyMode {
    /// `latency_ms` for every order.
    Constant,
    /// The recording's own order round trips (post sent → its answer), in order: the n-th order
    /// of the backtest takes the n-th round trip the live run measured; past the last, their
    /// median. Data without round trips (the archive, `record`) falls back to `latency_ms`.
    #[default]
    Recorded,
    /// Drawn (seeded, so runs repeat) from the recording's round trips.
    Sampled,
}

/// When a resting order fills (docs/backtest.md, "Resting orders").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum QueueModel {
    /// When the opposite side reaches the order's price (the simulator's own rule).
    Touch,
    /// The order queues behind the size shown at its price when it arrived; that queue shrinks
    /// only as the level's shown size does, and a level traded through fills it at once.
    #[default]
    RiskAverse,
}

/// What to do with a bad input line (corrupt, truncated, unreadable) or an unknown coin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnBad {
    /// Stop with an error naming the file and line.
    Error,
    /// Skip it, count it, and report it in the summary.
    Skip,
}

/// A market's venue rules when the data does not carry them (the archive does not).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketRules {
    /// `venue/coin`, as in `[[strategies]] markets`.
    pub market: String,
    pub sz_decimals: u32,
    /// Override the fee rates for this market (bps).
    pub taker_fee_bps: Option<Decimal>,
    pub maker_fee_bps: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestConfig {
    #[serde(default)]
    pub latency: LatencyMode,
    /// Round trip (ms) for `constant`, and where the data has no round trips.
    #[serde(default = "default_latency_ms")]
    pub latency_ms: Decimal,
    /// Seed of `sampled` latencies.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Hyperliquid's base tier (bps of notional).
    #[serde(default = "default_taker")]
    pub taker_fee_bps: Decimal,
    #[serde(default = "default_maker")]
    pub maker_fee_bps: Decimal,
    /// HIP-3 (builder-deployed, `dex:COIN`) markets pay the base rates times this (the deployer
    /// sets its own fee scale: set what your dex charges).
    #[serde(default = "default_hip3")]
    pub hip3_fee_multiplier: Decimal,
    #[serde(default)]
    pub queue: QueueModel,
    #[serde(default = "default_error")]
    pub on_bad_line: OnBad,
    #[serde(default = "default_skip")]
    pub on_unknown_coin: OnBad,
    /// A venue whose data stops for longer than this is a gap: counted and reported (the
    /// engine's own staleness checks see it as live would), or an error with `on_gap = "error"`.
    #[serde(default = "default_gap")]
    pub max_gap_secs: u64,
    #[serde(default = "default_skip")]
    pub on_gap: OnBad,
    #[serde(default)]
    pub markets: Vec<MarketRules>,
}

fn default_latency_ms() -> Decimal {
    Decimal::new(20, 1)
}
fn default_seed() -> u64 {
    1
}
fn default_taker() -> Decimal {
    Decimal::new(45, 1)
}
fn default_maker() -> Decimal {
    Decimal::new(15, 1)
}
fn default_hip3() -> Decimal {
    Decimal::TWO
}
fn default_error() -> OnBad {
    OnBad::Error
}
fn default_skip() -> OnBad {
    OnBad::Skip
}
fn default_gap() -> u64 {
    60
}

impl BacktestConfig {
    /// (taker, maker) fee rates in bps of market `key` (`venue/coin`): its `[[backtest.markets]]`
    /// entry's, else the table's, times `hip3_fee_multiplier` on a HIP-3 (`dex:COIN`) market.
    pub fn fees_bps(&self, key: &str) -> (Decimal, Decimal) {
        let given = self.markets.iter().find(|r| r.market == key);
        let hip3 = if key.split_once('/').is_some_and(|(_, c)| c.contains(':')) {
            self.hip3_fee_multiplier
        } else {
            Decimal::ONE
        };
        (
            given
                .and_then(|g| g.taker_fee_bps)
                .unwrap_or(self.taker_fee_bps * hip3),
            given
                .and_then(|g| g.maker_fee_bps)
                .unwrap_or(self.maker_fee_bps * hip3),
        )
    }
}

impl Default for BacktestConfig {
    fn default() -> Self {
        toml::from_str("").expect("every key has a default")
    }
}

impl BacktestConfig {
    /// Range checks (the config's own check reports them with the file's line).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.latency_ms < Decimal::ZERO || self.latency_ms > Decimal::from(60_000) {
            out.push(("latency_ms", "must be between 0 and 60000".to_string()));
        }
        for (k, v) in [
            ("taker_fee_bps", self.taker_fee_bps),
            ("maker_fee_bps", self.maker_fee_bps),
        ] {
            if v < Decimal::from(-100) || v > Decimal::from(1_000) {
                out.push((k, "must be between -100 and 1000 bps".to_string()));
            }
        }
        if self.hip3_fee_multiplier < Decimal::ZERO || self.hip3_fee_multiplier > Decimal::from(10)
        {
            out.push((
                "hip3_fee_multiplier",
                "must be between 0 and 10".to_string(),
            ));
        }
        if self.max_gap_secs == 0 {
            out.push(("max_gap_secs", "must be > 0".to_string()));
        }
        for m in &self.markets {
            if crate::config::check_market_key(&m.market).is_err() {
                out.push(("markets", format!("`{}` is not a venue/coin key", m.market)));
            }
            if m.sz_decimals > 8 {
                out.push((
                    "markets",
                    format!("`{}`: sz_decimals must be 0..=8", m.market),
                ));
            }
        }
        out
    }
}
