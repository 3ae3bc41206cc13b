//! `record`: the market-data frames of every configured venue, to files a backtest replays.

use crate::config::{Config, VenueKind};
use crate::record::{Recorder, feed, venue_headers};
use anyhow::bail;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The config whose venues and markets are recorded (simulated venues are started).
    #[arg(long, default_value = "config/default.toml")]
    config: PathBuf,
    /// Where the files go.
    #[arg(long, default_value = "recordings")]
    out: PathBuf,
    /// Stop after this long (`45s`, `1m`, `2h`, or seconds; default: until Ctrl-C).
    #[arg(long, value_name = "DURATION", value_parser = super::args::positive_duration)]
    duration: Option<std::time::Duration>,
}

pub fn exec(args: RecordArgs) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&args.config)?;
    let headers = venue_headers(&cfg)?;
    if headers.iter().all(|(_, coins)| coins.is_empty()) {
        bail!(
            "{}: no strategy names a market, so there is nothing to record",
            cfg.path.display()
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let recorder =
            Recorder::start(&args.out, headers.iter().map(|(h, _)| h.clone()).collect())?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut sims = Vec::new();
        let mut tasks = Vec::new();
        for (i, (v, (header, coins))) in cfg.raw.venues.iter().zip(&headers).enumerate() {
            if coins.is_empty() {
                continue;
            }
            let VenueKind::Hyperliquid(hl) = &v.kind;
            let ws_url = match (hl.feed_url(), &v.sim) {
                (Some(u), _) => u,
                (None, Some(sim)) => {
                    let l = crate::sim::launch(sim.clone(), &header.name).await?;
                    let url = l.local.ws_url.clone();
                    sims.push(l.handle);
                    url
                }
                (None, None) => bail!(
                    "venue `{}`: a simulator venue without ws_url needs a [venues.sim] table",
                    header.name
                ),
            };
            let spec = feed::FeedSpec {
                name: header.name.clone(),
                ws_url,
                coins: coins.clone(),
            };
            tasks.push((
                header.name.clone(),
                tokio::spawn(feed::record_feed(
                    spec,
                    recorder.tap(i as u16),
                    stop_rx.clone(),
                )),
            ));
        }
        println!(
            "recording {} venue(s) into {} ({})",
            tasks.len(),
            args.out.display(),
            match args.duration {
                Some(d) => format!("for {:?}", d),
                None => "until Ctrl-C".into(),
            }
        );
        match args.duration {
            Some(d) => tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = tokio::signal::ctrl_c() => {}
            },
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        let _ = stop_tx.send(true);
        for (name, t) in tasks {
            let s = t.await?;
            println!(
                "  {name}: {} frames in {} session(s){}",
                s.frames,
                s.sessions,
                s.last_error
                    .map(|e| format!(", last error: {e}"))
                    .unwrap_or_default()
            );
        }
        drop(sims);
        let stats = recorder.finish()?;
        println!(
            "wrote {} file(s), {} lines, {:.1} MB uncompressed:",
            stats.files.len(),
            stats.lines.iter().sum::<u64>(),
            stats.bytes as f64 / 1e6
        );
        for f in &stats.files {
            println!("  {}", f.display());
        }
        if stats.dropped > 0 {
            println!(
                "  {} frames were NOT recorded: the recorder thread fell behind",
                stats.dropped
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}
