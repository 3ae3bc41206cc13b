//! Referrals, as the venue's docs give them: `registerReferrer` (a code, after $10,000 of
//! volume), `setReferrer` (a referred account pays 4% less fee on its first $25M of volume; not
//! vaults or sub-accounts), the referrer's reward (10% of the referred account's fees, after the
//! discount, on its first $1B), `claimRewards` (once over $1, into the spot wallet), and the
//! info request `referral`.

use super::transfers::ok;
use super::*;

const CODE_VOLUME: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
const DISCOUNT_VOLUME: Decimal = Decimal::from_parts(25_000_000, 0, 0, false, 0);
const REWARD_VOLUME: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
const DISCOUNT: Decimal = Decimal::from_parts(4, 0, 0, false, 2);
const REWARD: Decimal = Decimal::from_parts(1, 0, 0, false, 1);

/// A referred account's link to its referrer, and what it brought.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Referred {
    pub referrer: Address,
    pub code: String,
    pub joined_ms: u64,
    pub fees_rewarded: Decimal,
    pub rewarded: Decimal,
}

impl Exchange {
    /// A fill's venue fee after the referral discount, and the referrer's reward on it (credited
    /// here). `volume` is the account's volume before this fill.
    pub(super) fn referral_fee(&mut self, user: Address, fee: Decimal, volume: Decimal) -> Decimal {
        let Some(a) = self.accounts.get(&user) else {
            return fee;
        };
        let Some(r) = a.referred.clone() else {
            return fee;
        };
        let independent = a.master.is_some() || a.vault.is_some();
        let fee = if !independent && volume < DISCOUNT_VOLUME {
            (fee * (Decimal::ONE - DISCOUNT)).round_dp(6)
        } else {
            fee
        };
        if volume < REWARD_VOLUME && fee > Decimal::ZERO {
            let reward = (fee * REWARD).round_dp(6);
            if let Some(referrer) = self.accounts.get_mut(&r.referrer) {
                referrer.referral_unclaimed += reward;
            }
            if let Some(s) = self
                .accounts
                .get_mut(&user)
                .and_then(|a| a.referred.as_mut())
            {
                s.fees_rewarded += fee;
                s.rewarded += reward;
            }
        }
        fee
    }

    pub(super) fn referral_action(&mut self, user: Address, action: &Value) -> Value {
        let code = action["code"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_uppercase();
        match action["type"].as_str().unwrap_or_default() {
            "registerReferrer" => {
                if code.is_empty() || code.len() > 20 {
                    return err("Invalid referral code.");
                }
                if self.accounts[&user].volume < CODE_VOLUME {
                    return err("Need $10,000 of volume to create a referral code.");
                }
                if self.accounts[&user].referral_code.is_some() {
                    return err("Referral code already registered.");
                }
                if self
                    .accounts
                    .values()
                    .any(|a| a.referral_code.as_deref() == Some(code.as_str()))
                {
                    return err("Referral code already taken.");
                }
                self.accounts.get_mut(&user).expect("account").referral_code = Some(code);
                ok()
            }
            "setReferrer" => {
                let Some(referrer) = self
                    .accounts
                    .iter()
                    .find(|(_, a)| a.referral_code.as_deref() == Some(code.as_str()))
                    .map(|(addr, _)| *addr)
                else {
                    return err("Referral code does not exist.");
                };
                if referrer == user {
                    return err("Cannot refer yourself.");
                }
                let now = self.now_ms;
                let a = self.accounts.get_mut(&user).expect("account");
                if a.referred.is_some() {
                    return err("Referrer already set.");
                }
                a.referred = Some(Referred {
                    referrer,
                    code,
                    joined_ms: now,
                    fees_rewarded: Decimal::ZERO,
                    rewarded: Decimal::ZERO,
                });
                ok()
            }
            "claimRewards" => {
                let a = self.accounts.get_mut(&user).expect("account");
                let amt = a.referral_unclaimed;
                if amt <= Decimal::ONE {
                    return err("Rewards can be claimed once over $1.");
                }
                a.referral_unclaimed = Decimal::ZERO;
                a.referral_claimed += amt;
                a.spot.entry("USDC".into()).or_default().total += amt;
                self.ledger(
                    user,
                    json!({"type": "rewardsClaim", "amount": wire(amt), "token": "USDC"}),
                );
                ok()
            }
            other => err(format!("unknown action type {other:?}")),
        }
    }

    /// `referral`: who referred the account, what it earned as a referrer, and its referrer
    /// stage.
    pub(super) fn referral(&self, u: &Address) -> Value {
        let a = self.accounts.get(u).cloned().unwrap_or_default();
        let referred_by = a
            .referred
            .as_ref()
            .map(|r| json!({"referrer": r.referrer.to_string(), "code": r.code}));
        let state = match &a.referral_code {
            Some(code) => {
                let states: Vec<Value> = self
                    .accounts
                    .iter()
                    .filter_map(|(addr, x)| {
                        let r = x.referred.as_ref().filter(|r| r.referrer == *u)?;
                        let s = json!({"cumVlm": wire(x.volume.round_dp(6)),
                            "cumRewardedFeesSinceReferred": wire(r.fees_rewarded),
                            "cumFeesRewardedToReferrer": wire(r.rewarded)});
                        Some(json!({"cumVlm": s["cumVlm"], "cumRewardedFeesSinceReferred": s["cumRewardedFeesSinceReferred"],
                            "cumFeesRewardedToReferrer": s["cumFeesRewardedToReferrer"], "timeJoined": r.joined_ms,
                            "user": addr.to_string(), "tokenToState": [[0, s]]}))
                    })
                    .collect();
                json!({"stage": "ready", "data": {"code": code, "nReferrals": states.len(), "referralStates": states}})
            }
            None if a.volume < CODE_VOLUME => {
                json!({"stage": "needToTrade", "data": {"required": wire(CODE_VOLUME)}})
            }
            None => json!({"stage": "needToCreateCode"}),
        };
        let totals = json!({"cumVlm": wire(a.volume.round_dp(6)), "unclaimedRewards": wire(a.referral_unclaimed),
            "claimedRewards": wire(a.referral_claimed), "builderRewards": "0.0"});
        json!({"referredBy": referred_by, "cumVlm": totals["cumVlm"], "unclaimedRewards": totals["unclaimedRewards"],
            "claimedRewards": totals["claimedRewards"], "builderRewards": "0.0", "referrerState": state,
            "rewardHistory": [], "tokenToState": [[0, totals]]})
    }
}
