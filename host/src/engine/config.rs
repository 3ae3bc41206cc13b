//! Engine and risk limits, from the `[engine]` and `[risk]` config tables. Every value has a
//! documented default (docs/engine.md lists them with their reasons).

use rust_decimal::Decimal;
use serde::Deserialize;

fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

/// `[engine]`: scheduling, freshness and entry policy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Market data older than this (BBO or asset context) is stale: no new entries there.
    pub stale_after_ms: u64,
    /// Period of `on_timer` calls (the backup exit path) and of the risk checks.
    pub timer_interval_ms: u64,
    /// Slippage bound for flatten orders when the intent gives none (bps from the BBO).
    pub flatten_slippage_bps: Decimal,
    /// Allow a new entry in a market that already has a position.
    pub allow_stacking: bool,
    /// Allow a new entry while another entry order is in flight in that market.
    pub allow_concurrent_entries: bool,
    /// Host action budget: bucket size, refill per second, and the reserve only cancels and
    /// reduce-only orders may use.
    pub action_budget: u32,
    pub action_refill_per_sec: u32,
    pub action_reserve: u32,
    /// Fraction of the venue's remaining address budget kept for cancels and reduce-only orders.
    pub venue_budget_reserve: u64,
    /// Orders per batch (Hyperliquid weighs a batch 1 + floor(n / 40)).
    pub max_batch_orders: usize,
    /// EdgeTracker: reference threshold (bps) for its "threshold %" and its summary period.
    pub edge_threshold_bps: Decimal,
    pub edge_summary_interval_ms: u64,
    /// What to do with an open order on the venue this run did not make (found when the venue's
    /// account state is reconciled, e.g. left by a killed run or placed by hand).
    pub unknown_orders: UnknownOrderPolicy,
    /// A market whose mark or oracle is further than this from the middle of its book (bps)
    /// has data that makes no sense: no entries there.
    pub max_book_distance_bps: Decimal,
    /// Venue rejections in a row on one market and side before its orders wait (seed 002 Phase
    /// 5); the wait starts at `backoff_base_ms` and doubles, up to `backoff_max_ms`.
    pub backoff_after_rejects: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Reduce-only rejections in a row on one market before it is stuck (seed 002 Phase 3):
    /// a reconcile, then flattens in IOC steps of `recovery_step_notional`; after
    /// `stuck_hardstop_after` rejections in a row, the HardStop (`stuck_reduce_only`).
    pub stuck_after_rejects: u32,
    pub stuck_hardstop_after: u32,
    pub recovery_step_notional: Decimal,
    /// A venue that said an order filled (its answer, or an order update) but whose fills have
    /// not arrived within this long: the engine asks for a reconcile (a lost fill frame).
    pub fill_grace_ms: u64,
    /// Keep the host's thread polling instead of sleeping between events (the runtime, not the
    /// engine: the engine never sees it). Costs one core at 100 %, for a lower tick-to-order
    /// latency (figures: docs/BENCHMARKS.md).
    pub busy_poll: bool,
}

/// `[engine] unknown_orders`: `"cancel"` (default) or `"adopt"`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnknownOrderPolicy {
    /// Cancel it: the host only keeps exposure it can account for.
    #[default]
    Cancel,
    /// Track it as a host-owned order: its fills move the position and its size counts as pending
    /// exposure against MaxPosition; a HardStop cancels it like any other.
    Adopt,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            stale_after_ms: 5_000,
            timer_interval_ms: 200,
            flatten_slippage_bps: dec(50),
            allow_stacking: false,
            allow_concurrent_entries: false,
            action_budget: 100,
            action_refill_per_sec: 20,
            action_reserve: 20,
            venue_budget_reserve: 100,
            max_batch_orders: 40,
            edge_threshold_bps: dec(40),
            edge_summary_interval_ms: 60_000,
            unknown_orders: UnknownOrderPolicy::Cancel,
            fill_grace_ms: 2_000,
            backoff_after_rejects: 3,
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
            stuck_after_rejects: 3,
            stuck_hardstop_after: 10,
            recovery_step_notional: dec(20),
            max_book_distance_bps: dec(500),
            busy_poll: false,
        }
    }
}

/// `[risk]`: position limits and HardStop triggers.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RiskLimits {
    /// Max notional per market (|position| + pending entries, at mark), quote currency.
    pub max_notional_per_market: Decimal,
    /// Max notional over all markets.
    pub max_notional_total: Decimal,
    /// HardStop when realized PnL (fees included) falls to −this.
    pub max_cumulative_loss: Decimal,
    /// HardStop after this many losing round trips in a row.
    pub max_consecutive_losses: u32,
    /// HardStop after this many venue rejections within `reject_window_ms`.
    pub max_rejects_in_window: u32,
    pub reject_window_ms: u64,
    /// HardStop when a fill is worse than its order's intended price by more than this (bps).
    pub max_slippage_bps: Decimal,
    /// HardStop when a market's notional exceeds this multiple of its limit (position runaway).
    pub runaway_multiple: Decimal,
    /// HardStop when a venue with open positions has had no live data for this long.
    pub data_loss_hardstop_ms: u64,
    /// HardStop (`position_drift`) when a reconcile finds the engine's position in a market
    /// differing from the venue's by more than this notional (at mark, quote currency).
    pub max_drift_notional: Decimal,
    /// HardStop (`position_drift`) when a reconcile finds drift again within this long of the
    /// last correction on the same venue.
    pub drift_repeat_window_ms: u64,
    /// HardStop (`bad_market_data`) when a market with a position has had data that makes no
    /// sense for this long.
    pub bad_data_hardstop_ms: u64,
}

impl Default for RiskLimits {
    fn default() -> Self {
        RiskLimits {
            max_notional_per_market: dec(1_000),
            max_notional_total: dec(5_000),
            max_cumulative_loss: dec(200),
            max_consecutive_losses: 5,
            max_rejects_in_window: 10,
            reject_window_ms: 60_000,
            max_slippage_bps: dec(100),
            runaway_multiple: dec(2),
            data_loss_hardstop_ms: 30_000,
            max_drift_notional: dec(250),
            drift_repeat_window_ms: 60_000,
            bad_data_hardstop_ms: 30_000,
        }
    }
}
