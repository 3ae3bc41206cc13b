//! `dislocation-entry`: enter when a market's BBO dislocates from its oracle (seed 001,
//! `check_dislocations`).
//!
//! buy_edge  = (oracle − ask) / oracle × 10⁴   (the ask is below the oracle: buy)
//! sell_edge = (bid − oracle) / oracle × 10⁴   (the bid is above the oracle: sell)
//!
//! When an edge reaches the market's `threshold_bps`, place an IOC for `notional / price` at the
//! touch moved by at most `max_slippage_bps`. Nothing when the oracle is zero, the data is stale,
//! the needed BBO side is missing, or the market already has a position or an order in flight.

use plugin_api::{
    Ctx, Decimal, Intents, Logger, MarketIdx, MarketSnapshot, PlaceIntent, Role, Side,
    StrategyLogic, Tif,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Entry threshold in bps for every market without its own.
    pub threshold_bps: Decimal,
    /// Per-market thresholds, by market key (`"hl/BTC" = 30`).
    #[serde(default)]
    pub thresholds: BTreeMap<String, Decimal>,
    /// Order value in quote currency; size = notional / price.
    pub notional: Decimal,
    /// How far past the touch the IOC may fill, in bps.
    #[serde(default)]
    pub max_slippage_bps: Decimal,
    /// Minimum time between two entries in the same market.
    #[serde(default)]
    pub cooldown_ms: u64,
}

/// The two edges of a snapshot, in bps: (buy, sell). None when the oracle is zero.
pub fn edges_bps(snap: &MarketSnapshot) -> (Option<Decimal>, Option<Decimal>) {
    let Some(oracle) = snap.oracle() else {
        return (None, None);
    };
    let buy = snap.ask_px().map(|ask| (oracle - ask) / oracle * BPS);
    let sell = snap.bid_px().map(|bid| (bid - oracle) / oracle * BPS);
    (buy, sell)
}

/// The entry a snapshot calls for, if any: side, limit price, size.
///
/// An edge reaches the threshold when `(oracle − ask) × 10⁴ ≥ threshold × oracle` (buy; the sell
/// side alike): `edges_bps(..) ≥ threshold` multiplied through by the oracle (> 0), exact and
/// without a division. Most ticks enter nothing, and now cost no division at all; an entry
/// costs two (slippage, size). When both edges reach it (a book crossed around the oracle), the
/// larger wins, the sell side on a tie (as `max_by` over `[buy, sell]` had it).
pub fn entry(
    snap: &MarketSnapshot,
    threshold_bps: Decimal,
    p: &Params,
) -> Option<(Side, Decimal, Decimal)> {
    if !snap.fresh {
        return None;
    }
    let oracle = snap.oracle().filter(|o| *o > Decimal::ZERO)?;
    let bar = threshold_bps.checked_mul(oracle)?;
    let reaches = |edge: Decimal| edge.checked_mul(BPS).is_some_and(|e| e >= bar);
    let buy = snap
        .ask_px()
        .map(|ask| oracle - ask)
        .filter(|e| reaches(*e));
    let sell = snap
        .bid_px()
        .map(|bid| bid - oracle)
        .filter(|e| reaches(*e));
    let side = match (buy, sell) {
        (None, None) => return None,
        (Some(b), Some(s)) if b > s => Side::Buy,
        (Some(_), None) => Side::Buy,
        _ => Side::Sell,
    };
    let slip = p.max_slippage_bps / BPS;
    let (touch, px) = match side {
        Side::Buy => {
            let ask = snap.ask_px()?;
            (ask, ask * (Decimal::ONE + slip))
        }
        Side::Sell => {
            let bid = snap.bid_px()?;
            (bid, bid * (Decimal::ONE - slip))
        }
    };
    if touch <= Decimal::ZERO || px <= Decimal::ZERO {
        return None;
    }
    Some((side, px, p.notional / touch))
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Entry intents placed (refused ones included).
    #[serde(default)]
    attempts: u64,
    /// Entries that filled (counted once per order, on its first fill).
    entries: u64,
    /// Tag of the last order counted in `entries`.
    #[serde(default)]
    last_filled_tag: u64,
    /// Engine time of the last entry attempt per market index.
    last_entry_ns: BTreeMap<u32, u64>,
}

pub struct DislocationEntry {
    params: Params,
    /// Threshold per market index.
    thresholds: Vec<Decimal>,
    state: State,
    log: Logger,
}

