//! Staking the native token (the spot token named `HYPE`, when `[[sim.spot]]` lists it):
//! `cDeposit` (spot → staking, at once), `cWithdraw` (staking → spot after the venue's 7-day
//! queue), `tokenDelegate` (to or from the simulator's one validator; a delegation is locked for
//! a day), rewards (by the venue's rate, accrued by the minute, distributed daily and
//! redelegated), and the info requests `delegatorSummary`, `delegations`, `delegatorHistory`,
//! `delegatorRewards` and `validatorSummaries`.

use super::transfers::ok;
use super::*;
use rust_decimal::prelude::ToPrimitive;

/// The native token's name, and its wei per token (the venue's HYPE: 8 decimals).
pub const NATIVE: &str = "HYPE";
pub(super) const WEI_DECIMALS: u32 = 8;
const UNSTAKE_MS: u64 = 7 * 86_400_000;
pub(super) const DELEGATION_LOCK_MS: u64 = 86_400_000;
/// The simulator's one validator.
pub const VALIDATOR: &str = "0x000000000000000000000000000000000000a11d";

/// An account's staking: what is staked and not delegated, its delegations, withdrawals in the
/// queue, and its history.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Staking {
    pub undelegated: Decimal,
    /// validator → (amount, locked until ms).
    pub delegations: BTreeMap<Address, (Decimal, u64)>,
    /// (amount, ready at ms).
    pub pending: Vec<(Decimal, u64)>,
    pub history: Vec<Value>,
    /// Rewards accrued by the minute and not yet distributed, by validator.
    pub accrued: BTreeMap<Address, Decimal>,
    /// The validators' commissions on those rewards, paid to them with the rewards.
    pub commission_accrued: BTreeMap<Address, Decimal>,
    /// The next minute rewards accrue on (ms; 0: not started).
    pub next_minute_ms: u64,
    /// `delegatorRewards` entries, oldest first.
    pub rewards: Vec<Value>,
}

const MINUTE_MS: u64 = 60_000;
const MINUTES_A_YEAR: u64 = 365 * 24 * 60;

/// `[sim.staking]`: the network the simulator's validator stands in for.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StakingRules {
    /// HYPE staked on the rest of the network, beyond what the simulator's accounts delegate:
    /// the reward rate falls with the square root of all that is staked.
    #[serde(default = "default_network_stake")]
    pub network_stake: Decimal,
    /// The simulator's validator's commission on its delegators' rewards.
    #[serde(default)]
    pub commission: Decimal,
    /// The self-delegation a registered validator needs to be active, HYPE (the venue's
    /// 10,000 unless set).
    #[serde(default = "default_self_delegation")]
    pub validator_self_delegation: Decimal,
}

fn default_self_delegation() -> Decimal {
    Decimal::from(10_000)
}

fn default_network_stake() -> Decimal {
    Decimal::from(400_000_000)
}

impl Default for StakingRules {
    fn default() -> Self {
        StakingRules {
            network_stake: default_network_stake(),
            commission: Decimal::ZERO,
            validator_self_delegation: default_self_delegation(),
        }
    }
}

/// √x, by Newton's method, to Decimal's precision.
fn sqrt(x: Decimal) -> Decimal {
    if x <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    let mut g = if x > Decimal::ONE {
        x / Decimal::TWO
    } else {
        Decimal::ONE
    };
    for _ in 0..100 {
        let next = (g + x / g) / Decimal::TWO;
        if next == g {
            break;
        }
        g = next;
    }
    g
}

impl Staking {
    /// All the staked tokens: undelegated, delegated and in the withdrawal queue.
    pub fn total(&self) -> Decimal {
        self.staked() + self.pending.iter().map(|(p, _)| *p).sum::<Decimal>()
    }

    /// What is staked and not on its way out: undelegated and delegated.
    pub fn staked(&self) -> Decimal {
        self.undelegated + self.delegations.values().map(|(d, _)| *d).sum::<Decimal>()
    }
}

