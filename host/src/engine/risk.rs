//! `RiskMonitor`: fed by execution events (round trips, venue rejections, fills against their
//! intended price), it says when to trip the HardStop. Position runaway and data loss are checked
//! by the engine on its timer against the same limits.

use super::config::RiskLimits;
use super::hardstop::HardStopReason;
use super::types::{BPS, Side};
use rust_decimal::Decimal;
use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct RiskMonitor {
    limits: RiskLimits,
    /// Realized PnL of the run, fees included.
    cumulative_pnl: Decimal,
    consecutive_losses: u32,
    /// Engine times of recent venue rejections (within the window).
    rejects: VecDeque<u64>,
    /// Worst adverse slippage seen (bps), for status.
    pub worst_slippage_bps: Decimal,
}

impl RiskMonitor {
    pub fn new(limits: RiskLimits) -> Self {
        RiskMonitor {
            limits,
            cumulative_pnl: Decimal::ZERO,
            consecutive_losses: 0,
            rejects: VecDeque::with_capacity(64),
            worst_slippage_bps: Decimal::ZERO,
        }
    }

    pub fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    /// Realized PnL from a fill (fees included). Trips on cumulative loss.
    pub fn on_realized(&mut self, pnl: Decimal) -> Option<HardStopReason> {
        self.cumulative_pnl += pnl;
        (self.cumulative_pnl <= -self.limits.max_cumulative_loss)
            .then_some(HardStopReason::CumulativeLoss)
    }

    /// A position went back to flat with this round-trip PnL. Trips on consecutive losses.
    pub fn on_round_trip(&mut self, pnl: Decimal) -> Option<HardStopReason> {
        if pnl.is_sign_negative() && !pnl.is_zero() {
            self.consecutive_losses += 1;
        } else {
            self.consecutive_losses = 0;
        }
        (self.limits.max_consecutive_losses > 0
            && self.consecutive_losses >= self.limits.max_consecutive_losses)
            .then_some(HardStopReason::ConsecutiveLosses)
    }

    /// A venue rejection at `now`. Trips when too many fall within the window.
    pub fn on_venue_reject(&mut self, now: u64) -> Option<HardStopReason> {
        let window = self.limits.reject_window_ms.saturating_mul(1_000_000);
        while self
            .rejects
            .front()
            .is_some_and(|t| now.saturating_sub(*t) > window)
        {
            self.rejects.pop_front();
        }
        self.rejects.push_back(now);
        (self.limits.max_rejects_in_window > 0
            && self.rejects.len() as u32 >= self.limits.max_rejects_in_window)
            .then_some(HardStopReason::RejectStorm)
    }

    /// A fill at `px` of an order priced `intended` on `side`. Trips when adverse slippage
    /// exceeds the bound. Flatten orders are excluded by the caller (their price already carries
    /// the slippage allowance).
    pub fn on_fill_price(
        &mut self,
        side: Side,
        intended: Decimal,
        px: Decimal,
    ) -> Option<HardStopReason> {
        if intended.is_zero() {
            return None;
        }
        let adverse = match side {
            Side::Buy => (px - intended) / intended * BPS,
            Side::Sell => (intended - px) / intended * BPS,
        };
        if adverse > self.worst_slippage_bps {
            self.worst_slippage_bps = adverse;
        }
        (adverse > self.limits.max_slippage_bps).then_some(HardStopReason::Slippage)
    }

    /// A market's notional against its limit. Trips past `runaway_multiple` × the limit.
    pub fn check_runaway(&self, notional: Decimal) -> Option<HardStopReason> {
        (notional > self.limits.max_notional_per_market * self.limits.runaway_multiple)
            .then_some(HardStopReason::PositionRunaway)
    }

    /// A venue with open positions has had no live data since `last_live` (0 = never live).
    pub fn check_data_loss(&self, last_live: u64, now: u64) -> Option<HardStopReason> {
        let limit = self.limits.data_loss_hardstop_ms.saturating_mul(1_000_000);
        (last_live != 0 && now.saturating_sub(last_live) > limit)
            .then_some(HardStopReason::DataLoss)
    }

    pub fn cumulative_pnl(&self) -> Decimal {
        self.cumulative_pnl
    }

    pub fn consecutive_losses(&self) -> u32 {
        self.consecutive_losses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RiskLimits {
        RiskLimits {
            max_cumulative_loss: Decimal::from(10),
            max_consecutive_losses: 3,
            max_rejects_in_window: 3,
            reject_window_ms: 1_000,
            max_slippage_bps: Decimal::from(50),
            max_notional_per_market: Decimal::from(100),
            runaway_multiple: Decimal::TWO,
            data_loss_hardstop_ms: 1_000,
            ..RiskLimits::default()
        }
    }

    #[test]
    fn each_trigger_fires_at_its_limit() {
        let mut r = RiskMonitor::new(limits());
        assert_eq!(r.on_realized(Decimal::from(-9)), None);
        assert_eq!(
            r.on_realized(Decimal::from(-1)),
            Some(HardStopReason::CumulativeLoss)
        );

        let mut r = RiskMonitor::new(limits());
        assert_eq!(r.on_round_trip(Decimal::from(-1)), None);
        assert_eq!(r.on_round_trip(Decimal::from(-1)), None);
        assert_eq!(
            r.on_round_trip(Decimal::ONE),
            None,
            "a win resets the streak"
        );
        assert_eq!(r.on_round_trip(Decimal::from(-1)), None);
        assert_eq!(r.on_round_trip(Decimal::from(-1)), None);
        assert_eq!(
            r.on_round_trip(Decimal::from(-1)),
            Some(HardStopReason::ConsecutiveLosses)
        );

        let mut r = RiskMonitor::new(limits());
        let ms = 1_000_000;
        assert_eq!(r.on_venue_reject(0), None);
        assert_eq!(r.on_venue_reject(500 * ms), None);
        assert_eq!(
            r.on_venue_reject(1_100 * ms),
            None,
            "the first fell out of the window"
        );
        assert_eq!(
            r.on_venue_reject(1_200 * ms),
            Some(HardStopReason::RejectStorm)
        );

        let mut r = RiskMonitor::new(limits());
        let px = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            r.on_fill_price(Side::Buy, px("100"), px("100.5")),
            None,
            "50 bps is the bound"
        );
        assert_eq!(
            r.on_fill_price(Side::Buy, px("100"), px("100.51")),
            Some(HardStopReason::Slippage)
        );
        assert_eq!(
            r.on_fill_price(Side::Sell, px("100"), px("99.4")),
            Some(HardStopReason::Slippage)
        );
        assert_eq!(
            r.on_fill_price(Side::Sell, px("100"), px("101")),
            None,
            "favourable"
        );

        let r = RiskMonitor::new(limits());
        assert_eq!(r.check_runaway(Decimal::from(200)), None);
        assert_eq!(
            r.check_runaway(Decimal::from(201)),
            Some(HardStopReason::PositionRunaway)
        );
        assert_eq!(r.check_data_loss(ms, 1_001 * ms), None);
        assert_eq!(
            r.check_data_loss(ms, 1_002 * ms),
            Some(HardStopReason::DataLoss)
        );
    }
}
