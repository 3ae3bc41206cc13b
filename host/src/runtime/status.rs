//! The periodic status line: positions, open orders, PnL, refusals, HardStop.

use crate::engine::Engine;
use std::time::Duration;

pub fn status_line(engine: &Engine, elapsed: Duration) -> String {
    let mut positions = Vec::new();
    let mut unrealized = rust_decimal::Decimal::ZERO;
    for (m, key) in engine.registry().markets() {
        let p = engine.position(m);
        unrealized += p.unrealized(engine.market(m).mark);
        if !p.size.is_zero() {
            positions.push(format!("{key}={}", p.size.round_dp(6)));
        }
    }
    format!(
        "[{:>5.0}s] positions: {} | open orders: {} | PnL realized {} unrealized {} | refusals: {} | HardStop: {}",
        elapsed.as_secs_f64(),
        if positions.is_empty() {
            "flat".to_string()
        } else {
            positions.join(" ")
        },
        engine.orders().active_count(),
        engine.positions().total_realized().round_dp(4),
        unrealized.round_dp(4),
        engine.refusals().total(),
        engine.latch().reason().map_or("off", |r| r.name()),
    )
}
