//! `ActionBudget`: the host's token bucket plus the venue's reported per-address request budget.
//! Risk-increasing orders may only spend above the reserve; cancels and reduce-only orders may use
//! the reserve too, so a HardStop can always get its cancels and flattens out.

use super::types::VenueId;

#[derive(Debug, Clone)]
pub struct ActionBudget {
    capacity: u64,
    /// Milli-tokens, for exact refill arithmetic.
    milli: u64,
    refill_milli_per_ms: u64,
    reserve: u64,
    last_ns: u64,
    /// Remaining venue address budget per venue (None until the venue reports it).
    venue_remaining: Vec<Option<u64>>,
    venue_reserve: u64,
}

impl ActionBudget {
    pub fn new(
        capacity: u32,
        refill_per_sec: u32,
        reserve: u32,
        venues: usize,
        venue_reserve: u64,
    ) -> Self {
        ActionBudget {
            capacity: capacity as u64,
            milli: capacity as u64 * 1000,
            refill_milli_per_ms: refill_per_sec as u64,
            reserve: reserve.min(capacity) as u64,
            last_ns: 0,
            venue_remaining: vec![None; venues],
            venue_reserve,
        }
    }

    fn refill(&mut self, now: u64) {
        if now > self.last_ns {
            let ms = (now - self.last_ns) / 1_000_000;
            if ms > 0 {
                self.milli = (self.milli + ms * self.refill_milli_per_ms).min(self.capacity * 1000);
                self.last_ns += ms * 1_000_000;
            }
        } else if self.last_ns == 0 {
            self.last_ns = now;
        }
    }

    /// Takes `n` actions' worth for `venue`; `protective` (cancel / reduce-only) may dip into the
    /// reserves. False (and nothing taken) when not enough is left.
    pub fn try_take(&mut self, venue: VenueId, n: u64, protective: bool, now: u64) -> bool {
        self.refill(now);
        let floor = if protective { 0 } else { self.reserve };
        if self.milli < (floor + n) * 1000 {
            return false;
        }
        if let Some(Some(left)) = self.venue_remaining.get(venue.0 as usize) {
            let vfloor = if protective { 0 } else { self.venue_reserve };
            if *left < vfloor + n {
                return false;
            }
        }
        self.milli -= n * 1000;
        if let Some(Some(left)) = self.venue_remaining.get_mut(venue.0 as usize) {
            *left -= n;
        }
        true
    }

    /// The venue reported its address budget (requests used and cap).
    pub fn set_venue_budget(&mut self, venue: VenueId, used: u64, cap: u64) {
        if let Some(slot) = self.venue_remaining.get_mut(venue.0 as usize) {
            *slot = Some(cap.saturating_sub(used));
        }
    }

    /// Whole tokens available at `now`, without taking the refill (for metrics: a read).
    pub fn available_at(&self, now: u64) -> u64 {
        let mut milli = self.milli;
        if now > self.last_ns {
            let ms = (now - self.last_ns) / 1_000_000;
            milli = (milli + ms * self.refill_milli_per_ms).min(self.capacity * 1000);
        }
        milli / 1000
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// What the venue said is left of its per-address request budget (None: not said yet).
    pub fn venue_remaining(&self, venue: VenueId) -> Option<u64> {
        self.venue_remaining
            .get(venue.0 as usize)
            .copied()
            .flatten()
    }

    /// Whole tokens available now.
    pub fn available(&mut self, now: u64) -> u64 {
        self.refill(now);
        self.milli / 1000
    }
}

impl ActionBudget {
    /// Gives back `n` actions taken for `venue` (a pair whose second leg could not be paid for).
    pub fn refund(&mut self, venue: VenueId, n: u64) {
        self.milli = (self.milli + n * 1000).min(self.capacity * 1000);
        if let Some(Some(left)) = self.venue_remaining.get_mut(venue.0 as usize) {
            *left += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_is_for_protective_actions_only() {
        let v = VenueId(0);
        let mut b = ActionBudget::new(10, 1, 3, 1, 0);
        let t = 1_000_000;
        for _ in 0..7 {
            assert!(b.try_take(v, 1, false, t));
        }
        assert!(!b.try_take(v, 1, false, t), "the last 3 are reserved");
        for _ in 0..3 {
            assert!(b.try_take(v, 1, true, t));
        }
        assert!(!b.try_take(v, 1, true, t));
        // 1 token/s: after 1 s one protective action fits, no risk-increasing one.
        assert!(!b.try_take(v, 1, false, t + 1_000_000_000));
        assert!(b.try_take(v, 1, true, t + 1_000_000_000));
    }

    #[test]
    fn the_venue_budget_is_respected_too() {
        let v = VenueId(0);
        let mut b = ActionBudget::new(100, 10, 0, 1, 5);
        b.set_venue_budget(v, 95, 100);
        assert!(!b.try_take(v, 1, false, 1), "5 left, all reserved");
        assert!(b.try_take(v, 1, true, 1));
    }
}
