//! Restarts against a simulator that outlives the host: a latched HardStop comes back latched
//! until an operator releases it, strategy state is restored, and the journal holds every fill
//! exactly once, matching the simulator's account.

use std::time::Duration;
use strategy_host::config::Config;
use strategy_host::engine::events::OperatorCommand;
use strategy_host::journal::Journal;
use strategy_host::runtime::{RunOptions, run};
use strategy_host::sim::server::SimHandle;
use strategy_host_e2e::scratch_dir;
use tokio::sync::mpsc;

mod common;

fn config(sim: &SimHandle, dir: &std::path::Path) -> Config {
    let journal = format!("path = \"{}\"", dir.join("journal.db").display());
    let path = common::host_config(sim, dir, "", &journal, 600_000);
    Config::parse(&path, std::fs::read_to_string(&path).unwrap()).unwrap()
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
    let sim = common::btc_sim(5, 700, 1500).await;
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "restart");
    let cfg = config(&sim, &dir);
    let address = common::address();

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
    common::assert_journal_matches_sim(&j, &sim, &address);
    sim.stop();
}
