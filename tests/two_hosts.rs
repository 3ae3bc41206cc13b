//! Two hosts with different journals on one venue account: the second finds the first's fills
//! (cloids no run of its journal made), says so, and sends no order at all there: it neither
//! cancels the other's orders nor closes what may be the other's position.

use std::time::Duration;
use strategy_host::config::Config;
use strategy_host::runtime::{RunOptions, run};
use strategy_host::sim::server::SimHandle;
use strategy_host_e2e::scratch_dir;

mod common;

fn config(sim: &SimHandle, test: &str) -> Config {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), test);
    let journal = format!("path = \"{}\"", dir.join("journal.db").display());
    // Positions are held (the time stop is ten minutes away): the second host could close them.
    let path = common::host_config(sim, &dir, "", &journal, 600_000);
    Config::parse(&path, std::fs::read_to_string(&path).unwrap()).unwrap()
}

async fn run_for(cfg: &Config, secs: u64) -> strategy_host::runtime::RunOutcome {
    let opts = RunOptions {
        duration: Some(Duration::from_secs(secs)),
        status_every: Duration::from_secs(60),
        ..Default::default()
    };
    run(cfg, opts).await.unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_second_host_with_another_journal_leaves_the_account_alone() {
    let sim = common::btc_sim(9, 700, 1500).await;
    let address = common::address();
    let first = run_for(&config(&sim, "two-hosts-a"), 6).await;
    assert!(
        first.summary.fills > 0,
        "the first host traded: {}",
        first.summary.render()
    );
    assert!(first.summary.foreign_hosts.is_empty());
    let position = sim.position(&address, "BTC");
    let orders = sim.state.lock().unwrap().exchange.orders_received();

    let second = run_for(&config(&sim, "two-hosts-b"), 4).await;
    assert_eq!(
        second.summary.foreign_hosts,
        vec!["sim".to_string()],
        "{}",
        second.summary.render()
    );
    assert_eq!(
        sim.state.lock().unwrap().exchange.orders_received(),
        orders,
        "the second host sent nothing"
    );
    assert_eq!(
        sim.position(&address, "BTC"),
        position,
        "the position was left alone"
    );
}
