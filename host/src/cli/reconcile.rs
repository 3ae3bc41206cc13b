//! `reconcile`: ask a running host to reconcile every venue with the venue's own account state
//! now (over HTTP, without dropping its WebSocket sessions).

use crate::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// The config whose journal the running host uses.
    #[arg(long, default_value = "config/default.toml")]
    config: PathBuf,
}

pub fn exec(args: ReconcileArgs) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&args.config)?;
    let journal = crate::journal::Journal::open_existing(&cfg.journal_path())?;
    journal.queue_operator_command("reconcile")?;
    println!(
        "reconcile requested (recorded in {}; a running host starts it within a second, and \
         logs any correction at WARN)",
        journal.path().display()
    );
    Ok(ExitCode::SUCCESS)
}
