//! The five strategy plugins as real `.so` files in the real engine, through scripted event
//! sequences whose orders are known in advance.

use plugin_api::{FlattenKind, RejectCode};
use rust_decimal::Decimal;
use std::str::FromStr;
use strategy_host::engine::config::{EngineConfig, RiskLimits};
use strategy_host::engine::events::{EngineNote, Event, PostOutcome};
use strategy_host::engine::reject::RejectReason;
use strategy_host::engine::scheduler::OrderRequest;
use strategy_host::engine::testkit::{Harness, MS};
use strategy_host::engine::types::{MarketId, Side, Tif};
use strategy_host::plugins::StrategySlot;
use strategy_host::plugins::loader::{StrategySpec, create_strategy, load_library};
use strategy_host::plugins::timer::CallTimer;
use strategy_host_e2e::plugin_path;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn plugin(name: &str, strategy: &str, markets: &[&str], params: &str) -> StrategySlot {
    let lib = load_library(name, &plugin_path(name)).unwrap_or_else(|e| panic!("{e}"));
    let spec = StrategySpec {
        plugin_spec: name,
        name: strategy,
        markets: markets.iter().map(|m| m.to_string()).collect(),
        params_toml: params,
        params_origin: "test",
        call_budget_us: 1_000,
    };
    create_strategy(&lib, spec, CallTimer::calibrate()).unwrap_or_else(|e| panic!("{e}"))
}

fn orders(h: &mut Harness) -> Vec<OrderRequest> {
    h.batches().into_iter().flat_map(|b| b.orders).collect()
}

fn flattens(h: &mut Harness) -> Vec<(MarketId, plugin_api::FlattenReason)> {
    h.engine
        .drain_notes()
        .filter_map(|n| match n {
            EngineNote::Flatten { market, reason, .. } => Some((market, reason)),
            _ => None,
        })
        .collect()
}

/// Dislocation entry + both single-market exits on hl/BTC.
fn single(entry: &str, regression: &str, time_stop: &str) -> (Harness, MarketId) {
    let slots = vec![
        plugin("dislocation-entry", "entry", &["hl/BTC"], entry),
        plugin("mark-regression-exit", "regress", &["hl/BTC"], regression),
        plugin("time-stop-exit", "timestop", &["hl/BTC"], time_stop),
    ];
    let mut h = Harness::new(
        EngineConfig::default(),
        RiskLimits {
            max_notional_per_market: d("5000"),
            ..RiskLimits::default()
        },
        &["hl/BTC"],
        slots,
    );
    let m = h.market("hl/BTC");
    h.all_ready();
    (h, m)
}

const ENTRY: &str = "threshold_bps = 40\nnotional = 1000\nmax_slippage_bps = 10\n";

/// Enters long at a 50 bps dislocation and fills the IOC at its price.
fn enter(h: &mut Harness, m: MarketId) -> OrderRequest {
    h.quote(m, d("99.4"), d("99.5"), d("100"));
    let o = orders(h);
    assert_eq!(o.len(), 1, "{o:?}");
    let o = o[0];
    h.fill_ioc(o.cloid, d("99.5"));
    o
}

#[test]
fn entry_on_a_dislocation_places_the_expected_ioc() {
    let (mut h, m) = single(
        ENTRY,
        "exit_threshold_bps = 10\n",
        "max_holding_ms = 60000\n",
    );
    h.quote(m, d("99.7"), d("99.8"), d("100")); // 20 bps: below the threshold
    assert!(orders(&mut h).is_empty());
    let o = enter(&mut h, m);
    // buy_edge = (100 − 99.5) / 100 × 10⁴ = 50 ≥ 40: buy 1000 / 99.5 at 99.5 × (1 + 10 bps).
    assert_eq!((o.side, o.tif, o.reduce_only), (Side::Buy, Tif::Ioc, false));
    assert_eq!(o.px, d("99.5") * d("1.001"));
    assert_eq!(o.sz, d("1000") / d("99.5"));
    assert_eq!(h.engine.position(m).size, o.sz);
}

