//! Parsing of the reference's recorded frames (§6) and responses (§2.4), and robustness:
//! random and mutated frames never panic the parser.

use super::wire::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Every frame of reference §6.1–6.3 (user/hash values as their authors truncated them).
pub const FRAMES: &[&str] = &[
    r#"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"bbo","coin":"HYPE"}}}"#,
    r#"{"channel":"bbo","data":{"coin":"HYPE","time":1766566375292,"bbo":[{"px":"23.757","sz":"42.09","n":1},{"px":"23.758","sz":"100.26","n":2}]}}"#,
    r#"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"l2Book","coin":"HYPE","nSigFigs":null,"mantissa":null}}}"#,
    r#"{"channel":"l2Book","data":{"coin":"HYPE","time":1764842873555,"levels":[[{"px":"34.967","sz":"2.85","n":1},{"px":"34.962","sz":"3.84","n":2}],[{"px":"34.969","sz":"1473.06","n":2},{"px":"34.97","sz":"1544.51","n":4}]]}}"#,
    r#"{"channel":"trades","data":[{"coin":"HYPE","side":"B","px":"35.276","sz":"5.78","time":1764835613064,"hash":"0x0000000000000000000000000000000000000000000000000000000000000000","tid":716095722814130,"users":["0x8cdba352268065be9d5444e1f82b8fe83717bbd5","0x13558be785661958932ceac35ba20de187275a42"]}]}"#,
    r#"{"channel":"orderUpdates","data":[{"order":{"coin":"@107","side":"B","limitPx":"30.0","sz":"0.49","oid":1,"timestamp":1764843090519,"origSz":"0.49"},"status":"open","statusTimestamp":1764843090519}]}"#,
    r#"{"channel":"user","data":{"fills":[{"coin":"@107","px":"34.895","sz":"0.5","side":"B","time":1764840678849,"startPosition":"0.01388282","dir":"Buy","closedPnl":"0.0","hash":"0x01","oid":257770947487,"crossed":true,"fee":"0.00031499","tid":1,"feeToken":"HYPE","twapId":null}]}}"#,
    r#"{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"funding":"0.0000125","openInterest":"32227.66018","prevDayPx":"63564.0","dayNtlVlm":"1128098483.2000689507","premium":"-0.0002483354","oraclePx":"64429.0","markPx":"64405.0","midPx":"64412.5","impactPxs":["64404.4","64413.0"],"dayBaseVlm":"17577.61508"}}}"#,
    r#"{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"funding":"0.0000124451","openInterest":"40313.7273799999","prevDayPx":"63513.0","dayNtlVlm":"1371501207.1637816429","premium":"-0.0004238885","oraclePx":"63696.0","markPx":"63673.0","midPx":"63668.5","impactPxs":["63668.0","63669.0"],"dayBaseVlm":"21569.5501"}}}"#,
    r#"{"channel":"l2Book","data":{"coin":"xyz:SP500","time":1790232237073,"levels":[[{"px":"7673.3","sz":"8.066","n":2},{"px":"7673.1","sz":"6.824","n":1},{"px":"7673.0","sz":"0.1","n":3}],[{"px":"7673.4","sz":"5.324","n":6},{"px":"7673.6","sz":"0.13","n":1},{"px":"7673.7","sz":"3.692","n":3}]]}}"#,
    r#"{"channel":"l2Book","data":{"coin":"MATIC","time":1790232237073,"levels":[[],[]]}}"#,
    r#"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"userFills","user":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8","aggregateByTime":false}}}"#,
    r#"{"channel":"orderUpdates","data":[{"order":{"coin":"BTC","side":"B","limitPx":"31795.0","sz":"0.00037","oid":57118842019,"timestamp":1785261289146,"origSz":"0.00037","cloid":"0xa1f0cddc17303d07f3fd128d5b35071d"},"status":"open","statusTimestamp":1785261289146}]}"#,
    r#"{"channel":"orderUpdates","data":[{"order":{"coin":"BTC","side":"B","limitPx":"64020.0","sz":"1.17163","oid":502464968365,"timestamp":1784976929583,"origSz":"1.17163","cloid":"0xffabb2d185b75ea5ca0a5cd346b21507"},"status":"badAloPxRejected","statusTimestamp":1784976929583}]}"#,
    r#"{"channel":"userFills","data":{"isSnapshot":true,"user":"0x9be9...522f","fills":[{"coin":"xyz:SP500","px":"7429.1","sz":"1.149","side":"B","time":1784916125478,"startPosition":"0.0","dir":"Open Long","closedPnl":"0.0","hash":"0xa7bc...7e68","oid":502150498105,"crossed":false,"fee":"4.489271","builderFee":"4.268017","tid":955441961359817,"feeToken":"USDC","twapId":null}]}}"#,
    r#"{"channel":"post","data":{"id":256,"response":{"type":"action","payload":{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":88383}}]}}}}}}"#,
    r#"{"channel":"post","data":{"id":123,"response":{"type":"info","payload":{"type":"l2Book","data":{"coin":"ETH","time":1,"levels":[[{"px":"3007.1","sz":"2.7954","n":1}],[{"px":"3040.1","sz":"3.9499","n":1}]]}}}}}"#,
    r#"{"channel":"pong"}"#,
    r#"{"channel":"error","data":"Already subscribed: {\"type\":\"bbo\",\"coin\":\"BTC\"}"}"#,
    "Websocket connection established.",
];

