//! The spread between two markets A and B (seed 003), shared by `delta-neutral-entry` and
//! `spread-exit` so both read the market the same way.
//!
//! reference = (mid_A + mid_B) / 2
//! LongAShortB (buy A at its ask, sell B at its bid): spread = (bid_B − ask_A) / reference × 10⁴
//! ShortALongB (sell A at its bid, buy B at its ask): spread = (bid_A − ask_B) / reference × 10⁴
//!
//! A position opened in one direction is closed by trading the other, so its *exit spread* is the
//! other direction's spread, and the round trip earns about entry spread + exit spread.

use plugin_api::{Decimal, MarketSnapshot};

const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// Which way a pair is (or would be) on. The code is what `PlacePair` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    LongAShortB = 1,
    ShortALongB = 2,
}

impl Direction {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(c: u8) -> Option<Direction> {
        match c {
            1 => Some(Direction::LongAShortB),
            2 => Some(Direction::ShortALongB),
            _ => None,
        }
    }

    pub fn opposite(self) -> Direction {
        match self {
            Direction::LongAShortB => Direction::ShortALongB,
            Direction::ShortALongB => Direction::LongAShortB,
        }
    }

    /// The direction of a held pair from the signs of its positions (A long and B short, or
    /// the reverse); None when the legs are not opposite.
    pub fn of_positions(a: Decimal, b: Decimal) -> Option<Direction> {
        if a > Decimal::ZERO && b < Decimal::ZERO {
            Some(Direction::LongAShortB)
        } else if a < Decimal::ZERO && b > Decimal::ZERO {
            Some(Direction::ShortALongB)
        } else {
            None
        }
    }
}

/// Both sides of both books, or None.
fn touches(a: &MarketSnapshot, b: &MarketSnapshot) -> Option<[Decimal; 4]> {
    Some([a.bid_px()?, a.ask_px()?, b.bid_px()?, b.ask_px()?])
}

/// The reference price: the average of the two mids.
pub fn reference(a: &MarketSnapshot, b: &MarketSnapshot) -> Option<Decimal> {
    let [ab, aa, bb, ba] = touches(a, b)?;
    let r = (ab + aa + bb + ba) / Decimal::from(4);
    (r > Decimal::ZERO).then_some(r)
}

/// The spread of opening in `dir`, in bps of the reference price.
pub fn entry_spread_bps(a: &MarketSnapshot, b: &MarketSnapshot, dir: Direction) -> Option<Decimal> {
    let [ab, aa, bb, ba] = touches(a, b)?;
    let r = reference(a, b)?;
    Some(match dir {
        Direction::LongAShortB => (bb - aa) / r * BPS,
        Direction::ShortALongB => (ab - ba) / r * BPS,
    })
}

/// The spread of closing a pair held in `dir` (the opposite direction's entry spread).
pub fn exit_spread_bps(a: &MarketSnapshot, b: &MarketSnapshot, dir: Direction) -> Option<Decimal> {
    entry_spread_bps(a, b, dir.opposite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_api::MarketIdx;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn snap(bid: &str, ask: &str) -> MarketSnapshot {
        MarketSnapshot::quoted(MarketIdx(0), Some(d(bid)), Some(d(ask)), Decimal::ZERO)
    }

    #[test]
    fn spreads_in_both_directions() {
        // A cheap, B rich: buy A at 99.9, sell B at 100.3; reference 100.1.
        let (a, b) = (snap("99.8", "99.9"), snap("100.3", "100.4"));
        assert_eq!(reference(&a, &b), Some(d("100.1")));
        let long = entry_spread_bps(&a, &b, Direction::LongAShortB).unwrap();
        assert_eq!(long, (d("100.3") - d("99.9")) / d("100.1") * d("10000"));
        let short = entry_spread_bps(&a, &b, Direction::ShortALongB).unwrap();
        assert!(short < Decimal::ZERO);
        assert_eq!(exit_spread_bps(&a, &b, Direction::LongAShortB), Some(short));
        assert_eq!(
            Direction::of_positions(d("1"), d("-1")),
            Some(Direction::LongAShortB)
        );
        assert_eq!(
            Direction::of_positions(d("-1"), d("1")),
            Some(Direction::ShortALongB)
        );
        assert_eq!(Direction::of_positions(d("1"), d("1")), None);
        assert_eq!(Direction::from_code(2), Some(Direction::ShortALongB));
    }

    #[test]
    fn missing_sides_give_none() {
        let a = MarketSnapshot {
            ask: None.into(),
            ..snap("99.8", "99.9")
        };
        assert_eq!(
            entry_spread_bps(&a, &snap("1", "2"), Direction::LongAShortB),
            None
        );
    }
}
