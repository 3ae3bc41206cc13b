//! The `strategy-host` command line: the top-level parser here, one file per subcommand group.
//!
//! - [`run`]: `run` (trade) and `sim` (the simulator alone).
//! - [`plugin`]: `plugin check`. [`config`]: `config check`.
//! - [`hardstop`]: the latch's operator commands; [`reconcile`]: ask for a reconcile; [`ctl`]:
//!   pause, resume, flatten, cancel and status of a running host.
//!   [`journal`]: reading the journal.
//! - [`hl`]: Hyperliquid tools (`hl sign`).
//! - [`record`]: `record`; [`backtest`]: `backtest`; [`report`]: `report` (HTML).

pub mod args;
pub mod backtest;
pub mod config;
pub mod ctl;
pub mod hardstop;
pub mod hl;
pub mod journal;
pub mod plugin;
pub mod reconcile;
pub mod record;
pub mod report;
pub mod run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "strategy-host",
    version,
    about = "Runs perpetual-futures strategy plugins on Hyperliquid behind safety gates",
    long_about = "Runs perpetual-futures strategy plugins on Hyperliquid (and HIP-3 dexes) behind \
                  pre-trade gates that plugins cannot bypass.\n\nStrategies are dynamic libraries \
                  built against the `plugin-api` crate and named in a TOML config."
)]
pub struct Cli {
    /// Log filter (env-filter syntax, e.g. `info` or `debug,plugin=trace`). Default: `info`;
    /// `warn` for `backtest`, whose entry and exit lines would be thousands (and, in a sweep on
    /// every core, threads waiting on stderr).
    #[arg(long, global = true, env = "STRATEGY_HOST_LOG")]
    pub log: Option<String>,
    /// Log line format.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: crate::logging::LogFormat,
    /// Append log lines to this file instead of stderr (no colour).
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with strategy plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Work with configuration files.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Hyperliquid tools.
    #[command(subcommand)]
    Hl(hl::HlCommand),
    /// Trade: load the config's strategies and venues (starting simulators in-process where the
    /// config says so) and run until Ctrl-C or --duration. A second Ctrl-C exits at once.
    Run(run::RunArgs),
    /// The HardStop latch: its state, and the operator commands that set or release it. Recorded
    /// in the journal; a running host picks them up within a second, a stopped one on start.
    Hardstop(hardstop::HardstopArgs),
    /// Control a running host: pause-entries, resume-entries, flatten MARKET, flatten-all,
    /// cancel-all, status. Each command is recorded in the journal and taken within a second.
    Ctl(ctl::CtlArgs),
    /// Read the journal: recent runs, orders, fills, positions, refusals.
    Journal(journal::JournalArgs),
    /// Ask a running host to reconcile every venue with the venue's account state now (over
    /// HTTP, its WebSocket sessions stay up); corrections are logged and journaled.
    Reconcile(reconcile::ReconcileArgs),
    /// Record the market-data frames of every configured venue (simulated ones are started) to
    /// compressed JSON-lines files a backtest replays (docs/backtest.md).
    Record(record::RecordArgs),
    /// Replay recordings or the venue's archive through the config's strategies, with simulated
    /// execution; prints PnL, round trips, drawdown, exits and refusals (docs/backtest.md).
    Backtest(backtest::BacktestArgs),
    /// Write one self-contained HTML report of a run (live or backtest) from its journal: equity
    /// and drawdown, PnL per strategy and market, trades, edges, holding times, exits, refusals,
    /// latency.
    Report(report::ReportArgs),
    /// Run the Hyperliquid-compatible exchange simulator on 127.0.0.1 (WebSocket /ws, HTTP /info
    /// and /exchange) until Ctrl-C.
    Sim(run::SimArgs),
}

/// Parses the command line and runs it.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let filter = cli.log.clone().unwrap_or_else(|| {
        match cli.command {
            Command::Backtest(_) => "warn",
            _ => "info",
        }
        .to_string()
    });
    crate::logging::init(&filter, cli.log_format, cli.log_file.as_deref())?;
    match cli.command {
        Command::Plugin(c) => plugin::exec(c),
        Command::Config(c) => config::exec(c),
        Command::Hl(c) => hl::exec(c),
        Command::Run(a) => run::run(a),
        Command::Hardstop(a) => hardstop::exec(a),
        Command::Journal(a) => journal::exec(a),
        Command::Ctl(a) => ctl::exec(a),
        Command::Reconcile(a) => reconcile::exec(a),
        Command::Record(a) => record::exec(a),
        Command::Backtest(a) => backtest::exec(a),
        Command::Report(a) => report::exec(a),
        Command::Sim(a) => run::sim(a),
    }
}
