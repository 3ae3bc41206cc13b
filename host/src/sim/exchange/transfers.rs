//! Actions that move money, and the accounts they move it between:
//! - user-signed (EIP-712 `HyperliquidTransaction:*`, signed by the account itself, never by an
//!   agent): `usdClassTransfer` (perp ↔ spot), `usdSend`, `spotSend`, `sendAsset`,
//!   `withdraw3`, `approveAgent`, `approveBuilderFee`, `userSetAbstraction` and
//!   `userDexAbstraction` (dex abstraction only);
//! - `reserveRequestWeight`.
//!
//! Sub-accounts, and acting for one, are in subaccounts.rs.

use super::*;

/// How long an agent approved by `approveAgent` is valid (`extraAgents`' `validUntil`).
const AGENT_VALID_MS: u64 = 180 * 86_400_000;

/// The venue's fee on a withdrawal to the bridge, taken from the amount withdrawn.
const WITHDRAW_FEE: Decimal = Decimal::ONE;

/// The user-signed actions the simulator knows: their EIP-712 primary type and fields, written
/// as the type string's members are (`type name`, in order), as the SDKs sign them.
pub(super) fn user_signed(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "usdClassTransfer" => (
            "HyperliquidTransaction:UsdClassTransfer",
            "string hyperliquidChain,string amount,bool toPerp,uint64 nonce",
        ),
        "usdSend" => (
            "HyperliquidTransaction:UsdSend",
            "string hyperliquidChain,string destination,string amount,uint64 time",
        ),
        "spotSend" => (
            "HyperliquidTransaction:SpotSend",
            "string hyperliquidChain,string destination,string token,string amount,uint64 time",
        ),
        "withdraw3" => (
            "HyperliquidTransaction:Withdraw",
            "string hyperliquidChain,string destination,string amount,uint64 time",
        ),
        "sendAsset" => (
            "HyperliquidTransaction:SendAsset",
            "string hyperliquidChain,string destination,string sourceDex,string destinationDex,string token,string amount,string fromSubAccount,uint64 nonce",
        ),
        "approveAgent" => (
            "HyperliquidTransaction:ApproveAgent",
            "string hyperliquidChain,address agentAddress,string agentName,uint64 nonce",
        ),
        "approveBuilderFee" => (
            "HyperliquidTransaction:ApproveBuilderFee",
            "string hyperliquidChain,string maxFeeRate,address builder,uint64 nonce",
        ),
        "userSetAbstraction" => (
            "HyperliquidTransaction:UserSetAbstraction",
            "string hyperliquidChain,address user,string abstraction,uint64 nonce",
        ),
        "userDexAbstraction" => (
            "HyperliquidTransaction:UserDexAbstraction",
            "string hyperliquidChain,address user,bool enabled,uint64 nonce",
        ),
        "cDeposit" => (
            "HyperliquidTransaction:CDeposit",
            "string hyperliquidChain,uint64 wei,uint64 nonce",
        ),
        "cWithdraw" => (
            "HyperliquidTransaction:CWithdraw",
            "string hyperliquidChain,uint64 wei,uint64 nonce",
        ),
        "tokenDelegate" => (
            "HyperliquidTransaction:TokenDelegate",
            "string hyperliquidChain,address validator,uint64 wei,bool isUndelegate,uint64 nonce",
        ),
        "convertToMultiSigUser" => (
            "HyperliquidTransaction:ConvertToMultiSigUser",
            "string hyperliquidChain,string signers,uint64 nonce",
        ),
        _ => return None,
    })
}

/// The digest a user-signed action was signed over, and the nonce it carries (`nonce` or
/// `time`). An `approveAgent` without `agentName` was signed with `""` (the SDKs drop the key).
pub(in crate::sim) fn user_signed_digest(action: &Value) -> Result<([u8; 32], u64), String> {
    user_signed_digest_for(action, None)
}

