//! Info requests a client asks about things the simulator holds little of, answered from what it
//! does hold: `webData2` (also the channel's payload), `subAccounts2`,
//! `userTwapSliceFillsByTime`, `tokenDetails` (a token's supply: what the simulator's accounts
//! hold, its book being an unlimited counterparty), and the lists that are empty here because
//! nothing in the simulator fills them: `liquidatable` (accounts are liquidated on the tick they
//! fall under maintenance), `validatorL1Votes` (no vote is open), `gossipRootIps` (no gossip
//! network), `isVip` (null: no VIP tier); and the deployers' annotations (`perpAnnotation`,
//! `perpCategories`, `perpConciseAnnotations`, set with `perpDeploy` `setPerpAnnotation`).

use super::*;

impl Exchange {
    /// `webData2`: what the venue's front end shows of a user.
    pub fn web_data2(&self, u: &Address) -> Value {
        let user = u.to_string();
        let state = self.clearinghouse_state(u, "");
        let orders = self
            .info(&json!({"type": "frontendOpenOrders", "user": user}))
            .unwrap_or_default();
        let meta = self
            .info(&json!({"type": "metaAndAssetCtxs"}))
            .unwrap_or_default();
        let w3 = self.web_data3(u);
        let twaps: Vec<Value> = self
            .accounts
            .get(u)
            .map(|a| a.twaps.iter().map(|t| json!([t.id, t.state(u)])).collect())
            .unwrap_or_default();
        let s = &w3["userState"];
        json!({"user": user, "clearinghouseState": state, "openOrders": orders,
            "meta": meta[0], "assetCtxs": meta[1], "serverTime": self.now_ms, "isVault": s["isVault"],
            "cumLedger": s["cumLedger"], "leadingVaults": w3["perpDexStates"][0]["leadingVaults"],
            "twapStates": twaps, "agentAddress": s["agentAddress"], "agentValidUntil": s["agentValidUntil"]})
    }

    /// `subAccounts2`: `subAccounts`, with each sub-account's state on every dex.
    pub(super) fn sub_accounts2(&self, master: &Address) -> Value {
        let Value::Array(subs) = self.sub_accounts(master) else {
            return Value::Null;
        };
        Value::Array(
            subs.into_iter()
                .map(|s| {
                    let addr = s["subAccountUser"].as_str().and_then(Address::parse);
                    let states: Vec<Value> = self
                        .dex_names()
                        .into_iter()
                        .map(|d| {
                            let st = addr.map_or(Value::Null, |a| self.clearinghouse_state(&a, &d));
                            json!([d, st])
                        })
                        .collect();
                    json!({"name": s["name"], "subAccountUser": s["subAccountUser"], "master": s["master"],
                        "dexToClearinghouseState": states, "spotState": s["spotState"]})
                })
                .collect(),
        )
    }

    /// `tokenDetails` of a spot token by its `tokenId`.
    pub(super) fn token_details(&self, token_id: &str) -> Result<Value, String> {
        let meta = self.spot_meta();
        let token = meta["tokens"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["tokenId"].as_str() == Some(token_id))
            .ok_or_else(|| format!("Unknown tokenId {token_id}."))?;
        let name = token["name"].as_str().unwrap_or_default();
        let held: Decimal = self
            .accounts
            .values()
            .map(|a| {
                let staked = if name == super::staking::NATIVE {
                    a.staking.total()
                } else {
                    Decimal::ZERO
                };
                a.spot.get(name).map_or(Decimal::ZERO, |b| b.total)
                    + staked
                    + if name == "USDC" {
                        a.usdc
                    } else {
                        Decimal::ZERO
                    }
            })
            .sum();
        let now = self.now_ms;
        let pair = self.spot_pair_of(name);
        let (mid, prev) = pair.map_or((Value::Null, Value::Null), |i| {
            let m = &self.markets[i];
            (json!(wire(m.mid(now))), json!(wire(m.spec.price)))
        });
        Ok(
            json!({"name": name, "maxSupply": wire(held), "totalSupply": wire(held),
            "circulatingSupply": wire(held), "szDecimals": token["szDecimals"], "weiDecimals": token["weiDecimals"],
            "midPx": mid, "markPx": mid, "prevDayPx": prev, "genesis": null, "deployer": null,
            "deployGas": null, "deployTime": null, "seededUsdc": "0.0", "nonCirculatingUserBalances": [],
            "futureEmissions": "0.0"}),
        )
    }

    /// [coin, what] of every market a deployer annotated (`setPerpAnnotation`).
    fn annotations(&self, what: impl Fn(&Value) -> Value) -> Value {
        Value::Array(
            self.markets
                .iter()
                .filter_map(|m| {
                    m.deployer
                        .annotation
                        .as_ref()
                        .map(|n| json!([m.spec.coin, what(n)]))
                })
                .collect(),
        )
    }

    /// The info requests of this module (None: not one of them).
    pub(super) fn lookup(&self, req: &Value) -> Option<Result<Value, String>> {
        let user = || {
            req["user"]
                .as_str()
                .and_then(Address::parse)
                .ok_or("missing or bad `user`".to_string())
        };
        Some(match req["type"].as_str()? {
            "webData2" => user().map(|u| self.web_data2(&u)),
            "subAccounts2" => user().map(|u| self.sub_accounts2(&u)),
            "userTwapSliceFillsByTime" => user().and_then(|u| {
                let list = self
                    .accounts
                    .get(&u)
                    .map_or(&[][..], |a| &a.twap_slice_fills[..]);
                // The window is the fills' time.
                super::info::in_window_by(list, req, 2_000, |e| e["fill"]["time"].as_u64())
            }),
            "tokenDetails" => req["tokenId"]
                .as_str()
                .ok_or("missing `tokenId`".to_string())
                .and_then(|t| self.token_details(t)),
            "isVip" => user().map(|_| Value::Null),
            "perpAnnotation" => Ok(req["coin"]
                .as_str()
                .and_then(|c| self.market_index(c))
                .and_then(|i| self.markets[i].deployer.annotation.clone())
                .unwrap_or(Value::Null)),
            "perpCategories" => Ok(self.annotations(|n| n["category"].clone())),
            "perpConciseAnnotations" => Ok(self.annotations(|n| {
                let mut c = json!({"category": n["category"]});
                for k in ["displayName", "keywords"] {
                    if !n[k].is_null() {
                        c[k] = n[k].clone();
                    }
                }
                c
            })),
            "liquidatable" | "validatorL1Votes" | "gossipRootIps" => Ok(json!([])),
            _ => return None,
        })
    }
}
