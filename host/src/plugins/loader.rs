//! Finding, loading and instantiating plugins, with one clear line per failure.

// Load errors happen once, at startup, and carry the text the user reads: their size is no cost.
#![allow(clippy::result_large_err)]

use super::config::{PluginSection, StrategyConfig};
use super::slot::StrategySlot;
use super::timer::CallTimer;
use plugin_api::host::{Library, LoadError};
use plugin_api::{LogLevel, Role};
use std::collections::HashMap;
use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
use std::path::{Path, PathBuf};

/// A plugin that could not be loaded or created: what, where, and what to do about it.
/// `Display` is the one line shown to the user.
#[derive(Debug, Clone, thiserror::Error)]
#[error("plugin `{}` ({}): {}. {}", .text.plugin, .text.path, .text.problem, .text.hint)]
pub struct PluginLoadError {
    pub kind: PluginErrorKind,
    /// Boxed so the error stays small in every `Result` it travels through.
    text: Box<ErrorText>,
}

/// The text of a `PluginLoadError`.
#[derive(Debug, Clone)]
struct ErrorText {
    /// The plugin as the user named it (config `plugin` value or the CLI argument).
    plugin: String,
    path: String,
    problem: String,
    hint: String,
    kind: PluginErrorKind,
    /// Long diagnostic text (abi_stable's layout report), logged at debug level only.
    detail: Option<String>,
}

impl From<ErrorText> for PluginLoadError {
    fn from(text: ErrorText) -> Self {
        PluginLoadError {
            kind: text.kind,
            text: Box::new(text),
        }
    }
}

impl PluginLoadError {
    /// What is wrong, without the plugin/path prefix and the hint.
    pub fn problem(&self) -> &str {
        &self.text.problem
    }

    /// The long diagnostic behind the line, when there is one.
    pub fn detail(&self) -> Option<&str> {
        self.text.detail.as_deref()
    }
}

/// Which failure it was (for tests and exit codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginErrorKind {
    NotFound,
    NotAPlugin,
    VersionMismatch,
    LayoutMismatch,
    AbiHeader,
    ConstructorPanicked,
    ParamsRejected,
    RoleMismatch,
    Other,
}

/// Where plugin names are looked up.
#[derive(Debug, Clone)]
pub struct PluginLocator {
    /// Directories searched for `lib<name>.so`, in order.
    pub dirs: Vec<PathBuf>,
    /// What relative plugin paths are relative to (the config file's directory).
    pub base: PathBuf,
}

impl PluginLocator {
    /// The default search path: the executable's directory, its `deps/` (where `cargo test`
    /// leaves cdylibs) and its parent (for test binaries that live in `deps/`).
    pub fn next_to_executable() -> PluginLocator {
        let mut dirs = Vec::new();
        if let Some(dir) = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        {
            dirs.push(dir.clone());
            dirs.push(dir.join("deps"));
            if let Some(parent) = dir.parent() {
                dirs.push(parent.to_path_buf());
            }
        }
        PluginLocator {
            dirs,
            base: PathBuf::from("."),
        }
    }

    /// The search path: `[plugins] dir` (relative to the config's directory `base`) first, when
    /// set, then the directories next to the executable (so the shipped plugins are still found
    /// when a config adds its own directory).
    pub fn for_section(section: &PluginSection<'_>) -> PluginLocator {
        let base = section.base_dir.clone();
        let mut dirs = Vec::new();
        if let Some(dir) = &section.plugins.dir {
            dirs.push(base.join(dir));
        }
        dirs.extend(PluginLocator::next_to_executable().dirs);
        PluginLocator { dirs, base }
    }

    /// The library file name for a plugin name: `dislocation-entry` → `libdislocation_entry.so`.
    pub fn file_name(name: &str) -> String {
        format!("{DLL_PREFIX}{}{DLL_SUFFIX}", name.replace('-', "_"))
    }

    /// Whether `spec` names a path rather than a plugin name.
    pub fn is_path(spec: &str) -> bool {
        spec.contains(std::path::MAIN_SEPARATOR) || spec.contains('/') || spec.ends_with(DLL_SUFFIX)
    }

