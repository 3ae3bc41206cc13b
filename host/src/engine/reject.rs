//! `RejectReason`: why an intent was refused or an order rejected. Each maps to a stable
//! `plugin_api::RejectCode` (what the plugin sees) and a snake_case name (logs, metrics, journal).

use plugin_api::RejectCode;

macro_rules! reasons {
    ($($variant:ident => $code:ident),* $(,)?) => {
        /// A stable refusal reason. Adding one is fine; renumbering never.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RejectReason { $($variant),* }

        impl RejectReason {
            /// Every reason, in declaration order (the index of the refusal counters).
            pub const ALL: &'static [RejectReason] = &[$(RejectReason::$variant),*];

            /// The code the plugin sees.
            pub fn code(self) -> RejectCode {
                match self { $(RejectReason::$variant => RejectCode::$code),* }
            }
        }
    };
}

reasons! {
    HardStop => HARD_STOP,
    EntriesPaused => ENTRIES_PAUSED,
    NotReady => NOT_READY,
    MaxPositionPerMarket => MAX_POSITION_PER_MARKET,
    MaxPositionTotal => MAX_POSITION_TOTAL,
    HasPosition => HAS_POSITION,
    PendingOrder => PENDING_ORDER,
    ActionBudget => ACTION_BUDGET,
    InvalidIntent => INVALID_INTENT,
    NothingToReduce => NOTHING_TO_REDUCE,
    AlreadyFlattening => ALREADY_FLATTENING,
    NoPrice => NO_PRICE,
    PairLegRefused => PAIR_LEG_REFUSED,
    TooManyIntents => TOO_MANY_INTENTS,
    TickOrLot => TICK_OR_LOT,
    MinNotional => MIN_NOTIONAL,
    InsufficientMargin => INSUFFICIENT_MARGIN,
    ReduceOnlyRejected => REDUCE_ONLY_REJECTED,
    IocNoMatch => IOC_NO_MATCH,
    PostOnlyWouldMatch => POST_ONLY_WOULD_MATCH,
    VenueRateLimited => VENUE_RATE_LIMITED,
    VenueOther => VENUE_OTHER,
    StrategyDisabled => STRATEGY_DISABLED,
    HardStopPreSend => HARD_STOP_PRE_SEND,
    VenueRequestFailed => VENUE_REQUEST_FAILED,
    UnknownOrder => UNKNOWN_ORDER,
    BadMarketData => BAD_MARKET_DATA,
    RejectionBackoff => REJECTION_BACKOFF,
}

impl RejectReason {
    pub fn name(self) -> &'static str {
        self.code().name()
    }

    /// True for rejections made by the venue (counted by the RiskMonitor's reject-storm trigger);
    /// false for the host's own gate refusals.
    pub fn is_venue_rejection(self) -> bool {
        use RejectReason::*;
        matches!(
            self,
            TickOrLot
                | MinNotional
                | InsufficientMargin
                | ReduceOnlyRejected
                | PostOnlyWouldMatch
                | VenueRateLimited
                | VenueOther
                | VenueRequestFailed
        )
    }

    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Refusal counts per reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalCounters {
    counts: Vec<u64>,
}

impl Default for RefusalCounters {
    fn default() -> Self {
        RefusalCounters {
            counts: vec![0; RejectReason::ALL.len()],
        }
    }
}

impl RefusalCounters {
    #[inline]
    pub fn add(&mut self, r: RejectReason) {
        self.counts[r.index()] += 1;
    }

    pub fn get(&self, r: RejectReason) -> u64 {
        self.counts[r.index()]
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Non-zero counts, by reason name.
    pub fn nonzero(&self) -> impl Iterator<Item = (RejectReason, u64)> + '_ {
        RejectReason::ALL
            .iter()
            .map(|r| (*r, self.counts[r.index()]))
            .filter(|(_, n)| *n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_a_distinct_known_code() {
        let mut codes: Vec<u16> = RejectReason::ALL.iter().map(|r| r.code().0).collect();
        assert!(
            RejectReason::ALL
                .iter()
                .all(|r| r.name() != "unknown_reason")
        );
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), RejectReason::ALL.len());
        assert_eq!(RejectReason::MaxPositionTotal.name(), "max_position_total");
    }
}
