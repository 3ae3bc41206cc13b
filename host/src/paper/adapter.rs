//! The paper venue adapter: Hyperliquid's public market channels in, simulated execution out.
//!
//! Each session: subscribe to `bbo`, `l2Book` and `activeAssetCtx` of every coin (public: no
//! user channel, no key) → once each is acknowledged, the local account as `Reconciled`, then
//! `Ready`. While live: `bbo` and `activeAssetCtx` become engine events as the live adapter makes
//! them (`decode`); every book (bbo and l2Book) also goes to execution, where resting orders
//! fill as it moves; batches go to execution (`Execution::submit`: the HardStop guard, the
//! writer's rounding, the venue's checks and matching) and its answers come back after the
//! `[backtest]` latency, checked on every frame and every 5 ms tick. Funding is paid on the hour
//! from the latest asset context. Reconciles are local: every answer in flight is delivered, then
//! the account is stated as `LiveReconciled`. A disconnect delivers what is in flight too (the
//! account is local and never lost), then `Disconnected`.

use super::{PaperAccount, PaperPosition};
use crate::backtest::config::{BacktestConfig, LatencyMode};
use crate::backtest::exec::{Execution, Latency, MarketRules};
use crate::engine::events::{ConnectionState, Event, VenuePosition};
use crate::engine::hardstop::HardStopLatch;
use crate::engine::scheduler::ActionBatch;
use crate::engine::types::{MarketId, VenueId};
use crate::venue::hyperliquid::decode;
use crate::venue::hyperliquid::info::AssetTable;
use crate::venue::hyperliquid::markets::Markets;
use crate::venue::hyperliquid::wire::WsMessage;
use crate::venue::hyperliquid::writer;
use crate::venue::liveness::{Liveness, Timeouts};
use crate::venue::{AdapterStats, HttpQuery, Now, Outbox, SessionPolicy, VenueAdapter};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The live adapter's keep-alive timeouts (`HlClientConfig`'s defaults).
const TIMEOUTS: Timeouts = Timeouts {
    sync: Duration::from_secs(15),
    idle: Duration::from_secs(60),
    ping_every: Duration::from_secs(20),
    pong: Duration::from_secs(10),
};
/// How often answers due are looked for between frames: the resolution of the latency model.
pub const TICK: Duration = Duration::from_millis(5);

/// Where a paper venue's account goes after it changed (the runtime journals it).
pub type Save = Box<dyn FnMut(&PaperAccount)>;

/// What a paper adapter is made from.
pub struct PaperSetup {
    pub venue: VenueId,
    pub name: String,
    pub ws_url: String,
    /// The venue's markets (market, coin) and their specs (the venue's `meta`).
    pub markets: Vec<(MarketId, String)>,
    pub assets: AssetTable,
    /// Markets in the whole registry (execution is indexed by `MarketId`).
    pub market_count: usize,
    pub backtest: BacktestConfig,
    pub latch: Arc<HardStopLatch>,
    /// The account to resume (the journal's), or a new one.
    pub account: PaperAccount,
    pub save: Save,
}

pub struct PaperAdapter {
    venue: VenueId,
    policy: SessionPolicy,
    markets: Markets,
    exec: Execution,
    /// The account as this run began (totals of earlier runs).
    carried: PaperAccount,
    /// The clock: (monotonic, wall ns) at the start; execution's times are wall ns from it.
    anchor: (Instant, u64),
    live: Option<Liveness>,
    acks_due: usize,
    synced: bool,
    /// The account changed since it was last saved.
    dirty: bool,
    fills_seen: u64,
    save: Save,
    stats: AdapterStats,
    scratch: Vec<Event>,
}

impl PaperAdapter {
    pub fn new(s: PaperSetup) -> anyhow::Result<PaperAdapter> {
        let markets = Markets::new(s.markets.clone(), &s.assets);
        let mut rules = vec![None; s.market_count];
        let bt = &s.backtest;
        for (m, coin) in &s.markets {
            let spec = markets
                .spec(*m)
                .ok_or_else(|| anyhow::anyhow!("venue `{}`: no spec for coin `{coin}`", s.name))?;
            let (taker_bps, maker_bps) = bt.fees_bps(&format!("{}/{coin}", s.name));
            rules[m.index()] = Some(MarketRules {
                venue: s.venue,
                spec,
                taker_bps,
                maker_bps,
            });
        }
        // A paper run has no recorded round trips: the constant latency.
        let mut cfg = bt.clone();
        cfg.latency = LatencyMode::Constant;
        let latency = Latency::new(&cfg, Vec::new());
        let mut exec = Execution::new(rules, &cfg, latency, s.latch);
        for p in &s.account.positions {
            let m = markets.by_coin(&p.coin).ok_or_else(|| {
                anyhow::anyhow!(
                    "venue `{}`: the journal's paper account holds {} {}, which this config does not trade; trade it again or start with `run --fresh`",
                    s.name,
                    p.size,
                    p.coin
                )
            })?;
            exec.restore(m, p.size, p.entry_px);
        }
        let wall_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        // Ids from the clock (in µs) or the account's, whichever is later: never repeated.
        exec.continue_ids_from(s.account.next_id.max(wall_ns / 1_000));
        exec.funding_from(wall_ns);
        let policy = SessionPolicy {
            ws_url: s.ws_url,
            connect_timeout: TIMEOUTS.sync,
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            tick_every: TICK,
            info_url: None,
            verify_every: None,
            reconcile_min_interval: Duration::ZERO,
        };
        Ok(PaperAdapter {
            venue: s.venue,
            policy,
            markets,
            exec,
            carried: s.account,
            anchor: (Instant::now(), wall_ns),
            live: None,
            acks_due: 0,
            synced: false,
            dirty: false,
            fills_seen: 0,
            save: s.save,
            stats: AdapterStats::default(),
            scratch: Vec::new(),
        })
    }

