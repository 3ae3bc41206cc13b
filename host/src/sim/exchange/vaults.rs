//! Vaults: `createVault`, `vaultTransfer` (deposits and withdrawals, by shares), `vaultModify`,
//! `vaultDistribute`, the leader trading the vault (`vaultAddress`), and the info requests
//! `vaultDetails`, `userVaultEquities` and `leadingVaults`. A vault is an account of its own; its followers own shares of its
//! account value.

use super::transfers::{micro_usd, ok};
use super::*;
use rust_decimal::prelude::ToPrimitive;

/// A follower's lockup after a deposit (the venue's user vaults lock deposits for a day).
const LOCKUP_MS: u64 = 86_400_000;
/// The leader's share of a follower's profit, taken when the follower withdraws.
const LEADER_COMMISSION: Decimal = Decimal::from_parts(1, 0, 0, false, 1);
/// The part of the vault the leader must keep.
const LEADER_MIN_FRACTION: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

/// A vault's book of shares.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Vault {
    pub leader: Address,
    pub name: String,
    pub description: String,
    pub created_ms: u64,
    pub followers: BTreeMap<Address, Follower>,
    /// `vaultModify`: whether others may deposit, and whether a withdrawal closes positions.
    pub allow_deposits: bool,
    pub always_close_on_withdraw: bool,
}

/// One depositor's shares, what they paid in (net of withdrawals, at cost), and since when.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Follower {
    pub shares: Decimal,
    pub basis: Decimal,
    pub entry_ms: u64,
    pub locked_until: u64,
    pub all_time_pnl: Decimal,
}

impl Vault {
    fn total_shares(&self) -> Decimal {
        self.followers.values().map(|f| f.shares).sum()
    }
}

impl Exchange {
    /// An account's whole value: its balance plus the unrealized PnL of all its positions.
    fn account_value(&self, addr: &Address) -> Decimal {
        let now = self.now_ms;
        let marks = |c: &str| self.market_index(c).map(|j| self.markets[j].mid(now));
        self.accounts
            .get(addr)
            .map_or(Decimal::ZERO, |a| a.usdc + a.unrealized(&marks))
    }

    /// A depositor's equity in a vault: its shares of the vault's account value.
    fn vault_equity(&self, vault: &Address, user: &Address) -> Decimal {
        let Some(v) = self.accounts.get(vault).and_then(|a| a.vault.as_ref()) else {
            return Decimal::ZERO;
        };
        let total = v.total_shares();
        match v.followers.get(user) {
            Some(f) if !total.is_zero() => {
                (f.shares * self.account_value(vault) / total).round_dp(6)
            }
            _ => Decimal::ZERO,
        }
    }

