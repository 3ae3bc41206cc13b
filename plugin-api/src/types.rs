//! Read-only views the host hands to a strategy, and the small codes they carry.
//!
//! Open-ended code sets (`RejectCode`, `OrderStatus`, `FlattenKind`) are `#[repr(transparent)]`
//! integers with named constants, not Rust enums: a host may add a code in a patch release and an
//! older plugin still loads (an unknown code reads as such, it is never undefined behaviour).

use crate::decimal::FfiDecimal;
use abi_stable::{
    StableAbi,
    std_types::{ROption, RSlice},
};
use rust_decimal::Decimal;

/// Buy or sell. Closed set: it will never grow.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Buy = 0,
    Sell = 1,
}

impl Side {
    /// +1 for Buy, -1 for Sell: the sign a fill of this side adds to a position.
    #[inline]
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }

    #[inline]
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// The side that reduces a position of signed size `size` (None when flat).
    #[inline]
    pub fn closing(size: Decimal) -> Option<Side> {
        if size.is_sign_positive() && !size.is_zero() {
            Some(Side::Sell)
        } else if size.is_sign_negative() && !size.is_zero() {
            Some(Side::Buy)
        } else {
            None
        }
    }
}

/// What a plugin is for. The host checks it against the config's `role`.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Opens positions. Its intents pass every gate.
    Entry = 0,
    /// Closes positions. The host forces every intent it makes to reduce-only.
    Exit = 1,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Entry => "entry",
            Role::Exit => "exit",
        }
    }
}

/// Index of a market in the list the strategy was created with (`create(params, markets)`).
/// Index 0 is the first market named in the strategy's config entry.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MarketIdx(pub u32);

impl MarketIdx {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One price level: price and size.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Level {
    pub px: FfiDecimal,
    pub sz: FfiDecimal,
}

/// What the host knows about one market, as of `Ctx::now_ns`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketSnapshot {
    pub market: MarketIdx,
    /// Best bid; `RNone` when that side of the book is empty or unknown.
    pub bid: ROption<Level>,
    /// Best ask; `RNone` when that side of the book is empty or unknown.
    pub ask: ROption<Level>,
    /// Oracle price from the venue's asset context; zero until the first context arrives.
    pub oracle_px: FfiDecimal,
    /// Mark price from the venue's asset context; zero until known.
    pub mark_px: FfiDecimal,
    /// Mid price reported by the venue, when it reports one.
    pub mid_px: ROption<FfiDecimal>,
    /// Current funding rate (per funding interval, as the venue reports it).
    pub funding: FfiDecimal,
    /// Engine time (ns) of the last BBO update; 0 = never.
    pub bbo_time_ns: u64,
    /// Engine time (ns) of the last asset-context update; 0 = never.
    pub ctx_time_ns: u64,
    /// The host's verdict: both BBO and context are younger than the configured staleness limit
    /// and the venue connection is live.
    pub fresh: bool,
}

impl MarketSnapshot {
    /// An empty snapshot for market `idx` (nothing known yet).
    pub fn empty(idx: MarketIdx) -> Self {
        MarketSnapshot {
            market: idx,
            bid: ROption::RNone,
            ask: ROption::RNone,
            oracle_px: FfiDecimal::ZERO,
            mark_px: FfiDecimal::ZERO,
            mid_px: ROption::RNone,
            funding: FfiDecimal::ZERO,
            bbo_time_ns: 0,
            ctx_time_ns: 0,
            fresh: false,
        }
    }

    /// A fresh snapshot of market `idx` with this best bid and ask (size 1 each; `None`: that
    /// side empty) and this oracle price (zero: unknown). For strategies' unit tests.
    pub fn quoted(
        idx: MarketIdx,
        bid: Option<Decimal>,
        ask: Option<Decimal>,
        oracle: Decimal,
    ) -> Self {
        let level = |px: Option<Decimal>| {
            px.map(|px| Level {
                px: px.into(),
                sz: Decimal::ONE.into(),
            })
            .into()
        };
        MarketSnapshot {
            bid: level(bid),
            ask: level(ask),
            oracle_px: oracle.into(),
            fresh: true,
            ..MarketSnapshot::empty(idx)
        }
    }

    #[inline]
    pub fn bid_px(&self) -> Option<Decimal> {
        self.bid.as_ref().into_option().map(|l| l.px.get())
    }

    #[inline]
    pub fn ask_px(&self) -> Option<Decimal> {
        self.ask.as_ref().into_option().map(|l| l.px.get())
    }

    /// The oracle price, or None when it is zero (unknown).
    #[inline]
    pub fn oracle(&self) -> Option<Decimal> {
        let o = self.oracle_px.get();
        (!o.is_zero()).then_some(o)
    }

    /// The mark price, or None when it is zero (unknown).
    #[inline]
    pub fn mark(&self) -> Option<Decimal> {
        let m = self.mark_px.get();
        (!m.is_zero()).then_some(m)
    }
}

