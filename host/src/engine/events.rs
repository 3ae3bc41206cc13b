//! What comes into the engine (`Event`) and what it reports besides batches (`EngineNote`).
//! Venue adapters produce these events themselves (there is no second, venue-side enum). The
//! events on the hot path (`Bbo`, `AssetCtx`, fills, answers) are plain values; only the rare
//! ones (a book, the account state after a reconcile, a dropped batch) own a list.

use super::edge::EdgeSummary;
use super::hardstop::HardStopReason;
use super::reject::RejectReason;
use super::types::{Cloid, Level, MarketId, Side, StrategyId, VenueId};
use plugin_api::FlattenReason;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Best bid and offer changed (`None`: that side is empty).
    Bbo {
        market: MarketId,
        bid: Option<Level>,
        ask: Option<Level>,
    },
    /// Asset context: oracle, mark, mid, funding.
    AssetCtx {
        market: MarketId,
        oracle: Decimal,
        mark: Decimal,
        mid: Option<Decimal>,
        funding: Decimal,
    },
    /// An L2 book snapshot (best level first); its top updates the BBO.
    Book {
        market: MarketId,
        bids: Vec<Level>,
        asks: Vec<Level>,
    },
    /// An order status from the venue's order stream.
    OrderUpdate(OrderUpdate),
    /// A fill from the venue's fill stream (snapshot or live).
    Fill(FillEvent),
    /// The venue's answer to a posted order.
    PostResult {
        cloid: Cloid,
        outcome: PostOutcome,
    },
    /// The venue's answer to a posted cancel.
    CancelResult {
        cloid: Cloid,
        outcome: CancelOutcome,
    },
    /// The adapter's connection state for a venue.
    Connection {
        venue: VenueId,
        state: ConnectionState,
    },
    /// The venue's own account state after a (re)connect: the authority for positions.
    Reconciled {
        venue: VenueId,
        /// Venue time (ms) of the account state: fills at or before it are already in it.
        as_of_ms: u64,
        positions: Vec<VenuePosition>,
        open_orders: Vec<VenueOpenOrder>,
    },
    /// A reconcile of a live session began (on demand or periodic): entries on this venue wait
    /// for its `LiveReconciled`; exits and flattens go on.
    ReconcileStarted {
        venue: VenueId,
    },
    /// The venue's account state, read while the session stayed up: replaces the engine's view,
    /// and any difference is drift (journaled, counted, a HardStop past the bounds).
    LiveReconciled {
        venue: VenueId,
        /// Venue time (ms) of the account state.
        as_of_ms: u64,
        positions: Vec<VenuePosition>,
        open_orders: Vec<VenueOpenOrder>,
    },
    /// The venue's per-address request budget.
    VenueBudget {
        venue: VenueId,
        used: u64,
        cap: u64,
    },
    /// The venue writer's pre-send HardStop guard dropped these orders from a batch it held.
    BatchDropped {
        cloids: Vec<Cloid>,
    },
    /// The periodic timer.
    Timer,
    Operator(OperatorCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    Disconnected,
    /// Connected, not yet resubscribed and reconciled.
    Connected,
    /// Subscribed and reconciled: trading may proceed.
    Ready,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorCommand {
    HardStop,
    ReleaseHardStop,
    PauseEntries,
    ResumeEntries,
    FlattenAll,
    /// Flatten one market's position (`ctl flatten MARKET`).
    Flatten(MarketId),
    /// Cancel every working order (on shutdown, and `ctl cancel-all`).
    CancelAll,
}

/// Venue order status, as the adapter maps the venue's strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueOrderStatus {
    Open,
    Filled,
    Cancelled,
    Rejected(RejectReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderUpdate {
    pub venue: VenueId,
    pub cloid: Option<Cloid>,
    pub oid: u64,
    pub status: VenueOrderStatus,
    /// Total filled size when the venue says (origSz − sz on a cancel).
    pub filled_total: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillEvent {
    pub venue: VenueId,
    pub market: MarketId,
    pub cloid: Option<Cloid>,
    pub oid: u64,
    /// The venue's trade id: fills are deduplicated by (venue, tid).
    pub tid: u64,
    pub side: Side,
    pub px: Decimal,
    pub sz: Decimal,
    pub fee: Decimal,
    /// Venue time of the fill (ms).
    pub time_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostOutcome {
    Resting {
        oid: u64,
    },
    Filled {
        oid: u64,
        total_sz: Decimal,
        avg_px: Decimal,
    },
    Rejected(RejectReason),
    /// Sent, no answer (timeout, disconnect): the venue's state will say what happened.
    UnknownOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    Success,
    /// Already filled, already cancelled, or never placed: the order stream will say.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenuePosition {
    pub market: MarketId,
    pub size: Decimal,
    pub entry_px: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueOpenOrder {
    pub market: MarketId,
    pub oid: u64,
    pub cloid: Option<Cloid>,
    pub side: Side,
    pub px: Decimal,
    pub sz: Decimal,
}

/// Things the engine reports for the journal, status lines and operators.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineNote {
    Refused {
        strategy: Option<StrategyId>,
        market: MarketId,
        tag: u64,
        reason: RejectReason,
    },
    HardStopTriggered(HardStopReason),
    HardStopReleased,
    /// Every position is zero while the HardStop is latched.
    HardStopFlat,
    StrategyDisabled {
        strategy: StrategyId,
        reason: String,
    },
    /// The engine's view may differ from the venue's: ask it (unmatched fill, unknown outcome).
    ReconcileRequest {
        venue: VenueId,
    },
    /// An open order on the venue the engine did not make, now tracked under `cloid` (its own, or
    /// one the host assigned) and either adopted or being cancelled (`[engine] unknown_orders`).
    UnknownVenueOrder {
        venue: VenueId,
        order: VenueOpenOrder,
        cloid: Cloid,
        adopted: bool,
    },
    /// Another strategy-host (another journal) trades this venue's account: no entries here.
    ForeignHost {
        venue: VenueId,
    },
    /// A market's position was set from the venue's account state (every reconcile).
    PositionReconciled {
        market: MarketId,
    },
    /// A live reconcile found the engine's position differing from the venue's, and corrected
    /// it (`engine` → `venue`).
    PositionDrift {
        venue: VenueId,
        market: MarketId,
        engine: Decimal,
        corrected: Decimal,
    },
    /// A position found at start-up in a market no live exit strategy manages: flattened.
    UnownedPosition {
        market: MarketId,
        size: Decimal,
        handed_to_exits: bool,
    },
    Flatten {
        market: MarketId,
        cloid: Cloid,
        reason: FlattenReason,
        strategy: Option<StrategyId>,
    },
    Fill {
        fill: FillEvent,
        strategy: Option<StrategyId>,
        /// PnL this fill realized, net of its own fee (an opening fill: −fee).
        realized: Decimal,
        /// Already contained in the reconciled account state (a snapshot replayed after a
        /// (re)connect): recorded, but not a fill of this run.
        replayed: bool,
    },
    EdgeSummary(Vec<EdgeSummary>),
    /// An order was made or changed state (the journal records each change).
    Order(super::orders::TrackedOrder),
}
