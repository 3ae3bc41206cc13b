//! `delta-neutral-entry` (seed 003): two markets A and B (same venue or two venues). When the
//! spread of one direction reaches `entry_threshold_bps`, open both legs as one `PlacePair`
//! (the host sends both or neither, and flattens a leg whose partner failed). The direction is
//! recorded with the pair. Formulas: the `spread-math` crate.

use plugin_api::{
    Ctx, Decimal, Intents, Logger, MarketIdx, PlaceIntent, Role, Side, StrategyLogic, Tif,
};
use serde::{Deserialize, Serialize};
use spread_math::{Direction, entry_spread_bps, reference};

const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
const A: MarketIdx = MarketIdx(0);
const B: MarketIdx = MarketIdx(1);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub entry_threshold_bps: Decimal,
    /// Value of each leg in quote currency; both legs get size = notional / reference price.
    pub notional: Decimal,
    #[serde(default)]
    pub max_slippage_bps: Decimal,
    #[serde(default)]
    pub cooldown_ms: u64,
}

/// One leg of a pair: side, limit price, size.
pub type Leg = (Side, Decimal, Decimal);

/// The pair a snapshot calls for: direction and the two legs (A, B).
pub fn pair_entry(
    a: &plugin_api::MarketSnapshot,
    b: &plugin_api::MarketSnapshot,
    p: &Params,
) -> Option<(Direction, [Leg; 2])> {
    if !a.fresh || !b.fresh {
        return None;
    }
    let best = [Direction::LongAShortB, Direction::ShortALongB]
        .into_iter()
        .filter_map(|d| entry_spread_bps(a, b, d).map(|s| (s, d)))
        .filter(|(s, _)| *s >= p.entry_threshold_bps)
        .max_by(|x, y| x.0.cmp(&y.0))?;
    let dir = best.1;
    let size = p.notional / reference(a, b)?;
    let slip = p.max_slippage_bps / BPS;
    let buy = |s: &plugin_api::MarketSnapshot| {
        s.ask_px()
            .map(|x| (Side::Buy, x * (Decimal::ONE + slip), size))
    };
    let sell = |s: &plugin_api::MarketSnapshot| {
        s.bid_px()
            .map(|x| (Side::Sell, x * (Decimal::ONE - slip), size))
    };
    let legs = match dir {
        Direction::LongAShortB => [buy(a)?, sell(b)?],
        Direction::ShortALongB => [sell(a)?, buy(b)?],
    };
    Some((dir, legs))
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    pairs: u64,
    last_direction: Option<u8>,
    last_entry_ns: u64,
}

pub struct DeltaNeutralEntry {
    params: Params,
    state: State,
    log: Logger,
}

impl StrategyLogic for DeltaNeutralEntry {
    fn create(params_toml: &str, markets: &[String], log: Logger) -> Result<Self, String> {
        if markets.len() != 2 {
            return Err(format!(
                "markets: delta-neutral-entry trades exactly two markets (A, B), got {}",
                markets.len()
            ));
        }
        let params: Params = plugin_api::params::parse(params_toml)?;
        if params.notional <= Decimal::ZERO {
            return Err(format!(
                "params.notional: must be > 0, got {}",
                params.notional
            ));
        }
        if params.max_slippage_bps < Decimal::ZERO {
            return Err("params.max_slippage_bps: must be >= 0".into());
        }
        log.info(format_args!(
            "delta-neutral-entry: A = {}, B = {}",
            markets[0], markets[1]
        ));
        Ok(DeltaNeutralEntry {
            params,
            state: State::default(),
            log,
        })
    }

