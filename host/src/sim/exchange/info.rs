//! `/info` answers, and the frames the server pushes for markets and fills.

use super::*;

impl Exchange {
    /// Handles an `/info` request (the `data` of the answer).
    pub fn info(&self, req: &Value) -> Result<Value, String> {
        let now = self.now_ms;
        let dex = req.get("dex").and_then(Value::as_str).unwrap_or("");
        let user = || {
            req["user"]
                .as_str()
                .and_then(Address::parse)
                .ok_or("missing or bad `user`".to_string())
        };
        let on_dex = |coin: &str| crate::venue::hyperliquid::info::dex_of(coin) == dex;
        Ok(match req["type"].as_str().ok_or("missing `type`")? {
            "perpDexs" => {
                let mut v = vec![Value::Null];
                v.extend(self.dexes.iter().map(|d| json!({"name": d, "fullName": format!("{d} (simulated)"), "deployer": "0x0000000000000000000000000000000000000000", "oracleUpdater": null, "feeRecipient": null})));
                Value::Array(v)
            }
            "meta" => self.meta(dex),
            "spotMeta" => {
                json!({"universe": [], "tokens": [{"name":"USDC","szDecimals":8,"weiDecimals":8,"index":0,"tokenId":"0x00000000000000000000000000000000","isCanonical":true,"evmContract":null,"fullName":null}]})
            }
            "metaAndAssetCtxs" => json!([
                self.meta(dex),
                self.sorted(dex)
                    .iter()
                    .map(|m| self.ctx(m, now))
                    .collect::<Vec<_>>()
            ]),
            "allMids" => {
                let mut mids = serde_json::Map::new();
                for m in self.markets.iter().filter(|m| on_dex(&m.spec.coin)) {
                    mids.insert(m.spec.coin.clone(), json!(wire(m.mid(now))));
                }
                Value::Object(mids)
            }
            "l2Book" => {
                let coin = req["coin"].as_str().ok_or("missing `coin`")?;
                let i = self
                    .market_index(coin)
                    .ok_or_else(|| format!("unknown coin {coin}"))?;
                self.book_json(i, now)
            }
            "clearinghouseState" => {
                let u = user()?;
                let acct = self.accounts.get(&u);
                let marks = |c: &str| self.market_index(c).map(|j| self.markets[j].mid(now));
                let positions: Vec<Value> = acct.map(|a| {
                    a.positions.iter().filter(|(c, p)| !p.szi.is_zero() && on_dex(c)).map(|(c, p)| {
                        let mark = marks(c).unwrap_or_default();
                        json!({"type":"oneWay","position":{"coin": c, "szi": wire(p.szi), "entryPx": wire(p.entry_px),
                            "positionValue": wire((p.szi.abs() * mark).round_dp(6)), "unrealizedPnl": wire((p.szi * (mark - p.entry_px)).round_dp(6)),
                            "leverage": {"type":"cross","value": 20}, "liquidationPx": null, "marginUsed": "0", "maxLeverage": 20, "returnOnEquity": "0",
                            "cumFunding": {"allTime":"0","sinceChange":"0","sinceOpen":"0"}}})
                    }).collect()
                }).unwrap_or_default();
                let value = acct.map_or(Decimal::ZERO, |a| a.usdc + a.unrealized(&marks));
                json!({"assetPositions": positions, "marginSummary": {"accountValue": wire(value.round_dp(6)), "totalNtlPos":"0","totalRawUsd": wire(value.round_dp(6)),"totalMarginUsed":"0"},
                    "crossMarginSummary": {"accountValue": wire(value.round_dp(6)), "totalNtlPos":"0","totalRawUsd": wire(value.round_dp(6)),"totalMarginUsed":"0"},
                    "crossMaintenanceMarginUsed": "0", "withdrawable": wire(value.round_dp(6)), "time": now})
            }
            "openOrders" | "frontendOpenOrders" => {
                let u = user()?;
                let orders: Vec<Value> = self
                    .accounts
                    .get(&u)
                    .map(|a| {
                        a.orders
                            .iter()
                            .filter(|o| on_dex(&o.coin))
                            .map(RestingOrder::wire)
                            .collect()
                    })
                    .unwrap_or_default();
                Value::Array(orders)
            }
            "userFills" => {
                let u = user()?;
                Value::Array(
                    self.accounts
                        .get(&u)
                        .map(|a| a.fills.iter().rev().cloned().collect())
                        .unwrap_or_default(),
                )
            }
            "userFillsByTime" => {
                let u = user()?;
                let start = req["startTime"]
                    .as_u64()
                    .ok_or("missing or bad `startTime`")?;
                let end = req["endTime"].as_u64().unwrap_or(u64::MAX);
                let in_range =
                    |f: &&Value| f["time"].as_u64().is_some_and(|t| t >= start && t <= end);
                Value::Array(
                    self.accounts
                        .get(&u)
                        .map(|a| {
                            a.fills
                                .iter()
                                .filter(in_range)
                                .take(2_000)
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default(),
                )
            }
            "orderStatus" => {
                let u = user()?;
                self.order_status(&u, &req["oid"])
            }
            "userRateLimit" => {
                let u = user()?;
                let a = self.accounts.get(&u).cloned().unwrap_or_default();
                json!({"cumVlm": wire(a.volume), "nRequestsUsed": a.requests_used, "nRequestsCap": a.request_cap()})
            }
            other => return Err(format!("info type `{other}` is not simulated")),
        })
    }

    fn sorted(&self, dex: &str) -> Vec<&SimMarket> {
        let mut v: Vec<(u32, &SimMarket)> = self
            .markets
            .iter()
            .filter(|m| crate::venue::hyperliquid::info::dex_of(&m.spec.coin) == dex)
            .map(|m| (self.assets[&m.spec.coin].0, m))
            .collect();
        v.sort_by_key(|(a, _)| *a);
        v.into_iter().map(|(_, m)| m).collect()
    }

    fn meta(&self, dex: &str) -> Value {
        let universe: Vec<Value> = self
            .sorted(dex)
            .iter()
            .map(|m| json!({"name": m.spec.coin, "szDecimals": m.spec.sz_decimals, "maxLeverage": m.spec.max_leverage, "onlyIsolated": !dex.is_empty()}))
            .collect();
        json!({"universe": universe, "marginTables": [], "collateralToken": 0})
    }

    /// An asset context (strings, as the venue sends them).
    pub fn ctx(&self, m: &SimMarket, now: u64) -> Value {
        let mid = m.mid(now);
        json!({"funding":"0.0000125","openInterest":"1000.0","prevDayPx": wire(m.spec.price),"dayNtlVlm":"0.0",
            "premium": wire(((mid - m.oracle) / m.oracle).round_dp(10)), "oraclePx": wire(m.oracle), "markPx": wire(mid),
            "midPx": wire(mid), "impactPxs": [wire(m.bbo(now).0), wire(m.bbo(now).1)], "dayBaseVlm":"0.0"})
    }

    pub fn book_json(&self, i: usize, now: u64) -> Value {
        let (bids, asks) = self.markets[i].levels(now);
        let side = |v: Vec<(Decimal, Decimal)>| {
            v.into_iter()
                .map(|(p, s)| json!({"px": wire(p), "sz": wire(s), "n": 1}))
                .collect::<Vec<_>>()
        };
        json!({"coin": self.markets[i].spec.coin, "time": now, "levels": [side(bids), side(asks)]})
    }

    /// The market-data frames of market `i` now: bbo and activeAssetCtx.
    pub fn market_frames(&self, i: usize) -> (String, String) {
        let m = &self.markets[i];
        let (b, a) = m.bbo(self.now_ms);
        let size = m.spec.level_size;
        let bbo = json!({"channel":"bbo","data":{"coin": m.spec.coin, "time": self.now_ms,
            "bbo":[{"px": wire(b), "sz": wire(size), "n": 1}, {"px": wire(a), "sz": wire(size), "n": 1}]}});
        let ctx = json!({"channel":"activeAssetCtx","data":{"coin": m.spec.coin, "ctx": self.ctx(m, self.now_ms)}});
        (bbo.to_string(), ctx.to_string())
    }

    /// The userFills snapshot sent when a user subscribes.
    pub fn fills_snapshot(&self, user: &Address) -> String {
        let fills = self
            .accounts
            .get(user)
            .map(|a| a.fills.clone())
            .unwrap_or_default();
        json!({"channel":"userFills","data":{"isSnapshot": true, "user": user.to_string(), "fills": fills}}).to_string()
    }
}
