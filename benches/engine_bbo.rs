//! Engine cost of one BBO event with three strategies subscribed to the market (real `.so`
//! plugins), next to the JSON parse cost of the same frame measured in the same run.
//!
//! Run: `cargo bench --bench engine_bbo` (figures go in docs/BENCHMARKS.md).
//!
//! - "engine": `Engine::handle(Event::Bbo)`: market state, EdgeTracker, snapshot to each
//!   subscriber, three guarded plugin calls (timed against the budget), intent processing.
//!   The plugins are `fx-echo` with `place_on_market = false`: they count the call and return,
//!   so what is measured is the engine and the ABI, not a strategy's own arithmetic.
//! - "engine + edge math": the same with the plugins computing the oracle dislocation (two
//!   Decimal divisions each), for reference.
//! - "parse": serde_json of the same bbo frame into borrowed `&str` fields (the reference A1
//!   baseline) and into Decimal prices.
//!
//! p50 is the median of batch means (1,000 events per batch); p99 / p99.9 / max come from
//! per-event TSC timestamps with the timer's own overhead subtracted.

use rust_decimal::Decimal;
use serde::Deserialize;
use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;
use strategy_host::engine::Engine;
use strategy_host::engine::config::{EngineConfig, RiskLimits};
use strategy_host::engine::events::{ConnectionState, Event};
use strategy_host::engine::hardstop::HardStopLatch;
use strategy_host::engine::types::{Level, MarketKey, MarketRegistry, VenueId};
use strategy_host::plugins::loader::{StrategySpec, create_strategy, load_library};
use strategy_host::plugins::timer::CallTimer;
use strategy_host_e2e::bench::{CountingAlloc, allocations, machine, quantile, summary};
use strategy_host_e2e::plugin_path;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const FRAME: &str = r#"{"channel":"bbo","data":{"coin":"BTC","time":1766566375292,"bbo":[{"px":"64412.5","sz":"1.2345","n":3},{"px":"64413.0","sz":"0.5","n":1}]}}"#;

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawLevel<'a> {
    px: &'a str,
    sz: &'a str,
    n: u32,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawBbo<'a> {
    #[serde(borrow)]
    coin: &'a str,
    time: u64,
    #[serde(borrow)]
    bbo: [Option<RawLevel<'a>>; 2],
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct RawFrame<'a> {
    channel: &'a str,
    #[serde(borrow)]
    data: RawBbo<'a>,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct DecLevel {
    px: Decimal,
    sz: Decimal,
    n: u32,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct DecBbo<'a> {
    coin: &'a str,
    time: u64,
    bbo: [Option<DecLevel>; 2],
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct DecFrame<'a> {
    channel: &'a str,
    #[serde(borrow)]
    data: DecBbo<'a>,
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn engine(params: &str, timer: CallTimer, call_budget_us: u64) -> Engine {
    let path = plugin_path("fx-echo");
    let lib = load_library("fx-echo", &path).expect("load fx-echo");
    let slots = (0..3)
        .map(|i| {
            let name = format!("s{i}");
            let spec = StrategySpec {
                plugin_spec: "fx-echo",
                name: &name,
                markets: vec!["sim/BTC".into()],
                params_toml: params,
                params_origin: "bench",
                call_budget_us,
            };
            create_strategy(&lib, spec, timer).expect("create")
        })
        .collect();
    let mut reg = MarketRegistry::new();
    reg.intern(&MarketKey::parse("sim/BTC").unwrap());
    let latch = Arc::new(HardStopLatch::new());
    let mut e = Engine::new(
        EngineConfig::default(),
        RiskLimits::default(),
        reg,
        slots,
        latch,
        1,
        16,
    )
    .expect("engine");
    e.handle(
        Event::Connection {
            venue: VenueId(0),
            state: ConnectionState::Ready,
        },
        1,
    );
    e
}

struct Result {
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
    allocs: f64,
}

/// Runs BBO events through `e`, returning timings and allocations per event.
fn measure(e: &mut Engine, timer: CallTimer, overhead_ticks: u64) -> Result {
    let m = e.registry().lookup("sim/BTC").unwrap();
    let bids: Vec<Decimal> = (0..8).map(|i| d("64412.5") - Decimal::from(i)).collect();
    let ask = Level {
        px: d("64413.0"),
        sz: d("0.5"),
    };
    let bid_sz = d("1.2345");
    let mut now: u64 = 1_000_000;
    let ctx = |e: &mut Engine, now: u64| {
        e.handle(
            Event::AssetCtx {
                market: m,
                oracle: d("64420"),
                mark: d("64412"),
                mid: None,
                funding: Decimal::ZERO,
            },
            now,
        )
    };
    ctx(e, now);
    let event = |e: &mut Engine, i: usize, now: u64| {
        let bid = Level {
            px: bids[i % bids.len()],
            sz: bid_sz,
        };
        e.handle(
            black_box(Event::Bbo {
                market: m,
                bid: Some(bid),
                ask: Some(ask),
            }),
            now,
        );
    };
    for i in 0..100_000 {
        now += 1_000;
        event(e, i, now);
        if i % 1000 == 0 {
            ctx(e, now);
        }
    }
    // p50 from batch means.
    let (batches, batch) = (2_000, 1_000);
    let mut means = Vec::with_capacity(batches);
    let a0 = allocations();
    for b in 0..batches {
        ctx(e, now);
        let t = Instant::now();
        for i in 0..batch {
            now += 1_000;
            event(e, b * batch + i, now);
        }
        means.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    let allocs = (allocations() - a0) as f64 / (batches * batch) as f64;
    let (p50, _, _) = summary(&mut means);
    // Tails from per-event timestamps.
    let n = 300_000;
    let mut each = Vec::with_capacity(n);
    for i in 0..n {
        if i % 1000 == 0 {
            ctx(e, now);
        }
        now += 1_000;
        let t0 = timer.now();
        event(e, i, now);
        let ticks = timer
            .now()
            .saturating_sub(t0)
            .saturating_sub(overhead_ticks);
        each.push(timer.ticks_to_ns(ticks) as f64);
    }
    each.sort_by(|a, b| a.total_cmp(b));
    Result {
        p50,
        p99: quantile(&each, 0.99),
        p999: quantile(&each, 0.999),
        max: *each.last().unwrap(),
        allocs,
    }
}

fn parse_cost() -> (f64, f64) {
    let rounds = 2_000;
    let batch = 1_000;
    let mut borrowed = Vec::with_capacity(rounds);
    let mut decimal = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..batch {
            let f: RawFrame<'_> = serde_json::from_str(black_box(FRAME)).unwrap();
            black_box(&f);
        }
        borrowed.push(t.elapsed().as_nanos() as f64 / batch as f64);
        let t = Instant::now();
        for _ in 0..batch {
            let f: DecFrame<'_> = serde_json::from_str(black_box(FRAME)).unwrap();
            black_box(&f);
        }
        decimal.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    (summary(&mut borrowed).0, summary(&mut decimal).0)
}

fn main() {
    let timer = CallTimer::calibrate();
    let overhead = {
        let mut v: Vec<u64> = (0..10_000)
            .map(|_| {
                let a = timer.now();
                timer.now() - a
            })
            .collect();
        v.sort();
        v[v.len() / 2]
    };
    let mut trivial = engine("place_on_market = false\n", timer, 50);
    if std::env::var("BENCH_ONLY").as_deref() == Ok("trivial") {
        // For profiling the engine path alone (perf record).
        let r = measure(&mut trivial, timer, overhead);
        println!("engine (trivial strategies) p50 {:.1}", r.p50);
        return;
    }
    let (parse_borrowed, parse_decimal) = parse_cost();
    let r = measure(&mut trivial, timer, overhead);
    let mut untimed = engine("place_on_market = false\n", timer, 0);
    let ru = measure(&mut untimed, timer, overhead);
    let mut math = engine("place_on_market = true\nthreshold_bps = 1000\n", timer, 50);
    let rm = measure(&mut math, timer, overhead);

    println!("engine_bbo: one BBO event, 3 strategies subscribed (fx-echo .so), ns");
    println!(
        "machine: {}; TSC {} (timer overhead {} ns subtracted)",
        machine(),
        timer.uses_tsc(),
        timer.ticks_to_ns(overhead)
    );
    println!("  parse bbo frame, borrowed &str (baseline)   p50 {parse_borrowed:7.1}");
    println!("  parse bbo frame, Decimal prices              p50 {parse_decimal:7.1}");
    for (name, x) in [
        ("engine (trivial strategies)", &r),
        ("engine, call timing off", &ru),
        ("engine + edge math in strategies", &rm),
    ] {
        println!(
            "  {name:<40} p50 {:7.1}  p99 {:7.1}  p99.9 {:7.1}  max {:8.1}  allocs/event {:.4}   p50 / parse {:.2}",
            x.p50,
            x.p99,
            x.p999,
            x.max,
            x.allocs,
            x.p50 / parse_borrowed
        );
    }
    println!("target: engine p50 <= 20% of parse, p99 < 1000 ns, 0 allocations per event");
}
