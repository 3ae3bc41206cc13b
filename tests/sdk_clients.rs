//! Two independent Hyperliquid clients nobody here wrote, unmodified, against the simulator: the
//! official Python SDK (pinned in tests/python/requirements.txt) and the TypeScript SDK
//! `@nktkas/hyperliquid` (pinned in tests/ts/package.json), both installed by tests/setup.sh.
//! Each runs its check list (tests/python/sdk_checklist.py, tests/ts/sdk_checklist.mjs) of
//! info, actions and WebSocket channels, signing its own actions.

use rust_decimal::Decimal;
use std::process::Command;
use strategy_host::sim::server::{SimConfig, spawn};
use strategy_host::venue::hyperliquid::signing::PrivateKey;

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

/// A simulator with BTC, a HIP-3 market and the default spot pair, and one funded account for
/// `KEY`; and what `program script URL KEY` printed when run against it (`script` relative to
/// tests/).
async fn sdk_script(
    program: &str,
    script: &str,
) -> (strategy_host::sim::server::SimHandle, Vec<u8>) {
    let address = PrivateKey::from_hex(KEY).unwrap().address();
    let cfg: SimConfig = toml::from_str(&format!(
        "markets = [{{ coin = \"BTC\", sz_decimals = 5, price = 64000, dislocation_every_ms = 0 }}, {{ coin = \"xyz:TSLA\", sz_decimals = 2, price = 250 }}]\n\
         accounts = [{{ address = \"{address}\", usdc = 100000 }}]\n\
         hip3 = {{ deployer_stake = \"0.4\", gas_floor = \"0.1\" }}\n\
         staking = {{ validator_self_delegation = \"0.1\" }}\n"
    ))
    .unwrap();
    let sim = spawn(cfg, 0).await.unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(script);
    let url = sim.http_url();
    let program = program.to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&program)
            .arg(script)
            .arg(url)
            .arg(KEY)
            .output()
    })
    .await
    .unwrap()
    .expect("the SDK's runtime (python3, node) runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the SDK script failed (is it installed? `bash tests/setup.sh`):\n{stderr}"
    );
    (sim, output.stdout)
}

/// Every check of a check list's output `{check: "ok" | "FAIL: why"}` passed, and at least
/// `min` ran.
fn all_ok(stdout: &[u8], min: usize) {
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(stdout)));
    let failed: Vec<String> = v
        .iter()
        .filter(|(_, r)| *r != "ok")
        .map(|(k, r)| format!("{k}: {r}"))
        .collect();
    assert!(v.len() >= min, "the whole list ran: {} checks", v.len());
    assert!(
        failed.is_empty(),
        "{} of {} checks failed:\n{}",
        failed.len(),
        v.len(),
        failed.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_trades_on_the_simulator() {
    let address = PrivateKey::from_hex(KEY).unwrap().address();
    let (sim, stdout) = sdk_script("python3", "python/sdk_against_sim.py").await;
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

/// The Python check list (`tests/python/sdk_checklist.py`): every call of the list in issue #19
/// and more (spot, transfers, sub-accounts, agents), through the SDK's own methods, with the
/// answers' shapes and money invariants asserted there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_check_list_passes_on_the_simulator() {
    let (sim, stdout) = sdk_script("python3", "python/sdk_checklist.py").await;
    all_ok(&stdout, 71);
    sim.stop();
}

/// The TypeScript check list (`tests/ts/sdk_checklist.mjs`): the same ground through
/// `@nktkas/hyperliquid`'s InfoClient, ExchangeClient and SubscriptionClient, over HTTP and over
/// the WebSocket's `post` channel, with its own signing (ethers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_check_list_passes_on_the_simulator() {
    let (sim, stdout) = sdk_script("node", "ts/sdk_checklist.mjs").await;
    all_ok(&stdout, 63);
    sim.stop();
}
