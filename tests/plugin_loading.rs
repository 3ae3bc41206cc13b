//! The plugin loader end to end: real `.so` files built by this workspace, loaded through the real
//! loader, every error path included.

use plugin_api::host::{Library, LoadError};
use plugin_api::{
    Ctx, Decimal, FfiDecimal, Intent, Intents, Level, MarketIdx, MarketSnapshot, PositionView,
    Role, Side, Tif,
};
use std::str::FromStr;
use strategy_host::config::Config;
use strategy_host::plugins::loader::{
    PluginErrorKind, StrategySpec, create_strategy, load_library,
};
use strategy_host::plugins::timer::CallTimer;
use strategy_host::plugins::{CallOutcome, load_strategies};
use strategy_host_e2e::{plugin_path, scratch_dir, write_file};

/// Creates a strategy with a 50 µs call budget.
fn create(
    lib: &Library,
    plugin: &str,
    name: &str,
    markets: Vec<String>,
    params: &str,
) -> Result<strategy_host::plugins::StrategySlot, strategy_host::plugins::PluginLoadError> {
    let spec = StrategySpec {
        plugin_spec: plugin,
        name,
        markets,
        params_toml: params,
        params_origin: "the test's params",
        call_budget_us: 50,
    };
    create_strategy(lib, spec, CallTimer::calibrate())
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A market 50 bps under the oracle on the ask: a buy dislocation.
fn dislocated_market() -> MarketSnapshot {
    let mut m = MarketSnapshot::empty(MarketIdx(0));
    m.bid = Some(Level {
        px: d("99.40").into(),
        sz: d("3").into(),
    })
    .into();
    m.ask = Some(Level {
        px: d("99.50").into(),
        sz: d("2").into(),
    })
    .into();
    m.oracle_px = FfiDecimal::new(d("100"));
    m.mark_px = FfiDecimal::new(d("99.45"));
    m.fresh = true;
    m
}

fn slot(plugin: &str, params: &str) -> strategy_host::plugins::StrategySlot {
    let path = plugin_path(plugin);
    let lib = load_library(plugin, &path).unwrap_or_else(|e| panic!("{e}"));
    create(&lib, plugin, plugin, vec!["sim/BTC".into()], params).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_good_plugin_loads_and_trades_through_the_abi() {
    let lib = Library::load(&plugin_path("fx-echo")).unwrap();
    assert_eq!(lib.name(), "fx-echo");
    assert_eq!(lib.version(), "0.1.0");
    assert_eq!(lib.role(), Role::Entry);
    assert_eq!(lib.abi_version(), plugin_api::ABI_VERSION);

    let mut s = slot(
        "fx-echo",
        "threshold_bps = 40\nplace_on_market = true\nsize = 0.5\n",
    );
    let markets = [dislocated_market()];
    let positions = [PositionView::flat(MarketIdx(0))];
    let ctx = Ctx::new(1_000, &markets, &positions);
    let mut out = Intents::with_capacity(4);
    assert_eq!(s.on_market(&ctx, MarketIdx(0), &mut out), CallOutcome::Ok);
    // buy edge = (100 - 99.50) / 100 * 1e4 = 50 bps >= 40.
    match out.as_slice() {
        [Intent::Place(p)] => {
            assert_eq!(p.side, Side::Buy);
            assert_eq!(p.px.get(), d("99.50"));
            assert_eq!(p.sz.get(), d("0.5"));
            assert_eq!(p.tif, Tif::Ioc);
            assert_eq!(p.tag, 1);
        }
        other => panic!("expected one Place intent, got {other:?}"),
    }

    // Below the threshold: nothing.
    let mut s2 = slot("fx-echo", "threshold_bps = 60\nplace_on_market = true\n");
    out.clear();
    assert_eq!(s2.on_market(&ctx, MarketIdx(0), &mut out), CallOutcome::Ok);
    assert!(out.is_empty());
    assert_eq!(s.stats().calls, 1);
}

#[test]
fn state_survives_snapshot_and_restore_across_instances() {
    let mut a = slot("fx-echo", "");
    let markets = [dislocated_market()];
    let positions = [PositionView::flat(MarketIdx(0))];
    let ctx = Ctx::new(0, &markets, &positions);
    let mut out = Intents::with_capacity(4);
    for _ in 0..3 {
        a.on_market(&ctx, MarketIdx(0), &mut out);
    }
    let state = a.snapshot_state().unwrap();
    assert_eq!(state, "calls=3");
    let mut b = slot("fx-echo", "");
    b.restore_state(&state).unwrap();
    assert_eq!(b.snapshot_state().unwrap(), "calls=3");
    let err = b.restore_state("garbage").unwrap_err();
    assert!(err.contains("unreadable state"), "{err}");
    assert!(
        !b.is_disabled(),
        "a refused state leaves the strategy usable"
    );
}

#[test]
fn a_panic_in_on_market_disables_only_that_strategy() {
    let mut bad = slot("fx-panic-market", "panic_on_call = 2\n");
    let mut good = slot("fx-echo", "");
    let markets = [dislocated_market()];
    let positions = [PositionView::flat(MarketIdx(0))];
    let ctx = Ctx::new(0, &markets, &positions);
    let mut out = Intents::with_capacity(4);
    assert_eq!(bad.on_market(&ctx, MarketIdx(0), &mut out), CallOutcome::Ok);
    match bad.on_market(&ctx, MarketIdx(0), &mut out) {
        CallOutcome::Disabled(msg) => {
            assert!(msg.contains("index out of bounds"), "{msg}");
            assert!(
                msg.contains("fx-panic-market/src/lib.rs"),
                "location kept: {msg}"
            );
        }
        other => panic!("expected Disabled, got {other:?}"),
    }
    assert!(bad.is_disabled());
    assert_eq!(
        bad.on_market(&ctx, MarketIdx(0), &mut out),
        CallOutcome::Skipped
    );
    assert_eq!(
        bad.stats().calls,
        2,
        "a disabled strategy is never called again"
    );
    assert_eq!(bad.snapshot_state(), None);
    // The host and the other strategy carry on.
    for _ in 0..10 {
        assert_eq!(
            good.on_market(&ctx, MarketIdx(0), &mut out),
            CallOutcome::Ok
        );
    }
}

#[test]
fn slow_calls_are_counted_against_the_budget() {
    let path = plugin_path("fx-echo");
    let lib = load_library("fx-echo", &path).unwrap();
    let mut s = create(
        &lib,
        "fx-echo",
        "slow",
        vec!["sim/BTC".into()],
        "spin_us = 300\n",
    )
    .unwrap();
    let mut fast = slot("fx-echo", "");
    let markets = [dislocated_market()];
    let positions = [PositionView::flat(MarketIdx(0))];
    let ctx = Ctx::new(0, &markets, &positions);
    let mut out = Intents::with_capacity(4);
    for _ in 0..3 {
        s.on_market(&ctx, MarketIdx(0), &mut out);
        fast.on_market(&ctx, MarketIdx(0), &mut out);
    }
    assert_eq!(s.stats().over_budget, 3);
    assert!(s.stats().max_ns >= 300_000, "{:?}", s.stats());
    assert!(!s.is_disabled(), "slow is counted, not punished");
}

#[test]
fn each_library_is_loaded_on_its_own() {
    // RootModule::load_from_file would hand back the first module for the second path.
    let a = Library::load(&plugin_path("fx-echo")).unwrap();
    let b = Library::load(&plugin_path("fx-strict-params")).unwrap();
    assert_eq!(a.name(), "fx-echo");
    assert_eq!(b.name(), "fx-strict-params");
    assert_eq!(b.role(), Role::Exit);
}

fn load_err(plugin: &str) -> strategy_host::plugins::PluginLoadError {
    load_library(plugin, &plugin_path(plugin)).unwrap_err()
}

#[test]
fn abi_version_mismatch_is_refused_in_both_directions() {
    let older = load_err("fx-old-api");
    assert_eq!(older.kind, PluginErrorKind::VersionMismatch);
    let line = older.to_string();
    assert!(
        line.contains("plugin built against plugin-api 0.0.9, host uses 0.2.0"),
        "{line}"
    );
    assert!(
        line.contains("rebuild the plugin against plugin-api 0.2.0"),
        "{line}"
    );
    assert!(line.contains("libfx_old_api"), "names the path: {line}");

    let newer = load_err("fx-new-api");
    assert_eq!(newer.kind, PluginErrorKind::LayoutMismatch);
    let line = newer.to_string();
    assert!(
        line.contains("incompatible package versions (expected 0.2.0, found 0.3.0)"),
        "{line}"
    );
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(line.len() < 400, "only the Error: lines: {line}");
    assert!(
        newer.detail().unwrap_or("").lines().count() > 20,
        "full report kept for debug"
    );
}

#[test]
fn missing_file_and_non_plugin_library_are_clear() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "missing");
    let missing = dir.join("libnope.so");
    let e = load_library("nope", &missing).unwrap_err();
    assert_eq!(e.kind, PluginErrorKind::NotFound);
    assert!(e.to_string().contains("no such file"), "{e}");

    // A real shared library that is not a strategy plugin: the system libc.
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
    ]
    .iter()
    .map(std::path::Path::new)
    .find(|p| p.is_file());
    if let Some(libc) = libc {
        let e = load_library("libc", libc).unwrap_err();
        assert_eq!(e.kind, PluginErrorKind::NotAPlugin);
        assert!(e.to_string().contains("export_strategy!"), "{e}");
    }

    // A file that is not a shared library at all.
    let junk = write_file(&dir, "libjunk.so", "not an ELF file");
    let e = load_library("junk", &junk).unwrap_err();
    assert_eq!(e.kind, PluginErrorKind::NotFound);
    assert!(e.to_string().contains("cannot open library"), "{e}");
    assert!(matches!(
        Library::load(&junk).unwrap_err(),
        LoadError::Open { .. }
    ));
}

