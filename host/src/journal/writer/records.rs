//! What the writer records, and how each record becomes rows.

use rusqlite::{OptionalExtension, params};
use std::sync::mpsc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub cloid: String,
    pub market: String,
    pub strategy: Option<String>,
    pub tag: u64,
    pub side: &'static str,
    pub px: String,
    pub sz: String,
    pub tif: &'static str,
    pub reduce_only: bool,
    pub purpose: &'static str,
    pub state: &'static str,
    pub filled: String,
    pub oid: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillRow {
    pub venue: String,
    pub tid: u64,
    pub market: String,
    pub cloid: Option<String>,
    pub oid: u64,
    pub side: &'static str,
    pub px: String,
    pub sz: String,
    pub fee: String,
    pub time_ms: u64,
    pub strategy: Option<String>,
    pub realized: String,
}

/// What the engine side asks the writer to record.
#[derive(Debug)]
pub enum Record {
    Order(OrderRow),
    Fill(FillRow),
    Position {
        market: String,
        size: String,
        avg_entry: String,
        realized: String,
    },
    Refusal {
        strategy: String,
        reason: &'static str,
    },
    HardStop {
        latched: bool,
        reason: String,
    },
    /// A live reconcile corrected a position (`before` → `after`, the venue's).
    Correction {
        venue: String,
        market: String,
        before: String,
        after: String,
    },
    /// An exit decision (a flatten the engine started).
    Exit {
        market: String,
        cloid: String,
        strategy: String,
        reason: &'static str,
        edge_bps: Option<String>,
        held_ms: u64,
    },
    /// One market's line of an EdgeTracker period summary.
    Edge {
        market: String,
        max_buy_bps: Option<String>,
        max_sell_bps: Option<String>,
        updates: u64,
        threshold_pct: String,
    },
    /// A latency histogram of the run (bucket bounds in ns, `i64::MAX` for +Inf; not cumulative).
    Histogram {
        name: String,
        buckets: Vec<(i64, u64)>,
    },
    /// The host's status for `ctl status` (JSON), replacing the last one.
    Status(String),
    /// A paper venue's account (`paper::PaperAccount` as JSON), replacing its last one.
    PaperAccount {
        venue: String,
        account: String,
    },
    PluginState {
        strategy: String,
        plugin: String,
        version: String,
        params_hash: String,
        state: String,
        /// Engine time of the snapshot.
        engine_ns: u64,
    },
    /// Acknowledged once every record sent before it is committed.
    Flush(mpsc::Sender<()>),
    /// Ends the run (recorded) and the writer.
    EndRun,
}

/// Runs one of the writer's statements through the connection's statement cache: compiling the
/// SQL is most of a record's cost (docs/BENCHMARKS.md, fifth session), and a writer that takes
/// longer per record holds records in memory longer.
fn exec(
    tx: &rusqlite::Transaction<'_>,
    sql: &str,
    p: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(p)
}

