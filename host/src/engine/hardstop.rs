//! `HardStopLatch`: once triggered, only cancels and reduce-only orders leave the host, until an
//! operator releases it. Shared (`Arc`) between the engine, which sets it, and the venue writer,
//! which checks it once more right before signing a batch it already holds.

use std::sync::atomic::{AtomicU8, Ordering};

/// What tripped the latch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum HardStopReason {
    Operator = 1,
    CumulativeLoss = 2,
    ConsecutiveLosses = 3,
    RejectStorm = 4,
    Slippage = 5,
    PositionRunaway = 6,
    DataLoss = 7,
    /// The journal says the previous run ended latched.
    Restored = 8,
    /// A reconcile found the engine's position far from the venue's, or again soon after a
    /// correction: the host cannot keep track of this account.
    PositionDrift = 9,
    /// A market with a position has had data that makes no sense for too long.
    BadMarketData = 10,
    /// A market's reduce-only orders kept being rejected, through a reconcile and small steps:
    /// the host cannot close it.
    StuckReduceOnly = 11,
}

impl HardStopReason {
    pub fn name(self) -> &'static str {
        match self {
            HardStopReason::Operator => "operator",
            HardStopReason::CumulativeLoss => "cumulative_loss",
            HardStopReason::ConsecutiveLosses => "consecutive_losses",
            HardStopReason::RejectStorm => "reject_storm",
            HardStopReason::Slippage => "slippage",
            HardStopReason::PositionRunaway => "position_runaway",
            HardStopReason::DataLoss => "data_loss",
            HardStopReason::Restored => "restored",
            HardStopReason::PositionDrift => "position_drift",
            HardStopReason::BadMarketData => "bad_market_data",
            HardStopReason::StuckReduceOnly => "stuck_reduce_only",
        }
    }

    fn from_u8(v: u8) -> Option<HardStopReason> {
        use HardStopReason::*;
        Some(match v {
            1 => Operator,
            2 => CumulativeLoss,
            3 => ConsecutiveLosses,
            4 => RejectStorm,
            5 => Slippage,
            6 => PositionRunaway,
            7 => DataLoss,
            8 => Restored,
            9 => PositionDrift,
            10 => BadMarketData,
            11 => StuckReduceOnly,
            _ => return None,
        })
    }
}

impl std::fmt::Display for HardStopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The latch. 0 = clear, otherwise the `HardStopReason` of the first trigger.
#[derive(Debug, Default)]
pub struct HardStopLatch {
    state: AtomicU8,
}

impl HardStopLatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the latch; true if this call set it (false if it was already set: the first reason
    /// is kept).
    pub fn trigger(&self, reason: HardStopReason) -> bool {
        self.state
            .compare_exchange(0, reason as u8, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Clears the latch (operator command only).
    pub fn release(&self) {
        self.state.store(0, Ordering::SeqCst);
    }

    #[inline]
    pub fn is_triggered(&self) -> bool {
        self.state.load(Ordering::SeqCst) != 0
    }

    pub fn reason(&self) -> Option<HardStopReason> {
        HardStopReason::from_u8(self.state.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latches_first_reason_until_released() {
        let l = HardStopLatch::new();
        assert!(!l.is_triggered());
        assert!(l.trigger(HardStopReason::Slippage));
        assert!(!l.trigger(HardStopReason::Operator));
        assert_eq!(l.reason(), Some(HardStopReason::Slippage));
        l.release();
        assert!(!l.is_triggered());
        assert_eq!(l.reason(), None);
    }
}
