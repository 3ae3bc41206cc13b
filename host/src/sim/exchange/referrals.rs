//! Referrals, as the venue's docs give them: `registerReferrer` (a code, after $10,000 of
//! volume), `setReferrer` (a referred account pays 4% less fee on its first $25M of volume; not
//! vaults or sub-accounts), the referrer's reward (10% of the referred account's fees, after the
//! discount, on its first $1B, in the token the fee was paid in: a spot buy's is the token
//! bought), `claimRewards` (every token's together, once worth over $1, into the spot wallet),
//! and the info request `referral`, with its per-token states and a daily `rewardHistory`.

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
    /// The same, for fees paid in another token (a spot buy's): token → (fees, rewarded).
    #[serde(default)]
    pub tokens: BTreeMap<String, (Decimal, Decimal)>,
}

/// A referrer's rewards in a token other than USDC: unclaimed, claimed.
pub type TokenRewards = BTreeMap<String, (Decimal, Decimal)>;

impl Exchange {
    /// A fill's venue fee after the referral discount, and the referrer's reward on it (credited
    /// here). `volume` is the account's volume before this fill.
    pub(super) fn referral_fee(
        &mut self,
        user: Address,
        fee: Decimal,
        token: &str,
        volume: Decimal,
    ) -> Decimal {
        let dp = if token == "USDC" { 6 } else { 8 };
        let Some(a) = self.accounts.get(&user) else {
            return fee;
        };
        let Some(r) = a.referred.clone() else {
            return fee;
        };
        let independent = a.master.is_some() || a.vault.is_some();
        let fee = if !independent && volume < DISCOUNT_VOLUME {
            (fee * (Decimal::ONE - DISCOUNT)).round_dp(dp)
        } else {
            fee
        };
        if volume < REWARD_VOLUME && fee > Decimal::ZERO {
            let reward = (fee * REWARD).round_dp(dp);
            let value = reward * self.token_price(token);
            if let Some(referrer) = self.accounts.get_mut(&r.referrer) {
                if token == "USDC" {
                    referrer.referral_unclaimed += reward;
                } else {
                    referrer
                        .referral_tokens
                        .entry(token.to_string())
                        .or_default()
                        .0 += reward;
                }
                referrer.referral_day_earned += value;
            }
            if let Some(s) = self
                .accounts
                .get_mut(&user)
                .and_then(|a| a.referred.as_mut())
            {
                if token == "USDC" {
                    s.fees_rewarded += fee;
                    s.rewarded += reward;
                } else {
                    let t = s.tokens.entry(token.to_string()).or_default();
                    t.0 += fee;
                    t.1 += reward;
                }
            }
        }
        fee
    }

    /// A token's price in USDC now (its pair's mid; 1 for USDC, 0 with no pair).
    fn token_price(&self, token: &str) -> Decimal {
        if token == "USDC" {
            return Decimal::ONE;
        }
        self.spot_pair_of(token)
            .map_or(Decimal::ZERO, |i| self.markets[i].mid(self.now_ms))
    }

