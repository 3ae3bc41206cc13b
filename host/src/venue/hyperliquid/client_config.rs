//! How one Hyperliquid connection behaves: URL, account, network, keep-alive, timeouts, the
//! dead-man horizon. Defaults follow reference §1.3 and §2.5.

use super::signing::Address;
use crate::engine::types::{MarketId, VenueId};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct HlClientConfig {
    pub venue: VenueId,
    /// `wss://api.hyperliquid.xyz/ws`, or the simulator's `ws://127.0.0.1:PORT/ws`.
    pub ws_url: String,
    /// The account whose positions and orders are tracked (master or sub-account).
    pub user: Address,
    /// Trading for a vault or sub-account: its address (hashed and sent as `vaultAddress`).
    pub vault: Option<Address>,
    /// Phantom agent source "a" (mainnet) or "b" (testnet and the simulator).
    pub mainnet: bool,
    /// The markets traded on this venue, with their venue coin names.
    pub markets: Vec<(MarketId, String)>,
    /// A JSON ping this often (the venue closes a connection silent for 60 s).
    pub ping_every: Duration,
    pub pong_timeout: Duration,
    /// No frame at all for this long: the connection is dead.
    pub idle_timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Subscriptions and the account state must arrive within this, or the session restarts.
    pub sync_timeout: Duration,
    /// Posts waiting for an answer at most; further batches wait in the engine's queue.
    pub max_posts_in_flight: usize,
    /// A post with no answer after this is reported `UnknownOutcome`.
    pub post_timeout: Duration,
    /// Dead-man switch horizon (≥ 5 s; None = off), refreshed at half the horizon while live.
    pub dead_man: Option<Duration>,
    /// `expiresAfter` horizon for actions (None = not sent).
    pub expires_after: Option<Duration>,
    /// The HTTP base URL (`/info`), for reconciles while the session stays up (None: none).
    pub info_url: Option<String>,
    /// A verification reconcile this often while live (None: off).
    pub verify_every: Option<Duration>,
    /// Asked-for reconciles start at most this often.
    pub reconcile_min_interval: Duration,
}

impl HlClientConfig {
    pub fn new(
        venue: VenueId,
        ws_url: String,
        user: Address,
        markets: Vec<(MarketId, String)>,
    ) -> Self {
        HlClientConfig {
            venue,
            ws_url,
            user,
            vault: None,
            mainnet: false,
            markets,
            ping_every: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            sync_timeout: Duration::from_secs(15),
            max_posts_in_flight: 64,
            post_timeout: Duration::from_secs(10),
            dead_man: Some(Duration::from_secs(30)),
            expires_after: None,
            info_url: None,
            verify_every: Some(Duration::from_secs(60)),
            reconcile_min_interval: Duration::from_secs(5),
        }
    }
}
