//! Gates, intents and pairs.

use super::*;

#[test]
fn an_entry_within_every_limit_is_queued_as_a_new_order() {
    let mut w = world();
    w.entry_does(&[buy(0, "101", "5")]);
    let batches = w.h.batches();
    assert_eq!(batches.len(), 1);
    let o = batches[0].orders[0];
    assert_eq!(
        (o.side, o.px, o.sz, o.tif, o.reduce_only),
        (Side::Buy, d("101"), d("5"), Tif::Ioc, false)
    );
    assert_eq!(
        w.h.engine.orders().get(o.cloid).unwrap().state,
        OrderState::Sent
    );
    assert!(w.rejects(&w.entry).is_empty());
}

#[test]
fn gate_hard_stop_refuses_entries_but_not_reductions() {
    let mut w = world();
    w.open_long("2");
    w.h.handle(Event::Operator(OperatorCommand::HardStop));
    let flat = w.h.batches();
    assert!(
        flat.iter().flat_map(|b| &b.orders).all(|o| o.reduce_only),
        "only the flatten"
    );
    w.entry_does(&[buy(1, "101", "1")]);
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::HARD_STOP]);
    assert_eq!(w.h.engine.refusals().get(RejectReason::HardStop), 1);
}

#[test]
fn gate_entries_paused() {
    let mut w = world();
    w.h.handle(Event::Operator(OperatorCommand::PauseEntries));
    w.entry_does(&[buy(0, "101", "1")]);
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::ENTRIES_PAUSED]);
    w.h.handle(Event::Operator(OperatorCommand::ResumeEntries));
    w.entry_does(&[buy(0, "101", "1")]);
    assert_eq!(w.h.batches().len(), 1);
}

#[test]
fn gate_ready_trading_needs_a_ready_venue_and_fresh_data() {
    let mut w = world();
    w.h.handle(Event::Connection {
        venue: VenueId(0),
        state: ConnectionState::Connected,
    });
    w.entry_does(&[buy(0, "101", "1")]);
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::NOT_READY]);
    w.h.all_ready();
    // Market b's data goes stale (5 s default) while a keeps updating.
    w.h.advance_ms(6_000);
    w.entry_does(&[buy(1, "101", "1")]);
    assert_eq!(
        w.rejects(&w.entry),
        vec![RejectCode::NOT_READY, RejectCode::NOT_READY]
    );
    assert!(w.h.batches().is_empty());
}

#[test]
fn gate_max_position_per_market_counts_positions_and_pending_orders() {
    let cfg = EngineConfig {
        allow_concurrent_entries: true,
        allow_stacking: true,
        ..EngineConfig::default()
    };
    let mut w = world_with(cfg, limits());
    // mark 100: 10 = 1000 is the limit, 11 is over.
    w.entry_does(&[buy(0, "101", "11")]);
    assert_eq!(
        w.rejects(&w.entry),
        vec![RejectCode::MAX_POSITION_PER_MARKET]
    );
    w.entry_does(&[buy(0, "101", "6")]); // pending 600
    w.entry_does(&[buy(0, "101", "5")]); // 600 + 500 > 1000
    assert_eq!(
        w.rejects(&w.entry).last(),
        Some(&RejectCode::MAX_POSITION_PER_MARKET)
    );
    let first = w.h.batches()[0].orders[0].cloid;
    w.h.fill_ioc(first, d("101")); // position 6, nothing pending
    w.entry_does(&[buy(0, "101", "4")]); // 600 + 400 = 1000: allowed
    assert_eq!(w.h.batches().len(), 1);
    assert_eq!(w.rejects(&w.entry).len(), 2);
}

#[test]
fn gate_reduce_only_orders_are_excluded_from_max_position() {
    let cfg = EngineConfig {
        allow_stacking: true,
        ..EngineConfig::default()
    };
    let mut w = world_with(cfg, limits());
    w.open_long("9");
    // A resting reduce-only sell does not count: a further 1 (total 1000) is fine.
    w.exit_does(&[sell(0, "120", "9")]);
    assert!(w.h.batches()[0].orders[0].reduce_only);
    w.entry_does(&[buy(0, "101", "1")]);
    assert_eq!(w.h.batches().len(), 1);
    assert!(w.rejects(&w.entry).is_empty());
}

#[test]
fn gate_max_position_total_sums_every_market_at_its_mark() {
    let mut w = world();
    w.open_long("9"); // 900 in a
    w.entry_does(&[buy(1, "101", "7")]); // 900 + 700 > 1500
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::MAX_POSITION_TOTAL]);
    w.entry_does(&[buy(1, "101", "6")]); // 1500: allowed
    assert_eq!(w.h.batches().len(), 1);
}

#[test]
fn gate_has_position_and_pending_order() {
    let mut w = world();
    w.entry_does(&[buy(0, "101", "1"), buy(0, "101", "1")]);
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::PENDING_ORDER]);
    let c = w.h.batches()[0].orders[0].cloid;
    w.h.fill_ioc(c, d("101"));
    w.entry_does(&[buy(0, "101", "1")]);
    assert_eq!(w.rejects(&w.entry).last(), Some(&RejectCode::HAS_POSITION));
}

