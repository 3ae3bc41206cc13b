//! The venue's answers to action posts (orders, cancels, scheduleCancel) as engine events, and
//! the events for posts that never got one.

use super::codes::reason_for_error;
use super::posts::PostKind;
use super::wire::{CancelStatusItem, ExchangeResponse, OkResponse, OrderStatusItem, PostResponse};
use crate::engine::events::{CancelOutcome, Event, PostOutcome};
use crate::engine::reject::RejectReason;
use crate::engine::types::VenueId;

/// The answer to an action post of `kind` (info posts are the sync's).
/// `refused` counts whole requests the venue refused (their warning is rate-limited).
pub fn action_answer(
    venue: VenueId,
    kind: PostKind,
    response: PostResponse<'_>,
    refused: &mut u64,
    out: &mut Vec<Event>,
) {
    match (kind, response) {
        (
            PostKind::Orders(cloids),
            PostResponse::Action(ExchangeResponse::Ok(OkResponse::Order { statuses })),
        ) => {
            for (i, c) in cloids.iter().enumerate() {
                let outcome = match statuses.get(i) {
                    Some(OrderStatusItem::Resting { oid }) => PostOutcome::Resting { oid: *oid },
                    Some(OrderStatusItem::Filled {
                        total_sz,
                        avg_px,
                        oid,
                    }) => PostOutcome::Filled {
                        oid: *oid,
                        total_sz: *total_sz,
                        avg_px: *avg_px,
                    },
                    Some(OrderStatusItem::Error(e)) => PostOutcome::Rejected(reason_for_error(e)),
                    _ => PostOutcome::UnknownOutcome,
                };
                out.push(Event::PostResult { cloid: *c, outcome });
            }
        }
        (
            PostKind::Cancels(cloids),
            PostResponse::Action(ExchangeResponse::Ok(OkResponse::Cancel { statuses })),
        ) => {
            for (i, c) in cloids.iter().enumerate() {
                let outcome = match statuses.get(i) {
                    Some(CancelStatusItem::Success) => CancelOutcome::Success,
                    _ => CancelOutcome::Failed,
                };
                out.push(Event::CancelResult { cloid: *c, outcome });
            }
        }
        (PostKind::ScheduleCancel, PostResponse::Action(ExchangeResponse::Ok(_))) => {}
        (kind, response) => {
            // The whole request was refused (bad signature, nonce, rate limit, …): a real
            // answer, so a real rejection.
            let reason = match &response {
                PostResponse::Action(ExchangeResponse::Err(e)) | PostResponse::Error(e) => {
                    *refused += 1;
                    if crate::venue::log_nth(*refused) {
                        tracing::warn!(
                            venue = %crate::logging::venue(venue),
                            count = *refused,
                            "request refused by the venue: {}",
                            crate::logging::cut(e)
                        );
                    }
                    if e.contains("too many") || e.contains("rate") {
                        RejectReason::VenueRateLimited
                    } else {
                        RejectReason::VenueRequestFailed
                    }
                }
                _ => RejectReason::VenueRequestFailed,
            };
            match kind {
                PostKind::Orders(cloids) => {
                    out.extend(cloids.into_iter().map(|cloid| Event::PostResult {
                        cloid,
                        outcome: PostOutcome::Rejected(reason),
                    }))
                }
                PostKind::Cancels(cloids) => cancels_failed(cloids, out),
                _ => {}
            }
        }
    }
}

/// A post with no answer (timed out, or the session ended): orders have an unknown outcome
/// (never a made-up rejection: the venue's state will say), cancels failed. Returns how many
/// order outcomes are unknown.
pub fn unanswered(kind: PostKind, out: &mut Vec<Event>) -> u64 {
    match kind {
        PostKind::Orders(cloids) => {
            let n = cloids.len() as u64;
            out.extend(cloids.into_iter().map(|cloid| Event::PostResult {
                cloid,
                outcome: PostOutcome::UnknownOutcome,
            }));
            n
        }
        PostKind::Cancels(cloids) => {
            cancels_failed(cloids, out);
            0
        }
        _ => 0,
    }
}

fn cancels_failed(cloids: Vec<crate::engine::types::Cloid>, out: &mut Vec<Event>) {
    out.extend(cloids.into_iter().map(|cloid| Event::CancelResult {
        cloid,
        outcome: CancelOutcome::Failed,
    }));
}
