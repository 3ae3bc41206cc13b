//! What the runtime journals, and what it restores from the journal on start.

use crate::config::Config;
use crate::engine::Engine;
use crate::engine::events::EngineNote;
use crate::engine::orders::{OrderState, Purpose, TrackedOrder};
use crate::engine::types::{Side, StrategyId, Tif};
use crate::journal::writer::{FillRow, JournalHandle, OrderRow, Record};
use crate::journal::{Journal, SavedState};
use crate::venue::hyperliquid::signing::{keccak, to_hex};

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "B",
        Side::Sell => "A",
    }
}

fn state_name(s: OrderState) -> &'static str {
    use OrderState::*;
    match s {
        Queued => "queued",
        Sent => "sent",
        Resting => "resting",
        PartiallyFilled => "partially_filled",
        Filled => "filled",
        CancelPending => "cancel_pending",
        Cancelled => "cancelled",
        FilledDuringCancel => "filled_during_cancel",
        Rejected => "rejected",
        UnknownOutcome => "unknown_outcome",
        Dropped => "dropped",
    }
}

fn strategy_name(engine: &Engine, sid: Option<StrategyId>) -> Option<String> {
    sid.map(|s| engine.strategy_slot(s).name.clone())
}

fn order_row(engine: &Engine, o: &TrackedOrder) -> OrderRow {
    OrderRow {
        cloid: o.cloid.to_string(),
        market: engine.registry().key(o.market).to_string(),
        strategy: strategy_name(engine, o.owner),
        tag: o.tag,
        side: side(o.side),
        px: o.px.to_string(),
        sz: o.sz.to_string(),
        tif: match o.tif {
            Tif::Alo => "Alo",
            Tif::Ioc => "Ioc",
            Tif::Gtc => "Gtc",
        },
        reduce_only: o.reduce_only,
        purpose: match o.purpose {
            Purpose::Strategy => "strategy",
            Purpose::PairLeg(_) => "pair_leg",
            Purpose::Flatten => "flatten",
            Purpose::Adopted => "adopted",
        },
        state: state_name(o.state),
        filled: o.filled.to_string(),
        oid: o.oid,
    }
}

/// A market's position as the engine holds it now.
fn position_record(engine: &Engine, m: crate::engine::types::MarketId) -> Record {
    let p = engine.position(m);
    Record::Position {
        market: engine.registry().key(m).to_string(),
        size: p.size.to_string(),
        avg_entry: p.avg_entry.to_string(),
        realized: p.realized.to_string(),
    }
}

/// Journal work held back while a venue client writes its posts (`EngineCore::settle`).
#[derive(Debug)]
pub enum Deferred {
    /// A note whose records depend only on the note and on what never changes (market and
    /// strategy names): its rows are built later.
    Note(EngineNote),
    /// Records that read the engine's state (positions after a fill) and so were built at once.
    Records(Vec<Record>),
}

/// Queues the journal work of one note: notes whose records read the engine's current state
/// (positions) become records now, since the state may move before the work is done; the others
/// wait as notes (`records` decides later what, if anything, they become), so the tick-to-order
/// path pays neither their formatting nor the writer's wake-up.
pub fn defer(engine: &Engine, n: EngineNote, out: &mut Vec<Deferred>) {
    match n {
        EngineNote::Fill { .. } | EngineNote::PositionReconciled { .. } => {
            out.push(Deferred::Records(records(engine, &n)))
        }
        n => out.push(Deferred::Note(n)),
    }
}

/// Sends queued journal work to the writer, oldest first.
pub fn send_deferred(engine: &Engine, work: &mut Vec<Deferred>, journal: &JournalHandle) {
    for d in work.drain(..) {
        match d {
            Deferred::Note(n) => {
                for r in records(engine, &n) {
                    journal.send(r);
                }
            }
            Deferred::Records(rs) => {
                for r in rs {
                    journal.send(r);
                }
            }
        }
    }
}

