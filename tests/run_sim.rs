//! `strategy-host run` end to end: the real runtime, the real plugin `.so` files, the Hyperliquid
//! adapter and two simulators on loopback, with injected disconnects and an operator HardStop.

mod support;

use std::path::Path;
use std::time::Duration;
use strategy_host::config::Config;
use strategy_host::engine::events::OperatorCommand;
use strategy_host::runtime::{RunOptions, RunOutcome, run};
use support::{On, fast_config, logs, positions_match};
use tokio::sync::mpsc;

/// A config whose journal lives in a fresh scratch directory (tests must not share one).
fn parse_with_scratch_journal(text: String, test: &str) -> Config {
    let dir = strategy_host_e2e::scratch_dir(env!("CARGO_TARGET_TMPDIR"), test);
    let text = format!(
        "{text}\n[journal]\npath = \"{}\"\n",
        dir.join("journal.db").display()
    );
    Config::parse(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        text,
    )
    .unwrap()
}

/// The default config with faster dislocation episodes and `faults` on both venues.
fn config(faults: &str, test: &str) -> Config {
    fast_config(faults, On::Both, &[], test)
}

/// Every position the engine ended with equals the simulator's account; no order was sent twice.
fn check_against_sims(out: &RunOutcome) {
    for s in &out.sims {
        let (venue, sim, account) = (&s.name, &s.handle, &s.account);
        let state = sim.state.lock().unwrap();
        assert!(
            state.exchange.duplicate_cloids().is_empty(),
            "{venue}: an order was sent twice"
        );
        drop(state);
        assert_eq!(
            sim.open_orders(account),
            0,
            "{venue}: open orders cancelled on exit"
        );
    }
    positions_match(out);
}

#[tokio::test(flavor = "current_thread")]
async fn it_trades_through_disconnects_and_ends_matching_the_venue() {
    logs();
    let cfg = config(
        "[venues.sim.faults]\ndrop_every_ms = 2500\nresend_fills_on_reconnect = true\n",
        "trades",
    );
    let opts = RunOptions {
        duration: Some(Duration::from_secs(10)),
        status_every: Duration::from_secs(60),
        ..Default::default()
    };
    let out = run(&cfg, opts).await.unwrap();
    let s = &out.summary;
    assert!(s.fills > 0, "trades happen: {}", s.render());
    assert!(
        s.strategies
            .get("dislocation")
            .is_some_and(|c| c.entries > 0),
        "{}",
        s.render()
    );
    assert_eq!(s.hard_stop, None);
    for s in &out.sims {
        let (venue, sim) = (&s.name, &s.handle);
        let sessions = sim.state.lock().unwrap().sessions;
        assert!(
            sessions >= 3,
            "{venue}: reconnected after injected drops ({sessions} sessions)"
        );
        // The metrics room kept the adapter's counters when its task ended: the host saw the
        // same sessions the simulator did, and every one of them is in the summary.
        let stats = out.summary.venues.get(venue).expect("venue counters kept");
        assert_eq!(
            stats.sessions, sessions,
            "{venue}: sessions counted by the adapter"
        );
        assert!(stats.frames > 0 && stats.posts > 0, "{venue}: {stats:?}");
    }
    check_against_sims(&out);
}

#[tokio::test(flavor = "current_thread")]
async fn an_operator_hard_stop_ends_with_every_position_at_zero() {
    logs();
    // No exit can fire within the run: whatever was entered is still open at the HardStop.
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"))
            .unwrap()
            .replace("dislocation_every_ms = 4000", "dislocation_every_ms = 1000")
            .replace("dislocation_every_ms = 6000", "dislocation_every_ms = 1000")
            .replace("min_holding_time_ms = 500", "min_holding_time_ms = 600000")
            .replace("max_holding_ms = 20000", "max_holding_ms = 600000")
            .replace("exit_target_bps = -5", "exit_target_bps = 1000")
            // The spinning runtime must still run timers, venues and the HardStop.
            .replace("[engine]\n", "[engine]\nbusy_poll = true\n");
    assert!(text.contains("busy_poll = true"));
    let cfg = parse_with_scratch_journal(text, "hardstop");
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(6)).await;
        let _ = tx.send(OperatorCommand::HardStop).await;
        // Keep the channel open until the run ends.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    let opts = RunOptions {
        duration: Some(Duration::from_secs(10)),
        status_every: Duration::from_secs(60),
        operator: Some(rx),
        ..Default::default()
    };
    let out = run(&cfg, opts).await.unwrap();
    let s = &out.summary;
    assert_eq!(s.hard_stop.as_deref(), Some("operator"));
    assert!(
        s.exits_by_reason.get("hard_stop").copied().unwrap_or(0) >= 1,
        "the HardStop flattened what was open: {}",
        s.render()
    );
    assert!(
        s.positions.iter().all(|p| p.size.is_zero()),
        "flat after HardStop: {}",
        s.render()
    );
    assert!(
        s.refusals_by_reason.contains_key("hard_stop"),
        "entries refused while latched: {}",
        s.render()
    );
    check_against_sims(&out);
}
