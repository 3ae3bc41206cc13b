//! The venue's matching rules, one copy for both users: the simulator's exchange (orders against
//! its generated book) and the backtest's simulated execution (orders against a replayed book).
//! Books are `(price, size)` levels, best first.
//!
//! - [`check_order`]: what the venue checks before matching (tick, lot, zero size, minimum
//!   value, reduce-only), with the venue's own error strings.
//! - [`take`]: an incoming order against the opposite side (Ioc and Gtc take what crosses; Alo
//!   that would cross is refused).
//! - [`resting_fill`]: how much of a resting order the opposite side now crosses.

use crate::venue::hyperliquid::tick::{AssetSpec, MIN_NOTIONAL, is_valid_price};
use rust_decimal::Decimal;

/// A book level: price and size.
pub type BookLevel = (Decimal, Decimal);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tif {
    Gtc,
    Ioc,
    Alo,
}

impl Tif {
    /// The wire's `tif` string.
    pub fn parse(s: &str) -> Option<Tif> {
        match s {
            "Gtc" => Some(Tif::Gtc),
            "Ioc" => Some(Tif::Ioc),
            "Alo" => Some(Tif::Alo),
            _ => None,
        }
    }
}

/// Whether a `is_buy` order at `limit` trades against a level at `level`.
#[inline]
pub fn crosses(is_buy: bool, limit: Decimal, level: Decimal) -> bool {
    if is_buy {
        level <= limit
    } else {
        level >= limit
    }
}

/// The venue's checks of an order's price and size; returns the size to work (a reduce-only
/// order is cut to what it can reduce, `reducible`).
pub fn check_order(
    spec: &AssetSpec,
    px: Decimal,
    sz: Decimal,
    reduce_only: bool,
    reducible: Decimal,
) -> Result<Decimal, String> {
    if !is_valid_price(px, spec) {
        return Err("Price must be divisible by tick size.".into());
    }
    if sz <= Decimal::ZERO {
        return Err("Order has zero size.".into());
    }
    if sz.normalize().scale() > spec.sz_decimals {
        return Err("Order has invalid size.".into());
    }
    if reduce_only {
        if reducible.is_zero() {
            return Err("Reduce only order would increase position.".into());
        }
        return Ok(sz.min(reducible));
    }
    if px * sz < MIN_NOTIONAL {
        return Err("Order must have minimum value of $10.".into());
    }
    Ok(sz)
}

/// What an incoming order took: its fills (level price, size) and what is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub fills: Vec<BookLevel>,
    pub left: Decimal,
}

/// An Alo order that would have matched (the caller words the venue's error with the bbo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AloWouldMatch;

/// An incoming order against `opposite` (asks for a buy, bids for a sell), best level first.
pub fn take(
    opposite: &[BookLevel],
    is_buy: bool,
    limit: Decimal,
    sz: Decimal,
    tif: Tif,
) -> Result<Taken, AloWouldMatch> {
    if tif == Tif::Alo {
        if opposite
            .first()
            .is_some_and(|(p, _)| crosses(is_buy, limit, *p))
        {
            return Err(AloWouldMatch);
        }
        return Ok(Taken {
            fills: Vec::new(),
            left: sz,
        });
    }
    let mut left = sz;
    let mut fills = Vec::new();
    for &(lvl, avail) in opposite {
        if left.is_zero() || !crosses(is_buy, limit, lvl) {
            break;
        }
        let t = left.min(avail);
        if t > Decimal::ZERO {
            fills.push((lvl, t));
            left -= t;
        }
    }
    Ok(Taken { fills, left })
}

/// How much of a resting order (`is_buy` at `px`, `left` unfilled) the opposite side now
/// crosses: the size of the levels at or through its price, at most `left`. It fills at its own
/// price (it is the maker).
pub fn resting_fill(is_buy: bool, px: Decimal, left: Decimal, opposite: &[BookLevel]) -> Decimal {
    let mut avail = Decimal::ZERO;
    for &(lvl, sz) in opposite {
        if !crosses(is_buy, px, lvl) {
            break;
        }
        avail += sz;
        if avail >= left {
            return left;
        }
    }
    avail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn taking_walks_levels_to_the_limit_and_alo_never_takes() {
        let asks = [(d("100"), d("1")), (d("101"), d("2")), (d("102"), d("5"))];
        let t = take(&asks, true, d("101"), d("2.5"), Tif::Ioc).unwrap();
        assert_eq!(t.fills, vec![(d("100"), d("1")), (d("101"), d("1.5"))]);
        assert_eq!(t.left, d("0"));
        let t = take(&asks, true, d("100.5"), d("3"), Tif::Gtc).unwrap();
        assert_eq!((t.fills.len(), t.left), (1, d("2")));
        assert_eq!(
            take(&asks, true, d("100"), d("1"), Tif::Alo),
            Err(AloWouldMatch)
        );
        let t = take(&asks, true, d("99"), d("1"), Tif::Alo).unwrap();
        assert_eq!((t.fills.len(), t.left), (0, d("1")));
        let bids = [(d("99"), d("1")), (d("98"), d("1"))];
        let t = take(&bids, false, d("98"), d("5"), Tif::Ioc).unwrap();
        assert_eq!((t.fills.len(), t.left), (2, d("3")));
    }

    #[test]
    fn resting_orders_fill_up_to_what_crosses_them() {
        let asks = [(d("100"), d("1")), (d("101"), d("2"))];
        assert_eq!(resting_fill(true, d("99"), d("5"), &asks), d("0"));
        assert_eq!(resting_fill(true, d("100"), d("5"), &asks), d("1"));
        assert_eq!(resting_fill(true, d("101"), d("2"), &asks), d("2"));
        assert_eq!(resting_fill(true, d("101"), d("5"), &asks), d("3"));
    }

    #[test]
    fn the_venue_checks() {
        let spec = AssetSpec {
            asset: 0,
            sz_decimals: 2,
            is_spot: false,
        };
        assert!(check_order(&spec, d("100.123"), d("1"), false, d("0")).is_err());
        assert!(check_order(&spec, d("100"), d("0.001"), false, d("0")).is_err());
        assert!(
            check_order(&spec, d("100"), d("0.05"), false, d("0"))
                .unwrap_err()
                .contains("minimum value")
        );
        assert_eq!(
            check_order(&spec, d("100"), d("0.05"), true, d("0.03")),
            Ok(d("0.03"))
        );
        assert!(
            check_order(&spec, d("100"), d("1"), true, d("0"))
                .unwrap_err()
                .contains("Reduce only")
        );
        assert_eq!(
            check_order(&spec, d("100"), d("1"), false, d("0")),
            Ok(d("1"))
        );
    }
}
