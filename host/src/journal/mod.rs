//! The durable journal (SQLite, WAL): runs, orders and every state change, fills (unique by venue
//! and tid), positions, refusals by reason, HardStop events, operator commands and plugin state
//! snapshots. Written by a writer thread fed in batches, never on the hot path ([`writer`]).
//!
//! A file that is not a journal, or is damaged, is refused with a clear error and never touched;
//! a journal from a newer host (higher schema version) is refused too.

pub mod config;
pub mod lock;
mod schema;
pub mod writer;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use schema::MIGRATIONS;
use std::path::{Path, PathBuf};

/// The schema this host writes. Migrations run from the file's `user_version` up to this.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(
        "journal {path}: {reason}. The file was not modified; move it aside or point [journal] path elsewhere"
    )]
    Unusable { path: PathBuf, reason: String },
    #[error(
        "journal {path}: written by a newer strategy-host (schema {found}, this host knows {known}); upgrade the host"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("no journal at {path}: no run yet (`strategy-host run` creates it)")]
    Missing { path: PathBuf },
    #[error("journal {path}: {cause}")]
    Sql {
        path: PathBuf,
        cause: rusqlite::Error,
    },
}

/// One open journal.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

/// The latest HardStop event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardStopEvent {
    pub latched: bool,
    pub reason: String,
    pub ts_ms: u64,
}

