//! The journal's writer thread: records come over a channel (sending never blocks the engine) and
//! are committed in batched transactions. It also polls the `operator_commands` table, so
//! `strategy-host hardstop …` reaches a running host, and hands what it finds back.

use super::{Journal, now_ms};
use rusqlite::{OptionalExtension, params};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub cloid: String,
    pub market: String,
    pub strategy: Option<String>,
    pub tag: u64,
    pub side: &'static str,
    pub px: String,
    pub sz: String,
    pub tif: &'static str,
    pub reduce_only: bool,
    pub purpose: &'static str,
    pub state: &'static str,
    pub filled: String,
    pub oid: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillRow {
    pub venue: String,
    pub tid: u64,
    pub market: String,
    pub cloid: Option<String>,
    pub oid: u64,
    pub side: &'static str,
    pub px: String,
    pub sz: String,
    pub fee: String,
    pub time_ms: u64,
    pub strategy: Option<String>,
    pub realized: String,
}

/// What the engine side asks the writer to record.
#[derive(Debug)]
pub enum Record {
    Order(OrderRow),
    Fill(FillRow),
    Position {
        market: String,
        size: String,
        avg_entry: String,
        realized: String,
    },
    Refusal {
        strategy: String,
        reason: &'static str,
    },
    HardStop {
        latched: bool,
        reason: String,
    },
    PluginState {
        strategy: String,
        plugin: String,
        version: String,
        params_hash: String,
        state: String,
        /// Engine time of the snapshot.
        engine_ns: u64,
    },
    /// Acknowledged once every record sent before it is committed.
    Flush(mpsc::Sender<()>),
    /// Ends the run (recorded) and the writer.
    EndRun,
}

/// The engine side's handle on the writer.
#[derive(Debug, Clone)]
pub struct JournalHandle {
    tx: mpsc::Sender<Record>,
    progress: Arc<Progress>,
}

/// How far the writer is behind, shared by its handles and its thread, so that a trading thread
/// that never sleeps (`[engine] busy_poll`) can tell when it is starving the writer: the writer
/// runs under `SCHED_IDLE`, and on a machine with no idle core it measured records held in memory
/// for up to 8.5 s instead of the commit window (docs/BENCHMARKS.md, fifth session).
#[derive(Debug)]
struct Progress {
    base: Instant,
    /// Records queued by the handles.
    sent: AtomicU64,
    /// Records the writer has finished with (committed, or lost to a write error it logged).
    done: AtomicU64,
    /// When the writer last ran (ns since `base`): it took a record, woke for its operator poll,
    /// or finished a batch.
    alive_ns: AtomicU64,
    /// How long the writer may go without running while records wait (`JournalHandle::stalled`).
    limit: Duration,
    /// The writer thread's id (0 until it has started).
    tid: AtomicI32,
    /// The writer runs at the default policy until it has caught up (`JournalHandle::unstall`).
    raised: AtomicBool,
    /// How many times it was raised.
    stalls: AtomicU64,
}

impl Progress {
    fn new(commit_window: Duration) -> Self {
        Progress {
            limit: commit_window + 2 * OPERATOR_POLL,
            tid: AtomicI32::new(0),
            raised: AtomicBool::new(false),
            stalls: AtomicU64::new(0),
            base: Instant::now(),
            sent: AtomicU64::new(0),
            done: AtomicU64::new(0),
            alive_ns: AtomicU64::new(0),
        }
    }

    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    fn alive(&self) {
        self.alive_ns.store(self.now_ns(), Ordering::Release);
    }

    /// Records are waiting and the writer has not run for longer than its limit (at `now_ns`).
    fn stalled_at(&self, now_ns: u64) -> bool {
        let done = self.done.load(Ordering::Acquire);
        let sent = self.sent.load(Ordering::Acquire);
        let alive = self.alive_ns.load(Ordering::Acquire);
        done < sent && now_ns.saturating_sub(alive) > self.limit.as_nanos() as u64
    }
}