    /// `createVault`: a new vault led by the signer, funded with `initialUsd` (millionths, at
    /// least 100 USDC) from its perp balance.
    pub(super) fn create_vault(&mut self, leader: Address, nonce: u64, action: &Value) -> Value {
        let name = action["name"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_string();
        let description = action["description"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !(3..=50).contains(&name.len()) || !(10..=250).contains(&description.len()) {
            return err("Invalid vault name or description.");
        }
        let Some(initial) = micro_usd(&action["initialUsd"]) else {
            return err("Invalid initialUsd.");
        };
        if initial < Decimal::from(100) {
            return err("Initial vault deposit must be at least 100 USDC.");
        }
        if self.perp_free(&leader) < initial {
            return err("Insufficient balance to create vault.");
        }
        if self
            .accounts
            .values()
            .any(|a| a.vault.as_ref().is_some_and(|v| v.name == name))
        {
            return err("Vault name already taken.");
        }
        let mut seed = b"vault".to_vec();
        seed.extend_from_slice(&leader.0);
        seed.extend_from_slice(name.as_bytes());
        seed.extend_from_slice(&nonce.to_be_bytes());
        let mut addr = [0u8; 20];
        addr.copy_from_slice(&crate::venue::hyperliquid::signing::keccak(&seed)[12..]);
        let vault = Address(addr);
        let now = self.now_ms;
        self.accounts.get_mut(&leader).expect("account").usdc -= initial;
        let mut acct = Account::new(initial);
        let mut followers = BTreeMap::new();
        followers.insert(
            leader,
            Follower {
                shares: initial,
                basis: initial,
                entry_ms: now,
                locked_until: now,
                all_time_pnl: Decimal::ZERO,
            },
        );
        acct.vault = Some(Vault {
            leader,
            name,
            description,
            created_ms: now,
            followers,
            allow_deposits: true,
            always_close_on_withdraw: false,
        });
        self.accounts.insert(vault, acct);
        self.ledger(
            leader,
            json!({"type": "vaultCreate", "vault": vault.to_string(), "usdc": wire(initial), "fee": "0.0"}),
        );
        json!({"status":"ok","response":{"type":"createVault","data": vault.to_string()}})
    }

    /// `vaultTransfer`: a deposit buys shares at the vault's current value per share and locks
    /// for a day (not the leader's); a withdrawal sells them, after the lockup, pays the leader
    /// its commission on the profit withdrawn, and must leave the leader 5% of the vault.
    pub(super) fn vault_transfer(&mut self, user: Address, action: &Value) -> Value {
        let Some(vault) = action["vaultAddress"].as_str().and_then(Address::parse) else {
            return err("bad `vaultAddress`");
        };
        let (Some(deposit), Some(amt)) = (action["isDeposit"].as_bool(), micro_usd(&action["usd"]))
        else {
            return err("Invalid vault transfer.");
        };
        let value = self.account_value(&vault);
        let now = self.now_ms;
        let free = self.perp_free(&vault);
        let equity = self.vault_equity(&vault, &user);
        let Some(v) = self.accounts.get(&vault).and_then(|a| a.vault.clone()) else {
            return err(format!("Vault {vault} does not exist."));
        };
        let total = v.total_shares();
        let per_share = if total.is_zero() {
            Decimal::ONE
        } else {
            value / total
        };
        let mut v = v;
        if deposit {
            if !v.allow_deposits && user != v.leader {
                return err("Deposits are not allowed to this vault.");
            }
            if self.perp_free(&user) < amt {
                return err("Insufficient balance for vault deposit.");
            }
            let f = v.followers.entry(user).or_default();
            if f.shares.is_zero() {
                f.entry_ms = now;
            }
            f.shares += amt / per_share;
            f.basis += amt;
            if user != v.leader {
                f.locked_until = now + LOCKUP_MS;
            }
            self.accounts.get_mut(&user).expect("account").usdc -= amt;
            self.accounts.get_mut(&vault).expect("vault").usdc += amt;
            self.ledger(
                user,
                json!({"type": "vaultDeposit", "vault": vault.to_string(), "usdc": wire(amt)}),
            );
        } else {
            let Some(f) = v.followers.get(&user).cloned() else {
                return err("Not a depositor of this vault.");
            };
            if f.locked_until > now {
                return err(format!(
                    "Cannot withdraw from vault until lockup ends at {}.",
                    f.locked_until
                ));
            }
            if equity < amt || free < amt {
                return err("Insufficient vault equity to withdraw.");
            }
            let burned = amt / per_share;
            let fraction = amt / equity;
            let cost = (f.basis * fraction).round_dp(6);
            let profit = amt - cost;
            let mut paid = amt;
            if user != v.leader && profit > Decimal::ZERO {
                // The leader's commission stays in the vault, as the leader's shares.
                let commission = (profit * LEADER_COMMISSION).round_dp(6);
                paid -= commission;
                v.followers.entry(v.leader).or_default().shares += commission / per_share;
            }
            let fo = v.followers.get_mut(&user).expect("follower");
            fo.shares -= burned;
            fo.basis -= cost;
            fo.all_time_pnl += paid - cost;
            if fo.shares <= Decimal::new(1, 9) {
                v.followers.remove(&user);
            }
            let left_total = v.total_shares();
            let leader_shares = v
                .followers
                .get(&v.leader)
                .map_or(Decimal::ZERO, |l| l.shares);
            if user == v.leader
                && !left_total.is_zero()
                && leader_shares / left_total < LEADER_MIN_FRACTION
            {
                return err("Leader must keep at least 5% of the vault.");
            }
            self.accounts.get_mut(&vault).expect("vault").usdc -= paid;
            self.accounts.get_mut(&user).expect("account").usdc += paid;
            self.ledger(
                user,
                json!({"type": "vaultWithdraw", "vault": vault.to_string(), "user": user.to_string(),
                    "requestedUsd": wire(amt), "commission": wire(amt - paid), "closingCost": "0.0",
                    "basis": wire(cost), "netWithdrawnUsd": wire(paid)}),
            );
        }
        self.accounts.get_mut(&vault).expect("vault").vault = Some(v);
        ok()
    }

    /// `vaultDetails`: the vault, its followers (the leader as `"Leader"`), and `user`'s state.
    pub(super) fn vault_details(
        &self,
        vault: &Address,
        user: Option<Address>,
    ) -> Result<Value, String> {
        let Some(v) = self.accounts.get(vault).and_then(|a| a.vault.as_ref()) else {
            return Err(format!("Vault {vault} does not exist."));
        };
        let now = self.now_ms;
        let total = v.total_shares();
        let follower = |who: &Address, f: &Follower| {
            let equity = self.vault_equity(vault, who);
            json!({"user": if *who == v.leader { "Leader".to_string() } else { who.to_string() },
                "vaultEquity": wire(equity), "pnl": wire(equity - f.basis),
                "allTimePnl": wire(f.all_time_pnl + equity - f.basis),
                "daysFollowing": (now.saturating_sub(f.entry_ms)) / LOCKUP_MS,
                "vaultEntryTime": f.entry_ms, "lockupUntil": f.locked_until})
        };
        let value = wire(self.account_value(vault));
        let history = json!({"accountValueHistory": [[now, value]], "pnlHistory": [[now, "0.0"]], "vlm": "0.0"});
        let leader_fraction = v
            .followers
            .get(&v.leader)
            .filter(|_| !total.is_zero())
            .map_or(Decimal::ZERO, |l| l.shares / total);
        let max_withdrawable = user
            .map(|u| self.vault_equity(vault, &u).min(self.perp_free(vault)))
            .unwrap_or_default();
        Ok(
            json!({"name": v.name, "vaultAddress": vault.to_string(), "leader": v.leader.to_string(),
            "description": v.description,
            "portfolio": [["day", history], ["week", history], ["month", history], ["allTime", history]],
            "apr": 0.0,
            "followerState": user.and_then(|u| v.followers.get(&u).map(|f| follower(&u, f))),
            "leaderFraction": leader_fraction.round_dp(6).to_f64().unwrap_or(0.0),
            "leaderCommission": 0.1,
            "followers": v.followers.iter().map(|(a, f)| follower(a, f)).collect::<Vec<_>>(),
            "maxDistributable": self.perp_free(vault).to_f64().unwrap_or(0.0),
            "maxWithdrawable": max_withdrawable.to_f64().unwrap_or(0.0),
            "isClosed": false, "relationship": {"type": "normal"}, "allowDeposits": v.allow_deposits,
            "alwaysCloseOnWithdraw": v.always_close_on_withdraw}),
        )
    }

    /// The vault `vault`, when `leader` leads it.
    fn led_by(&self, leader: Address, vault: &Value) -> Result<(Address, Vault), String> {
        let addr = vault
            .as_str()
            .and_then(Address::parse)
            .ok_or("bad `vaultAddress`")?;
        match self.accounts.get(&addr).and_then(|a| a.vault.clone()) {
            Some(v) if v.leader == leader => Ok((addr, v)),
            Some(_) => Err(format!("User {leader} is not the leader of vault {addr}.")),
            None => Err(format!("Vault {addr} does not exist.")),
        }
    }

    /// `vaultModify`: the leader sets `allowDeposits` and `alwaysCloseOnWithdraw` (null: as was).
    pub(super) fn vault_modify(&mut self, leader: Address, action: &Value) -> Value {
        let (addr, mut v) = match self.led_by(leader, &action["vaultAddress"]) {
            Ok(x) => x,
            Err(e) => return err(e),
        };
        if let Some(b) = action["allowDeposits"].as_bool() {
            v.allow_deposits = b;
        }
        if let Some(b) = action["alwaysCloseOnWithdraw"].as_bool() {
            v.always_close_on_withdraw = b;
        }
        self.accounts.get_mut(&addr).expect("vault").vault = Some(v);
        ok()
    }

    /// `vaultDistribute`: the leader pays `usd` (millionths) out of the vault to its depositors
    /// by their shares; each one's shares shrink by what it was paid, at the value per share.
    pub(super) fn vault_distribute(&mut self, leader: Address, action: &Value) -> Value {
        let (addr, mut v) = match self.led_by(leader, &action["vaultAddress"]) {
            Ok(x) => x,
            Err(e) => return err(e),
        };
        let Some(amt) = micro_usd(&action["usd"]) else {
            return err("Invalid amount.");
        };
        let value = self.account_value(&addr);
        let total = v.total_shares();
        if amt > self.perp_free(&addr) || total.is_zero() || value <= Decimal::ZERO {
            return err("Insufficient vault balance to distribute.");
        }
        let per_share = value / total;
        let mut paid = Vec::new();
        for (who, f) in v.followers.iter_mut() {
            let part = (amt * f.shares / total).round_dp(6);
            let equity = f.shares * per_share;
            if !equity.is_zero() {
                f.basis -= (f.basis * part / equity).round_dp(6);
            }
            f.shares -= part / per_share;
            paid.push((*who, part));
        }
        for (who, part) in paid {
            self.accounts.get_mut(&addr).expect("vault").usdc -= part;
            self.accounts
                .entry(who)
                .or_insert_with(|| Account::new(Decimal::ZERO))
                .usdc += part;
            self.ledger(
                who,
                json!({"type": "vaultDistribution", "vault": addr.to_string(), "usdc": wire(part)}),
            );
        }
        self.accounts.get_mut(&addr).expect("vault").vault = Some(v);
        ok()
    }

    /// `leadingVaults`: the vaults `user` leads.
    pub(super) fn leading_vaults(&self, user: &Address) -> Value {
        let mut out: Vec<Value> = self
            .accounts
            .iter()
            .filter_map(|(addr, a)| {
                let v = a.vault.as_ref().filter(|v| v.leader == *user)?;
                Some(json!({"address": addr.to_string(), "name": v.name}))
            })
            .collect();
        out.sort_by(|a, b| a["address"].as_str().cmp(&b["address"].as_str()));
        Value::Array(out)
    }

    /// `userVaultEquities`: the vaults `user` holds shares of.
    pub(super) fn user_vault_equities(&self, user: &Address) -> Value {
        let mut out: Vec<Value> = self
            .accounts
            .iter()
            .filter_map(|(addr, a)| {
                let f = a.vault.as_ref()?.followers.get(user)?;
                Some(json!({"vaultAddress": addr.to_string(),
                    "equity": wire(self.vault_equity(addr, user)), "lockedUntilTimestamp": f.locked_until}))
            })
            .collect();
        out.sort_by(|a, b| a["vaultAddress"].as_str().cmp(&b["vaultAddress"].as_str()));
        Value::Array(out)
    }
}
