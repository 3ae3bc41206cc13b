//! Round trips from a run's fills: a market's position from flat back to flat (a flip through
//! zero closes one and opens the next). A trip belongs to the strategy whose fill opened it; its
//! exit reason is the exit decision journaled for the closing order, else the closing order's
//! own kind (`pair_close` for a strategy's reduce-only pair, the strategy's name otherwise).
//! Equity is realized PnL net of fees, fill by fill.

use super::load::Data;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone)]
pub struct Trip {
    pub market: String,
    pub strategy: String,
    pub long: bool,
    pub open_ms: u64,
    pub close_ms: u64,
    /// Largest |position| during the trip.
    pub max_size: Decimal,
    pub entry_px: Decimal,
    pub exit_px: Decimal,
    pub pnl: Decimal,
    pub fees: Decimal,
    pub exit_reason: String,
    /// The edge the exit strategy measured at its decision (bps), when it did.
    pub exit_edge_bps: Option<Decimal>,
}

impl Trip {
    pub fn net(&self) -> Decimal {
        self.pnl - self.fees
    }
}

#[derive(Debug, Clone, Default)]
pub struct PnlLine {
    pub net: Decimal,
    pub fees: Decimal,
    pub trips: u64,
    pub wins: u64,
    pub fills: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub trips: Vec<Trip>,
    /// (time ms, equity) after each fill: realized − fees, cumulative.
    pub equity: Vec<(u64, Decimal)>,
    /// (time ms, drawdown ≤ 0) after each fill.
    pub drawdown: Vec<(u64, Decimal)>,
    pub max_drawdown: Decimal,
    pub net_pnl: Decimal,
    pub fees: Decimal,
    pub by_strategy: BTreeMap<String, PnlLine>,
    pub by_market: BTreeMap<String, PnlLine>,
    pub exits_by_reason: BTreeMap<String, u64>,
    /// Positions still open at the end of the data: market → size.
    pub open: BTreeMap<String, Decimal>,
}

struct Open {
    strategy: String,
    size: Decimal,
    max_size: Decimal,
    open_ms: u64,
    entry_value: Decimal,
    entry_size: Decimal,
    pnl: Decimal,
    fees: Decimal,
}

