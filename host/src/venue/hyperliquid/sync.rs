//! The connect-time sync: subscribe → every subscription acknowledged → ask the venue for its
//! account state (clearinghouseState and openOrders per dex, userRateLimit) → `Reconciled`, then
//! the fills that arrived meanwhile (the userFills snapshot included: the engine dedupes by tid
//! and never counts a fill the reconciled position already contains), the budget, then `Ready`.
//! An account state that cannot be read ends the session instead: an unreadable position list
//! must never look like "flat".

use super::info::{ClearinghouseState, OpenOrder, UserRateLimit};
use super::markets::Markets;
use super::posts::InfoKind;
use super::wire::WireSide;
use crate::engine::events::{ConnectionState, Event, FillEvent, VenueOpenOrder, VenuePosition};
use crate::engine::types::{Cloid, Side, VenueId};

/// One session's sync state.
#[derive(Debug, Default)]
pub struct Sync {
    /// Subscriptions not yet acknowledged.
    acks_left: usize,
    /// Account-state answers not yet in.
    infos_left: usize,
    /// Venue time (ms) of the account state: the latest `time` of the clearinghouse answers.
    as_of_ms: u64,
    positions: Vec<VenuePosition>,
    open_orders: Vec<VenueOpenOrder>,
    budget: Option<UserRateLimit>,
    /// Fills seen before the account state: sent after `Reconciled`.
    held_fills: Vec<FillEvent>,
    done: bool,
    /// Why the account state could not be read (the session ends).
    pub failed: Option<String>,
}

impl Sync {
    /// A new session that sent `subscriptions` subscriptions.
    pub fn new(subscriptions: usize) -> Sync {
        Sync {
            acks_left: subscriptions,
            ..Sync::default()
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// A subscription was acknowledged; true when it was the last (ask for the account now).
    pub fn on_ack(&mut self) -> bool {
        if self.acks_left == 0 {
            return false;
        }
        self.acks_left -= 1;
        self.acks_left == 0
    }

    /// `n` account-state requests were sent.
    pub fn asked(&mut self, n: usize) {
        self.infos_left += n;
    }

    /// A fill before the account state is known: held.
    pub fn hold(&mut self, f: FillEvent) {
        self.held_fills.push(f);
    }

    /// An account-state answer (`raw` is the post's `{"type":…,"data":…}` payload).
    pub fn on_info(&mut self, kind: InfoKind, raw: &str, markets: &Markets) {
        self.infos_left = self.infos_left.saturating_sub(1);
        #[derive(serde::Deserialize)]
        struct Payload<T> {
            data: T,
        }
        match kind {
            InfoKind::Clearinghouse => {
                match serde_json::from_str::<Payload<ClearinghouseState>>(raw) {
                    Ok(p) => {
                        self.as_of_ms = self.as_of_ms.max(p.data.time.max(1));
                        self.positions.extend(positions_of(p.data, markets));
                    }
                    Err(e) => self.failed = Some(format!("unreadable clearinghouseState: {e}")),
                }
            }
            InfoKind::OpenOrders => match serde_json::from_str::<Payload<Vec<OpenOrder>>>(raw) {
                Ok(p) => self.open_orders.extend(open_orders_of(p.data, markets)),
                Err(e) => self.failed = Some(format!("unreadable openOrders: {e}")),
            },
            InfoKind::RateLimit => match serde_json::from_str::<Payload<UserRateLimit>>(raw) {
                Ok(p) => self.budget = Some(p.data),
                Err(e) => tracing::warn!("unreadable userRateLimit: {e}"),
            },
        }
    }

    /// Everything is in and the sync is not finished yet.
    pub fn complete(&self) -> bool {
        !self.done && self.acks_left == 0 && self.infos_left == 0 && self.as_of_ms != 0
    }

    /// Ends the sync: `Reconciled`, the held fills, the budget, `Ready`.
    pub fn finish(&mut self, venue: VenueId, out: &mut Vec<Event>) {
        self.done = true;
        out.push(Event::Reconciled {
            venue,
            as_of_ms: self.as_of_ms,
            positions: std::mem::take(&mut self.positions),
            open_orders: std::mem::take(&mut self.open_orders),
        });
        out.extend(self.held_fills.drain(..).map(Event::Fill));
        if let Some(b) = self.budget {
            out.push(Event::VenueBudget {
                venue,
                used: b.used,
                cap: b.cap,
            });
        }
        tracing::info!(venue = %crate::logging::venue(venue), "venue ready (subscribed and reconciled)");
        out.push(Event::Connection {
            venue,
            state: ConnectionState::Ready,
        });
    }
}

/// The positions of an account state in the markets this connection trades.
pub fn positions_of(
    state: ClearinghouseState,
    markets: &Markets,
) -> impl Iterator<Item = VenuePosition> + '_ {
    state.asset_positions.into_iter().filter_map(|ap| {
        Some(VenuePosition {
            market: markets.by_coin(&ap.position.coin)?,
            size: ap.position.szi,
            entry_px: ap.position.entry_px.unwrap_or_default(),
        })
    })
}

/// The open orders in the markets this connection trades.
pub fn open_orders_of(
    orders: Vec<OpenOrder>,
    markets: &Markets,
) -> impl Iterator<Item = VenueOpenOrder> + '_ {
    orders.into_iter().filter_map(|o| {
        Some(VenueOpenOrder {
            market: markets.by_coin(&o.coin)?,
            oid: o.oid,
            cloid: o.cloid.as_deref().and_then(Cloid::parse),
            side: if o.side == WireSide::Bid {
                Side::Buy
            } else {
                Side::Sell
            },
            px: o.limit_px,
            sz: o.sz,
        })
    })
}
