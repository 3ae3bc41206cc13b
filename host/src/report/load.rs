//! The journal rows one report is made of. A fill belongs to the run whose order it filled; a
//! fill without a known order (adopted from the venue) to the run whose time span holds it.

use crate::journal::Journal;
use anyhow::{Context, bail};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Default)]
pub struct Run {
    pub id: i64,
    pub started_ms: u64,
    /// None: the run did not end cleanly (a crash, or still running).
    pub ended_ms: Option<u64>,
    pub mode: String,
    pub host_version: String,
    pub config_path: String,
    /// (strategy, plugin, version).
    pub plugins: Vec<(String, String, String)>,
}

#[derive(Debug, Clone)]
pub struct Fill {
    pub time_ms: u64,
    pub market: String,
    pub buy: bool,
    pub px: Decimal,
    pub sz: Decimal,
    pub fee: Decimal,
    pub realized: Decimal,
    pub strategy: String,
    pub cloid: Option<String>,
}

/// What the journal says about an order a fill belongs to.
#[derive(Debug, Clone)]
pub struct OrderInfo {
    pub purpose: String,
    pub reduce_only: bool,
    pub strategy: String,
}

#[derive(Debug, Clone)]
pub struct Exit {
    pub time_ms: u64,
    pub market: String,
    pub cloid: String,
    pub strategy: String,
    pub reason: String,
    pub edge_bps: Option<Decimal>,
    pub held_ms: u64,
}

#[derive(Debug, Clone)]
pub struct EdgeLine {
    pub time_ms: u64,
    pub market: String,
    pub max_buy_bps: Option<Decimal>,
    pub max_sell_bps: Option<Decimal>,
}

#[derive(Debug, Clone, Default)]
pub struct Data {
    pub run: Run,
    pub fills: Vec<Fill>,
    pub orders: HashMap<String, OrderInfo>,
    pub exits: Vec<Exit>,
    pub edges: Vec<EdgeLine>,
    /// (minute start ms, reason) → count, every strategy summed.
    pub refusals: BTreeMap<(u64, String), u64>,
    /// Refusals by (strategy, reason) over the run.
    pub refusal_totals: BTreeMap<(String, String), u64>,
    /// Histogram name → (bucket bound ns, `i64::MAX` for +Inf) → count.
    pub histograms: BTreeMap<String, Vec<(i64, u64)>>,
    /// HardStop events in the run's span: (time ms, event, reason).
    pub hardstops: Vec<(u64, String, String)>,
}

fn dec(s: &str, what: &str) -> anyhow::Result<Decimal> {
    s.parse()
        .with_context(|| format!("the journal's {what} `{s}` is not a decimal"))
}

fn opt_dec(s: &str, what: &str) -> anyhow::Result<Option<Decimal>> {
    if s.is_empty() {
        Ok(None)
    } else {
        dec(s, what).map(Some)
    }
}

fn int(s: &str) -> u64 {
    s.parse::<i64>().map_or(0, |v| v.max(0) as u64)
}

