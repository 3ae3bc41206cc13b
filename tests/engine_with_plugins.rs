//! The engine driving real plugin `.so` files through the real loader.

use plugin_api::Role;
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::Arc;
use strategy_host::engine::Engine;
use strategy_host::engine::config::{EngineConfig, RiskLimits};
use strategy_host::engine::events::{ConnectionState, EngineNote, Event, OperatorCommand};
use strategy_host::engine::hardstop::HardStopLatch;
use strategy_host::engine::reject::RejectReason;
use strategy_host::engine::types::{Level, MarketKey, MarketRegistry, Side, VenueId};
use strategy_host::plugins::StrategySlot;
use strategy_host::plugins::loader::{StrategySpec, create_strategy, load_library};
use strategy_host::plugins::timer::CallTimer;
use strategy_host_e2e::plugin_path;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn slot(plugin: &str, name: &str, params: &str) -> StrategySlot {
    let lib = load_library(plugin, &plugin_path(plugin)).unwrap();
    let spec = StrategySpec {
        plugin_spec: plugin,
        name,
        markets: vec!["sim/BTC".into()],
        params_toml: params,
        params_origin: "test",
        call_budget_us: 50,
    };
    create_strategy(&lib, spec, CallTimer::calibrate()).unwrap()
}

fn engine(slots: Vec<StrategySlot>) -> (Engine, Arc<HardStopLatch>) {
    let mut reg = MarketRegistry::new();
    reg.intern(&MarketKey::parse("sim/BTC").unwrap());
    let latch = Arc::new(HardStopLatch::new());
    let mut e = Engine::new(
        EngineConfig::default(),
        RiskLimits::default(),
        reg,
        slots,
        latch.clone(),
        42,
        16,
    )
    .unwrap();
    e.handle(
        Event::Connection {
            venue: VenueId(0),
            state: ConnectionState::Ready,
        },
        1,
    );
    (e, latch)
}

fn dislocate(e: &mut Engine, now: u64) {
    let m = e.registry().lookup("sim/BTC").unwrap();
    e.handle(
        Event::AssetCtx {
            market: m,
            oracle: d("100"),
            mark: d("100"),
            mid: None,
            funding: Decimal::ZERO,
        },
        now,
    );
    e.handle(
        Event::Bbo {
            market: m,
            bid: Some(Level {
                px: d("99.4"),
                sz: d("1"),
            }),
            ask: Some(Level {
                px: d("99.5"),
                sz: d("1"),
            }),
        },
        now,
    );
}

#[test]
fn a_real_plugin_trades_through_the_gates() {
    let (mut e, _) = engine(vec![slot(
        "fx-echo",
        "echo",
        "threshold_bps = 40\nplace_on_market = true\nsize = 2\n",
    )]);
    dislocate(&mut e, 1_000_000);
    dislocate(&mut e, 1_500_000);
    let batch = e.next_batch(1_500_000).expect("an order");
    assert_eq!(
        batch.orders.len(),
        1,
        "one IOC; the later updates are refused pending_order"
    );
    let o = batch.orders[0];
    assert_eq!(
        (o.side, o.px, o.sz, o.reduce_only),
        (Side::Buy, d("99.5"), d("2"), false)
    );
    assert!(e.refusals().get(RejectReason::PendingOrder) >= 1);
    assert_eq!(
        e.strategy_slot(strategy_host::engine::types::StrategyId(0))
            .role,
        Role::Entry
    );

    e.handle(Event::Operator(OperatorCommand::HardStop), 2_000_000);
    dislocate(&mut e, 3_000_000);
    let after = e
        .next_batch(3_000_000)
        .expect("the HardStop cancels the unanswered entry");
    assert_eq!(after.cancels.len(), 1);
    assert_eq!(after.cancels[0].cloid, o.cloid);
    assert!(
        after.orders.iter().all(|o| o.reduce_only),
        "nothing new leaves after HardStop"
    );
    assert!(e.refusals().get(RejectReason::HardStop) >= 1);
}

#[test]
fn a_real_plugin_that_panics_is_disabled_and_the_others_carry_on() {
    let (mut e, _) = engine(vec![
        slot("fx-panic-market", "bad", "panic_on_call = 2\n"),
        slot("fx-echo", "good", ""),
    ]);
    for i in 1..=5 {
        dislocate(&mut e, i * 1_000_000);
    }
    let notes: Vec<_> = e.drain_notes().collect();
    let disabled: Vec<_> = notes
        .iter()
        .filter_map(|n| match n {
            EngineNote::StrategyDisabled { strategy, reason } => Some((strategy.0, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(disabled.len(), 1, "{notes:?}");
    assert_eq!(disabled[0].0, 0);
    assert!(
        disabled[0].1.contains("index out of bounds"),
        "{}",
        disabled[0].1
    );
    use strategy_host::engine::types::StrategyId;
    assert_eq!(
        e.strategy_slot(StrategyId(0)).stats().calls,
        2,
        "never called after the panic"
    );
    assert_eq!(
        e.strategy_slot(StrategyId(1)).stats().calls,
        10,
        "2 updates x 5 events"
    );
}
