//! Seed 002's rejection handling. Phase 5: exponential backoff per market and side after
//! repeated venue rejections, so no stuck condition can burn the request budget. Phase 3: stuck
//! reduce-only recovery: a market whose reduce-only orders the venue keeps rejecting asks for a
//! reconcile, then closes in small IOC steps, and after too many failures latches the HardStop.

use super::types::{MarketId, Side};

/// `[engine]` settings of both phases.
#[derive(Debug, Clone, Copy)]
pub struct BackoffConfig {
    /// Venue rejections in a row on one market and side before orders there wait.
    pub after_rejects: u32,
    /// The first wait (ms); it doubles with every further rejection, up to `max_ms`.
    pub base_ms: u64,
    pub max_ms: u64,
    /// Reduce-only rejections in a row on one market before it is in recovery.
    pub stuck_after: u32,
    /// Reduce-only rejections in a row on one market before the HardStop.
    pub stuck_hardstop_after: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct SideState {
    consecutive: u32,
    /// Orders on this side wait until this engine time (ns); 0 = no wait.
    until_ns: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct MarketState {
    sides: [SideState; 2],
    /// Reduce-only orders the venue rejected in a row here.
    reduce_rejects: u32,
}

/// What a rejection means for the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Counted,
    /// The market's reduce-only orders are stuck: reconcile, then close in steps.
    Stuck,
    /// Still stuck after the recovery: HardStop.
    GiveUp,
}

#[derive(Debug)]
pub struct RejectBackoff {
    cfg: BackoffConfig,
    markets: Vec<MarketState>,
}

fn side_index(s: Side) -> usize {
    match s {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

impl RejectBackoff {
    pub fn new(markets: usize, cfg: BackoffConfig) -> RejectBackoff {
        RejectBackoff {
            cfg,
            markets: vec![MarketState::default(); markets],
        }
    }

    /// Whether orders on `side` of `m` must wait at `now`.
    pub fn waiting(&self, m: MarketId, side: Side, now: u64) -> bool {
        now < self.markets[m.index()].sides[side_index(side)].until_ns
    }

    /// Whether `m` is in stuck reduce-only recovery (flattens go out in small steps).
    pub fn recovering(&self, m: MarketId) -> bool {
        self.markets[m.index()].reduce_rejects >= self.cfg.stuck_after
    }

    /// The venue rejected an order on `side` of `m`.
    pub fn on_rejection(
        &mut self,
        m: MarketId,
        side: Side,
        reduce_only: bool,
        now: u64,
    ) -> Verdict {
        let cfg = self.cfg;
        let st = &mut self.markets[m.index()];
        let s = &mut st.sides[side_index(side)];
        s.consecutive += 1;
        if s.consecutive >= cfg.after_rejects {
            let doublings = (s.consecutive - cfg.after_rejects).min(20);
            let wait_ms = cfg.base_ms.saturating_mul(1 << doublings).min(cfg.max_ms);
            s.until_ns = now.saturating_add(wait_ms.saturating_mul(1_000_000));
            tracing::warn!(
                market = m.0,
                ?side,
                rejections = s.consecutive,
                wait_ms,
                "repeated venue rejections: orders on this side wait"
            );
        }
        if !reduce_only {
            return Verdict::Counted;
        }
        st.reduce_rejects += 1;
        if st.reduce_rejects >= cfg.stuck_hardstop_after {
            Verdict::GiveUp
        } else if st.reduce_rejects == cfg.stuck_after {
            Verdict::Stuck
        } else {
            Verdict::Counted
        }
    }

    /// The venue accepted (or filled) an order on `side` of `m`: its side waits no more.
    pub fn on_success(&mut self, m: MarketId, side: Side) {
        self.markets[m.index()].sides[side_index(side)] = SideState::default();
    }

    /// A reduce-only order in `m` filled: the market is out of recovery.
    pub fn on_reduced(&mut self, m: MarketId) {
        self.markets[m.index()].reduce_rejects = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn waits_double_after_the_threshold_and_a_success_clears_them() {
        let cfg = BackoffConfig {
            after_rejects: 3,
            base_ms: 500,
            max_ms: 1_500,
            stuck_after: 3,
            stuck_hardstop_after: 5,
        };
        let mut b = RejectBackoff::new(1, cfg);
        let m = MarketId(0);
        assert_eq!(b.on_rejection(m, Side::Buy, false, 0), Verdict::Counted);
        b.on_rejection(m, Side::Buy, false, 0);
        assert!(!b.waiting(m, Side::Buy, 0), "two rejections: no wait yet");
        b.on_rejection(m, Side::Buy, false, 0);
        assert!(b.waiting(m, Side::Buy, 499 * MS) && !b.waiting(m, Side::Buy, 500 * MS));
        assert!(!b.waiting(m, Side::Sell, 0), "per side");
        b.on_rejection(m, Side::Buy, false, 1_000 * MS);
        assert!(b.waiting(m, Side::Buy, 1_999 * MS), "doubled to 1 s");
        b.on_rejection(m, Side::Buy, false, 2_000 * MS);
        assert!(!b.waiting(m, Side::Buy, 3_500 * MS), "capped at 1.5 s");
        b.on_success(m, Side::Buy);
        assert!(!b.waiting(m, Side::Buy, 2_000 * MS));
        // Reduce-only rejections: recovery at 3, HardStop at 5; a reducing fill ends it.
        let v: Vec<_> = (0..5)
            .map(|_| b.on_rejection(m, Side::Sell, true, 0))
            .collect();
        assert_eq!(
            v,
            [
                Verdict::Counted,
                Verdict::Counted,
                Verdict::Stuck,
                Verdict::Counted,
                Verdict::GiveUp
            ]
        );
        assert!(b.recovering(m));
        b.on_reduced(m);
        assert!(!b.recovering(m));
    }
}
