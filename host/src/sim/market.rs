//! A simulated market: an oracle that random-walks, and a book whose mid (the mark) dislocates
//! from the oracle in episodes (how often, how far and how long are configured), all
//! deterministic from a seed.

use rust_decimal::Decimal;
use serde::Deserialize;

/// A small deterministic PRNG (xorshift64*): the simulator must replay identically from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Uniform in [-1, 1] as a Decimal with 6 decimals.
    pub fn unit(&mut self) -> Decimal {
        Decimal::new(self.below(2_000_001) as i64 - 1_000_000, 6)
    }
}

/// `[[sim.markets]]` of the simulator config.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Coin as the venue names it (`BTC`, or `xyz:TSLA` on a HIP-3 dex).
    pub coin: String,
    pub sz_decimals: u32,
    pub price: Decimal,
    /// Oracle step per tick, in bps (uniform in ±this).
    #[serde(default = "default_vol")]
    pub vol_bps: Decimal,
    /// Half the bid-ask spread, in bps of the mid.
    #[serde(default = "default_half_spread")]
    pub half_spread_bps: Decimal,
    /// Size at each of the 5 book levels.
    #[serde(default = "default_depth")]
    pub level_size: Decimal,
    /// Mean time between dislocation episodes (ms); 0 = none.
    #[serde(default = "default_every")]
    pub dislocation_every_ms: u64,
    /// Size of an episode, bps (sign random).
    #[serde(default = "default_disloc")]
    pub dislocation_bps: Decimal,
    /// How long an episode lasts (ms); the dislocation decays linearly to zero.
    #[serde(default = "default_duration")]
    pub dislocation_ms: u64,
    #[serde(default = "default_leverage")]
    pub max_leverage: u32,
    /// A HIP-3 market's notional open interest cap, USDC (`perpDexs`' `assetToStreamingOiCap`;
    /// unset: 1,000,000,000, none in practice). Not used on the main dex.
    #[serde(default)]
    pub oi_cap: Option<Decimal>,
}

impl MarketSpec {
    /// A market a HIP-3 deployer registered: its oracle moves only with `setOracle`, and its
    /// book stays centred on it.
    pub fn deployed(coin: &str, sz_decimals: u32, price: Decimal, max_leverage: u32) -> MarketSpec {
        MarketSpec {
            coin: coin.to_string(),
            sz_decimals,
            price,
            vol_bps: Decimal::ZERO,
            half_spread_bps: default_half_spread(),
            level_size: default_depth(),
            dislocation_every_ms: 0,
            dislocation_bps: Decimal::ZERO,
            dislocation_ms: default_duration(),
            max_leverage,
            oi_cap: None,
        }
    }
}

fn default_vol() -> Decimal {
    Decimal::new(5, 1)
}
fn default_half_spread() -> Decimal {
    Decimal::ONE
}
fn default_depth() -> Decimal {
    Decimal::from(5)
}
fn default_every() -> u64 {
    8_000
}
fn default_disloc() -> Decimal {
    Decimal::from(60)
}
fn default_duration() -> u64 {
    3_000
}
fn default_leverage() -> u32 {
    20
}

const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// A book level: price and size.
pub type BookLevel = (Decimal, Decimal);

#[derive(Debug, Clone)]
pub struct SimMarket {
    pub spec: MarketSpec,
    pub oracle: Decimal,
    /// Current dislocation (bps of the oracle) and the episode it belongs to.
    episode_bps: Decimal,
    episode_start_ms: u64,
    next_episode_ms: u64,
    /// Set by fault injection: no market data is published while stalled.
    pub stalled: bool,
    /// A spot pair (`[[sim.spot]]`): no funding, no positions, spot tick rules.
    pub spot: bool,
    /// What a HIP-3 deployer set (`perpDeploy`).
    pub deployer: DeployerSettings,
}

/// What a HIP-3 deployer sets on a market of its dex.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DeployerSettings {
    /// `haltTrading`: orders refused.
    pub halted: bool,
    /// `setFundingMultipliers`: the funding rate is the simulator's times this.
    pub funding_multiplier: Decimal,
    /// `setFundingInterestRates`: the hourly rate in place of the simulator's (its funding is
    /// all interest: the book's mid does not pull it).
    pub interest_rate: Option<Decimal>,
    /// `setMarginModes`: `strictIsolated` or `noCross` (both isolated only here).
    pub margin_mode: String,
    /// `setPerpAnnotation`: category, description, display name, keywords.
    pub annotation: Option<serde_json::Value>,
}

impl Default for DeployerSettings {
    fn default() -> Self {
        DeployerSettings {
            halted: false,
            funding_multiplier: Decimal::ONE,
            interest_rate: None,
            margin_mode: "strictIsolated".into(),
            annotation: None,
        }
    }
}

impl SimMarket {
    pub fn new(spec: MarketSpec, rng: &mut Rng) -> SimMarket {
        let first = if spec.dislocation_every_ms == 0 {
            u64::MAX
        } else {
            1 + rng.below(spec.dislocation_every_ms * 2)
        };
        SimMarket {
            oracle: spec.price,
            spec,
            episode_bps: Decimal::ZERO,
            episode_start_ms: 0,
            next_episode_ms: first,
            stalled: false,
            spot: false,
            deployer: DeployerSettings::default(),
        }
    }

    /// A spot pair's market: its book follows its own random walk, with no dislocations.
    pub fn spot(spec: MarketSpec, rng: &mut Rng) -> SimMarket {
        SimMarket {
            spot: true,
            ..SimMarket::new(spec, rng)
        }
    }

