//! The `[sim]` table: the simulator's markets, accounts, clock and faults.

use super::market::MarketSpec;
use rust_decimal::Decimal;
use serde::Deserialize;

/// `[sim]`: the simulator's markets, accounts, clock and faults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Market data period.
    #[serde(default = "default_tick")]
    pub tick_ms: u64,
    pub markets: Vec<MarketSpec>,
    #[serde(default)]
    pub accounts: Vec<SimAccount>,
    #[serde(default)]
    pub faults: Faults,
}

fn default_seed() -> u64 {
    1
}
fn default_tick() -> u64 {
    100
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimAccount {
    pub address: String,
    #[serde(default = "default_usdc")]
    pub usdc: Decimal,
    /// Agent (API wallet) addresses approved for this account.
    #[serde(default)]
    pub agents: Vec<String>,
}

fn default_usdc() -> Decimal {
    Decimal::from(100_000)
}

/// `[sim.faults]`: what to break, on purpose.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Close every WebSocket connection this often (0 = never).
    #[serde(default)]
    pub drop_every_ms: u64,
    /// Stop publishing `stall_coin` between these times after start.
    pub stall_coin: Option<String>,
    #[serde(default)]
    pub stall_after_ms: u64,
    #[serde(default)]
    pub stall_for_ms: u64,
    /// Delay every action answer by this much.
    #[serde(default)]
    pub post_delay_ms: u64,
    /// Reject every Nth order with a margin error (0 = never).
    #[serde(default)]
    pub reject_every: u32,
    /// Also resend each user's recent fills (as a live, non-snapshot frame) after a reconnect.
    #[serde(default)]
    pub resend_fills_on_reconnect: bool,
    /// Lose every Nth live `userFills` frame (0 = never): the fill happened, the account has it,
    /// the subscriber never hears of it (a lost frame).
    #[serde(default)]
    pub drop_fill_every: u32,
    /// Once, this long after start, push each subscribed user a fill for an order that does not
    /// exist (a hostile or broken venue; the account does not change).
    pub phantom_fill_at_ms: Option<u64>,
    /// Publish nonsense for `bad_book_coin` between these times after start: `"crossed"` (bid
    /// above ask), `"zero"` (prices 0) or `"far_mark"` (the mark 20% off the book). The market
    /// itself, and its matching, stay sane: only what subscribers hear is broken.
    pub bad_book: Option<String>,
    /// Cut every Nth frame pushed to subscribers (market and user frames alike) in half
    /// (0 = never): a truncated frame, which the host must survive and recover from.
    #[serde(default)]
    pub truncate_every: u32,
    pub bad_book_coin: Option<String>,
    #[serde(default)]
    pub bad_book_after_ms: u64,
    #[serde(default)]
    pub bad_book_for_ms: u64,
}