#[test]
fn exit_on_regression_with_the_expected_edge_at_exit() {
    let (mut h, m) = single(
        ENTRY,
        "exit_threshold_bps = 10\n",
        "max_holding_ms = 60000\n",
    );
    let entry = enter(&mut h, m);
    flattens(&mut h);
    h.advance_ms(500);
    h.quote(m, d("99.85"), d("99.9"), d("100")); // bid 99.85 < 99.9: not yet
    assert!(orders(&mut h).is_empty());
    h.advance_ms(500);
    h.quote(m, d("99.95"), d("100.0"), d("100")); // bid 99.95 ≥ 99.9: regressed
    let exit = orders(&mut h);
    assert_eq!(exit.len(), 1, "{exit:?}");
    let e = exit[0];
    // Reduce-only IOC for the whole position at bid × (1 − 50 bps, the host's default bound).
    assert_eq!(
        (e.side, e.tif, e.reduce_only, e.sz),
        (Side::Sell, Tif::Ioc, true, entry.sz)
    );
    assert_eq!(e.px, d("99.95") * d("0.995"));
    let f = flattens(&mut h);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].1.kind, FlattenKind::MARK_REGRESSION);
    // edge_at_exit_bps (long) = (bid − oracle) / oracle × 10⁴ = (99.95 − 100) / 100 × 10⁴ = −5.
    assert_eq!(f[0].1.edge(), Some(d("-5")));
    assert_eq!(f[0].1.held_ms, 1_000);
    h.fill_ioc(e.cloid, d("99.95"));
    assert!(h.engine.position(m).size.is_zero());
}

#[test]
fn the_time_stop_fires_when_regression_never_comes() {
    let (mut h, m) = single(
        ENTRY,
        "exit_threshold_bps = 10\n",
        "max_holding_ms = 30000\nmax_slippage_bps = 20\n",
    );
    enter(&mut h, m);
    flattens(&mut h);
    for _ in 0..29 {
        h.advance_ms(1_000);
        h.quote(m, d("99.4"), d("99.5"), d("100")); // still dislocated
        h.handle(Event::Timer);
    }
    assert!(orders(&mut h).is_empty(), "29 s: nothing yet");
    h.advance_ms(1_000);
    h.handle(Event::Timer);
    let o = orders(&mut h);
    assert_eq!(o.len(), 1);
    assert_eq!((o[0].side, o[0].reduce_only), (Side::Sell, true));
    assert_eq!(
        o[0].px,
        d("99.4") * d("0.998"),
        "the plugin's own 20 bps bound"
    );
    let f = flattens(&mut h);
    assert_eq!(f[0].1.kind, FlattenKind::TIME_STOP);
    assert_eq!(f[0].1.held_ms, 30_000);
}

#[test]
fn min_holding_time_is_respected_by_both_exit_paths() {
    let (mut h, m) = single(
        ENTRY,
        "exit_threshold_bps = 10\nmin_holding_time_ms = 5000\n",
        "max_holding_ms = 600000\n",
    );
    enter(&mut h, m);
    for _ in 0..4 {
        h.advance_ms(1_000);
        h.quote(m, d("100"), d("100.1"), d("100")); // regressed at once
        h.handle(Event::Timer);
    }
    assert!(orders(&mut h).is_empty(), "4 s < 5 s");
    h.advance_ms(1_000);
    h.handle(Event::Timer); // the backup path gets there first here
    h.quote(m, d("100"), d("100.1"), d("100")); // and the WS path asks too: deduplicated
    let o = orders(&mut h);
    assert_eq!(o.len(), 1, "flattened once: {o:?}");
    // The WS path saw `flattening` in its view and did not ask again (the engine would have
    // refused it `already_flattening` if it had).
    let f = flattens(&mut h);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].1.held_ms, 5_000);
}

/// delta-neutral-entry + spread-exit across two venues (simA, simB), as the seeds' bot across two exchanges.
fn pair(entry: &str, exit: &str, limits: RiskLimits) -> (Harness, MarketId, MarketId) {
    let markets = ["simA/BTC", "simB/BTC"];
    let slots = vec![
        plugin("delta-neutral-entry", "dn", &markets, entry),
        plugin("spread-exit", "dn-exit", &markets, exit),
    ];
    let mut h = Harness::new(EngineConfig::default(), limits, &markets, slots);
    let (a, b) = (h.market("simA/BTC"), h.market("simB/BTC"));
    h.all_ready();
    (h, a, b)
}

fn roomy() -> RiskLimits {
    RiskLimits {
        max_notional_per_market: d("5000"),
        max_notional_total: d("10000"),
        ..RiskLimits::default()
    }
}

const DN: &str = "entry_threshold_bps = 30\nnotional = 1000\n";

