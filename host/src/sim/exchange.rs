//! The simulated exchange: markets, accounts and the rules of the venue, with no I/O. The server
//! (`server.rs`) feeds it requests and the clock and delivers what it returns.
//!
//! What it checks like the venue (reference §2): the signature (the recovered signer must be a
//! configured account or its approved agent; testnet phantom agent "b", as every SDK signs for a
//! non-mainnet URL), nonces, the address request budget, `expiresAfter`, tick and lot rules, the
//! minimum order value, reduce-only, margin, Alo/Ioc/Gtc semantics, scheduleCancel.

use super::account::{Account, RestingOrder};
use super::market::{MarketSpec, Rng, SimMarket};
use crate::venue::hyperliquid::actions::msgpack_into;
use crate::venue::hyperliquid::signing::{
    Address, Signature, action_hash, agent_digest, parse_hex,
};
use crate::venue::hyperliquid::tick::{AssetSpec, MIN_NOTIONAL, is_valid_price, wire};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::str::FromStr;

const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// A frame to push to the WebSocket subscribers of one user.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub user: Address,
    pub frame: String,
}

#[derive(Debug, Clone)]
pub struct AccountSpec {
    pub address: Address,
    pub usdc: Decimal,
    /// Agent (API wallet) addresses approved to sign for this account.
    pub agents: Vec<Address>,
}

pub struct Exchange {
    pub markets: Vec<SimMarket>,
    /// coin → (asset id, index in `markets`).
    assets: HashMap<String, (u32, usize)>,
    /// HIP-3 dex names, in `perpDexs` order (index 1, 2, …).
    dexes: Vec<String>,
    pub accounts: HashMap<Address, Account>,
    agents: HashMap<Address, Address>,
    rng: Rng,
    pub now_ms: u64,
    next_oid: u64,
    next_tid: u64,
    pub taker_fee_bps: Decimal,
    pub maker_fee_bps: Decimal,
    /// Fault injection: reject every Nth order (0 = never).
    pub reject_every: u32,
    orders_seen: u32,
    /// How many times each cloid was received (a client must never send an order twice).
    cloids_seen: HashMap<String, u32>,
}

fn err(msg: impl Into<String>) -> Value {
    json!({"status": "err", "response": msg.into()})
}

impl Exchange {
    pub fn new(
        seed: u64,
        markets: Vec<MarketSpec>,
        accounts: Vec<AccountSpec>,
        now_ms: u64,
    ) -> Exchange {
        let mut rng = Rng::new(seed);
        let mut dexes: Vec<String> = Vec::new();
        let mut per_dex: HashMap<String, u32> = HashMap::new();
        let mut assets = HashMap::new();
        let mut sims = Vec::new();
        for (i, spec) in markets.into_iter().enumerate() {
            let dex = crate::venue::hyperliquid::info::dex_of(&spec.coin).to_string();
            if !dex.is_empty() && !dexes.contains(&dex) {
                dexes.push(dex.clone());
            }
            let idx = per_dex.entry(dex.clone()).or_insert(0);
            let dex_index = dexes.iter().position(|d| *d == dex).map_or(0, |p| p + 1);
            let asset = if dex_index == 0 {
                *idx
            } else {
                100_000 + dex_index as u32 * 10_000 + *idx
            };
            *idx += 1;
            assets.insert(spec.coin.clone(), (asset, i));
            sims.push(SimMarket::new(spec, &mut rng));
        }
        let mut agents = HashMap::new();
        let mut accts = HashMap::new();
        for a in accounts {
            for ag in &a.agents {
                agents.insert(*ag, a.address);
            }
            accts.insert(a.address, Account::new(a.usdc));
        }
        Exchange {
            markets: sims,
            assets,
            dexes,
            accounts: accts,
            agents,
            rng,
            now_ms,
            next_oid: 1_000,
            next_tid: 1,
            taker_fee_bps: Decimal::new(45, 1),
            maker_fee_bps: Decimal::new(15, 1),
            reject_every: 0,
            orders_seen: 0,
            cloids_seen: HashMap::new(),
        }
    }

