//! Startup info over real HTTP on 127.0.0.1: the asset table of main-dex, HIP-3 and spot coins.

use std::time::Duration;
use strategy_host::venue::http::HttpClient;
use strategy_host::venue::hyperliquid::info::{fetch_account_state, fetch_asset_table};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers `/info` like the venue (chunked, to exercise that path too).
async fn serve(listener: TcpListener) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            let mut n = 0;
            let body = loop {
                let k = s.read(&mut buf[n..]).await.unwrap();
                n += k;
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap();
                    if n >= i + 4 + len {
                        break text[i + 4..i + 4 + len].to_string();
                    }
                }
                if k == 0 {
                    return;
                }
            };
            let req: serde_json::Value = serde_json::from_str(&body).unwrap();
            let answer = match (req["type"].as_str().unwrap(), req["dex"].as_str()) {
                ("perpDexs", _) => {
                    r#"[null,{"name":"abc","fullName":"a"},{"name":"xyz","fullName":"x"}]"#
                }
                ("meta", Some("")) => {
                    r#"{"universe":[{"name":"BTC","szDecimals":5},{"name":"ETH","szDecimals":4}]}"#
                }
                ("meta", Some("xyz")) => {
                    r#"{"universe":[{"name":"xyz:XYZ100","szDecimals":4},{"name":"xyz:TSLA","szDecimals":3}]}"#
                }
                ("clearinghouseState", Some(dex)) => {
                    if dex == "xyz" {
                        r#"{"assetPositions":[{"position":{"coin":"xyz:TSLA","szi":"-2.5","entryPx":"250.1"},"type":"oneWay"}],"time":1700000000001}"#
                    } else {
                        r#"{"assetPositions":[],"time":1700000000000}"#
                    }
                }
                ("openOrders", _) => {
                    r#"[{"coin":"BTC","side":"A","limitPx":"70000.0","sz":"0.01","oid":42,"timestamp":1,"origSz":"0.01"}]"#
                }
                ("userRateLimit", _) => {
                    r#"{"cumVlm":"100.0","nRequestsUsed":12,"nRequestsCap":10100}"#
                }
                ("spotMeta", _) => {
                    r#"{"universe":[{"name":"@107","tokens":[150,0],"index":107}],"tokens":[{"name":"USDC","szDecimals":8,"index":0},{"name":"HYPE","szDecimals":2,"index":150}]}"#
                }
                other => panic!("unexpected {other:?}"),
            };
            let chunked = format!("{:x}\r\n{answer}\r\n0\r\n\r\n", answer.len());
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}"
            );
            let _ = s.write_all(resp.as_bytes()).await;
        });
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_asset_table_comes_from_the_venue_over_http() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve(listener));
    let http =
        HttpClient::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5)).unwrap();
    let coins: Vec<String> = ["BTC", "xyz:TSLA", "@107"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let t = fetch_asset_table(&http, &coins).await.unwrap();
    assert_eq!(t.spec("BTC").unwrap().asset, 0);
    // xyz is entry 2 of perpDexs: 100000 + 2 × 10000 + index 1.
    assert_eq!(t.spec("xyz:TSLA").unwrap().asset, 120_001);
    assert_eq!(t.spec("xyz:TSLA").unwrap().sz_decimals, 3);
    assert_eq!(t.spec("@107").unwrap().asset, 10_107);
    let err = fetch_asset_table(&http, &["DOGE".to_string()])
        .await
        .unwrap_err();
    assert!(err.contains("`DOGE` is not listed"), "{err}");
    let err = fetch_asset_table(&http, &["nope:X".to_string()])
        .await
        .unwrap_err();
    assert!(err.contains("dex `nope`"), "{err}");
    let (states, orders, budget) = fetch_account_state(
        &http,
        "0x14791697260e4c9a71f18484c9f997b308e59325",
        &["", "xyz"],
    )
    .await
    .unwrap();
    assert_eq!(
        states[1].asset_positions[0].position.szi,
        "-2.5".parse().unwrap()
    );
    assert_eq!(states[1].time, 1700000000001);
    assert_eq!(orders.len(), 2, "one per dex asked");
    assert_eq!((budget.used, budget.cap), (12, 10100));
    let dead = HttpClient::new("http://127.0.0.1:1", Duration::from_secs(2)).unwrap();
    let err = fetch_asset_table(&dead, &coins).await.unwrap_err();
    assert!(err.contains("127.0.0.1:1"), "names the URL: {err}");
}
