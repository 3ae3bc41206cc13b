//! Plugin log lines land in the host's `tracing` output, tagged with the strategy name.
//!
//! In a test binary of its own: tracing caches callsite interest process-wide, so a scoped
//! subscriber must not race with other tests' threads hitting the same callsites.

use plugin_api::host::Library;
use std::sync::{Arc, Mutex};
use strategy_host::plugins::loader::{StrategySpec, create_strategy, load_library};
use strategy_host::plugins::timer::CallTimer;
use strategy_host_e2e::plugin_path;

fn create(lib: &Library, name: &str, markets: Vec<String>) {
    let spec = StrategySpec {
        plugin_spec: "fx-echo",
        name,
        markets,
        params_toml: "",
        params_origin: "the test's params",
        call_budget_us: 50,
    };
    create_strategy(lib, spec, CallTimer::calibrate()).unwrap();
}

#[test]
fn plugin_log_lines_reach_the_host_tracing_output_tagged() {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let lib = load_library("fx-echo", &plugin_path("fx-echo")).unwrap();
        create(&lib, "tagged-one", vec!["sim/BTC".into(), "sim/ETH".into()]);
    });
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("fx-echo created for 2 market(s)"), "{text}");
    // The plugin asked the host's level: its debug line was dropped at INFO.
    assert!(!text.contains("fx-echo params:"), "{text}");
    let debug_buf = Buf::default();
    let writer = debug_buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let lib = load_library("fx-echo", &plugin_path("fx-echo")).unwrap();
        create(&lib, "tagged-two", vec!["sim/BTC".into()]);
    });
    let debug = String::from_utf8(debug_buf.0.lock().unwrap().clone()).unwrap();
    assert!(debug.contains("fx-echo params:"), "kept at DEBUG: {debug}");
    assert!(text.contains("strategy=tagged-one"), "{text}");
    assert!(text.contains("plugin:"), "target is `plugin`: {text}");
}
