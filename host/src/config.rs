//! The TOML configuration: what to load and trade. Unknown keys are errors, and every error names
//! the file, line and column.

use plugin_api::Role;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A configuration error, located in its file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
}

/// Role as written in the config (`"entry"` / `"exit"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    Entry,
    Exit,
}

impl RoleName {
    pub fn role(self) -> Role {
        match self {
            RoleName::Entry => Role::Entry,
            RoleName::Exit => Role::Exit,
        }
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.role().as_str())
    }
}

/// `[plugins]`: where plugin libraries are found and how their calls are watched.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsConfig {
    /// Directory of plugin libraries, relative to the config file. Default: the directory of the
    /// `strategy-host` executable (where `cargo build` puts the workspace's plugins).
    pub dir: Option<PathBuf>,
    /// A plugin call slower than this (µs) is counted as over budget for that plugin.
    /// 0 turns call timing off (saves one TSC read per call, ~9 ns on a VM; see BENCHMARKS.md).
    #[serde(default = "default_call_budget_us")]
    pub call_budget_us: u64,
    /// Intents a strategy may emit per call; more are refused with `too_many_intents`.
    #[serde(default = "default_intent_capacity")]
    pub intent_capacity: usize,
}

fn default_call_budget_us() -> u64 {
    50
}

fn default_intent_capacity() -> usize {
    16
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            dir: None,
            call_budget_us: default_call_budget_us(),
            intent_capacity: default_intent_capacity(),
        }
    }
}

/// Which Hyperliquid network a venue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Mainnet,
    Testnet,
    /// The built-in simulator (or any local server speaking the protocol).
    Simulator,
}

impl Network {
    /// Default `(ws_url, info_url)`; the simulator has none (it is started, or its URL given).
    pub fn default_urls(self) -> Option<(&'static str, &'static str)> {
        match self {
            Network::Mainnet => Some((
                "wss://api.hyperliquid.xyz/ws",
                "https://api.hyperliquid.xyz",
            )),
            Network::Testnet => Some((
                "wss://api.hyperliquid-testnet.xyz/ws",
                "https://api.hyperliquid-testnet.xyz",
            )),
            Network::Simulator => None,
        }
    }
}

/// One `[[venues]]` entry: a connection to one exchange account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// The venue part of market keys (`hl` in `hl/BTC`).
    pub name: Spanned<String>,
    /// Only `hyperliquid` so far.
    pub kind: Spanned<String>,
    pub network: Spanned<Network>,
    /// Trading on mainnet must be switched on explicitly.
    #[serde(default)]
    pub allow_mainnet: bool,
    /// Override the network's WebSocket URL (required for `simulator` unless the host starts it).
    pub ws_url: Option<String>,
    /// Override the network's HTTP base URL (`/info`, `/exchange`).
    pub info_url: Option<String>,
    /// The account traded (master or sub-account address). Omitted for the started simulator.
    pub account: Option<Spanned<String>>,
    /// Trade for a vault or sub-account with the agent's signature.
    pub vault: Option<Spanned<String>>,
    /// Where the agent (API wallet) key is: an environment variable or a 0600 file.
    pub key_env: Option<String>,
    pub key_file: Option<PathBuf>,
    /// Dead-man switch horizon in seconds (≥ 5; 0 turns it off).
    #[serde(default = "default_dead_man_secs")]
    pub dead_man_secs: u64,
    /// For `network = "simulator"` without `ws_url`: the simulator `run` starts in-process.
    pub sim: Option<crate::sim::server::SimConfig>,
}

fn default_dead_man_secs() -> u64 {
    30
}

/// One `[[strategies]]` entry: a plugin instance bound to markets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Unique name; tags the strategy's log lines, metrics and journal rows.
    pub name: Spanned<String>,
    /// A plugin name resolved in the plugin directory (`dislocation-entry` →
    /// `libdislocation_entry.so`), or a path to a library (relative to the config file).
    pub plugin: Spanned<String>,
    /// What the plugin must be: `entry` or `exit`. Checked against the library.
    pub role: Spanned<RoleName>,
    /// Markets as `venue/coin` (`hl/BTC`, `hl/xyz:TSLA` for a HIP-3 dex market).
    pub markets: Spanned<Vec<Spanned<String>>>,
    /// The plugin's own parameters, passed to it as TOML text and validated by the plugin.
    #[serde(default)]
    pub params: toml::Table,
}

impl StrategyConfig {
    pub fn name(&self) -> &str {
        self.name.get_ref()
    }

    pub fn market_keys(&self) -> Vec<String> {
        self.markets
            .get_ref()
            .iter()
            .map(|m| m.get_ref().clone())
            .collect()
    }

