//! The command line as a new user meets it: durations as people write them, status lines off with
//! 0, an error's cause said once, and an output path checked before anything runs.

use std::process::Command;
use strategy_host_e2e::{default_config, host_binary};

fn host(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(host_binary()).args(args).output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn durations_status_off_and_errors_said_once() {
    let (dir, config) = default_config(env!("CARGO_TARGET_TMPDIR"), "run-cli");
    let c = config.to_str().unwrap();
    let (ok, out, err) = host(&[
        "run",
        "--config",
        c,
        "--duration",
        "2s",
        "--status-every",
        "0",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("run summary (2.0 s"), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with('[')),
        "no status line: {out}"
    );

    let (ok, _, err) = host(&["run", "--config", c, "--duration", "5x"]);
    assert!(!ok);
    assert!(err.contains("`5x` is not a duration"), "{err}");
    let (ok, _, err) = host(&["run", "--config", c, "--duration", "0s"]);
    assert!(!ok && err.contains("more than zero"), "{err}");

    let (ok, _, err) = host(&["run", "--config", "/no/such/config.toml"]);
    assert!(!ok);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");

    // A summary path that cannot be written fails before the run: no journal is made.
    let fresh = dir.join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let fresh_cfg = fresh.join("default.toml");
    std::fs::copy(&config, &fresh_cfg).unwrap();
    let (ok, out, err) = host(&[
        "run",
        "--config",
        fresh_cfg.to_str().unwrap(),
        "--duration",
        "30s",
        "--summary-json",
        "/no/such/dir/s.json",
    ]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("--summary-json /no/such/dir/s.json: directory /no/such/dir does not exist"),
        "{err}"
    );
    assert!(!fresh.join("strategy-host.db").exists(), "nothing ran");
}

/// The in-process simulator starts again with every run: the second run's fills are journaled
/// like the first's (its trade ids used to start again at 1, and the journal, keyed by venue and
/// trade id, dropped them as already known).
#[test]
fn a_second_run_journals_its_fills() {
    let (dir, config) = default_config(env!("CARGO_TARGET_TMPDIR"), "second-run");
    let c = config.to_str().unwrap();
    for _ in 0..2 {
        let (ok, out, err) = host(&[
            "run",
            "--config",
            c,
            "--duration",
            "3s",
            "--status-every",
            "0",
        ]);
        assert!(ok, "{out}{err}");
    }
    let conn = rusqlite::Connection::open(dir.join("strategy-host.db")).unwrap();
    let per_run: Vec<(i64, i64)> = conn
        .prepare(
            "SELECT o.run_id, COUNT(*) FROM fills f JOIN orders o ON o.cloid = f.cloid GROUP BY o.run_id ORDER BY o.run_id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        per_run.len(),
        2,
        "both runs' fills are journaled: {per_run:?}"
    );
    // Every filled order's fills are there.
    let missing: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM orders o WHERE o.filled != '0' AND NOT EXISTS (SELECT 1 FROM fills f WHERE f.cloid = o.cloid)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(missing, 0);
}

/// A strategy's state is journaled after each fill on its markets, not only every
/// `snapshot_every_secs` (60 s here): a host killed with SIGKILL seconds after its first fill has
/// the state of every strategy on that market saved, from after the fill.
#[test]
fn a_kill_9_after_a_fill_keeps_the_state_it_changed() {
    let (dir, config) = default_config(env!("CARGO_TARGET_TMPDIR"), "kill-state");
    let mut child = Command::new(host_binary())
        .args(["run", "--duration", "60", "--status-every", "0", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let db = dir.join("strategy-host.db");
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (market, fill_ms) = loop {
        let first = rusqlite::Connection::open(&db).ok().and_then(|c| {
            c.query_row(
                "SELECT market, time_ms FROM fills ORDER BY time_ms LIMIT 1",
                [],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .ok()
        });
        if let Some(f) = first {
            break f;
        }
        assert!(std::time::Instant::now() < end, "no fill journaled in 30 s");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    // The fill is committed; its strategies' states are sent right after it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    // Which strategies trade that market: from the config.
    let cfg = strategy_host::config::Config::load(&config).unwrap();
    let on_market: Vec<String> = cfg
        .raw
        .strategies
        .iter()
        .filter(|s| s.market_keys().contains(&market))
        .map(|s| s.name().to_string())
        .collect();
    assert!(!on_market.is_empty());
    for name in &on_market {
        let saved: Option<i64> = conn
            .query_row(
                "SELECT saved_ms FROM plugin_state WHERE strategy = ?1",
                [name],
                |r| r.get(0),
            )
            .ok();
        let saved = saved
            .unwrap_or_else(|| panic!("{name}'s state was not saved after the fill on {market}"));
        assert!(
            saved >= fill_ms,
            "{name}: saved at {saved}, the fill was at {fill_ms}"
        );
    }
}

/// The default run shows a restart resuming: the in-process simulators keep their accounts in a
/// file next to the journal, the second run finds its positions on them at start (and hands them
/// to the exit strategies), and `--fresh` starts them empty.
#[test]
fn a_second_run_resumes_the_simulators_accounts() {
    let (dir, config) = default_config(env!("CARGO_TARGET_TMPDIR"), "resume");
    let c = config.to_str().unwrap();
    let (ok, out, err) = host(&[
        "run",
        "--config",
        c,
        "--duration",
        "9s",
        "--status-every",
        "0",
    ]);
    assert!(ok, "{out}{err}");
    // What the simulators kept: every open position, by market.
    let mut kept = Vec::new();
    for venue in ["simA", "simB"] {
        let f = dir.join(format!("strategy-host.db.sim-{venue}.json"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for (_, acct) in v["state"]["accounts"].as_object().unwrap() {
            for (coin, p) in acct["positions"].as_object().unwrap() {
                if p["szi"].as_str().and_then(|s| s.parse::<f64>().ok()) != Some(0.0) {
                    kept.push(format!("{venue}/{coin}"));
                }
            }
        }
    }
    assert!(!kept.is_empty(), "the 9 s run left positions open: {out}");
    assert!(out.contains("positions LEFT OPEN"), "{out}");
    assert!(out.contains("keeps them for the next run"), "{out}");

    let (ok, out, err) = host(&[
        "run",
        "--config",
        c,
        "--duration",
        "2s",
        "--status-every",
        "0",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("resumes its accounts from"), "{out}");
    for m in &kept {
        assert!(
            err.lines()
                .any(|l| l.contains("position found at start-up")
                    && l.contains(&format!("market={m} "))),
            "{m} was not picked up at start: {err}"
        );
    }

    let (ok, out, err) = host(&[
        "run",
        "--config",
        c,
        "--duration",
        "2s",
        "--status-every",
        "0",
        "--fresh",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("--fresh: removed"), "{out}");
    assert!(!out.contains("resumes its accounts"), "{out}");
    assert!(!err.contains("position found at start-up"), "{err}");
}
