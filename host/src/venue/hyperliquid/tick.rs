//! Price and size to wire (reference §3.2–3.3): prices have at most 5 significant figures and at
//! most `6 − szDecimals` decimals (perps; `8 − szDecimals` spot), integer prices always allowed;
//! sizes have at most `szDecimals` decimals. Bids round down and asks up (never a worse price
//! than asked for); sizes round down. Wire strings are canonical: no trailing zeros, no exponent.
//! Anything the venue would reject is refused here, before signing, with a reason.

use crate::engine::reject::RejectReason;
use crate::engine::types::Side;
use rust_decimal::{Decimal, RoundingStrategy};

/// What the rules need to know about one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetSpec {
    pub asset: u32,
    pub sz_decimals: u32,
    pub is_spot: bool,
}

impl AssetSpec {
    pub fn max_price_decimals(&self) -> u32 {
        (if self.is_spot { 8u32 } else { 6u32 }).saturating_sub(self.sz_decimals)
    }
}

/// The order value below which the venue refuses an order ($10 perps, 10 quote units spot).
pub const MIN_NOTIONAL: Decimal = Decimal::from_parts(10, 0, 0, false, 0);

/// Decimal exponent of the most significant digit (1234.5 → 3; 0.00123 → −3). `d` > 0.
pub fn magnitude_of(d: Decimal) -> i64 {
    magnitude(d)
}

fn magnitude(d: Decimal) -> i64 {
    let m = d.mantissa().unsigned_abs();
    let digits = if m == 0 { 1 } else { m.ilog10() as i64 + 1 };
    digits - 1 - d.scale() as i64
}

/// Rounds a limit price to the venue's rules, bids down and asks up.
pub fn round_price(px: Decimal, side: Side, spec: &AssetSpec) -> Result<Decimal, RejectReason> {
    if px <= Decimal::ZERO {
        return Err(RejectReason::InvalidIntent);
    }
    let strategy = match side {
        Side::Buy => RoundingStrategy::ToNegativeInfinity,
        Side::Sell => RoundingStrategy::ToPositiveInfinity,
    };
    let sig_decimals = (4 - magnitude(px)).max(0);
    let decimals = sig_decimals.min(spec.max_price_decimals() as i64) as u32;
    let rounded = px.round_dp_with_strategy(decimals, strategy).normalize();
    if rounded <= Decimal::ZERO || !is_valid_price(rounded, spec) {
        // Rounding up can cross a power of ten (99999.5 → 100000: still fine, integer); a bid
        // rounded to zero has no valid price at all.
        return Err(RejectReason::TickOrLot);
    }
    Ok(rounded)
}

/// True when the venue accepts `px` as a price of this asset.
pub fn is_valid_price(px: Decimal, spec: &AssetSpec) -> bool {
    if px <= Decimal::ZERO {
        return false;
    }
    let px = px.normalize();
    if px.scale() == 0 {
        return true; // integer prices are always allowed
    }
    let sig_ok = px.mantissa().unsigned_abs().ilog10() < 5;
    sig_ok && px.scale() <= spec.max_price_decimals()
}

/// Rounds a size down to the asset's lot; refuses a size that rounds to zero.
pub fn round_size(sz: Decimal, spec: &AssetSpec) -> Result<Decimal, RejectReason> {
    let rounded = sz
        .round_dp_with_strategy(spec.sz_decimals, RoundingStrategy::ToZero)
        .normalize();
    if rounded <= Decimal::ZERO {
        return Err(RejectReason::TickOrLot);
    }
    Ok(rounded)
}

/// The canonical wire string: `1670.1`, `0.0147`, `100` (never `100.0` or `1e2`).
pub fn wire(d: Decimal) -> String {
    super::actions::WireStr::decimal(d).to_string()
}

/// Price and size of an order as the venue will accept them, or the reason it would not.
/// Reduce-only orders are exempt from the minimum value (closing a small position must work).
pub fn prepare_order(
    px: Decimal,
    sz: Decimal,
    side: Side,
    reduce_only: bool,
    spec: &AssetSpec,
) -> Result<(Decimal, Decimal), RejectReason> {
    let px = round_price(px, side, spec)?;
    let sz = round_size(sz, spec)?;
    if !reduce_only && px * sz < MIN_NOTIONAL {
        return Err(RejectReason::MinNotional);
    }
    Ok((px, sz))
}

