//! Determinism, unknown venue orders and start-up positions.

use super::*;

#[test]
fn same_events_give_identical_batches() {
    let run = || {
        let cfg = EngineConfig {
            allow_concurrent_entries: true,
            ..EngineConfig::default()
        };
        let mut w = world_with(cfg, limits());
        w.entry.lock().unwrap().every_market = vec![buy(0, "101", "1"), sell(1, "99", "1")];
        let mut out = Vec::new();
        for i in 0..20 {
            w.h.advance_ms(7);
            let (a, b) = (w.a, w.b);
            w.h.quote(a, d("99"), d("101"), d("100"));
            w.h.quote(b, d("98"), d("100"), d("99"));
            for batch in w.h.batches() {
                if i % 3 == 0 {
                    for o in &batch.orders {
                        w.h.fill_ioc(o.cloid, o.px);
                    }
                }
                out.push(format!("{batch:?}"));
            }
        }
        out
    };
    assert_eq!(run(), run());
}

fn unknown_order(
    m: MarketId,
    oid: u64,
    cloid: Option<Cloid>,
) -> crate::engine::events::VenueOpenOrder {
    crate::engine::events::VenueOpenOrder {
        market: m,
        oid,
        cloid,
        side: Side::Buy,
        px: d("95"),
        sz: d("1"),
    }
}

#[test]
fn unknown_venue_orders_are_cancelled_by_default_by_oid_when_they_have_no_cloid() {
    let mut w = world();
    let known_cloid = Cloid(0xfeed);
    let open = [
        unknown_order(w.a, 777, None),
        unknown_order(w.b, 778, Some(known_cloid)),
    ];
    w.h.handle(Event::Reconciled {
        venue: VenueId(0),
        as_of_ms: w.h.now / MS,
        positions: vec![],
        open_orders: open.to_vec(),
    });
    let b = w.h.batches();
    let cancels: Vec<_> = b.iter().flat_map(|b| b.cancels.iter().copied()).collect();
    assert_eq!(
        cancels.len(),
        2,
        "both unknown orders are cancelled: {cancels:?}"
    );
    let by_oid = cancels.iter().find(|c| c.oid == Some(777)).unwrap();
    assert!(
        by_oid.cloid.is_host_assigned(),
        "no cloid: cancelled by oid"
    );
    let by_cloid = cancels.iter().find(|c| c.oid == Some(778)).unwrap();
    assert_eq!(by_cloid.cloid, known_cloid);
    assert!(!by_cloid.cloid.is_host_assigned());
    // Until the cancel is confirmed the order counts as pending exposure.
    assert_eq!(w.h.engine.positions().pending(w.a).new_size, d("1"));
    w.h.handle(Event::CancelResult {
        cloid: by_oid.cloid,
        outcome: CancelOutcome::Success,
    });
    assert!(
        w.h.engine
            .drain_notes()
            .any(|n| matches!(n, EngineNote::UnknownVenueOrder { adopted: false, order, .. } if order.oid == 777))
    );
}