    /// Resolves a config `plugin` value (or a CLI argument) to a library path.
    pub fn resolve(&self, spec: &str) -> Result<PathBuf, PluginLoadError> {
        if PluginLocator::is_path(spec) {
            let p = Path::new(spec);
            let path = if p.is_absolute() {
                p.to_path_buf()
            } else {
                self.base.join(p)
            };
            if path.is_file() {
                return Ok(path);
            }
            return Err(PluginLoadError::from(ErrorText {
                plugin: spec.to_string(),
                path: path.display().to_string(),
                problem: "no such file".into(),
                hint: "check the path, or build the plugin first (`cargo build --release --workspace`)".into(),
                kind: PluginErrorKind::NotFound,
                detail: None,
            }));
        }
        let file = PluginLocator::file_name(spec);
        for dir in &self.dirs {
            let candidate = dir.join(&file);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        let searched = self
            .dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Err(PluginLoadError::from(ErrorText {
            plugin: spec.to_string(),
            path: file.clone(),
            problem: format!("not found in [{searched}]"),
            hint: format!(
                "build it (`cargo build --release -p {spec}`), set `plugins.dir`, or give a path to the library"
            ),
            kind: PluginErrorKind::NotFound,
            detail: None,
        }))
    }
}

/// Loads a library and turns every failure into a one-line `PluginLoadError`.
pub fn load_library(plugin: &str, path: &Path) -> Result<Library, PluginLoadError> {
    Library::load(path).map_err(|e| {
        let host = Library::host_abi_version();
        let (kind, hint, detail) = match &e {
            LoadError::Open { .. } => (
                PluginErrorKind::NotFound,
                "check the path and that the file is a shared library built for this machine".to_string(),
                None,
            ),
            LoadError::NotAPlugin { .. } => (
                PluginErrorKind::NotAPlugin,
                "a strategy plugin exports its type with `plugin_api::export_strategy!(Type, role = ...)`; check that this is the right file".to_string(),
                None,
            ),
            LoadError::VersionMismatch { .. } => (
                PluginErrorKind::VersionMismatch,
                format!("rebuild the plugin against plugin-api {host} (the host's version)"),
                None,
            ),
            LoadError::LayoutMismatch { full, .. } => (
                PluginErrorKind::LayoutMismatch,
                format!("rebuild the plugin against this host's plugin-api {host}"),
                Some(full.clone()),
            ),
            LoadError::AbiHeader { .. } => (
                PluginErrorKind::AbiHeader,
                "rebuild the plugin with this workspace's abi_stable (0.11)".to_string(),
                None,
            ),
            LoadError::LoaderPanicked => (
                PluginErrorKind::ConstructorPanicked,
                "fix the plugin: its module constructor must not panic".to_string(),
                None,
            ),
            LoadError::Other { .. } => (PluginErrorKind::Other, "see the host log".to_string(), None),
        };
        if let Some(d) = &detail {
            tracing::debug!(plugin, path = %path.display(), "abi_stable report:\n{d}");
        }
        PluginLoadError::from(ErrorText {
            plugin: plugin.to_string(),
            path: path.display().to_string(),
            problem: e.to_string(),
            hint,
            kind,
            detail,
        })
    })
}

/// What to create a strategy from.
#[derive(Debug, Clone)]
pub struct StrategySpec<'a> {
    /// The plugin as the user named it (for error lines).
    pub plugin_spec: &'a str,
    /// The strategy's name (config `name`).
    pub name: &'a str,
    pub markets: Vec<String>,
    pub params_toml: &'a str,
    /// Where the params came from, for the "fix …" hint.
    pub params_origin: &'a str,
    /// Calls slower than this are counted as over budget.
    pub call_budget_us: u64,
}

/// Creates one strategy from a loaded library.
pub fn create_strategy(
    lib: &Library,
    spec: StrategySpec<'_>,
    timer: CallTimer,
) -> Result<StrategySlot, PluginLoadError> {
    let StrategySpec {
        plugin_spec,
        name,
        markets,
        params_toml,
        params_origin,
        call_budget_us,
    } = spec;
    let log_name = name.to_string();
    let handle = lib
        .create(
            params_toml,
            &markets,
            move |level, msg| plugin_log(&log_name, level, msg),
            plugin_log_enabled,
        )
        .map_err(|e| {
            let (kind, problem, hint) = if e.panicked {
                (
                    PluginErrorKind::ConstructorPanicked,
                    format!("create() panicked: {}", e.message),
                    "fix the plugin: create() must return an error, not panic".to_string(),
                )
            } else {
                (
                    PluginErrorKind::ParamsRejected,
                    format!("strategy `{name}` refused its params: {}", e.message),
                    format!("fix {params_origin}"),
                )
            };
            PluginLoadError::from(ErrorText {
                plugin: plugin_spec.to_string(),
                path: lib.path().display().to_string(),
                problem,
                hint,
                kind,
                detail: None,
            })
        })?;
    Ok(StrategySlot::new(
        name.to_string(),
        lib.name(),
        lib.version(),
        lib.role(),
        markets,
        handle,
        timer,
        call_budget_us,
    ))
}

