//! Tracing setup for the binary: lines on stderr (or `--log-file`), filter from `--log` or
//! `STRATEGY_HOST_LOG` (env-filter syntax: `info`, `debug,plugin=trace`, …), `--log-format
//! text|json`. Colour only when writing to a terminal and `NO_COLOR` is not set. Venues are
//! named the same everywhere (`venue=simA`): see [`venue`].

use std::io::IsTerminal;
use std::path::Path;
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (timestamp, level, target, fields, message).
    Json,
}

/// Whether to colour: a terminal, and `NO_COLOR` unset or empty (https://no-color.org).
pub fn colour(to_terminal: bool, no_color: Option<&str>) -> bool {
    to_terminal && no_color.is_none_or(str::is_empty)
}

/// Installs the global subscriber. A bad filter falls back to `info` with a warning; a log file
/// that cannot be opened is an error (the caller's).
pub fn init(filter: &str, format: LogFormat, file: Option<&Path>) -> std::io::Result<()> {
    let (filter, bad) = match EnvFilter::try_new(filter) {
        Ok(f) => (f, None),
        Err(e) => (EnvFilter::new("info"), Some(e)),
    };
    let no_color = std::env::var("NO_COLOR").ok();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let result = match (file, format) {
        (Some(path), format) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| {
                    std::io::Error::new(e.kind(), format!("--log-file {}: {e}", path.display()))
                })?;
            let w = std::sync::Mutex::new(f);
            match format {
                LogFormat::Json => builder.json().with_writer(w).try_init(),
                LogFormat::Text => builder.with_ansi(false).with_writer(w).try_init(),
            }
        }
        (None, LogFormat::Json) => builder.json().with_writer(std::io::stderr).try_init(),
        (None, LogFormat::Text) => builder
            .with_ansi(colour(std::io::stderr().is_terminal(), no_color.as_deref()))
            .with_writer(std::io::stderr)
            .try_init(),
    };
    let _ = result;
    if let Some(e) = bad {
        tracing::warn!("ignoring bad log filter ({e}); using `info`");
    }
    Ok(())
}

static VENUES: OnceLock<Vec<String>> = OnceLock::new();

/// Names the venues for log lines (the config's names, by `VenueId`; the first call wins).
pub fn name_venues(names: Vec<String>) {
    let _ = VENUES.set(names);
}

/// A venue's name for a log line (its number before the names are known).
pub fn venue(v: crate::engine::types::VenueId) -> String {
    VENUES
        .get()
        .and_then(|n| n.get(v.0 as usize))
        .cloned()
        .unwrap_or_else(|| v.0.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("")));
        assert!(!colour(true, Some("1")));
        assert!(!colour(false, None));
    }
}
