//! The simulated exchange's rules, driven with requests signed by the host's own signer.

use super::exchange::{AccountSpec, Exchange};
use super::market::MarketSpec;
use crate::venue::hyperliquid::actions::{
    Action, Grouping, OrderTypeWire, OrderWire, TifWire, WireStr, sign_action,
};
use crate::venue::hyperliquid::signing::PrivateKey;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";
const AGENT: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

fn ex() -> Exchange {
    let spec: MarketSpec = toml::from_str(
        "coin = \"BTC\"\nsz_decimals = 3\nprice = 100\ndislocation_every_ms = 0\nvol_bps = 0\n",
    )
    .unwrap();
    let hip3: MarketSpec = toml::from_str(
        "coin = \"xyz:TSLA\"\nsz_decimals = 2\nprice = 250\ndislocation_every_ms = 0\n",
    )
    .unwrap();
    with_markets(vec![spec, hip3], 1_700_000_000_000)
}

/// An exchange of `markets` whose one account (10,000 USDC) is `KEY`'s, with `AGENT` approved,
/// ticked once at `t0`.
fn with_markets(markets: Vec<MarketSpec>, t0: u64) -> Exchange {
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    let agent = PrivateKey::from_hex(AGENT).unwrap().address();
    let mut e = Exchange::new(
        1,
        markets,
        vec![AccountSpec {
            address: owner,
            usdc: Decimal::from(10_000),
            spot_usdc: Decimal::ZERO,
            agents: vec![agent],
        }],
        t0,
    );
    e.tick(t0);
    e
}

fn signed(key: &str, action: &Action, nonce: u64) -> Value {
    let k = PrivateKey::from_hex(key).unwrap();
    let mut buf = Vec::new();
    serde_json::to_value(sign_action(&k, action, nonce, None, None, false, &mut buf).unwrap())
        .unwrap()
}

fn order(a: u32, buy: bool, px: &str, sz: &str, tif: TifWire, reduce_only: bool) -> Action {
    Action::Order {
        orders: vec![OrderWire {
            a,
            b: buy,
            p: WireStr::new(px).unwrap(),
            s: WireStr::new(sz).unwrap(),
            r: reduce_only,
            t: OrderTypeWire::Limit { tif },
            c: Some(WireStr::new("0x000000000000000000000000000000aa").unwrap()),
        }],
        grouping: Grouping::Na,
        builder: None,
    }
}

fn status(resp: &Value) -> &Value {
    &resp["response"]["data"]["statuses"][0]
}

#[test]
fn ioc_fills_at_the_touch_and_positions_follow() {
    let mut e = ex();
    let (_, ask) = e.markets[0].bbo(e.now_ms);
    let (r, pushes) = e.exchange(&signed(
        AGENT,
        &order(
            0,
            true,
            &(ask + Decimal::ONE).to_string(),
            "0.5",
            TifWire::Ioc,
            false,
        ),
        e.now_ms,
    ));
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(status(&r)["filled"]["totalSz"], "0.5", "{r}");
    assert_eq!(
        status(&r)["filled"]["cloid"],
        "0x000000000000000000000000000000aa"
    );
    assert!(pushes.iter().any(|p| p.frame.contains("\"userFills\"")));
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    assert_eq!(
        e.accounts[&owner].position("BTC"),
        Decimal::new(5, 1),
        "the agent trades for its owner"
    );
    let state = e
        .info(&json!({"type":"clearinghouseState","user": owner.to_string(),"dex":""}))
        .unwrap();
    assert_eq!(state["assetPositions"][0]["position"]["szi"], "0.5");
}

