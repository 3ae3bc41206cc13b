//! The `[journal]` table.

use serde::Deserialize;
use std::path::PathBuf;

/// `[journal]`: where the durable record lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    /// The SQLite file, relative to the config file. Created on first run.
    #[serde(default = "default_journal_path")]
    pub path: PathBuf,
    /// Strategies' state is journaled this often (and at shutdown).
    #[serde(default = "default_snapshot_secs")]
    pub snapshot_every_secs: u64,
    /// Records arriving within this many milliseconds of each other are committed together (one
    /// transaction, one fsync; the engine thread never wakes the writer in between). 0: each
    /// batch at once. A crash loses at most this window of records, which the restart's
    /// reconciliation with the venue recovers (docs/operations.md).
    #[serde(default = "default_commit_window_ms")]
    pub commit_window_ms: u64,
}

fn default_commit_window_ms() -> u64 {
    20
}

/// The longest group-commit window accepted: records not yet committed are what a crash loses.
pub const MAX_COMMIT_WINDOW_MS: u64 = 1_000;

fn default_journal_path() -> PathBuf {
    PathBuf::from("strategy-host.db")
}

fn default_snapshot_secs() -> u64 {
    60
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            path: default_journal_path(),
            snapshot_every_secs: default_snapshot_secs(),
            commit_window_ms: default_commit_window_ms(),
        }
    }
}
