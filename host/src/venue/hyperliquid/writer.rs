//! The order writer: an engine batch → the pre-send HardStop guard → the venue's tick, lot and
//! minimum-value rules → signed actions → post frames. Whatever cannot be sent comes back as
//! events (refusals as values), for the venue task to hand the engine after the frames are out.

use super::actions::{self, Action, CancelByCloidWire, CancelWire, Grouping};
use super::markets::Markets;
use super::posts::{PostKind, Posts};
use super::signing::{Address, NonceManager, PrivateKey};
use super::tick;
use crate::engine::events::{CancelOutcome, Event, PostOutcome};
use crate::engine::hardstop::HardStopLatch;
use crate::engine::reject::RejectReason;
use crate::engine::scheduler::ActionBatch;
use crate::stagetime::{self, Stage};
use crate::venue::Now;
use std::sync::Arc;
use std::time::Duration;

pub struct OrderWriter {
    /// The agent key; None: nothing can be signed, every batch is refused.
    key: Option<Arc<PrivateKey>>,
    /// Shared by every connection that signs with this key: nonces must never repeat.
    nonces: Arc<NonceManager>,
    /// The pre-send guard reads the latch once more right before signing: a batch the engine
    /// handed out just before a HardStop loses its risk-increasing orders here.
    latch: Arc<HardStopLatch>,
    vault: Option<Address>,
    /// Phantom agent source "a" (mainnet) or "b" (testnet and the simulator).
    mainnet: bool,
    expires_after: Option<Duration>,
    /// Reused msgpack buffer for the action hash.
    msgpack: Vec<u8>,
    pub posts_signed: u64,
}

impl OrderWriter {
    pub fn new(
        key: Option<Arc<PrivateKey>>,
        nonces: Arc<NonceManager>,
        latch: Arc<HardStopLatch>,
        vault: Option<Address>,
        mainnet: bool,
        expires_after: Option<Duration>,
    ) -> OrderWriter {
        OrderWriter {
            key,
            nonces,
            latch,
            vault,
            mainnet,
            expires_after,
            msgpack: Vec::with_capacity(512),
            posts_signed: 0,
        }
    }

    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// Signs an action into a WS post frame, recording it in flight; None without a key.
    pub fn sign_post(
        &mut self,
        action: &Action,
        kind: PostKind,
        now: Now,
        posts: &mut Posts,
    ) -> Option<String> {
        stagetime::mark(Stage::SignStart);
        let key = self.key.clone()?;
        let nonce = self.nonces.next(now.wall_ms);
        let expires = self
            .expires_after
            .map(|d| now.wall_ms + d.as_millis() as u64);
        let signed = match actions::sign_action(
            &key,
            action,
            nonce,
            self.vault.as_ref(),
            expires,
            self.mainnet,
            &mut self.msgpack,
        ) {
            Ok(s) => {
                stagetime::mark(Stage::Signed);
                s
            }
            Err(e) => {
                tracing::error!("cannot encode action: {e}");
                return None;
            }
        };
        let id = posts.open(kind, now.mono);
        self.posts_signed += 1;
        match actions::post_frame(id, &signed) {
            Ok(frame) => {
                stagetime::mark(Stage::Framed);
                Some(frame)
            }
            Err(e) => {
                tracing::error!("cannot encode post: {e}");
                None
            }
        }
    }

    /// Turns a batch into signed posts (cancels first, then orders) appended to `frames`.
    /// Orders the venue would refuse (tick, lot, minimum value, unknown asset) are refused here,
    /// before signing, as events.
    pub fn write(
        &mut self,
        mut batch: ActionBatch,
        markets: &Markets,
        now: Now,
        posts: &mut Posts,
        frames: &mut Vec<String>,
        events: &mut Vec<Event>,
    ) {
        let dropped = batch.enforce_hard_stop(&self.latch);
        if !dropped.is_empty() {
            events.push(Event::BatchDropped { cloids: dropped });
        }
        if self.key.is_none() {
            tracing::error!("no signing key: cannot send orders");
            refuse_unsent(batch, events);
            return;
        }
        if !batch.cancels.is_empty() {
            let mut by_cloid = Vec::new();
            let mut cloids = Vec::new();
            // Orders the venue knows by oid only (adopted or cancelled unknown orders).
            let mut by_oid = Vec::new();
            let mut by_oid_cloids = Vec::new();
            for c in &batch.cancels {
                match markets.spec(c.market) {
                    Some(spec) if c.cloid.is_host_assigned() && c.oid.is_some() => {
                        by_oid.push(CancelWire {
                            a: spec.asset,
                            o: c.oid.expect("checked"),
                        });
                        by_oid_cloids.push(c.cloid);
                    }
                    Some(spec) => {
                        by_cloid.push(CancelByCloidWire {
                            asset: spec.asset,
                            cloid: c.cloid.to_wire(),
                        });
                        cloids.push(c.cloid);
                    }
                    None => events.push(Event::CancelResult {
                        cloid: c.cloid,
                        outcome: CancelOutcome::Failed,
                    }),
                }
            }
            if !by_cloid.is_empty() {
                let action = Action::CancelByCloid { cancels: by_cloid };
                frames.extend(self.sign_post(&action, PostKind::Cancels(cloids), now, posts));
            }
            if !by_oid.is_empty() {
                let action = Action::Cancel { cancels: by_oid };
                let kind = PostKind::Cancels(by_oid_cloids);
                frames.extend(self.sign_post(&action, kind, now, posts));
            }
        }
        let mut orders = Vec::new();
        let mut cloids = Vec::new();
        for o in &batch.orders {
            let wire = match markets.spec(o.market) {
                Some(spec) => tick::order_wire(o, &spec),
                None => Err(RejectReason::VenueOther),
            };
            match wire {
                Ok(w) => {
                    orders.push(w);
                    cloids.push(o.cloid);
                }
                Err(reason) => events.push(Event::PostResult {
                    cloid: o.cloid,
                    outcome: PostOutcome::Rejected(reason),
                }),
            }
        }
        if !orders.is_empty() {
            let action = Action::Order {
                orders,
                grouping: Grouping::Na,
                builder: None,
            };
            frames.extend(self.sign_post(&action, PostKind::Orders(cloids), now, posts));
        }
    }
}

/// A batch that cannot be sent (disconnected, no key): orders refused `not_ready` (the host
/// never sent them), cancels failed (the reconciliation after reconnect settles them).
pub fn refuse_unsent(batch: ActionBatch, events: &mut Vec<Event>) {
    for o in batch.orders {
        events.push(Event::PostResult {
            cloid: o.cloid,
            outcome: PostOutcome::Rejected(RejectReason::NotReady),
        });
    }
    for c in batch.cancels {
        events.push(Event::CancelResult {
            cloid: c.cloid,
            outcome: CancelOutcome::Failed,
        });
    }
}
