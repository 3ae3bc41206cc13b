//! The live driver: tokio wiring around the engine. One `current_thread` runtime carries the
//! venue tasks, the simulator (when started in-process) and the runtime's own loop (timer,
//! operator commands, journal snapshots, status line).
//!
//! - [`startup`]: from a config to an engine ready for its first event (reusable by a replay
//!   driver). [`core`]: the engine and what is kept beside it.
//! - [`venue_task`]: the one loop per venue (frame → adapter → engine → batch → adapter →
//!   socket → journal settle), for any venue adapter; [`link`]: how it reaches the engine.
//! - [`venues`]: starting the configured venues (the one match on a venue's kind).
//! - [`journaling`]: engine notes → journal records. [`summary`], [`status`]: views for people.

pub mod core;
pub mod journaling;
pub mod link;
pub mod startup;
pub mod status;
pub mod summary;
pub mod venue_task;
pub mod venues;

pub use self::core::EngineCore;
use crate::config::Config;
use crate::engine::events::{Event, OperatorCommand};
use crate::sim::SimVenue;
use anyhow::{Context, bail};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};
use summary::Summary;
use tokio::sync::mpsc;

/// How to run.
#[derive(Debug)]
pub struct RunOptions {
    pub duration: Option<Duration>,
    pub summary_json: Option<PathBuf>,
    pub status_every: Duration,
    /// After the stop is asked: how long to wait for cancels to be acknowledged.
    pub shutdown_grace: Duration,
    /// Operator commands (HardStop, release, pause, flatten all) from an operator interface.
    pub operator: Option<mpsc::Receiver<OperatorCommand>>,
    /// `--metrics-listen`: overrides `[metrics] listen`.
    pub metrics_listen: Option<String>,
    /// `--metrics-allow-remote`: as `[metrics] allow_remote = true`.
    pub metrics_allow_remote: bool,
    /// `--fresh`: in-process simulators start empty (their saved accounts are removed).
    pub fresh: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            duration: None,
            summary_json: None,
            status_every: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(3),
            operator: None,
            metrics_listen: None,
            metrics_allow_remote: false,
            fresh: false,
        }
    }
}

/// What `run` hands back (for tests and the CLI).
pub struct RunOutcome {
    pub summary: Summary,
    /// The simulators that ran in-process, with the account traded on each (still running).
    pub sims: Vec<SimVenue>,
}

