//! What the end-to-end runs on the default config share: its faster variant with faults, the
//! log setup, and the check that the host ended with the simulators' positions.

// Each test binary that includes this module uses some of it.
#![allow(dead_code)]

use rust_decimal::Decimal;
use std::path::Path;
use std::time::Duration;
use strategy_host::config::Config;
use strategy_host::runtime::{RunOptions, RunOutcome, run};

/// Warnings (reconciliations, refusals by the venue) shown when a test fails.
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        ))
        .with_test_writer()
        .try_init();
}

/// Where faults go: both simulators, or simA's only.
pub enum On {
    Both,
    SimA,
}

/// `config/default.toml` with faster dislocation episodes, `faults` (a `[venues.sim.faults]`
/// table) on `on`, each `(from, to)` of `edits` applied, and its journal in a fresh scratch
/// directory for `test`.
pub fn fast_config(faults: &str, on: On, edits: &[(&str, &str)], test: &str) -> Config {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(root.join("config/default.toml"))
        .unwrap()
        .replace("dislocation_every_ms = 4000", "dislocation_every_ms = 1200")
        .replace("dislocation_every_ms = 5000", "dislocation_every_ms = 1500")
        .replace("dislocation_every_ms = 6000", "dislocation_every_ms = 1500");
    let with_faults = format!("tick_ms = 100\n{faults}");
    text = match on {
        On::Both => text.replace("tick_ms = 100\n", &with_faults),
        On::SimA => text.replacen("tick_ms = 100\n", &with_faults, 1),
    };
    for (from, to) in edits {
        text = text.replace(from, to);
    }
    let dir = strategy_host_e2e::scratch_dir(env!("CARGO_TARGET_TMPDIR"), test);
    let text = format!(
        "{text}\n[journal]\npath = \"{}\"\n",
        dir.join("journal.db").display()
    );
    Config::parse(&root.join("config/default.toml"), text).unwrap()
}

/// Every position the host ended with equals the simulator's account.
pub fn positions_match(out: &RunOutcome) {
    for s in &out.sims {
        for coin in ["BTC", "ETH", "xyz:TSLA"] {
            let market = format!("{}/{coin}", s.name);
            let host = out
                .summary
                .positions
                .iter()
                .find(|p| p.market == market)
                .map_or(Decimal::ZERO, |p| p.size);
            assert_eq!(
                host,
                s.handle.position(&s.account, coin),
                "{market}: engine vs simulator account ({})",
                out.summary.render()
            );
        }
    }
}

/// Runs `cfg` for `secs` seconds (no status lines).
pub async fn run_for(cfg: &Config, secs: u64) -> RunOutcome {
    let opts = RunOptions {
        duration: Some(Duration::from_secs(secs)),
        status_every: Duration::from_secs(60),
        ..Default::default()
    };
    run(cfg, opts).await.unwrap()
}
