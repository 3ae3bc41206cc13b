//! Feed sanity: a market whose data makes no sense is not traded, flattens price from the last
//! book that made sense, and a position left on such data for too long is a HardStop.

use super::*;

/// Quotes market `a` with `bid`/`ask` and oracle = mark = `oracle`, then again with an entry
/// intent ready (so the strategy is called on that data, not on what came before).
fn entry_on(w: &mut World, bid: &str, ask: &str, oracle: &str) {
    let a = w.a;
    w.h.quote(a, d(bid), d(ask), d(oracle));
    w.h.batches();
    w.entry.lock().unwrap().next.push_back(buy(0, "101", "1"));
    let a = w.a;
    w.h.quote(a, d(bid), d(ask), d(oracle));
}

#[test]
fn crossed_locked_zero_and_far_books_are_refused_bad_market_data() {
    for (bid, ask, oracle, what) in [
        ("101", "99", "100", "crossed"),
        ("100", "100", "100", "locked"),
        ("0", "101", "100", "zero bid"),
        ("-1", "101", "100", "negative bid"),
        ("99", "101", "0", "zero mark and oracle"),
        ("99", "101", "110", "mark 10% from the book (limit 5%)"),
    ] {
        let mut w = world();
        entry_on(&mut w, bid, ask, oracle);
        assert!(w.h.batches().is_empty(), "{what}: no order");
        assert_eq!(
            w.rejects(&w.entry),
            vec![RejectCode::BAD_MARKET_DATA],
            "{what}"
        );
        assert_eq!(w.h.engine.refusals().get(RejectReason::BadMarketData), 1);
        // The same market with sane data trades again.
        entry_on(&mut w, "99", "101", "100");
        assert_eq!(w.h.batches().len(), 1, "{what}: sane again");
    }
}

#[test]
fn a_flatten_on_bad_data_prices_from_the_last_sane_book() {
    let mut w = world();
    w.open_long("1");
    // The book crosses at nonsense prices; the exit flattens.
    let a = w.a;
    w.h.quote(a, d("5000"), d("1"), d("100"));
    w.exit_does_on_current(&[flatten(0, FlattenKind::MANUAL)]);
    let b = w.h.batches();
    let o = b[0].orders[0];
    assert!(o.reduce_only);
    // A long sells at the last sane bid (99) less the 50 bps default slippage.
    assert_eq!(o.px, d("98.505"));
}

#[test]
fn a_position_on_bad_data_for_too_long_is_a_hard_stop() {
    let mut w = world();
    w.open_long("1");
    let a = w.a;
    w.h.quote(a, d("101"), d("99"), d("100"));
    w.h.advance_ms(29_000);
    w.h.handle(Event::Timer);
    assert!(!w.h.engine.hard_stopped(), "within the limit");
    w.h.quote(a, d("101"), d("99"), d("100"));
    w.h.advance_ms(2_000);
    w.h.handle(Event::Timer);
    assert_eq!(
        w.h.engine.latch().reason(),
        Some(HardStopReason::BadMarketData)
    );
}
