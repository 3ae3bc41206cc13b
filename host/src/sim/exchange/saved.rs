//! What an in-process simulator keeps across runs (`sim/persist.rs` writes it to a file): every
//! account whole (balances, positions, resting and trigger orders, TWAPs, fills, funding, the
//! ledger, vault shares, staking, referrals, builder approvals, nonces), the agents approved,
//! each order's last status, the trade tape, and the oracle prices. The venue forgets none of
//! it, so a client that stops and starts again finds it all, as it would there.

use super::history::Trade;
use super::*;

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Snapshot {
    pub accounts: BTreeMap<Address, Account>,
    /// agent → the account it signs for.
    pub agents: BTreeMap<Address, Address>,
    /// agent → (name, valid until ms), as `approveAgent` named it.
    pub agent_names: BTreeMap<Address, (String, u64)>,
    /// oid → (user, its last `orderUpdates` entry), for `orderStatus`.
    pub order_log: BTreeMap<u64, (Address, Value)>,
    pub cloid_oid: BTreeMap<String, u64>,
    /// The trade tape, oldest first (`trades`, candles).
    pub trades: Vec<Trade>,
    /// Oracle price by coin.
    pub oracles: BTreeMap<String, Decimal>,
    pub next_oid: u64,
    pub next_tid: u64,
    /// The markets HIP-3 deployers listed, their dexes' settings, and the deploy auction.
    pub deployed: Vec<super::deploy::Deployed>,
    pub dex_meta: BTreeMap<String, super::deploy::DexMeta>,
    pub auction: super::deploy::Auction,
    /// The explorer's blocks and transactions.
    pub chain: super::explorer::Chain,
    /// Validators registered with `CValidatorAction`.
    pub validators: BTreeMap<Address, super::validators::Validator>,
}

/// What `restore` brought back, and what it had to leave out.
#[derive(Debug, Default)]
pub struct Restored {
    pub positions: usize,
    /// One line for each thing in a market this simulator does not have.
    pub dropped: Vec<String>,
}