#[test]
fn adopted_unknown_orders_are_tracked_and_their_fills_move_the_position() {
    let cfg = EngineConfig {
        unknown_orders: crate::engine::config::UnknownOrderPolicy::Adopt,
        ..EngineConfig::default()
    };
    let mut w = world_with(cfg, limits());
    let open = [unknown_order(w.a, 777, None)];
    w.h.handle(Event::Reconciled {
        venue: VenueId(0),
        as_of_ms: w.h.now / MS,
        positions: vec![],
        open_orders: open.to_vec(),
    });
    assert!(
        w.h.batches().iter().all(|b| b.cancels.is_empty()),
        "adopted, not cancelled"
    );
    let c = Cloid::for_venue_oid(777);
    assert_eq!(
        w.h.engine.orders().get(c).unwrap().state,
        OrderState::Resting
    );
    w.h.advance_ms(5);
    let _ = w.h.engine.drain_notes().count();
    w.h.handle(Event::Fill(FillEvent {
        venue: VenueId(0),
        market: w.a,
        cloid: None,
        oid: 777,
        tid: 9_001,
        side: Side::Buy,
        px: d("95"),
        sz: d("1"),
        fee: Decimal::ZERO,
        time_ms: w.h.now / MS,
    }));
    assert_eq!(w.h.engine.position(w.a).size, d("1"));
    let notes: Vec<_> = w.h.engine.drain_notes().collect();
    assert!(
        !notes
            .iter()
            .any(|n| matches!(n, EngineNote::ReconcileRequest { .. })),
        "an adopted order's fill is matched: {notes:?}"
    );
    // A HardStop cancels it like any other order (it is filled here, so only flattens remain).
    assert!(!w.h.engine.orders().get(c).unwrap().is_active());
}

#[test]
fn start_up_positions_go_to_exits_or_are_flattened_when_the_market_has_none() {
    let mut w = world();
    // hl/BTC has an exit strategy; hl/ETH has only the entry.
    let pos = [
        VenuePosition {
            market: w.a,
            size: d("2"),
            entry_px: d("100"),
        },
        VenuePosition {
            market: w.b,
            size: d("-3"),
            entry_px: d("100"),
        },
    ];
    w.h.handle(Event::Reconciled {
        venue: VenueId(0),
        as_of_ms: w.h.now / MS,
        positions: pos.to_vec(),
        open_orders: vec![],
    });
    let orders: Vec<_> = w.h.batches().into_iter().flat_map(|b| b.orders).collect();
    assert_eq!(
        orders.len(),
        1,
        "only the unowned ETH position is flattened: {orders:?}"
    );
    assert_eq!(orders[0].market, w.b);
    assert!(orders[0].reduce_only);
    let notes: Vec<_> = w.h.engine.drain_notes().collect();
    assert!(notes.iter().any(|n| matches!(n,
        EngineNote::UnownedPosition { market, handed_to_exits: true, .. } if *market == w.a)));
    assert!(notes.iter().any(|n| matches!(n,
        EngineNote::Flatten { market, reason, .. }
            if *market == w.b && reason.kind == FlattenKind::UNOWNED_POSITION)));
    // A later reconcile (a reconnect) does not treat the engine's own positions as unowned.
    w.h.advance_ms(10);
    w.h.handle(Event::Reconciled {
        venue: VenueId(0),
        as_of_ms: w.h.now / MS,
        positions: pos[..1].to_vec(),
        open_orders: vec![],
    });
    assert!(
        !w.h.engine
            .drain_notes()
            .any(|n| matches!(n, EngineNote::UnownedPosition { .. }))
    );
}

#[test]
fn orders_and_fills_of_another_host_are_left_alone_and_stop_entries() {
    let mut w = world();
    // This journal's runs used prefix 1 (the harness's) and the minute around 1.6e12 ms.
    w.h.engine
        .set_known_cloid_prefixes(vec![(1, 1), (1_600_000_000_000, 1_600_000_060_000)]);
    let other = Cloid((1_700_000_000_000u128 << 64) | 7);
    let ours_before = Cloid((1_600_000_030_000u128 << 64) | 3);
    let open = [
        unknown_order(w.a, 500, Some(other)),
        unknown_order(w.a, 501, Some(ours_before)),
    ];
    w.h.handle(Event::LiveReconciled {
        venue: VenueId(0),
        as_of_ms: 1,
        positions: vec![],
        open_orders: open.to_vec(),
    });
    let cancels: Vec<Cloid> =
        w.h.batches()
            .iter()
            .flat_map(|b| b.cancels.iter().map(|c| c.cloid))
            .collect();
    assert_eq!(
        cancels,
        vec![ours_before],
        "an earlier run's order is cancelled, the other host's is not"
    );
    assert_eq!(
        w.h.engine
            .drain_notes()
            .filter(|n| matches!(n, EngineNote::ForeignHost { .. }))
            .count(),
        1
    );
    // No orders at all on that venue while the other host trades it: no entry, and no close
    // (the position may be the other host's).
    w.entry_does(&[buy(0, "101", "1")]);
    assert!(w.h.batches().is_empty());
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::NOT_READY]);
    w.h.handle(Event::LiveReconciled {
        venue: VenueId(0),
        as_of_ms: 2,
        positions: vec![crate::engine::events::VenuePosition {
            market: w.a,
            size: d("1"),
            entry_px: d("100"),
        }],
        open_orders: open[..1].to_vec(),
    });
    w.exit_does_on_current(&[flatten(0, FlattenKind::MANUAL)]);
    assert!(
        w.h.batches().is_empty(),
        "no flatten of what may be the other host's"
    );
}

