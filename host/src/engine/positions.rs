//! `PositionTracker`: signed size, average entry, entry time and PnL per market, plus the
//! per-market pending-order aggregates the gates read and the set of markets being flattened.

use super::types::{Cloid, MarketId, Side};
use rust_decimal::Decimal;

/// The account's position in one market.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// Signed: positive long, negative short.
    pub size: Decimal,
    /// Average entry price of the open size; zero when flat.
    pub avg_entry: Decimal,
    /// Engine time the position was opened from flat; 0 when flat.
    pub entry_ns: u64,
    /// Realized PnL over the whole run, fees included.
    pub realized: Decimal,
    /// Fees paid over the whole run.
    pub fees: Decimal,
    /// Realized PnL (fees included) since the position was last opened from flat.
    pub round_trip: Decimal,
}

impl Position {
    pub fn unrealized(&self, mark: Decimal) -> Decimal {
        if self.size.is_zero() || mark.is_zero() {
            Decimal::ZERO
        } else {
            self.size * (mark - self.avg_entry)
        }
    }
}

/// What a fill did to a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillEffect {
    /// The position went from non-zero to exactly zero: a round trip closed, with this PnL.
    pub closed_round_trip: Option<Decimal>,
    /// PnL realized by this fill (fees included).
    pub realized: Decimal,
}

/// The market's in-flight orders, aggregated for the gates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pending {
    /// Unfilled size of active non-reduce-only orders.
    pub new_size: Decimal,
    /// Active non-reduce-only orders.
    pub new_count: u32,
    /// Active reduce-only orders.
    pub reduce_count: u32,
}

/// A flatten in progress in one market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flattening {
    pub cloid: Cloid,
    pub reason: plugin_api::FlattenReason,
    pub since_ns: u64,
}

#[derive(Debug, Clone)]
pub struct PositionTracker {
    positions: Vec<Position>,
    pending: Vec<Pending>,
    flattening: Vec<Option<Flattening>>,
}

impl PositionTracker {
    pub fn new(markets: usize) -> Self {
        PositionTracker {
            positions: vec![Position::default(); markets],
            pending: vec![Pending::default(); markets],
            flattening: vec![None; markets],
        }
    }

    #[inline]
    pub fn get(&self, m: MarketId) -> &Position {
        &self.positions[m.index()]
    }

    #[inline]
    pub fn pending(&self, m: MarketId) -> &Pending {
        &self.pending[m.index()]
    }

    pub fn set_pending(&mut self, m: MarketId, p: Pending) {
        self.pending[m.index()] = p;
    }

    pub fn flattening(&self, m: MarketId) -> Option<&Flattening> {
        self.flattening[m.index()].as_ref()
    }

    /// Marks `m` as being flattened; false if it already was (the two exit paths both ask).
    pub fn begin_flatten(&mut self, m: MarketId, f: Flattening) -> bool {
        let slot = &mut self.flattening[m.index()];
        if slot.is_some() {
            return false;
        }
        *slot = Some(f);
        true
    }

    pub fn end_flatten(&mut self, m: MarketId) -> Option<Flattening> {
        self.flattening[m.index()].take()
    }

    pub fn iter(&self) -> impl Iterator<Item = (MarketId, &Position)> {
        self.positions
            .iter()
            .enumerate()
            .map(|(i, p)| (MarketId(i as u32), p))
    }

