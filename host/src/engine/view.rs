//! Read access for drivers, status lines and tests.

use super::*;
use rust_decimal::Decimal;

impl Engine {
    pub fn registry(&self) -> &MarketRegistry {
        &self.registry
    }

    pub fn latch(&self) -> &Arc<HardStopLatch> {
        &self.latch
    }

    pub fn hard_stopped(&self) -> bool {
        self.latch.is_triggered()
    }

    pub fn position(&self, m: MarketId) -> positions::Position {
        *self.positions.get(m)
    }

    pub fn positions(&self) -> &PositionTracker {
        &self.positions
    }

    pub fn orders(&self) -> &OrderTracker {
        &self.orders
    }

    pub fn market(&self, m: MarketId) -> &market_state::MarketData {
        self.market_state.get(m)
    }

    pub fn refusals(&self) -> &RefusalCounters {
        &self.refusals
    }

    pub fn risk(&self) -> &RiskMonitor {
        &self.risk
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    pub fn entries_paused(&self) -> bool {
        self.entries_paused
    }

    pub fn has_queued_actions(&self) -> bool {
        !self.scheduler.is_empty()
    }

    pub fn strategy_names(&self) -> impl Iterator<Item = (StrategyId, &str)> {
        self.strategies
            .iter()
            .enumerate()
            .map(|(i, e)| (StrategyId(i as u16), e.slot.name.as_str()))
    }

    pub fn strategy_slot(&self, sid: StrategyId) -> &StrategySlot {
        &self.strategies[sid.index()].slot
    }

    /// Mutable access to strategy slots (state snapshot/restore by the runtime).
    pub fn strategy_slot_mut(&mut self, sid: StrategyId) -> &mut StrategySlot {
        &mut self.strategies[sid.index()].slot
    }

    /// The entry strategy trading market `m` (None: no entry strategy names it).
    pub fn entry_strategy_of(&self, m: MarketId) -> Option<StrategyId> {
        self.subscribers[m.index()]
            .iter()
            .map(|(sid, _)| *sid)
            .find(|sid| self.strategies[sid.index()].slot.role == plugin_api::Role::Entry)
    }

    /// What MaxPosition counts for market `m`: |position| + unfilled entries, at the
    /// valuation price (quote currency).
    pub fn exposure_of(&self, m: MarketId) -> Decimal {
        self.exposure(m)
    }

    /// The action budget at `now`: whole tokens available, and its capacity.
    pub fn action_budget(&self, now: u64) -> (u64, u64) {
        (self.budget.available_at(now), self.budget.capacity())
    }

    /// What `venue` said is left of its per-address request budget (None: not said yet).
    pub fn venue_request_budget(&self, venue: VenueId) -> Option<u64> {
        self.budget.venue_remaining(venue)
    }

    /// Engine time (ns) `venue` was last live (Ready, or market data while Ready); None: never.
    pub fn venue_last_live(&self, venue: VenueId) -> Option<u64> {
        self.venues
            .get(venue.0 as usize)
            .map(|v| v.last_live)
            .filter(|t| *t != 0)
    }

    /// `venue`'s connection state.
    pub fn venue_state(&self, venue: VenueId) -> ConnectionState {
        self.venues
            .get(venue.0 as usize)
            .map_or(ConnectionState::Disconnected, |v| v.state)
    }

    /// The strategies trading market `m` (its entry and its exits).
    pub fn strategies_on(&self, m: MarketId) -> impl Iterator<Item = StrategyId> + '_ {
        self.subscribers[m.index()].iter().map(|(sid, _)| *sid)
    }
}
