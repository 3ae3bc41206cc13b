//! Venue adapters. Each turns engine batches into the venue's signed actions and the venue's
//! frames into engine events.

pub mod events;
pub mod http;
pub mod hyperliquid;
