//! `ctl`: control a running host through its journal (the host polls it every 250 ms and records
//! when it took each command): pause or resume entries, flatten a market or everything, cancel
//! every working order, and read the host's status (written every second).

use crate::config::Config;
use anyhow::bail;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct CtlArgs {
    #[command(subcommand)]
    action: CtlAction,
    /// The config of the running host.
    #[arg(long, global = true, default_value = "config/default.toml")]
    config: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum CtlAction {
    /// Refuse new entries (exits, flattens and cancels go on).
    PauseEntries,
    /// Allow entries again.
    ResumeEntries,
    /// Close one market's position with a reduce-only IOC (`venue/coin`, as in the config).
    Flatten { market: String },
    /// Close every open position.
    FlattenAll,
    /// Cancel every working order.
    CancelAll,
    /// What the running host is doing: positions, orders, PnL, pause, HardStop, venues.
    Status,
}

/// How long to wait for the host to take a command.
const WAIT: Duration = Duration::from_secs(3);

pub fn exec(args: CtlArgs) -> anyhow::Result<ExitCode> {
    let CtlArgs { action, config } = args;
    let cfg = Config::load(&config)?;
    let path = cfg.journal_path();
    let running = crate::journal::lock::held(&path);
    if !path.exists() {
        bail!(
            "no journal at {}: no host has run with {}",
            path.display(),
            config.display()
        );
    }
    let journal = crate::journal::Journal::open_existing(&path)?;
    let command = match &action {
        CtlAction::Status => return status(&journal, running),
        CtlAction::PauseEntries => "pause".to_string(),
        CtlAction::ResumeEntries => "resume".to_string(),
        CtlAction::FlattenAll => "flatten-all".to_string(),
        CtlAction::CancelAll => "cancel-all".to_string(),
        CtlAction::Flatten { market } => {
            let markets: Vec<String> = cfg
                .raw
                .strategies
                .iter()
                .flat_map(|s| s.market_keys())
                .collect();
            if !markets.contains(market) {
                bail!(
                    "no market `{market}` in {}: its markets are {}",
                    config.display(),
                    markets.join(", ")
                );
            }
            format!("flatten:{market}")
        }
    };
    // A command for a host that is not running would wait for the next start, which discards
    // it: say so now instead.
    if !running {
        bail!(
            "no host is running on {} (start one with `strategy-host run --config {}`)",
            path.display(),
            config.display()
        );
    }
    let id = journal.queue_operator_command(&command)?;
    let t0 = Instant::now();
    while t0.elapsed() < WAIT {
        if journal.operator_command_consumed(id)?.is_some() {
            println!(
                "{command}: taken by the running host after {} ms (recorded in {})",
                t0.elapsed().as_millis(),
                path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!(
        "{command}: recorded in {}, but the host has not taken it within {} s (is it stalled?)",
        path.display(),
        WAIT.as_secs()
    )
}

fn status(journal: &crate::journal::Journal, running: bool) -> anyhow::Result<ExitCode> {
    let Some((run, ts, json)) = journal.host_status()? else {
        println!(
            "no status in {}: {}",
            journal.path().display(),
            if running {
                "the host has just started"
            } else {
                "no host has run with this journal since status was added"
            }
        );
        return Ok(ExitCode::SUCCESS);
    };
    let v: serde_json::Value = serde_json::from_str(&json)?;
    let age = crate::timefmt::now_ms() as i64 - ts;
    println!(
        "run {run}: {} (status from {}, {:.1} s ago)",
        if running {
            "running"
        } else {
            "NOT running (its last status)"
        },
        crate::timefmt::iso_ms(ts.max(0) as u64),
        age as f64 / 1000.0
    );
    let s = |k: &str| v[k].to_string().trim_matches('"').to_string();
    println!(
        "  HardStop: {} | entries: {} | open orders: {} | round trips: {} | net PnL {} {} (fees {}) | refusals: {}",
        v["hard_stop"].as_str().unwrap_or("off"),
        if v["entries_paused"] == true {
            "PAUSED"
        } else {
            "allowed"
        },
        s("open_orders"),
        s("round_trips"),
        s("net_pnl"),
        s("currency"),
        s("fees"),
        s("refusals"),
    );
    if let Some(venues) = v["venues"].as_object() {
        let list: Vec<String> = venues
            .iter()
            .map(|(k, st)| format!("{k} {}", st.as_str().unwrap_or("?")))
            .collect();
        println!("  venues: {}", list.join(", "));
    }
    match v["positions"].as_array() {
        Some(p) if !p.is_empty() => {
            for p in p {
                println!(
                    "  position {} {} @ {} (unrealized {})",
                    p["market"].as_str().unwrap_or("?"),
                    p["size"].as_str().unwrap_or("?"),
                    p["avg_entry"].as_str().unwrap_or("?"),
                    p["unrealized"].as_str().unwrap_or("?")
                );
            }
        }
        _ => println!("  flat"),
    }
    Ok(ExitCode::SUCCESS)
}
