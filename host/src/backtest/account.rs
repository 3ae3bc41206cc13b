//! The venue's side of one market of an account, as simulated execution keeps it: average
//! entry, realized PnL and fees (a paper account is made of these).

use rust_decimal::Decimal;

/// One market of the venue's account.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MarketAccount {
    /// Average entry price of the open position (0 when flat).
    pub entry_px: Decimal,
    pub realized_pnl: Decimal,
    pub fees: Decimal,
}

impl MarketAccount {
    /// A fill of `signed` (positive: bought) at `px` on a position of `before`.
    pub fn fill(&mut self, before: Decimal, signed: Decimal, px: Decimal, fee: Decimal) {
        self.fees += fee;
        let after = before + signed;
        if before.is_zero() || before.is_sign_positive() == signed.is_sign_positive() {
            let (b, s) = (before.abs(), signed.abs());
            self.entry_px = ((self.entry_px * b + px * s) / (b + s)).round_dp(12);
            return;
        }
        let closed = before.abs().min(signed.abs());
        let per_unit = if before.is_sign_positive() {
            px - self.entry_px
        } else {
            self.entry_px - px
        };
        self.realized_pnl += (closed * per_unit).round_dp(12);
        if after.is_zero() {
            self.entry_px = Decimal::ZERO;
        } else if after.is_sign_positive() != before.is_sign_positive() {
            // Through zero: what is left was opened at this fill.
            self.entry_px = px;
        }
    }
}
