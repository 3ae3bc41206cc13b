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
//!
//! `--shard I/N` runs the combinations whose number is I modulo N (I from 0: a Kubernetes
//! Indexed Job's `JOB_COMPLETION_INDEX`), and [`merge`] puts the shards' [`Table`]s back
//! together into the table one run gives. A table carries the sweep's fingerprint (the config,
//! the sweep file and the data files' names and sizes), so shards of different sweeps are not
//! merged.

use super::{Options, Summary};
use crate::config::Config;
use anyhow::{Context, bail};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::path::Path;
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
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

/// Runs the combinations numbered in `which` on `threads` threads; rows in that order.
pub fn run(
    config: &Config,
    opts: &Options,
    combos: &[Combination],
    which: &[usize],
    threads: usize,
) -> Vec<Row> {
    let opts = Options {
        journal: None,
        progress: false,
        ..opts.clone()
    };
    let next = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<Row>>> = Mutex::new(vec![None; which.len()]);
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, which.len().max(1)) {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = which.get(k) else { break };
                    let combo = &combos[i];
                    let cfg = apply(config, combo);
                    let r = super::run(&cfg, &opts);
                    rows.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(row(i, combo, r));
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

/// Reads a sweep file: its combinations and its text.
pub fn read(config: &Config, path: &Path) -> anyhow::Result<(Vec<Combination>, String)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read sweep file {}", path.display()))?;
    Ok((
        combinations(config, &text, &path.display().to_string())?,
        text,
    ))
}

/// `--shard I/N`: (I, N), I from 0 to N − 1.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || {
        format!(
            "--shard `{s}`: give I/N with 0 <= I < N (e.g. 0/4; I is 0-based, as JOB_COMPLETION_INDEX)"
        )
    };
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The combinations shard `i` of `n` runs: those numbered `i` modulo `n` (neighbours differ in
/// one value and cost alike: round robin balances the shards).
pub fn shard_of(total: usize, i: usize, n: usize) -> Vec<usize> {
    (0..total).filter(|c| c % n == i).collect()
}

pub const TABLE_FORMAT: &str = "strategy-host-sweep";

/// A sweep's table, or one shard of it: what `--sweep-json` writes and `backtest merge` reads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub format: String,
    /// The config's text, the sweep file's and the data files' names and sizes, hashed.
    pub fingerprint: String,
    /// Combinations in the whole sweep.
    pub combinations: usize,
    /// This table is shard `shard` of `shards` (a whole sweep: 0 of 1).
    pub shard: usize,
    pub shards: usize,
    pub rows: Vec<Row>,
}

/// What makes two shards parts of one sweep.
pub fn fingerprint(
    config: &Config,
    sweep_text: &str,
    data: &[super::data::DataArg],
) -> anyhow::Result<String> {
    let mut text = format!("{}\u{0}{sweep_text}\u{0}", config.text);
    let mut files: Vec<(String, u64)> = Vec::new();
    for a in super::data::expand(data)? {
        let name = a
            .path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let size = std::fs::metadata(&a.path).map_or(0, |m| m.len());
        files.push((
            format!("{}{name}", a.venue.map(|v| v + "=").unwrap_or_default()),
            size,
        ));
    }
    files.sort();
    for (n, size) in files {
        text += &format!("{n}:{size}\n");
    }
    Ok(crate::runtime::journaling::fingerprint(text.as_bytes()))
}

/// Reads a table written by `--sweep-json`.
pub fn read_table(path: &Path) -> anyhow::Result<Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let t: Table = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: not a sweep table written by `backtest --sweep --sweep-json` ({e})",
            path.display()
        )
    })?;
    if t.format != TABLE_FORMAT {
        bail!(
            "{}: format `{}`, not `{TABLE_FORMAT}`",
            path.display(),
            t.format
        );
    }
    Ok(t)
}