/// The account's position in one market, shared by every strategy trading that market.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionView {
    pub market: MarketIdx,
    /// Signed size: positive long, negative short, zero flat.
    pub size: FfiDecimal,
    /// Average entry price of the open size (zero when flat).
    pub avg_entry_px: FfiDecimal,
    /// Engine time (ns) the position was opened from flat; 0 when flat.
    pub entry_time_ns: u64,
    /// Unrealized PnL at the mark price (quote currency).
    pub unrealized_pnl: FfiDecimal,
    /// Realized PnL since the position was opened, fees included.
    pub realized_pnl: FfiDecimal,
    /// True while the host is flattening this market: further Flatten intents are ignored.
    pub flattening: bool,
    /// True while an order that would change this position is in flight.
    pub has_pending: bool,
}

impl PositionView {
    pub fn flat(idx: MarketIdx) -> Self {
        PositionView {
            market: idx,
            size: FfiDecimal::ZERO,
            avg_entry_px: FfiDecimal::ZERO,
            entry_time_ns: 0,
            unrealized_pnl: FfiDecimal::ZERO,
            realized_pnl: FfiDecimal::ZERO,
            flattening: false,
            has_pending: false,
        }
    }

    #[inline]
    pub fn is_flat(&self) -> bool {
        self.size.is_zero()
    }

    /// Held time in ms at `now_ns` (0 when flat).
    #[inline]
    pub fn held_ms(&self, now_ns: u64) -> u64 {
        if self.is_flat() {
            0
        } else {
            now_ns.saturating_sub(self.entry_time_ns) / 1_000_000
        }
    }
}

/// Everything a strategy may read during one call.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// Engine time in nanoseconds (the host's clock; never read the system clock in a plugin). It
    /// only moves forward, and a restarted host's clock goes on from the last state snapshot, so
    /// stamps a strategy keeps in its saved state stay in the past.
    pub now_ns: u64,
    /// The strategy's markets, indexed by `MarketIdx`.
    pub markets: RSlice<'a, MarketSnapshot>,
    /// Positions in the strategy's markets, indexed by `MarketIdx`.
    pub positions: RSlice<'a, PositionView>,
}

impl<'a> Ctx<'a> {
    pub fn new(now_ns: u64, markets: &'a [MarketSnapshot], positions: &'a [PositionView]) -> Self {
        Ctx {
            now_ns,
            markets: RSlice::from_slice(markets),
            positions: RSlice::from_slice(positions),
        }
    }

    #[inline]
    pub fn market(&self, idx: MarketIdx) -> Option<&'a MarketSnapshot> {
        self.markets.as_slice().get(idx.index())
    }

    #[inline]
    pub fn position(&self, idx: MarketIdx) -> Option<&'a PositionView> {
        self.positions.as_slice().get(idx.index())
    }

    pub fn market_count(&self) -> usize {
        self.markets.len()
    }

    /// Every market's index, in order (e.g. for a timer that checks each market).
    pub fn market_indices(&self) -> impl Iterator<Item = MarketIdx> + use<> {
        (0..self.markets.len() as u32).map(MarketIdx)
    }
}

/// A fill of one of the account's orders in one of the strategy's markets.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillView {
    pub market: MarketIdx,
    pub side: Side,
    pub px: FfiDecimal,
    pub sz: FfiDecimal,
    /// Fee paid (negative for a rebate), quote currency.
    pub fee: FfiDecimal,
    /// PnL this fill realized, before fees.
    pub closed_pnl: FfiDecimal,
    /// The `tag` of the intent that made the order; 0 when the order was not this strategy's.
    pub tag: u64,
    /// True when the order was reduce-only.
    pub reduce_only: bool,
    /// Engine time of the fill.
    pub time_ns: u64,
}

/// Lifecycle status of an order (see the order-lifecycle section of docs/engine.md).
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderStatus(pub u8);

impl OrderStatus {
    pub const PENDING: OrderStatus = OrderStatus(0);
    pub const RESTING: OrderStatus = OrderStatus(1);
    pub const PARTIALLY_FILLED: OrderStatus = OrderStatus(2);
    pub const FILLED: OrderStatus = OrderStatus(3);
    pub const CANCEL_PENDING: OrderStatus = OrderStatus(4);
    pub const CANCELLED: OrderStatus = OrderStatus(5);
    pub const FILLED_DURING_CANCEL: OrderStatus = OrderStatus(6);
    pub const REJECTED: OrderStatus = OrderStatus(7);
    /// Sent, no answer yet: the venue's own state will say what happened.
    pub const UNKNOWN_OUTCOME: OrderStatus = OrderStatus(8);

    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "pending",
            1 => "resting",
            2 => "partially_filled",
            3 => "filled",
            4 => "cancel_pending",
            5 => "cancelled",
            6 => "filled_during_cancel",
            7 => "rejected",
            8 => "unknown_outcome",
            _ => "unknown_status",
        }
    }

    /// True when the order can no longer fill.
    pub fn is_terminal(self) -> bool {
        matches!(self.0, 3 | 5 | 6 | 7)
    }
}

