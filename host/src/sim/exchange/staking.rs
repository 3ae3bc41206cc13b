//! Staking the native token (the spot token named `HYPE`, when `[[sim.spot]]` lists it):
//! `cDeposit` (spot → staking, at once), `cWithdraw` (staking → spot after the venue's 7-day
//! queue), `tokenDelegate` (to or from the simulator's one validator; a delegation is locked for
//! a day), and the info requests `delegatorSummary`, `delegations`, `delegatorHistory`,
//! `delegatorRewards` and `validatorSummaries`. No staking rewards are paid.

use super::transfers::ok;
use super::*;
use rust_decimal::prelude::ToPrimitive;

/// The native token's name, and its wei per token (the venue's HYPE: 8 decimals).
pub const NATIVE: &str = "HYPE";
const WEI_DECIMALS: u32 = 8;
const UNSTAKE_MS: u64 = 7 * 86_400_000;
const DELEGATION_LOCK_MS: u64 = 86_400_000;
/// The simulator's one validator.
pub const VALIDATOR: &str = "0x000000000000000000000000000000000000a11d";

/// An account's staking: what is staked and not delegated, its delegations, withdrawals in the
/// queue, and its history.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Staking {
    pub undelegated: Decimal,
    /// validator → (amount, locked until ms).
    pub delegations: BTreeMap<Address, (Decimal, u64)>,
    /// (amount, ready at ms).
    pub pending: Vec<(Decimal, u64)>,
    pub history: Vec<Value>,
}

impl Staking {
    /// All the staked tokens: undelegated, delegated and in the withdrawal queue.
    pub fn total(&self) -> Decimal {
        self.undelegated
            + self.delegations.values().map(|(d, _)| *d).sum::<Decimal>()
            + self.pending.iter().map(|(p, _)| *p).sum::<Decimal>()
    }
}

impl Exchange {
    fn native_listed(&self) -> bool {
        self.spot_pairs.iter().any(|(_, b)| b == NATIVE)
    }

    fn staking_event(&mut self, user: Address, delta: Value) {
        let (time, tid) = (self.now_ms, self.next_tid);
        self.next_tid += 1;
        let a = self.accounts.get_mut(&user).expect("account");
        a.staking
            .history
            .push(json!({"time": time, "hash": format!("0x{tid:064x}"), "delta": delta}));
    }

    /// `cDeposit`, `cWithdraw`, `tokenDelegate` for `user` (its own signature, already checked).
    pub(super) fn staking_action(&mut self, user: Address, action: &Value) -> Value {
        if !self.native_listed() {
            return err(format!(
                "The simulator lists no {NATIVE} token to stake ([[sim.spot]] base = \"{NATIVE}\")."
            ));
        }
        let Some(wei) = action["wei"].as_u64().filter(|w| *w > 0) else {
            return err("Invalid wei.");
        };
        let amt = Decimal::new(wei as i64, WEI_DECIMALS);
        let now = self.now_ms;
        match action["type"].as_str().unwrap_or_default() {
            "cDeposit" => {
                if self.spot_free(&user, NATIVE) < amt {
                    return err(format!("Insufficient {NATIVE} spot balance to stake."));
                }
                let a = self.accounts.get_mut(&user).expect("account");
                a.spot.entry(NATIVE.into()).or_default().total -= amt;
                a.staking.undelegated += amt;
                self.staking_event(user, json!({"cDeposit": {"amount": wire(amt)}}));
            }
            "cWithdraw" => {
                let a = self.accounts.get_mut(&user).expect("account");
                if a.staking.undelegated < amt {
                    return err("Insufficient undelegated stake to withdraw.");
                }
                a.staking.undelegated -= amt;
                a.staking.pending.push((amt, now + UNSTAKE_MS));
                self.staking_event(
                    user,
                    json!({"withdrawal": {"amount": wire(amt), "phase": "initiated"}}),
                );
            }
            "tokenDelegate" => {
                let validator = action["validator"].as_str().and_then(Address::parse);
                if validator != Address::parse(VALIDATOR) {
                    return err("Unknown validator.");
                }
                let validator = validator.expect("validator");
                let undelegate = action["isUndelegate"].as_bool().unwrap_or(false);
                let a = self.accounts.get_mut(&user).expect("account");
                let d = a.staking.delegations.entry(validator).or_default();
                if undelegate {
                    if d.0 < amt {
                        return err("Insufficient delegation to undelegate.");
                    }
                    if d.1 > now {
                        return err(format!("Delegation is locked until {}.", d.1));
                    }
                    d.0 -= amt;
                    a.staking.undelegated += amt;
                } else {
                    if a.staking.undelegated < amt {
                        return err("Insufficient undelegated stake to delegate.");
                    }
                    d.0 += amt;
                    d.1 = now + DELEGATION_LOCK_MS;
                    a.staking.undelegated -= amt;
                }
                a.staking.delegations.retain(|_, (x, _)| !x.is_zero());
                self.staking_event(
                    user,
                    json!({"delegate": {"validator": VALIDATOR, "amount": wire(amt), "isUndelegate": undelegate}}),
                );
            }
            other => return err(format!("unknown action type {other:?}")),
        }
        ok()
    }

