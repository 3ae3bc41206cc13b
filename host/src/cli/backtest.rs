//! `backtest`: replay recordings or the venue's archive through the config's strategies.

use crate::backtest::{Options, data::DataArg};
use crate::config::Config;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BacktestArgs {
    #[command(subcommand)]
    cmd: Option<BacktestCommand>,
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
    /// Write the sweep's table here as JSON (what `backtest merge` reads).
    #[arg(long, value_name = "PATH", requires = "sweep")]
    sweep_json: Option<PathBuf>,
    /// Run only shard I of N of the sweep: the combinations numbered I modulo N (I from 0, as a
    /// Kubernetes Indexed Job's JOB_COMPLETION_INDEX); `backtest merge` puts the shards together.
    #[arg(long, value_name = "I/N", requires = "sweep", value_parser = crate::backtest::sweep::parse_shard)]
    shard: Option<(usize, usize)>,
    /// Walk-forward: each window's training period (`2h`, `30m`, …); the best combination there
    /// is then scored on the --test period after it (docs/backtest.md, "Walk-forward").
    #[arg(long, value_name = "DURATION", requires_all = ["sweep", "test"], conflicts_with = "shard", value_parser = super::args::positive_duration)]
    train: Option<std::time::Duration>,
    /// Walk-forward: each window's test period (out of sample); windows step by it.
    #[arg(long, value_name = "DURATION", requires = "train", value_parser = super::args::positive_duration)]
    test: Option<std::time::Duration>,
}

#[derive(Debug, clap::Subcommand)]
enum BacktestCommand {
    /// Merge the --sweep-json tables of a sweep's shards into the table one run gives.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
struct MergeArgs {
    /// The shards' --sweep-json files, in any order.
    #[arg(required = true, value_name = "SHARD.json")]
    shards: Vec<PathBuf>,
    /// Write the merged table here as CSV.
    #[arg(long, value_name = "PATH")]
    sweep_csv: Option<PathBuf>,
    /// Write the merged table here as JSON.
    #[arg(long, value_name = "PATH")]
    sweep_json: Option<PathBuf>,
}

pub fn exec(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    if let Some(BacktestCommand::Merge(m)) = &args.cmd {
        return merge(m);
    }
    let cfg = Config::load(&args.config)?;
    if let Some(p) = &args.summary_json {
        super::args::check_output("--summary-json", p)?;
    }
    let opts = Options {
        data: args.data.iter().map(|d| DataArg::parse(d)).collect(),
        journal: args.journal.clone(),
        progress: !args.quiet,
        window: None,
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
    let outputs = (args.sweep_csv.as_deref(), args.sweep_json.as_deref());
    check_outputs(outputs)?;
    let (combos, text) = sweep::read(cfg, file)?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        anyhow::bail!("--threads must be at least 1");
    }
    if let (Some(train), Some(test)) = (args.train, args.test) {
        return walk(cfg, opts, &combos, threads, (train, test), outputs);
    }
    let (shard, shards) = args.shard.unwrap_or((0, 1));
    let which = sweep::shard_of(combos.len(), shard, shards);
    let fingerprint = sweep::fingerprint(cfg, &text, &opts.data)?;
    let t0 = std::time::Instant::now();
    let rows = sweep::run(cfg, opts, &combos, &which, threads);
    let table = sweep::Table {
        format: sweep::TABLE_FORMAT.into(),
        fingerprint,
        combinations: combos.len(),
        shard,
        shards,
        rows,
    };
    write_table(&table, outputs)?;
    println!(
        "sweep: {} combinations{} on {threads} thread(s) in {:.2} s; {} failed",
        table.rows.len(),
        if shards > 1 {
            format!(" (shard {shard}/{shards} of {})", combos.len())
        } else {
            String::new()
        },
        t0.elapsed().as_secs_f64(),
        table.rows.iter().filter(|r| r.error.is_some()).count()
    );
    Ok(ExitCode::SUCCESS)
}

fn walk(
    cfg: &Config,
    opts: &Options,
    combos: &[crate::backtest::sweep::Combination],
    threads: usize,
    (train, test): (std::time::Duration, std::time::Duration),
    (csv_path, json_path): (Option<&std::path::Path>, Option<&std::path::Path>),
) -> anyhow::Result<ExitCode> {
    use crate::backtest::walk;
    let t0 = std::time::Instant::now();
    let w = walk::run(
        cfg,
        opts,
        combos,
        threads,
        train.as_nanos() as u64,
        test.as_nanos() as u64,
    )?;
    let csv = walk::csv(&w);
    print!("{csv}");
    println!(
        "walk-forward: {} window(s) of {} s training + {} s test, {} combinations each, on {threads} thread(s) in {:.2} s",
        w.windows.len(),
        w.train_secs,
        w.test_secs,
        w.combinations,
        t0.elapsed().as_secs_f64()
    );
    println!(
        "  in sample (the chosen combinations on their training periods): net PnL {}",
        w.in_sample_net_pnl.normalize()
    );
    println!(
        "  out of sample (the same on the test periods after them): net PnL {}, {} round trips",
        w.out_of_sample_net_pnl.normalize(),
        w.out_of_sample_round_trips
    );
    if let Some(p) = csv_path {
        std::fs::write(p, &csv).with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = json_path {
        std::fs::write(p, serde_json::to_string_pretty(&w)? + "\n")
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn check_outputs(
    (csv, json): (Option<&std::path::Path>, Option<&std::path::Path>),
) -> anyhow::Result<()> {
    for (flag, p) in [("--sweep-csv", csv), ("--sweep-json", json)] {
        if let Some(p) = p {
            super::args::check_output(flag, p)?;
        }
    }
    Ok(())
}

/// Prints the table as CSV and writes the files asked for.
fn write_table(
    table: &crate::backtest::sweep::Table,
    (csv_path, json_path): (Option<&std::path::Path>, Option<&std::path::Path>),
) -> anyhow::Result<()> {
    let csv = crate::backtest::sweep::csv(&table.rows);
    print!("{csv}");
    if let Some(p) = csv_path {
        std::fs::write(p, &csv).with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = json_path {
        std::fs::write(p, serde_json::to_string_pretty(table)? + "\n")
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

fn merge(m: &MergeArgs) -> anyhow::Result<ExitCode> {
    use crate::backtest::sweep;
    let outputs = (m.sweep_csv.as_deref(), m.sweep_json.as_deref());
    check_outputs(outputs)?;
    let tables = m
        .shards
        .iter()
        .map(|p| Ok((p.display().to_string(), sweep::read_table(p)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let whole = sweep::merge(&tables)?;
    write_table(&whole, outputs)?;
    println!(
        "merged {} shard(s): {} combinations; {} failed",
        tables.len(),
        whole.rows.len(),
        whole.rows.iter().filter(|r| r.error.is_some()).count()
    );
    Ok(ExitCode::SUCCESS)
}
