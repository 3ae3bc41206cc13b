//! The `[plugins]` table and the `[[strategies]]` entries: what the loader reads.

use plugin_api::Role;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

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
    /// 0 turns call timing off (saves one TSC read per call; see docs/BENCHMARKS.md).
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

/// What the plugin loader reads of a config: its own sections, and where relative paths start.
#[derive(Debug, Clone)]
pub struct PluginSection<'a> {
    pub plugins: &'a PluginsConfig,
    pub strategies: &'a [StrategyConfig],
    /// The config file's directory (`[plugins] dir` and plugin paths are relative to it).
    pub base_dir: PathBuf,
    /// The config file (named in errors about params).
    pub origin: &'a Path,
}
