//! `MarketState`: BBO and asset context (oracle, mark, mid, funding) per market, with freshness.

use super::types::{Level, MarketId};
use plugin_api::{FfiDecimal, MarketIdx, MarketSnapshot};
use rust_decimal::Decimal;

/// What is known about one market.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarketData {
    pub bid: Option<Level>,
    pub ask: Option<Level>,
    /// Zero until the first asset context.
    pub oracle: Decimal,
    pub mark: Decimal,
    pub mid: Option<Decimal>,
    pub funding: Decimal,
    /// Engine time of the last BBO / context update (0 = never).
    pub bbo_ns: u64,
    pub ctx_ns: u64,
    /// Since when (engine ns) the data has made no sense: a crossed or locked book, a price or
    /// size ≤ 0, a mark or oracle ≤ 0 or far from the book (0 = it makes sense).
    pub bad_since_ns: u64,
    /// The last book sides that made sense (flattens price from them while the data is bad).
    pub sane_bid: Option<Level>,
    pub sane_ask: Option<Level>,
}

impl MarketData {
    pub fn is_bad(&self) -> bool {
        self.bad_since_ns != 0
    }

    /// Whether this data makes no sense (see `bad_since_ns`).
    fn judge(&self, max_distance_bps: Decimal) -> bool {
        let bad_level =
            |l: Option<Level>| l.is_some_and(|l| l.px <= Decimal::ZERO || l.sz < Decimal::ZERO);
        if bad_level(self.bid) || bad_level(self.ask) {
            return true;
        }
        let mid = match (self.bid, self.ask) {
            (Some(b), Some(a)) if b.px >= a.px => return true,
            (Some(b), Some(a)) => Some((b.px + a.px) / Decimal::TWO),
            _ => None,
        };
        if self.ctx_ns == 0 {
            return false;
        }
        if self.mark <= Decimal::ZERO || self.oracle <= Decimal::ZERO {
            return true;
        }
        // |px − mid| / mid > bps / 10,000, multiplied through (no division).
        let far = |px: Decimal, mid: Decimal| {
            (px - mid).abs() * super::types::BPS > max_distance_bps * mid
        };
        mid.is_some_and(|mid| far(self.mark, mid) || far(self.oracle, mid))
    }
}

/// Market data for every registered market, indexed by `MarketId`.
#[derive(Debug, Clone)]
pub struct MarketState {
    data: Vec<MarketData>,
    stale_after_ns: u64,
    /// `[engine] max_book_distance_bps`.
    max_distance_bps: Decimal,
}

impl MarketState {
    pub fn new(markets: usize, stale_after_ms: u64) -> Self {
        MarketState {
            data: vec![MarketData::default(); markets],
            stale_after_ns: stale_after_ms.saturating_mul(1_000_000),
            max_distance_bps: Decimal::from(500),
        }
    }

    /// Sets how far mark and oracle may be from the book (`[engine] max_book_distance_bps`).
    pub fn with_max_distance_bps(mut self, bps: Decimal) -> Self {
        self.max_distance_bps = bps;
        self
    }

    /// Judges market `m`'s data after an update (`MarketData::bad_since_ns`, `sane_bid/ask`).
    #[inline]
    fn judge(&mut self, m: MarketId, now: u64) {
        let max = self.max_distance_bps;
        let d = &mut self.data[m.index()];
        if d.judge(max) {
            if d.bad_since_ns == 0 {
                d.bad_since_ns = now.max(1);
            }
        } else {
            d.bad_since_ns = 0;
            d.sane_bid = d.bid.or(d.sane_bid);
            d.sane_ask = d.ask.or(d.sane_ask);
        }
    }

    #[inline]
    pub fn get(&self, m: MarketId) -> &MarketData {
        &self.data[m.index()]
    }

    #[inline]
    pub fn update_bbo(&mut self, m: MarketId, bid: Option<Level>, ask: Option<Level>, now: u64) {
        let d = &mut self.data[m.index()];
        d.bid = bid;
        d.ask = ask;
        d.bbo_ns = now;
        self.judge(m, now);
    }

    #[inline]
    pub fn update_ctx(
        &mut self,
        m: MarketId,
        oracle: Decimal,
        mark: Decimal,
        mid: Option<Decimal>,
        funding: Decimal,
        now: u64,
    ) {
        let d = &mut self.data[m.index()];
        d.oracle = oracle;
        d.mark = mark;
        d.mid = mid;
        d.funding = funding;
        d.ctx_ns = now;
        self.judge(m, now);
    }

    /// Both BBO and context were updated within the staleness limit.
    #[inline]
    pub fn is_fresh(&self, m: MarketId, now: u64) -> bool {
        let d = &self.data[m.index()];
        d.bbo_ns != 0
            && d.ctx_ns != 0
            && now.saturating_sub(d.bbo_ns) <= self.stale_after_ns
            && now.saturating_sub(d.ctx_ns) <= self.stale_after_ns
    }

    /// Time of the newest update of any kind (0 = never).
    pub fn last_update(&self, m: MarketId) -> u64 {
        let d = &self.data[m.index()];
        d.bbo_ns.max(d.ctx_ns)
    }

    /// The mark price, falling back to the mid of the BBO; None when neither is known.
    pub fn valuation_price(&self, m: MarketId) -> Option<Decimal> {
        let d = &self.data[m.index()];
        if !d.mark.is_zero() {
            return Some(d.mark);
        }
        match (d.bid, d.ask) {
            (Some(b), Some(a)) => Some((b.px + a.px) / Decimal::TWO),
            _ => None,
        }
    }

    /// Writes the plugin-facing snapshot of market `m` (as index `idx` of a strategy).
    #[inline]
    pub fn write_snapshot(
        &self,
        m: MarketId,
        idx: MarketIdx,
        now: u64,
        venue_live: bool,
        out: &mut MarketSnapshot,
    ) {
        let d = &self.data[m.index()];
        let level = |l: Option<Level>| {
            l.map(|l| plugin_api::Level {
                px: l.px.into(),
                sz: l.sz.into(),
            })
            .into()
        };
        *out = MarketSnapshot {
            market: idx,
            bid: level(d.bid),
            ask: level(d.ask),
            oracle_px: FfiDecimal::new(d.oracle),
            mark_px: FfiDecimal::new(d.mark),
            mid_px: d.mid.map(FfiDecimal::new).into(),
            funding: FfiDecimal::new(d.funding),
            bbo_time_ns: d.bbo_ns,
            ctx_time_ns: d.ctx_ns,
            fresh: venue_live && self.is_fresh(m, now),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_needs_both_feeds_within_the_limit() {
        let mut s = MarketState::new(1, 100);
        let m = MarketId(0);
        assert!(!s.is_fresh(m, 1));
        let lvl = Level {
            px: Decimal::ONE,
            sz: Decimal::ONE,
        };
        s.update_bbo(m, Some(lvl), Some(lvl), 1_000_000);
        assert!(!s.is_fresh(m, 1_000_000), "no context yet");
        s.update_ctx(
            m,
            Decimal::ONE,
            Decimal::ONE,
            None,
            Decimal::ZERO,
            1_000_000,
        );
        assert!(s.is_fresh(m, 101_000_000));
        assert!(!s.is_fresh(m, 101_000_001));
    }
}
