//! The `strategy-host` command line.

use crate::config::{Config, RoleName};
use crate::plugins::loader::{PluginErrorKind, StrategySpec, create_strategy, load_library};
use crate::plugins::timer::CallTimer;
use crate::plugins::{PluginLocator, load_strategies};
use crate::venue::hyperliquid::secrets::KeySource;
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use plugin_api::host::Library;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "strategy-host",
    version,
    about = "Runs perpetual-futures strategy plugins on Hyperliquid behind safety gates",
    long_about = "Runs perpetual-futures strategy plugins on Hyperliquid (and HIP-3 dexes) behind \
                  pre-trade gates that plugins cannot bypass.\n\nStrategies are dynamic libraries \
                  built against the `plugin-api` crate and named in a TOML config."
)]
pub struct Cli {
    /// Log filter (env-filter syntax, e.g. `info` or `debug,plugin=trace`).
    #[arg(long, global = true, env = "STRATEGY_HOST_LOG", default_value = "info")]
    pub log: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with strategy plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Work with configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Hyperliquid tools.
    #[command(subcommand)]
    Hl(HlCommand),
    /// Trade: load the config's strategies and venues (starting simulators in-process where the
    /// config says so) and run until Ctrl-C or --duration. A second Ctrl-C exits at once.
    Run {
        /// The config file.
        #[arg(long, default_value = "config/default.toml")]
        config: PathBuf,
        /// Stop after this many seconds.
        #[arg(long, value_name = "SECS")]
        duration: Option<f64>,
        /// Also write the end-of-run summary as JSON here.
        #[arg(long, value_name = "PATH")]
        summary_json: Option<PathBuf>,
        /// Seconds between status lines.
        #[arg(long, default_value_t = 5.0, value_name = "SECS")]
        status_every: f64,
    },
    /// The HardStop latch: its state, and the operator commands that set or release it. Recorded
    /// in the journal; a running host picks them up within a second, a stopped one on start.
    Hardstop {
        #[command(subcommand)]
        action: HardstopAction,
        /// The config whose journal to use.
        #[arg(long, global = true, default_value = "config/default.toml")]
        config: PathBuf,
    },
    /// Read the journal: recent runs, orders, fills, positions, refusals.
    Journal {
        #[command(subcommand)]
        view: JournalView,
        /// The config whose journal to read.
        #[arg(long, global = true, default_value = "config/default.toml")]
        config: PathBuf,
        /// Rows to show.
        #[arg(long, global = true, default_value_t = 20)]
        limit: u32,
    },
    /// Run the Hyperliquid-compatible exchange simulator on 127.0.0.1 (WebSocket /ws, HTTP /info
    /// and /exchange) until Ctrl-C.
    Sim {
        /// A TOML file with a [sim] table (markets, accounts, faults).
        #[arg(long, default_value = "config/sim.toml")]
        config: PathBuf,
        /// Port to listen on (0 = any free port).
        #[arg(long, default_value_t = 3001)]
        port: u16,
    },
}