/// Runs the configured strategies until Ctrl-C or `duration`.
pub async fn run(config: &Config, opts: RunOptions) -> anyhow::Result<RunOutcome> {
    if config.raw.venues.is_empty() {
        bail!(
            "{}: no [[venues]]: nothing to trade on",
            config.path.display()
        );
    }
    let cloid_prefix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_millis() as u64);
    // The endpoint binds before anything trades: a taken port is an error now, not later.
    let metrics = match opts
        .metrics_listen
        .as_ref()
        .or(config.raw.metrics.listen.as_ref())
    {
        Some(l) => {
            let allow = opts.metrics_allow_remote || config.raw.metrics.allow_remote;
            let addr =
                crate::metrics::server::check_listen(l, allow).map_err(anyhow::Error::msg)?;
            let srv = crate::metrics::server::MetricsServer::start(addr)
                .with_context(|| format!("cannot serve metrics on {addr}"))?;
            println!("metrics: http://{}/metrics", srv.local_addr());
            Some(srv)
        }
        None => None,
    };
    let started = startup::start(config, cloid_prefix)?;
    if config.is_paper() {
        println!(
            "PAPER run: market data from the venues, orders filled locally, nothing signed or sent"
        );
    }
    let recorder = match config.record_dir() {
        Some(dir) => {
            let headers = crate::record::venue_headers(config)?;
            let r = crate::record::Recorder::start(
                &dir,
                headers.into_iter().map(|(h, _)| h).collect(),
            )?;
            println!("recording every venue's frames into {}", dir.display());
            Some(r)
        }
        None => None,
    };
    let (op_tx, op_rx) = mpsc::unbounded_channel();
    let (jh, writer) = crate::journal::writer::spawn(
        started.journal,
        started.run_id,
        op_tx,
        Duration::from_millis(config.raw.journal.commit_window_ms),
    );
    tracing::info!(path = %config.journal_path().display(), run = started.run_id, "journal open");
    let hashes = journaling::params_hashes(config, &started.engine);
    let core = EngineCore::resumed(started.engine, started.resumed_ns);
    core.borrow_mut().journal = Some(jh.clone());
    core.borrow_mut().state_hashes = Some(hashes);
    core.borrow_mut().metrics.mode = if config.is_paper() { "paper" } else { "live" };
    // The restored latch's own note (and the flatten it starts) are journaled like any other.
    core.borrow_mut().handle(Event::Timer, None);
    let local = tokio::task::LocalSet::new();
    let out = local
        .run_until(drive(
            config,
            opts,
            &started.registry,
            &started.latch,
            core.clone(),
            op_rx,
            recorder.as_ref(),
            metrics.as_ref(),
            started.run_id,
            &started.paper_accounts,
        ))
        .await;
    if let Some(r) = recorder {
        match r.finish() {
            Ok(stats) => println!(
                "recorded {} lines into {} file(s) in {}{}",
                stats.lines.iter().sum::<u64>(),
                stats.files.len(),
                config.record_dir().unwrap_or_default().display(),
                if stats.dropped > 0 {
                    format!(
                        " ({} frames NOT recorded: the recorder was starved)",
                        stats.dropped
                    )
                } else {
                    String::new()
                }
            ),
            Err(e) => eprintln!("error: {e}"),
        }
    }
    core.borrow_mut().settle();
    let now = core.borrow().now();
    journaling::snapshot_states(config, &core.borrow().engine, now, &jh);
    jh.send(crate::journal::writer::Record::EndRun);
    core.borrow_mut().journal = None;
    drop(jh);
    let _ = writer.join();
    drop(started.lock);
    out
}

