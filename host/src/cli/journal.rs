//! `journal runs|orders|fills|positions|refusals|hardstop`: reading the journal.

use crate::config::Config;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct JournalArgs {
    #[command(subcommand)]
    view: JournalView,
    /// The config whose journal to read.
    #[arg(long, global = true, default_value = "config/default.toml")]
    config: PathBuf,
    /// Rows to show.
    #[arg(long, global = true, default_value_t = 20)]
    limit: u32,
    /// Read this journal file instead of the config's (e.g. one `backtest --journal` wrote).
    #[arg(long, global = true, value_name = "PATH")]
    journal: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum JournalView {
    Runs,
    Orders,
    Fills,
    Positions,
    Refusals,
    Hardstop,
}

pub fn exec(args: JournalArgs) -> anyhow::Result<ExitCode> {
    let JournalArgs {
        view,
        config,
        limit,
        journal,
    } = args;
    let path = match journal {
        Some(p) => p,
        None => Config::load(&config)?.journal_path(),
    };
    let journal = crate::journal::Journal::open_existing(&path)?;
    let sql = match view {
        JournalView::Runs => {
            "SELECT id, started_ms, ended_ms, host_version, config_path, substr(config_hash, 1, 12) AS config_hash FROM runs ORDER BY id DESC LIMIT ?1"
        }
        JournalView::Orders => {
            "SELECT cloid, market, strategy, side, px, sz, tif, reduce_only, purpose, state, filled, updated_ms FROM orders ORDER BY updated_ms DESC LIMIT ?1"
        }
        JournalView::Fills => {
            "SELECT venue, tid, market, side, px, sz, fee, realized, strategy, time_ms FROM fills ORDER BY time_ms DESC LIMIT ?1"
        }
        JournalView::Positions => {
            "SELECT market, size, avg_entry, realized, updated_ms FROM positions ORDER BY market LIMIT ?1"
        }
        JournalView::Refusals => {
            "SELECT run_id, strategy, reason, count, last_ms FROM refusals ORDER BY run_id DESC, count DESC LIMIT ?1"
        }
        JournalView::Hardstop => {
            "SELECT id, ts_ms, event, reason, source FROM hardstop ORDER BY id DESC LIMIT ?1"
        }
    };
    let (names, rows) = journal.table(sql, limit)?;
    print_table(&names, &rows);
    Ok(ExitCode::SUCCESS)
}

/// Prints rows as an aligned text table.
fn print_table(names: &[String], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = names.iter().map(|n| n.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.len());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}", line(names));
    for r in rows {
        println!("{}", line(r));
    }
    if rows.is_empty() {
        println!("(none)");
    }
}
