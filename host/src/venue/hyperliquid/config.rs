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
    /// A verification reconcile over HTTP this often while live (seconds; ≥ 5). It weighs
    /// about 22 per dex + 20 of the venue's 1,200-a-minute IP budget (docs/operations.md).
    #[serde(default = "default_verify_every_secs")]
    pub verify_every_secs: u64,
    /// Reconciles the host asks for (an unmatched fill, an unknown outcome, a lost fill) start
    /// at most this often (seconds; ≥ 1); requests meanwhile fold into the next one.
    #[serde(default = "default_reconcile_min_secs")]
    pub reconcile_min_secs: u64,
}

fn default_verify_every_secs() -> u64 {
    60
}

fn default_reconcile_min_secs() -> u64 {
    5
}

fn default_dead_man_secs() -> u64 {
    30
}

/// A check that failed: the message, and the byte offset in the config it is about (None: the
/// entry's name).
pub type CheckError = (Option<usize>, String);

impl HlVenueConfig {
    /// What serde cannot check. `name` is the entry's venue name; `paper`: the entry is in paper
    /// mode (market data only: no key, no account, and mainnet needs no `allow_mainnet`).
    pub fn check(&self, name: &str, paper: bool) -> Result<(), CheckError> {
        // A private key pasted where a name or an address belongs is refused without ever
        // being shown (errors and logs quote config values).
        let named = [
            (
                "account",
                self.account.as_ref().map(|a| a.get_ref().as_str()),
            ),
            ("vault", self.vault.as_ref().map(|a| a.get_ref().as_str())),
            ("key_env", self.key_env.as_deref()),
            (
                "key_file",
                self.key_file.as_deref().and_then(|p| p.to_str()),
            ),
        ];
        for (key, value) in named {
            if value.is_some_and(looks_like_a_key) {
                return Err((
                    None,
                    format!(
                        "`{key}` of venue `{name}` holds what looks like a private key (not shown): \
                         remove it from the config now. The key goes in an environment variable \
                         (`key_env` = its name) or a 0600 file (`key_file` = its path)"
                    ),
                ));
            }
        }
        let net = *self.network.get_ref();
        if net == Network::Mainnet && !self.allow_mainnet && !paper {
            return Err((
                Some(self.network.span().start),
                format!(
                    "venue `{name}` is on mainnet: add `allow_mainnet = true` to trade real money"
                ),
            ));
        }
        if net != Network::Simulator && self.account.is_none() && !paper {
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
                    format!(
                        "`{}` is not an address (0x + 40 hex digits)",
                        crate::logging::cut(a)
                    ),
                ));
            }
        }
        if self.key_env.is_some() && self.key_file.is_some() {
            return Err((None, "give `key_env` or `key_file`, not both".into()));
        }
        if net != Network::Simulator && self.key_env.is_none() && self.key_file.is_none() && !paper
        {
            return Err((
                None,
                format!("venue `{name}` needs `key_env` or `key_file` (the agent key)"),
            ));
        }
        if !(5..=86_400).contains(&self.verify_every_secs) {
            return Err((
                None,
                "verify_every_secs must be between 5 and 86400 (the verification reconcile \
                 cannot be switched off: it is what finds a lost fill)"
                    .into(),
            ));
        }
        if !(1..=3_600).contains(&self.reconcile_min_secs) {
            return Err((None, "reconcile_min_secs must be between 1 and 3600".into()));
        }
        if self.dead_man_secs != 0 && !(5..=86_400).contains(&self.dead_man_secs) {
            return Err((
                None,
                format!(
                    "dead_man_secs must be 0 (off) or between 5 (the venue's minimum) and 86400, got {}",
                    self.dead_man_secs
                ),
            ));
        }
        for (key, url, schemes) in [
            ("ws_url", &self.ws_url, ["ws://", "wss://"]),
            ("info_url", &self.info_url, ["http://", "https://"]),
        ] {
            if let Some(u) = url
                && !schemes
                    .iter()
                    .any(|s| u.starts_with(s) && u.len() > s.len())
            {
                return Err((
                    None,
                    format!(
                        "{key} `{}` must start with {} or {}",
                        crate::logging::cut(u),
                        schemes[0],
                        schemes[1]
                    ),
                ));
            }
        }
        if self.ws_url.is_some() != self.info_url.is_some() && net == Network::Simulator {
            return Err((None, "give both ws_url and info_url, or neither".into()));
        }
        Ok(())
    }
}

/// 60 or more hex digits (a secp256k1 key is 64), with or without `0x`: never echoed.
pub fn looks_like_a_key(s: &str) -> bool {
    let hex = s.trim().trim_start_matches("0x");
    hex.len() >= 60 && hex.chars().all(|c| c.is_ascii_hexdigit())
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

    /// The WebSocket URL to read market data from (None: a simulator the host must start).
    pub fn feed_url(&self) -> Option<String> {
        self.ws_url.clone().or_else(|| {
            self.network
                .get_ref()
                .default_urls()
                .map(|(ws, _)| ws.to_string())
        })
    }
}

impl HlVenueConfig {
    /// The (WebSocket, HTTP) URLs to connect to: given, the network's, or the started
    /// simulator's.
    pub fn urls(&self, name: &str, local: Option<&LocalVenue>) -> anyhow::Result<(String, String)> {
        let net = *self.network.get_ref();
        Ok(
            match (
                self.ws_url.clone(),
                self.info_url.clone(),
                net.default_urls(),
            ) {
                (Some(ws), Some(http), _) => (ws, http),
                (ws, http, Some((dws, dhttp))) => (
                    ws.unwrap_or(dws.to_string()),
                    http.unwrap_or(dhttp.to_string()),
                ),
                (None, None, None) => match local {
                    Some(l) => (l.ws_url.clone(), l.info_url.clone()),
                    None => bail!(
                        "venue `{name}`: a simulator venue without ws_url needs a [venues.sim] table"
                    ),
                },
                _ => bail!("venue `{name}`: give both ws_url and info_url"),
            },
        )
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
    let (ws_url, http_url) = v.urls(name, local)?;
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
    cfg.info_url = Some(http_url.clone());
    cfg.verify_every = Some(Duration::from_secs(v.verify_every_secs));
    cfg.reconcile_min_interval = Duration::from_secs(v.reconcile_min_secs);
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
