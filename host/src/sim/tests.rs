//! The simulated exchange's rules, driven with requests signed by the host's own signer.

use super::exchange::{AccountSpec, Exchange};
use super::market::MarketSpec;
use crate::venue::hyperliquid::actions::{
    Action, Grouping, OrderTypeWire, OrderWire, TifWire, WireStr, sign_action,
};
use crate::venue::hyperliquid::signing::PrivateKey;
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub(super) const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";
pub(super) const AGENT: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

pub(super) fn ex() -> Exchange {
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
pub(super) fn with_markets(markets: Vec<MarketSpec>, t0: u64) -> Exchange {
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
            abstraction: None,
        }],
        t0,
    );
    e.tick(t0);
    e
}

pub(super) fn signed(key: &str, action: &Action, nonce: u64) -> Value {
    let k = PrivateKey::from_hex(key).unwrap();
    let mut buf = Vec::new();
    serde_json::to_value(sign_action(&k, action, nonce, None, None, false, &mut buf).unwrap())
        .unwrap()
}

pub(super) fn order(
    a: u32,
    buy: bool,
    px: &str,
    sz: &str,
    tif: TifWire,
    reduce_only: bool,
) -> Action {
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

fn envelope(
    action: Value,
    nonce: u64,
    sig: crate::venue::hyperliquid::signing::Signature,
) -> Value {
    use crate::hex::Prefixed;
    json!({"action": action, "nonce": nonce, "signature": {
        "r": Prefixed::<66>::new(&sig.r).as_str(), "s": Prefixed::<66>::new(&sig.s).as_str(), "v": sig.v}})
}

/// Sends a raw L1 action (one the host's own Action type does not build), signed by the test
/// account's agent, and returns the answer.
pub(super) fn raw(e: &mut Exchange, action: Value) -> Value {
    use crate::venue::hyperliquid::actions::msgpack_into;
    use crate::venue::hyperliquid::signing::{action_hash, agent_digest};
    let nonce = next_nonce(e);
    let mut buf = Vec::new();
    msgpack_into(&action, &mut buf).unwrap();
    let digest = agent_digest(&action_hash(&buf, nonce, None, None), false);
    let sig = PrivateKey::from_hex(AGENT).unwrap().sign_digest(&digest);
    e.exchange(&envelope(action, nonce, sig)).0
}

/// `raw`, asserting the answer is `ok`.
pub(super) fn l1(e: &mut Exchange, action: Value) -> Value {
    let r = raw(e, action);
    assert_eq!(r["status"], "ok", "{r}");
    r
}

/// A nonce no other test action used: the exchange's time plus a count.
fn next_nonce(e: &Exchange) -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    e.now_ms + N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Sends a user-signed action (testnet), signed by the test account's own key, and returns the
/// answer; its `nonce` is set unless it carries a `time`.
pub(super) fn user_raw(e: &mut Exchange, mut action: Value) -> Value {
    action["signatureChainId"] = json!("0x66eee");
    action["hyperliquidChain"] = json!("Testnet");
    if action.get("time").is_none() {
        action["nonce"] = json!(next_nonce(e));
    }
    let (digest, nonce) = super::exchange::transfers::user_signed_digest(&action).unwrap();
    let sig = PrivateKey::from_hex(KEY).unwrap().sign_digest(&digest);
    e.exchange(&envelope(action, nonce, sig)).0
}

/// `user_raw`, asserting the answer is `ok`.
pub(super) fn user(e: &mut Exchange, action: Value) -> Value {
    let r = user_raw(e, action);
    assert_eq!(r["status"], "ok", "{r}");
    r
}

pub(super) fn status(resp: &Value) -> &Value {
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
    // xyz is dex 1: asset 110000 (its collateral moved there, as `sendAsset` would).
    let owner = PrivateKey::from_hex(KEY).unwrap().address();
    let collateral = &mut e.accounts.get_mut(&owner).unwrap().dex_collateral;
    collateral.insert("xyz".into(), Decimal::from(100));
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

/// A new account is in the venue's `default` mode: a HIP-3 order needs collateral moved to its
/// dex, and its PnL, fees and margin stay there. Dex abstraction lets a HIP-3 position draw on
/// the main dex's USDC; leaving it is refused while a position does; `agentSetAbstraction` and
/// `userDexAbstraction` set the mode as `userSetAbstraction` does.
#[test]
fn hip3_orders_need_their_dex_collateral_unless_dex_abstraction_is_on() {
    let mut e = ex();
    let owner = PrivateKey::from_hex(KEY).unwrap().address().to_string();
    let q = |e: &Exchange, kind: &str| e.info(&json!({"type": kind, "user": owner})).unwrap();
    let dex_state = |e: &Exchange, dex: &str| {
        e.info(&json!({"type": "clearinghouseState", "user": owner, "dex": dex}))
            .unwrap()
    };
    let num = |v: &Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
    assert_eq!(
        (q(&e, "userAbstraction"), q(&e, "userDexAbstraction")),
        (json!("default"), Value::Null)
    );
    let tsla = |e: &Exchange, buy: bool, sz: &str| {
        let (bid, ask) = e.markets[1].bbo(e.now_ms);
        let px = if buy {
            ask * Decimal::new(101, 2)
        } else {
            bid * Decimal::new(99, 2)
        };
        json!({"type": "order", "orders": [{"a": 110_000, "b": buy, "p": px.round_dp(2).to_string(), "s": sz, "r": false, "t": {"limit": {"tif": "Ioc"}}}], "grouping": "na"})
    };
    let refused = |r: &Value| status(r)["error"] == "Insufficient margin to place order.";
    let a = tsla(&e, true, "1");
    let r = raw(&mut e, a);
    assert!(refused(&r), "no collateral on xyz: {r}");

    // 100 USDC moved to xyz: a 1 TSLA order (~12.6 margin at 20x) fits, a 10 TSLA one does not.
    user(
        &mut e,
        json!({"type": "sendAsset", "destination": owner, "sourceDex": "", "destinationDex": "xyz", "token": "USDC", "amount": "100", "fromSubAccount": ""}),
    );
    let main_before = num(&dex_state(&e, "")["marginSummary"]["accountValue"]);
    let a = tsla(&e, true, "1");
    let r = l1(&mut e, a);
    assert!(status(&r)["filled"].is_object(), "{r}");
    let a = tsla(&e, true, "10");
    assert!(
        refused(&raw(&mut e, a)),
        "10 TSLA needs more than xyz holds"
    );
    let more = |usd: i64| json!({"type": "updateIsolatedMargin", "asset": 110_000, "isBuy": true, "ntli": usd * 1_000_000});
    let r = raw(&mut e, more(1_000));
    assert!(
        r["response"]
            .as_str()
            .unwrap()
            .contains("Insufficient margin"),
        "{r}"
    );
    l1(&mut e, more(50));
    let a = tsla(&e, false, "1");
    l1(&mut e, a);
    // The round trip's PnL and fees are the dex's: the main dex did not move.
    let fills = q(&e, "userFills");
    let (pnl, fees): (Decimal, Decimal) = fills
        .as_array()
        .unwrap()
        .iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(p, f), x| {
            (p + num(&x["closedPnl"]), f + num(&x["fee"]))
        });
    let xyz = dex_state(&e, "xyz");
    assert_eq!(
        num(&xyz["marginSummary"]["accountValue"]),
        Decimal::from(100) + pnl - fees,
        "{xyz}"
    );
    assert_eq!(
        num(&dex_state(&e, "")["marginSummary"]["accountValue"]),
        main_before
    );

    // Dex abstraction: the 10 TSLA order draws on the main dex; leaving it is refused while it
    // does, and unified accounts are not simulated.
    user(
        &mut e,
        json!({"type": "userDexAbstraction", "user": owner, "enabled": true}),
    );
    assert_eq!(
        (q(&e, "userAbstraction"), q(&e, "userDexAbstraction")),
        (json!("dexAbstraction"), json!(true))
    );
    let a = tsla(&e, true, "10");
    assert!(status(&l1(&mut e, a))["filled"].is_object());
    let r = raw(
        &mut e,
        json!({"type": "agentSetAbstraction", "abstraction": "i"}),
    );
    assert!(r["response"].as_str().unwrap().contains("sendAsset"), "{r}");
    let r = user_raw(
        &mut e,
        json!({"type": "userSetAbstraction", "user": owner, "abstraction": "unifiedAccount"}),
    );
    assert_eq!(r["status"], "err", "{r}");
    let a = tsla(&e, false, "10");
    l1(&mut e, a);
    l1(
        &mut e,
        json!({"type": "agentSetAbstraction", "abstraction": "i"}),
    );
    assert_eq!(
        (q(&e, "userAbstraction"), q(&e, "userDexAbstraction")),
        (json!("disabled"), json!(false))
    );
    l1(&mut e, json!({"type": "agentEnableDexAbstraction"}));
    assert_eq!(q(&e, "userAbstraction"), json!("dexAbstraction"));
}
