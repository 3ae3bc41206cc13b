//! The Hyperliquid WebSocket client: one task per venue connection.
//!
//! Each session: connect (TCP_NODELAY) → subscribe (bbo + activeAssetCtx per coin, orderUpdates
//! and userFills for the user) → when every subscription is acknowledged, ask the venue for its
//! account state (clearinghouseState and openOrders per dex, userRateLimit) → emit `Reconciled`,
//! then the fills that arrived meanwhile (the userFills snapshot included: the engine dedupes by
//! tid and never counts a fill the reconciled position already contains), then `Ready`.
//! While live: frames → engine events; engine batches → pre-send HardStop guard → sign → post
//! (ids, a cap on posts in flight); JSON ping; idle detection; the scheduleCancel dead-man switch.
//! On any failure: every post without an answer becomes `UnknownOutcome` (never a made-up
//! rejection), `Disconnected`, and a reconnect with exponential backoff and jitter.

use super::actions::{self, Action, CancelByCloidWire, CancelWire, Grouping};
use super::codes::{order_status, reason_for_error};
use super::info::{self, AssetTable, ClearinghouseState, OpenOrder, UserRateLimit};
use super::signing::{Address, NonceManager, PrivateKey};
use super::tick::{self, AssetSpec};
use super::wire::{
    CancelStatusItem, ExchangeResponse, OkResponse, OrderStatusItem, PostResponse, WireSide,
    WsFill, WsMessage,
};
use crate::engine::events::{
    CancelOutcome, ConnectionState, FillEvent, OrderUpdate, PostOutcome, VenueOpenOrder,
    VenueOrderStatus, VenuePosition,
};
use crate::engine::hardstop::HardStopLatch;
use crate::engine::reject::RejectReason;
use crate::engine::scheduler::ActionBatch;
use crate::engine::types::{Cloid, Level, MarketId, Side, VenueId};
use crate::stagetime::{self, Stage};
use crate::venue::events::{EventSink, VenueCommand, VenueEvent};
use futures_util::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::Message;

/// How a venue connection behaves. Defaults follow reference §1.3 and §2.5.
#[derive(Debug, Clone)]
pub struct HlClientConfig {
    pub venue: VenueId,
    /// `wss://api.hyperliquid.xyz/ws`, or the simulator's `ws://127.0.0.1:PORT/ws`.
    pub ws_url: String,
    /// The account whose positions and orders are tracked (master or sub-account).
    pub user: Address,
    /// Trading for a vault or sub-account: its address (hashed and sent as `vaultAddress`).
    pub vault: Option<Address>,
    /// Phantom agent source "a" (mainnet) or "b" (testnet and the simulator).
    pub mainnet: bool,
    /// The markets traded on this venue, with their venue coin names.
    pub markets: Vec<(MarketId, String)>,
    pub ping_every: Duration,
    pub pong_timeout: Duration,
    /// No frame at all for this long: the connection is dead.
    pub idle_timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Subscriptions and the account state must arrive within this, or the session restarts.
    pub sync_timeout: Duration,
    pub max_posts_in_flight: usize,
    /// A post with no answer after this is reported `UnknownOutcome`.
    pub post_timeout: Duration,
    /// Dead-man switch horizon (≥ 5 s; None = off), refreshed at half the horizon while live.
    pub dead_man: Option<Duration>,
    /// `expiresAfter` horizon for actions (None = not sent).
    pub expires_after: Option<Duration>,
}

impl HlClientConfig {
    pub fn new(
        venue: VenueId,
        ws_url: String,
        user: Address,
        markets: Vec<(MarketId, String)>,
    ) -> Self {
        HlClientConfig {
            venue,
            ws_url,
            user,
            vault: None,
            mainnet: false,
            markets,
            ping_every: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            sync_timeout: Duration::from_secs(15),
            max_posts_in_flight: 64,
            post_timeout: Duration::from_secs(10),
            dead_man: Some(Duration::from_secs(30)),
            expires_after: None,
        }
    }
}

/// Counters for status lines and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub sessions: u64,
    pub frames: u64,
    pub unreadable_frames: u64,
    pub unknown_channels: u64,
    pub unknown_statuses: u64,
    pub posts: u64,
    pub unknown_outcomes: u64,
    pub dead_man_armed: u64,
    pub dead_man_triggers_today: u32,
}