/// An order request in the venue's wire form (rounded, checked, strings inline), or the reason
/// the venue would refuse it.
pub fn order_wire(
    o: &crate::engine::scheduler::OrderRequest,
    spec: &AssetSpec,
) -> Result<super::actions::OrderWire, RejectReason> {
    use super::actions::{OrderTypeWire, OrderWire, TifWire, WireStr};
    use crate::engine::types::Tif;
    let (px, sz) = prepare_order(o.px, o.sz, o.side, o.reduce_only, spec)?;
    Ok(OrderWire {
        a: spec.asset,
        b: o.side == Side::Buy,
        p: WireStr::decimal(px),
        s: WireStr::decimal(sz),
        r: o.reduce_only,
        t: OrderTypeWire::Limit {
            tif: match o.tif {
                Tif::Alo => TifWire::Alo,
                Tif::Ioc => TifWire::Ioc,
                Tif::Gtc => TifWire::Gtc,
            },
        },
        c: Some(WireStr::new(o.cloid.hex().as_str()).expect("34 bytes")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn perp(sz_decimals: u32) -> AssetSpec {
        AssetSpec {
            asset: 0,
            sz_decimals,
            is_spot: false,
        }
    }

    fn spot(sz_decimals: u32) -> AssetSpec {
        AssetSpec {
            asset: 10_000,
            sz_decimals,
            is_spot: true,
        }
    }

    #[test]
    fn validity_examples_of_the_reference() {
        assert!(is_valid_price(d("1234.5"), &perp(0)));
        assert!(!is_valid_price(d("1234.56"), &perp(0)));
        assert!(is_valid_price(d("0.001234"), &perp(0)));
        assert!(!is_valid_price(d("0.0012345"), &perp(0)));
        assert!(is_valid_price(d("0.01234"), &perp(1)));
        assert!(!is_valid_price(d("0.012345"), &perp(1)));
        assert!(is_valid_price(d("123456"), &perp(0)), "integers always");
        assert!(!is_valid_price(d("12345.6"), &perp(0)));
        assert!(is_valid_price(d("0.0001234"), &spot(0)));
        assert!(is_valid_price(d("0.0001234"), &spot(1)));
        assert!(!is_valid_price(d("0.0001234"), &spot(3)));
    }

    #[test]
    fn truncation_vectors_of_the_ts_sdk_for_bids() {
        // formatPrice (truncation = a bid's rounding).
        let bid = |s: &str, sz: u32| round_price(d(s), Side::Buy, &perp(sz)).map(wire);
        assert_eq!(bid("1234567", 0).unwrap(), "1234567");
        assert_eq!(bid("12345.6", 0).unwrap(), "12345");
        assert_eq!(bid("0.00123456", 0).unwrap(), "0.001234");
        assert_eq!(bid("0.1234567", 0).unwrap(), "0.12345");
        assert_eq!(bid("123.456", 5).unwrap(), "123.4");
        assert_eq!(bid("1.1000", 0).unwrap(), "1.1");
        assert_eq!(bid("0.0000001", 0), Err(RejectReason::TickOrLot));
        let spot_bid = |s: &str, sz: u32| round_price(d(s), Side::Buy, &spot(sz)).map(wire);
        assert_eq!(spot_bid("0.000123456", 0).unwrap(), "0.00012345");
        assert_eq!(spot_bid("0.0001234", 3).unwrap(), "0.00012");
        // formatSize.
        assert_eq!(
            wire(round_size(d("123.456789"), &perp(2)).unwrap()),
            "123.45"
        );
        assert_eq!(wire(round_size(d("1.0000"), &perp(4)).unwrap()), "1");
        assert_eq!(
            round_size(d("0.0001"), &perp(3)),
            Err(RejectReason::TickOrLot)
        );
    }

    #[test]
    fn asks_round_up_and_never_give_a_worse_price() {
        let ask = |s: &str, sz: u32| wire(round_price(d(s), Side::Sell, &perp(sz)).unwrap());
        assert_eq!(ask("12345.6", 0), "12346");
        assert_eq!(ask("0.00123456", 0), "0.001235");
        assert_eq!(ask("99999.5", 0), "100000");
        assert_eq!(ask("1670.1", 4), "1670.1");
        assert_eq!(ask("1670.12", 4), "1670.2");
    }

    #[test]
    fn min_notional_applies_to_entries_not_reductions() {
        let spec = perp(4);
        assert_eq!(
            prepare_order(d("100"), d("0.05"), Side::Buy, false, &spec),
            Err(RejectReason::MinNotional)
        );
        assert_eq!(
            prepare_order(d("100"), d("0.05"), Side::Sell, true, &spec),
            Ok((d("100"), d("0.05")))
        );
        assert_eq!(
            prepare_order(d("100"), d("0.1"), Side::Buy, false, &spec),
            Ok((d("100"), d("0.1")))
        );
    }

    #[test]
    fn wire_strings_are_canonical() {
        assert_eq!(wire(d("100.000")), "100");
        assert_eq!(wire(d("0.0147")), "0.0147");
        assert_eq!(wire(d("31795.0")), "31795");
        assert_eq!(wire(d("-0")), "0");
    }
}
