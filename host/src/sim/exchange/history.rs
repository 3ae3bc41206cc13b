//! What the simulator remembers of its own trading, for the info requests and channels built on
//! it: the trade tape (every fill, public), candles made from it, funding history, fee rates,
//! and each user's order history.

use super::*;
use std::collections::VecDeque;

/// Trades kept for `trades`, candles and `candleSnapshot`.
const TAPE: usize = 50_000;
/// The simulated market maker on the other side of every fill (its address is all zeros).
pub const BOOK_SIDE: &str = "0x0000000000000000000000000000000000000000";

/// One trade on the tape (a user's fill against the simulated book).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Trade {
    pub coin: String,
    /// The taker bought.
    pub buy: bool,
    pub px: Decimal,
    pub sz: Decimal,
    pub time: u64,
    pub tid: u64,
    pub user: Address,
}

impl Trade {
    /// As the `trades` channel sends it.
    pub fn wire(&self) -> Value {
        let user = self.user.to_string();
        let users = if self.buy {
            [user, BOOK_SIDE.to_string()]
        } else {
            [BOOK_SIDE.to_string(), user]
        };
        json!({"coin": self.coin, "side": if self.buy { "B" } else { "A" }, "px": wire(self.px),
            "sz": wire(self.sz), "time": self.time, "hash": format!("0x{:064x}", self.tid),
            "tid": self.tid, "users": users})
    }
}

/// The tape and the public pushes made since the server last took them.
#[derive(Debug, Default)]
pub struct Tape {
    pub trades: VecDeque<Trade>,
    /// Trades not yet pushed to `trades` and `candle` subscribers.
    pub fresh: Vec<Trade>,
}

impl Tape {
    pub fn push(&mut self, t: Trade) {
        self.fresh.push(t.clone());
        self.trades.push_back(t);
        if self.trades.len() > TAPE {
            self.trades.pop_front();
        }
    }

    /// A coin's traded notional and base size over the 24 hours to `now` (what the tape holds).
    pub fn day_volume(&self, coin: &str, now: u64) -> (Decimal, Decimal) {
        self.trades
            .iter()
            .filter(|t| t.coin == coin && t.time + 86_400_000 > now)
            .fold((Decimal::ZERO, Decimal::ZERO), |(n, b), t| {
                (n + t.px * t.sz, b + t.sz)
            })
    }
}

/// A candle interval's length in ms (`1m` … `1M`), as the venue names them.
pub fn interval_ms(i: &str) -> Option<u64> {
    const MIN: u64 = 60_000;
    Some(match i {
        "1m" => MIN,
        "3m" => 3 * MIN,
        "5m" => 5 * MIN,
        "15m" => 15 * MIN,
        "30m" => 30 * MIN,
        "1h" => 60 * MIN,
        "2h" => 120 * MIN,
        "4h" => 240 * MIN,
        "8h" => 480 * MIN,
        "12h" => 720 * MIN,
        "1d" => 1_440 * MIN,
        "3d" => 3 * 1_440 * MIN,
        "1w" => 7 * 1_440 * MIN,
        "1M" => 30 * 1_440 * MIN,
        _ => return None,
    })
}

impl Exchange {
    /// Candles of `coin` from its trades whose interval starts in [start, end] (only intervals
    /// with trades: the venue has no candle where nothing traded).
    pub fn candles(
        &self,
        coin: &str,
        interval: &str,
        start: u64,
        end: u64,
    ) -> Result<Vec<Value>, String> {
        let len = interval_ms(interval).ok_or_else(|| format!("unknown interval `{interval}`"))?;
        let mut out: Vec<(u64, Decimal, Decimal, Decimal, Decimal, Decimal, u64)> = Vec::new();
        for t in self.tape.trades.iter().filter(|t| t.coin == coin) {
            let open = t.time / len * len;
            if open + len <= start || open > end {
                continue;
            }
            match out.last_mut() {
                Some(c) if c.0 == open => {
                    c.2 = c.2.max(t.px);
                    c.3 = c.3.min(t.px);
                    c.4 = t.px;
                    c.5 += t.sz;
                    c.6 += 1;
                }
                _ => out.push((open, t.px, t.px, t.px, t.px, t.sz, 1)),
            }
        }
        Ok(out
            .into_iter()
            .map(|(t, o, h, l, c, v, n)| {
                json!({"t": t, "T": t + len - 1, "s": coin, "i": interval, "o": wire(o), "c": wire(c),
                    "h": wire(h), "l": wire(l), "v": wire(v), "n": n})
            })
            .collect())
    }

