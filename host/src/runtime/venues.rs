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

/// Starts one venue's task on the current `LocalSet`.
pub async fn start_venue(
    v: &VenueConfig,
    id: VenueId,
    registry: &MarketRegistry,
    latch: &Arc<HardStopLatch>,
    core: &Rc<RefCell<EngineCore>>,
    obs: Observers,
    sim_state: Option<&std::path::Path>,
) -> anyhow::Result<Venue> {
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
