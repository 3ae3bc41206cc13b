//! A fuzz run over everything a venue can send the adapter: WebSocket frames (market data, order
//! updates, fills, post answers for orders, cancels and info, errors, unknown channels) and the
//! answers of a live reconcile. Inputs are recorded frames mutated by a seeded generator
//! (byte flips, cuts, inserts, splices, hostile numbers); the adapter must never panic.
//!
//! `FUZZ_INPUTS` sets how many inputs (default 20,000, the CI share; the documented run in
//! docs/venue.md used 1,200,000). Deterministic: the same count gives the same inputs.

use super::adapter_tests::synced_adapter;
use crate::engine::hardstop::HardStopLatch;
use crate::venue::{Outbox, VenueAdapter};
use std::sync::Arc;

const CORPUS: &[&str] = &[
    r#"{"channel":"bbo","data":{"coin":"BTC","time":1,"bbo":[{"px":"99","sz":"1","n":1},{"px":"101","sz":"1","n":1}]}}"#,
    r#"{"channel":"l2Book","data":{"coin":"BTC","time":2,"levels":[[{"px":"99.5","sz":"2","n":3}],[{"px":"100.5","sz":"1.5","n":1}]]}}"#,
    r#"{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"funding":"0.0001","openInterest":"10","prevDayPx":"99","dayNtlVlm":"1000","premium":"0.0","oraclePx":"100.0","markPx":"100.1","midPx":"100.0","impactPxs":["99.9","100.1"],"dayBaseVlm":"10"}}}"#,
    r#"{"channel":"orderUpdates","data":[{"order":{"coin":"BTC","side":"B","limitPx":"100.0","sz":"0.0","oid":77,"timestamp":1,"origSz":"0.01","cloid":"0x00000000000000010000000000000001"},"status":"filled","statusTimestamp":2}]}"#,
    r#"{"channel":"orderUpdates","data":[{"order":{"coin":"BTC","side":"A","limitPx":"101","sz":"0.01","oid":78,"timestamp":1,"origSz":"0.01"},"status":"scheduledCancel","statusTimestamp":3}]}"#,
    r#"{"channel":"userFills","data":{"isSnapshot":false,"user":"0x0","fills":[{"coin":"BTC","px":"100.0","sz":"0.01","side":"B","time":900,"startPosition":"0","dir":"Open Long","closedPnl":"0","hash":"0x1","oid":77,"crossed":true,"fee":"0.01","tid":5,"feeToken":"USDC","cloid":"0x00000000000000010000000000000001"}]}}"#,
    r#"{"channel":"user","data":{"nonUserCancel":[{"coin":"BTC","oid":78}]}}"#,
    r#"{"channel":"post","data":{"id":1,"response":{"type":"action","payload":{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":77}},{"filled":{"totalSz":"0.01","avgPx":"100","oid":78}},{"error":"Order must have minimum value of $10."}]}}}}}"#,
    r#"{"channel":"post","data":{"id":2,"response":{"type":"action","payload":{"status":"ok","response":{"type":"cancel","data":{"statuses":["success",{"error":"Order was never placed"}]}}}}}"#,
    r#"{"channel":"post","data":{"id":3,"response":{"type":"action","payload":{"status":"err","response":"User or API Wallet 0x0 does not exist."}}}}"#,
    r#"{"channel":"post","data":{"id":4,"response":{"type":"info","payload":{"type":"clearinghouseState","data":{"assetPositions":[{"position":{"coin":"BTC","szi":"0.5","entryPx":"100.0"},"type":"oneWay"}],"time":1000}}}}}"#,
    r#"{"channel":"post","data":{"id":5,"response":{"type":"error","payload":"too many requests"}}}"#,
    r#"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"bbo","coin":"BTC"}}}"#,
    r#"{"channel":"pong"}"#,
    r#"{"channel":"error","data":"Invalid subscription"}"#,
    r#"{"channel":"somethingNew","data":{"x":[1,2,3]}}"#,
    "Websocket connection established.",
];

