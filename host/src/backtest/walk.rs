//! Walk-forward (`backtest --sweep FILE --train D --test D`): the data's span is cut into
//! windows, each a training period followed by a test period; the test periods follow each
//! other (window k's training starts k test-lengths in). In each window every combination is
//! backtested on the training period, the best one (highest net PnL; ties: the lowest number;
//! combinations that failed are not chosen) is backtested on the test period, out of sample, and
//! both are reported apart. Each backtest of a period starts fresh (flat, strategy state new):
//! nothing learnt in a training period reaches the test period but the chosen parameters.

use super::sweep::{self, Combination, Row};
use super::{Options, span};
use crate::config::Config;
use anyhow::bail;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A test window may end this much after the data's last record and still count as covered.
const SLACK_NS: u64 = 1_000_000_000;

/// Windows over [first, last]: (train from, train to = test from, test to), in ns, half open.
pub fn windows(first: u64, last: u64, train: u64, test: u64) -> Vec<(u64, u64, u64)> {
    let mut out = Vec::new();
    if train == 0 || test == 0 {
        return out;
    }
    let mut a = first;
    loop {
        let (b, c) = (a + train, a + train + test);
        if c > last + SLACK_NS {
            return out;
        }
        out.push((a, b, c));
        a += test;
    }
}

/// One window's line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WindowRow {
    pub window: usize,
    /// ISO-8601 UTC.
    pub train_from: String,
    pub train_to: String,
    pub test_to: String,
    /// The combination the training period chose (None: every one failed there).
    pub combination: Option<usize>,
    pub params: String,
    /// In sample: the chosen combination on its training period.
    pub train_net_pnl: Decimal,
    pub train_round_trips: u64,
    /// Out of sample: the chosen combination on the test period.
    pub test_net_pnl: Decimal,
    pub test_round_trips: u64,
    pub test_win_rate: Decimal,
    pub test_max_drawdown: Decimal,
    pub test_fees: Decimal,
    pub error: Option<String>,
}

/// The walk-forward table and its totals, in sample and out of sample apart.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Walk {
    pub format: String,
    pub combinations: usize,
    pub train_secs: u64,
    pub test_secs: u64,
    pub windows: Vec<WindowRow>,
    /// Summed over the windows: the chosen combinations on their training periods …
    pub in_sample_net_pnl: Decimal,
    /// … and on the test periods that followed.
    pub out_of_sample_net_pnl: Decimal,
    pub out_of_sample_round_trips: u64,
}

pub const FORMAT: &str = "strategy-host-walk-forward";

fn iso(ns: u64) -> String {
    crate::timefmt::iso_ms(ns / 1_000_000)
}

/// The best row: highest net PnL, then the lowest combination number; failed ones never.
pub fn best(rows: &[Row]) -> Option<&Row> {
    rows.iter().filter(|r| r.error.is_none()).max_by(|x, y| {
        x.net_pnl
            .cmp(&y.net_pnl)
            .then(y.combination.cmp(&x.combination))
    })
}

