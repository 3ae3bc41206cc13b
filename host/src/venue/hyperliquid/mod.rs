//! The Hyperliquid venue adapter (main dex and HIP-3 builder dexes).
//!
//! - [`signing`]: L1 action signing (msgpack → keccak → EIP-712 phantom agent → secp256k1).
//! - [`actions`]: the actions (order, cancel, cancelByCloid, scheduleCancel, noop), in wire order.
//! - [`tick`]: price and size to wire (tick and lot rules, canonical strings).

pub mod actions;
pub mod client;
pub mod codes;
pub mod info;
pub mod secrets;
pub mod signing;
pub mod tick;
pub mod wire;

#[cfg(test)]
mod kat_tests;
#[cfg(test)]
mod wire_tests;
