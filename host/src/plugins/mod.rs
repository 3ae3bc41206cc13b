//! Loading, validating and calling strategy plugins.
//!
//! - [`loader`]: finds a plugin library (by path or by name), loads it on its own, checks its role
//!   and creates strategies; every failure is one line naming plugin, path and what to do.
//! - [`slot`]: a created strategy as the engine calls it: panic → disabled (host keeps running),
//!   call-time budget counted per strategy.
//! - [`timer`]: the cheap call timer behind the budget (observation only, never a decision input).

pub mod config;
pub mod loader;
pub mod scaffold;
pub mod slot;
pub mod timer;

pub use loader::{PluginLoadError, PluginLocator, load_strategies};
pub use slot::{CallOutcome, CallStats, StrategySlot};
