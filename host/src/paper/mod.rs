//! Paper trading: a venue's live market data, with orders filled locally by the backtest's
//! simulated execution (`backtest::exec`) against that live book, never signed or sent.
//!
//! - [`config`]: a venue entry's `mode`, and `[paper]`.
//! - [`adapter`]: [`adapter::PaperAdapter`], a `VenueAdapter` the venue task drives like any
//!   other: it subscribes to the venue's public channels only (no key, no account), hands their
//!   events to the engine and their books to execution, and answers the engine's batches with
//!   the events the venue would send (post results, order updates, fills), after the
//!   `[backtest]` latency.
//! - [`PaperAccount`]: the local account (balance, positions, fees, funding), journaled
//!   (`paper_accounts`, schema 7) so a paper run resumes after a restart or a crash.

pub mod adapter;
pub mod config;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A paper venue's account, as journaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperAccount {
    pub venue: String,
    /// USDC the account started with (`[paper] balance` of its first run).
    pub start_balance: Decimal,
    pub positions: Vec<PaperPosition>,
    /// Summed over the account's whole life (every run), in USDC.
    pub realized_pnl: Decimal,
    pub fees: Decimal,
    /// Received (positive) or paid.
    pub funding: Decimal,
    pub fills: u64,
    /// The next order and trade id: ids never repeat across runs.
    pub next_id: u64,
    /// Wall time (ms) of this state.
    pub updated_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperPosition {
    pub coin: String,
    pub size: Decimal,
    pub entry_px: Decimal,
}

impl PaperAccount {
    pub fn new(venue: &str, balance: Decimal) -> PaperAccount {
        PaperAccount {
            venue: venue.to_string(),
            start_balance: balance,
            positions: Vec::new(),
            realized_pnl: Decimal::ZERO,
            fees: Decimal::ZERO,
            funding: Decimal::ZERO,
            fills: 0,
            next_id: 0,
            updated_ms: 0,
        }
    }

    /// Cash: the start balance plus realized PnL and funding, less fees.
    pub fn balance(&self) -> Decimal {
        self.start_balance + self.realized_pnl + self.funding - self.fees
    }

    /// Reads a journaled account (its venue must be `venue`).
    pub fn parse(venue: &str, json: &str) -> anyhow::Result<PaperAccount> {
        let a: PaperAccount = serde_json::from_str(json).map_err(|e| {
            anyhow::anyhow!("the journal's paper account of venue `{venue}` is unreadable: {e}")
        })?;
        if a.venue != venue {
            anyhow::bail!(
                "the journal's paper account of venue `{venue}` names venue `{}`",
                a.venue
            );
        }
        Ok(a)
    }

    /// One line for the end of a run.
    pub fn render(&self) -> String {
        let open: Vec<String> = self
            .positions
            .iter()
            .map(|p| {
                format!(
                    "{} {} @ {}",
                    p.coin,
                    p.size.normalize(),
                    p.entry_px.round_dp(6).normalize()
                )
            })
            .collect();
        format!(
            "paper account {}: balance {} USDC (start {}, realized {}, fees {}, funding {}), {} fill(s); positions: {}",
            self.venue,
            self.balance().round_dp(6).normalize(),
            self.start_balance.normalize(),
            self.realized_pnl.round_dp(6).normalize(),
            self.fees.round_dp(6).normalize(),
            self.funding.round_dp(6).normalize(),
            self.fills,
            if open.is_empty() {
                "none".into()
            } else {
                open.join(", ")
            }
        )
    }
}

/// A paper venue on Hyperliquid's protocol: reads the venue's asset table over HTTP (public),
/// and builds its adapter, resuming `saved` (the journal's account) or starting with
/// `[paper] balance`.
#[allow(clippy::too_many_arguments)]
pub async fn start_hyperliquid(
    config: &crate::config::Config,
    name: &str,
    id: crate::engine::types::VenueId,
    ws_url: String,
    http_url: String,
    markets: Vec<(crate::engine::types::MarketId, String)>,
    market_count: usize,
    latch: &std::sync::Arc<crate::engine::hardstop::HardStopLatch>,
    saved: Option<&str>,
    save: adapter::Save,
) -> anyhow::Result<adapter::PaperAdapter> {
    let coins: Vec<String> = markets.iter().map(|(_, c)| c.clone()).collect();
    let http = crate::venue::http::HttpClient::new(&http_url, std::time::Duration::from_secs(10))?;
    let assets = crate::venue::hyperliquid::info::fetch_asset_table(&http, &coins)
        .await
        .map_err(|e| anyhow::anyhow!("venue `{name}`: {e}"))?;
    let account = match saved {
        Some(json) => {
            let a = PaperAccount::parse(name, json)?;
            println!(
                "{name} (paper): resuming the journal's account: {} open position(s), balance {} USDC",
                a.positions.len(),
                a.balance().round_dp(6).normalize()
            );
            a
        }
        None => PaperAccount::new(name, config.raw.paper.balance),
    };
    let adapter = adapter::PaperAdapter::new(adapter::PaperSetup {
        venue: id,
        name: name.to_string(),
        ws_url: ws_url.clone(),
        markets,
        assets,
        market_count,
        backtest: config.raw.backtest.clone(),
        latch: latch.clone(),
        account,
        save,
    })?;
    tracing::info!(venue = %name, %ws_url, "venue started in paper mode: market data only, orders filled locally");
    Ok(adapter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::exec::MarketAccount;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_account_averages_in_realizes_out_and_flips_through_zero() {
        let mut a = MarketAccount::default();
        a.fill(d("0"), d("1"), d("100"), d("0.1"));
        a.fill(d("1"), d("1"), d("110"), d("0.1"));
        assert_eq!(a.entry_px, d("105"));
        // Sells 3 from +2: +20 on the long, and a short of 1 opened at 115.
        a.fill(d("2"), d("-3"), d("115"), d("0.1"));
        assert_eq!(a.realized_pnl, d("20"));
        assert_eq!(a.entry_px, d("115"));
        a.fill(d("-1"), d("1"), d("105"), d("0.1"));
        assert_eq!(a.realized_pnl, d("30"));
        assert_eq!(a.entry_px, Decimal::ZERO);
        assert_eq!(a.fees, d("0.4"));
    }

    #[test]
    fn a_journaled_account_is_read_back_or_refused_with_its_venue() {
        let mut a = PaperAccount::new("simA", d("1000"));
        a.realized_pnl = d("12.5");
        a.fees = d("0.5");
        a.funding = d("-1");
        a.positions.push(PaperPosition {
            coin: "BTC".into(),
            size: d("-0.01"),
            entry_px: d("64000"),
        });
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(PaperAccount::parse("simA", &json).unwrap(), a);
        assert_eq!(a.balance(), d("1011"));
        assert!(a.render().contains("balance 1011 USDC"));
        assert!(a.render().contains("BTC -0.01 @ 64000"));
        let e = PaperAccount::parse("simB", &json).unwrap_err().to_string();
        assert!(e.contains("names venue `simA`"), "{e}");
        let e = PaperAccount::parse("simA", "{\"venue\":1}")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("paper account of venue `simA` is unreadable"),
            "{e}"
        );
    }
}
