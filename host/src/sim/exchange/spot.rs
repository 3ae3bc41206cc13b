//! Spot: the pairs (`[[sim.spot]]`, asset 10000 + index), the spot wallet's balances and holds,
//! and the spot info answers (`usdClassTransfer` is in transfers.rs).

use super::*;
use crate::sim::config::SpotSpec;

impl Exchange {
    /// Lists the spot pairs, in order (pair `k` is asset 10000 + k).
    pub fn add_spot(&mut self, pairs: &[SpotSpec]) {
        for (k, p) in pairs.iter().enumerate() {
            let spec = p.market(k);
            self.assets
                .insert(spec.coin.clone(), (10_000 + k as u32, self.markets.len()));
            self.spot_pairs.push((spec.coin.clone(), p.base.clone()));
            self.markets.push(SimMarket::spot(spec, &mut self.spot_rng));
        }
    }

    /// The market of the spot pair whose base is `token` (its index in `markets`).
    pub(super) fn spot_pair_of(&self, token: &str) -> Option<usize> {
        self.spot_pairs
            .iter()
            .find(|(_, b)| b == token)
            .and_then(|(c, _)| self.market_index(c))
    }

    /// The base token of a spot pair's coin (None: a perp).
    pub(super) fn spot_base(&self, coin: &str) -> Option<&str> {
        self.spot_pairs
            .iter()
            .find(|(c, _)| c == coin)
            .map(|(_, b)| b.as_str())
    }

    /// What resting spot orders hold of a token: USDC for buys (price × size), the base token
    /// for sells.
    fn spot_hold(&self, a: &Account, token: &str) -> Decimal {
        a.orders
            .iter()
            .filter_map(|o| {
                let base = self.spot_base(&o.coin)?;
                match (o.is_buy, token) {
                    (true, "USDC") => Some(o.px * o.sz),
                    (false, t) if t == base => Some(o.sz),
                    _ => None,
                }
            })
            .sum()
    }

    /// What of a token the wallet holds and no resting order holds.
    pub(super) fn spot_free(&self, user: &Address, token: &str) -> Decimal {
        self.accounts.get(user).map_or(Decimal::ZERO, |a| {
            a.spot_total(token) - self.spot_hold(a, token)
        })
    }

    /// A new spot order must be covered by what the wallet holds and no other order holds: the
    /// USDC it would pay (a buy) or the tokens it would sell.
    pub(super) fn check_spot_balance(
        &self,
        user: Address,
        asset: u32,
        coin: &str,
        is_buy: bool,
        px: Decimal,
        sz: Decimal,
    ) -> Result<(), String> {
        let base = self.spot_base(coin).unwrap_or_default();
        let (token, need) = if is_buy {
            ("USDC", px * sz)
        } else {
            (base, sz)
        };
        if self.spot_free(&user, token) < need {
            return Err(format!("Insufficient spot balance asset={asset}"));
        }
        Ok(())
    }

    /// `spotMeta`: the pairs and their tokens (USDC is token 0; each pair's base follows).
    pub(super) fn spot_meta(&self) -> Value {
        let token = |name: &str, index: usize, sz: u32, wei: u32| {
            json!({"name": name, "szDecimals": sz, "weiDecimals": wei, "index": index,
                "tokenId": format!("0x{index:032x}"), "isCanonical": true, "evmContract": null,
                "fullName": null, "deployerTradingFeeShare": "0.0"})
        };
        let mut tokens = vec![token("USDC", 0, 8, 8)];
        let mut universe = Vec::new();
        for (k, (coin, base)) in self.spot_pairs.iter().enumerate() {
            let sz = self.markets[self.assets[coin].1].spec.sz_decimals;
            // The native token's wei are 8 decimals, as the venue's HYPE.
            let wei = if base == super::staking::NATIVE {
                8
            } else {
                (sz + 5).min(8)
            };
            tokens.push(token(base, k + 1, sz, wei));
            universe.push(
                json!({"tokens": [k + 1, 0], "name": coin, "index": k, "isCanonical": k == 0}),
            );
        }
        json!({"universe": universe, "tokens": tokens})
    }

    /// A spot pair's asset context (the `spotMetaAndAssetCtxs` entry, and the
    /// `activeSpotAssetCtx` channel's `ctx`).
    pub fn spot_ctx(&self, m: &SimMarket, now: u64) -> Value {
        let mid = wire(m.mid(now));
        let (day_ntl, day_base) = self.tape.day_volume(&m.spec.coin, now);
        json!({"prevDayPx": wire(m.spec.price), "dayNtlVlm": wire(day_ntl), "markPx": mid,
            "midPx": mid, "circulatingSupply": "1000000000.0", "coin": m.spec.coin,
            "totalSupply": "1000000000.0", "dayBaseVlm": wire(day_base)})
    }

    pub(super) fn spot_meta_and_ctxs(&self) -> Value {
        let now = self.now_ms;
        let ctxs: Vec<Value> = self
            .spot_pairs
            .iter()
            .map(|(c, _)| self.spot_ctx(&self.markets[self.assets[c].1], now))
            .collect();
        json!([self.spot_meta(), ctxs])
    }

    /// `spotClearinghouseState`: every token the wallet holds, with what orders hold of it.
    pub(super) fn spot_state(&self, u: &Address) -> Value {
        let Some(a) = self.accounts.get(u) else {
            return json!({"balances": []});
        };
        let index = |t: &str| {
            if t == "USDC" {
                0
            } else {
                self.spot_pairs
                    .iter()
                    .position(|(_, b)| b == t)
                    .map_or(0, |k| k + 1)
            }
        };
        let balances: Vec<Value> = a
            .spot
            .iter()
            .filter(|(_, b)| !b.total.is_zero())
            .map(|(t, b)| {
                json!({"coin": t, "token": index(t), "hold": wire(self.spot_hold(a, t)),
                    "total": wire(b.total), "entryNtl": wire(b.entry_ntl.round_dp(6))})
            })
            .collect();
        json!({"balances": balances})
    }
}
