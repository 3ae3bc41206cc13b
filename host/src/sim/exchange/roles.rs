//! Who an address is, and what it has been: `userRole`, `extraAgents`, `portfolio`.

use super::*;

/// The USDC that moved into (+) or out of (−) an account's perp balance, from its ledger: the
/// total, and the first entry's time and amount.
pub(super) fn ledger_flows(
    a: &Account,
    u: &Address,
    now: u64,
) -> (Decimal, Option<(u64, Decimal)>) {
    let me = u.to_string();
    let mut flows = Decimal::ZERO;
    let mut first: Option<(u64, Decimal)> = None;
    for e in &a.ledger {
        let d = &e["delta"];
        let num = |k: &str| {
            d[k].as_str()
                .and_then(|s| Decimal::from_str(s).ok())
                .unwrap_or_default()
        };
        let flow = match d["type"].as_str().unwrap_or_default() {
            "deposit" => num("usdc"),
            "withdraw" | "vaultCreate" | "vaultDeposit" => -num("usdc"),
            "vaultWithdraw" => num("netWithdrawnUsd"),
            "vaultDistribution" => num("usdc"),
            "accountClassTransfer" if d["toPerp"] == true => num("usdc"),
            "accountClassTransfer" => -num("usdc"),
            "internalTransfer" | "subAccountTransfer" | "send" => {
                let into = d["destination"] == me.as_str();
                let out = d["user"] == me.as_str();
                let amt = if d["type"] == "send" {
                    num("amount")
                } else {
                    num("usdc")
                };
                amt * (Decimal::from(into as i64) - Decimal::from(out as i64))
            }
            _ => Decimal::ZERO,
        };
        flows += flow;
        if first.is_none() {
            first = Some((e["time"].as_u64().unwrap_or(now), flows));
        }
    }
    (flows, first)
}

impl Exchange {
    /// `userRole`: an account (`user`), a vault, a sub-account (with its master), an agent (with
    /// its account), or `missing`.
    pub(super) fn user_role(&self, u: &Address) -> Value {
        if let Some(owner) = self.agents.get(u) {
            return json!({"role": "agent", "data": {"user": owner.to_string()}});
        }
        match self.accounts.get(u) {
            None => json!({"role": "missing"}),
            Some(a) if a.vault.is_some() => json!({"role": "vault"}),
            Some(a) => match a.master {
                Some(m) => json!({"role": "subAccount", "data": {"master": m.to_string()}}),
                None => json!({"role": "user"}),
            },
        }
    }

    /// `extraAgents`: the agents the account approved with `approveAgent`.
    pub(super) fn extra_agents(&self, u: &Address) -> Value {
        let mut out: Vec<Value> = self
            .agent_names
            .iter()
            .filter(|(agent, _)| self.agents.get(agent) == Some(u))
            .map(|(agent, (name, until))| {
                json!({"address": agent.to_string(), "name": name, "validUntil": until})
            })
            .collect();
        out.sort_by(|a, b| a["address"].as_str().cmp(&b["address"].as_str()));
        Value::Array(out)
    }

    /// `portfolio`: the account's value and PnL (value less net deposits, from its ledger) from
    /// its first ledger entry to now, for every period the venue lists; `vlm` is its volume.
    pub(super) fn portfolio(&self, u: &Address) -> Value {
        let now = self.now_ms;
        let Some(a) = self.accounts.get(u) else {
            return json!([]);
        };
        let marks = |c: &str| self.market_index(c).map(|j| self.markets[j].mid(now));
        let value = a.usdc + a.unrealized(&marks);
        let (flows, first) = ledger_flows(a, u, now);
        let (t0, v0) = first.unwrap_or((now, value));
        let pnl = value - flows;
        let data = json!({"accountValueHistory": [[t0, wire(v0)], [now, wire(value.round_dp(6))]],
            "pnlHistory": [[t0, "0.0"], [now, wire(pnl.round_dp(6))]], "vlm": wire(a.volume)});
        Value::Array(
            [
                "day",
                "week",
                "month",
                "allTime",
                "perpDay",
                "perpWeek",
                "perpMonth",
                "perpAllTime",
            ]
            .iter()
            .map(|p| json!([p, data]))
            .collect(),
        )
    }
}

