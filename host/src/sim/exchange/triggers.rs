//! Trigger orders (take profit and stop loss, market or limit): held until the mark price
//! crosses their trigger, then placed as the order they carry (a market one as an Ioc at its
//! limit price, a limit one as a Gtc). `positionTpsl` ones are sized to the whole position when
//! they fire.

use super::*;
use crate::sim::matching;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TriggerOrder {
    pub oid: u64,
    pub cloid: Option<String>,
    pub coin: String,
    pub is_buy: bool,
    pub limit_px: Decimal,
    pub trigger_px: Decimal,
    pub sz: Decimal,
    pub reduce_only: bool,
    pub is_market: bool,
    /// `tp` or `sl`.
    pub tpsl: String,
    pub position_tpsl: bool,
    pub timestamp: u64,
}

impl TriggerOrder {
    /// Whether the mark `mark` fires it: a stop when the price moves against the position it
    /// closes, a take profit when it moves for it.
    pub fn fires(&self, mark: Decimal) -> bool {
        match (self.tpsl.as_str(), self.is_buy) {
            ("sl", true) | ("tp", false) => mark >= self.trigger_px,
            _ => mark <= self.trigger_px,
        }
    }

    fn order_type(&self) -> &'static str {
        match (self.tpsl.as_str(), self.is_market) {
            ("sl", true) => "Stop Market",
            ("sl", false) => "Stop Limit",
            ("tp", true) => "Take Profit Market",
            _ => "Take Profit Limit",
        }
    }

    /// Its `frontendOpenOrders` entry.
    pub fn frontend(&self) -> Value {
        let above = matches!(
            (self.tpsl.as_str(), self.is_buy),
            ("sl", true) | ("tp", false)
        );
        let mut o = json!({"coin": self.coin, "side": if self.is_buy { "B" } else { "A" },
            "limitPx": wire(self.limit_px), "sz": wire(self.sz), "oid": self.oid, "timestamp": self.timestamp,
            "origSz": wire(self.sz), "orderType": self.order_type(), "tif": null, "reduceOnly": self.reduce_only,
            "isTrigger": true, "triggerPx": wire(self.trigger_px),
            "triggerCondition": format!("Price {} {}", if above { "above" } else { "below" }, wire(self.trigger_px)),
            "isPositionTpsl": self.position_tpsl, "children": []});
        if let Some(c) = &self.cloid {
            o["cloid"] = json!(c);
        }
        o
    }
}

impl Exchange {
    /// A trigger order of an `order` action (`t.trigger`): checked and held.
    pub(super) fn trigger_order(
        &mut self,
        user: Address,
        o: &Value,
        grouping: &str,
        pushes: &mut Vec<Push>,
    ) -> Result<Value, String> {
        let asset = o["a"].as_u64().ok_or("missing asset")? as u32;
        let (coin, _, spec) = self
            .spec_of(asset)
            .ok_or_else(|| format!("Unknown asset {asset}."))?;
        let t = &o["t"]["trigger"];
        let dec = |v: &Value, what: &str| {
            v.as_str()
                .and_then(|s| Decimal::from_str(s).ok())
                .ok_or(format!("Order has invalid {what}."))
        };
        let limit_px = dec(&o["p"], "price")?;
        let trigger_px = dec(&t["triggerPx"], "trigger price")?;
        let sz = dec(&o["s"], "size")?;
        let tpsl = t["tpsl"]
            .as_str()
            .filter(|k| *k == "tp" || *k == "sl")
            .ok_or("tpsl must be tp or sl")?;
        let reduce_only = o["r"].as_bool().unwrap_or(false);
        // The price rules apply to both prices; the minimum value is not checked until it fires.
        // A `positionTpsl` order may say size 0, as the venue's front end sends it: it is sized
        // to the whole position when it fires.
        let lot = if grouping == "positionTpsl" && sz.is_zero() {
            Decimal::new(1, spec.sz_decimals)
        } else {
            sz
        };
        matching::check_order(&spec, limit_px, lot, true, lot)?;
        matching::check_order(&spec, trigger_px, lot, true, lot)?;
        self.next_oid += 1;
        let order = TriggerOrder {
            oid: self.next_oid,
            cloid: o.get("c").and_then(Value::as_str).map(str::to_string),
            coin,
            is_buy: o["b"].as_bool().ok_or("missing side")?,
            limit_px,
            trigger_px,
            sz,
            reduce_only,
            is_market: t["isMarket"].as_bool().unwrap_or(true),
            tpsl: tpsl.to_string(),
            position_tpsl: grouping == "positionTpsl",
            timestamp: self.now_ms,
        };
        let now = self.now_ms;
        let oid = order.oid;
        pushes.push(Push { user, frame: json!({"channel":"orderUpdates","data":[{"order": order.frontend(), "status":"open","statusTimestamp":now}]}).to_string() });
        self.accounts
            .get_mut(&user)
            .expect("account")
            .triggers
            .push(order);
        Ok(json!({"resting": {"oid": oid}}))
    }

    /// Fires the user's trigger orders the mark has crossed.
    pub(super) fn fire_triggers(&mut self, user: Address, pushes: &mut Vec<Push>) {
        let now = self.now_ms;
        let held = std::mem::take(&mut self.accounts.get_mut(&user).expect("account").triggers);
        let mut keep = Vec::new();
        for t in held {
            let Some(i) = self.market_index(&t.coin) else {
                continue;
            };
            if !t.fires(self.markets[i].mid(now)) {
                keep.push(t);
                continue;
            }
            let position = self.accounts[&user].position(&t.coin);
            let sz = if t.position_tpsl {
                position.abs()
            } else {
                t.sz
            };
            pushes.push(Push { user, frame: json!({"channel":"orderUpdates","data":[{"order": t.frontend(), "status":"triggered","statusTimestamp":now}]}).to_string() });
            if sz.is_zero() {
                continue;
            }
            let asset = self.assets[&t.coin].0;
            let tif = if t.is_market { "Ioc" } else { "Gtc" };
            let mut o = json!({"a": asset, "b": t.is_buy, "p": wire(t.limit_px), "s": wire(sz),
                "r": t.reduce_only || t.position_tpsl, "t": {"limit": {"tif": tif}}});
            if let Some(c) = &t.cloid {
                o["c"] = json!(c);
            }
            let _ = self.order(user, &o, pushes);
        }
        let acct = self.accounts.get_mut(&user).expect("account");
        keep.append(&mut acct.triggers);
        acct.triggers = keep;
    }
}
