//! The tick-to-order path with cold caches, without sockets: what the host's own work costs when
//! the thread comes back from sleep and finds its lines evicted, measured without the VM's
//! wake-up and loopback noise that swamps it in `tick_to_order`.
//!
//! Run: `cargo bench --bench cold_path` (figures go in docs/BENCHMARKS.md).
//!
//! Before each cold sample the bench writes one byte in every cache line of a 64 MiB buffer
//! (twice this machine's L3, and 16,384 pages: the TLBs too), then times, stage by stage:
//!
//! - host: the bbo frame parsed (`WsMessage::parse`), the engine (`EngineCore::handle`: market
//!   state, the real `dislocation-entry` .so, gates, scheduler, the batch and its notes), the
//!   order's wire form (pre-send guard, `tick::order_wire`, the action), signing
//!   (`sign_action`: msgpack, Keccak, ECDSA) and the post frame: the venue client's path for one
//!   dislocation, minus the socket.
//! - baseline: signing and framing a pre-built order of the same shape, as `tick_to_order`'s
//!   baseline does.
//!
//! Each iteration runs one host and one baseline sample, cold (after an eviction) and warm
//! (right after the same work), so all four share the machine's state over the same seconds.
//! The host's "extra" is its total minus the baseline's, by median. Between samples, outside
//! the timing, the order is answered "no match" as the venue would, so the next frame trades.

#[path = "common/dislocation.rs"]
mod dislocation;

use rust_decimal::Decimal;
use std::hint::black_box;
use std::time::Instant;
use strategy_host::engine::events::{ConnectionState, Event, PostOutcome};
use strategy_host::engine::reject::RejectReason;
use strategy_host::engine::scheduler::ActionBatch;
use strategy_host::engine::types::{Level, MarketId, VenueId};
use strategy_host::runtime::EngineCore;
use strategy_host::venue::hyperliquid::actions::{
    Action, Grouping, OrderTypeWire, OrderWire, TifWire, WireStr, post_frame, sign_action,
};
use strategy_host::venue::hyperliquid::signing::{NonceManager, PrivateKey};
use strategy_host::venue::hyperliquid::tick::{AssetSpec, order_wire};
use strategy_host::venue::hyperliquid::wire::WsMessage;
use strategy_host_e2e::bench::{machine, quantile};

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";
const VENUE: VenueId = VenueId(0);
const SPEC: AssetSpec = AssetSpec {
    asset: 0,
    sz_decimals: 3,
    is_spot: false,
};
/// Stage names of one host sample (the baseline has the last two).
const STAGES: [&str; 5] = ["parse", "engine", "order wire form", "sign", "post frame"];

fn frame(k: usize) -> String {
    // A dislocation: the ask 50 bps under the oracle (100), alternating so every frame moves.
    let ask = if k % 2 == 0 { "99.5" } else { "99.49" };
    format!(
        r#"{{"channel":"bbo","data":{{"coin":"BTC","time":{k},"bbo":[{{"px":"99.4","sz":"10","n":1}},{{"px":"{ask}","sz":"10","n":1}}]}}}}"#
    )
}

/// Evicts this core's caches and TLB entries: a write to every line of a buffer twice the L3.
struct Evictor(Vec<u8>);

