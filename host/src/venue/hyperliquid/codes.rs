//! The venue's error strings and order statuses, mapped to reason codes the engine knows.
//! Reference §1.4 (statuses) and §2.4 (error strings). Unknown ones map to `VenueOther` /
//! `None` and are counted by the caller, never a panic.

use crate::engine::events::VenueOrderStatus;
use crate::engine::reject::RejectReason;

/// The reason for a per-order error string of an order response.
pub fn reason_for_error(msg: &str) -> RejectReason {
    let m = msg.to_ascii_lowercase();
    if m.contains("divisible by tick size") || m.contains("invalid size") || m.contains("zero size")
    {
        RejectReason::TickOrLot
    } else if m.contains("minimum value") {
        RejectReason::MinNotional
    } else if m.contains("insufficient margin") || m.contains("insufficient spot balance") {
        RejectReason::InsufficientMargin
    } else if m.contains("reduce only order would increase") {
        RejectReason::ReduceOnlyRejected
    } else if m.contains("post only order would have immediately matched") {
        RejectReason::PostOnlyWouldMatch
    } else if m.contains("could not immediately match") || m.contains("no liquidity available") {
        RejectReason::IocNoMatch
    } else if m.contains("rate limit") || m.contains("too many") {
        RejectReason::VenueRateLimited
    } else {
        RejectReason::VenueOther
    }
}

/// The engine's view of an `orderUpdates` status; None for a status this host does not know.
pub fn order_status(status: &str) -> Option<VenueOrderStatus> {
    use RejectReason as R;
    Some(match status {
        "open" | "triggered" => VenueOrderStatus::Open,
        "filled" => VenueOrderStatus::Filled,
        "tickRejected" => VenueOrderStatus::Rejected(R::TickOrLot),
        "minTradeNtlRejected" => VenueOrderStatus::Rejected(R::MinNotional),
        "perpMarginRejected" | "insufficientSpotBalanceRejected" => {
            VenueOrderStatus::Rejected(R::InsufficientMargin)
        }
        "reduceOnlyRejected" => VenueOrderStatus::Rejected(R::ReduceOnlyRejected),
        "badAloPxRejected" => VenueOrderStatus::Rejected(R::PostOnlyWouldMatch),
        "iocCancelRejected" | "marketOrderNoLiquidityRejected" => {
            VenueOrderStatus::Rejected(R::IocNoMatch)
        }
        s if s.ends_with("Rejected") => VenueOrderStatus::Rejected(R::VenueOther),
        s if s.ends_with("Canceled")
            || s == "canceled"
            || s == "scheduledCancel"
            || s == "internalCancel" =>
        {
            VenueOrderStatus::Cancelled
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_strings_of_the_reference() {
        use RejectReason as R;
        for (msg, want) in [
            ("Price must be divisible by tick size.", R::TickOrLot),
            ("Order must have minimum value of $10.", R::MinNotional),
            ("Order must have minimum value of 10 USDC.", R::MinNotional),
            ("Insufficient margin to place order.", R::InsufficientMargin),
            (
                "Reduce only order would increase position.",
                R::ReduceOnlyRejected,
            ),
            (
                "Post only order would have immediately matched, bbo was 1@2.",
                R::PostOnlyWouldMatch,
            ),
            (
                "Order could not immediately match against any resting orders.",
                R::IocNoMatch,
            ),
            ("No liquidity available for market order.", R::IocNoMatch),
            ("Order has zero size.", R::TickOrLot),
            (
                "Order price cannot be more than 80% away from the reference price",
                R::VenueOther,
            ),
            ("something new", R::VenueOther),
        ] {
            assert_eq!(reason_for_error(msg), want, "{msg}");
        }
    }

    #[test]
    fn order_statuses_of_the_reference() {
        use VenueOrderStatus as S;
        assert_eq!(order_status("open"), Some(S::Open));
        assert_eq!(order_status("filled"), Some(S::Filled));
        assert_eq!(order_status("canceled"), Some(S::Cancelled));
        assert_eq!(order_status("marginCanceled"), Some(S::Cancelled));
        assert_eq!(order_status("scheduledCancel"), Some(S::Cancelled));
        assert_eq!(order_status("siblingFilledCanceled"), Some(S::Cancelled));
        assert_eq!(
            order_status("badAloPxRejected"),
            Some(S::Rejected(RejectReason::PostOnlyWouldMatch))
        );
        assert_eq!(
            order_status("oracleRejected"),
            Some(S::Rejected(RejectReason::VenueOther))
        );
        assert_eq!(order_status("somethingElse"), None);
    }
}
