//! `/exchange`: signed actions (order, cancel, cancelByCloid, modify, batchModify,
//! updateLeverage, scheduleCancel, noop), checked as the venue checks them.

use super::multisig;
use super::transfers::ok;
use super::*;
use crate::sim::matching;

impl Exchange {
    /// Handles a signed `/exchange` request. Returns the response and the pushes.
    pub fn exchange(&mut self, req: &Value) -> (Value, Vec<Push>) {
        let mut pushes = Vec::new();
        self.signed_by = None;
        let resp = self.exchange_inner(req, &mut pushes);
        self.log_updates(&pushes);
        self.record_tx(req, &resp);
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
        let kind = action["type"].as_str().unwrap_or_default();
        if kind == "multiSig" {
            return self.multi_sig(action, nonce, vault, expires, &sig, pushes);
        }
        if transfers::user_signed(kind).is_some() {
            return self.user_signed(action, nonce, &sig);
        }
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
        if expires.is_some_and(|t| t < self.now_ms) {
            return err("Action expired");
        }
        self.signed_by = Some(user);
        if self.accounts[&user].multi_sig.is_some() {
            return err(multisig::DIRECT);
        }
        let now = self.now_ms;
        let acct = self.accounts.get_mut(&user).expect("account");
        if let Err(e) = acct.check_nonce(nonce, now) {
            return err(e);
        }
        self.run_l1(user, action, nonce, vault, pushes)
    }

