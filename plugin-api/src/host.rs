//! The host's side of the ABI: load a plugin library, create strategies, call them.
//!
//! Each library is loaded on its own with `lib_header_from_path(..).init_root_module()`, never
//! with `RootModule::load_from_file`, which caches the first module per interface type and would
//! silently hand every later plugin the first one's code.

use crate::abi::{LogLevel, Logger, PluginError, PluginModuleRef, StrategyBox};
use crate::intents::Intents;
use crate::types::{Ctx, FillView, MarketIdx, OrderUpdateView, Refusal, Role};
use abi_stable::library::{LibraryError, RootModuleError, lib_header_from_path};
use abi_stable::std_types::{RResult, RStr, RString};
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a library could not be loaded as a strategy plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The file is missing or not a loadable shared library.
    Open {
        detail: String,
    },
    /// A shared library, but it exports no strategy-plugin header.
    NotAPlugin {
        detail: String,
    },
    /// The plugin was built against a plugin-api version this host cannot use.
    VersionMismatch {
        host: String,
        plugin: String,
    },
    /// Same version line but the types differ: the plugin was built against a different
    /// plugin-api. `errors` holds only the `Error:` lines of abi_stable's report; `full` is the rest.
    LayoutMismatch {
        errors: Vec<String>,
        full: String,
    },
    /// Built with an incompatible abi_stable release.
    AbiHeader {
        detail: String,
    },
    /// The library's root-module constructor panicked.
    LoaderPanicked,
    Other {
        detail: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Open { detail } => write!(f, "cannot open library: {detail}"),
            LoadError::NotAPlugin { detail } => {
                write!(f, "not a strategy plugin (no plugin header: {detail})")
            }
            LoadError::VersionMismatch { host, plugin } => write!(
                f,
                "plugin ABI version mismatch: plugin built against plugin-api {plugin}, host uses {host}"
            ),
            LoadError::LayoutMismatch { errors, .. } => {
                write!(f, "plugin ABI mismatch: {}", errors.join("; "))
            }
            LoadError::AbiHeader { detail } => {
                write!(f, "incompatible abi_stable release: {detail}")
            }
            LoadError::LoaderPanicked => {
                write!(f, "the library's root module constructor panicked")
            }
            LoadError::Other { detail } => write!(f, "{detail}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    fn from_library_error(e: LibraryError) -> LoadError {
        match e {
            LibraryError::OpenError { err, .. } => LoadError::Open {
                detail: one_line(&err.to_string()),
            },
            LibraryError::GetSymbolError { err, .. } => LoadError::NotAPlugin {
                detail: one_line(&err.to_string()),
            },
            LibraryError::IncompatibleVersionNumber {
                expected_version,
                actual_version,
                ..
            } => LoadError::VersionMismatch {
                host: expected_version.to_string(),
                plugin: actual_version.to_string(),
            },
            LibraryError::AbiInstability(report) => {
                let full = report.to_string();
                LoadError::LayoutMismatch {
                    errors: summarize_layout_report(&full),
                    full,
                }
            }
            LibraryError::InvalidAbiHeader(h) => LoadError::AbiHeader {
                detail: format!("{h:?}"),
            },
            LibraryError::RootModule {
                err: RootModuleError::Unwound,
                ..
            } => LoadError::LoaderPanicked,
            LibraryError::Many(list) => list
                .into_iter()
                .next()
                .map(LoadError::from_library_error)
                .unwrap_or(LoadError::Other {
                    detail: "unknown load error".into(),
                }),
            other => LoadError::Other {
                detail: one_line(&other.to_string()),
            },
        }
    }
}

