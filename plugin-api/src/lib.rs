//! `plugin-api`: everything that crosses the boundary between strategy-host and a strategy plugin.
//!
//! The crate's version IS the plugin ABI version (see `docs/plugins.md`, "Compatibility").
//! Every abi_stable type stays inside this crate: plugins and the host use the wrappers below, so
//! a later move to another stable-ABI mechanism touches only this crate.
//!
//! Map of the pieces:
//! - [`decimal`]: `FfiDecimal`, the 16-byte carrier of `rust_decimal::Decimal` across the ABI.
//! - [`types`]: read-only views handed to a strategy (market snapshots, positions, fills, order
//!   updates, refusals) and their small enums/codes.
//! - [`intents`]: what a strategy may ask for (`Place`, `Flatten`, `Cancel`, `PlacePair`) and the
//!   host-owned, bounded buffer it writes them into (no allocation per call).
//! - [`abi`]: the `#[sabi_trait] Strategy`, the root module `PluginModule`, host services.
//! - [`guard`]: the panic guard every call goes through, and the plain-Rust `StrategyLogic` trait
//!   a plugin author implements.
//! - [`export`]: the `export_strategy!` macro: a plugin is plain Rust plus one macro call.
//! - [`params`]: parsing of the strategy's TOML `params` table, with errors naming the key, and
//!   the market-count check.
//! - [`state`]: a strategy's state across restarts as JSON (`save`, `load`).
//! - [`host`]: what the host uses to load a library and call a strategy, with typed errors.
//!
//! # Writing a strategy
#![doc = include_str!("../README.md")]
#![allow(non_local_definitions)] // #[sabi_trait] and derive(StableAbi) trigger it on current rustc

pub mod abi;
pub mod decimal;
pub mod export;
pub mod guard;
pub mod host;
pub mod intents;
pub mod params;
pub mod state;
pub mod types;

pub use abi::{LogLevel, Logger};
pub use decimal::FfiDecimal;
pub use guard::StrategyLogic;
pub use intents::{
    CancelIntent, FlattenIntent, FlattenKind, FlattenReason, Intent, Intents, PairIntent,
    PlaceIntent, Tif,
};
pub use rust_decimal::Decimal;
pub use types::{
    Ctx, FillView, Level, MarketIdx, MarketSnapshot, OrderStatus, OrderUpdateView, PositionView,
    Refusal, RejectCode, Role, Side,
};

/// The plugin ABI version: this crate's version, compiled into host and plugins alike.
pub const ABI_VERSION: &str = env!("CARGO_PKG_VERSION");

#[doc(hidden)]
pub mod __private {
    //! Items the export macro expands to. Not part of the API.
    pub use abi_stable;
}
