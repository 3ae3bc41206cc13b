//! `EngineCore`: the engine and what the runtime keeps beside it (the metrics room, the journal
//! hand-off, the venue tasks' wake-ups), shared by the tasks of one thread through an
//! `Rc<RefCell<…>>` that is never borrowed across an await.

use super::journaling;
use super::link::VenueSignal;
use crate::engine::Engine;
use crate::engine::events::{EngineNote, Event};
use crate::engine::scheduler::ActionBatch;
use crate::engine::types::VenueId;
use crate::metrics::Metrics;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

pub struct EngineCore {
    pub engine: Engine,
    /// Everything counted during the run; the summary is a view of it.
    pub metrics: Metrics,
    /// Each venue task's wake-up, by `VenueId` (None: no task for that venue).
    signals: Vec<Option<Rc<VenueSignal>>>,
    started: Instant,
    /// Engine time when the core was made: where the previous run's clock stopped
    /// (`Journal::engine_time_ns`), 0 for a first run.
    resumed_ns: u64,
    /// Where notes are journaled (None: no journal).
    pub journal: Option<crate::journal::writer::JournalHandle>,
    /// Notes taken from the engine, reused between events (no allocation per event).
    notes: Vec<EngineNote>,
    /// `LiveReconciled` events handled, per venue (the end of a run waits for its last ones).
    live_reconciles: Vec<u64>,
    /// Journal work of events handled inline, sent once the venue task has written its posts.
    deferred: Vec<journaling::Deferred>,
    /// Entry and exit decisions to log, once the venue task has written its posts (a log line
    /// is a write to stderr: never between a tick and its order).
    decisions: Vec<Decision>,
    /// Each strategy's params hash (by `StrategyId`) when its state is journaled after its
    /// fills (None: not, e.g. no journal).
    pub state_hashes: Option<Vec<String>>,
    /// Strategies whose market had a fill since the last settle: their state is journaled then,
    /// so a kill -9 loses no state a fill changed.
    snap_due: Vec<crate::engine::types::StrategyId>,
}

/// A trading decision to log at `settle`.
#[derive(Debug, Clone, Copy)]
enum Decision {
    Entry(crate::engine::types::Cloid),
    Exit(crate::engine::types::Cloid, plugin_api::FlattenReason),
}

impl EngineCore {
    pub fn new(engine: Engine) -> Rc<RefCell<EngineCore>> {
        Self::resumed(engine, 0)
    }

    /// A core whose engine clock starts at `resumed_ns` (a restart: see `Journal::engine_time_ns`).
    pub fn resumed(engine: Engine, resumed_ns: u64) -> Rc<RefCell<EngineCore>> {
        Rc::new(RefCell::new(EngineCore {
            metrics: Metrics::new(),
            engine,
            signals: Vec::new(),
            started: Instant::now(),
            resumed_ns,
            journal: None,
            notes: Vec::new(),
            live_reconciles: Vec::new(),
            deferred: Vec::new(),
            decisions: Vec::new(),
            state_hashes: None,
            snap_due: Vec::new(),
        }))
    }

    /// Engine time: ns since the core was made, plus where a previous run's clock stopped (never 0).
    pub fn now(&self) -> u64 {
        self.resumed_ns + self.started.elapsed().as_nanos() as u64 + 1
    }

    /// The wake-up of `venue`'s task, made on first ask.
    pub fn signal(&mut self, venue: VenueId) -> Rc<VenueSignal> {
        let i = venue.0 as usize;
        if self.signals.len() <= i {
            self.signals.resize(i + 1, None);
        }
        self.signals[i]
            .get_or_insert_with(|| Rc::new(VenueSignal::default()))
            .clone()
    }

    /// Every venue task: reconcile now (the operator asked, or the run is ending).
    pub fn reconcile_all(&self) {
        for s in self.signals.iter().flatten() {
            s.reconcile_now();
        }
    }

    /// Live reconciles applied so far, per venue (`VenueId` index).
    pub fn live_reconciles(&self) -> &[u64] {
        &self.live_reconciles
    }

    /// Every venue task: stop.
    pub fn shutdown_venues(&self) {
        for s in self.signals.iter().flatten() {
            s.shutdown();
        }
    }

    /// Handles one event. `from` is the venue whose task delivered it (None: the runtime's own
    /// loop). That task takes its own batches right after; every other venue with work is woken.
    /// Notes are counted at once; their journal records wait for `settle` when a venue task
    /// delivered the event (it settles once its posts are written: the order leaves before the
    /// journal writer is woken) and are sent at once otherwise.
    pub fn handle(&mut self, ev: Event, from: Option<VenueId>) {
        let now = self.now();
        if let Event::LiveReconciled { venue, .. } = &ev {
            let i = venue.0 as usize;
            if self.live_reconciles.len() <= i {
                self.live_reconciles.resize(i + 1, 0);
            }
            self.live_reconciles[i] += 1;
        }
        crate::stagetime::mark(crate::stagetime::Stage::EngineIn);
        self.engine.handle(ev, now);
        crate::stagetime::mark(crate::stagetime::Stage::EngineOut);
        self.wake_others(from);
        self.absorb_notes();
        if from.is_none() {
            self.settle();
        }
    }

