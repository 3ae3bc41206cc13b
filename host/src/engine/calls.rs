//! Calling strategies: market updates fanned out to subscribers, the deferred callbacks (fills,
//! order updates, refusals), refusals themselves, and the views strategies read.

use super::*;

impl Engine {
    pub(super) fn on_market_update(&mut self, m: MarketId, now: u64) {
        let venue = self.registry.venue_of(m);
        let live = self.venues[venue.0 as usize].state == ConnectionState::Ready;
        if live {
            self.venues[venue.0 as usize].last_live = now;
        }
        self.edge.record(m, self.market_state.get(m));
        let subs = self.subscribers[m.index()].len();
        if subs == 0 {
            return;
        }
        // One snapshot per event, copied to each subscriber with its own index.
        let mut snap = MarketSnapshot::empty(MarketIdx(0));
        self.market_state
            .write_snapshot(m, MarketIdx(0), now, live, &mut snap);
        let open = !self.positions.get(m).size.is_zero();
        // Call timing is chained: one timestamp per call instead of two.
        let mut t = self.strategies[self.subscribers[m.index()][0].0.index()]
            .slot
            .timer_now();
        for k in 0..subs {
            let (sid, idx) = self.subscribers[m.index()][k];
            let e = &mut self.strategies[sid.index()];
            let view = &mut e.view_markets[idx.index()];
            *view = snap;
            view.market = idx;
            if open {
                self.refresh_unrealized(sid, idx, m);
            }
            t = self.call_strategy_timed(sid, Call::Market(idx), now, t);
        }
    }

    /// Calls one strategy, then applies the intents it wrote.
    pub(super) fn call_strategy(&mut self, sid: StrategyId, call: Call, now: u64) {
        let t0 = self.strategies[sid.index()].slot.timer_now();
        self.call_strategy_timed(sid, call, now, t0);
    }

    /// `call_strategy` with the call's start timestamp given (see `StrategySlot::call_from`);
    /// returns the timestamp the next chained call starts from.
    pub(super) fn call_strategy_timed(
        &mut self,
        sid: StrategyId,
        call: Call,
        now: u64,
        t0: u64,
    ) -> u64 {
        self.intents.clear();
        let e = &mut self.strategies[sid.index()];
        let ctx = Ctx::new(now, &e.view_markets, &e.view_positions);
        let out = &mut self.intents;
        let (outcome, t1) = match call {
            Call::Market(idx) => e.slot.call_from(t0, |h| h.on_market(&ctx, idx, out)),
            Call::Timer => e.slot.call_from(t0, |h| h.on_timer(&ctx, out)),
            Call::Fill(f) => e.slot.call_from(t0, |h| h.on_fill(&ctx, &f, out)),
            Call::OrderUpdate(u) => e.slot.call_from(t0, |h| h.on_order_update(&ctx, &u, out)),
            Call::Reject(r) => e.slot.call_from(t0, |h| h.on_reject(&ctx, &r, out)),
        };
        if let CallOutcome::Disabled(reason) = outcome {
            self.on_strategy_disabled(sid, reason, now);
            return self.strategies[sid.index()].slot.timer_now();
        }
        if self.intents.is_empty() && self.intents.dropped() == 0 {
            return t1;
        }
        if self.intents.dropped() > 0 {
            let m = self.strategies[sid.index()].markets[0];
            for _ in 0..self.intents.dropped() {
                self.refuse(Some(sid), m, 0, RejectReason::TooManyIntents);
            }
        }
        for i in 0..self.intents.len() {
            let intent = self.intents.as_slice()[i];
            self.apply_intent(sid, intent, now);
        }
        // Intent processing is the engine's time, not the next strategy's.
        self.strategies[sid.index()].slot.timer_now()
    }

    /// Delivers deferred callbacks, letting strategies react (bounded rounds per event).
    pub(super) fn deliver_deferred(&mut self, now: u64) {
        for _ in 0..MAX_CALLBACK_ROUNDS {
            let n = self.deferred.len();
            if n == 0 {
                return;
            }
            for _ in 0..n {
                if let Some((sid, call)) = self.deferred.pop_front() {
                    self.call_strategy(sid, call, now);
                }
            }
        }
    }

    /// Queues a callback for a strategy (skipped once it is disabled).
    pub(super) fn defer(&mut self, sid: StrategyId, call: Call) {
        if !self.strategies[sid.index()].slot.is_disabled() {
            self.deferred.push_back((sid, call));
        }
    }

    /// Records a refusal: counted, noted, and queued for the strategy's `on_reject`.
    pub(super) fn refuse(
        &mut self,
        sid: Option<StrategyId>,
        m: MarketId,
        tag: u64,
        reason: RejectReason,
    ) {
        self.refusals.add(reason);
        self.notes.push(EngineNote::Refused {
            strategy: sid,
            market: m,
            tag,
            reason,
        });
        if let Some(sid) = sid
            && let Some(idx) = self.market_idx(sid, m)
        {
            let r = Refusal {
                market: idx,
                tag,
                reason: reason.code(),
            };
            self.defer(sid, Call::Reject(r));
        }
    }

    pub(super) fn market_idx(&self, sid: StrategyId, m: MarketId) -> Option<MarketIdx> {
        self.strategies[sid.index()]
            .markets
            .iter()
            .position(|x| *x == m)
            .map(|i| MarketIdx(i as u32))
    }

    /// Recomputes market `m`'s pending aggregates and every subscriber's position view.
    pub(super) fn refresh_market(&mut self, m: MarketId) {
        let pending = self.orders.pending_in(m);
        self.positions.set_pending(m, pending);
        let p = *self.positions.get(m);
        let flattening = self.positions.flattening(m).is_some();
        let has_pending = !self.orders.active_in(m).is_empty();
        let mark = self.market_state.valuation_price(m).unwrap_or_default();
        for k in 0..self.subscribers[m.index()].len() {
            let (sid, idx) = self.subscribers[m.index()][k];
            let v = &mut self.strategies[sid.index()].view_positions[idx.index()];
            *v = PositionView {
                market: idx,
                size: FfiDecimal::new(p.size),
                avg_entry_px: FfiDecimal::new(p.avg_entry),
                entry_time_ns: p.entry_ns,
                unrealized_pnl: FfiDecimal::new(p.unrealized(mark)),
                realized_pnl: FfiDecimal::new(p.round_trip),
                flattening,
                has_pending,
            };
        }
    }

    /// Keeps the unrealized PnL of a view current on market updates (only when a position is open).
    #[inline]
    pub(super) fn refresh_unrealized(&mut self, sid: StrategyId, idx: MarketIdx, m: MarketId) {
        let p = self.positions.get(m);
        if p.size.is_zero() {
            return;
        }
        let mark = self.market_state.valuation_price(m).unwrap_or_default();
        self.strategies[sid.index()].view_positions[idx.index()].unrealized_pnl =
            FfiDecimal::new(p.unrealized(mark));
    }
}
