//! Tracing setup for the binary: human-readable lines on stderr, filter from `--log` or
//! `STRATEGY_HOST_LOG` (env-filter syntax: `info`, `debug,plugin=trace`, …).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. A bad filter falls back to `info` with a warning.
pub fn init(filter: &str) {
    let (filter, bad) = match EnvFilter::try_new(filter) {
        Ok(f) => (f, None),
        Err(e) => (EnvFilter::new("info"), Some(e)),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
    if let Some(e) = bad {
        tracing::warn!("ignoring bad log filter ({e}); using `info`");
    }
}

/// Whether the `n`th occurrence of a repeated warning is logged: the first three, then the
/// 4th, 8th, 16th, … (each such line says how many so far). A venue that repeats itself cannot
/// flood the log.
pub fn log_nth(n: u64) -> bool {
    n <= 3 || n.is_power_of_two()
}

/// A venue's error text, cut to a length a log line can carry.
pub fn cut(s: &str) -> &str {
    match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