/// Live reconcile answers (clearinghouseState, openOrders, userFillsByTime, orderStatus).
const ANSWERS: &[&str] = &[
    r#"{"assetPositions":[{"position":{"coin":"BTC","szi":"-0.25","entryPx":"101.5"},"type":"oneWay"}],"time":5000}"#,
    r#"[{"coin":"BTC","side":"B","limitPx":"99","sz":"0.01","oid":91,"timestamp":4000,"origSz":"0.01","cloid":"0x00000000000000010000000000000009"}]"#,
    r#"[{"coin":"BTC","px":"100.0","sz":"0.01","side":"A","time":4500,"startPosition":"0","dir":"Open Short","closedPnl":"0","hash":"0x2","oid":90,"crossed":true,"fee":"0.01","tid":6,"feeToken":"USDC"}]"#,
    r#"{"status":"order","order":{"order":{"coin":"BTC","side":"B","limitPx":"100","sz":"0.0","oid":92,"timestamp":1,"origSz":"0.01"},"status":"filled","statusTimestamp":2}}"#,
];

/// Numbers and strings a hostile venue might send in place of sane ones.
const HOSTILE: &[&str] = &[
    "-0",
    "0",
    "-1",
    "1e400",
    "NaN",
    "\"\"",
    "null",
    "99999999999999999999999999999999999",
    "18446744073709551616",
    "\"0x\"",
    "[]",
    "{}",
    "\"\\u0000\"",
    "1.0000000000000000000000000001",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `input` (as bytes; the result may not be UTF-8, which the caller skips as
/// the WebSocket layer would).
fn mutate(rng: &mut Rng, input: &str, other: &str) -> Vec<u8> {
    let mut b = input.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            break;
        }
        let i = rng.below(b.len());
        match rng.below(7) {
            0 => b[i] ^= 1 << rng.below(8),
            1 => b.truncate(i),
            2 => {
                b.remove(i);
            }
            3 => b.insert(i, b"{}[]\",:0-.e\\"[rng.below(12)]),
            4 => {
                let j = rng.below(other.len().max(1));
                b.truncate(i);
                b.extend_from_slice(&other.as_bytes()[j.min(other.len())..]);
            }
            5 => {
                // A value replaced: from a digit or a quote to the next delimiter.
                let end = b[i..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']'))
                    .map_or(b.len(), |p| i + p);
                let h = HOSTILE[rng.below(HOSTILE.len())].as_bytes();
                b.splice(i..end, h.iter().copied());
            }
            _ => {
                let j = rng.below(b.len());
                b.swap(i, j);
            }
        }
    }
    b
}

#[test]
fn no_frame_or_answer_a_venue_can_send_panics_the_adapter() {
    let inputs: usize = std::env::var("FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut a, now) = synced_adapter(Arc::new(HardStopLatch::new()));
    let mut out = Outbox::default();
    let mut done = 0usize;
    while done < inputs {
        let n = rng.below(CORPUS.len() + 1);
        if n == CORPUS.len() {
            // A live reconcile with mutated answers.
            out.events.clear();
            out.frames.clear();
            if let Some(q) = a.reconcile_queries(now, &mut out) {
                let answers: Vec<Result<String, String>> = (0..q.len())
                    .map(|i| {
                        let base = ANSWERS[i.min(ANSWERS.len() - 1)];
                        let other = ANSWERS[rng.below(ANSWERS.len())];
                        let m = mutate(&mut rng, base, other);
                        String::from_utf8(m).map_err(|_| "not utf-8".to_string())
                    })
                    .collect();
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    a.reconcile_answers(answers, now, &mut out)
                }));
                assert!(r.is_ok(), "reconcile answers panicked (input {done})");
            }
            done += 1;
            continue;
        }
        let other = CORPUS[rng.below(CORPUS.len())];
        let frame = mutate(&mut rng, CORPUS[n], other);
        let Ok(text) = String::from_utf8(frame) else {
            continue;
        };
        out.events.clear();
        out.frames.clear();
        out.end = None;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            a.on_frame(&text, now, &mut out)
        }));
        assert!(r.is_ok(), "panicked on input {done}: {text}");
        done += 1;
    }
    if inputs >= 100_000 {
        eprintln!("fuzz: {done} inputs, 0 panics");
    }
}
