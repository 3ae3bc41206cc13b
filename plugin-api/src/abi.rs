//! The ABI proper: the `Strategy` trait object, the root module each plugin library exports, and
//! the host services passed to a strategy at creation.

use crate::intents::Intents;
use crate::types::{Ctx, FillView, MarketIdx, OrderUpdateView, Refusal, Role};
use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RArc, RBox, RResult, RSlice, RStr, RString},
};
use std::fmt;

/// Why a plugin call or constructor failed.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct PluginError {
    /// True when the plugin panicked (it is then poisoned: every later call fails too).
    pub panicked: bool,
    pub message: RString,
}

impl PluginError {
    pub fn failed(message: impl Into<String>) -> Self {
        PluginError {
            panicked: false,
            message: RString::from(message.into()),
        }
    }

    pub fn panicked(message: impl Into<String>) -> Self {
        PluginError {
            panicked: true,
            message: RString::from(message.into()),
        }
    }
}

/// What every strategy call returns: `ROk(())` or the error that disables the strategy.
pub type CallResult = RResult<(), PluginError>;

/// A strategy instance as the host sees it. All calls are synchronous and run on the host's engine
/// thread; a plugin must not block, spawn async work or read the system clock (use `Ctx::now_ns`).
///
/// Plugin authors do not implement this trait: they implement [`crate::StrategyLogic`] and the
/// export macro wraps it in the panic guard, which implements this.
#[sabi_trait]
pub trait Strategy: Send {
    /// A subscribed market changed (BBO, asset context or book): the WS-driven path.
    fn on_market(&mut self, ctx: &Ctx<'_>, market: MarketIdx, out: &mut Intents) -> CallResult;
    /// The periodic timer (the backup polling path, default every 200 ms of engine time).
    fn on_timer(&mut self, ctx: &Ctx<'_>, out: &mut Intents) -> CallResult;
    /// A fill in one of the strategy's markets.
    fn on_fill(&mut self, ctx: &Ctx<'_>, fill: &FillView, out: &mut Intents) -> CallResult;
    /// One of the strategy's orders changed state.
    fn on_order_update(
        &mut self,
        ctx: &Ctx<'_>,
        update: &OrderUpdateView,
        out: &mut Intents,
    ) -> CallResult;
    /// An intent of this strategy was refused by a gate, or its order was rejected by the venue.
    fn on_reject(&mut self, ctx: &Ctx<'_>, refusal: &Refusal, out: &mut Intents) -> CallResult;
    /// The strategy's state as text, journaled at shutdown and periodically (hot reload).
    fn snapshot_state(&self) -> RResult<RString, PluginError>;
    /// Restores a state produced by `snapshot_state` (possibly by an older build of the plugin).
    #[sabi(last_prefix_field)]
    fn restore_state(&mut self, state: RStr<'_>) -> CallResult;
}

/// An owned strategy trait object.
pub type StrategyBox = Strategy_TO<'static, RBox<()>>;

/// Log levels a plugin can log at; they map one to one onto `tracing` levels in the host.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
    Trace = 4,
}

/// Services the host offers a strategy. A plugin's `log`/`tracing` globals are its own copies and
/// never reach the host, so logging goes through here.
#[sabi_trait]
pub trait HostServices: Send + Sync {
    fn log(&self, level: LogLevel, msg: RStr<'_>);
    /// Whether the host keeps lines at `level` (plugin-api 0.2.0): a line it would drop is never
    /// formatted.
    #[sabi(last_prefix_field)]
    fn enabled(&self, level: LogLevel) -> bool;
}

type HostServicesBox = HostServices_TO<'static, RBox<()>>;

/// The plugin's handle on host logging; lines land in the host's `tracing` output tagged with the
/// strategy's name. Cheap to clone. A line at a level the host drops costs one call and is never
/// formatted; a kept line is formatted in the plugin: keep those off the per-tick path.
#[repr(C)]
#[derive(StableAbi, Clone)]
pub struct Logger {
    host: RArc<HostServicesBox>,
}

impl Logger {
    /// Host side: a logger that forwards every level to `sink`.
    pub fn new<F>(sink: F) -> Logger
    where
        F: Fn(LogLevel, &str) + Send + Sync + 'static,
    {
        Logger::with_level(sink, |_| true)
    }

    /// Host side: a logger that forwards to `sink` the levels `enabled` keeps; the others are
    /// dropped in the plugin before they are formatted.
    pub fn with_level<F, E>(sink: F, enabled: E) -> Logger
    where
        F: Fn(LogLevel, &str) + Send + Sync + 'static,
        E: Fn(LogLevel) -> bool + Send + Sync + 'static,
    {
        struct Sink<F, E>(F, E);
        impl<F, E> HostServices for Sink<F, E>
        where
            F: Fn(LogLevel, &str) + Send + Sync + 'static,
            E: Fn(LogLevel) -> bool + Send + Sync + 'static,
        {
            fn log(&self, level: LogLevel, msg: RStr<'_>) {
                (self.0)(level, msg.as_str())
            }
            fn enabled(&self, level: LogLevel) -> bool {
                (self.1)(level)
            }
        }
        Logger {
            host: RArc::new(HostServices_TO::from_value(
                Sink(sink, enabled),
                abi_stable::sabi_trait::TD_Opaque,
            )),
        }
    }

    /// Whether the host keeps lines at `level`: test it before building an expensive line.
    #[inline]
    pub fn enabled(&self, level: LogLevel) -> bool {
        self.host.enabled(level)
    }

    /// A logger that drops everything (for unit tests of strategy logic).
    pub fn discard() -> Logger {
        Logger::new(|_, _| {})
    }

    pub fn log(&self, level: LogLevel, msg: &str) {
        if self.enabled(level) {
            self.host.log(level, RStr::from_str(msg));
        }
    }

    /// Formats and sends a line, unless the host drops `level` (then nothing is formatted).
    pub fn log_fmt(&self, level: LogLevel, args: fmt::Arguments<'_>) {
        if !self.enabled(level) {
            return;
        }
        match args.as_str() {
            Some(s) => self.log(level, s),
            None => self.log(level, &args.to_string()),
        }
    }

    pub fn error(&self, args: fmt::Arguments<'_>) {
        self.log_fmt(LogLevel::Error, args)
    }
    pub fn warn(&self, args: fmt::Arguments<'_>) {
        self.log_fmt(LogLevel::Warn, args)
    }
    pub fn info(&self, args: fmt::Arguments<'_>) {
        self.log_fmt(LogLevel::Info, args)
    }
    pub fn debug(&self, args: fmt::Arguments<'_>) {
        self.log_fmt(LogLevel::Debug, args)
    }
    pub fn trace(&self, args: fmt::Arguments<'_>) {
        self.log_fmt(LogLevel::Trace, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A line at a level the host drops is neither sent nor formatted.
    #[test]
    fn dropped_levels_are_not_formatted() {
        let sent = Arc::new(AtomicU32::new(0));
        let s = sent.clone();
        let log = Logger::with_level(
            move |_, _| {
                s.fetch_add(1, Ordering::Relaxed);
            },
            |l| l <= LogLevel::Info,
        );
        struct Counted<'a>(&'a AtomicU32);
        impl fmt::Display for Counted<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fetch_add(1, Ordering::Relaxed);
                f.write_str("x")
            }
        }
        let formatted = AtomicU32::new(0);
        log.debug(format_args!("{}", Counted(&formatted)));
        assert_eq!(formatted.load(Ordering::Relaxed), 0, "never formatted");
        assert_eq!(sent.load(Ordering::Relaxed), 0);
        log.info(format_args!("{}", Counted(&formatted)));
        assert_eq!(formatted.load(Ordering::Relaxed), 1);
        assert_eq!(sent.load(Ordering::Relaxed), 1);
        assert!(log.enabled(LogLevel::Warn) && !log.enabled(LogLevel::Trace));
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Logger")
    }
}

/// The constructor every plugin exports: `create(params_toml, markets, logger)`.
pub type CreateFn = extern "C" fn(
    params_toml: RStr<'_>,
    markets: RSlice<'_, RString>,
    logger: Logger,
) -> RResult<StrategyBox, PluginError>;

/// The root module of a strategy plugin library.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// The plugin's name (its crate name).
    pub name: extern "C" fn() -> RStr<'static>,
    /// The plugin's own version (its crate version; not the ABI version).
    pub version: extern "C" fn() -> RStr<'static>,
    /// Entry or exit.
    pub role: extern "C" fn() -> Role,
    /// Builds a strategy from its TOML params and its markets (as `venue/coin` keys).
    #[sabi(last_prefix_field)]
    pub create: extern "C" fn(
        params_toml: RStr<'_>,
        markets: RSlice<'_, RString>,
        logger: Logger,
    ) -> RResult<StrategyBox, PluginError>,
}

impl RootModule for PluginModuleRef {
    declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "strategy_plugin";
    const NAME: &'static str = "strategy_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
