//! Start-up: everything a run needs before its first event, from a config: the strategies
//! loaded, the market registry, the HardStop latch, the engine, and the journal's restore (a
//! latched HardStop, strategy states, the engine clock where the last run left it). Live runs
//! call it; so can a replay driver, which then feeds recorded events instead of sockets.

use super::journaling;
use crate::config::Config;
use crate::engine::Engine;
use crate::engine::hardstop::HardStopLatch;
use crate::engine::types::{MarketKey, MarketRegistry};
use crate::journal::Journal;
use crate::plugins::load_strategies;
use anyhow::{Context, bail};
use std::sync::Arc;

/// A run, ready for its first event.
pub struct Started {
    pub engine: Engine,
    pub registry: MarketRegistry,
    pub latch: Arc<HardStopLatch>,
    /// The open journal, this run already started in it.
    pub journal: Journal,
    pub run_id: i64,
    /// Engine time where the previous run's clock stopped (0: a first run). Restored strategy
    /// states hold engine-time stamps (cooldowns, entry times): the clock goes on from there, or
    /// a restarted host would sit out each cooldown for as long as the previous run had lasted.
    pub resumed_ns: u64,
    /// Each paper venue's account as the journal last holds it (venue, JSON).
    pub paper_accounts: Vec<(String, String)>,
    /// This run's hold on the journal: one host per journal (released when dropped).
    pub lock: crate::journal::lock::JournalLock,
}

/// The engine of a config, before any journal: its strategies loaded, its markets interned, its
/// latch made. `run` and `backtest` both start here.
pub struct Built {
    pub engine: Engine,
    pub registry: MarketRegistry,
    pub latch: Arc<HardStopLatch>,
}

/// Loads the plugins and builds the engine (no journal: see `start`).
pub fn build(config: &Config, cloid_prefix: u64) -> anyhow::Result<Built> {
    let slots = match load_strategies(&config.plugin_section()) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            bail!("{} plugin error(s); nothing was started", errors.len());
        }
    };
    let mut registry = MarketRegistry::new();
    for s in &config.raw.strategies {
        for m in s.market_keys() {
            registry.intern(&MarketKey::parse(&m).context("market key")?);
        }
    }
    crate::logging::name_venues(
        (0..registry.venue_count())
            .map(|v| {
                registry
                    .venue_name(crate::engine::types::VenueId(v as u16))
                    .to_string()
            })
            .collect(),
    );
    let latch = Arc::new(HardStopLatch::new());
    let engine = Engine::new(
        config.raw.engine.clone(),
        config.raw.risk.clone(),
        registry.clone(),
        slots,
        latch.clone(),
        cloid_prefix,
        config.raw.plugins.intent_capacity,
    )?;
    Ok(Built {
        engine,
        registry,
        latch,
    })
}

/// Loads the plugins, builds the engine and restores what the journal holds. `cloid_prefix`
/// must differ between runs (live: the start time in ms).
pub fn start(config: &Config, cloid_prefix: u64) -> anyhow::Result<Started> {
    let Built {
        mut engine,
        registry,
        latch,
    } = build(config, cloid_prefix)?;
    let lock = crate::journal::lock::JournalLock::acquire(&config.journal_path())?;
    let journal = Journal::open(&config.journal_path())?;
    for c in journal.discard_stale_operator_commands()? {
        tracing::warn!(command = %c, "an operator command no host took before this start was discarded");
    }
    let run_id = journal.start_run(
        &config.path.display().to_string(),
        &journaling::fingerprint(config.text.as_bytes()),
        &journaling::run_plugins(config, &engine),
    )?;
    journal.record_cloid_prefix(run_id, cloid_prefix)?;
    if config.is_paper() {
        journal.set_run_mode(run_id, "paper")?;
    }
    let paper_accounts = journal.paper_accounts()?;
    engine.set_known_cloid_prefixes(journal.cloid_prefixes()?);
    journaling::restore_states(config, &mut engine, &journal);
    let resumed_ns = journal.engine_time_ns()?;
    if let Some(h) = journal.hard_stop()?.filter(|h| h.latched) {
        println!(
            "HARD STOP is latched from a previous run ({}); release it with `strategy-host hardstop release`",
            h.reason
        );
        engine.restore_hard_stop(1);
    }
    Ok(Started {
        engine,
        registry,
        latch,
        journal,
        run_id,
        resumed_ns,
        paper_accounts,
        lock,
    })
}
