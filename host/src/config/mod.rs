//! The TOML configuration: what to load and trade. Unknown keys are errors, and every error names
//! the file, line and column. Each section is defined by the module that owns it (`[plugins]` and
//! `[[strategies]]`: `plugins::config`; `[engine]`, `[risk]`: `engine::config`; `[journal]`:
//! `journal::config`; a `[[venues]]` entry: its venue kind's module); this file puts them
//! together and checks what spans several.

pub use crate::journal::config::{JournalConfig, MAX_COMMIT_WINDOW_MS};
pub use crate::plugins::config::{PluginSection, PluginsConfig, RoleName, StrategyConfig};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::de::DeTable;

/// A configuration error, located in its file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub plugins: PluginsConfig,
    /// Scheduling, freshness and entry policy (docs/engine.md, "Configuration").
    #[serde(default)]
    pub engine: crate::engine::config::EngineConfig,
    /// Position limits and HardStop triggers (docs/engine.md, "Configuration").
    #[serde(default)]
    pub risk: crate::engine::config::RiskLimits,
    #[serde(default)]
    pub strategies: Vec<StrategyConfig>,
    /// Parsed apart (see `Config::parse`): each entry's keys depend on its `kind`.
    #[serde(skip)]
    pub venues: Vec<VenueConfig>,
    #[serde(default)]
    pub journal: JournalConfig,
    /// `[record]`: record every venue's frames during `run` (docs/backtest.md).
    #[serde(default)]
    pub record: Option<crate::record::RecordConfig>,
    /// `[metrics]`: the Prometheus endpoint (docs/operations.md, "Metrics").
    #[serde(default)]
    pub metrics: crate::metrics::server::MetricsConfig,
    /// `[backtest]`: how `backtest` simulates execution (docs/backtest.md).
    #[serde(default)]
    pub backtest: crate::backtest::config::BacktestConfig,
    /// `[paper]`: the local account of paper venues (docs/paper.md).
    #[serde(default)]
    pub paper: crate::paper::config::PaperConfig,
}