/// A saved plugin state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedState {
    pub plugin: String,
    pub version: String,
    pub params_hash: String,
    pub state: String,
    pub saved_ms: u64,
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Journal {
    /// Opens an existing journal, for commands that only read it (or queue a command for a
    /// running host): never creates one. It may be in use by a running host (SQLite's WAL lets
    /// both work).
    pub fn open_existing(path: &Path) -> Result<Journal, JournalError> {
        if !path.exists() {
            return Err(JournalError::Missing {
                path: path.to_path_buf(),
            });
        }
        Journal::open(path)
    }

    /// Opens (creating on first use) and migrates the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let unusable = |reason: String| JournalError::Unusable {
            path: path.to_path_buf(),
            reason,
        };
        let existed = path.exists();
        if existed {
            // Check before SQLite touches it: a file of another kind must stay as it is.
            let mut head = [0u8; 16];
            use std::io::Read;
            let n = std::fs::File::open(path)
                .and_then(|mut f| f.read(&mut head))
                .map_err(|e| unusable(format!("cannot read: {e}")))?;
            if n > 0 && (n < 16 || &head != b"SQLite format 3\0") {
                return Err(unusable(
                    "not a SQLite file (corrupt, truncated, or not a journal)".into(),
                ));
            }
        } else if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| unusable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| unusable(e.to_string()))?;
        let sql = |source| JournalError::Sql {
            path: path.to_path_buf(),
            cause: source,
        };
        if existed {
            let check: String = conn
                .query_row("PRAGMA quick_check", [], |r| r.get(0))
                .map_err(|e| unusable(format!("damaged: {e}")))?;
            if check != "ok" {
                return Err(unusable(format!("damaged: {check}")));
            }
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        // FULL: a committed record survives a power cut, not only a crashed process.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version > SCHEMA_VERSION {
            return Err(JournalError::Newer {
                path: path.to_path_buf(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        if version < 1 {
            let tables: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            if tables > 0 {
                return Err(unusable(
                    "a SQLite database, but not a strategy-host journal".into(),
                ));
            }
        }
        // Each step runs in its own transaction with its version bump: a crash mid-migration
        // leaves the file at the last completed version, and the next open carries on.
        for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            conn.execute_batch(&format!(
                "BEGIN; {step} PRAGMA user_version = {}; COMMIT;",
                i + 1
            ))
            .map_err(sql)?;
        }
        Ok(Journal {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    fn sql(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sql {
            path: self.path.clone(),
            cause: source,
        }
    }

    /// Starts a run; returns its id.
    pub fn start_run(
        &self,
        config_path: &str,
        config_hash: &str,
        plugins: &[(String, String, String, String)],
    ) -> Result<i64, JournalError> {
        self.start_run_at(config_path, config_hash, plugins, now_ms())
    }

    /// Starts a run at `started_ms` (a backtest: the data's first time); returns its id.
    pub fn start_run_at(
        &self,
        config_path: &str,
        config_hash: &str,
        plugins: &[(String, String, String, String)],
        started_ms: u64,
    ) -> Result<i64, JournalError> {
        self.conn
            .execute(
                "INSERT INTO runs (started_ms, host_version, config_path, config_hash) VALUES (?1, ?2, ?3, ?4)",
                params![started_ms as i64, env!("CARGO_PKG_VERSION"), config_path, config_hash],
            )
            .map_err(|e| self.sql(e))?;
        let run = self.conn.last_insert_rowid();
        for (strategy, plugin, version, hash) in plugins {
            self.conn
                .execute(
                    "INSERT INTO run_plugins VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![run, strategy, plugin, version, hash],
                )
                .map_err(|e| self.sql(e))?;
        }
        Ok(run)
    }

    /// Records the cloid prefix run `run` makes its orders with.
    pub fn record_cloid_prefix(&self, run: i64, prefix: u64) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE runs SET cloid_prefix = ?1 WHERE id = ?2",
                params![prefix as i64, run],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// The cloid prefixes this journal's runs used, as inclusive ranges: exact for runs since
    /// schema v4; for older runs (prefix not recorded) the minute around the run's start, which
    /// is when its prefix was taken.
    pub fn cloid_prefixes(&self) -> Result<Vec<(u64, u64)>, JournalError> {
        let mut st = self
            .conn
            .prepare("SELECT cloid_prefix, started_ms FROM runs")
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
            })
            .map_err(|e| self.sql(e))?;
        rows.map(|r| {
            r.map(|(p, started)| match p {
                0 => (started.saturating_sub(60_000), started + 60_000),
                p => (p, p),
            })
            .map_err(|e| self.sql(e))
        })
        .collect()
    }

    /// The latest HardStop event, if any.
    pub fn hard_stop(&self) -> Result<Option<HardStopEvent>, JournalError> {
        self.conn
            .query_row(
                "SELECT event, reason, ts_ms FROM hardstop ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok(HardStopEvent {
                        latched: r.get::<_, String>(0)? == "triggered",
                        reason: r.get(1)?,
                        ts_ms: r.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// Records a HardStop event (`source`: "engine", "operator-cli", …).
    pub fn record_hard_stop(
        &self,
        latched: bool,
        reason: &str,
        source: &str,
    ) -> Result<(), JournalError> {
        self.conn
            .execute(
                "INSERT INTO hardstop (ts_ms, event, reason, source) VALUES (?1, ?2, ?3, ?4)",
                params![
                    now_ms() as i64,
                    if latched { "triggered" } else { "released" },
                    reason,
                    source
                ],
            )
            .map(|_| ())
            .map_err(|e| self.sql(e))
    }

    /// Queues an operator command for a running host (it polls this table); returns its id.
    pub fn queue_operator_command(&self, command: &str) -> Result<i64, JournalError> {
        self.conn
            .execute(
                "INSERT INTO operator_commands (command, created_ms) VALUES (?1, ?2)",
                params![command, now_ms() as i64],
            )
            .map_err(|e| self.sql(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// When operator command `id` was taken by a host (None: not yet).
    pub fn operator_command_consumed(&self, id: i64) -> Result<Option<i64>, JournalError> {
        self.conn
            .query_row(
                "SELECT consumed_ms FROM operator_commands WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))
    }

    /// Marks the `ctl` commands a previous host never took as consumed without acting on them
    /// (a pause, cancel or flatten meant for a host that had stopped must not fire at the next
    /// start); HardStop commands are kept, as the latch is. Returns what was discarded.
    pub fn discard_stale_operator_commands(&self) -> Result<Vec<String>, JournalError> {
        let (_, rows) = self.query(
            "SELECT command FROM operator_commands WHERE consumed_ms IS NULL AND command NOT IN ('hardstop', 'hardstop-release') ORDER BY id",
            &[],
        )?;
        self.conn
            .execute(
                "UPDATE operator_commands SET consumed_ms = ?1 WHERE consumed_ms IS NULL AND command NOT IN ('hardstop', 'hardstop-release')",
                [-(now_ms() as i64)],
            )
            .map_err(|e| self.sql(e))?;
        Ok(rows.into_iter().map(|r| r[0].clone()).collect())
    }

    /// The running host's last status: (run, written at ms, JSON). None: no host wrote one.
    pub fn host_status(&self) -> Result<Option<(i64, i64, String)>, JournalError> {
        self.conn
            .query_row(
                "SELECT run_id, ts_ms, status FROM host_status WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// Each paper venue's last account (venue, JSON).
    pub fn paper_accounts(&self) -> Result<Vec<(String, String)>, JournalError> {
        let mut st = self
            .conn
            .prepare("SELECT venue, account FROM paper_accounts ORDER BY venue")
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.sql(e))
    }

    /// Marks run `run` with its mode (`live`, `paper`, `backtest`).
    pub fn set_run_mode(&self, run: i64, mode: &str) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE runs SET mode = ?1 WHERE id = ?2",
                params![mode, run],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Takes the operator commands not yet consumed, oldest first.
    pub fn take_operator_commands(&self) -> Result<Vec<String>, JournalError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, command FROM operator_commands WHERE consumed_ms IS NULL ORDER BY id",
            )
            .map_err(|e| self.sql(e))?;
        let rows: Vec<(i64, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|it| it.collect())
            .map_err(|e| self.sql(e))?;
        for (id, _) in &rows {
            self.conn
                .execute(
                    "UPDATE operator_commands SET consumed_ms = ?1 WHERE id = ?2",
                    params![now_ms() as i64, id],
                )
                .map_err(|e| self.sql(e))?;
        }
        Ok(rows.into_iter().map(|(_, c)| c).collect())
    }

    /// The engine time of the latest strategy state snapshot (0: none). A restarted host's engine
    /// clock starts from here, so the engine-time stamps a restored state holds are in its past.
    pub fn engine_time_ns(&self) -> Result<u64, JournalError> {
        self.conn
            .query_row(
                "SELECT coalesce(max(engine_ns), 0) FROM plugin_state",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.sql(e))
    }

    pub fn plugin_state(&self, strategy: &str) -> Result<Option<SavedState>, JournalError> {
        self.conn
            .query_row("SELECT plugin, version, params_hash, state, saved_ms FROM plugin_state WHERE strategy = ?1", [strategy], |r| {
                Ok(SavedState { plugin: r.get(0)?, version: r.get(1)?, params_hash: r.get(2)?, state: r.get(3)?, saved_ms: r.get::<_, i64>(4)? as u64 })
            })
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// Rows of a query as strings (for the `journal` subcommands).
    pub fn table(
        &self,
        sql: &str,
        limit: u32,
    ) -> Result<(Vec<String>, Vec<Vec<String>>), JournalError> {
        self.query(sql, &[&limit])
    }

    /// Runs a query with these parameters: column names and every value as text (NULL empty).
    pub fn query(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<(Vec<String>, Vec<Vec<String>>), JournalError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.sql(e))?;
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        let n = names.len();
        let rows = stmt
            .query_map(params, |r| {
                (0..n)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => String::new(),
                            rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                            rusqlite::types::ValueRef::Real(v) => v.to_string(),
                            rusqlite::types::ValueRef::Text(t) => {
                                String::from_utf8_lossy(t).into_owned()
                            }
                            rusqlite::types::ValueRef::Blob(b) => format!("<{} bytes>", b.len()),
                        })
                    })
                    .collect::<Result<Vec<_>, rusqlite::Error>>()
            })
            .and_then(|it| it.collect())
            .map_err(|e| self.sql(e))?;
        Ok((names, rows))
    }
}

/// The states of every `order_events` row, oldest first (tests).
#[cfg(test)]
pub fn order_event_states(conn: &Connection) -> Vec<String> {
    conn.prepare("SELECT state FROM order_events ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[cfg(test)]
mod tests;
