//! Order lifecycle, cancels and fills.

use super::*;

#[test]
fn cancel_by_tag_covers_queued_and_resting_orders_and_unknown_tags() {
    let cfg = EngineConfig {
        allow_concurrent_entries: true,
        ..EngineConfig::default()
    };
    let mut w = world_with(cfg, limits());
    let resting = PlaceIntent::new(MarketIdx(0), Side::Buy, d("95"), d("1"), Tif::Gtc).with_tag(42);
    w.entry_does(&[Intent::Place(resting)]);
    let c = w.h.batches()[0].orders[0].cloid;
    w.h.rest(c);
    w.entry_does(&[
        Intent::Place(resting.with_tag(43)),
        Intent::Cancel(plugin_api::CancelIntent {
            market: MarketIdx(0),
            tag: 43,
        }),
    ]);
    w.entry_does(&[
        Intent::Cancel(plugin_api::CancelIntent {
            market: MarketIdx(0),
            tag: 42,
        }),
        Intent::Cancel(plugin_api::CancelIntent {
            market: MarketIdx(0),
            tag: 99,
        }),
    ]);
    let b = w.h.batches();
    assert_eq!(b.len(), 1);
    assert!(
        b[0].orders.is_empty(),
        "the queued order was removed, never sent"
    );
    assert_eq!(b[0].cancels.len(), 1);
    assert_eq!(b[0].cancels[0].cloid, c);
    assert_eq!(
        w.h.engine.orders().get(c).unwrap().state,
        OrderState::CancelPending
    );
    assert_eq!(w.rejects(&w.entry), vec![RejectCode::UNKNOWN_ORDER]);
    w.h.handle(Event::CancelResult {
        cloid: c,
        outcome: CancelOutcome::Success,
    });
    assert_eq!(
        w.h.engine.orders().get(c).unwrap().state,
        OrderState::Cancelled
    );
}

#[test]
fn order_lifecycle_partial_fills_and_fill_during_cancel() {
    let mut w = world();
    let p = PlaceIntent::new(MarketIdx(0), Side::Buy, d("100"), d("4"), Tif::Gtc).with_tag(7);
    w.entry_does(&[Intent::Place(p)]);
    let c = w.h.batches()[0].orders[0].cloid;
    w.h.rest(c);
    w.h.fill(c, d("100"), d("1"));
    assert_eq!(
        w.h.engine.orders().get(c).unwrap().state,
        OrderState::PartiallyFilled
    );
    w.entry_does(&[Intent::Cancel(plugin_api::CancelIntent {
        market: MarketIdx(0),
        tag: 7,
    })]);
    w.h.batches();
    w.h.fill(c, d("102"), d("3"));
    let o = *w.h.engine.orders().get(c).unwrap();
    assert_eq!(o.state, OrderState::FilledDuringCancel);
    assert_eq!(o.avg_fill_px(), d("101.5"));
    assert_eq!(w.h.engine.position(w.a).size, d("4"));
    let seen = w.entry.lock().unwrap().seen.clone();
    let statuses: Vec<_> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Update(u) => Some(u.status),
            _ => None,
        })
        .collect();
    use plugin_api::OrderStatus as S;
    assert_eq!(
        statuses,
        vec![
            S::RESTING,
            S::PARTIALLY_FILLED,
            S::CANCEL_PENDING,
            S::FILLED_DURING_CANCEL
        ]
    );
}

#[test]
fn fills_are_deduplicated_by_tid_and_unmatched_ones_ask_for_reconciliation() {
    let mut w = world();
    w.entry_does(&[buy(0, "101", "2")]);
    let c = w.h.batches()[0].orders[0].cloid;
    let f = w.h.fill(c, d("101"), d("2"));
    w.h.handle(Event::Fill(f)); // resent after a reconnect
    assert_eq!(w.h.engine.position(w.a).size, d("2"));
    w.h.engine.drain_notes().count();
    let stray = FillEvent {
        cloid: None,
        oid: 999_999,
        tid: 77,
        ..f
    };
    w.h.handle(Event::Fill(stray));
    assert_eq!(
        w.h.engine.position(w.a).size,
        d("4"),
        "the venue's fill counts even if unknown"
    );
    assert!(
        w.h.engine
            .drain_notes()
            .any(|n| matches!(n, EngineNote::ReconcileRequest { venue } if venue == VenueId(0)))
    );
}

#[test]
fn the_fill_ids_remembered_are_bounded_and_the_recent_ones_still_deduplicate() {
    let mut w = world();
    w.entry_does(&[buy(0, "101", "2")]);
    let c = w.h.batches()[0].orders[0].cloid;
    let f = w.h.fill(c, d("101"), d("2"));
    // Zero-sized fills are remembered and otherwise ignored: the cheapest way past the bound.
    for tid in 0..(super::super::SEEN_FILLS as u64 + 10) {
        let e = FillEvent {
            tid: 1_000_000 + tid,
            sz: d("0"),
            ..f
        };
        w.h.engine.handle(Event::Fill(e), 1);
    }
    assert_eq!(w.h.engine.seen_fills.len(), super::super::SEEN_FILLS);
    assert_eq!(w.h.engine.seen_order.len(), super::super::SEEN_FILLS);
    // The first fill's id is gone, but it is in no snapshot any more; a recent one is kept.
    assert!(!w.h.engine.seen_fills.contains(&(f.venue, f.tid)));
    let recent = (f.venue, 1_000_000 + super::super::SEEN_FILLS as u64 + 9);
    assert!(w.h.engine.seen_fills.contains(&recent));
    assert_eq!(w.h.engine.position(w.a).size, d("2"));
}

#[test]
fn fills_contained_in_a_reconciled_position_are_not_counted_twice() {
    let mut w = world();
    w.entry_does(&[buy(0, "101", "2")]);
    let c = w.h.batches()[0].orders[0].cloid;
    w.h.handle(Event::PostResult {
        cloid: c,
        outcome: PostOutcome::UnknownOutcome,
    });
    // Reconnect: the venue says we are long 2 as of t; the fill (at t) arrives after.
    let now_ms = w.h.now / MS;
    let pos = [VenuePosition {
        market: w.a,
        size: d("2"),
        entry_px: d("101"),
    }];
    w.h.handle(Event::Reconciled {
        venue: VenueId(0),
        as_of_ms: now_ms,
        positions: pos.to_vec(),
        open_orders: vec![],
    });
    w.h.fill(c, d("101"), d("2"));
    assert_eq!(w.h.engine.position(w.a).size, d("2"));
    assert_eq!(w.h.engine.orders().get(c).unwrap().filled, d("2"));
    w.h.advance_ms(10);
    w.exit_does(&[flatten(0, FlattenKind::TIME_STOP)]);
    let f = w.h.batches()[0].orders[0].cloid;
    w.h.fill_ioc(f, d("99"));
    assert!(
        w.h.engine.position(w.a).size.is_zero(),
        "later fills do count"
    );
}
