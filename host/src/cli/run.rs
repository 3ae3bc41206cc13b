//! `run` (trade the config) and `sim` (the simulator alone).

use crate::config::Config;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The config file.
    #[arg(long, default_value = "config/default.toml")]
    config: PathBuf,
    /// Stop after this long (`45s`, `1m`, `2h`, or seconds; default: until Ctrl-C).
    #[arg(long, value_name = "DURATION", value_parser = super::args::positive_duration)]
    duration: Option<std::time::Duration>,
    /// Also write the end-of-run summary as JSON here.
    #[arg(long, value_name = "PATH")]
    summary_json: Option<PathBuf>,
    /// Time between status lines (`5s`, `1m`, or seconds); 0 turns them off.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = super::args::duration)]
    status_every: std::time::Duration,
    /// Serve Prometheus metrics at http://ADDR/metrics (overrides `[metrics] listen`; loopback
    /// only unless --metrics-allow-remote). Port 0 picks a free port (printed at start).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<String>,
    /// Allow a non-loopback --metrics-listen address.
    #[arg(long)]
    metrics_allow_remote: bool,
    /// Start the in-process simulators empty: remove the accounts they kept from the last run.
    #[arg(long)]
    fresh: bool,
    /// Paper trading: every venue's live market data, orders filled locally by the backtest's
    /// execution model, never signed or sent; the account is kept in the journal (`--fresh`
    /// starts a new one). No key is needed.
    #[arg(long)]
    paper: bool,
}

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// A TOML file with a [sim] table (markets, accounts, faults).
    #[arg(long, default_value = "config/sim.toml")]
    config: PathBuf,
    /// Port to listen on (0 = any free port).
    #[arg(long, default_value_t = 3001)]
    port: u16,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let RunArgs {
        config,
        duration,
        summary_json,
        status_every,
        metrics_listen,
        metrics_allow_remote,
        fresh,
        paper,
    } = args;
    let cfg = Config::load_as(&config, paper)?;
    if let Some(p) = &summary_json {
        super::args::check_output("--summary-json", p)?;
    }
    let opts = crate::runtime::RunOptions {
        duration,
        summary_json,
        // Off: a status line once a century.
        status_every: if status_every.is_zero() {
            std::time::Duration::from_secs(3_153_600_000)
        } else {
            status_every.max(std::time::Duration::from_millis(100))
        },
        metrics_listen,
        metrics_allow_remote,
        fresh,
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(crate::runtime::run(&cfg, opts))?;
    Ok(ExitCode::SUCCESS)
}

pub fn sim(args: SimArgs) -> anyhow::Result<ExitCode> {
    let SimArgs { config, port } = args;
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
