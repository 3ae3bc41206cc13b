//! Engine unit tests: every gate and reason code, HardStop triggers and actions, order lifecycle,
//! fill dedupe, pairs, the two exit paths. In-process scripted strategies, explicit time.

use super::config::{EngineConfig, RiskLimits};
use super::events::{
    CancelOutcome, ConnectionState, EngineNote, Event, FillEvent, OperatorCommand, PostOutcome,
    VenuePosition,
};
use super::hardstop::HardStopReason;
use super::orders::OrderState;
use super::reject::RejectReason;
use super::testkit::{Harness, MS, Seen, scripted};
use super::types::{Cloid, MarketId, VenueId};
use plugin_api::{
    FlattenKind, FlattenReason, Intent, MarketIdx, PlaceIntent, RejectCode, Role, Side, Tif,
};
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn buy(m: u32, px: &str, sz: &str) -> Intent {
    Intent::Place(
        PlaceIntent::new(MarketIdx(m), Side::Buy, d(px), d(sz), Tif::Ioc).with_tag(m as u64 + 1),
    )
}

fn sell(m: u32, px: &str, sz: &str) -> Intent {
    Intent::Place(
        PlaceIntent::new(MarketIdx(m), Side::Sell, d(px), d(sz), Tif::Ioc).with_tag(m as u64 + 11),
    )
}

fn flatten(m: u32, kind: FlattenKind) -> Intent {
    Intent::Flatten(plugin_api::FlattenIntent {
        market: MarketIdx(m),
        reason: FlattenReason::new(kind, 0),
        max_slippage_bps: None.into(),
    })
}

fn limits() -> RiskLimits {
    RiskLimits {
        max_notional_per_market: d("1000"),
        max_notional_total: d("1500"),
        ..RiskLimits::default()
    }
}

/// One entry strategy on two markets of venue `hl` and one exit strategy on the first.
struct World {
    h: Harness,
    entry: super::testkit::ScriptHandle,
    exit: super::testkit::ScriptHandle,
    a: MarketId,
    b: MarketId,
}

fn world_with(cfg: EngineConfig, limits: RiskLimits) -> World {
    let (es, entry) = scripted("entry", Role::Entry, &["hl/BTC", "hl/ETH"]);
    let (xs, exit) = scripted("exit", Role::Exit, &["hl/BTC"]);
    let mut h = Harness::new(cfg, limits, &["hl/BTC", "hl/ETH"], vec![es, xs]);
    let (a, b) = (h.market("hl/BTC"), h.market("hl/ETH"));
    h.all_ready();
    h.quote(a, d("99"), d("101"), d("100"));
    h.quote(b, d("99"), d("101"), d("100"));
    World {
        h,
        entry,
        exit,
        a,
        b,
    }
}

fn world() -> World {
    world_with(EngineConfig::default(), limits())
}

impl World {
    /// Queues intents for the entry strategy and ticks market `a` so it emits them.
    fn entry_does(&mut self, intents: &[Intent]) {
        self.entry
            .lock()
            .unwrap()
            .next
            .extend(intents.iter().copied());
        let a = self.a;
        self.h.quote(a, d("99"), d("101"), d("100"));
    }

    fn exit_does(&mut self, intents: &[Intent]) {
        self.exit
            .lock()
            .unwrap()
            .next
            .extend(intents.iter().copied());
        let a = self.a;
        self.h.quote(a, d("99"), d("101"), d("100"));
    }

    fn rejects(&self, script: &super::testkit::ScriptHandle) -> Vec<RejectCode> {
        script
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter_map(|s| match s {
                Seen::Reject(r) => Some(r.reason),
                _ => None,
            })
            .collect()
    }

    /// Opens a long of `sz` in market a through a filled entry.
    fn open_long(&mut self, sz: &str) -> Cloid {
        self.entry_does(&[buy(0, "101", sz)]);
        let b = self.h.batches();
        let c = b[0].orders[0].cloid;
        self.h.fill_ioc(c, d("101"));
        c
    }
}

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
            .strategy_slot(super::types::StrategyId(0))
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

fn unknown_order(m: MarketId, oid: u64, cloid: Option<Cloid>) -> super::events::VenueOpenOrder {
    super::events::VenueOpenOrder {
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
        unknown_orders: super::config::UnknownOrderPolicy::Adopt,
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