#[test]
fn the_venue_rules_answer_with_the_venue_errors() {
    let mut e = ex();
    let now = e.now_ms;
    let (bid, ask) = e.markets[0].bbo(now);
    let err = |e: &mut Exchange, a: Action, n: u64| {
        status(&e.exchange(&signed(KEY, &a, n)).0)["error"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        err(
            &mut e,
            order(0, true, "100.0001", "1", TifWire::Gtc, false),
            now + 1
        ),
        "Price must be divisible by tick size."
    );
    assert_eq!(
        err(
            &mut e,
            order(0, true, "50", "0.1", TifWire::Gtc, false),
            now + 2
        ),
        "Order must have minimum value of $10."
    );
    assert_eq!(
        err(
            &mut e,
            order(0, false, "50", "1", TifWire::Ioc, true),
            now + 3
        ),
        "Reduce only order would increase position."
    );
    assert!(
        err(
            &mut e,
            order(0, true, &ask.to_string(), "1", TifWire::Alo, false),
            now + 4
        )
        .starts_with("Post only order would have immediately matched")
    );
    assert_eq!(
        err(
            &mut e,
            order(
                0,
                true,
                &(bid - Decimal::ONE).to_string(),
                "1",
                TifWire::Ioc,
                false
            ),
            now + 5
        ),
        "Order could not immediately match against any resting orders."
    );
    assert_eq!(
        err(
            &mut e,
            order(0, true, "90", "3000", TifWire::Gtc, false),
            now + 6
        ),
        "Insufficient margin to place order."
    );
    // Signed by nobody the venue knows.
    let stranger = "0x2222222222222222222222222222222222222222222222222222222222222222";
    let r = e.exchange(&signed(stranger, &Action::Noop, now + 7)).0;
    assert!(
        r["response"].as_str().unwrap().contains("does not exist"),
        "{r}"
    );
    // A reused nonce.
    let r = e.exchange(&signed(KEY, &Action::Noop, now + 1)).0;
    assert!(
        r["response"].as_str().unwrap().contains("duplicate nonce"),
        "{r}"
    );
}

#[test]
fn resting_orders_fill_when_the_book_crosses_and_cancels_work() {
    let mut e = ex();
    let now = e.now_ms;
    let (bid, _) = e.markets[0].bbo(now);
    let r = e
        .exchange(&signed(
            KEY,
            &order(
                0,
                true,
                &(bid - Decimal::ONE).to_string(),
                "1",
                TifWire::Gtc,
                false,
            ),
            now + 1,
        ))
        .0;
    let oid = status(&r)["resting"]["oid"].as_u64().unwrap();
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    let open = e
        .info(&json!({"type":"openOrders","user": owner.to_string()}))
        .unwrap();
    assert_eq!(open[0]["oid"], oid);
    let c = Action::Cancel {
        cancels: vec![crate::venue::hyperliquid::actions::CancelWire { a: 0, o: oid }],
    };
    let r = e.exchange(&signed(KEY, &c, now + 2)).0;
    assert_eq!(r["response"]["data"]["statuses"][0], "success");
    let r = e.exchange(&signed(KEY, &c, now + 3)).0;
    assert!(r["response"]["data"]["statuses"][0]["error"].is_string());
}

#[test]
fn schedule_cancel_fires_and_hip3_assets_are_numbered_by_dex() {
    let mut e = ex();
    let now = e.now_ms;
    let (bid, _) = e.markets[0].bbo(now);
    e.exchange(&signed(
        KEY,
        &order(
            0,
            true,
            &(bid - Decimal::ONE).to_string(),
            "1",
            TifWire::Gtc,
            false,
        ),
        now + 1,
    ));
    let r = e
        .exchange(&signed(
            KEY,
            &Action::ScheduleCancel {
                time: Some(now + 1_000),
            },
            now + 2,
        ))
        .0;
    assert!(r["response"].as_str().unwrap().contains("too early"), "{r}");
    e.exchange(&signed(
        KEY,
        &Action::ScheduleCancel {
            time: Some(now + 6_000),
        },
        now + 3,
    ));
    let pushes = e.tick(now + 6_000);
    assert!(
        pushes.iter().any(|p| p.frame.contains("scheduledCancel")),
        "{pushes:?}"
    );
    let dexs = e.info(&json!({"type":"perpDexs"})).unwrap();
    assert_eq!(dexs[1]["name"], "xyz");
    let meta = e.info(&json!({"type":"meta","dex":"xyz"})).unwrap();
    assert_eq!(meta["universe"][0]["name"], "xyz:TSLA");
    // xyz is dex 1: asset 110000.
    let (_, ask) = e.markets[1].bbo(e.now_ms);
    let r = e
        .exchange(&signed(
            KEY,
            &order(
                110_000,
                true,
                &(ask + Decimal::ONE).to_string(),
                "0.1",
                TifWire::Ioc,
                false,
            ),
            now + 10,
        ))
        .0;
    assert!(status(&r)["filled"].is_object(), "{r}");
}

#[test]
fn signatures_without_zero_padding_are_accepted_like_the_venue_does() {
    let mut e = ex();
    // Find a nonce whose signature's r or s starts with a zero nibble, then send it unpadded.
    for n in 0..200u64 {
        let mut req = signed(KEY, &Action::Noop, e.now_ms + n);
        let mut trimmed = false;
        for k in ["r", "s"] {
            let hex = req["signature"][k]
                .as_str()
                .unwrap()
                .trim_start_matches("0x")
                .to_string();
            if hex.starts_with('0') {
                req["signature"][k] = json!(format!("0x{}", hex.trim_start_matches('0')));
                trimmed = true;
            }
        }
        if trimmed {
            let (r, _) = e.exchange(&req);
            assert_eq!(r["status"], "ok", "{r}");
            return;
        }
    }
    panic!("no signature with a leading zero nibble in 200 nonces");
}

#[test]
fn open_positions_pay_funding_on_the_hour_and_user_funding_lists_it() {
    let mut e = ex();
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    let (_, ask) = e.markets[0].bbo(e.now_ms);
    let (r, _) = e.exchange(&signed(
        AGENT,
        &order(
            0,
            true,
            &(ask + Decimal::ONE).to_string(),
            "1",
            TifWire::Ioc,
            false,
        ),
        e.now_ms,
    ));
    assert_eq!(status(&r)["filled"]["totalSz"], "1.0", "{r}");
    let before = e.accounts[&owner].usdc;
    let oracle = e.markets[0].oracle;
    // The next hour: a long of 1 pays 1 × oracle × 0.0000125.
    let hour = (e.now_ms / 3_600_000 + 1) * 3_600_000;
    e.tick(hour - 1);
    assert_eq!(e.accounts[&owner].usdc, before, "nothing before the hour");
    let pushes = e.tick(hour);
    assert!(
        pushes
            .iter()
            .any(|p| p.frame.starts_with("{\"channel\":\"userFundings\"")),
        "the payment is pushed to userFundings"
    );
    let oracle_then = e.markets[0].oracle;
    let paid = (oracle_then * Decimal::new(125, 7)).round_dp(6);
    assert_eq!(
        e.accounts[&owner].usdc,
        before - paid,
        "oracle {oracle} then {oracle_then}"
    );
    let f = e
        .info(&json!({"type":"userFunding","user": owner.to_string(),"startTime": 0}))
        .unwrap();
    assert_eq!(f.as_array().unwrap().len(), 1, "{f}");
    assert_eq!(f[0]["time"], hour);
    assert_eq!(f[0]["delta"]["type"], "funding");
    assert_eq!(
        f[0]["delta"]["usdc"],
        crate::venue::hyperliquid::tick::wire(-paid)
    );
    let state = e
        .info(&json!({"type":"clearinghouseState","user": owner.to_string(),"dex":""}))
        .unwrap();
    assert_eq!(
        state["assetPositions"][0]["position"]["cumFunding"]["sinceOpen"],
        crate::venue::hyperliquid::tick::wire(paid)
    );
    // The HIP-3 market is isolated only: cross leverage is refused, isolated accepted.
    let lev = |e: &mut Exchange, cross: bool| {
        raw(
            e,
            json!({"type": "updateLeverage", "asset": 110000, "isCross": cross, "leverage": 3}),
        )
    };
    let r = lev(&mut e, true);
    assert_eq!(r["status"], "err", "{r}");
    assert!(
        r["response"].as_str().unwrap().contains("isolated only"),
        "{r}"
    );
    assert_eq!(lev(&mut e, false)["status"], "ok");
}

/// Sends a raw action (one the host's own Action type does not build), signed by the agent.
fn raw(e: &mut Exchange, action: Value) -> Value {
    use crate::hex::Prefixed;
    use crate::venue::hyperliquid::actions::msgpack_into;
    use crate::venue::hyperliquid::signing::{action_hash, agent_digest};
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let nonce = e.now_ms + N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut buf = Vec::new();
    msgpack_into(&action, &mut buf).unwrap();
    let digest = agent_digest(&action_hash(&buf, nonce, None, None), false);
    let sig = PrivateKey::from_hex(AGENT).unwrap().sign_digest(&digest);
    let req = json!({"action": action, "nonce": nonce, "signature": {
        "r": Prefixed::<66>::new(&sig.r).as_str(), "s": Prefixed::<66>::new(&sig.s).as_str(), "v": sig.v}});
    e.exchange(&req).0
}

/// Buys `sz` BTC at the ask with the test account's agent.
fn buy(e: &mut Exchange, sz: &str) {
    let (_, ask) = e.markets[0].bbo(e.now_ms);
    let (r, _) = e.exchange(&signed(
        AGENT,
        &order(
            0,
            true,
            &(ask + Decimal::ONE).to_string(),
            sz,
            TifWire::Ioc,
            false,
        ),
        e.now_ms,
    ));
    assert_eq!(status(&r)["filled"]["totalSz"], format!("{sz}.0"), "{r}");
}

#[test]
fn liquidations_are_partial_for_large_positions_then_whole_and_backstop_below_two_thirds() {
    let spec: MarketSpec = toml::from_str(
        "coin = \"BTC\"\nsz_decimals = 3\nprice = 100\ndislocation_every_ms = 0\nvol_bps = 0\nhalf_spread_bps = 0.01\nlevel_size = 100000\nmax_leverage = 20\n",
    )
    .unwrap();
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    let t0 = 1_700_000_000_000;
    let mut e = with_markets(vec![spec], t0);
    // 1,900 at about 100: 19x on 10,000, worth 190,000 (over the 10,000 of a partial one).
    buy(&mut e, "1900");
    assert!(
        e.tick(t0 + 100)
            .iter()
            .all(|p| !p.frame.contains("liquidation"))
    );
    // At 97 the equity (about 4,300) is under maintenance (1,900 × 97 / 40 = 4,607.5) but over
    // two thirds of it: a market liquidation, of 20% of the position.
    e.markets[0].oracle = Decimal::from(97);
    let pushes = e.tick(t0 + 200);
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::from(1_520));
    let fill = e.accounts[&owner].fills.last().unwrap().clone();
    assert_eq!(fill["liquidation"]["method"], "market", "{fill}");
    assert_eq!(fill["side"], "A");
    assert_eq!(fill["sz"], "380.0");
    assert_eq!(fill["px"], fill["liquidation"]["markPx"]);
    assert_ne!(
        fill["fee"], "0.0",
        "a market liquidation pays the taker fee"
    );
    assert!(
        pushes
            .iter()
            .any(|p| p.frame.starts_with("{\"channel\":\"user\"")
                && p.frame.contains("liquidated_user")),
        "a liquidation event for the user channel"
    );
    // That restored the margin: nothing more is liquidated at this price.
    e.tick(t0 + 300);
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::from(1_520));
    // Within the 30 s cooldown a liquidation takes the whole position.
    e.markets[0].oracle = Decimal::new(965, 1);
    e.tick(t0 + 10_000);
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::ZERO);
    let left = e.accounts[&owner].usdc;
    assert!(
        left > Decimal::ZERO && left < Decimal::from(4_000),
        "{left}"
    );

    // A gap to under two thirds of maintenance: the backstop takes the position with no fee,
    // and the maintenance margin is not returned: the account ends at zero.
    e.markets[0].oracle = Decimal::from(100);
    e.tick(t0 + 60_000);
    let sz = (left * Decimal::from(19) / Decimal::from(100)).floor();
    buy(&mut e, &sz.to_string());
    e.markets[0].oracle = Decimal::from(96);
    e.tick(t0 + 60_100);
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::ZERO);
    let fill = e.accounts[&owner].fills.last().unwrap().clone();
    assert_eq!(fill["liquidation"]["method"], "backstop", "{fill}");
    assert_eq!(fill["fee"], "0.0", "{fill}");
    assert_eq!(e.accounts[&owner].usdc, Decimal::ZERO);
}

