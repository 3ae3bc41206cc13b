//! What a strategy may ask the host for. Plugins never send orders: they write intents into a
//! host-owned buffer, and the host turns each into an order (with a fresh cloid) or refuses it with
//! a `RejectCode` that goes back to the plugin's `on_reject`.

use crate::decimal::FfiDecimal;
use crate::types::{MarketIdx, Side};
use abi_stable::{
    StableAbi,
    std_types::{ROption, RVec},
};
use rust_decimal::Decimal;

/// Time in force of a limit order.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tif {
    /// Add liquidity only (post-only): rejected if it would match at once.
    Alo = 0,
    /// Immediate or cancel.
    Ioc = 1,
    /// Good till cancelled.
    Gtc = 2,
}

/// A new order. For an exit-role strategy the host forces `reduce_only`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaceIntent {
    pub market: MarketIdx,
    pub side: Side,
    /// Limit price. The host rounds it to the venue's tick: bids down, asks up.
    pub px: FfiDecimal,
    /// Size in base units. The host rounds it down to the venue's lot.
    pub sz: FfiDecimal,
    pub tif: Tif,
    pub reduce_only: bool,
    /// The strategy's own correlation id, echoed in fills, order updates and refusals.
    pub tag: u64,
}

impl PlaceIntent {
    pub fn new(market: MarketIdx, side: Side, px: Decimal, sz: Decimal, tif: Tif) -> Self {
        PlaceIntent {
            market,
            side,
            px: px.into(),
            sz: sz.into(),
            tif,
            reduce_only: false,
            tag: 0,
        }
    }

    pub fn with_tag(mut self, tag: u64) -> Self {
        self.tag = tag;
        self
    }

    pub fn reduce_only(mut self) -> Self {
        self.reduce_only = true;
        self
    }
}

/// Why a position is being flattened. Open-ended code set, like `RejectCode`.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlattenKind(pub u16);

impl FlattenKind {
    pub const MANUAL: FlattenKind = FlattenKind(1);
    pub const TIME_STOP: FlattenKind = FlattenKind(2);
    pub const MARK_REGRESSION: FlattenKind = FlattenKind(3);
    pub const SPREAD_EXIT: FlattenKind = FlattenKind(4);
    pub const HARD_STOP: FlattenKind = FlattenKind(5);
    pub const STRATEGY_DISABLED: FlattenKind = FlattenKind(6);
    pub const UNOWNED_POSITION: FlattenKind = FlattenKind(7);
    pub const PAIR_LEG_FAILED: FlattenKind = FlattenKind(8);
    pub const STOP_LOSS: FlattenKind = FlattenKind(9);

    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "manual",
            2 => "time_stop",
            3 => "mark_regression",
            4 => "spread_exit",
            5 => "hard_stop",
            6 => "strategy_disabled",
            7 => "unowned_position",
            8 => "pair_leg_failed",
            9 => "stop_loss",
            _ => "other",
        }
    }
}

/// The reason carried by a `Flatten` intent; recorded with the exit.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlattenReason {
    pub kind: FlattenKind,
    /// Edge at the moment of the exit decision, in basis points, when the strategy measures one
    /// (mark-regression: long (bid − oracle)/oracle × 10⁴, short (oracle − ask)/oracle × 10⁴).
    pub edge_bps: ROption<FfiDecimal>,
    /// How long the position had been held when the decision was made.
    pub held_ms: u64,
}

impl FlattenReason {
    pub fn new(kind: FlattenKind, held_ms: u64) -> Self {
        FlattenReason {
            kind,
            edge_bps: ROption::RNone,
            held_ms,
        }
    }

    pub fn with_edge_bps(mut self, edge: Decimal) -> Self {
        self.edge_bps = ROption::RSome(edge.into());
        self
    }

    pub fn edge(&self) -> Option<Decimal> {
        self.edge_bps.into_option().map(FfiDecimal::get)
    }
}