impl StrategyLogic for DislocationEntry {
    fn create(params_toml: &str, markets: &[String], log: Logger) -> Result<Self, String> {
        let params: Params = plugin_api::params::parse(params_toml)?;
        if params.threshold_bps <= Decimal::ZERO {
            return Err(format!(
                "params.threshold_bps: must be > 0, got {}",
                params.threshold_bps
            ));
        }
        if params.notional <= Decimal::ZERO {
            return Err(format!(
                "params.notional: must be > 0, got {}",
                params.notional
            ));
        }
        if params.max_slippage_bps < Decimal::ZERO {
            return Err("params.max_slippage_bps: must be >= 0".into());
        }
        for (k, v) in &params.thresholds {
            if !markets.contains(k) {
                return Err(format!(
                    "params.thresholds.\"{k}\": not one of this strategy's markets {markets:?}"
                ));
            }
            if *v <= Decimal::ZERO {
                return Err(format!("params.thresholds.\"{k}\": must be > 0, got {v}"));
            }
        }
        let thresholds = markets
            .iter()
            .map(|m| {
                params
                    .thresholds
                    .get(m)
                    .copied()
                    .unwrap_or(params.threshold_bps)
            })
            .collect();
        log.info(format_args!("dislocation-entry on {markets:?}"));
        Ok(DislocationEntry {
            params,
            thresholds,
            state: State::default(),
            log,
        })
    }

    fn on_market(&mut self, ctx: &Ctx<'_>, m: MarketIdx, out: &mut Intents) {
        let (Some(snap), Some(pos)) = (ctx.market(m), ctx.position(m)) else {
            return;
        };
        if !pos.is_flat() || pos.has_pending {
            return;
        }
        if let Some(last) = self.state.last_entry_ns.get(&m.0)
            && ctx.now_ns.saturating_sub(*last) < self.params.cooldown_ms * 1_000_000
        {
            return;
        }
        let threshold = self.thresholds[m.index()];
        if let Some((side, px, sz)) = entry(snap, threshold, &self.params) {
            self.state.attempts += 1;
            self.state.last_entry_ns.insert(m.0, ctx.now_ns);
            out.place(PlaceIntent::new(m, side, px, sz, Tif::Ioc).with_tag(self.state.attempts));
        }
    }

    fn on_fill(&mut self, _ctx: &Ctx<'_>, fill: &plugin_api::FillView, _out: &mut Intents) {
        if fill.tag != 0 && !fill.reduce_only && fill.tag != self.state.last_filled_tag {
            self.state.last_filled_tag = fill.tag;
            self.state.entries += 1;
        }
    }

    fn on_reject(&mut self, _ctx: &Ctx<'_>, r: &plugin_api::Refusal, _out: &mut Intents) {
        self.log
            .debug(format_args!("entry {} refused: {}", r.tag, r.reason.name()));
    }

    fn snapshot_state(&self) -> String {
        serde_json::to_string(&self.state).unwrap_or_default()
    }

    fn restore_state(&mut self, state: &str) -> Result<(), String> {
        self.state = serde_json::from_str(state).map_err(|e| format!("unreadable state: {e}"))?;
        Ok(())
    }
}

