//! Support for the end-to-end tests in `tests/` and the benchmarks in `benches/`: finding the
//! built plugin libraries and the `strategy-host` binary from the running executable (never a
//! hard-coded `target/debug`, so any profile and any `CARGO_TARGET_DIR` work).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Directories where cargo leaves this build's artifacts, nearest first: the test executable's
/// own directory (`target/<profile>/deps`) and its parent (`target/<profile>`).
pub fn artifact_dirs() -> Vec<PathBuf> {
    let exe = std::env::current_exe().expect("current_exe");
    let mut dirs = Vec::new();
    if let Some(dir) = exe.parent() {
        dirs.push(dir.to_path_buf());
        if let Some(parent) = dir.parent() {
            dirs.push(parent.to_path_buf());
        }
    }
    dirs
}

/// The built library of plugin crate `name` (e.g. `fx-echo`).
pub fn plugin_path(name: &str) -> PathBuf {
    let file = format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    );
    artifact_dirs()
        .into_iter()
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{file} not built: is `{name}` a dev-dependency of the root package?")
        })
}

/// The `strategy-host` binary of this build, building it (with the same profile) if it is not
/// there yet, e.g. when only this package's tests were asked for.
pub fn host_binary() -> PathBuf {
    let name = format!("strategy-host{}", std::env::consts::EXE_SUFFIX);
    let dirs = artifact_dirs();
    if let Some(found) = dirs.iter().map(|d| d.join(&name)).find(|p| p.is_file()) {
        return found;
    }
    // target/<profile>/deps → target/<profile> → its name is the profile dir ("debug"/"release").
    let profile_dir = dirs.last().expect("artifact dir").clone();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_string(),
        Some(other) => other.to_string(),
        None => "dev".to_string(),
    };
    let status = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "-p",
            "strategy-host",
            "--bin",
            "strategy-host",
            "--profile",
            &profile,
        ])
        .status()
        .expect("run cargo build for strategy-host");
    assert!(status.success(), "building strategy-host failed");
    let built = profile_dir.join(&name);
    assert!(built.is_file(), "{} missing after build", built.display());
    built
}

/// Runs this build's `strategy-host` with `args` and returns its stdout; panics with the
/// command, its stdout and its stderr unless it succeeds.
pub fn host_ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let out = Command::new(host_binary())
        .args(args)
        .output()
        .expect("run strategy-host");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "strategy-host {:?}: {stdout}{}",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs the host binary, which must fail; returns its stderr.
pub fn host_err<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let out = Command::new(host_binary())
        .args(args)
        .output()
        .expect("run strategy-host");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "strategy-host {:?} should fail: {}",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// A fresh scratch directory for one test under `base` (pass `env!("CARGO_TARGET_TMPDIR")`).
