//! What the venue says back: post results, cancel results, order updates and fills (the account
//! state after a (re)connect is `reconcile`). The engine's order tracking follows the venue's
//! statuses.

use super::events::{
    CancelOutcome, EngineNote, FillEvent, OrderUpdate, PostOutcome, VenueOrderStatus,
};
use super::orders::{OrderState, Purpose, TrackedOrder};
use super::reject::RejectReason;
use super::types::Cloid;
use super::{Call, Engine};
use plugin_api::{FfiDecimal, FillView, FlattenKind, FlattenReason, OrderUpdateView};
use rust_decimal::Decimal;

impl Engine {
    pub(super) fn on_post_result(&mut self, cloid: Cloid, outcome: PostOutcome, now: u64) {
        let Some(before) = self.orders.get(cloid).copied() else {
            tracing::warn!(%cloid, ?outcome, "post result for an unknown order");
            return;
        };
        match outcome {
            PostOutcome::Resting { oid } => {
                self.backoff.on_success(before.market, before.side);
                self.orders.set_oid(cloid, oid);
                if matches!(
                    before.state,
                    OrderState::Sent | OrderState::Queued | OrderState::UnknownOutcome
                ) {
                    self.orders.set_state(cloid, OrderState::Resting);
                }
            }
            PostOutcome::Filled { oid, total_sz, .. } => {
                self.backoff.on_success(before.market, before.side);
                self.orders.set_oid(cloid, oid);
                self.orders.set_final_filled(cloid, total_sz);
                self.orders.set_state(cloid, OrderState::Filled);
                self.await_fills(cloid, total_sz, now);
            }
            PostOutcome::Rejected(reason) => {
                self.orders.set_final_filled(cloid, before.filled);
                self.orders.set_state(cloid, OrderState::Rejected);
                self.refuse(before.owner, before.market, before.tag, reason);
                if reason.is_venue_rejection() {
                    self.on_venue_rejection(&before, now);
                    if let Some(r) = self.risk.on_venue_reject(now) {
                        self.trigger_hard_stop(r, now);
                    }
                }
            }
            PostOutcome::UnknownOutcome => {
                self.orders.set_state(cloid, OrderState::UnknownOutcome);
                let venue = self.registry.venue_of(before.market);
                self.notes.push(EngineNote::ReconcileRequest { venue });
            }
        }
        self.order_changed(cloid, now);
    }

    pub(super) fn on_cancel_result(&mut self, cloid: Cloid, outcome: CancelOutcome, now: u64) {
        let Some(o) = self.orders.get(cloid).copied() else {
            return;
        };
        match outcome {
            CancelOutcome::Success => {
                let state = if o.filled >= o.sz {
                    OrderState::FilledDuringCancel
                } else {
                    OrderState::Cancelled
                };
                self.orders.set_state(cloid, state);
            }
            CancelOutcome::Failed => {
                // Filled, already cancelled or never placed: the order stream or a reconciliation
                // will say which. Until then the order stays CancelPending (still counted).
                let venue = self.registry.venue_of(o.market);
                self.notes.push(EngineNote::ReconcileRequest { venue });
            }
        }
        self.order_changed(cloid, now);
    }