plugin_api::export_strategy!(DislocationEntry, role = Role::Entry);

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn snap(bid: Option<&str>, ask: Option<&str>, oracle: &str) -> MarketSnapshot {
        MarketSnapshot::quoted(MarketIdx(0), bid.map(d), ask.map(d), d(oracle))
    }

    fn params(th: &str) -> Params {
        Params {
            threshold_bps: d(th),
            thresholds: BTreeMap::new(),
            notional: d("1000"),
            max_slippage_bps: d("10"),
            cooldown_ms: 0,
        }
    }

    #[test]
    fn edges_in_both_directions() {
        let (buy, sell) = edges_bps(&snap(Some("99.4"), Some("99.5"), "100"));
        assert_eq!(buy, Some(d("50")));
        assert_eq!(sell, Some(d("-60")));
        let (buy, sell) = edges_bps(&snap(Some("100.6"), Some("100.7"), "100"));
        assert_eq!(buy, Some(d("-70")));
        assert_eq!(sell, Some(d("60")));
    }

    #[test]
    fn enters_at_exactly_the_threshold_and_not_below() {
        let s = snap(Some("99.4"), Some("99.5"), "100");
        let (side, px, sz) = entry(&s, d("50"), &params("50")).unwrap();
        assert_eq!(side, Side::Buy);
        assert_eq!(px, d("99.5") * d("1.001"));
        assert_eq!(sz, d("1000") / d("99.5"));
        assert_eq!(entry(&s, d("50.0001"), &params("50.0001")), None);
        let s = snap(Some("100.6"), Some("100.7"), "100");
        let (side, px, _) = entry(&s, d("60"), &params("60")).unwrap();
        assert_eq!((side, px), (Side::Sell, d("100.6") * d("0.999")));
    }

    /// The entry as first written: both edges in bps by division, the larger that reaches the
    /// threshold wins (the last on a tie).
    fn entry_by_edges(
        snap: &MarketSnapshot,
        threshold_bps: Decimal,
        p: &Params,
    ) -> Option<(Side, Decimal, Decimal)> {
        let (buy, sell) = edges_bps(snap);
        let (_, side) = [
            buy.filter(|e| *e >= threshold_bps).map(|e| (e, Side::Buy)),
            sell.filter(|e| *e >= threshold_bps)
                .map(|e| (e, Side::Sell)),
        ]
        .into_iter()
        .flatten()
        .max_by(|a, b| a.0.cmp(&b.0))?;
        let slip = p.max_slippage_bps / BPS;
        let (touch, px) = match side {
            Side::Buy => (snap.ask_px()?, snap.ask_px()? * (Decimal::ONE + slip)),
            Side::Sell => (snap.bid_px()?, snap.bid_px()? * (Decimal::ONE - slip)),
        };
        (touch > Decimal::ZERO && px > Decimal::ZERO).then(|| (side, px, p.notional / touch))
    }

    /// Prices of up to 8 significant digits (the venue sends 5), oracle > 0, any threshold:
    /// the division-free test decides every case as the edges in bps do.
    #[test]
    fn division_free_entry_decides_as_the_edges_in_bps() {
        // A small deterministic generator: the plugin crate stays free of test dependencies.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let mut entries = 0;
        for _ in 0..200_000 {
            let scale = next(5) as u32;
            let oracle = Decimal::new(1 + next(10_000_000) as i64, scale);
            // Quotes within ±2 % of the oracle, sometimes crossed, sometimes missing.
            let around = |r: u64| {
                let off = Decimal::new(r as i64 - 200, 4);
                (oracle * (Decimal::ONE + off)).round_dp(scale + 2)
            };
            let bid = (next(8) != 0).then(|| around(next(401)));
            let ask = (next(8) != 0).then(|| around(next(401)));
            let threshold = Decimal::new(1 + next(30_000) as i64, next(3) as u32);
            let s = MarketSnapshot::quoted(MarketIdx(0), bid, ask, oracle);
            let p = params(&threshold.to_string());
            let new = entry(&s, threshold, &p);
            assert_eq!(
                new,
                entry_by_edges(&s, threshold, &p),
                "bid {bid:?} ask {ask:?} oracle {oracle} threshold {threshold}"
            );
            entries += usize::from(new.is_some());
        }
        assert!(
            entries > 10_000,
            "the cases must include entries: {entries}"
        );
    }

    #[test]
    fn no_entry_on_zero_oracle_missing_side_or_stale_data() {
        assert_eq!(
            entry(&snap(Some("99.4"), Some("99.5"), "0"), d("1"), &params("1")),
            None
        );
        assert_eq!(
            entry(&snap(Some("99.4"), None, "100"), d("1"), &params("1")),
            None,
            "buy edge needs an ask"
        );
        assert_eq!(
            entry(&snap(None, Some("100.7"), "100"), d("1"), &params("1")),
            None
        );
        let mut stale = snap(Some("99.4"), Some("99.5"), "100");
        stale.fresh = false;
        assert_eq!(entry(&stale, d("1"), &params("1")), None);
    }

    #[test]
    fn params_are_validated_naming_the_key() {
        let m = vec!["hl/BTC".to_string()];
        let e =
            DislocationEntry::create("threshold_bps = 0\nnotional = 10\n", &m, Logger::discard())
                .err()
                .unwrap();
        assert!(e.starts_with("params.threshold_bps"), "{e}");
        let e = DislocationEntry::create("threshold_bps = 5\n", &m, Logger::discard())
            .err()
            .unwrap();
        assert!(e.contains("notional"), "{e}");
        let e = DislocationEntry::create(
            "threshold_bps = 5\nnotional = 10\n[thresholds]\n\"hl/ETH\" = 3\n",
            &m,
            Logger::discard(),
        )
        .err()
        .unwrap();
        assert!(e.contains("params.thresholds.\"hl/ETH\""), "{e}");
        assert!(
            DislocationEntry::create(
                "threshold_bps = 5\nnotional = 10\n[thresholds]\n\"hl/BTC\" = 3\n",
                &m,
                Logger::discard()
            )
            .is_ok()
        );
    }
}
