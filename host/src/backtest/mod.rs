//! `backtest`: recorded or archived market data replayed through the very engine, gates and
//! plugin `.so` files that trade live, with the data's time as the engine's clock, and execution
//! simulated by the simulator's matching rules ([`exec`]). One thread, no sockets, no tokio: a
//! loop that takes the earliest of the next data record, the next piece of simulated venue work,
//! and the next timer tick, and hands it to the engine.
//!
//! - [`data`]: the input files (recordings, the archive's l2Book and asset_ctxs), merged in time.
//! - [`exec`]: simulated execution (latency, matching, queue model, fees, funding).
//! - [`report`]: the summary (round trips, PnL, drawdown, exits, refusals, data problems).
//! - [`config`]: the `[backtest]` table.
//!
//! Start-up is `runtime::startup::build`, the live run's own (plugins, registry, latch); the
//! venue decoding is the live adapter's (`venue::hyperliquid::decode`); the journal rows are the
//! live journal's (`runtime::journaling::records` → `journal::writer::write_record`).

pub mod config;
pub mod data;
pub mod exec;
pub mod report;

use crate::config::Config;
use crate::engine::Engine;
use crate::engine::events::{ConnectionState, Event, VenueOpenOrder, VenuePosition};
use crate::engine::types::{MarketId, VenueId};
use crate::journal::Journal;
use crate::record::format::{self, Dir};
use crate::venue::hyperliquid::decode;
use crate::venue::hyperliquid::info::AssetTable;
use crate::venue::hyperliquid::markets::Markets;
use crate::venue::hyperliquid::wire::WsMessage;
use anyhow::{Context, bail};
use config::OnBad;
use data::{DataArg, Kind, Reader};
use report::{Gap, Reporter, Summary};
use rust_decimal::Decimal;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::PathBuf;

const HOUR_NS: u64 = 3_600_000_000_000;

/// What `backtest` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub data: Vec<DataArg>,
    /// Write the journal (the live schema) here; must not exist.
    pub journal: Option<PathBuf>,
    /// Show a progress bar (when stderr is a terminal).
    pub progress: bool,
}

/// Per venue: its coins and session state.
struct VenueState {
    name: String,
    markets: Markets,
    /// Follows a recording's session lines (otherwise ready from the start).
    recorded_sessions: bool,
    ready: bool,
    /// Last market-data time, for gaps (0: none yet).
    last_data: u64,
}

/// The journal of a backtest: the live rows, written on this thread in fixed-size
/// transactions (the same data gives the same file).
struct BacktestJournal {
    journal: Journal,
    run: i64,
    pending: Vec<(crate::journal::writer::Record, i64)>,
}

impl BacktestJournal {
    const BATCH: usize = 8_192;

