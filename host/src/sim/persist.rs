//! An in-process simulator's accounts across runs: at the end of a `run` each simulator the run
//! started writes its accounts (balance, positions) and its markets' oracle prices to a state
//! file next to the journal (`<journal>.sim-<venue>.json`); the next run's simulator starts from
//! it, so the host finds its positions on the venue as it would on the real one. `run --fresh`
//! removes the files first. Kept: balances, positions (with isolated margin added), leverage
//! settings, spot wallets, HIP-3 dexes' collateral, and which accounts are whose sub-accounts. Not kept: resting and
//! trigger orders and TWAPs (a stopping host cancels its own), the fill history (the journal has
//! it), the ledger, vaults' share books, agents approved by `approveAgent`, builder approvals.

use super::server::SimHandle;
use crate::venue::hyperliquid::signing::Address;
use anyhow::{Context, bail};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    version: u32,
    venue: String,
    /// By address (0x… hex).
    accounts: BTreeMap<String, SavedAccount>,
    /// Oracle price by coin.
    oracles: BTreeMap<String, Decimal>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedAccount {
    usdc: Decimal,
    /// coin → (signed size, entry price).
    positions: BTreeMap<String, (Decimal, Decimal)>,
    /// coin → margin added to (or taken from) an isolated position.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    margin_added: BTreeMap<String, Decimal>,
    /// coin → (cross, leverage), as `updateLeverage` set it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    leverage: BTreeMap<String, (bool, u32)>,
    /// token → (total, entry notional).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    spot: BTreeMap<String, (Decimal, Decimal)>,
    /// A sub-account's master and name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub_account_of: Option<(String, String)>,
    /// HIP-3 dex → the collateral moved there with `sendAsset`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    dex_collateral: BTreeMap<String, Decimal>,
}

/// Where venue `venue`'s simulator keeps its accounts for the journal at `journal`.
pub fn state_path(journal: &Path, venue: &str) -> PathBuf {
    PathBuf::from(format!("{}.sim-{venue}.json", journal.display()))
}

/// Writes the simulator's accounts and prices to `path` (a temporary file renamed over it: a
/// crash mid-write leaves the old file).
pub fn save(handle: &SimHandle, venue: &str, path: &Path) -> anyhow::Result<usize> {
    let saved = {
        let st = handle.state.lock().expect("sim state");
        let ex = &st.exchange;
        Saved {
            version: VERSION,
            venue: venue.to_string(),
            accounts: ex
                .accounts
                .iter()
                .map(|(a, acct)| {
                    (
                        a.to_string(),
                        SavedAccount {
                            usdc: acct.usdc,
                            positions: acct
                                .positions
                                .iter()
                                .filter(|(_, p)| !p.szi.is_zero())
                                .map(|(c, p)| (c.clone(), (p.szi, p.entry_px)))
                                .collect(),
                            margin_added: acct
                                .positions
                                .iter()
                                .filter(|(_, p)| !p.szi.is_zero() && !p.margin_extra.is_zero())
                                .map(|(c, p)| (c.clone(), p.margin_extra))
                                .collect(),
                            leverage: acct.leverage.iter().map(|(c, l)| (c.clone(), *l)).collect(),
                            spot: acct
                                .spot
                                .iter()
                                .filter(|(_, b)| !b.total.is_zero())
                                .map(|(t, b)| (t.clone(), (b.total, b.entry_ntl)))
                                .collect(),
                            dex_collateral: acct.dex_collateral.clone(),
                            sub_account_of: acct
                                .master
                                .map(|m| (m.to_string(), acct.name.clone().unwrap_or_default())),
                        },
                    )
                })
                .collect(),
            oracles: ex
                .markets
                .iter()
                .map(|m| (m.spec.coin.clone(), m.oracle))
                .collect(),
        }
    };
    let positions = saved.accounts.values().map(|a| a.positions.len()).sum();
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    std::fs::write(&tmp, serde_json::to_string_pretty(&saved)? + "\n")
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(positions)
}

