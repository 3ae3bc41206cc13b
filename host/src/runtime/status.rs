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

/// The host's status as `ctl status` shows it (JSON, written to the journal every second).
pub fn status_json(engine: &Engine, metrics: &Metrics, run: i64, elapsed: Duration) -> String {
    let reg = engine.registry();
    let mut positions = Vec::new();
    for (m, key) in reg.markets() {
        let p = engine.position(m);
        if !p.size.is_zero() {
            positions.push(serde_json::json!({
                "market": key.to_string(),
                "size": p.size.normalize().to_string(),
                "avg_entry": dec(p.avg_entry, 8),
                "unrealized": dec(p.unrealized(engine.market(m).mark), 6),
            }));
        }
    }
    let venues: serde_json::Map<String, serde_json::Value> = (0..reg.venue_count())
        .map(|v| {
            let id = crate::engine::types::VenueId(v as u16);
            (
                reg.venue_name(id).to_string(),
                serde_json::json!(format!("{:?}", engine.venue_state(id)).to_lowercase()),
            )
        })
        .collect();
    let trips = &metrics.trips.summary;
    let net: rust_decimal::Decimal = trips.strategies.values().map(|s| s.net_pnl).sum();
    serde_json::json!({
        "run": run,
        "pid": std::process::id(),
        "uptime_secs": elapsed.as_secs(),
        "hard_stop": engine.latch().reason().map(|r| r.name()),
        "entries_paused": engine.entries_paused(),
        "open_orders": engine.orders().active_count(),
        "positions": positions,
        "round_trips": trips.round_trips,
        "net_pnl": dec(net, 6),
        "fees": dec(trips.fees, 6),
        "currency": CURRENCY,
        "refusals": engine.refusals().total(),
        "venues": venues,
        "line": status_line(engine, metrics, elapsed),
    })
    .to_string()
}
