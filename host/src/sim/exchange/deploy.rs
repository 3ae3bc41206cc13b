//! HIP-3 deployments, as the venue's docs give them ("HIP-3 deployer actions", the HIP-3 spec;
//! what follows registration is in deployer.rs):
//! `perpDeploy` with
//! - `registerAsset` (or `registerAsset2`): a new dex with its first market (`schema`: full
//!   name, collateral token, oracle updater), or one more market on the deployer's dex. The
//!   deployer must have staked the required HYPE (`[sim.hip3] deployer_stake`; the venue's
//!   mainnet figure, 500,000, unless set), and pays the deploy auction's current gas in HYPE
//!   from its spot wallet, at most `maxGas` (wei). The auction is Dutch, as the venue's HIP-1
//!   page gives its own: 31 hours from twice the last price paid (the floor when the last did
//!   not sell; `[sim.hip3] gas_floor`, 500 HYPE unless set) down to the floor, one deployment
//!   each; `perpDeployAuctionStatus` shows it.
//! - `setOracle`: by the dex's oracle updater (its deployer unless named), at least 2.5 s
//!   apart; each market's oracle moves to the price given, by at most 1% an update. A deployed
//!   market's book is centred on its oracle and moves only with it.
//! - `haltTrading`: its orders are cancelled, new ones refused until it is resumed.
//! - `setFeeRecipient`: shown in `perpDexs`.
//! - Per market (`[coin, value]` lists): `setFundingMultipliers` (the funding rate times it),
//!   `setMarginTableIds` (its maximum leverage: the simulator's table ids are the leverage),
//!   `setOpenInterestCaps` (its notional cap: an order adding to a position past it is refused,
//!   as is one past the venue's constant 1B in size), `setMarginModes` (shown in `meta`; both
//!   modes are isolated only here), and `setPerpAnnotation`.
//! - `setSubDeployers`: who else may run a variant on the dex.
//!
//! - `setFundingInterestRates`: the market's hourly funding rate (the simulator's funding is all
//!   interest), before its multiplier.
//!
//! `setFeeScale` and `setGrowthModes` are refused as not simulated.

use super::transfers::ok;
use super::*;

const AUCTION_MS: u64 = 31 * 3_600_000;

/// `[sim.hip3]`: what deploying asks of a deployer.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hip3Rules {
    /// HYPE a deployer must have staked.
    #[serde(default = "default_stake")]
    pub deployer_stake: Decimal,
    /// The deploy auction's lowest gas, in HYPE.
    #[serde(default = "default_floor")]
    pub gas_floor: Decimal,
}

fn default_stake() -> Decimal {
    Decimal::from(500_000)
}
fn default_floor() -> Decimal {
    Decimal::from(500)
}

impl Default for Hip3Rules {
    fn default() -> Self {
        Hip3Rules {
            deployer_stake: default_stake(),
            gas_floor: default_floor(),
        }
    }
}

/// A dex's deployer settings (a dex of the config has none: its `perpDexs` entry names no one).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DexMeta {
    pub full_name: String,
    pub deployer: Address,
    pub oracle_updater: Address,
    pub fee_recipient: Option<Address>,
    pub last_oracle_ms: u64,
    /// `setSubDeployers`: by `perpDeploy` variant, who else may run it.
    #[serde(default)]
    pub sub_deployers: BTreeMap<String, std::collections::BTreeSet<Address>>,
}

/// The deploy auction now: when it started, its starting gas (0: the floor), and what its slot
/// sold for.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Auction {
    pub start_ms: u64,
    pub start_gas: Decimal,
    pub sold_for: Option<Decimal>,
}

/// A market a deployer registered: what the simulator needs to make it again after a restart.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Deployed {
    pub spec: crate::sim::market::MarketSpec,
    pub oracle: Decimal,
    #[serde(default)]
    pub settings: crate::sim::market::DeployerSettings,
}

