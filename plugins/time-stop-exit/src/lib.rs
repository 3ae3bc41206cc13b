//! `time-stop-exit`: flatten a position once it has been held `max_holding_ms` (seed 000's
//! TimeStopMonitor), whatever the market does; the flatten is a reduce-only IOC with a slippage
//! bound. Checked on market updates and on the timer.

use plugin_api::{
    Ctx, Decimal, FlattenKind, FlattenReason, Intents, Logger, MarketIdx, PositionView, Role,
    StrategyLogic,
};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub max_holding_ms: u64,
    /// Slippage bound of the flatten (bps from the BBO); the host's default when absent.
    pub max_slippage_bps: Option<Decimal>,
}

/// True when the position has been held at least `max_holding_ms`.
pub fn expired(pos: &PositionView, now_ns: u64, max_holding_ms: u64) -> bool {
    !pos.is_flat() && pos.held_ms(now_ns) >= max_holding_ms
}

pub struct TimeStopExit {
    params: Params,
    log: Logger,
    stops: u64,
}

impl TimeStopExit {
    fn check(&mut self, ctx: &Ctx<'_>, m: MarketIdx, out: &mut Intents) {
        let Some(pos) = ctx.position(m) else { return };
        if pos.flattening || !expired(pos, ctx.now_ns, self.params.max_holding_ms) {
            return;
        }
        let held = pos.held_ms(ctx.now_ns);
        let reason = FlattenReason::new(FlattenKind::TIME_STOP, held);
        let sent = match self.params.max_slippage_bps {
            Some(s) => out.flatten_with_slippage(m, reason, s),
            None => out.flatten(m, reason),
        };
        if sent {
            self.stops += 1;
            self.log.info(format_args!("time stop after {held} ms"));
        }
    }
}

impl StrategyLogic for TimeStopExit {
    fn create(params_toml: &str, _markets: &[String], log: Logger) -> Result<Self, String> {
        let params: Params = plugin_api::params::parse(params_toml)?;
        if params.max_holding_ms == 0 {
            return Err("params.max_holding_ms: must be > 0".into());
        }
        if params.max_slippage_bps.is_some_and(|s| s < Decimal::ZERO) {
            return Err("params.max_slippage_bps: must be >= 0".into());
        }
        Ok(TimeStopExit {
            params,
            log,
            stops: 0,
        })
    }

    // The timer visits every market too: a quiet market's position still expires.
    fn timer_visits_markets(&self) -> bool {
        true
    }

    fn on_market(&mut self, ctx: &Ctx<'_>, m: MarketIdx, out: &mut Intents) {
        self.check(ctx, m, out);
    }

    fn snapshot_state(&self) -> String {
        format!("{{\"stops\":{}}}", self.stops)
    }

    fn restore_state(&mut self, state: &str) -> Result<(), String> {
        let v: serde_json::Value =
            serde_json::from_str(state).map_err(|e| format!("unreadable state: {e}"))?;
        self.stops = v["stops"].as_u64().ok_or("unreadable state: no stops")?;
        Ok(())
    }
}

plugin_api::export_strategy!(TimeStopExit, role = Role::Exit);

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(size: i64, entry_ms: u64) -> PositionView {
        PositionView {
            size: Decimal::from(size).into(),
            entry_time_ns: entry_ms * 1_000_000,
            ..PositionView::flat(MarketIdx(0))
        }
    }

    #[test]
    fn expires_at_exactly_the_limit_for_longs_and_shorts() {
        assert!(!expired(&pos(1, 1_000), 30_999 * 1_000_000, 30_000));
        assert!(expired(&pos(1, 1_000), 31_000 * 1_000_000, 30_000));
        assert!(expired(&pos(-3, 0), 30_000 * 1_000_000, 30_000));
        assert!(!expired(&pos(0, 0), u64::MAX, 30_000), "flat never expires");
    }

    #[test]
    fn params_are_validated() {
        assert!(
            TimeStopExit::create("max_holding_ms = 0\n", &[], Logger::discard())
                .err()
                .unwrap()
                .contains("max_holding_ms")
        );
        assert!(
            TimeStopExit::create("max_holding = 5\n", &[], Logger::discard())
                .err()
                .unwrap()
                .contains("max_holding")
        );
        assert!(
            TimeStopExit::create(
                "max_holding_ms = 30000\nmax_slippage_bps = 25\n",
                &[],
                Logger::discard()
            )
            .is_ok()
        );
    }
}
