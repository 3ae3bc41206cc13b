//! Backtest throughput and memory: events per second through the engine and the three default
//! single-market strategies (real `.so` plugins), for a recording (bbo + activeAssetCtx JSON) and
//! for the archive's format (l2Book snapshots + asset_ctxs CSV, LZ4), with simulated execution on
//! (the strategies trade) and off (the entry's threshold is never reached: replay only). Then
//! peak RSS of a whole backtest of 1, 10, 20 and 30 h of data, each in a process of its own.
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
        window: None,
    };
    let (s, timing) = strategy_host::backtest::run_timed(cfg, &opts).unwrap();
    (
        s.events,
        s.records,
        timing.replay.as_secs_f64(),
        s.execution.orders,
    )
}

/// The recording's market events, decoded once by the live decoder, with their times.
fn decoded_events(dir: &Path) -> Vec<(u64, strategy_host::engine::events::Event)> {
    use strategy_host::backtest::data::Reader;
    use strategy_host::venue::hyperliquid::{
        decode, info::AssetTable, markets::Markets, wire::WsMessage,
    };
    let cfg = config(1_000_000);
    let built = strategy_host::runtime::startup::build(&cfg, 1).unwrap();
    let reg = built.registry;
    let list = reg.markets().map(|(m, k)| (m, k.coin.clone())).collect();
    let markets = Markets::new(list, &AssetTable::default());
    let mut out = Vec::new();
    for a in strategy_host::backtest::data::expand(&[DataArg {
        venue: None,
        path: dir.to_path_buf(),
    }])
    .unwrap()
    {
        let mut r = Reader::open(&a, strategy_host::backtest::config::OnBad::Error).unwrap();
        while r.advance(&|_| true).unwrap() {
            let l = strategy_host::record::format::parse_line(&r.line).unwrap();
            let ev = match WsMessage::parse(l.payload) {
                Ok(WsMessage::Bbo(b)) => decode::bbo(&b, &markets),
                Ok(WsMessage::AssetCtx { ctx, .. }) => decode::asset_ctx(&ctx, &markets),
                _ => None,
            };
            out.extend(ev.map(|e| (l.t_ns, e)));
        }
    }
    out
}

/// The engine and the plugins alone on pre-decoded events (timers as the backtest makes them):
/// the ceiling of a replay that reads no file and parses no JSON. (events, seconds)
fn engine_only(cfg: &Config, events: &[(u64, strategy_host::engine::events::Event)]) -> (u64, f64) {
    use strategy_host::engine::events::{ConnectionState, Event};
    use strategy_host::engine::types::VenueId;
    let mut engine = strategy_host::runtime::startup::build(cfg, 1)
        .unwrap()
        .engine;
    let t0 = events[0].0;
    for ev in [
        Event::Connection {
            venue: VenueId(0),
            state: ConnectionState::Connected,
        },
        Event::Reconciled {
            venue: VenueId(0),
            as_of_ms: t0 / 1_000_000,
            positions: vec![],
            open_orders: vec![],
        },
        Event::Connection {
            venue: VenueId(0),
            state: ConnectionState::Ready,
        },
    ] {
        engine.handle(ev, t0);
    }
    let timer = cfg.raw.engine.timer_interval_ms * 1_000_000;
    let mut next_timer = t0 + timer;
    let started = std::time::Instant::now();
    let mut n = 0;
    for (t, ev) in events {
        while next_timer <= *t {
            engine.handle(Event::Timer, next_timer);
            next_timer += timer;
            n += 1;
        }
        engine.handle(ev.clone(), *t);
        while engine.next_batch(*t).is_some() {}
        engine.drain_notes().for_each(drop);
        n += 1;
    }
    (n, started.elapsed().as_secs_f64())
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
    let decoded = decoded_events(&rec);
    let mut results: Vec<Vec<(f64, u64, u64)>> = vec![Vec::new(); variants.len() + 1];
    // Interleaved: every variant once per round.
    let rounds: usize = std::env::var("BACKTEST_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    for _round in 0..rounds {
        for (i, (_, path, threshold)) in variants.iter().enumerate() {
            let (events, _records, secs, orders) = run(&config(*threshold), path);
            results[i].push((events as f64 / secs, events, orders));
        }
        let (events, secs) = engine_only(&config(1_000_000), &decoded);
        results[variants.len()].push((events as f64 / secs, events, 0));
    }
    println!(
        "{hours} h of data per run; events/s of the replay loop, {rounds} interleaved runs (median, min-max):"
    );
    let names = variants
        .iter()
        .map(|(n, _, _)| *n)
        .chain(["the recording's events pre-decoded, engine + strategies only"]);
    for (i, name) in names.enumerate() {
        let r = &mut results[i];
        let (events, orders) = (r[0].1, r[0].2);
        let mut rates: Vec<f64> = r.iter().map(|(e, _, _)| *e).collect();
        rates.sort_by(|a, b| a.total_cmp(b));
        println!(
            "  {name:<62} {events:>8} events {orders:>5} orders: {:.2} M/s ({:.2}-{:.2})",
            rates[rates.len() / 2] / 1e6,
            rates[0] / 1e6,
            rates[rates.len() - 1] / 1e6
        );
    }
    // Peak RSS of whole runs, 1 h and 10 h, in processes of their own.
    for h in [1u64, 10, 20, 30] {
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
