//! `backtest`: replay recordings or the venue's archive through the config's strategies.

use crate::backtest::{Options, data::DataArg};
use crate::config::Config;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// The config whose strategies are replayed (its [backtest] table sets the execution model).
    #[arg(long, default_value = "config/default.toml")]
    config: PathBuf,
    /// Recordings, archive files, or directories of them; `VENUE=PATH` assigns archive files to
    /// one configured venue.
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    data: Vec<String>,
    /// Also write the summary as JSON here.
    #[arg(long, value_name = "PATH")]
    summary_json: Option<PathBuf>,
    /// Write a journal (the live schema: every `journal` command reads it) here; must not exist.
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Run every combination of the parameter overrides in this file (a grid or a list per
    /// strategy; docs/backtest.md, "Sweeps"), one backtest each, on all cores.
    #[arg(long, value_name = "FILE", conflicts_with = "journal")]
    sweep: Option<PathBuf>,
    /// Threads for --sweep (default: every core).
    #[arg(long, value_name = "N", requires = "sweep")]
    threads: Option<usize>,
    /// Write the sweep's table here as CSV.
    #[arg(long, value_name = "PATH", requires = "sweep")]
    sweep_csv: Option<PathBuf>,
    /// Write the sweep's table here as JSON.
    #[arg(long, value_name = "PATH", requires = "sweep")]
    sweep_json: Option<PathBuf>,
}

pub fn exec(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&args.config)?;
    if let Some(p) = &args.summary_json {
        super::args::check_output("--summary-json", p)?;
    }
    let opts = Options {
        data: args.data.iter().map(|d| DataArg::parse(d)).collect(),
        journal: args.journal.clone(),
        progress: !args.quiet,
    };
    if let Some(file) = &args.sweep {
        return sweep(&cfg, &opts, file, &args);
    }
    let (summary, timing) = crate::backtest::run_timed(&cfg, &opts)?;
    print!("{}", summary.render());
    let secs = timing.replay.as_secs_f64();
    println!(
        "  replayed in {:.2} s ({:.0} events/s; start-up {:.2} s)",
        secs,
        summary.events as f64 / secs.max(1e-9),
        timing.startup.as_secs_f64()
    );
    if let Some(path) = &args.summary_json {
        std::fs::write(path, serde_json::to_string_pretty(&summary)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("summary written to {}", path.display());
    }
    if let Some(j) = &args.journal {
        println!(
            "journal written to {} (read it with `strategy-host journal --journal {}`)",
            j.display(),
            j.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn sweep(
    cfg: &Config,
    opts: &Options,
    file: &std::path::Path,
    args: &BacktestArgs,
) -> anyhow::Result<ExitCode> {
    use crate::backtest::sweep;
    for (flag, p) in [
        ("--sweep-csv", &args.sweep_csv),
        ("--sweep-json", &args.sweep_json),
    ] {
        if let Some(p) = p {
            super::args::check_output(flag, p)?;
        }
    }
    let combos = sweep::read(cfg, file)?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        anyhow::bail!("--threads must be at least 1");
    }
    let t0 = std::time::Instant::now();
    let rows = sweep::run(cfg, opts, &combos, threads);
    let csv = sweep::csv(&rows);
    print!("{csv}");
    println!(
        "sweep: {} combinations on {threads} thread(s) in {:.2} s; {} failed",
        rows.len(),
        t0.elapsed().as_secs_f64(),
        rows.iter().filter(|r| r.error.is_some()).count()
    );
    if let Some(p) = &args.sweep_csv {
        std::fs::write(p, &csv).with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = &args.sweep_json {
        std::fs::write(p, serde_json::to_string_pretty(&rows)? + "\n")
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
