//! Keccak-256 (Ethereum's, not NIST SHA3-256) as one non-generic function.
//!
//! Why a crate of its own: sha3's hashing is generic code, instantiated (and so compiled) in the
//! crate that calls it. In an unoptimized dev build the host hashed ~4 MB/s, so fingerprinting
//! two 20 MB debug plugin files took 9 s at every start. Here it is instantiated once, in a crate
//! the workspace optimizes in every profile.

use sha3::{Digest, Keccak256};

/// Keccak-256 of `data`.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// Incremental Keccak-256 (for hashing several pieces without concatenating them).
#[derive(Clone, Default)]
pub struct Hasher(Keccak256);

impl Hasher {
    pub fn new() -> Self {
        Hasher::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }

    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::keccak256;

    #[test]
    fn known_answers() {
        let hex = |b: [u8; 32]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(
            hex(keccak256(b"abc")),
            "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
        );
        let mut h = super::Hasher::new();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.finish(), keccak256(b"abc"));
    }
}