/// A coin as the simulator names it, `dex:NAME`, from a deployer's `NAME` or `dex:NAME`.
pub(super) fn on_dex(dex: &str, name: &str) -> String {
    if name.contains(':') {
        name.to_string()
    } else {
        format!("{dex}:{name}")
    }
}

impl Exchange {
    /// The auction running now (a new one starts each time the last has run its 31 hours).
    fn auction_at_now(&self) -> Auction {
        let floor = self.hip3.gas_floor;
        // The first auction starts with the simulator, at the floor.
        let mut a = self.auction.clone();
        if a.start_gas.is_zero() {
            a.start_gas = floor;
        }
        // As the venue's HIP-1 page gives it: the next starts at twice the last price paid,
        // or at the floor when the last did not sell.
        while self.now_ms >= a.start_ms + AUCTION_MS {
            a = Auction {
                start_ms: a.start_ms + AUCTION_MS,
                start_gas: a.sold_for.map_or(floor, |p| (p * Decimal::TWO).max(floor)),
                sold_for: None,
            };
        }
        a
    }

    /// An auction's gas now: from its start down to the floor, linearly over 31 hours.
    fn gas_of(&self, a: &Auction) -> Decimal {
        let floor = self.hip3.gas_floor;
        let left = Decimal::from(a.start_ms + AUCTION_MS - self.now_ms) / Decimal::from(AUCTION_MS);
        (floor + (a.start_gas - floor) * left).round_dp(super::staking::WEI_DECIMALS)
    }

    /// `perpDeployAuctionStatus`.
    pub(super) fn perp_deploy_auction_status(&self) -> Value {
        let a = self.auction_at_now();
        let gas = self.gas_of(&a);
        json!({"startTimeSeconds": a.start_ms / 1_000, "durationSeconds": AUCTION_MS / 1_000,
            "startGas": wire(a.start_gas), "currentGas": if a.sold_for.is_some() { Value::Null } else { json!(wire(gas)) },
            "endGas": a.sold_for.map(wire)})
    }

    /// `perpDeploy`, by `user`.
    pub(super) fn perp_deploy(
        &mut self,
        user: Address,
        action: &Value,
        pushes: &mut Vec<Push>,
    ) -> Value {
        let r = if let Some(r) = action.get("registerAsset").or(action.get("registerAsset2")) {
            self.register_asset(user, r)
        } else if let Some(o) = action.get("setOracle") {
            self.set_oracle(user, o)
        } else if let Some(h) = action.get("haltTrading") {
            self.halt_trading(user, h, pushes)
        } else if let Some(f) = action.get("setFeeRecipient") {
            let dex = f["dex"].as_str().unwrap_or_default().to_string();
            let to = f["feeRecipient"].as_str().and_then(Address::parse);
            match (self.deployer_meta(user, &dex, "setFeeRecipient"), to) {
                (Ok(m), Some(to)) => {
                    m.fee_recipient = Some(to);
                    Ok(())
                }
                (Err(e), _) => Err(e),
                (_, None) => Err("Invalid feeRecipient.".into()),
            }
        } else if let Some((key, list)) = [
            "setFundingMultipliers",
            "setFundingInterestRates",
            "setMarginTableIds",
            "setOpenInterestCaps",
            "setMarginModes",
        ]
        .iter()
        .find_map(|k| action.get(*k).map(|v| (*k, v)))
        {
            self.set_per_market(user, key, list)
        } else if let Some(a) = action.get("setPerpAnnotation") {
            let coin = a["coin"].as_str().unwrap_or_default().to_string();
            self.deployed_market(user, &coin, "setPerpAnnotation")
                .map(|i| {
                    let mut note = a.clone();
                    note.as_object_mut().map(|o| o.shift_remove("coin"));
                    self.markets[i].deployer.annotation = Some(note);
                })
        } else if let Some(d) = action.get("setSubDeployers") {
            self.set_sub_deployers(user, d)
        } else {
            let key = action
                .as_object()
                .and_then(|o| o.keys().find(|k| *k != "type").cloned())
                .unwrap_or_default();
            Err(format!("perpDeploy {key} is not simulated."))
        };
        match r {
            Ok(()) => ok(),
            Err(e) => err(e),
        }
    }

