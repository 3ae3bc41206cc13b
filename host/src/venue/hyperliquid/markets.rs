//! The markets one venue connection trades: the venue's coin names, each market's asset rules
//! (tick, lot, asset id) and the dexes they live on.

use super::info::{self, AssetTable};
use super::tick::AssetSpec;
use crate::engine::types::MarketId;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Markets {
    /// (market, venue coin), as configured (`BTC`, `xyz:TSLA`).
    pub list: Vec<(MarketId, String)>,
    by_coin: HashMap<String, MarketId>,
    /// Each market's asset rules by `MarketId` (dense: the registry's indices), so an order
    /// costs an index, not a string hash; None for a market the venue's table does not list (its
    /// orders are refused before signing).
    spec: Vec<Option<AssetSpec>>,
}

impl Markets {
    pub fn new(list: Vec<(MarketId, String)>, assets: &AssetTable) -> Markets {
        let by_coin = list.iter().map(|(m, c)| (c.clone(), *m)).collect();
        let mut spec = Vec::new();
        for (m, coin) in &list {
            let i = m.0 as usize;
            if spec.len() <= i {
                spec.resize(i + 1, None);
            }
            spec[i] = assets.spec(coin).copied();
        }
        Markets {
            list,
            by_coin,
            spec,
        }
    }

    /// The market a venue coin name is, if configured here.
    pub fn by_coin(&self, coin: &str) -> Option<MarketId> {
        self.by_coin.get(coin).copied()
    }

    pub fn spec(&self, m: MarketId) -> Option<AssetSpec> {
        self.spec.get(m.0 as usize).copied().flatten()
    }

    /// The dexes of the configured markets (`""` = main dex), sorted, once each.
    pub fn dexes(&self) -> Vec<String> {
        let mut d: Vec<String> = self
            .list
            .iter()
            .map(|(_, c)| info::dex_of(c).to_string())
            .collect();
        d.sort();
        d.dedup();
        d
    }
}
