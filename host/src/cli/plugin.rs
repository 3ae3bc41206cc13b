//! `plugin check`: load and validate a plugin without trading.

use crate::config::RoleName;
use crate::plugins::PluginLocator;
use crate::plugins::loader::{PluginErrorKind, StrategySpec, create_strategy, load_library};
use crate::plugins::timer::CallTimer;
use anyhow::{Context, bail};
use clap::Subcommand;
use plugin_api::host::Library;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Load and validate a plugin without trading: prints its name, version, role and ABI
    /// version, or one line saying what is wrong and exits non-zero.
    Check {
        /// Path to the plugin library, or a plugin name looked up next to this executable
        /// (`dislocation-entry` → `libdislocation_entry.so`).
        plugin: String,
        /// A TOML file holding the strategy's params table: also creates a strategy with them.
        #[arg(long, value_name = "FILE")]
        params: Option<PathBuf>,
        /// Markets to create the strategy with (with --params), as `venue/coin`.
        #[arg(long, value_delimiter = ',', default_value = "sim/BTC")]
        markets: Vec<String>,
        /// Fail unless the plugin has this role.
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Entry,
    Exit,
}

impl From<RoleArg> for RoleName {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Entry => RoleName::Entry,
            RoleArg::Exit => RoleName::Exit,
        }
    }
}

pub fn exec(cmd: PluginCommand) -> anyhow::Result<ExitCode> {
    let PluginCommand::Check {
        plugin,
        params,
        markets,
        role,
    } = cmd;
    plugin_check(&plugin, params.as_deref(), markets, role.map(Into::into))
}

fn plugin_check(
    spec: &str,
    params: Option<&std::path::Path>,
    markets: Vec<String>,
    role: Option<RoleName>,
) -> anyhow::Result<ExitCode> {
    let mut locator = PluginLocator::next_to_executable();
    locator.base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let path = if std::path::Path::new(spec).is_file() {
        PathBuf::from(spec)
    } else {
        locator.resolve(spec)?
    };
    let lib = load_library(spec, &path)?;
    if let Some(want) = role
        && want.role() != lib.role()
    {
        bail!(
            "plugin `{spec}` ({}): is an {} plugin, not {}. Use a {} plugin or drop --role",
            path.display(),
            lib.role().as_str(),
            want,
            want
        );
    }
    for m in &markets {
        crate::config::check_market_key(m).map_err(anyhow::Error::msg)?;
    }
    // Always run create(): a constructor that panics is a broken plugin whatever its params.
    // Without --params it gets an empty table, and refusing that is fine (most plugins need params).
    let text = match params {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read params file {}", file.display()))?,
        None => String::new(),
    };
    let origin = match params {
        Some(file) => format!("the params file {}", file.display()),
        None => "the params (pass them with --params FILE)".to_string(),
    };
    let name = lib.name();
    let spec = StrategySpec {
        plugin_spec: spec,
        name: &name,
        markets,
        params_toml: &text,
        params_origin: &origin,
        call_budget_us: 50,
    };
    let created = create_strategy(&lib, spec, CallTimer::calibrate());
    let params_line = match (created, params) {
        (Ok(_), Some(_)) => "params: accepted (strategy created)".to_string(),
        (Ok(_), None) => "params: none given; created with an empty params table".to_string(),
        (Err(e), None) if e.kind == PluginErrorKind::ParamsRejected => format!(
            "params: none given; an empty table is refused ({}); pass --params FILE to check yours",
            e.problem()
        ),
        (Err(e), _) => return Err(e.into()),
    };
    print_library(&lib, &params_line);
    Ok(ExitCode::SUCCESS)
}

fn print_library(lib: &Library, params_line: &str) {
    println!(
        "ok: {} {} ({} plugin) at {}",
        lib.name(),
        lib.version(),
        lib.role().as_str(),
        lib.path().display()
    );
    println!(
        "    plugin ABI: plugin-api {} (host: {})",
        lib.abi_version(),
        Library::host_abi_version()
    );
    println!("    {params_line}");
}