impl JournalHandle {
    /// Queues a record (never blocks; a gone writer is logged once by the caller's context).
    pub fn send(&self, r: Record) {
        self.progress.sent.fetch_add(1, Ordering::AcqRel);
        if self.tx.send(r).is_err() {
            tracing::error!("journal writer gone: record lost");
        }
    }

    /// Records are waiting and the writer has not run for twice its operator poll (250 ms) plus
    /// the commit window: it is starved of CPU (or stuck in the disk). A writer that keeps up runs
    /// at least once per commit window or operator poll, whichever is longer, so this is never
    /// true while it does; a slow disk makes it true for a moment, which costs a spinning trading
    /// thread only a few spins.
    fn stalled(&self) -> bool {
        self.progress.stalled_at(self.progress.now_ns())
    }

    /// When the writer is stalled, lifts it out of `SCHED_IDLE` (to the default policy) until it
    /// has caught up: what a crash can lose comes before the trading thread's latency. The writer
    /// goes back to `SCHED_IDLE` itself once every record sent is committed. Returns whether it
    /// was stalled. Cheap when it is not (a clock read and three atomic loads).
    pub fn unstall(&self) -> bool {
        if !self.stalled() {
            return false;
        }
        self.raise();
        true
    }

    /// Puts the writer at the default policy (once per stall).
    pub(crate) fn raise(&self) {
        let p = &self.progress;
        if p.raised.swap(true, Ordering::AcqRel) {
            return;
        }
        let tid = p.tid.load(Ordering::Acquire);
        if tid == 0 {
            return;
        }
        let stalls = p.stalls.fetch_add(1, Ordering::AcqRel) + 1;
        let result = set_policy(tid, false);
        if stalls > 3 && !stalls.is_power_of_two() {
            return;
        }
        match result {
            Ok(()) => tracing::warn!(
                stalls,
                "journal writer starved: records waited longer than {} ms; it now runs at the \
                 default priority until it has caught up (no idle core? docs/operations.md)",
                p.limit.as_millis()
            ),
            Err(e) => tracing::error!(
                stalls,
                "journal writer starved (records waited longer than {} ms) and cannot be raised \
                 ({e}): a crash may lose more than the commit window (docs/operations.md)",
                p.limit.as_millis()
            ),
        }
    }

    /// How far the writer is: records sent, records done, times it was raised out of a stall.
    pub fn progress(&self) -> JournalProgress {
        let p = &self.progress;
        JournalProgress {
            sent: p.sent.load(Ordering::Acquire),
            done: p.done.load(Ordering::Acquire),
            stalls: p.stalls.load(Ordering::Acquire),
        }
    }

    /// Waits until everything queued so far is committed (shutdown, tests).
    pub fn flush(&self, timeout: Duration) -> bool {
        let (tx, rx) = mpsc::channel();
        self.send(Record::Flush(tx));
        rx.recv_timeout(timeout).is_ok()
    }
}

/// A reading of the writer's progress (the metrics room keeps the last one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct JournalProgress {
    pub sent: u64,
    pub done: u64,
    pub stalls: u64,
}

/// How often the writer looks for operator commands in the journal.
const OPERATOR_POLL: Duration = Duration::from_millis(250);

/// Starts the writer for `run`. Operator commands found in the journal go to `operator`.
///
/// `commit_window`: after the first record of a batch arrives, the writer waits this long for more
/// before it commits them in one transaction. While it waits, sending a record is a plain queue
/// push (no thread to wake), so a burst of orders costs the engine thread no system call and the
/// disk one commit. Zero commits at once.
pub fn spawn(
    journal: Journal,
    run: i64,
    operator: tokio::sync::mpsc::UnboundedSender<String>,
    commit_window: Duration,
) -> (JournalHandle, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Record>();
    let progress = Arc::new(Progress::new(commit_window));
    let shared = progress.clone();
    let handle = std::thread::Builder::new()
        .name("journal-writer".into())
        .spawn(move || {
            // SAFETY: gettid has no preconditions.
            #[cfg(target_os = "linux")]
            shared
                .tid
                .store(unsafe { libc::gettid() }, Ordering::Release);
            yield_to_trading();
            // Unprivileged, a thread may leave SCHED_IDLE only if RLIMIT_NICE allows nice 0:
            // find out now, not in the middle of a stall.
            match set_policy(0, false) {
                Ok(()) => yield_to_trading(),
                Err(e) => tracing::warn!(
                    "journal writer: it could not be raised from SCHED_IDLE if starved ({e}): \
                     on a machine with no idle core a crash may lose more than the commit \
                     window; grant CAP_SYS_NICE or RLIMIT_NICE 20 (docs/operations.md)"
                ),
            }
            run_writer(journal, run, rx, operator, commit_window, &shared)
        })
        .expect("spawn the journal writer thread");
    (JournalHandle { tx, progress }, handle)
}

