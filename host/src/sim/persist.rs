//! An in-process simulator's accounts across runs: at the end of a `run` each simulator the run
//! started writes its accounts (balance, positions) and its markets' oracle prices to a state
//! file next to the journal (`<journal>.sim-<venue>.json`); the next run's simulator starts from
//! it, so the host finds its positions on the venue as it would on the real one. `run --fresh`
//! removes the files first. Resting orders are not kept (a stopping host cancels its own), nor
//! the fill history (the journal has it).

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
        for (coin, (szi, entry_px)) in a.positions {
            if ex_has(&ex.markets, &coin) {
                acct.positions.insert(
                    coin,
                    super::account::Position {
                        szi,
                        entry_px,
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
