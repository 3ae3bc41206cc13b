//! The built-in exchange simulator: a local server speaking Hyperliquid's protocol (WebSocket
//! `/ws`, HTTP `/info` and `/exchange`) on 127.0.0.1, so the same adapter code that trades the
//! real venue trades here, and every end-to-end and fault test runs against it.
//!
//! - [`market`]: oracle processes and books that dislocate in episodes (deterministic from a seed).
//! - [`account`], [`exchange`]: accounts and the venue's rules, with no I/O.
//! - [`matching`]: the matching rules, shared with the backtest's simulated execution.

pub mod account;
pub mod config;
pub mod exchange;
pub mod market;
pub mod matching;
pub mod persist;
pub mod server;

#[cfg(test)]
mod clock_tests;
#[cfg(test)]
mod tests;

/// A simulator started for a `[[venues]]` entry: its handle and the endpoint the venue
/// connects to.
pub struct Launched {
    pub handle: server::SimHandle,
    pub local: crate::venue::hyperliquid::config::LocalVenue,
}

/// Starts the simulator of venue `venue` on a free loopback port. Its agent key is derived from
/// the seed and the venue's name, so a restart trades the same simulated account.
pub async fn launch(cfg: config::SimConfig, venue: &str) -> anyhow::Result<Launched> {
    use crate::venue::hyperliquid::signing::{PrivateKey, keccak, to_hex};
    let seed = cfg.seed;
    let handle = server::spawn(cfg, 0).await?;
    let mut material = format!("strategy-host simulator agent/{venue}/{seed}").into_bytes();
    for _ in 0..4 {
        let k = keccak(&material);
        if let Ok(agent) = PrivateKey::from_hex(&to_hex(&k)) {
            let local = crate::venue::hyperliquid::config::LocalVenue {
                ws_url: handle.ws_url(),
                info_url: handle.http_url(),
                agent: std::sync::Arc::new(agent),
            };
            return Ok(Launched { handle, local });
        }
        material = k.to_vec();
    }
    anyhow::bail!("could not derive a simulator key")
}

/// A simulator a run started in-process, with the account traded on it (still running when the
/// run returns, so tests can compare the host's view with the simulator's).
pub struct SimVenue {
    /// The venue's name in the config.
    pub name: String,
    pub handle: server::SimHandle,
    pub account: crate::venue::hyperliquid::signing::Address,
}
