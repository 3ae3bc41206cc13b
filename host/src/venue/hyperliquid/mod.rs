//! The Hyperliquid venue adapter (main dex and HIP-3 builder dexes), sans I/O.
//!
//! The protocol, one concept per file:
//! - [`adapter`]: [`HlAdapter`], the `VenueAdapter` of one connection: composes the rest, plus
//!   the subscriptions and the keep-alive.
//! - [`decode`]: market and user frames → engine events. [`wire`]: the frames' types;
//!   [`fast_frames`]: the market frames in the venue's own form, read by hand.
//! - [`sync`]: the connect-time sync and account-state reconcile.
//! - [`writer`]: batch → pre-send HardStop guard → tick/lot rules → signed posts; refusals as values.
//! - [`answers`]: the venue's answers to action posts → events. [`posts`]: posts in flight.
//! - [`dead_man`]: the scheduleCancel dead-man switch.
//! - [`markets`]: the connection's coins, asset rules and dexes.
//! - [`client_config`]: how a connection behaves; [`config`]: the `[[venues]]` entry and start-up.
//! - [`signing`]: L1 action signing (msgpack → keccak → EIP-712 phantom agent → secp256k1).
//! - [`actions`]: the actions (order, cancel, cancelByCloid, scheduleCancel, noop), in wire order.
//! - [`tick`]: price and size to wire (tick and lot rules, canonical strings).
//! - [`codes`]: the venue's statuses and error strings → reason codes.
//! - [`info`]: info requests and answers, asset ids. [`secrets`]: where the agent key comes from.

pub mod actions;
pub mod adapter;
pub mod answers;
pub mod client_config;
pub mod codes;
pub mod config;
pub mod dead_man;
pub mod decode;
pub mod fast_frames;
pub mod info;
pub mod live;
pub mod markets;
pub mod posts;
pub mod secrets;
pub mod signing;
pub mod sync;
pub mod tick;
pub mod wire;
pub mod writer;

pub use adapter::HlAdapter;
pub use client_config::HlClientConfig;

#[cfg(test)]
mod adapter_tests;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod kat_tests;
#[cfg(test)]
mod wire_tests;
