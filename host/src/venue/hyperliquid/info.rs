//! Startup and reconciliation info (`POST /info` bodies and responses) and asset ids.
//! Perps: index in the dex's `meta.universe`; HIP-3 dex i (position in `perpDexs`, 0 = main dex):
//! `100000 + i × 10000 + index`; spot: `10000 + index`. Delisted entries keep their index.
//! Reference §5.

use super::tick::AssetSpec;
use super::wire::{dec, opt_dec};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;

/// One entry of `perpDexs` (entry 0 is `null`: the main dex).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PerpDex {
    pub name: String,
    #[serde(rename = "fullName", default)]
    pub full_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AssetMeta {
    pub name: String,
    #[serde(rename = "szDecimals")]
    pub sz_decimals: u32,
    #[serde(rename = "maxLeverage", default)]
    pub max_leverage: Option<u32>,
    #[serde(rename = "isDelisted", default)]
    pub is_delisted: bool,
    #[serde(rename = "onlyIsolated", default)]
    pub only_isolated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Meta {
    pub universe: Vec<AssetMeta>,
}

/// `spotMeta`: the pairs (`universe`) and tokens.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SpotMeta {
    pub universe: Vec<SpotPair>,
    pub tokens: Vec<SpotToken>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SpotPair {
    pub name: String,
    pub tokens: [u32; 2],
    pub index: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SpotToken {
    pub name: String,
    #[serde(rename = "szDecimals")]
    pub sz_decimals: u32,
    pub index: u32,
}

/// A perp position of `clearinghouseState`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Position {
    pub coin: String,
    /// Signed size.
    #[serde(deserialize_with = "dec")]
    pub szi: Decimal,
    #[serde(rename = "entryPx", default, deserialize_with = "opt_dec")]
    pub entry_px: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AssetPosition {
    pub position: Position,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClearinghouseState {
    #[serde(rename = "assetPositions")]
    pub asset_positions: Vec<AssetPosition>,
    /// Venue time (ms) of this state.
    pub time: u64,
}

/// An entry of `openOrders`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OpenOrder {
    pub coin: String,
    pub side: super::wire::WireSide,
    #[serde(rename = "limitPx", deserialize_with = "dec")]
    pub limit_px: Decimal,
    #[serde(deserialize_with = "dec")]
    pub sz: Decimal,
    pub oid: u64,
    #[serde(default)]
    pub cloid: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct UserRateLimit {
    #[serde(rename = "nRequestsUsed")]
    pub used: u64,
    #[serde(rename = "nRequestsCap")]
    pub cap: u64,
}

/// Request bodies.
pub mod request {
    use serde_json::{Value, json};

    pub fn perp_dexs() -> Value {
        json!({"type": "perpDexs"})
    }
    pub fn meta(dex: &str) -> Value {
        json!({"type": "meta", "dex": dex})
    }
    pub fn spot_meta() -> Value {
        json!({"type": "spotMeta"})
    }
    pub fn meta_and_asset_ctxs(dex: &str) -> Value {
        json!({"type": "metaAndAssetCtxs", "dex": dex})
    }
    pub fn clearinghouse_state(user: &str, dex: &str) -> Value {
        json!({"type": "clearinghouseState", "user": user, "dex": dex})
    }
    pub fn open_orders(user: &str, dex: &str) -> Value {
        json!({"type": "openOrders", "user": user, "dex": dex})
    }
    pub fn user_rate_limit(user: &str) -> Value {
        json!({"type": "userRateLimit", "user": user})
    }
}

/// Every tradable coin of a venue, with its asset id and lot rules.
#[derive(Debug, Clone, Default)]
pub struct AssetTable {
    by_coin: HashMap<String, AssetSpec>,
    by_asset: HashMap<u32, String>,
}

impl AssetTable {
    /// Builds the table from `perpDexs` and each dex's `meta` (`metas[i]` is dex i; 0 = main).
    pub fn from_perps(perp_dexs: &[Option<PerpDex>], metas: &[Meta]) -> Result<AssetTable, String> {
        if metas.len() != perp_dexs.len().max(1) {
            return Err(format!(
                "{} perp dexes but {} metas",
                perp_dexs.len().max(1),
                metas.len()
            ));
        }
        let mut t = AssetTable::default();
        for (i, meta) in metas.iter().enumerate() {
            let dex = perp_dexs
                .get(i)
                .and_then(|d| d.as_ref())
                .map(|d| d.name.as_str());
            t.add_perp_dex(i, dex, meta);
        }
        Ok(t)
    }

    /// Adds the perps of one dex: `dex_index` is its position in `perpDexs` (0 = main dex).
    pub fn add_perp_dex(&mut self, dex_index: usize, dex_name: Option<&str>, meta: &Meta) {
        let base = if dex_index == 0 {
            0
        } else {
            100_000 + dex_index as u32 * 10_000
        };
        for (j, a) in meta.universe.iter().enumerate() {
            let coin = match dex_name {
                Some(d) if !a.name.contains(':') => format!("{d}:{}", a.name),
                _ => a.name.clone(),
            };
            let spec = AssetSpec {
                asset: base + j as u32,
                sz_decimals: a.sz_decimals,
                is_spot: false,
            };
            self.by_asset.insert(spec.asset, coin.clone());
            self.by_coin.insert(coin, spec);
        }
    }

    /// Adds spot pairs: coin `@index` (or the pair name for PURR/USDC), asset 10000 + index,
    /// sizes in the base token's decimals.
    pub fn add_spot(&mut self, spot: &SpotMeta) {
        for p in &spot.universe {
            let Some(base) = spot.tokens.iter().find(|t| t.index == p.tokens[0]) else {
                continue;
            };
            let spec = AssetSpec {
                asset: 10_000 + p.index,
                sz_decimals: base.sz_decimals,
                is_spot: true,
            };
            let coin = if p.name.contains('/') {
                p.name.clone()
            } else {
                format!("@{}", p.index)
            };
            self.by_asset.insert(spec.asset, coin.clone());
            self.by_coin.insert(coin, spec);
        }
    }

    pub fn spec(&self, coin: &str) -> Option<&AssetSpec> {
        self.by_coin.get(coin)
    }

    pub fn coin(&self, asset: u32) -> Option<&str> {
        self.by_asset.get(&asset).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_coin.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_coin.is_empty()
    }
}

/// Fetches what is needed to trade `coins` over HTTP: `perpDexs`, the `meta` of each dex the
/// coins use (not of every dex), and `spotMeta` when a spot coin (`@N` or `BASE/QUOTE`) is named.
/// Every configured coin must be found, or the error says which is missing.
pub async fn fetch_asset_table(
    http: &crate::venue::http::HttpClient,
    coins: &[String],
) -> Result<AssetTable, String> {
    let dexs: Vec<Option<PerpDex>> = http
        .info(&request::perp_dexs())
        .await
        .map_err(|e| e.to_string())?;
    let mut wanted: Vec<&str> = coins
        .iter()
        .filter(|c| !is_spot(c))
        .map(|c| dex_of(c))
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut t = AssetTable::default();
    for dex in wanted {
        let index = if dex.is_empty() {
            0
        } else {
            dexs.iter()
                .position(|d| d.as_ref().is_some_and(|d| d.name == dex))
                .ok_or_else(|| format!("dex `{dex}` is not in the venue's perpDexs"))?
        };
        let meta: Meta = http
            .info(&request::meta(dex))
            .await
            .map_err(|e| e.to_string())?;
        t.add_perp_dex(index, (!dex.is_empty()).then_some(dex), &meta);
    }
    if coins.iter().any(|c| is_spot(c)) {
        let spot: SpotMeta = http
            .info(&request::spot_meta())
            .await
            .map_err(|e| e.to_string())?;
        t.add_spot(&spot);
    }
    for c in coins {
        if t.spec(c).is_none() {
            return Err(format!(
                "coin `{c}` is not listed by the venue (check the market name and its dex prefix)"
            ));
        }
    }
    Ok(t)
}

/// The account's state over HTTP: `clearinghouseState` and `openOrders` of each dex, and the
/// address budget (`userRateLimit`). The running client gets the same through its socket's post
/// channel after every reconnect; this is for startup checks and tools.
pub async fn fetch_account_state(
    http: &crate::venue::http::HttpClient,
    user: &str,
    dexes: &[&str],
) -> Result<(Vec<ClearinghouseState>, Vec<OpenOrder>, UserRateLimit), String> {
    let mut states = Vec::new();
    let mut orders = Vec::new();
    for dex in dexes {
        states.push(
            http.info(&request::clearinghouse_state(user, dex))
                .await
                .map_err(|e| e.to_string())?,
        );
        let o: Vec<OpenOrder> = http
            .info(&request::open_orders(user, dex))
            .await
            .map_err(|e| e.to_string())?;
        orders.extend(o);
    }
    let budget = http
        .info(&request::user_rate_limit(user))
        .await
        .map_err(|e| e.to_string())?;
    Ok((states, orders, budget))
}

/// Spot coins are `@N` or `BASE/QUOTE`.
pub fn is_spot(coin: &str) -> bool {
    coin.starts_with('@') || coin.contains('/')
}

/// The dex of a coin (`xyz` for `xyz:TSLA`, `""` for the main dex), as the Python SDK derives it.
pub fn dex_of(coin: &str) -> &str {
    coin.split_once(':').map_or("", |(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_ids_for_main_hip3_and_spot() {
        let dexs: Vec<Option<PerpDex>> =
            serde_json::from_str(r#"[null, {"name":"test","fullName":"test dex","deployer":"0x5e89","oracleUpdater":null}]"#).unwrap();
        let main: Meta = serde_json::from_str(
            r#"{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":50},{"name":"ETH","szDecimals":4,"maxLeverage":50},{"name":"MATIC","szDecimals":1,"isDelisted":true}]}"#,
        )
        .unwrap();
        let hip3: Meta = serde_json::from_str(
            r#"{"universe":[{"name":"test:ABC","szDecimals":4,"maxLeverage":20,"marginTableId":20,"onlyIsolated":true,"marginMode":"strictIsolated"}],"marginTables":[],"collateralToken":0}"#,
        )
        .unwrap();
        let mut t = AssetTable::from_perps(&dexs, &[main, hip3]).unwrap();
        assert_eq!(t.spec("BTC").unwrap().asset, 0);
        assert_eq!(t.spec("ETH").unwrap().asset, 1);
        assert_eq!(
            t.spec("MATIC").unwrap().asset,
            2,
            "delisted entries keep their index"
        );
        assert_eq!(
            t.spec("test:ABC").unwrap().asset,
            110_000,
            "the reference's HIP-3 example"
        );
        assert_eq!(t.coin(110_000), Some("test:ABC"));
        let spot: SpotMeta = serde_json::from_str(
            r#"{"universe":[{"name":"PURR/USDC","tokens":[1,0],"index":0},{"name":"@107","tokens":[150,0],"index":107}],"tokens":[{"name":"USDC","szDecimals":8,"index":0},{"name":"PURR","szDecimals":0,"index":1},{"name":"HYPE","szDecimals":2,"index":150}]}"#,
        )
        .unwrap();
        t.add_spot(&spot);
        assert_eq!(t.spec("PURR/USDC").unwrap().asset, 10_000);
        let hype = t.spec("@107").unwrap();
        assert_eq!(
            (hype.asset, hype.sz_decimals, hype.is_spot),
            (10_107, 2, true)
        );
        assert_eq!(dex_of("test:ABC"), "test");
        assert_eq!(dex_of("BTC"), "");
    }

    #[test]
    fn account_state_parses() {
        let s: ClearinghouseState = serde_json::from_str(
            r#"{"assetPositions":[{"position":{"coin":"BTC","cumFunding":{"allTime":"0","sinceChange":"0","sinceOpen":"0"},"entryPx":"64000.0","leverage":{"rawUsd":"1","type":"isolated","value":5},"liquidationPx":null,"marginUsed":"10","maxLeverage":50,"positionValue":"64","returnOnEquity":"0","szi":"-0.001","unrealizedPnl":"0"},"type":"oneWay"}],"marginSummary":{},"crossMarginSummary":{},"crossMaintenanceMarginUsed":"0","withdrawable":"0","time":1700000000000}"#,
        )
        .unwrap();
        assert_eq!(
            s.asset_positions[0].position.szi,
            "-0.001".parse::<Decimal>().unwrap()
        );
        assert_eq!(s.time, 1700000000000);
        let r: UserRateLimit = serde_json::from_str(r#"{"cumVlm":"170043721737.450012207","nRequestsUsed":36589831368,"nRequestsCap":170043731737}"#).unwrap();
        assert_eq!(r.cap - r.used, 133_453_900_369);
        let o: Vec<OpenOrder> = serde_json::from_str(r#"[{"coin":"BTC","side":"B","limitPx":"30000.0","sz":"0.1","oid":5,"timestamp":1,"origSz":"0.1","cloid":"0x00000000000000000000000000000001"}]"#).unwrap();
        assert_eq!(
            o[0].cloid.as_deref(),
            Some("0x00000000000000000000000000000001")
        );
    }
}