#[test]
fn a_twap_order_executes_in_30_s_suborders_over_its_minutes_and_its_fills_say_so() {
    let mut e = ex();
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    let t0 = e.now_ms;
    // 5 BTC (at 100) over 5 minutes: 10 suborders of 0.5, the first at once.
    let r = raw(
        &mut e,
        json!({"type": "twapOrder", "twap": {"a": 0, "b": true, "s": "5", "r": false, "m": 5, "t": false}}),
    );
    let id = r["response"]["data"]["status"]["running"]["twapId"]
        .as_u64()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::new(5, 1));
    let mut history = Vec::new();
    for k in 1..=12 {
        let pushes = e.tick(t0 + k * 30_000);
        history.extend(
            pushes
                .into_iter()
                .filter(|p| p.frame.contains("\"channel\":\"userTwapHistory\"")),
        );
    }
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::from(5));
    let slices = &e.accounts[&owner].twap_slice_fills;
    assert_eq!(slices.len(), 10, "one fill per suborder at this depth");
    assert!(
        slices
            .iter()
            .all(|s| s["twapId"] == id && s["fill"]["twapId"] == id)
    );
    let h = &e.accounts[&owner].twap_history;
    assert_eq!(h[0]["status"]["status"], "activated");
    assert_eq!(h[1]["status"]["status"], "finished");
    assert_eq!(h[1]["state"]["executedSz"], "5.0");
    assert_eq!(history.len(), 1, "the finish was pushed");
    assert!(e.accounts[&owner].twaps.is_empty());

    // A cancelled one keeps what it executed, and says so.
    let r = raw(
        &mut e,
        json!({"type": "twapOrder", "twap": {"a": 0, "b": false, "s": "5", "r": true, "m": 5, "t": false}}),
    );
    let id = r["response"]["data"]["status"]["running"]["twapId"]
        .as_u64()
        .unwrap();
    let r = raw(&mut e, json!({"type": "twapCancel", "a": 0, "t": id}));
    assert_eq!(r["response"]["data"]["status"], "success", "{r}");
    assert_eq!(e.accounts[&owner].position("BTC"), Decimal::new(45, 1));
    let last = e.accounts[&owner].twap_history.last().unwrap().clone();
    assert_eq!(last["status"]["status"], "terminated");
    let r = raw(&mut e, json!({"type": "twapCancel", "a": 0, "t": id}));
    assert!(r["response"]["data"]["status"]["error"].is_string(), "{r}");
    // Too small per suborder is refused.
    let r = raw(
        &mut e,
        json!({"type": "twapOrder", "twap": {"a": 0, "b": true, "s": "0.001", "r": false, "m": 60, "t": false}}),
    );
    assert!(r["response"]["data"]["status"]["error"].is_string(), "{r}");
}