#[test]
fn constructor_panic_and_rejected_params_are_clear() {
    let lib = load_library("fx-panic-create", &plugin_path("fx-panic-create")).unwrap();
    let e = create(&lib, "fx-panic-create", "s1", vec!["sim/BTC".into()], "").unwrap_err();
    assert_eq!(e.kind, PluginErrorKind::ConstructorPanicked);
    assert!(e.to_string().contains("constructor exploded"), "{e}");

    let lib = load_library("fx-strict-params", &plugin_path("fx-strict-params")).unwrap();
    let e = create(
        &lib,
        "fx-strict-params",
        "s2",
        vec!["sim/BTC".into()],
        "threshold_bps = \"x\"\n",
    )
    .unwrap_err();
    assert_eq!(e.kind, PluginErrorKind::ParamsRejected);
    assert!(
        e.to_string().contains("params.threshold_bps"),
        "names the key: {e}"
    );
}

#[test]
fn strategies_load_from_config_with_role_checks_and_every_error_reported() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "config");
    let echo = plugin_path("fx-echo");
    let plugin_dir = echo.parent().unwrap().display().to_string();
    let good = format!(
        r#"
[plugins]
dir = "{plugin_dir}"

[[strategies]]
name = "one"
plugin = "fx-echo"
role = "entry"
markets = ["sim/BTC"]

[[strategies]]
name = "two"
plugin = "fx-echo"
role = "entry"
markets = ["sim/ETH", "sim/xyz:TSLA"]
[strategies.params]
threshold_bps = 10
"#
    );
    let cfg = Config::parse(&dir.join("good.toml"), good.clone()).unwrap();
    let slots = load_strategies(&cfg.plugin_section()).unwrap();
    assert_eq!(slots.len(), 2);
    assert_eq!(slots[1].markets, vec!["sim/ETH", "sim/xyz:TSLA"]);

    let bad = format!(
        "{good}\n[[strategies]]\nname = \"three\"\nplugin = \"fx-strict-params\"\nrole = \"entry\"\nmarkets = [\"sim/BTC\"]\n[strategies.params]\nthreshold_bps = 1\n\n[[strategies]]\nname = \"four\"\nplugin = \"fx-missing\"\nrole = \"exit\"\nmarkets = [\"sim/BTC\"]\n"
    );
    let cfg = Config::parse(&dir.join("bad.toml"), bad).unwrap();
    let errors = load_strategies(&cfg.plugin_section()).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].kind, PluginErrorKind::RoleMismatch);
    assert!(
        errors[0]
            .to_string()
            .contains("role = \"entry\" but `fx-strict-params` is an exit plugin"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[1].kind, PluginErrorKind::NotFound);
}