/// `user_signed_digest`, or, with `multi_sig` = (multi-sig user, outer signer), the digest an
/// authorized user signs for a `multiSig` action wrapping it: the two addresses are signed too,
/// as `payloadMultiSigUser` and `outerSigner` right after `hyperliquidChain`.
pub(super) fn user_signed_digest_for(
    action: &Value,
    multi_sig: Option<(Address, Address)>,
) -> Result<([u8; 32], u64), String> {
    let kind = action["type"].as_str().unwrap_or_default();
    let (primary, members) = user_signed(kind).ok_or("not a user-signed action")?;
    let mut fields: Vec<(&str, &str)> = members
        .split(',')
        .filter_map(|m| m.split_once(' ').map(|(ty, name)| (name, ty)))
        .collect();
    let mut a = action.clone();
    if let Some((user, outer)) = multi_sig {
        fields.splice(
            1..1,
            [
                ("payloadMultiSigUser", "address"),
                ("outerSigner", "address"),
            ],
        );
        a["payloadMultiSigUser"] = json!(user.to_string());
        a["outerSigner"] = json!(outer.to_string());
    }
    if kind == "approveAgent" && a.get("agentName").is_none_or(Value::is_null) {
        a["agentName"] = json!("");
    }
    let digest = crate::venue::hyperliquid::signing::user_signed_digest(primary, &fields, &a)
        .ok_or_else(|| format!("malformed {kind}: a signed field is missing or mistyped"))?;
    let nonce = a["nonce"]
        .as_u64()
        .or(a["time"].as_u64())
        .ok_or("missing nonce")?;
    Ok((digest, nonce))
}

/// A decimal amount as the actions write it (`"12.5"`), positive.
pub(super) fn amount(v: &Value) -> Option<Decimal> {
    v.as_str()
        .and_then(|s| Decimal::from_str(s.trim()).ok())
        .filter(|a| *a > Decimal::ZERO)
}

/// An action's `destination` and positive `amount`, or the refusal.
fn destination_and_amount(action: &Value) -> Result<(Address, Decimal), Value> {
    match (
        action["destination"].as_str().and_then(Address::parse),
        amount(&action["amount"]),
    ) {
        (Some(to), Some(amt)) => Ok((to, amt)),
        _ => Err(err("Invalid destination or amount.")),
    }
}

/// An action's `token` by name: `"PURR:0x…"` is the token's name, then its id.
pub(super) fn token_name(action: &Value) -> String {
    let token = action["token"].as_str().unwrap_or_default();
    token.split(':').next().unwrap_or_default().to_string()
}

/// An amount in millionths of USDC (`usd`, `initialUsd`), positive.
pub(super) fn micro_usd(v: &Value) -> Option<Decimal> {
    v.as_u64()
        .filter(|u| *u > 0)
        .map(|u| Decimal::new(u as i64, 6))
}

pub(super) fn ok() -> Value {
    json!({"status":"ok","response":{"type":"default"}})
}

impl Exchange {
    /// The perp USDC an account can move out of the main dex: what its margin does not use.
    pub(super) fn perp_free(&self, user: &Address) -> Decimal {
        self.dex_free(user, "")
    }

    /// What an account can move out of perp dex `dex`: its `clearinghouseState`'s
    /// `withdrawable` (on a HIP-3 dex, the collateral its positions do not use).
    pub(super) fn dex_free(&self, user: &Address, dex: &str) -> Decimal {
        self.clearinghouse_state(user, dex)["withdrawable"]
            .as_str()
            .and_then(|w| Decimal::from_str(w).ok())
            .unwrap_or_default()
    }

    /// Sets an account's abstraction mode: `disabled` or `dexAbstraction` (`unifiedAccount` and
    /// `portfolioMargin` are not simulated). Leaving dex abstraction is refused while a HIP-3
    /// position or order draws on the main dex's USDC (its dex must hold its margin first).
    pub(super) fn set_abstraction(&mut self, user: Address, mode: &str) -> Value {
        match mode {
            "disabled" | "dexAbstraction" => {}
            "unifiedAccount" | "portfolioMargin" => {
                return err(format!("The simulator does not simulate {mode}."));
            }
            _ => return err(format!("Unknown abstraction `{mode}`.")),
        }
        let mut a = self.accounts[&user].clone();
        a.abstraction = Some(mode.to_string());
        let coins: std::collections::BTreeSet<&str> = a
            .positions
            .iter()
            .filter(|(_, p)| !p.szi.is_zero())
            .map(|(c, _)| c.as_str())
            .chain(a.orders.iter().map(|o| o.coin.as_str()))
            .collect();
        if coins
            .iter()
            .any(|c| !self.dex_margin_ok(&a, c, Decimal::ZERO))
        {
            return err(
                "Cannot leave dex abstraction while a HIP-3 dex's positions and orders use more margin than its collateral: move it there with sendAsset first.",
            );
        }
        self.accounts.get_mut(&user).expect("account").abstraction = Some(mode.to_string());
        ok()
    }