    fn push(&mut self, r: crate::journal::writer::Record, now_ms: i64) -> anyhow::Result<()> {
        self.pending.push((r, now_ms));
        if self.pending.len() >= Self::BATCH {
            self.commit()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        let tx = self.journal.conn().unchecked_transaction()?;
        for (r, now) in self.pending.drain(..) {
            crate::journal::writer::write_record(&tx, self.run, r, now)?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Everything the loop mutates besides the engine.
struct Replay<'a> {
    engine: Engine,
    exec: exec::Execution,
    reporter: Reporter,
    journal: Option<BacktestJournal>,
    venues: Vec<VenueState>,
    /// Whether a market's data has bbo frames (then its l2Book frames feed execution only, as
    /// live trades on the bbo channel).
    bbo_seen: Vec<bool>,
    /// Latest (oracle, funding rate) per market, for hourly funding.
    ctx: Vec<Option<(Decimal, Decimal)>>,
    seen_data: Vec<bool>,
    cfg: &'a config::BacktestConfig,
    now: u64,
    batch_events: Vec<Event>,
    /// The engine's notes, taken after each event (reused: no allocation per event).
    notes: Vec<crate::engine::events::EngineNote>,
    last_venue: usize,
}

impl Replay<'_> {
    /// Hands one event to the engine at `t`, then sends its batches to execution and its notes
    /// to the summary and the journal.
    fn handle(&mut self, ev: Event, t: u64) -> anyhow::Result<()> {
        self.now = t;
        self.reporter.summary.events += 1;
        self.engine.handle(ev, t);
        while let Some(b) = self.engine.next_batch(t) {
            self.exec.submit(b, t);
        }
        let mut notes = std::mem::take(&mut self.notes);
        notes.extend(self.engine.drain_notes());
        for n in notes.drain(..) {
            let n = &n;
            self.reporter.note(&self.engine, n);
            if let Some(j) = &mut self.journal {
                for r in crate::runtime::journaling::records(&self.engine, n) {
                    j.push(r, (t / 1_000_000) as i64)?;
                }
            }
        }
        self.notes = notes;
        Ok(())
    }

    /// Hourly funding, at each hour boundary passed.
    fn funding_until(&mut self, t: u64, next_hour: &mut u64) {
        while t >= *next_hour {
            for m in 0..self.ctx.len() {
                if let Some((oracle, rate)) = self.ctx[m] {
                    let market = MarketId(m as u32);
                    let before = self.exec.funding[m];
                    self.exec.pay_funding(market, oracle, rate);
                    let paid = self.exec.funding[m] - before;
                    if !paid.is_zero() {
                        self.reporter.funding(market, paid);
                    }
                }
            }
            *next_hour += HOUR_NS;
        }
    }

    fn session(&mut self, v: usize, what: &str, t: u64) -> anyhow::Result<()> {
        let venue = VenueId(v as u16);
        match what {
            "ready" if !self.venues[v].ready => {
                self.venues[v].ready = true;
                self.connect(venue, t)?;
            }
            "down" if self.venues[v].ready => {
                self.venues[v].ready = false;
                self.handle(
                    Event::Connection {
                        venue,
                        state: ConnectionState::Disconnected,
                    },
                    t,
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A venue's session starts: the venue's own account state (execution's), then Ready.
    fn connect(&mut self, venue: VenueId, t: u64) -> anyhow::Result<()> {
        self.handle(
            Event::Connection {
                venue,
                state: ConnectionState::Connected,
            },
            t,
        )?;
        let markets: Vec<MarketId> = self.engine.registry().markets_of(venue).collect();
        let positions = markets
            .iter()
            .filter(|m| !self.exec.position(**m).is_zero())
            .map(|m| VenuePosition {
                market: *m,
                size: self.exec.position(*m),
                entry_px: self.engine.position(*m).avg_entry,
            })
            .collect();
        let open_orders: Vec<VenueOpenOrder> = self.exec.open_orders(venue);
        self.handle(
            Event::Reconciled {
                venue,
                as_of_ms: (t / 1_000_000).max(1),
                positions,
                open_orders,
            },
            t,
        )?;
        self.handle(
            Event::Connection {
                venue,
                state: ConnectionState::Ready,
            },
            t,
        )
    }

    /// The venue a recording line names (the last one found is tried first: no string compare
    /// against every venue per line).
    fn venue_index(&mut self, name: &str) -> Option<usize> {
        if self
            .venues
            .get(self.last_venue)
            .is_some_and(|v| v.name == name)
        {
            return Some(self.last_venue);
        }
        let i = self.venues.iter().position(|v| v.name == name)?;
        self.last_venue = i;
        Some(i)
    }

    fn gap_check(&mut self, v: usize, t: u64, r: &Reader) -> anyhow::Result<()> {
        let last = self.venues[v].last_data;
        self.venues[v].last_data = t;
        if last > 0 && t - last > self.cfg.max_gap_secs * 1_000_000_000 {
            if self.cfg.on_gap == OnBad::Error {
                bail!(
                    "{}:{}: venue `{}` has no market data for {:.1} s (max_gap_secs = {}; set [backtest] on_gap = \"skip\" to count gaps instead)",
                    r.path.display(),
                    r.line_no,
                    self.venues[v].name,
                    (t - last) as f64 / 1e9,
                    self.cfg.max_gap_secs
                );
            }
            self.reporter.summary.data.gaps.push(Gap {
                venue: self.venues[v].name.clone(),
                from_ns: last,
                to_ns: t,
            });
        }
        Ok(())
    }

    fn unknown_coin(&mut self, r: &Reader, key: String) -> anyhow::Result<()> {
        if self.cfg.on_unknown_coin == OnBad::Error {
            bail!(
                "{}:{}: `{key}` is not a market of this config (set [backtest] on_unknown_coin = \"skip\" to count such records instead)",
                r.path.display(),
                r.line_no
            );
        }
        *self
            .reporter
            .summary
            .data
            .unknown_coins
            .entry(key)
            .or_default() += 1;
        Ok(())
    }

    /// A venue's recorded frame at `t`.
    fn frame(&mut self, v: usize, text: &str, t: u64, r: &mut Reader) -> anyhow::Result<()> {
        match WsMessage::parse(text) {
            Ok(m) => self.message(v, m, t, r),
            Err(e) => Ok(r.bad_current(format!("corrupt frame: {e}"))?),
        }
    }

    /// A venue's market message (a recorded frame, or the archive's `raw`) at `t`.
    fn message(
        &mut self,
        v: usize,
        msg: WsMessage<'_>,
        t: u64,
        r: &mut Reader,
    ) -> anyhow::Result<()> {
        let markets = &self.venues[v].markets;
        match msg {
            WsMessage::Bbo(b) => {
                let Some(ev) = decode::bbo(&b, markets) else {
                    let key = format!("{}/{}", self.venues[v].name, b.coin);
                    return self.unknown_coin(r, key);
                };
                let Event::Bbo { market, bid, ask } = &ev else {
                    unreachable!("decode::bbo makes a Bbo")
                };
                let m = *market;
                let bids = bid.map(|l| (l.px, l.sz));
                let asks = ask.map(|l| (l.px, l.sz));
                self.bbo_seen[m.index()] = true;
                self.seen_data[m.index()] = true;
                self.gap_check(v, t, r)?;
                self.exec
                    .on_book(m, bids.as_slice(), asks.as_slice(), false, t);
                self.handle(ev, t)
            }
            WsMessage::L2Book(b) => {
                let Some(m) = markets.by_coin(&b.coin) else {
                    let key = format!("{}/{}", self.venues[v].name, b.coin);
                    return self.unknown_coin(r, key);
                };
                let bids: Vec<_> = b.levels[0].iter().map(|l| (l.px, l.sz)).collect();
                let asks: Vec<_> = b.levels[1].iter().map(|l| (l.px, l.sz)).collect();
                self.seen_data[m.index()] = true;
                self.exec.on_book(m, &bids, &asks, true, t);
                if self.bbo_seen[m.index()] {
                    return Ok(());
                }
                let ev = decode::book(&b, markets);
                self.gap_check(v, t, r)?;
                match ev {
                    Some(ev) => self.handle(ev, t),
                    None => Ok(()),
                }
            }
            WsMessage::AssetCtx { ctx, .. } => {
                let Some(ev) = decode::asset_ctx(&ctx, markets) else {
                    let key = format!("{}/{}", self.venues[v].name, ctx.coin);
                    return self.unknown_coin(r, key);
                };
                if let Event::AssetCtx {
                    market,
                    oracle,
                    funding,
                    ..
                } = &ev
                {
                    self.ctx[market.index()] = Some((*oracle, *funding));
                    self.seen_data[market.index()] = true;
                }
                self.handle(ev, t)
            }
            _ => {
                self.reporter.summary.data.ignored_frames += 1;
                Ok(())
            }
        }
    }
}

/// Which configured venue an archive coin belongs to.
fn archive_venue(
    venues: &[VenueState],
    arg_venue: Option<&str>,
    coin: &str,
    r: &Reader,
) -> anyhow::Result<Option<usize>> {
    if let Some(name) = arg_venue {
        return match venues.iter().position(|v| v.name == name) {
            Some(i) => Ok(Some(i)),
            None => bail!(
                "{}: --data {name}=…: no venue `{name}` in the config",
                r.path.display()
            ),
        };
    }
    let with: Vec<usize> = (0..venues.len())
        .filter(|i| venues[*i].markets.by_coin(coin).is_some())
        .collect();
    match with.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => bail!(
            "{}:{}: coin `{coin}` is traded on {} venues ({}): say which with --data VENUE={}",
            r.path.display(),
            r.line_no,
            many.len(),
            many.iter()
                .map(|i| venues[*i].name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            r.path.display()
        ),
    }
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
        let hip3 = if key.coin.contains(':') {
            bt.hip3_fee_multiplier
        } else {
            Decimal::ONE
        };
        out.push(Some(exec::MarketRules {
            venue,
            spec: crate::venue::hyperliquid::tick::AssetSpec {
                asset: m.0,
                sz_decimals,
                is_spot: false,
            },
            taker_bps: given
                .and_then(|g| g.taker_fee_bps)
                .unwrap_or(bt.taker_fee_bps * hip3),
            maker_bps: given
                .and_then(|g| g.maker_fee_bps)
                .unwrap_or(bt.maker_fee_bps * hip3),
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
    for (i, a) in files.iter().enumerate() {
        let mut r = Reader::open(a, bt.on_bad_line)?;
        total_bytes += r.size;
        if r.advance(&wanted)? {
            heap.push(Reverse((r.t_ns, i)));
        }
        file_lines.push(0u64);
        readers.push(r);
    }
    let Some(Reverse((first_ns, _))) = heap.peek().copied() else {
        bail!("the data files hold no records");
    };
    let headers: Vec<format::Header> = readers.iter().filter_map(|r| r.header.clone()).collect();
    let recorded_rtts = match bt.latency {
        config::LatencyMode::Constant => Vec::new(),
        _ => data::round_trips(
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
            recorded_sessions: headers
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
        ctx: vec![None; n],
        seen_data: vec![false; n],
        cfg: bt,
        now: first_ns,
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
    let mut next_hour = (first_ns / HOUR_NS + 1) * HOUR_NS;
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
        replay.funding_until(t, &mut next_hour);
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
            if r.advance(&wanted)? {
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

/// One data line at `t`.
fn replay_line(
    replay: &mut Replay<'_>,
    r: &mut Reader,
    arg: &DataArg,
    t: u64,
) -> anyhow::Result<()> {
    match r.kind {
        Kind::Recording => {
            let line = std::mem::take(&mut r.line);
            let spans = r.take_recording_spans();
            let l = spans
                .and_then(|s| s.line(&line, t))
                .expect("advance read this recording line");
            let out = (|| -> anyhow::Result<()> {
                let v = match replay.venue_index(l.venue) {
                    Some(v) => v,
                    None => return replay.unknown_coin(r, format!("{}/*", l.venue)),
                };
                match l.dir {
                    Dir::Out => Ok(()),
                    Dir::Session => {
                        let what: String = serde_json::from_str(l.payload).unwrap_or_default();
                        replay.session(v, &what, t)
                    }
                    Dir::In if l.unreadable => {
                        // Not JSON when it came: what live's decoder made of it (the venue's
                        // plain-text greeting is known; anything else was unreadable there too).
                        let text: String = serde_json::from_str(l.payload).unwrap_or_default();
                        match WsMessage::parse(&text) {
                            Ok(_) => replay.reporter.summary.data.ignored_frames += 1,
                            Err(_) => replay.reporter.summary.data.unreadable_frames += 1,
                        }
                        Ok(())
                    }
                    // Live hands market frames to the engine before its session is ready too
                    // (its gates refuse entries until then).
                    Dir::In => replay.frame(v, l.payload, t, r),
                }
            })();
            r.line = line;
            out
        }
        Kind::ArchiveBook => {
            let line = std::mem::take(&mut r.line);
            let out = (|| -> anyhow::Result<()> {
                let raw = match data::archive_raw(&line) {
                    Ok(x) => x,
                    Err(e) => return Ok(r.bad_current(format!("corrupt line: {e}"))?),
                };
                let coin = match WsMessage::parse(raw) {
                    Ok(WsMessage::L2Book(b)) => b.coin.to_string(),
                    Ok(_) => {
                        return Ok(
                            r.bad_current("corrupt line: `raw` is not an l2Book message".into())?
                        );
                    }
                    Err(e) => return Ok(r.bad_current(format!("corrupt line: {e}"))?),
                };
                match archive_venue(&replay.venues, arg.venue.as_deref(), &coin, r)? {
                    Some(v) => replay.frame(v, raw, t, r),
                    None => replay.unknown_coin(r, coin),
                }
            })();
            r.line = line;
            out
        }
        Kind::AssetCtxs => {
            let row = match r.csv_row() {
                Ok(x) => x,
                Err(e) => return Ok(r.bad_current(format!("corrupt line: {e}"))?),
            };
            let (coin, oracle, mark, mid, funding) = (
                row.coin.to_string(),
                row.oracle,
                row.mark,
                row.mid,
                row.funding,
            );
            let Some(v) = archive_venue(&replay.venues, arg.venue.as_deref(), &coin, r)? else {
                return replay.unknown_coin(r, coin);
            };
            let market = replay.venues[v]
                .markets
                .by_coin(&coin)
                .context("coin of the venue")?;
            replay.ctx[market.index()] = Some((oracle, funding));
            replay.seen_data[market.index()] = true;
            replay.handle(
                Event::AssetCtx {
                    market,
                    oracle,
                    mark,
                    mid,
                    funding,
                },
                t,
            )
        }
    }
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