    /// Execution's time (wall ns) at `now`.
    fn t(&self, now: Now) -> u64 {
        self.anchor.1 + now.mono.saturating_duration_since(self.anchor.0).as_nanos() as u64
    }

    /// The account now.
    pub fn account(&self) -> PaperAccount {
        let mut a = self.carried.clone();
        a.positions.clear();
        for (m, coin) in &self.markets.list {
            let size = self.exec.position(*m);
            let acct = self.exec.accounts[m.index()];
            a.realized_pnl += acct.realized_pnl;
            a.fees += acct.fees;
            a.funding += self.exec.funding[m.index()];
            if !size.is_zero() {
                a.positions.push(PaperPosition {
                    coin: coin.clone(),
                    size,
                    entry_px: acct.entry_px,
                });
            }
        }
        a.fills += self.fills();
        a.next_id = self.exec.next_id();
        a.updated_ms = self.anchor.1 / 1_000_000 + self.anchor.0.elapsed().as_millis() as u64;
        a
    }

    fn fills(&self) -> u64 {
        self.exec.stats.taker_fills + self.exec.stats.maker_fills
    }

    fn save_if_changed(&mut self) {
        if self.dirty || self.fills() != self.fills_seen {
            self.fills_seen = self.fills();
            self.dirty = false;
            let a = self.account();
            (self.save)(&a);
        }
    }

    /// Answers due by `t` go to the engine.
    fn run_due(&mut self, t: u64, out: &mut Outbox) {
        while self.exec.next_due().is_some_and(|d| d <= t) {
            let mut evs = std::mem::take(&mut self.scratch);
            self.exec.run_due(&mut evs);
            out.events.append(&mut evs);
            self.scratch = evs;
        }
    }

    /// The account's positions and orders, everything in flight delivered first.
    fn state(
        &mut self,
        out: &mut Outbox,
    ) -> (
        Vec<VenuePosition>,
        Vec<crate::engine::events::VenueOpenOrder>,
    ) {
        self.exec.flush(&mut out.events);
        let positions = self
            .markets
            .list
            .iter()
            .filter(|(m, _)| !self.exec.position(*m).is_zero())
            .map(|(m, _)| VenuePosition {
                market: *m,
                size: self.exec.position(*m),
                entry_px: self.exec.accounts[m.index()].entry_px,
            })
            .collect();
        (positions, self.exec.open_orders(self.venue))
    }

    fn funding(&mut self, t: u64) {
        let dirty = &mut self.dirty;
        self.exec.funding_until(t, |_, _| *dirty = true);
    }

    fn subscriptions(&self) -> Vec<String> {
        let mut subs = Vec::new();
        for (_, coin) in &self.markets.list {
            for kind in ["bbo", "l2Book", "activeAssetCtx"] {
                subs.push(
                    serde_json::json!({"method":"subscribe","subscription":{"type":kind,"coin":coin}})
                        .to_string(),
                );
            }
        }
        subs
    }
}

impl VenueAdapter for PaperAdapter {
    fn venue(&self) -> VenueId {
        self.venue
    }

    fn policy(&self) -> &SessionPolicy {
        &self.policy
    }

    fn stats(&self) -> &AdapterStats {
        &self.stats
    }

    fn on_connect(&mut self, now: Now, out: &mut Outbox) {
        self.stats.sessions += 1;
        out.events.push(Event::Connection {
            venue: self.venue,
            state: ConnectionState::Connected,
        });
        let subs = self.subscriptions();
        self.acks_due = subs.len();
        self.synced = false;
        out.frames.extend(subs);
        self.live = Some(Liveness::new(now.mono, &TIMEOUTS));
    }