#[test]
fn every_recorded_frame_parses() {
    for f in FRAMES {
        WsMessage::parse(f).unwrap_or_else(|e| panic!("{e}: {f}"));
    }
}

#[test]
fn bbo_and_book_values() {
    match WsMessage::parse(FRAMES[1]).unwrap() {
        WsMessage::Bbo(b) => {
            assert_eq!(b.coin, "HYPE");
            assert_eq!(b.time, 1766566375292);
            let [bid, ask] = b.bbo;
            assert_eq!(
                (bid.unwrap().px, bid.unwrap().sz, bid.unwrap().n),
                (d("23.757"), d("42.09"), 1)
            );
            assert_eq!(ask.unwrap().px, d("23.758"));
        }
        m => panic!("{m:?}"),
    }
    match WsMessage::parse(FRAMES[9]).unwrap() {
        WsMessage::L2Book(b) => {
            assert_eq!(b.coin, "xyz:SP500", "HIP-3 coins keep their dex prefix");
            assert_eq!(b.levels[0][0].px, d("7673.3"));
            assert_eq!(b.levels[1].len(), 3);
        }
        m => panic!("{m:?}"),
    }
    match WsMessage::parse(FRAMES[10]).unwrap() {
        WsMessage::L2Book(b) => assert!(b.levels[0].is_empty() && b.levels[1].is_empty()),
        m => panic!("{m:?}"),
    }
    let null_side =
        r#"{"channel":"bbo","data":{"coin":"X","time":1,"bbo":[null,{"px":"1","sz":"2","n":1}]}}"#;
    match WsMessage::parse(null_side).unwrap() {
        WsMessage::Bbo(b) => assert!(b.bbo[0].is_none()),
        m => panic!("{m:?}"),
    }
}

#[test]
fn asset_ctx_user_and_order_frames() {
    match WsMessage::parse(FRAMES[7]).unwrap() {
        WsMessage::AssetCtx { ctx, is_spot } => {
            assert!(!is_spot);
            assert_eq!(ctx.ctx.oracle_px, d("64429.0"));
            assert_eq!(ctx.ctx.mark_px, d("64405"));
            assert_eq!(ctx.ctx.mid_px, Some(d("64412.5")));
            assert_eq!(ctx.ctx.funding, Some(d("0.0000125")));
        }
        m => panic!("{m:?}"),
    }
    let spot = r#"{"channel":"activeSpotAssetCtx","data":{"coin":"@107","ctx":{"oraclePx":"1","markPx":"1","midPx":null,"prevDayPx":"1"}}}"#;
    assert!(matches!(
        WsMessage::parse(spot).unwrap(),
        WsMessage::AssetCtx { is_spot: true, .. }
    ));
    match WsMessage::parse(FRAMES[12]).unwrap() {
        WsMessage::OrderUpdates(u) => {
            let o = &u[0].order;
            assert_eq!(o.oid, 57118842019, "oids exceed u32");
            assert_eq!(
                o.cloid.as_deref(),
                Some("0xa1f0cddc17303d07f3fd128d5b35071d")
            );
            assert_eq!(o.limit_px, d("31795"));
            assert_eq!(u[0].status, "open");
        }
        m => panic!("{m:?}"),
    }
    match WsMessage::parse(FRAMES[5]).unwrap() {
        WsMessage::OrderUpdates(u) => assert_eq!(u[0].order.cloid, None, "absent cloid"),
        m => panic!("{m:?}"),
    }
    match WsMessage::parse(FRAMES[14]).unwrap() {
        WsMessage::UserFills(f) => {
            assert!(f.is_snapshot);
            assert_eq!(f.fills[0].tid, 955441961359817);
            assert_eq!(f.fills[0].fee, d("4.489271"));
            assert_eq!(f.fills[0].side, WireSide::Bid);
        }
        m => panic!("{m:?}"),
    }
    match WsMessage::parse(FRAMES[6]).unwrap() {
        WsMessage::User(u) => assert_eq!(u.fills.unwrap()[0].oid, 257770947487),
        m => panic!("{m:?}"),
    }
    assert!(matches!(WsMessage::parse(FRAMES[4]).unwrap(), WsMessage::Unknown(c) if c == "trades"));
    assert!(matches!(
        WsMessage::parse(FRAMES[17]).unwrap(),
        WsMessage::Pong
    ));
    assert!(matches!(
        WsMessage::parse(FRAMES[19]).unwrap(),
        WsMessage::Connected
    ));
    assert!(
        matches!(WsMessage::parse(FRAMES[18]).unwrap(), WsMessage::Error(e) if e.starts_with("Already subscribed"))
    );
}

