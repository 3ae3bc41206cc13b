//! `spread-exit` (seed 003): close both legs of a delta-neutral pair when its exit spread reaches
//! the target for its direction. The direction comes from the positions (A long and B short, or
//! the reverse); the close is one `PlacePair` (reduce-only: this is an exit plugin), IOC at the
//! touch moved by at most `max_slippage_bps`. A pair left with one leg (its partner failed) has
//! that leg flattened. Failures of the legs themselves are the host's job.

use plugin_api::{
    Ctx, Decimal, FlattenKind, FlattenReason, Intents, Logger, MarketIdx, PlaceIntent, Role, Side,
    StrategyLogic, Tif,
};
use serde::Deserialize;
use spread_math::{Direction, exit_spread_bps};

const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
const A: MarketIdx = MarketIdx(0);
const B: MarketIdx = MarketIdx(1);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Exit once the exit spread (bps) is at least this, for either direction...
    pub exit_target_bps: Decimal,
    /// ...unless a direction has its own target.
    pub exit_target_bps_long_a: Option<Decimal>,
    pub exit_target_bps_short_a: Option<Decimal>,
    #[serde(default)]
    pub max_slippage_bps: Decimal,
}

impl Params {
    pub fn target(&self, dir: Direction) -> Decimal {
        match dir {
            Direction::LongAShortB => self.exit_target_bps_long_a,
            Direction::ShortALongB => self.exit_target_bps_short_a,
        }
        .unwrap_or(self.exit_target_bps)
    }
}

pub struct SpreadExit {
    params: Params,
    log: Logger,
}

impl SpreadExit {
    fn check(&mut self, ctx: &Ctx<'_>, out: &mut Intents) {
        let (Some(a), Some(b), Some(pa), Some(pb)) = (
            ctx.market(A),
            ctx.market(B),
            ctx.position(A),
            ctx.position(B),
        ) else {
            return;
        };
        if pa.has_pending || pb.has_pending || pa.flattening || pb.flattening {
            return;
        }
        let (sa, sb) = (pa.size.get(), pb.size.get());
        // One leg left: its partner failed (or was closed): flatten it.
        for (m, pos, other) in [(A, pa, sb), (B, pb, sa)] {
            if !pos.is_flat() && other.is_zero() {
                out.flatten(
                    m,
                    FlattenReason::new(FlattenKind::PAIR_LEG_FAILED, pos.held_ms(ctx.now_ns)),
                );
                return;
            }
        }
        let Some(dir) = Direction::of_positions(sa, sb) else {
            return;
        };
        let Some(spread) = exit_spread_bps(a, b, dir) else {
            return;
        };
        if spread < self.params.target(dir) {
            return;
        }
        let slip = self.params.max_slippage_bps / BPS;
        let sell = |s: &plugin_api::MarketSnapshot| s.bid_px().map(|x| x * (Decimal::ONE - slip));
        let buy = |s: &plugin_api::MarketSnapshot| s.ask_px().map(|x| x * (Decimal::ONE + slip));
        let (leg_a, leg_b) = match dir {
            Direction::LongAShortB => (
                PlaceIntent::new(
                    A,
                    Side::Sell,
                    match sell(a) {
                        Some(x) => x,
                        None => return,
                    },
                    sa.abs(),
                    Tif::Ioc,
                ),
                PlaceIntent::new(
                    B,
                    Side::Buy,
                    match buy(b) {
                        Some(x) => x,
                        None => return,
                    },
                    sb.abs(),
                    Tif::Ioc,
                ),
            ),
            Direction::ShortALongB => (
                PlaceIntent::new(
                    A,
                    Side::Buy,
                    match buy(a) {
                        Some(x) => x,
                        None => return,
                    },
                    sa.abs(),
                    Tif::Ioc,
                ),
                PlaceIntent::new(
                    B,
                    Side::Sell,
                    match sell(b) {
                        Some(x) => x,
                        None => return,
                    },
                    sb.abs(),
                    Tif::Ioc,
                ),
            ),
        };
        if out.place_pair(leg_a.reduce_only(), leg_b.reduce_only(), dir.code()) {
            self.log.info(format_args!(
                "spread exit {dir:?}: exit spread {} bps >= target {}",
                spread.round_dp(2).normalize(),
                self.params.target(dir)
            ));
        }
    }
}

impl StrategyLogic for SpreadExit {
    fn create(params_toml: &str, markets: &[String], log: Logger) -> Result<Self, String> {
        if markets.len() != 2 {
            return Err(format!(
                "markets: spread-exit watches exactly two markets (A, B), got {}",
                markets.len()
            ));
        }
        let params: Params = plugin_api::params::parse(params_toml)?;
        if params.max_slippage_bps < Decimal::ZERO {
            return Err("params.max_slippage_bps: must be >= 0".into());
        }
        Ok(SpreadExit { params, log })
    }

    fn on_market(&mut self, ctx: &Ctx<'_>, _m: MarketIdx, out: &mut Intents) {
        self.check(ctx, out);
    }

    fn on_timer(&mut self, ctx: &Ctx<'_>, out: &mut Intents) {
        self.check(ctx, out);
    }
}

plugin_api::export_strategy!(SpreadExit, role = Role::Exit);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_direction_targets_fall_back_to_the_common_one() {
        let p: Params =
            plugin_api::params::parse("exit_target_bps = 0\nexit_target_bps_short_a = -5\n")
                .unwrap();
        assert_eq!(p.target(Direction::LongAShortB), Decimal::ZERO);
        assert_eq!(p.target(Direction::ShortALongB), Decimal::from(-5));
        let e = SpreadExit::create(
            "exit_target = 1\n",
            &["a/X".into(), "b/X".into()],
            Logger::discard(),
        )
        .err()
        .unwrap();
        assert!(e.contains("exit_target"), "{e}");
    }
}
