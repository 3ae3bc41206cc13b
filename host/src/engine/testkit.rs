//! A harness for driving the engine in tests, property tests and benchmarks: scripted in-process
//! strategies (through the same trait object and panic guard as a loaded plugin), explicit time,
//! and helpers for venue answers. Not used by the running host.

use super::Engine;
use super::config::{EngineConfig, RiskLimits};
use super::events::{ConnectionState, Event, FillEvent, PostOutcome};
use super::hardstop::HardStopLatch;
use super::scheduler::ActionBatch;
use super::types::{Cloid, Level, MarketId, MarketKey, MarketRegistry, Side, VenueId};
use crate::plugins::StrategySlot;
use crate::plugins::timer::CallTimer;
use plugin_api::host::StrategyHandle;
use plugin_api::{
    Ctx, FillView, Intent, Intents, Logger, MarketIdx, OrderUpdateView, Refusal, Role,
    StrategyLogic,
};
use rust_decimal::Decimal;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

/// What a scripted strategy saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Market(MarketIdx),
    Timer,
    Fill(FillView),
    Update(OrderUpdateView),
    Reject(Refusal),
}

/// Shared script and log of a scripted strategy.
#[derive(Debug, Default)]
pub struct Script {
    /// Intents to emit on the next call (any callback), in order.
    pub next: VecDeque<Intent>,
    /// Intents emitted on every `on_market` call (a standing rule).
    pub every_market: Vec<Intent>,
    /// Intents emitted on every `on_timer` call.
    pub every_timer: Vec<Intent>,
    /// Panic on the next `on_market`.
    pub panic_next_market: bool,
    pub seen: Vec<Seen>,
}

pub type ScriptHandle = Arc<Mutex<Script>>;

/// A strategy that does what its script says.
pub struct Scripted(pub ScriptHandle);

impl Scripted {
    fn emit(&self, out: &mut Intents, standing: fn(&Script) -> &Vec<Intent>) {
        let mut s = self.0.lock().unwrap();
        while let Some(i) = s.next.pop_front() {
            out.push(i);
        }
        for i in standing(&s).clone() {
            out.push(i);
        }
    }
}

impl StrategyLogic for Scripted {
    fn create(_: &str, _: &[String], _: Logger) -> Result<Self, String> {
        Ok(Scripted(Arc::default()))
    }
    fn on_market(&mut self, _ctx: &Ctx<'_>, market: MarketIdx, out: &mut Intents) {
        let panic = {
            let mut s = self.0.lock().unwrap();
            s.seen.push(Seen::Market(market));
            std::mem::take(&mut s.panic_next_market)
        };
        if panic {
            panic!("scripted panic");
        }
        self.emit(out, |s| &s.every_market);
    }
    fn on_timer(&mut self, _ctx: &Ctx<'_>, out: &mut Intents) {
        self.0.lock().unwrap().seen.push(Seen::Timer);
        self.emit(out, |s| &s.every_timer);
    }
    fn on_fill(&mut self, _ctx: &Ctx<'_>, fill: &FillView, _out: &mut Intents) {
        self.0.lock().unwrap().seen.push(Seen::Fill(*fill));
    }
    fn on_order_update(&mut self, _ctx: &Ctx<'_>, u: &OrderUpdateView, _out: &mut Intents) {
        self.0.lock().unwrap().seen.push(Seen::Update(*u));
    }
    fn on_reject(&mut self, _ctx: &Ctx<'_>, r: &Refusal, _out: &mut Intents) {
        self.0.lock().unwrap().seen.push(Seen::Reject(*r));
    }
}

/// A calibrated call timer, made once per process (calibration spins ~2 ms).
pub fn shared_timer() -> CallTimer {
    static T: OnceLock<CallTimer> = OnceLock::new();
    *T.get_or_init(CallTimer::calibrate)
}

/// A strategy slot around any in-process logic.
pub fn slot<T: StrategyLogic>(name: &str, role: Role, markets: &[&str], logic: T) -> StrategySlot {
    StrategySlot::new(
        name.to_string(),
        "in-process".into(),
        "0".into(),
        role,
        markets.iter().map(|m| m.to_string()).collect(),
        StrategyHandle::in_process(logic),
        shared_timer(),
        1_000,
    )
}

/// A scripted strategy slot and its script handle.
pub fn scripted(name: &str, role: Role, markets: &[&str]) -> (StrategySlot, ScriptHandle) {
    let script = ScriptHandle::default();
    (slot(name, role, markets, Scripted(script.clone())), script)
}

