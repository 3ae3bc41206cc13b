//! `hardstop status|release|trigger`: the latch, through the journal.

use crate::config::Config;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct HardstopArgs {
    #[command(subcommand)]
    action: HardstopAction,
    /// The config whose journal to use.
    #[arg(long, global = true, default_value = "config/default.toml")]
    config: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum HardstopAction {
    /// Is the latch set, and why.
    Status,
    /// Release the latch (operator decision; recorded).
    Release,
    /// Set the latch: cancel entries, flatten everything, block new orders.
    Trigger,
}

pub fn exec(args: HardstopArgs) -> anyhow::Result<ExitCode> {
    let HardstopArgs { action, config } = args;
    let cfg = Config::load(&config)?;
    // `status` only reads: it never creates a journal. Setting or releasing the latch records
    // it for the next run even when none has run yet.
    let path = cfg.journal_path();
    if matches!(action, HardstopAction::Status) && !path.exists() {
        println!(
            "HardStop never triggered (no journal at {}: no run yet)",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let journal = crate::journal::Journal::open(&path)?;
    match action {
        HardstopAction::Status => match journal.hard_stop()? {
            Some(h) if h.latched => {
                println!("HARD STOP latched ({}) since {} ms", h.reason, h.ts_ms)
            }
            Some(h) => println!("HardStop released ({}) at {} ms", h.reason, h.ts_ms),
            None => println!("HardStop never triggered"),
        },
        HardstopAction::Release => {
            journal.record_hard_stop(false, "operator", "operator-cli")?;
            journal.queue_operator_command("hardstop-release")?;
            println!(
                "HardStop released (recorded in {}; a running host picks it up within a second)",
                journal.path().display()
            );
        }
        HardstopAction::Trigger => {
            journal.record_hard_stop(true, "operator", "operator-cli")?;
            journal.queue_operator_command("hardstop")?;
            println!(
                "HardStop triggered (recorded in {}; a running host acts on it within a second)",
                journal.path().display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