#[test]
fn gate_action_budget_keeps_a_reserve_for_reductions() {
    let cfg = EngineConfig {
        action_budget: 3,
        action_reserve: 1,
        action_refill_per_sec: 0,
        ..EngineConfig::default()
    };
    let mut w = world_with(cfg, limits());
    w.open_long("1"); // 1 token
    w.entry_does(&[buy(1, "101", "1")]); // 2nd token
    w.entry_does(&[sell(1, "99", "1")]); // would need a 3rd, which is the reserve
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::PENDING_ORDER]);
    let c = w.h.batches()[0].orders[0].cloid;
    w.h.fill_ioc(c, d("101"));
    let a = w.a;
    w.h.engine.handle(Event::Timer, w.h.now);
    w.entry
        .lock()
        .unwrap()
        .next
        .push_back(Intent::Place(PlaceIntent::new(
            MarketIdx(1),
            Side::Buy,
            d("101"),
            d("1"),
            Tif::Ioc,
        )));
    w.h.quote(a, d("99"), d("101"), d("100"));
    assert!(
        w.rejects(&w.entry).contains(&RejectCode::ACTION_BUDGET)
            || w.rejects(&w.entry).contains(&RejectCode::HAS_POSITION)
    );
    // The reserve still lets the exit out.
    w.exit_does(&[flatten(0, FlattenKind::TIME_STOP)]);
    let b = w.h.batches();
    assert_eq!(b.len(), 1);
    assert!(b[0].orders[0].reduce_only);
}

#[test]
fn invalid_intents_are_refused() {
    let mut w = world();
    w.entry_does(&[buy(0, "101", "0"), buy(5, "101", "1"), buy(0, "-1", "1")]);
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::INVALID_INTENT; 3]);
    assert!(w.h.batches().is_empty());
}

#[test]
fn exit_role_intents_are_forced_reduce_only_and_must_reduce() {
    let mut w = world();
    w.exit_does(&[buy(0, "101", "1")]);
    assert_eq!(w.rejects(&w.exit), vec![RejectCode::NOTHING_TO_REDUCE]);
    w.open_long("2");
    w.exit_does(&[buy(0, "101", "1")]); // a buy does not reduce a long
    w.exit_does(&[sell(0, "99", "5")]); // clamped to the position
    let b = w.h.batches();
    assert_eq!(b.len(), 1);
    let o = b[0].orders[0];
    assert!(o.reduce_only);
    assert_eq!((o.side, o.sz), (Side::Sell, d("2")));
    assert_eq!(w.rejects(&w.exit), vec![RejectCode::NOTHING_TO_REDUCE; 2]);
}

#[test]
fn both_exit_paths_flatten_a_market_once() {
    let mut w = world();
    w.open_long("3");
    // The WS-driven path and the timer path both ask.
    w.exit
        .lock()
        .unwrap()
        .every_timer
        .push(flatten(0, FlattenKind::MARK_REGRESSION));
    w.exit_does(&[flatten(0, FlattenKind::MARK_REGRESSION)]);
    let now = w.h.now;
    w.h.engine.handle(Event::Timer, now);
    w.h.engine.handle(Event::Timer, now + MS);
    let b = w.h.batches();
    let orders: Vec<_> = b.iter().flat_map(|b| &b.orders).collect();
    assert_eq!(orders.len(), 1, "{orders:?}");
    let f = orders[0];
    // Sell at bid 99 with the default 50 bps bound.
    assert_eq!(
        (f.side, f.px, f.sz, f.tif, f.reduce_only),
        (Side::Sell, d("98.505"), d("3"), Tif::Ioc, true)
    );
    assert_eq!(
        w.h.engine.refusals().get(RejectReason::AlreadyFlattening),
        2
    );
    assert!(
        w.rejects(&w.exit).is_empty(),
        "dedupe is not an error for the strategy"
    );
    // Once filled, the market can be flattened again later.
    w.h.fill_ioc(f.cloid, d("99"));
    assert!(w.h.engine.positions().flattening(w.a).is_none());
    assert!(w.h.engine.position(w.a).size.is_zero());
}

#[test]
fn flatten_without_any_price_is_refused_no_price() {
    let (es, entry) = scripted("exit", Role::Exit, &["hl/BTC"]);
    let mut h = Harness::new(EngineConfig::default(), limits(), &["hl/BTC"], vec![es]);
    let m = h.market("hl/BTC");
    h.all_ready();
    let pos = [VenuePosition {
        market: m,
        size: d("1"),
        entry_px: d("100"),
    }];
    h.handle(Event::Reconciled {
        venue: VenueId(0),
        as_of_ms: 1,
        positions: pos.to_vec(),
        open_orders: vec![],
    });
    entry
        .lock()
        .unwrap()
        .next
        .push_back(flatten(0, FlattenKind::TIME_STOP));
    h.handle(Event::Timer);
    assert!(h.batches().is_empty());
    assert_eq!(h.engine.refusals().get(RejectReason::NoPrice), 1);
}

