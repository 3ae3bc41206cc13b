//! Sub-accounts: `createSubAccount`, `subAccountModify`, `subAccountTransfer`,
//! `subAccountSpotTransfer`, the info request `subAccounts`, and who may act for an account
//! (`vaultAddress`: a master for its sub-accounts, a leader for its vaults).

use super::transfers::{amount, micro_usd, ok, token_name};
use super::*;

impl Exchange {
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
            let Some(amt) = amount(&action["amount"]) else {
                return err("Invalid token or amount.");
            };
            return match self.move_spot(from, to, &token_name(action), amt) {
                Ok(()) => ok(),
                Err(e) => err(e),
            };
        }
        let Some(amt) = micro_usd(&action["usd"]) else {
            return err("Invalid amount.");
        };
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
}
