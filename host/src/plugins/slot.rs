//! A created strategy as the engine calls it.
//!
//! Every call goes through the plugin's panic guard; a panic comes back as an error, and the slot
//! disables the strategy at once (logged once, with the panic message). A disabled strategy is
//! never called again; the engine stops routing its markets' entry calls to it and hands its
//! positions to the exit strategies. Each call is timed; calls over the budget are counted.

use super::timer::CallTimer;
use crate::metrics::hist::{BOUNDS_NS, Histogram};
use plugin_api::host::StrategyHandle;
use plugin_api::{Ctx, FillView, Intents, MarketIdx, OrderUpdateView, Refusal, Role};

/// Per-strategy call counters (for status lines, metrics and the benchmark).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    pub calls: u64,
    /// Calls slower than the configured `plugins.call_budget_us`.
    pub over_budget: u64,
    /// Slowest call seen, in ns.
    pub max_ns: u64,
}

/// What happened to one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    Ok,
    /// The strategy was already disabled; it was not called.
    Skipped,
    /// This call panicked (or failed): the strategy is now disabled, for this reason.
    Disabled(String),
}

/// A strategy instance plus the host's bookkeeping about it.
pub struct StrategySlot {
    /// The config's strategy name.
    pub name: String,
    /// The plugin's own name and version (from its root module).
    pub plugin: String,
    pub plugin_version: String,
    pub role: Role,
    /// The strategy's markets (`venue/coin`), in `MarketIdx` order.
    pub markets: Vec<String>,
    handle: StrategyHandle,
    /// Why the strategy was disabled, once it is.
    disabled: Option<String>,
    stats: CallStats,
    /// Slowest call in timer ticks (converted to ns by `stats()`).
    max_ticks: u64,
    timer: CallTimer,
    /// 0 = timing off (`plugins.call_budget_us = 0`): no timer reads at all.
    budget_ticks: u64,
    /// Call times, in timer ticks (`metrics::hist::BOUNDS_NS` converted once).
    times: Histogram,
    bounds_ticks: [u64; BOUNDS_NS.len()],
}

impl std::fmt::Debug for StrategySlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategySlot")
            .field("name", &self.name)
            .field("plugin", &self.plugin)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish()
    }
}

impl StrategySlot {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: String,
        plugin: String,
        plugin_version: String,
        role: Role,
        markets: Vec<String>,
        handle: StrategyHandle,
        timer: CallTimer,
        call_budget_us: u64,
    ) -> Self {
        StrategySlot {
            name,
            plugin,
            plugin_version,
            role,
            markets,
            handle,
            disabled: None,
            stats: CallStats::default(),
            max_ticks: 0,
            budget_ticks: timer.ticks_for_us(call_budget_us),
            times: Histogram::default(),
            bounds_ticks: BOUNDS_NS.map(|ns| timer.ticks_for_ns(ns)),
            timer,
        }
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled.is_some()
    }

    pub fn disabled_reason(&self) -> Option<&str> {
        self.disabled.as_deref()
    }

    pub fn stats(&self) -> CallStats {
        CallStats {
            max_ns: self.timer.ticks_to_ns(self.max_ticks),
            ..self.stats
        }
    }

    /// The call time histogram (empty when timing is off), with the timer's ticks per µs to
    /// convert its sum (`Histogram::sum_seconds`).
    pub fn call_times(&self) -> (Histogram, u64) {
        (self.times, self.timer.ticks_for_us(1))
    }

    /// The call timer's current reading (to chain `call_from`).
    #[inline]
    pub fn timer_now(&self) -> u64 {
        if self.budget_ticks == 0 {
            0
        } else {
            self.timer.now()
        }
    }

    #[inline]
    fn call(
        &mut self,
        f: impl FnOnce(&mut StrategyHandle) -> Result<(), plugin_api::abi::PluginError>,
    ) -> CallOutcome {
        let t0 = self.timer_now();
        self.call_from(t0, f).0
    }

    /// Makes a call whose start was stamped at `t0` (so consecutive calls share timestamps:
    /// N + 1 timer reads for N calls). Returns the outcome and the end timestamp.
    #[inline]
    pub fn call_from(
        &mut self,
        t0: u64,
        f: impl FnOnce(&mut StrategyHandle) -> Result<(), plugin_api::abi::PluginError>,
    ) -> (CallOutcome, u64) {
        if self.disabled.is_some() {
            return (CallOutcome::Skipped, t0);
        }
        let result = f(&mut self.handle);
        self.stats.calls += 1;
        let t1 = self.timer_now();
        if self.budget_ticks != 0 {
            let ticks = t1.wrapping_sub(t0);
            self.max_ticks = self.max_ticks.max(ticks);
            self.times.observe_with(&self.bounds_ticks, ticks);
            if ticks > self.budget_ticks {
                self.stats.over_budget += 1;
            }
        }
        match result {
            Ok(()) => (CallOutcome::Ok, t1),
            Err(e) => {
                let reason = e.message.to_string();
                tracing::error!(
                    strategy = %self.name,
                    plugin = %self.plugin,
                    panicked = e.panicked,
                    "strategy disabled: {reason}"
                );
                self.disabled = Some(reason.clone());
                (CallOutcome::Disabled(reason), t1)
            }
        }
    }

    #[inline]
    pub fn on_market(
        &mut self,
        ctx: &Ctx<'_>,
        market: MarketIdx,
        out: &mut Intents,
    ) -> CallOutcome {
        self.call(|h| h.on_market(ctx, market, out))
    }

    #[inline]
    pub fn on_timer(&mut self, ctx: &Ctx<'_>, out: &mut Intents) -> CallOutcome {
        self.call(|h| h.on_timer(ctx, out))
    }

    pub fn on_fill(&mut self, ctx: &Ctx<'_>, fill: &FillView, out: &mut Intents) -> CallOutcome {
        self.call(|h| h.on_fill(ctx, fill, out))
    }

    pub fn on_order_update(
        &mut self,
        ctx: &Ctx<'_>,
        update: &OrderUpdateView,
        out: &mut Intents,
    ) -> CallOutcome {
        self.call(|h| h.on_order_update(ctx, update, out))
    }

    pub fn on_reject(
        &mut self,
        ctx: &Ctx<'_>,
        refusal: &Refusal,
        out: &mut Intents,
    ) -> CallOutcome {
        self.call(|h| h.on_reject(ctx, refusal, out))
    }

    /// The strategy's state for the journal; None when disabled or when it panicked doing it.
    pub fn snapshot_state(&self) -> Option<String> {
        if self.disabled.is_some() {
            return None;
        }
        match self.handle.snapshot_state() {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(strategy = %self.name, "snapshot_state failed: {}", e.message);
                None
            }
        }
    }

    /// Restores journaled state. A refusal leaves the strategy fresh (and enabled); a panic
    /// disables it like any other call.
    pub fn restore_state(&mut self, state: &str) -> Result<(), String> {
        if self.disabled.is_some() {
            return Err("strategy is disabled".into());
        }
        match self.handle.restore_state(state) {
            Ok(()) => Ok(()),
            Err(e) if !e.panicked => Err(e.message.to_string()),
            Err(e) => {
                let reason = e.message.to_string();
                tracing::error!(strategy = %self.name, "strategy disabled: {reason}");
                self.disabled = Some(reason.clone());
                Err(reason)
            }
        }
    }
}
