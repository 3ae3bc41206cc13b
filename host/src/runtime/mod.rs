//! The live driver: tokio wiring around the engine. One `current_thread` runtime carries the
//! venue clients, the simulator (when started in-process) and the timer loop. Each venue client
//! calls the engine inline from its own task (`InlineSink`) and posts the batches the engine hands
//! back for its venue at once, so the tick-to-order path (frame → engine → batch → sign → send)
//! has no thread hop and no task hop. Batches for another venue go through its command channel.

pub mod journaling;
pub mod summary;

use crate::config::{Config, Network, VenueConfig};
use crate::engine::Engine;
use crate::engine::events::{Event, OperatorCommand};
use crate::engine::hardstop::HardStopLatch;
use crate::engine::scheduler::ActionBatch;
use crate::engine::types::{MarketKey, MarketRegistry, VenueId};
use crate::plugins::load_strategies;
use crate::sim::server::{SimHandle, spawn as spawn_sim};
use crate::venue::events::{EventSink, SinkClosed, VenueCommand, VenueEvent};
use crate::venue::http::HttpClient;
use crate::venue::hyperliquid::client::{HlClient, HlClientConfig};
use crate::venue::hyperliquid::info::fetch_asset_table;
use crate::venue::hyperliquid::secrets::KeySource;
use crate::venue::hyperliquid::signing::{Address, NonceManager, PrivateKey, keccak, to_hex};
use anyhow::{Context, bail};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            duration: None,
            summary_json: None,
            status_every: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(3),
            operator: None,
        }
    }
}

/// The engine and what the runtime keeps beside it, shared by the tasks of one thread (never
/// borrowed across an await).
pub struct EngineCore {
    pub engine: Engine,
    pub summary: Summary,
    routes: HashMap<VenueId, mpsc::UnboundedSender<VenueCommand>>,
    started: Instant,
    /// Engine time when the core was made: where the previous run's clock stopped
    /// (`Journal::engine_time_ns`), 0 for a first run.
    resumed_ns: u64,
    /// Where notes are journaled (None: no journal).
    pub journal: Option<crate::journal::writer::JournalHandle>,
    /// Notes taken from the engine, reused between events (no allocation per event).
    notes: Vec<crate::engine::events::EngineNote>,
    /// Journal work of events handled inline, sent once the client has written its posts.
    deferred: Vec<journaling::Deferred>,
}

impl EngineCore {
    pub fn new(engine: Engine) -> Rc<RefCell<EngineCore>> {
        Self::resumed(engine, 0)
    }

    /// A core whose engine clock starts at `resumed_ns` (a restart: see `Journal::engine_time_ns`).
    pub fn resumed(engine: Engine, resumed_ns: u64) -> Rc<RefCell<EngineCore>> {
        Rc::new(RefCell::new(EngineCore {
            engine,
            summary: Summary::default(),
            routes: HashMap::new(),
            started: Instant::now(),
            resumed_ns,
            journal: None,
            notes: Vec::new(),
            deferred: Vec::new(),
        }))
    }

    /// Engine time: ns since the core was made, plus where a previous run's clock stopped (never 0).
    pub fn now(&self) -> u64 {
        self.resumed_ns + self.started.elapsed().as_nanos() as u64 + 1
    }

    pub fn add_route(&mut self, venue: VenueId, commands: mpsc::UnboundedSender<VenueCommand>) {
        self.routes.insert(venue, commands);
    }