    fn on_frame(&mut self, text: &str, now: Now, out: &mut Outbox) {
        self.stats.frames += 1;
        self.on_alive(now);
        let t = self.t(now);
        let msg = match WsMessage::parse(text) {
            Ok(m) => m,
            Err(e) => {
                self.stats.unreadable_frames += 1;
                let n = self.stats.unreadable_frames;
                if crate::venue::log_nth(n) {
                    tracing::warn!(venue = %crate::logging::venue(self.venue), count = n, "{e}");
                }
                return;
            }
        };
        match msg {
            WsMessage::Bbo(b) => {
                if let Some(ev) = decode::bbo(&b, &self.markets) {
                    if let Event::Bbo { market, bid, ask } = &ev {
                        let bids = bid.map(|l| (l.px, l.sz));
                        let asks = ask.map(|l| (l.px, l.sz));
                        self.exec
                            .on_book(*market, bids.as_slice(), asks.as_slice(), false, t);
                    }
                    out.events.push(ev);
                }
            }
            WsMessage::L2Book(b) => {
                if let Some(m) = self.markets.by_coin(&b.coin) {
                    let bids: Vec<_> = b.levels[0].iter().map(|l| (l.px, l.sz)).collect();
                    let asks: Vec<_> = b.levels[1].iter().map(|l| (l.px, l.sz)).collect();
                    self.exec.on_book(m, &bids, &asks, true, t);
                }
            }
            WsMessage::AssetCtx { ctx, .. } => {
                if let Some(ev) = decode::asset_ctx(&ctx, &self.markets) {
                    if let Event::AssetCtx {
                        market,
                        oracle,
                        funding,
                        ..
                    } = &ev
                    {
                        self.exec.on_ctx(*market, *oracle, *funding);
                    }
                    out.events.push(ev);
                }
            }
            WsMessage::SubscriptionResponse => {
                self.acks_due = self.acks_due.saturating_sub(1);
                if self.acks_due == 0 && !self.synced {
                    let (positions, open_orders) = self.state(out);
                    out.events.push(Event::Reconciled {
                        venue: self.venue,
                        as_of_ms: (t / 1_000_000).max(1),
                        positions,
                        open_orders,
                    });
                    out.events.push(Event::Connection {
                        venue: self.venue,
                        state: ConnectionState::Ready,
                    });
                    self.synced = true;
                }
            }
            WsMessage::Pong => {
                if let Some(l) = &mut self.live {
                    l.pong();
                }
            }
            WsMessage::Error(e) => {
                self.stats.venue_errors += 1;
                let n = self.stats.venue_errors;
                if crate::venue::log_nth(n) {
                    tracing::warn!(venue = %crate::logging::venue(self.venue), count = n, "venue error: {}", crate::logging::cut(&e));
                }
            }
            WsMessage::Connected => {}
            // Nothing here subscribes to user channels or posts: anything else is unexpected.
            _ => self.stats.unknown_channels += 1,
        }
        self.run_due(t, out);
    }

    fn on_alive(&mut self, now: Now) {
        if let Some(l) = &mut self.live {
            l.alive(now.mono);
        }
    }

    fn on_tick(&mut self, now: Now, out: &mut Outbox) {
        let t = self.t(now);
        self.funding(t);
        self.run_due(t, out);
        self.save_if_changed();
        let Some(l) = &mut self.live else {
            return;
        };
        match l.tick(now.mono, self.synced, &TIMEOUTS) {
            Err(end) => out.end(end),
            Ok(true) => out.frames.push(r#"{"method":"ping"}"#.to_string()),
            Ok(false) => {}
        }
    }

    fn can_write(&self) -> bool {
        self.live.is_some() && self.synced
    }

    fn write(&mut self, batch: ActionBatch, now: Now, out: &mut Outbox) {
        let t = self.t(now);
        self.stats.posts += 1;
        self.exec.submit(batch, t);
        self.run_due(t, out);
    }

    fn refuse(&mut self, batch: ActionBatch, out: &mut Outbox) {
        writer::refuse_unsent(batch, &mut out.events);
    }

    fn on_disconnect(&mut self, out: &mut Outbox) {
        self.live = None;
        self.synced = false;
        self.exec.flush(&mut out.events);
        self.save_if_changed();
        out.events.push(Event::Connection {
            venue: self.venue,
            state: ConnectionState::Disconnected,
        });
    }

    fn on_shutdown(&mut self, _now: Now, _out: &mut Outbox) {
        self.save_if_changed();
    }

    fn reconcile_queries(&mut self, _now: Now, _out: &mut Outbox) -> Option<Vec<HttpQuery>> {
        None
    }

    fn reconcile_answers(
        &mut self,
        _answers: Vec<Result<String, String>>,
        _now: Now,
        _out: &mut Outbox,
    ) -> bool {
        true
    }

    fn reconcile_local(&mut self, now: Now, out: &mut Outbox) -> bool {
        if !self.synced {
            return false;
        }
        self.stats.reconciles += 1;
        out.events
            .push(Event::ReconcileStarted { venue: self.venue });
        let (positions, open_orders) = self.state(out);
        out.events.push(Event::LiveReconciled {
            venue: self.venue,
            as_of_ms: (self.t(now) / 1_000_000).max(1),
            positions,
            open_orders,
        });
        self.save_if_changed();
        true
    }
}

#[cfg(test)]
#[path = "adapter_tests.rs"]
mod tests;
