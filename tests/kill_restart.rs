//! The host process SIGKILLed mid-trade, then restarted, against a simulator that outlives it:
//! killed after an order left the socket but before its answer, after a fill reached the engine
//! but before the journal got it, and from outside at an arbitrary moment. After the last, clean
//! run: every fill the simulator made is in the journal exactly once, the journal's position is
//! the simulator's, no order was ever sent twice, and every restart restored the strategy state.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use strategy_host::journal::Journal;
use strategy_host::sim::server::SimHandle;
use strategy_host_e2e::{host_binary, plugin_path, scratch_dir};

mod common;

fn config(sim: &SimHandle, dir: &Path, plugin_dir: &Path) -> PathBuf {
    let head = format!("[plugins]\ndir = \"{}\"\n", plugin_dir.display());
    common::host_config(
        sim,
        dir,
        &head,
        "path = \"journal.db\"\nsnapshot_every_secs = 1",
        1500,
    )
}

/// Runs the host to its end (a crash point, the duration, or `kill_after`) and returns its output.
async fn host(
    cfg: &Path,
    crash_at: Option<&str>,
    duration: u32,
    kill_after: Option<u64>,
) -> Output {
    let mut cmd = Command::new(host_binary());
    cmd.args(["run", "--config", cfg.to_str().unwrap()])
        .args(["--duration", &duration.to_string(), "--status-every", "60"])
        .env("STRATEGY_HOST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("STRATEGY_HOST_CRASH_AT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = crash_at {
        cmd.env("STRATEGY_HOST_CRASH_AT", p);
    }
    let child = cmd.spawn().expect("start strategy-host");
    let pid = child.id();
    if let Some(secs) = kill_after {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        });
    }
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_killed(o: &Output, what: &str) {
    assert_eq!(
        o.status.signal(),
        Some(9),
        "{what}: expected SIGKILL, got {:?}\n{}",
        o.status,
        text(o)
    );
}

fn assert_restored(o: &Output, step: &str) {
    let t = text(o);
    assert!(
        t.contains("strategy state restored") && t.contains("dislocation"),
        "{step}: the restart restored the strategy's state:\n{t}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_trade_then_restart_loses_nothing_and_sends_nothing_twice() {
    let sim = common::btc_sim(11, 600, 1200).await;
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "kill-restart");
    let built = plugin_path("dislocation-entry");
    let cfg = config(&sim, &dir, built.parent().unwrap());
    let address = common::address();

    // 1. Killed right after its 3rd order post left the socket, before the answer.
    let o = host(&cfg, Some("after_send:3"), 60, None).await;
    assert_killed(&o, "after_send");
    assert!(text(&o).contains("crash point after_send"), "{}", text(&o));

    // 2. Restarted; killed after its 2nd live fill reached the engine, before it was journaled.
    let o = host(&cfg, Some("after_fill:2"), 60, None).await;
    assert_killed(&o, "after_fill");
    assert_restored(&o, "run 2");
    let made = common::sim_fills(&sim, &address);
    let journaled = common::journal_fills(&Journal::open(&dir.join("journal.db")).unwrap());
    assert!(
        journaled < made,
        "the kill lost the last fill's journal record ({journaled} journaled, {made} made): \
         the next run must recover it from the venue"
    );

    // 3. Restarted; killed from outside while trading.
    let o = host(&cfg, None, 60, Some(4)).await;
    assert_killed(&o, "external kill");
    assert_restored(&o, "run 3");

    // 4. The plugin is rebuilt (different bytes, same version line) and deployed by atomic
    // rename into a new directory; a clean run to the end resumes its state and the positions.
    let rebuilt_dir = dir.join("plugins-v2");
    std::fs::create_dir_all(&rebuilt_dir).unwrap();
    for p in [built.clone(), plugin_path("time-stop-exit")] {
        let name = p.file_name().unwrap();
        let mut bytes = std::fs::read(&p).unwrap();
        if p == built {
            bytes.extend_from_slice(b"rebuilt"); // trailing bytes: a different file, same code
        }
        let tmp = rebuilt_dir.join(format!("{}.tmp", name.to_string_lossy()));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, rebuilt_dir.join(name)).unwrap();
    }
    let cfg = config(&sim, &dir, &rebuilt_dir);
    let o = host(&cfg, None, 4, None).await;
    assert!(o.status.success(), "{}", text(&o));
    assert_restored(&o, "run 4 (rebuilt plugin)");

    let j = Journal::open(&dir.join("journal.db")).unwrap();
    common::assert_journal_matches_sim(&j, &sim, &address);
    let ex = &sim.state.lock().unwrap().exchange;
    assert!(ex.orders_received() > 3, "the runs traded");
    assert_eq!(
        ex.duplicate_cloids(),
        Vec::<String>::new(),
        "no order was sent twice"
    );
    let runs: i64 = j
        .conn()
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 4);
    let hashes: i64 = j
        .conn()
        .query_row(
            "SELECT count(DISTINCT file_hash) FROM run_plugins WHERE strategy = 'dislocation'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        hashes, 2,
        "the journal tells the rebuilt plugin file from the first"
    );
    sim.stop();
}