    /// Handles one event. Batches for `inline` (the calling client's venue) go to `ready`; the
    /// others to their venue's command channel. Notes are counted at once; their journal records
    /// wait for `settle` when the event came inline from a venue client (that client calls it once
    /// its posts are written: the order leaves before the journal writer is woken) and are sent
    /// at once otherwise.
    pub fn handle(&mut self, ev: Event<'_>, inline: Option<VenueId>, ready: &mut Vec<ActionBatch>) {
        let now = self.now();
        crate::stagetime::mark(crate::stagetime::Stage::EngineIn);
        self.engine.handle(ev, now);
        crate::stagetime::mark(crate::stagetime::Stage::EngineOut);
        while let Some(batch) = self.engine.next_batch(now) {
            if Some(batch.venue) == inline {
                ready.push(batch);
            } else if let Some(tx) = self.routes.get(&batch.venue) {
                if tx.send(VenueCommand::Send(batch)).is_err() {
                    tracing::error!("venue client gone: batch not sent");
                }
            } else {
                tracing::error!(
                    venue = batch.venue.0,
                    "batch for a venue that was not started"
                );
            }
        }
        self.notes.extend(self.engine.drain_notes());
        for n in self.notes.drain(..) {
            self.summary.note(&self.engine, &n);
            if let crate::engine::events::EngineNote::Fill {
                replayed: false, ..
            } = n
            {
                crate::crash::point("after_fill");
            }
            if let crate::engine::events::EngineNote::HardStopTriggered(r) = &n {
                println!("HARD STOP: {r}");
            }
            if self.journal.is_some() {
                journaling::defer(&self.engine, n, &mut self.deferred);
            }
        }
        if inline.is_none() {
            self.settle();
        }
    }

    /// Sends the journal work held back since the last call to the writer thread.
    pub fn settle(&mut self) {
        if let Some(j) = &self.journal {
            journaling::send_deferred(&self.engine, &mut self.deferred, j);
        }
    }
}

/// A venue client's way into the engine: inline, in the client's task.
pub struct InlineSink {
    pub core: Rc<RefCell<EngineCore>>,
    pub venue: VenueId,
}

impl EventSink for InlineSink {
    fn deliver(&mut self, ev: VenueEvent, ready: &mut Vec<ActionBatch>) -> Result<(), SinkClosed> {
        match self.core.try_borrow_mut() {
            Ok(mut core) => {
                core.handle(ev.as_event(), Some(self.venue), ready);
                Ok(())
            }
            Err(_) => {
                tracing::error!("engine re-entered from a venue client: event dropped");
                Err(SinkClosed)
            }
        }
    }

    fn settle(&mut self) {
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.settle();
        }
    }
}

/// A started venue: its client's command channel, its account, and its simulator if any.
struct Venue {
    id: VenueId,
    commands: mpsc::UnboundedSender<VenueCommand>,
    task: tokio::task::JoinHandle<crate::venue::hyperliquid::client::ClientStats>,
    sim: Option<SimHandle>,
    account: Address,
}

/// What `run` hands back (for tests and the CLI).
pub struct RunOutcome {
    pub summary: Summary,
    /// The simulators that ran in-process, with the account traded on each (still running).
    pub sims: Vec<(String, SimHandle, Address)>,
}

/// The agent key for an in-process simulator venue: deterministic from its seed and name, so a
/// restart trades the same simulated account.
fn sim_agent_key(seed: u64, venue: &str) -> anyhow::Result<PrivateKey> {
    let mut material = format!("strategy-host simulator agent/{venue}/{seed}").into_bytes();
    for _ in 0..4 {
        let k = keccak(&material);
        if let Ok(key) = PrivateKey::from_hex(&to_hex(&k)) {
            return Ok(key);
        }
        material = k.to_vec();
    }
    bail!("could not derive a simulator key")
}