    /// Runs an L1 action for `user`, its signature and nonce checked: as `user` itself, or, with
    /// `vault`, for a sub-account or vault it may act for.
    pub(super) fn run_l1(
        &mut self,
        user: Address,
        action: &Value,
        nonce: u64,
        vault: Option<Address>,
        pushes: &mut Vec<Push>,
    ) -> Value {
        let kind = action["type"].as_str().unwrap_or_default();
        let now = self.now_ms;
        match kind {
            "createSubAccount" => return self.create_sub_account(user, action),
            "subAccountTransfer" | "subAccountSpotTransfer" => {
                return self.sub_account_transfer(user, action);
            }
            "createVault" => return self.create_vault(user, nonce, action),
            "vaultTransfer" => return self.vault_transfer(user, action),
            "vaultModify" => return self.vault_modify(user, action),
            "vaultDistribute" => return self.vault_distribute(user, action),
            "subAccountModify" => return self.sub_account_modify(user, action),
            "reserveRequestWeight" => return self.reserve_request_weight(user, action),
            "registerReferrer" | "setReferrer" | "claimRewards" => {
                return self.referral_action(user, action);
            }
            _ => {}
        }
        // Acting for a sub-account: the signer's budget pays, the sub-account trades.
        let budget = user;
        let user = match vault {
            Some(v) => match self.acting_for(user, v) {
                Ok(sub) => sub,
                Err(e) => return err(e),
            },
            None => user,
        };
        let acct = self.accounts.get_mut(&budget).expect("account");
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
                ok()
            }
            Some("noop") => ok(),
            Some("perpDeploy") => self.perp_deploy(user, action, pushes),
            Some("CValidatorAction" | "CSignerAction") => self.validator_action(user, action),
            // HyperEVM's block size for the user's EVM transactions: nothing on HyperCore shows
            // it, so nothing keeps it.
            Some("evmUserModify") => match action["usingBigBlocks"].as_bool() {
                Some(_) => ok(),
                None => err("Invalid usingBigBlocks."),
            },
            // The agent's way to set its account's abstraction: `i` disabled, `u` unified, `p`
            // portfolio margin.
            Some("agentSetAbstraction") => match action["abstraction"].as_str() {
                Some("i") => self.set_abstraction(user, "disabled"),
                Some("u") => self.set_abstraction(user, "unifiedAccount"),
                Some("p") => self.set_abstraction(user, "portfolioMargin"),
                _ => err("malformed agentSetAbstraction"),
            },
            Some("agentEnableDexAbstraction") => self.set_abstraction(user, "dexAbstraction"),
            Some("modify") => {
                let one = json!({"modifies": [{"oid": action["oid"], "order": action["order"]}]});
                match self.modifies(user, &one, pushes)["response"]["data"]["statuses"][0]
                    .get("error")
                {
                    Some(e) => err(e.as_str().unwrap_or("modify failed").to_string()),
                    None => ok(),
                }
            }
            Some("batchModify") => self.modifies(user, action, pushes),
            Some("twapOrder") => self.twap_order(user, action, pushes),
            Some("twapCancel") => self.twap_cancel(user, action, pushes),
            Some("updateLeverage") => self.update_leverage(user, action),
            Some("updateIsolatedMargin") => self.update_isolated_margin(user, action),
            Some("topUpIsolatedOnlyMargin") => self.top_up_isolated_margin(user, action),
            Some("setDisplayName") => {
                let name = action["displayName"].as_str().unwrap_or_default();
                if name.chars().count() > 20 {
                    return err("Display name must be at most 20 characters.");
                }
                // Shown on the venue's leaderboard, which the simulator has not: nothing keeps it.
                ok()
            }
            other => err(format!("unknown action type {other:?}")),
        }
    }

    /// A user-signed action: the signature must recover to an account itself (agents may not
    /// sign these), and its nonce is the one the action carries.
    fn user_signed(&mut self, action: &Value, nonce: u64, sig: &Signature) -> Value {
        let (digest, signed_nonce) = match transfers::user_signed_digest(action) {
            Ok(d) => d,
            Err(e) => return err(e),
        };
        if signed_nonce != nonce {
            return err("Invalid nonce: the action's nonce differs from the request's");
        }
        let Some(signer) = sig.recover(&digest) else {
            return err("invalid signature");
        };
        if !self.accounts.contains_key(&signer) {
            return err(format!(
                "User {signer} does not exist (user-signed actions are signed by the account, not an agent)."
            ));
        }
        self.signed_by = Some(signer);
        if self.accounts[&signer].multi_sig.is_some() {
            return err(multisig::DIRECT);
        }
        let acct = self.accounts.get_mut(&signer).expect("account");
        if let Err(e) = acct.check_nonce(nonce, self.now_ms) {
            return err(e);
        }
        self.user_action(signer, action)
    }

    fn orders(&mut self, user: Address, action: &Value, pushes: &mut Vec<Push>) -> Value {
        let grouping = action["grouping"].as_str().unwrap_or("na").to_string();
        // A builder's fee (`builder: {b, f}`, f in tenths of a basis point): at most what the
        // user approved for that builder, and at most 0.1% on perps (1% on spot).
        self.builder_fee = None;
        if let Some(b) = action.get("builder").filter(|b| !b.is_null()) {
            let (Some(builder), Some(f)) =
                (b["b"].as_str().and_then(Address::parse), b["f"].as_u64())
            else {
                return err("Invalid builder.");
            };
            let approved = self.accounts[&user].builder_fees.get(&builder).copied();
            if approved.is_none_or(|max| f > max) {
                return err("Builder fee has not been approved.");
            }
            let spot = action["orders"].as_array().is_some_and(|v| {
                v.iter().any(|o| {
                    o["a"]
                        .as_u64()
                        .is_some_and(|a| (10_000..100_000).contains(&a))
                })
            });
            if f > if spot { 1_000 } else { 100 } {
                return err("Builder fee is above the maximum.");
            }
            self.builder_fee = Some((builder, f));
        }
        let statuses: Vec<Value> = action["orders"]
            .as_array()
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|o| {
                let r = if o["t"].get("trigger").is_some() {
                    self.trigger_order(user, o, &grouping, pushes)
                } else {
                    self.order(user, o, pushes)
                };
                match r {
                    Ok(s) => s,
                    Err(e) => json!({"error": e}),
                }
            })
            .collect();
        self.builder_fee = None;
        json!({"status":"ok","response":{"type":"order","data":{"statuses":statuses}}})
    }

    pub(super) fn order(
        &mut self,
        user: Address,
        o: &Value,
        pushes: &mut Vec<Push>,
    ) -> Result<Value, String> {
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
            .ok_or("Only limit orders are simulated.")?;
        let tif = matching::Tif::parse(tif).ok_or_else(|| format!("Unknown tif {tif}."))?;
        let cloid = o.get("c").and_then(Value::as_str).map(str::to_string);
        if let Some(c) = &cloid {
            *self.cloids_seen.entry(c.clone()).or_default() += 1;
        }
        self.orders_seen += 1;
        self.order_arrivals
            .push((self.now_ms, coin.clone(), reduce_only));
        if self.reject_every > 0 && self.orders_seen % self.reject_every == 0 {
            return Err("Insufficient margin to place order.".into()); // injected
        }
        let reducible = if reduce_only {
            self.reducible(user, &coin, is_buy)
        } else {
            Decimal::ZERO
        };
        let sz = matching::check_order(&spec, px, sz, reduce_only, reducible)?;
        // The venue's price band: a limit price more than 80% away from the reference (the
        // oracle) is refused.
        let reference = self.markets[i].oracle;
        if reference > Decimal::ZERO && ((px - reference).abs() / reference) > Decimal::new(8, 1) {
            return Err("Order price cannot be more than 80% away from the reference price".into());
        }
        if cloid.as_ref().is_some_and(|c| {
            self.accounts[&user]
                .orders
                .iter()
                .any(|x| x.cloid.as_ref() == Some(c))
        }) {
            return Err("Duplicate cloid.".into());
        }
        let spot = self.markets[i].spot;
        if spot && reduce_only {
            return Err("Reduce only order is not supported for spot.".into());
        }
        if spot {
            self.check_spot_balance(user, asset, &coin, is_buy, px, sz)?;
        } else if !reduce_only {
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
                    .filter(|x| !x.reduce_only && self.spot_base(&x.coin).is_none())
                    .map(|x| x.px * x.sz)
                    .sum::<Decimal>();
            let equity = acct.usdc + acct.unrealized(&marks);
            let lev = Decimal::from(
                acct.leverage
                    .get(&coin)
                    .map_or(self.markets[i].spec.max_leverage, |(_, l)| *l),
            );
            if (used + px * sz) / lev > equity || !self.dex_margin_ok(acct, &coin, px * sz / lev) {
                return Err("Insufficient margin to place order.".into());
            }
        }
        if self.markets[i].stalled {
            return Err("Market data unavailable (simulated stall).".into());
        }
        if self.markets[i].deployer.halted {
            return Err(format!("Trading is halted for {coin}."));
        }
        if !reduce_only && self.past_oi_cap(&user, i, is_buy, px, sz) {
            return Err("Order would increase open interest while open interest is capped".into());
        }
        let (bids, asks) = self.markets[i].levels(self.now_ms);
        let book = if is_buy { asks } else { bids };
        let taken = match matching::take(&book, is_buy, px, sz, tif) {
            Ok(t) => t,
            Err(matching::AloWouldMatch) => {
                let (b, a) = self.markets[i].bbo(self.now_ms);
                return Err(format!(
                    "Post only order would have immediately matched, bbo was {b}@{a}."
                ));
            }
        };
        self.next_oid += 1;
        let oid = self.next_oid;
        let left = taken.left;
        let mut filled = Decimal::ZERO;
        let mut value = Decimal::ZERO;
        for (lvl, take) in taken.fills {
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
        }
        let now = self.now_ms;
        let order = RestingOrder {
            builder: self.builder_fee,
            oid,
            cloid: cloid.clone(),
            coin: coin.clone(),
            is_buy,
            px,
            sz: left,
            orig_sz: sz,
            reduce_only,
            timestamp: now,
            tif: o["t"]["limit"]["tif"].as_str().unwrap_or("Gtc").to_string(),
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
        if tif == matching::Tif::Ioc {
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

    /// `batchModify`: each named order (by oid, or cloid `0x…`) is replaced by its new one, as
    /// the venue does (the new order gets a new oid; a cloid goes with it).
    fn modifies(&mut self, user: Address, action: &Value, pushes: &mut Vec<Push>) -> Value {
        let now = self.now_ms;
        let mut statuses = Vec::new();
        for m in action["modifies"]
            .as_array()
            .map(|v| v.as_slice())
            .unwrap_or(&[])
        {
            let acct = self.accounts.get_mut(&user).expect("account");
            let found = acct.orders.iter().position(|o| match &m["oid"] {
                Value::Number(n) => n.as_u64() == Some(o.oid),
                Value::String(c) => o.cloid.as_deref() == Some(c.as_str()),
                _ => false,
            });
            let Some(i) = found else {
                statuses.push(json!({"error": "Cannot modify canceled or filled order"}));
                continue;
            };
            let old = acct.orders.remove(i);
            pushes.push(Push { user, frame: json!({"channel":"orderUpdates","data":[{"order": old.wire(), "status":"canceled","statusTimestamp":now}]}).to_string() });
            statuses.push(match self.order(user, &m["order"], pushes) {
                Ok(s) => s,
                Err(e) => json!({"error": e}),
            });
        }
        json!({"status":"ok","response":{"type":"order","data":{"statuses":statuses}}})
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
            // A trigger order is cancelled by its oid (or cloid) too.
            if let Some(i) = acct.triggers.iter().position(|t| {
                Some(t.oid) == c["o"].as_u64()
                    || (t.cloid.is_some() && t.cloid.as_deref() == c["cloid"].as_str())
            }) {
                let t = acct.triggers.remove(i);
                pushes.push(Push { user, frame: json!({"channel":"orderUpdates","data":[{"order": t.frontend(), "status":"canceled","statusTimestamp":now}]}).to_string() });
                statuses.push(json!("success"));
                continue;
            }
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
}

pub(super) fn parse_signature(v: &Value) -> Option<Signature> {
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