    /// The current candle of `coin` (None: nothing traded in this interval yet).
    pub fn current_candle(&self, coin: &str, interval: &str) -> Option<Value> {
        let len = interval_ms(interval)?;
        let open = self.now_ms / len * len;
        self.candles(coin, interval, open, self.now_ms).ok()?.pop()
    }

    /// `fundingHistory`: the simulated markets pay a constant rate, on every hour.
    pub fn funding_history(&self, coin: &str, start: u64, end: u64) -> Result<Value, String> {
        let i = self
            .market_index(coin)
            .filter(|i| !self.markets[*i].spot)
            .ok_or_else(|| format!("unknown coin {coin}"))?;
        let m = &self.markets[i];
        let rate = m.funding_rate();
        let hour = 3_600_000;
        let end = end.min(self.now_ms);
        let mut t = start.div_ceil(hour) * hour;
        let mut out = Vec::new();
        while t <= end && out.len() < 500 {
            out.push(json!({"coin": coin, "fundingRate": wire(rate), "premium": "0.0", "time": t}));
            t += hour;
        }
        Ok(Value::Array(out))
    }

    /// `userFees`: the simulator's flat rates, and the user's volume by day.
    pub fn user_fees(&self, user: &Address) -> Value {
        let mut by_day: std::collections::BTreeMap<String, (Decimal, Decimal)> = Default::default();
        if let Some(a) = self.accounts.get(user) {
            for f in &a.fills {
                let t = f["time"].as_u64().unwrap_or(0);
                let day = crate::timefmt::iso_ms(t)[..10].to_string();
                let px: Decimal = f["px"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_default();
                let sz: Decimal = f["sz"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_default();
                let e = by_day.entry(day).or_default();
                if f["crossed"].as_bool().unwrap_or(true) {
                    e.0 += px * sz;
                } else {
                    e.1 += px * sz;
                }
            }
        }
        let daily: Vec<Value> = by_day
            .into_iter()
            .map(|(date, (cross, add))| {
                json!({"date": date, "userCross": wire(cross.round_dp(2)), "userAdd": wire(add.round_dp(2)), "exchange": wire((cross + add).round_dp(2))})
            })
            .collect();
        let (cross, add) = (self.taker_fee_bps / BPS, self.maker_fee_bps / BPS);
        json!({"dailyUserVlm": daily,
            "feeSchedule": {"cross": wire(cross), "add": wire(add), "spotCross": wire(cross), "spotAdd": wire(add),
                "tiers": {"vip": [], "mm": []}, "referralDiscount": "0.0", "stakingDiscountTiers": []},
            "userCrossRate": wire(cross), "userAddRate": wire(add), "userSpotCrossRate": wire(cross),
            "userSpotAddRate": wire(add), "activeReferralDiscount": "0.0", "trial": null,
            "feeTrialReward": "0.0", "nextTrialAvailableTimestamp": null, "stakingLink": null,
            "activeStakingDiscount": {"bpsOfMaxSupply": "0.0", "discount": "0.0"}})
    }

    /// `historicalOrders`: the user's orders, newest first, each with its latest status (at most
    /// 2,000).
    pub fn historical_orders(&self, user: &Address) -> Value {
        let mut v: Vec<&Value> = self
            .order_log
            .values()
            .filter(|(u, _)| u == user)
            .map(|(_, e)| e)
            .collect();
        v.sort_by_key(|e| {
            std::cmp::Reverse((e["statusTimestamp"].as_u64(), e["order"]["oid"].as_u64()))
        });
        Value::Array(v.into_iter().take(2_000).cloned().collect())
    }
}

/// Book levels aggregated to `sig` significant figures of each price, times `mantissa` (1, or 2
/// or 5 with 5 figures): bids rounded down and asks up onto the step, sizes summed.
pub fn aggregate(
    levels: &[(Decimal, Decimal)],
    sig: u32,
    mantissa: u32,
    bids: bool,
) -> Vec<(Decimal, Decimal)> {
    let mut out: Vec<(Decimal, Decimal)> = Vec::new();
    for &(px, sz) in levels {
        let exp = crate::venue::hyperliquid::tick::magnitude_of(px) + 1 - sig as i64;
        let step = if exp >= 0 {
            Decimal::from(10u64.pow(exp as u32))
        } else {
            Decimal::new(1, (-exp) as u32)
        } * Decimal::from(mantissa);
        let b = if bids {
            (px / step).floor() * step
        } else {
            (px / step).ceil() * step
        };
        match out.last_mut() {
            Some(l) if l.0 == b => l.1 += sz,
            _ => out.push((b.normalize(), sz)),
        }
    }
    out
}
