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
                "accountClassTransfer" if d["toPerp"] == true => num("usdc"),
                "accountClassTransfer" => -num("usdc"),
                "internalTransfer" | "subAccountTransfer" => {
                    let into = d["destination"] == me.as_str();
                    let out = d["user"] == me.as_str();
                    num("usdc") * (Decimal::from(into as i64) - Decimal::from(out as i64))
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
