//! What a HIP-3 deployer does with its dex once registered (deploy.rs): `setOracle`,
//! `haltTrading`, the per-market settings and `setSubDeployers`, and the open interest caps
//! they set, with the info answers that show them (`perpsAtOpenInterestCap`, `perpDexLimits`,
//! `perpDexs`' lists).

use super::deploy::DexMeta;
use super::*;

const ORACLE_EVERY_MS: u64 = 2_500;
/// The most an oracle update may move a price.
const ORACLE_STEP: Decimal = Decimal::from_parts(1, 0, 0, false, 2);
/// Every HIP-3 market's open interest cap in size (the venue's docs: a constant 1B).
const OI_SIZE_CAP: u64 = 1_000_000_000;

impl DexMeta {
    /// Whether `user` may run `perpDeploy` variant `variant` on the dex: its deployer, or a
    /// sub-deployer allowed it (`""`: the deployer alone).
    pub(super) fn may(&self, user: Address, variant: &str) -> bool {
        self.deployer == user
            || (!variant.is_empty()
                && self
                    .sub_deployers
                    .get(variant)
                    .is_some_and(|s| s.contains(&user)))
    }
}

impl Exchange {
    /// The index of deployed market `coin`, when `user` may change it: its dex's deployer, or a
    /// sub-deployer allowed `variant`.
    pub(super) fn deployed_market(
        &self,
        user: Address,
        coin: &str,
        variant: &str,
    ) -> Result<usize, String> {
        let dex = crate::venue::hyperliquid::info::dex_of(coin);
        match self.dex_meta.get(dex) {
            Some(m) if m.may(user, variant) => {}
            Some(_) => return Err(format!("Only the deployer of dex {dex} may do that.")),
            None => return Err(format!("{coin} is not on a dex deployed with perpDeploy.")),
        }
        self.market_index(coin)
            .ok_or_else(|| format!("Unknown asset {coin}."))
    }

    /// The per-market settings, each a list of [coin, value] (all checked before any is set).
    pub(super) fn set_per_market(
        &mut self,
        user: Address,
        key: &str,
        list: &Value,
    ) -> Result<(), String> {
        let mut changes = Vec::new();
        for pair in list.as_array().ok_or("expected a list of [coin, value]")? {
            let coin = pair[0].as_str().ok_or("expected [coin, value]")?;
            let i = self.deployed_market(user, coin, key)?;
            let v = &pair[1];
            let signed = || {
                v.as_str()
                    .and_then(|s| Decimal::from_str(s).ok())
                    .or_else(|| v.as_u64().map(Decimal::from))
                    .ok_or_else(|| format!("Invalid value for {coin}: {v}"))
            };
            let number = || {
                signed()
                    .ok()
                    .filter(|d| *d >= Decimal::ZERO)
                    .ok_or_else(|| format!("Invalid value for {coin}: {v}"))
            };
            let ok_value = match key {
                "setFundingMultipliers" => number().map(|_| ()),
                "setFundingInterestRates" => signed().map(|_| ()),
                "setOpenInterestCaps" => number().map(|_| ()),
                "setMarginTableIds" => v
                    .as_u64()
                    .filter(|t| (1..=50).contains(t))
                    .map(|_| ())
                    .ok_or_else(|| format!("Invalid marginTableId for {coin}: 1 to 50.")),
                "setMarginModes" => match v.as_str() {
                    Some("strictIsolated" | "noCross") => Ok(()),
                    _ => Err(format!("Invalid margin mode for {coin}.")),
                },
                _ => unreachable!("the keys dispatched here"),
            };
            ok_value?;
            changes.push((i, v.clone(), signed().ok()));
        }
        for (i, v, n) in changes {
            let m = &mut self.markets[i];
            match key {
                "setFundingMultipliers" => m.deployer.funding_multiplier = n.expect("checked"),
                "setFundingInterestRates" => m.deployer.interest_rate = n,
                "setOpenInterestCaps" => m.spec.oi_cap = n,
                "setMarginTableIds" => m.spec.max_leverage = v.as_u64().expect("checked") as u32,
                _ => m.deployer.margin_mode = v.as_str().expect("checked").to_string(),
            }
        }
        Ok(())
    }

    /// `setSubDeployers`: who else may run which `perpDeploy` variant on the dex.
    pub(super) fn set_sub_deployers(&mut self, user: Address, d: &Value) -> Result<(), String> {
        let dex = d["dex"].as_str().unwrap_or_default().to_string();
        let meta = self.deployer_meta(user, &dex, "")?;
        for s in d["subDeployers"].as_array().into_iter().flatten() {
            let (Some(variant), Some(who), Some(allowed)) = (
                s["variant"].as_str(),
                s["user"].as_str().and_then(Address::parse),
                s["allowed"].as_bool(),
            ) else {
                return Err("Invalid subDeployers: {variant, user, allowed}.".into());
            };
            let set = meta.sub_deployers.entry(variant.to_string()).or_default();
            if allowed {
                set.insert(who);
            } else {
                set.remove(&who);
            }
        }
        Ok(())
    }