#[test]
fn post_responses_of_every_shape() {
    let cases = [
        r#"{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":77738308}}]}}}"#,
        r#"{"status":"ok","response":{"type":"order","data":{"statuses":[{"filled":{"totalSz":"0.02","avgPx":"1891.4","oid":77747314}}]}}}"#,
        r#"{"status":"ok","response":{"type":"order","data":{"statuses":[{"error":"Order must have minimum value of $10."}]}}}"#,
        r#"{"status":"ok","response":{"type":"cancel","data":{"statuses":["success"]}}}"#,
        r#"{"status":"ok","response":{"type":"cancel","data":{"statuses":[{"error":"Order was never placed, already canceled, or filled."}]}}}"#,
        r#"{"status":"ok","response":{"type":"default"}}"#,
        r#"{"status":"err","response":"L1 error: User or API Wallet 0x0123 does not exist."}"#,
        r#"{"status":"ok","response":{"type":"order","data":{"statuses":["waitingForFill",{"resting":{"oid":1,"cloid":"0x01"}}]}}}"#,
    ];
    let parsed: Vec<ExchangeResponse<'_>> = cases
        .iter()
        .map(|c| serde_json::from_str(c).unwrap())
        .collect();
    assert!(
        matches!(&parsed[0], ExchangeResponse::Ok(OkResponse::Order { statuses }) if statuses[0] == OrderStatusItem::Resting { oid: 77738308 })
    );
    assert!(
        matches!(&parsed[1], ExchangeResponse::Ok(OkResponse::Order { statuses })
        if statuses[0] == OrderStatusItem::Filled { total_sz: d("0.02"), avg_px: d("1891.4"), oid: 77747314 })
    );
    assert!(
        matches!(&parsed[2], ExchangeResponse::Ok(OkResponse::Order { statuses }) if matches!(&statuses[0], OrderStatusItem::Error(e) if e.contains("minimum value")))
    );
    assert!(
        matches!(&parsed[3], ExchangeResponse::Ok(OkResponse::Cancel { statuses }) if statuses[0] == CancelStatusItem::Success)
    );
    assert!(
        matches!(&parsed[4], ExchangeResponse::Ok(OkResponse::Cancel { statuses }) if matches!(statuses[0], CancelStatusItem::Error(_)))
    );
    assert!(matches!(
        &parsed[5],
        ExchangeResponse::Ok(OkResponse::Default)
    ));
    assert!(matches!(&parsed[6], ExchangeResponse::Err(e) if e.contains("does not exist")));
    assert!(
        matches!(&parsed[7], ExchangeResponse::Ok(OkResponse::Order { statuses }) if statuses[0] == OrderStatusItem::WaitingForFill)
    );
    match WsMessage::parse(FRAMES[15]).unwrap() {
        WsMessage::Post(p) => {
            assert_eq!(p.id, 256);
            assert!(matches!(
                p.response,
                PostResponse::Action(ExchangeResponse::Ok(OkResponse::Order { .. }))
            ));
        }
        m => panic!("{m:?}"),
    }
    match WsMessage::parse(FRAMES[16]).unwrap() {
        WsMessage::Post(p) => {
            assert!(matches!(p.response, PostResponse::Info(raw) if raw.get().contains("l2Book")))
        }
        m => panic!("{m:?}"),
    }
    let err = r#"{"channel":"post","data":{"id":7,"response":{"type":"error","payload":"too many pending post requests id=7"}}}"#;
    assert!(matches!(
        WsMessage::parse(err).unwrap(),
        WsMessage::Post(WsPost {
            id: 7,
            response: PostResponse::Error(_)
        })
    ));
}

