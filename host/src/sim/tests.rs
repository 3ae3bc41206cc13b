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
