//! Starting the configured venues: the one place in `runtime` that matches on a venue's kind.
//! Each kind's module prepares its adapter; the venue task that drives it is the same for all.

use super::core::EngineCore;
use super::link::CoreLink;
use super::venue_task::{Observers, run_venue_observed};
use crate::config::{VenueConfig, VenueKind};
use crate::engine::hardstop::HardStopLatch;
use crate::engine::types::{MarketRegistry, VenueId};
use crate::sim::SimVenue;
use crate::venue::AdapterStats;
use crate::venue::hyperliquid;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// A started venue: its task, and its simulator if any.
pub struct Venue {
    pub id: VenueId,
    pub task: tokio::task::JoinHandle<AdapterStats>,
    pub sim: Option<SimVenue>,
}

/// A paper venue's start: the config (`[paper]`, `[backtest]`), the journal's account of it (if
/// any), and where its account goes as it changes.
pub struct Paper<'a> {
    pub config: &'a crate::config::Config,
    pub saved: Option<&'a str>,
    pub save: crate::paper::adapter::Save,
}

impl<'a> Paper<'a> {
    /// Venue `name`'s paper start: the journal's account of it (`journaled`; none with
    /// `fresh`), and a save that journals each new state and keeps it in `kept` (the summary's
    /// and the metrics' view).
    pub fn of(
        config: &'a crate::config::Config,
        name: &str,
        journaled: &'a [(String, String)],
        fresh: bool,
        journal: Option<crate::journal::writer::JournalHandle>,
        kept: Rc<RefCell<Vec<crate::paper::PaperAccount>>>,
    ) -> Paper<'a> {
        let saved = journaled
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.as_str());
        if fresh && saved.is_some() {
            println!("--fresh: {name} (paper) starts a new account");
        }
        let save: crate::paper::adapter::Save = Box::new(move |a| {
            if let Some(j) = &journal {
                j.send(crate::journal::writer::Record::PaperAccount {
                    venue: a.venue.clone(),
                    account: serde_json::to_string(a).unwrap_or_default(),
                });
            }
            let mut k = kept.borrow_mut();
            match k.iter_mut().find(|x| x.venue == a.venue) {
                Some(x) => *x = a.clone(),
                None => k.push(a.clone()),
            }
        });
        Paper {
            config,
            saved: if fresh { None } else { saved },
            save,
        }
    }
}

/// What a venue resumes from: the file its in-process simulator keeps its accounts in, and, in
/// paper mode, its paper account.
pub struct Resume<'a> {
    pub sim_state: Option<&'a std::path::Path>,
    /// Some: the venue is in paper mode.
    pub paper: Option<Paper<'a>>,
}

/// Starts one venue's task on the current `LocalSet`.
pub async fn start_venue(
    v: &VenueConfig,
    id: VenueId,
    registry: &MarketRegistry,
    latch: &Arc<HardStopLatch>,
    core: &Rc<RefCell<EngineCore>>,
    obs: Observers,
    resume: Resume<'_>,
) -> anyhow::Result<Venue> {
    let Resume { sim_state, paper } = resume;
    let name = v.name.get_ref().clone();
    let markets: Vec<_> = registry
        .markets_of(id)
        .map(|m| (m, registry.key(m).coin.clone()))
        .collect();
    let link = CoreLink {
        core: core.clone(),
        venue: id,
        signal: core.borrow_mut().signal(id),
    };
    let (task, sim) = match &v.kind {
        VenueKind::Hyperliquid(cfg) => {
            let launched = match (&v.sim, cfg.wants_local()) {
                (Some(sim), true) => Some(crate::sim::launch(sim.clone(), &name).await?),
                _ => None,
            };
            // An in-process simulator keeps its accounts across runs (`sim::persist`).
            if let (Some(l), Some(path)) = (&launched, sim_state) {
                if let Some(n) = crate::sim::persist::restore(&l.handle, &name, path)? {
                    println!(
                        "{name}: the in-process simulator resumes its accounts from {} ({n} open position(s))",
                        path.display()
                    );
                }
            }
            let local = launched.as_ref().map(|l| &l.local);
            if let Some(paper) = paper {
                let (ws, http) = cfg.urls(&name, local)?;
                let adapter = crate::paper::start_hyperliquid(
                    paper.config,
                    &name,
                    id,
                    ws,
                    http,
                    markets,
                    registry.market_count(),
                    latch,
                    paper.saved,
                    paper.save,
                )
                .await?;
                let sim = launched.map(|l| SimVenue {
                    name: name.clone(),
                    account: l.local.agent.address(),
                    handle: l.handle,
                });
                return Ok(Venue {
                    id,
                    task: tokio::task::spawn_local(run_venue_observed(adapter, link, obs)),
                    sim,
                });
            }
            let p = hyperliquid::config::prepare(cfg, &name, id, markets, latch, local).await?;
            let sim = launched.map(|l| {
                if let Some(agent) = p.agent {
                    l.handle.approve_agent(p.account, agent);
                }
                SimVenue {
                    name: name.clone(),
                    handle: l.handle,
                    account: p.account,
                }
            });
            (
                tokio::task::spawn_local(run_venue_observed(p.adapter, link, obs)),
                sim,
            )
        }
    };
    Ok(Venue { id, task, sim })
}