impl Exchange {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            accounts: self
                .accounts
                .iter()
                .map(|(a, acct)| (*a, acct.clone()))
                .collect(),
            agents: self.agents.iter().map(|(g, a)| (*g, *a)).collect(),
            agent_names: self
                .agent_names
                .iter()
                .map(|(g, n)| (*g, n.clone()))
                .collect(),
            order_log: self
                .order_log
                .iter()
                .map(|(o, e)| (*o, e.clone()))
                .collect(),
            cloid_oid: self
                .cloid_oid
                .iter()
                .map(|(c, o)| (c.clone(), *o))
                .collect(),
            trades: self.tape.trades.iter().cloned().collect(),
            oracles: self
                .markets
                .iter()
                .map(|m| (m.spec.coin.clone(), m.oracle))
                .collect(),
            next_oid: self.next_oid,
            next_tid: self.next_tid,
            deployed: self.deployed_markets(),
            dex_meta: self.dex_meta.clone(),
            auction: self.auction.clone(),
            chain: self.chain.clone(),
            validators: self.validators.clone(),
        }
    }

    /// Takes the saved state over this one's: a saved account replaces the configured one of
    /// the same address; accounts, agents and markets the config has and the file does not are
    /// kept. Positions, orders and TWAPs in a market this simulator does not have are dropped,
    /// each named in `dropped`.
    pub fn restore(&mut self, saved: Snapshot) -> Restored {
        let mut out = Restored::default();
        // Deployed markets first, so what is in them is kept.
        for d in saved.deployed {
            if !self.assets.contains_key(&d.spec.coin) {
                self.add_deployed(d);
            }
        }
        self.dex_meta.extend(saved.dex_meta);
        self.validators.extend(saved.validators);
        if saved.chain.height >= self.chain.height {
            self.chain = saved.chain;
        }
        if saved.auction.start_ms != 0 {
            self.auction = saved.auction;
        }
        let known: std::collections::HashSet<String> = self.assets.keys().cloned().collect();
        for (addr, mut acct) in saved.accounts {
            let mut drop = |what: &str, coin: &str| {
                out.dropped.push(format!("{addr}: {what} in {coin}"));
            };
            acct.positions.retain(|c, p| {
                let keep = known.contains(c) || p.szi.is_zero();
                if !keep {
                    drop("a position", c);
                }
                keep && !p.szi.is_zero()
            });
            acct.orders.retain(|o| {
                let keep = known.contains(&o.coin);
                if !keep {
                    drop(&format!("resting order {}", o.oid), &o.coin);
                }
                keep
            });
            acct.triggers.retain(|o| {
                let keep = known.contains(&o.coin);
                if !keep {
                    drop(&format!("trigger order {}", o.oid), &o.coin);
                }
                keep
            });
            acct.twaps.retain(|t| {
                let keep = known.contains(&t.coin);
                if !keep {
                    drop(&format!("TWAP {}", t.id), &t.coin);
                }
                keep
            });
            acct.leverage.retain(|c, _| known.contains(c));
            out.positions += acct.positions.len();
            self.accounts.insert(addr, acct);
        }
        for (agent, owner) in saved.agents {
            self.agents.entry(agent).or_insert(owner);
        }
        self.agent_names.extend(saved.agent_names);
        self.order_log.extend(saved.order_log);
        self.cloid_oid.extend(saved.cloid_oid);
        self.tape.trades = saved
            .trades
            .into_iter()
            .filter(|t| known.contains(&t.coin))
            .collect();
        for m in self.markets.iter_mut() {
            if let Some(px) = saved.oracles.get(&m.spec.coin) {
                m.oracle = *px;
            }
        }
        // Ids are unique for all time: never hand out one the saved run did.
        self.next_oid = self.next_oid.max(saved.next_oid);
        self.next_tid = self.next_tid.max(saved.next_tid);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tests::{KEY, ex, l1, user};
    use crate::venue::hyperliquid::signing::PrivateKey;

    /// Every info answer a client could ask about the account, in one value.
    fn answers(e: &Exchange, owner: &str, oid: u64) -> Value {
        let mut all = serde_json::Map::new();
        for kind in [
            "clearinghouseState",
            "spotClearinghouseState",
            "openOrders",
            "frontendOpenOrders",
            "userFills",
            "userNonFundingLedgerUpdates",
            "twapHistory",
            "userTwapSliceFills",
            "extraAgents",
            "userRateLimit",
            "historicalOrders",
        ] {
            let q = json!({"type": kind, "user": owner, "startTime": 0});
            all.insert(kind.into(), e.info(&q).unwrap());
        }
        let q = json!({"type": "orderStatus", "user": owner, "oid": oid});
        all.insert("orderStatus".into(), e.info(&q).unwrap());
        let q = json!({"type": "maxBuilderFee", "user": owner, "builder": format!("0x{}", "b".repeat(40))});
        all.insert("maxBuilderFee".into(), e.info(&q).unwrap());
        let q = json!({"type": "recentTrades", "coin": "BTC"});
        all.insert("recentTrades".into(), e.info(&q).unwrap());
        Value::Object(all)
    }

    /// A simulator saved to JSON and restored into a fresh one answers every info request about
    /// the account as the saved one did: fills, resting and trigger orders, a running TWAP, the
    /// ledger, the spot wallet, an agent and a builder approval, nonces, the trade tape. And the
    /// restored TWAP goes on slicing, the restored order is cancelled like any other.
    #[test]
    fn a_restored_simulator_answers_as_the_saved_one_did() {
        let owner = PrivateKey::from_hex(KEY).unwrap().address().to_string();
        let mut a = ex();
        let t0 = a.now_ms;
        let ask = a.markets[0].bbo(t0).1;
        let order = |px: String, b: bool, t: Value| json!({"type": "order", "orders": [{"a": 0, "b": b, "p": px, "s": "0.2", "r": false, "t": t}], "grouping": "na"});
        l1(
            &mut a,
            order(
                (ask + Decimal::ONE).to_string(),
                true,
                json!({"limit": {"tif": "Ioc"}}),
            ),
        );
        let r = l1(
            &mut a,
            order("90".into(), true, json!({"limit": {"tif": "Gtc"}})),
        );
        let oid = r["response"]["data"]["statuses"][0]["resting"]["oid"]
            .as_u64()
            .unwrap_or_else(|| panic!("{r}"));
        let stop = json!({"trigger": {"isMarket": true, "triggerPx": "85", "tpsl": "sl"}});
        let mut sl = order("80".into(), false, stop);
        sl["orders"][0]["r"] = json!(true);
        l1(&mut a, sl);
        l1(
            &mut a,
            json!({"type": "twapOrder", "twap": {"a": 0, "b": true, "s": "3", "r": false, "m": 5, "t": false}}),
        );
        let agent = format!("0x{}", "c".repeat(40));
        user(
            &mut a,
            json!({"type": "approveAgent", "agentAddress": agent, "agentName": "bot"}),
        );
        let builder = format!("0x{}", "b".repeat(40));
        user(
            &mut a,
            json!({"type": "approveBuilderFee", "maxFeeRate": "0.01%", "builder": builder}),
        );
        user(
            &mut a,
            json!({"type": "usdClassTransfer", "amount": "100", "toPerp": false}),
        );
        a.tick(t0 + 30_000);
        let before = answers(&a, &owner, oid);
        assert_eq!(
            before["openOrders"].as_array().unwrap().len(),
            2,
            "{before}"
        );
        assert_eq!(
            before["extraAgents"].as_array().unwrap().len(),
            1,
            "{before}"
        );
        assert!(
            before["userTwapSliceFills"].as_array().unwrap().len() >= 2,
            "{before}"
        );

        let text = serde_json::to_string(&a.snapshot()).unwrap();
        let mut b = ex();
        b.tick(t0 + 30_000);
        assert_ne!(answers(&b, &owner, oid), before);
        let restored = b.restore(serde_json::from_str(&text).unwrap());
        assert_eq!((restored.positions, restored.dropped.len()), (1, 0));
        assert_eq!(answers(&b, &owner, oid), before);

        // It goes on: the TWAP slices again, the order cancels, new ids are new.
        let slices = before["userTwapSliceFills"].as_array().unwrap().len();
        b.tick(t0 + 60_000);
        let after = answers(&b, &owner, oid);
        assert!(
            after["userTwapSliceFills"].as_array().unwrap().len() > slices,
            "{after}"
        );
        l1(
            &mut b,
            json!({"type": "cancel", "cancels": [{"a": 0, "o": oid}]}),
        );
        let r = l1(
            &mut b,
            order("91".into(), true, json!({"limit": {"tif": "Gtc"}})),
        );
        let new_oid = r["response"]["data"]["statuses"][0]["resting"]["oid"]
            .as_u64()
            .unwrap();
        assert!(new_oid > oid, "{new_oid} after {oid}");
    }

    /// What is in a market the restoring simulator does not have is dropped and named.
    #[test]
    fn what_is_in_a_market_this_config_lacks_is_dropped_and_named() {
        let mut a = ex();
        let t0 = a.now_ms;
        let ask = a.markets[1].bbo(t0).1;
        let px = (ask * Decimal::new(101, 2)).round_dp(2).to_string();
        let owner = PrivateKey::from_hex(KEY).unwrap().address();
        let collateral = &mut a.accounts.get_mut(&owner).unwrap().dex_collateral;
        collateral.insert("xyz".into(), Decimal::from(1_000));
        let buy = json!({"type": "order", "orders": [{"a": 110_000, "b": true, "p": px, "s": "1", "r": false, "t": {"limit": {"tif": "Ioc"}}}], "grouping": "na"});
        l1(&mut a, buy);
        let mut snap = a.snapshot();
        for acct in snap.accounts.values_mut() {
            if let Some(p) = acct.positions.remove("xyz:TSLA") {
                acct.positions.insert("xyz:GONE".into(), p);
            }
        }
        let mut b = ex();
        let restored = b.restore(snap);
        assert_eq!(restored.positions, 0);
        assert_eq!(restored.dropped.len(), 1, "{:?}", restored.dropped);
        assert!(
            restored.dropped[0].ends_with("a position in xyz:GONE"),
            "{:?}",
            restored.dropped
        );
    }
}
