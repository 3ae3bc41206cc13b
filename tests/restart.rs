//! Restarts against a simulator that outlives the host: a latched HardStop comes back latched
//! until an operator releases it, strategy state is restored, and the journal holds every fill
//! exactly once, matching the simulator's account.

use std::time::Duration;
use strategy_host::config::Config;
use strategy_host::engine::events::OperatorCommand;
use strategy_host::journal::Journal;
use strategy_host::runtime::{RunOptions, run};
use strategy_host::sim::server::{SimConfig, SimHandle, spawn};
use strategy_host::venue::hyperliquid::signing::PrivateKey;
use strategy_host_e2e::{scratch_dir, write_file};
use tokio::sync::mpsc;

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

async fn sim() -> SimHandle {
    let address = PrivateKey::from_hex(KEY).unwrap().address();
    let cfg: SimConfig = toml::from_str(&format!(
        "seed = 5\ntick_ms = 100\n\
         markets = [{{ coin = \"BTC\", sz_decimals = 5, price = 64000, dislocation_every_ms = 700, dislocation_bps = 70, dislocation_ms = 1500 }}]\n\
         accounts = [{{ address = \"{address}\", usdc = 100000 }}]\n"
    ))
    .unwrap();
    spawn(cfg, 0).await.unwrap()
}

fn config(sim: &SimHandle, dir: &std::path::Path) -> Config {
    let key = write_file(dir, "agent.key", KEY);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let address = PrivateKey::from_hex(KEY).unwrap().address();
    let text = format!(
        r#"
[journal]
path = "{journal}"

[[venues]]
name = "sim"
kind = "hyperliquid"
network = "simulator"
ws_url = "{ws}"
info_url = "{http}"
account = "{address}"
key_file = "{key}"
dead_man_secs = 0

[[strategies]]
name = "dislocation"
plugin = "dislocation-entry"
role = "entry"
markets = ["sim/BTC"]
[strategies.params]
threshold_bps = 40
notional = 200

[[strategies]]
name = "timestop"
plugin = "time-stop-exit"
role = "exit"
markets = ["sim/BTC"]
[strategies.params]
max_holding_ms = 600000
"#,
        journal = dir.join("journal.db").display(),
        ws = sim.ws_url(),
        http = sim.http_url(),
        key = key.display(),
    );
    Config::parse(&dir.join("host.toml"), text).unwrap()
}

fn saved_entries(journal: &Journal) -> u64 {
    let s = journal
        .plugin_state("dislocation")
        .unwrap()
        .expect("state journaled");
    let v: serde_json::Value = serde_json::from_str(&s.state).unwrap();
    v["entries"].as_u64().unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_latched_hard_stop_and_strategy_state_survive_a_restart() {
    let sim = sim().await;
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "restart");
    let cfg = config(&sim, &dir);
    let address = PrivateKey::from_hex(KEY).unwrap().address();

    // Run 1: trades, then an operator HardStop; ends latched and flat.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let _ = tx.send(OperatorCommand::HardStop).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    let out = run(
        &cfg,
        RunOptions {
            duration: Some(Duration::from_secs(7)),
            operator: Some(rx),
            status_every: Duration::from_secs(60),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(out.summary.hard_stop.as_deref(), Some("operator"));
    let entries = saved_entries(&Journal::open(&dir.join("journal.db")).unwrap());
    assert!(entries > 0, "run 1 traded: {}", out.summary.render());

    // Run 2: comes back latched, flat, nothing new sent; the strategy keeps its count.
    let out = run(
        &cfg,
        RunOptions {
            duration: Some(Duration::from_secs(3)),
            status_every: Duration::from_secs(60),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        out.summary.hard_stop.as_deref(),
        Some("restored"),
        "{}",
        out.summary.render()
    );
    assert_eq!(out.summary.fills, 0, "no order while latched");
    assert!(
        out.summary.refusals_by_reason.contains_key("hard_stop"),
        "{}",
        out.summary.render()
    );
    assert_eq!(
        saved_entries(&Journal::open(&dir.join("journal.db")).unwrap()),
        entries,
        "state restored, not reset"
    );

    // The operator releases it (as `strategy-host hardstop release` does); run 3 trades again.
    let j = Journal::open(&dir.join("journal.db")).unwrap();
    j.record_hard_stop(false, "operator", "operator-cli")
        .unwrap();
    drop(j);
    let out = run(
        &cfg,
        RunOptions {
            duration: Some(Duration::from_secs(4)),
            status_every: Duration::from_secs(60),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(out.summary.hard_stop, None, "{}", out.summary.render());

    // Every fill the simulator made is in the journal exactly once.
    let j = Journal::open(&dir.join("journal.db")).unwrap();
    let journaled: i64 = j
        .conn()
        .query_row("SELECT count(*) FROM fills", [], |r| r.get(0))
        .unwrap();
    let made = sim.state.lock().unwrap().exchange.accounts[&address]
        .fills
        .len() as i64;
    assert_eq!(journaled, made);
    let pos: String = j
        .conn()
        .query_row(
            "SELECT size FROM positions WHERE market = 'sim/BTC'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        pos.parse::<rust_decimal::Decimal>().unwrap(),
        sim.position(&address, "BTC")
    );
    sim.stop();
}