    /// Perp USDC from one account to another (which is created when new), with its ledger entry
    /// in both ledgers.
    fn send_usdc(&mut self, from: Address, to: Address, amt: Decimal, delta: Value) -> Value {
        if self.perp_free(&from) < amt {
            return err("Insufficient balance for transfer.");
        }
        self.accounts.get_mut(&from).expect("account").usdc -= amt;
        self.accounts
            .entry(to)
            .or_insert_with(|| Account::new(Decimal::ZERO))
            .usdc += amt;
        self.ledger(from, delta.clone());
        self.ledger(to, delta);
        ok()
    }

    /// Runs a user-signed action for `user` (its own signature, already checked).
    pub(super) fn user_action(&mut self, user: Address, action: &Value) -> Value {
        match action["type"].as_str().unwrap_or_default() {
            "usdClassTransfer" => {
                // `"12.5 subaccount:0x…"`: the transfer is the sub-account's.
                let raw = action["amount"].as_str().unwrap_or_default();
                let (amt, who) = match raw.split_once(" subaccount:") {
                    Some((a, s)) => match Address::parse(s.trim())
                        .ok_or_else(|| format!("bad sub-account in amount `{raw}`"))
                        .and_then(|s| self.acting_for(user, s))
                    {
                        Ok(sub) => (a, sub),
                        Err(e) => return err(e),
                    },
                    None => (raw, user),
                };
                let Some(amt) = amount(&json!(amt)) else {
                    return err("Invalid amount.");
                };
                let Some(to_perp) = action["toPerp"].as_bool() else {
                    return err("missing `toPerp`");
                };
                self.usd_class_transfer(who, amt, to_perp)
            }
            "usdSend" => {
                let (to, amt) = match destination_and_amount(action) {
                    Ok(x) => x,
                    Err(e) => return e,
                };
                let delta = json!({"type": "internalTransfer", "usdc": wire(amt), "user": user.to_string(),
                    "destination": to.to_string(), "fee": "0.0"});
                self.send_usdc(user, to, amt, delta)
            }
            "spotSend" => {
                let (to, amt) = match destination_and_amount(action) {
                    Ok(x) => x,
                    Err(e) => return e,
                };
                match self.move_spot(user, to, &token_name(action), amt) {
                    Ok(()) => ok(),
                    Err(e) => err(e),
                }
            }
            "withdraw3" => {
                let Some(amt) = amount(&action["amount"]) else {
                    return err("Invalid amount.");
                };
                if amt <= WITHDRAW_FEE {
                    return err("Withdrawal amount must be more than the $1 fee.");
                }
                if self.perp_free(&user) < amt {
                    return err("Insufficient balance for withdrawal.");
                }
                self.accounts.get_mut(&user).expect("account").usdc -= amt;
                let nonce = action["time"].as_u64().unwrap_or_default();
                self.ledger(
                    user,
                    json!({"type": "withdraw", "usdc": wire(amt), "nonce": nonce, "fee": wire(WITHDRAW_FEE)}),
                );
                ok()
            }
            "approveBuilderFee" => {
                let (Some(builder), Some(rate)) = (
                    action["builder"].as_str().and_then(Address::parse),
                    action["maxFeeRate"]
                        .as_str()
                        .and_then(|r| r.strip_suffix('%'))
                        .and_then(|r| Decimal::from_str(r).ok()),
                ) else {
                    return err("Invalid builder or maxFeeRate (e.g. \"0.1%\").");
                };
                // A rate in percent, in tenths of a basis point: 0.001% is 1.
                let tenths = rate * Decimal::from(1_000);
                if tenths.fract() != Decimal::ZERO || tenths > Decimal::from(1_000) {
                    return err("Invalid maxFeeRate: at most 1%, in steps of 0.001%.");
                }
                let tenths = u64::try_from(tenths.trunc().mantissa()).unwrap_or(0);
                self.accounts
                    .get_mut(&user)
                    .expect("account")
                    .builder_fees
                    .insert(builder, tenths);
                ok()
            }
            "sendAsset" => self.send_asset(user, action),
            "convertToMultiSigUser" => self.convert_to_multi_sig(user, action),
            "cDeposit" | "cWithdraw" | "tokenDelegate" => self.staking_action(user, action),
            "userSetAbstraction" | "userDexAbstraction" => {
                if action["user"].as_str().and_then(Address::parse) != Some(user) {
                    return err("The user field must be the signer.");
                }
                let kind = action["type"].as_str().unwrap_or_default();
                let mode = match (kind, &action["abstraction"], &action["enabled"]) {
                    ("userDexAbstraction", _, Value::Bool(true)) => "dexAbstraction",
                    ("userDexAbstraction", _, Value::Bool(false)) => "disabled",
                    // Through `multiSig` the SDKs send the mode's one-letter form.
                    ("userSetAbstraction", Value::String(m), _) => match m.as_str() {
                        "i" => "disabled",
                        "u" => "unifiedAccount",
                        "p" => "portfolioMargin",
                        m => m,
                    },
                    _ => return err(format!("malformed {kind}")),
                };
                self.set_abstraction(user, mode)
            }
            "approveAgent" => {
                let Some(agent) = action["agentAddress"].as_str().and_then(Address::parse) else {
                    return err("bad `agentAddress`");
                };
                if self.accounts.contains_key(&agent) {
                    return err("Agent address is a user.");
                }
                self.agents.insert(agent, user);
                let name = action["agentName"].as_str().unwrap_or_default().to_string();
                self.agent_names
                    .insert(agent, (name, self.now_ms + AGENT_VALID_MS));
                ok()
            }
            other => err(format!("unknown action type {other:?}")),
        }
    }

