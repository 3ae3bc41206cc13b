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
    /// Spot pairs against USDC: `PURR/USDC` and `HYPE` (`@1`, the native token, which can be
    /// staked), unless set (`spot = []` lists none).
    #[serde(default = "default_spot")]
    pub spot: Vec<SpotSpec>,
    #[serde(default)]
    pub accounts: Vec<SimAccount>,
    #[serde(default)]
    pub faults: Faults,
    /// What deploying a HIP-3 dex asks of a deployer.
    #[serde(default)]
    pub hip3: super::exchange::deploy::Hip3Rules,
    /// The staking network the simulator's validator stands in for.
    #[serde(default)]
    pub staking: super::exchange::staking::StakingRules,
}

fn default_seed() -> u64 {
    1
}
fn default_tick() -> u64 {
    100
}

/// `[[sim.spot]]`: a spot pair, `base`/USDC. The first pair is named `BASE/USDC`, as the
/// venue names its first; the others `@index`, as the venue names every later pair.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpotSpec {
    /// The base token's name (`PURR`).
    pub base: String,
    #[serde(default)]
    pub sz_decimals: u32,
    pub price: Decimal,
    /// Price step per tick, in bps (uniform in ±this).
    #[serde(default = "default_spot_vol")]
    pub vol_bps: Decimal,
    #[serde(default = "default_spot_half_spread")]
    pub half_spread_bps: Decimal,
    /// Size at each of the 5 book levels, in base tokens.
    #[serde(default = "default_spot_depth")]
    pub level_size: Decimal,
}

fn default_spot() -> Vec<SpotSpec> {
    vec![
        SpotSpec {
            base: "PURR".into(),
            sz_decimals: 0,
            price: Decimal::new(2, 1),
            vol_bps: default_spot_vol(),
            half_spread_bps: default_spot_half_spread(),
            level_size: default_spot_depth(),
        },
        // The native token, which can be staked.
        SpotSpec {
            base: "HYPE".into(),
            sz_decimals: 2,
            price: Decimal::from(30),
            vol_bps: default_spot_vol(),
            half_spread_bps: default_spot_half_spread(),
            level_size: Decimal::from(500),
        },
    ]
}
fn default_spot_vol() -> Decimal {
    Decimal::ONE
}
fn default_spot_half_spread() -> Decimal {
    Decimal::from(5)
}
fn default_spot_depth() -> Decimal {
    Decimal::from(20_000)
}

impl SpotSpec {
    /// The pair's name on the wire (books, fills, orders): `BASE/USDC` for pair 0, `@index` after.
    pub fn coin(&self, index: usize) -> String {
        if index == 0 {
            format!("{}/USDC", self.base)
        } else {
            format!("@{index}")
        }
    }

    /// The pair's market, as the simulator moves it: no dislocations, no leverage.
    pub fn market(&self, index: usize) -> MarketSpec {
        MarketSpec {
            coin: self.coin(index),
            sz_decimals: self.sz_decimals,
            price: self.price,
            vol_bps: self.vol_bps,
            half_spread_bps: self.half_spread_bps,
            level_size: self.level_size,
            dislocation_every_ms: 0,
            dislocation_bps: Decimal::ZERO,
            dislocation_ms: 1,
            max_leverage: 1,
            oi_cap: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimAccount {
    pub address: String,
    #[serde(default = "default_usdc")]
    pub usdc: Decimal,
    /// USDC in the spot wallet (0 unless set: deposits land in perps, as on the venue;
    /// `usdClassTransfer` moves them).
    #[serde(default)]
    pub spot_usdc: Decimal,
    /// Agent (API wallet) addresses approved for this account.
    #[serde(default)]
    pub agents: Vec<String>,
    /// Its abstraction mode: `default` (unset; as a new venue account: a HIP-3 order needs
    /// collateral moved to its dex with `sendAsset`), `disabled` (the same margins), or
    /// `dexAbstraction` (HIP-3 positions draw on the main dex's USDC for the rest).
    pub abstraction: Option<String>,
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