    /// The deployer settings of `dex`, when `user` deployed it.
    pub(super) fn deployer_meta(
        &mut self,
        user: Address,
        dex: &str,
        variant: &str,
    ) -> Result<&mut DexMeta, String> {
        match self.dex_meta.get_mut(dex) {
            Some(m) if m.may(user, variant) => Ok(m),
            Some(_) => Err(format!("Only the deployer of dex {dex} may do that.")),
            None => Err(format!(
                "Unknown dex {dex}, or not deployed with perpDeploy."
            )),
        }
    }

    pub(super) fn set_oracle(&mut self, user: Address, o: &Value) -> Result<(), String> {
        let dex = o["dex"].as_str().unwrap_or_default().to_string();
        let now = self.now_ms;
        let Some(meta) = self.dex_meta.get(&dex) else {
            return Err(format!(
                "Unknown dex {dex}, or not deployed with perpDeploy."
            ));
        };
        if meta.oracle_updater != user {
            return Err(format!(
                "Only the oracle updater of dex {dex} may set its oracle."
            ));
        }
        if now < meta.last_oracle_ms + ORACLE_EVERY_MS {
            return Err("setOracle at most every 2.5 seconds.".into());
        }
        let mut updates = Vec::new();
        for pair in o["oraclePxs"].as_array().into_iter().flatten() {
            let (Some(name), Some(px)) = (
                pair[0].as_str(),
                pair[1].as_str().and_then(|p| Decimal::from_str(p).ok()),
            ) else {
                return Err("Invalid oraclePxs: [coin, price] pairs.".into());
            };
            let coin = super::deploy::on_dex(&dex, name);
            let i = self
                .market_index(&coin)
                .filter(|_| crate::venue::hyperliquid::info::dex_of(&coin) == dex)
                .ok_or_else(|| format!("Unknown asset {coin} on dex {dex}."))?;
            if px <= Decimal::ZERO {
                return Err(format!("Invalid oracle price for {coin}."));
            }
            updates.push((i, px));
        }
        for (i, px) in updates {
            let m = &mut self.markets[i];
            let (lo, hi) = (
                m.oracle * (Decimal::ONE - ORACLE_STEP),
                m.oracle * (Decimal::ONE + ORACLE_STEP),
            );
            m.oracle = px.clamp(lo, hi).round_dp(6);
        }
        self.dex_meta.get_mut(&dex).expect("dex").last_oracle_ms = now;
        Ok(())
    }

    pub(super) fn halt_trading(
        &mut self,
        user: Address,
        h: &Value,
        pushes: &mut Vec<Push>,
    ) -> Result<(), String> {
        let coin = h["coin"].as_str().unwrap_or_default().to_string();
        let halted = h["isHalted"].as_bool().ok_or("Invalid isHalted.")?;
        let dex = crate::venue::hyperliquid::info::dex_of(&coin).to_string();
        self.deployer_meta(user, &dex, "haltTrading")?;
        let i = self
            .market_index(&coin)
            .ok_or_else(|| format!("Unknown asset {coin}."))?;
        self.markets[i].deployer.halted = halted;
        if halted {
            self.cancel_all_in(&coin, pushes);
        }
        Ok(())
    }

    /// Cancels every resting and trigger order in `coin` (a halt).
    pub(super) fn cancel_all_in(&mut self, coin: &str, pushes: &mut Vec<Push>) {
        let now = self.now_ms;
        for (user, a) in self.accounts.iter_mut() {
            let (gone, kept): (Vec<RestingOrder>, Vec<RestingOrder>) =
                a.orders.drain(..).partition(|o| o.coin == coin);
            a.orders = kept;
            let (fired, waiting): (Vec<_>, Vec<_>) =
                a.triggers.drain(..).partition(|t| t.coin == coin);
            a.triggers = waiting;
            let updates: Vec<Value> = gone
                .iter()
                .map(|o| o.wire())
                .chain(fired.iter().map(|t| t.frontend()))
                .map(|o| json!({"order": o, "status": "canceled", "statusTimestamp": now}))
                .collect();
            if !updates.is_empty() {
                pushes.push(Push {
                    user: *user,
                    frame: json!({"channel": "orderUpdates", "data": updates}).to_string(),
                });
            }
        }
    }