    /// The next batch for `venue` (asked by its own task).
    pub fn next_batch_for(&mut self, venue: VenueId) -> Option<ActionBatch> {
        let now = self.now();
        let batch = self.engine.next_batch_for(venue, now);
        // Handing a batch out can purge orders (a latched HardStop) and run callbacks, which
        // may queue work for other venues.
        self.wake_others(Some(venue));
        self.absorb_notes();
        batch
    }

    fn wake_others(&self, from: Option<VenueId>) {
        for (i, s) in self.signals.iter().enumerate() {
            let v = VenueId(i as u16);
            if Some(v) != from
                && let Some(s) = s
                && self.engine.has_work_for(v)
            {
                s.work();
            }
        }
    }

    fn absorb_notes(&mut self) {
        self.notes.extend(self.engine.drain_notes());
        for n in self.notes.drain(..) {
            self.metrics.note(&self.engine, &n);
            if let EngineNote::Fill {
                replayed: false, ..
            } = n
            {
                crate::crash::point("after_fill");
            }
            if let EngineNote::Fill {
                fill,
                replayed: false,
                ..
            } = &n
                && self.state_hashes.is_some()
            {
                for sid in self.engine.strategies_on(fill.market) {
                    if !self.snap_due.contains(&sid) {
                        self.snap_due.push(sid);
                    }
                }
            }
            match &n {
                EngineNote::Order(o)
                    if o.state == crate::engine::orders::OrderState::Queued
                        && !o.reduce_only
                        && o.owner.is_some() =>
                {
                    self.decisions.push(Decision::Entry(o.cloid))
                }
                EngineNote::Flatten { cloid, reason, .. } => {
                    self.decisions.push(Decision::Exit(*cloid, *reason))
                }
                _ => {}
            }
            if let EngineNote::HardStopTriggered(r) = &n {
                println!("HARD STOP: {r}");
            }
            if let EngineNote::ReconcileRequest { venue } = &n
                && let Some(Some(s)) = self.signals.get(venue.0 as usize)
            {
                s.reconcile();
            }
            if self.journal.is_some() {
                journaling::defer(&self.engine, n, &mut self.deferred);
            }
        }
    }

    /// A Prometheus sample of the metrics room and the engine (once a second, `[metrics]`).
    pub fn sample(
        &mut self,
        run: i64,
        lag: &mut crate::metrics::prom::LagWatch,
    ) -> crate::metrics::prom::Sample {
        let now = self.now();
        let journal = self.journal.as_ref().map(|j| {
            let p = j.progress();
            (p, lag.lag(p, now))
        });
        crate::metrics::prom::Sample::take(&self.metrics, &self.engine, now, run, journal)
    }

    /// Sends the journal work held back since the last call to the writer thread, and logs the
    /// decisions taken since.
    pub fn settle(&mut self) {
        for d in self.decisions.drain(..) {
            log_decision(&self.engine, d);
        }
        if !self.snap_due.is_empty()
            && let (Some(j), Some(hashes)) = (&self.journal, &self.state_hashes)
        {
            let now = self.now();
            for sid in self.snap_due.drain(..) {
                journaling::snapshot_state(&self.engine, sid, &hashes[sid.index()], now, j);
            }
        }
        if let Some(j) = &self.journal {
            journaling::send_deferred(&self.engine, &mut self.deferred, j);
        }
    }
}

fn log_decision(engine: &Engine, d: Decision) {
    use crate::runtime::summary::dec;
    let cloid = match d {
        Decision::Entry(c) | Decision::Exit(c, _) => c,
    };
    let Some(o) = engine.orders().get(cloid) else {
        return;
    };
    let market = engine.registry().key(o.market);
    let strategy = o
        .owner
        .map_or("(host)", |s| engine.strategy_slot(s).name.as_str());
    let side = match o.side {
        crate::engine::types::Side::Buy => "buy",
        crate::engine::types::Side::Sell => "sell",
    };
    match d {
        Decision::Entry(_) => tracing::info!(
            %market,
            %strategy,
            %side,
            px = %dec(o.px, 8),
            sz = %dec(o.sz, 8),
            tif = ?o.tif,
            "entry"
        ),
        Decision::Exit(_, reason) => tracing::info!(
            %market,
            %strategy,
            reason = %reason.kind.name(),
            edge_bps = %reason.edge().map_or("-".into(), |e| dec(e, 2)),
            held_ms = reason.held_ms,
            %side,
            px = %dec(o.px, 8),
            sz = %dec(o.sz, 8),
            "exit"
        ),
    }
}
