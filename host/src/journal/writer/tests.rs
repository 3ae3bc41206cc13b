use super::*;

#[test]
fn records_are_committed_and_fills_are_unique_by_venue_and_tid() {
    let d = std::env::temp_dir().join(format!("sh-writer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let path = d.join("j.db");
    let j = Journal::open(&path).unwrap();
    let run = j.start_run("c", "h", &[]).unwrap();
    let (op_tx, mut op_rx) = tokio::sync::mpsc::unbounded_channel();
    let (h, thread) = spawn(j, run, op_tx, Duration::from_millis(5));
    let fill = FillRow {
        venue: "hl".into(),
        tid: 7,
        market: "hl/BTC".into(),
        cloid: None,
        oid: 1,
        side: "B",
        px: "100".into(),
        sz: "1".into(),
        fee: "0.01".into(),
        time_ms: 1,
        strategy: Some("s".into()),
        realized: "0".into(),
    };
    h.send(Record::Fill(fill.clone()));
    h.send(Record::Fill(fill.clone())); // the same fill again (resent snapshot)
    // A different fill under the same id (a venue reusing ids): said, and the first one kept.
    h.send(Record::Fill(FillRow {
        px: "101".into(),
        time_ms: 2,
        ..fill
    }));
    for _ in 0..3 {
        h.send(Record::Refusal {
            strategy: "s".into(),
            reason: "pending_order",
        });
    }
    h.send(Record::HardStop {
        latched: true,
        reason: "slippage".into(),
    });
    let order = |state: &'static str, filled: &str| {
        Record::Order(OrderRow {
            cloid: "0x01".into(),
            market: "hl/BTC".into(),
            strategy: Some("s".into()),
            tag: 1,
            side: "B",
            px: "100".into(),
            sz: "1".into(),
            tif: "Ioc",
            reduce_only: false,
            purpose: "strategy",
            state,
            filled: filled.into(),
            oid: None,
        })
    };
    // The venue reports one change several ways: one event row per real change.
    for (state, filled) in [
        ("queued", "0"),
        ("sent", "0"),
        ("sent", "0"),
        ("filled", "1"),
        ("filled", "1"),
    ] {
        h.send(order(state, filled));
    }
    assert!(h.flush(Duration::from_secs(5)));
    let check = Journal::open(&path).unwrap();
    let n: i64 = check
        .conn()
        .query_row("SELECT count(*) FROM fills", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    let px: String = check
        .conn()
        .query_row("SELECT px FROM fills", [], |r| r.get(0))
        .unwrap();
    assert_eq!(px, "100", "the first fill under an id is kept");
    let c: i64 = check
        .conn()
        .query_row("SELECT count FROM refusals", [], |r| r.get(0))
        .unwrap();
    assert_eq!(c, 3);
    assert!(check.hard_stop().unwrap().unwrap().latched);
    assert_eq!(
        crate::journal::order_event_states(check.conn()),
        ["queued", "sent", "filled"]
    );
    check.queue_operator_command("hardstop-release").unwrap();
    let got = op_rx.blocking_recv().unwrap();
    assert_eq!(got, "hardstop-release");
    h.send(Record::EndRun);
    thread.join().unwrap();
    let ended: Option<i64> = check
        .conn()
        .query_row("SELECT ended_ms FROM runs", [], |r| r.get(0))
        .unwrap();
    assert!(ended.is_some());
}

/// A writer on a scratch journal that has answered a flush (so it has set its policy).
fn started_writer(
    tag: &str,
) -> (
    std::path::PathBuf,
    JournalHandle,
    std::thread::JoinHandle<()>,
) {
    let d = std::env::temp_dir().join(format!("sh-writer-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let j = Journal::open(&d.join("j.db")).unwrap();
    let run = j.start_run("c", "h", &[]).unwrap();
    let (op_tx, _op_rx) = tokio::sync::mpsc::unbounded_channel();
    let (h, thread) = spawn(j, run, op_tx, Duration::ZERO);
    assert!(h.flush(Duration::from_secs(10)), "the writer answers");
    (d, h, thread)
}

/// The scheduling policy of thread `tid` of this process (`policy` is field 41 of its stat).
#[cfg(target_os = "linux")]
fn policy_of(tid: i32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split(' ').nth(41 - 3).unwrap().parse().unwrap()
}

#[test]
fn a_writer_is_stalled_only_with_records_waiting_past_the_limit() {
    let p = Progress::new(Duration::from_millis(20));
    assert_eq!(p.limit, Duration::from_millis(520));
    let ms = |n: u64| n * 1_000_000;
    p.alive_ns.store(ms(1_000), Ordering::Release);
    assert!(!p.stalled_at(ms(60_000)), "nothing waiting: never stalled");
    p.sent.store(3, Ordering::Release);
    assert!(!p.stalled_at(ms(1_520)), "within the limit");
    assert!(p.stalled_at(ms(1_521)), "records waiting past the limit");
    p.done.store(3, Ordering::Release);
    assert!(!p.stalled_at(ms(60_000)), "all committed");
}

#[cfg(target_os = "linux")]
#[test]
fn a_raised_writer_goes_back_to_sched_idle_once_it_has_caught_up() {
    let (d, h, thread) = started_writer("raise");
    let tid = h.progress.tid.load(Ordering::Acquire);
    assert!(tid > 0);
    assert_eq!(policy_of(tid), 5, "SCHED_IDLE (5) from the start");
    assert!(!h.unstall(), "a writer that keeps up is not stalled");
    assert_eq!(policy_of(tid), 5);
    // Leaving SCHED_IDLE needs root, CAP_SYS_NICE or RLIMIT_NICE 20: where this test runs
    // without them, the raise is refused (and logged) and the writer stays at SCHED_IDLE.
    let permitted = std::thread::spawn(|| {
        set_policy(0, true).unwrap();
        set_policy(0, false).is_ok()
    })
    .join()
    .unwrap();
    h.raise();
    let expected = if permitted { 0 } else { 5 };
    assert_eq!(policy_of(tid), expected, "SCHED_OTHER (0) if permitted");
    assert_eq!(h.progress.stalls.load(Ordering::Acquire), 1);
    // Caught up: the flush's batch commits everything sent, and the writer lowers itself
    // before it acknowledges.
    h.send(Record::Refusal {
        strategy: "s".into(),
        reason: "r",
    });
    assert!(h.flush(Duration::from_secs(10)));
    assert_eq!(policy_of(tid), 5, "back to SCHED_IDLE");
    assert!(!h.progress.raised.load(Ordering::Acquire));
    h.send(Record::EndRun);
    thread.join().unwrap();
    let _ = std::fs::remove_dir_all(&d);
}

/// The writer thread runs under SCHED_IDLE (policy 5 in /proc/<pid>/task/<tid>/stat).
#[cfg(target_os = "linux")]
#[test]
fn the_writer_thread_yields_to_the_trading_thread() {
    let (d, h, thread) = started_writer("idle");
    let tid = h.progress.tid.load(Ordering::Acquire);
    assert!(tid > 0, "the writer recorded its thread id");
    assert_eq!(policy_of(tid), 5, "SCHED_IDLE is 5");
    h.send(Record::EndRun);
    thread.join().unwrap();
    let _ = std::fs::remove_dir_all(&d);
}