impl Evictor {
    fn new(mib: usize) -> Evictor {
        Evictor(vec![1u8; mib << 20])
    }
    fn evict(&mut self) {
        for i in (0..self.0.len()).step_by(64) {
            self.0[i] = self.0[i].wrapping_add(1);
        }
        black_box(&mut self.0);
    }
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

struct Host {
    core: std::rc::Rc<std::cell::RefCell<EngineCore>>,
    latch: std::sync::Arc<strategy_host::engine::hardstop::HardStopLatch>,
    ready: Vec<ActionBatch>,
    key: PrivateKey,
    nonces: NonceManager,
    buf: Vec<u8>,
    sent: usize,
}

impl Host {
    fn new() -> Host {
        let (engine, latch) = dislocation::dislocation_engine();
        let core = EngineCore::new(engine);
        let mut ready = Vec::new();
        {
            let mut c = core.borrow_mut();
            let connected = |state| Event::Connection {
                venue: VENUE,
                state,
            };
            c.handle(connected(ConnectionState::Connected), Some(VENUE), &mut ready);
            c.handle(
                Event::Reconciled {
                    venue: VENUE,
                    as_of_ms: 1,
                    positions: &[],
                    open_orders: &[],
                },
                Some(VENUE),
                &mut ready,
            );
            c.handle(connected(ConnectionState::Ready), Some(VENUE), &mut ready);
            let hundred = Decimal::from(100);
            c.handle(
                Event::AssetCtx {
                    market: MarketId(0),
                    oracle: hundred,
                    mark: hundred,
                    mid: Some(hundred),
                    funding: Decimal::ZERO,
                },
                Some(VENUE),
                &mut ready,
            );
        }
        assert!(ready.is_empty(), "no order before the first dislocation");
        Host {
            core,
            latch,
            ready,
            key: PrivateKey::from_hex(KEY).unwrap(),
            nonces: NonceManager::new(),
            buf: Vec::with_capacity(256),
            sent: 0,
        }
    }

    /// One dislocation frame to its post frame; the stage times (ns) go to `t`.
    fn sample(&mut self, text: &str, t: &mut [u64; 5]) -> String {
        let t0 = Instant::now();
        let Ok(WsMessage::Bbo(b)) = WsMessage::parse(text) else {
            panic!("not a bbo frame");
        };
        let level = |l: Option<strategy_host::venue::hyperliquid::wire::WsLevel>| {
            l.map(|l| Level { px: l.px, sz: l.sz })
        };
        let ev = Event::Bbo {
            market: MarketId(0),
            bid: level(b.bbo[0]),
            ask: level(b.bbo[1]),
        };
        let t1 = Instant::now();
        self.core
            .borrow_mut()
            .handle(ev, Some(VENUE), &mut self.ready);
        let t2 = Instant::now();
        let mut batch = self.ready.pop().expect("the dislocation makes an order");
        assert!(self.ready.is_empty() && batch.enforce_hard_stop(&self.latch).is_empty());
        let orders: Vec<OrderWire> = batch
            .orders
            .iter()
            .map(|o| order_wire(o, &SPEC).expect("a valid order"))
            .collect();
        let action = Action::Order {
            orders,
            grouping: Grouping::Na,
            builder: None,
        };
        let t3 = Instant::now();
        let signed = sign_action(
            &self.key,
            &action,
            self.nonces.next(wall_ms()),
            None,
            None,
            false,
            &mut self.buf,
        )
        .unwrap();
        let t4 = Instant::now();
        self.sent += 1;
        let post = post_frame(self.sent as u64, &signed).unwrap();
        let t5 = Instant::now();
        let stamps = [t0, t1, t2, t3, t4, t5];
        for (i, slot) in t.iter_mut().enumerate() {
            *slot = stamps[i + 1].duration_since(stamps[i]).as_nanos() as u64;
        }
        // The venue's answer, outside the timing: no match, so the next frame trades again.
        let mut c = self.core.borrow_mut();
        for o in &batch.orders {
            c.handle(
                Event::PostResult {
                    cloid: o.cloid,
                    outcome: PostOutcome::Rejected(RejectReason::IocNoMatch),
                },
                Some(VENUE),
                &mut self.ready,
            );
        }
        c.settle();
        post
    }
}

struct Baseline {
    key: PrivateKey,
    nonces: NonceManager,
    buf: Vec<u8>,
    action: Action,
    sent: u64,
}

impl Baseline {
    fn new() -> Baseline {
        Baseline {
            key: PrivateKey::from_hex(KEY).unwrap(),
            nonces: NonceManager::new(),
            buf: Vec::with_capacity(256),
            action: Action::Order {
                orders: vec![OrderWire {
                    a: 0,
                    b: true,
                    p: WireStr::new("99.5").unwrap(),
                    s: WireStr::new("1.005").unwrap(),
                    r: false,
                    t: OrderTypeWire::Limit { tif: TifWire::Ioc },
                    c: Some(WireStr::new("0x0000000000000000000000000000002a").unwrap()),
                }],
                grouping: Grouping::Na,
                builder: None,
            },
            sent: 0,
        }
    }

