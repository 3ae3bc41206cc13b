//! HardStop: its triggers, purge, cancel and flatten; disabled strategies; the EdgeTracker.

use super::*;

#[test]
fn hard_stop_purges_cancels_and_flattens_in_one_step() {
    let cfg = EngineConfig {
        allow_concurrent_entries: true,
        ..EngineConfig::default()
    };
    let mut w = world_with(cfg, limits());
    w.open_long("2");
    let resting = PlaceIntent::new(MarketIdx(1), Side::Buy, d("95"), d("1"), Tif::Gtc);
    w.entry_does(&[Intent::Place(resting)]);
    let r = w.h.batches()[0].orders[0].cloid;
    w.h.rest(r);
    w.entry_does(&[buy(1, "101", "1")]); // queued, not yet sent
    w.h.handle(Event::Operator(OperatorCommand::HardStop));
    let b = w.h.batches();
    let orders: Vec<_> = b.iter().flat_map(|b| &b.orders).collect();
    let cancels: Vec<_> = b.iter().flat_map(|b| &b.cancels).collect();
    assert!(orders.iter().all(|o| o.reduce_only));
    assert_eq!(orders.len(), 1, "one flatten for the one position");
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].cloid, r);
    assert!(
        w.rejects(&w.entry).contains(&RejectCode::HARD_STOP),
        "purged entry told back"
    );
    assert_eq!(
        w.h.engine.positions().pending(w.b).new_count,
        1,
        "only the cancel-pending resting order"
    );
    w.h.fill_ioc(orders[0].cloid, d("99"));
    assert!(
        w.h.engine
            .drain_notes()
            .any(|n| n == EngineNote::HardStopFlat)
    );
    // Only an operator command releases it.
    w.h.handle(Event::Timer);
    assert!(w.h.engine.hard_stopped());
    w.h.handle(Event::Operator(OperatorCommand::ReleaseHardStop));
    assert!(!w.h.engine.hard_stopped());
}

#[test]
fn hard_stop_flatten_is_retried_until_flat() {
    let mut w = world();
    w.open_long("2");
    w.h.handle(Event::Operator(OperatorCommand::HardStop));
    let f = w.h.batches()[0].orders[0].cloid;
    // The IOC only half fills, then is done.
    w.h.handle(Event::PostResult {
        cloid: f,
        outcome: PostOutcome::Filled {
            oid: 5,
            total_sz: d("1"),
            avg_px: d("99"),
        },
    });
    w.h.fill(f, d("99"), d("1"));
    assert_eq!(w.h.engine.position(w.a).size, d("1"));
    w.h.handle(Event::Timer);
    let retry = w.h.batches();
    assert_eq!(retry[0].orders[0].sz, d("1"));
    assert!(retry[0].orders[0].reduce_only);
}

fn tripped(w: &mut World) -> Option<HardStopReason> {
    w.h.engine.latch().reason()
}

#[test]
fn hard_stop_triggers_cumulative_loss_and_consecutive_losses() {
    let mut l = limits();
    l.max_cumulative_loss = d("25");
    let mut w = world_with(EngineConfig::default(), l);
    w.open_long("5"); // at 101
    w.exit_does(&[flatten(0, FlattenKind::TIME_STOP)]);
    let f = w.h.batches()[0].orders[0].cloid;
    w.h.fill_ioc(f, d("95")); // −30
    assert_eq!(tripped(&mut w), Some(HardStopReason::CumulativeLoss));

    let mut l = limits();
    l.max_consecutive_losses = 2;
    let mut w = world_with(EngineConfig::default(), l);
    for _ in 0..2 {
        w.open_long("1");
        w.h.advance_ms(1);
        w.exit_does(&[flatten(0, FlattenKind::TIME_STOP)]);
        let f = w.h.batches()[0].orders[0].cloid;
        w.h.fill_ioc(f, d("100"));
    }
    assert_eq!(tripped(&mut w), Some(HardStopReason::ConsecutiveLosses));
}

