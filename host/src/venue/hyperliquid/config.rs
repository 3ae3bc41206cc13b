//! A `[[venues]]` entry with `kind = "hyperliquid"`: its keys, their checks, and the start-up
//! of a connection from it (the agent key, the account, the asset table), which ends in an
//! [`HlAdapter`] for the runtime's venue task. A simulator started in-process is the runtime's
//! (it hands its endpoint in as a [`LocalVenue`]): this module never depends on `sim`.

use super::adapter::HlAdapter;
use super::client_config::HlClientConfig;
use super::info::fetch_asset_table;
use super::secrets::KeySource;
use super::signing::{Address, NonceManager, PrivateKey};
use crate::engine::hardstop::HardStopLatch;
use crate::engine::types::{MarketId, VenueId};
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

/// A Hyperliquid venue the host started itself (the built-in simulator): where it listens and
/// the agent key that trades on it.
pub struct LocalVenue {
    pub ws_url: String,
    pub info_url: String,
    pub agent: Arc<PrivateKey>,
}

impl HlVenueConfig {
    /// Whether this entry is a simulator the host must start (no URL given to connect to).
    pub fn wants_local(&self) -> bool {
        *self.network.get_ref() == Network::Simulator && self.ws_url.is_none()
    }
}

/// A Hyperliquid connection ready for its venue task.
pub struct Prepared {
    pub adapter: HlAdapter,
    /// The account traded.
    pub account: Address,
    /// The agent key's address (None: no key, nothing can be signed).
    pub agent: Option<Address>,
}

/// Loads the key, reads the venue's asset table, and builds the adapter for `markets` (market,
/// venue coin). `local`: the simulator the runtime started for this entry, if it wants one.
pub async fn prepare(
    v: &HlVenueConfig,
    name: &str,
    id: VenueId,
    markets: Vec<(MarketId, String)>,
    latch: &Arc<HardStopLatch>,
    local: Option<&LocalVenue>,
) -> anyhow::Result<Prepared> {
    let net = *v.network.get_ref();
    let (ws_url, http_url) = match (v.ws_url.clone(), v.info_url.clone(), net.default_urls()) {
        (Some(ws), Some(http), _) => (ws, http),
        (ws, http, Some((dws, dhttp))) => (
            ws.unwrap_or(dws.to_string()),
            http.unwrap_or(dhttp.to_string()),
        ),
        (None, None, None) => match local {
            Some(l) => (l.ws_url.clone(), l.info_url.clone()),
            None => {
                bail!("venue `{name}`: a simulator venue without ws_url needs a [venues.sim] table")
            }
        },
        _ => bail!("venue `{name}`: give both ws_url and info_url"),
    };
    let key = match (&v.key_env, &v.key_file) {
        (Some(env), _) => Some(Arc::new(KeySource::Env(env.clone()).load()?)),
        (None, Some(f)) => Some(Arc::new(KeySource::File(f.clone()).load()?)),
        (None, None) => local.map(|l| l.agent.clone()),
    };
    let account = match &v.account {
        Some(a) => Address::parse(a.get_ref()).context("account")?,
        None => key
            .as_ref()
            .map(|k| k.address())
            .context("venue needs an account or a key")?,
    };
    let coins: Vec<String> = markets.iter().map(|(_, c)| c.clone()).collect();
    let http = HttpClient::new(&http_url, Duration::from_secs(10))?;
    let assets = fetch_asset_table(&http, &coins)
        .await
        .map_err(|e| anyhow::anyhow!("venue `{name}`: {e}"))?;
    let mut cfg = HlClientConfig::new(id, ws_url.clone(), account, markets);
    cfg.mainnet = net == Network::Mainnet;
    cfg.vault = v.vault.as_ref().and_then(|a| Address::parse(a.get_ref()));
    cfg.dead_man = (v.dead_man_secs > 0).then(|| Duration::from_secs(v.dead_man_secs));
    let agent = key.as_ref().map(|k| k.address());
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
        account,
        agent,
    })
}
