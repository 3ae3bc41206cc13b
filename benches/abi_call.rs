//! ABI call overhead: one `on_market` call into a strategy loaded from its `.so` through the
//! real host path, against the same logic behind `Box<dyn StrategyLogic>` in-process.
//!
//! Run: `cargo bench --bench abi_call` (figures go in docs/BENCHMARKS.md).
//!
//! Each sample is the mean over a batch of calls (a single ~10 ns call is below the clock's
//! resolution); variants are interleaved batch by batch so machine noise hits them alike.
//! Allocations are counted on both sides of the boundary: the bench's own counting allocator sees
//! the host, and the fixture plugin counts its own (each cdylib has its own allocator).

use fx_echo_logic::Echo;
use plugin_api::host::Library;
use plugin_api::{
    Ctx, Decimal, FfiDecimal, Intents, Level, MarketIdx, MarketSnapshot, PositionView,
    StrategyLogic,
};
use std::hint::black_box;
use std::str::FromStr;
use std::time::Instant;
use strategy_host::plugins::loader::{StrategySpec, create_strategy, load_library};
use strategy_host::plugins::timer::CallTimer;
use strategy_host_e2e::bench::{CountingAlloc, allocations, machine, summary};
use strategy_host_e2e::plugin_path;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const BATCH: usize = 1_000;
const ROUNDS: usize = 3_000;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Reads the fixture plugin's own allocation counter through its exported C symbol.
fn plugin_allocations(path: &std::path::Path) -> u64 {
    use std::ffi::{CString, c_char, c_int, c_void};
    unsafe extern "C" {
        fn dlopen(filename: *const c_char, flag: c_int) -> *mut c_void;
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    }
    const RTLD_NOW: c_int = 2;
    const RTLD_NOLOAD: c_int = 4;
    let p = CString::new(path.to_str().unwrap()).unwrap();
    let name = CString::new("fx_echo_alloc_count").unwrap();
    // SAFETY: RTLD_NOLOAD returns the handle of the already-loaded library; the symbol is an
    // `extern "C" fn() -> u64` defined by fx-echo.
    unsafe {
        let h = dlopen(p.as_ptr(), RTLD_NOW | RTLD_NOLOAD);
        assert!(!h.is_null(), "fx-echo not loaded");
        let f = dlsym(h, name.as_ptr());
        assert!(!f.is_null(), "fx_echo_alloc_count missing");
        let f: extern "C" fn() -> u64 = std::mem::transmute(f);
        f()
    }
}

fn main() {
    let mut market = MarketSnapshot::empty(MarketIdx(0));
    market.bid = Some(Level {
        px: d("99.40").into(),
        sz: d("3").into(),
    })
    .into();
    market.ask = Some(Level {
        px: d("99.50").into(),
        sz: d("2").into(),
    })
    .into();
    market.oracle_px = FfiDecimal::new(d("100"));
    market.mark_px = FfiDecimal::new(d("99.45"));
    market.fresh = true;
    let markets = [market];
    let positions = [PositionView::flat(MarketIdx(0))];
    let ctx = Ctx::new(1, &markets, &positions);
    // Threshold above the 50 bps edge: the common tick, where the strategy computes and declines.
    let params = "threshold_bps = 60\nplace_on_market = true\n";

    let path = plugin_path("fx-echo");
    let lib = Library::load(&path).expect("load fx-echo");
    let mut handle = lib
        .create(params, &["sim/BTC".into()], |_, _| {}, |_| true)
        .expect("create");
    let hlib = load_library("fx-echo", &path).expect("load");
    let spec = StrategySpec {
        plugin_spec: "fx-echo",
        name: "bench",
        markets: vec!["sim/BTC".into()],
        params_toml: params,
        params_origin: "bench",
        call_budget_us: 50,
    };
    let mut slot = create_strategy(&hlib, spec, CallTimer::calibrate()).expect("slot");
    let mut boxed: Box<dyn StrategyLogic> = Box::new(Echo::new_for_bench(d("60")));
    let mut out = Intents::with_capacity(16);

    let mut dyn_ns = Vec::with_capacity(ROUNDS);
    let mut so_ns = Vec::with_capacity(ROUNDS);
    let mut slot_ns = Vec::with_capacity(ROUNDS);
    let host_allocs_0 = allocations();
    let plugin_allocs_0 = plugin_allocations(&path);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..BATCH {
            black_box(&mut boxed).on_market(black_box(&ctx), black_box(MarketIdx(0)), &mut out);
        }
        dyn_ns.push(t.elapsed().as_nanos() as f64 / BATCH as f64);

        let t = Instant::now();
        for _ in 0..BATCH {
            let _ = black_box(&mut handle).on_market(
                black_box(&ctx),
                black_box(MarketIdx(0)),
                &mut out,
            );
        }
        so_ns.push(t.elapsed().as_nanos() as f64 / BATCH as f64);

        let t = Instant::now();
        for _ in 0..BATCH {
            black_box(&mut slot).on_market(black_box(&ctx), black_box(MarketIdx(0)), &mut out);
        }
        slot_ns.push(t.elapsed().as_nanos() as f64 / BATCH as f64);
        out.clear();
    }
    let calls = (3 * ROUNDS * BATCH) as f64;
    let host_allocs = (allocations() - host_allocs_0) as f64 / calls;
    let plugin_allocs = (plugin_allocations(&path) - plugin_allocs_0) as f64 / calls;
    assert!(out.is_empty(), "no intents expected below the threshold");

    let (dyn50, dyn99, _) = summary(&mut dyn_ns);
    let (so50, so99, _) = summary(&mut so_ns);
    let (slot50, slot99, _) = summary(&mut slot_ns);
    println!(
        "abi_call: strategy on_market, ns per call (p50 / p99 of {ROUNDS} batch means of {BATCH} calls)"
    );
    println!("machine: {}", machine());
    println!("  Box<dyn StrategyLogic> in-process    {dyn50:7.2} / {dyn99:7.2}");
    println!(
        "  .so via StrategyHandle (guarded)     {so50:7.2} / {so99:7.2}   ratio p50 {:.3}",
        so50 / dyn50
    );
    println!(
        "  .so via StrategySlot (host path)     {slot50:7.2} / {slot99:7.2}   ratio p50 {:.3}",
        slot50 / dyn50
    );
    println!("  allocations per call: host {host_allocs:.4}, plugin {plugin_allocs:.4}");
    println!("target: .so ratio <= 1.10 x dyn, 0 allocations per call");
}
