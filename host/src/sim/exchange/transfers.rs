//! Actions that move money, and the accounts they move it between:
//! - user-signed (EIP-712 `HyperliquidTransaction:*`, signed by the account itself, never by an
//!   agent): `usdClassTransfer` (perp ↔ spot), `usdSend`, `spotSend`, `sendAsset`,
//!   `withdraw3`, `approveAgent`, `approveBuilderFee`, `userSetAbstraction` and
//!   `userDexAbstraction` (dex abstraction only);
//! - L1 (signed like orders): `createSubAccount`, `subAccountTransfer`,
//!   `subAccountSpotTransfer`;
//! - acting for a sub-account: an action with `vaultAddress` set to a sub-account of the signer's
//!   account trades that sub-account.

use super::*;

type Fields = &'static [(&'static str, &'static str)];

/// How long an agent approved by `approveAgent` is valid (`extraAgents`' `validUntil`).
const AGENT_VALID_MS: u64 = 180 * 86_400_000;

/// The venue's fee on a withdrawal to the bridge, taken from the amount withdrawn.
const WITHDRAW_FEE: Decimal = Decimal::ONE;

/// The user-signed actions the simulator knows: their EIP-712 primary type and fields.
pub(super) fn user_signed(kind: &str) -> Option<(&'static str, Fields)> {
    const CLASS: Fields = &[
        ("hyperliquidChain", "string"),
        ("amount", "string"),
        ("toPerp", "bool"),
        ("nonce", "uint64"),
    ];
    const USD_SEND: Fields = &[
        ("hyperliquidChain", "string"),
        ("destination", "string"),
        ("amount", "string"),
        ("time", "uint64"),
    ];
    const SPOT_SEND: Fields = &[
        ("hyperliquidChain", "string"),
        ("destination", "string"),
        ("token", "string"),
        ("amount", "string"),
        ("time", "uint64"),
    ];
    const WITHDRAW: Fields = &[
        ("hyperliquidChain", "string"),
        ("destination", "string"),
        ("amount", "string"),
        ("time", "uint64"),
    ];
    const BUILDER: Fields = &[
        ("hyperliquidChain", "string"),
        ("maxFeeRate", "string"),
        ("builder", "address"),
        ("nonce", "uint64"),
    ];
    const SEND_ASSET: Fields = &[
        ("hyperliquidChain", "string"),
        ("destination", "string"),
        ("sourceDex", "string"),
        ("destinationDex", "string"),
        ("token", "string"),
        ("amount", "string"),
        ("fromSubAccount", "string"),
        ("nonce", "uint64"),
    ];
    const SET_ABSTRACTION: Fields = &[
        ("hyperliquidChain", "string"),
        ("user", "address"),
        ("abstraction", "string"),
        ("nonce", "uint64"),
    ];
    const DEX_ABSTRACTION: Fields = &[
        ("hyperliquidChain", "string"),
        ("user", "address"),
        ("enabled", "bool"),
        ("nonce", "uint64"),
    ];
    const AGENT: Fields = &[
        ("hyperliquidChain", "string"),
        ("agentAddress", "address"),
        ("agentName", "string"),
        ("nonce", "uint64"),
    ];
    Some(match kind {
        "usdClassTransfer" => ("HyperliquidTransaction:UsdClassTransfer", CLASS),
        "usdSend" => ("HyperliquidTransaction:UsdSend", USD_SEND),
        "spotSend" => ("HyperliquidTransaction:SpotSend", SPOT_SEND),
        "approveAgent" => ("HyperliquidTransaction:ApproveAgent", AGENT),
        "withdraw3" => ("HyperliquidTransaction:Withdraw", WITHDRAW),
        "approveBuilderFee" => ("HyperliquidTransaction:ApproveBuilderFee", BUILDER),
        "sendAsset" => ("HyperliquidTransaction:SendAsset", SEND_ASSET),
        "userSetAbstraction" => ("HyperliquidTransaction:UserSetAbstraction", SET_ABSTRACTION),
        "userDexAbstraction" => ("HyperliquidTransaction:UserDexAbstraction", DEX_ABSTRACTION),
        _ => return None,
    })
}

/// The digest a user-signed action was signed over, and the nonce it carries (`nonce` or
/// `time`). An `approveAgent` without `agentName` was signed with `""` (the SDKs drop the key).
pub(super) fn user_signed_digest(action: &Value) -> Result<([u8; 32], u64), String> {
    let kind = action["type"].as_str().unwrap_or_default();
    let (primary, fields) = user_signed(kind).ok_or("not a user-signed action")?;
    let mut a = action.clone();
    if kind == "approveAgent" && a.get("agentName").is_none_or(Value::is_null) {
        a["agentName"] = json!("");
    }
    let digest = crate::venue::hyperliquid::signing::user_signed_digest(primary, fields, &a)
        .ok_or_else(|| format!("malformed {kind}: a signed field is missing or mistyped"))?;
    let nonce = a["nonce"]
        .as_u64()
        .or(a["time"].as_u64())
        .ok_or("missing nonce")?;
    Ok((digest, nonce))
}

