//! `mark-regression-exit`: close a position once the BBO has regressed to the oracle (seed 000,
//! with its review's fixes).
//!
//! long:  exit when bid ≥ oracle × (1 − exit_threshold_bps / 10⁴)
//! short: exit when ask ≤ oracle × (1 + exit_threshold_bps / 10⁴)
//! Nothing before `min_holding_time_ms`. The exit carries edge_at_exit_bps on its reason:
//! long (bid − oracle) / oracle × 10⁴, short (oracle − ask) / oracle × 10⁴.
//!
//! Checked on every market update (the WS-driven path) and on the timer (the backup path); the
//! host's flattening set keeps the two from flattening twice.

use plugin_api::{
    Ctx, Decimal, FlattenKind, FlattenReason, Intents, Logger, MarketIdx, MarketSnapshot,
    PositionView, Role, StrategyLogic,
};
use serde::Deserialize;

const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub exit_threshold_bps: Decimal,
    #[serde(default)]
    pub min_holding_time_ms: u64,
    /// Slippage bound of the flatten (bps from the BBO); the host's default when absent.
    pub max_slippage_bps: Option<Decimal>,
}

/// The exit decision for a position: Some(edge_at_exit_bps) when the market has regressed.
pub fn check_exit(
    pos: &PositionView,
    snap: &MarketSnapshot,
    now_ns: u64,
    p: &Params,
) -> Option<Decimal> {
    if pos.is_flat() || pos.held_ms(now_ns) < p.min_holding_time_ms {
        return None;
    }
    let oracle = snap.oracle()?;
    let band = p.exit_threshold_bps / BPS;
    if pos.size.get().is_sign_positive() {
        let bid = snap.bid_px()?;
        (bid >= oracle * (Decimal::ONE - band)).then(|| (bid - oracle) / oracle * BPS)
    } else {
        let ask = snap.ask_px()?;
        (ask <= oracle * (Decimal::ONE + band)).then(|| (oracle - ask) / oracle * BPS)
    }
}

pub struct MarkRegressionExit {
    params: Params,
    log: Logger,
    exits: u64,
}

impl MarkRegressionExit {
    fn check(&mut self, ctx: &Ctx<'_>, m: MarketIdx, out: &mut Intents) {
        let (Some(pos), Some(snap)) = (ctx.position(m), ctx.market(m)) else {
            return;
        };
        if pos.flattening {
            return;
        }
        if let Some(edge) = check_exit(pos, snap, ctx.now_ns, &self.params) {
            let reason = FlattenReason::new(FlattenKind::MARK_REGRESSION, pos.held_ms(ctx.now_ns))
                .with_edge_bps(edge);
            let sent = match self.params.max_slippage_bps {
                Some(s) => out.flatten_with_slippage(m, reason, s),
                None => out.flatten(m, reason),
            };
            if sent {
                self.exits += 1;
                self.log.info(format_args!(
                    "mark regression exit: edge_at_exit_bps={} held_ms={}",
                    edge.round_dp(2).normalize(),
                    pos.held_ms(ctx.now_ns)
                ));
            }
        }
    }
}

impl StrategyLogic for MarkRegressionExit {
    fn create(params_toml: &str, _markets: &[String], log: Logger) -> Result<Self, String> {
        let params: Params = plugin_api::params::parse(params_toml)?;
        if params.exit_threshold_bps < Decimal::ZERO {
            return Err(format!(
                "params.exit_threshold_bps: must be >= 0, got {}",
                params.exit_threshold_bps
            ));
        }
        if params.max_slippage_bps.is_some_and(|s| s < Decimal::ZERO) {
            return Err("params.max_slippage_bps: must be >= 0".into());
        }
        Ok(MarkRegressionExit {
            params,
            log,
            exits: 0,
        })
    }

    /// The WS-driven path.
    fn on_market(&mut self, ctx: &Ctx<'_>, m: MarketIdx, out: &mut Intents) {
        self.check(ctx, m, out);
    }

    /// The backup path: every market, on the host's timer.
    fn on_timer(&mut self, ctx: &Ctx<'_>, out: &mut Intents) {
        for m in ctx.market_indices() {
            self.check(ctx, m, out);
        }
    }

    fn snapshot_state(&self) -> String {
        format!("{{\"exits\":{}}}", self.exits)
    }

    fn restore_state(&mut self, state: &str) -> Result<(), String> {
        let v: serde_json::Value =
            serde_json::from_str(state).map_err(|e| format!("unreadable state: {e}"))?;
        self.exits = v["exits"].as_u64().ok_or("unreadable state: no exits")?;
        Ok(())
    }
}

plugin_api::export_strategy!(MarkRegressionExit, role = Role::Exit);

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn snap(bid: &str, ask: &str, oracle: &str) -> MarketSnapshot {
        MarketSnapshot::quoted(MarketIdx(0), Some(d(bid)), Some(d(ask)), d(oracle))
    }

    fn pos(size: &str, entry_ms: u64) -> PositionView {
        PositionView {
            size: d(size).into(),
            entry_time_ns: entry_ms * 1_000_000,
            ..PositionView::flat(MarketIdx(0))
        }
    }

    fn p(th: &str, min_ms: u64) -> Params {
        Params {
            exit_threshold_bps: d(th),
            min_holding_time_ms: min_ms,
            max_slippage_bps: None,
        }
    }

    #[test]
    fn long_exits_when_bid_regresses_to_oracle_with_equality() {
        // oracle 100, 10 bps band: exit once bid >= 99.9.
        assert_eq!(
            check_exit(
                &pos("1", 0),
                &snap("99.89", "99.95", "100"),
                10_000_000_000,
                &p("10", 0)
            ),
            None
        );
        assert_eq!(
            check_exit(
                &pos("1", 0),
                &snap("99.9", "99.95", "100"),
                10_000_000_000,
                &p("10", 0)
            ),
            Some(d("-10"))
        );
        assert_eq!(
            check_exit(&pos("1", 0), &snap("100.2", "100.3", "100"), 1, &p("10", 0)),
            Some(d("20"))
        );
    }

    #[test]
    fn short_exits_when_ask_regresses_to_oracle_with_equality() {
        assert_eq!(
            check_exit(
                &pos("-2", 0),
                &snap("100.0", "100.11", "100"),
                1,
                &p("10", 0)
            ),
            None
        );
        assert_eq!(
            check_exit(
                &pos("-2", 0),
                &snap("100.0", "100.1", "100"),
                1,
                &p("10", 0)
            ),
            Some(d("-10"))
        );
        assert_eq!(
            check_exit(&pos("-2", 0), &snap("99.7", "99.8", "100"), 1, &p("10", 0)),
            Some(d("20"))
        );
    }

    #[test]
    fn min_holding_time_zero_oracle_missing_side_and_flat() {
        let s = snap("100", "100.1", "100");
        assert_eq!(
            check_exit(&pos("1", 1_000), &s, 1_999 * 1_000_000, &p("10", 1_000)),
            None,
            "999 ms < 1000 ms"
        );
        assert!(
            check_exit(&pos("1", 1_000), &s, 2_000 * 1_000_000, &p("10", 1_000)).is_some(),
            "exactly 1000 ms"
        );
        assert_eq!(
            check_exit(&pos("1", 0), &snap("100", "100.1", "0"), 1, &p("10", 0)),
            None
        );
        let no_bid = MarketSnapshot {
            bid: None.into(),
            ..s
        };
        assert_eq!(check_exit(&pos("1", 0), &no_bid, 1, &p("10", 0)), None);
        assert_eq!(check_exit(&pos("0", 0), &s, 1, &p("10", 0)), None);
    }
}
