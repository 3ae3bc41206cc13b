//! What the venue says back: post results, cancel results, order updates, fills, and the account
//! state after a (re)connect. The venue is the authority for positions; the engine's order
//! tracking follows the venue's statuses.

use super::config::UnknownOrderPolicy;
use super::events::{
    CancelOutcome, EngineNote, FillEvent, OrderUpdate, PostOutcome, VenueOpenOrder,
    VenueOrderStatus, VenuePosition,
};
use super::orders::{OrderState, Purpose, TrackedOrder};
use super::reject::RejectReason;
use super::types::MarketId;
use super::types::{Cloid, VenueId};
use super::{Call, Engine};
use plugin_api::{FfiDecimal, FillView, FlattenKind, FlattenReason, OrderUpdateView, Tif};
use rust_decimal::Decimal;

impl Engine {
    pub(super) fn on_post_result(&mut self, cloid: Cloid, outcome: PostOutcome, now: u64) {
        let Some(before) = self.orders.get(cloid).copied() else {
            tracing::warn!(%cloid, ?outcome, "post result for an unknown order");
            return;
        };
        match outcome {
            PostOutcome::Resting { oid } => {
                self.orders.set_oid(cloid, oid);
                if matches!(
                    before.state,
                    OrderState::Sent | OrderState::Queued | OrderState::UnknownOutcome
                ) {
                    self.orders.set_state(cloid, OrderState::Resting);
                }
            }
            PostOutcome::Filled { oid, total_sz, .. } => {
                self.orders.set_oid(cloid, oid);
                self.orders.set_final_filled(cloid, total_sz);
                self.orders.set_state(cloid, OrderState::Filled);
            }
            PostOutcome::Rejected(reason) => {
                self.orders.set_final_filled(cloid, before.filled);
                self.orders.set_state(cloid, OrderState::Rejected);
                self.refuse(before.owner, before.market, before.tag, reason);
                if reason.is_venue_rejection()
                    && let Some(r) = self.risk.on_venue_reject(now)
                {
                    self.trigger_hard_stop(r, now);
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
                self.orders
                    .set_final_filled(cloid, u.filled_total.unwrap_or(o.sz));
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
        if f.sz <= Decimal::ZERO {
            return;
        }
        let cloid = f
            .cloid
            .filter(|c| self.orders.get(*c).is_some())
            .or_else(|| self.orders.by_oid(f.oid));
        let order = cloid.and_then(|c| self.orders.apply_fill(c, f.px, f.sz));
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

    /// The venue's account state after a (re)connect. Positions are replaced by the venue's;
    /// orders the venue does not list are over (their fills come from the fill snapshot);
    /// open orders the engine does not know are reported.
    pub(super) fn on_reconciled(
        &mut self,
        venue: VenueId,
        as_of_ms: u64,
        positions: &[VenuePosition],
        open_orders: &[VenueOpenOrder],
        now: u64,
    ) {
        let first = self.venues[venue.0 as usize].as_of_ms == 0;
        self.venues[venue.0 as usize].as_of_ms = as_of_ms;
        let markets: Vec<_> = self.registry.markets_of(venue).collect();
        for m in &markets {
            let (size, px) = positions
                .iter()
                .find(|p| p.market == *m)
                .map_or((Decimal::ZERO, Decimal::ZERO), |p| (p.size, p.entry_px));
            if self.positions.get(*m).size != size {
                tracing::warn!(
                    market = %self.registry.key(*m),
                    engine = %self.positions.get(*m).size,
                    venue = %size,
                    "position reconciled to the venue's"
                );
            }
            self.positions.set_from_venue(*m, size, px, now);
            self.notes
                .push(EngineNote::PositionReconciled { market: *m });
        }
        for vo in open_orders {
            let known = vo
                .cloid
                .filter(|c| self.orders.get(*c).is_some())
                .or_else(|| self.orders.by_oid(vo.oid));
            match known {
                Some(c) => {
                    self.orders.set_oid(c, vo.oid);
                    if let Some(o) = self.orders.get(c)
                        && matches!(o.state, OrderState::Sent | OrderState::UnknownOutcome)
                    {
                        self.orders.set_state(c, OrderState::Resting);
                    }
                }
                None => self.on_unknown_venue_order(venue, *vo, now),
            }
        }
        let stale: Vec<Cloid> = markets
            .iter()
            .flat_map(|m| self.orders.active_in(*m).to_vec())
            .filter(|c| {
                let o = self.orders.get(*c).expect("active order");
                // Queued and Sent orders have not been answered yet: their post result will come.
                !matches!(o.state, OrderState::Queued | OrderState::Sent)
                    && !open_orders
                        .iter()
                        .any(|vo| Some(vo.oid) == o.oid || vo.cloid == Some(*c))
            })
            .collect();
        for c in stale {
            let o = *self.orders.get(c).expect("order");
            self.orders.set_final_filled(c, o.filled);
            let s = if o.filled >= o.sz {
                OrderState::Filled
            } else {
                OrderState::Cancelled
            };
            self.orders.set_state(c, s);
            self.order_changed(c, now);
        }
        for m in &markets {
            if self.positions.get(*m).size.is_zero() {
                self.positions.end_flatten(*m);
            }
            self.refresh_market(*m);
        }
        if first {
            for m in markets {
                self.adopt_position(m, now);
            }
        }
    }

    /// An open order on the venue this run did not make (left by a killed run, or placed by
    /// hand). It is tracked either way, so its fills move the position and its size counts as
    /// pending exposure; then it is cancelled unless the config adopts it. A latched HardStop
    /// always cancels.
    fn on_unknown_venue_order(&mut self, venue: VenueId, vo: VenueOpenOrder, now: u64) {
        let cloid = vo.cloid.unwrap_or_else(|| Cloid::for_venue_oid(vo.oid));
        let adopt =
            self.cfg.unknown_orders == UnknownOrderPolicy::Adopt && !self.latch.is_triggered();
        self.orders.insert(TrackedOrder {
            cloid,
            oid: Some(vo.oid),
            market: vo.market,
            owner: None,
            tag: 0,
            side: vo.side,
            px: vo.px,
            sz: vo.sz,
            tif: Tif::Gtc,
            reduce_only: false,
            purpose: Purpose::Adopted,
            state: OrderState::Resting,
            filled: Decimal::ZERO,
            fill_value: Decimal::ZERO,
            final_filled: None,
            created_ns: now,
        });
        self.orders.set_oid(cloid, vo.oid);
        tracing::warn!(
            market = %self.registry.key(vo.market),
            oid = vo.oid,
            %cloid,
            side = ?vo.side,
            px = %vo.px,
            sz = %vo.sz,
            action = if adopt { "adopted" } else { "cancelling" },
            "open venue order this run did not make"
        );
        self.notes.push(EngineNote::UnknownVenueOrder {
            venue,
            order: vo,
            cloid,
            adopted: adopt,
        });
        if adopt {
            self.order_changed(cloid, now);
        } else {
            self.cancel_order(cloid, now);
        }
    }

    /// At start-up, a position belongs to the market's exit strategies (they manage whatever
    /// position their market holds); a market with no live exit strategy has nobody to close it,
    /// so it is flattened.
    fn adopt_position(&mut self, m: MarketId, now: u64) {
        let size = self.positions.get(m).size;
        if size.is_zero() || self.latch.is_triggered() {
            return; // a latched HardStop flattens everything already
        }
        let handed_to_exits = self.has_live_exit(m);
        tracing::warn!(
            market = %self.registry.key(m),
            %size,
            "position found at start-up: {}",
            if handed_to_exits { "handed to the market's exit strategies" } else { "no exit strategy configured: flattening" }
        );
        self.notes.push(EngineNote::UnownedPosition {
            market: m,
            size,
            handed_to_exits,
        });
        if !handed_to_exits && self.positions.flattening(m).is_none() {
            let reason = FlattenReason::new(
                FlattenKind::UNOWNED_POSITION,
                self.positions.get(m).entry_ns.min(now),
            );
            let _ = self.flatten(m, reason, None, None, now);
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
