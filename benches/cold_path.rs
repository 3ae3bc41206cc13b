//! The tick-to-order path with cold caches, without sockets: what the host's own work costs when
//! the thread comes back from sleep and finds its lines evicted, measured without the VM's
//! wake-up and loopback noise that swamps it in `tick_to_order`.
//!
//! Run: `cargo bench --bench cold_path` (figures go in docs/BENCHMARKS.md).
//!
//! Before each cold sample the bench writes one byte in every cache line of a buffer, then
//! times the path stage by stage. Two sizes by default (`COLD_PATH_EVICT_MIB`, comma-separated;
//! 0 = no eviction, for a profiler): 8 MiB (L1 and L2 gone, L3 partly: about what the
//! tick-to-order stage timings show after a wake-up on this VM) and 64 MiB (twice the L3 and
//! 16,384 pages: every line from DRAM and every page through a page walk, the worst case).
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

#[path = "common/latency.rs"]
mod latency;

use rust_decimal::Decimal;
use std::hint::black_box;
use std::time::Instant;
use strategy_host::engine::events::{ConnectionState, Event, PostOutcome};
use strategy_host::engine::reject::RejectReason;
use strategy_host::engine::scheduler::ActionBatch;
use strategy_host::engine::types::{Level, MarketId, VenueId};
use strategy_host::runtime::EngineCore;
use strategy_host::venue::hyperliquid::actions::{
    Action, Grouping, OrderWire, post_frame, sign_action,
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

/// Signs `action` (testnet, no vault, no expiry) and frames it as post `id`: the frame, and when
/// signing ended.
fn sign_and_frame(
    key: &PrivateKey,
    nonces: &NonceManager,
    buf: &mut Vec<u8>,
    action: &Action,
    id: u64,
) -> (String, Instant) {
    let signed = sign_action(key, action, nonces.next(wall_ms()), None, None, false, buf).unwrap();
    let signed_at = Instant::now();
    (post_frame(id, &signed).unwrap(), signed_at)
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
        let (engine, latch) = latency::dislocation_engine();
        let core = EngineCore::new(engine);
        let mut ready = Vec::new();
        {
            let mut c = core.borrow_mut();
            let connected = |state| Event::Connection {
                venue: VENUE,
                state,
            };
            c.handle(connected(ConnectionState::Connected), Some(VENUE));
            ready.extend(c.next_batch_for(VENUE));
            c.handle(
                Event::Reconciled {
                    venue: VENUE,
                    as_of_ms: 1,
                    positions: vec![],
                    open_orders: vec![],
                },
                Some(VENUE),
            );
            ready.extend(c.next_batch_for(VENUE));
            c.handle(connected(ConnectionState::Ready), Some(VENUE));
            ready.extend(c.next_batch_for(VENUE));
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
            );
            ready.extend(c.next_batch_for(VENUE));
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

    /// One dislocation frame to its post frame; the stage times (ns) go to `t`. The batch comes
    /// back for `answer`.
    fn sample(&mut self, text: &str, t: &mut [u64; 5]) -> (String, ActionBatch) {
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
        {
            let mut c = self.core.borrow_mut();
            c.handle(ev, Some(VENUE));
            self.ready.extend(c.next_batch_for(VENUE));
        }
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
        self.sent += 1;
        let (post, t4) = sign_and_frame(
            &self.key,
            &self.nonces,
            &mut self.buf,
            &action,
            self.sent as u64,
        );
        let t5 = Instant::now();
        let stamps = [t0, t1, t2, t3, t4, t5];
        for (i, slot) in t.iter_mut().enumerate() {
            *slot = stamps[i + 1].duration_since(stamps[i]).as_nanos() as u64;
        }
        (post, batch)
    }

    /// The venue's answer, outside the timing: no match, so the next frame trades again.
    fn answer(&mut self, batch: ActionBatch) {
        let mut c = self.core.borrow_mut();
        for o in &batch.orders {
            c.handle(
                Event::PostResult {
                    cloid: o.cloid,
                    outcome: PostOutcome::Rejected(RejectReason::IocNoMatch),
                },
                Some(VENUE),
            );
            self.ready.extend(c.next_batch_for(VENUE));
        }
        c.settle();
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
            action: latency::baseline_order(),
            sent: 0,
        }
    }

    /// Sign and frame the pre-built order; stage times (ns) of sign and post frame.
    fn sample(&mut self, t: &mut [u64; 2]) -> String {
        let t0 = Instant::now();
        self.sent += 1;
        let (post, t1) = sign_and_frame(
            &self.key,
            &self.nonces,
            &mut self.buf,
            &self.action,
            self.sent,
        );
        let t2 = Instant::now();
        t[0] = t1.duration_since(t0).as_nanos() as u64;
        t[1] = t2.duration_since(t1).as_nanos() as u64;
        post
    }
}