/// The records a note becomes.
pub fn records(engine: &Engine, n: &EngineNote) -> Vec<Record> {
    match n {
        EngineNote::Order(o) => vec![Record::Order(order_row(engine, o))],
        EngineNote::PositionReconciled { market } => vec![position_record(engine, *market)],
        EngineNote::Fill {
            fill,
            strategy,
            realized,
            ..
        } => {
            vec![
                Record::Fill(FillRow {
                    venue: engine.registry().venue_name(fill.venue).to_string(),
                    tid: fill.tid,
                    market: engine.registry().key(fill.market).to_string(),
                    cloid: fill.cloid.map(|c| c.to_string()),
                    oid: fill.oid,
                    side: side(fill.side),
                    px: fill.px.to_string(),
                    sz: fill.sz.to_string(),
                    fee: fill.fee.to_string(),
                    time_ms: fill.time_ms,
                    strategy: strategy_name(engine, *strategy),
                    realized: realized.to_string(),
                }),
                position_record(engine, fill.market),
            ]
        }
        EngineNote::Refused {
            strategy, reason, ..
        } => vec![Record::Refusal {
            strategy: strategy_name(engine, *strategy).unwrap_or_else(|| "(host)".into()),
            reason: reason.name(),
        }],
        EngineNote::PositionDrift {
            venue,
            market,
            engine: before,
            corrected,
        } => vec![Record::Correction {
            venue: engine.registry().venue_name(*venue).to_string(),
            market: engine.registry().key(*market).to_string(),
            before: before.to_string(),
            after: corrected.to_string(),
        }],
        EngineNote::HardStopTriggered(r) => vec![Record::HardStop {
            latched: true,
            reason: r.name().into(),
        }],
        EngineNote::Flatten {
            market,
            cloid,
            reason,
            strategy,
        } => vec![Record::Exit {
            market: engine.registry().key(*market).to_string(),
            cloid: cloid.to_string(),
            strategy: strategy_name(engine, *strategy).unwrap_or_else(|| "(host)".into()),
            reason: reason.kind.name(),
            edge_bps: reason
                .edge_bps
                .into_option()
                .map(|d| d.get().normalize().to_string()),
            held_ms: reason.held_ms,
        }],
        EngineNote::EdgeSummary(lines) => lines
            .iter()
            .map(|l| Record::Edge {
                market: engine.registry().key(l.market).to_string(),
                max_buy_bps: l
                    .stats
                    .max_buy_bps
                    .map(|d| d.round_dp(4).normalize().to_string()),
                max_sell_bps: l
                    .stats
                    .max_sell_bps
                    .map(|d| d.round_dp(4).normalize().to_string()),
                updates: l.stats.updates,
                threshold_pct: l.threshold_pct.round_dp(2).normalize().to_string(),
            })
            .collect(),
        EngineNote::HardStopReleased => vec![Record::HardStop {
            latched: false,
            reason: "operator".into(),
        }],
        _ => Vec::new(),
    }
}

/// A histogram as the journal keeps it (`Record::Histogram`).
pub fn histogram_record(name: &str, h: &crate::metrics::hist::Histogram) -> Record {
    let bounds = crate::metrics::hist::BOUNDS_NS
        .iter()
        .map(|b| *b as i64)
        .chain([i64::MAX]);
    Record::Histogram {
        name: name.to_string(),
        buckets: bounds.zip(h.counts).collect(),
    }
}

/// A run's latency histograms, at its end: tick-to-order over every venue, and each strategy's
/// plugin call times (what `report` draws).
pub fn run_histograms(
    engine: &Engine,
    tick_to_order: &crate::metrics::hist::Histogram,
    journal: &JournalHandle,
) {
    journal.send(histogram_record("tick_to_order", tick_to_order));
    for (sid, name) in engine.strategy_names() {
        let (h, _) = engine.strategy_slot(sid).call_times();
        journal.send(histogram_record(&format!("plugin_call:{name}"), &h));
    }
}

/// Hex keccak of some bytes (config and plugin file fingerprints).
pub fn fingerprint(bytes: &[u8]) -> String {
    to_hex(&keccak(bytes))
}

/// The plugins of a run, for the journal: (strategy, plugin, version, file hash).
pub fn run_plugins(config: &Config, engine: &Engine) -> Vec<(String, String, String, String)> {
    let locator = crate::plugins::PluginLocator::for_section(&config.plugin_section());
    engine
        .strategy_names()
        .map(|(sid, name)| {
            let slot = engine.strategy_slot(sid);
            let spec = config
                .raw
                .strategies
                .iter()
                .find(|s| s.name() == name)
                .map(|s| s.plugin.get_ref().clone())
                .unwrap_or_default();
            let hash = locator
                .resolve(&spec)
                .ok()
                .and_then(|p| std::fs::read(p).ok())
                .map_or_else(|| "unknown".to_string(), |b| fingerprint(&b));
            (
                name.to_string(),
                slot.plugin.clone(),
                slot.plugin_version.clone(),
                hash,
            )
        })
        .collect()
}

/// What a saved state depends on besides the plugin: its params and its markets (a state kept
/// for `hl/BTC, hl/ETH` means nothing for `hl/ETH, hl/SOL`: market indices would shift).
fn params_hash(config: &Config, strategy: &str) -> String {
    let key = config
        .raw
        .strategies
        .iter()
        .find(|s| s.name() == strategy)
        .map(|s| format!("{}\nmarkets = {:?}", s.params_toml(), s.market_keys()))
        .unwrap_or_default();
    fingerprint(key.as_bytes())
}

/// `major.minor` of a version string.
fn version_line(v: &str) -> &str {
    match v.match_indices('.').nth(1) {
        Some((i, _)) => &v[..i],
        None => v,
    }
}

