//! `report`: one self-contained HTML file from a journal (live or backtest).

use crate::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The config whose journal to read.
    #[arg(
        long,
        default_value = "config/default.toml",
        conflicts_with = "journal"
    )]
    config: PathBuf,
    /// Read this journal file instead of the config's (e.g. one `backtest --journal` wrote).
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// The run to report (default: the latest; `strategy-host journal runs` lists them).
    #[arg(long, value_name = "ID")]
    run: Option<i64>,
    /// Where to write the HTML file.
    #[arg(long, value_name = "FILE.html")]
    out: PathBuf,
}

pub fn exec(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let ReportArgs {
        config,
        journal,
        run,
        out,
    } = args;
    // The output is checked first: a typo fails before any work.
    super::args::check_output("--out", &out)?;
    let path = match journal {
        Some(p) => p,
        None => Config::load(&config)?.journal_path(),
    };
    let made = crate::report::write(&path, run, &out)?;
    println!(
        "report of run {} ({}): {} fills, {} round trips, {} charts, {} KiB → {}",
        made.run,
        made.mode,
        made.fills,
        made.round_trips,
        made.charts,
        made.bytes.div_ceil(1024),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