    pub(super) fn on_order_update(&mut self, u: OrderUpdate, now: u64) {
        let cloid = u
            .cloid
            .filter(|c| self.orders.get(*c).is_some())
            .or_else(|| self.orders.by_oid(u.oid));
        let Some(cloid) = cloid else {
            if u.status == VenueOrderStatus::Open {
                self.notes
                    .push(EngineNote::ReconcileRequest { venue: u.venue });
            }
            return;
        };
        self.orders.set_oid(cloid, u.oid);
        let o = *self.orders.get(cloid).expect("known order");
        match u.status {
            VenueOrderStatus::Open => {
                if matches!(
                    o.state,
                    OrderState::Queued | OrderState::Sent | OrderState::UnknownOutcome
                ) {
                    let s = if o.filled.is_zero() {
                        OrderState::Resting
                    } else {
                        OrderState::PartiallyFilled
                    };
                    self.orders.set_state(cloid, s);
                }
            }
            VenueOrderStatus::Filled => {
                let total = u.filled_total.unwrap_or(o.sz);
                self.orders.set_final_filled(cloid, total);
                self.await_fills(cloid, total, now);
                let s = if o.state == OrderState::CancelPending {
                    OrderState::FilledDuringCancel
                } else {
                    OrderState::Filled
                };
                self.orders.set_state(cloid, s);
            }
            VenueOrderStatus::Cancelled => {
                let total = u.filled_total.unwrap_or(o.filled);
                self.orders.set_final_filled(cloid, total);
                self.await_fills(cloid, total, now);
                let s = if total >= o.sz {
                    OrderState::FilledDuringCancel
                } else {
                    OrderState::Cancelled
                };
                self.orders.set_state(cloid, s);
            }
            VenueOrderStatus::Rejected(reason) => {
                self.orders
                    .set_final_filled(cloid, u.filled_total.unwrap_or(o.filled));
                self.orders.set_state(cloid, OrderState::Rejected);
                if !o.state.is_terminal() {
                    self.refuse(o.owner, o.market, o.tag, reason);
                }
            }
        }
        self.order_changed(cloid, now);
    }

    pub(super) fn on_fill(&mut self, f: FillEvent, now: u64) {
        if !self.seen_fills.insert((f.venue, f.tid)) {
            return; // a snapshot resent after a reconnect, or a duplicate
        }
        self.seen_order.push_back((f.venue, f.tid));
        if self.seen_order.len() > super::SEEN_FILLS
            && let Some(old) = self.seen_order.pop_front()
        {
            self.seen_fills.remove(&old);
        }
        if f.sz <= Decimal::ZERO {
            return;
        }
        let cloid = f
            .cloid
            .filter(|c| self.orders.get(*c).is_some())
            .or_else(|| self.orders.by_oid(f.oid));
        let order = cloid.and_then(|c| self.orders.apply_fill(c, f.px, f.sz));
        if order.is_none()
            && let Some(c) = f.cloid
            && self.cfg.unknown_orders != super::config::UnknownOrderPolicy::Adopt
            && self.is_foreign(c)
        {
            self.foreign_seen(f.venue, c, "a fill");
        }
        if order.is_none() {
            self.notes
                .push(EngineNote::ReconcileRequest { venue: f.venue });
        }
        // Fills the reconciled account state already contains change only the order.
        let as_of = self.venues[f.venue.0 as usize].as_of_ms;
        let mut realized = Decimal::ZERO;
        let replayed = as_of != 0 && f.time_ms <= as_of;
        if !replayed {
            let effect = self
                .positions
                .apply_fill(f.market, f.side, f.px, f.sz, f.fee, now);
            if self.recent_fills.len() == super::RECENT_FILLS {
                self.recent_fills.pop_front();
            }
            let signed = if f.side == super::types::Side::Buy {
                f.sz
            } else {
                -f.sz
            };
            self.recent_fills
                .push_back((f.venue, f.market, f.time_ms, signed));
            realized = effect.realized;
            if let Some(r) = self.risk.on_realized(effect.realized) {
                self.trigger_hard_stop(r, now);
            }
            if let Some(rt) = effect.closed_round_trip
                && let Some(r) = self.risk.on_round_trip(rt)
            {
                self.trigger_hard_stop(r, now);
            }
        }
        if let Some(o) = order {
            self.backoff.on_success(o.market, o.side);
            if o.reduce_only {
                self.backoff.on_reduced(o.market);
            }
        }
        if let Some(o) = order
            && o.purpose != Purpose::Flatten
            && let Some(r) = self.risk.on_fill_price(o.side, o.px, f.px)
        {
            self.trigger_hard_stop(r, now);
        }
        let owner = order.and_then(|o| o.owner);
        self.notes.push(EngineNote::Fill {
            fill: f,
            strategy: owner,
            realized,
            replayed,
        });
        if self.positions.get(f.market).size.is_zero() {
            self.positions.end_flatten(f.market);
        }
        match cloid {
            Some(c) if order.is_some() => self.order_changed(c, now),
            _ => self.refresh_market(f.market),
        }
        // A replayed fill of an order this run does not know happened before it: the strategies'
        // restored state already saw it.
        if !replayed || order.is_some() {
            self.deliver_fill(f, order, now);
        }
        if self.latch.is_triggered() && self.positions.all_flat() {
            self.notes.push(EngineNote::HardStopFlat);
        }
    }

