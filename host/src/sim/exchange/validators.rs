//! Validators besides the simulator's own, as the venue's staking page gives them:
//! `CValidatorAction` `register` (a self-delegation of at least 10,000 HYPE, or
//! `[sim.staking] validator_self_delegation`, from the account's
//! staking balance, a commission, a signer, whether others may delegate), `changeProfile` (a
//! commission rises only to at most 1%), `unregister` (its delegations go back to its
//! delegators' staking balances), and `CSignerAction` `jailSelf` / `unjailSelf` by its signer.
//! A validator is active while its self-delegation is at least 10,000 HYPE and it is not
//! jailed; only an active one earns rewards, and it takes its commission of its delegators'.

use super::staking::VALIDATOR;
use super::transfers::ok;
use super::*;

const BPS_ONE: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// A registered validator.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Validator {
    pub name: String,
    pub description: String,
    pub signer: Address,
    /// A fraction (`commission_bps` / 10,000).
    pub commission: Decimal,
    pub delegations_disabled: bool,
    pub jailed: bool,
}

impl Exchange {
    /// `CValidatorAction` and `CSignerAction`, by `user`.
    pub(super) fn validator_action(&mut self, user: Address, action: &Value) -> Value {
        let r = match action["type"].as_str() {
            Some("CSignerAction") => self.signer_action(user, action),
            _ if action.get("register").is_some() => {
                self.register_validator(user, &action["register"])
            }
            _ if action.get("changeProfile").is_some() => {
                self.change_profile(user, &action["changeProfile"])
            }
            _ if action.get("unregister").is_some() => self.unregister_validator(user),
            _ => Err("Unknown CValidatorAction.".into()),
        };
        match r {
            Ok(()) => ok(),
            Err(e) => err(e),
        }
    }

    fn register_validator(&mut self, user: Address, r: &Value) -> Result<(), String> {
        if self.validators.contains_key(&user)
            || user == Address::parse(VALIDATOR).expect("address")
        {
            return Err("Validator already registered.".into());
        }
        let p = &r["profile"];
        let (Some(signer), Some(bps), Some(wei)) = (
            p["signer"].as_str().and_then(Address::parse),
            p["commission_bps"].as_u64(),
            r["initial_wei"].as_u64(),
        ) else {
            return Err(
                "Invalid register: profile.signer, profile.commission_bps, initial_wei.".into(),
            );
        };
        let stake = Decimal::new(wei as i64, super::staking::WEI_DECIMALS);
        let needed = self.staking.validator_self_delegation;
        if stake < needed {
            return Err(format!(
                "A validator self-delegates at least {needed} HYPE."
            ));
        }
        if bps > 10_000 {
            return Err("Invalid commission_bps.".into());
        }
        let s = &mut self.accounts.get_mut(&user).expect("account").staking;
        if s.undelegated < stake {
            return Err("Insufficient undelegated stake for the self-delegation.".into());
        }
        s.undelegated -= stake;
        let now = self.now_ms;
        let d = s.delegations.entry(user).or_default();
        d.0 += stake;
        d.1 = now + super::staking::DELEGATION_LOCK_MS;
        self.validators.insert(
            user,
            Validator {
                name: p["name"].as_str().unwrap_or_default().to_string(),
                description: p["description"].as_str().unwrap_or_default().to_string(),
                signer,
                commission: Decimal::from(bps) / BPS_ONE,
                delegations_disabled: p["delegations_disabled"].as_bool().unwrap_or(false),
                jailed: !r["unjailed"].as_bool().unwrap_or(false),
            },
        );
        Ok(())
    }

    fn change_profile(&mut self, user: Address, c: &Value) -> Result<(), String> {
        let v = self
            .validators
            .get_mut(&user)
            .ok_or("Not a registered validator.")?;
        if let Some(bps) = c["commission_bps"].as_u64() {
            let new = Decimal::from(bps) / BPS_ONE;
            if new > v.commission && new > Decimal::new(1, 2) {
                return Err("A commission may be raised only to at most 1%.".into());
            }
            v.commission = new;
        }
        if let Some(n) = c["name"].as_str() {
            v.name = n.to_string();
        }
        if let Some(d) = c["description"].as_str() {
            v.description = d.to_string();
        }
        if let Some(s) = c["signer"].as_str() {
            v.signer = Address::parse(s).ok_or("Invalid signer.")?;
        }
        if let Some(d) = c["disable_delegations"].as_bool() {
            v.delegations_disabled = d;
        }
        if c["unjailed"].as_bool() == Some(true) {
            v.jailed = false;
        }
        Ok(())
    }

    fn unregister_validator(&mut self, user: Address) -> Result<(), String> {
        self.validators
            .remove(&user)
            .ok_or("Not a registered validator.")?;
        for a in self.accounts.values_mut() {
            if let Some((x, _)) = a.staking.delegations.remove(&user) {
                a.staking.undelegated += x;
            }
        }
        Ok(())
    }

