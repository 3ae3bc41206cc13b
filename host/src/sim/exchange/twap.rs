//! TWAP orders (`twapOrder`, `twapCancel`): the order is cut into suborders every 30 s over its
//! minutes, each a market order (Ioc at most 3% through the mark) sized to catch up on what is
//! left; the info requests `twapHistory` and `userTwapSliceFills`, and the fills' `twapId`.

use super::*;

/// A suborder every this often.
const SLICE_MS: u64 = 30_000;

/// A running TWAP order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Twap {
    pub id: u64,
    pub coin: String,
    pub is_buy: bool,
    pub sz: Decimal,
    pub executed_sz: Decimal,
    pub executed_ntl: Decimal,
    pub minutes: u64,
    pub reduce_only: bool,
    pub randomize: bool,
    pub started_ms: u64,
    pub next_slice_ms: u64,
}

impl Twap {
    /// The `state` object of twapHistory and twapStates.
    pub fn state(&self, user: &Address) -> Value {
        json!({"coin": self.coin, "user": user.to_string(), "side": if self.is_buy { "B" } else { "A" },
            "sz": wire(self.sz), "executedSz": wire(self.executed_sz),
            "executedNtl": wire(self.executed_ntl.round_dp(6)), "minutes": self.minutes,
            "reduceOnly": self.reduce_only, "randomize": self.randomize, "timestamp": self.started_ms})
    }

    fn end_ms(&self) -> u64 {
        self.started_ms + self.minutes * 60_000
    }
}

impl Exchange {
    /// `twapOrder`: checks the order and starts it; its first suborder goes now.
    pub(super) fn twap_order(
        &mut self,
        user: Address,
        action: &Value,
        pushes: &mut Vec<Push>,
    ) -> Value {
        let t = &action["twap"];
        let fail = |e: String| json!({"status":"ok","response":{"type":"twapOrder","data":{"status":{"error": e}}}});
        let Some(asset) = t["a"].as_u64() else {
            return err("missing `twap.a`");
        };
        let Some((coin, i, spec)) = self.spec_of(asset as u32) else {
            return fail(format!("Unknown asset {asset}."));
        };
        let (Some(is_buy), Some(sz), Some(minutes)) = (
            t["b"].as_bool(),
            t["s"].as_str().and_then(|s| Decimal::from_str(s).ok()),
            t["m"].as_u64(),
        ) else {
            return err("malformed `twap`");
        };
        if !(5..=1_440).contains(&minutes) {
            return fail("TWAP duration must be between 5 and 1440 minutes.".into());
        }
        let lot = Decimal::new(1, spec.sz_decimals);
        if sz <= Decimal::ZERO || sz % lot != Decimal::ZERO {
            return fail("Order has invalid size.".into());
        }
        let slices = Decimal::from(minutes * 60_000 / SLICE_MS);
        let mark = self.markets[i].mid(self.now_ms);
        let reduce_only = t["r"].as_bool().unwrap_or(false);
        if !reduce_only && sz * mark / slices < Decimal::TEN {
            return fail(
                "TWAP suborders must have a minimum value of $10: fewer minutes or a larger size."
                    .into(),
            );
        }
        self.next_oid += 1;
        let now = self.now_ms;
        let twap = Twap {
            id: self.next_oid,
            coin,
            is_buy,
            sz,
            executed_sz: Decimal::ZERO,
            executed_ntl: Decimal::ZERO,
            minutes,
            reduce_only,
            randomize: t["t"].as_bool().unwrap_or(false),
            started_ms: now,
            next_slice_ms: now,
        };
        let id = twap.id;
        let entry = json!({"time": now / 1_000, "state": twap.state(&user), "status": {"status": "activated"}, "twapId": id});
        self.record_twap(user, entry, pushes);
        self.accounts
            .get_mut(&user)
            .expect("account")
            .twaps
            .push(twap);
        self.run_twaps(user, pushes);
        json!({"status":"ok","response":{"type":"twapOrder","data":{"status":{"running":{"twapId": id}}}}})
    }

    /// `twapCancel`: stops a running TWAP order (what it executed stays).
    pub(super) fn twap_cancel(
        &mut self,
        user: Address,
        action: &Value,
        pushes: &mut Vec<Push>,
    ) -> Value {
        let id = action["t"].as_u64();
        let now = self.now_ms;
        let acct = self.accounts.get_mut(&user).expect("account");
        let status = match acct.twaps.iter().position(|t| Some(t.id) == id) {
            Some(k) => {
                let t = acct.twaps.remove(k);
                let entry = json!({"time": now / 1_000, "state": t.state(&user),
                    "status": {"status": "terminated"}, "twapId": t.id});
                self.record_twap(user, entry, pushes);
                json!("success")
            }
            None => json!({"error": "TWAP was never placed, already canceled, or filled."}),
        };
        json!({"status":"ok","response":{"type":"twapCancel","data":{"status": status}}})
    }