async fn start_venue(
    v: &VenueConfig,
    id: VenueId,
    registry: &MarketRegistry,
    latch: &Arc<HardStopLatch>,
    core: &Rc<RefCell<EngineCore>>,
) -> anyhow::Result<Venue> {
    let name = v.name.get_ref().clone();
    let net = *v.network.get_ref();
    let mut sim = None;
    let (ws_url, http_url) = match (v.ws_url.clone(), v.info_url.clone(), net.default_urls()) {
        (Some(ws), Some(http), _) => (ws, http),
        (None, None, Some((ws, http))) => (ws.to_string(), http.to_string()),
        (ws, http, Some((dws, dhttp))) => (
            ws.unwrap_or(dws.to_string()),
            http.unwrap_or(dhttp.to_string()),
        ),
        (None, None, None) => {
            let cfg = v.sim.clone().with_context(|| {
                format!(
                    "venue `{name}`: a simulator venue without ws_url needs a [venues.sim] table"
                )
            })?;
            let h = spawn_sim(cfg, 0).await?;
            let urls = (h.ws_url(), h.http_url());
            sim = Some(h);
            urls
        }
        _ => bail!("venue `{name}`: give both ws_url and info_url"),
    };
    let key = match (&v.key_env, &v.key_file) {
        (Some(env), _) => Some(KeySource::Env(env.clone()).load()?),
        (None, Some(f)) => Some(KeySource::File(f.clone()).load()?),
        (None, None) if sim.is_some() => {
            let seed = v.sim.as_ref().map_or(1, |s| s.seed);
            Some(sim_agent_key(seed, &name)?)
        }
        (None, None) => None,
    };
    let key = key.map(Arc::new);
    let account = match &v.account {
        Some(a) => Address::parse(a.get_ref()).context("account")?,
        None => key
            .as_ref()
            .map(|k| k.address())
            .context("venue needs an account or a key")?,
    };
    if let (Some(h), Some(k)) = (&sim, &key) {
        h.approve_agent(account, k.address());
    }
    let markets: Vec<_> = registry
        .markets_of(id)
        .map(|m| (m, registry.key(m).coin.clone()))
        .collect();
    let coins: Vec<String> = markets.iter().map(|(_, c)| c.clone()).collect();
    let http = HttpClient::new(&http_url, Duration::from_secs(10))?;
    let assets = fetch_asset_table(&http, &coins)
        .await
        .map_err(|e| anyhow::anyhow!("venue `{name}`: {e}"))?;
    let mut cfg = HlClientConfig::new(id, ws_url.clone(), account, markets);
    cfg.mainnet = net == Network::Mainnet;
    cfg.vault = v.vault.as_ref().and_then(|a| Address::parse(a.get_ref()));
    cfg.dead_man = (v.dead_man_secs > 0).then(|| Duration::from_secs(v.dead_man_secs));
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    core.borrow_mut().add_route(id, cmd_tx.clone());
    let sink = InlineSink {
        core: core.clone(),
        venue: id,
    };
    let client = HlClient::new(
        cfg,
        assets,
        key,
        Arc::new(NonceManager::new()),
        latch.clone(),
        sink,
        cmd_rx,
    );
    let task = tokio::task::spawn_local(client.run());
    tracing::info!(venue = %name, %ws_url, %account, "venue started");
    Ok(Venue {
        id,
        commands: cmd_tx,
        task,
        sim,
        account,
    })
}

