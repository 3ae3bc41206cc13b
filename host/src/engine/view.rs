//! Read access for drivers, status lines and tests.

use super::*;

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
}