    /// `sendAsset`: between the perp balance (`""`) and the spot wallet (`"spot"`), to the
    /// account itself or to another; between the main dex and a HIP-3 dex's collateral, of one
    /// account; from a sub-account with `fromSubAccount`.
    fn send_asset(&mut self, user: Address, action: &Value) -> Value {
        let from = match action["fromSubAccount"].as_str().unwrap_or_default() {
            "" => user,
            s => match Address::parse(s)
                .ok_or_else(|| format!("bad fromSubAccount `{s}`"))
                .and_then(|s| self.acting_for(user, s))
            {
                Ok(sub) => sub,
                Err(e) => return err(e),
            },
        };
        let (to, amt) = match destination_and_amount(action) {
            Ok(x) => x,
            Err(e) => return e,
        };
        let name = token_name(action);
        let src = action["sourceDex"].as_str().unwrap_or_default();
        let dst = action["destinationDex"].as_str().unwrap_or_default();
        match (src, dst) {
            ("", "spot") | ("spot", "") if name == "USDC" && to == from => {
                self.usd_class_transfer(from, amt, src == "spot")
            }
            ("", "") if name == "USDC" => {
                let delta = json!({"type": "send", "user": from.to_string(), "destination": to.to_string(),
                    "sourceDex": "", "destinationDex": "", "token": "USDC", "amount": wire(amt),
                    "usdcValue": wire(amt), "fee": "0.0", "nativeTokenFee": "0.0",
                    "nonce": action["nonce"], "feeToken": ""});
                self.send_usdc(from, to, amt, delta)
            }
            ("", "spot") | ("spot", "") if name == "USDC" => {
                // Perp USDC to another's spot wallet, or spot USDC to another's perp balance.
                let to_spot = dst == "spot";
                let free = if to_spot {
                    self.perp_free(&from)
                } else {
                    self.spot_free(&from, "USDC")
                };
                if free < amt {
                    return err("Insufficient balance for transfer.");
                }
                let a = self.accounts.get_mut(&from).expect("account");
                if to_spot {
                    a.usdc -= amt;
                } else {
                    a.spot.entry("USDC".into()).or_default().total -= amt;
                }
                let b = self
                    .accounts
                    .entry(to)
                    .or_insert_with(|| Account::new(Decimal::ZERO));
                if to_spot {
                    b.spot.entry("USDC".into()).or_default().total += amt;
                } else {
                    b.usdc += amt;
                }
                let delta = json!({"type": "send", "user": from.to_string(), "destination": to.to_string(),
                    "sourceDex": src, "destinationDex": dst, "token": "USDC", "amount": wire(amt),
                    "usdcValue": wire(amt), "fee": "0.0", "nativeTokenFee": "0.0",
                    "nonce": action["nonce"], "feeToken": ""});
                self.ledger(to, delta.clone());
                self.ledger(from, delta);
                ok()
            }
            ("spot", "spot") => match self.move_spot(from, to, &name, amt) {
                Ok(()) => ok(),
                Err(e) => err(e),
            },
            (s, d)
                if name == "USDC"
                    && (s.is_empty() || self.dexes.iter().any(|x| x == s))
                    && (d.is_empty() || self.dexes.iter().any(|x| x == d)) =>
            {
                // Between perp dexes, of one account or to another's: the collateral a HIP-3
                // dex holds.
                if self.dex_free(&from, s) < amt {
                    return err("Insufficient balance for transfer.");
                }
                let a = self.accounts.get_mut(&from).expect("account");
                a.usdc -= amt;
                if !s.is_empty() {
                    *a.dex_collateral.entry(s.to_string()).or_default() -= amt;
                }
                a.dex_collateral.retain(|_, c| !c.is_zero());
                let b = self
                    .accounts
                    .entry(to)
                    .or_insert_with(|| Account::new(Decimal::ZERO));
                b.usdc += amt;
                if !d.is_empty() {
                    *b.dex_collateral.entry(d.to_string()).or_default() += amt;
                }
                let delta = json!({"type": "send", "user": from.to_string(), "destination": to.to_string(),
                    "sourceDex": s, "destinationDex": d, "token": "USDC", "amount": wire(amt),
                    "usdcValue": wire(amt), "fee": "0.0", "nativeTokenFee": "0.0",
                    "nonce": action["nonce"], "feeToken": ""});
                if to != from {
                    self.ledger(to, delta.clone());
                }
                self.ledger(from, delta);
                ok()
            }
            (s, d)
                if (s.is_empty() || self.dexes.iter().any(|x| x == s))
                    && (d.is_empty() || self.dexes.iter().any(|x| x == d)) =>
            {
                // Every simulated perp dex's collateral is USDC (token 0).
                err(format!(
                    "{name} is not the collateral token of dex `{s}` or `{d}`."
                ))
            }
            (s, d) => err(format!("Unknown dex `{s}` or `{d}`.")),
        }
    }

