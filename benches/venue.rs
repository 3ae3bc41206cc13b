//! Hyperliquid venue costs, each against a baseline measured in the same run.
//!
//! Run: `cargo bench --bench venue` (figures go in docs/BENCHMARKS.md).
//!
//! 1. Parse per frame type through the host's real dispatch (`WsMessage::parse`: channel
//!    dispatch, typed structs, Decimal prices) against serde_json into a borrowed-`&str` struct
//!    of the same bytes (reference A1). Targets: ≤ 1.35× for bbo, ≤ 1.45× for a 20-level l2Book.
//! 2. The full signing path of a one-order action (build the wire order, msgpack into a reused
//!    buffer, connectionId, EIP-712 digest, recoverable ECDSA) against a bare libsecp256k1
//!    recoverable sign of the same digest. Target ≤ 1.15×.
//!
//! Each figure is the median of per-batch means (batches interleaved between variants).

use rust_decimal::Decimal;
use serde::Deserialize;
use std::hint::black_box;
use std::time::Instant;
use strategy_host::venue::hyperliquid::actions::{
    Action, Grouping, OrderTypeWire, OrderWire, TifWire, WireStr, msgpack_into,
};
use strategy_host::venue::hyperliquid::signing::{PrivateKey, action_hash, agent_digest};
use strategy_host::venue::hyperliquid::tick::{AssetSpec, prepare_order};
use strategy_host::venue::hyperliquid::wire::WsMessage;
use strategy_host_e2e::bench::{machine, summary};

const BBO: &str = r#"{"channel":"bbo","data":{"coin":"BTC","time":1766566375292,"bbo":[{"px":"64412.5","sz":"1.2345","n":3},{"px":"64413.0","sz":"0.5","n":1}]}}"#;
const CTX: &str = r#"{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"funding":"0.0000125","openInterest":"32227.66018","prevDayPx":"63564.0","dayNtlVlm":"1128098483.2000689507","premium":"-0.0002483354","oraclePx":"64429.0","markPx":"64405.0","midPx":"64412.5","impactPxs":["64404.4","64413.0"],"dayBaseVlm":"17577.61508"}}}"#;

