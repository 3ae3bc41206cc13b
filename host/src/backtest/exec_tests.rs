//! Simulated execution against hand-made books.

use super::*;
use crate::backtest::config::LatencyMode;
use crate::engine::hardstop::HardStopLatch;
use crate::engine::reject::RejectReason;
use std::sync::Arc;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn exec_with(cfg: &str) -> Execution {
    let cfg: BacktestConfig = toml::from_str(cfg).unwrap();
    let rules = |coin_hip3: bool| {
        let m = if coin_hip3 {
            Decimal::TWO
        } else {
            Decimal::ONE
        };
        Some(MarketRules {
            venue: VenueId(0),
            spec: AssetSpec {
                asset: 0,
                sz_decimals: 2,
                is_spot: false,
            },
            taker_bps: cfg.taker_fee_bps * m,
            maker_bps: cfg.maker_fee_bps * m,
        })
    };
    let latency = Latency::new(&cfg, Vec::new());
    Execution::new(
        vec![rules(false), rules(true)],
        &cfg,
        latency,
        Arc::new(HardStopLatch::new()),
    )
}

fn order(cloid: u128, m: u32, side: Side, px: &str, sz: &str, tif: EngineTif) -> OrderRequest {
    OrderRequest {
        cloid: Cloid(cloid),
        market: MarketId(m),
        side,
        px: d(px),
        sz: d(sz),
        tif,
        reduce_only: false,
    }
}

fn send(e: &mut Execution, orders: Vec<OrderRequest>, cancels: Vec<CancelRequest>, now: u64) {
    e.submit(
        ActionBatch {
            venue: VenueId(0),
            cancels,
            orders,
        },
        now,
    );
}

/// Every event due up to `until`, with its time.
fn drain(e: &mut Execution, until: u64) -> Vec<(u64, Event)> {
    let mut out = Vec::new();
    while e.next_due().is_some_and(|t| t <= until) {
        let mut evs = Vec::new();
        let t = e.run_due(&mut evs);
        out.extend(evs.into_iter().map(|ev| (t, ev)));
    }
    out
}

fn book(e: &mut Execution, m: u32, bids: &[(&str, &str)], asks: &[(&str, &str)], t: u64) {
    let side = |l: &[(&str, &str)]| l.iter().map(|(p, s)| (d(p), d(s))).collect::<Vec<_>>();
    e.on_book(MarketId(m), &side(bids), &side(asks), true, t);
}