/// Writes one record at time `now` (ms: the wall clock live, the data's clock in a backtest).
pub fn write(
    tx: &rusqlite::Transaction<'_>,
    run: i64,
    r: Record,
    now: i64,
) -> rusqlite::Result<()> {
    match r {
        Record::Order(o) => {
            // An order is noted at every change the engine sees, and the venue often reports one
            // change several ways (post result, order update, fill): an event row is written only
            // when the state or the filled size differs from the order's row.
            let before: Option<(String, String)> = tx
                .prepare_cached("SELECT state, filled FROM orders WHERE cloid = ?1")?
                .query_row(params![o.cloid], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let changed =
                before.is_none_or(|(state, filled)| state != o.state || filled != o.filled);
            exec(
                tx,
                "INSERT INTO orders (cloid, run_id, market, strategy, tag, side, px, sz, tif, reduce_only, purpose, state, filled, oid, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)
                 ON CONFLICT(cloid) DO UPDATE SET state = excluded.state, filled = excluded.filled,
                   oid = coalesce(excluded.oid, orders.oid), updated_ms = excluded.updated_ms",
                params![o.cloid, run, o.market, o.strategy, o.tag as i64, o.side, o.px, o.sz, o.tif, o.reduce_only, o.purpose, o.state, o.filled, o.oid.map(|x| x as i64), now],
            )?;
            if changed {
                exec(
                    tx,
                    "INSERT INTO order_events (cloid, state, filled, ts_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![o.cloid, o.state, o.filled, now],
                )?;
            }
        }
        Record::Fill(f) => {
            // A fill already journaled (a snapshot replayed after a reconnect) is ignored; a
            // different fill under a journaled (venue, tid) means the venue reused an id: it is
            // said loudly, with both, since the table can keep only one.
            let known: Option<(String, String, i64)> = tx
                .prepare_cached("SELECT px, sz, time_ms FROM fills WHERE venue = ?1 AND tid = ?2")?
                .query_row(params![f.venue, f.tid as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            if let Some((px, sz, t)) = known {
                if (px.as_str(), sz.as_str(), t) != (f.px.as_str(), f.sz.as_str(), f.time_ms as i64)
                {
                    tracing::error!(
                        venue = %f.venue,
                        tid = f.tid,
                        journaled = %format!("{sz} @ {px} at {t} ms"),
                        new = %format!("{} @ {} at {} ms ({})", f.sz, f.px, f.time_ms, f.market),
                        "the venue reused a trade id for a different fill: the new one is NOT in the journal's fills (its position is)"
                    );
                }
                return Ok(());
            }
            exec(
                tx,
                "INSERT OR IGNORE INTO fills VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    f.venue,
                    f.tid as i64,
                    f.market,
                    f.cloid,
                    f.oid as i64,
                    f.side,
                    f.px,
                    f.sz,
                    f.fee,
                    f.time_ms as i64,
                    f.strategy,
                    f.realized
                ],
            )?;
        }
        Record::Position {
            market,
            size,
            avg_entry,
            realized,
        } => {
            exec(
                tx,
                "INSERT OR REPLACE INTO positions VALUES (?1, ?2, ?3, ?4, ?5)",
                params![market, size, avg_entry, realized, now],
            )?;
        }
        Record::Refusal { strategy, reason } => {
            exec(
                tx,
                "INSERT INTO refusals VALUES (?1, ?2, ?3, 1, ?4)
                 ON CONFLICT(run_id, strategy, reason) DO UPDATE SET count = count + 1, last_ms = excluded.last_ms",
                params![run, strategy, reason, now],
            )?;
            exec(
                tx,
                "INSERT INTO refusal_minutes VALUES (?1, ?2, ?3, ?4, 1)
                 ON CONFLICT(run_id, minute_ms, strategy, reason) DO UPDATE SET count = count + 1",
                params![run, now - now.rem_euclid(60_000), strategy, reason],
            )?;
        }
        Record::Exit {
            market,
            cloid,
            strategy,
            reason,
            edge_bps,
            held_ms,
        } => {
            exec(
                tx,
                "INSERT INTO exits VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    run,
                    now,
                    market,
                    cloid,
                    strategy,
                    reason,
                    edge_bps,
                    held_ms as i64
                ],
            )?;
        }
        Record::Edge {
            market,
            max_buy_bps,
            max_sell_bps,
            updates,
            threshold_pct,
        } => {
            exec(
                tx,
                "INSERT INTO edges VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    run,
                    now,
                    market,
                    max_buy_bps,
                    max_sell_bps,
                    updates as i64,
                    threshold_pct
                ],
            )?;
        }
        Record::PaperAccount { venue, account } => {
            exec(
                tx,
                "INSERT OR REPLACE INTO paper_accounts VALUES (?1, ?2, ?3, ?4)",
                params![venue, run, now, account],
            )?;
        }
        Record::Status(json) => {
            exec(
                tx,
                "INSERT OR REPLACE INTO host_status VALUES (1, ?1, ?2, ?3)",
                params![run, now, json],
            )?;
        }
        Record::Histogram { name, buckets } => {
            for (le, n) in buckets {
                exec(
                    tx,
                    "INSERT OR REPLACE INTO histograms VALUES (?1, ?2, ?3, ?4)",
                    params![run, name, le, n as i64],
                )?;
            }
        }
        Record::Correction {
            venue,
            market,
            before,
            after,
        } => {
            exec(
                tx,
                "INSERT INTO corrections (run_id, ts_ms, venue, market, before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![run, now, venue, market, before, after],
            )?;
        }
        Record::HardStop { latched, reason } => {
            exec(
                tx,
                "INSERT INTO hardstop (ts_ms, event, reason, source) VALUES (?1, ?2, ?3, 'engine')",
                params![now, if latched { "triggered" } else { "released" }, reason],
            )?;
        }
        Record::PluginState {
            strategy,
            plugin,
            version,
            params_hash,
            state,
            engine_ns,
        } => {
            exec(
                tx,
                "INSERT OR REPLACE INTO plugin_state (strategy, plugin, version, params_hash, state, saved_ms, engine_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    strategy,
                    plugin,
                    version,
                    params_hash,
                    state,
                    now,
                    engine_ns as i64
                ],
            )?;
        }
        Record::Flush(_) | Record::EndRun => {}
    }
    Ok(())
}
