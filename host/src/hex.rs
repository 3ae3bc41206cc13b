//! Lowercase hex, written by table lookup: signatures (twice per signed order) and cloids (once
//! per order) are encoded on the tick-to-order path, where `format!("{b:02x}")` per byte cost an
//! allocation per byte.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` as hex digits into `out[..2 * bytes.len()]` (ASCII; no prefix).
pub fn encode_into(bytes: &[u8], out: &mut [u8]) {
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[(b >> 4) as usize];
        out[2 * i + 1] = DIGITS[(b & 0x0f) as usize];
    }
}

/// `0x` + the hex of `N` bytes, on the stack; `as_str` borrows it.
pub struct Prefixed<const W: usize>([u8; W]);

impl<const W: usize> Prefixed<W> {
    /// `W` must be 2 + 2 × `bytes.len()`.
    pub fn new(bytes: &[u8]) -> Self {
        assert_eq!(W, 2 + 2 * bytes.len(), "hex width");
        let mut out = [0u8; W];
        out[0] = b'0';
        out[1] = b'x';
        encode_into(bytes, &mut out[2..]);
        Prefixed(out)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn equals_formatted_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 16..=16)) {
            let formatted: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let hex = Prefixed::<34>::new(&bytes);
            proptest::prop_assert_eq!(hex.as_str(), format!("0x{formatted}"));
        }
    }
}