    /// Most decimals a price may have: `6 − szDecimals` on perps, `8 − szDecimals` on spot.
    fn max_decimals(&self) -> i64 {
        (if self.spot { 8 } else { 6 }) - self.spec.sz_decimals as i64
    }

    /// Price step, on the price's own tick (5 significant figures).
    fn round(&self, px: Decimal) -> Decimal {
        let decimals = (4 - super::super::venue::hyperliquid::tick::magnitude_of(px))
            .clamp(0, self.max_decimals());
        px.round_dp(decimals as u32).normalize()
    }

    /// Advances the oracle and the dislocation to `now_ms`.
    pub fn step(&mut self, now_ms: u64, rng: &mut Rng) {
        let step = rng.unit() * self.spec.vol_bps / BPS;
        self.oracle = self.round(self.oracle * (Decimal::ONE + step));
        if now_ms >= self.next_episode_ms {
            let sign = if rng.below(2) == 0 {
                Decimal::ONE
            } else {
                Decimal::NEGATIVE_ONE
            };
            // 50%–150% of the configured size.
            let size = self.spec.dislocation_bps * (Decimal::ONE + rng.unit() / Decimal::TWO);
            self.episode_bps = size * sign;
            self.episode_start_ms = now_ms;
            self.next_episode_ms = now_ms
                + self.spec.dislocation_ms
                + 1
                + rng.below(self.spec.dislocation_every_ms * 2);
        }
    }

    /// The current dislocation in bps (decaying linearly over the episode).
    pub fn dislocation_bps(&self, now_ms: u64) -> Decimal {
        let elapsed = now_ms.saturating_sub(self.episode_start_ms);
        if self.episode_bps.is_zero() || elapsed >= self.spec.dislocation_ms {
            return Decimal::ZERO;
        }
        let left = Decimal::from(self.spec.dislocation_ms - elapsed)
            / Decimal::from(self.spec.dislocation_ms);
        (self.episode_bps * left).round_dp(2)
    }

    /// The hourly funding rate the market pays (constant in the simulator).
    pub fn funding_rate(&self) -> Decimal {
        self.deployer.interest_rate.unwrap_or(Decimal::new(125, 7))
            * self.deployer.funding_multiplier
    }

    /// A HIP-3 market's notional open interest cap.
    pub fn oi_cap(&self) -> Decimal {
        self.spec.oi_cap.unwrap_or(Decimal::from(1_000_000_000))
    }

    /// The book's mid (= the mark).
    pub fn mid(&self, now_ms: u64) -> Decimal {
        self.round(self.oracle * (Decimal::ONE + self.dislocation_bps(now_ms) / BPS))
    }

    /// Best bid and ask.
    pub fn bbo(&self, now_ms: u64) -> (Decimal, Decimal) {
        let mid = self.mid(now_ms);
        let half = (mid * self.spec.half_spread_bps / BPS).max(self.min_tick(mid));
        let bid = super::super::venue::hyperliquid::tick::round_price(
            mid - half,
            crate::engine::types::Side::Buy,
            &self.asset_spec(),
        )
        .unwrap_or(mid);
        let ask = super::super::venue::hyperliquid::tick::round_price(
            mid + half,
            crate::engine::types::Side::Sell,
            &self.asset_spec(),
        )
        .unwrap_or(mid);
        (
            bid,
            if ask <= bid {
                bid + self.min_tick(mid)
            } else {
                ask
            },
        )
    }

    /// The book: 5 levels each side (price, size), `level_size` each, one tick apart.
    pub fn levels(&self, now_ms: u64) -> (Vec<BookLevel>, Vec<BookLevel>) {
        let (bid, ask) = self.bbo(now_ms);
        let t = self.min_tick(bid);
        let bids = (0..5)
            .map(|i| (bid - t * Decimal::from(i), self.spec.level_size))
            .collect();
        let asks = (0..5)
            .map(|i| (ask + t * Decimal::from(i), self.spec.level_size))
            .collect();
        (bids, asks)
    }

    fn min_tick(&self, px: Decimal) -> Decimal {
        let m = super::super::venue::hyperliquid::tick::magnitude_of(px);
        let decimals = (4 - m).clamp(0, self.max_decimals());
        Decimal::new(1, decimals as u32)
    }

    pub fn asset_spec(&self) -> super::super::venue::hyperliquid::tick::AssetSpec {
        super::super::venue::hyperliquid::tick::AssetSpec {
            asset: 0,
            sz_decimals: self.spec.sz_decimals,
            is_spot: self.spot,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MarketSpec {
        toml::from_str(
            "coin = \"BTC\"\nsz_decimals = 5\nprice = 64000\ndislocation_every_ms = 1000\n",
        )
        .unwrap()
    }

    #[test]
    fn deterministic_from_the_seed_and_dislocating_in_episodes() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut m = SimMarket::new(spec(), &mut rng);
            let mut out = Vec::new();
            let mut max_disloc = Decimal::ZERO;
            for t in (0..20_000).step_by(100) {
                m.step(t, &mut rng);
                let (bid, ask) = m.bbo(t);
                assert!(bid < ask, "{bid} {ask}");
                max_disloc = max_disloc.max(m.dislocation_bps(t).abs());
                out.push((m.oracle, bid, ask));
            }
            (out, max_disloc)
        };
        let (a, disloc) = run(7);
        assert_eq!(a, run(7).0, "same seed, same prices");
        assert_ne!(a, run(8).0);
        assert!(disloc >= Decimal::from(20), "episodes happen: {disloc}");
    }
}