    /// Markets with a non-zero position.
    pub fn open_markets(&self) -> impl Iterator<Item = MarketId> + '_ {
        self.iter()
            .filter(|(_, p)| !p.size.is_zero())
            .map(|(m, _)| m)
    }

    pub fn all_flat(&self) -> bool {
        self.positions.iter().all(|p| p.size.is_zero())
    }

    /// Applies a fill of `sz` (> 0) on `side` at `px`, paying `fee`.
    pub fn apply_fill(
        &mut self,
        m: MarketId,
        side: Side,
        px: Decimal,
        sz: Decimal,
        fee: Decimal,
        now: u64,
    ) -> FillEffect {
        let p = &mut self.positions[m.index()];
        let q = sz * side.sign();
        let old = p.size;
        let mut realized = -fee;
        if old.is_zero() || old.is_sign_positive() == q.is_sign_positive() {
            // Opening or adding.
            let total = old.abs() + sz;
            p.avg_entry = (old.abs() * p.avg_entry + sz * px) / total;
            if old.is_zero() {
                p.entry_ns = now;
                p.round_trip = Decimal::ZERO;
            }
            p.size = old + q;
        } else {
            // Reducing, closing, or flipping.
            let closed = sz.min(old.abs());
            let sign = if old.is_sign_negative() {
                Decimal::NEGATIVE_ONE
            } else {
                Decimal::ONE
            };
            let pnl = closed * (px - p.avg_entry) * sign;
            realized += pnl;
            p.size = old + q;
            if p.size.is_zero() {
                p.avg_entry = Decimal::ZERO;
            } else if p.size.is_sign_positive() != old.is_sign_positive() {
                // Flipped: the remainder opens a new position at this price.
                p.avg_entry = px;
                p.entry_ns = now;
            }
        }
        p.fees += fee;
        p.realized += realized;
        p.round_trip += realized;
        let closed_round_trip = if !old.is_zero() && p.size.is_zero() {
            let rt = p.round_trip;
            p.entry_ns = 0;
            Some(rt)
        } else if !old.is_zero()
            && !p.size.is_zero()
            && p.size.is_sign_positive() != old.is_sign_positive()
        {
            // A flip closes one round trip and opens the next.
            let rt = p.round_trip;
            p.round_trip = Decimal::ZERO;
            Some(rt)
        } else {
            None
        };
        FillEffect {
            closed_round_trip,
            realized,
        }
    }

    /// Replaces a position with the venue's view (reconciliation: the venue is the authority).
    pub fn set_from_venue(&mut self, m: MarketId, size: Decimal, entry_px: Decimal, now: u64) {
        let p = &mut self.positions[m.index()];
        if p.size != size {
            if p.size.is_zero() && !size.is_zero() {
                p.entry_ns = now;
                p.round_trip = Decimal::ZERO;
            }
            if size.is_zero() {
                p.entry_ns = 0;
            }
            p.size = size;
        }
        p.avg_entry = if size.is_zero() {
            Decimal::ZERO
        } else {
            entry_px
        };
    }

    pub fn total_realized(&self) -> Decimal {
        self.positions.iter().map(|p| p.realized).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn open_add_reduce_close_with_fees() {
        let mut t = PositionTracker::new(1);
        let m = MarketId(0);
        t.apply_fill(m, Side::Buy, d("100"), d("1"), d("0.1"), 10);
        t.apply_fill(m, Side::Buy, d("110"), d("1"), d("0.1"), 20);
        let p = *t.get(m);
        assert_eq!(p.size, d("2"));
        assert_eq!(p.avg_entry, d("105"));
        assert_eq!(p.entry_ns, 10);
        let e = t.apply_fill(m, Side::Sell, d("120"), d("1"), d("0.1"), 30);
        assert_eq!(e.realized, d("14.9"));
        assert_eq!(e.closed_round_trip, None);
        let e = t.apply_fill(m, Side::Sell, d("100"), d("1"), d("0.1"), 40);
        assert_eq!(e.realized, d("-5.1"));
        // Round trip: -0.1 -0.1 +14.9 -5.1 = 9.6
        assert_eq!(e.closed_round_trip, Some(d("9.6")));
        let p = *t.get(m);
        assert!(p.size.is_zero());
        assert_eq!(p.entry_ns, 0);
        assert_eq!(p.fees, d("0.4"));
        assert_eq!(p.realized, d("9.6"));
    }

    #[test]
    fn a_flip_opens_the_remainder_at_the_fill_price() {
        let mut t = PositionTracker::new(1);
        let m = MarketId(0);
        t.apply_fill(m, Side::Sell, d("50"), d("2"), Decimal::ZERO, 1);
        let e = t.apply_fill(m, Side::Buy, d("40"), d("3"), Decimal::ZERO, 2);
        assert_eq!(e.realized, d("20"));
        assert_eq!(e.closed_round_trip, Some(d("20")));
        let p = *t.get(m);
        assert_eq!(p.size, d("1"));
        assert_eq!(p.avg_entry, d("40"));
        assert_eq!(p.entry_ns, 2);
        assert_eq!(p.unrealized(d("45")), d("5"));
    }

    #[test]
    fn a_market_is_never_flattened_twice_at_once() {
        let mut t = PositionTracker::new(1);
        let f = Flattening {
            cloid: Cloid(1),
            reason: plugin_api::FlattenReason::new(plugin_api::FlattenKind::TIME_STOP, 0),
            since_ns: 0,
        };
        assert!(t.begin_flatten(MarketId(0), f));
        assert!(!t.begin_flatten(MarketId(0), f));
        t.end_flatten(MarketId(0));
        assert!(t.begin_flatten(MarketId(0), f));
    }
}
