//! `backtest --sweep` through the binary: every combination of a grid is a whole backtest of the
//! same data with the real plugin `.so` files; the table is byte-identical for 1 thread, 2
//! threads and 2 shards merged (`--shard I/N`, `backtest merge`), the parameters change the
//! results, and a row equals a plain backtest of its parameters.

use std::path::Path;
use strategy_host::backtest::{self, Options, data::DataArg};
use strategy_host::config::Config;
use strategy_host_e2e::{data, host_ok, scratch_dir};

#[test]
fn a_sweep_is_the_same_table_on_any_thread_count() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "sweep");
    let (rec, config, sweep) = data::sweep_fixture(
        &dir,
        300,
        "[[sweep]]\nstrategy = \"dislocation\"\ngrid = { threshold_bps = [30, 40, 60], cooldown_ms = [1000, 5000] }\n\n[[sweep]]\nstrategy = \"timestop\"\nlist = [{ max_holding_ms = 20000 }, { max_holding_ms = 1500 }]\n",
    );
    let table = |threads: &str, shard: Option<&str>| {
        let name = format!("t{threads}-{}", shard.unwrap_or("all").replace('/', "of"));
        let csv = dir.join(format!("{name}.csv"));
        let json = dir.join(format!("{name}.json"));
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "backtest".as_ref(),
            "--quiet".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
            "--data".as_ref(),
            rec.as_os_str(),
            "--sweep".as_ref(),
            sweep.as_os_str(),
            "--threads".as_ref(),
            threads.as_ref(),
            "--sweep-csv".as_ref(),
            csv.as_os_str(),
            "--sweep-json".as_ref(),
            json.as_os_str(),
        ];
        if let Some(s) = shard {
            args.push("--shard".as_ref());
            args.push(s.as_ref());
        }
        let out = host_ok(&args);
        assert!(out.contains("; 0 failed"), "{out}");
        (out, std::fs::read_to_string(csv).unwrap(), json)
    };
    let (out, one, one_json) = table("1", None);
    assert!(out.contains("sweep: 12 combinations on 1 thread"), "{out}");
    let (_, two, two_json) = table("2", None);
    assert_eq!(one, two, "the same table for 1 and 2 threads");
    let one_json = std::fs::read_to_string(one_json).unwrap();
    assert_eq!(one_json, std::fs::read_to_string(two_json).unwrap());

    // Two shards, each on one thread, merged: the same table again (CSV and JSON).
    let (out0, _, s0) = table("1", Some("0/2"));
    assert!(
        out0.contains("sweep: 6 combinations (shard 0/2 of 12)"),
        "{out0}"
    );
    let (_, _, s1) = table("1", Some("1/2"));
    let (merged_csv, merged_json) = (dir.join("merged.csv"), dir.join("merged.json"));
    let out = host_ok::<&std::ffi::OsStr>(&[
        "backtest".as_ref(),
        "merge".as_ref(),
        s1.as_os_str(),
        s0.as_os_str(),
        "--sweep-csv".as_ref(),
        merged_csv.as_os_str(),
        "--sweep-json".as_ref(),
        merged_json.as_os_str(),
    ]);
    assert!(
        out.contains("merged 2 shard(s): 12 combinations; 0 failed"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&merged_csv).unwrap(),
        one,
        "2 shards merged = 1 run"
    );
    assert_eq!(std::fs::read_to_string(&merged_json).unwrap(), one_json);
    // A shard missing, or a shard of another sweep, is refused.
    let e = strategy_host_e2e::host_err::<&std::ffi::OsStr>(&[
        "backtest".as_ref(),
        "merge".as_ref(),
        s0.as_os_str(),
    ]);
    assert!(e.contains("missing shard(s): 1/2"), "{e}");

    let table: serde_json::Value = serde_json::from_str(&one_json).unwrap();
    assert_eq!(table["combinations"], 12);
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    let pnls: std::collections::BTreeSet<String> =
        rows.iter().map(|r| r["net_pnl"].to_string()).collect();
    assert!(pnls.len() > 1, "the parameters change the results: {one}");
    // Row 0 is threshold 30, cooldown 1000, max_holding 20000: a plain backtest of that.
    assert_eq!(
        rows[0]["params"],
        "dislocation.cooldown_ms=1000;dislocation.threshold_bps=30;timestop.max_holding_ms=20000"
    );
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("threshold_bps = 40", "threshold_bps = 30");
    let cfg = Config::parse(Path::new(&config), text).unwrap();
    let plain = backtest::run(
        &cfg,
        &Options {
            data: vec![DataArg {
                venue: None,
                path: rec.clone(),
            }],
            journal: None,
            progress: false,
            window: None,
        },
    )
    .unwrap();
    assert_eq!(
        rows[0]["net_pnl"],
        serde_json::json!(plain.net_pnl.to_string())
    );
    assert_eq!(rows[0]["round_trips"], plain.round_trips);
}

