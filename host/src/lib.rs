//! strategy-host: runs perpetual-futures strategy plugins behind safety gates.
//!
//! The data flows one way: frame → venue adapter → engine `Event` → engine (market state →
//! positions and orders → plugins → intents → gates → scheduler) → batch → venue adapter (guard,
//! rules, signing) → frames. See `docs/` for the why.
//!
//! Map of every module:
//! - [`engine`]: the deterministic core (no I/O, no clock, no tokio).
//!   - `types`, `events`, `reject`, `config`: vocabulary, events in and notes out, reason codes,
//!     the `[engine]` and `[risk]` tables.
//!   - `market_state`, `positions`, `orders`: what is known.
//!   - `calls` (strategy calls and deferred callbacks), `intents` (intents to orders), `gates`
//!     (the ordered gate lists; `ApprovedOrder`, the only thing the scheduler takes),
//!     `execution` (venue answers and fills), `reconcile` (the venue's account state),
//!     `safety` (HardStop, flatten, timer): what is decided.
//!   - `scheduler`, `hardstop`, `budget`, `risk`, `flatten`, `edge`: the seeds' components.
//!   - `view`: read access; `testkit`: the test harness (tests only).
//! - [`venue`]: the `VenueAdapter` seam (sans I/O) and its types (`Outbox`, `Now`,
//!   `SessionEnd`, `AdapterStats`).
//!   - `venue::hyperliquid`: adapter, decode, sync, writer, answers, posts, dead_man, markets,
//!     client_config, config (the `[[venues]]` entry and start-up), wire, codes, actions,
//!     signing, tick, info, secrets.
//!   - `venue::http`: a small HTTP/1.1 client for info requests.
//! - [`runtime`]: the live driver on one `current_thread` runtime.
//!   - `startup` (config → engine ready for its first event, journal restored), `core`
//!     (`EngineCore`: the engine, the metrics room, journal hand-off, venue wake-ups), `link`
//!     (how a venue task reaches the engine), `venue_task` (the one loop per venue), `venues`
//!     (the one match on a venue's kind), `journaling` (notes → journal records), `summary`,
//!     `status`.
//! - [`plugins`]: loading, validating and calling strategy plugins (panic → disabled); `config`
//!   holds `[plugins]` and `[[strategies]]`.
//! - [`journal`]: the SQLite journal, its writer thread, its `[journal]` table.
//! - [`metrics`]: one registry of what a run counts; the summary is a view of it, and so is the
//!   Prometheus endpoint (`prom`: the sample and the text format; `server`: the listener thread;
//!   `hist`: fixed-bucket latency histograms).
//! - [`report`]: the HTML report of a journaled run (`load`, `analysis`: round trips; `svg`:
//!   the charts; `html`: the page).
//! - [`sim`]: the built-in Hyperliquid simulator (market, account, exchange, matching, server,
//!   config); `matching` is the one copy of the venue's matching rules, shared with backtests.
//! - [`record`]: recording every venue frame with its time (`format`: the file layout; `feed`:
//!   `record`'s own market-data connections; the recorder thread and the venue task's `Tap`).
//! - [`backtest`]: replaying recordings and the venue archive through the engine (`data`: the
//!   input files; `exec`: simulated execution; `report`: the summary; `config`: `[backtest]`).
//! - [`config`]: the whole TOML file (each section defined by its owner), with file:line:col errors.
//! - [`cli`]: the command line, one file per subcommand group.
//! - [`logging`], [`hex`], [`crash`] (test-only crash points), [`stagetime`] (per-stage timing
//!   for the tick-to-order bench), [`timefmt`] (UTC dates for file names and archive times).

pub mod backtest;
pub mod cli;
pub mod config;
pub mod crash;
pub mod engine;
pub mod hex;
pub mod journal;
pub mod logging;
pub mod metrics;
pub mod paper;
pub mod plugins;
pub mod record;
pub mod report;
pub mod runtime;
pub mod sim;
pub mod stagetime;
pub mod timefmt;
pub mod venue;