    /// Seed 002 on a venue rejection: the market and side back off; a market whose reduce-only
    /// orders keep being rejected is reconciled (its position may not be what the engine
    /// thinks), then closed in small steps, and finally a HardStop.
    fn on_venue_rejection(&mut self, o: &TrackedOrder, now: u64) {
        use super::backoff::Verdict;
        match self
            .backoff
            .on_rejection(o.market, o.side, o.reduce_only, now)
        {
            Verdict::Counted => {}
            Verdict::Stuck => {
                tracing::warn!(
                    market = %self.registry.key(o.market),
                    "reduce-only orders rejected repeatedly: reconciling, then closing in steps"
                );
                let venue = self.registry.venue_of(o.market);
                self.notes.push(EngineNote::ReconcileRequest { venue });
            }
            Verdict::GiveUp => {
                tracing::error!(
                    market = %self.registry.key(o.market),
                    "reduce-only orders still rejected after reconciling and stepping: HARD STOP"
                );
                self.trigger_hard_stop(super::hardstop::HardStopReason::StuckReduceOnly, now);
            }
        }
    }

    /// The venue says `cloid` filled `total`: if its fills have not all arrived, watch for them
    /// (`check_awaited_fills`).
    fn await_fills(&mut self, cloid: Cloid, total: Decimal, now: u64) {
        let applied = self.orders.get(cloid).map_or(total, |o| o.filled);
        if applied < total && !self.awaiting_fills.iter().any(|(c, _)| *c == cloid) {
            self.awaiting_fills.push((cloid, now));
        }
    }

    /// Orders whose announced fills did not arrive within `fill_grace_ms`: a fill frame was lost,
    /// and the position the engine holds is not the venue's. Ask for a reconcile.
    pub(super) fn check_awaited_fills(&mut self, now: u64) {
        let grace = self.cfg.fill_grace_ms * 1_000_000;
        let mut i = 0;
        while i < self.awaiting_fills.len() {
            let (cloid, since) = self.awaiting_fills[i];
            let missing = self
                .orders
                .get(cloid)
                .map(|o| (o.market, o.filled < o.final_filled.unwrap_or(o.filled)));
            match missing {
                Some((_, true)) if now.saturating_sub(since) < grace => i += 1,
                Some((m, true)) => {
                    let venue = self.registry.venue_of(m);
                    tracing::warn!(
                        %cloid,
                        market = %self.registry.key(m),
                        "the venue reported fills that never arrived: reconciling"
                    );
                    self.notes.push(EngineNote::ReconcileRequest { venue });
                    self.awaiting_fills.swap_remove(i);
                }
                _ => {
                    self.awaiting_fills.swap_remove(i);
                }
            }
        }
    }

    /// on_fill to the order's owner, or to every subscriber of the market when nobody owns it.
    fn deliver_fill(&mut self, f: FillEvent, order: Option<TrackedOrder>, now: u64) {
        let view = |idx, tag, reduce_only| FillView {
            market: idx,
            side: f.side,
            px: FfiDecimal::new(f.px),
            sz: FfiDecimal::new(f.sz),
            fee: FfiDecimal::new(f.fee),
            closed_pnl: FfiDecimal::ZERO,
            tag,
            reduce_only,
            time_ns: now,
        };
        match order.and_then(|o| o.owner.map(|s| (s, o))) {
            Some((sid, o)) => {
                if let Some(idx) = self.market_idx(sid, f.market) {
                    self.defer(sid, Call::Fill(view(idx, o.tag, o.reduce_only)));
                }
            }
            None => {
                let reduce_only = order.is_some_and(|o| o.reduce_only);
                for k in 0..self.subscribers[f.market.index()].len() {
                    let (sid, idx) = self.subscribers[f.market.index()][k];
                    self.defer(sid, Call::Fill(view(idx, 0, reduce_only)));
                }
            }
        }
    }

