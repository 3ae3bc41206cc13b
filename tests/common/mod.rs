//! What the restart tests share: one simulator account trading BTC, and a host config for it.

// Each test binary that includes this module uses some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use strategy_host::journal::Journal;
use strategy_host::sim::server::{SimConfig, SimHandle, spawn};
use strategy_host::venue::hyperliquid::signing::{Address, PrivateKey};
use strategy_host_e2e::write_file;

pub const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

pub fn address() -> Address {
    PrivateKey::from_hex(KEY).unwrap().address()
}

/// A simulator with one funded account and BTC dislocating every `every_ms` for `for_ms`.
pub async fn btc_sim(seed: u64, every_ms: u64, for_ms: u64) -> SimHandle {
    let cfg: SimConfig = toml::from_str(&format!(
        "seed = {seed}\ntick_ms = 100\n\
         markets = [{{ coin = \"BTC\", sz_decimals = 5, price = 64000, dislocation_every_ms = {every_ms}, dislocation_bps = 70, dislocation_ms = {for_ms} }}]\n\
         accounts = [{{ address = \"{}\", usdc = 100000 }}]\n",
        address()
    ))
    .unwrap();
    spawn(cfg, 0).await.unwrap()
}

/// `host.toml` in `dir`: `[journal]` as given, the simulator as venue `sim` (key in a 0600
/// file), dislocation-entry on sim/BTC and time-stop-exit holding at most `max_holding_ms`.
pub fn host_config(
    sim: &SimHandle,
    dir: &Path,
    head: &str,
    journal: &str,
    max_holding_ms: u64,
) -> PathBuf {
    let key = write_file(dir, "agent.key", KEY);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    write_file(
        dir,
        "host.toml",
        &format!(
            r#"{head}
[journal]
{journal}

[[venues]]
name = "sim"
kind = "hyperliquid"
network = "simulator"
ws_url = "{ws}"
info_url = "{http}"
account = "{address}"
key_file = "{key}"
dead_man_secs = 0

[[strategies]]
name = "dislocation"
plugin = "dislocation-entry"
role = "entry"
markets = ["sim/BTC"]
[strategies.params]
threshold_bps = 40
notional = 200
# Room for the simulator's book to move between the frame and the order's arrival: at the touch,
# a host slowed by a loaded 2-core machine (a debug build next to a compile) missed every IOC.
max_slippage_bps = 10

[[strategies]]
name = "timestop"
plugin = "time-stop-exit"
role = "exit"
markets = ["sim/BTC"]
[strategies.params]
max_holding_ms = {max_holding_ms}
"#,
            ws = sim.ws_url(),
            http = sim.http_url(),
            address = address(),
            key = key.display(),
        ),
    )
}

/// Fills journaled.
pub fn journal_fills(j: &Journal) -> i64 {
    j.conn()
        .query_row("SELECT count(*) FROM fills", [], |r| r.get(0))
        .unwrap()
}

/// Fills the simulator made for `address`.
pub fn sim_fills(sim: &SimHandle, address: &Address) -> i64 {
    sim.state.lock().unwrap().exchange.accounts[address]
        .fills
        .len() as i64
}

/// The journal holds every fill the simulator made exactly once, and its sim/BTC position is the
/// simulator's.
pub fn assert_journal_matches_sim(j: &Journal, sim: &SimHandle, address: &Address) {
    assert_eq!(
        journal_fills(j),
        sim_fills(sim, address),
        "every fill the simulator made is journaled exactly once"
    );
    let pos: String = j
        .conn()
        .query_row(
            "SELECT size FROM positions WHERE market = 'sim/BTC'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        pos.parse::<rust_decimal::Decimal>().unwrap(),
        sim.position(address, "BTC"),
        "the journal's position is the simulator's"
    );
}
