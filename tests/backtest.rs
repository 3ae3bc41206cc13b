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

fn backtest_into(cfg: &Config, data: &Path, journal: PathBuf) -> backtest::report::Summary {
    let opts = Options {
        data: vec![DataArg {
            venue: None,
            path: data.to_path_buf(),
        }],
        journal: Some(journal),
        progress: false,
    };
    backtest::run(cfg, &opts).unwrap()
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
