//! `backtest`: recorded or archived market data replayed through the very engine, gates and
//! plugin `.so` files that trade live, with the data's time as the engine's clock, and execution
//! simulated by the simulator's matching rules ([`exec`]). One thread, no sockets, no tokio: a
//! loop that takes the earliest of the next data record, the next piece of simulated venue work,
//! and the next timer tick, and hands it to the engine.
//!
//! - [`data`]: the input files (recordings, the archive's l2Book and asset_ctxs), merged in time.
//! - [`exec`]: simulated execution (matching, queue model, fees, funding); [`latency`]: its
//!   latency model.
//! - [`replay`]: the loop's state and its steps (a line, a frame, an event).
//! - [`report`]: the summary (round trips, PnL, drawdown, exits, refusals, data problems).
//! - [`config`]: the `[backtest]` table.
//!
//! Start-up is `runtime::startup::build`, the live run's own (plugins, registry, latch); the
//! venue decoding is the live adapter's (`venue::hyperliquid::decode`); the journal rows are the
//! live journal's (`runtime::journaling::records` → `journal::writer::write_record`).

pub mod account;
pub mod book;
pub mod config;
pub mod data;
pub mod exec;
pub mod latency;
pub mod replay;
pub mod report;
pub mod sweep;
pub mod walk;

use crate::config::Config;
use crate::engine::events::Event;
use crate::engine::types::{MarketId, VenueId};
use crate::journal::Journal;
use crate::record::format;
use crate::venue::hyperliquid::info::AssetTable;
use crate::venue::hyperliquid::markets::Markets;
use anyhow::bail;
use data::{DataArg, Kind, Reader};
use replay::{BacktestJournal, Replay, VenueState, replay_line};
use report::{Reporter, Summary};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::PathBuf;

/// What `backtest` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub data: Vec<DataArg>,
    /// Write the journal (the live schema) here; must not exist.
    pub journal: Option<PathBuf>,
    /// Show a progress bar (when stderr is a terminal).
    pub progress: bool,
    /// Replay only the records in [from, to) (ns since the epoch; None: all): a walk-forward
    /// window. The strategies start fresh at its first record.
    pub window: Option<(u64, u64)>,
}

/// The venue rules and fees of every configured market.
fn market_rules(
    config: &Config,
    registry: &crate::engine::types::MarketRegistry,
    headers: &[format::Header],
) -> anyhow::Result<Vec<Option<exec::MarketRules>>> {
    let bt = &config.raw.backtest;
    let mut out = Vec::new();
    for (m, key) in registry.markets() {
        let venue = registry.venue_of(m);
        let given = bt.markets.iter().find(|r| r.market == key.to_string());
        let recorded = headers
            .iter()
            .flat_map(|h| &h.venues)
            .filter(|v| v.name == key.venue)
            .flat_map(|v| &v.markets)
            .find(|x| x.coin == key.coin)
            .and_then(|x| x.sz_decimals);
        let simulated = config
            .raw
            .venues
            .iter()
            .filter(|v| *v.name.get_ref() == key.venue)
            .filter_map(|v| v.sim.as_ref())
            .flat_map(|s| &s.markets)
            .find(|x| x.coin == key.coin)
            .map(|x| x.sz_decimals);
        let Some(sz_decimals) = given.map(|g| g.sz_decimals).or(recorded).or(simulated) else {
            bail!(
                "{}: market `{key}`: its size decimals are not in the data or the config; add\n  [[backtest.markets]]\n  market = \"{key}\"\n  sz_decimals = N   # the venue's szDecimals (info `meta`)",
                config.path.display()
            );
        };
        let (taker_bps, maker_bps) = bt.fees_bps(&key.to_string());
        out.push(Some(exec::MarketRules {
            venue,
            spec: crate::venue::hyperliquid::tick::AssetSpec {
                asset: m.0,
                sz_decimals,
                is_spot: false,
            },
            taker_bps,
            maker_bps,
        }));
    }
    Ok(out)
}

