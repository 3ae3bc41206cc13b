//! What the latency benchmarks (`tick_to_order`, `cold_path`) share: the engine the host variant
//! drives and the order the baseline signs.

use std::sync::Arc;
use strategy_host::engine::Engine;
use strategy_host::engine::config::{EngineConfig, RiskLimits};
use strategy_host::engine::hardstop::HardStopLatch;
use strategy_host::engine::types::{MarketKey, MarketRegistry};
use strategy_host::plugins::loader::{StrategySpec, create_strategy, load_library};
use strategy_host::plugins::timer::CallTimer;
use strategy_host::venue::hyperliquid::actions::{
    Action, Grouping, OrderTypeWire, OrderWire, TifWire, WireStr,
};
use strategy_host_e2e::plugin_path;

/// One market (`bench/BTC` on venue 0), the real `dislocation-entry` .so (40 bps threshold, 100
/// notional), and budgets and limits that never refuse a bench order.
pub fn dislocation_engine() -> (Engine, Arc<HardStopLatch>) {
    let lib = load_library("dislocation-entry", &plugin_path("dislocation-entry")).unwrap();
    let spec = StrategySpec {
        plugin_spec: "dislocation-entry",
        name: "entry",
        markets: vec!["bench/BTC".into()],
        params_toml: "threshold_bps = 40\nnotional = 100\n",
        params_origin: "bench",
        call_budget_us: 50,
    };
    let slot = create_strategy(&lib, spec, CallTimer::calibrate()).unwrap();
    let mut reg = MarketRegistry::new();
    reg.intern(&MarketKey::parse("bench/BTC").unwrap());
    let latch = Arc::new(HardStopLatch::new());
    let cfg = EngineConfig {
        action_budget: 1_000_000,
        action_refill_per_sec: 1_000_000,
        stale_after_ms: 60_000,
        ..EngineConfig::default()
    };
    let limits = RiskLimits {
        max_notional_per_market: 1_000_000.into(),
        max_notional_total: 1_000_000.into(),
        ..RiskLimits::default()
    };
    let engine = Engine::new(cfg, limits, reg, vec![slot], latch.clone(), 1, 16).unwrap();
    (engine, latch)
}

/// The baseline's pre-built order: the shape of the host's orders for the bench's dislocation
/// (one IOC buy, cloid included, since every host order carries one).
pub fn baseline_order() -> Action {
    Action::Order {
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
    }
}