/// Saves every in-process simulator of a run next to the journal at `journal`: (venue, file) of
/// each one saved (a failure is printed and that venue left out).
pub fn save_all(sims: &[super::SimVenue], journal: &Path) -> Vec<(String, String)> {
    let mut kept = Vec::new();
    for s in sims {
        let path = state_path(journal, &s.name);
        match save(&s.handle, &s.name, &path) {
            Ok(_) => kept.push((s.name.clone(), path.display().to_string())),
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
    kept
}

/// Starts the simulator from `path` when it exists: returns the positions restored (None: no
/// file). A file for another venue, of another version, or unreadable is an error naming it.
pub fn restore(handle: &SimHandle, venue: &str, path: &Path) -> anyhow::Result<Option<usize>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    let saved: Saved = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a simulator state file (remove it, or run with --fresh)",
            path.display()
        )
    })?;
    if saved.version != VERSION || saved.venue != venue {
        bail!(
            "{}: simulator state version {} for venue `{}`, expected version {VERSION} for `{venue}` (remove it, or run with --fresh)",
            path.display(),
            saved.version,
            saved.venue
        );
    }
    let mut st = handle.state.lock().expect("sim state");
    let ex = &mut st.exchange;
    let mut n = 0;
    for (addr, a) in saved.accounts {
        let Some(address) = Address::parse(&addr) else {
            bail!("{}: `{addr}` is not an address", path.display());
        };
        let acct = ex
            .accounts
            .entry(address)
            .or_insert_with(|| super::account::Account::new(a.usdc));
        acct.usdc = a.usdc;
        acct.positions.clear();
        acct.leverage = a.leverage.into_iter().collect();
        acct.spot = a
            .spot
            .into_iter()
            .map(|(t, (total, entry_ntl))| (t, super::account::SpotBalance { total, entry_ntl }))
            .collect();
        acct.dex_collateral = a.dex_collateral;
        if let Some((master, name)) = a.sub_account_of {
            let Some(m) = Address::parse(&master) else {
                bail!("{}: `{master}` is not an address", path.display());
            };
            acct.master = Some(m);
            acct.name = Some(name);
        }
        for (coin, (szi, entry_px)) in a.positions {
            if ex_has(&ex.markets, &coin) {
                let margin_extra = a.margin_added.get(&coin).copied().unwrap_or_default();
                acct.positions.insert(
                    coin,
                    super::account::Position {
                        szi,
                        entry_px,
                        margin_extra,
                        ..Default::default()
                    },
                );
                n += 1;
            } else {
                tracing::warn!(%venue, %coin, "the saved simulator position is in a market this config does not have: dropped");
            }
        }
    }
    for m in ex.markets.iter_mut() {
        if let Some(px) = saved.oracles.get(&m.spec.coin) {
            m.oracle = *px;
        }
    }
    Ok(Some(n))
}

fn ex_has(markets: &[super::market::SimMarket], coin: &str) -> bool {
    markets.iter().any(|m| m.spec.coin == coin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::account::{Position, SpotBalance};
    use crate::sim::server::{SimConfig, spawn};

    /// Balances, positions with their added margin, leverage, spot wallets and sub-accounts
    /// come back as they were saved.
    #[tokio::test]
    async fn a_saved_simulator_comes_back_as_it_was() {
        let owner = Address::parse("0x14791697260e4c9a71f18484c9f997b308e59325").unwrap();
        let sub = Address([7; 20]);
        let cfg: SimConfig = toml::from_str(&format!(
            "markets = [{{ coin = \"BTC\", sz_decimals = 5, price = 64000 }}]\naccounts = [{{ address = \"{owner}\" }}]\n"
        ))
        .unwrap();
        let dir = std::env::temp_dir().join(format!("sh-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.db.sim-a.json");
        let first = spawn(cfg.clone(), 0).await.unwrap();
        {
            let mut st = first.state.lock().unwrap();
            let ex = &mut st.exchange;
            let a = ex.accounts.get_mut(&owner).unwrap();
            a.usdc = Decimal::new(12_345, 1);
            a.positions.insert(
                "BTC".into(),
                Position {
                    szi: Decimal::new(-2, 2),
                    entry_px: Decimal::from(64_100),
                    margin_extra: Decimal::from(7),
                    ..Default::default()
                },
            );
            a.leverage.insert("BTC".into(), (false, 5));
            a.dex_collateral.insert("xyz".into(), Decimal::from(30));
            a.spot.insert(
                "PURR".into(),
                SpotBalance {
                    total: Decimal::from(99),
                    entry_ntl: Decimal::new(198, 1),
                },
            );
            let mut s = crate::sim::account::Account::new(Decimal::from(40));
            s.master = Some(owner);
            s.name = Some("alpha".into());
            ex.accounts.insert(sub, s);
        }
        assert_eq!(save(&first, "a", &path).unwrap(), 1);
        first.stop();
        let second = spawn(cfg, 0).await.unwrap();
        assert_eq!(restore(&second, "a", &path).unwrap(), Some(1));
        let st = second.state.lock().unwrap();
        let a = &st.exchange.accounts[&owner];
        assert_eq!(a.usdc, Decimal::new(12_345, 1));
        let p = &a.positions["BTC"];
        assert_eq!(
            (p.szi, p.entry_px, p.margin_extra),
            (Decimal::new(-2, 2), Decimal::from(64_100), Decimal::from(7))
        );
        assert_eq!(a.leverage["BTC"], (false, 5));
        assert_eq!(a.spot["PURR"].total, Decimal::from(99));
        assert_eq!(a.dex_collateral["xyz"], Decimal::from(30));
        let s = &st.exchange.accounts[&sub];
        assert_eq!((s.master, s.name.as_deref()), (Some(owner), Some("alpha")));
        assert_eq!(s.usdc, Decimal::from(40));
        drop(st);
        second.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