#[test]
fn a_delta_neutral_round_trip() {
    let (mut h, a, b) = pair(DN, "exit_target_bps = 0\n", roomy());
    h.quote(a, d("99.9"), d("100.0"), d("100"));
    h.quote(b, d("99.9"), d("100.0"), d("100"));
    assert!(orders(&mut h).is_empty(), "no spread yet");
    h.quote(b, d("100.4"), d("100.5"), d("100.4")); // B rich: long A / short B
    let legs = orders(&mut h);
    assert_eq!(legs.len(), 2, "{legs:?}");
    // reference = (99.95 + 100.45) / 2 = 100.2; spread = (100.4 − 100.0) / 100.2 × 10⁴ ≈ 39.9 bps.
    let size = d("1000") / d("100.2");
    let la = legs.iter().find(|o| o.market == a).unwrap();
    let lb = legs.iter().find(|o| o.market == b).unwrap();
    assert_eq!((la.side, la.px, la.sz), (Side::Buy, d("100.0"), size));
    assert_eq!((lb.side, lb.px, lb.sz), (Side::Sell, d("100.4"), size));
    h.fill_ioc(la.cloid, d("100.0"));
    h.fill_ioc(lb.cloid, d("100.4"));
    assert_eq!(h.engine.position(a).size, size);
    assert_eq!(h.engine.position(b).size, -size);
    // The spread converges: exit spread (bid_A − ask_B) / ref reaches 0.
    h.quote(a, d("100.2"), d("100.3"), d("100.2"));
    assert!(orders(&mut h).is_empty(), "exit spread still negative");
    h.quote(b, d("100.1"), d("100.2"), d("100.1"));
    let exits = orders(&mut h);
    assert_eq!(exits.len(), 2, "{exits:?}");
    assert!(exits.iter().all(|o| o.reduce_only && o.tif == Tif::Ioc));
    let xa = exits.iter().find(|o| o.market == a).unwrap();
    let xb = exits.iter().find(|o| o.market == b).unwrap();
    assert_eq!((xa.side, xa.px, xa.sz), (Side::Sell, d("100.2"), size));
    assert_eq!((xb.side, xb.px, xb.sz), (Side::Buy, d("100.2"), size));
    h.fill_ioc(xa.cloid, d("100.2"));
    h.fill_ioc(xb.cloid, d("100.2"));
    assert!(h.engine.position(a).size.is_zero() && h.engine.position(b).size.is_zero());
    assert!(
        h.engine.positions().total_realized() > Decimal::ZERO,
        "the pair earned the spread"
    );
}

#[test]
fn a_refused_leg_cancels_the_pair() {
    // A per-market limit that only leg A fits.
    let limits = RiskLimits {
        max_notional_per_market: d("1005"),
        max_notional_total: d("5000"),
        ..RiskLimits::default()
    };
    let (mut h, a, b) = pair(DN, "exit_target_bps = 0\n", limits);
    h.quote(a, d("99.9"), d("100.0"), d("100"));
    h.quote(b, d("100.4"), d("100.5"), d("101")); // B's mark 101: 9.98 × 101 > 1005
    assert!(orders(&mut h).is_empty(), "neither leg is sent");
    let refused: Vec<_> = h
        .engine
        .drain_notes()
        .filter_map(|n| match n {
            EngineNote::Refused { reason, market, .. } => Some((market, reason)),
            _ => None,
        })
        .collect();
    // The leg that failed the gate carries its reason; its partner is refused with it.
    assert_eq!(
        refused,
        vec![
            (b, RejectReason::MaxPositionPerMarket),
            (a, RejectReason::PairLegRefused)
        ]
    );
    let _ = RejectCode::PAIR_LEG_REFUSED;
}

#[test]
fn a_leg_rejected_by_the_venue_gets_the_filled_leg_flattened() {
    let (mut h, a, b) = pair(DN, "exit_target_bps = 0\n", roomy());
    h.quote(a, d("99.9"), d("100.0"), d("100"));
    h.quote(b, d("100.4"), d("100.5"), d("100.4"));
    let legs = orders(&mut h);
    let la = *legs.iter().find(|o| o.market == a).unwrap();
    let lb = *legs.iter().find(|o| o.market == b).unwrap();
    h.fill_ioc(la.cloid, d("100.0"));
    h.handle(Event::PostResult {
        cloid: lb.cloid,
        outcome: PostOutcome::Rejected(RejectReason::InsufficientMargin),
    });
    let out = orders(&mut h);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (out[0].market, out[0].side, out[0].sz, out[0].reduce_only),
        (a, Side::Sell, la.sz, true)
    );
    let f = flattens(&mut h);
    assert_eq!(f[0].1.kind, FlattenKind::PAIR_LEG_FAILED);
    h.fill_ioc(out[0].cloid, d("99.9"));
    assert!(h.engine.position(a).size.is_zero() && h.engine.position(b).size.is_zero());
    let _ = MS;
}