/// One measurement at one eviction size: per temperature (cold, warm), the host's and the
/// baseline's stage times of each sample.
type Rows = ([Vec<[u64; 5]>; 2], [Vec<[u64; 2]>; 2]);

fn measure(host: &mut Host, base: &mut Baseline, mib: usize, n: usize, warmup: usize) -> Rows {
    let mut ev = Evictor::new(mib);
    let frames = [frame(0), frame(1)];
    let mut rows: Rows = Default::default();
    // mib = 0 (COLD_PATH_EVICT_MIB=0): no evictions, for a profiler (the eviction would fill it).
    for i in 0..warmup + n {
        let mut h = [0u64; 5];
        let mut b = [0u64; 2];
        // Cold then warm (the same work again at once), host then baseline.
        for (temp, cold) in [(0, true), (1, false)] {
            if cold && mib > 0 {
                ev.evict();
            }
            let (post, batch) = host.sample(&frames[i % 2], &mut h);
            black_box(post);
            host.answer(batch);
            if i >= warmup {
                rows.0[temp].push(h);
            }
        }
        for (temp, cold) in [(0, true), (1, false)] {
            if cold && mib > 0 {
                ev.evict();
            }
            black_box(base.sample(&mut b));
            if i >= warmup {
                rows.1[temp].push(b);
            }
        }
    }
    rows
}

fn col<const N: usize>(rows: &[[u64; N]], f: impl Fn(&[u64; N]) -> u64) -> Vec<f64> {
    let mut v: Vec<f64> = rows.iter().map(|r| f(r) as f64 / 1000.0).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn main() {
    let n: usize = std::env::var("COLD_PATH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let sizes: Vec<usize> = std::env::var("COLD_PATH_EVICT_MIB")
        .unwrap_or_else(|_| "8,64".into())
        .split(',')
        .map(|m| {
            m.trim()
                .parse()
                .expect("COLD_PATH_EVICT_MIB: sizes in MiB, comma-separated")
        })
        .collect();
    let warmup = 200;
    let mut host = Host::new();
    let mut base = Baseline::new();
    println!("machine: {}", machine());
    println!("samples: {n} per variant, size and temperature (after {warmup} warm-up iterations)");
    for mib in sizes {
        let (host_rows, base_rows) = measure(&mut host, &mut base, mib, n, warmup);
        for (temp, name) in [
            (0, format!("cold ({mib} MiB written before each sample)")),
            (1, "warm (the same work again at once)".to_string()),
        ] {
            let (h, b) = (&host_rows[temp], &base_rows[temp]);
            println!("\n{name}: median us per stage");
            println!("  {:<18} {:>9} {:>9}", "stage", "host", "baseline");
            for (s, stage) in STAGES.iter().enumerate() {
                let base_cell = if s >= 3 {
                    format!("{:>9.2}", quantile(&col(b, |r| r[s - 3]), 0.5))
                } else {
                    format!("{:>9}", "-")
                };
                let host_cell = quantile(&col(h, |r| r[s]), 0.5);
                println!("  {stage:<18} {host_cell:>9.2} {base_cell}");
            }
            let (h50, b50) = (
                quantile(&col(h, |r| r.iter().sum()), 0.5),
                quantile(&col(b, |r| r.iter().sum()), 0.5),
            );
            let before = col(h, |r| r[..3].iter().sum());
            println!(
                "  {:<18} {h50:>9.2} {b50:>9.2}   host - baseline {:+.2} us; host's work before signing {:.2} us (p90 {:.2})",
                "total",
                h50 - b50,
                quantile(&before, 0.5),
                quantile(&before, 0.9)
            );
        }
    }
}