/// A live reconcile: `ReconcileStarted`, then the venue's positions in market a (`size`) as of
/// venue time `as_of_ms`.
fn live_reconcile(w: &mut World, size: &str, as_of_ms: u64) {
    w.h.handle(Event::ReconcileStarted { venue: VenueId(0) });
    w.h.handle(Event::LiveReconciled {
        venue: VenueId(0),
        as_of_ms,
        positions: vec![VenuePosition {
            market: w.a,
            size: d(size),
            entry_px: d("101"),
        }],
        open_orders: vec![],
    });
}

#[test]
fn a_live_reconcile_pauses_entries_keeps_later_fills_and_corrects_drift() {
    let mut w = world();
    w.open_long("1");
    w.h.batches();
    // Under way: entries wait, an exit's close still goes.
    w.h.handle(Event::ReconcileStarted { venue: VenueId(0) });
    w.entry_does(&[buy(1, "101", "1")]);
    assert!(w.h.batches().is_empty());
    assert_eq!(w.rejects(&w.entry).last(), Some(&RejectCode::NOT_READY));
    w.exit_does(&[Intent::Place(
        PlaceIntent::new(MarketIdx(0), Side::Sell, d("99"), d("0.5"), Tif::Ioc).reduce_only(),
    )]);
    assert_eq!(w.h.batches().len(), 1, "exits go on during a reconcile");
    // The account state predates the engine's fill (time 0 < now): the fill is kept on top.
    w.h.handle(Event::LiveReconciled {
        venue: VenueId(0),
        as_of_ms: 0,
        positions: vec![],
        open_orders: vec![],
    });
    assert_eq!(
        w.h.engine.position(w.a).size,
        d("1"),
        "a later fill is not undone"
    );
    w.entry_does(&[buy(1, "101", "1")]);
    assert_eq!(w.h.batches().len(), 1, "entries resume after the answer");
    // A drift worth more than max_drift_notional (250 by default) latches the HardStop.
    let now_ms = w.h.now / MS;
    live_reconcile(&mut w, "4", now_ms);
    assert_eq!(
        w.h.engine.position(w.a).size,
        d("4"),
        "corrected to the venue's"
    );
    assert_eq!(
        w.h.engine.latch().reason(),
        Some(HardStopReason::PositionDrift)
    );
}

#[test]
fn drift_found_again_soon_after_a_correction_latches_the_hard_stop() {
    let mut w = world();
    w.open_long("1");
    let now_ms = w.h.now / MS;
    live_reconcile(&mut w, "1.5", now_ms);
    assert!(
        !w.h.engine.hard_stopped(),
        "one small correction: WARN and journal only"
    );
    w.h.advance_ms(30_000);
    let now_ms = w.h.now / MS;
    live_reconcile(&mut w, "1.2", now_ms);
    assert_eq!(
        w.h.engine.latch().reason(),
        Some(HardStopReason::PositionDrift),
        "again within drift_repeat_window_ms (60 s)"
    );
}
