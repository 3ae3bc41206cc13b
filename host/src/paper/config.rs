//! The keys of paper trading: a venue entry's `mode`, and the `[paper]` table.

use rust_decimal::Decimal;
use serde::Deserialize;

/// A `[[venues]]` entry's `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VenueMode {
    /// Orders are signed and sent to the venue.
    #[default]
    Live,
    /// The venue's market data; orders filled locally by the backtest's execution model against
    /// its live book, never signed or sent.
    Paper,
}

impl VenueMode {
    pub fn is_paper(self) -> bool {
        self == VenueMode::Paper
    }
}

/// `[paper]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperConfig {
    /// USDC a paper venue's account starts with (its first run, or `run --fresh`).
    #[serde(default = "default_balance")]
    pub balance: Decimal,
}

fn default_balance() -> Decimal {
    Decimal::from(10_000)
}

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig {
            balance: default_balance(),
        }
    }
}

impl PaperConfig {
    /// What serde cannot check.
    pub fn problem(&self) -> Option<String> {
        (self.balance <= Decimal::ZERO || self.balance > Decimal::from(1_000_000_000_000u64)).then(
            || {
                format!(
                    "paper.balance must be above 0 and at most 1e12 USDC, got {}",
                    self.balance
                )
            },
        )
    }
}
