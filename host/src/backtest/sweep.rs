//! `backtest --sweep FILE`: every combination of parameter overrides, each a whole backtest of
//! the same data (one engine per thread, on all cores), one result row per combination.
//!
//! The sweep file names, per strategy, a grid (every value of every key, crossed) or a list of
//! override tables:
//!
//! ```toml
//! [[sweep]]
//! strategy = "dislocation"
//! grid = { threshold_bps = [30, 40, 50], cooldown_ms = [1000, 2000] }
//!
//! [[sweep]]
//! strategy = "regression"
//! list = [{ min_hold_ms = 500 }, { min_hold_ms = 2000 }]
//! ```
//!
//! Combinations are the product over the entries, numbered in a fixed order (entries in file
//! order, a grid's keys sorted, values in the given order). Each backtest is deterministic, rows
//! are kept by number, so the table is the same for any thread count.

use super::{Options, Summary};
use crate::config::Config;
use anyhow::{Context, bail};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    sweep: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    strategy: String,
    #[serde(default)]
    grid: Option<toml::Table>,
    #[serde(default)]
    list: Option<Vec<toml::Table>>,
}

/// One combination: (strategy, key, value) overrides.
pub type Combination = Vec<(String, String, toml::Value)>;

/// The combinations a sweep file gives, checked against `config`.
pub fn combinations(config: &Config, text: &str, path: &str) -> anyhow::Result<Vec<Combination>> {
    let file: SweepFile = toml::from_str(text).map_err(|e| {
        let (line, col) = e
            .span()
            .map(|s| crate::config::line_col(text, s.start))
            .unwrap_or((1, 1));
        anyhow::anyhow!("{path}:{line}:{col}: {}", e.message().trim())
    })?;
    if file.sweep.is_empty() {
        bail!("{path}: no [[sweep]] entries");
    }
    let mut combos: Vec<Combination> = vec![Vec::new()];
    for (i, e) in file.sweep.iter().enumerate() {
        if !config.raw.strategies.iter().any(|s| s.name() == e.strategy) {
            bail!(
                "{path}: sweep entry {} names strategy `{}`, which {} does not configure",
                i + 1,
                e.strategy,
                config.path.display()
            );
        }
        let options: Vec<Vec<(String, toml::Value)>> = match (&e.grid, &e.list) {
            (Some(grid), None) => {
                let mut keys: Vec<_> = grid.iter().collect();
                keys.sort_by(|a, b| a.0.cmp(b.0));
                let mut out: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
                for (k, v) in keys {
                    let values = v.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
                        anyhow::anyhow!(
                            "{path}: sweep entry {} grid.{k}: give a non-empty list of values",
                            i + 1
                        )
                    })?;
                    out = out
                        .into_iter()
                        .flat_map(|prefix| {
                            values.iter().map(move |val| {
                                let mut p = prefix.clone();
                                p.push((k.clone(), val.clone()));
                                p
                            })
                        })
                        .collect();
                }
                out
            }
            (None, Some(list)) if !list.is_empty() => list
                .iter()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .collect(),
            _ => bail!(
                "{path}: sweep entry {} (`{}`): give exactly one of `grid` or a non-empty `list`",
                i + 1,
                e.strategy
            ),
        };
        combos = combos
            .into_iter()
            .flat_map(|prefix| {
                options.iter().map(move |o| {
                    let mut c = prefix.clone();
                    c.extend(
                        o.iter()
                            .map(|(k, v)| (e.strategy.clone(), k.clone(), v.clone())),
                    );
                    c
                })
            })
            .collect();
    }
    Ok(combos)
}

/// `config` with a combination's params set.
pub fn apply(config: &Config, combo: &Combination) -> Config {
    let mut c = config.clone();
    for (strategy, key, value) in combo {
        if let Some(s) = c.raw.strategies.iter_mut().find(|s| s.name() == strategy) {
            s.params.insert(key.clone(), value.clone());
        }
    }
    c
}

/// One result row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    pub combination: usize,
    /// `strategy.key=value`, `;`-separated, in the combination's order.
    pub params: String,
    pub net_pnl: Decimal,
    pub round_trips: u64,
    pub win_rate: Decimal,
    pub max_drawdown: Decimal,
    pub fees: Decimal,
    pub fills: u64,
    /// Why this combination could not run (its params refused by the plugin, …).
    pub error: Option<String>,
}

