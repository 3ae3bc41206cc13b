//! `/info` answers, and the frames the server pushes for markets and fills.

use super::*;

/// The entries of `list` whose `time` is in the request's [`startTime`, `endTime`] (no end:
/// to now), oldest first, at most `cap`.
pub(super) fn in_window(list: &[Value], req: &Value, cap: usize) -> Result<Value, String> {
    in_window_by(list, req, cap, |f| f["time"].as_u64())
}

/// `in_window`, with each entry's time read by `time`.
pub(super) fn in_window_by(
    list: &[Value],
    req: &Value,
    cap: usize,
    time: impl Fn(&Value) -> Option<u64>,
) -> Result<Value, String> {
    let start = req["startTime"]
        .as_u64()
        .ok_or("missing or bad `startTime`")?;
    let end = req["endTime"].as_u64().unwrap_or(u64::MAX);
    Ok(Value::Array(
        list.iter()
            .filter(|f| time(f).is_some_and(|t| t >= start && t <= end))
            .take(cap)
            .cloned()
            .collect(),
    ))
}

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
        if let Some(answer) = self.lookup(req) {
            return answer;
        }
        Ok(match req["type"].as_str().ok_or("missing `type`")? {
            "perpDexs" => {
                let mut v = vec![Value::Null];
                v.extend(self.dexes.iter().map(|d| {
                    let mut e = match self.dex_meta.get(d) {
                        Some(m) => json!({"name": d, "fullName": m.full_name, "deployer": m.deployer.to_string(),
                            "oracleUpdater": m.oracle_updater.to_string(), "feeRecipient": m.fee_recipient.map(|f| f.to_string())}),
                        None => json!({"name": d, "fullName": format!("{d} (simulated)"), "deployer": "0x0000000000000000000000000000000000000000", "oracleUpdater": null, "feeRecipient": null}),
                    };
                    let (caps, multipliers) = self.dex_market_lists(d);
                    e["assetToStreamingOiCap"] = caps;
                    e["assetToFundingMultiplier"] = multipliers;
                    e
                }));
                Value::Array(v)
            }
            "meta" => self.meta(dex),
            "spotMeta" => self.spot_meta(),
            "spotMetaAndAssetCtxs" => self.spot_meta_and_ctxs(),
            "spotClearinghouseState" => self.spot_state(&user()?),
            "subAccounts" => self.sub_accounts(&user()?),
            "vaultDetails" => {
                let vault = req["vaultAddress"]
                    .as_str()
                    .and_then(Address::parse)
                    .ok_or("missing or bad `vaultAddress`")?;
                self.vault_details(&vault, req["user"].as_str().and_then(Address::parse))?
            }
            "userVaultEquities" => self.user_vault_equities(&user()?),
            "leadingVaults" => self.leading_vaults(&user()?),
            "userNonFundingLedgerUpdates" => {
                let u = user()?;
                let list = self.accounts.get(&u).map(|a| &a.ledger[..]).unwrap_or(&[]);
                in_window(list, req, 2_000)?
            }
            "userRole" => self.user_role(&user()?),
            "referral" => self.referral(&user()?),
            "webData3" => self.web_data3(&user()?),
            "perpDexStatus" => self.perp_dex_status(dex),
            "vaultSummaries" => self.vault_summaries(),
            "validatorSummaries" => self.validator_summaries(),
            k @ ("delegatorSummary" | "delegations" | "delegatorHistory" | "delegatorRewards") => {
                self.staking_info(k, &user()?).unwrap_or_default()
            }
            // Unset is the venue's `default`; `userDexAbstraction` is null until set.
            "userToMultiSigSigners" => self.multi_sig_signers(&user()?),
            "perpDeployAuctionStatus" => self.perp_deploy_auction_status(),
            "userAbstraction" => {
                let a = self.accounts.get(&user()?);
                json!(
                    a.and_then(|a| a.abstraction.as_deref())
                        .unwrap_or("default")
                )
            }
            "userDexAbstraction" => {
                let a = self.accounts.get(&user()?);
                match a.and_then(|a| a.abstraction.as_deref()) {
                    None => Value::Null,
                    Some(m) => json!(m == "dexAbstraction"),
                }
            }
            "activeAssetData" => {
                let coin = req["coin"].as_str().ok_or("missing `coin`")?;
                self.active_asset_data(&user()?, coin)?
            }
            "predictedFundings" => self.predicted_fundings(),
            "recentTrades" => {
                let coin = req["coin"].as_str().ok_or("missing `coin`")?;
                if self.market_index(coin).is_none() {
                    return Err(format!("unknown coin {coin}"));
                }
                let mut t: Vec<Value> = self
                    .tape
                    .trades
                    .iter()
                    .rev()
                    .filter(|t| t.coin == coin)
                    .take(10)
                    .map(|t| t.wire())
                    .collect();
                t.reverse();
                Value::Array(t)
            }
            "extraAgents" => self.extra_agents(&user()?),
            "portfolio" => self.portfolio(&user()?),
            "maxBuilderFee" => {
                let u = user()?;
                let b = req["builder"]
                    .as_str()
                    .and_then(Address::parse)
                    .ok_or("missing or bad `builder`")?;
                json!(
                    self.accounts
                        .get(&u)
                        .and_then(|a| a.builder_fees.get(&b))
                        .copied()
                        .unwrap_or(0)
                )
            }
            "twapHistory" => {
                let u = user()?;
                Value::Array(
                    self.accounts
                        .get(&u)
                        .map(|a| a.twap_history.clone())
                        .unwrap_or_default(),
                )
            }
            "userTwapSliceFills" => {
                let u = user()?;
                Value::Array(
                    self.accounts
                        .get(&u)
                        .map(|a| {
                            a.twap_slice_fills
                                .iter()
                                .rev()
                                .take(2_000)
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default(),
                )
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
                // Spot pairs are listed with the main dex's mids, as the venue lists them.
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
                let mantissa = match req.get("mantissa").and_then(Value::as_u64) {
                    None | Some(1) => 1,
                    Some(m @ (2 | 5)) if req["nSigFigs"] == 5 => m as u32,
                    Some(m) => {
                        return Err(format!(
                            "mantissa must be 1, 2 or 5, and only with nSigFigs 5, got {m}"
                        ));
                    }
                };
                match req.get("nSigFigs").and_then(Value::as_u64) {
                    None => self.book_json(i, now),
                    Some(n @ 2..=5) => {
                        let (bids, asks) = self.markets[i].levels(now);
                        let side = |v: Vec<(Decimal, Decimal)>| {
                            v.into_iter()
                                .map(|(p, s)| json!({"px": wire(p), "sz": wire(s), "n": 1}))
                                .collect::<Vec<_>>()
                        };
                        json!({"coin": coin, "time": now, "levels": [
                            side(history::aggregate(&bids, n as u32, mantissa, true)),
                            side(history::aggregate(&asks, n as u32, mantissa, false))]})
                    }
                    Some(n) => return Err(format!("nSigFigs must be 2 to 5 or null, got {n}")),
                }
            }
            "fundingHistory" => {
                let coin = req["coin"].as_str().ok_or("missing `coin`")?;
                let start = req["startTime"]
                    .as_u64()
                    .ok_or("missing or bad `startTime`")?;
                self.funding_history(coin, start, req["endTime"].as_u64().unwrap_or(u64::MAX))?
            }
            "candleSnapshot" => {
                let r = &req["req"];
                let coin = r["coin"].as_str().ok_or("missing `req.coin`")?;
                if self.market_index(coin).is_none() {
                    return Err(format!("unknown coin {coin}"));
                }
                let interval = r["interval"].as_str().ok_or("missing `req.interval`")?;
                let start = r["startTime"].as_u64().ok_or("missing `req.startTime`")?;
                let end = r["endTime"].as_u64().unwrap_or(now);
                Value::Array(self.candles(coin, interval, start, end)?)
            }
            "userFees" => self.user_fees(&user()?),
            "userFunding" => {
                let u = user()?;
                let list = self.accounts.get(&u).map(|a| &a.funding[..]).unwrap_or(&[]);
                in_window(list, req, 500)?
            }
            "historicalOrders" => self.historical_orders(&user()?),
            "clearinghouseState" => self.clearinghouse_state(&user()?, dex),
            "openOrders" | "frontendOpenOrders" => {
                let u = user()?;
                let front = req["type"] == "frontendOpenOrders";
                let orders: Vec<Value> = self
                    .accounts
                    .get(&u)
                    .map(|a| {
                        a.orders
                            .iter()
                            .filter(|o| on_dex(&o.coin))
                            .map(|o| if front { o.frontend() } else { o.wire() })
                            .chain(a.triggers.iter().filter(|t| on_dex(&t.coin)).map(|t| {
                                let f = t.frontend();
                                if front {
                                    f
                                } else {
                                    json!({"coin": f["coin"], "side": f["side"], "limitPx": f["limitPx"], "sz": f["sz"],
                                        "oid": f["oid"], "timestamp": f["timestamp"], "origSz": f["origSz"]})
                                }
                            }))
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
            other => match self.exchange_info(other, req) {
                Some(answer) => answer?,
                None => return Err(format!("info type `{other}` is not simulated")),
            },
        })
    }

    /// (cross, leverage) of `coin` for an account: what `updateLeverage` set, else cross at the
    /// market's maximum (HIP-3 markets are isolated only).
    pub fn leverage_of(&self, a: &Account, coin: &str) -> (bool, u32) {
        let max = self
            .market_index(coin)
            .map_or(20, |j| self.markets[j].spec.max_leverage);
        a.leverage
            .get(coin)
            .copied()
            .unwrap_or((!coin.contains(':'), max))
    }

    /// `clearinghouseState` of one dex. A HIP-3 dex's account is its positions' isolated margin
    /// plus their unrealized PnL; the main dex's is the USDC balance less that margin plus its
    /// own positions' unrealized PnL (summed over the dexes: deposits + closed PnL − fees +
    /// unrealized).
    pub(super) fn clearinghouse_state(&self, u: &Address, dex: &str) -> Value {
        let now = self.now_ms;
        let on_dex = |coin: &str| crate::venue::hyperliquid::info::dex_of(coin) == dex;
        let marks = |c: &str| self.market_index(c).map(|j| self.markets[j].mid(now));
        let Some(a) = self.accounts.get(u) else {
            return json!({"assetPositions": [], "marginSummary": {"accountValue":"0.0","totalNtlPos":"0.0","totalRawUsd":"0.0","totalMarginUsed":"0.0"},
                "crossMarginSummary": {"accountValue":"0.0","totalNtlPos":"0.0","totalRawUsd":"0.0","totalMarginUsed":"0.0"},
                "crossMaintenanceMarginUsed": "0.0", "withdrawable": "0.0", "time": now});
        };
        let (mut value, mut ntl, mut used) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        let mut positions = Vec::new();
        let cross_free = self.cross_free(a);
        // What each HIP-3 dex holds of the balance: its collateral (`sendAsset`), or, when its
        // positions' isolated margin is more, that margin (drawn from the main dex's balance).
        let mut dex_margin: HashMap<String, Decimal> = HashMap::new();
        for (c, p) in a.positions.iter().filter(|(_, p)| !p.szi.is_zero()) {
            let mark = marks(c).unwrap_or_default();
            let (cross, lev) = self.leverage_of(a, c);
            let upnl = (p.szi * (mark - p.entry_px)).round_dp(6);
            let margin = if cross {
                (p.szi.abs() * mark / Decimal::from(lev)).round_dp(6)
            } else {
                p.isolated_margin(lev)
            };
            if c.contains(':') {
                *dex_margin
                    .entry(crate::venue::hyperliquid::info::dex_of(c).to_string())
                    .or_default() += margin;
            }
            if !on_dex(c) {
                continue;
            }
            let max = self
                .market_index(c)
                .map_or(20, |j| self.markets[j].spec.max_leverage);
            let notional = (p.szi.abs() * mark).round_dp(6);
            // The venue's liquidation price: mark − side × margin available / size / (1 − l ×
            // side), l = 1 / maintenance leverage; margin available is an isolated position's
            // margin plus unrealized PnL less its maintenance, or, cross, the cross equity less
            // the cross positions' maintenance.
            let l = Decimal::ONE / Decimal::from(2 * max);
            let side = if p.szi.is_sign_positive() {
                Decimal::ONE
            } else {
                Decimal::NEGATIVE_ONE
            };
            let available = if cross {
                cross_free
            } else {
                margin + upnl - notional * l
            };
            let liq = mark - side * available / p.szi.abs() / (Decimal::ONE - l * side);
            let liq = wire(liq.max(Decimal::ZERO).round_dp(6));
            ntl += notional;
            used += margin;
            value += upnl;
            positions.push(json!({"type":"oneWay","position":{"coin": c, "szi": wire(p.szi), "entryPx": wire(p.entry_px),
                "positionValue": wire(notional), "unrealizedPnl": wire(upnl),
                "leverage": if cross { json!({"type": "cross", "value": lev}) } else { json!({"type": "isolated", "value": lev, "rawUsd": wire(-p.szi * p.entry_px + margin)}) },
                "liquidationPx": liq, "marginUsed": wire(margin), "maxLeverage": max,
                "returnOnEquity": wire(if margin.is_zero() { Decimal::ZERO } else { (upnl / margin).round_dp(6) }),
                "cumFunding": {"allTime": wire(-p.funding_since_open), "sinceChange": wire(-p.funding_since_open), "sinceOpen": wire(-p.funding_since_open)}}}));
        }
        let held = |d: &str| {
            let collateral = a.dex_collateral.get(d).copied().unwrap_or_default();
            let margin = dex_margin.get(d).copied().unwrap_or_default();
            (
                collateral.max(margin),
                (collateral - margin).max(Decimal::ZERO),
            )
        };
        let withdrawable = if dex.is_empty() {
            let elsewhere: Decimal = self.dexes.iter().map(|d| held(d).0).sum();
            value += a.usdc - elsewhere;
            (value - used).max(Decimal::ZERO)
        } else {
            let (funds, idle) = held(dex);
            value += funds;
            idle
        };
        let summary = json!({"accountValue": wire(value.round_dp(6)), "totalNtlPos": wire(ntl), "totalRawUsd": wire(value.round_dp(6)), "totalMarginUsed": wire(used)});
        json!({"assetPositions": positions, "marginSummary": summary, "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": wire((used / Decimal::TWO).round_dp(6)),
            "withdrawable": wire(withdrawable.round_dp(6)), "time": now})
    }

    /// The collateral HIP-3 dexes hold beyond their positions' isolated margin.
    pub(super) fn idle_dex_collateral(&self, a: &Account) -> Decimal {
        a.dex_collateral
            .iter()
            .map(|(d, c)| {
                let margin: Decimal = a
                    .positions
                    .iter()
                    .filter(|(coin, p)| {
                        !p.szi.is_zero() && crate::venue::hyperliquid::info::dex_of(coin) == d
                    })
                    .map(|(coin, p)| p.isolated_margin(self.leverage_of(a, coin).1))
                    .sum();
                (*c - margin).max(Decimal::ZERO)
            })
            .sum()
    }

    /// Whether an order in HIP-3 market `coin` needing `margin` fits the collateral its dex
    /// holds, beyond the margin of the dex's positions and resting orders (always, for the main
    /// dex, and under dex abstraction, where the main dex's USDC makes up the rest).
    pub(super) fn dex_margin_ok(&self, a: &Account, coin: &str, margin: Decimal) -> bool {
        let dex = crate::venue::hyperliquid::info::dex_of(coin);
        if dex.is_empty() || a.dex_abstraction() {
            return true;
        }
        let on_dex = |c: &str| crate::venue::hyperliquid::info::dex_of(c) == dex;
        let positions: Decimal = a
            .positions
            .iter()
            .filter(|(c, p)| !p.szi.is_zero() && on_dex(c))
            .map(|(c, p)| p.isolated_margin(self.leverage_of(a, c).1))
            .sum();
        let orders: Decimal = a
            .orders
            .iter()
            .filter(|o| !o.reduce_only && on_dex(&o.coin))
            .map(|o| o.px * o.sz / Decimal::from(self.leverage_of(a, &o.coin).1))
            .sum();
        let collateral = a.dex_collateral.get(dex).copied().unwrap_or_default();
        positions + orders + margin <= collateral
    }

    /// Every perp dex's name, the main one (`""`) first.
    pub fn dex_names(&self) -> Vec<String> {
        std::iter::once(String::new())
            .chain(self.dexes.iter().cloned())
            .collect()
    }

    /// The cross margin available before liquidation: the balance less isolated margin, plus the
    /// cross positions' unrealized PnL, less their maintenance margin.
    fn cross_free(&self, a: &Account) -> Decimal {
        let now = self.now_ms;
        let mut free = a.usdc - self.idle_dex_collateral(a);
        for (c, p) in a.positions.iter().filter(|(_, p)| !p.szi.is_zero()) {
            let Some(j) = self.market_index(c) else {
                continue;
            };
            let m = &self.markets[j];
            let mark = m.mid(now);
            let (cross, lev) = self.leverage_of(a, c);
            if cross {
                free += p.szi * (mark - p.entry_px)
                    - p.szi.abs() * mark / Decimal::from(2 * m.spec.max_leverage);
            } else {
                free -= p.isolated_margin(lev);
            }
        }
        free
    }

    /// A perp dex's markets, by asset id.
    pub(super) fn sorted(&self, dex: &str) -> Vec<&SimMarket> {
        let mut v: Vec<(u32, &SimMarket)> = self
            .markets
            .iter()
            .filter(|m| !m.spot && crate::venue::hyperliquid::info::dex_of(&m.spec.coin) == dex)
            .map(|m| (self.assets[&m.spec.coin].0, m))
            .collect();
        v.sort_by_key(|(a, _)| *a);
        v.into_iter().map(|(_, m)| m).collect()
    }

    pub(super) fn meta(&self, dex: &str) -> Value {
        let universe: Vec<Value> = self
            .sorted(dex)
            .iter()
            .map(|m| {
                let mut a = json!({"name": m.spec.coin, "szDecimals": m.spec.sz_decimals, "maxLeverage": m.spec.max_leverage,
                    "marginTableId": m.spec.max_leverage, "onlyIsolated": !dex.is_empty()});
                // A HIP-3 market's mode, as the reference's recorded meta shows it.
                if !dex.is_empty() {
                    a["marginMode"] = json!(m.deployer.margin_mode);
                }
                a
            })
            .collect();
        json!({"universe": universe, "marginTables": self.margin_tables(dex), "collateralToken": 0})
    }

    /// An asset context (strings, as the venue sends them).
    pub fn ctx(&self, m: &SimMarket, now: u64) -> Value {
        let mid = m.mid(now);
        json!({"funding": wire(m.funding_rate()),"openInterest":"1000.0","prevDayPx": wire(m.spec.price),"dayNtlVlm":"0.0",
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

    /// The market-data frames of market `i` now: bbo and activeAssetCtx (activeSpotAssetCtx for
    /// a spot pair).
    pub fn market_frames(&self, i: usize) -> (String, String) {
        let m = &self.markets[i];
        let (b, a) = m.bbo(self.now_ms);
        let size = m.spec.level_size;
        let bbo = json!({"channel":"bbo","data":{"coin": m.spec.coin, "time": self.now_ms,
            "bbo":[{"px": wire(b), "sz": wire(size), "n": 1}, {"px": wire(a), "sz": wire(size), "n": 1}]}});
        // A spot pair's context comes on its own channel, as the venue sends it.
        let ctx = if m.spot {
            json!({"channel":"activeSpotAssetCtx","data":{"coin": m.spec.coin, "ctx": self.spot_ctx(m, self.now_ms)}})
        } else {
            json!({"channel":"activeAssetCtx","data":{"coin": m.spec.coin, "ctx": self.ctx(m, self.now_ms)}})
        };
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
