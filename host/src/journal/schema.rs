//! The journal's schema: one migration per version, applied in order from a file's
//! `user_version` (append, never edit).

/// Migration i (0-based) takes the schema from version i to i + 1. Append, never edit: a journal
/// written by an older host is brought forward step by step on open.
pub(super) const MIGRATIONS: &[&str] = &[
    SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7,
];

/// Each paper venue's account (`paper::PaperAccount` as JSON), replaced as it changes: what a
/// paper run resumes from.
const SCHEMA_V7: &str = r#"
CREATE TABLE paper_accounts (
    venue TEXT PRIMARY KEY,
    run_id INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    account TEXT NOT NULL
);
"#;

/// The running host's status, replaced every second (`ctl status` reads it).
const SCHEMA_V6: &str = r#"
CREATE TABLE host_status (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    run_id INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    status TEXT NOT NULL
);
"#;

/// What `report` plots besides fills: each exit decision (reason, the edge the exit strategy
/// measured, time held), EdgeTracker's period summaries (the dislocations entries see, those
/// below the threshold included), refusals per minute, and the run's latency histograms
/// (tick-to-order live, simulated order round trips in a backtest), written at the run's end;
/// and each run's mode (`live`, `backtest`).
const SCHEMA_V5: &str = r#"
CREATE TABLE exits (
    run_id INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    market TEXT NOT NULL,
    cloid TEXT NOT NULL,
    strategy TEXT NOT NULL,
    reason TEXT NOT NULL,
    edge_bps TEXT,
    held_ms INTEGER NOT NULL
);
CREATE TABLE edges (
    run_id INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    market TEXT NOT NULL,
    max_buy_bps TEXT,
    max_sell_bps TEXT,
    updates INTEGER NOT NULL,
    threshold_pct TEXT NOT NULL
);
CREATE TABLE refusal_minutes (
    run_id INTEGER NOT NULL,
    minute_ms INTEGER NOT NULL,
    strategy TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (run_id, minute_ms, strategy, reason)
);
ALTER TABLE runs ADD COLUMN mode TEXT NOT NULL DEFAULT 'live';
CREATE TABLE histograms (
    run_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    le_ns INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (run_id, name, le_ns)
);
"#;

/// Each run's cloid prefix: an order on the venue whose cloid has a strategy-host prefix no run
/// of this journal used was made by another host (another journal) on the same account.
const SCHEMA_V4: &str = "ALTER TABLE runs ADD COLUMN cloid_prefix INTEGER NOT NULL DEFAULT 0;";

/// Every correction a live reconcile made to the engine's position (the venue is the authority:
/// each one is evidence that a frame was lost or invented).
const SCHEMA_V3: &str = r#"
CREATE TABLE corrections (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    ts_ms INTEGER NOT NULL,
    venue TEXT NOT NULL,
    market TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL
);
"#;

/// Engine time at each state snapshot: strategies keep engine-time stamps in their state
/// (cooldowns, entry times), so a restarted host's clock must go on from there (`engine_time_ns`).
const SCHEMA_V2: &str = "ALTER TABLE plugin_state ADD COLUMN engine_ns INTEGER NOT NULL DEFAULT 0;";

const SCHEMA_V1: &str = r#"
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    host_version TEXT NOT NULL,
    config_path TEXT NOT NULL,
    config_hash TEXT NOT NULL
);
CREATE TABLE run_plugins (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    strategy TEXT NOT NULL,
    plugin TEXT NOT NULL,
    version TEXT NOT NULL,
    file_hash TEXT NOT NULL
);
CREATE TABLE orders (
    cloid TEXT PRIMARY KEY,
    run_id INTEGER NOT NULL,
    market TEXT NOT NULL,
    strategy TEXT,
    tag INTEGER NOT NULL,
    side TEXT NOT NULL,
    px TEXT NOT NULL,
    sz TEXT NOT NULL,
    tif TEXT NOT NULL,
    reduce_only INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    filled TEXT NOT NULL,
    oid INTEGER,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE order_events (
    id INTEGER PRIMARY KEY,
    cloid TEXT NOT NULL,
    state TEXT NOT NULL,
    filled TEXT NOT NULL,
    ts_ms INTEGER NOT NULL
);
CREATE TABLE fills (
    venue TEXT NOT NULL,
    tid INTEGER NOT NULL,
    market TEXT NOT NULL,
    cloid TEXT,
    oid INTEGER NOT NULL,
    side TEXT NOT NULL,
    px TEXT NOT NULL,
    sz TEXT NOT NULL,
    fee TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    strategy TEXT,
    realized TEXT NOT NULL,
    PRIMARY KEY (venue, tid)
);
CREATE TABLE positions (
    market TEXT PRIMARY KEY,
    size TEXT NOT NULL,
    avg_entry TEXT NOT NULL,
    realized TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE refusals (
    run_id INTEGER NOT NULL,
    strategy TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    PRIMARY KEY (run_id, strategy, reason)
);
CREATE TABLE hardstop (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('triggered', 'released')),
    reason TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE plugin_state (
    strategy TEXT PRIMARY KEY,
    plugin TEXT NOT NULL,
    version TEXT NOT NULL,
    params_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    saved_ms INTEGER NOT NULL
);
CREATE TABLE operator_commands (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    consumed_ms INTEGER
);
"#;
