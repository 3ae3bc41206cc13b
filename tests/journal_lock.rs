//! One host per journal, through the real binary: a second `run` on the same journal refuses to
//! start and names the first one's pid; read-only commands work beside the running host; the
//! operator's `reconcile` reaches it and both venues reconcile; a killed host leaves no stale
//! lock.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use strategy_host_e2e::{host_binary, plugin_path, scratch_dir};

#[test]
fn a_second_host_on_the_same_journal_refuses_to_start() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "journal-lock");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("config/default.toml")).unwrap();
    let plugins = plugin_path("dislocation-entry")
        .parent()
        .unwrap()
        .display()
        .to_string();
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        format!("{text}\n[journal]\npath = \"j.db\"\n")
            .replace("[plugins]\n", &format!("[plugins]\ndir = \"{plugins}\"\n")),
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let mut first = Command::new(host_binary())
        .args([
            "run",
            "--config",
            c,
            "--duration",
            "30",
            "--status-every",
            "60",
        ])
        .env("NO_COLOR", "1")
        .env("STRATEGY_HOST_LOG", "warn,strategy_host::runtime=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first host holds the lock once the file carries its pid.
    let lock = dir.join("j.db.lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&lock).unwrap_or_default().trim() != first.id().to_string() {
        assert!(
            Instant::now() < deadline,
            "the first host never took the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = Command::new(host_binary())
        .args(["run", "--config", c, "--duration", "5"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr).to_string();
    assert!(
        !second.status.success(),
        "the second host must not run: {err}"
    );
    assert!(
        err.contains(&format!("is in use by pid {}", first.id())),
        "names the holder: {err}"
    );
    // Read-only commands work beside the running host.
    let runs = Command::new(host_binary())
        .args(["journal", "runs", "--config", c])
        .output()
        .unwrap();
    assert!(
        runs.status.success(),
        "{}",
        String::from_utf8_lossy(&runs.stderr)
    );
    let status = Command::new(host_binary())
        .args(["hardstop", "status", "--config", c])
        .output()
        .unwrap();
    assert!(status.status.success());
    // The operator asks the running host for a reconcile through the journal (asked again
    // until the host, which may still be starting its venues, has taken it).
    let stdout = first.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut taken = false;
    for _ in 0..10 {
        let asked = Command::new(host_binary())
            .args(["reconcile", "--config", c])
            .output()
            .unwrap();
        assert!(
            asked.status.success(),
            "{}",
            String::from_utf8_lossy(&asked.stderr)
        );
        let until = Instant::now() + Duration::from_secs(2);
        while let Ok(line) = rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            if line.contains("operator command from the journal: reconcile every venue") {
                taken = true;
                break;
            }
        }
        if taken {
            break;
        }
    }
    assert!(taken, "the running host took the operator's request");
    std::thread::sleep(Duration::from_secs(1));
    // Killed outright: the kernel drops the lock with the process, so no stale lock is left.
    first.kill().unwrap();
    let out = first.wait_with_output().unwrap();
    let _ = reader.join();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .matches("reconcile started over HTTP (asked for)")
            .count()
            >= 2,
        "both venues reconciled: {stderr}"
    );
    let third = Command::new(host_binary())
        .args([
            "run",
            "--config",
            c,
            "--duration",
            "1",
            "--status-every",
            "60",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        third.status.success(),
        "a host starts once the holder is gone: {}",
        String::from_utf8_lossy(&third.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
