//! `plugin check`: load and validate a plugin without trading. `plugin new`: make one.

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
    /// Make a new strategy crate that builds where it is made (its own workspace, plugin-api
    /// by path from this checkout): params, state, tests, a README and a config snippet.
    New {
        /// The plugin's name (`my-entry`): the crate, the library and what the config names.
        name: String,
        /// Entry (opens positions) or exit (only reduces them).
        #[arg(long, value_enum, default_value = "entry")]
        role: RoleArg,
        /// The directory to make it in (it makes DIR/NAME).
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// The plugin-api crate to build against (default: this checkout's).
        #[arg(long, value_name = "PATH")]
        plugin_api: Option<PathBuf>,
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
    match cmd {
        PluginCommand::Check {
            plugin,
            params,
            markets,
            role,
        } => plugin_check(&plugin, params.as_deref(), markets, role.map(Into::into)),
        PluginCommand::New {
            name,
            role,
            dir,
            plugin_api,
        } => plugin_new(&name, role, &dir, plugin_api),
    }
}

fn plugin_new(
    name: &str,
    role: RoleArg,
    dir: &std::path::Path,
    plugin_api: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use crate::plugins::scaffold;
    let checkout = scaffold::checkout();
    let api = match (plugin_api, &checkout) {
        (Some(p), _) => p,
        (None, Some(c)) => c.join("plugin-api"),
        (None, None) => bail!(
            "this strategy-host was moved away from the checkout it was built in: pass --plugin-api PATH (the checkout's plugin-api directory)"
        ),
    };
    let lock = checkout.map(|c| c.join("Cargo.lock"));
    let role = match role {
        RoleArg::Entry => scaffold::Role::Entry,
        RoleArg::Exit => scaffold::Role::Exit,
    };
    let made = scaffold::new(name, role, dir, &api, lock.as_deref())?;
    println!("made {} ({} files):", made.dir.display(), made.files.len());
    for f in &made.files {
        println!("  {}", f.strip_prefix(&made.dir).unwrap_or(f).display());
    }
    println!(
        "next:\n  cd {}\n  cargo test && cargo build --release\n  strategy-host plugin check {} --params params.toml\n  then add config-snippet.toml to a config and `strategy-host run --config …`",
        made.dir.display(),
        made.library
            .strip_prefix(&made.dir)
            .unwrap_or(&made.library)
            .display()
    );
    Ok(ExitCode::SUCCESS)
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
