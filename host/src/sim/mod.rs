//! The built-in exchange simulator: a local server speaking Hyperliquid's protocol (WebSocket
//! `/ws`, HTTP `/info` and `/exchange`) on 127.0.0.1, so the same adapter code that trades the
//! real venue trades here, and every end-to-end and fault test runs against it.
//!
//! - [`market`]: oracle processes and books that dislocate in episodes (deterministic from a seed).
//! - [`account`], [`exchange`]: accounts and the venue's rules, with no I/O.

pub mod account;
pub mod config;
pub mod exchange;
pub mod market;
pub mod server;

#[cfg(test)]
mod tests;

/// A simulator a run started in-process, with the account traded on it (still running when the
/// run returns, so tests can compare the host's view with the simulator's).
pub struct SimVenue {
    /// The venue's name in the config.
    pub name: String,
    pub handle: server::SimHandle,
    pub account: crate::venue::hyperliquid::signing::Address,
}
