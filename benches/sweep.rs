//! Sweep throughput: combinations × events per second on 1 and 2 threads, and the scaling
//! between them (issue #18 asks ≥ 1.8× on the 2-core VM). Each combination is a whole backtest
//! (plugins loaded, engine built, the recording replayed with execution simulated) of the same
//! data with the three default single-market strategies' real `.so` files; the two thread
//! counts alternate round by round (which goes first alternates too), so drift on a shared VM
//! hits both.
//!
//! Run: `cargo bench --bench sweep` (figures go in docs/BENCHMARKS.md). `SWEEP_MINUTES`
//! (default 10) sets the data length, `SWEEP_ROUNDS` (default 5) the rounds.

use std::path::{Path, PathBuf};
use strategy_host::backtest::{self, Options, data::DataArg, sweep};
use strategy_host::config::Config;
use strategy_host_e2e::bench::machine;
use strategy_host_e2e::data;

const START_MS: u64 = 1_764_547_200_000; // 2025-12-01T00:00:00Z

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A recording of `minutes` (made once, kept in target/tmp).
fn recording(minutes: u64) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sweep-bench/rec-{minutes}m"));
    if !dir.join("done").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        data::recording(&dir, "hl", &data::markets(), START_MS, minutes * 60, 100);
        std::fs::write(dir.join("done"), "").unwrap();
    }
    dir
}

/// Iterations of `spin` in one round (about 0.3 s on this VM).
const SPIN: u64 = 400_000_000;

/// Integer work only: a xorshift chain the optimizer cannot drop.
fn spin(n: u64) {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("sweep: benchmark");
        return;
    }
    let minutes = env("SWEEP_MINUTES", 10);
    let rounds = env("SWEEP_ROUNDS", 5) as usize;
    println!("machine: {}", machine());
    let text = data::config(&data::markets(), 40, "[backtest]\nlatency = \"constant\"\n");
    let cfg = Config::parse(Path::new("bench.toml"), text).unwrap();
    let combos = sweep::combinations(
        &cfg,
        "[[sweep]]\nstrategy = \"dislocation\"\ngrid = { threshold_bps = [30, 40, 50, 60], cooldown_ms = [1000, 5000] }\n[[sweep]]\nstrategy = \"timestop\"\nlist = [{ max_holding_ms = 20000 }, { max_holding_ms = 5000 }, { max_holding_ms = 1500 }]\n",
        "bench-sweep.toml",
    )
    .unwrap();
    let opts = Options {
        data: vec![DataArg {
            venue: None,
            path: recording(minutes),
        }],
        journal: None,
        progress: false,
        window: None,
    };
    // Events each combination hands the engine (deterministic: counted once), and each one's
    // time alone: the best a 2-thread schedule of them can do is max(sum / 2, longest).
    let mut events = 0;
    let mut alone = Vec::new();
    for c in &combos {
        let t0 = std::time::Instant::now();
        events += backtest::run(&sweep::apply(&cfg, c), &opts).unwrap().events;
        alone.push(t0.elapsed().as_secs_f64());
    }
    let sum: f64 = alone.iter().sum();
    let longest = alone.iter().copied().fold(0.0, f64::max);
    println!(
        "each combination alone: {} s; ideal 2-thread scaling of this set {:.2}x",
        alone
            .iter()
            .map(|t| format!("{t:.3}"))
            .collect::<Vec<_>>()
            .join(" "),
        sum / (sum / 2.0).max(longest)
    );
    let all: Vec<usize> = (0..combos.len()).collect();
    println!(
        "{} combinations of {minutes} min of data (3 markets, bbo + ctx every 100 ms): {events} engine events in all",
        combos.len()
    );
    let (_, timing) = backtest::run_timed(&sweep::apply(&cfg, &combos[0]), &opts).unwrap();
    println!(
        "one combination: start-up (plugins loaded, engine built) {:.1} ms, replay {:.1} ms",
        timing.startup.as_secs_f64() * 1e3,
        timing.replay.as_secs_f64() * 1e3
    );
    let mut walls: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut spins: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut first_table = None;
    for round in 0..rounds {
        let order: [usize; 2] = if round % 2 == 0 { [1, 2] } else { [2, 1] };
        for threads in order {
            // The machine's own ceiling, measured in the same round: a fixed amount of integer
            // work (no memory traffic) on 1 thread, then split over 2.
            let t0 = std::time::Instant::now();
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(move || spin(SPIN / threads as u64));
                }
            });
            spins[threads - 1].push(t0.elapsed().as_secs_f64());
            let t0 = std::time::Instant::now();
            let rows = sweep::run(&cfg, &opts, &combos, &all, threads);
            walls[threads - 1].push(t0.elapsed().as_secs_f64());
            assert!(rows.iter().all(|r| r.error.is_none()));
            let table = sweep::csv(&rows);
            // Every run gives the same table.
            assert_eq!(first_table.get_or_insert_with(|| table.clone()), &table);
        }
        println!(
            "round {}: 1 thread {:.2} s, 2 threads {:.2} s, scaling {:.2}x (pure integer work: {:.2}x)",
            round + 1,
            walls[0][round],
            walls[1][round],
            walls[0][round] / walls[1][round],
            spins[0][round] / spins[1][round]
        );
    }
    let median = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    let scalings: Vec<f64> = walls[0].iter().zip(&walls[1]).map(|(a, b)| a / b).collect();
    let spin_scalings: Vec<f64> = spins[0].iter().zip(&spins[1]).map(|(a, b)| a / b).collect();
    println!(
        "the machine's ceiling (pure integer work, same rounds): median {:.2}x, min {:.2}x, max {:.2}x",
        median(&spin_scalings),
        spin_scalings.iter().copied().fold(f64::INFINITY, f64::min),
        spin_scalings.iter().copied().fold(0.0, f64::max),
    );
    let (w1, w2) = (median(&walls[0]), median(&walls[1]));
    println!(
        "median: 1 thread {w1:.2} s ({:.2} M combination-events/s), 2 threads {w2:.2} s ({:.2} M/s); scaling by round: median {:.2}x, min {:.2}x, max {:.2}x",
        events as f64 / w1 / 1e6,
        events as f64 / w2 / 1e6,
        median(&scalings),
        scalings.iter().copied().fold(f64::INFINITY, f64::min),
        scalings.iter().copied().fold(0.0, f64::max),
    );
}