pub fn scratch_dir(base: &str, test: &str) -> PathBuf {
    let dir = Path::new(base).join(format!("e2e-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A scratch directory for `test` holding a copy of `config/default.toml` (its journal and the
/// simulators' state files land beside it): returns (directory, config path).
pub fn default_config(base: &str, test: &str) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(base, test);
    let config = dir.join("default.toml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        &config,
    )
    .expect("copy config/default.toml");
    (dir, config)
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write file");
    p
}

/// Small helpers shared by the benchmarks: a counting allocator and percentile summaries.
pub mod bench {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A global allocator that counts allocations (declare it `#[global_allocator]` in a bench).
    pub struct CountingAlloc;

    static ALLOCS: AtomicU64 = AtomicU64::new(0);

    // SAFETY: defers every operation to `System`, only counting calls.
    unsafe impl GlobalAlloc for CountingAlloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: same contract as the caller's.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as the caller's.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: same contract as the caller's.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// Allocations counted so far by `CountingAlloc` in this binary.
    pub fn allocations() -> u64 {
        ALLOCS.load(Ordering::Relaxed)
    }

    /// The value at quantile `q` (0..=1) of `sorted`.
    pub fn quantile(sorted: &[f64], q: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let i = ((sorted.len() - 1) as f64 * q).round() as usize;
        sorted[i]
    }

    /// p50 / p99 / max of `samples` (sorted in place).
    pub fn summary(samples: &mut [f64]) -> (f64, f64, f64) {
        samples.sort_by(|a, b| a.total_cmp(b));
        (
            quantile(samples, 0.5),
            quantile(samples, 0.99),
            *samples.last().unwrap_or(&f64::NAN),
        )
    }

    /// A one-line description of the machine for benchmark reports.
    pub fn machine() -> String {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        format!("{cpu}, {cores} cores, {}", std::env::consts::ARCH)
    }
}

/// Market data in the backtest's input formats, made from the simulator's own markets (the
/// tests and benchmarks cannot reach the venue's archive): recordings as `record` writes them,
/// and the archive's hourly l2Book files and daily asset_ctxs CSV (reference §10 layout).
pub mod data {
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use strategy_host::record::format::{self, Dir, Header, MarketHeader, VenueHeader};
    use strategy_host::sim::exchange::Exchange;
    use strategy_host::sim::market::MarketSpec;

    /// `coin`, `sz_decimals`, `price`, dislocating often enough for the strategies to trade.
    pub fn market(coin: &str, sz_decimals: u32, price: u32) -> MarketSpec {
        toml::from_str(&format!(
            "coin = \"{coin}\"\nsz_decimals = {sz_decimals}\nprice = {price}\ndislocation_every_ms = 1500\ndislocation_bps = 70\n"
        ))
        .expect("a market spec")
    }

    /// The default test markets: BTC, ETH and a HIP-3 one.
    pub fn markets() -> Vec<MarketSpec> {
        vec![
            market("BTC", 5, 64000),
            market("ETH", 4, 3200),
            market("xyz:TSLA", 3, 250),
        ]
    }

    fn lz4(path: &Path) -> lz4_flex::frame::FrameEncoder<std::io::BufWriter<std::fs::File>> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).expect("data dir");
        }
        lz4_flex::frame::FrameEncoder::new(std::io::BufWriter::new(
            std::fs::File::create(path).expect("data file"),
        ))
    }

    /// What a sweep test needs in `dir`: a recording of `secs` of venue `hl`, a config of the
    /// default markets' strategies, and the sweep file `sweep`. Returns (recording, config,
    /// sweep file).
    pub fn sweep_fixture(dir: &Path, secs: u64, sweep: &str) -> (PathBuf, PathBuf, PathBuf) {
        let markets = markets();
        let (rec, _) = recording(dir, "hl", &markets, 1_700_000_000_000, secs, 100);
        let cfg = dir.join("bt.toml");
        std::fs::write(&cfg, config(&markets, 40, "")).expect("config");
        let file = dir.join("sweep.toml");
        std::fs::write(&file, sweep).expect("sweep file");
        (rec, cfg, file)
    }

    /// `strategy-host backtest --quiet --config C --data D --sweep S` and `more`.
    pub fn sweep_args<'a>(
        config: &'a Path,
        rec: &'a Path,
        sweep: &'a Path,
        more: &[&'a str],
    ) -> Vec<&'a std::ffi::OsStr> {
        let mut v: Vec<&std::ffi::OsStr> = vec![
            "backtest".as_ref(),
            "--quiet".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
            "--data".as_ref(),
            rec.as_os_str(),
            "--sweep".as_ref(),
            sweep.as_os_str(),
        ];
        v.extend(more.iter().map(|m| std::ffi::OsStr::new(*m)));
        v
    }

    /// A recording of venue `venue`: bbo and activeAssetCtx of every market every `tick_ms`,
    /// for `secs` from `start_ms`, as one file; returns its path and the number of data lines.
    pub fn recording(
        dir: &Path,
        venue: &str,
        markets: &[MarketSpec],
        start_ms: u64,
        secs: u64,
        tick_ms: u64,
    ) -> (PathBuf, u64) {
        let path = dir.join(format!("rec-{venue}-{start_ms}.jsonl.lz4"));
        let mut w = lz4(&path);
        let header = Header {
            format: format::FORMAT.into(),
            version: format::VERSION,
            venues: vec![VenueHeader {
                name: venue.into(),
                markets: markets
                    .iter()
                    .map(|m| MarketHeader {
                        coin: m.coin.clone(),
                        sz_decimals: Some(m.sz_decimals),
                    })
                    .collect(),
            }],
        };
        let mut line = serde_json::to_vec(&header).unwrap();
        line.push(b'\n');
        w.write_all(&line).unwrap();
        let mut buf = Vec::new();
        let t0 = start_ms * 1_000_000;
        format::write_line(&mut buf, t0, venue, Dir::Session, "\"ready\"");
        let mut ex = Exchange::new(7, markets.to_vec(), Vec::new(), start_ms);
        let mut n = 0;
        for k in 1..=(secs * 1000 / tick_ms) {
            let now = start_ms + k * tick_ms;
            ex.tick(now);
            for i in 0..markets.len() {
                let (bbo, ctx) = ex.market_frames(i);
                // Receive times a few µs apart, as frames arrive one by one.
                let t = now * 1_000_000 + 150_000 + i as u64 * 20_000;
                format::write_line(&mut buf, t, venue, Dir::In, &bbo);
                format::write_line(&mut buf, t + 5_000, venue, Dir::In, &ctx);
                n += 2;
            }
            if buf.len() > 1 << 16 {
                w.write_all(&buf).unwrap();
                buf.clear();
            }
        }
        w.write_all(&buf).unwrap();
        w.finish().unwrap().flush().unwrap();
        (path, n)
    }

    /// `2023-09-16T09:00:02.164471989` of a time in ns.
    pub fn iso(ns: u64) -> String {
        let secs = ns / 1_000_000_000;
        let (y, m, d) = strategy_host::timefmt::civil_from_days((secs / 86_400) as i64);
        let s = secs % 86_400;
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}",
            s / 3600,
            s / 60 % 60,
            s % 60,
            ns % 1_000_000_000
        )
    }

    /// The archive's layout under `dir`: `market_data/<date>/<H>/l2Book/<COIN>.lz4` (a snapshot
    /// every 500 ms) and `asset_ctxs/<date>.csv.lz4` (a row per coin per minute). Returns the
    /// number of l2Book lines and CSV rows.
    pub fn archive(dir: &Path, markets: &[MarketSpec], start_ms: u64, secs: u64) -> (u64, u64) {
        let mut ex = Exchange::new(7, markets.to_vec(), Vec::new(), start_ms);
        let mut books: std::collections::HashMap<(String, u32, usize), _> = Default::default();
        let mut csv: std::collections::HashMap<String, Vec<String>> = Default::default();
        let (mut lines, mut rows) = (0, 0);
        for k in 1..=(secs * 2) {
            let now = start_ms + k * 500;
            ex.tick(now);
            let (date, hour) = strategy_host::timefmt::date_hour(now * 1_000_000);
            for (i, m) in markets.iter().enumerate() {
                let w = books.entry((date.clone(), hour, i)).or_insert_with(|| {
                    let file = m.coin.replace(':', "_");
                    lz4(&dir.join(format!("market_data/{date}/{hour}/l2Book/{file}.lz4")))
                });
                let raw = serde_json::json!({"channel": "l2Book", "data": ex.book_json(i, now)});
                let t = now * 1_000_000 + 164_471_989 % 1_000_000;
                writeln!(w, "{{\"time\":\"{}\",\"ver_num\":1,\"raw\":{raw}}}", iso(t)).unwrap();
                lines += 1;
                if now % 60_000 == 0 {
                    let (_, ctx) = ex.market_frames(i);
                    let v: serde_json::Value = serde_json::from_str(&ctx).unwrap();
                    let c = &v["data"]["ctx"];
                    let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
                    csv.entry(date.clone()).or_default().push(format!(
                        "{}Z,{},{},{},{},{},{},{},{},{},,",
                        &iso(now * 1_000_000)[..19],
                        m.coin,
                        s("funding"),
                        s("openInterest"),
                        s("prevDayPx"),
                        s("dayNtlVlm"),
                        s("premium"),
                        s("oraclePx"),
                        s("markPx"),
                        s("midPx"),
                    ));
                    rows += 1;
                }
            }
        }
        for (_, w) in books {
            w.finish().unwrap().flush().unwrap();
        }
        for (date, lines) in csv {
            let mut w = lz4(&dir.join(format!("asset_ctxs/{date}.csv.lz4")));
            writeln!(w, "time,coin,funding,open_interest,prev_day_px,day_ntl_vlm,premium,oracle_px,mark_px,mid_px,impact_bid_px,impact_ask_px").unwrap();
            for l in lines {
                writeln!(w, "{l}").unwrap();
            }
            w.finish().unwrap().flush().unwrap();
        }
        (lines, rows)
    }

    /// A config trading `markets` on one venue `hl` (no simulator: the markets' rules are in
    /// `[[backtest.markets]]`) with the three default single-market strategies, `extra` TOML
    /// appended. `threshold_bps` of the entry: 40 trades on these markets, 1e6 never does.
    pub fn config(markets: &[MarketSpec], threshold_bps: u64, extra: &str) -> String {
        let plugin_dir = crate::plugin_path("dislocation-entry")
            .parent()
            .expect("a directory")
            .display()
            .to_string();
        let keys: Vec<String> = markets
            .iter()
            .map(|m| format!("\"hl/{}\"", m.coin))
            .collect();
        let keys = keys.join(", ");
        let mut rules = String::new();
        for m in markets {
            rules.push_str(&format!(
                "[[backtest.markets]]\nmarket = \"hl/{}\"\nsz_decimals = {}\n",
                m.coin, m.sz_decimals
            ));
        }
        format!(
            r#"[plugins]
dir = "{plugin_dir}"
call_budget_us = 50

[engine]
stale_after_ms = 3000
timer_interval_ms = 200

[risk]
max_notional_per_market = 1000
max_notional_total = 3000
max_cumulative_loss = 100
max_consecutive_losses = 8

[[venues]]
name = "hl"
kind = "hyperliquid"
network = "simulator"
ws_url = "ws://127.0.0.1:9/ws"
info_url = "http://127.0.0.1:9"
account = "0x0000000000000000000000000000000000000001"

{rules}
[[strategies]]
name = "dislocation"
plugin = "dislocation-entry"
role = "entry"
markets = [{keys}]
[strategies.params]
threshold_bps = {threshold_bps}
notional = 200
max_slippage_bps = 10
cooldown_ms = 1000

[[strategies]]
name = "regression"
plugin = "mark-regression-exit"
role = "exit"
markets = [{keys}]
[strategies.params]
exit_threshold_bps = 10
min_holding_time_ms = 500

[[strategies]]
name = "timestop"
plugin = "time-stop-exit"
role = "exit"
markets = [{keys}]
[strategies.params]
max_holding_ms = 20000
max_slippage_bps = 50
{extra}
"#
        )
    }
}
