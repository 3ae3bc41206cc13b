//! The command line as a new user meets it: durations as people write them, status lines off with
//! 0, an error's cause said once, and an output path checked before anything runs.

use std::path::Path;
use std::process::Command;
use strategy_host_e2e::{host_binary, scratch_dir};

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
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "run-cli");
    let config = dir.join("default.toml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        &config,
    )
    .unwrap();
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
