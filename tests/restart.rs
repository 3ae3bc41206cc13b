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

/// Strategy states hold engine-time stamps (here the entry cooldown): a restarted host's engine
/// clock goes on from where the last run's snapshot left it. With a clock that starts at zero
/// again, a restored cooldown stamp lies in the future and the strategy sits out, after a
/// restart, as long as the previous run had lasted.
#[tokio::test(flavor = "current_thread")]
async fn a_restarted_host_enters_again_at_once() {
    let sim = common::btc_sim(5, 700, 1500).await;
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "restart-clock");
    let journal = format!("path = \"{}\"", dir.join("journal.db").display());
    let path = common::host_config(&sim, &dir, "", &journal, 800);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("notional = 200\n", "notional = 200\ncooldown_ms = 1000\n");
    assert!(text.contains("cooldown_ms = 1000"));
    let cfg = Config::parse(&path, text).unwrap();
    let opts = |secs| RunOptions {
        duration: Some(Duration::from_secs(secs)),
        status_every: Duration::from_secs(60),
        ..Default::default()
    };

    let attempts = || {
        let s = Journal::open(&dir.join("journal.db"))
            .unwrap()
            .plugin_state("dislocation")
            .unwrap()
            .expect("state journaled");
        let v: serde_json::Value = serde_json::from_str(&s.state).unwrap();
        v["attempts"].as_u64().unwrap()
    };
    let out = run(&cfg, opts(8)).await.unwrap();
    let attempts_1 = attempts();
    assert!(attempts_1 > 1, "run 1 traded: {}", out.summary.render());
    let clock_1 = Journal::open(&dir.join("journal.db"))
        .unwrap()
        .engine_time_ns()
        .unwrap();
    assert!(
        clock_1 >= 8_000_000_000,
        "run 1's clock journaled: {clock_1}"
    );

    // Run 2 is shorter than run 1: with the clock restarted at zero, every market's cooldown
    // stamp would lie ahead of it for the whole run and it would place no entry at all.
    let out = run(&cfg, opts(4)).await.unwrap();
    assert!(
        attempts() > attempts_1,
        "run 2 placed entries again: {}",
        out.summary.render()
    );
    let clock_2 = Journal::open(&dir.join("journal.db"))
        .unwrap()
        .engine_time_ns()
        .unwrap();
    assert!(
        clock_2 >= clock_1 + 4_000_000_000,
        "the clock went on: {clock_1} then {clock_2}"
    );
    common::assert_journal_matches_sim(
        &Journal::open(&dir.join("journal.db")).unwrap(),
        &sim,
        &common::address(),
    );
    sim.stop();
}