/// The writer must never keep the trading thread waiting for a core. Under SCHED_IDLE it runs
/// whenever a core is otherwise idle (which, with a trading thread that sleeps between frames, is
/// nearly always), and a waking trading thread preempts it at once; under the default policy a
/// commit in progress on the trading thread's core could delay a tick by up to the scheduler's
/// wake-up granularity (p99 of the tick-to-order bench, docs/BENCHMARKS.md). A machine with no
/// idle core starves it: `JournalHandle::unstall` lifts it back until it has caught up.
fn yield_to_trading() {
    if let Err(e) = set_policy(0, true) {
        tracing::warn!(
            "journal writer: cannot lower its scheduling priority ({e}); it may delay ticks"
        );
    }
}

/// Sets thread `tid`'s policy (0: the calling thread): `SCHED_IDLE` or the default.
fn set_policy(tid: i32, idle: bool) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        let policy = if idle {
            libc::SCHED_IDLE
        } else {
            libc::SCHED_OTHER
        };
        // SAFETY: `tid` is 0 or the writer thread's id (the writer outlives every handle's use of
        // it, and a stale id fails with ESRCH); `param` is a valid sched_param for both policies
        // (priority 0); the call reads it and changes nothing else.
        if unsafe { libc::sched_setscheduler(tid, policy, &param) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (tid, idle);
    Ok(())
}

