//! `FfiDecimal`: a `rust_decimal::Decimal` crossing the ABI as its documented 16-byte form.
//!
//! `Decimal::deserialize` is total and sanitising (it masks invalid flag bits and clamps the
//! scale), so bytes written by a buggy plugin can never make an invalid `Decimal` or panic the host.

use abi_stable::StableAbi;
use rust_decimal::Decimal;
use std::fmt;

/// A decimal number as it crosses the plugin boundary. Convert at the edge; compute in `Decimal`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FfiDecimal {
    /// `Decimal::serialize()` bytes: flags, lo, mid, hi, little-endian.
    bytes: [u8; 16],
}

impl FfiDecimal {
    /// Zero (all bytes zero is `Decimal::ZERO`'s serialized form).
    pub const ZERO: FfiDecimal = FfiDecimal { bytes: [0; 16] };

    #[inline]
    pub fn new(d: Decimal) -> Self {
        FfiDecimal {
            bytes: d.serialize(),
        }
    }

    #[inline]
    pub fn get(self) -> Decimal {
        Decimal::deserialize(self.bytes)
    }

    #[inline]
    pub fn is_zero(self) -> bool {
        self.get().is_zero()
    }
}

impl From<Decimal> for FfiDecimal {
    #[inline]
    fn from(d: Decimal) -> Self {
        FfiDecimal::new(d)
    }
}

impl From<FfiDecimal> for Decimal {
    #[inline]
    fn from(d: FfiDecimal) -> Self {
        d.get()
    }
}

impl fmt::Debug for FfiDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

impl fmt::Display for FfiDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.get(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn round_trips_exactly() {
        for s in [
            "0",
            "-0.000001",
            "123456.789",
            "79228162514264337593543950335",
            "-1.5",
        ] {
            let d = Decimal::from_str(s).unwrap();
            assert_eq!(FfiDecimal::new(d).get(), d);
            assert_eq!(FfiDecimal::new(d).get().to_string(), d.to_string());
        }
        assert_eq!(FfiDecimal::ZERO.get(), Decimal::ZERO);
    }

    #[test]
    fn garbage_bytes_never_panic() {
        let junk = FfiDecimal { bytes: [0xff; 16] };
        let d = junk.get();
        assert!(d.scale() <= 28);
    }
}
