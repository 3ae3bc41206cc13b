//! The report page: everything inline (style, charts, the table sorter), nothing fetched.

use super::analysis::Analysis;
use super::load::Data;
use super::svg::{self, esc};
use crate::runtime::summary::{CURRENCY, dec, signed};
use crate::timefmt::iso_ms;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write;
use std::path::Path;

/// Trades listed in the table (the charts use every one).
const MAX_ROWS: usize = 5_000;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:20px}
header .meta{color:#b8c0cc;font-size:13px}
main{max-width:920px;margin:0 auto;padding:18px}
section{background:#fff;border:1px solid #e2e5ea;border-radius:8px;margin:0 0 16px;padding:14px 16px}
h2{font-size:16px;margin:0 0 10px}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.kpi{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:10px 12px}
.kpi .v{font-size:20px;font-weight:600}
.kpi .k{color:#5a6472;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.pos-t{color:#0a7d4f}.neg-t{color:#b3261e}
svg.chart{width:100%;height:auto;display:block;margin:6px 0 14px}
svg .ct{font-weight:600;font-size:13px;fill:#1d2330}
svg .tick,svg .unit,svg .label,svg .legend{font-size:11px;fill:#5a6472}
svg .legend{font-weight:600}
svg .none{font-size:13px;fill:#8a94a3}
svg .grid{stroke:#eceef2}
svg .zero{stroke:#9aa3af;stroke-dasharray:3 3}
svg .pos{fill:#2a9d6f}svg .neg{fill:#d1495b}svg .bar{fill:#0072B2}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{padding:4px 6px;border-bottom:1px solid #eceef2;text-align:left;white-space:nowrap}
th{background:#f0f2f5;position:sticky;top:0}
table.sortable th{cursor:pointer}
table.sortable th[data-dir="asc"]::after{content:" ▲"}
table.sortable th[data-dir="desc"]::after{content:" ▼"}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.scroll{max-height:460px;overflow:auto}
.note{color:#5a6472;font-size:12.5px}
"#;

/// Sorts a table by the clicked column: numbers by value (`data-v` when the text is formatted),
/// everything else as text.
const SCRIPT: &str = r#"
"use strict";
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () {
      var dir = th.dataset.dir === "asc" ? "desc" : "asc";
      Array.prototype.forEach.call(heads, function (h) { delete h.dataset.dir; });
      th.dataset.dir = dir;
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var key = function (r) {
        var c = r.cells[col];
        return c.dataset.v !== undefined ? c.dataset.v : c.textContent;
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return dir === "asc" ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.body.dataset.ready = "1";
"#;

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn class(d: Decimal) -> &'static str {
    if d > Decimal::ZERO {
        "pos-t"
    } else if d < Decimal::ZERO {
        "neg-t"
    } else {
        ""
    }
}

fn held(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.1} s")
    }
}

fn le_label(le: i64) -> String {
    if le == i64::MAX {
        "> 50 ms".into()
    } else if le >= 1_000_000 {
        format!("≤ {} ms", le as f64 / 1e6)
    } else {
        format!("≤ {} µs", le as f64 / 1e3)
    }
}

/// The page, and how many charts it holds.
pub fn page(d: &Data, a: &Analysis, journal: &Path) -> (String, usize) {
    let t0 = d.run.started_ms;
    let secs = |t: u64| t.saturating_sub(t0) as f64 / 1000.0;
    let mut charts = vec![svg::lines(
        "equity",
        "Equity: realized PnL net of fees",
        CURRENCY,
        &[(
            "equity".into(),
            a.equity.iter().map(|(t, v)| (secs(*t), f(*v))).collect(),
        )],
    )];
    charts.push(svg::lines(
        "drawdown",
        "Drawdown from the equity peak",
        CURRENCY,
        &[(
            "drawdown".into(),
            a.drawdown.iter().map(|(t, v)| (secs(*t), f(*v))).collect(),
        )],
    ));
    charts.push(svg::bars(
        "pnl-strategy",
        "Net PnL per strategy (closed round trips)",
        CURRENCY,
        &a.by_strategy
            .iter()
            .filter(|(_, l)| l.trips > 0)
            .map(|(k, l)| (k.clone(), f(l.net)))
            .collect::<Vec<_>>(),
    ));
    charts.push(svg::bars(
        "pnl-market",
        "Net PnL per market (closed round trips)",
        CURRENCY,
        &a.by_market
            .iter()
            .map(|(k, l)| (k.clone(), f(l.net)))
            .collect::<Vec<_>>(),
    ));
    charts.push(svg::bars(
        "exits",
        "Round trips by exit reason",
        "round trips",
        &a.exits_by_reason
            .iter()
            .map(|(k, n)| (k.clone(), *n as f64))
            .collect::<Vec<_>>(),
    ));
    let entry_edges: Vec<f64> = d
        .edges
        .iter()
        .filter_map(|e| match (e.max_buy_bps, e.max_sell_bps) {
            (Some(b), Some(s)) => Some(b.max(s)),
            (b, s) => b.or(s),
        })
        .map(f)
        .collect();
    charts.push(svg::histogram(
        "entry-edge",
        "Entry edge: best dislocation from the oracle per EdgeTracker period",
        "bps",
        &entry_edges,
        20,
    ));
    let exit_edges: Vec<f64> = d.exits.iter().filter_map(|e| e.edge_bps).map(f).collect();
    charts.push(svg::histogram(
        "exit-edge",
        "Exit edge: what the exit strategy measured at its decision",
        "bps",
        &exit_edges,
        20,
    ));
    let holds: Vec<f64> = a
        .trips
        .iter()
        .map(|t| t.close_ms.saturating_sub(t.open_ms) as f64 / 1000.0)
        .collect();
    charts.push(svg::histogram(
        "holding",
        "Holding time per round trip",
        "seconds",
        &holds,
        20,
    ));
    let reasons: Vec<String> = {
        let mut r: Vec<String> = d.refusals.keys().map(|(_, r)| r.clone()).collect();
        r.sort();
        r.dedup();
        r
    };
    let mut minutes: Vec<u64> = d.refusals.keys().map(|(m, _)| *m).collect();
    minutes.dedup();
    let columns: Vec<(f64, Vec<u64>)> = minutes
        .iter()
        .map(|m| {
            (
                secs(*m),
                reasons
                    .iter()
                    .map(|r| d.refusals.get(&(*m, r.clone())).copied().unwrap_or(0))
                    .collect(),
            )
        })
        .collect();
    charts.push(svg::stacked(
        "refusals",
        "Refusals per minute, by reason",
        "refusals",
        &reasons,
        &columns,
        60.0,
    ));
    let latency_name = ["tick_to_order", "order_round_trip"]
        .into_iter()
        .find(|n| d.histograms.contains_key(*n));
    let latency_title = match latency_name {
        Some("order_round_trip") => "Simulated order round trips (the backtest's latency model)",
        _ => "Tick-to-order: market frame read to order post written",
    };
    let lat: Vec<(String, u64)> = latency_name
        .and_then(|n| d.histograms.get(n))
        .map(|h| h.iter().map(|(le, n)| (le_label(*le), *n)).collect())
        .unwrap_or_default();
    charts.push(svg::buckets("latency", latency_title, "", &lat));
    let mut plugin: Vec<(i64, u64)> = Vec::new();
    for (name, h) in &d.histograms {
        if name.starts_with("plugin_call:") {
            if plugin.is_empty() {
                plugin = h.iter().map(|(le, _)| (*le, 0)).collect();
            }
            for (p, (_, n)) in plugin.iter_mut().zip(h) {
                p.1 += n;
            }
        }
    }
    charts.push(svg::buckets(
        "plugin-calls",
        "Plugin call time (every strategy)",
        "",
        &plugin
            .iter()
            .map(|(le, n)| (le_label(*le), *n))
            .collect::<Vec<_>>(),
    ));

    let mut h = String::with_capacity(64 * 1024 + charts.iter().map(String::len).sum::<usize>());
    let title = format!("strategy-host report: run {} ({})", d.run.id, d.run.mode);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>",
        esc(&title)
    );
    let span = match d.run.ended_ms {
        Some(e) => format!(
            "{} → {} ({})",
            iso_ms(d.run.started_ms),
            iso_ms(e),
            held(e.saturating_sub(d.run.started_ms))
        ),
        None => format!("{} → (did not end cleanly)", iso_ms(d.run.started_ms)),
    };
    let _ = write!(
        h,
        "<header><h1>{}</h1><div class=\"meta\">{} · config {} · journal {} · strategy-host {}</div></header><main>",
        esc(&title),
        esc(&span),
        esc(&d.run.config_path),
        esc(&journal.display().to_string()),
        esc(&d.run.host_version)
    );
    let wins = a.trips.iter().filter(|t| t.net() > Decimal::ZERO).count();
    let win_rate = if a.trips.is_empty() {
        "–".to_string()
    } else {
        format!("{:.0}%", 100.0 * wins as f64 / a.trips.len() as f64)
    };
    let kpi = |k: &str, v: String, c: &str| {
        format!(
            "<div class=\"kpi\"><div class=\"k\">{}</div><div class=\"v {c}\">{}</div></div>",
            esc(k),
            esc(&v)
        )
    };
    h += "<section><div class=\"kpis\">";
    h += &kpi(
        "net PnL",
        format!("{} {CURRENCY}", signed(a.net_pnl, 4)),
        class(a.net_pnl),
    );
    h += &kpi("round trips", a.trips.len().to_string(), "");
    h += &kpi("win rate", win_rate, "");
    h += &kpi(
        "max drawdown",
        format!("{} {CURRENCY}", dec(a.max_drawdown, 4)),
        "",
    );
    h += &kpi("fees", format!("{} {CURRENCY}", dec(a.fees, 4)), "");
    h += &kpi("fills", d.fills.len().to_string(), "");
    h += &kpi("open at the end", a.open.len().to_string(), "");
    h += &kpi(
        "HardStops",
        d.hardstops
            .iter()
            .filter(|x| x.1 == "triggered")
            .count()
            .to_string(),
        "",
    );
    h += "</div></section>";
    if !a.open.is_empty() {
        h += "<section><h2>Positions open at the end of the run</h2><p class=\"note\">Not in the round trips; the equity curve counts only what was realized.</p><table><thead><tr><th>market</th><th>size</th></tr></thead><tbody>";
        for (m, s) in &a.open {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
                esc(m),
                dec(*s, 8)
            );
        }
        h += "</tbody></table></section>";
    }
    h += "<section><h2>Equity and drawdown</h2><p class=\"note\">Realized PnL minus fees after each fill; open positions are not marked between fills.</p>";
    h += &charts[0];
    h += &charts[1];
    h += "</section><section><h2>PnL</h2>";
    h += &charts[2];
    h += &charts[3];
    h += &pnl_table(a);
    h += "</section><section><h2>Exits and holding times</h2>";
    h += &charts[4];
    h += &charts[7];
    h += "</section><section><h2>Edges</h2><p class=\"note\">Entry edge: EdgeTracker's best buy or sell dislocation (bps from the oracle) in each period, below the entry threshold too. Exit edge: the edge the exit strategy gave with its decision.</p>";
    h += &charts[5];
    h += &charts[6];
    h += "</section><section><h2>Refusals</h2>";
    h += &charts[8];
    h += &refusal_table(d);
    h += "</section><section><h2>Latency</h2>";
    h += &charts[9];
    h += &charts[10];
    h += "</section>";
    h += &trade_table(a, t0);
    if !d.hardstops.is_empty() {
        h += "<section><h2>HardStop</h2><table><thead><tr><th>time</th><th>event</th><th>reason</th></tr></thead><tbody>";
        for (t, ev, why) in &d.hardstops {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                iso_ms(*t),
                esc(ev),
                esc(why)
            );
        }
        h += "</tbody></table></section>";
    }
    if !d.run.plugins.is_empty() {
        h += "<section><h2>Strategies</h2><table><thead><tr><th>strategy</th><th>plugin</th><th>version</th></tr></thead><tbody>";
        for (s, p, v) in &d.run.plugins {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(s),
                esc(p),
                esc(v)
            );
        }
        h += "</tbody></table></section>";
    }
    h += "</main><script>";
    h += SCRIPT;
    h += "</script></body></html>\n";
    (h, charts.len())
}

fn pnl_table(a: &Analysis) -> String {
    let mut h = String::from(
        "<table class=\"sortable\"><thead><tr><th>strategy</th><th>round trips</th><th>won</th><th>net PnL</th><th>fees</th><th>fills</th></tr></thead><tbody>",
    );
    for (k, l) in &a.by_strategy {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n {}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(k),
            l.trips,
            l.wins,
            class(l.net),
            signed(l.net, 4),
            dec(l.fees, 4),
            l.fills
        );
    }
    h + "</tbody></table>"
}

fn refusal_table(d: &Data) -> String {
    if d.refusal_totals.is_empty() {
        return "<p class=\"note\">No intent was refused.</p>".into();
    }
    let mut h = String::from(
        "<table class=\"sortable\"><thead><tr><th>strategy</th><th>reason</th><th>refusals</th></tr></thead><tbody>",
    );
    for ((s, r), n) in &d.refusal_totals {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{n}</td></tr>",
            esc(s),
            esc(r)
        );
    }
    h + "</tbody></table>"
}

fn trade_table(a: &Analysis, t0: u64) -> String {
    let mut h = format!("<section><h2>Trades ({} round trips)</h2>", a.trips.len());
    if a.trips.len() > MAX_ROWS {
        let _ = write!(
            h,
            "<p class=\"note\">The first {MAX_ROWS} are listed; every one is in the charts and in <code>strategy-host journal fills --format csv</code>.</p>"
        );
    }
    h += "<div class=\"scroll\"><table class=\"sortable\" id=\"trades\"><thead><tr><th>#</th><th>market</th><th>strategy</th><th>side</th><th>opened</th><th>held</th><th>size</th><th>entry</th><th>exit</th><th>net PnL</th><th>fees</th><th>exit reason</th><th>exit edge</th></tr></thead><tbody>";
    for (i, t) in a.trips.iter().take(MAX_ROWS).enumerate() {
        let hold = t.close_ms.saturating_sub(t.open_ms);
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td data-v=\"{}\">{}</td><td class=\"n\" data-v=\"{hold}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n {}\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            i + 1,
            esc(&t.market),
            esc(&t.strategy),
            if t.long { "long" } else { "short" },
            t.open_ms.saturating_sub(t0),
            iso_ms(t.open_ms),
            held(hold),
            dec(t.max_size, 8),
            dec(t.entry_px, 6),
            dec(t.exit_px, 6),
            class(t.net()),
            signed(t.net(), 4),
            dec(t.fees, 4),
            esc(&t.exit_reason),
            t.exit_edge_bps.map_or("–".into(), |e| dec(e, 2))
        );
    }
    h + "</tbody></table></div></section>"
}