    fn on_market(&mut self, ctx: &Ctx<'_>, _m: MarketIdx, out: &mut Intents) {
        let (Some(a), Some(b), Some(pa), Some(pb)) = (
            ctx.market(A),
            ctx.market(B),
            ctx.position(A),
            ctx.position(B),
        ) else {
            return;
        };
        if !pa.is_flat() || !pb.is_flat() || pa.has_pending || pb.has_pending {
            return;
        }
        if self.state.pairs > 0
            && ctx.now_ns.saturating_sub(self.state.last_entry_ns)
                < self.params.cooldown_ms * 1_000_000
        {
            return;
        }
        if let Some((dir, [la, lb])) = pair_entry(a, b, &self.params) {
            self.state.pairs += 1;
            let tag = self.state.pairs;
            let leg_a = PlaceIntent::new(A, la.0, la.1, la.2, Tif::Ioc).with_tag(tag);
            let leg_b = PlaceIntent::new(B, lb.0, lb.1, lb.2, Tif::Ioc).with_tag(tag);
            if out.place_pair(leg_a, leg_b, dir.code()) {
                self.state.last_direction = Some(dir.code());
                self.state.last_entry_ns = ctx.now_ns;
                self.log.info(format_args!(
                    "pair {tag} {dir:?}: A {:?} {} @ {}, B {:?} {} @ {}",
                    la.0,
                    la.2.round_dp(8).normalize(),
                    la.1.normalize(),
                    lb.0,
                    lb.2.round_dp(8).normalize(),
                    lb.1.normalize()
                ));
            }
        }
    }

    fn on_reject(&mut self, _ctx: &Ctx<'_>, r: &plugin_api::Refusal, _out: &mut Intents) {
        self.log.info(format_args!(
            "pair {} leg refused: {}",
            r.tag,
            r.reason.name()
        ));
    }

    fn snapshot_state(&self) -> String {
        serde_json::to_string(&self.state).unwrap_or_default()
    }

    fn restore_state(&mut self, state: &str) -> Result<(), String> {
        self.state = serde_json::from_str(state).map_err(|e| format!("unreadable state: {e}"))?;
        Ok(())
    }
}

plugin_api::export_strategy!(DeltaNeutralEntry, role = Role::Entry);

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_api::MarketSnapshot;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn snap(bid: &str, ask: &str) -> MarketSnapshot {
        MarketSnapshot::quoted(MarketIdx(0), Some(d(bid)), Some(d(ask)), Decimal::ZERO)
    }

    fn p(th: &str) -> Params {
        Params {
            entry_threshold_bps: d(th),
            notional: d("1000"),
            max_slippage_bps: Decimal::ZERO,
            cooldown_ms: 0,
        }
    }

    #[test]
    fn opens_the_direction_whose_spread_reaches_the_threshold() {
        // reference 100; LongAShortB spread = (100.2 - 99.8) / 100 = 40 bps.
        let (a, b) = (snap("99.7", "99.8"), snap("100.2", "100.3"));
        let (dir, legs) = pair_entry(&a, &b, &p("40")).unwrap();
        assert_eq!(dir, Direction::LongAShortB);
        assert_eq!(legs[0], (Side::Buy, d("99.8"), d("10")));
        assert_eq!(legs[1], (Side::Sell, d("100.2"), d("10")));
        assert!(
            pair_entry(&a, &b, &p("40.01")).is_none(),
            "below the threshold"
        );
        // The mirror image opens the other direction.
        let (dir, legs) = pair_entry(&b, &a, &p("40")).unwrap();
        assert_eq!(dir, Direction::ShortALongB);
        assert_eq!((legs[0].0, legs[1].0), (Side::Sell, Side::Buy));
    }

    #[test]
    fn no_pair_on_stale_data_or_a_missing_side() {
        let (a, b) = (snap("99.7", "99.8"), snap("100.2", "100.3"));
        assert!(pair_entry(&MarketSnapshot { fresh: false, ..a }, &b, &p("1")).is_none());
        assert!(
            pair_entry(
                &a,
                &MarketSnapshot {
                    bid: None.into(),
                    ..b
                },
                &p("1")
            )
            .is_none()
        );
    }

    #[test]
    fn needs_exactly_two_markets() {
        let e = DeltaNeutralEntry::create(
            "entry_threshold_bps = 1\nnotional = 1\n",
            &["x/A".into()],
            Logger::discard(),
        )
        .err()
        .unwrap();
        assert!(e.contains("exactly two markets"), "{e}");
    }
}
