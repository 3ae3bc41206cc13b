//! Seed 002 through the engine: backoff after repeated venue rejections, and stuck reduce-only
//! recovery (reconcile, small steps, then HardStop).

use super::*;

/// The entry strategy asks for a buy on market a; the venue rejects it with `reason`.
fn rejected_entry(w: &mut World, reason: RejectReason) -> bool {
    w.entry_does(&[buy(0, "101", "1")]);
    let b = w.h.batches();
    let Some(o) = b.first().and_then(|b| b.orders.first()) else {
        return false;
    };
    w.h.handle(Event::PostResult {
        cloid: o.cloid,
        outcome: PostOutcome::Rejected(reason),
    });
    true
}

#[test]
fn repeated_venue_rejections_make_the_side_wait_and_the_wait_doubles() {
    let mut w = world();
    for i in 0..3 {
        assert!(
            rejected_entry(&mut w, RejectReason::InsufficientMargin),
            "try {i}"
        );
    }
    // The third rejection starts a 500 ms wait: the next buy never leaves the host.
    assert!(!rejected_entry(&mut w, RejectReason::InsufficientMargin));
    assert_eq!(w.h.engine.refusals().get(RejectReason::RejectionBackoff), 1);
    w.h.advance_ms(501);
    assert!(
        rejected_entry(&mut w, RejectReason::InsufficientMargin),
        "after the wait"
    );
    // Rejected again: now 1 s.
    w.h.advance_ms(501);
    assert!(!rejected_entry(&mut w, RejectReason::InsufficientMargin));
    w.h.advance_ms(500);
    // The venue takes the next one: the side waits no more.
    w.entry_does(&[buy(0, "101", "1")]);
    let c = w.h.batches()[0].orders[0].cloid;
    w.h.handle(Event::PostResult {
        cloid: c,
        outcome: PostOutcome::Resting { oid: 5 },
    });
    w.h.handle(Event::CancelResult {
        cloid: c,
        outcome: crate::engine::events::CancelOutcome::Success,
    });
    assert!(
        rejected_entry(&mut w, RejectReason::InsufficientMargin),
        "cleared"
    );
    // "No match" is not a rejection: an IOC that found nothing does not back off.
    let mut w = world();
    for _ in 0..5 {
        assert!(rejected_entry(&mut w, RejectReason::IocNoMatch));
    }
}

#[test]
fn a_stuck_flatten_reconciles_then_steps_then_hard_stops() {
    let mut w = world();
    w.open_long("5");
    w.h.engine.drain_notes().for_each(drop);
    let a = w.a;
    let mut sizes = Vec::new();
    let mut reconcile_asked = false;
    for _ in 0..12 {
        // Past any backoff wait, the exit asks to flatten; the venue rejects the close.
        w.h.advance_ms(31_000);
        w.h.quote(a, d("99"), d("101"), d("100"));
        w.exit_does_on_current(&[flatten(0, FlattenKind::MANUAL)]);
        let b = w.h.batches();
        let Some(o) = b
            .iter()
            .flat_map(|b| b.orders.iter())
            .find(|o| o.reduce_only)
        else {
            break;
        };
        sizes.push(o.sz);
        w.h.handle(Event::PostResult {
            cloid: o.cloid,
            outcome: PostOutcome::Rejected(RejectReason::ReduceOnlyRejected),
        });
        reconcile_asked |=
            w.h.engine
                .drain_notes()
                .any(|n| matches!(n, EngineNote::ReconcileRequest { .. }));
        if w.h.engine.hard_stopped() {
            break;
        }
    }
    assert!(reconcile_asked, "stuck: the venue's state is asked for");
    assert_eq!(sizes[0], d("5"), "the first closes try the whole position");
    assert!(
        sizes[3] < d("1"),
        "in recovery, a step of about recovery_step_notional (20) at ~98.5: {sizes:?}"
    );
    assert_eq!(
        w.h.engine.latch().reason(),
        Some(HardStopReason::StuckReduceOnly),
        "after 10 rejections in a row: {sizes:?}"
    );
}