/// Runs the configured strategies until Ctrl-C or `duration`.
pub async fn run(config: &Config, opts: RunOptions) -> anyhow::Result<RunOutcome> {
    if config.raw.venues.is_empty() {
        bail!(
            "{}: no [[venues]]: nothing to trade on",
            config.path.display()
        );
    }
    let slots = match load_strategies(config) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            bail!("{} plugin error(s); nothing was started", errors.len());
        }
    };
    let mut registry = MarketRegistry::new();
    for s in &config.raw.strategies {
        for m in s.market_keys() {
            registry.intern(&MarketKey::parse(&m).context("market key")?);
        }
    }
    let latch = Arc::new(HardStopLatch::new());
    let cloid_prefix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_millis() as u64);
    let engine = Engine::new(
        config.raw.engine.clone(),
        config.raw.risk.clone(),
        registry.clone(),
        slots,
        latch.clone(),
        cloid_prefix,
        config.raw.plugins.intent_capacity,
    )?;
    let mut engine = engine;
    // The journal: restore what a previous run left, then record this one.
    let journal_path = config.journal_path();
    let journal = crate::journal::Journal::open(&journal_path)?;
    let run_id = journal.start_run(
        &config.path.display().to_string(),
        &journaling::fingerprint(config.text.as_bytes()),
        &journaling::run_plugins(config, &engine),
    )?;
    journaling::restore_states(config, &mut engine, &journal);
    // Restored states hold engine-time stamps (cooldowns, entry times): the clock goes on from
    // where the last snapshot left it, or a restarted host would sit out each cooldown for as long
    // as the previous run had lasted.
    let resumed_ns = journal.engine_time_ns()?;
    let latched = journal.hard_stop()?.filter(|h| h.latched);
    if let Some(h) = &latched {
        println!(
            "HARD STOP is latched from a previous run ({}); release it with `strategy-host hardstop release`",
            h.reason
        );
        engine.restore_hard_stop(1);
    }
    let (op_tx, op_rx) = mpsc::unbounded_channel();
    let (jh, writer) = crate::journal::writer::spawn(
        journal,
        run_id,
        op_tx,
        Duration::from_millis(config.raw.journal.commit_window_ms),
    );
    tracing::info!(path = %journal_path.display(), run = run_id, "journal open");
    let core = EngineCore::resumed(engine, resumed_ns);
    core.borrow_mut().journal = Some(jh.clone());
    // The restored latch's own note (and the flatten it starts) are journaled like any other.
    core.borrow_mut()
        .handle(Event::Timer, None, &mut Vec::new());
    let local = tokio::task::LocalSet::new();
    let out = local
        .run_until(drive(config, opts, registry, latch, core.clone(), op_rx))
        .await;
    core.borrow_mut().settle();
    let now = core.borrow().now();
    journaling::snapshot_states(config, &core.borrow().engine, now, &jh);
    jh.send(crate::journal::writer::Record::EndRun);
    core.borrow_mut().journal = None;
    drop(jh);
    let _ = writer.join();
    out
}

/// Starts the venues and runs the timer/operator/status loop until the stop, then shuts down.
async fn drive(
    config: &Config,
    mut opts: RunOptions,
    registry: MarketRegistry,
    latch: Arc<HardStopLatch>,
    core: Rc<RefCell<EngineCore>>,
    mut journal_ops: mpsc::UnboundedReceiver<String>,
) -> anyhow::Result<RunOutcome> {
    let mut venues = Vec::new();
    for v in &config.raw.venues {
        let Some(id) = registry.venue_id(v.name.get_ref()) else {
            tracing::warn!(venue = %v.name.get_ref(), "venue has no configured markets; not started");
            continue;
        };
        venues.push(start_venue(v, id, &registry, &latch, &core).await?);
    }
    if config.raw.engine.busy_poll {
        tracing::info!("busy_poll: the host thread spins between events");
        let journal = core.borrow().journal.clone();
        tokio::task::spawn_local(busy_poll(journal, || true));
    }
    let started = Instant::now();
    let mut scratch = Vec::new();
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
                Some(cmd) => core.borrow_mut().handle(Event::Operator(cmd), None, &mut scratch),
                None => operator = None,
            },
            _ = timer.tick() => {
                let mut c = core.borrow_mut();
                c.handle(Event::Timer, None, &mut scratch);
                // A machine with no idle core starves the SCHED_IDLE journal writer, spinning or not.
                if let Some(j) = &c.journal {
                    j.unstall();
                }
            }
            op = journal_ops.recv() => match op.as_deref().and_then(operator_command) {
                Some(cmd) => {
                    println!("operator command from the journal: {cmd:?}");
                    core.borrow_mut().handle(Event::Operator(cmd), None, &mut scratch);
                }
                None => if let Some(other) = op { tracing::warn!(command = %other, "unknown operator command ignored") },
            },
            _ = snapshots.tick() => {
                let c = core.borrow();
                if let Some(j) = &c.journal {
                    journaling::snapshot_states(config, &c.engine, c.now(), j);
                }
            }
            _ = status.tick() => println!("{}", status_line(&core.borrow().engine, started.elapsed())),
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
    core.borrow_mut().handle(
        Event::Operator(OperatorCommand::PauseEntries),
        None,
        &mut scratch,
    );
    core.borrow_mut().handle(
        Event::Operator(OperatorCommand::CancelAll),
        None,
        &mut scratch,
    );
    let grace = tokio::time::Instant::now() + opts.shutdown_grace;
    while core.borrow().engine.orders().active_count() > 0 && tokio::time::Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for v in &venues {
        let _ = v.commands.send(VenueCommand::Shutdown);
    }
    let mut sims = Vec::new();
    for v in venues {
        let _ = tokio::time::timeout(Duration::from_secs(2), v.task).await;
        if let Some(h) = v.sim {
            let name = core.borrow().engine.registry().venue_name(v.id).to_string();
            sims.push((name, h, v.account));
        }
    }
    let mut c = core.borrow_mut();
    let c = &mut *c;
    c.summary.finish(&c.engine, started.elapsed().as_secs_f64());
    println!("{}", c.summary.render());
    if let Some(path) = &opts.summary_json {
        std::fs::write(path, serde_json::to_string_pretty(&c.summary)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("summary written to {}", path.display());
    }
    Ok(RunOutcome {
        summary: c.summary.clone(),
        sims,
    })
}