/// The `Error:` entries of abi_stable's (very long) layout report, each with its expected and
/// found values on one line: `incompatible package versions (expected 0.1.0, found 0.2.0)`.
pub fn summarize_layout_report(full: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut lines = full.lines().map(str::trim).peekable();
    while let Some(line) = lines.next() {
        let Some(what) = line.strip_prefix("Error:") else {
            continue;
        };
        let (mut expected, mut found) = (None, None);
        while let Some(&next) = lines.peek() {
            if next.starts_with("Error:") || next.is_empty() {
                break;
            }
            lines.next();
            let slot = match next {
                "Expected:" => &mut expected,
                "Found:" => &mut found,
                _ => continue,
            };
            *slot = lines.next().map(one_line);
        }
        let entry = match (expected, found) {
            (Some(e), Some(f)) => format!("{} (expected {e}, found {f})", what.trim()),
            _ => what.trim().to_string(),
        };
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    if out.is_empty() {
        out.push("type layouts differ".into());
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A loaded strategy-plugin library. Libraries are never unloaded (see docs/plugins.md).
#[derive(Clone)]
pub struct Library {
    module: PluginModuleRef,
    path: PathBuf,
    /// The plugin-api version the library was built against.
    abi_version: String,
}

impl fmt::Debug for Library {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Library")
            .field("path", &self.path)
            .field("name", &self.name())
            .field("version", &self.version())
            .finish()
    }
}

impl Library {
    /// Loads `path`, checks its ABI version and type layout, and runs its root-module constructor.
    pub fn load(path: &Path) -> Result<Library, LoadError> {
        if !path.exists() {
            return Err(LoadError::Open {
                detail: format!("{}: no such file", path.display()),
            });
        }
        let header = lib_header_from_path(path).map_err(LoadError::from_library_error)?;
        let abi_version = header.version_strings().version.as_str().to_string();
        let module = header
            .init_root_module::<PluginModuleRef>()
            .map_err(LoadError::from_library_error)?;
        Ok(Library {
            module,
            path: path.to_path_buf(),
            abi_version,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn name(&self) -> String {
        (self.module.name())().to_string()
    }

    pub fn version(&self) -> String {
        (self.module.version())().to_string()
    }

    pub fn role(&self) -> Role {
        (self.module.role())()
    }

    /// The plugin-api version the library was built against.
    pub fn abi_version(&self) -> &str {
        &self.abi_version
    }

    /// The plugin-api version this host was built with (what a plugin must be compatible with).
    pub fn host_abi_version() -> &'static str {
        crate::ABI_VERSION
    }

    /// Creates a strategy. `log` receives the strategy's log lines at the levels `enabled` keeps
    /// (the others are dropped in the plugin, unformatted).
    pub fn create(
        &self,
        params_toml: &str,
        markets: &[String],
        log: impl Fn(LogLevel, &str) + Send + Sync + 'static,
        enabled: impl Fn(LogLevel) -> bool + Send + Sync + 'static,
    ) -> Result<StrategyHandle, PluginError> {
        let markets: Vec<RString> = markets.iter().map(|m| RString::from(m.as_str())).collect();
        let create = self.module.create();
        match create(
            RStr::from_str(params_toml),
            markets.as_slice().into(),
            Logger::with_level(log, enabled),
        ) {
            RResult::ROk(inner) => Ok(StrategyHandle { inner }),
            RResult::RErr(e) => Err(e),
        }
    }
}

/// A strategy instance created by a plugin. Every method returns the plugin's error when it
/// panicked (or, for `restore_state`, refused the state).
pub struct StrategyHandle {
    inner: StrategyBox,
}

impl fmt::Debug for StrategyHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StrategyHandle")
    }
}

impl StrategyHandle {
    /// A strategy built in-process from its logic (engine tests, property tests): the same
    /// trait object and panic guard a loaded plugin goes through.
    pub fn in_process<T: crate::StrategyLogic>(logic: T) -> StrategyHandle {
        StrategyHandle {
            inner: crate::abi::Strategy_TO::from_ptr(
                abi_stable::std_types::RBox::new(crate::guard::Guarded::new(logic)),
                abi_stable::sabi_trait::TD_Opaque,
            ),
        }
    }

    #[inline]
    pub fn on_market(
        &mut self,
        ctx: &Ctx<'_>,
        market: MarketIdx,
        out: &mut Intents,
    ) -> Result<(), PluginError> {
        self.inner.on_market(ctx, market, out).into_result()
    }

    #[inline]
    pub fn on_timer(&mut self, ctx: &Ctx<'_>, out: &mut Intents) -> Result<(), PluginError> {
        self.inner.on_timer(ctx, out).into_result()
    }

    #[inline]
    pub fn on_fill(
        &mut self,
        ctx: &Ctx<'_>,
        fill: &FillView,
        out: &mut Intents,
    ) -> Result<(), PluginError> {
        self.inner.on_fill(ctx, fill, out).into_result()
    }

    #[inline]
    pub fn on_order_update(
        &mut self,
        ctx: &Ctx<'_>,
        update: &OrderUpdateView,
        out: &mut Intents,
    ) -> Result<(), PluginError> {
        self.inner.on_order_update(ctx, update, out).into_result()
    }

    #[inline]
    pub fn on_reject(
        &mut self,
        ctx: &Ctx<'_>,
        refusal: &Refusal,
        out: &mut Intents,
    ) -> Result<(), PluginError> {
        self.inner.on_reject(ctx, refusal, out).into_result()
    }

    pub fn snapshot_state(&self) -> Result<String, PluginError> {
        self.inner
            .snapshot_state()
            .into_result()
            .map(|s| s.into_string())
    }

    pub fn restore_state(&mut self, state: &str) -> Result<(), PluginError> {
        self.inner
            .restore_state(RStr::from_str(state))
            .into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_report_is_summarized() {
        let report = "lots of text\n\nError:incompatible package versions\nExpected:\n    0.1.0\nFound:\n    0.2.0\n1 error(s)inside:\n\nError:incompatible package versions\nExpected:\n    0.1.0\nFound:\n    0.2.0\nError:too many fields\n";
        assert_eq!(
            summarize_layout_report(report),
            vec![
                "incompatible package versions (expected 0.1.0, found 0.2.0)".to_string(),
                "too many fields".to_string()
            ]
        );
        assert_eq!(
            summarize_layout_report("x"),
            vec!["type layouts differ".to_string()]
        );
    }
}