fn describe(combo: &Combination) -> String {
    combo
        .iter()
        .map(|(s, k, v)| format!("{s}.{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

fn row(i: usize, combo: &Combination, r: anyhow::Result<Summary>) -> Row {
    let mut row = Row {
        combination: i,
        params: describe(combo),
        net_pnl: Decimal::ZERO,
        round_trips: 0,
        win_rate: Decimal::ZERO,
        max_drawdown: Decimal::ZERO,
        fees: Decimal::ZERO,
        fills: 0,
        error: None,
    };
    match r {
        Ok(s) => {
            row.net_pnl = s.net_pnl;
            row.round_trips = s.round_trips;
            row.win_rate = s.win_rate;
            row.max_drawdown = s.max_drawdown;
            row.fees = s.fees;
            row.fills = s.fills;
        }
        Err(e) => row.error = Some(format!("{e:#}")),
    }
    row
}

/// Runs every combination on `threads` threads; rows in combination order.
pub fn run(config: &Config, opts: &Options, combos: &[Combination], threads: usize) -> Vec<Row> {
    let opts = Options {
        journal: None,
        progress: false,
        ..opts.clone()
    };
    let next = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<Row>>> = Mutex::new(vec![None; combos.len()]);
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, combos.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(combo) = combos.get(i) else { break };
                    let cfg = apply(config, combo);
                    let r = super::run(&cfg, &opts);
                    rows.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(row(i, combo, r));
                }
            });
        }
    });
    rows.into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every combination ran"))
        .collect()
}

/// The table as CSV (a header row; params quoted).
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "combination,params,net_pnl,round_trips,win_rate,max_drawdown,fees,fills,error\n",
    );
    for r in rows {
        out += &format!(
            "{},\"{}\",{},{},{},{},{},{},\"{}\"\n",
            r.combination,
            r.params.replace('"', "\"\""),
            r.net_pnl.normalize(),
            r.round_trips,
            r.win_rate.normalize(),
            r.max_drawdown.normalize(),
            r.fees.normalize(),
            r.fills,
            r.error.as_deref().unwrap_or("").replace('"', "\"\"")
        );
    }
    out
}

/// Reads a sweep file.
pub fn read(config: &Config, path: &std::path::Path) -> anyhow::Result<Vec<Combination>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read sweep file {}", path.display()))?;
    combinations(config, &text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let text = "[[strategies]]\nname = \"a\"\nplugin = \"fx-echo\"\nrole = \"entry\"\nmarkets = [\"hl/BTC\"]\n[strategies.params]\nthreshold_bps = 40\n\n[[strategies]]\nname = \"b\"\nplugin = \"fx-echo\"\nrole = \"exit\"\nmarkets = [\"hl/BTC\"]\n";
        Config::parse(std::path::Path::new("c.toml"), text.into()).unwrap()
    }

    #[test]
    fn grids_cross_and_lists_enumerate_in_a_fixed_order() {
        let text = "[[sweep]]\nstrategy = \"a\"\ngrid = { z = [1, 2], threshold_bps = [30, 40] }\n[[sweep]]\nstrategy = \"b\"\nlist = [{ x = 1 }, { x = 2, y = true }]\n";
        let c = combinations(&config(), text, "s.toml").unwrap();
        assert_eq!(c.len(), 8);
        assert_eq!(describe(&c[0]), "a.threshold_bps=30;a.z=1;b.x=1");
        assert_eq!(describe(&c[1]), "a.threshold_bps=30;a.z=1;b.x=2;b.y=true");
        assert_eq!(describe(&c[7]), "a.threshold_bps=40;a.z=2;b.x=2;b.y=true");
        let applied = apply(&config(), &c[7]);
        assert_eq!(
            applied.raw.strategies[0].params["threshold_bps"].as_integer(),
            Some(40)
        );
        assert_eq!(applied.raw.strategies[1].params["y"].as_bool(), Some(true));
    }

    #[test]
    fn bad_sweep_files_say_what_and_where() {
        let e = |t: &str| {
            combinations(&config(), t, "s.toml")
                .unwrap_err()
                .to_string()
        };
        assert!(
            e("[[sweep]]\nstrategy = \"nope\"\ngrid = { x = [1] }\n").contains("strategy `nope`")
        );
        assert!(e("[[sweep]]\nstrategy = \"a\"\ngrid = { x = 1 }\n").contains("grid.x"));
        assert!(e("[[sweep]]\nstrategy = \"a\"\n").contains("exactly one of"));
        assert!(
            e("[[sweep]]\nstrategy = \"a\"\ngrid = { x = [1] }\nbogus = 2\n")
                .starts_with("s.toml:4:1")
        );
        assert!(e("").contains("sweep"));
    }
}
