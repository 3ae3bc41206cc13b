//! A reconcile while the session stays up, over the venue's HTTP info API (on demand, or the
//! periodic verification): the account state of each dex (clearinghouseState, openOrders),
//! the fills since shortly before the last one seen (userFillsByTime), and the status of each
//! order whose outcome is unknown (orderStatus by cloid). The answers become `LiveReconciled`,
//! then the fills (the engine dedupes by tid; fills the account state contains are recorded,
//! not counted twice), then the orders' updates.

use super::decode;
use super::info::{self, ClearinghouseState, OpenOrder};
use super::markets::Markets;
use super::sync::{open_orders_of, positions_of};
use super::wire::{WsFill, WsOrderUpdate};
use crate::engine::events::{Event, VenueOpenOrder, VenuePosition};
use crate::engine::types::{Cloid, VenueId};
use crate::venue::HttpQuery;
use std::collections::HashSet;

/// Fills are asked for from this long before the last one seen (a lost frame is older than the
/// one that arrived after it).
pub const FILLS_LOOKBACK_MS: u64 = 60_000;
/// Order statuses asked for at most per reconcile (each weighs 2 of the venue's IP budget).
pub const MAX_STATUS_QUERIES: usize = 16;

/// What each query of a reconcile asks, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Clearinghouse,
    OpenOrders,
    Fills,
    OrderStatus(Cloid),
}

/// The queries for `user` on `dexes`: fills since `fills_since_ms`, statuses of `unknown`.
pub fn queries(
    user: &str,
    dexes: &[String],
    fills_since_ms: u64,
    unknown: &[Cloid],
) -> (Vec<Query>, Vec<HttpQuery>) {
    let mut kinds = Vec::new();
    let mut http = Vec::new();
    let mut push = |k: Query, body: serde_json::Value| {
        kinds.push(k);
        http.push(HttpQuery {
            path: "/info",
            body: body.to_string(),
        });
    };
    for dex in dexes {
        push(
            Query::Clearinghouse,
            info::request::clearinghouse_state(user, dex),
        );
        push(Query::OpenOrders, info::request::open_orders(user, dex));
    }
    push(
        Query::Fills,
        serde_json::json!({"type": "userFillsByTime", "user": user, "startTime": fills_since_ms, "aggregateByTime": false}),
    );
    for c in unknown.iter().take(MAX_STATUS_QUERIES) {
        push(
            Query::OrderStatus(*c),
            serde_json::json!({"type": "orderStatus", "user": user, "oid": c.to_wire().as_str()}),
        );
    }
    (kinds, http)
}

/// `orderStatus`'s answer: `{"status":"order","order":{…an orderUpdates entry…}}` or
/// `{"status":"unknownOid"}`.
#[derive(serde::Deserialize)]
struct StatusAnswer<'a> {
    #[serde(borrow)]
    order: Option<WsOrderUpdate<'a>>,
}

/// The answers, in the queries' order, into events. The account state must be complete and
/// readable, or nothing is applied (an unreadable position list must never look like "flat"):
/// the error says which answer failed. Fills and statuses that cannot be read are skipped
/// (the next reconcile asks again).
pub fn apply(
    venue: VenueId,
    kinds: &[Query],
    answers: Vec<Result<String, String>>,
    markets: &Markets,
    names_seen: &mut HashSet<String>,
    out: &mut Vec<Event>,
) -> Result<(), String> {
    if answers.len() != kinds.len() {
        return Err(format!(
            "{} answers to {} queries",
            answers.len(),
            kinds.len()
        ));
    }
    let mut as_of_ms = 0;
    let mut positions: Vec<VenuePosition> = Vec::new();
    let mut open_orders: Vec<VenueOpenOrder> = Vec::new();
    let mut later = Vec::new();
    for (kind, answer) in kinds.iter().zip(answers) {
        let text = match (kind, answer) {
            (_, Ok(t)) => t,
            (Query::Clearinghouse | Query::OpenOrders, Err(e)) => {
                return Err(format!("{kind:?}: {}", crate::logging::cut(&e)));
            }
            (_, Err(e)) => {
                tracing::warn!(
                    venue = %crate::logging::venue(venue),
                    "reconcile: {kind:?} failed: {}",
                    crate::logging::cut(&e)
                );
                continue;
            }
        };
        match kind {
            Query::Clearinghouse => {
                let s: ClearinghouseState = serde_json::from_str(&text)
                    .map_err(|e| format!("unreadable clearinghouseState: {e}"))?;
                as_of_ms = as_of_ms.max(s.time.max(1));
                positions.extend(positions_of(s, markets));
            }
            Query::OpenOrders => {
                let o: Vec<OpenOrder> = serde_json::from_str(&text)
                    .map_err(|e| format!("unreadable openOrders: {e}"))?;
                open_orders.extend(open_orders_of(o, markets));
            }
            Query::Fills => match serde_json::from_str::<Vec<WsFill<'_>>>(&text) {
                Ok(fills) => later.extend(
                    fills
                        .iter()
                        .filter_map(|f| decode::fill(venue, f, markets))
                        .map(Event::Fill),
                ),
                Err(e) => {
                    tracing::warn!(venue = %crate::logging::venue(venue), "reconcile: unreadable fills: {e}")
                }
            },
            Query::OrderStatus(_) => match serde_json::from_str::<StatusAnswer<'_>>(&text) {
                Ok(StatusAnswer { order: Some(u) }) => {
                    let mut notes = Vec::new();
                    decode::order_updates(venue, &[u], names_seen, &mut later, &mut notes);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(venue = %crate::logging::venue(venue), "reconcile: unreadable orderStatus: {e}")
                }
            },
        }
    }
    out.push(Event::LiveReconciled {
        venue,
        as_of_ms,
        positions,
        open_orders,
    });
    out.append(&mut later);
    Ok(())
}
