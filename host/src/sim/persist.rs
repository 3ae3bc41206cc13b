//! An in-process simulator's state across runs: at the end of a `run` each simulator the run
//! started writes everything it holds to a state file next to the journal
//! (`<journal>.sim-<venue>.json`), and the next run's simulator starts from it, so the host and
//! any other client find the venue as they left it, as they would the real one. What is kept is
//! `exchange::saved::Snapshot`: every account whole (balances, positions, resting, trigger and
//! TWAP orders, fills, funding, the ledger, vault shares, staking, referrals, agents and builder
//! approvals, nonces), each order's last status, the trade tape and the oracle prices. Not kept:
//! the book's dislocation episode and the random walk's position (a new run draws its own path
//! from the seed, from the saved prices). `run --fresh` removes the files first.
//!
//! Version 1 files (balances, positions, leverage, spot wallets, HIP-3 collateral, sub-accounts)
//! still load.

use super::exchange::saved::Snapshot;
use super::server::SimHandle;
use crate::venue::hyperliquid::signing::Address;
use anyhow::{Context, bail};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const VERSION: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    version: u32,
    venue: String,
    state: Snapshot,
}

/// What every file says first.
#[derive(Debug, Deserialize)]
struct Header {
    version: u32,
    venue: String,
}

/// A version 1 file.
#[derive(Debug, Deserialize)]
struct SavedV1 {
    accounts: BTreeMap<Address, SavedAccountV1>,
    oracles: BTreeMap<String, Decimal>,
}

#[derive(Debug, Deserialize)]
struct SavedAccountV1 {
    usdc: Decimal,
    /// coin → (signed size, entry price).
    positions: BTreeMap<String, (Decimal, Decimal)>,
    #[serde(default)]
    margin_added: BTreeMap<String, Decimal>,
    #[serde(default)]
    leverage: BTreeMap<String, (bool, u32)>,
    /// token → (total, entry notional).
    #[serde(default)]
    spot: BTreeMap<String, (Decimal, Decimal)>,
    #[serde(default)]
    sub_account_of: Option<(Address, String)>,
    #[serde(default)]
    dex_collateral: BTreeMap<String, Decimal>,
}

impl SavedV1 {
    fn into_snapshot(self) -> Snapshot {
        use super::account::{Account, Position, SpotBalance};
        let accounts = self
            .accounts
            .into_iter()
            .map(|(addr, a)| {
                let mut acct = Account::new(a.usdc);
                // What the simulator gave every account then.
                acct.abstraction = Some("dexAbstraction".into());
                for (coin, (szi, entry_px)) in a.positions {
                    let margin_extra = a.margin_added.get(&coin).copied().unwrap_or_default();
                    let p = Position {
                        szi,
                        entry_px,
                        margin_extra,
                        ..Default::default()
                    };
                    acct.positions.insert(coin, p);
                }
                acct.leverage = a.leverage.into_iter().collect();
                acct.spot = a
                    .spot
                    .into_iter()
                    .map(|(t, (total, entry_ntl))| (t, SpotBalance { total, entry_ntl }))
                    .collect();
                acct.dex_collateral = a.dex_collateral;
                if let Some((master, name)) = a.sub_account_of {
                    acct.master = Some(master);
                    acct.name = Some(name);
                }
                (addr, acct)
            })
            .collect();
        Snapshot {
            accounts,
            oracles: self.oracles,
            ..Default::default()
        }
    }
}

/// Where venue `venue`'s simulator keeps its state for the journal at `journal`.
pub fn state_path(journal: &Path, venue: &str) -> PathBuf {
    PathBuf::from(format!("{}.sim-{venue}.json", journal.display()))
}