#[test]
fn books_aggregate_to_significant_figures_and_mantissa_below_one_too() {
    use crate::sim::exchange::history::aggregate;
    let d = |s: &str| <Decimal as std::str::FromStr>::from_str(s).unwrap();
    let bids = vec![
        (d("0.19995"), d("1")),
        (d("0.19985"), d("2")),
        (d("0.19875"), d("4")),
    ];
    // 3 figures of 0.19995 are 0.199 (a step of 0.001), not 0.1.
    assert_eq!(
        aggregate(&bids, 3, 1, true),
        vec![(d("0.199"), d("3")), (d("0.198"), d("4"))]
    );
    let asks = vec![
        (d("64001"), d("1")),
        (d("64003"), d("1")),
        (d("64011"), d("1")),
    ];
    assert_eq!(
        aggregate(&asks, 5, 1, false),
        vec![
            (d("64001"), d("1")),
            (d("64003"), d("1")),
            (d("64011"), d("1"))
        ]
    );
    // 5 figures with mantissa 5: a step of 5.
    assert_eq!(
        aggregate(&asks, 5, 5, false),
        vec![(d("64005"), d("2")), (d("64015"), d("1"))]
    );
    assert_eq!(aggregate(&asks, 2, 1, false), vec![(d("65000"), d("3"))]);
}
