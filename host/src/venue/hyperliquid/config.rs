//! A `[[venues]]` entry with `kind = "hyperliquid"`: its keys, their checks, and the start-up
//! of a connection from it (the in-process simulator, the agent key, the account, the asset
//! table), which ends in an [`HlAdapter`] for the runtime's venue task.

use super::adapter::HlAdapter;
use super::client_config::HlClientConfig;
use super::info::fetch_asset_table;
use super::secrets::KeySource;
use super::signing::{Address, NonceManager, PrivateKey, keccak, to_hex};
use crate::engine::hardstop::HardStopLatch;
use crate::engine::types::{MarketId, VenueId};
use crate::sim::server::{SimConfig, SimHandle, spawn as spawn_sim};
use crate::venue::http::HttpClient;
use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use toml::Spanned;

/// Which Hyperliquid network a venue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Mainnet,
    Testnet,
    /// The built-in simulator (or any local server speaking the protocol).
    Simulator,
}

impl Network {
    /// Default `(ws_url, info_url)`; the simulator has none (it is started, or its URL given).
    pub fn default_urls(self) -> Option<(&'static str, &'static str)> {
        match self {
            Network::Mainnet => Some((
                "wss://api.hyperliquid.xyz/ws",
                "https://api.hyperliquid.xyz",
            )),
            Network::Testnet => Some((
                "wss://api.hyperliquid-testnet.xyz/ws",
                "https://api.hyperliquid-testnet.xyz",
            )),
            Network::Simulator => None,
        }
    }
}

/// The keys of a Hyperliquid `[[venues]]` entry (besides `name` and `kind`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HlVenueConfig {
    pub network: Spanned<Network>,
    /// Trading on mainnet must be switched on explicitly.
    #[serde(default)]
    pub allow_mainnet: bool,
    /// Override the network's WebSocket URL (required for `simulator` unless the host starts it).
    pub ws_url: Option<String>,
    /// Override the network's HTTP base URL (`/info`, `/exchange`).
    pub info_url: Option<String>,
    /// The account traded (master or sub-account address). Omitted for the started simulator.
    pub account: Option<Spanned<String>>,
    /// Trade for a vault or sub-account with the agent's signature.
    pub vault: Option<Spanned<String>>,
    /// Where the agent (API wallet) key is: an environment variable or a 0600 file.
    pub key_env: Option<String>,
    pub key_file: Option<PathBuf>,
    /// Dead-man switch horizon in seconds (≥ 5; 0 turns it off).
    #[serde(default = "default_dead_man_secs")]
    pub dead_man_secs: u64,
    /// For `network = "simulator"` without `ws_url`: the simulator `run` starts in-process.
    pub sim: Option<SimConfig>,
}

fn default_dead_man_secs() -> u64 {
    30
}

/// A check that failed: the message, and the byte offset in the config it is about (None: the
/// entry's name).
pub type CheckError = (Option<usize>, String);

impl HlVenueConfig {
    /// What serde cannot check. `name` is the entry's venue name.
    pub fn check(&self, name: &str) -> Result<(), CheckError> {
        let net = *self.network.get_ref();
        if net == Network::Mainnet && !self.allow_mainnet {
            return Err((
                Some(self.network.span().start),
                format!(
                    "venue `{name}` is on mainnet: add `allow_mainnet = true` to trade real money"
                ),
            ));
        }
        if net != Network::Simulator && self.account.is_none() {
            return Err((
                None,
                format!("venue `{name}` needs `account` (the address traded)"),
            ));
        }
        for addr in [&self.account, &self.vault].into_iter().flatten() {
            let a = addr.get_ref();
            let ok = a.len() == 42
                && a.starts_with("0x")
                && a[2..].chars().all(|c| c.is_ascii_hexdigit());
            if !ok {
                return Err((
                    Some(addr.span().start),
                    format!("`{a}` is not an address (0x + 40 hex digits)"),
                ));
            }
        }
        if self.key_env.is_some() && self.key_file.is_some() {
            return Err((None, "give `key_env` or `key_file`, not both".into()));
        }
        if net != Network::Simulator && self.key_env.is_none() && self.key_file.is_none() {
            return Err((
                None,
                format!("venue `{name}` needs `key_env` or `key_file` (the agent key)"),
            ));
        }
        if self.dead_man_secs != 0 && self.dead_man_secs < 5 {
            return Err((
                None,
                "dead_man_secs must be 0 (off) or at least 5 (the venue's minimum)".into(),
            ));
        }
        Ok(())
    }
}

