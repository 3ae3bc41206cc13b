//! `hl sign`: Hyperliquid tools.

use crate::venue::hyperliquid::secrets::KeySource;
use anyhow::{Context, bail};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum HlCommand {
    /// Sign an L1 action exactly as the host would, and print the connectionId and signature:
    /// compare them with what another client produced to diagnose a rejected signature.
    Sign {
        /// A file holding the action as JSON (its key order is kept: it is part of what is
        /// signed).
        #[arg(value_name = "ACTION.json")]
        action: PathBuf,
        /// File holding the agent's private key (mode 0600 or stricter).
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "key_env",
            required_unless_present = "key_env"
        )]
        key_file: Option<PathBuf>,
        /// Environment variable holding the agent's private key.
        #[arg(long, value_name = "VAR")]
        key_env: Option<String>,
        /// The nonce (ms timestamp) the action is sent with.
        #[arg(long)]
        nonce: u64,
        /// Vault or sub-account address the action is for.
        #[arg(long, value_name = "ADDR")]
        vault: Option<String>,
        /// `expiresAfter` (ms).
        #[arg(long, value_name = "MS")]
        expires_after: Option<u64>,
        /// Sign for testnet (phantom agent source "b"; default mainnet, "a").
        #[arg(long)]
        testnet: bool,
    },
}

pub fn exec(cmd: HlCommand) -> anyhow::Result<ExitCode> {
    let HlCommand::Sign {
        action,
        key_file,
        key_env,
        nonce,
        vault,
        expires_after,
        testnet,
    } = cmd;
    let source = match (key_file, key_env) {
        (Some(f), _) => KeySource::File(f),
        (None, Some(v)) => KeySource::Env(v),
        (None, None) => bail!("give --key-file FILE or --key-env VAR"),
    };
    let out = hl_sign(
        &action,
        &source,
        nonce,
        vault.as_deref(),
        expires_after,
        !testnet,
    )?;
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// `hl sign`: the connectionId and signature of an action, as JSON.
pub fn hl_sign(
    action_file: &std::path::Path,
    key: &KeySource,
    nonce: u64,
    vault: Option<&str>,
    expires_after: Option<u64>,
    mainnet: bool,
) -> anyhow::Result<String> {
    use crate::venue::hyperliquid::{actions, signing};
    let text = std::fs::read_to_string(action_file)
        .with_context(|| format!("cannot read action file {}", action_file.display()))?;
    let action: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", action_file.display()))?;
    if let Some(path) = find_float(&action, "") {
        bail!(
            "{}: `{path}` is a non-integer number; the venue hashes none (prices and sizes are strings, e.g. \"1670.1\")",
            action_file.display()
        );
    }
    let vault = match vault {
        Some(v) => Some(
            signing::Address::parse(v)
                .with_context(|| format!("--vault {v}: not a 20-byte hex address"))?,
        ),
        None => None,
    };
    let key = key.load()?;
    let mut buf = Vec::new();
    actions::msgpack_into(&action, &mut buf).map_err(anyhow::Error::msg)?;
    let cid = signing::action_hash(&buf, nonce, vault.as_ref(), expires_after);
    let sig = key.sign_digest(&signing::agent_digest(&cid, mainnet));
    let out = serde_json::json!({
        "connectionId": signing::to_hex(&cid),
        "r": signing::to_hex(&sig.r),
        "s": signing::to_hex(&sig.s),
        "v": sig.v,
    });
    Ok(out.to_string())
}

/// The path of the first non-integer number in a JSON value.
fn find_float(v: &serde_json::Value, path: &str) -> Option<String> {
    match v {
        serde_json::Value::Number(n) if !(n.is_u64() || n.is_i64()) => {
            Some(path.trim_start_matches('.').to_string())
        }
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| find_float(x, &format!("{path}[{i}]"))),
        serde_json::Value::Object(m) => m
            .iter()
            .find_map(|(k, x)| find_float(x, &format!("{path}.{k}"))),
        _ => None,
    }
}
