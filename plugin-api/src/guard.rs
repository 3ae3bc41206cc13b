//! The panic guard every strategy call goes through, and the plain-Rust trait plugin authors write.
//!
//! A panic must not unwind across the `extern "C"` boundary (abi_stable would abort the whole
//! process). The guard catches it inside the plugin, turns it into a `PluginError`, and poisons the
//! strategy so every later call fails fast: the host then disables it and keeps running.

use crate::abi::{CallResult, PluginError, Strategy};
use crate::intents::Intents;
use crate::types::{Ctx, FillView, MarketIdx, OrderUpdateView, Refusal};
use abi_stable::std_types::{RResult, RStr, RString};
use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

/// What a plugin author implements: plain Rust, all methods optional but the constructor.
///
/// Calls are synchronous, on the host's engine thread. Do not block, spawn async work, read the
/// system clock (`ctx.now_ns` is the time), or allocate on the per-tick path.
pub trait StrategyLogic: Send + 'static {
    /// Builds the strategy from the TOML text of its config `params` table and its markets
    /// (`venue/coin` keys, in config order; `MarketIdx(i)` is `markets[i]`). Return an error that
    /// names the offending key (see [`crate::params::parse`]).
    fn create(params_toml: &str, markets: &[String], log: crate::Logger) -> Result<Self, String>
    where
        Self: Sized;

    /// Whether the default `on_timer` calls `on_market` for each market (the backup path for a
    /// strategy whose decision only needs the market's state: an exit that must act even when a
    /// market goes quiet). Off by default: a strategy that overrides neither does nothing on
    /// the timer.
    fn timer_visits_markets(&self) -> bool {
        false
    }

    /// A market the strategy trades was updated (its BBO or asset context): the WS-driven path.
    fn on_market(&mut self, ctx: &Ctx<'_>, market: MarketIdx, out: &mut Intents) {
        let _ = (ctx, market, out);
    }
    /// Every `[engine] timer_interval_ms`: the backup path. By default it calls `on_market`
    /// for each market when `timer_visits_markets()` is true, and does nothing otherwise.
    fn on_timer(&mut self, ctx: &Ctx<'_>, out: &mut Intents) {
        if self.timer_visits_markets() {
            for m in ctx.market_indices() {
                self.on_market(ctx, m, out);
            }
        }
    }
    fn on_fill(&mut self, ctx: &Ctx<'_>, fill: &FillView, out: &mut Intents) {
        let _ = (ctx, fill, out);
    }
    fn on_order_update(&mut self, ctx: &Ctx<'_>, update: &OrderUpdateView, out: &mut Intents) {
        let _ = (ctx, update, out);
    }
    fn on_reject(&mut self, ctx: &Ctx<'_>, refusal: &Refusal, out: &mut Intents) {
        let _ = (ctx, refusal, out);
    }
    /// State to carry across a restart, as text (JSON, TOML, …). Empty means "nothing to keep".
    fn snapshot_state(&self) -> String {
        String::new()
    }
    /// Restores what `snapshot_state` returned. An error makes the host start the strategy fresh
    /// and log why.
    fn restore_state(&mut self, state: &str) -> Result<(), String> {
        let _ = state;
        Ok(())
    }
}

/// A `StrategyLogic` behind the panic guard; this is what crosses the ABI.
pub struct Guarded<T> {
    inner: T,
    /// Set by the first panic; later calls fail fast with this message.
    poisoned: Option<String>,
}

impl<T: StrategyLogic> Guarded<T> {
    pub fn new(inner: T) -> Self {
        Guarded {
            inner,
            poisoned: None,
        }
    }

    #[inline]
    fn guard(&mut self, f: impl FnOnce(&mut T)) -> CallResult {
        if let Some(msg) = &self.poisoned {
            return RResult::RErr(PluginError::panicked(format!(
                "strategy poisoned by an earlier panic: {msg}"
            )));
        }
        let inner = &mut self.inner;
        match catch_guarded(|| f(inner)) {
            Ok(()) => RResult::ROk(()),
            Err(msg) => {
                self.poisoned = Some(msg.clone());
                RResult::RErr(PluginError::panicked(msg))
            }
        }
    }
}

