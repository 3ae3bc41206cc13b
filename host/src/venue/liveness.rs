//! The keep-alive of one venue session, for any adapter that speaks a JSON ping: the sync must
//! finish by a deadline, a frame must arrive within the idle timeout, and a ping goes out every
//! `ping_every` and must be answered within `pong_timeout`.

use super::SessionEnd;
use std::time::{Duration, Instant};

/// The timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub sync: Duration,
    pub idle: Duration,
    pub ping_every: Duration,
    pub pong: Duration,
}

/// The state of one session.
#[derive(Debug)]
pub struct Liveness {
    sync_deadline: Instant,
    last_frame: Instant,
    next_ping: Instant,
    /// A ping is out and its pong not yet in, by then.
    pong_due: Option<Instant>,
}

impl Liveness {
    /// A session that began at `now`.
    pub fn new(now: Instant, t: &Timeouts) -> Liveness {
        Liveness {
            sync_deadline: now + t.sync,
            last_frame: now,
            next_ping: now + t.ping_every,
            pong_due: None,
        }
    }

    /// A frame (or a ping, pong or binary frame) arrived.
    pub fn alive(&mut self, now: Instant) {
        self.last_frame = now;
    }

    /// The pong arrived.
    pub fn pong(&mut self) {
        self.pong_due = None;
    }

    /// Time passed: the end of the session if a timeout passed, else whether a ping is due now
    /// (then it counts as sent).
    pub fn tick(&mut self, now: Instant, synced: bool, t: &Timeouts) -> Result<bool, SessionEnd> {
        if !synced && now > self.sync_deadline {
            return Err(SessionEnd::SyncTimeout(t.sync));
        }
        if now.saturating_duration_since(self.last_frame) > t.idle {
            return Err(SessionEnd::Idle(t.idle));
        }
        if self.pong_due.is_some_and(|d| now > d) {
            return Err(SessionEnd::NoPong(t.pong));
        }
        if now >= self.next_ping {
            self.next_ping = now + t.ping_every;
            self.pong_due.get_or_insert(now + t.pong);
            return Ok(true);
        }
        Ok(false)
    }
}