    /// Cloids received more than once (must stay empty: no order is ever sent twice).
    pub fn duplicate_cloids(&self) -> Vec<String> {
        self.cloids_seen
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(c, _)| c.clone())
            .collect()
    }

    /// Orders received in all.
    pub fn orders_received(&self) -> u32 {
        self.orders_seen
    }

    /// Registers an agent key for an account (the simulator's `approveAgent`).
    pub fn approve_agent(&mut self, account: Address, agent: Address) {
        self.agents.insert(agent, account);
        self.accounts
            .entry(account)
            .or_insert_with(|| Account::new(Decimal::from(100_000)));
    }

    pub fn market_index(&self, coin: &str) -> Option<usize> {
        self.assets.get(coin).map(|(_, i)| *i)
    }

    fn spec_of(&self, asset: u32) -> Option<(String, usize, AssetSpec)> {
        let (coin, (_, i)) = self.assets.iter().find(|(_, (a, _))| *a == asset)?;
        Some((
            coin.clone(),
            *i,
            AssetSpec {
                asset,
                sz_decimals: self.markets[*i].spec.sz_decimals,
                is_spot: false,
            },
        ))
    }

    /// Advances every market to `now_ms`, fills resting orders the book now crosses, fires due
    /// scheduled cancels. Returns the pushes that produced.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Push> {
        self.now_ms = self.now_ms.max(now_ms);
        let now_ms = self.now_ms;
        for m in &mut self.markets {
            m.step(now_ms, &mut self.rng);
        }
        let mut pushes = Vec::new();
        let users: Vec<Address> = self.accounts.keys().copied().collect();
        for user in users {
            self.match_resting(user, &mut pushes);
            let due = self.accounts[&user]
                .scheduled_cancel
                .is_some_and(|t| t <= now_ms);
            if due {
                let acct = self.accounts.get_mut(&user).expect("account");
                acct.scheduled_cancel = None;
                acct.schedule_triggers += 1;
                let cancelled: Vec<RestingOrder> = acct.orders.drain(..).collect();
                let updates: Vec<Value> = cancelled
                    .iter()
                    .map(|o| json!({"order": o.wire(), "status": "scheduledCancel", "statusTimestamp": now_ms}))
                    .collect();
                if !updates.is_empty() {
                    pushes.push(Push {
                        user,
                        frame: json!({"channel":"orderUpdates","data":updates}).to_string(),
                    });
                }
            }
        }
        pushes
    }

    fn match_resting(&mut self, user: Address, pushes: &mut Vec<Push>) {
        let now = self.now_ms;
        let orders = std::mem::take(&mut self.accounts.get_mut(&user).expect("account").orders);
        let mut keep = Vec::new();
        for mut o in orders {
            let Some(i) = self.market_index(&o.coin) else {
                continue;
            };
            let (bid, ask) = self.markets[i].bbo(now);
            let crosses = if o.is_buy { ask <= o.px } else { bid >= o.px };
            if !crosses || self.markets[i].stalled {
                keep.push(o);
                continue;
            }
            let mut sz = o.sz;
            if o.reduce_only {
                sz = sz.min(self.reducible(user, &o.coin, o.is_buy));
            }
            if sz > Decimal::ZERO {
                self.fill(
                    user,
                    &o.coin,
                    o.is_buy,
                    o.px,
                    sz,
                    o.oid,
                    o.cloid.clone(),
                    false,
                    pushes,
                );
                o.sz -= sz;
            }
            let status = if o.sz.is_zero() {
                "filled"
            } else if o.reduce_only {
                "reduceOnlyCanceled"
            } else {
                "open"
            };
            pushes.push(Push { user, frame: json!({"channel":"orderUpdates","data":[{"order": o.wire(), "status": status, "statusTimestamp": now}]}).to_string() });
            if status == "open" {
                keep.push(o);
            }
        }
        self.accounts.get_mut(&user).expect("account").orders = keep;
    }

    /// How much of `coin` an order on this side may reduce.
    fn reducible(&self, user: Address, coin: &str, is_buy: bool) -> Decimal {
        let pos = self.accounts[&user].position(coin);
        if (is_buy && pos < Decimal::ZERO) || (!is_buy && pos > Decimal::ZERO) {
            pos.abs()
        } else {
            Decimal::ZERO
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fill(
        &mut self,
        user: Address,
        coin: &str,
        is_buy: bool,
        px: Decimal,
        sz: Decimal,
        oid: u64,
        cloid: Option<String>,
        taker: bool,
        pushes: &mut Vec<Push>,
    ) {
        let fee_bps = if taker {
            self.taker_fee_bps
        } else {
            self.maker_fee_bps
        };
        let fee = (px * sz * fee_bps / BPS).round_dp(6);
        let acct = self.accounts.get_mut(&user).expect("account");
        let applied = acct.apply_fill(coin, is_buy, px, sz, fee);
        let tid = self.next_tid;
        self.next_tid += 1;
        let dir = match (
            is_buy,
            applied.start.is_sign_positive() && !applied.start.is_zero(),
            applied.start.is_sign_negative(),
        ) {
            (true, _, true) => "Close Short",
            (true, _, _) => "Open Long",
            (false, true, _) => "Close Long",
            (false, _, _) => "Open Short",
        };
        let mut f = json!({
            "coin": coin, "px": wire(px), "sz": wire(sz), "side": if is_buy { "B" } else { "A" },
            "time": self.now_ms, "startPosition": wire(applied.start), "dir": dir,
            "closedPnl": wire(applied.closed_pnl), "hash": format!("0x{:064x}", tid), "oid": oid,
            "crossed": taker, "fee": wire(fee), "tid": tid, "feeToken": "USDC", "twapId": null,
        });
        if let Some(c) = cloid {
            f["cloid"] = json!(c);
        }
        acct.fills.push(f.clone());
        if acct.fills.len() > 2_000 {
            acct.fills.remove(0);
        }
        pushes.push(Push {
            user,
            frame: json!({"channel":"userFills","data":{"user": user.to_string(), "fills":[f]}})
                .to_string(),
        });
    }

    /// Handles a signed `/exchange` request. Returns the response and the pushes.
    pub fn exchange(&mut self, req: &Value) -> (Value, Vec<Push>) {
        let mut pushes = Vec::new();
        let resp = self.exchange_inner(req, &mut pushes);
        (resp, pushes)
    }

    fn exchange_inner(&mut self, req: &Value, pushes: &mut Vec<Push>) -> Value {
        let action = &req["action"];
        let Some(nonce) = req["nonce"].as_u64() else {
            return err("missing nonce");
        };
        let vault = match req.get("vaultAddress").and_then(Value::as_str) {
            Some(v) => match Address::parse(v) {
                Some(a) => Some(a),
                None => return err("bad vaultAddress"),
            },
            None => None,
        };
        let expires = req.get("expiresAfter").and_then(Value::as_u64);
        let Some(sig) = parse_signature(&req["signature"]) else {
            return err("bad signature format");
        };
        let mut buf = Vec::new();
        if msgpack_into(action, &mut buf).is_err() {
            return err("unencodable action");
        }
        let digest = agent_digest(&action_hash(&buf, nonce, vault.as_ref(), expires), false);
        let Some(signer) = sig.recover(&digest) else {
            return err("L1 error: invalid signature");
        };
        let user = if self.accounts.contains_key(&signer) {
            signer
        } else if let Some(owner) = self.agents.get(&signer) {
            *owner
        } else {
            return err(format!(
                "L1 error: User or API Wallet {signer} does not exist."
            ));
        };
        if vault.is_some() {
            return err("vaults and sub-accounts are not simulated");
        }
        if expires.is_some_and(|t| t < self.now_ms) {
            return err("Action expired");
        }
        let now = self.now_ms;
        let acct = self.accounts.get_mut(&user).expect("account");
        if let Err(e) = acct.check_nonce(nonce, now) {
            return err(e);
        }
        let weight = match action["type"].as_str() {
            Some("order") => action["orders"].as_array().map_or(1, |a| a.len() as u64),
            Some("cancel") | Some("cancelByCloid") => {
                action["cancels"].as_array().map_or(1, |a| a.len() as u64)
            }
            _ => 1,
        };
        if acct.requests_used + weight > acct.request_cap() {
            return err("Too many cumulative requests sent relative to cumulative volume traded.");
        }
        acct.requests_used += weight;
        match action["type"].as_str() {
            Some("order") => self.orders(user, action, pushes),
            Some("cancel") => {
                self.cancels(user, action, pushes, |o, c| Some(o.oid) == c["o"].as_u64())
            }
            Some("cancelByCloid") => self.cancels(user, action, pushes, |o, c| {
                o.cloid.as_deref() == c["cloid"].as_str()
            }),
            Some("scheduleCancel") => {
                let t = action.get("time").and_then(Value::as_u64);
                if let Some(t) = t
                    && t < now + 5_000
                {
                    return err(
                        "Scheduled cancel time too early, must be at least 5 seconds from now.",
                    );
                }
                let acct = self.accounts.get_mut(&user).expect("account");
                if acct.schedule_triggers >= 10 && t.is_some() {
                    return err("Too many scheduled cancel triggers today.");
                }
                acct.scheduled_cancel = t;
                json!({"status":"ok","response":{"type":"default"}})
            }
            Some("noop") => json!({"status":"ok","response":{"type":"default"}}),
            other => err(format!("unknown action type {other:?}")),
        }
    }

    fn orders(&mut self, user: Address, action: &Value, pushes: &mut Vec<Push>) -> Value {
        let statuses: Vec<Value> = action["orders"]
            .as_array()
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|o| match self.order(user, o, pushes) {
                Ok(s) => s,
                Err(e) => json!({"error": e}),
            })
            .collect();
        json!({"status":"ok","response":{"type":"order","data":{"statuses":statuses}}})
    }

    fn order(&mut self, user: Address, o: &Value, pushes: &mut Vec<Push>) -> Result<Value, String> {
        let asset = o["a"].as_u64().ok_or("missing asset")? as u32;
        let (coin, i, spec) = self
            .spec_of(asset)
            .ok_or_else(|| format!("Unknown asset {asset}."))?;
        let is_buy = o["b"].as_bool().ok_or("missing side")?;
        let px = o["p"]
            .as_str()
            .and_then(|s| Decimal::from_str(s).ok())
            .ok_or("Order has invalid price.")?;
        let sz = o["s"]
            .as_str()
            .and_then(|s| Decimal::from_str(s).ok())
            .ok_or("Order has invalid size.")?;
        let reduce_only = o["r"].as_bool().unwrap_or(false);
        let tif = o["t"]["limit"]["tif"]
            .as_str()
            .ok_or("Only limit orders are simulated.")?
            .to_string();
        let cloid = o.get("c").and_then(Value::as_str).map(str::to_string);
        if let Some(c) = &cloid {
            *self.cloids_seen.entry(c.clone()).or_default() += 1;
        }
        self.orders_seen += 1;
        if self.reject_every > 0 && self.orders_seen % self.reject_every == 0 {
            return Err("Insufficient margin to place order.".into()); // injected
        }
        if !is_valid_price(px, &spec) {
            return Err("Price must be divisible by tick size.".into());
        }
        if sz <= Decimal::ZERO {
            return Err("Order has zero size.".into());
        }
        if sz.normalize().scale() > spec.sz_decimals {
            return Err("Order has invalid size.".into());
        }
        if cloid.as_ref().is_some_and(|c| {
            self.accounts[&user]
                .orders
                .iter()
                .any(|x| x.cloid.as_ref() == Some(c))
        }) {
            return Err("Duplicate cloid.".into());
        }
        let mut sz = sz;
        if reduce_only {
            let r = self.reducible(user, &coin, is_buy);
            if r.is_zero() {
                return Err("Reduce only order would increase position.".into());
            }
            sz = sz.min(r);
        } else {
            if px * sz < MIN_NOTIONAL {
                return Err("Order must have minimum value of $10.".into());
            }
            let now = self.now_ms;
            let marks = |c: &str| self.market_index(c).map(|j| self.markets[j].mid(now));
            let acct = &self.accounts[&user];
            let used: Decimal = acct
                .positions
                .iter()
                .filter_map(|(c, p)| marks(c).map(|m| p.szi.abs() * m))
                .sum::<Decimal>()
                + acct
                    .orders
                    .iter()
                    .filter(|x| !x.reduce_only)
                    .map(|x| x.px * x.sz)
                    .sum::<Decimal>();
            let equity = acct.usdc + acct.unrealized(&marks);
            let lev = Decimal::from(self.markets[i].spec.max_leverage);
            if (used + px * sz) / lev > equity {
                return Err("Insufficient margin to place order.".into());
            }
        }
        if self.markets[i].stalled {
            return Err("Market data unavailable (simulated stall).".into());
        }
        let (bids, asks) = self.markets[i].levels(self.now_ms);
        let book = if is_buy { asks } else { bids };
        let crosses = |lvl: Decimal| if is_buy { lvl <= px } else { lvl >= px };
        if tif == "Alo" && book.first().is_some_and(|(p, _)| crosses(*p)) {
            let (b, a) = self.markets[i].bbo(self.now_ms);
            return Err(format!(
                "Post only order would have immediately matched, bbo was {b}@{a}."
            ));
        }
        self.next_oid += 1;
        let oid = self.next_oid;
        let mut left = sz;
        let mut filled = Decimal::ZERO;
        let mut value = Decimal::ZERO;
        if tif != "Alo" {
            for (lvl, avail) in book {
                if left.is_zero() || !crosses(lvl) {
                    break;
                }
                let take = left.min(avail);
                self.fill(
                    user,
                    &coin,
                    is_buy,
                    lvl,
                    take,
                    oid,
                    cloid.clone(),
                    true,
                    pushes,
                );
                filled += take;
                value += take * lvl;
                left -= take;
            }
        }
        let now = self.now_ms;
        let order = RestingOrder {
            oid,
            cloid: cloid.clone(),
            coin: coin.clone(),
            is_buy,
            px,
            sz: left,
            orig_sz: sz,
            reduce_only,
            timestamp: now,
        };
        let cloid_json = |mut v: Value| {
            if let Some(c) = &cloid {
                v["cloid"] = json!(c);
            }
            v
        };
        if left.is_zero() {
            pushes.push(Push { user, frame: json!({"channel":"orderUpdates","data":[{"order": order.wire(), "status":"filled","statusTimestamp":now}]}).to_string() });
            return Ok(
                json!({"filled": cloid_json(json!({"totalSz": wire(filled), "avgPx": wire((value / filled).round_dp(6)), "oid": oid}))}),
            );
        }
        if tif == "Ioc" {
            let status = if filled.is_zero() {
                "iocCancelRejected"
            } else {
                "canceled"
            };
            pushes.push(Push { user, frame: json!({"channel":"orderUpdates","data":[{"order": order.wire(), "status": status,"statusTimestamp":now}]}).to_string() });
            if filled.is_zero() {
                return Err("Order could not immediately match against any resting orders.".into());
            }
            return Ok(
                json!({"filled": cloid_json(json!({"totalSz": wire(filled), "avgPx": wire((value / filled).round_dp(6)), "oid": oid}))}),
            );
        }
        pushes.push(Push { user, frame: json!({"channel":"orderUpdates","data":[{"order": order.wire(), "status":"open","statusTimestamp":now}]}).to_string() });
        self.accounts
            .get_mut(&user)
            .expect("account")
            .orders
            .push(order);
        Ok(json!({"resting": cloid_json(json!({"oid": oid}))}))
    }

    fn cancels(
        &mut self,
        user: Address,
        action: &Value,
        pushes: &mut Vec<Push>,
        matches: impl Fn(&RestingOrder, &Value) -> bool,
    ) -> Value {
        let now = self.now_ms;
        let mut statuses = Vec::new();
        for c in action["cancels"]
            .as_array()
            .map(|v| v.as_slice())
            .unwrap_or(&[])
        {
            let acct = self.accounts.get_mut(&user).expect("account");
            match acct.orders.iter().position(|o| matches(o, c)) {
                Some(i) => {
                    let o = acct.orders.remove(i);
                    pushes.push(Push { user, frame: json!({"channel":"orderUpdates","data":[{"order": o.wire(), "status":"canceled","statusTimestamp":now}]}).to_string() });
                    statuses.push(json!("success"));
                }
                None => statuses
                    .push(json!({"error": "Order was never placed, already canceled, or filled."})),
            }
        }
        json!({"status":"ok","response":{"type":"cancel","data":{"statuses":statuses}}})
    }

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

fn parse_signature(v: &Value) -> Option<Signature> {
    // r and s as 0x-hex, zero-padded or not: the Python SDK prints them with `to_hex(int)`,
    // which drops leading zeros (an odd number of digits one time in eight); the venue takes both.
    let word = |k: &str| -> Option<[u8; 32]> {
        let digits = v[k].as_str()?.trim_start_matches("0x");
        let padded = if digits.len() % 2 == 1 {
            format!("0{digits}")
        } else {
            digits.to_string()
        };
        let bytes = parse_hex(&padded)?;
        if bytes.len() > 32 {
            return None;
        }
        let mut out = [0u8; 32];
        out[32 - bytes.len()..].copy_from_slice(&bytes);
        Some(out)
    };
    let v_byte = match &v["v"] {
        Value::Number(n) => n.as_u64()? as u8,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some(Signature {
        r: word("r")?,
        s: word("s")?,
        v: v_byte,
    })
}