fn run_writer(
    journal: Journal,
    run: i64,
    rx: mpsc::Receiver<Record>,
    operator: tokio::sync::mpsc::UnboundedSender<String>,
    commit_window: Duration,
    progress: &Progress,
) {
    let mut failed = false;
    let mut next_poll = std::time::Instant::now();
    loop {
        let first = match rx.recv_timeout(OPERATOR_POLL) {
            Ok(r) => Some(r),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        progress.alive();
        if std::time::Instant::now() >= next_poll {
            next_poll = std::time::Instant::now() + OPERATOR_POLL;
            match journal.take_operator_commands() {
                Ok(cmds) => {
                    for c in cmds {
                        let _ = operator.send(c);
                    }
                }
                Err(e) => tracing::warn!("journal: cannot read operator commands: {e}"),
            }
        }
        let Some(first) = first else { continue };
        let hurry = matches!(first, Record::Flush(_) | Record::EndRun);
        if !commit_window.is_zero() && !hurry {
            std::thread::sleep(commit_window);
        }
        let mut batch = vec![first];
        while batch.len() < 4096 {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let mut acks = Vec::new();
        let mut end = false;
        let records = batch.len() as u64;
        let result = (|| -> rusqlite::Result<()> {
            let tx = journal.conn().unchecked_transaction()?;
            for r in batch {
                match r {
                    Record::Flush(ack) => acks.push(ack),
                    Record::EndRun => {
                        tx.execute(
                            "UPDATE runs SET ended_ms = ?1 WHERE id = ?2",
                            params![now_ms() as i64, run],
                        )?;
                        end = true;
                    }
                    other => write(&tx, run, other)?,
                }
            }
            tx.commit()
        })();
        if let Err(e) = result {
            if !failed {
                tracing::error!(path = %journal.path().display(), "journal write failed: {e}");
            }
            failed = true;
        }
        let done = progress.done.fetch_add(records, Ordering::AcqRel) + records;
        progress.alive();
        if progress.raised.load(Ordering::Acquire) && done == progress.sent.load(Ordering::Acquire)
        {
            yield_to_trading();
            progress.raised.store(false, Ordering::Release);
        }
        for a in acks {
            let _ = a.send(());
        }
        if end {
            return;
        }
    }
}

/// Runs one of the writer's statements through the connection's statement cache: compiling the
/// SQL is most of a record's cost (13 µs per record uncached, measured in the tick-to-order bench's
/// writer), and a writer that takes longer per record holds records in memory longer.
fn exec(
    tx: &rusqlite::Transaction<'_>,
    sql: &str,
    p: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(p)
}

fn write(tx: &rusqlite::Transaction<'_>, run: i64, r: Record) -> rusqlite::Result<()> {
    let now = now_ms() as i64;
    match r {
        Record::Order(o) => {
            // An order is noted at every change the engine sees, and the venue often reports one
            // change several ways (post result, order update, fill): an event row is written only
            // when the state or the filled size differs from the order's row.
            let before: Option<(String, String)> = tx
                .prepare_cached("SELECT state, filled FROM orders WHERE cloid = ?1")?
                .query_row(params![o.cloid], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let changed =
                before.is_none_or(|(state, filled)| state != o.state || filled != o.filled);
            exec(
                tx,
                "INSERT INTO orders (cloid, run_id, market, strategy, tag, side, px, sz, tif, reduce_only, purpose, state, filled, oid, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)
                 ON CONFLICT(cloid) DO UPDATE SET state = excluded.state, filled = excluded.filled,
                   oid = coalesce(excluded.oid, orders.oid), updated_ms = excluded.updated_ms",
                params![o.cloid, run, o.market, o.strategy, o.tag as i64, o.side, o.px, o.sz, o.tif, o.reduce_only, o.purpose, o.state, o.filled, o.oid.map(|x| x as i64), now],
            )?;
            if changed {
                exec(
                    tx,
                    "INSERT INTO order_events (cloid, state, filled, ts_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![o.cloid, o.state, o.filled, now],
                )?;
            }
        }
        Record::Fill(f) => {
            exec(
                tx,
                "INSERT OR IGNORE INTO fills VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    f.venue,
                    f.tid as i64,
                    f.market,
                    f.cloid,
                    f.oid as i64,
                    f.side,
                    f.px,
                    f.sz,
                    f.fee,
                    f.time_ms as i64,
                    f.strategy,
                    f.realized
                ],
            )?;
        }
        Record::Position {
            market,
            size,
            avg_entry,
            realized,
        } => {
            exec(
                tx,
                "INSERT OR REPLACE INTO positions VALUES (?1, ?2, ?3, ?4, ?5)",
                params![market, size, avg_entry, realized, now],
            )?;
        }
        Record::Refusal { strategy, reason } => {
            exec(
                tx,
                "INSERT INTO refusals VALUES (?1, ?2, ?3, 1, ?4)
                 ON CONFLICT(run_id, strategy, reason) DO UPDATE SET count = count + 1, last_ms = excluded.last_ms",
                params![run, strategy, reason, now],
            )?;
        }
        Record::HardStop { latched, reason } => {
            exec(
                tx,
                "INSERT INTO hardstop (ts_ms, event, reason, source) VALUES (?1, ?2, ?3, 'engine')",
                params![now, if latched { "triggered" } else { "released" }, reason],
            )?;
        }
        Record::PluginState {
            strategy,
            plugin,
            version,
            params_hash,
            state,
            engine_ns,
        } => {
            exec(
                tx,
                "INSERT OR REPLACE INTO plugin_state (strategy, plugin, version, params_hash, state, saved_ms, engine_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    strategy,
                    plugin,
                    version,
                    params_hash,
                    state,
                    now,
                    engine_ns as i64
                ],
            )?;
        }
        Record::Flush(_) | Record::EndRun => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
        h.send(Record::Fill(fill)); // the same fill again (resent snapshot)
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
}