    /// A market's open interest: the sizes of all positions in it, and their notional at the
    /// mark.
    fn open_interest(&self, m: &SimMarket) -> (Decimal, Decimal) {
        let coin = &m.spec.coin;
        let size: Decimal = self.accounts.values().map(|a| a.position(coin).abs()).sum();
        (size, size * m.mid(self.now_ms))
    }

    /// Whether an order of `sz` at `px` by `user` in HIP-3 market `i` would take its open
    /// interest past its caps (notional, and 1,000,000,000 in size): only what it adds to the
    /// user's position counts.
    pub(super) fn past_oi_cap(
        &self,
        user: &Address,
        i: usize,
        is_buy: bool,
        px: Decimal,
        sz: Decimal,
    ) -> bool {
        let m = &self.markets[i];
        if crate::venue::hyperliquid::info::dex_of(&m.spec.coin).is_empty() || m.spot {
            return false;
        }
        let pos = self.accounts[user].position(&m.spec.coin);
        let adds = if pos.is_zero() || pos.is_sign_positive() == is_buy {
            sz
        } else {
            (sz - pos.abs()).max(Decimal::ZERO)
        };
        if adds.is_zero() {
            return false;
        }
        let (size, ntl) = self.open_interest(m);
        ntl + adds * px > m.oi_cap() || size + adds > Decimal::from(OI_SIZE_CAP)
    }

    /// `perpsAtOpenInterestCap`: the dex's markets whose open interest is at its cap.
    pub(super) fn perps_at_oi_cap(&self, dex: &str) -> Value {
        if dex.is_empty() {
            return json!([]);
        }
        Value::Array(
            self.sorted(dex)
                .into_iter()
                .filter(|m| self.open_interest(m).1 >= m.oi_cap())
                .map(|m| json!(m.spec.coin))
                .collect(),
        )
    }

    /// `perpDexLimits` of a HIP-3 dex (null for the main dex or one that does not exist): the
    /// markets' notional caps, their sum as the dex's, the size cap.
    pub(super) fn perp_dex_limits(&self, dex: &str) -> Value {
        if dex.is_empty() || !self.dexes.iter().any(|d| d == dex) {
            return Value::Null;
        }
        let markets = self.sorted(dex);
        let total: Decimal = markets.iter().map(|m| m.oi_cap()).sum();
        json!({"totalOiCap": wire(total), "oiSzCapPerPerp": wire(Decimal::from(OI_SIZE_CAP)),
            "maxTransferNtl": wire(total),
            "coinToOiCap": markets.iter().map(|m| json!([m.spec.coin, wire(m.oi_cap())])).collect::<Vec<_>>()})
    }

