//! The paper adapter, sans I/O: frames and times in, events and saved accounts out.
use super::*;
use crate::venue::hyperliquid::info::Meta;
use rust_decimal::Decimal;
use std::cell::RefCell;
use std::rc::Rc;

fn adapter(account: PaperAccount) -> (PaperAdapter, Rc<RefCell<Vec<PaperAccount>>>) {
    let meta: Meta =
        serde_json::from_str(r#"{"universe":[{"name":"BTC","szDecimals":5}]}"#).unwrap();
    let mut assets = AssetTable::default();
    assets.add_perp_dex(0, None, &meta);
    let saved: Rc<RefCell<Vec<PaperAccount>>> = Rc::default();
    let kept = saved.clone();
    let a = PaperAdapter::new(PaperSetup {
        venue: VenueId(0),
        name: "hl".into(),
        ws_url: "ws://127.0.0.1:1/ws".into(),
        markets: vec![(MarketId(0), "BTC".into())],
        assets,
        market_count: 1,
        backtest: BacktestConfig::default(),
        latch: Arc::new(HardStopLatch::new()),
        account,
        save: Box::new(move |a| kept.borrow_mut().push(a.clone())),
    })
    .unwrap();
    (a, saved)
}

fn now(after: Duration) -> Now {
    Now {
        mono: Instant::now() + after,
        wall_ms: 0,
    }
}

#[test]
fn a_resumed_account_is_stated_pays_funding_on_the_hour_and_is_saved() {
    let mut acct = PaperAccount::new("hl", Decimal::from(1_000));
    acct.positions.push(PaperPosition {
        coin: "BTC".into(),
        size: "0.5".parse().unwrap(),
        entry_px: Decimal::from(60_000),
    });
    acct.next_id = u64::MAX / 2;
    let (mut a, saved) = adapter(acct);
    let mut out = Outbox::default();
    a.on_connect(now(Duration::ZERO), &mut out);
    assert_eq!(
        out.frames.len(),
        3,
        "bbo, l2Book, activeAssetCtx: public only"
    );
    assert!(out.frames.iter().all(|f| !f.contains("user")));
    out.frames.clear();
    out.events.clear();
    for _ in 0..3 {
        a.on_frame(
            r#"{"channel":"subscriptionResponse","data":{}}"#,
            now(Duration::ZERO),
            &mut out,
        );
    }
    // The journal's account, as the venue would state it on a reconnect.
    match &out.events[..] {
        [
            Event::Reconciled { positions, .. },
            Event::Connection {
                state: ConnectionState::Ready,
                ..
            },
        ] => {
            assert_eq!(positions.len(), 1);
            assert_eq!(positions[0].size, "0.5".parse::<Decimal>().unwrap());
            assert_eq!(positions[0].entry_px, Decimal::from(60_000));
        }
        other => panic!("{other:?}"),
    }
    assert!(a.can_write());
    out.events.clear();
    a.on_frame(
        r#"{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"funding":"0.0001","openInterest":"1","prevDayPx":"1","dayNtlVlm":"0","premium":"0","oraclePx":"60000","markPx":"60000","midPx":"60000","impactPxs":null,"dayBaseVlm":"0"}}}"#,
        now(Duration::ZERO),
        &mut out,
    );
    assert!(matches!(out.events[..], [Event::AssetCtx { .. }]));
    // An hour on (exactly one hour boundary passed): the long pays 0.5 × 60000 × 0.0001 = 3 USDC, and the
    // account is saved.
    a.on_tick(now(Duration::from_secs(3_600)), &mut out);
    let last = saved.borrow().last().cloned().expect("saved after funding");
    assert_eq!(last.funding, Decimal::from(-3));
    assert_eq!(last.balance(), Decimal::from(997));
    assert_eq!(last.positions[0].size, "0.5".parse::<Decimal>().unwrap());
    assert!(last.next_id > u64::MAX / 2, "ids go on from the account's");
    // A local reconcile states the same account, live.
    out.events.clear();
    assert!(a.reconcile_local(now(Duration::from_secs(3_602)), &mut out));
    assert!(matches!(
        out.events[..],
        [Event::ReconcileStarted { .. }, Event::LiveReconciled { .. }]
    ));
}

#[test]
fn an_account_holding_a_coin_the_config_does_not_trade_is_refused() {
    let mut acct = PaperAccount::new("hl", Decimal::from(1_000));
    acct.positions.push(PaperPosition {
        coin: "DOGE".into(),
        size: Decimal::ONE,
        entry_px: Decimal::ONE,
    });
    let meta: Meta =
        serde_json::from_str(r#"{"universe":[{"name":"BTC","szDecimals":5}]}"#).unwrap();
    let mut assets = AssetTable::default();
    assets.add_perp_dex(0, None, &meta);
    let e = PaperAdapter::new(PaperSetup {
        venue: VenueId(0),
        name: "hl".into(),
        ws_url: String::new(),
        markets: vec![(MarketId(0), "BTC".into())],
        assets,
        market_count: 1,
        backtest: BacktestConfig::default(),
        latch: Arc::new(HardStopLatch::new()),
        account: acct,
        save: Box::new(|_| {}),
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("holds 1 DOGE") && e.contains("--fresh"), "{e}");
}