    /// Sign and frame the pre-built order; stage times (ns) of sign and post frame.
    fn sample(&mut self, t: &mut [u64; 2]) -> String {
        let t0 = Instant::now();
        let signed = sign_action(
            &self.key,
            &self.action,
            self.nonces.next(wall_ms()),
            None,
            None,
            false,
            &mut self.buf,
        )
        .unwrap();
        let t1 = Instant::now();
        self.sent += 1;
        let post = post_frame(self.sent, &signed).unwrap();
        let t2 = Instant::now();
        t[0] = t1.duration_since(t0).as_nanos() as u64;
        t[1] = t2.duration_since(t1).as_nanos() as u64;
        post
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    quantile(v, 0.5)
}

fn main() {
    let n: usize = std::env::var("COLD_PATH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let mut host = Host::new();
    let mut base = Baseline::new();
    let mib: usize = std::env::var("COLD_PATH_EVICT_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut ev = Evictor::new(mib);
    let frames = [frame(0), frame(1)];
    // Per variant and temperature: one row of stage times per sample.
    let mut host_rows: [Vec<[u64; 5]>; 2] = [Vec::new(), Vec::new()];
    let mut base_rows: [Vec<[u64; 2]>; 2] = [Vec::new(), Vec::new()];
    // COLD_PATH_WARM_ONLY=1: no evictions (for a profiler: the eviction loop would fill it).
    let evicting = std::env::var("COLD_PATH_WARM_ONLY").is_err();
    let warmup = 200;
    for i in 0..warmup + n {
        let mut h = [0u64; 5];
        let mut b = [0u64; 2];
        // Cold then warm (the same work again at once), host then baseline.
        for (temp, cold) in [(0, true), (1, false)] {
            if cold && evicting {
                ev.evict();
            }
            black_box(host.sample(&frames[i % 2], &mut h));
            if i >= warmup {
                host_rows[temp].push(h);
            }
        }
        for (temp, cold) in [(0, true), (1, false)] {
            if cold && evicting {
                ev.evict();
            }
            black_box(base.sample(&mut b));
            if i >= warmup {
                base_rows[temp].push(b);
            }
        }
    }
    println!("machine: {}", machine());
    println!("samples: {n} per variant and temperature (after {warmup} warm-up iterations)");
    for (temp, name) in [
        (0, format!("cold ({mib} MiB written before each sample)")),
        (1, "warm (the same work again at once)".to_string()),
    ] {
        println!("\n{name}: median us per stage");
        let col = |rows: &[[u64; 5]], s: usize| -> f64 {
            let mut v: Vec<f64> = rows.iter().map(|r| r[s] as f64 / 1000.0).collect();
            median(&mut v)
        };
        let bcol = |rows: &[[u64; 2]], s: usize| -> f64 {
            let mut v: Vec<f64> = rows.iter().map(|r| r[s] as f64 / 1000.0).collect();
            median(&mut v)
        };
        println!("  {:<18} {:>9} {:>9}", "stage", "host", "baseline");
        for (s, stage) in STAGES.iter().enumerate() {
            let b = if s >= 3 {
                format!("{:>9.2}", bcol(&base_rows[temp], s - 3))
            } else {
                format!("{:>9}", "-")
            };
            println!("  {:<18} {:>9.2} {b}", stage, col(&host_rows[temp], s));
        }
        let mut ht: Vec<f64> = host_rows[temp]
            .iter()
            .map(|r| r.iter().sum::<u64>() as f64 / 1000.0)
            .collect();
        let mut bt: Vec<f64> = base_rows[temp]
            .iter()
            .map(|r| r.iter().sum::<u64>() as f64 / 1000.0)
            .collect();
        let mut before: Vec<f64> = host_rows[temp]
            .iter()
            .map(|r| r[..3].iter().sum::<u64>() as f64 / 1000.0)
            .collect();
        let (h50, b50) = (median(&mut ht), median(&mut bt));
        println!(
            "  {:<18} {:>9.2} {:>9.2}   host - baseline {:+.2} us; host's work before signing {:.2} us (p90 {:.2})",
            "total",
            h50,
            b50,
            h50 - b50,
            median(&mut before),
            quantile(&before, 0.9)
        );
    }
}