impl Exchange {
    /// `activeAssetData`: the user's leverage on a coin, and what it could trade now: in USDC
    /// (its free margin at that leverage) and in size (that, over the mark, plus the position a
    /// trade the other way would close), buy side first.
    pub fn active_asset_data(&self, u: &Address, coin: &str) -> Result<Value, String> {
        let i = self
            .market_index(coin)
            .filter(|i| !self.markets[*i].spot)
            .ok_or_else(|| format!("unknown coin {coin}"))?;
        let m = &self.markets[i];
        let mark = m.mid(self.now_ms);
        let a = self.accounts.get(u).cloned().unwrap_or_default();
        let (cross, lev) = self.leverage_of(&a, coin);
        let pos = a.position(coin);
        let leverage = if cross {
            json!({"type": "cross", "value": lev})
        } else {
            let p = a.positions.get(coin).cloned().unwrap_or_default();
            json!({"type": "isolated", "value": lev, "rawUsd": wire(-p.szi * p.entry_px + p.isolated_margin(lev))})
        };
        let usd = (self.perp_free(u) * Decimal::from(lev)).round_dp(2);
        let lot = Decimal::new(1, m.spec.sz_decimals);
        let size = |extra: Decimal| {
            if mark.is_zero() {
                Decimal::ZERO
            } else {
                ((usd / mark + extra) / lot).floor() * lot
            }
        };
        let (buy, sell) = (
            size((-pos).max(Decimal::ZERO)),
            size(pos.max(Decimal::ZERO)),
        );
        Ok(
            json!({"user": u.to_string(), "coin": coin, "leverage": leverage,
            "maxTradeSzs": [wire(buy), wire(sell)], "availableToTrade": [wire(usd), wire(usd)],
            "markPx": wire(mark)}),
        )
    }

    /// `predictedFundings`: every perp market's next hourly payment, at its (constant) rate.
    pub(super) fn predicted_fundings(&self) -> Value {
        let next = (self.now_ms / HOUR_MS + 1) * HOUR_MS;
        Value::Array(
            self.markets
                .iter()
                .filter(|m| !m.spot)
                .map(|m| {
                    json!([m.spec.coin, [["HlPerp", {"fundingRate": wire(m.funding_rate()),
                        "nextFundingTime": next, "fundingIntervalHours": 1}]]])
                })
                .collect(),
        )
    }
}

impl Exchange {
    /// `webData3`: the account's state as the venue's newer front end reads it, and per dex
    /// its vault equity and the vaults it leads.
    pub fn web_data3(&self, u: &Address) -> Value {
        let now = self.now_ms;
        let a = self.accounts.get(u).cloned().unwrap_or_default();
        let agent = self
            .agent_names
            .iter()
            .filter(|(ag, _)| self.agents.get(ag) == Some(u))
            .max_by_key(|(_, (_, until))| *until);
        let (flows, _) = ledger_flows(&a, u, now);
        let vault_equity: Decimal =
            self.user_vault_equities(u)
                .as_array()
                .map_or(Decimal::ZERO, |v| {
                    v.iter()
                        .filter_map(|e| {
                            e["equity"].as_str().and_then(|s| Decimal::from_str(s).ok())
                        })
                        .sum()
                });
        let dexes: Vec<Value> = self
            .dex_names()
            .iter()
            .enumerate()
            .map(|(k, _)| {
                // Vaults trade the main dex here: their equity and leaders are listed there.
                if k == 0 {
                    json!({"totalVaultEquity": wire(vault_equity), "perpsAtOpenInterestCap": [],
                        "leadingVaults": self.leading_vaults(u)})
                } else {
                    json!({"totalVaultEquity": "0.0", "perpsAtOpenInterestCap": [], "leadingVaults": []})
                }
            })
            .collect();
        json!({"userState": {"agentAddress": agent.map(|(ag, _)| ag.to_string()),
            "agentValidUntil": agent.map(|(_, (_, until))| *until), "cumLedger": wire(flows),
            "serverTime": now, "isVault": a.vault.is_some(), "user": u.to_string(),
            "dexAbstractionEnabled": a.dex_abstraction(), "abstraction": a.abstraction.as_deref().unwrap_or("default")},
            "perpDexStates": dexes})
    }

    /// `perpDexStatus`: the USDC a dex holds, over every account.
    pub(super) fn perp_dex_status(&self, dex: &str) -> Value {
        let total: Decimal = self
            .accounts
            .keys()
            .filter_map(|u| {
                self.clearinghouse_state(u, dex)["marginSummary"]["accountValue"]
                    .as_str()
                    .and_then(|s| Decimal::from_str(s).ok())
            })
            .sum();
        json!({"totalNetDeposit": wire(total.round_dp(6))})
    }

    /// `vaultSummaries`: every vault, with its value.
    pub(super) fn vault_summaries(&self) -> Value {
        let now = self.now_ms;
        let marks = |c: &str| self.market_index(c).map(|j| self.markets[j].mid(now));
        let mut out: Vec<Value> = self
            .accounts
            .iter()
            .filter_map(|(addr, a)| {
                let v = a.vault.as_ref()?;
                Some(json!({"name": v.name, "vaultAddress": addr.to_string(), "leader": v.leader.to_string(),
                    "tvl": wire((a.usdc + a.unrealized(&marks)).round_dp(6)), "isClosed": false,
                    "relationship": {"type": "normal"}, "createTimeMillis": v.created_ms}))
            })
            .collect();
        out.sort_by(|a, b| a["vaultAddress"].as_str().cmp(&b["vaultAddress"].as_str()));
        Value::Array(out)
    }
}
