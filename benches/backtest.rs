//! Backtest throughput and memory: events per second through the engine and the three default
//! single-market strategies (real `.so` plugins), for a recording (bbo + activeAssetCtx JSON) and
//! for the archive's format (l2Book snapshots + asset_ctxs CSV, LZ4), with simulated execution on
//! (the strategies trade) and off (the entry's threshold is never reached: replay only). Then
//! peak RSS of a whole backtest of 1 h and of 10 h of data, each in a process of its own.
//!
//! Run: `cargo bench --bench backtest` (figures go in docs/BENCHMARKS.md). `BACKTEST_HOURS`
//! (default 1) sets the data length of the throughput runs.

use std::path::{Path, PathBuf};
use strategy_host::backtest::{Options, data::DataArg};
use strategy_host::config::Config;
use strategy_host_e2e::bench::machine;
use strategy_host_e2e::data;

const START_MS: u64 = 1_764_547_200_000; // 2025-12-01T00:00:00Z

fn data_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("backtest-bench");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A recording of `hours` (made once, kept in target/tmp).
fn recording(hours: u64) -> PathBuf {
    let dir = data_dir().join(format!("rec-{hours}h"));
    if !dir.join("done").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        data::recording(&dir, "hl", &data::markets(), START_MS, hours * 3600, 100);
        std::fs::write(dir.join("done"), "").unwrap();
    }
    dir
}

fn archive(hours: u64) -> PathBuf {
    let dir = data_dir().join(format!("archive-{hours}h"));
    if !dir.join("done").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        data::archive(&dir, &data::markets(), START_MS, hours * 3600);
        std::fs::write(dir.join("done"), "").unwrap();
    }
    dir
}

fn config(threshold: u64) -> Config {
    let text = data::config(
        &data::markets(),
        threshold,
        "[backtest]\nlatency = \"constant\"\n",
    );
    Config::parse(Path::new("bench.toml"), text).unwrap()
}

/// (events, records, seconds of the replay loop, orders) of one backtest.
fn run(cfg: &Config, data: &Path) -> (u64, u64, f64, u64) {
    let opts = Options {
        data: vec![DataArg {
            venue: None,
            path: data.to_path_buf(),
        }],
        journal: None,
        progress: false,
    };
    let (s, timing) = strategy_host::backtest::run_timed(cfg, &opts).unwrap();
    (
        s.events,
        s.records,
        timing.replay.as_secs_f64(),
        s.execution.orders,
    )
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("backtest: benchmark");
        return;
    }
    // A child measuring one backtest's peak RSS.
    if let Ok(h) = std::env::var("BACKTEST_RSS_CHILD") {
        let hours: u64 = h.parse().unwrap();
        let threshold = std::env::var("BACKTEST_RSS_THRESHOLD")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(40);
        let (events, _, secs, _) = run(&config(threshold), &recording(hours));
        println!("{hours} {events} {secs:.3} {}", peak_rss_kb());
        return;
    }
    let hours: u64 = std::env::var("BACKTEST_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(1);
    println!("machine: {}", machine());
    let rec = recording(hours);
    let arc = archive(hours);
    let variants: [(&str, &Path, u64); 4] = [
        ("recording (bbo + ctx), execution on", &rec, 40),
        ("recording (bbo + ctx), replay only", &rec, 1_000_000),
        ("archive (l2Book + asset_ctxs), execution on", &arc, 40),
        (
            "archive (l2Book + asset_ctxs), replay only",
            &arc,
            1_000_000,
        ),
    ];
    let mut results: Vec<Vec<(f64, u64, u64)>> = vec![Vec::new(); variants.len()];
    // Interleaved: every variant once per round, three rounds.
    for _round in 0..3 {
        for (i, (_, path, threshold)) in variants.iter().enumerate() {
            let (events, _records, secs, orders) = run(&config(*threshold), path);
            results[i].push((events as f64 / secs, events, orders));
        }
    }
    println!("{hours} h of data per run; events/s of three interleaved runs:");
    for (i, (name, _, _)) in variants.iter().enumerate() {
        let r = &results[i];
        println!(
            "  {name:<46} {} events, {} orders: {} events/s",
            r[0].1,
            r[0].2,
            r.iter()
                .map(|(e, _, _)| format!("{:.2} M", e / 1e6))
                .collect::<Vec<_>>()
                .join(" / ")
        );
    }
    // Peak RSS of whole runs, 1 h and 10 h, in processes of their own.
    for h in [1u64, 10] {
        recording(h);
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("BACKTEST_RSS_CHILD", h.to_string())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let last = text.lines().last().unwrap_or("").to_string();
        let f: Vec<&str> = last.split_whitespace().collect();
        if f.len() == 4 {
            println!(
                "  peak RSS, {h:>2} h recording, execution on: {} MB ({} events in {} s)",
                f[3].parse::<u64>().unwrap_or(0) / 1024,
                f[1],
                f[2]
            );
        } else {
            println!(
                "  peak RSS, {h} h: child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
