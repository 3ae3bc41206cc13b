//! `EdgeTracker` (seed 001): the distribution of oracle dislocations per market, including those
//! below the entry threshold, summarised every period of engine time: max buy and sell edge (bps),
//! their share of the threshold, and the update count. For tuning thresholds on real data.

use super::market_state::MarketData;
use super::types::{BPS, MarketId};
use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EdgeStats {
    pub max_buy_bps: Option<Decimal>,
    pub max_sell_bps: Option<Decimal>,
    pub updates: u64,
}

/// One market's line of a period summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeSummary {
    pub market: MarketId,
    pub stats: EdgeStats,
    /// max(buy, sell) / threshold × 100.
    pub threshold_pct: Decimal,
}

/// Extremes of the BBO under one oracle price: with the oracle fixed, the best buy edge is at the
/// lowest ask and the best sell edge at the highest bid, so a BBO update costs two comparisons
/// and the divisions happen once per oracle change.
#[derive(Debug, Clone, Copy, Default)]
struct Epoch {
    oracle: Decimal,
    min_ask: Option<Decimal>,
    max_bid: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct EdgeTracker {
    stats: Vec<EdgeStats>,
    epochs: Vec<Epoch>,
    threshold_bps: Decimal,
    period_ns: u64,
    period_start: u64,
}

impl EdgeTracker {
    pub fn new(markets: usize, threshold_bps: Decimal, period_ms: u64) -> Self {
        EdgeTracker {
            stats: vec![EdgeStats::default(); markets],
            epochs: vec![Epoch::default(); markets],
            threshold_bps,
            period_ns: period_ms.saturating_mul(1_000_000),
            period_start: 0,
        }
    }

    /// Records the edges of a market update: buy = (oracle − ask)/oracle, sell = (bid − oracle)/oracle.
    #[inline]
    pub fn record(&mut self, m: MarketId, md: &MarketData) {
        if md.oracle.is_zero() {
            return;
        }
        let i = m.index();
        if self.epochs[i].oracle != md.oracle {
            self.fold(i);
            self.epochs[i].oracle = md.oracle;
        }
        self.stats[i].updates += 1;
        let e = &mut self.epochs[i];
        if let Some(a) = md.ask
            && e.min_ask.is_none_or(|x| a.px < x)
        {
            e.min_ask = Some(a.px);
        }
        if let Some(b) = md.bid
            && e.max_bid.is_none_or(|x| b.px > x)
        {
            e.max_bid = Some(b.px);
        }
    }

    /// Folds the current oracle epoch of market `i` into its period maxima.
    fn fold(&mut self, i: usize) {
        let e = std::mem::take(&mut self.epochs[i]);
        if e.oracle.is_zero() {
            return;
        }
        let s = &mut self.stats[i];
        if let Some(a) = e.min_ask {
            let edge = (e.oracle - a) / e.oracle * BPS;
            s.max_buy_bps = Some(s.max_buy_bps.map_or(edge, |x| x.max(edge)));
        }
        if let Some(b) = e.max_bid {
            let edge = (b - e.oracle) / e.oracle * BPS;
            s.max_sell_bps = Some(s.max_sell_bps.map_or(edge, |x| x.max(edge)));
        }
        self.epochs[i].oracle = e.oracle;
    }

    /// At the end of a period, the summary lines (markets with updates) and a reset.
    pub fn maybe_summarize(&mut self, now: u64) -> Option<Vec<EdgeSummary>> {
        if self.period_start == 0 {
            self.period_start = now;
            return None;
        }
        if now.saturating_sub(self.period_start) < self.period_ns {
            return None;
        }
        self.period_start = now;
        for i in 0..self.stats.len() {
            self.fold(i);
        }
        let hundred = Decimal::ONE_HUNDRED;
        let out = self
            .stats
            .iter_mut()
            .enumerate()
            .filter(|(_, s)| s.updates > 0)
            .map(|(i, s)| {
                let best = s
                    .max_buy_bps
                    .unwrap_or_default()
                    .max(s.max_sell_bps.unwrap_or_default());
                let pct = if self.threshold_bps.is_zero() {
                    Decimal::ZERO
                } else {
                    (best / self.threshold_bps * hundred).round_dp(0)
                };
                let line = EdgeSummary {
                    market: MarketId(i as u32),
                    stats: *s,
                    threshold_pct: pct,
                };
                *s = EdgeStats::default();
                line
            })
            .collect();
        Some(out)
    }

    /// The period's statistics so far (the current oracle epoch included).
    pub fn stats(&self, m: MarketId) -> EdgeStats {
        let mut copy = self.clone();
        copy.fold(m.index());
        copy.stats[m.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::types::Level;

    #[test]
    fn tracks_max_edges_and_summarizes_per_period() {
        let mut t = EdgeTracker::new(1, Decimal::from(40), 60_000);
        let mut md = MarketData {
            oracle: Decimal::from(100),
            bid: Some(Level {
                px: Decimal::new(9990, 2),
                sz: Decimal::ONE,
            }),
            ask: Some(Level {
                px: Decimal::new(9980, 2),
                sz: Decimal::ONE,
            }),
            ..Default::default()
        };
        assert!(t.maybe_summarize(1).is_none());
        t.record(MarketId(0), &md);
        md.ask = Some(Level {
            px: Decimal::new(9990, 2),
            sz: Decimal::ONE,
        });
        t.record(MarketId(0), &md);
        // A new oracle starts a new epoch; the old one's extremes are kept (edges here are
        // -2500 and -500 bps: lower than the first epoch's).
        md.oracle = Decimal::from(200);
        md.bid = Some(Level {
            px: Decimal::from(190),
            sz: Decimal::ONE,
        });
        md.ask = Some(Level {
            px: Decimal::from(250),
            sz: Decimal::ONE,
        });
        t.record(MarketId(0), &md);
        assert!(t.maybe_summarize(59_000_000_000).is_none());
        let s = t.maybe_summarize(60_000_000_001).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].stats.max_buy_bps, Some(Decimal::from(20)));
        assert_eq!(s[0].stats.max_sell_bps, Some(Decimal::from(-10)));
        assert_eq!(s[0].stats.updates, 3);
        assert_eq!(s[0].threshold_pct, Decimal::from(50));
        assert_eq!(t.stats(MarketId(0)).updates, 0, "reset after a summary");
    }
}