/// Close the whole position in `market` with a reduce-only IOC priced from the BBO.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlattenIntent {
    pub market: MarketIdx,
    pub reason: FlattenReason,
    /// Worst acceptable price away from the BBO, in bps; `RNone` uses the host's configured bound.
    pub max_slippage_bps: ROption<FfiDecimal>,
}

/// Cancel the strategy's open order(s) carrying `tag` in `market`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelIntent {
    pub market: MarketIdx,
    pub tag: u64,
}

/// Two legs that stand or fall together (delta-neutral). Both pass the gates or neither is sent;
/// if one fills and the other fails, the host flattens the filled one.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairIntent {
    pub a: PlaceIntent,
    pub b: PlaceIntent,
    /// The strategy's own direction code, recorded with the pair.
    pub direction: u8,
}

/// One request from a strategy.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    Place(PlaceIntent),
    Flatten(FlattenIntent),
    Cancel(CancelIntent),
    PlacePair(PairIntent),
}

/// The host-owned, bounded, reused buffer a strategy writes its intents into.
///
/// The host allocates it once with a fixed capacity and clears it before each call; `push` never
/// grows it, so a call costs no allocation. Intents beyond the capacity are dropped and counted;
/// the host refuses them with `TOO_MANY_INTENTS`.
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct Intents {
    buf: RVec<Intent>,
    dropped: u32,
}

impl Intents {
    /// A buffer holding at most `capacity` intents per call.
    pub fn with_capacity(capacity: usize) -> Self {
        Intents {
            buf: RVec::with_capacity(capacity.max(1)),
            dropped: 0,
        }
    }

    /// Adds an intent; returns false (and counts it) when the buffer is full.
    #[inline]
    pub fn push(&mut self, intent: Intent) -> bool {
        if self.buf.len() < self.buf.capacity() {
            self.buf.push(intent);
            true
        } else {
            self.dropped = self.dropped.saturating_add(1);
            false
        }
    }

    #[inline]
    pub fn place(&mut self, p: PlaceIntent) -> bool {
        self.push(Intent::Place(p))
    }

    #[inline]
    pub fn flatten(&mut self, market: MarketIdx, reason: FlattenReason) -> bool {
        self.push(Intent::Flatten(FlattenIntent {
            market,
            reason,
            max_slippage_bps: ROption::RNone,
        }))
    }

    #[inline]
    pub fn flatten_with_slippage(
        &mut self,
        market: MarketIdx,
        reason: FlattenReason,
        max_slippage_bps: Decimal,
    ) -> bool {
        self.push(Intent::Flatten(FlattenIntent {
            market,
            reason,
            max_slippage_bps: ROption::RSome(max_slippage_bps.into()),
        }))
    }

    #[inline]
    pub fn cancel(&mut self, market: MarketIdx, tag: u64) -> bool {
        self.push(Intent::Cancel(CancelIntent { market, tag }))
    }

    #[inline]
    pub fn place_pair(&mut self, a: PlaceIntent, b: PlaceIntent, direction: u8) -> bool {
        self.push(Intent::PlacePair(PairIntent { a, b, direction }))
    }

    #[inline]
    pub fn as_slice(&self) -> &[Intent] {
        self.buf.as_slice()
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Intents dropped since the last `clear` because the buffer was full.
    #[inline]
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Host side: empties the buffer, keeping its allocation.
    #[inline]
    pub fn clear(&mut self) {
        self.buf.clear();
        self.dropped = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_is_bounded_and_never_grows() {
        let mut b = Intents::with_capacity(2);
        let cap = b.capacity();
        for i in 0..5 {
            b.cancel(MarketIdx(0), i);
        }
        assert_eq!(b.len(), cap);
        assert_eq!(b.dropped() as usize, 5 - cap);
        assert_eq!(b.capacity(), cap);
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.dropped(), 0);
        assert_eq!(b.capacity(), cap);
    }
}