    /// A dex's `perpDexs` lists: each market's open interest cap and funding multiplier, by its
    /// name on the dex (without the prefix, as the venue's answer shows them).
    pub(super) fn dex_market_lists(&self, dex: &str) -> (Value, Value) {
        let short = |m: &SimMarket| {
            let c = &m.spec.coin;
            c.split_once(':').map_or(c.as_str(), |(_, n)| n).to_string()
        };
        let ms = self.sorted(dex);
        (
            ms.iter()
                .map(|m| json!([short(m), wire(m.oi_cap())]))
                .collect(),
            ms.iter()
                .map(|m| json!([short(m), wire(m.deployer.funding_multiplier)]))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::deploy::Hip3Rules;
    use super::super::deploy::tests::register;
    use super::*;
    use crate::sim::account::SpotBalance;
    use crate::sim::tests::{KEY, ex, l1, raw};
    use crate::venue::hyperliquid::signing::PrivateKey;

    /// The per-market settings a deployer (or a sub-deployer it allowed) makes, and what each
    /// changes: open interest caps refuse an order past them and show in `perpDexs`,
    /// `perpDexLimits` and `perpsAtOpenInterestCap`; the funding multiplier, the margin table,
    /// the margin mode and the annotation show where the venue shows them.
    #[test]
    fn deployer_settings_change_what_the_market_does_and_shows() {
        let mut e = ex();
        e.hip3 = Hip3Rules {
            deployer_stake: Decimal::ZERO,
            gas_floor: Decimal::ONE,
        };
        let owner = PrivateKey::from_hex(KEY).unwrap().address();
        let a = e.accounts.get_mut(&owner).unwrap();
        a.spot.insert(
            super::super::staking::NATIVE.into(),
            SpotBalance {
                total: Decimal::TEN,
                entry_ntl: Decimal::ZERO,
            },
        );
        a.dex_collateral.insert("tst".into(), Decimal::from(1_000));
        l1(&mut e, register("tst:AAA", true, None));
        let helper = Address([6; 20]);
        e.accounts.insert(helper, Account::new(Decimal::ONE));
        let deploy = |e: &mut Exchange, who: Address, body: Value| {
            e.perp_deploy(who, &body, &mut Vec::new())
        };
        // A sub-deployer allowed setOpenInterestCaps sets a 100 USDC cap; it may not halt.
        let r = deploy(
            &mut e,
            helper,
            json!({"setOpenInterestCaps": [["tst:AAA", 100]]}),
        );
        assert!(r["response"].as_str().unwrap().contains("deployer"), "{r}");
        deploy(
            &mut e,
            owner,
            json!({"setSubDeployers": {"dex": "tst", "subDeployers": [{"variant": "setOpenInterestCaps", "user": helper.to_string(), "allowed": true}]}}),
        );
        assert_eq!(
            deploy(
                &mut e,
                helper,
                json!({"setOpenInterestCaps": [["tst:AAA", 100]]})
            )["status"],
            "ok"
        );
        let r = deploy(
            &mut e,
            helper,
            json!({"haltTrading": {"coin": "tst:AAA", "isHalted": true}}),
        );
        assert_eq!(r["status"], "err");
        let buy = |sz: &str| json!({"type": "order", "orders": [{"a": 120_000, "b": true, "p": "20.5", "s": sz, "r": false, "t": {"limit": {"tif": "Ioc"}}}], "grouping": "na"});
        let r = raw(&mut e, buy("6"));
        assert_eq!(
            r["response"]["data"]["statuses"][0]["error"],
            "Order would increase open interest while open interest is capped",
            "{r}"
        );
        let r = l1(&mut e, buy("4"));
        assert!(
            r["response"]["data"]["statuses"][0]["filled"].is_object(),
            "{r}"
        );
        let q = |e: &Exchange, kind: &str| e.info(&json!({"type": kind, "dex": "tst"})).unwrap();
        assert_eq!(q(&e, "perpsAtOpenInterestCap"), json!([]));
        let limits = q(&e, "perpDexLimits");
        assert_eq!(
            (
                limits["totalOiCap"].as_str(),
                limits["coinToOiCap"][0][1].as_str()
            ),
            (Some("100.0"), Some("100.0"))
        );
        assert_eq!(
            e.info(&json!({"type": "perpDexLimits", "dex": ""}))
                .unwrap(),
            Value::Null
        );
        deploy(
            &mut e,
            owner,
            json!({"setOpenInterestCaps": [["tst:AAA", 50]]}),
        );
        assert_eq!(q(&e, "perpsAtOpenInterestCap"), json!(["tst:AAA"]));
        // Funding, leverage, margin mode and the annotation.
        deploy(
            &mut e,
            owner,
            json!({"setFundingMultipliers": [["tst:AAA", "2"]], "type": "perpDeploy"}),
        );
        deploy(
            &mut e,
            owner,
            json!({"setMarginTableIds": [["tst:AAA", 3]]}),
        );
        deploy(
            &mut e,
            owner,
            json!({"setMarginModes": [["tst:AAA", "noCross"]]}),
        );
        deploy(
            &mut e,
            owner,
            json!({"setPerpAnnotation": {"coin": "tst:AAA", "category": "stocks", "description": "a test", "displayName": null, "keywords": []}}),
        );
        let dexs = e.info(&json!({"type": "perpDexs"})).unwrap();
        assert_eq!(dexs[2]["assetToStreamingOiCap"], json!([["AAA", "50.0"]]));
        assert_eq!(dexs[2]["assetToFundingMultiplier"], json!([["AAA", "2.0"]]));
        let m = &q(&e, "meta")["universe"][0];
        assert_eq!(
            (m["maxLeverage"].as_u64(), m["marginMode"].as_str()),
            (Some(3), Some("noCross"))
        );
        let rate = e.markets[e.market_index("tst:AAA").unwrap()].funding_rate();
        assert_eq!(rate, Decimal::new(25, 6));
        deploy(
            &mut e,
            owner,
            json!({"setFundingInterestRates": [["tst:AAA", "-0.0001"]]}),
        );
        let rate = e.markets[e.market_index("tst:AAA").unwrap()].funding_rate();
        assert_eq!(
            rate,
            Decimal::new(-2, 4),
            "its own rate, times the multiplier"
        );
        assert_eq!(
            e.info(&json!({"type": "perpCategories"})).unwrap(),
            json!([["tst:AAA", "stocks"]])
        );
        assert_eq!(
            e.info(&json!({"type": "perpAnnotation", "coin": "tst:AAA"}))
                .unwrap()["description"],
            "a test"
        );
        let r = deploy(
            &mut e,
            owner,
            json!({"setGrowthModes": [["tst:AAA", true]]}),
        );
        assert!(
            r["response"].as_str().unwrap().contains("not simulated"),
            "{r}"
        );
    }
}