/// Why a saved state cannot be restored into this strategy, or None when it can be tried.
pub fn incompatible(
    saved: &SavedState,
    plugin: &str,
    version: &str,
    params_hash: &str,
) -> Option<String> {
    if saved.plugin != plugin {
        return Some(format!(
            "the saved state is from plugin `{}`, not `{plugin}`",
            saved.plugin
        ));
    }
    if version_line(&saved.version) != version_line(version) {
        return Some(format!(
            "plugin version changed from {} to {version}",
            saved.version
        ));
    }
    if saved.params_hash != params_hash {
        return Some("its params changed (or its markets)".into());
    }
    None
}

/// Restores each strategy's last journaled state where it is compatible; logs why not elsewhere.
pub fn restore_states(config: &Config, engine: &mut Engine, journal: &Journal) {
    let ids: Vec<(StrategyId, String)> = engine
        .strategy_names()
        .map(|(s, n)| (s, n.to_string()))
        .collect();
    for (sid, name) in ids {
        let saved = match journal.plugin_state(&name) {
            Ok(Some(s)) => s,
            Ok(None) => {
                tracing::info!(strategy = %name, "no saved state in the journal; starting fresh");
                continue;
            }
            Err(e) => {
                tracing::warn!(strategy = %name, "cannot read saved state: {e}; starting fresh");
                continue;
            }
        };
        let slot = engine.strategy_slot_mut(sid);
        if let Some(why) = incompatible(
            &saved,
            &slot.plugin,
            &slot.plugin_version,
            &params_hash(config, &name),
        ) {
            tracing::warn!(strategy = %name, "not restoring its saved state: {why}; starting fresh");
            continue;
        }
        match slot.restore_state(&saved.state) {
            Ok(()) => {
                tracing::info!(strategy = %name, saved_ms = saved.saved_ms, "strategy state restored")
            }
            Err(why) => {
                tracing::warn!(strategy = %name, "the plugin refused its saved state ({why}); starting fresh")
            }
        }
    }
}

/// Journals every strategy's state now (`now_ns`: engine time).
pub fn snapshot_states(config: &Config, engine: &Engine, now_ns: u64, journal: &JournalHandle) {
    for (sid, name) in engine.strategy_names() {
        snapshot_state(engine, sid, &params_hash(config, name), now_ns, journal);
    }
}

/// Journals one strategy's state (nothing when it keeps none, or is disabled).
pub fn snapshot_state(
    engine: &Engine,
    sid: StrategyId,
    params_hash: &str,
    now_ns: u64,
    journal: &JournalHandle,
) {
    let slot = engine.strategy_slot(sid);
    if let Some(state) = slot.snapshot_state() {
        journal.send(Record::PluginState {
            strategy: slot.name.clone(),
            plugin: slot.plugin.clone(),
            version: slot.plugin_version.clone(),
            params_hash: params_hash.to_string(),
            state,
            engine_ns: now_ns,
        });
    }
}

/// Each strategy's params hash, by `StrategyId` (what a saved state is checked against).
pub fn params_hashes(config: &Config, engine: &Engine) -> Vec<String> {
    engine
        .strategy_names()
        .map(|(_, name)| params_hash(config, name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_state_is_for_its_params_and_its_markets() {
        let config = |markets: &str, threshold: u32| {
            let text = format!(
                "[[strategies]]\nname = \"a\"\nplugin = \"fx-echo\"\nrole = \"entry\"\nmarkets = {markets}\n[strategies.params]\nthreshold_bps = {threshold}\n"
            );
            Config::parse(std::path::Path::new("c.toml"), text).unwrap()
        };
        let base = params_hash(&config(r#"["hl/BTC", "hl/ETH"]"#, 40), "a");
        assert_eq!(
            base,
            params_hash(&config(r#"["hl/BTC", "hl/ETH"]"#, 40), "a")
        );
        assert_ne!(
            base,
            params_hash(&config(r#"["hl/ETH", "hl/SOL"]"#, 40), "a"),
            "markets"
        );
        assert_ne!(
            base,
            params_hash(&config(r#"["hl/BTC", "hl/ETH"]"#, 41), "a"),
            "params"
        );
    }

    #[test]
    fn compatibility_of_saved_states() {
        let saved = SavedState {
            plugin: "p".into(),
            version: "0.3.1".into(),
            params_hash: "h".into(),
            state: "{}".into(),
            saved_ms: 1,
        };
        assert_eq!(
            incompatible(&saved, "p", "0.3.7", "h"),
            None,
            "a patch release keeps the state"
        );
        assert!(
            incompatible(&saved, "p", "0.4.0", "h")
                .unwrap()
                .contains("version changed")
        );
        assert!(
            incompatible(&saved, "p", "0.3.1", "h2")
                .unwrap()
                .contains("params changed")
        );
        assert!(
            incompatible(&saved, "q", "0.3.1", "h")
                .unwrap()
                .contains("plugin `p`")
        );
    }
}
