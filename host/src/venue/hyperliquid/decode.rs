//! Market and user frames → engine events: bbo and l2Book (top of book), activeAssetCtx,
//! orderUpdates, userFills, and the user channel's non-user cancels. Coins this connection does
//! not trade are skipped.

use super::codes::order_status;
use super::markets::Markets;
use super::wire::{
    WireSide, WsAssetCtx, WsBbo, WsBook, WsFill, WsLevel, WsOrderUpdate, WsUserEvent,
};
use crate::engine::events::{Event, FillEvent, OrderUpdate, VenueOrderStatus};
use crate::engine::types::{Cloid, Level, Side, VenueId};
use rust_decimal::Decimal;
use std::collections::HashSet;

/// How many distinct unknown channel or status names are remembered (each is logged once); past
/// this a hostile venue cannot grow the set, only the counters.
pub const MAX_REMEMBERED_NAMES: usize = 64;

fn level(l: Option<WsLevel>) -> Option<Level> {
    l.map(|l| Level { px: l.px, sz: l.sz })
}

pub fn bbo(b: &WsBbo<'_>, markets: &Markets) -> Option<Event> {
    let market = markets.by_coin(b.coin.as_ref())?;
    Some(Event::Bbo {
        market,
        bid: level(b.bbo[0]),
        ask: level(b.bbo[1]),
    })
}

/// An l2Book snapshot updates the top of book (the engine trades on the BBO).
pub fn book(b: &WsBook<'_>, markets: &Markets) -> Option<Event> {
    let market = markets.by_coin(b.coin.as_ref())?;
    Some(Event::Bbo {
        market,
        bid: level(b.levels[0].first().copied()),
        ask: level(b.levels[1].first().copied()),
    })
}

pub fn asset_ctx(ctx: &WsAssetCtx<'_>, markets: &Markets) -> Option<Event> {
    let market = markets.by_coin(ctx.coin.as_ref())?;
    let c = &ctx.ctx;
    Some(Event::AssetCtx {
        market,
        oracle: c.oracle_px,
        mark: c.mark_px,
        mid: c.mid_px,
        funding: c.funding.unwrap_or_default(),
    })
}

pub fn fill(venue: VenueId, f: &WsFill<'_>, markets: &Markets) -> Option<FillEvent> {
    let market = markets.by_coin(f.coin.as_ref())?;
    Some(FillEvent {
        venue,
        market,
        cloid: f.cloid.as_deref().and_then(Cloid::parse),
        oid: f.oid,
        tid: f.tid,
        side: match f.side {
            WireSide::Bid => Side::Buy,
            WireSide::Ask => Side::Sell,
        },
        px: f.px,
        sz: f.sz,
        fee: f.fee,
        time_ms: f.time,
    })
}

/// What an order update said that the adapter itself must act on.
pub enum UpdateNote {
    /// A `scheduledCancel`: the dead-man switch fired (its statusTimestamp).
    DeadManFired(u64),
    /// A status this host does not know (treated as no change); true the first time it is seen.
    UnknownStatus { first: bool },
}

/// Order updates → events; statuses it cannot read are reported in `notes`. `seen` remembers
/// the unknown statuses already logged.
pub fn order_updates(
    venue: VenueId,
    list: &[WsOrderUpdate<'_>],
    seen: &mut HashSet<String>,
    out: &mut Vec<Event>,
    notes: &mut Vec<UpdateNote>,
) {
    for u in list {
        let Some(status) = order_status(&u.status) else {
            let first = seen.len() < MAX_REMEMBERED_NAMES
                && seen.insert(format!("status:{}", crate::logging::cut(&u.status)));
            if first {
                tracing::warn!(status = %u.status, "unknown order status (treated as no change)");
            }
            notes.push(UpdateNote::UnknownStatus { first });
            continue;
        };
        if u.status == "scheduledCancel" {
            notes.push(UpdateNote::DeadManFired(u.status_timestamp));
        }
        let filled_total = match status {
            VenueOrderStatus::Open => None,
            _ => Some((u.order.orig_sz - u.order.sz).max(Decimal::ZERO)),
        };
        out.push(Event::OrderUpdate(OrderUpdate {
            venue,
            cloid: u.order.cloid.as_deref().and_then(Cloid::parse),
            oid: u.order.oid,
            status,
            filled_total,
        }));
    }
}

/// The user channel: orders the venue cancelled on its own (margin, delisting, …).
pub fn user_event(venue: VenueId, u: &WsUserEvent<'_>, out: &mut Vec<Event>) {
    if let Some(cancels) = &u.non_user_cancel {
        out.extend(cancels.iter().map(|c| {
            Event::OrderUpdate(OrderUpdate {
                venue,
                cloid: None,
                oid: c.oid,
                status: VenueOrderStatus::Cancelled,
                filled_total: None,
            })
        }));
    }
}
