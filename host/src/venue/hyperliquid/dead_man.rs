//! The `scheduleCancel` dead-man switch: armed a horizon ahead and refreshed at half of it while
//! the session is healthy, so a host that dies leaves no order resting for longer than the
//! horizon. The venue allows 10 triggers a day; the switch stops re-arming at 9 so the last one
//! is left for a real emergency.

use super::actions::Action;
use std::collections::HashSet;
use std::time::{Duration, Instant};

const DAY_MS: u64 = 86_400_000;
/// Triggers a day after which the switch is no longer armed (the venue's cap is 10).
const MAX_TRIGGERS_A_DAY: u32 = 9;

#[derive(Debug)]
pub struct DeadMan {
    /// None: off.
    horizon: Option<Duration>,
    /// When to arm next (None: at the first tick of a synced session).
    next_arm: Option<Instant>,
    /// The venue's day (wall ms / 86,400,000) the trigger count is for.
    day: u64,
    /// statusTimestamps of scheduledCancel updates already counted (one trigger cancels many
    /// orders, each reported with the same stamp).
    stamps: HashSet<u64>,
    pub triggers_today: u32,
    pub armed: u64,
}

impl DeadMan {
    pub fn new(horizon: Option<Duration>) -> DeadMan {
        DeadMan {
            horizon,
            next_arm: None,
            day: 0,
            stamps: HashSet::new(),
            triggers_today: 0,
            armed: 0,
        }
    }

    pub fn is_on(&self) -> bool {
        self.horizon.is_some()
    }

    /// A new synced session: arm at its first tick.
    pub fn reset(&mut self) {
        self.next_arm = None;
    }

    /// The action to post now, if the switch is due to be (re)armed.
    pub fn due(&mut self, now: Instant, wall_ms: u64) -> Option<Action> {
        let h = self.horizon?;
        if self.next_arm.is_some_and(|t| now < t) {
            return None;
        }
        self.next_arm = Some(now + h / 2);
        self.roll_day(wall_ms / DAY_MS);
        if self.triggers_today >= MAX_TRIGGERS_A_DAY {
            return None;
        }
        self.armed += 1;
        let time = wall_ms + h.max(Duration::from_secs(5)).as_millis() as u64;
        Some(Action::ScheduleCancel { time: Some(time) })
    }

    /// The disarm sent on an orderly stop (an orderly stop is not a dead process).
    pub fn disarm(&self) -> Option<Action> {
        self.horizon.map(|_| Action::ScheduleCancel { time: None })
    }

    /// A `scheduledCancel` order update: the switch fired (counted once per stamp).
    pub fn count_trigger(&mut self, stamp_ms: u64) {
        self.roll_day(stamp_ms / DAY_MS);
        if self.stamps.insert(stamp_ms) {
            self.triggers_today += 1;
            tracing::warn!(
                today = self.triggers_today,
                "the dead-man switch fired (scheduledCancel)"
            );
        }
    }

    fn roll_day(&mut self, day: u64) {
        if day != self.day {
            self.day = day;
            self.triggers_today = 0;
            self.stamps.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshed_at_half_the_horizon_and_capped_a_day() {
        let t0 = Instant::now();
        let mut d = DeadMan::new(Some(Duration::from_secs(30)));
        let wall = 5 * DAY_MS + 1_000;
        assert_eq!(
            d.due(t0, wall),
            Some(Action::ScheduleCancel {
                time: Some(wall + 30_000)
            })
        );
        assert_eq!(d.due(t0 + Duration::from_secs(14), wall), None);
        assert!(d.due(t0 + Duration::from_secs(15), wall).is_some());
        for s in 0..9 {
            d.count_trigger(wall + s);
            d.count_trigger(wall + s); // the same trigger reported by a second order
        }
        assert_eq!(d.triggers_today, 9);
        assert_eq!(d.due(t0 + Duration::from_secs(60), wall), None);
        // The next day counts afresh.
        assert!(d.due(t0 + Duration::from_secs(90), wall + DAY_MS).is_some());
        assert_eq!(DeadMan::new(None).due(t0, wall), None);
    }
}
