//! `strategy-host ctl` against a real running host (the default config's simulators and plugin
//! `.so` files): each command is taken within a second, acts, and is recorded in the journal;
//! `status` reads what the host wrote; bad uses say what is wrong.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use strategy_host_e2e::{default_config, host_binary};

fn ctl(config: &Path, args: &[&str]) -> (bool, String) {
    let o = Command::new(host_binary())
        .arg("ctl")
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    (o.status.success(), text)
}

/// Polls `ctl status` until `want` holds of its output.
fn status_until(config: &Path, what: &str, want: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let (ok, s) = ctl(config, &["status"]);
        if ok && want(&s) {
            return s;
        }
        assert!(Instant::now() < end, "{what}: never seen; last status: {s}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn ctl_controls_a_running_host() {
    let (dir, config) = default_config(env!("CARGO_TARGET_TMPDIR"), "ctl");
    // No host yet: commands are refused, not queued for a later start.
    let (ok, e) = ctl(&config, &["pause-entries"]);
    assert!(!ok && e.contains("no journal at"), "{e}");

    let mut host = Command::new(host_binary())
        .args(["run", "--duration", "40", "--status-every", "0", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    status_until(&config, "a running host", |s| s.contains(": running"));
    // Wait for a position, then pause entries so the flatten below stays flat.
    let s = status_until(&config, "a position", |s| s.contains("  position "));
    let market = s
        .lines()
        .find_map(|l| l.strip_prefix("  position "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let (ok, out) = ctl(&config, &["pause-entries"]);
    assert!(
        ok && out.contains("pause: taken by the running host after"),
        "{out}"
    );
    status_until(&config, "entries paused", |s| s.contains("entries: PAUSED"));

    let (ok, out) = ctl(&config, &["flatten", &market]);
    assert!(ok, "{out}");
    status_until(&config, "the market flat", |s| {
        !s.contains(&format!("  position {market} "))
    });
    let (ok, out) = ctl(&config, &["cancel-all"]);
    assert!(ok, "{out}");
    let (ok, out) = ctl(&config, &["flatten-all"]);
    assert!(ok, "{out}");
    status_until(&config, "everything flat", |s| s.contains("  flat"));
    let (ok, out) = ctl(&config, &["resume-entries"]);
    assert!(ok, "{out}");
    status_until(&config, "entries allowed", |s| {
        s.contains("entries: allowed")
    });

    let (ok, e) = ctl(&config, &["flatten", "simA/DOGE"]);
    assert!(
        !ok && e.contains("no market `simA/DOGE`") && e.contains("simA/BTC"),
        "{e}"
    );

    host.kill().unwrap();
    host.wait().unwrap();
    // Every command is in the journal with when the host took it; the flatten is an exit.
    let conn = rusqlite::Connection::open(dir.join("strategy-host.db")).unwrap();
    let taken: Vec<(String, Option<i64>)> = conn
        .prepare("SELECT command, consumed_ms FROM operator_commands ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let names: Vec<&str> = taken.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "pause",
            format!("flatten:{market}").as_str(),
            "cancel-all",
            "flatten-all",
            "resume"
        ]
    );
    assert!(
        taken.iter().all(|(_, at)| at.is_some_and(|t| t > 0)),
        "{taken:?}"
    );
    let manual: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM exits WHERE market = ?1 AND reason = 'manual'",
            [&market],
            |r| r.get(0),
        )
        .unwrap();
    // Unless its exit strategy closed the position first (between the status read and the
    // flatten): then the market was flat when the host took the command.
    let flatten_at = taken[1].1.unwrap();
    let flat_then: bool = {
        let mut st = conn
            .prepare("SELECT side, sz FROM fills WHERE market = ?1 AND time_ms <= ?2")
            .unwrap();
        let pos: rust_decimal::Decimal = st
            .query_map(rusqlite::params![&market, flatten_at], |r| {
                let sz: rust_decimal::Decimal = r.get::<_, String>(1)?.parse().unwrap();
                Ok(if r.get::<_, String>(0)? == "B" {
                    sz
                } else {
                    -sz
                })
            })
            .unwrap()
            .map(Result::unwrap)
            .sum();
        pos.is_zero()
    };
    assert!(
        manual >= 1 || flat_then,
        "the flatten of {market} is journaled as a manual exit"
    );
    // The host is gone (killed): status says so, commands are refused.
    let (ok, s) = ctl(&config, &["status"]);
    assert!(ok && s.contains("NOT running"), "{s}");
    let (ok, e) = ctl(&config, &["cancel-all"]);
    assert!(!ok && e.contains("no host is running"), "{e}");
}