impl<T: StrategyLogic> Strategy for Guarded<T> {
    fn on_market(&mut self, ctx: &Ctx<'_>, market: MarketIdx, out: &mut Intents) -> CallResult {
        self.guard(|s| s.on_market(ctx, market, out))
    }
    fn on_timer(&mut self, ctx: &Ctx<'_>, out: &mut Intents) -> CallResult {
        self.guard(|s| s.on_timer(ctx, out))
    }
    fn on_fill(&mut self, ctx: &Ctx<'_>, fill: &FillView, out: &mut Intents) -> CallResult {
        self.guard(|s| s.on_fill(ctx, fill, out))
    }
    fn on_order_update(
        &mut self,
        ctx: &Ctx<'_>,
        update: &OrderUpdateView,
        out: &mut Intents,
    ) -> CallResult {
        self.guard(|s| s.on_order_update(ctx, update, out))
    }
    fn on_reject(&mut self, ctx: &Ctx<'_>, refusal: &Refusal, out: &mut Intents) -> CallResult {
        self.guard(|s| s.on_reject(ctx, refusal, out))
    }
    fn snapshot_state(&self) -> RResult<RString, PluginError> {
        if let Some(msg) = &self.poisoned {
            return RResult::RErr(PluginError::panicked(format!(
                "strategy poisoned by an earlier panic: {msg}"
            )));
        }
        match catch_guarded(|| self.inner.snapshot_state()) {
            Ok(s) => RResult::ROk(RString::from(s)),
            Err(msg) => RResult::RErr(PluginError::panicked(msg)),
        }
    }
    fn restore_state(&mut self, state: RStr<'_>) -> CallResult {
        let mut result = Ok(());
        let call = self.guard(|s| result = s.restore_state(state.as_str()));
        match (call, result) {
            (RResult::ROk(()), Ok(())) => RResult::ROk(()),
            (RResult::ROk(()), Err(e)) => RResult::RErr(PluginError::failed(e)),
            (err, _) => err,
        }
    }
}

/// True while a guarded call runs in this library: the panic hook records instead of printing.
/// A process-wide flag, not a thread-local: in a cdylib every thread-local access goes through
/// `__tls_get_addr`, and a locked read-modify-write costs ~20 cycles; relaxed loads and stores are
/// plain moves. The host calls a strategy from one thread at a time. (A panic on a thread the
/// plugin spawned, during a guarded call, is recorded rather than printed: not lost.)
static IN_GUARD: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Message and location of the last panic inside a guarded call on this thread (touched
    /// only when a panic happens).
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic into its message (with location when the plugin's hook is installed).
#[inline]
pub(crate) fn catch_guarded<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    let was = IN_GUARD.load(Ordering::Relaxed);
    IN_GUARD.store(true, Ordering::Relaxed);
    let result = catch_unwind(AssertUnwindSafe(f));
    IN_GUARD.store(was, Ordering::Relaxed);
    result.map_err(|payload| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| format!("panicked: {}", payload_message(&*payload)))
    })
}

fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Installs, once per plugin library, a panic hook that records panics inside guarded calls (with
/// their location) instead of printing them on the plugin's own stderr; other panics go to the
/// previous hook. Each cdylib has its own std, so this never touches the host's hook.
pub(crate) fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_GUARD.load(Ordering::Relaxed) {
                let msg = payload_message(info.payload());
                let text = match info.location() {
                    Some(l) => format!("panicked at {}:{}: {msg}", l.file(), l.line()),
                    None => format!("panicked: {msg}"),
                };
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
            } else {
                previous(info)
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{MarketSnapshot, PositionView};

    struct Boom {
        calls: u32,
    }
    impl StrategyLogic for Boom {
        fn create(_: &str, _: &[String], _: crate::Logger) -> Result<Self, String> {
            Ok(Boom { calls: 0 })
        }
        fn on_market(&mut self, _: &Ctx<'_>, _: MarketIdx, _: &mut Intents) {
            self.calls += 1;
            if self.calls == 2 {
                panic!("boom on call {}", self.calls);
            }
        }
    }

    #[test]
    fn a_panic_becomes_an_error_and_poisons() {
        let mut g = Guarded::new(Boom { calls: 0 });
        let m = [MarketSnapshot::empty(MarketIdx(0))];
        let p = [PositionView::flat(MarketIdx(0))];
        let ctx = Ctx::new(0, &m, &p);
        let mut out = Intents::with_capacity(4);
        assert!(g.on_market(&ctx, MarketIdx(0), &mut out).is_ok());
        let err = g.on_market(&ctx, MarketIdx(0), &mut out).unwrap_err();
        assert!(err.panicked);
        assert!(err.message.contains("boom on call 2"), "{}", err.message);
        let again = g.on_market(&ctx, MarketIdx(0), &mut out).unwrap_err();
        assert!(again.message.contains("poisoned"));
        assert_eq!(g.inner.calls, 2, "a poisoned strategy is not called again");
    }
}