pub fn analyse(d: &Data) -> Analysis {
    let mut a = Analysis::default();
    let exits: HashMap<&str, &super::load::Exit> =
        d.exits.iter().map(|e| (e.cloid.as_str(), e)).collect();
    let mut open: HashMap<String, Open> = HashMap::new();
    let (mut equity, mut peak) = (Decimal::ZERO, Decimal::ZERO);
    for f in &d.fills {
        let signed = if f.buy { f.sz } else { -f.sz };
        // The journal's `realized` is net of the fill's own fee (the engine's).
        equity += f.realized;
        peak = peak.max(equity);
        a.equity.push((f.time_ms, equity));
        a.drawdown.push((f.time_ms, equity - peak));
        a.max_drawdown = a.max_drawdown.max(peak - equity);
        a.fees += f.fee;
        let m = a.by_market.entry(f.market.clone()).or_default();
        m.fills += 1;
        a.by_strategy.entry(f.strategy.clone()).or_default().fills += 1;
        let before = open.get(&f.market).map_or(Decimal::ZERO, |o| o.size);
        let after = before + signed;
        let o = open.entry(f.market.clone()).or_insert_with(|| Open {
            strategy: f.strategy.clone(),
            size: Decimal::ZERO,
            max_size: Decimal::ZERO,
            open_ms: f.time_ms,
            entry_value: Decimal::ZERO,
            entry_size: Decimal::ZERO,
            pnl: Decimal::ZERO,
            fees: Decimal::ZERO,
        });
        let adds = before.is_zero() || before.is_sign_positive() == signed.is_sign_positive();
        if adds {
            o.entry_value += f.px * f.sz;
            o.entry_size += f.sz;
        }
        o.size = after;
        o.max_size = o.max_size.max(after.abs());
        o.pnl += f.realized + f.fee;
        o.fees += f.fee;
        let closed = !before.is_zero()
            && (after.is_zero() || after.is_sign_positive() != before.is_sign_positive());
        if closed {
            let o = open.remove(&f.market).expect("the open trip above");
            let exit = f.cloid.as_deref().and_then(|c| exits.get(c));
            let reason = match (exit, f.cloid.as_deref().and_then(|c| d.orders.get(c))) {
                (Some(e), _) => e.reason.clone(),
                (None, Some(info)) if info.reduce_only && info.purpose == "pair_leg" => {
                    "pair_close".into()
                }
                (None, Some(info)) => info.strategy.clone(),
                (None, None) => "venue".into(),
            };
            let trip = Trip {
                market: f.market.clone(),
                strategy: o.strategy,
                long: before.is_sign_positive(),
                open_ms: o.open_ms,
                close_ms: f.time_ms,
                max_size: o.max_size.max(before.abs()),
                entry_px: if o.entry_size.is_zero() {
                    Decimal::ZERO
                } else {
                    (o.entry_value / o.entry_size).round_dp(8)
                },
                exit_px: f.px,
                pnl: o.pnl,
                fees: o.fees,
                exit_reason: reason,
                exit_edge_bps: exit.and_then(|e| e.edge_bps),
            };
            *a.exits_by_reason
                .entry(trip.exit_reason.clone())
                .or_default() += 1;
            for line in [
                a.by_strategy.entry(trip.strategy.clone()).or_default(),
                a.by_market.entry(trip.market.clone()).or_default(),
            ] {
                line.net += trip.net();
                line.fees += trip.fees;
                line.trips += 1;
                if trip.net() > Decimal::ZERO {
                    line.wins += 1;
                }
            }
            a.net_pnl += trip.net();
            a.trips.push(trip);
            if !after.is_zero() {
                // Flipped through zero: the rest opens the next trip, at this fill's price.
                open.insert(
                    f.market.clone(),
                    Open {
                        strategy: f.strategy.clone(),
                        size: after,
                        max_size: after.abs(),
                        open_ms: f.time_ms,
                        entry_value: f.px * after.abs(),
                        entry_size: after.abs(),
                        pnl: Decimal::ZERO,
                        fees: Decimal::ZERO,
                    },
                );
            }
        }
    }
    for (m, o) in open {
        if !o.size.is_zero() {
            a.open.insert(m, o.size);
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::load::{Fill, OrderInfo};

    fn fill(t: u64, buy: bool, px: i64, sz: &str, realized: &str, cloid: &str) -> Fill {
        Fill {
            time_ms: t,
            market: "hl/BTC".into(),
            buy,
            px: px.into(),
            sz: sz.parse().unwrap(),
            fee: "0.1".parse().unwrap(),
            realized: realized.parse().unwrap(),
            strategy: if cloid == "e" {
                "entry".into()
            } else {
                "exit".into()
            },
            cloid: Some(cloid.into()),
        }
    }

    #[test]
    fn round_trips_run_flat_to_flat_and_flips_open_the_next() {
        let mut d = Data::default();
        d.orders.insert(
            "x".into(),
            OrderInfo {
                purpose: "flatten".into(),
                reduce_only: true,
                strategy: "exit".into(),
            },
        );
        d.fills = vec![
            // `realized` as the journal holds it: net of the fill's fee (0.1).
            fill(1, true, 100, "1", "-0.1", "e"),
            fill(2, true, 110, "1", "-0.1", "e"),
            // Sells 3 from +2: closes the long (+20 before its fee) and opens a short of 1.
            fill(3, false, 115, "3", "19.9", "x"),
            fill(4, true, 105, "1", "9.9", "x"),
        ];
        let a = analyse(&d);
        assert_eq!(a.trips.len(), 2);
        let t = &a.trips[0];
        assert!(t.long);
        assert_eq!(t.strategy, "entry");
        assert_eq!(t.entry_px, Decimal::from(105));
        assert_eq!(t.max_size, Decimal::from(2));
        assert_eq!(t.exit_reason, "exit");
        assert_eq!(t.net(), "19.7".parse::<Decimal>().unwrap());
        assert!(!a.trips[1].long);
        assert_eq!(a.trips[1].open_ms, 3);
        assert_eq!(a.trips[1].net(), "9.9".parse::<Decimal>().unwrap());
        assert!(a.open.is_empty());
        assert_eq!(a.fees, "0.4".parse::<Decimal>().unwrap());
        // Equity: −0.1, −0.2, +19.7, +29.6: the deepest fall from a peak (0) is the second.
        assert_eq!(
            a.equity.last().unwrap().1,
            "29.6".parse::<Decimal>().unwrap()
        );
        assert_eq!(a.max_drawdown, "0.2".parse::<Decimal>().unwrap());
        assert_eq!(a.by_strategy["entry"].trips, 1);
        assert_eq!(a.by_strategy["exit"].trips, 1);
    }
}