    /// After any change of an order: pending aggregates and views, flatten bookkeeping, the
    /// owner's on_order_update, and pair-leg failure handling.
    pub(super) fn order_changed(&mut self, cloid: Cloid, now: u64) {
        let Some(o) = self.orders.get(cloid).copied() else {
            return;
        };
        // Every state change is journaled (the note carries the order as it is now).
        self.notes.push(super::events::EngineNote::Order(o));
        if o.purpose == Purpose::Flatten
            && !o.is_active()
            && self
                .positions
                .flattening(o.market)
                .is_some_and(|f| f.cloid == cloid)
        {
            self.positions.end_flatten(o.market);
        }
        self.refresh_market(o.market);
        if let Some(sid) = o.owner
            && let Some(idx) = self.market_idx(sid, o.market)
        {
            let u = OrderUpdateView {
                market: idx,
                tag: o.tag,
                status: o.state.status(),
                filled_sz: FfiDecimal::new(o.filled),
                remaining_sz: FfiDecimal::new(if o.is_active() {
                    o.sz - o.filled
                } else {
                    Decimal::ZERO
                }),
                avg_fill_px: FfiDecimal::new(o.avg_fill_px()),
            };
            self.defer(sid, Call::OrderUpdate(u));
        }
        if let Purpose::PairLeg(pair) = o.purpose {
            self.check_pair(pair, now);
        }
    }

    /// A pair whose leg failed: cancel the other leg, flatten whatever of it filled.
    fn check_pair(&mut self, pair: u32, now: u64) {
        let Some(rec) = self.pairs.get(&pair).copied() else {
            return;
        };
        let legs = rec.legs.map(|c| self.orders.get(c).copied());
        let failed = |o: &Option<TrackedOrder>| {
            o.is_some_and(|o| {
                matches!(
                    o.state,
                    OrderState::Rejected | OrderState::Dropped | OrderState::Cancelled
                ) && o.filled < o.sz
                    && !o.is_active()
            })
        };
        let broken = rec.broken || failed(&legs[0]) || failed(&legs[1]);
        if broken && !rec.broken {
            self.pairs.insert(
                pair,
                super::PairRecord {
                    broken: true,
                    ..rec
                },
            );
            tracing::warn!(
                pair,
                "pair leg failed: cancelling and flattening the other leg"
            );
        }
        if broken {
            for o in legs.into_iter().flatten() {
                if o.is_active() && o.state != OrderState::CancelPending {
                    self.cancel_order(o.cloid, now);
                }
                if o.filled > Decimal::ZERO
                    && !o.reduce_only
                    && !self.positions.get(o.market).size.is_zero()
                {
                    let reason = FlattenReason::new(FlattenKind::PAIR_LEG_FAILED, 0);
                    let _ = self.flatten(o.market, reason, None, o.owner, now);
                }
            }
        }
        if legs.iter().all(|o| o.is_none_or(|o| !o.is_active())) {
            self.pairs.remove(&pair);
        }
    }

    /// Orders the writer's pre-send guard dropped: never sent, cleaned up.
    pub(super) fn on_batch_dropped(&mut self, cloids: &[Cloid], now: u64) {
        for c in cloids {
            self.drop_order(*c, RejectReason::HardStopPreSend, now);
        }
    }

    /// An unsent order removed by HardStop: state Dropped, pending cleaned, owner told.
    pub(super) fn drop_order(&mut self, c: Cloid, reason: RejectReason, now: u64) {
        let Some(o) = self.orders.get(c).copied() else {
            return;
        };
        if o.state.is_terminal() {
            return;
        }
        self.orders.set_final_filled(c, Decimal::ZERO);
        self.orders.set_state(c, OrderState::Dropped);
        self.refuse(o.owner, o.market, o.tag, reason);
        self.order_changed(c, now);
    }
}
