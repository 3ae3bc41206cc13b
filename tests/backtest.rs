//! Record and backtest through the real path: a `run` on the simulators records its frames
//! (`[record]`), and `backtest` replays them through the same engine and plugin `.so` files.
//! Parity: the backtest makes the same orders the live run made (market, side, price, size).
//! Determinism: the same data, config and plugins give a byte-identical summary and journal.

mod support;

use std::path::{Path, PathBuf};
use strategy_host::backtest::{self, Options, data::DataArg};
use strategy_host::config::Config;
use support::{On, fast_config, logs, run_for};

/// The config with `[record]` into `dir`.
fn recording(cfg: &Config, dir: &Path) -> Config {
    let text = format!("{}\n[record]\ndir = \"{}\"\n", cfg.text, dir.display());
    Config::parse(&cfg.path, text).unwrap()
}

/// (market, side, px, sz) of every order a journal holds, in the order they were made.
fn orders(journal: &Path) -> Vec<(String, String, String, String)> {
    let c = rusqlite::Connection::open(journal).unwrap();
    let mut st = c
        .prepare("SELECT market, side, px, sz FROM orders ORDER BY rowid")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Options reading `paths`, writing a journal to `journal` if given.
fn options(paths: &[&Path], journal: Option<PathBuf>) -> Options {
    Options {
        data: paths
            .iter()
            .map(|p| DataArg {
                venue: None,
                path: p.to_path_buf(),
            })
            .collect(),
        journal,
        progress: false,
        window: None,
    }
}

fn backtest_into(cfg: &Config, data: &Path, journal: PathBuf) -> backtest::report::Summary {
    backtest::run(cfg, &options(&[data], Some(journal))).unwrap()
}

#[test]
fn a_recorded_run_backtests_to_the_same_orders_and_twice_to_the_same_bytes() {
    logs();
    let cfg = fast_config("", On::Both, &[], "bt-parity");
    let dir = cfg.journal_path().parent().unwrap().to_path_buf();
    let rec = dir.join("rec");
    let live_cfg = recording(&cfg, &rec);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let live = rt.block_on(run_for(&live_cfg, 20));
    let live_orders = orders(&cfg.journal_path());
    assert!(
        live_orders.len() >= 6,
        "the live run traded: {}",
        live.summary.render()
    );
    let files: Vec<_> = std::fs::read_dir(&rec).unwrap().flatten().collect();
    assert!(!files.is_empty(), "the run wrote a recording");

    let a = backtest_into(&cfg, &rec, dir.join("bt-a.db"));
    println!("live: {} orders\n{}", live_orders.len(), a.render());
    let bt_orders = orders(&dir.join("bt-a.db"));
    assert!(
        a.latency.recorded_round_trips as usize >= live_orders.len() / 2,
        "the recording holds the run's order round trips: {:?}",
        a.latency
    );
    assert_eq!(a.latency.mode, "recorded");
    assert_eq!(
        a.reconcile_requests, 0,
        "the engine explained every answer of the simulated venue"
    );
    assert_eq!(
        bt_orders,
        live_orders,
        "the backtest of the run's recording makes the run's orders\nbacktest:\n{}",
        a.render()
    );

    // Determinism: the same inputs, the same bytes.
    let b = backtest_into(&cfg, &rec, dir.join("bt-b.db"));
    let ja = serde_json::to_string_pretty(&a).unwrap();
    let jb = serde_json::to_string_pretty(&b).unwrap();
    assert_eq!(ja, jb, "the summary is byte-identical");
    assert_eq!(a.render(), b.render());
    let fa = std::fs::read(dir.join("bt-a.db")).unwrap();
    let fb = std::fs::read(dir.join("bt-b.db")).unwrap();
    assert!(
        fa == fb,
        "the journal is byte-identical ({} vs {} bytes)",
        fa.len(),
        fb.len()
    );
}

const START_MS: u64 = 1_764_547_200_000 - 300_000; // five minutes before 2025-12-01T00:00Z

/// A recording of the three test markets on venue `hl`, `secs` long from `start_ms`.
fn recording_of(dir: &Path, start_ms: u64, secs: u64) -> (PathBuf, u64) {
    strategy_host_e2e::data::recording(
        dir,
        "hl",
        &strategy_host_e2e::data::markets(),
        start_ms,
        secs,
        100,
    )
}

fn scratch(test: &str) -> PathBuf {
    strategy_host_e2e::scratch_dir(env!("CARGO_TARGET_TMPDIR"), test)
}

fn cfg_with(extra: &str) -> Config {
    let text = strategy_host_e2e::data::config(&strategy_host_e2e::data::markets(), 40, extra);
    Config::parse(Path::new("backtest-test.toml"), text).unwrap()
}

fn run_on(cfg: &Config, paths: &[&Path]) -> anyhow::Result<backtest::report::Summary> {
    backtest::run(cfg, &options(paths, None))
}

/// A small recording's lines, decompressed: (path of a plain .jsonl copy, its lines).
fn plain_recording(dir: &Path, secs: u64) -> (PathBuf, Vec<String>) {
    let (lz, _) = recording_of(dir, START_MS, secs);
    let mut text = String::new();
    use std::io::Read;
    lz4_flex::frame::FrameDecoder::new(std::fs::File::open(&lz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    std::fs::remove_file(&lz).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let p = dir.join("rec.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    (p, lines)
}

#[test]
fn the_venue_archive_replays_through_the_strategies() {
    let dir = scratch("bt-archive");
    let (book_lines, csv_rows) =
        strategy_host_e2e::data::archive(&dir, &strategy_host_e2e::data::markets(), START_MS, 900);
    assert!(
        dir.join("market_data/20251130/23/l2Book/BTC.lz4").is_file(),
        "the archive's layout"
    );
    assert!(
        dir.join("market_data/20251201/0/l2Book/xyz_TSLA.lz4")
            .is_file(),
        "hours un-padded"
    );
    assert!(dir.join("asset_ctxs/20251201.csv.lz4").is_file());
    let s = run_on(&cfg_with(""), &[&dir]).unwrap();
    assert_eq!(s.records, book_lines + csv_rows, "{}", s.render());
    assert!(
        s.execution.orders > 0 && s.round_trips > 0,
        "it traded: {}",
        s.render()
    );
    assert!(s.data.markets_without_data.is_empty());
    assert!(
        s.data
            .files
            .iter()
            .any(|f| f.kind == backtest::data::Kind::ArchiveBook)
    );
    assert!(
        s.data
            .files
            .iter()
            .any(|f| f.kind == backtest::data::Kind::AssetCtxs)
    );
    // Every fill paid the taker or maker rate; the HIP-3 market twice the base.
    assert!(s.fees > rust_decimal::Decimal::ZERO);
    assert_eq!(
        s.data.skipped_lines.len() + s.data.gaps.len(),
        0,
        "{}",
        s.render()
    );
}

#[test]
fn positions_held_across_an_hour_pay_funding_from_the_asset_contexts() {
    let dir = scratch("bt-funding");
    // Ten minutes from five before the hour; the exits hold for ten minutes, so the entries
    // of the first five are open at the hour.
    let (lz, _) = recording_of(&dir, START_MS, 600);
    let text = strategy_host_e2e::data::config(&strategy_host_e2e::data::markets(), 40, "")
        .replace("max_holding_ms = 20000", "max_holding_ms = 600000")
        .replace("min_holding_time_ms = 500", "min_holding_time_ms = 600000");
    let cfg = Config::parse(Path::new("funding.toml"), text).unwrap();
    let journal = dir.join("bt.db");
    let s = backtest::run(&cfg, &options(&[&lz], Some(journal.clone()))).unwrap();
    // The positions at the hour, from the journal's fills before it, times the simulator's
    // funding rate (0.0000125) at the markets' nominal prices (the oracles wander a few bps in
    // five minutes): longs pay, shorts receive.
    let hour_ms = 1_764_547_200_000i64;
    let c = rusqlite::Connection::open(&journal).unwrap();
    let mut st = c
        .prepare("SELECT market, side, sz FROM fills WHERE time_ms < ?1")
        .unwrap();
    let mut expected = rust_decimal::Decimal::ZERO;
    let rate: rust_decimal::Decimal = "0.0000125".parse().unwrap();
    for row in st
        .query_map([hour_ms], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap()
    {
        let (market, side, sz) = row.unwrap();
        let sz: rust_decimal::Decimal = sz.parse().unwrap();
        let signed = if side == "B" { sz } else { -sz };
        let price = match market.as_str() {
            "hl/BTC" => 64000,
            "hl/ETH" => 3200,
            _ => 250,
        };
        expected -= signed * rust_decimal::Decimal::from(price) * rate;
    }
    assert!(
        !expected.is_zero(),
        "positions were open at the hour: {}",
        s.render()
    );
    let tolerance: rust_decimal::Decimal = "0.0002".parse().unwrap();
    assert!(
        (s.funding - expected).abs() < tolerance,
        "funding {} vs {expected} expected: {}",
        s.funding,
        s.render()
    );
    assert!(
        s.render()
            .contains(&format!("funding {}", s.funding.round_dp(4)))
    );
}

#[test]
fn a_corrupt_line_is_an_error_naming_file_and_line_or_a_counted_skip() {
    let dir = scratch("bt-corrupt");
    let (p, mut lines) = plain_recording(&dir, 20);
    lines[7] = "{\"t\":12,\"v\":\"hl\",\"d\":\"in\",\"f\":{\"chan".to_string();
    lines[9] = "garbage".to_string();
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let e = run_on(&cfg_with(""), &[&p]).unwrap_err().to_string();
    assert!(
        e.contains(&format!("{}:8:", p.display())),
        "names file and line: {e}"
    );
    let s = run_on(&cfg_with("[backtest]\non_bad_line = \"skip\"\n"), &[&p]).unwrap();
    assert_eq!(
        s.data.skipped_lines.values().sum::<u64>(),
        2,
        "{}",
        s.render()
    );
    assert_eq!(
        s.records as usize,
        lines.len() - 1 - 2,
        "the header and the two bad lines are not records"
    );
    // A frame whose JSON is cut inside a valid line: the venue decoder's error, same place.
    lines[7] = lines[8].clone();
    lines[9] = lines[10].replace("\"bbo\":[", "\"bbo\":[{");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let e = run_on(&cfg_with(""), &[&p]).unwrap_err().to_string();
    assert!(e.contains(":10:") && e.contains("corrupt"), "{e}");
}

#[test]
fn a_truncated_compressed_file_is_reported_and_what_came_before_is_replayed() {
    let dir = scratch("bt-truncated");
    let (lz, n) = recording_of(&dir, START_MS, 60);
    let bytes = std::fs::read(&lz).unwrap();
    std::fs::write(&lz, &bytes[..bytes.len() / 2]).unwrap();
    let e = run_on(&cfg_with(""), &[&lz]).unwrap_err().to_string();
    assert!(
        e.contains(&lz.display().to_string()) && e.contains("truncated or corrupt"),
        "{e}"
    );
    let s = run_on(&cfg_with("[backtest]\non_bad_line = \"skip\"\n"), &[&lz]).unwrap();
    assert_eq!(
        s.data.skipped_lines.values().sum::<u64>(),
        1,
        "{}",
        s.render()
    );
    assert!(
        s.records > n / 4 && s.records < n,
        "the first part replayed: {} of {n}",
        s.records
    );
}

#[test]
fn unknown_formats_coins_and_gaps_are_named() {
    let dir = scratch("bt-unknown");
    let odd = strategy_host_e2e::write_file(&dir, "notes.jsonl", "hello\n");
    let e = run_on(&cfg_with(""), &[&odd]).unwrap_err().to_string();
    assert!(
        e.contains("notes.jsonl") && e.contains("unknown format"),
        "{e}"
    );
    let empty = strategy_host_e2e::write_file(&dir, "empty.csv", "");
    let e = run_on(&cfg_with(""), &[&empty]).unwrap_err().to_string();
    assert!(e.contains("empty file"), "{e}");

    // A coin the config does not trade: counted by default, an error when asked.
    let (p, mut lines) = plain_recording(&dir, 10);
    let sol = lines[3].replace("\"coin\":\"BTC\"", "\"coin\":\"SOL\"");
    lines.insert(4, sol);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let s = run_on(&cfg_with(""), &[&p]).unwrap();
    assert_eq!(
        s.data.unknown_coins.get("hl/SOL"),
        Some(&1),
        "{}",
        s.render()
    );
    let e = run_on(
        &cfg_with("[backtest]\non_unknown_coin = \"error\"\n"),
        &[&p],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("rec.jsonl:5:") && e.contains("hl/SOL"), "{e}");

    // Two recordings 5 minutes apart: one gap, counted; an error when asked.
    let later = dir.join("later");
    recording_of(&later, START_MS + 310_000, 10);
    let s = run_on(&cfg_with(""), &[&p, &later]).unwrap();
    assert_eq!(s.data.gaps.len(), 1, "{}", s.render());
    let e = run_on(&cfg_with("[backtest]\non_gap = \"error\"\n"), &[&p, &later])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("rec-hl-") && e.contains("no market data for 30"),
        "{e}"
    );

    // Time going back inside one file is a bad line.
    let (p2, mut lines) = plain_recording(&scratch("bt-back"), 10);
    lines.swap(20, 40);
    std::fs::write(&p2, lines.join("\n") + "\n").unwrap();
    let e = run_on(&cfg_with(""), &[&p2]).unwrap_err().to_string();
    // Line 21 now holds line 41's later time: line 22 is the first to go back.
    assert!(e.contains(":22:") && e.contains("time goes back"), "{e}");
}

#[test]
fn the_hard_stop_latches_in_a_backtest_as_live_and_no_entry_follows() {
    let dir = scratch("bt-hardstop");
    let (lz, _) = recording_of(&dir, START_MS, 120);
    // Fees alone exceed this after the first round trip.
    let text = strategy_host_e2e::data::config(&strategy_host_e2e::data::markets(), 40, "")
        .replace("max_cumulative_loss = 100", "max_cumulative_loss = 0.01")
        .replace("max_consecutive_losses = 8", "max_consecutive_losses = 1");
    let cfg = Config::parse(Path::new("hs.toml"), text).unwrap();
    let journal = dir.join("bt.db");
    let s = backtest::run(&cfg, &options(&[&lz], Some(journal.clone()))).unwrap();
    assert!(!s.hard_stops.is_empty(), "{}", s.render());
    let c = rusqlite::Connection::open(&journal).unwrap();
    let at: i64 = c
        .query_row(
            "SELECT min(ts_ms) FROM hardstop WHERE event = 'triggered'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let entries_after: i64 = c
        .query_row(
            "SELECT count(*) FROM orders WHERE created_ms > ?1 AND reduce_only = 0",
            [at],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        entries_after,
        0,
        "no entry after the HardStop: {}",
        s.render()
    );
    assert!(
        s.refusals.get("hard_stop").copied().unwrap_or(0) > 0,
        "entries refused: {}",
        s.render()
    );
    // The journal is a live one: the CLI reads it.
    let out = strategy_host_e2e::host_ok(&[
        "journal".as_ref(),
        "hardstop".as_ref(),
        "--journal".as_ref(),
        journal.as_os_str(),
    ]);
    assert!(out.contains("triggered"), "{out}");
}

/// The README's two commands: `record` against the simulators, then `backtest` of what it wrote,
/// through the binary; the journal it writes is read by `journal`.
#[test]
fn record_then_backtest_through_the_binary() {
    let dir = scratch("bt-cli");
    let bin = strategy_host_e2e::host_binary();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = root.join("config/default.toml");
    let rec = dir.join("recordings");
    // The binary with these arguments: its exit status and stdout (stderr shown on failure).
    let host = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(&bin)
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        (out.status.success(), stdout, stderr)
    };
    let (ok, stdout, stderr) = host(&[
        "record".as_ref(),
        "--duration".as_ref(),
        "4".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
        "--out".as_ref(),
        rec.as_os_str(),
    ]);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("simA:") && stdout.contains("wrote 1 file"),
        "{stdout}"
    );
    let summary = dir.join("summary.json");
    let journal = dir.join("bt.db");
    let backtest = [
        "backtest".as_ref(),
        "--quiet".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
        "--data".as_ref(),
        rec.as_os_str(),
        "--journal".as_ref(),
        journal.as_os_str(),
    ];
    let mut first = backtest.to_vec();
    first.extend(["--summary-json".as_ref(), summary.as_os_str()]);
    let (ok, stdout, stderr) = host(&first);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("backtest summary") && stdout.contains("round trips:"),
        "{stdout}"
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert!(s["records"].as_u64().unwrap() > 50, "{s}");
    assert!(
        s["data"]["markets_without_data"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{s}"
    );
    for view in ["runs", "orders", "fills", "positions", "refusals"] {
        let (ok, _, stderr) = host(&[
            "journal".as_ref(),
            view.as_ref(),
            "--journal".as_ref(),
            journal.as_os_str(),
        ]);
        assert!(ok, "journal {view}: {stderr}");
    }
    // A second backtest into the same journal is refused, not appended.
    let (ok, _, stderr) = host(&backtest);
    assert!(!ok);
    assert!(stderr.contains("exists"), "{stderr}");
}
