//! `config check`: parse a config and create every strategy it names, without trading.

use crate::config::Config;
use crate::plugins::load_strategies;
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
    match load_strategies(&config.plugin_section()) {
        Ok(slots) => {
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