/// Writes the simulator's state to `path` (a temporary file renamed over it: a crash mid-write
/// leaves the old file). Returns the open positions written.
pub fn save(handle: &SimHandle, venue: &str, path: &Path) -> anyhow::Result<usize> {
    let saved = Saved {
        version: VERSION,
        venue: venue.to_string(),
        state: handle.state.lock().expect("sim state").exchange.snapshot(),
    };
    let positions = saved
        .state
        .accounts
        .values()
        .map(|a| a.positions.values().filter(|p| !p.szi.is_zero()).count())
        .sum();
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    std::fs::write(&tmp, serde_json::to_string(&saved)? + "\n")
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
/// file). A file for another venue, of an unknown version, or unreadable is an error naming it;
/// what is in a market this simulator does not have is dropped with a warning naming it.
pub fn restore(handle: &SimHandle, venue: &str, path: &Path) -> anyhow::Result<Option<usize>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    let unreadable = |e: serde_json::Error| {
        anyhow::anyhow!(
            "{}: not a simulator state file ({e}; remove it, or run with --fresh)",
            path.display()
        )
    };
    let header: Header = serde_json::from_str(&text).map_err(unreadable)?;
    if !(1..=VERSION).contains(&header.version) || header.venue != venue {
        bail!(
            "{}: simulator state version {} for venue `{}`, expected version 1 to {VERSION} for `{venue}` (remove it, or run with --fresh)",
            path.display(),
            header.version,
            header.venue
        );
    }
    let snapshot = if header.version == 1 {
        serde_json::from_str::<SavedV1>(&text)
            .map_err(unreadable)?
            .into_snapshot()
    } else {
        serde_json::from_str::<Saved>(&text)
            .map_err(unreadable)?
            .state
    };
    let restored = handle
        .state
        .lock()
        .expect("sim state")
        .exchange
        .restore(snapshot);
    for what in &restored.dropped {
        tracing::warn!(%venue, "the saved simulator state has {what}, a market this config does not have: dropped");
    }
    Ok(Some(restored.positions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::account::{Position, SpotBalance};
    use crate::sim::server::{SimConfig, spawn};
    use serde_json::json;

    /// Balances, positions with their added margin, leverage, spot wallets and sub-accounts
    /// come back as they were saved.
    const OWNER: &str = "0x14791697260e4c9a71f18484c9f997b308e59325";

    /// A one-market simulator config with `OWNER`'s account, and a fresh directory (named for
    /// `test`) with the state file's path in it.
    fn setup(test: &str) -> (SimConfig, PathBuf, PathBuf) {
        let cfg: SimConfig = toml::from_str(&format!(
            "markets = [{{ coin = \"BTC\", sz_decimals = 5, price = 64000 }}]\naccounts = [{{ address = \"{OWNER}\" }}]\n"
        ))
        .unwrap();
        let dir = std::env::temp_dir().join(format!("sh-persist-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.db.sim-a.json");
        (cfg, dir, path)
    }

    /// What both tests save of the owner's account: a balance, a short with added margin and
    /// isolated 5x leverage, PURR in the spot wallet, collateral on xyz.
    fn the_owner_as_saved(a: &crate::sim::account::Account) {
        assert_eq!(a.usdc, Decimal::new(12_345, 1));
        let p = &a.positions["BTC"];
        assert_eq!(
            (p.szi, p.entry_px, p.margin_extra),
            (Decimal::new(-2, 2), Decimal::from(64_100), Decimal::from(7))
        );
        assert_eq!(a.leverage["BTC"], (false, 5));
        assert_eq!(
            (a.spot["PURR"].total, a.spot["PURR"].entry_ntl),
            (Decimal::from(99), Decimal::new(198, 1))
        );
        assert_eq!(a.dex_collateral["xyz"], Decimal::from(30));
    }

    #[tokio::test]
    async fn a_saved_simulator_comes_back_as_it_was() {
        let owner = Address::parse(OWNER).unwrap();
        let sub = Address([7; 20]);
        let (cfg, dir, path) = setup("v2");
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
        the_owner_as_saved(&st.exchange.accounts[&owner]);
        let s = &st.exchange.accounts[&sub];
        assert_eq!((s.master, s.name.as_deref()), (Some(owner), Some("alpha")));
        assert_eq!(s.usdc, Decimal::from(40));
        drop(st);
        second.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A version 1 file (what the last release wrote) still loads: its balance, positions with
    /// their added margin, leverage, spot wallet, HIP-3 collateral and sub-account.
    #[tokio::test]
    async fn a_version_1_file_still_loads() {
        let owner = OWNER;
        let sub = "0x0707070707070707070707070707070707070707";
        let (cfg, dir, path) = setup("v1");
        let v1 = json!({"version": 1, "venue": "a", "oracles": {"BTC": "65000"}, "accounts": {
            owner: {"usdc": "1234.5", "positions": {"BTC": ["-0.02", "64100"]},
                "margin_added": {"BTC": "7"}, "leverage": {"BTC": [false, 5]},
                "spot": {"PURR": ["99", "19.8"]}, "dex_collateral": {"xyz": "30"}},
            sub: {"usdc": "40", "positions": {}, "sub_account_of": [owner, "alpha"]}}});
        std::fs::write(&path, v1.to_string()).unwrap();
        let sim = spawn(cfg, 0).await.unwrap();
        assert_eq!(restore(&sim, "a", &path).unwrap(), Some(1));
        {
            let st = sim.state.lock().unwrap();
            let ex = &st.exchange;
            the_owner_as_saved(&ex.accounts[&Address::parse(owner).unwrap()]);
            let s = &ex.accounts[&Address::parse(sub).unwrap()];
            assert_eq!(
                (s.master, s.name.as_deref()),
                (Address::parse(owner), Some("alpha"))
            );
            assert_eq!(ex.markets[0].oracle, Decimal::from(65_000));
        }
        // Saved again, it is a version 2 file; a file of version 3 is refused, naming it.
        save(&sim, "a", &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\"version\":2,"), "{text}");
        std::fs::write(&path, text.replacen("\"version\":2", "\"version\":3", 1)).unwrap();
        let e = restore(&sim, "a", &path).unwrap_err().to_string();
        assert!(
            e.contains("j.db.sim-a.json: simulator state version 3"),
            "{e}"
        );
        sim.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