    /// The params table as the TOML text handed to the plugin's `create`.
    pub fn params_toml(&self) -> String {
        toml::to_string(&self.params).unwrap_or_default()
    }
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
    #[serde(default)]
    pub venues: Vec<VenueConfig>,
    #[serde(default)]
    pub journal: JournalConfig,
}

/// `[journal]`: where the durable record lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    /// The SQLite file, relative to the config file. Created on first run.
    #[serde(default = "default_journal_path")]
    pub path: PathBuf,
    /// Strategies' state is journaled this often (and at shutdown).
    #[serde(default = "default_snapshot_secs")]
    pub snapshot_every_secs: u64,
    /// Records arriving within this many milliseconds of each other are committed together (one
    /// transaction, one fsync; the engine thread never wakes the writer in between). 0: each
    /// batch at once. A crash loses at most this window of records, which the restart's
    /// reconciliation with the venue recovers (docs/operations.md).
    #[serde(default = "default_commit_window_ms")]
    pub commit_window_ms: u64,
}

fn default_commit_window_ms() -> u64 {
    20
}

/// The longest group-commit window accepted: records not yet committed are what a crash loses.
pub const MAX_COMMIT_WINDOW_MS: u64 = 1_000;

fn default_journal_path() -> PathBuf {
    PathBuf::from("strategy-host.db")
}