/// A change of state of one of the strategy's orders.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderUpdateView {
    pub market: MarketIdx,
    pub tag: u64,
    pub status: OrderStatus,
    pub filled_sz: FfiDecimal,
    pub remaining_sz: FfiDecimal,
    /// Average fill price so far (zero when nothing filled).
    pub avg_fill_px: FfiDecimal,
}

/// A stable reason code for a refused intent or a venue rejection. Codes never change meaning;
/// new ones may be added. `name()` gives the snake_case name used in logs and metrics.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RejectCode(pub u16);

macro_rules! reject_codes {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $text:literal; )*) => {
        impl RejectCode {
            $( $(#[$doc])* pub const $name: RejectCode = RejectCode($code); )*
            /// Every code this version knows, in code order.
            pub const ALL: &'static [RejectCode] = &[$(RejectCode($code)),*];

            /// The stable snake_case name of the code.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $( $code => $text, )*
                    _ => "unknown_reason",
                }
            }
        }
    };
}

reject_codes! {
    /// The HardStop latch is set: only cancels and reduce-only orders pass.
    HARD_STOP = 1, "hard_stop";
    /// The venue is not ready (not connected, not subscribed, not reconciled) or market data is stale.
    NOT_READY = 2, "not_ready";
    /// The order would take the market's notional (positions + pending) over its limit.
    MAX_POSITION_PER_MARKET = 3, "max_position_per_market";
    /// The order would take the total notional over its limit.
    MAX_POSITION_TOTAL = 4, "max_position_total";
    /// The market already has a position and stacking is not allowed.
    HAS_POSITION = 5, "has_position";
    /// An entry order is already in flight in that market.
    PENDING_ORDER = 6, "pending_order";
    /// The action budget (host token bucket or venue address budget) is exhausted.
    ACTION_BUDGET = 7, "action_budget";
    /// Entries are paused by the operator.
    ENTRIES_PAUSED = 8, "entries_paused";
    /// The intent is malformed: zero or negative size or price, unknown market index, …
    INVALID_INTENT = 9, "invalid_intent";
    /// A reduce-only intent for a market with no position (or on the wrong side).
    NOTHING_TO_REDUCE = 10, "nothing_to_reduce";
    /// The market is already being flattened.
    ALREADY_FLATTENING = 11, "already_flattening";
    /// No usable BBO to price the order from.
    NO_PRICE = 12, "no_price";
    /// The other leg of a pair was refused, so this one was too.
    PAIR_LEG_REFUSED = 13, "pair_leg_refused";
    /// The strategy produced more intents in one call than the buffer holds.
    TOO_MANY_INTENTS = 14, "too_many_intents";
    /// Price or size do not meet the venue's tick/lot rules even after rounding.
    TICK_OR_LOT = 15, "tick_or_lot";
    /// Below the venue's minimum order value.
    MIN_NOTIONAL = 16, "min_notional";
    /// The venue refused: insufficient margin.
    INSUFFICIENT_MARGIN = 17, "insufficient_margin";
    /// The venue refused a reduce-only order that would increase the position.
    REDUCE_ONLY_REJECTED = 18, "reduce_only_rejected";
    /// An IOC order found nothing to match.
    IOC_NO_MATCH = 19, "ioc_no_match";
    /// A post-only (ALO) order would have matched immediately.
    POST_ONLY_WOULD_MATCH = 20, "post_only_would_match";
    /// The venue rate-limited the request.
    VENUE_RATE_LIMITED = 21, "venue_rate_limited";
    /// The venue refused for another reason (see the host log for its text).
    VENUE_OTHER = 22, "venue_other";
    /// The strategy's plugin was disabled after a panic.
    STRATEGY_DISABLED = 23, "strategy_disabled";
    /// Dropped by the venue writer's pre-send HardStop guard.
    HARD_STOP_PRE_SEND = 24, "hard_stop_pre_send";
    /// The venue refused the whole request (signature, nonce, …).
    VENUE_REQUEST_FAILED = 25, "venue_request_failed";
    /// No order with that tag is open.
    UNKNOWN_ORDER = 26, "unknown_order";
    /// The market's data makes no sense (crossed or locked book, a price ≤ 0, mark or oracle
    /// far from the book): no new risk there until it does.
    BAD_MARKET_DATA = 27, "bad_market_data";
    /// The venue rejected this market and side's orders repeatedly: they wait (exponential
    /// backoff) before the next try.
    REJECTION_BACKOFF = 28, "rejection_backoff";
}

/// An intent the host refused, or an order the venue rejected, told back to its strategy.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub market: MarketIdx,
    pub tag: u64,
    pub reason: RejectCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_code_names_are_unique_and_stable() {
        let mut names: Vec<_> = RejectCode::ALL.iter().map(|c| c.name()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert_eq!(RejectCode::HARD_STOP.name(), "hard_stop");
        assert_eq!(RejectCode(9999).name(), "unknown_reason");
    }

    #[test]
    fn closing_side() {
        assert_eq!(Side::closing(Decimal::ONE), Some(Side::Sell));
        assert_eq!(Side::closing(Decimal::NEGATIVE_ONE), Some(Side::Buy));
        assert_eq!(Side::closing(Decimal::ZERO), None);
    }
}
