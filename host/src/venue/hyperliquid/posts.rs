//! Posts in flight: every request sent over the socket's post channel, by id, until its answer
//! comes. A post without an answer is reported as an unknown outcome (never as a rejection the
//! venue did not give), but kept a while so a late answer still counts.

use crate::engine::types::Cloid;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What a post was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostKind {
    Orders(Vec<Cloid>),
    Cancels(Vec<Cloid>),
    ScheduleCancel,
    Info(InfoKind),
}

/// The info requests of the connect-time sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoKind {
    Clearinghouse,
    OpenOrders,
    RateLimit,
}

#[derive(Debug)]
struct InFlight {
    kind: PostKind,
    sent: Instant,
    /// Already reported as an unknown outcome: not reported again, and no longer counted
    /// against the cap (the venue may never answer it).
    timed_out: bool,
}

/// Post ids and what each is waiting for.
#[derive(Debug)]
pub struct Posts {
    next_id: u64,
    in_flight: HashMap<u64, InFlight>,
    timeout: Duration,
}

impl Posts {
    pub fn new(timeout: Duration) -> Posts {
        Posts {
            next_id: 1,
            in_flight: HashMap::new(),
            timeout,
        }
    }

    /// A new post id, recorded as waiting for `kind`.
    pub fn open(&mut self, kind: PostKind, now: Instant) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight.insert(
            id,
            InFlight {
                kind,
                sent: now,
                timed_out: false,
            },
        );
        id
    }

    /// The answer to post `id` came: what it was for (None for an id never sent or forgotten).
    pub fn answer(&mut self, id: u64) -> Option<PostKind> {
        self.in_flight.remove(&id).map(|p| p.kind)
    }

    /// Posts still waiting that count against the cap.
    pub fn live(&self) -> usize {
        self.in_flight.values().filter(|p| !p.timed_out).count()
    }

    /// Posts past their deadline, newly: their kinds (report them as unknown outcomes). Posts
    /// unanswered for 30 timeouts are forgotten.
    pub fn expire(&mut self, now: Instant) -> Vec<PostKind> {
        let timeout = self.timeout;
        let mut expired = Vec::new();
        for p in self.in_flight.values_mut() {
            if !p.timed_out && now.saturating_duration_since(p.sent) > timeout {
                p.timed_out = true;
                expired.push(p.kind.clone());
            }
        }
        self.in_flight
            .retain(|_, p| now.saturating_duration_since(p.sent) < timeout * 30);
        expired
    }

    /// The session ended: every post not yet reported, to report as unknown.
    pub fn drain_unreported(&mut self) -> Vec<PostKind> {
        self.in_flight
            .drain()
            .filter(|(_, p)| !p.timed_out)
            .map(|(_, p)| p.kind)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_posts_are_reported_once_and_stop_counting() {
        let t0 = Instant::now();
        let mut p = Posts::new(Duration::from_secs(1));
        let a = p.open(PostKind::Orders(vec![Cloid(1)]), t0);
        let _b = p.open(PostKind::ScheduleCancel, t0 + Duration::from_secs(2));
        assert_eq!(p.live(), 2);
        let e = p.expire(t0 + Duration::from_millis(1500));
        assert_eq!(e, vec![PostKind::Orders(vec![Cloid(1)])]);
        assert_eq!(p.live(), 1);
        assert!(p.expire(t0 + Duration::from_millis(1600)).is_empty());
        // A late answer still finds its post.
        assert_eq!(p.answer(a), Some(PostKind::Orders(vec![Cloid(1)])));
        assert_eq!(p.drain_unreported(), vec![PostKind::ScheduleCancel]);
    }
}