#[test]
fn fast_decimal_takes_the_plain_forms_only() {
    assert_eq!(fast_decimal("64412.5"), Some(d("64412.5")));
    assert_eq!(fast_decimal("0.0000125"), Some(d("0.0000125")));
    assert_eq!(fast_decimal("-0.0002483354"), Some(d("-0.0002483354")));
    assert_eq!(fast_decimal("31795.0").unwrap().to_string(), "31795.0");
    for other in [
        "",
        "-",
        ".",
        "1.",
        ".5",
        "1e5",
        "1.2.3",
        "+1",
        "1128098483.2000689507",
        "abc",
    ] {
        assert_eq!(fast_decimal(other), None, "{other}");
    }
}

#[test]
fn malformed_frames_are_errors_not_panics() {
    for bad in [
        "",
        "{",
        "[]",
        "{\"data\":{}}",
        "{\"channel\":\"bbo\"}",
        "{\"data\":1,\"channel\":\"bbo\"}",
        r#"{"channel":"bbo","data":{"coin":"X","time":1,"bbo":[{"px":"abc","sz":"1","n":1},null]}}"#,
        "null",
        "\"text\"",
    ] {
        assert!(WsMessage::parse(bad).is_err(), "{bad}");
    }
}

fn mutate(frame: &str, ops: &[(usize, u8, u8)]) -> String {
    let mut b = frame.as_bytes().to_vec();
    for &(pos, kind, byte) in ops {
        if b.is_empty() {
            break;
        }
        let i = pos % b.len();
        match kind % 4 {
            0 => b[i] = byte,
            1 => {
                b.remove(i);
            }
            2 => b.insert(i, byte),
            _ => b.truncate(i),
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn fast_decimal_agrees_with_from_str(s in "-?[0-9]{0,12}(\\.[0-9]{0,10})?") {
        if let Some(fast) = fast_decimal(&s) {
            let slow = Decimal::from_str(&s).unwrap();
            prop_assert_eq!(fast, slow);
            prop_assert_eq!(fast.scale(), slow.scale(), "same scale: {}", s);
        }
    }

    #[test]
    fn random_text_never_panics(s in ".{0,300}") {
        let _ = WsMessage::parse(&s);
    }

    #[test]
    fn mutated_recorded_frames_never_panic(
        which in 0..FRAMES.len(),
        ops in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let text = mutate(FRAMES[which], &ops);
        let _ = WsMessage::parse(&text);
        let _ = serde_json::from_str::<ExchangeResponse<'_>>(&text);
    }
}

/// The bbo frame as serde alone reads it (what `WsMessage::parse` did before its fast path).
fn bbo_by_serde(text: &str) -> Option<WsBbo<'_>> {
    match serde_json::from_str::<WsMessage<'_>>(text) {
        Ok(WsMessage::Bbo(b)) => Some(b),
        _ => None,
    }
}