fn book(levels: usize) -> String {
    let side = |base: f64, step: f64| -> String {
        (0..levels)
            .map(|i| {
                format!(
                    r#"{{"px":"{:.1}","sz":"{:.4}","n":{}}}"#,
                    base + step * i as f64,
                    0.5 + i as f64 * 0.37,
                    1 + i % 7
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"channel":"l2Book","data":{{"coin":"BTC","time":1764842873555,"levels":[[{}],[{}]]}}}}"#,
        side(64412.5, -0.5),
        side(64413.0, 0.5)
    )
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawLevel<'a> {
    px: &'a str,
    sz: &'a str,
    n: u32,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawBboData<'a> {
    coin: &'a str,
    time: u64,
    #[serde(borrow)]
    bbo: [Option<RawLevel<'a>>; 2],
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawBookData<'a> {
    coin: &'a str,
    time: u64,
    #[serde(borrow)]
    levels: [Vec<RawLevel<'a>>; 2],
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawCtx<'a> {
    #[serde(rename = "oraclePx")]
    oracle: &'a str,
    #[serde(rename = "markPx")]
    mark: &'a str,
    #[serde(rename = "midPx")]
    mid: Option<&'a str>,
    funding: &'a str,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawCtxData<'a> {
    coin: &'a str,
    #[serde(borrow)]
    ctx: RawCtx<'a>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Raw<'a, T> {
    channel: &'a str,
    data: T,
}

fn time<F: FnMut()>(batch: usize, mut f: F) -> f64 {
    let t = Instant::now();
    for _ in 0..batch {
        f();
    }
    t.elapsed().as_nanos() as f64 / batch as f64
}

fn compare<A: FnMut(), B: FnMut()>(
    rounds: usize,
    batch: usize,
    mut host: A,
    mut base: B,
) -> (f64, f64) {
    let (mut h, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        h.push(time(batch, &mut host));
        b.push(time(batch, &mut base));
    }
    (summary(&mut h).0, summary(&mut b).0)
}

fn main() {
    println!("venue: Hyperliquid parse and signing costs (median of batch means)");
    println!("machine: {}", machine());
    let book20 = book(20);
    let book5 = book(5);
    let (h, b) = compare(
        2_000,
        500,
        || {
            black_box(WsMessage::parse(black_box(BBO)).unwrap());
        },
        || {
            black_box(serde_json::from_str::<Raw<'_, RawBboData<'_>>>(black_box(BBO)).unwrap());
        },
    );
    println!(
        "  parse bbo ({} B)            host {h:8.1} ns   borrowed {b:8.1} ns   ratio {:.2}   target <= 1.35",
        BBO.len(),
        h / b
    );
    let (h, b) = compare(
        1_000,
        100,
        || {
            black_box(WsMessage::parse(black_box(&book20)).unwrap());
        },
        || {
            black_box(
                serde_json::from_str::<Raw<'_, RawBookData<'_>>>(black_box(&book20)).unwrap(),
            );
        },
    );
    println!(
        "  parse l2Book 20 ({} B)    host {h:8.1} ns   borrowed {b:8.1} ns   ratio {:.2}   target <= 1.45",
        book20.len(),
        h / b
    );
    let (h, b) = compare(
        1_000,
        200,
        || {
            black_box(WsMessage::parse(black_box(&book5)).unwrap());
        },
        || {
            black_box(serde_json::from_str::<Raw<'_, RawBookData<'_>>>(black_box(&book5)).unwrap());
        },
    );
    println!(
        "  parse l2Book 5 ({} B)      host {h:8.1} ns   borrowed {b:8.1} ns   ratio {:.2}",
        book5.len(),
        h / b
    );
    let (h, b) = compare(
        2_000,
        500,
        || {
            black_box(WsMessage::parse(black_box(CTX)).unwrap());
        },
        || {
            black_box(serde_json::from_str::<Raw<'_, RawCtxData<'_>>>(black_box(CTX)).unwrap());
        },
    );
    println!(
        "  parse activeAssetCtx ({} B) host {h:8.1} ns   borrowed {b:8.1} ns   ratio {:.2}",
        CTX.len(),
        h / b
    );

    // An order's price and size in wire form: inline, by hand, vs a String through Display.
    let (wpx, wsz): (Decimal, Decimal) = ("64412.5".parse().unwrap(), "0.01230".parse().unwrap());
    let (h, b) = compare(
        300,
        2000,
        || {
            black_box(WireStr::decimal(black_box(wpx)));
            black_box(WireStr::decimal(black_box(wsz)));
        },
        || {
            // What `tick::wire` did before: Decimal's Display of the normalized value.
            black_box(black_box(wpx).normalize().to_string());
            black_box(black_box(wsz).normalize().to_string());
        },
    );
    println!(
        "  price + size wire form       inline {h:8.1} ns   String via Display {b:8.1} ns   ratio {:.2}",
        h / b
    );

    // Signing.
    let key =
        PrivateKey::from_hex("0x0123456789012345678901234567890123456789012345678901234567890123")
            .unwrap();
    let secret = secp256k1::SecretKey::from_byte_array([
        0x01, 0x23, 0x45, 0x67, 0x89, 0x01, 0x23, 0x45, 0x67, 0x89, 0x01, 0x23, 0x45, 0x67, 0x89,
        0x01, 0x23, 0x45, 0x67, 0x89, 0x01, 0x23, 0x45, 0x67, 0x89, 0x01, 0x23, 0x45, 0x67, 0x89,
        0x01, 0x23,
    ])
    .unwrap();
    let spec = AssetSpec {
        asset: 0,
        sz_decimals: 5,
        is_spot: false,
    };
    let px: Decimal = "64412.57".parse().unwrap();
    let sz: Decimal = "0.0123".parse().unwrap();
    let mut buf = Vec::with_capacity(256);
    let mut nonce = 1_700_000_000_000u64;
    let digest = std::cell::Cell::new([7u8; 32]);
    // The baseline: a bare recoverable sign with its own context, built once.
    let bare = secp256k1::Secp256k1::signing_only();
    let (h, b) = compare(
        300,
        20,
        || {
            nonce += 1;
            let (p, s) = prepare_order(
                px,
                sz,
                strategy_host::engine::types::Side::Buy,
                false,
                &spec,
            )
            .unwrap();
            let action = Action::Order {
                orders: vec![OrderWire {
                    a: spec.asset,
                    b: true,
                    p: WireStr::decimal(p),
                    s: WireStr::decimal(s),
                    r: false,
                    t: OrderTypeWire::Limit { tif: TifWire::Ioc },
                    c: Some(WireStr::new("0x0000000000000000000000000000002a").unwrap()),
                }],
                grouping: Grouping::Na,
                builder: None,
            };
            msgpack_into(&action, &mut buf).unwrap();
            let cid = action_hash(&buf, nonce, None, None);
            digest.set(agent_digest(&cid, false));
            black_box(key.sign_digest(&digest.get()));
        },
        || {
            black_box(bare.sign_ecdsa_recoverable(
                secp256k1::Message::from_digest(black_box(digest.get())),
                &secret,
            ));
        },
    );
    println!(
        "  sign one-order action        host {:8.2} us   bare sign {:8.2} us   ratio {:.3}   target <= 1.15",
        h / 1000.0,
        b / 1000.0,
        h / b
    );
}