/// A parsed and checked configuration, with where it came from.
#[derive(Debug, Clone)]
pub struct Config {
    pub raw: RawConfig,
    /// The file it was read from (for error messages).
    pub path: PathBuf,
    /// Its text (to turn spans into line:col in later errors).
    pub text: String,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_as(path, false)
    }

    /// `load`; `paper`: every venue in paper mode (`run --paper`), before the checks (a paper
    /// venue needs no key, no account and no `allow_mainnet`).
    pub fn load_as(path: &Path, paper: bool) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            cause: source,
        })?;
        Config::parse_as(path, text, paper)
    }

    pub fn parse(path: &Path, text: String) -> Result<Config, ConfigError> {
        Config::parse_as(path, text, false)
    }

    /// `parse`; `paper` as in `load_as`.
    pub fn parse_as(path: &Path, text: String, paper: bool) -> Result<Config, ConfigError> {
        let invalid = |e: toml::de::Error| {
            let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                col,
                message: e.message().trim().replace('\n', " "),
            }
        };
        let mut root = DeTable::parse(&text).map_err(invalid)?;
        let venues = root.get_mut().remove("venues");
        let mut raw =
            RawConfig::deserialize(toml::de::Deserializer::from(root)).map_err(invalid)?;
        if let Some(v) = venues {
            raw.venues = parse_venues(v).map_err(|(at, message)| {
                let (line, col) = line_col(&text, at);
                ConfigError::Invalid {
                    path: path.to_path_buf(),
                    line,
                    col,
                    message,
                }
            })?;
        }
        if paper {
            for v in &mut raw.venues {
                v.mode = crate::paper::config::VenueMode::Paper;
            }
        }
        let config = Config {
            raw,
            path: path.to_path_buf(),
            text,
        };
        config.check()?;
        Ok(config)
    }

    /// An error located at byte offset `at` of this config's text.
    pub fn error_at(&self, at: usize, message: impl Into<String>) -> ConfigError {
        let (line, col) = line_col(&self.text, at);
        ConfigError::Invalid {
            path: self.path.clone(),
            line,
            col,
            message: message.into(),
        }
    }

    /// Byte offset of the line setting `table.key` (for errors about values serde accepted but
    /// the host refuses); 0 when not found.
    fn find(&self, dotted: &str) -> usize {
        let (table, key) = dotted.split_once('.').unwrap_or(("", dotted));
        let mut in_table = table.is_empty();
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            let t = line.trim();
            if t.starts_with('[') {
                in_table = t.trim_matches(|c| c == '[' || c == ']').trim() == table;
            } else if in_table && t.split('=').next().map(str::trim) == Some(key) {
                return offset + (line.len() - line.trim_start().len());
            }
            offset += line.len();
        }
        0
    }

    /// The journal file (`[journal] path`, relative to the config file).
    pub fn journal_path(&self) -> PathBuf {
        let p = &self.raw.journal.path;
        if p.is_absolute() {
            p.clone()
        } else {
            self.base_dir().join(p)
        }
    }

    /// `[record] dir`, relative to the config file (None: no recording).
    pub fn record_dir(&self) -> Option<PathBuf> {
        let d = &self.raw.record.as_ref()?.dir;
        Some(if d.is_absolute() {
            d.clone()
        } else {
            self.base_dir().join(d)
        })
    }

    /// Whether this run is a paper run (every venue in paper mode; mixing is refused).
    pub fn is_paper(&self) -> bool {
        self.raw.venues.first().is_some_and(|v| v.mode.is_paper())
    }

    /// The directory relative paths in the config are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// What the plugin loader reads.
    pub fn plugin_section(&self) -> PluginSection<'_> {
        PluginSection {
            plugins: &self.raw.plugins,
            strategies: &self.raw.strategies,
            base_dir: self.base_dir(),
            origin: &self.path,
        }
    }

    /// Every duration and counter in its range: values outside would overflow a clock, or
    /// quietly switch a safety off (a HardStop trigger at 0 never fires). None of the HardStop
    /// triggers can be switched off; a quant who wants one out of the way sets it high.
    fn check_ranges(&self) -> Result<(), ConfigError> {
        if let Some(why) = self.raw.paper.problem() {
            return Err(self.error_at(self.find("paper.balance"), why));
        }
        let (e, r, j, p) = (
            &self.raw.engine,
            &self.raw.risk,
            &self.raw.journal,
            &self.raw.plugins,
        );
        const TRIGGER: &str = "a HardStop trigger: 0 would never fire";
        let ranges: [(&str, u64, u64, u64, &str); 18] = [
            ("engine.stale_after_ms", e.stale_after_ms, 1, 3_600_000, ""),
            (
                "engine.timer_interval_ms",
                e.timer_interval_ms,
                1,
                60_000,
                "",
            ),
            (
                "engine.edge_summary_interval_ms",
                e.edge_summary_interval_ms,
                1,
                86_400_000,
                "",
            ),
            ("engine.fill_grace_ms", e.fill_grace_ms, 100, 600_000, ""),
            (
                "engine.max_batch_orders",
                e.max_batch_orders as u64,
                1,
                1_000,
                "",
            ),
            (
                "engine.backoff_after_rejects",
                e.backoff_after_rejects.into(),
                1,
                1_000,
                "",
            ),
            ("engine.backoff_base_ms", e.backoff_base_ms, 1, 600_000, ""),
            ("engine.backoff_max_ms", e.backoff_max_ms, 1, 3_600_000, ""),
            (
                "engine.stuck_after_rejects",
                e.stuck_after_rejects.into(),
                1,
                1_000,
                "",
            ),
            (
                "engine.stuck_hardstop_after",
                e.stuck_hardstop_after.into(),
                2,
                10_000,
                "a HardStop trigger",
            ),
            (
                "risk.max_consecutive_losses",
                r.max_consecutive_losses.into(),
                1,
                1_000_000,
                TRIGGER,
            ),
            (
                "risk.max_rejects_in_window",
                r.max_rejects_in_window.into(),
                1,
                1_000_000,
                TRIGGER,
            ),
            (
                "risk.reject_window_ms",
                r.reject_window_ms,
                1,
                86_400_000,
                "",
            ),
            (
                "risk.data_loss_hardstop_ms",
                r.data_loss_hardstop_ms,
                1_000,
                3_600_000,
                TRIGGER,
            ),
            (
                "risk.drift_repeat_window_ms",
                r.drift_repeat_window_ms,
                1,
                86_400_000,
                "",
            ),
            (
                "risk.bad_data_hardstop_ms",
                r.bad_data_hardstop_ms,
                1_000,
                3_600_000,
                "a HardStop trigger",
            ),
            (
                "journal.snapshot_every_secs",
                j.snapshot_every_secs,
                1,
                86_400,
                "",
            ),
            (
                "plugins.call_budget_us",
                p.call_budget_us,
                0,
                10_000_000,
                "",
            ),
        ];
        for (key, v, lo, hi, why) in ranges {
            if v < lo || v > hi {
                let why = if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({why})")
                };
                return Err(self.error_at(
                    self.find(key),
                    format!("{key} must be between {lo} and {hi}, got {v}{why}"),
                ));
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for s in &self.raw.strategies {
            if s.name.get_ref().trim().is_empty() {
                return Err(self.error_at(s.name.span().start, "strategy name is empty"));
            }
            if !seen.insert(s.name.get_ref().clone()) {
                return Err(self.error_at(
                    s.name.span().start,
                    format!("duplicate strategy name `{}`", s.name.get_ref()),
                ));
            }
            if s.markets.get_ref().is_empty() {
                return Err(self.error_at(
                    s.markets.span().start,
                    format!("strategy `{}` has no markets", s.name.get_ref()),
                ));
            }
            for m in s.markets.get_ref() {
                if let Err(why) = check_market_key(m.get_ref()) {
                    return Err(self.error_at(m.span().start, why));
                }
            }
        }
        self.check_venues()?;
        let risk = &self.raw.risk;
        for (key, v) in [
            ("risk.max_notional_per_market", risk.max_notional_per_market),
            ("risk.max_notional_total", risk.max_notional_total),
            ("risk.max_cumulative_loss", risk.max_cumulative_loss),
            ("risk.max_slippage_bps", risk.max_slippage_bps),
            ("risk.runaway_multiple", risk.runaway_multiple),
            (
                "engine.flatten_slippage_bps",
                self.raw.engine.flatten_slippage_bps,
            ),
            (
                "engine.max_book_distance_bps",
                self.raw.engine.max_book_distance_bps,
            ),
            (
                "engine.recovery_step_notional",
                self.raw.engine.recovery_step_notional,
            ),
            ("risk.max_drift_notional", risk.max_drift_notional),
        ] {
            if v <= rust_decimal::Decimal::ZERO {
                return Err(self.error_at(self.find(key), format!("{key} must be > 0, got {v}")));
            }
        }
        if self.raw.engine.timer_interval_ms == 0 {
            return Err(self.error_at(
                self.find("engine.timer_interval_ms"),
                "engine.timer_interval_ms must be > 0",
            ));
        }
        self.check_ranges()?;
        if let Some((key, why)) = self.raw.backtest.problems().into_iter().next() {
            return Err(self.error_at(
                self.find(&format!("backtest.{key}")),
                format!("backtest.{key} {why}"),
            ));
        }
        if let Some(l) = &self.raw.metrics.listen
            && let Err(e) = crate::metrics::server::check_listen(l, self.raw.metrics.allow_remote)
        {
            return Err(self.error_at(self.find("metrics.listen"), e));
        }
        if let Some(r) = &self.raw.record
            && r.dir.as_os_str().is_empty()
        {
            return Err(self.error_at(self.find("record.dir"), "record.dir is empty"));
        }
        if self.raw.journal.commit_window_ms > MAX_COMMIT_WINDOW_MS {
            return Err(self.error_at(
                self.find("journal.commit_window_ms"),
                format!(
                    "journal.commit_window_ms must be at most {MAX_COMMIT_WINDOW_MS} (what a crash can lose), got {}",
                    self.raw.journal.commit_window_ms
                ),
            ));
        }
        if self.raw.plugins.intent_capacity == 0 || self.raw.plugins.intent_capacity > 1024 {
            return Err(self.error_at(0, "plugins.intent_capacity must be between 1 and 1024"));
        }
        Ok(())
    }
}

/// `venue/coin`, both parts non-empty, coin possibly `dex:COIN`.
pub fn check_market_key(key: &str) -> Result<(), String> {
    match key.split_once('/') {
        Some((venue, coin))
            if !venue.is_empty()
                && !coin.is_empty()
                && !coin.contains('/')
                && !venue.contains(char::is_whitespace)
                && !coin.contains(char::is_whitespace) =>
        {
            match coin.split_once(':') {
                Some((dex, c)) if dex.is_empty() || c.is_empty() || c.contains(':') => Err(
                    format!("market `{key}`: a HIP-3 coin is `dex:COIN` with both parts non-empty"),
                ),
                _ => Ok(()),
            }
        }
        _ => Err(format!(
            "market `{key}` is not `venue/coin` (e.g. `hl/BTC`, `hl/xyz:TSLA`)"
        )),
    }
}

/// 1-based line and column of byte offset `at` in `text`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

mod venues;
use venues::parse_venues;
pub use venues::{VenueConfig, VenueKind};

#[cfg(test)]
mod tests;
