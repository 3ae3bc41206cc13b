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
}