    /// A TWAP's change of status: kept for `twapHistory`, pushed to `userTwapHistory`.
    fn record_twap(&mut self, user: Address, entry: Value, pushes: &mut Vec<Push>) {
        pushes.push(Push {
            user,
            frame: json!({"channel": "userTwapHistory", "data": {"user": user.to_string(), "history": [entry]}}).to_string(),
        });
        self.accounts
            .get_mut(&user)
            .expect("account")
            .twap_history
            .push(entry);
    }

    /// Sends the user's due suborders: each `(size − executed) / slices left`, rounded down to
    /// the lot (the last one takes what is left), but never more than 3 times the standard
    /// suborder (size / slices), as the venue's docs give it; with `randomize`, each one but the
    /// last varies its size by up to ±20% (the venue's docs say only "slightly"); sent as an Ioc
    /// 3% through the mark.
    pub(super) fn run_twaps(&mut self, user: Address, pushes: &mut Vec<Push>) {
        let now = self.now_ms;
        let twaps = std::mem::take(&mut self.accounts.get_mut(&user).expect("account").twaps);
        let mut keep = Vec::new();
        for mut t in twaps {
            // Its minutes hold minutes × 2 suborders, the first at once: none at the end.
            if t.next_slice_ms <= now
                && t.next_slice_ms < t.end_ms()
                && let Some(i) = self.market_index(&t.coin)
            {
                let left = t.sz - t.executed_sz;
                let slices_left = (t.end_ms().saturating_sub(now)).div_ceil(SLICE_MS).max(1);
                let lot = Decimal::new(1, self.markets[i].spec.sz_decimals);
                let sz = if slices_left == 1 {
                    left
                } else {
                    ((left / Decimal::from(slices_left)) / lot)
                        .floor()
                        .max(Decimal::ONE)
                        * lot
                };
                let standard = t.sz / Decimal::from((t.minutes * 60_000).div_ceil(SLICE_MS).max(1));
                let sz = if t.randomize && slices_left > 1 {
                    // The same suborder varies the same way each run: from the TWAP's id and time.
                    let mut r = Rng::new(t.id ^ now.rotate_left(17));
                    (sz * (Decimal::ONE + r.unit() / Decimal::from(5)) / lot).floor() * lot
                } else {
                    sz
                };
                let cap = ((standard * Decimal::from(3)) / lot)
                    .floor()
                    .max(Decimal::ONE)
                    * lot;
                let sz = sz.min(left).min(cap).max(lot.min(left));
                let mark = self.markets[i].mid(now);
                let through = if t.is_buy {
                    mark * Decimal::new(103, 2)
                } else {
                    mark * Decimal::new(97, 2)
                };
                let side = if t.is_buy {
                    crate::engine::types::Side::Buy
                } else {
                    crate::engine::types::Side::Sell
                };
                let spec = self.markets[i].asset_spec();
                let px = crate::venue::hyperliquid::tick::round_price(through, side, &spec)
                    .unwrap_or(through);
                let asset = self.assets[&t.coin].0;
                let o = json!({"a": asset, "b": t.is_buy, "p": wire(px), "s": wire(sz),
                    "r": t.reduce_only, "t": {"limit": {"tif": "Ioc"}}});
                let before = pushes.len();
                self.twap_filling = Some(t.id);
                let _ = self.order(user, &o, pushes);
                self.twap_filling = None;
                // What the suborder filled, from its fills.
                let fills: Vec<Value> = pushes[before..]
                    .iter()
                    .filter(|p| p.frame.starts_with("{\"channel\":\"userFills\""))
                    .filter_map(|p| serde_json::from_str::<Value>(&p.frame).ok())
                    .flat_map(|v| v["data"]["fills"].as_array().cloned().unwrap_or_default())
                    .collect();
                let mut slice_fills = Vec::new();
                let acct = self.accounts.get_mut(&user).expect("account");
                for f in fills {
                    let (px, sz) = (
                        f["px"]
                            .as_str()
                            .and_then(|s| Decimal::from_str(s).ok())
                            .unwrap_or_default(),
                        f["sz"]
                            .as_str()
                            .and_then(|s| Decimal::from_str(s).ok())
                            .unwrap_or_default(),
                    );
                    t.executed_sz += sz;
                    t.executed_ntl += px * sz;
                    let entry = json!({"fill": f, "twapId": t.id});
                    acct.twap_slice_fills.push(entry.clone());
                    slice_fills.push(entry);
                }
                if !slice_fills.is_empty() {
                    pushes.push(Push {
                        user,
                        frame: json!({"channel": "userTwapSliceFills", "data": {"user": user.to_string(), "twapSliceFills": slice_fills}}).to_string(),
                    });
                }
                t.next_slice_ms += SLICE_MS;
            }
            let done = t.executed_sz >= t.sz || now >= t.end_ms();
            if done {
                let entry = json!({"time": now / 1_000, "state": t.state(&user), "status": {"status": "finished"}, "twapId": t.id});
                self.record_twap(user, entry, pushes);
            } else {
                keep.push(t);
            }
        }
        let acct = self.accounts.get_mut(&user).expect("account");
        keep.append(&mut acct.twaps);
        acct.twaps = keep;
    }
}
