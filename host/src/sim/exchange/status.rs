//! The exchange-wide answers: `allPerpMetas`, `marginTable`, `perpsAtOpenInterestCap`,
//! `exchangeStatus`, and per user `approvedBuilders`, `preTransferCheck`,
//! `legalCheck`.

use super::*;

impl Exchange {
    /// `marginTable`: the simulator's tables are the venue's simple ones, whose id is their
    /// maximum leverage, with one tier from 0.
    pub(super) fn margin_table(&self, id: u64) -> Result<Value, String> {
        if !self
            .markets
            .iter()
            .any(|m| !m.spot && u64::from(m.spec.max_leverage) == id)
        {
            return Err(format!("unknown margin table {id}"));
        }
        Ok(json!({"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": id}]}))
    }

    /// The `marginTables` of a dex's meta: one per maximum leverage its markets use.
    pub(super) fn margin_tables(&self, dex: &str) -> Value {
        let mut ids: Vec<u32> = self
            .markets
            .iter()
            .filter(|m| !m.spot && crate::venue::hyperliquid::info::dex_of(&m.spec.coin) == dex)
            .map(|m| m.spec.max_leverage)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Value::Array(
            ids.into_iter()
                .map(|id| {
                    json!([id, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": id}]}])
                })
                .collect(),
        )
    }

    pub(super) fn exchange_info(&self, kind: &str, req: &Value) -> Option<Result<Value, String>> {
        let user = || {
            req["user"]
                .as_str()
                .and_then(Address::parse)
                .ok_or("missing or bad `user`".to_string())
        };
        Some(match kind {
            "allPerpMetas" => Ok(Value::Array(
                self.dex_names().iter().map(|d| self.meta(d)).collect(),
            )),
            "marginTable" => req["id"]
                .as_u64()
                .ok_or("missing `id`".to_string())
                .and_then(|id| self.margin_table(id)),
            "perpsAtOpenInterestCap" => {
                Ok(self.perps_at_oi_cap(req.get("dex").and_then(Value::as_str).unwrap_or("")))
            }
            "perpDexLimits" => {
                Ok(self.perp_dex_limits(req.get("dex").and_then(Value::as_str).unwrap_or("")))
            }
            "exchangeStatus" => Ok(json!({"time": self.now_ms, "specialStatuses": null})),
            "approvedBuilders" => user().map(|u| {
                let mut b: Vec<String> = self
                    .accounts
                    .get(&u)
                    .map(|a| {
                        a.builder_fees
                            .iter()
                            .filter(|(_, f)| **f > 0)
                            .map(|(b, _)| b.to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                b.sort();
                json!(b)
            }),
            "preTransferCheck" => user().map(|u| {
                let exists = self.accounts.contains_key(&u);
                let sent = self.accounts.get(&u).is_some_and(|a| !a.nonces.is_empty());
                // The simulator's transfers cost nothing, to new accounts too.
                json!({"fee": "0.0", "isSanctioned": false,
                    "userExists": exists, "userHasSentTx": sent})
            }),
            "legalCheck" => user()
                .map(|_| json!({"ipAllowed": true, "acceptedTerms": true, "userAllowed": true})),
            _ => return None,
        })
    }
}