/// A Hyperliquid connection ready for its venue task.
pub struct Prepared {
    pub adapter: HlAdapter,
    /// The simulator started in-process for this venue, if any (still running).
    pub sim: Option<SimHandle>,
    /// The account traded.
    pub account: Address,
}

/// The agent key for an in-process simulator venue: deterministic from its seed and name, so a
/// restart trades the same simulated account.
fn sim_agent_key(seed: u64, venue: &str) -> anyhow::Result<PrivateKey> {
    let mut material = format!("strategy-host simulator agent/{venue}/{seed}").into_bytes();
    for _ in 0..4 {
        let k = keccak(&material);
        if let Ok(key) = PrivateKey::from_hex(&to_hex(&k)) {
            return Ok(key);
        }
        material = k.to_vec();
    }
    bail!("could not derive a simulator key")
}

/// Starts what the entry needs (the simulator, when it is to run in-process), loads the key,
/// reads the venue's asset table, and builds the adapter for `markets` (market, venue coin).
pub async fn prepare(
    v: &HlVenueConfig,
    name: &str,
    id: VenueId,
    markets: Vec<(MarketId, String)>,
    latch: &Arc<HardStopLatch>,
) -> anyhow::Result<Prepared> {
    let net = *v.network.get_ref();
    let mut sim = None;
    let (ws_url, http_url) = match (v.ws_url.clone(), v.info_url.clone(), net.default_urls()) {
        (Some(ws), Some(http), _) => (ws, http),
        (ws, http, Some((dws, dhttp))) => (
            ws.unwrap_or(dws.to_string()),
            http.unwrap_or(dhttp.to_string()),
        ),
        (None, None, None) => {
            let cfg = v.sim.clone().with_context(|| {
                format!(
                    "venue `{name}`: a simulator venue without ws_url needs a [venues.sim] table"
                )
            })?;
            let h = spawn_sim(cfg, 0).await?;
            let urls = (h.ws_url(), h.http_url());
            sim = Some(h);
            urls
        }
        _ => bail!("venue `{name}`: give both ws_url and info_url"),
    };
    let key = match (&v.key_env, &v.key_file) {
        (Some(env), _) => Some(KeySource::Env(env.clone()).load()?),
        (None, Some(f)) => Some(KeySource::File(f.clone()).load()?),
        (None, None) if sim.is_some() => {
            let seed = v.sim.as_ref().map_or(1, |s| s.seed);
            Some(sim_agent_key(seed, name)?)
        }
        (None, None) => None,
    };
    let key = key.map(Arc::new);
    let account = match &v.account {
        Some(a) => Address::parse(a.get_ref()).context("account")?,
        None => key
            .as_ref()
            .map(|k| k.address())
            .context("venue needs an account or a key")?,
    };
    if let (Some(h), Some(k)) = (&sim, &key) {
        h.approve_agent(account, k.address());
    }
    let coins: Vec<String> = markets.iter().map(|(_, c)| c.clone()).collect();
    let http = HttpClient::new(&http_url, Duration::from_secs(10))?;
    let assets = fetch_asset_table(&http, &coins)
        .await
        .map_err(|e| anyhow::anyhow!("venue `{name}`: {e}"))?;
    let mut cfg = HlClientConfig::new(id, ws_url.clone(), account, markets);
    cfg.mainnet = net == Network::Mainnet;
    cfg.vault = v.vault.as_ref().and_then(|a| Address::parse(a.get_ref()));
    cfg.dead_man = (v.dead_man_secs > 0).then(|| Duration::from_secs(v.dead_man_secs));
    let adapter = HlAdapter::new(
        cfg,
        assets,
        key,
        Arc::new(NonceManager::new()),
        latch.clone(),
    );
    tracing::info!(venue = %name, %ws_url, %account, "venue started");
    Ok(Prepared {
        adapter,
        sim,
        account,
    })
}