/// A bbo frame from its parts, spelled as given (so a part can be anything).
fn bbo_frame(coin: &str, time: &str, levels: [Option<(&str, &str, &str)>; 2]) -> String {
    let level = |l: Option<(&str, &str, &str)>| match l {
        None => "null".to_string(),
        Some((px, sz, n)) => format!(r#"{{"px":"{px}","sz":"{sz}","n":{n}}}"#),
    };
    format!(
        r#"{{"channel":"bbo","data":{{"coin":"{coin}","time":{time},"bbo":[{},{}]}}}}"#,
        level(levels[0]),
        level(levels[1])
    )
}

#[test]
fn bbo_fast_path_reads_the_recorded_frame_and_leaves_other_forms_to_serde() {
    assert_eq!(bbo_fast(FRAMES[1]), bbo_by_serde(FRAMES[1]));
    assert!(bbo_fast(FRAMES[1]).is_some());
    for other in [
        // Whitespace, another key order, an escaped coin, a leading zero, a fraction where an
        // integer goes, an exponent, an n beyond u32, trailing bytes: serde decides.
        r#"{"channel":"bbo", "data":{"coin":"X","time":1,"bbo":[null,null]}}"#,
        r#"{"channel":"bbo","data":{"time":1,"coin":"X","bbo":[null,null]}}"#,
        r#"{"channel":"bbo","data":{"coin":"X\u0041","time":1,"bbo":[null,null]}}"#,
        r#"{"channel":"bbo","data":{"coin":"X","time":01,"bbo":[null,null]}}"#,
        r#"{"channel":"bbo","data":{"coin":"X","time":1.5,"bbo":[null,null]}}"#,
        r#"{"channel":"bbo","data":{"coin":"X","time":1,"bbo":[{"px":"1e3","sz":"1","n":1},null]}}"#,
        r#"{"channel":"bbo","data":{"coin":"X","time":1,"bbo":[{"px":"1","sz":"1","n":4294967296},null]}}"#,
        r#"{"channel":"bbo","data":{"coin":"X","time":1,"bbo":[null,null]}} "#,
        r#"{"channel":"bbo","data":{"coin":"X","time":1,"bbo":[null,null]}}x"#,
    ] {
        assert_eq!(bbo_fast(other), None, "{other}");
    }
    // Left to serde, read as before: the escaped coin is unescaped.
    let escaped =
        bbo_by_serde(r#"{"channel":"bbo","data":{"coin":"X\u0041","time":1,"bbo":[null,null]}}"#);
    assert_eq!(escaped.unwrap().coin, "XA");
}

fn ctx_by_serde(text: &str) -> Option<WsAssetCtx<'_>> {
    #[derive(serde::Deserialize)]
    struct F<'a> {
        #[serde(borrow)]
        data: WsAssetCtx<'a>,
    }
    serde_json::from_str::<F<'_>>(text).ok().map(|f| f.data)
}

#[test]
fn ctx_fast_path_reads_the_recorded_frames_and_leaves_other_forms_to_serde() {
    for f in FRAMES
        .iter()
        .filter(|f| f.starts_with(r#"{"channel":"activeAssetCtx""#))
    {
        assert!(ctx_fast(f).is_some(), "{f}");
        assert_eq!(ctx_fast(f), ctx_by_serde(f), "{f}");
    }
    let ok = r#"{"channel":"activeAssetCtx","data":{"coin":"X","ctx":{"markPx":"2","midPx":null,"impactPxs":[],"oraclePx":"1"}}}"#;
    assert_eq!(ctx_fast(ok), ctx_by_serde(ok));
    assert_eq!(ctx_fast(ok).unwrap().ctx.mid_px, None);
    for other in [
        // Numbers, whitespace, a repeated key, a missing oracle, an escape, trailing bytes,
        // another channel, an array where a price goes: serde decides.
        r#"{"channel":"activeAssetCtx","data":{"coin":"X","ctx":{"oraclePx":1,"markPx":"2"}}}"#,
        r#"{"channel":"activeAssetCtx","data":{"coin":"X","ctx":{"oraclePx": "1","markPx":"2"}}}"#,
        r#"{"channel":"activeAssetCtx","data":{"coin":"X","ctx":{"oraclePx":"1","oraclePx":"1","markPx":"2"}}}"#,
        r#"{"channel":"activeAssetCtx","data":{"coin":"X","ctx":{"markPx":"2"}}}"#,
        r#"{"channel":"activeAssetCtx","data":{"coin":"X\u0041","ctx":{"oraclePx":"1","markPx":"2"}}}"#,
        r#"{"channel":"activeAssetCtx","data":{"coin":"X","ctx":{"oraclePx":"1","markPx":"2"}}} "#,
        r#"{"channel":"activeSpotAssetCtx","data":{"coin":"X","ctx":{"oraclePx":"1","markPx":"2"}}}"#,
        r#"{"channel":"activeAssetCtx","data":{"coin":"X","ctx":{"oraclePx":["1"],"markPx":"2"}}}"#,
    ] {
        assert_eq!(ctx_fast(other), None, "{other}");
    }
}

fn book_by_serde(text: &str) -> Option<WsBook<'_>> {
    #[derive(serde::Deserialize)]
    struct F<'a> {
        #[serde(borrow)]
        data: WsBook<'a>,
    }
    serde_json::from_str::<F<'_>>(text).ok().map(|f| f.data)
}