/// The records of a recording before `until_ns`, as a new recording (a cut made outside the
/// host, to check its windows against).
fn cut(rec: &Path, until_ns: u64, out: &Path) {
    use std::io::{BufRead, Write};
    let r = std::io::BufReader::new(lz4_flex::frame::FrameDecoder::new(
        std::fs::File::open(rec).unwrap(),
    ));
    let mut w = lz4_flex::frame::FrameEncoder::new(std::fs::File::create(out).unwrap());
    for (i, line) in r.lines().enumerate() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if i == 0 || v["t"].as_u64().unwrap() < until_ns {
            writeln!(w, "{line}").unwrap();
        }
    }
    w.finish().unwrap();
}

#[test]
fn walk_forward_scores_each_training_best_on_the_next_period() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "walk");
    let start_ms = 1_700_000_000_000;
    let (rec, config, sweep) = data::sweep_fixture(
        &dir,
        300,
        "[[sweep]]\nstrategy = \"dislocation\"\ngrid = { threshold_bps = [30, 60], cooldown_ms = [1000, 5000] }\n",
    );
    let json = dir.join("walk.json");
    let out = host_ok(&data::sweep_args(
        &config,
        &rec,
        &sweep,
        &[
            "--train",
            "2m",
            "--test",
            "1m",
            "--sweep-json",
            json.to_str().unwrap(),
        ],
    ));
    assert!(
        out.contains(
            "walk-forward: 3 window(s) of 120 s training + 60 s test, 4 combinations each"
        ),
        "{out}"
    );
    assert!(out.contains("in sample (the chosen combinations"), "{out}");
    assert!(
        out.contains("out of sample (the same on the test periods"),
        "{out}"
    );
    let w: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let windows = w["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 3);
    let dec = |v: &serde_json::Value| {
        v.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    let oos: rust_decimal::Decimal = windows.iter().map(|x| dec(&x["test_net_pnl"])).sum();
    assert_eq!(oos, dec(&w["out_of_sample_net_pnl"]));
    let ins: rust_decimal::Decimal = windows.iter().map(|x| dec(&x["train_net_pnl"])).sum();
    assert_eq!(ins, dec(&w["in_sample_net_pnl"]));
    assert!(
        windows
            .iter()
            .all(|x| x["test_round_trips"].as_u64().unwrap() > 0)
    );

    // Window 0's choice is the best row of a plain sweep over the data cut at its training end.
    let cut_rec = dir.join("cut/rec-hl-first-2m.jsonl.lz4");
    std::fs::create_dir_all(cut_rec.parent().unwrap()).unwrap();
    // The data's first record is the session line at the start.
    cut(&rec, start_ms * 1_000_000 + 120_000_000_000, &cut_rec);
    let plain = dir.join("plain.json");
    host_ok(&data::sweep_args(
        &config,
        &cut_rec,
        &sweep,
        &["--sweep-json", plain.to_str().unwrap()],
    ));
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plain).unwrap()).unwrap();
    let rows = t["rows"].as_array().unwrap();
    let best = rows
        .iter()
        .max_by(|a, b| {
            dec(&a["net_pnl"])
                .cmp(&dec(&b["net_pnl"]))
                .then(b["combination"].as_u64().cmp(&a["combination"].as_u64()))
        })
        .unwrap();
    assert_eq!(windows[0]["combination"], best["combination"], "{out}");
    assert_eq!(windows[0]["train_net_pnl"], best["net_pnl"]);
    assert_eq!(windows[0]["params"], best["params"]);
    let pnls: std::collections::BTreeSet<String> =
        rows.iter().map(|r| r["net_pnl"].to_string()).collect();
    assert!(
        pnls.len() > 1,
        "the combinations differ on the training period"
    );

    // Windows that cannot fit say so.
    let e = strategy_host_e2e::host_err(&data::sweep_args(
        &config,
        &rec,
        &sweep,
        &["--train", "4m", "--test", "2m"],
    ));
    assert!(e.contains("do not fit"), "{e}");
}