/// Runs the walk-forward of `combos` over `opts.data` (`threads` for each training sweep).
pub fn run(
    config: &Config,
    opts: &Options,
    combos: &[Combination],
    threads: usize,
    train_ns: u64,
    test_ns: u64,
) -> anyhow::Result<Walk> {
    let (first, last) = span(config, &opts.data)?;
    let ws = windows(first, last, train_ns, test_ns);
    if ws.is_empty() {
        bail!(
            "the data spans {:.1} s ({} to {}): one --train ({} s) and one --test ({} s) do not fit",
            (last - first) as f64 / 1e9,
            iso(first),
            iso(last),
            train_ns / 1_000_000_000,
            test_ns / 1_000_000_000
        );
    }
    let all: Vec<usize> = (0..combos.len()).collect();
    let mut walk = Walk {
        format: FORMAT.into(),
        combinations: combos.len(),
        train_secs: train_ns / 1_000_000_000,
        test_secs: test_ns / 1_000_000_000,
        windows: Vec::new(),
        in_sample_net_pnl: Decimal::ZERO,
        out_of_sample_net_pnl: Decimal::ZERO,
        out_of_sample_round_trips: 0,
    };
    for (k, (a, b, c)) in ws.into_iter().enumerate() {
        let period = |from, to| Options {
            window: Some((from, to)),
            ..opts.clone()
        };
        let trained = sweep::run(config, &period(a, b), combos, &all, threads);
        let mut line = WindowRow {
            window: k,
            train_from: iso(a),
            train_to: iso(b),
            test_to: iso(c),
            combination: None,
            params: String::new(),
            train_net_pnl: Decimal::ZERO,
            train_round_trips: 0,
            test_net_pnl: Decimal::ZERO,
            test_round_trips: 0,
            test_win_rate: Decimal::ZERO,
            test_max_drawdown: Decimal::ZERO,
            test_fees: Decimal::ZERO,
            error: None,
        };
        match best(&trained) {
            None => {
                line.error = Some(format!(
                    "every combination failed on the training period: {}",
                    trained
                        .first()
                        .and_then(|r| r.error.clone())
                        .unwrap_or_default()
                ))
            }
            Some(chosen) => {
                line.combination = Some(chosen.combination);
                line.params = chosen.params.clone();
                line.train_net_pnl = chosen.net_pnl;
                line.train_round_trips = chosen.round_trips;
                let tested = sweep::run(config, &period(b, c), combos, &[chosen.combination], 1);
                let t = &tested[0];
                line.test_net_pnl = t.net_pnl;
                line.test_round_trips = t.round_trips;
                line.test_win_rate = t.win_rate;
                line.test_max_drawdown = t.max_drawdown;
                line.test_fees = t.fees;
                line.error = t.error.clone();
                walk.in_sample_net_pnl += chosen.net_pnl;
                walk.out_of_sample_net_pnl += t.net_pnl;
                walk.out_of_sample_round_trips += t.round_trips;
            }
        }
        walk.windows.push(line);
    }
    Ok(walk)
}

/// The table as CSV (a header row; params and errors quoted).
pub fn csv(w: &Walk) -> String {
    let mut out = String::from(
        "window,train_from,train_to,test_to,combination,params,train_net_pnl,train_round_trips,test_net_pnl,test_round_trips,test_win_rate,test_max_drawdown,test_fees,error\n",
    );
    for r in &w.windows {
        out += &format!(
            "{},{},{},{},{},\"{}\",{},{},{},{},{},{},{},\"{}\"\n",
            r.window,
            r.train_from,
            r.train_to,
            r.test_to,
            r.combination.map_or(String::new(), |c| c.to_string()),
            r.params.replace('"', "\"\""),
            r.train_net_pnl.normalize(),
            r.train_round_trips,
            r.test_net_pnl.normalize(),
            r.test_round_trips,
            r.test_win_rate.normalize(),
            r.test_max_drawdown.normalize(),
            r.test_fees.normalize(),
            r.error.as_deref().unwrap_or("").replace('"', "\"\"")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn windows_step_by_the_test_length_and_end_with_the_data() {
        assert_eq!(
            windows(0, 300 * S - 1, 120 * S, 60 * S),
            vec![
                (0, 120 * S, 180 * S),
                (60 * S, 180 * S, 240 * S),
                (120 * S, 240 * S, 300 * S)
            ]
        );
        assert!(windows(0, 100 * S, 120 * S, 60 * S).is_empty());
        assert!(windows(0, 100 * S, 0, 60 * S).is_empty());
    }

    #[test]
    fn the_best_is_the_highest_net_then_the_lowest_number_never_a_failure() {
        let row = |i: usize, pnl: i64, failed: bool| Row {
            combination: i,
            params: String::new(),
            net_pnl: Decimal::from(pnl),
            round_trips: 0,
            win_rate: Decimal::ZERO,
            max_drawdown: Decimal::ZERO,
            fees: Decimal::ZERO,
            fills: 0,
            error: failed.then(|| "x".to_string()),
        };
        let rows = [
            row(0, 5, false),
            row(1, 9, false),
            row(2, 9, false),
            row(3, 99, true),
        ];
        assert_eq!(best(&rows).unwrap().combination, 1);
        assert!(best(&[row(0, 1, true)]).is_none());
    }
}