fn fills(evs: &[(u64, Event)]) -> Vec<(Decimal, Decimal, Decimal)> {
    evs.iter()
        .filter_map(|(_, ev)| match ev {
            Event::Fill(f) => Some((f.px, f.sz, f.fee)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_ioc_walks_the_book_with_slippage_after_the_latency_and_pays_the_taker_rate() {
    let mut e = exec_with("latency = \"constant\"\nlatency_ms = 2\n");
    book(
        &mut e,
        0,
        &[("99", "1")],
        &[("100", "1"), ("101", "1"), ("105", "5")],
        0,
    );
    send(
        &mut e,
        vec![order(1, 0, Side::Buy, "102", "2.5", EngineTif::Ioc)],
        vec![],
        10,
    );
    assert_eq!(
        e.next_due(),
        Some(10 + 1_000_000),
        "it reaches the venue after half the round trip"
    );
    let evs = drain(&mut e, u64::MAX);
    assert!(
        evs.iter().all(|(t, _)| *t == 10 + 2_000_000),
        "answers after the whole round trip"
    );
    // 1 @ 100, 1 @ 101, the rest (0.5) cancelled: the limit stops the walk.
    assert_eq!(
        fills(&evs),
        vec![
            (d("100"), d("1"), d("0.045")),
            (d("101"), d("1"), d("0.045450"))
        ]
    );
    assert!(evs.iter().any(|(_, ev)| matches!(ev, Event::PostResult { outcome: PostOutcome::Filled { total_sz, avg_px, .. }, .. } if *total_sz == d("2") && *avg_px == d("100.5"))));
    assert_eq!(e.position(MarketId(0)), d("2"));
    // The HIP-3 market pays twice the base rate.
    book(&mut e, 1, &[("99", "1")], &[("100", "1")], 20);
    send(
        &mut e,
        vec![order(2, 1, Side::Buy, "100", "1", EngineTif::Ioc)],
        vec![],
        30,
    );
    assert_eq!(
        fills(&drain(&mut e, u64::MAX)),
        vec![(d("100"), d("1"), d("0.09"))]
    );
}

#[test]
fn the_venue_rules_refuse_with_the_venues_reasons() {
    let mut e = exec_with("");
    book(&mut e, 0, &[("99", "1")], &[("100", "1")], 0);
    let reason = |e: &mut Execution, o: OrderRequest| {
        send(e, vec![o], vec![], 1);
        drain(e, u64::MAX).into_iter().find_map(|(_, ev)| match ev {
            Event::PostResult {
                outcome: PostOutcome::Rejected(r),
                ..
            } => Some(r),
            _ => None,
        })
    };
    assert_eq!(
        reason(
            &mut e,
            order(1, 0, Side::Buy, "100", "0.05", EngineTif::Ioc)
        ),
        Some(RejectReason::MinNotional)
    );
    assert_eq!(
        reason(&mut e, order(2, 0, Side::Buy, "100", "1", EngineTif::Alo)),
        Some(RejectReason::PostOnlyWouldMatch)
    );
    assert_eq!(
        reason(&mut e, order(3, 0, Side::Buy, "99.5", "1", EngineTif::Ioc)),
        Some(RejectReason::IocNoMatch)
    );
    let mut ro = order(4, 0, Side::Sell, "99", "1", EngineTif::Ioc);
    ro.reduce_only = true;
    assert_eq!(reason(&mut e, ro), Some(RejectReason::ReduceOnlyRejected));
    assert_eq!(e.stats.rejected, 4);
    assert_eq!(e.position(MarketId(0)), d("0"));
}

#[test]
fn a_resting_order_waits_for_the_queue_ahead_or_a_trade_through() {
    let mut e = exec_with("latency = \"constant\"\nlatency_ms = 0\n");
    book(&mut e, 0, &[("99", "3")], &[("100", "1")], 0);
    send(
        &mut e,
        vec![order(1, 0, Side::Buy, "99", "1", EngineTif::Gtc)],
        vec![],
        1,
    );
    let evs = drain(&mut e, u64::MAX);
    assert!(evs.iter().any(|(_, ev)| matches!(
        ev,
        Event::PostResult {
            outcome: PostOutcome::Resting { .. },
            ..
        }
    )));
    // 3 shown ahead of it. The ask comes down to its price while 2 are still shown: no fill.
    book(&mut e, 0, &[("99", "2")], &[("99", "1")], 2);
    assert!(fills(&drain(&mut e, u64::MAX)).is_empty(), "queue ahead");
    // The level's shown size gone: the queue ahead was filled or cancelled; a touch fills it.
    book(&mut e, 0, &[("98", "5")], &[("99", "4")], 3);
    assert_eq!(
        fills(&drain(&mut e, u64::MAX)),
        vec![(d("99"), d("1"), d("0.014850"))],
        "maker rate"
    );
    // Touch model: the simulator's rule, a touch fills at once.
    let mut t = exec_with("queue = \"touch\"\nlatency = \"constant\"\nlatency_ms = 0\n");
    book(&mut t, 0, &[("99", "3")], &[("100", "1")], 0);
    send(
        &mut t,
        vec![order(1, 0, Side::Buy, "99", "1", EngineTif::Gtc)],
        vec![],
        1,
    );
    drain(&mut t, u64::MAX);
    book(&mut t, 0, &[("99", "2")], &[("99", "1")], 2);
    assert_eq!(fills(&drain(&mut t, u64::MAX)).len(), 1);
    // A trade through fills a risk-averse order whatever its queue, up to what crossed.
    let mut r = exec_with("latency = \"constant\"\nlatency_ms = 0\n");
    book(&mut r, 0, &[("99", "3")], &[("100", "1")], 0);
    send(
        &mut r,
        vec![order(1, 0, Side::Buy, "99", "2", EngineTif::Gtc)],
        vec![],
        1,
    );
    drain(&mut r, u64::MAX);
    book(
        &mut r,
        0,
        &[("97", "3")],
        &[("98.5", "0.5"), ("99", "4")],
        2,
    );
    let evs = drain(&mut r, u64::MAX);
    assert_eq!(
        fills(&evs),
        vec![(d("99"), d("2"), d("0.0297"))],
        "0.5 + 4 crossed, 2 wanted"
    );
    assert!(evs.iter().any(
        |(_, ev)| matches!(ev, Event::OrderUpdate(u) if u.status == VenueOrderStatus::Filled)
    ));
    // Cancelling a resting order, and one that is gone.
    send(
        &mut r,
        vec![order(2, 0, Side::Buy, "90", "1", EngineTif::Gtc)],
        vec![],
        3,
    );
    drain(&mut r, u64::MAX);
    let cancel = |c| CancelRequest {
        cloid: Cloid(c),
        market: MarketId(0),
        oid: None,
    };
    send(&mut r, vec![], vec![cancel(2), cancel(1)], 4);
    let outcomes: Vec<_> = drain(&mut r, u64::MAX)
        .into_iter()
        .filter_map(|(_, ev)| match ev {
            Event::CancelResult { cloid, outcome } => Some((cloid.0, outcome)),
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![(2, CancelOutcome::Success), (1, CancelOutcome::Failed)]
    );
    assert_eq!(r.resting_count(), 0);
}

#[test]
fn funding_is_paid_on_open_positions_and_hard_stopped_orders_never_reach_the_book() {
    let mut e = exec_with("latency = \"constant\"\nlatency_ms = 0\n");
    book(&mut e, 0, &[("99", "5")], &[("100", "5")], 0);
    send(
        &mut e,
        vec![order(1, 0, Side::Buy, "100", "2", EngineTif::Ioc)],
        vec![],
        1,
    );
    drain(&mut e, u64::MAX);
    e.on_ctx(MarketId(0), d("100"), d("0.0001"));
    e.on_ctx(MarketId(1), d("100"), d("0.0001"));
    // The first hour boundary after t = 0 is paid on.
    e.funding_from(0);
    e.funding_until(3_600_000_000_000, |_, _| {});
    assert_eq!(
        e.funding,
        vec![d("-0.02"), d("0")],
        "a long pays a positive rate"
    );
    e.latch
        .trigger(crate::engine::hardstop::HardStopReason::Operator);
    send(
        &mut e,
        vec![order(2, 0, Side::Buy, "100", "1", EngineTif::Ioc)],
        vec![],
        2,
    );
    let evs = drain(&mut e, u64::MAX);
    assert!(matches!(&evs[0].1, Event::BatchDropped { cloids } if cloids == &vec![Cloid(2)]));
    assert!(fills(&evs).is_empty());
    assert_eq!(e.stats.dropped_by_hard_stop, 1);
}

#[test]
fn recorded_latencies_replay_in_order_then_their_median_and_samples_repeat_by_seed() {
    let cfg: BacktestConfig = toml::from_str("latency = \"recorded\"").unwrap();
    let mut l = Latency::new(&cfg, vec![5, 1, 9]);
    assert_eq!(
        (l.next_rtt(), l.next_rtt(), l.next_rtt(), l.next_rtt()),
        (5, 1, 9, 5)
    );
    let cfg: BacktestConfig = toml::from_str("latency = \"sampled\"\nseed = 3").unwrap();
    let draw = |cfg: &BacktestConfig| {
        let mut l = Latency::new(cfg, vec![5, 1, 9]);
        (0..20).map(|_| l.next_rtt()).collect::<Vec<_>>()
    };
    let a = draw(&cfg);
    assert_eq!(a, draw(&cfg));
    assert!(a.iter().all(|x| [1, 5, 9].contains(x)) && a.iter().any(|x| *x != a[0]));
    // No round trips in the data: the constant.
    let mut l = Latency::new(&cfg, Vec::new());
    assert_eq!((l.mode(), l.next_rtt()), (LatencyMode::Constant, 2_000_000));
}