#[derive(Debug, Subcommand)]
pub enum HardstopAction {
    /// Is the latch set, and why.
    Status,
    /// Release the latch (operator decision; recorded).
    Release,
    /// Set the latch: cancel entries, flatten everything, block new orders.
    Trigger,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum JournalView {
    Runs,
    Orders,
    Fills,
    Positions,
    Refusals,
    Hardstop,
}

#[derive(Debug, Subcommand)]
pub enum HlCommand {
    /// Sign an L1 action exactly as the host would, and print the connectionId and signature:
    /// compare them with what another client produced to diagnose a rejected signature.
    Sign {
        /// The action as JSON (key order is kept: it is part of what is signed).
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

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Parse a config, load every plugin it names and create every strategy, without trading.
    Check {
        /// The config file.
        config: PathBuf,
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

/// Parses the command line and runs it.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    crate::logging::init(&cli.log);
    match cli.command {
        Command::Plugin(PluginCommand::Check {
            plugin,
            params,
            markets,
            role,
        }) => plugin_check(&plugin, params.as_deref(), markets, role.map(Into::into)),
        Command::Config(ConfigCommand::Check { config }) => config_check(&config),
        Command::Run {
            config,
            duration,
            summary_json,
            status_every,
        } => {
            let cfg = Config::load(&config)?;
            if duration.is_some_and(|d| !(d > 0.0 && d.is_finite())) {
                bail!("--duration must be a positive number of seconds");
            }
            let opts = crate::runtime::RunOptions {
                duration: duration.map(std::time::Duration::from_secs_f64),
                summary_json,
                status_every: std::time::Duration::from_secs_f64(status_every.max(0.1)),
                ..Default::default()
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(crate::runtime::run(&cfg, opts))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hardstop { action, config } => {
            let cfg = Config::load(&config)?;
            let journal = crate::journal::Journal::open(&cfg.journal_path())?;
            match action {
                HardstopAction::Status => match journal.hard_stop()? {
                    Some(h) if h.latched => {
                        println!("HARD STOP latched ({}) since {} ms", h.reason, h.ts_ms)
                    }
                    Some(h) => println!("HardStop released ({}) at {} ms", h.reason, h.ts_ms),
                    None => println!("HardStop never triggered"),
                },
                HardstopAction::Release => {
                    journal.record_hard_stop(false, "operator", "operator-cli")?;
                    journal.queue_operator_command("hardstop-release")?;
                    println!(
                        "HardStop released (recorded in {}; a running host picks it up within a second)",
                        journal.path().display()
                    );
                }
                HardstopAction::Trigger => {
                    journal.record_hard_stop(true, "operator", "operator-cli")?;
                    journal.queue_operator_command("hardstop")?;
                    println!(
                        "HardStop triggered (recorded in {}; a running host acts on it within a second)",
                        journal.path().display()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Journal {
            view,
            config,
            limit,
        } => {
            let cfg = Config::load(&config)?;
            let journal = crate::journal::Journal::open(&cfg.journal_path())?;
            let sql = match view {
                JournalView::Runs => {
                    "SELECT id, started_ms, ended_ms, host_version, config_path, substr(config_hash, 1, 12) AS config_hash FROM runs ORDER BY id DESC LIMIT ?1"
                }
                JournalView::Orders => {
                    "SELECT cloid, market, strategy, side, px, sz, tif, reduce_only, purpose, state, filled, updated_ms FROM orders ORDER BY updated_ms DESC LIMIT ?1"
                }
                JournalView::Fills => {
                    "SELECT venue, tid, market, side, px, sz, fee, realized, strategy, time_ms FROM fills ORDER BY time_ms DESC LIMIT ?1"
                }
                JournalView::Positions => {
                    "SELECT market, size, avg_entry, realized, updated_ms FROM positions ORDER BY market LIMIT ?1"
                }
                JournalView::Refusals => {
                    "SELECT run_id, strategy, reason, count, last_ms FROM refusals ORDER BY run_id DESC, count DESC LIMIT ?1"
                }
                JournalView::Hardstop => {
                    "SELECT id, ts_ms, event, reason, source FROM hardstop ORDER BY id DESC LIMIT ?1"
                }
            };
            let (names, rows) = journal.table(sql, limit)?;
            print_table(&names, &rows);
            Ok(ExitCode::SUCCESS)
        }
        Command::Sim { config, port } => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct SimFile {
                sim: crate::sim::server::SimConfig,
            }
            let text = std::fs::read_to_string(&config)
                .with_context(|| format!("cannot read {}", config.display()))?;
            let file: SimFile = toml::from_str(&text).map_err(|e| {
                let (line, col) = e
                    .span()
                    .map(|s| crate::config::line_col(&text, s.start))
                    .unwrap_or((1, 1));
                anyhow::anyhow!("{}:{line}:{col}: {}", config.display(), e.message().trim())
            })?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let h = crate::sim::server::spawn(file.sim, port).await?;
                println!(
                    "simulator listening: WebSocket {}  HTTP {} (Ctrl-C to stop)",
                    h.ws_url(),
                    h.http_url()
                );
                tokio::signal::ctrl_c().await?;
                h.stop();
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hl(HlCommand::Sign {
            action,
            key_file,
            key_env,
            nonce,
            vault,
            expires_after,
            testnet,
        }) => {
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
    }
}

/// Prints rows as an aligned text table.
fn print_table(names: &[String], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = names.iter().map(|n| n.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.len());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}", line(names));
    for r in rows {
        println!("{}", line(r));
    }
    if rows.is_empty() {
        println!("(none)");
    }
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

fn config_check(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    match load_strategies(&config) {
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
