//! Owned engine events as venue adapters produce them (`Event` borrows; these own their lists),
//! and what the runtime sends to an adapter.

use crate::engine::events::{
    CancelOutcome, ConnectionState, Event, FillEvent, OrderUpdate, PostOutcome, VenueOpenOrder,
    VenuePosition,
};
use crate::engine::scheduler::ActionBatch;
use crate::engine::types::{Cloid, Level, MarketId, VenueId};
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub enum VenueEvent {
    Bbo {
        market: MarketId,
        bid: Option<Level>,
        ask: Option<Level>,
    },
    AssetCtx {
        market: MarketId,
        oracle: Decimal,
        mark: Decimal,
        mid: Option<Decimal>,
        funding: Decimal,
    },
    OrderUpdate(OrderUpdate),
    Fill(FillEvent),
    PostResult {
        cloid: Cloid,
        outcome: PostOutcome,
    },
    CancelResult {
        cloid: Cloid,
        outcome: CancelOutcome,
    },
    Connection {
        venue: VenueId,
        state: ConnectionState,
    },
    Reconciled {
        venue: VenueId,
        as_of_ms: u64,
        positions: Vec<VenuePosition>,
        open_orders: Vec<VenueOpenOrder>,
    },
    VenueBudget {
        venue: VenueId,
        used: u64,
        cap: u64,
    },
    BatchDropped {
        cloids: Vec<Cloid>,
    },
}

impl VenueEvent {
    /// The engine event this carries (borrowing its lists).
    pub fn as_event(&self) -> Event<'_> {
        match self {
            VenueEvent::Bbo { market, bid, ask } => Event::Bbo {
                market: *market,
                bid: *bid,
                ask: *ask,
            },
            VenueEvent::AssetCtx {
                market,
                oracle,
                mark,
                mid,
                funding,
            } => Event::AssetCtx {
                market: *market,
                oracle: *oracle,
                mark: *mark,
                mid: *mid,
                funding: *funding,
            },
            VenueEvent::OrderUpdate(u) => Event::OrderUpdate(*u),
            VenueEvent::Fill(f) => Event::Fill(*f),
            VenueEvent::PostResult { cloid, outcome } => Event::PostResult {
                cloid: *cloid,
                outcome: *outcome,
            },
            VenueEvent::CancelResult { cloid, outcome } => Event::CancelResult {
                cloid: *cloid,
                outcome: *outcome,
            },
            VenueEvent::Connection { venue, state } => Event::Connection {
                venue: *venue,
                state: *state,
            },
            VenueEvent::Reconciled {
                venue,
                as_of_ms,
                positions,
                open_orders,
            } => Event::Reconciled {
                venue: *venue,
                as_of_ms: *as_of_ms,
                positions,
                open_orders,
            },
            VenueEvent::VenueBudget { venue, used, cap } => Event::VenueBudget {
                venue: *venue,
                used: *used,
                cap: *cap,
            },
            VenueEvent::BatchDropped { cloids } => Event::BatchDropped { cloids },
        }
    }
}

/// The engine side went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkClosed;

/// Where a venue client delivers its events. The runtime's sink calls the engine inline, in the
/// client's own task (no channel hop on the tick-to-order path), and hands back the batches the
/// engine now has for this venue so the client posts them at once. A plain channel (tests, tools)
/// hands back none.
pub trait EventSink {
    fn deliver(&mut self, ev: VenueEvent, ready: &mut Vec<ActionBatch>) -> Result<(), SinkClosed>;

    /// Called by the client once the posts of what it delivered are written: work that can wait
    /// (journal records) is done now, off the tick-to-order path.
    fn settle(&mut self) {}
}

impl EventSink for tokio::sync::mpsc::UnboundedSender<VenueEvent> {
    fn deliver(&mut self, ev: VenueEvent, _ready: &mut Vec<ActionBatch>) -> Result<(), SinkClosed> {
        self.send(ev).map_err(|_| SinkClosed)
    }
}

/// What the runtime sends to a venue adapter.
#[derive(Debug)]
pub enum VenueCommand {
    /// Sign and send (after the pre-send HardStop guard).
    Send(ActionBatch),
    /// Clear the dead-man switch and close (orderly shutdown).
    Shutdown,
}