/// A decimal amount as the actions write it (`"12.5"`), positive.
fn amount(v: &Value) -> Option<Decimal> {
    v.as_str()
        .and_then(|s| Decimal::from_str(s.trim()).ok())
        .filter(|a| *a > Decimal::ZERO)
}

fn ok() -> Value {
    json!({"status":"ok","response":{"type":"default"}})
}

impl Exchange {
    /// The perp USDC an account can move out: what its margin does not use.
    pub(super) fn perp_free(&self, user: &Address) -> Decimal {
        self.clearinghouse_state(user, "")["withdrawable"]
            .as_str()
            .and_then(|w| Decimal::from_str(w).ok())
            .unwrap_or_default()
    }

    /// The account `vaultAddress` names, when the signer's account may act for it (it is one
    /// of its sub-accounts, or a vault it leads).
    pub(super) fn acting_for(&self, user: Address, vault: Address) -> Result<Address, String> {
        let Some(a) = self.accounts.get(&vault) else {
            return Err(format!("Vault or sub-account {vault} does not exist."));
        };
        match (a.master, a.vault.as_ref().map(|v| v.leader)) {
            (Some(m), _) | (_, Some(m)) if m == user => Ok(vault),
            (Some(_), _) => Err(format!(
                "User {user} is not the master of sub-account {vault}."
            )),
            (_, Some(_)) => Err(format!("User {user} is not the leader of vault {vault}.")),
            (None, None) => Err(format!("Vault or sub-account {vault} does not exist.")),
        }
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
                let (Some(to), Some(amt)) = (
                    action["destination"].as_str().and_then(Address::parse),
                    amount(&action["amount"]),
                ) else {
                    return err("Invalid destination or amount.");
                };
                if self.perp_free(&user) < amt {
                    return err("Insufficient balance for withdrawal.");
                }
                self.accounts.get_mut(&user).expect("account").usdc -= amt;
                self.accounts
                    .entry(to)
                    .or_insert_with(|| Account::new(Decimal::ZERO))
                    .usdc += amt;
                let delta = json!({"type": "internalTransfer", "usdc": wire(amt), "user": user.to_string(),
                    "destination": to.to_string(), "fee": "0.0"});
                self.ledger(user, delta.clone());
                self.ledger(to, delta);
                ok()
            }
            "spotSend" => {
                let (Some(to), Some(amt)) = (
                    action["destination"].as_str().and_then(Address::parse),
                    amount(&action["amount"]),
                ) else {
                    return err("Invalid destination or amount.");
                };
                // `"PURR:0x…"`: the token's name, then its id.
                let token = action["token"].as_str().unwrap_or_default();
                let name = token.split(':').next().unwrap_or_default().to_string();
                match self.move_spot(user, to, &name, amt) {
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
            // The simulator's perp dexes share one balance (a HIP-3 position's margin is drawn
            // from it): dex abstraction, which is all it offers.
            "userSetAbstraction" if action["abstraction"] == "dexAbstraction" => ok(),
            "userDexAbstraction" if action["enabled"] == true => ok(),
            "userSetAbstraction" | "userDexAbstraction" => {
                err("The simulator offers dex abstraction only: its perp dexes share one balance.")
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
    /// account itself or to another; from a sub-account with `fromSubAccount`. The perp dexes
    /// share one balance here, so a move between two of them is refused as meaningless.
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
        let (Some(to), Some(amt)) = (
            action["destination"].as_str().and_then(Address::parse),
            amount(&action["amount"]),
        ) else {
            return err("Invalid destination or amount.");
        };
        let token = action["token"].as_str().unwrap_or_default();
        let name = token.split(':').next().unwrap_or_default().to_string();
        let src = action["sourceDex"].as_str().unwrap_or_default();
        let dst = action["destinationDex"].as_str().unwrap_or_default();
        match (src, dst) {
            ("", "spot") | ("spot", "") if name == "USDC" && to == from => {
                self.usd_class_transfer(from, amt, src == "spot")
            }
            ("", "") if name == "USDC" => {
                if self.perp_free(&from) < amt {
                    return err("Insufficient balance for transfer.");
                }
                self.accounts.get_mut(&from).expect("account").usdc -= amt;
                self.accounts
                    .entry(to)
                    .or_insert_with(|| Account::new(Decimal::ZERO))
                    .usdc += amt;
                let delta = json!({"type": "send", "user": from.to_string(), "destination": to.to_string(),
                    "sourceDex": "", "destinationDex": "", "token": "USDC", "amount": wire(amt),
                    "usdcValue": wire(amt), "fee": "0.0", "nativeTokenFee": "0.0",
                    "nonce": action["nonce"], "feeToken": ""});
                self.ledger(from, delta.clone());
                self.ledger(to, delta);
                ok()
            }
            ("spot", "spot") => match self.move_spot(from, to, &name, amt) {
                Ok(()) => ok(),
                Err(e) => err(e),
            },
            (s, d)
                if (s.is_empty() || self.dexes.iter().any(|x| x == s))
                    && (d.is_empty() || self.dexes.iter().any(|x| x == d)) =>
            {
                err(
                    "The simulator's perp dexes share one balance (dex abstraction): nothing to move between them.",
                )
            }
            (s, d) => err(format!(
                "Unknown dex `{s}` or `{d}`, or a move the simulator does not make."
            )),
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
    fn move_spot(
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

    /// `createSubAccount`: a new, empty account the master may fund and trade (`vaultAddress`).
    /// Its address is derived from the master and the name, so the same name gives the same
    /// address; a name is used once per master.
    pub(super) fn create_sub_account(&mut self, master: Address, action: &Value) -> Value {
        let Some(name) = action["name"].as_str().filter(|n| !n.trim().is_empty()) else {
            return err("Invalid sub-account name.");
        };
        if self
            .accounts
            .get(&master)
            .is_some_and(|a| a.master.is_some())
        {
            return err("Sub-accounts cannot create sub-accounts.");
        }
        if self
            .accounts
            .values()
            .any(|a| a.master == Some(master) && a.name.as_deref() == Some(name))
        {
            return err("Sub-account name already in use.");
        }
        let mut seed = b"sub-account".to_vec();
        seed.extend_from_slice(&master.0);
        seed.extend_from_slice(name.as_bytes());
        let mut addr = [0u8; 20];
        addr.copy_from_slice(&crate::venue::hyperliquid::signing::keccak(&seed)[12..]);
        let sub = Address(addr);
        let mut acct = Account::new(Decimal::ZERO);
        acct.master = Some(master);
        acct.name = Some(name.to_string());
        self.accounts.insert(sub, acct);
        json!({"status":"ok","response":{"type":"createSubAccount","data": sub.to_string()}})
    }

    /// `subAccountTransfer` (USDC, in millionths, perp to perp) and `subAccountSpotTransfer` (a
    /// spot token): between the master and one of its sub-accounts.
    pub(super) fn sub_account_transfer(&mut self, master: Address, action: &Value) -> Value {
        let Some(sub) = action["subAccountUser"].as_str().and_then(Address::parse) else {
            return err("bad `subAccountUser`");
        };
        if let Err(e) = self.acting_for(master, sub) {
            return err(e);
        }
        let Some(deposit) = action["isDeposit"].as_bool() else {
            return err("missing `isDeposit`");
        };
        let (from, to) = if deposit {
            (master, sub)
        } else {
            (sub, master)
        };
        if action["type"] == "subAccountSpotTransfer" {
            let (Some(amt), Some(token)) = (amount(&action["amount"]), action["token"].as_str())
            else {
                return err("Invalid token or amount.");
            };
            let name = token.split(':').next().unwrap_or_default().to_string();
            return match self.move_spot(from, to, &name, amt) {
                Ok(()) => ok(),
                Err(e) => err(e),
            };
        }
        let Some(usd) = action["usd"].as_u64().filter(|u| *u > 0) else {
            return err("Invalid amount.");
        };
        let amt = Decimal::new(usd as i64, 6);
        if self.perp_free(&from) < amt {
            return err("Insufficient balance for transfer.");
        }
        self.accounts.get_mut(&from).expect("account").usdc -= amt;
        self.accounts.get_mut(&to).expect("account").usdc += amt;
        let delta = json!({"type": "subAccountTransfer", "usdc": wire(amt), "user": from.to_string(),
            "destination": to.to_string()});
        self.ledger(from, delta.clone());
        self.ledger(to, delta);
        ok()
    }

    /// `subAccountModify`: renames a sub-account (a name once per master).
    pub(super) fn sub_account_modify(&mut self, master: Address, action: &Value) -> Value {
        let Some(sub) = action["subAccountUser"].as_str().and_then(Address::parse) else {
            return err("bad `subAccountUser`");
        };
        if let Err(e) = self.acting_for(master, sub) {
            return err(e);
        }
        let Some(name) = action["name"].as_str().filter(|n| !n.trim().is_empty()) else {
            return err("Invalid sub-account name.");
        };
        if self
            .accounts
            .iter()
            .any(|(a, s)| *a != sub && s.master == Some(master) && s.name.as_deref() == Some(name))
        {
            return err("Sub-account name already in use.");
        }
        self.accounts.get_mut(&sub).expect("sub-account").name = Some(name.to_string());
        ok()
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

    /// `subAccounts`: a master's sub-accounts with their perp and spot states (null: none).
    pub(super) fn sub_accounts(&self, master: &Address) -> Value {
        let mut subs: Vec<(&Address, &Account)> = self
            .accounts
            .iter()
            .filter(|(_, a)| a.master == Some(*master))
            .collect();
        subs.sort_by_key(|(_, a)| a.name.clone());
        if subs.is_empty() {
            return Value::Null;
        }
        Value::Array(
            subs.into_iter()
                .map(|(addr, a)| {
                    json!({"name": a.name, "subAccountUser": addr.to_string(), "master": master.to_string(),
                        "clearinghouseState": self.clearinghouse_state(addr, ""),
                        "spotState": self.spot_state(addr)})
                })
                .collect(),
        )
    }
}