#[test]
fn book_fast_path_reads_the_recorded_frames_and_leaves_other_forms_to_serde() {
    for f in FRAMES
        .iter()
        .filter(|f| f.starts_with(r#"{"channel":"l2Book""#))
    {
        assert!(book_fast(f).is_some(), "{f}");
        assert_eq!(book_fast(f), book_by_serde(f), "{f}");
    }
    let empty = r#"{"channel":"l2Book","data":{"coin":"X","time":1,"levels":[[],[]]}}"#;
    assert_eq!(book_fast(empty), book_by_serde(empty));
    assert!(book_fast(empty).is_some());
    for other in [
        r#"{"channel":"l2Book","data":{"coin":"X","time":1,"levels":[[null],[]]}}"#,
        r#"{"channel":"l2Book","data":{"coin":"X","time":1,"levels":[[],[]],"spread":"1"}}"#,
        r#"{"channel":"l2Book","data":{"time":1,"coin":"X","levels":[[],[]]}}"#,
        r#"{"channel":"l2Book","data":{"coin":"X","time":1,"levels":[[], []]}}"#,
        r#"{"channel":"l2Book","data":{"coin":"X","time":1,"levels":[[],[],[]]}}"#,
    ] {
        assert_eq!(book_fast(other), None, "{other}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Books of the venue's form and byte mutations of them: whenever the fast path answers,
    /// serde gives the same answer; unmutated, it always answers.
    #[test]
    fn book_fast_path_never_disagrees_with_serde(
        sides in prop::array::uniform2(prop::collection::vec(("[0-9]{1,6}(\\.[0-9]{1,4})?", "[0-9]{1,4}", 0u32..50), 0..6)),
        ops in prop::collection::vec((any::<usize>(), any::<u8>(), 32u8..127), 0..3),
    ) {
        let side = |v: &Vec<(String, String, u32)>| v.iter().map(|(p, s, n)| format!(r#"{{"px":"{p}","sz":"{s}","n":{n}}}"#)).collect::<Vec<_>>().join(",");
        let frame = format!(r#"{{"channel":"l2Book","data":{{"coin":"SOL","time":1694854802069,"levels":[[{}],[{}]]}}}}"#, side(&sides[0]), side(&sides[1]));
        if ops.is_empty() {
            prop_assert!(book_fast(&frame).is_some(), "{}", frame);
        }
        let frame = mutate(&frame, &ops);
        if let Some(fast) = book_fast(&frame) {
            prop_assert_eq!(Some(fast), book_by_serde(&frame), "{}", frame);
        }
    }

    /// Asset contexts of the venue's form in any key order, and byte mutations of them:
    /// whenever the fast path answers, serde gives the same answer; unmutated, it always answers.
    #[test]
    fn ctx_fast_path_never_disagrees_with_serde(
        order in Just(()).prop_perturb(|_, mut rng| {
            let mut keys = vec!["funding", "openInterest", "oraclePx", "markPx", "midPx", "impactPxs", "premium"];
            for i in (1..keys.len()).rev() {
                keys.swap(i, (rng.next_u32() as usize) % (i + 1));
            }
            keys
        }),
        px in "[0-9]{1,6}(\\.[0-9]{1,4})?",
        mid_null in any::<bool>(),
        ops in prop::collection::vec((any::<usize>(), any::<u8>(), 32u8..127), 0..3),
    ) {
        let value = |k: &str| match k {
            "impactPxs" => format!(r#"["{px}","{px}"]"#),
            "midPx" if mid_null => "null".to_string(),
            _ => format!(r#""{px}""#),
        };
        let body: Vec<String> = order.iter().map(|k| format!(r#""{k}":{}"#, value(k))).collect();
        let frame = format!(r#"{{"channel":"activeAssetCtx","data":{{"coin":"BTC","ctx":{{{}}}}}}}"#, body.join(","));
        if ops.is_empty() {
            prop_assert!(ctx_fast(&frame).is_some(), "{}", frame);
        }
        let frame = mutate(&frame, &ops);
        if let Some(fast) = ctx_fast(&frame) {
            prop_assert_eq!(Some(fast), ctx_by_serde(&frame), "{}", frame);
        }
    }

    /// Frames of the venue's form: the fast path reads every one, exactly as serde does.
    #[test]
    fn bbo_fast_path_reads_canonical_frames_as_serde_does(
        coin in "[A-Za-z0-9:@/]{0,12}",
        time in any::<u64>(),
        levels in prop::array::uniform2(prop::option::of((
            "-?[0-9]{1,9}(\\.[0-9]{1,8})?",
            "[0-9]{1,9}(\\.[0-9]{1,8})?",
            any::<u32>(),
        ))),
    ) {
        let n = levels.clone().map(|l| l.map(|(_, _, n)| n.to_string()));
        let parts = [0, 1].map(|i| {
            levels[i].as_ref().map(|(px, sz, _)| (px.as_str(), sz.as_str(), n[i].as_deref().unwrap()))
        });
        let frame = bbo_frame(&coin, &time.to_string(), parts);
        let fast = bbo_fast(&frame);
        prop_assert!(fast.is_some(), "{}", frame);
        prop_assert_eq!(fast, bbo_by_serde(&frame));
    }

    /// Any spelling of the parts (each usually in the venue's form, sometimes not), and byte
    /// mutations: whenever the fast path answers, serde gives the same answer.
    #[test]
    fn bbo_fast_path_never_disagrees_with_serde(
        coin in prop_oneof![3 => "[A-Z0-9:]{1,6}", 1 => "[A-Z\\\\\"\\x01é ]{1,4}"],
        time in prop_oneof![3 => "[1-9][0-9]{0,15}", 1 => "(-1|0[0-9]|1\\.5|1e3|99999999999999999999|)"],
        px in prop_oneof![3 => "[0-9]{1,6}\\.[0-9]{1,4}", 1 => "(-?[0-9]{0,20}(\\.[0-9]{0,20})?|1e3|abc| 1)"],
        n in prop_oneof![3 => "[1-9][0-9]{0,8}", 1 => "(0|-1|01|1\\.0|4294967296|)"],
        null_bid in any::<bool>(),
        ops in prop::collection::vec((any::<usize>(), any::<u8>(), 32u8..127), 0..2),
    ) {
        let bid = (!null_bid).then_some((px.as_str(), "1.5", n.as_str()));
        let frame = mutate(&bbo_frame(&coin, &time, [bid, Some(("2", &px, "3"))]), &ops);
        if let Some(fast) = bbo_fast(&frame) {
            prop_assert_eq!(Some(fast), bbo_by_serde(&frame), "{}", frame);
        }
    }
}

#[test]
fn post_frames_serialize_like_the_value_they_replace() {
    use super::actions::{
        Action, Grouping, OrderTypeWire, OrderWire, TifWire, WireStr, post_frame, sign_action,
    };
    use super::signing::PrivateKey;
    let key =
        PrivateKey::from_hex("0x0123456789012345678901234567890123456789012345678901234567890123")
            .unwrap();
    let action = Action::Order {
        orders: vec![OrderWire {
            a: 3,
            b: true,
            p: WireStr::new("99.5").unwrap(),
            s: WireStr::new("1.005").unwrap(),
            r: false,
            t: OrderTypeWire::Limit { tif: TifWire::Ioc },
            c: Some(WireStr::new("0x00000000000000000000000000000001").unwrap()),
        }],
        grouping: Grouping::Na,
        builder: None,
    };
    let signed = sign_action(&key, &action, 7, None, Some(9), false, &mut Vec::new()).unwrap();
    let direct = post_frame(42, &signed).unwrap();
    let via_value =
        serde_json::json!({"method":"post","id":42,"request":{"type":"action","payload":signed}})
            .to_string();
    assert_eq!(direct, via_value);
    // r and s on the wire: 0x + 64 lowercase digits of the signature's bytes, leading zeros kept.
    let mut buf = Vec::new();
    super::actions::msgpack_into(&action, &mut buf).unwrap();
    let sig = key.sign_l1(&buf, 7, None, Some(9), false);
    let v: serde_json::Value = serde_json::from_str(&direct).unwrap();
    let wire = &v["request"]["payload"]["signature"];
    assert_eq!(wire["r"], super::signing::to_hex(&sig.r));
    assert_eq!(wire["s"], super::signing::to_hex(&sig.s));
    assert_eq!(wire["v"], sig.v);
    let zeros = super::actions::SignatureWire::from(super::signing::Signature {
        r: [0; 32],
        s: [0xab; 32],
        v: 28,
    });
    assert_eq!(
        serde_json::to_string(&zeros).unwrap(),
        format!(
            r#"{{"r":"0x{}","s":"0x{}","v":28}}"#,
            "0".repeat(64),
            "ab".repeat(32)
        )
    );
}