/// `[engine] busy_poll`: a task that always yields keeps a current-thread runtime from parking,
/// so it polls its sockets without a timeout and the core and its caches stay warm between
/// frames, while `active()` says so (always, in `run`; the benchmarks spin only during their own
/// turns). Otherwise it lets the runtime park for a millisecond at a time.
///
/// It also watches the journal writer (`JournalHandle::unstall`): the writer runs under
/// `SCHED_IDLE`, and a thread that never sleeps on a machine with no other idle core starves it,
/// so records would wait in memory for seconds instead of the commit window (measured: up to
/// 8.5 s in the tick-to-order bench). What a crash can lose comes before latency: a stalled writer
/// is raised to the default policy until it has caught up. (Parking the spinner while the writer
/// is stalled was measured and dropped: commits still took up to 0.8 s, most likely because the
/// starved writer sat queued on the other, busy core, and every parked frame paid the sleeping
/// path's cold caches.)
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

/// An operator command as the journal's operator table carries it.
pub fn operator_command(s: &str) -> Option<OperatorCommand> {
    Some(match s {
        "hardstop" => OperatorCommand::HardStop,
        "hardstop-release" => OperatorCommand::ReleaseHardStop,
        "pause" => OperatorCommand::PauseEntries,
        "resume" => OperatorCommand::ResumeEntries,
        "flatten-all" => OperatorCommand::FlattenAll,
        _ => return None,
    })
}

