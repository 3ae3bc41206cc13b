//! Who an address is, and what it has been: `userRole`, `extraAgents`, `portfolio`.

use super::*;

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
