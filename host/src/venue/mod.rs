//! Venue adapters: the seam between a venue's protocol and the engine.
//!
//! An adapter is sans-I/O: the runtime's venue task (`runtime::venue_task`) owns the socket and
//! the clock, and hands the adapter what happened (a session began, a text frame arrived, time
//! passed, the engine has a batch); the adapter answers with engine [`Event`]s and the frames to
//! send, written into an [`Outbox`]. It never calls the engine and the engine never calls it, so
//! the data flows one way: frame → adapter → events → engine → batch → adapter → frames.
//!
//! - [`hyperliquid`]: the Hyperliquid adapter (main dex and HIP-3 builder dexes).
//! - [`http`]: a small HTTPS client for info requests made outside a session.
//!
//! docs/venue.md says, step by step, how a second venue is added.

pub mod http;
pub mod hyperliquid;
pub mod liveness;

use crate::engine::events::Event;
use crate::engine::scheduler::ActionBatch;
use crate::engine::types::VenueId;
use std::time::{Duration, Instant};

/// The time an adapter is given: monotonic for its timeouts, wall-clock milliseconds for what the
/// venue stamps (nonces, expiry, dead-man deadlines).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub mono: Instant,
    pub wall_ms: u64,
}

/// What one call into an adapter produced. The venue task sends `frames` in order, then hands
/// `events` to the engine, then ends the session if `end` is set. Reused across calls (the hot
/// path allocates nothing for it once warm).
#[derive(Debug, Default)]
pub struct Outbox {
    /// Engine events, in the order they happened.
    pub events: Vec<Event>,
    /// Text frames to write to the socket, in order.
    pub frames: Vec<String>,
    /// The session must end (the first reason wins).
    pub end: Option<SessionEnd>,
}

impl Outbox {
    pub fn end(&mut self, why: SessionEnd) {
        self.end.get_or_insert(why);
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.frames.is_empty() && self.end.is_none()
    }
}

/// Why a session ended (the venue task then reconnects with backoff, unless `Shutdown`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionEnd {
    #[error("connect failed: {0}")]
    Connect(String),
    #[error("connection closed: {0}")]
    Closed(String),
    #[error("no frame for {0:?}")]
    Idle(Duration),
    #[error("no pong within {0:?}")]
    NoPong(Duration),
    #[error("not synced within {0:?}")]
    SyncTimeout(Duration),
    #[error("reconciliation failed ({0}): not trading on this venue until a reconcile succeeds")]
    Reconcile(String),
    #[error("shutdown")]
    Shutdown,
}

/// How the venue task connects and reconnects.
#[derive(Debug, Clone)]
pub struct SessionPolicy {
    pub ws_url: String,
    /// Connecting (TCP, TLS, WebSocket handshake) must finish within this.
    pub connect_timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// How often `on_tick` is called while connected.
    pub tick_every: Duration,
    /// The venue's HTTP base URL, for reconciles while the session stays up (None: none).
    pub info_url: Option<String>,
    /// A verification reconcile this often while live (None: off).
    pub verify_every: Option<Duration>,
    /// Reconciles asked for (unmatched fills, unknown outcomes, lost fills, the operator) start
    /// at most this often; requests meanwhile are folded into the next one.
    pub reconcile_min_interval: Duration,
}

/// One HTTP request of a reconcile: a JSON body POSTed to `path` of the venue's HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpQuery {
    pub path: &'static str,
    pub body: String,
}

pub use crate::logging::log_nth;

/// Counters every adapter keeps (status lines, the metrics room, tests).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AdapterStats {
    pub sessions: u64,
    pub frames: u64,
    pub unreadable_frames: u64,
    pub unknown_channels: u64,
    pub unknown_statuses: u64,
    pub posts: u64,
    pub unknown_outcomes: u64,
    pub dead_man_armed: u64,
    pub dead_man_triggers_today: u32,
    /// Reconciles begun while live, and those whose answers could not be applied.
    pub reconciles: u64,
    pub reconciles_failed: u64,
    /// Error frames from the venue, and whole requests it refused.
    pub venue_errors: u64,
    pub requests_refused: u64,
}

/// A venue's protocol, sans I/O. Every method writes what it produced into `out`.
pub trait VenueAdapter {
    fn venue(&self) -> VenueId;
    fn policy(&self) -> &SessionPolicy;
    fn stats(&self) -> &AdapterStats;

    /// A socket is open: the session's first frames (subscriptions) and `Connected`.
    fn on_connect(&mut self, now: Now, out: &mut Outbox);
    /// One text frame from the venue.
    fn on_frame(&mut self, text: &str, now: Now, out: &mut Outbox);
    /// A ping, pong or binary frame: nothing to decode, but the connection is alive.
    fn on_alive(&mut self, now: Now);
    /// Time passed: keep-alive, timeouts, posts without an answer, the dead-man switch.
    fn on_tick(&mut self, now: Now, out: &mut Outbox);
    /// Whether a batch may be written now (synced, and room for more posts in flight).
    fn can_write(&self) -> bool;
    /// The engine's batch: pre-send HardStop guard, venue rules, signing; what cannot be sent is
    /// refused as events.
    fn write(&mut self, batch: ActionBatch, now: Now, out: &mut Outbox);
    /// A batch that cannot be sent (no session): refused as events, nothing sent.
    fn refuse(&mut self, batch: ActionBatch, out: &mut Outbox);
    /// The session is over: posts without an answer become unknown outcomes, then
    /// `Disconnected`.
    fn on_disconnect(&mut self, out: &mut Outbox);
    /// An orderly stop: the last frames to send (disarming the dead-man switch).
    fn on_shutdown(&mut self, now: Now, out: &mut Outbox);
    /// Begins a reconcile while the session stays up: the HTTP queries to make (in order), and
    /// `ReconcileStarted` in `out`. None when it cannot begin now (not synced).
    fn reconcile_queries(&mut self, now: Now, out: &mut Outbox) -> Option<Vec<HttpQuery>>;
    /// The answers to the queries, in their order (a transport error as `Err`): the venue's
    /// account state as `LiveReconciled`, then what it adds (missed fills, order statuses).
    /// Returns false when the answers could not be applied (the venue task asks again).
    fn reconcile_answers(
        &mut self,
        answers: Vec<Result<String, String>>,
        now: Now,
        out: &mut Outbox,
    ) -> bool;
    /// A venue whose account is local (paper) reconciles without a query: `ReconcileStarted`
    /// and `LiveReconciled` straight into `out`. Returns false when it cannot (not synced, or
    /// not such a venue: the default).
    fn reconcile_local(&mut self, _now: Now, _out: &mut Outbox) -> bool {
        false
    }
}