#[test]
fn hard_stop_triggers_reject_storm_and_slippage() {
    let mut l = limits();
    l.max_rejects_in_window = 2;
    let mut w = world_with(EngineConfig::default(), l);
    for _ in 0..2 {
        w.entry_does(&[buy(0, "101", "1")]);
        let c = w.h.batches()[0].orders[0].cloid;
        w.h.handle(Event::PostResult {
            cloid: c,
            outcome: PostOutcome::Rejected(RejectReason::InsufficientMargin),
        });
    }
    assert_eq!(tripped(&mut w), Some(HardStopReason::RejectStorm));

    let mut w = world();
    w.entry_does(&[buy(0, "101", "1")]);
    let c = w.h.batches()[0].orders[0].cloid;
    w.h.fill_ioc(c, d("103")); // 198 bps worse than 101
    assert_eq!(tripped(&mut w), Some(HardStopReason::Slippage));
}

#[test]
fn hard_stop_triggers_runaway_and_data_loss() {
    let mut w = world();
    let pos = [VenuePosition {
        market: w.a,
        size: d("25"),
        entry_px: d("100"),
    }];
    w.h.handle(Event::Reconciled {
        venue: VenueId(0),
        as_of_ms: 1,
        positions: pos.to_vec(),
        open_orders: vec![],
    });
    w.h.handle(Event::Timer);
    assert_eq!(
        tripped(&mut w),
        Some(HardStopReason::PositionRunaway),
        "2500 > 2 × 1000"
    );

    let mut w = world();
    w.open_long("1");
    w.h.handle(Event::Connection {
        venue: VenueId(0),
        state: ConnectionState::Disconnected,
    });
    w.h.advance_ms(29_000);
    w.h.handle(Event::Timer);
    assert_eq!(tripped(&mut w), None);
    w.h.advance_ms(2_000);
    w.h.handle(Event::Timer);
    assert_eq!(tripped(&mut w), Some(HardStopReason::DataLoss));
}

#[test]
fn a_panicking_strategy_is_disabled_and_its_orphan_position_flattened() {
    let (es, entry) = scripted("entry", Role::Entry, &["hl/BTC"]);
    let mut h = Harness::new(EngineConfig::default(), limits(), &["hl/BTC"], vec![es]);
    let m = h.market("hl/BTC");
    h.all_ready();
    h.quote(m, d("99"), d("101"), d("100"));
    entry.lock().unwrap().next.push_back(buy(0, "101", "1"));
    h.quote(m, d("99"), d("101"), d("100"));
    let c = h.batches()[0].orders[0].cloid;
    h.fill_ioc(c, d("101"));
    entry.lock().unwrap().panic_next_market = true;
    h.quote(m, d("99"), d("101"), d("100"));
    assert!(
        h.engine
            .strategy_slot(crate::engine::types::StrategyId(0))
            .is_disabled()
    );
    let b = h.batches();
    assert_eq!(b[0].orders.len(), 1);
    assert!(
        b[0].orders[0].reduce_only,
        "no exit strategy on the market: the host flattens"
    );
    let seen_before = entry.lock().unwrap().seen.len();
    h.quote(m, d("99"), d("101"), d("100"));
    assert_eq!(
        entry.lock().unwrap().seen.len(),
        seen_before,
        "never called again"
    );
}

#[test]
fn edge_tracker_summarizes_every_period() {
    let mut w = world();
    w.h.handle(Event::Timer);
    w.h.advance_ms(60_001);
    let (a, now) = (w.a, w.h.now);
    w.h.quote(a, d("99.5"), d("99.8"), d("100"));
    w.h.engine.handle(Event::Timer, now);
    let summary = w.h.engine.drain_notes().find_map(|n| match n {
        EngineNote::EdgeSummary(s) => Some(s),
        _ => None,
    });
    let s = summary.expect("a summary after 60 s");
    let line = s.iter().find(|l| l.market == a).unwrap();
    assert_eq!(line.stats.max_buy_bps, Some(d("20")));
}