/// Shards of one sweep (any order) → the whole table, as one run gives it. Refused: shards of
/// different sweeps, a shard given twice or missing, a combination missing or repeated.
pub fn merge(tables: &[(String, Table)]) -> anyhow::Result<Table> {
    let Some((first_name, first)) = tables.first() else {
        bail!("backtest merge: give the shards' --sweep-json files");
    };
    let mut seen = vec![None::<&str>; first.shards];
    for (name, t) in tables {
        if t.fingerprint != first.fingerprint || t.combinations != first.combinations {
            bail!(
                "{name} is a shard of another sweep than {first_name} (config, sweep file or data differ)"
            );
        }
        if t.shards != first.shards {
            bail!(
                "{name} is shard {}/{} but {first_name} is of {} shards",
                t.shard,
                t.shards,
                first.shards
            );
        }
        match seen.get_mut(t.shard) {
            Some(Some(other)) => bail!(
                "shard {}/{} is given twice: {other} and {name}",
                t.shard,
                t.shards
            ),
            Some(slot) => *slot = Some(name),
            None => bail!("{name}: shard {} of {}?", t.shard, t.shards),
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{}", first.shards))
        .collect();
    if !missing.is_empty() {
        bail!("missing shard(s): {}", missing.join(", "));
    }
    let mut rows: Vec<Row> = tables
        .iter()
        .flat_map(|(_, t)| t.rows.iter().cloned())
        .collect();
    rows.sort_by_key(|r| r.combination);
    let numbers: Vec<usize> = rows.iter().map(|r| r.combination).collect();
    if numbers != (0..first.combinations).collect::<Vec<_>>() {
        bail!(
            "the shards hold {} rows for {} combinations (a shard file was cut short or edited)",
            rows.len(),
            first.combinations
        );
    }
    Ok(Table {
        format: TABLE_FORMAT.into(),
        fingerprint: first.fingerprint.clone(),
        combinations: first.combinations,
        shard: 0,
        shards: 1,
        rows,
    })
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

    fn table(shard: usize, shards: usize, rows: &[usize]) -> (String, Table) {
        let combo: Combination = Vec::new();
        (
            format!("s{shard}.json"),
            Table {
                format: TABLE_FORMAT.into(),
                fingerprint: "f".into(),
                combinations: 5,
                shard,
                shards,
                rows: rows
                    .iter()
                    .map(|i| row(*i, &combo, Err(anyhow::anyhow!("x"))))
                    .collect(),
            },
        )
    }

    #[test]
    fn shards_partition_and_merge_back_or_say_what_is_wrong() {
        assert_eq!(parse_shard("1/3"), Ok((1, 3)));
        assert!(parse_shard("3/3").is_err());
        assert!(parse_shard("0/0").is_err());
        assert!(parse_shard("a/2").unwrap_err().contains("0-based"));
        let parts: Vec<Vec<usize>> = (0..2).map(|i| shard_of(5, i, 2)).collect();
        assert_eq!(parts, vec![vec![0, 2, 4], vec![1, 3]]);
        let whole = merge(&[table(1, 2, &[1, 3]), table(0, 2, &[0, 2, 4])]).unwrap();
        assert_eq!(
            whole.rows.iter().map(|r| r.combination).collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4]
        );
        assert_eq!((whole.shard, whole.shards), (0, 1));
        let e = |t: &[(String, Table)]| merge(t).unwrap_err().to_string();
        assert!(e(&[table(0, 2, &[0, 2, 4])]).contains("missing shard(s): 1/2"));
        assert!(e(&[table(0, 2, &[0, 2, 4]), table(0, 2, &[0, 2, 4])]).contains("given twice"));
        assert!(e(&[table(0, 2, &[0, 2]), table(1, 2, &[1, 3])]).contains("cut short"));
        let mut other = table(1, 2, &[1, 3]);
        other.1.fingerprint = "g".into();
        assert!(e(&[table(0, 2, &[0, 2, 4]), other]).contains("another sweep"));
        assert!(e(&[]).contains("give the shards"));
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