#[test]
fn a_pair_passes_the_gates_together_or_not_at_all() {
    let mut w = world();
    let a = PlaceIntent::new(MarketIdx(0), Side::Buy, d("101"), d("5"), Tif::Ioc).with_tag(1);
    let b_ok = PlaceIntent::new(MarketIdx(1), Side::Sell, d("99"), d("5"), Tif::Ioc).with_tag(2);
    let b_big = PlaceIntent::new(MarketIdx(1), Side::Sell, d("99"), d("11"), Tif::Ioc).with_tag(2);
    w.entry_does(&[Intent::PlacePair(plugin_api::PairIntent {
        a,
        b: b_big,
        direction: 1,
    })]);
    assert!(w.h.batches().is_empty());
    let r = w.rejects(&w.entry);
    assert_eq!(
        r,
        vec![
            RejectCode::MAX_POSITION_PER_MARKET,
            RejectCode::PAIR_LEG_REFUSED
        ]
    );
    w.entry_does(&[Intent::PlacePair(plugin_api::PairIntent {
        a,
        b: b_ok,
        direction: 1,
    })]);
    let b = w.h.batches();
    assert_eq!(b[0].orders.len(), 2);
}

#[test]
fn a_failed_pair_leg_gets_the_filled_leg_flattened() {
    let mut w = world();
    let a = PlaceIntent::new(MarketIdx(0), Side::Buy, d("101"), d("5"), Tif::Ioc).with_tag(1);
    let b = PlaceIntent::new(MarketIdx(1), Side::Sell, d("99"), d("5"), Tif::Ioc).with_tag(2);
    w.entry_does(&[Intent::PlacePair(plugin_api::PairIntent {
        a,
        b,
        direction: 1,
    })]);
    let batch = w.h.batches().remove(0);
    let (ca, cb) = (batch.orders[0].cloid, batch.orders[1].cloid);
    w.h.fill_ioc(ca, d("101"));
    w.h.handle(Event::PostResult {
        cloid: cb,
        outcome: PostOutcome::Rejected(RejectReason::IocNoMatch),
    });
    let out = w.h.batches();
    let orders: Vec<_> = out.iter().flat_map(|b| &b.orders).collect();
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(
        (
            orders[0].market,
            orders[0].side,
            orders[0].sz,
            orders[0].reduce_only
        ),
        (w.a, Side::Sell, d("5"), true)
    );
    let f = w.h.engine.positions().flattening(w.a).unwrap();
    assert_eq!(f.reason.kind, FlattenKind::PAIR_LEG_FAILED);
    assert!(w.rejects(&w.entry).contains(&RejectCode::IOC_NO_MATCH));
}

#[test]
fn too_many_intents_in_one_call_are_refused() {
    let (es, entry) = scripted("entry", Role::Entry, &["hl/BTC"]);
    let mut h = Harness::with_capacity(EngineConfig::default(), limits(), &["hl/BTC"], vec![es], 2);
    let m = h.market("hl/BTC");
    h.all_ready();
    h.quote(m, d("99"), d("101"), d("100"));
    entry.lock().unwrap().next.extend([
        Intent::Cancel(plugin_api::CancelIntent {
            market: MarketIdx(0),
            tag: 1,
        }),
        Intent::Cancel(plugin_api::CancelIntent {
            market: MarketIdx(0),
            tag: 2,
        }),
        Intent::Cancel(plugin_api::CancelIntent {
            market: MarketIdx(0),
            tag: 3,
        }),
    ]);
    h.quote(m, d("99"), d("101"), d("100"));
    assert_eq!(h.engine.refusals().get(RejectReason::TooManyIntents), 1);
    assert_eq!(h.engine.refusals().get(RejectReason::UnknownOrder), 2);
}

#[test]
fn venue_rejections_reach_the_strategy_with_their_code() {
    let mut w = world();
    w.entry_does(&[buy(0, "101", "0.01")]);
    let c = w.h.batches()[0].orders[0].cloid;
    w.h.handle(Event::PostResult {
        cloid: c,
        outcome: PostOutcome::Rejected(RejectReason::MinNotional),
    });
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::MIN_NOTIONAL]);
    assert_eq!(
        w.h.engine.orders().get(c).unwrap().state,
        OrderState::Rejected
    );
    assert_eq!(
        w.h.engine.positions().pending(w.a).new_count,
        0,
        "pending cleaned"
    );
}

#[test]
fn the_pre_send_guard_drops_entries_and_cleans_up() {
    let mut w = world();
    w.entry_does(&[buy(0, "101", "1")]);
    let mut held = w.h.engine.next_batch(w.h.now).unwrap();
    w.h.latch.trigger(HardStopReason::Operator); // e.g. from another thread, after dequeue
    let dropped = held.enforce_hard_stop(&w.h.latch);
    assert_eq!(dropped.len(), 1);
    w.h.handle(Event::BatchDropped {
        cloids: dropped.clone(),
    });
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::HARD_STOP_PRE_SEND]);
    assert_eq!(
        w.h.engine.orders().get(dropped[0]).unwrap().state,
        OrderState::Dropped
    );
    assert_eq!(w.h.engine.positions().pending(w.a).new_count, 0);
}