/// Wall time of a backtest's parts (kept out of the summary, which must not depend on it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// Opening the data, loading the plugins, building the engine.
    pub startup: std::time::Duration,
    /// The replay loop: reading, decoding, the engine and plugins, execution, the journal.
    pub replay: std::time::Duration,
}

/// Replays `opts.data` through `config`'s strategies; returns the summary.
pub fn run(config: &Config, opts: &Options) -> anyhow::Result<Summary> {
    run_timed(config, opts).map(|(s, _)| s)
}

/// `run`, with how long its parts took.
pub fn run_timed(config: &Config, opts: &Options) -> anyhow::Result<(Summary, Timing)> {
    let started = std::time::Instant::now();
    let bt = &config.raw.backtest;
    let files = data::expand(&opts.data)?;
    if files.is_empty() {
        bail!("no data: give --data with recordings or archive files");
    }
    if let Some(j) = &opts.journal
        && j.exists()
    {
        bail!(
            "{}: exists; a backtest writes a new journal (remove it or choose another path)",
            j.display()
        );
    }
    // Which coins each venue trades (from the config alone: the engine is not built yet).
    let coins: Vec<(String, Vec<String>)> = crate::record::venue_headers(config)?
        .into_iter()
        .map(|(h, c)| (h.name, c))
        .collect();
    let wanted = |coin: &str| coins.iter().any(|(_, c)| c.iter().any(|x| x == coin));
    let mut readers = Vec::new();
    let mut heap = BinaryHeap::new();
    let mut total_bytes = 0u64;
    let mut file_lines = Vec::new();
    let (from, to) = opts.window.unwrap_or((0, u64::MAX));
    for (i, a) in files.iter().enumerate() {
        let mut r = Reader::open(a, bt.on_bad_line)?;
        total_bytes += r.size;
        let mut more = r.advance(&wanted)?;
        while more && r.t_ns < from {
            more = r.advance(&wanted)?;
        }
        if more && r.t_ns < to {
            heap.push(Reverse((r.t_ns, i)));
        }
        file_lines.push(0u64);
        readers.push(r);
    }
    let Some(Reverse((first_ns, _))) = heap.peek().copied() else {
        if opts.window.is_some() {
            bail!("the data files hold no records in this window");
        }
        bail!("the data files hold no records");
    };
    let headers: Vec<format::Header> = readers.iter().filter_map(|r| r.header.clone()).collect();
    let recorded_rtts = match bt.latency {
        config::LatencyMode::Constant => Vec::new(),
        _ => latency::round_trips(
            &files
                .iter()
                .zip(&readers)
                .filter(|(_, r)| r.kind == Kind::Recording)
                .map(|(a, _)| a.clone())
                .collect::<Vec<_>>(),
        )?,
    };
    // The run's cloid prefix is the data's first millisecond, as live uses its start time.
    let first_ms = first_ns / 1_000_000;
    let built = crate::runtime::startup::build(config, first_ms.max(1))?;
    let registry = built.registry.clone();
    let mut engine = built.engine;
    let journal = match &opts.journal {
        Some(path) => {
            let journal = Journal::open(path)?;
            // A backtest's journal is reproducible from its inputs: no fsync per commit.
            journal.conn().pragma_update(None, "synchronous", "OFF")?;
            let run = journal.start_run_at(
                &config.path.display().to_string(),
                &crate::runtime::journaling::fingerprint(config.text.as_bytes()),
                &crate::runtime::journaling::run_plugins(config, &engine),
                first_ms,
            )?;
            journal.record_cloid_prefix(run, first_ms.max(1))?;
            journal
                .conn()
                .execute("UPDATE runs SET mode = 'backtest' WHERE id = ?1", [run])?;
            engine.set_known_cloid_prefixes(journal.cloid_prefixes()?);
            Some(BacktestJournal {
                journal,
                run,
                pending: Vec::new(),
            })
        }
        None => None,
    };
    let rules = market_rules(config, &registry, &headers)?;
    let latency = exec::Latency::new(bt, recorded_rtts);
    let n = registry.market_count();
    let mut venues = Vec::new();
    for v in 0..registry.venue_count() {
        let id = VenueId(v as u16);
        let name = registry.venue_name(id).to_string();
        let list: Vec<(MarketId, String)> = registry
            .markets_of(id)
            .map(|m| (m, registry.key(m).coin.clone()))
            .collect();
        venues.push(VenueState {
            // A window starts ready at its first record (its session line may be before it);
            // the recording's later session lines still take the venue down and up.
            recorded_sessions: opts.window.is_none()
                && headers
                    .iter()
                    .any(|h| h.venues.iter().any(|x| x.name == name)),
            name,
            markets: Markets::new(list, &AssetTable::default()),
            ready: false,
            last_data: 0,
        });
    }
    let mut replay = Replay {
        exec: exec::Execution::new(rules, bt, latency, built.latch.clone()),
        engine,
        reporter: Reporter::default(),
        journal,
        bbo_seen: vec![false; n],
        seen_data: vec![false; n],
        cfg: bt,
        batch_events: Vec::new(),
        notes: Vec::new(),
        last_venue: 0,
        venues,
    };
    replay.reporter.summary.first_ns = first_ns;
    replay.reporter.summary.latency = report::LatencyReport {
        mode: format!("{:?}", replay.exec.latency.mode()).to_lowercase(),
        recorded_round_trips: replay.exec.latency.recorded().len() as u64,
        recorded_median_us: {
            let mut r = replay.exec.latency.recorded().to_vec();
            r.sort_unstable();
            r.get(r.len() / 2).copied().unwrap_or(0) / 1_000
        },
    };
    for v in 0..replay.venues.len() {
        if !replay.venues[v].recorded_sessions {
            replay.venues[v].ready = true;
            replay.connect(VenueId(v as u16), first_ns)?;
        }
    }
    let timer_ns = config.raw.engine.timer_interval_ms * 1_000_000;
    let mut next_timer = first_ns + timer_ns;
    let mut progress = Progress::new(opts.progress, total_bytes);
    let mut last_t = first_ns;
    let loop_started = std::time::Instant::now();
    loop {
        let t_data = heap.peek().map(|Reverse((t, _))| *t);
        let t_exec = replay.exec.next_due();
        // Timers run while there is data: the replay ends with it.
        let t_timer = t_data.map(|_| next_timer);
        let next = [t_data, t_exec, t_timer].into_iter().flatten().min();
        let Some(t) = next else { break };
        replay.funding_until(t);
        last_t = last_t.max(t);
        if t_exec == Some(t) {
            let mut evs = std::mem::take(&mut replay.batch_events);
            let at = replay.exec.run_due(&mut evs);
            for ev in evs.drain(..) {
                replay.handle(ev, at)?;
            }
            replay.batch_events = evs;
            continue;
        }
        if t_data == Some(t) {
            let Reverse((t, i)) = heap.pop().expect("peeked");
            let r = &mut readers[i];
            file_lines[i] += 1;
            replay.reporter.summary.records += 1;
            replay_line(&mut replay, r, &files[i], t)?;
            if r.advance(&wanted)? && r.t_ns < to {
                heap.push(Reverse((r.t_ns, i)));
            }
            progress.tick(readers.iter().map(|r| r.bytes_read.get()).sum());
            continue;
        }
        // The timer.
        replay.handle(Event::Timer, t)?;
        let (exec, reporter, engine) = (&replay.exec, &mut replay.reporter, &replay.engine);
        reporter.mark(&|m| exec.mid(m), engine);
        next_timer += timer_ns;
    }
    progress.done();
    let timing = Timing {
        startup: loop_started - started,
        replay: loop_started.elapsed(),
    };
    let Replay {
        engine,
        exec,
        mut reporter,
        journal,
        seen_data,
        ..
    } = replay;
    reporter.finish(&engine, &|m| exec.mid(m));
    let s = &mut reporter.summary;
    s.last_ns = last_t;
    s.execution = exec.stats.clone();
    for (m, key) in registry.markets() {
        if !seen_data[m.index()] {
            s.data.markets_without_data.push(key.to_string());
        }
    }
    for ((r, a), lines) in readers.iter().zip(&files).zip(&file_lines) {
        s.data.files.push(report::FileReport {
            path: a.path.display().to_string(),
            kind: r.kind,
            lines: *lines,
        });
        for (k, v) in &r.skipped {
            *s.data.skipped_lines.entry(k.clone()).or_default() += v;
        }
    }
    if let Some(mut j) = journal {
        let end_ms = (last_t / 1_000_000) as i64;
        j.push(
            crate::runtime::journaling::histogram_record("order_round_trip", &exec.rtt),
            end_ms,
        )?;
        j.commit()?;
        j.journal.conn().execute(
            "UPDATE runs SET ended_ms = ?1 WHERE id = ?2",
            rusqlite::params![(last_t / 1_000_000) as i64, j.run],
        )?;
        let path = j.journal.path().to_path_buf();
        drop(j);
        tracing::info!(path = %path.display(), "backtest journal written");
    }
    Ok((reporter.summary, timing))
}