fn default_snapshot_secs() -> u64 {
    60
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            path: default_journal_path(),
            snapshot_every_secs: default_snapshot_secs(),
            commit_window_ms: default_commit_window_ms(),
        }
    }
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
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                col,
                message: e.message().trim().replace('\n', " "),
            }
        })?;
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

    /// The directory relative paths in the config are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    fn check_venues(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        for v in &self.raw.venues {
            if !names.insert(v.name.get_ref().clone()) {
                return Err(self.error_at(
                    v.name.span().start,
                    format!("duplicate venue name `{}`", v.name.get_ref()),
                ));
            }
            if v.kind.get_ref() != "hyperliquid" {
                return Err(self.error_at(
                    v.kind.span().start,
                    format!(
                        "unknown venue kind `{}` (known: hyperliquid)",
                        v.kind.get_ref()
                    ),
                ));
            }
            let net = *v.network.get_ref();
            if net == Network::Mainnet && !v.allow_mainnet {
                return Err(self.error_at(
                    v.network.span().start,
                    format!(
                        "venue `{}` is on mainnet: add `allow_mainnet = true` to trade real money",
                        v.name.get_ref()
                    ),
                ));
            }
            if net != Network::Simulator && v.account.is_none() {
                return Err(self.error_at(
                    v.name.span().start,
                    format!(
                        "venue `{}` needs `account` (the address traded)",
                        v.name.get_ref()
                    ),
                ));
            }
            for addr in [&v.account, &v.vault].into_iter().flatten() {
                let a = addr.get_ref();
                let ok = a.len() == 42
                    && a.starts_with("0x")
                    && a[2..].chars().all(|c| c.is_ascii_hexdigit());
                if !ok {
                    return Err(self.error_at(
                        addr.span().start,
                        format!("`{a}` is not an address (0x + 40 hex digits)"),
                    ));
                }
            }
            if v.key_env.is_some() && v.key_file.is_some() {
                return Err(self.error_at(
                    v.name.span().start,
                    "give `key_env` or `key_file`, not both",
                ));
            }
            if net != Network::Simulator && v.key_env.is_none() && v.key_file.is_none() {
                return Err(self.error_at(
                    v.name.span().start,
                    format!(
                        "venue `{}` needs `key_env` or `key_file` (the agent key)",
                        v.name.get_ref()
                    ),
                ));
            }
            if v.dead_man_secs != 0 && v.dead_man_secs < 5 {
                return Err(self.error_at(
                    v.name.span().start,
                    "dead_man_secs must be 0 (off) or at least 5 (the venue's minimum)",
                ));
            }
        }
        if !self.raw.venues.is_empty() {
            for s in &self.raw.strategies {
                for m in s.markets.get_ref() {
                    let venue = m.get_ref().split('/').next().unwrap_or("");
                    if !names.contains(venue) {
                        return Err(self.error_at(
                            m.span().start,
                            format!(
                                "market `{}` names venue `{venue}`, which is not in [[venues]]",
                                m.get_ref()
                            ),
                        ));
                    }
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("test.toml"), text.to_string())
    }

    const GOOD: &str = r#"
[plugins]
call_budget_us = 20

[[strategies]]
name = "a"
plugin = "fx-echo"
role = "entry"
markets = ["hl/BTC", "hl/xyz:TSLA"]
[strategies.params]
threshold_bps = 40
"#;

    #[test]
    fn parses_a_good_config() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.raw.strategies.len(), 1);
        let s = &c.raw.strategies[0];
        assert_eq!(s.market_keys(), vec!["hl/BTC", "hl/xyz:TSLA"]);
        assert_eq!(s.params_toml().trim(), "threshold_bps = 40");
        assert_eq!(c.raw.plugins.call_budget_us, 20);
    }

    #[test]
    fn unknown_key_gives_file_line_col() {
        let text = GOOD.replace("role = \"entry\"", "role = \"entry\"\nrol = 1");
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.starts_with("test.toml:9:1: "), "{e}");
        assert!(e.contains("rol"), "{e}");
    }

    #[test]
    fn bad_role_and_market_are_located() {
        let e = parse(&GOOD.replace("\"entry\"", "\"entri\""))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("test.toml:8:8: "), "{e}");
        let e = parse(&GOOD.replace("hl/BTC", "BTC"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("test.toml:9:12: ") && e.contains("venue/coin"),
            "{e}"
        );
        let e = parse(&GOOD.replace("hl/xyz:TSLA", "hl/xyz:"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("dex:COIN"), "{e}");
    }

    #[test]
    fn engine_and_risk_tables_are_strict_and_checked() {
        let c = parse(&format!("{GOOD}\n[risk]\nmax_notional_per_market = 250\n")).unwrap();
        assert_eq!(
            c.raw.risk.max_notional_per_market,
            rust_decimal::Decimal::from(250)
        );
        assert_eq!(
            c.raw.engine.timer_interval_ms, 200,
            "defaults fill the rest"
        );
        let e = parse(&format!("{GOOD}\n[risk]\nmax_notional = 250\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `max_notional`"), "{e}");
        let e = parse(&format!("{GOOD}\n[risk]\nmax_slippage_bps = -5\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("test.toml:14:1: risk.max_slippage_bps must be > 0"),
            "{e}"
        );
        let c = parse(&format!("{GOOD}\n[journal]\ncommit_window_ms = 0\n")).unwrap();
        assert_eq!(c.raw.journal.commit_window_ms, 0);
        let e = parse(&format!("{GOOD}\n[journal]\ncommit_window_ms = 60000\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("test.toml:14:1: journal.commit_window_ms must be at most 1000"),
            "{e}"
        );
    }

    const VENUE: &str = r#"
[[venues]]
name = "hl"
kind = "hyperliquid"
network = "testnet"
account = "0x14791697260e4c9a71f18484c9f997b308e59325"
key_env = "HL_AGENT_KEY"
"#;

    #[test]
    fn venues_are_checked_and_mainnet_needs_an_explicit_yes() {
        let c = parse(&format!("{GOOD}{VENUE}")).unwrap();
        assert_eq!(*c.raw.venues[0].network.get_ref(), Network::Testnet);
        assert_eq!(
            Network::Testnet.default_urls().unwrap().0,
            "wss://api.hyperliquid-testnet.xyz/ws"
        );
        let main = format!("{GOOD}{}", VENUE.replace("testnet", "mainnet"));
        let e = parse(&main).unwrap_err().to_string();
        assert!(
            e.contains("is on mainnet: add `allow_mainnet = true`"),
            "{e}"
        );
        assert!(
            e.starts_with("test.toml:16:11:"),
            "located at the network value: {e}"
        );
        assert!(parse(&format!("{main}allow_mainnet = true\n")).is_ok());
        let e = parse(&format!(
            "{GOOD}{}",
            VENUE.replace("key_env = \"HL_AGENT_KEY\"\n", "")
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("needs `key_env` or `key_file`"), "{e}");
        let e = parse(&format!("{GOOD}{}", VENUE.replace("0x1479", "0xZZ79")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not an address"), "{e}");
        let e = parse(&format!(
            "{GOOD}{}",
            VENUE.replace("name = \"hl\"", "name = \"other\"")
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("names venue `hl`, which is not in [[venues]]"),
            "{e}"
        );
        let sim = "[[venues]]\nname = \"hl\"\nkind = \"hyperliquid\"\nnetwork = \"simulator\"\n";
        assert!(
            parse(&format!("{GOOD}{sim}")).is_ok(),
            "the simulator needs no account or key"
        );
    }

    #[test]
    fn duplicate_names_are_refused() {
        let text = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[strategies]]").unwrap()..]);
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains("duplicate strategy name `a`"), "{e}");
    }
}
