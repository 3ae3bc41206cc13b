//! HardStop, flatten and the timer: the parts of the engine that take risk off.

use super::events::EngineNote;
use super::flatten::FlattenOrderBuilder;
use super::gates::{Candidate, Kind};
use super::hardstop::HardStopReason;
use super::orders::{OrderState, Purpose};
use super::reject::RejectReason;
use super::types::{MarketId, StrategyId};
use super::{Call, Engine};
use plugin_api::{FlattenKind, FlattenReason, MarketIdx, PlaceIntent, Tif};
use rust_decimal::Decimal;

impl Engine {
    /// Trips the latch and, in the same step: purges queued new orders (cleaning their pending
    /// markers), cancels resting non-reduce-only orders, and flattens every position.
    pub(crate) fn trigger_hard_stop(&mut self, reason: HardStopReason, now: u64) {
        if !self.latch.trigger(reason) {
            return;
        }
        tracing::error!(%reason, "HARD STOP: new orders blocked; cancelling entries and flattening");
        self.notes.push(EngineNote::HardStopTriggered(reason));
        for (cloid, _) in self.scheduler.drop_new_orders() {
            self.drop_order(cloid, RejectReason::HardStop, now);
        }
        let entries: Vec<_> = self
            .orders
            .active()
            .filter(|o| {
                !o.reduce_only && !o.state.is_terminal() && o.state != OrderState::CancelPending
            })
            .map(|o| o.cloid)
            .collect();
        for c in entries {
            self.cancel_order(c, now);
        }
        self.flatten_all_for_hard_stop(now);
    }

    fn flatten_all_for_hard_stop(&mut self, now: u64) {
        let open: Vec<MarketId> = self.positions.open_markets().collect();
        for m in open {
            if self.positions.flattening(m).is_some() {
                continue;
            }
            let held = self.positions.get(m).entry_ns;
            let reason =
                FlattenReason::new(FlattenKind::HARD_STOP, now.saturating_sub(held) / 1_000_000);
            if let Err(r) = self.flatten(m, reason, None, None, now) {
                // Retried on every timer tick while it cannot go (a venue down, another host):
                // logged 1, 2, 3, 4, 8, 16, … times, not five times a second.
                self.flatten_retries += 1;
                if crate::logging::log_nth(self.flatten_retries) {
                    tracing::warn!(
                        market = %self.registry.key(m),
                        reason = %r,
                        retries = self.flatten_retries,
                        "HardStop flatten not sent yet; retried on the timer"
                    );
                }
            }
        }
        if self.positions.all_flat() {
            self.notes.push(EngineNote::HardStopFlat);
        }
    }

    /// Closes the position in `m` with a reduce-only IOC priced from the BBO with a slippage
    /// bound. A market is never flattened twice at once.
    pub(crate) fn flatten(
        &mut self,
        m: MarketId,
        reason: FlattenReason,
        slippage_bps: Option<Decimal>,
        owner: Option<StrategyId>,
        now: u64,
    ) -> Result<(), RejectReason> {
        if self.positions.flattening(m).is_some() {
            return Err(RejectReason::AlreadyFlattening);
        }
        let size = self.positions.get(m).size;
        if size.is_zero() {
            return Err(RejectReason::NothingToReduce);
        }
        let slip = slippage_bps.unwrap_or(self.cfg.flatten_slippage_bps);
        let mut order = FlattenOrderBuilder::build(size, self.market_state.get(m), slip)
            .ok_or(RejectReason::NoPrice)?;
        if self.backoff.recovering(m) {
            // Stuck reduce-only recovery: close in small IOC steps the venue can take.
            let step = self.cfg.recovery_step_notional / order.px;
            order.sz = order.sz.min(step.max(Decimal::new(1, 8)));
        }
        let owner_tag = owner.map_or(0, |_| reason.kind.0 as u64);
        let p = PlaceIntent::new(MarketIdx(0), order.side, order.px, order.sz, Tif::Ioc)
            .with_tag(owner_tag);
        let [approved] = self
            .approve(Kind::Reduce, [Candidate { market: m, p }], now)
            .map_err(|(_, r)| r)?;
        // Entry orders still working in this market would re-open what we close.
        let entries: Vec<_> = self
            .orders
            .active_in(m)
            .iter()
            .copied()
            .filter(|c| self.orders.get(*c).is_some_and(|o| !o.reduce_only))
            .collect();
        for c in entries {
            self.cancel_order(c, now);
        }
        let cloid = self.enqueue(owner, approved, Purpose::Flatten, now);
        self.positions.begin_flatten(
            m,
            super::positions::Flattening {
                cloid,
                reason,
                since_ns: now,
            },
        );
        // Logged by the runtime once the order is written (`EngineCore::settle`).
        self.notes.push(EngineNote::Flatten {
            market: m,
            cloid,
            reason,
            strategy: owner,
        });
        self.refresh_market(m);
        Ok(())
    }

    /// The periodic timer: risk checks, HardStop flatten retries, strategies' `on_timer` (the
    /// backup exit path), and the EdgeTracker summary.
    pub(super) fn on_timer(&mut self, now: u64) {
        self.check_awaited_fills(now);
        for v in 0..self.venues.len() {
            let venue = super::types::VenueId(v as u16);
            let has_position = self
                .registry
                .markets_of(venue)
                .any(|m| !self.positions.get(m).size.is_zero());
            if has_position
                && let Some(r) = self.risk.check_data_loss(self.venues[v].last_live, now)
            {
                self.trigger_hard_stop(r, now);
            }
        }
        let open: Vec<MarketId> = self.positions.open_markets().collect();
        let bad_limit = self.risk.limits().bad_data_hardstop_ms * 1_000_000;
        for m in open {
            if let Some(r) = self.risk.check_runaway(self.exposure(m)) {
                self.trigger_hard_stop(r, now);
            }
            let bad_since = self.market_state.get(m).bad_since_ns;
            if bad_since != 0 && now.saturating_sub(bad_since) > bad_limit {
                tracing::error!(market = %self.registry.key(m), "market data has made no sense for too long with a position open");
                self.trigger_hard_stop(HardStopReason::BadMarketData, now);
            }
        }
        if self.latch.is_triggered() && !self.positions.all_flat() {
            self.flatten_all_for_hard_stop(now);
        }
        for i in 0..self.strategies.len() {
            self.call_strategy(StrategyId(i as u16), Call::Timer, now);
        }
        if let Some(summary) = self.edge.maybe_summarize(now) {
            for line in &summary {
                tracing::info!(
                    market = %self.registry.key(line.market),
                    max_buy_edge_bps = ?line.stats.max_buy_bps,
                    max_sell_edge_bps = ?line.stats.max_sell_bps,
                    threshold_pct = %line.threshold_pct,
                    updates = line.stats.updates,
                    "EdgeTracker: market edge summary"
                );
            }
            if !summary.is_empty() {
                self.notes.push(EngineNote::EdgeSummary(summary));
            }
        }
    }
}
