//! The replay loop's state and steps: one data line, one frame, one engine event at a time
//! (`run_timed` in the module above drives it).

use super::config::{self, OnBad};
use super::data::{self, DataArg, Kind, Reader};
use super::exec;
use super::report::{Gap, Reporter};
use crate::engine::Engine;
use crate::engine::events::{ConnectionState, Event, VenueOpenOrder, VenuePosition};
use crate::engine::types::{MarketId, VenueId};
use crate::journal::Journal;
use crate::record::format::Dir;
use crate::venue::hyperliquid::decode;
use crate::venue::hyperliquid::markets::Markets;
use crate::venue::hyperliquid::wire::WsMessage;
use anyhow::{Context, bail};

/// Per venue: its coins and session state.
pub(super) struct VenueState {
    pub(super) name: String,
    pub(super) markets: Markets,
    /// Follows a recording's session lines (otherwise ready from the start).
    pub(super) recorded_sessions: bool,
    pub(super) ready: bool,
    /// Last market-data time, for gaps (0: none yet).
    pub(super) last_data: u64,
}

/// The journal of a backtest: the live rows, written on this thread in fixed-size
/// transactions (the same data gives the same file).
pub(super) struct BacktestJournal {
    pub(super) journal: Journal,
    pub(super) run: i64,
    pub(super) pending: Vec<(crate::journal::writer::Record, i64)>,
}

impl BacktestJournal {
    const BATCH: usize = 8_192;

    pub(super) fn push(
        &mut self,
        r: crate::journal::writer::Record,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        self.pending.push((r, now_ms));
        if self.pending.len() >= Self::BATCH {
            self.commit()?;
        }
        Ok(())
    }

    pub(super) fn commit(&mut self) -> anyhow::Result<()> {
        let tx = self.journal.conn().unchecked_transaction()?;
        for (r, now) in self.pending.drain(..) {
            crate::journal::writer::write_record(&tx, self.run, r, now)?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Everything the loop mutates besides the engine.
pub(super) struct Replay<'a> {
    pub(super) engine: Engine,
    pub(super) exec: exec::Execution,
    pub(super) reporter: Reporter,
    pub(super) journal: Option<BacktestJournal>,
    pub(super) venues: Vec<VenueState>,
    /// Whether a market's data has bbo frames (then its l2Book frames feed execution only, as
    /// live trades on the bbo channel).
    pub(super) bbo_seen: Vec<bool>,
    pub(super) seen_data: Vec<bool>,
    pub(super) cfg: &'a config::BacktestConfig,
    pub(super) batch_events: Vec<Event>,
    /// The engine's notes, taken after each event (reused: no allocation per event).
    pub(super) notes: Vec<crate::engine::events::EngineNote>,
    pub(super) last_venue: usize,
}

impl Replay<'_> {
    /// Hands one event to the engine at `t`, then sends its batches to execution and its notes
    /// to the summary and the journal.
    pub(super) fn handle(&mut self, ev: Event, t: u64) -> anyhow::Result<()> {
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

    /// Hourly funding, at each hour boundary passed (execution pays it; the summary counts it).
    pub(super) fn funding_until(&mut self, t: u64) {
        let reporter = &mut self.reporter;
        self.exec
            .funding_until(t, |m, paid| reporter.funding(m, paid));
    }

    pub(super) fn session(&mut self, v: usize, what: &str, t: u64) -> anyhow::Result<()> {
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
    pub(super) fn connect(&mut self, venue: VenueId, t: u64) -> anyhow::Result<()> {
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
    pub(super) fn venue_index(&mut self, name: &str) -> Option<usize> {
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

    pub(super) fn gap_check(&mut self, v: usize, t: u64, r: &Reader) -> anyhow::Result<()> {
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

    pub(super) fn unknown_coin(&mut self, r: &Reader, key: String) -> anyhow::Result<()> {
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
    pub(super) fn frame(
        &mut self,
        v: usize,
        text: &str,
        t: u64,
        r: &mut Reader,
    ) -> anyhow::Result<()> {
        match WsMessage::parse(text) {
            Ok(m) => self.message(v, m, t, r),
            Err(e) => Ok(r.bad_current(format!("corrupt frame: {e}"))?),
        }
    }

    /// A venue's market message (a recorded frame, or the archive's `raw`) at `t`.
    pub(super) fn message(
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
                    self.exec.on_ctx(*market, *oracle, *funding);
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
pub(super) fn archive_venue(
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

/// One data line at `t`.
pub(super) fn replay_line(
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
            replay.exec.on_ctx(market, oracle, funding);
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
