//! `journal runs|orders|fills|positions|refusals|hardstop|exits`: reading the journal, as a table,
//! CSV or JSON. Sides read buy/sell, times ISO-8601 UTC, decimals without trailing zeros, flags
//! yes/no; `journal runs` adds each run's fills and PnL (realized, net of fees, summed exactly).

use crate::config::Config;
use clap::Subcommand;
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct JournalArgs {
    #[command(subcommand)]
    view: JournalView,
    /// The config whose journal to read.
    #[arg(long, global = true, default_value = "config/default.toml")]
    config: PathBuf,
    /// Rows to show (newest first).
    #[arg(long, global = true, default_value_t = 20)]
    limit: u32,
    /// Read this journal file instead of the config's (e.g. one `backtest --journal` wrote).
    #[arg(long, global = true, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Only this run's rows (orders, fills, refusals, exits).
    #[arg(long, global = true, value_name = "ID")]
    run: Option<i64>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// An array of objects (every value a string, decimals exact).
    Json,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum JournalView {
    /// Runs, newest first, with their fills and PnL net of fees.
    Runs,
    /// Orders and their last state.
    Orders,
    /// Fills.
    Fills,
    /// The last journaled position per market.
    Positions,
    /// Refusals by run, strategy and reason.
    Refusals,
    /// HardStop triggers and releases.
    Hardstop,
    /// Exit decisions: reason, the edge the exit strategy measured, time held.
    Exits,
}

/// Columns holding decimals (normalised) and times in ms since the epoch (ISO-8601).
const DECIMALS: &[&str] = &[
    "px",
    "sz",
    "fee",
    "realized",
    "size",
    "avg_entry",
    "filled",
    "pnl",
    "fees",
    "edge_bps",
];
const TIMES: &[&str] = &["started", "ended", "time", "updated", "last", "at"];

pub fn exec(args: JournalArgs) -> anyhow::Result<ExitCode> {
    let JournalArgs {
        view,
        config,
        limit,
        journal,
        run,
        format,
    } = args;
    let path = match journal {
        Some(p) => p,
        None => Config::load(&config)?.journal_path(),
    };
    let journal = crate::journal::Journal::open_existing(&path)?;
    const SIDE: &str = "CASE side WHEN 'B' THEN 'buy' WHEN 'A' THEN 'sell' ELSE side END AS side";
    let sql = match view {
        JournalView::Runs => {
            "SELECT id AS run, started_ms AS started, ended_ms AS ended, mode, host_version, config_path, substr(config_hash, 1, 12) AS config_hash FROM runs WHERE (?2 IS NULL OR id = ?2) ORDER BY id DESC LIMIT ?1".to_string()
        }
        JournalView::Orders => format!(
            "SELECT run_id AS run, cloid, market, strategy, {SIDE}, px, sz, tif, CASE reduce_only WHEN 1 THEN 'yes' ELSE 'no' END AS reduce_only, purpose, state, filled, updated_ms AS updated FROM orders WHERE (?2 IS NULL OR run_id = ?2) ORDER BY updated_ms DESC LIMIT ?1"
        ),
        JournalView::Fills => format!(
            "SELECT o.run_id AS run, f.venue, f.tid, f.market, {}, f.px, f.sz, f.fee, f.realized, f.strategy, f.time_ms AS time FROM fills f LEFT JOIN orders o ON o.cloid = f.cloid WHERE (?2 IS NULL OR o.run_id = ?2) ORDER BY f.time_ms DESC LIMIT ?1",
            SIDE.replace("side", "f.side").replace("AS f.side", "AS side")
        ),
        JournalView::Positions => {
            "SELECT market, size, avg_entry, realized, updated_ms AS updated FROM positions ORDER BY market LIMIT ?1".to_string()
        }
        JournalView::Refusals => {
            "SELECT run_id AS run, strategy, reason, count, last_ms AS last FROM refusals WHERE (?2 IS NULL OR run_id = ?2) ORDER BY run_id DESC, count DESC LIMIT ?1".to_string()
        }
        JournalView::Hardstop => {
            "SELECT id, ts_ms AS at, event, reason, source FROM hardstop ORDER BY id DESC LIMIT ?1".to_string()
        }
        JournalView::Exits => {
            "SELECT run_id AS run, ts_ms AS at, market, strategy, reason, edge_bps, held_ms FROM exits WHERE (?2 IS NULL OR run_id = ?2) ORDER BY ts_ms DESC LIMIT ?1".to_string()
        }
    };
    // Positions and HardStop events belong to the journal, not to one run.
    let (mut names, mut rows) = if sql.contains("?2") {
        journal.query(&sql, &[&limit, &run])?
    } else {
        journal.query(&sql, &[&limit])?
    };
    if let JournalView::Runs = view {
        names.splice(4..4, ["fills".to_string(), "pnl".into(), "fees".into()]);
        for r in &mut rows {
            let id: i64 = r[0].parse().unwrap_or_default();
            let (n, pnl, fees) = run_pnl(&journal, id)?;
            r.splice(4..4, [n.to_string(), pnl.to_string(), fees.to_string()]);
        }
    }
    // The table rounds decimals to 8 places for reading; CSV and JSON keep them exact.
    let exact = format != Format::Table;
    for r in &mut rows {
        for (c, name) in r.iter_mut().zip(&names) {
            *c = readable(name, c, exact);
        }
    }
    let text = match format {
        Format::Table => table(&names, &rows),
        Format::Csv => csv(&names, &rows),
        Format::Json => json(&names, &rows),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// A run's fills (through its orders), their realized PnL net of fees, and the fees: Decimal sums
/// in Rust (SQLite would sum the text columns as floats).
fn run_pnl(j: &crate::journal::Journal, run: i64) -> anyhow::Result<(u64, Decimal, Decimal)> {
    let (_, rows) = j.query(
        "SELECT f.realized, f.fee FROM fills f JOIN orders o ON o.cloid = f.cloid WHERE o.run_id = ?1",
        &[&run],
    )?;
    let (mut pnl, mut fees) = (Decimal::ZERO, Decimal::ZERO);
    for r in &rows {
        let realized: Decimal = r[0].parse().unwrap_or_default();
        let fee: Decimal = r[1].parse().unwrap_or_default();
        // `realized` is net of the fill's own fee already.
        pnl += realized;
        fees += fee;
    }
    Ok((rows.len() as u64, pnl.normalize(), fees.normalize()))
}

/// One value as people read it, by its column (`exact`: decimals not rounded).
fn readable(column: &str, v: &str, exact: bool) -> String {
    if v.is_empty() {
        return String::new();
    }
    if DECIMALS.contains(&column)
        && let Ok(d) = v.parse::<Decimal>()
    {
        let d = if exact { d } else { d.round_dp(8) };
        return d.normalize().to_string();
    }
    if TIMES.contains(&column)
        && let Ok(ms) = v.parse::<u64>()
    {
        return crate::timefmt::iso_ms(ms);
    }
    v.to_string()
}

/// An aligned text table.
fn table(names: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let l = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ");
        l.trim_end().to_string() + "\n"
    };
    let mut out = line(names);
    for r in rows {
        out += &line(r);
    }
    if rows.is_empty() {
        out += "(none)\n";
    }
    out
}

fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_string()
    }
}

