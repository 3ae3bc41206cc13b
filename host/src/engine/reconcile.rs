//! The venue's account state (after every (re)connect) replacing the engine's view: positions
//! set from the venue, orders the venue no longer lists closed, open orders the engine did not
//! make tracked and cancelled or adopted, positions nobody manages flattened.

use super::Engine;
use super::config::UnknownOrderPolicy;
use super::events::{EngineNote, VenueOpenOrder, VenuePosition};
use super::hardstop::HardStopReason;
use super::orders::{OrderState, Purpose, TrackedOrder};
use super::types::{Cloid, MarketId, VenueId};
use plugin_api::{FlattenKind, FlattenReason, Tif};
use rust_decimal::Decimal;

/// Orders made within this long before a live reconcile began may be missing from its account
/// state without being over.
const LIVE_ORDER_GRACE_NS: u64 = 2_000_000_000;

/// The venue's (size, entry price) in market `m` (flat when it lists none).
fn venue_position(positions: &[VenuePosition], m: MarketId) -> (Decimal, Decimal) {
    positions
        .iter()
        .find(|p| p.market == m)
        .map_or((Decimal::ZERO, Decimal::ZERO), |p| (p.size, p.entry_px))
}

impl Engine {
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
        let v = &mut self.venues[venue.0 as usize];
        let first = v.as_of_ms == 0;
        v.as_of_ms = as_of_ms;
        v.reconciling_since = None;
        let markets: Vec<_> = self.registry.markets_of(venue).collect();
        for m in &markets {
            let (size, px) = venue_position(positions, *m);
            // At start the engine knows no position: the venue's is the one a restart resumes
            // (information); later, a difference is drift (a warning).
            if self.positions.get(*m).size != size {
                if first {
                    tracing::info!(market = %self.registry.key(*m), venue = %size, "position at start, from the venue");
                } else {
                    tracing::warn!(
                        market = %self.registry.key(*m),
                        engine = %self.positions.get(*m).size,
                        venue = %size,
                        "position reconciled to the venue's"
                    );
                }
            }
            self.take_venue_position(*m, size, px, now);
        }
        self.apply_venue_orders(venue, &markets, open_orders, None, now);
        if first {
            for m in markets {
                self.adopt_position(m, now);
            }
        }
    }

    /// The venue's account state read while the session stayed up (on demand or periodic). The
    /// state is as of `as_of_ms`; fills the engine applied after that are kept on top of it.
    /// Any remaining difference is drift: corrected to the venue's, logged at WARN with before
    /// and after, noted (journal, metrics), and a HardStop past `max_drift_notional` or when it
    /// comes back within `drift_repeat_window_ms` of the last correction.
    pub(super) fn on_live_reconciled(
        &mut self,
        venue: VenueId,
        as_of_ms: u64,
        positions: &[VenuePosition],
        open_orders: &[VenueOpenOrder],
        now: u64,
    ) {
        let started = self.venues[venue.0 as usize]
            .reconciling_since
            .take()
            .unwrap_or(now);
        let markets: Vec<_> = self.registry.markets_of(venue).collect();
        let mut drifted = false;
        for m in &markets {
            let (size, px) = venue_position(positions, *m);
            let later: Decimal = self
                .recent_fills
                .iter()
                .filter(|(v, mm, t, _)| *v == venue && mm == m && *t > as_of_ms)
                .map(|f| f.3)
                .sum();
            let corrected = size + later;
            let engine = self.positions.get(*m).size;
            if engine == corrected {
                continue;
            }
            drifted = true;
            tracing::warn!(
                market = %self.registry.key(*m),
                before = %engine,
                after = %corrected,
                venue_as_of_ms = as_of_ms,
                "position drift: the engine's position corrected to the venue's"
            );
            self.notes.push(EngineNote::PositionDrift {
                venue,
                market: *m,
                engine,
                corrected,
            });
            self.take_venue_position(*m, corrected, px, now);
            let mark = self.market_state.valuation_price(*m).unwrap_or(px);
            if (engine - corrected).abs() * mark > self.risk.limits().max_drift_notional {
                self.trigger_hard_stop(HardStopReason::PositionDrift, now);
            }
        }
        if drifted {
            let v = &mut self.venues[venue.0 as usize];
            let window = self.risk.limits().drift_repeat_window_ms * 1_000_000;
            let repeated = v.last_drift_ns != 0 && now.saturating_sub(v.last_drift_ns) <= window;
            v.last_drift_ns = now;
            if repeated {
                self.trigger_hard_stop(HardStopReason::PositionDrift, now);
            }
        }
        let v = &mut self.venues[venue.0 as usize];
        v.as_of_ms = v.as_of_ms.max(as_of_ms);
        // The account state may predate orders sent shortly before the reconcile began (the
        // request and the orders travel on different connections): those are left alone.
        let settled_before = started.saturating_sub(LIVE_ORDER_GRACE_NS);
        self.apply_venue_orders(venue, &markets, open_orders, Some(settled_before), now);
    }

    /// Market `m`'s position is the venue's (noted: the journal records it).
    fn take_venue_position(&mut self, m: MarketId, size: Decimal, entry_px: Decimal, now: u64) {
        self.positions.set_from_venue(m, size, entry_px, now);
        self.notes
            .push(EngineNote::PositionReconciled { market: m });
    }

    /// The venue's open orders: known ones are resting, unknown ones tracked and cancelled or
    /// adopted, and active engine orders the venue does not list are over. With
    /// `made_before`, only orders created before that engine time are closed that way.
    fn apply_venue_orders(
        &mut self,
        venue: VenueId,
        markets: &[MarketId],
        open_orders: &[VenueOpenOrder],
        made_before: Option<u64>,
        now: u64,
    ) {
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
                    && made_before.is_none_or(|t| o.created_ns < t)
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
        for m in markets {
            if self.positions.get(*m).size.is_zero() {
                self.positions.end_flatten(*m);
            }
            self.refresh_market(*m);
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
        if !adopt && self.is_foreign(cloid) {
            // Cancelling would fight the other host; trading beside it would double the risk.
            self.foreign_seen(venue, cloid, "an open order");
            return;
        }
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
        if handed_to_exits {
            tracing::info!(market = %self.registry.key(m), %size, "position found at start-up: handed to the market's exit strategies");
        } else {
            tracing::warn!(market = %self.registry.key(m), %size, "position found at start-up: no exit strategy configured: flattening");
        }
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
}
