//! The official Hyperliquid Python SDK (an independent client, pinned in
//! tests/python/requirements.txt and installed by .ci/run) against the simulator: meta, books
//! and HIP-3 asset ids over HTTP, a bbo over the WebSocket, and orders it signs itself.

use rust_decimal::Decimal;
use std::process::Command;
use strategy_host::sim::server::{SimConfig, spawn};
use strategy_host::venue::hyperliquid::signing::PrivateKey;

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

/// A simulator with BTC and a HIP-3 market and one funded account for `KEY`, and what the
/// Python script `script` (in tests/python) printed when run against it.
async fn sdk_script(script: &str) -> (strategy_host::sim::server::SimHandle, Vec<u8>) {
    let address = PrivateKey::from_hex(KEY).unwrap().address();
    let cfg: SimConfig = toml::from_str(&format!(
        "markets = [{{ coin = \"BTC\", sz_decimals = 5, price = 64000, dislocation_every_ms = 0 }}, {{ coin = \"xyz:TSLA\", sz_decimals = 2, price = 250 }}]\n\
         accounts = [{{ address = \"{address}\", usdc = 100000 }}]\n"
    ))
    .unwrap();
    let sim = spawn(cfg, 0).await.unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let url = sim.http_url();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(url)
            .arg(KEY)
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the SDK script failed (is it installed? `bash tests/setup.sh`):\n{stderr}"
    );
    (sim, output.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_trades_on_the_simulator() {
    let address = PrivateKey::from_hex(KEY).unwrap().address();
    let (sim, stdout) = sdk_script("sdk_against_sim.py").await;
    let v: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(v["address"], address.to_string());
    assert_eq!(v["meta"], serde_json::json!(["BTC"]));
    assert_eq!(
        v["hip3_asset"], 110_000,
        "HIP-3 offsets as the SDK computes them"
    );
    assert_eq!(v["ws_bbo"], true);
    assert!(
        v["resting"]["response"]["data"]["statuses"][0]["resting"]["oid"].is_u64(),
        "{v}"
    );
    assert_eq!(
        v["cancel"]["response"]["data"]["statuses"][0], "success",
        "{v}"
    );
    assert_eq!(
        v["ioc"]["response"]["data"]["statuses"][0]["filled"]["totalSz"], "0.01",
        "{v}"
    );
    assert_eq!(
        v["too_small"]["response"]["data"]["statuses"][0]["error"],
        "Order must have minimum value of $10."
    );
    assert_eq!(v["position"], "0.01");
    assert_eq!(sim.position(&address, "BTC"), Decimal::new(1, 2));
    sim.stop();
}

/// The check list (`tests/python/sdk_checklist.py`): every call of the list in issue #19, through
/// the SDK's own methods, with the answers' shapes and money invariants asserted there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_check_list_passes_on_the_simulator() {
    let (sim, stdout) = sdk_script("sdk_checklist.py").await;
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&stdout).unwrap();
    let failed: Vec<String> = v
        .iter()
        .filter(|(_, r)| *r != "ok")
        .map(|(k, r)| format!("{k}: {r}"))
        .collect();
    assert!(v.len() >= 46, "the whole list ran: {} checks", v.len());
    assert!(
        failed.is_empty(),
        "{} of {} checks failed:\n{}",
        failed.len(),
        v.len(),
        failed.join("\n")
    );
    sim.stop();
}