/// CSV with a header row (RFC 4180 quoting).
fn csv(names: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| {
        cells
            .iter()
            .map(|c| csv_cell(c))
            .collect::<Vec<_>>()
            .join(",")
            + "\r\n"
    };
    let mut out = line(names);
    for r in rows {
        out += &line(r);
    }
    out
}

/// A JSON array of objects, values as strings (null for empty).
fn json(names: &[String], rows: &[Vec<String>]) -> String {
    let arr: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::Value::Object(
                names
                    .iter()
                    .zip(r)
                    .map(|(k, v)| {
                        let v = if v.is_empty() {
                            serde_json::Value::Null
                        } else {
                            serde_json::Value::String(v.clone())
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            )
        })
        .collect();
    serde_json::to_string_pretty(&arr).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_people_write_them() {
        assert_eq!(readable("px", "64000.5000", false), "64000.5");
        let sz = "0.0627185348950248522194521536";
        assert_eq!(readable("sz", sz, false), "0.06271853");
        assert_eq!(readable("sz", sz, true), sz);
        assert_eq!(
            readable("time", "1735689600007", false),
            "2025-01-01T00:00:00.007Z"
        );
        assert_eq!(readable("market", "0.10", false), "0.10");
        assert_eq!(readable("ended", "", false), "");
        let names = vec!["a".to_string(), "b".to_string()];
        let rows = vec![vec!["x,y".to_string(), "q\"".to_string()]];
        assert_eq!(csv(&names, &rows), "a,b\r\n\"x,y\",\"q\"\"\"\r\n");
        let j: serde_json::Value = serde_json::from_str(&json(&names, &rows)).unwrap();
        assert_eq!(j[0]["a"], "x,y");
        assert_eq!(table(&names, &[]), "a  b\n(none)\n");
    }
}
