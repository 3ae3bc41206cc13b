//! The periodic status line: positions, open orders, round trips and PnL net of fees,
//! refusals, HardStop.

use super::summary::{CURRENCY, dec, signed};
use crate::engine::Engine;
use crate::metrics::Metrics;
use std::time::Duration;

pub fn status_line(engine: &Engine, metrics: &Metrics, elapsed: Duration) -> String {
    let mut positions = Vec::new();
    let mut unrealized = rust_decimal::Decimal::ZERO;
    for (m, key) in engine.registry().markets() {
        let p = engine.position(m);
        unrealized += p.unrealized(engine.market(m).mark);
        if !p.size.is_zero() {
            positions.push(format!("{key}={}", dec(p.size, 6)));
        }
    }
    let trips = &metrics.trips.summary;
    let net: rust_decimal::Decimal = trips.strategies.values().map(|s| s.net_pnl).sum();
    format!(
        "[{:>5.0}s] positions: {} | open orders: {} | round trips: {} | net PnL {} {CURRENCY} (fees {}), unrealized {} | refusals: {} | HardStop: {}",
        elapsed.as_secs_f64(),
        if positions.is_empty() {
            "flat".to_string()
        } else {
            positions.join(" ")
        },
        engine.orders().active_count(),
        trips.round_trips,
        signed(net, 4),
        dec(trips.fees, 4),
        signed(unrealized, 4),
        engine.refusals().total(),
        engine.latch().reason().map_or("off", |r| r.name()),
    )
}