/// HYPE in wei (8 decimals), as `validatorSummaries`' `stake` is written.
pub(super) fn wei(hype: Decimal) -> u64 {
    (hype * Decimal::from(10u64.pow(WEI_DECIMALS)))
        .trunc()
        .to_u64()
        .unwrap_or(0)
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
                let Some(validator) = action["validator"].as_str().and_then(Address::parse) else {
                    return err("Unknown validator.");
                };
                let undelegate = action["isUndelegate"].as_bool().unwrap_or(false);
                if !undelegate && let Err(e) = self.may_delegate(&user, &validator) {
                    return err(e);
                }
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
                    json!({"delegate": {"validator": validator.to_string(), "amount": wire(amt), "isUndelegate": undelegate}}),
                );
            }
            other => return err(format!("unknown action type {other:?}")),
        }
        ok()
    }

    /// The yearly staking reward rate, as the venue's docs give it: 2.37% at 400M HYPE staked,
    /// inversely proportional to the square root of all that is staked.
    pub(super) fn staking_rate(&self) -> Decimal {
        let mine: Decimal = self
            .accounts
            .values()
            .flat_map(|a| a.staking.delegations.values().map(|(x, _)| *x))
            .sum();
        let total = self.staking.network_stake + mine;
        if total <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        Decimal::new(237, 4) * sqrt(Decimal::from(400_000_000) / total)
    }

    /// Rewards accrue on every minute passed, on what is delegated then, and are distributed
    /// each day (00:00 UTC) less the validator's commission, redelegated to it (compounded).
    fn accrue_rewards(&mut self, user: Address) {
        let now = self.now_ms;
        let a = &self.accounts[&user];
        if a.staking.delegations.is_empty() && a.staking.accrued.is_empty() {
            self.accounts
                .get_mut(&user)
                .expect("account")
                .staking
                .next_minute_ms = (now / MINUTE_MS + 1) * MINUTE_MS;
            return;
        }
        if a.staking.next_minute_ms > now {
            return;
        }
        let per_minute = self.staking_rate() / Decimal::from(MINUTES_A_YEAR);
        let terms: BTreeMap<Address, (Decimal, bool)> = a
            .staking
            .delegations
            .keys()
            .map(|v| {
                (
                    *v,
                    self.validator_terms(v).unwrap_or((Decimal::ZERO, false)),
                )
            })
            .collect();
        let mut commissions = Vec::new();
        let s = &mut self.accounts.get_mut(&user).expect("account").staking;
        if s.next_minute_ms == 0 {
            s.next_minute_ms = (now / MINUTE_MS + 1) * MINUTE_MS;
        }
        while s.next_minute_ms <= now {
            let t = s.next_minute_ms;
            for (v, (x, _)) in &s.delegations {
                let Some((commission, true)) = terms.get(v).copied() else {
                    continue;
                };
                let gross = *x * per_minute;
                // A validator takes no commission on its own stake.
                let cut = if *v == user {
                    Decimal::ZERO
                } else {
                    gross * commission
                };
                *s.accrued.entry(*v).or_default() += gross - cut;
                *s.commission_accrued.entry(*v).or_default() += cut;
            }
            if t % DAY_MS == 0 {
                for (v, c) in std::mem::take(&mut s.commission_accrued) {
                    commissions.push((v, c.round_dp(WEI_DECIMALS), t));
                }
                for (v, acc) in std::mem::take(&mut s.accrued) {
                    let paid = acc.round_dp(WEI_DECIMALS);
                    if paid.is_zero() {
                        continue;
                    }
                    s.delegations.entry(v).or_default().0 += paid;
                    s.rewards.push(
                        json!({"time": t, "source": "delegation", "totalAmount": wire(paid)}),
                    );
                }
            }
            s.next_minute_ms += MINUTE_MS;
        }
        // Commissions go to the validators' own accounts, redelegated to themselves.
        for (v, c, t) in commissions {
            if c.is_zero() {
                continue;
            }
            if let Some(va) = self.accounts.get_mut(&v) {
                va.staking.delegations.entry(v).or_default().0 += c;
                va.staking
                    .rewards
                    .push(json!({"time": t, "source": "commission", "totalAmount": wire(c)}));
            }
        }
    }

    /// Accrues and distributes the user's staking rewards, and pays out its withdrawals whose
    /// 7 days are over, into its spot wallet.
    pub(super) fn settle_staking(&mut self, user: Address) {
        self.accrue_rewards(user);
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
            "delegatorRewards" => Value::Array(s.rewards.iter().rev().cloned().collect()),
            _ => return None,
        })
    }

    /// `validatorSummaries`: the simulator's own validator, with every account's delegations to
    /// it, then the registered ones.
    pub(super) fn validator_summaries(&self) -> Value {
        let own = Address::parse(VALIDATOR).expect("address");
        let stake: Decimal = self
            .accounts
            .values()
            .filter_map(|a| a.staking.delegations.get(&own).map(|(x, _)| *x))
            .sum();
        let apr = (self.staking_rate() * (Decimal::ONE - self.staking.commission)).round_dp(8);
        let stats = json!({"uptimeFraction": "1.0", "predictedApr": wire(apr), "nSamples": 0});
        let stats = json!([["day", stats], ["week", stats], ["month", stats]]);
        let mut all = vec![
            json!({"validator": VALIDATOR, "signer": VALIDATOR, "name": "simulator",
            "description": "The simulator's own validator",
            "nRecentBlocks": 0, "stake": wei(stake),
            "isJailed": false, "unjailableAfter": null, "isActive": true, "commission": wire(self.staking.commission),
            "stats": stats}),
        ];
        all.extend(self.registered_summaries(&stats));
        Value::Array(all)
    }
}