/// The first and last record times (ns) of the data, for the configured coins (a read of it
/// all, parsing timestamps only where the format allows).
pub fn span(config: &Config, data: &[DataArg]) -> anyhow::Result<(u64, u64)> {
    let files = data::expand(data)?;
    let coins: Vec<String> = crate::record::venue_headers(config)?
        .into_iter()
        .flat_map(|(_, c)| c)
        .collect();
    let wanted = |coin: &str| coins.iter().any(|c| c == coin);
    let (mut first, mut last) = (u64::MAX, 0u64);
    for a in &files {
        let mut r = Reader::open(a, config.raw.backtest.on_bad_line)?;
        while r.advance(&wanted)? {
            first = first.min(r.t_ns);
            last = last.max(r.t_ns);
        }
    }
    if last == 0 {
        bail!("the data files hold no records");
    }
    Ok((first, last))
}

/// A progress bar on stderr (only when it is a terminal): share of the input read, rate, ETA.
struct Progress {
    on: bool,
    total: u64,
    started: std::time::Instant,
    last: std::time::Instant,
    calls: u64,
}

impl Progress {
    fn new(asked: bool, total: u64) -> Progress {
        use std::io::IsTerminal;
        Progress {
            on: asked && std::io::stderr().is_terminal() && total > 0,
            total,
            started: std::time::Instant::now(),
            last: std::time::Instant::now(),
            calls: 0,
        }
    }

    fn tick(&mut self, read: u64) {
        if !self.on {
            return;
        }
        self.calls += 1;
        if self.calls % 4096 != 0 || self.last.elapsed().as_millis() < 200 {
            return;
        }
        self.last = std::time::Instant::now();
        let frac = (read as f64 / self.total as f64).min(1.0);
        let el = self.started.elapsed().as_secs_f64();
        let eta = if frac > 0.0 { el / frac - el } else { 0.0 };
        let w = 30;
        let done = (frac * w as f64) as usize;
        eprint!(
            "\r[{}{}] {:>5.1}%  {:.0} s elapsed, ETA {:.0} s   ",
            "#".repeat(done),
            " ".repeat(w - done),
            frac * 100.0,
            el,
            eta
        );
    }

    fn done(&self) {
        if self.on {
            eprintln!(
                "\r[{}] 100.0%  {:.1} s{}",
                "#".repeat(30),
                self.started.elapsed().as_secs_f64(),
                " ".repeat(20)
            );
        }
    }
}
