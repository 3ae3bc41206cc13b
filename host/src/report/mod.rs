//! `strategy-host report`: one self-contained HTML file (no script or style from anywhere else,
//! charts drawn as inline SVG) from a journal, live or backtest: equity curve and drawdown, PnL
//! per strategy and per market, the trade list, entry-edge and exit-edge distributions, holding
//! times, exits by reason, refusals over time, latency histograms.
//!
//! - [`load`]: the journal's rows for one run. [`analysis`]: round trips from its fills.
//! - [`svg`]: the charts. [`html`]: the page.
//!
//! Money is read and summed as `Decimal`; it becomes `f64` only as a pixel position.

pub mod analysis;
pub mod html;
pub mod load;
pub mod svg;

use std::path::Path;

/// What a report was made of (printed by the command, checked by tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    pub run: i64,
    pub mode: String,
    pub fills: usize,
    pub round_trips: usize,
    pub charts: usize,
    pub bytes: usize,
}

/// Writes the report of `run` (None: the latest) in the journal at `journal` to `out`.
pub fn write(journal: &Path, run: Option<i64>, out: &Path) -> anyhow::Result<Made> {
    let j = crate::journal::Journal::open_existing(journal)?;
    let data = load::load(&j, run).map_err(|e| anyhow::anyhow!("{}: {e:#}", journal.display()))?;
    let a = analysis::analyse(&data);
    let (page, charts) = html::page(&data, &a, journal);
    std::fs::write(out, &page)
        .map_err(|e| anyhow::anyhow!("cannot write the report to {}: {e}", out.display()))?;
    Ok(Made {
        run: data.run.id,
        mode: data.run.mode.clone(),
        fills: data.fills.len(),
        round_trips: a.trips.len(),
        charts,
        bytes: page.len(),
    })
}