    fn register_asset(&mut self, user: Address, r: &Value) -> Result<(), String> {
        let dex = r["dex"].as_str().unwrap_or_default().to_string();
        let req = &r["assetRequest"];
        let name = req["coin"].as_str().unwrap_or_default();
        let coin = on_dex(&dex, name);
        let (Some(sz_decimals), Some(price), Some(table)) = (
            req["szDecimals"].as_u64(),
            req["oraclePx"]
                .as_str()
                .and_then(|p| Decimal::from_str(p).ok())
                .filter(|p| *p > Decimal::ZERO),
            req["marginTableId"].as_u64(),
        ) else {
            return Err("Invalid assetRequest: szDecimals, oraclePx and marginTableId.".into());
        };
        if dex.is_empty() || dex.len() > 6 || !dex.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err("Invalid dex name: 1 to 6 letters or digits.".into());
        }
        if coin.split_once(':').map(|(d, _)| d) != Some(dex.as_str()) {
            return Err(format!("Coin {name} is not on dex {dex}."));
        }
        if self.assets.contains_key(&coin) {
            return Err(format!("{coin} already exists."));
        }
        if sz_decimals > 5 || !(1..=50).contains(&table) {
            return Err("Invalid szDecimals (at most 5) or marginTableId (1 to 50).".into());
        }
        let isolated = req["onlyIsolated"].as_bool().unwrap_or(false)
            || matches!(
                req["marginMode"].as_str(),
                Some("strictIsolated" | "noCross")
            );
        if !isolated {
            return Err(
                "The simulator's HIP-3 markets are isolated only: set onlyIsolated.".into(),
            );
        }
        match (
            self.dex_meta.get(&dex),
            r.get("schema").filter(|s| !s.is_null()),
        ) {
            (None, None) if self.dexes.contains(&dex) => {
                return Err(format!("Dex {dex} is not a deployed dex."));
            }
            (None, None) => return Err(format!("Dex {dex} does not exist: give its schema.")),
            (Some(_), Some(_)) | (None, Some(_)) if self.dexes.contains(&dex) => {
                return Err(format!("Dex {dex} already exists."));
            }
            (Some(m), None) if !m.may(user, "registerAsset") => {
                return Err(format!("Only the deployer of dex {dex} may do that."));
            }
            (_, Some(s)) if s["collateralToken"].as_u64().unwrap_or(0) != 0 => {
                return Err(
                    "The simulator's HIP-3 dexes take USDC (token 0) as collateral.".into(),
                );
            }
            _ => {}
        }
        // The deployer's stake, then the auction's gas, from its spot HYPE.
        let a = &self.accounts[&user];
        let staked = a.staking.staked();
        if staked < self.hip3.deployer_stake {
            return Err(format!(
                "Deploying a perp dex needs {} HYPE staked; {user} has {staked}.",
                self.hip3.deployer_stake
            ));
        }
        let auction = self.auction_at_now();
        let gas = self.gas_of(&auction);
        if auction.sold_for.is_some() {
            return Err(format!(
                "This deploy auction's slot is taken: the next starts at {} s.",
                (auction.start_ms + AUCTION_MS) / 1_000
            ));
        }
        if let Some(max) = r["maxGas"].as_u64() {
            if Decimal::new(max as i64, super::staking::WEI_DECIMALS) < gas {
                return Err(format!("Deploy gas {gas} HYPE is above maxGas."));
            }
        }
        let hype = self.accounts[&user]
            .spot
            .get(super::staking::NATIVE)
            .map_or(Decimal::ZERO, |b| b.total);
        if hype < gas {
            return Err(format!(
                "Insufficient HYPE for deploy gas {gas}: {hype} held."
            ));
        }
        let b = self
            .accounts
            .get_mut(&user)
            .expect("account")
            .spot
            .get_mut(super::staking::NATIVE)
            .expect("HYPE");
        b.entry_ntl = (b.entry_ntl * (b.total - gas) / b.total).round_dp(6);
        b.total -= gas;
        self.auction = Auction {
            sold_for: Some(gas),
            ..auction
        };
        if let Some(s) = r.get("schema").filter(|s| !s.is_null()) {
            let updater = s["oracleUpdater"]
                .as_str()
                .and_then(Address::parse)
                .unwrap_or(user);
            self.dex_meta.insert(
                dex.clone(),
                DexMeta {
                    full_name: s["fullName"].as_str().unwrap_or_default().to_string(),
                    deployer: user,
                    oracle_updater: updater,
                    fee_recipient: None,
                    last_oracle_ms: 0,
                    sub_deployers: BTreeMap::new(),
                },
            );
        }
        let spec = crate::sim::market::MarketSpec::deployed(
            &coin,
            sz_decimals as u32,
            price,
            table as u32,
        );
        self.add_deployed(Deployed {
            spec,
            oracle: price,
            settings: crate::sim::market::DeployerSettings {
                margin_mode: req["marginMode"]
                    .as_str()
                    .unwrap_or("strictIsolated")
                    .to_string(),
                ..Default::default()
            },
        });
        Ok(())
    }

    /// Lists a deployed market (at registration, and again on a restore): its dex after the
    /// others, its asset id the next on that dex.
    pub(super) fn add_deployed(&mut self, d: Deployed) {
        let dex = crate::venue::hyperliquid::info::dex_of(&d.spec.coin).to_string();
        if !self.dexes.contains(&dex) {
            self.dexes.push(dex.clone());
        }
        let dex_index = self.dexes.iter().position(|x| *x == dex).expect("dex") as u32 + 1;
        let on_dex = self
            .assets
            .keys()
            .filter(|c| crate::venue::hyperliquid::info::dex_of(c) == dex)
            .count() as u32;
        let asset = 100_000 + dex_index * 10_000 + on_dex;
        // Its own generator: listing a market leaves every other market's path as it was.
        let mut rng = Rng::new(d.spec.coin.bytes().fold(0x3D, |h, b| h * 31 + u64::from(b)));
        let mut m = SimMarket::new(d.spec.clone(), &mut rng);
        m.oracle = d.oracle;
        m.deployer = d.settings.clone();
        self.assets
            .insert(d.spec.coin.clone(), (asset, self.markets.len()));
        self.markets.push(m);
        self.deployed.push(d.spec.coin);
    }

    /// What is kept of the deployed markets for a restart.
    pub(super) fn deployed_markets(&self) -> Vec<Deployed> {
        self.deployed
            .iter()
            .filter_map(|c| self.market_index(c))
            .map(|i| {
                let m = &self.markets[i];
                Deployed {
                    spec: m.spec.clone(),
                    oracle: m.oracle,
                    settings: m.deployer.clone(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
pub(in crate::sim::exchange) mod tests {
    use super::*;
    use crate::sim::account::SpotBalance;
    use crate::sim::tests::{KEY, ex, l1, raw};
    use crate::venue::hyperliquid::signing::PrivateKey;

    pub(in crate::sim::exchange) fn register(
        coin: &str,
        schema: bool,
        max_gas: Option<u64>,
    ) -> Value {
        let schema = if schema {
            json!({"fullName": "Test", "collateralToken": 0, "oracleUpdater": null})
        } else {
            Value::Null
        };
        json!({"type": "perpDeploy", "registerAsset": {"maxGas": max_gas, "assetRequest": {"coin": coin,
            "szDecimals": 1, "oraclePx": "20.0", "marginTableId": 5, "onlyIsolated": true}, "dex": "tst", "schema": schema}})
    }

    /// The stake and the gas a deployment needs, the Dutch auction's fall and the next one's
    /// start at twice the price paid, who may set the oracle and halt, and a deployed market
    /// surviving a save and restore.
    #[test]
    fn deploying_needs_stake_and_gas_and_the_auction_falls_then_doubles() {
        let mut e = ex();
        e.hip3 = Hip3Rules {
            deployer_stake: Decimal::from(10),
            gas_floor: Decimal::from(100),
        };
        let owner = PrivateKey::from_hex(KEY).unwrap().address();
        let r = raw(&mut e, register("tst:AAA", true, None));
        assert!(
            r["response"].as_str().unwrap().contains("HYPE staked"),
            "{r}"
        );
        let a = e.accounts.get_mut(&owner).unwrap();
        a.staking.undelegated = Decimal::from(10);
        a.spot.insert(
            super::super::staking::NATIVE.into(),
            SpotBalance {
                total: Decimal::from(1_000),
                entry_ntl: Decimal::ZERO,
            },
        );
        // The first auction starts at the floor; a day in it is still at the floor.
        let t0 = e.now_ms;
        e.tick(t0 + 3_600_000);
        let st = e.perp_deploy_auction_status();
        assert_eq!(
            (st["startGas"].as_str(), st["currentGas"].as_str()),
            (Some("100.0"), Some("100.0"))
        );
        let r = raw(&mut e, register("tst:AAA", true, Some(99 * 100_000_000)));
        assert!(
            r["response"].as_str().unwrap().contains("above maxGas"),
            "{r}"
        );
        l1(&mut e, register("tst:AAA", true, None));
        assert_eq!(
            e.accounts[&owner].spot[super::super::staking::NATIVE].total,
            Decimal::from(900)
        );
        assert_eq!(e.perp_deploy_auction_status()["endGas"], "100.0");
        let r = raw(&mut e, register("tst:BBB", false, None));
        assert!(
            r["response"].as_str().unwrap().contains("slot is taken"),
            "{r}"
        );
        // The next auction starts at 200 and falls linearly to the floor over 31 hours.
        e.tick(t0 + AUCTION_MS + AUCTION_MS / 2);
        let st = e.perp_deploy_auction_status();
        assert_eq!(
            (st["startGas"].as_str(), st["currentGas"].as_str()),
            (Some("200.0"), Some("150.0")),
            "{st}"
        );
        l1(&mut e, register("tst:BBB", false, None));
        assert_eq!(
            e.accounts[&owner].spot[super::super::staking::NATIVE].total,
            Decimal::from(750)
        );
        let (a, b) = (e.assets["tst:AAA"].0, e.assets["tst:BBB"].0);
        assert_eq!((a, b), (120_000, 120_001), "dex 2 after the config's xyz");

        // Only the oracle updater sets the oracle, only the deployer halts.
        let stranger = Address([5; 20]);
        e.accounts.insert(stranger, Account::new(Decimal::ONE));
        let oracle = json!({"dex": "tst", "oraclePxs": [["tst:AAA", "20.1"]], "markPxs": []});
        assert!(
            e.set_oracle(stranger, &oracle)
                .unwrap_err()
                .contains("oracle updater")
        );
        e.set_oracle(owner, &oracle).unwrap();
        let halt = json!({"coin": "tst:AAA", "isHalted": true});
        assert!(
            e.halt_trading(stranger, &halt, &mut Vec::new())
                .unwrap_err()
                .contains("deployer")
        );
        e.halt_trading(owner, &halt, &mut Vec::new()).unwrap();

        // Saved and restored: the markets, their dex, the oracle and the halt come back.
        let text = serde_json::to_string(&e.snapshot()).unwrap();
        let mut f = ex();
        f.restore(serde_json::from_str(&text).unwrap());
        let i = f.market_index("tst:AAA").unwrap();
        assert_eq!(
            (
                f.assets["tst:AAA"].0,
                f.markets[i].oracle,
                f.markets[i].deployer.halted
            ),
            (120_000, Decimal::new(201, 1), true)
        );
        assert_eq!(
            f.info(&json!({"type": "perpDexs"})).unwrap()[2]["deployer"],
            owner.to_string()
        );
        assert_eq!(f.perp_deploy_auction_status()["endGas"], "150.0");
    }
}
