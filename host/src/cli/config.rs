//! `config check`: parse a config and create every strategy it names, without trading.

use crate::config::Config;
use crate::plugins::load_strategies;
use crate::venue::hyperliquid::secrets::KeySource;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Parse a config, load every plugin it names and create every strategy, without trading.
    Check {
        /// The config file.
        config: PathBuf,
    },
}

pub fn exec(cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    let ConfigCommand::Check { config } = cmd;
    config_check(&config)
}

fn config_check(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    if config.raw.venues.is_empty() {
        anyhow::bail!("{}: no [[venues]]: nothing to trade on", path.display());
    }
    if config.raw.strategies.is_empty() {
        anyhow::bail!("{}: no [[strategies]]: nothing would trade", path.display());
    }
    // What can be checked offline beyond the file itself: every key source can be read. A key
    // that is not there yet (a testnet config on a build machine) is a warning: `run` refuses.
    let mut key_warnings = 0;
    for v in &config.raw.venues {
        let crate::config::VenueKind::Hyperliquid(h) = &v.kind;
        let source = match (&h.key_env, &h.key_file) {
            (Some(e), _) => Some(KeySource::Env(e.clone())),
            (None, Some(f)) => Some(KeySource::File(f.clone())),
            _ => None,
        };
        if let Some(Err(e)) = source.map(|s| s.load()) {
            eprintln!(
                "warning: venue `{}`: {e} (`run` will not start without it)",
                v.name.get_ref()
            );
            key_warnings += 1;
        }
    }
    match load_strategies(&config.plugin_section()) {
        Ok(slots) => {
            if key_warnings > 0 {
                eprintln!("{key_warnings} key source(s) could not be read");
            }
            println!(
                "ok: {} — {} strateg{} loaded",
                path.display(),
                slots.len(),
                if slots.len() == 1 { "y" } else { "ies" }
            );
            for s in &slots {
                println!(
                    "    {} = {} {} ({}) on {}",
                    s.name,
                    s.plugin,
                    s.plugin_version,
                    s.role.as_str(),
                    s.markets.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