    /// Pays out the user's withdrawals whose 7 days are over, into its spot wallet.
    pub(super) fn settle_staking(&mut self, user: Address) {
        let now = self.now_ms;
        let a = self.accounts.get_mut(&user).expect("account");
        if a.staking.pending.iter().all(|(_, t)| *t > now) {
            return;
        }
        let (ready, waiting): (Vec<_>, Vec<_>) =
            a.staking.pending.drain(..).partition(|(_, t)| *t <= now);
        a.staking.pending = waiting;
        for (amt, _) in ready {
            self.accounts
                .get_mut(&user)
                .expect("account")
                .spot
                .entry(NATIVE.into())
                .or_default()
                .total += amt;
            self.staking_event(
                user,
                json!({"withdrawal": {"amount": wire(amt), "phase": "finalized"}}),
            );
        }
    }

    pub(super) fn staking_info(&self, kind: &str, u: &Address) -> Option<Value> {
        let s = self
            .accounts
            .get(u)
            .map(|a| a.staking.clone())
            .unwrap_or_default();
        Some(match kind {
            "delegatorSummary" => {
                let delegated: Decimal = s.delegations.values().map(|(x, _)| *x).sum();
                let pending: Decimal = s.pending.iter().map(|(x, _)| *x).sum();
                json!({"delegated": wire(delegated), "undelegated": wire(s.undelegated),
                    "totalPendingWithdrawal": wire(pending), "nPendingWithdrawals": s.pending.len()})
            }
            "delegations" => Value::Array(
                s.delegations
                    .iter()
                    .map(|(v, (x, until))| {
                        json!({"validator": v.to_string(), "amount": wire(*x), "lockedUntilTimestamp": until})
                    })
                    .collect(),
            ),
            "delegatorHistory" => Value::Array(s.history.iter().rev().cloned().collect()),
            // The simulator pays no staking rewards.
            "delegatorRewards" => json!([]),
            _ => return None,
        })
    }

    /// `validatorSummaries`: the simulator's one validator, with every account's delegations.
    pub(super) fn validator_summaries(&self) -> Value {
        let stake: Decimal = self
            .accounts
            .values()
            .flat_map(|a| a.staking.delegations.values().map(|(x, _)| *x))
            .sum();
        let stats = json!({"uptimeFraction": "1.0", "predictedApr": "0.0", "nSamples": 0});
        json!([{"validator": VALIDATOR, "signer": VALIDATOR, "name": "simulator",
            "description": "The simulator's own validator (no rewards are paid)",
            "nRecentBlocks": 0, "stake": (stake * Decimal::from(10u64.pow(WEI_DECIMALS))).trunc().to_u64().unwrap_or(0),
            "isJailed": false, "unjailableAfter": null, "isActive": true, "commission": "0.0",
            "stats": [["day", stats], ["week", stats], ["month", stats]]}])
    }
}