    /// On a new UTC day, the referrer's `rewardHistory` gets an entry for the day before: what
    /// it earned (in USDC, other tokens at their price then), its volume, and its referrals'.
    pub(super) fn close_referral_day(&mut self, user: Address) {
        let today = self.now_ms / DAY_MS;
        let a = &self.accounts[&user];
        if a.referral_day == today {
            return;
        }
        if a.referral_day_earned.is_zero() {
            self.accounts.get_mut(&user).expect("account").referral_day = today;
            return;
        }
        let referral_vlm: Decimal = self
            .accounts
            .values()
            .filter(|x| x.referred.as_ref().is_some_and(|r| r.referrer == user))
            .map(|x| x.volume)
            .sum();
        let a = self.accounts.get_mut(&user).expect("account");
        let entry = json!({"earned": wire(a.referral_day_earned.round_dp(6)), "vlm": wire(a.volume.round_dp(6)),
            "referralVlm": wire(referral_vlm.round_dp(6)), "time": today * DAY_MS});
        a.referral_history.push(entry);
        a.referral_day_earned = Decimal::ZERO;
        a.referral_day = today;
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
                    tokens: BTreeMap::new(),
                });
                ok()
            }
            "claimRewards" => {
                // Every token's rewards together, once worth over $1.
                let a = &self.accounts[&user];
                let value = a.referral_unclaimed
                    + a.referral_tokens
                        .iter()
                        .map(|(t, (u, _))| *u * self.token_price(t))
                        .sum::<Decimal>();
                if value <= Decimal::ONE {
                    return err("Rewards can be claimed once over $1.");
                }
                let a = self.accounts.get_mut(&user).expect("account");
                let mut claims = Vec::new();
                let amt = std::mem::take(&mut a.referral_unclaimed);
                if !amt.is_zero() {
                    a.referral_claimed += amt;
                    claims.push(("USDC".to_string(), amt));
                }
                for (t, (unclaimed, claimed)) in a.referral_tokens.iter_mut() {
                    if !unclaimed.is_zero() {
                        *claimed += *unclaimed;
                        claims.push((t.clone(), std::mem::take(unclaimed)));
                    }
                }
                for (t, amt) in claims {
                    let a = self.accounts.get_mut(&user).expect("account");
                    a.spot.entry(t.clone()).or_default().total += amt;
                    self.ledger(
                        user,
                        json!({"type": "rewardsClaim", "amount": wire(amt), "token": t}),
                    );
                }
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
                        let mut per_token = vec![json!([0, s])];
                        per_token.extend(r.tokens.iter().map(|(t, (fees, rewarded))| {
                            json!([self.token_index(t), {"cumVlm": s["cumVlm"],
                                "cumRewardedFeesSinceReferred": wire(*fees), "cumFeesRewardedToReferrer": wire(*rewarded)}])
                        }));
                        Some(json!({"cumVlm": s["cumVlm"], "cumRewardedFeesSinceReferred": s["cumRewardedFeesSinceReferred"],
                            "cumFeesRewardedToReferrer": s["cumFeesRewardedToReferrer"], "timeJoined": r.joined_ms,
                            "user": addr.to_string(), "tokenToState": per_token}))
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
        let mut per_token = vec![json!([0, totals])];
        per_token.extend(a.referral_tokens.iter().map(|(t, (unclaimed, claimed))| {
            json!([self.token_index(t), {"cumVlm": totals["cumVlm"], "unclaimedRewards": wire(*unclaimed),
                "claimedRewards": wire(*claimed), "builderRewards": "0.0"}])
        }));
        json!({"referredBy": referred_by, "cumVlm": totals["cumVlm"], "unclaimedRewards": totals["unclaimedRewards"],
            "claimedRewards": totals["claimedRewards"], "builderRewards": "0.0", "referrerState": state,
            "rewardHistory": a.referral_history, "tokenToState": per_token})
    }

    /// A spot token's index (`spotMeta`'s `tokens`), by name.
    fn token_index(&self, token: &str) -> u64 {
        self.spot_meta()["tokens"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["name"] == token)
            .and_then(|t| t["index"].as_u64())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tests::{KEY, ex, order, raw, signed};
    use crate::venue::hyperliquid::actions::TifWire;
    use crate::venue::hyperliquid::signing::PrivateKey;

    const FRIEND: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";

    /// A referred spot buy pays its fee in the token bought: the discount and the referrer's
    /// reward are in that token, listed under its index, claimed with the rest once worth $1,
    /// and the day's earnings (at the token's price) make a `rewardHistory` entry.
    #[test]
    fn referral_rewards_on_a_spot_buy_are_in_the_token_bought() {
        let mut e = ex();
        let spot: crate::sim::config::SimConfig =
            toml::from_str("markets = [{ coin = \"BTC\", sz_decimals = 3, price = 100 }]").unwrap();
        e.add_spot(&spot.spot);
        let owner = PrivateKey::from_hex(KEY).unwrap().address();
        let friend = PrivateKey::from_hex(FRIEND).unwrap().address();
        let mut f = Account::new(Decimal::ZERO);
        f.spot.entry("USDC".into()).or_default().total = Decimal::from(100);
        f.referred = Some(Referred {
            referrer: owner,
            code: "OWNER".into(),
            joined_ms: 0,
            fees_rewarded: Decimal::ZERO,
            rewarded: Decimal::ZERO,
            tokens: BTreeMap::new(),
        });
        e.accounts.insert(friend, f);
        e.accounts.get_mut(&owner).unwrap().referral_code = Some("OWNER".into());
        e.tick(e.now_ms + 100);
        let (_, ask) = e.markets[e.market_index("PURR/USDC").unwrap()].bbo(e.now_ms);
        let px = (ask * Decimal::new(101, 2)).round_dp(4).to_string();
        let r = e
            .exchange(&signed(
                FRIEND,
                &order(10_000, true, &px, "100", TifWire::Ioc, false),
                e.now_ms,
            ))
            .0;
        let fill = &e.accounts[&friend].fills[0];
        assert_eq!(
            (fill["feeToken"].as_str(), fill["fee"].as_str()),
            (Some("PURR"), Some("0.0432")),
            "{r}"
        );
        assert_eq!(
            e.accounts[&owner].referral_tokens["PURR"].0,
            Decimal::new(432, 5)
        );
        let info = e.referral(&owner);
        assert_eq!(info["tokenToState"][1][0], 1, "PURR is token 1: {info}");
        assert_eq!(info["tokenToState"][1][1]["unclaimedRewards"], "0.00432");
        let claim = raw(&mut e, json!({"type": "claimRewards"}));
        assert!(
            claim["response"].as_str().unwrap().contains("over $1"),
            "{claim}"
        );
        // The next day's first tick writes the day's history.
        let midnight = (e.now_ms / DAY_MS + 1) * DAY_MS;
        e.tick(midnight + 1);
        let h = &e.referral(&owner)["rewardHistory"];
        assert_eq!(h.as_array().unwrap().len(), 1, "{h}");
        let earned: Decimal = h[0]["earned"].as_str().unwrap().parse().unwrap();
        assert!(
            earned > Decimal::ZERO && earned < Decimal::new(432, 5),
            "{h}"
        );
        assert_eq!(
            h[0]["time"].as_u64(),
            Some(midnight),
            "written at the day's end"
        );
    }
}