    /// USDC between an account's perp balance and its spot wallet. The perp side gives only what
    /// its margin does not use; the spot side only what orders do not hold.
    pub(super) fn usd_class_transfer(
        &mut self,
        user: Address,
        amount: Decimal,
        to_perp: bool,
    ) -> Value {
        if to_perp {
            if self.spot_free(&user, "USDC") < amount {
                return err("Insufficient balance for transfer.");
            }
            let a = self.accounts.get_mut(&user).expect("account");
            a.spot.entry("USDC".into()).or_default().total -= amount;
            a.usdc += amount;
            self.ledger(
                user,
                json!({"type": "accountClassTransfer", "usdc": wire(amount), "toPerp": true}),
            );
        } else {
            if self.perp_free(&user) < amount {
                return err("Insufficient balance for transfer.");
            }
            let a = self.accounts.get_mut(&user).expect("account");
            a.usdc -= amount;
            a.spot.entry("USDC".into()).or_default().total += amount;
            self.ledger(
                user,
                json!({"type": "accountClassTransfer", "usdc": wire(amount), "toPerp": false}),
            );
        }
        ok()
    }

    /// Spot tokens from one wallet to another (which is created when new), at their average cost.
    pub(super) fn move_spot(
        &mut self,
        from: Address,
        to: Address,
        token: &str,
        amt: Decimal,
    ) -> Result<(), String> {
        if token != "USDC" && !self.spot_pairs.iter().any(|(_, b)| b == token) {
            return Err(format!("Unknown token {token}."));
        }
        if self.spot_free(&from, token) < amt {
            return Err("Insufficient balance for token transfer.".into());
        }
        let src = self.accounts.get_mut(&from).expect("account");
        let b = src.spot.entry(token.to_string()).or_default();
        let cost = if b.total.is_zero() {
            Decimal::ZERO
        } else {
            (b.entry_ntl * amt / b.total).round_dp(8)
        };
        b.total -= amt;
        b.entry_ntl -= cost;
        let dst = self
            .accounts
            .entry(to)
            .or_insert_with(|| Account::new(Decimal::ZERO));
        let d = dst.spot.entry(token.to_string()).or_default();
        d.total += amt;
        d.entry_ntl += cost;
        let delta = json!({"type": "spotTransfer", "token": token, "amount": wire(amt),
            "usdcValue": wire(cost.round_dp(6)), "user": from.to_string(), "destination": to.to_string(),
            "fee": "0.0", "nativeTokenFee": "0.0", "nonce": null, "feeToken": ""});
        self.ledger(from, delta.clone());
        self.ledger(to, delta);
        Ok(())
    }

    /// `reserveRequestWeight`: buys request budget, 0.0005 USDC per request, from the perp
    /// balance.
    pub(super) fn reserve_request_weight(&mut self, user: Address, action: &Value) -> Value {
        let Some(weight) = action["weight"].as_u64().filter(|w| *w > 0) else {
            return err("Invalid weight.");
        };
        let cost = Decimal::from(weight) * Decimal::new(5, 4);
        if self.perp_free(&user) < cost {
            return err("Insufficient balance to reserve request weight.");
        }
        let a = self.accounts.get_mut(&user).expect("account");
        a.usdc -= cost;
        a.requests_reserved += weight;
        ok()
    }
}