    fn signer_action(&mut self, user: Address, action: &Value) -> Result<(), String> {
        let jail = if action.get("jailSelf").is_some() {
            true
        } else if action.get("unjailSelf").is_some() {
            false
        } else {
            return Err("Unknown CSignerAction.".into());
        };
        let v = self
            .validators
            .values_mut()
            .find(|v| v.signer == user)
            .ok_or("Not a validator's signer.")?;
        v.jailed = jail;
        Ok(())
    }

    /// The commission (a fraction) a validator takes, and whether it earns rewards now (None:
    /// no such validator).
    pub(super) fn validator_terms(&self, v: &Address) -> Option<(Decimal, bool)> {
        if *v == Address::parse(VALIDATOR).expect("address") {
            return Some((self.staking.commission, true));
        }
        let val = self.validators.get(v)?;
        let own = self
            .accounts
            .get(v)
            .and_then(|a| a.staking.delegations.get(v))
            .map_or(Decimal::ZERO, |(x, _)| *x);
        Some((
            val.commission,
            !val.jailed && own >= self.staking.validator_self_delegation,
        ))
    }

    /// Whether `user` may delegate to `v`.
    pub(super) fn may_delegate(&self, user: &Address, v: &Address) -> Result<(), String> {
        match (self.validator_terms(v), self.validators.get(v)) {
            (None, _) => Err("Unknown validator.".into()),
            (_, Some(val)) if val.delegations_disabled && user != v => {
                Err("This validator does not take delegations.".into())
            }
            _ => Ok(()),
        }
    }

    /// The registered validators' `validatorSummaries` entries.
    pub(super) fn registered_summaries(&self, stats: &Value) -> Vec<Value> {
        self.validators
            .iter()
            .map(|(addr, v)| {
                let stake: Decimal = self
                    .accounts
                    .values()
                    .filter_map(|a| a.staking.delegations.get(addr).map(|(x, _)| *x))
                    .sum();
                let (_, active) = self.validator_terms(addr).unwrap_or_default();
                json!({"validator": addr.to_string(), "signer": v.signer.to_string(), "name": v.name,
                    "description": v.description, "nRecentBlocks": 0,
                    "stake": super::staking::wei(stake),
                    "isJailed": v.jailed, "unjailableAfter": null, "isActive": active,
                    "commission": wire(v.commission), "stats": stats})
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tests::{KEY, ex, l1, raw};
    use crate::venue::hyperliquid::signing::PrivateKey;

    /// A registered validator with a 10% commission: its delegator's rewards are 90% of the
    /// rate's, the validator gets the rest as "commission"; jailed, neither earns; a validator
    /// short of its self-delegation cannot register.
    #[test]
    fn a_validators_commission_and_jail_decide_the_rewards() {
        let mut e = ex();
        let me = PrivateKey::from_hex(KEY).unwrap().address();
        let friend = Address([9; 20]);
        e.accounts.insert(friend, Account::new(Decimal::ONE));
        e.accounts.get_mut(&me).unwrap().staking.undelegated = Decimal::from(20_000);
        let register = |wei: u64| {
            json!({"type": "CValidatorAction", "register": {"profile": {"node_ip": {"Ip": "127.0.0.3"},
            "name": "v", "description": "", "delegations_disabled": false, "commission_bps": 1_000,
            "signer": me.to_string()}, "unjailed": true, "initial_wei": wei}})
        };
        let r = raw(&mut e, register(9_999 * 100_000_000));
        assert!(
            r["response"].as_str().unwrap().contains("at least 10000"),
            "{r}"
        );
        l1(&mut e, register(10_000 * 100_000_000));
        let d = e.accounts.get_mut(&friend).unwrap();
        d.staking.delegations.insert(me, (Decimal::from(1_000), 0));
        let t0 = e.now_ms;
        e.tick(t0 + 1);
        let day = 86_400_000;
        let midnight = (t0 / day + 1) * day;
        e.tick(midnight + day);
        let rewards = |e: &Exchange, a: &Address| {
            e.info(&json!({"type": "delegatorRewards", "user": a.to_string()}))
                .unwrap()
        };
        let amount = |v: &Value| {
            v["totalAmount"]
                .as_str()
                .unwrap()
                .parse::<Decimal>()
                .unwrap()
        };
        let fr = rewards(&e, &friend);
        let mine = rewards(&e, &me);
        let commission: Vec<&Value> = mine
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["source"] == "commission")
            .collect();
        assert_eq!(commission.len(), 2, "{mine}");
        // For each day, the friend's reward is 9 times the commission on it.
        for (f, c) in fr.as_array().unwrap().iter().zip(&commission) {
            let ratio = amount(f) / amount(c);
            assert!(
                (ratio - Decimal::from(9)).abs() < Decimal::new(1, 4),
                "{f} {c}"
            );
        }
        // Jailed: nothing accrues.
        e.validators.get_mut(&me).unwrap().jailed = true;
        e.tick(midnight + 3 * day);
        assert_eq!(rewards(&e, &friend).as_array().unwrap().len(), 2);
    }
}