/// What a post was for.
#[derive(Debug, Clone)]
enum PostKind {
    Orders(Vec<Cloid>),
    Cancels(Vec<Cloid>),
    ScheduleCancel,
    Info(InfoKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InfoKind {
    Clearinghouse,
    OpenOrders,
    RateLimit,
}

#[derive(Debug)]
struct InFlight {
    kind: PostKind,
    sent: Instant,
    /// Already reported UnknownOutcome; a late answer still counts.
    timed_out: bool,
}

/// Account state collected during a session's sync phase.
#[derive(Debug, Default)]
struct Sync {
    acks_left: usize,
    infos_left: usize,
    as_of_ms: u64,
    positions: Vec<VenuePosition>,
    open_orders: Vec<VenueOpenOrder>,
    budget: Option<UserRateLimit>,
    /// Fills seen before the account state: sent after `Reconciled`.
    held_fills: Vec<FillEvent>,
    done: bool,
    /// Why the account state could not be read: the session ends instead of reconciling to a
    /// partial picture (an unreadable position list must never look like "flat").
    failed: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum SessionEnd {
    #[error("connect failed: {0}")]
    Connect(String),
    #[error("connection closed: {0}")]
    Closed(String),
    #[error("no frame for {0:?}")]
    Idle(Duration),
    #[error("no pong within {0:?}")]
    NoPong(Duration),
    #[error("not synced within {0:?}")]
    SyncTimeout(Duration),
    #[error("reconciliation failed ({0}): not trading on this venue until a reconcile succeeds")]
    Reconcile(String),
    #[error("shutdown")]
    Shutdown,
}

pub struct HlClient<S: EventSink> {
    cfg: HlClientConfig,
    key: Option<Arc<PrivateKey>>,
    nonces: Arc<NonceManager>,
    latch: Arc<HardStopLatch>,
    events: S,
    commands: mpsc::UnboundedReceiver<VenueCommand>,
    /// Batches the engine handed back inline, to post in this task right away.
    ready: Vec<ActionBatch>,
    coin_market: HashMap<String, MarketId>,
    /// Each configured market's asset rules, by `MarketId` (dense: the registry's indices);
    /// None for a market the venue's table does not list (its orders are refused).
    market_spec: Vec<Option<AssetSpec>>,
    next_post_id: u64,
    in_flight: HashMap<u64, InFlight>,
    msgpack: Vec<u8>,
    unknown_channels_seen: HashSet<String>,
    /// statusTimestamps of scheduledCancel updates already counted (a trigger cancels many).
    trigger_stamps: HashSet<u64>,
    trigger_day: u64,
    pub stats: ClientStats,
    rng: u64,
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl<S: EventSink> HlClient<S> {
    pub fn new(
        cfg: HlClientConfig,
        assets: AssetTable,
        key: Option<Arc<PrivateKey>>,
        nonces: Arc<NonceManager>,
        latch: Arc<HardStopLatch>,
        events: S,
        commands: mpsc::UnboundedReceiver<VenueCommand>,
    ) -> HlClient<S> {
        let coin_market = cfg.markets.iter().map(|(m, c)| (c.clone(), *m)).collect();
        let mut market_spec = Vec::new();
        for (m, coin) in &cfg.markets {
            let i = m.0 as usize;
            if market_spec.len() <= i {
                market_spec.resize(i + 1, None);
            }
            market_spec[i] = assets.spec(coin).copied();
        }
        HlClient {
            rng: wall_ms() | 1,
            cfg,
            key,
            nonces,
            latch,
            events,
            commands,
            ready: Vec::new(),
            coin_market,
            market_spec,
            next_post_id: 1,
            in_flight: HashMap::new(),
            msgpack: Vec::with_capacity(512),
            unknown_channels_seen: HashSet::new(),
            trigger_stamps: HashSet::new(),
            trigger_day: 0,
            stats: ClientStats::default(),
        }
    }

    /// Runs sessions until shutdown (or until the engine side goes away).
    pub async fn run(mut self) -> ClientStats {
        let mut backoff = self.cfg.backoff_min;
        loop {
            self.stats.sessions += 1;
            let started = Instant::now();
            let end = self.session().await;
            self.fail_in_flight().await;
            let closed = self
                .emit(VenueEvent::Connection {
                    venue: self.cfg.venue,
                    state: ConnectionState::Disconnected,
                })
                .await
                .is_err();
            self.events.settle();
            if closed {
                return self.stats;
            }
            match end {
                SessionEnd::Shutdown => return self.stats,
                e @ SessionEnd::Reconcile(_) => {
                    tracing::error!(venue = self.cfg.venue.0, "{e}; retrying")
                }
                other => {
                    tracing::warn!(venue = self.cfg.venue.0, reason = %other, "venue session ended; reconnecting")
                }
            }
            // A session that lived a while resets the backoff.
            if started.elapsed() > self.cfg.backoff_max {
                backoff = self.cfg.backoff_min;
            }
            let wait = self.jitter(backoff);
            backoff = (backoff * 2).min(self.cfg.backoff_max);
            let deadline = Instant::now() + wait;
            loop {
                tokio::select! {
                    _ = sleep_until(deadline) => break,
                    cmd = self.commands.recv() => match cmd {
                        None | Some(VenueCommand::Shutdown) => return self.stats,
                        Some(VenueCommand::Send(batch)) => {
                            self.refuse_unsent(batch).await;
                            self.refuse_ready().await;
                            self.events.settle();
                        }
                    },
                }
            }
        }
    }

    /// Batches handed back while no session can send them: refused like any unsendable batch.
    async fn refuse_ready(&mut self) {
        while !self.ready.is_empty() {
            for b in std::mem::take(&mut self.ready) {
                self.refuse_unsent(b).await;
            }
        }
    }

    /// Posts the batches the engine handed back inline, within the cap on posts in flight
    /// (what does not fit waits for answers). Returns the frames to send.
    async fn drain_ready(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while !self.ready.is_empty() && self.in_flight_live() < self.cfg.max_posts_in_flight {
            let batch = self.ready.remove(0);
            out.extend(self.posts_for(batch).await);
        }
        out
    }

    /// Uniform in [d/2, d].
    fn jitter(&mut self, d: Duration) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let half = d / 2;
        half + Duration::from_nanos(self.rng % (half.as_nanos() as u64 + 1))
    }

    async fn emit(&mut self, e: VenueEvent) -> Result<(), ()> {
        self.events.deliver(e, &mut self.ready).map_err(|_| ())
    }

    async fn session(&mut self) -> SessionEnd {
        let connect =
            tokio_tungstenite::connect_async_with_config(self.cfg.ws_url.as_str(), None, true);
        let (ws, _) = match tokio::time::timeout(self.cfg.sync_timeout, connect).await {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return SessionEnd::Connect(e.to_string()),
            Err(_) => return SessionEnd::Connect("timed out".into()),
        };
        let (mut sink, mut stream) = ws.split();
        if self
            .emit(VenueEvent::Connection {
                venue: self.cfg.venue,
                state: ConnectionState::Connected,
            })
            .await
            .is_err()
        {
            return SessionEnd::Shutdown;
        }
        let subs = self.subscriptions();
        let mut sync = Sync {
            acks_left: subs.len(),
            ..Sync::default()
        };
        for s in subs {
            if let Err(e) = sink.send(Message::text(s.to_string())).await {
                return SessionEnd::Closed(e.to_string());
            }
        }
        let sync_deadline = Instant::now() + self.cfg.sync_timeout;
        let mut last_frame = Instant::now();
        let mut next_ping = Instant::now() + self.cfg.ping_every;
        let mut pong_due: Option<Instant> = None;
        let mut next_dead_man = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                frame = stream.next() => {
                    let text = match frame {
                        None => return SessionEnd::Closed("end of stream".into()),
                        Some(Err(e)) => return SessionEnd::Closed(e.to_string()),
                        Some(Ok(Message::Text(t))) => { stagetime::mark(Stage::FrameRead); t },
                        Some(Ok(Message::Close(c))) => return SessionEnd::Closed(format!("close frame {c:?}")),
                        Some(Ok(_)) => { last_frame = Instant::now(); continue; }
                    };
                    last_frame = Instant::now();
                    self.stats.frames += 1;
                    let mut outgoing = Vec::new();
                    match self.on_frame(text.as_str(), &mut sync, &mut pong_due, &mut outgoing).await {
                        Ok(()) => {}
                        Err(()) => return SessionEnd::Shutdown,
                    }
                    if sync.done {
                        outgoing.extend(self.drain_ready().await);
                    }
                    if let Err(end) = send_posts(&mut sink, outgoing).await {
                        return end;
                    }
                    if let Some(why) = sync.failed.take() {
                        return SessionEnd::Reconcile(why);
                    }
                    if !sync.done && sync.acks_left == 0 && sync.infos_left == 0 && sync.as_of_ms != 0 {
                        if self.finish_sync(&mut sync).await.is_err() {
                            return SessionEnd::Shutdown;
                        }
                        next_dead_man = Instant::now();
                        if let Err(end) = send_posts(&mut sink, self.drain_ready().await).await {
                            return end;
                        }
                    }
                }
                cmd = self.commands.recv(), if sync.done && self.in_flight_live() < self.cfg.max_posts_in_flight => {
                    match cmd {
                        None | Some(VenueCommand::Shutdown) => {
                            if self.cfg.dead_man.is_some() && self.key.is_some() {
                                // Disarm: an orderly stop is not a dead process.
                                if let Some(p) = self.sign_post(&Action::ScheduleCancel { time: None }, PostKind::ScheduleCancel) {
                                    let _ = sink.send(Message::text(p)).await;
                                }
                            }
                            let _ = sink.send(Message::Close(None)).await;
                            return SessionEnd::Shutdown;
                        }
                        Some(VenueCommand::Send(batch)) => {
                            let mut frames = self.posts_for(batch).await;
                            frames.extend(self.drain_ready().await);
                            if let Err(end) = send_posts(&mut sink, frames).await {
                                return end;
                            }
                        }
                    }
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    if !sync.done && now > sync_deadline {
                        return SessionEnd::SyncTimeout(self.cfg.sync_timeout);
                    }
                    if now.duration_since(last_frame) > self.cfg.idle_timeout {
                        return SessionEnd::Idle(self.cfg.idle_timeout);
                    }
                    if pong_due.is_some_and(|d| now > d) {
                        return SessionEnd::NoPong(self.cfg.pong_timeout);
                    }
                    if now >= next_ping {
                        next_ping = now + self.cfg.ping_every;
                        pong_due.get_or_insert(now + self.cfg.pong_timeout);
                        if let Err(e) = sink.send(Message::text(r#"{"method":"ping"}"#)).await {
                            return SessionEnd::Closed(e.to_string());
                        }
                    }
                    self.expire_posts().await;
                    if sync.done {
                        if let Err(end) = send_posts(&mut sink, self.drain_ready().await).await {
                            return end;
                        }
                    }
                    if sync.done && now >= next_dead_man && let Some(h) = self.cfg.dead_man {
                        next_dead_man = now + h / 2;
                        if let Some(p) = self.arm_dead_man(h) {
                            if let Err(e) = sink.send(Message::text(p)).await {
                                return SessionEnd::Closed(e.to_string());
                            }
                        }
                    }
                }
            }
            // The posts of this turn are written: the engine's deferred work (journal) now.
            self.events.settle();
        }
    }

    fn subscriptions(&self) -> Vec<serde_json::Value> {
        use serde_json::json;
        let user = self.cfg.user.to_string();
        let mut subs = Vec::new();
        for (_, coin) in &self.cfg.markets {
            subs.push(json!({"method":"subscribe","subscription":{"type":"bbo","coin":coin}}));
            subs.push(
                json!({"method":"subscribe","subscription":{"type":"activeAssetCtx","coin":coin}}),
            );
        }
        subs.push(json!({"method":"subscribe","subscription":{"type":"orderUpdates","user":user}}));
        subs.push(json!({"method":"subscribe","subscription":{"type":"userFills","user":user,"aggregateByTime":false}}));
        subs
    }

    /// The dexes of the configured markets (`""` = main dex).
    fn dexes(&self) -> Vec<String> {
        let mut d: Vec<String> = self
            .cfg
            .markets
            .iter()
            .map(|(_, c)| info::dex_of(c).to_string())
            .collect();
        d.sort();
        d.dedup();
        d
    }

    fn spec_of(&self, m: MarketId) -> Option<AssetSpec> {
        self.market_spec.get(m.0 as usize).copied().flatten()
    }

    fn post_id(&mut self) -> u64 {
        let id = self.next_post_id;
        self.next_post_id += 1;
        id
    }

    fn info_post(&mut self, body: serde_json::Value, kind: InfoKind) -> String {
        let id = self.post_id();
        self.in_flight.insert(
            id,
            InFlight {
                kind: PostKind::Info(kind),
                sent: Instant::now(),
                timed_out: false,
            },
        );
        serde_json::json!({"method":"post","id":id,"request":{"type":"info","payload":body}})
            .to_string()
    }

    async fn on_frame(
        &mut self,
        text: &str,
        sync: &mut Sync,
        pong_due: &mut Option<Instant>,
        outgoing: &mut Vec<String>,
    ) -> Result<(), ()> {
        let msg = match WsMessage::parse(text) {
            Ok(m) => {
                stagetime::mark(Stage::Parsed);
                m
            }
            Err(e) => {
                self.stats.unreadable_frames += 1;
                if self.stats.unreadable_frames <= 3
                    || self.stats.unreadable_frames.is_power_of_two()
                {
                    tracing::warn!(
                        venue = self.cfg.venue.0,
                        count = self.stats.unreadable_frames,
                        "{e}"
                    );
                }
                return Ok(());
            }
        };
        match msg {
            WsMessage::SubscriptionResponse => {
                if sync.acks_left > 0 {
                    sync.acks_left -= 1;
                    if sync.acks_left == 0 {
                        let user = self.cfg.user.to_string();
                        for dex in self.dexes() {
                            outgoing.push(self.info_post(
                                info::request::clearinghouse_state(&user, &dex),
                                InfoKind::Clearinghouse,
                            ));
                            outgoing.push(self.info_post(
                                info::request::open_orders(&user, &dex),
                                InfoKind::OpenOrders,
                            ));
                            sync.infos_left += 2;
                        }
                        outgoing.push(
                            self.info_post(
                                info::request::user_rate_limit(&user),
                                InfoKind::RateLimit,
                            ),
                        );
                        sync.infos_left += 1;
                    }
                }
            }
            WsMessage::Bbo(b) => {
                if let Some(&market) = self.coin_market.get(b.coin.as_ref()) {
                    let level =
                        |l: Option<super::wire::WsLevel>| l.map(|l| Level { px: l.px, sz: l.sz });
                    self.emit(VenueEvent::Bbo {
                        market,
                        bid: level(b.bbo[0]),
                        ask: level(b.bbo[1]),
                    })
                    .await?;
                    stagetime::mark(Stage::Delivered);
                }
            }
            WsMessage::L2Book(b) => {
                if let Some(&market) = self.coin_market.get(b.coin.as_ref()) {
                    let top = |side: &Vec<super::wire::WsLevel>| {
                        side.first().map(|l| Level { px: l.px, sz: l.sz })
                    };
                    self.emit(VenueEvent::Bbo {
                        market,
                        bid: top(&b.levels[0]),
                        ask: top(&b.levels[1]),
                    })
                    .await?;
                }
            }
            WsMessage::AssetCtx { ctx, .. } => {
                if let Some(&market) = self.coin_market.get(ctx.coin.as_ref()) {
                    let c = ctx.ctx;
                    self.emit(VenueEvent::AssetCtx {
                        market,
                        oracle: c.oracle_px,
                        mark: c.mark_px,
                        mid: c.mid_px,
                        funding: c.funding.unwrap_or_default(),
                    })
                    .await?;
                }
            }
            WsMessage::OrderUpdates(list) => {
                for u in list {
                    let Some(status) = order_status(&u.status) else {
                        self.stats.unknown_statuses += 1;
                        if self
                            .unknown_channels_seen
                            .insert(format!("status:{}", u.status))
                        {
                            tracing::warn!(status = %u.status, "unknown order status (treated as no change)");
                        }
                        continue;
                    };
                    if u.status == "scheduledCancel" {
                        self.count_trigger(u.status_timestamp);
                    }
                    let filled_total = match status {
                        VenueOrderStatus::Open => None,
                        _ => Some((u.order.orig_sz - u.order.sz).max(Decimal::ZERO)),
                    };
                    let update = OrderUpdate {
                        venue: self.cfg.venue,
                        cloid: u.order.cloid.as_deref().and_then(Cloid::parse),
                        oid: u.order.oid,
                        status,
                        filled_total,
                    };
                    self.emit(VenueEvent::OrderUpdate(update)).await?;
                }
            }
            WsMessage::UserFills(f) => {
                for fill in &f.fills {
                    if let Some(ev) = self.fill_event(fill) {
                        if sync.done {
                            self.emit(VenueEvent::Fill(ev)).await?;
                        } else {
                            sync.held_fills.push(ev);
                        }
                    }
                }
            }
            WsMessage::User(u) => {
                if let Some(cancels) = u.non_user_cancel {
                    for c in cancels {
                        let update = OrderUpdate {
                            venue: self.cfg.venue,
                            cloid: None,
                            oid: c.oid,
                            status: VenueOrderStatus::Cancelled,
                            filled_total: None,
                        };
                        self.emit(VenueEvent::OrderUpdate(update)).await?;
                    }
                }
            }
            WsMessage::Post(p) => self.on_post(p.id, p.response, sync).await?,
            WsMessage::Pong => *pong_due = None,
            WsMessage::Error(e) => tracing::warn!(venue = self.cfg.venue.0, "venue error: {e}"),
            WsMessage::Connected => {}
            WsMessage::Unknown(channel) => {
                self.stats.unknown_channels += 1;
                if self.unknown_channels_seen.insert(channel.to_string()) {
                    tracing::info!(%channel, "ignoring unknown channel (logged once)");
                }
            }
        }
        Ok(())
    }

    fn fill_event(&self, f: &WsFill<'_>) -> Option<FillEvent> {
        let market = *self.coin_market.get(f.coin.as_ref())?;
        Some(FillEvent {
            venue: self.cfg.venue,
            market,
            cloid: f.cloid.as_deref().and_then(Cloid::parse),
            oid: f.oid,
            tid: f.tid,
            side: match f.side {
                WireSide::Bid => Side::Buy,
                WireSide::Ask => Side::Sell,
            },
            px: f.px,
            sz: f.sz,
            fee: f.fee,
            time_ms: f.time,
        })
    }

    async fn finish_sync(&mut self, sync: &mut Sync) -> Result<(), ()> {
        sync.done = true;
        let venue = self.cfg.venue;
        self.emit(VenueEvent::Reconciled {
            venue,
            as_of_ms: sync.as_of_ms,
            positions: std::mem::take(&mut sync.positions),
            open_orders: std::mem::take(&mut sync.open_orders),
        })
        .await?;
        for f in std::mem::take(&mut sync.held_fills) {
            self.emit(VenueEvent::Fill(f)).await?;
        }
        if let Some(b) = sync.budget {
            self.emit(VenueEvent::VenueBudget {
                venue,
                used: b.used,
                cap: b.cap,
            })
            .await?;
        }
        tracing::info!(venue = venue.0, "venue ready (subscribed and reconciled)");
        self.emit(VenueEvent::Connection {
            venue,
            state: ConnectionState::Ready,
        })
        .await
    }

    async fn on_post(
        &mut self,
        id: u64,
        response: PostResponse<'_>,
        sync: &mut Sync,
    ) -> Result<(), ()> {
        let Some(post) = self.in_flight.remove(&id) else {
            tracing::debug!(id, "answer to an unknown post id");
            return Ok(());
        };
        match (post.kind, response) {
            (PostKind::Info(kind), PostResponse::Info(raw)) => self.on_info(kind, raw.get(), sync),
            (PostKind::Info(kind), other) => {
                sync.failed = Some(format!("{kind:?} request answered {other:?}"));
            }
            (
                PostKind::Orders(cloids),
                PostResponse::Action(ExchangeResponse::Ok(OkResponse::Order { statuses })),
            ) => {
                for (i, c) in cloids.iter().enumerate() {
                    let outcome = match statuses.get(i) {
                        Some(OrderStatusItem::Resting { oid }) => {
                            PostOutcome::Resting { oid: *oid }
                        }
                        Some(OrderStatusItem::Filled {
                            total_sz,
                            avg_px,
                            oid,
                        }) => PostOutcome::Filled {
                            oid: *oid,
                            total_sz: *total_sz,
                            avg_px: *avg_px,
                        },
                        Some(OrderStatusItem::Error(e)) => {
                            PostOutcome::Rejected(reason_for_error(e))
                        }
                        _ => PostOutcome::UnknownOutcome,
                    };
                    self.emit(VenueEvent::PostResult { cloid: *c, outcome })
                        .await?;
                }
            }
            (
                PostKind::Cancels(cloids),
                PostResponse::Action(ExchangeResponse::Ok(OkResponse::Cancel { statuses })),
            ) => {
                for (i, c) in cloids.iter().enumerate() {
                    let outcome = match statuses.get(i) {
                        Some(CancelStatusItem::Success) => CancelOutcome::Success,
                        _ => CancelOutcome::Failed,
                    };
                    self.emit(VenueEvent::CancelResult { cloid: *c, outcome })
                        .await?;
                }
            }
            (PostKind::ScheduleCancel, PostResponse::Action(ExchangeResponse::Ok(_))) => {}
            (kind, response) => {
                // The whole request was refused (bad signature, nonce, rate limit, …): a real
                // answer, so a real rejection.
                let reason = match &response {
                    PostResponse::Action(ExchangeResponse::Err(e)) | PostResponse::Error(e) => {
                        tracing::warn!(
                            venue = self.cfg.venue.0,
                            "request refused by the venue: {e}"
                        );
                        if e.contains("too many") || e.contains("rate") {
                            RejectReason::VenueRateLimited
                        } else {
                            RejectReason::VenueRequestFailed
                        }
                    }
                    _ => RejectReason::VenueRequestFailed,
                };
                match kind {
                    PostKind::Orders(cloids) => {
                        for c in cloids {
                            self.emit(VenueEvent::PostResult {
                                cloid: c,
                                outcome: PostOutcome::Rejected(reason),
                            })
                            .await?;
                        }
                    }
                    PostKind::Cancels(cloids) => {
                        for c in cloids {
                            self.emit(VenueEvent::CancelResult {
                                cloid: c,
                                outcome: CancelOutcome::Failed,
                            })
                            .await?;
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn on_info(&mut self, kind: InfoKind, raw: &str, sync: &mut Sync) {
        sync.infos_left = sync.infos_left.saturating_sub(1);
        // The payload is {"type": …, "data": …}.
        #[derive(serde::Deserialize)]
        struct Payload<T> {
            data: T,
        }
        match kind {
            InfoKind::Clearinghouse => {
                match serde_json::from_str::<Payload<ClearinghouseState>>(raw) {
                    Ok(p) => {
                        sync.as_of_ms = sync.as_of_ms.max(p.data.time.max(1));
                        for ap in p.data.asset_positions {
                            if let Some(&market) = self.coin_market.get(&ap.position.coin) {
                                sync.positions.push(VenuePosition {
                                    market,
                                    size: ap.position.szi,
                                    entry_px: ap.position.entry_px.unwrap_or_default(),
                                });
                            }
                        }
                    }
                    Err(e) => sync.failed = Some(format!("unreadable clearinghouseState: {e}")),
                }
            }
            InfoKind::OpenOrders => match serde_json::from_str::<Payload<Vec<OpenOrder>>>(raw) {
                Ok(p) => {
                    for o in p.data {
                        if let Some(&market) = self.coin_market.get(&o.coin) {
                            sync.open_orders.push(VenueOpenOrder {
                                market,
                                oid: o.oid,
                                cloid: o.cloid.as_deref().and_then(Cloid::parse),
                                side: if o.side == WireSide::Bid {
                                    Side::Buy
                                } else {
                                    Side::Sell
                                },
                                px: o.limit_px,
                                sz: o.sz,
                            });
                        }
                    }
                }
                Err(e) => sync.failed = Some(format!("unreadable openOrders: {e}")),
            },
            InfoKind::RateLimit => match serde_json::from_str::<Payload<UserRateLimit>>(raw) {
                Ok(p) => sync.budget = Some(p.data),
                Err(e) => tracing::warn!("unreadable userRateLimit: {e}"),
            },
        }
    }

    fn in_flight_live(&self) -> usize {
        self.in_flight.values().filter(|p| !p.timed_out).count()
    }

    /// Signs an action into a WS post frame, recording it in flight; None without a key.
    fn sign_post(&mut self, action: &Action, kind: PostKind) -> Option<String> {
        stagetime::mark(Stage::SignStart);
        let key = self.key.clone()?;
        let nonce = self.nonces.next(wall_ms());
        let expires = self
            .cfg
            .expires_after
            .map(|d| wall_ms() + d.as_millis() as u64);
        let signed = match actions::sign_action(
            &key,
            action,
            nonce,
            self.cfg.vault.as_ref(),
            expires,
            self.cfg.mainnet,
            &mut self.msgpack,
        ) {
            Ok(s) => {
                stagetime::mark(Stage::Signed);
                s
            }
            Err(e) => {
                tracing::error!("cannot encode action: {e}");
                return None;
            }
        };
        let id = self.post_id();
        self.in_flight.insert(
            id,
            InFlight {
                kind,
                sent: Instant::now(),
                timed_out: false,
            },
        );
        self.stats.posts += 1;
        match actions::post_frame(id, &signed) {
            Ok(frame) => {
                stagetime::mark(Stage::Framed);
                Some(frame)
            }
            Err(e) => {
                tracing::error!("cannot encode post: {e}");
                None
            }
        }
    }

    /// Turns a batch into signed posts: cancels first, then orders. Orders the venue would refuse
    /// (tick, lot, minimum value) are refused here, before signing.
    async fn posts_for(&mut self, mut batch: ActionBatch) -> Vec<String> {
        let dropped = batch.enforce_hard_stop(&self.latch);
        if !dropped.is_empty() {
            let _ = self
                .emit(VenueEvent::BatchDropped { cloids: dropped })
                .await;
        }
        let mut out = Vec::new();
        if self.key.is_none() {
            tracing::error!("no signing key: cannot send orders");
            self.refuse_unsent(batch).await;
            return out;
        }
        if !batch.cancels.is_empty() {
            let mut cancels = Vec::new();
            let mut cloids = Vec::new();
            // Orders the venue knows by oid only (adopted or cancelled unknown orders).
            let mut by_oid = Vec::new();
            let mut by_oid_cloids = Vec::new();
            for c in &batch.cancels {
                match self.spec_of(c.market) {
                    Some(spec) if c.cloid.is_host_assigned() && c.oid.is_some() => {
                        by_oid.push(CancelWire {
                            a: spec.asset,
                            o: c.oid.expect("checked"),
                        });
                        by_oid_cloids.push(c.cloid);
                    }
                    Some(spec) => {
                        cancels.push(CancelByCloidWire {
                            asset: spec.asset,
                            cloid: c.cloid.to_wire(),
                        });
                        cloids.push(c.cloid);
                    }
                    None => {
                        let _ = self
                            .emit(VenueEvent::CancelResult {
                                cloid: c.cloid,
                                outcome: CancelOutcome::Failed,
                            })
                            .await;
                    }
                }
            }
            if !cancels.is_empty()
                && let Some(p) = self.sign_post(
                    &Action::CancelByCloid { cancels },
                    PostKind::Cancels(cloids),
                )
            {
                out.push(p);
            }
            if !by_oid.is_empty()
                && let Some(p) = self.sign_post(
                    &Action::Cancel { cancels: by_oid },
                    PostKind::Cancels(by_oid_cloids),
                )
            {
                out.push(p);
            }
        }
        let mut orders = Vec::new();
        let mut cloids = Vec::new();
        for o in &batch.orders {
            let Some(spec) = self.spec_of(o.market) else {
                let _ = self
                    .emit(VenueEvent::PostResult {
                        cloid: o.cloid,
                        outcome: PostOutcome::Rejected(RejectReason::VenueOther),
                    })
                    .await;
                continue;
            };
            match tick::order_wire(o, &spec) {
                Ok(wire) => {
                    orders.push(wire);
                    cloids.push(o.cloid);
                }
                Err(reason) => {
                    let _ = self
                        .emit(VenueEvent::PostResult {
                            cloid: o.cloid,
                            outcome: PostOutcome::Rejected(reason),
                        })
                        .await;
                }
            }
        }
        if !orders.is_empty() {
            let action = Action::Order {
                orders,
                grouping: Grouping::Na,
                builder: None,
            };
            if let Some(p) = self.sign_post(&action, PostKind::Orders(cloids)) {
                out.push(p);
            }
        }
        out
    }

    /// A batch that cannot be sent (disconnected, no key): orders refused `not_ready` (the host
    /// never sent them), cancels failed (the reconciliation after reconnect settles them).
    async fn refuse_unsent(&mut self, batch: ActionBatch) {
        for o in batch.orders {
            let _ = self
                .emit(VenueEvent::PostResult {
                    cloid: o.cloid,
                    outcome: PostOutcome::Rejected(RejectReason::NotReady),
                })
                .await;
        }
        for c in batch.cancels {
            let _ = self
                .emit(VenueEvent::CancelResult {
                    cloid: c.cloid,
                    outcome: CancelOutcome::Failed,
                })
                .await;
        }
    }

    /// Posts past their deadline become UnknownOutcome (kept, so a late answer still counts).
    async fn expire_posts(&mut self) {
        let timeout = self.cfg.post_timeout;
        let mut expired = Vec::new();
        for (id, p) in self.in_flight.iter_mut() {
            if !p.timed_out && p.sent.elapsed() > timeout {
                p.timed_out = true;
                expired.push((*id, p.kind.clone()));
            }
        }
        for (_, kind) in expired {
            self.report_unknown(kind).await;
        }
        // Forget answers that never came after a long while.
        self.in_flight
            .retain(|_, p| p.sent.elapsed() < timeout * 30);
    }

    async fn report_unknown(&mut self, kind: PostKind) {
        match kind {
            PostKind::Orders(cloids) => {
                for c in cloids {
                    self.stats.unknown_outcomes += 1;
                    let _ = self
                        .emit(VenueEvent::PostResult {
                            cloid: c,
                            outcome: PostOutcome::UnknownOutcome,
                        })
                        .await;
                }
            }
            PostKind::Cancels(cloids) => {
                for c in cloids {
                    let _ = self
                        .emit(VenueEvent::CancelResult {
                            cloid: c,
                            outcome: CancelOutcome::Failed,
                        })
                        .await;
                }
            }
            _ => {}
        }
    }

    /// On disconnect: every post still waiting becomes UnknownOutcome.
    async fn fail_in_flight(&mut self) {
        let pending: Vec<InFlight> = self.in_flight.drain().map(|(_, p)| p).collect();
        for p in pending {
            if !p.timed_out {
                self.report_unknown(p.kind).await;
            }
        }
    }

    /// Arms the dead-man switch `horizon` ahead, unless today's trigger count is at the cap.
    fn arm_dead_man(&mut self, horizon: Duration) -> Option<String> {
        let today = wall_ms() / 86_400_000;
        if today != self.trigger_day {
            self.trigger_day = today;
            self.stats.dead_man_triggers_today = 0;
            self.trigger_stamps.clear();
        }
        if self.stats.dead_man_triggers_today >= 9 {
            // The venue allows 10 triggers a day; keep the last one for a real emergency.
            return None;
        }
        let time = wall_ms() + horizon.max(Duration::from_secs(5)).as_millis() as u64;
        self.stats.dead_man_armed += 1;
        self.sign_post(
            &Action::ScheduleCancel { time: Some(time) },
            PostKind::ScheduleCancel,
        )
    }

    fn count_trigger(&mut self, stamp: u64) {
        let day = stamp / 86_400_000;
        if day != self.trigger_day {
            self.trigger_day = day;
            self.stats.dead_man_triggers_today = 0;
            self.trigger_stamps.clear();
        }
        if self.trigger_stamps.insert(stamp) {
            self.stats.dead_man_triggers_today += 1;
            tracing::warn!(
                today = self.stats.dead_man_triggers_today,
                "the dead-man switch fired (scheduledCancel)"
            );
        }
    }
}

/// Writes post frames in order; the first failure ends the session. After an order post is
/// written, the `after_send` crash point (tests only) may fire.
async fn send_posts<S>(
    sink: &mut S,
    frames: impl IntoIterator<Item = String>,
) -> Result<(), SessionEnd>
where
    S: futures_util::Sink<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    for p in frames {
        let order = crate::crash::is_order_post(&p);
        if let Err(e) = sink.send(Message::text(p)).await {
            return Err(SessionEnd::Closed(e.to_string()));
        }
        stagetime::written();
        if order {
            crate::crash::point("after_send");
        }
    }
    Ok(())
}
