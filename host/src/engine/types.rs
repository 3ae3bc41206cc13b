//! Identifiers and small value types of the engine, in the seeds' vocabulary.

use rust_decimal::Decimal;
use std::collections::HashMap;
use std::fmt;

/// Index of a venue (a connection to one exchange account) in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VenueId(pub u16);

/// Index of a market in the registry: the hot-path key (a bounds-checked index, no hashing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MarketId(pub u32);

impl MarketId {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Index of a strategy in the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrategyId(pub u16);

impl StrategyId {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Client order id: 16 bytes, sent to the venue as `0x` + 32 hex digits. The high 64 bits are
/// the run's prefix (unique per run), the low 64 a counter: unique across restarts, deterministic
/// within a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cloid(pub u128);

impl Cloid {
    /// Marks cloids the host assigned to venue orders that had none (adopted or cancelled unknown
    /// orders). The engine's own cloids are `(run prefix << 64) | n` and never set this bit.
    const HOST_ASSIGNED: u128 = 1 << 127;

    /// The cloid the host tracks an unknown, cloid-less venue order under.
    pub fn for_venue_oid(oid: u64) -> Cloid {
        Cloid(Self::HOST_ASSIGNED | oid as u128)
    }

    /// True when the venue does not know this cloid (cancel such orders by oid).
    pub fn is_host_assigned(self) -> bool {
        self.0 & Self::HOST_ASSIGNED != 0
    }
}

impl fmt::Display for Cloid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex().as_str())
    }
}

impl Cloid {
    /// The venue's form, `0x` + 32 lowercase hex digits, built without the formatting machinery
    /// (one per order on the tick-to-order path).
    pub fn to_wire(self) -> String {
        self.hex().as_str().to_string()
    }

    /// The venue's form on the stack.
    pub fn hex(self) -> crate::hex::Prefixed<34> {
        crate::hex::Prefixed::<34>::new(&self.0.to_be_bytes())
    }

    /// Parses `0x` + 32 hex digits (the venue's form).
    pub fn parse(s: &str) -> Option<Cloid> {
        let hex = s.strip_prefix("0x")?;
        if hex.len() != 32 {
            return None;
        }
        u128::from_str_radix(hex, 16).ok().map(Cloid)
    }
}

/// A market as configured: venue name and coin (`xyz:TSLA` for a HIP-3 dex market).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MarketKey {
    pub venue: String,
    pub coin: String,
}

impl MarketKey {
    /// Parses `venue/coin`.
    pub fn parse(s: &str) -> Option<MarketKey> {
        let (venue, coin) = s.split_once('/')?;
        (!venue.is_empty() && !coin.is_empty()).then(|| MarketKey {
            venue: venue.to_string(),
            coin: coin.to_string(),
        })
    }

    /// The HIP-3 dex of the coin (`xyz` for `xyz:TSLA`), or `""` for the venue's main dex.
    pub fn dex(&self) -> &str {
        self.coin.split_once(':').map_or("", |(d, _)| d)
    }
}

impl fmt::Display for MarketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.venue, self.coin)
    }
}

/// Every market and venue the engine knows, interned to dense ids.
#[derive(Debug, Clone, Default)]
pub struct MarketRegistry {
    markets: Vec<MarketKey>,
    venue_of: Vec<VenueId>,
    venues: Vec<String>,
    by_name: HashMap<String, MarketId>,
}

impl MarketRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns a market (and its venue); returns its id. Idempotent.
    pub fn intern(&mut self, key: &MarketKey) -> MarketId {
        let name = key.to_string();
        if let Some(&id) = self.by_name.get(&name) {
            return id;
        }
        let venue = match self.venues.iter().position(|v| *v == key.venue) {
            Some(i) => VenueId(i as u16),
            None => {
                self.venues.push(key.venue.clone());
                VenueId(self.venues.len() as u16 - 1)
            }
        };
        let id = MarketId(self.markets.len() as u32);
        self.markets.push(key.clone());
        self.venue_of.push(venue);
        self.by_name.insert(name, id);
        id
    }

    pub fn lookup(&self, name: &str) -> Option<MarketId> {
        self.by_name.get(name).copied()
    }

    /// The market id of `coin` on `venue`, if configured.
    pub fn find(&self, venue: VenueId, coin: &str) -> Option<MarketId> {
        self.markets
            .iter()
            .zip(&self.venue_of)
            .position(|(k, v)| *v == venue && k.coin == coin)
            .map(|i| MarketId(i as u32))
    }

    pub fn key(&self, m: MarketId) -> &MarketKey {
        &self.markets[m.index()]
    }

    #[inline]
    pub fn venue_of(&self, m: MarketId) -> VenueId {
        self.venue_of[m.index()]
    }

    pub fn venue_name(&self, v: VenueId) -> &str {
        &self.venues[v.0 as usize]
    }

    pub fn venue_id(&self, name: &str) -> Option<VenueId> {
        self.venues
            .iter()
            .position(|v| v == name)
            .map(|i| VenueId(i as u16))
    }

    pub fn market_count(&self) -> usize {
        self.markets.len()
    }

    pub fn venue_count(&self) -> usize {
        self.venues.len()
    }

    pub fn markets(&self) -> impl Iterator<Item = (MarketId, &MarketKey)> {
        self.markets
            .iter()
            .enumerate()
            .map(|(i, k)| (MarketId(i as u32), k))
    }

    pub fn markets_of(&self, venue: VenueId) -> impl Iterator<Item = MarketId> + '_ {
        self.venue_of
            .iter()
            .enumerate()
            .filter(move |(_, v)| **v == venue)
            .map(|(i, _)| MarketId(i as u32))
    }
}

/// One side of a book level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub px: Decimal,
    pub sz: Decimal,
}

pub use plugin_api::{Side, Tif};

/// Basis points: 1 bp = 10⁻⁴.
pub const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloid_round_trips_in_venue_form() {
        let c = Cloid(0x0123_4567_89ab_cdef_0000_0000_0000_0001);
        let s = c.to_string();
        assert_eq!(s, "0x0123456789abcdef0000000000000001");
        assert_eq!(Cloid::parse(&s), Some(c));
        assert_eq!(Cloid::parse("0x12"), None);
    }

    proptest::proptest! {
        #[test]
        fn cloid_wire_form_equals_formatted_hex(v in proptest::prelude::any::<u128>()) {
            let c = Cloid(v);
            proptest::prop_assert_eq!(c.to_wire(), format!("0x{v:032x}"));
            proptest::prop_assert_eq!(Cloid::parse(&c.to_wire()), Some(c));
        }
    }

    #[test]
    fn registry_interns_markets_and_venues() {
        let mut r = MarketRegistry::new();
        let a = r.intern(&MarketKey::parse("hl/BTC").unwrap());
        let b = r.intern(&MarketKey::parse("hl/xyz:TSLA").unwrap());
        let c = r.intern(&MarketKey::parse("sim2/BTC").unwrap());
        assert_eq!(r.intern(&MarketKey::parse("hl/BTC").unwrap()), a);
        assert_eq!(r.venue_of(a), r.venue_of(b));
        assert_ne!(r.venue_of(a), r.venue_of(c));
        assert_eq!(r.key(b).dex(), "xyz");
        assert_eq!(r.find(r.venue_of(c), "BTC"), Some(c));
        assert_eq!(r.markets_of(r.venue_of(a)).count(), 2);
    }
}
