//! strategy-host: runs perpetual-futures strategy plugins behind safety gates.
//!
//! Map of the pieces (see `docs/` and `../shared/DESIGN.md` for the why):
//! - [`config`]: the TOML config, with file:line:col errors.
//! - [`engine`]: the deterministic core: market state, trackers, gates, scheduler, HardStop.
//! - [`plugins`]: loading, validating and calling strategy plugins (panic → disabled).
//! - [`cli`]: the `strategy-host` command line.
//! - [`logging`]: tracing setup.

pub mod cli;
pub mod config;
pub mod crash;
pub mod engine;
pub mod hex;
pub mod journal;
pub mod logging;
pub mod metrics;
pub mod plugins;
pub mod runtime;
pub mod sim;
pub mod stagetime;
pub mod venue;