/// Whether the host's filter keeps plugin lines at `level` (asked by the plugin before it
/// formats a line).
pub fn plugin_log_enabled(level: LogLevel) -> bool {
    match level {
        LogLevel::Error => tracing::enabled!(target: "plugin", tracing::Level::ERROR),
        LogLevel::Warn => tracing::enabled!(target: "plugin", tracing::Level::WARN),
        LogLevel::Info => tracing::enabled!(target: "plugin", tracing::Level::INFO),
        LogLevel::Debug => tracing::enabled!(target: "plugin", tracing::Level::DEBUG),
        LogLevel::Trace => tracing::enabled!(target: "plugin", tracing::Level::TRACE),
    }
}

/// Forwards a plugin's log line to `tracing`, tagged with the strategy's name.
pub fn plugin_log(strategy: &str, level: LogLevel, msg: &str) {
    match level {
        LogLevel::Error => tracing::error!(target: "plugin", %strategy, "{msg}"),
        LogLevel::Warn => tracing::warn!(target: "plugin", %strategy, "{msg}"),
        LogLevel::Info => tracing::info!(target: "plugin", %strategy, "{msg}"),
        LogLevel::Debug => tracing::debug!(target: "plugin", %strategy, "{msg}"),
        LogLevel::Trace => tracing::trace!(target: "plugin", %strategy, "{msg}"),
    }
}

fn check_role(lib: &Library, plugin_spec: &str, s: &StrategyConfig) -> Result<(), PluginLoadError> {
    let want: Role = s.role.get_ref().role();
    if lib.role() == want {
        return Ok(());
    }
    Err(PluginLoadError::from(ErrorText {
        plugin: plugin_spec.to_string(),
        path: lib.path().display().to_string(),
        problem: format!(
            "strategy `{}` is configured with role = \"{}\" but `{}` is an {} plugin",
            s.name(),
            want.as_str(),
            lib.name(),
            lib.role().as_str()
        ),
        hint: "change `role` or `plugin` in the config".into(),
        kind: PluginErrorKind::RoleMismatch,
        detail: None,
    }))
}

/// Loads every configured strategy. Each library is loaded once however many strategies use it.
/// Returns every error found (one line each), not just the first.
pub fn load_strategies(
    section: &PluginSection<'_>,
) -> Result<Vec<StrategySlot>, Vec<PluginLoadError>> {
    let locator = PluginLocator::for_section(section);
    let timer = CallTimer::calibrate();
    let budget = section.plugins.call_budget_us;
    let mut libraries: HashMap<PathBuf, Library> = HashMap::new();
    let mut slots = Vec::new();
    let mut errors = Vec::new();
    for s in section.strategies {
        let spec = s.plugin.get_ref().as_str();
        let result = locator.resolve(spec).and_then(|path| {
            let lib = match libraries.get(&path) {
                Some(lib) => lib.clone(),
                None => {
                    let lib = load_library(spec, &path)?;
                    libraries.insert(path.clone(), lib.clone());
                    lib
                }
            };
            check_role(&lib, spec, s)?;
            let origin = format!(
                "`[strategies.params]` of strategy `{}` in {}",
                s.name(),
                section.origin.display()
            );
            let params = s.params_toml();
            let spec = StrategySpec {
                plugin_spec: spec,
                name: s.name(),
                markets: s.market_keys(),
                params_toml: &params,
                params_origin: &origin,
                call_budget_us: budget,
            };
            create_strategy(&lib, spec, timer)
        });
        match result {
            Ok(slot) => {
                tracing::info!(
                    strategy = %slot.name,
                    plugin = %slot.plugin,
                    version = %slot.plugin_version,
                    role = slot.role.as_str(),
                    markets = ?slot.markets,
                    "strategy loaded"
                );
                slots.push(slot);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(slots)
    } else {
        Err(errors)
    }
}