/// Loads run `run` (None: the latest).
pub fn load(j: &Journal, run: Option<i64>) -> anyhow::Result<Data> {
    let (_, runs) = j.query(
        "SELECT id, started_ms, ended_ms, mode, host_version, config_path FROM runs WHERE (?1 IS NULL OR id = ?1) ORDER BY id DESC LIMIT 1",
        &[&run],
    )?;
    let Some(r) = runs.first() else {
        match run {
            Some(id) => bail!(
                "no run {id} (`strategy-host journal runs --journal {}` lists them)",
                j.path().display()
            ),
            None => bail!("no runs yet"),
        }
    };
    let mut d = Data {
        run: Run {
            id: r[0].parse().unwrap_or_default(),
            started_ms: int(&r[1]),
            ended_ms: (!r[2].is_empty()).then(|| int(&r[2])),
            mode: r[3].clone(),
            host_version: r[4].clone(),
            config_path: r[5].clone(),
            plugins: Vec::new(),
        },
        ..Data::default()
    };
    let id = d.run.id;
    let (_, plugins) = j.query(
        "SELECT strategy, plugin, version FROM run_plugins WHERE run_id = ?1 ORDER BY strategy",
        &[&id],
    )?;
    d.run.plugins = plugins
        .into_iter()
        .map(|p| (p[0].clone(), p[1].clone(), p[2].clone()))
        .collect();
    // The next run's start bounds this one's span (a crashed run has no end).
    let (_, next) = j.query("SELECT MIN(started_ms) FROM runs WHERE id > ?1", &[&id])?;
    let span_end = d
        .run
        .ended_ms
        .or_else(|| {
            next.first()
                .and_then(|n| (!n[0].is_empty()).then(|| int(&n[0])))
        })
        .unwrap_or(u64::MAX);
    let (_, orders) = j.query(
        "SELECT cloid, purpose, reduce_only, COALESCE(strategy, '(host)') FROM orders WHERE run_id = ?1",
        &[&id],
    )?;
    for o in orders {
        d.orders.insert(
            o[0].clone(),
            OrderInfo {
                purpose: o[1].clone(),
                reduce_only: o[2] == "1",
                strategy: o[3].clone(),
            },
        );
    }
    let (_, fills) = j.query(
        "SELECT f.time_ms, f.market, f.side, f.px, f.sz, f.fee, f.realized, COALESCE(f.strategy, '(host)'), f.cloid, o.run_id
         FROM fills f LEFT JOIN orders o ON o.cloid = f.cloid
         WHERE o.run_id = ?1 OR (o.run_id IS NULL AND f.time_ms >= ?2 AND f.time_ms < ?3)
         ORDER BY f.time_ms, f.tid",
        &[&id, &(d.run.started_ms as i64), &(span_end.min(i64::MAX as u64) as i64)],
    )?;
    for f in fills {
        d.fills.push(Fill {
            time_ms: int(&f[0]),
            market: f[1].clone(),
            buy: f[2] == "B",
            px: dec(&f[3], "fill price")?,
            sz: dec(&f[4], "fill size")?,
            fee: dec(&f[5], "fee")?,
            realized: dec(&f[6], "realized PnL")?,
            strategy: f[7].clone(),
            cloid: (!f[8].is_empty()).then(|| f[8].clone()),
        });
    }
    let (_, exits) = j.query(
        "SELECT ts_ms, market, cloid, strategy, reason, COALESCE(edge_bps, ''), held_ms FROM exits WHERE run_id = ?1 ORDER BY ts_ms",
        &[&id],
    )?;
    for e in exits {
        d.exits.push(Exit {
            time_ms: int(&e[0]),
            market: e[1].clone(),
            cloid: e[2].clone(),
            strategy: e[3].clone(),
            reason: e[4].clone(),
            edge_bps: opt_dec(&e[5], "exit edge")?,
            held_ms: int(&e[6]),
        });
    }
    let (_, edges) = j.query(
        "SELECT ts_ms, market, COALESCE(max_buy_bps, ''), COALESCE(max_sell_bps, '') FROM edges WHERE run_id = ?1 ORDER BY ts_ms",
        &[&id],
    )?;
    for e in edges {
        d.edges.push(EdgeLine {
            time_ms: int(&e[0]),
            market: e[1].clone(),
            max_buy_bps: opt_dec(&e[2], "edge")?,
            max_sell_bps: opt_dec(&e[3], "edge")?,
        });
    }
    let (_, refusals) = j.query(
        "SELECT minute_ms, strategy, reason, count FROM refusal_minutes WHERE run_id = ?1",
        &[&id],
    )?;
    for r in refusals {
        let n = int(&r[3]);
        *d.refusals.entry((int(&r[0]), r[2].clone())).or_default() += n;
        *d.refusal_totals
            .entry((r[1].clone(), r[2].clone()))
            .or_default() += n;
    }
    let (_, hist) = j.query(
        "SELECT name, le_ns, count FROM histograms WHERE run_id = ?1 ORDER BY name, le_ns",
        &[&id],
    )?;
    for h in hist {
        let le: i64 = h[1].parse().unwrap_or(i64::MAX);
        d.histograms
            .entry(h[0].clone())
            .or_default()
            .push((le, int(&h[2])));
    }
    let (_, hs) = j.query(
        "SELECT ts_ms, event, reason FROM hardstop WHERE ts_ms >= ?1 AND ts_ms < ?2 ORDER BY id",
        &[
            &(d.run.started_ms as i64),
            &(span_end.min(i64::MAX as u64) as i64),
        ],
    )?;
    d.hardstops = hs
        .into_iter()
        .map(|h| (int(&h[0]), h[1].clone(), h[2].clone()))
        .collect();
    Ok(d)
}