/// Starts the venues and runs the timer/operator/status loop until the stop, then shuts down.
#[allow(clippy::too_many_arguments)]
async fn drive(
    config: &Config,
    mut opts: RunOptions,
    registry: &crate::engine::types::MarketRegistry,
    latch: &std::sync::Arc<crate::engine::hardstop::HardStopLatch>,
    core: Rc<RefCell<EngineCore>>,
    mut journal_ops: mpsc::UnboundedReceiver<String>,
    recorder: Option<&crate::record::Recorder>,
    metrics: Option<&crate::metrics::server::MetricsServer>,
    run_id: i64,
    paper_accounts: &[(String, String)],
) -> anyhow::Result<RunOutcome> {
    // A paper venue's account, as it changes: journaled (what the next paper run resumes) and
    // kept for the summary.
    let paper_now: Rc<RefCell<Vec<crate::paper::PaperAccount>>> = Rc::default();
    let mut venues = Vec::new();
    let mut venue_metrics = Vec::new();
    for (i, v) in config.raw.venues.iter().enumerate() {
        let Some(id) = registry.venue_id(v.name.get_ref()) else {
            tracing::warn!(venue = %v.name.get_ref(), "venue has no configured markets; not started");
            continue;
        };
        // Always kept (the run's end journals tick-to-order); served when [metrics] is on.
        let vm = std::sync::Arc::new(crate::metrics::server::VenueMetrics::default());
        if let Some(srv) = metrics {
            srv.add_venue(v.name.get_ref(), vm.clone());
        }
        venue_metrics.push(vm.clone());
        let obs = venue_task::Observers {
            tap: recorder.map(|r| r.tap(i as u16)),
            metrics: Some(vm),
        };
        let sim_state = crate::sim::persist::state_path(&config.journal_path(), v.name.get_ref());
        if opts.fresh && sim_state.exists() {
            std::fs::remove_file(&sim_state)
                .with_context(|| format!("--fresh: cannot remove {}", sim_state.display()))?;
            println!("--fresh: removed {}", sim_state.display());
        }
        let paper = v.mode.is_paper().then(|| {
            venues::Paper::of(
                config,
                v.name.get_ref(),
                paper_accounts,
                opts.fresh,
                core.borrow().journal.clone(),
                paper_now.clone(),
            )
        });
        venues.push(
            venues::start_venue(
                v,
                id,
                registry,
                latch,
                &core,
                obs,
                venues::Resume {
                    sim_state: Some(&sim_state),
                    paper,
                },
            )
            .await?,
        );
    }
    let mut lag = crate::metrics::prom::LagWatch::default();
    let mut publish = tokio::time::interval(Duration::from_secs(1));
    if config.raw.engine.busy_poll {
        tracing::info!("busy_poll: the host thread spins between events");
        let journal = core.borrow().journal.clone();
        tokio::task::spawn_local(busy_poll(journal, || true));
    }
    let started = Instant::now();
    let mut timer =
        tokio::time::interval(Duration::from_millis(config.raw.engine.timer_interval_ms));
    let mut status = tokio::time::interval(opts.status_every);
    status.tick().await;
    let mut snapshots = tokio::time::interval(Duration::from_secs(
        config.raw.journal.snapshot_every_secs.max(1),
    ));
    snapshots.tick().await;
    let deadline = opts.duration.map(|d| tokio::time::Instant::now() + d);
    let stop_requested = async {
        match deadline {
            Some(d) => tokio::select! {
                _ = tokio::time::sleep_until(d) => {}
                _ = tokio::signal::ctrl_c() => {}
            },
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    tokio::pin!(stop_requested);
    let mut operator = opts.operator.take();
    loop {
        tokio::select! {
            cmd = async { match operator.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => match cmd {
                Some(cmd) => core.borrow_mut().handle(Event::Operator(cmd), None),
                None => operator = None,
            },
            _ = timer.tick() => {
                let mut c = core.borrow_mut();
                c.handle(Event::Timer, None);
                // A machine with no idle core starves the SCHED_IDLE journal writer, spinning or not.
                if let Some(j) = &c.journal {
                    j.unstall();
                }
            }
            op = journal_ops.recv() => match op.as_deref().and_then(|o| operator_command(o, registry)) {
                None if op.as_deref() == Some("reconcile") => {
                    println!("operator command from the journal: reconcile every venue");
                    core.borrow().reconcile_all();
                }
                Some(cmd) => {
                    println!("operator command from the journal: {cmd:?}");
                    core.borrow_mut().handle(Event::Operator(cmd), None);
                }
                None => if let Some(other) = op { tracing::warn!(command = %other, "unknown operator command ignored") },
            },
            _ = snapshots.tick() => {
                let c = core.borrow();
                if let Some(j) = &c.journal {
                    journaling::snapshot_states(config, &c.engine, c.now(), j);
                }
            }
            _ = publish.tick() => {
                let mut c = core.borrow_mut();
                if let Some(j) = &c.journal {
                    let s = status::status_json(&c.engine, &c.metrics, run_id, started.elapsed());
                    j.send(crate::journal::writer::Record::Status(s));
                }
                if let Some(srv) = metrics {
                    c.metrics.paper.clone_from(&paper_now.borrow());
                    srv.publish(c.sample(run_id, &mut lag));
                }
            }
            _ = status.tick() => {
                let c = core.borrow();
                let line = status::status_line(&c.engine, &c.metrics, started.elapsed());
                if config.is_paper() {
                    println!("PAPER {line}");
                } else {
                    println!("{line}");
                }
            }
            _ = &mut stop_requested => break,
        }
        if venues.iter().all(|v| v.task.is_finished()) {
            bail!("every venue client stopped");
        }
    }
    // A second Ctrl-C exits at once.
    tokio::spawn(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("second Ctrl-C: exiting now");
        std::process::exit(130);
    });
    println!("stopping: pausing entries and cancelling open orders");
    core.borrow_mut()
        .handle(Event::Operator(OperatorCommand::PauseEntries), None);
    core.borrow_mut()
        .handle(Event::Operator(OperatorCommand::CancelAll), None);
    let grace = tokio::time::Instant::now() + opts.shutdown_grace;
    while core.borrow().engine.orders().active_count() > 0 && tokio::time::Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The summary, the journal's last positions and the next run start from the venue's truth:
    // a last reconcile of every venue (a fill lost in the run's last seconds is found here).
    let before: Vec<u64> = core.borrow().live_reconciles().to_vec();
    core.borrow().reconcile_all();
    let deadline = tokio::time::Instant::now() + opts.shutdown_grace;
    let done = |c: &EngineCore| {
        venues.iter().all(|v| {
            let i = v.id.0 as usize;
            v.task.is_finished()
                || c.live_reconciles().get(i).copied().unwrap_or(0)
                    > before.get(i).copied().unwrap_or(0)
        })
    };
    while !done(&core.borrow()) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !done(&core.borrow()) {
        tracing::warn!("the last reconcile did not finish in time: the summary is the host's view");
    }
    core.borrow().shutdown_venues();
    let mut sims = Vec::new();
    for v in venues {
        let stats = tokio::time::timeout(Duration::from_secs(2), v.task).await;
        if let Ok(Ok(stats)) = stats {
            let mut c = core.borrow_mut();
            let c = &mut *c;
            c.metrics.venue_stats(&c.engine, v.id, stats);
        }
        sims.extend(v.sim);
    }
    let mut c = core.borrow_mut();
    let c = &mut *c;
    if let Some(j) = &c.journal {
        c.metrics.journal_progress(j.progress());
    }
    c.metrics.read_engine(&c.engine);
    for vm in &venue_metrics {
        c.metrics.tick_to_order.merge(&vm.tick_to_order.read());
    }
    if let Some(j) = &c.journal {
        journaling::run_histograms(&c.engine, &c.metrics.tick_to_order, j);
    }
    // In-process simulators keep their accounts for the next run.
    let kept = crate::sim::persist::save_all(&sims, &config.journal_path());
    let info = summary::RunInfo {
        run_id,
        config: config.path.display().to_string(),
        journal: config.journal_path().display().to_string(),
        in_process_sims: kept,
        mode: c.metrics.mode.to_string(),
    };
    c.metrics.paper.clone_from(&paper_now.borrow());
    let summary = Summary::view(&c.metrics, &c.engine, started.elapsed().as_secs_f64(), info);
    println!("{}", summary.render());
    if let Some(path) = &opts.summary_json {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("summary written to {}", path.display());
    }
    Ok(RunOutcome { summary, sims })
}

/// `[engine] busy_poll`: a task that always yields keeps a current-thread runtime from parking,
/// so it polls its sockets without a timeout and the core and its caches stay warm between
/// frames, while `active()` says so (always, in `run`; the benchmarks spin only during their own
/// turns). Otherwise it lets the runtime park for a millisecond at a time.
///
/// It also watches the journal writer (`JournalHandle::unstall`): the writer runs under
/// `SCHED_IDLE`, and a thread that never sleeps on a machine with no other idle core starves it,
/// so records would wait in memory for seconds instead of the commit window. What a crash can
/// lose comes before latency: a stalled writer is raised to the default policy until it has
/// caught up. (What was measured, and the alternative that was dropped: docs/BENCHMARKS.md,
/// fifth session.)
pub async fn busy_poll(
    journal: Option<crate::journal::writer::JournalHandle>,
    active: impl Fn() -> bool,
) {
    loop {
        if let Some(j) = &journal {
            j.unstall();
        }
        if active() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// An operator command as the journal's operator table carries it (`flatten:venue/coin` names
/// its market).
pub fn operator_command(
    s: &str,
    registry: &crate::engine::types::MarketRegistry,
) -> Option<OperatorCommand> {
    Some(match s {
        "hardstop" => OperatorCommand::HardStop,
        "hardstop-release" => OperatorCommand::ReleaseHardStop,
        "pause" => OperatorCommand::PauseEntries,
        "resume" => OperatorCommand::ResumeEntries,
        "flatten-all" => OperatorCommand::FlattenAll,
        "cancel-all" => OperatorCommand::CancelAll,
        s => OperatorCommand::Flatten(registry.lookup(s.strip_prefix("flatten:")?)?),
    })
}

#[cfg(test)]
mod tests;
