//! The journal's writer thread: records come over a channel (sending never blocks the engine) and
//! are committed in batched transactions. It also polls the `operator_commands` table, so
//! `strategy-host hardstop …` reaches a running host, and hands what it finds back.

mod records;

use super::{Journal, now_ms};
use records::write;
pub use records::{FillRow, OrderRow, Record, write as write_record};
use rusqlite::params;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The engine side's handle on the writer.
#[derive(Debug, Clone)]
pub struct JournalHandle {
    tx: mpsc::Sender<Record>,
    progress: Arc<Progress>,
}

/// How far the writer is behind, shared by its handles and its thread, so that a trading thread
/// that never sleeps (`[engine] busy_poll`) can tell when it is starving the writer: the writer
/// runs under `SCHED_IDLE`, and on a machine with no idle core records can wait in memory for
/// seconds instead of the commit window (docs/BENCHMARKS.md, fifth session).
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
                    other => write(&tx, run, other, now_ms() as i64)?,
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

#[cfg(test)]
mod tests;