/// The periodic status line: positions, open orders, PnL, refusals.
fn status_line(engine: &Engine, elapsed: Duration) -> String {
    let mut positions = Vec::new();
    let mut unrealized = rust_decimal::Decimal::ZERO;
    for (m, key) in engine.registry().markets() {
        let p = engine.position(m);
        unrealized += p.unrealized(engine.market(m).mark);
        if !p.size.is_zero() {
            positions.push(format!("{key}={}", p.size.round_dp(6)));
        }
    }
    format!(
        "[{:>5.0}s] positions: {} | open orders: {} | PnL realized {} unrealized {} | refusals: {} | HardStop: {}",
        elapsed.as_secs_f64(),
        if positions.is_empty() {
            "flat".to_string()
        } else {
            positions.join(" ")
        },
        engine.orders().active_count(),
        engine.positions().total_realized().round_dp(4),
        unrealized.round_dp(4),
        engine.refusals().total(),
        engine.latch().reason().map_or("off", |r| r.name()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::{EngineConfig, RiskLimits};
    use crate::engine::events::ConnectionState;
    use crate::engine::testkit::scripted;
    use crate::engine::types::Level;
    use plugin_api::{Intent, MarketIdx, PlaceIntent, Role, Side, Tif};
    use rust_decimal::Decimal;

    fn count(path: &std::path::Path, table: &str) -> i64 {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// An inline event's journal records wait until the client has written its posts (`settle`);
    /// an event from the runtime's own loop is journaled at once.
    #[test]
    fn inline_journal_records_wait_for_settle() {
        let dir = std::env::temp_dir().join(format!("sh-settle-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("j.db");
        let journal = crate::journal::Journal::open(&path).unwrap();
        let run = journal.start_run("c", "h", &[]).unwrap();
        let (op_tx, _op_rx) = mpsc::unbounded_channel();
        let (jh, writer) = crate::journal::writer::spawn(journal, run, op_tx, Duration::ZERO);

        let (slot, script) = scripted("entry", Role::Entry, &["hl/BTC"]);
        let mut reg = MarketRegistry::new();
        let m = reg.intern(&MarketKey::parse("hl/BTC").unwrap());
        let latch = Arc::new(HardStopLatch::new());
        let limits = RiskLimits {
            max_notional_per_market: 1_000.into(),
            max_notional_total: 1_000.into(),
            ..RiskLimits::default()
        };
        let engine = Engine::new(
            EngineConfig::default(),
            limits,
            reg,
            vec![slot],
            latch,
            1,
            16,
        )
        .unwrap();
        let core = EngineCore::new(engine);
        let mut c = core.borrow_mut();
        c.journal = Some(jh.clone());
        let venue = VenueId(0);
        let mut ready = Vec::new();
        c.handle(
            Event::Connection {
                venue,
                state: ConnectionState::Ready,
            },
            None,
            &mut ready,
        );
        let px = Decimal::from(100);
        c.handle(
            Event::AssetCtx {
                market: m,
                oracle: px,
                mark: px,
                mid: None,
                funding: Decimal::ZERO,
            },
            Some(venue),
            &mut ready,
        );
        script
            .lock()
            .unwrap()
            .next
            .push_back(Intent::Place(PlaceIntent::new(
                MarketIdx(0),
                Side::Buy,
                px,
                Decimal::ONE,
                Tif::Ioc,
            )));
        let level = Level {
            px,
            sz: Decimal::TEN,
        };
        c.handle(
            Event::Bbo {
                market: m,
                bid: Some(level),
                ask: Some(level),
            },
            Some(venue),
            &mut ready,
        );
        assert_eq!(ready.len(), 1, "the order's batch is handed back inline");
        assert!(jh.flush(Duration::from_secs(10)));
        assert_eq!(count(&path, "orders"), 0, "nothing journaled before settle");
        c.settle();
        assert!(jh.flush(Duration::from_secs(10)));
        assert_eq!(count(&path, "orders"), 1, "journaled after settle");
        // Every state change is journaled: queued, sent, then the venue's answer.
        let cloid = ready[0].orders[0].cloid;
        c.handle(
            Event::PostResult {
                cloid,
                outcome: crate::engine::events::PostOutcome::Rejected(
                    crate::engine::reject::RejectReason::IocNoMatch,
                ),
            },
            Some(venue),
            &mut ready,
        );
        c.settle();
        assert!(jh.flush(Duration::from_secs(10)));
        let conn = rusqlite::Connection::open(&path).unwrap();
        assert_eq!(
            crate::journal::order_event_states(&conn),
            ["queued", "sent", "rejected"]
        );
        let state: String = conn
            .query_row("SELECT state FROM orders", [], |r| r.get(0))
            .unwrap();
        assert_eq!(state, "rejected");
        // From the runtime's own loop (no client to settle): journaled at once.
        c.handle(Event::Operator(OperatorCommand::HardStop), None, &mut ready);
        assert!(jh.flush(Duration::from_secs(10)));
        assert_eq!(count(&path, "hardstop"), 1, "journaled without settle");
        c.journal = None;
        drop(c);
        jh.send(crate::journal::writer::Record::EndRun);
        drop(jh);
        writer.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