pub const MS: u64 = 1_000_000;

/// An engine with markets, strategies and explicit time.
pub struct Harness {
    pub engine: Engine,
    pub now: u64,
    pub latch: Arc<HardStopLatch>,
    next_tid: u64,
    next_oid: u64,
}

impl Harness {
    pub fn new(
        cfg: EngineConfig,
        limits: RiskLimits,
        markets: &[&str],
        strategies: Vec<StrategySlot>,
    ) -> Harness {
        Self::with_capacity(cfg, limits, markets, strategies, 16)
    }

    pub fn with_capacity(
        cfg: EngineConfig,
        limits: RiskLimits,
        markets: &[&str],
        strategies: Vec<StrategySlot>,
        intent_capacity: usize,
    ) -> Harness {
        let mut reg = MarketRegistry::new();
        for m in markets {
            reg.intern(&MarketKey::parse(m).expect("market key"));
        }
        let latch = Arc::new(HardStopLatch::new());
        let engine = Engine::new(
            cfg,
            limits,
            reg,
            strategies,
            latch.clone(),
            7,
            intent_capacity,
        )
        .expect("engine");
        Harness {
            engine,
            now: MS,
            latch,
            next_tid: 1,
            next_oid: 1_000,
        }
    }

    pub fn market(&self, name: &str) -> MarketId {
        self.engine.registry().lookup(name).expect("market")
    }

    pub fn advance_ms(&mut self, ms: u64) {
        self.now += ms * MS;
    }

    pub fn handle(&mut self, e: Event) {
        self.engine.handle(e, self.now);
    }

    /// Every venue connected, subscribed and reconciled.
    pub fn all_ready(&mut self) {
        for v in 0..self.engine.registry().venue_count() {
            self.handle(Event::Connection {
                venue: VenueId(v as u16),
                state: ConnectionState::Ready,
            });
        }
    }

    /// Context then BBO for a market: oracle = mark = `oracle`, bid/ask as given (size 10).
    pub fn quote(&mut self, m: MarketId, bid: Decimal, ask: Decimal, oracle: Decimal) {
        self.handle(Event::AssetCtx {
            market: m,
            oracle,
            mark: oracle,
            mid: None,
            funding: Decimal::ZERO,
        });
        self.handle(Event::Bbo {
            market: m,
            bid: Some(Level {
                px: bid,
                sz: Decimal::TEN,
            }),
            ask: Some(Level {
                px: ask,
                sz: Decimal::TEN,
            }),
        });
    }

    /// Every batch queued now.
    pub fn batches(&mut self) -> Vec<ActionBatch> {
        let mut out = Vec::new();
        while let Some(b) = self.engine.next_batch(self.now) {
            out.push(b);
        }
        out
    }

    /// Acks an order as resting; returns its oid.
    pub fn rest(&mut self, cloid: Cloid) -> u64 {
        self.next_oid += 1;
        let oid = self.next_oid;
        self.handle(Event::PostResult {
            cloid,
            outcome: PostOutcome::Resting { oid },
        });
        oid
    }

    /// A fill of `sz` at `px` for `cloid` (side and market from the engine's order record).
    pub fn fill(&mut self, cloid: Cloid, px: Decimal, sz: Decimal) -> FillEvent {
        let o = *self.engine.orders().get(cloid).expect("order");
        self.next_tid += 1;
        let f = FillEvent {
            venue: self.engine.registry().venue_of(o.market),
            market: o.market,
            cloid: Some(cloid),
            oid: o.oid.unwrap_or(0),
            tid: self.next_tid,
            side: o.side,
            px,
            sz,
            fee: Decimal::ZERO,
            time_ms: self.now / MS,
        };
        self.handle(Event::Fill(f));
        f
    }

    /// An IOC answered as fully filled, with its fill.
    pub fn fill_ioc(&mut self, cloid: Cloid, px: Decimal) {
        let o = *self.engine.orders().get(cloid).expect("order");
        self.next_oid += 1;
        self.handle(Event::PostResult {
            cloid,
            outcome: PostOutcome::Filled {
                oid: self.next_oid,
                total_sz: o.sz,
                avg_px: px,
            },
        });
        self.fill(cloid, px, o.sz);
    }

    pub fn side_of(&self, cloid: Cloid) -> Side {
        self.engine.orders().get(cloid).expect("order").side
    }
}
