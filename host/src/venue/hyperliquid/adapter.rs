//! The Hyperliquid adapter: the protocol of one venue connection, sans I/O (see `venue`).
//!
//! Each session: `on_connect` subscribes (bbo + activeAssetCtx per coin, orderUpdates and
//! userFills for the user) → the sync (`sync`) asks for the account state once every
//! subscription is acknowledged → `Reconciled`, held fills, `Ready`. While live: frames →
//! engine events (`decode`), batches → signed posts (`writer`), answers → events (`answers`),
//! posts in flight with a cap and a timeout (`posts`), JSON ping and idle detection (here), the
//! scheduleCancel dead-man switch (`dead_man`). When the session ends, every post without an
//! answer becomes `UnknownOutcome` (never a made-up rejection), then `Disconnected`.

use super::answers;
use super::client_config::HlClientConfig;
use super::dead_man::DeadMan;
use super::decode::{self, MAX_REMEMBERED_NAMES, UpdateNote};
use super::info::{self, AssetTable};
use super::live;
use super::markets::Markets;
use super::posts::{InfoKind, PostKind, Posts};
use super::signing::{NonceManager, PrivateKey};
use super::sync::Sync;
use super::wire::{PostResponse, WsMessage};
use super::writer::{self, OrderWriter};
use crate::engine::events::{ConnectionState, Event};
use crate::engine::hardstop::HardStopLatch;
use crate::engine::scheduler::ActionBatch;
use crate::engine::types::{Cloid, VenueId};
use crate::stagetime::{self, Stage};
use crate::venue::liveness::{Liveness, Timeouts};
use crate::venue::{AdapterStats, HttpQuery, Now, Outbox, SessionEnd, SessionPolicy, VenueAdapter};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

pub struct HlAdapter {
    cfg: HlClientConfig,
    policy: SessionPolicy,
    markets: Markets,
    writer: OrderWriter,
    posts: Posts,
    sync: Sync,
    live: Option<Liveness>,
    dead_man: DeadMan,
    /// Unknown channel and status names already logged (bounded: `MAX_REMEMBERED_NAMES`).
    names_seen: HashSet<String>,
    /// Reused between order-update frames.
    update_notes: Vec<UpdateNote>,
    /// Venue time (ms) of the latest fill seen: a reconcile asks for fills from shortly before.
    last_fill_ms: u64,
    /// Orders whose post outcome became unknown since the last reconcile (bounded): a
    /// reconcile asks the venue for their status.
    unknown_cloids: Vec<Cloid>,
    /// The queries of the reconcile under way, in order (None: none).
    live_queries: Option<Vec<live::Query>>,
    stats: AdapterStats,
}

impl HlAdapter {
    pub fn new(
        cfg: HlClientConfig,
        assets: AssetTable,
        key: Option<Arc<PrivateKey>>,
        nonces: Arc<NonceManager>,
        latch: Arc<HardStopLatch>,
    ) -> HlAdapter {
        let markets = Markets::new(cfg.markets.clone(), &assets);
        let policy = SessionPolicy {
            ws_url: cfg.ws_url.clone(),
            connect_timeout: cfg.sync_timeout,
            backoff_min: cfg.backoff_min,
            backoff_max: cfg.backoff_max,
            tick_every: Duration::from_millis(250),
            info_url: cfg.info_url.clone(),
            verify_every: cfg.verify_every,
            reconcile_min_interval: cfg.reconcile_min_interval,
        };
        let writer = OrderWriter::new(
            key,
            nonces,
            latch,
            cfg.vault,
            cfg.mainnet,
            cfg.expires_after,
        );
        HlAdapter {
            policy,
            markets,
            writer,
            posts: Posts::new(cfg.post_timeout),
            sync: Sync::new(0),
            live: None,
            dead_man: DeadMan::new(cfg.dead_man),
            names_seen: HashSet::new(),
            update_notes: Vec::new(),
            last_fill_ms: 0,
            unknown_cloids: Vec::new(),
            live_queries: None,
            stats: AdapterStats::default(),
            cfg,
        }
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts {
            sync: self.cfg.sync_timeout,
            idle: self.cfg.idle_timeout,
            ping_every: self.cfg.ping_every,
            pong: self.cfg.pong_timeout,
        }
    }

    /// Unknown channel and status names remembered (bounded: `MAX_REMEMBERED_NAMES`).
    pub fn names_remembered(&self) -> usize {
        self.names_seen.len()
    }

    fn venue_id(&self) -> VenueId {
        self.cfg.venue
    }

    fn subscriptions(&self) -> Vec<serde_json::Value> {
        use serde_json::json;
        let user = self.cfg.user.to_string();
        let mut subs = Vec::new();
        for (_, coin) in &self.markets.list {
            subs.push(json!({"method":"subscribe","subscription":{"type":"bbo","coin":coin}}));
            subs.push(
                json!({"method":"subscribe","subscription":{"type":"activeAssetCtx","coin":coin}}),
            );
        }
        subs.push(json!({"method":"subscribe","subscription":{"type":"orderUpdates","user":user}}));
        subs.push(json!({"method":"subscribe","subscription":{"type":"userFills","user":user,"aggregateByTime":false}}));
        subs
    }

    fn info_post(&mut self, body: serde_json::Value, kind: InfoKind, now: Now) -> String {
        let id = self.posts.open(PostKind::Info(kind), now.mono);
        serde_json::json!({"method":"post","id":id,"request":{"type":"info","payload":body}})
            .to_string()
    }

    /// Every subscription is acknowledged: ask for the account state.
    fn ask_account(&mut self, now: Now, out: &mut Outbox) {
        let user = self.cfg.user.to_string();
        for dex in self.markets.dexes() {
            let ch = info::request::clearinghouse_state(&user, &dex);
            out.frames
                .push(self.info_post(ch, InfoKind::Clearinghouse, now));
            let oo = info::request::open_orders(&user, &dex);
            out.frames
                .push(self.info_post(oo, InfoKind::OpenOrders, now));
            self.sync.asked(2);
        }
        let rl = info::request::user_rate_limit(&user);
        out.frames
            .push(self.info_post(rl, InfoKind::RateLimit, now));
        self.sync.asked(1);
    }

    /// Logs a name the first time it is seen, within the bound on remembered names.
    fn first_sighting(&mut self, name: String) -> bool {
        self.names_seen.len() < MAX_REMEMBERED_NAMES
            && self
                .names_seen
                .insert(crate::logging::cut(&name).to_string())
    }

    fn on_post(&mut self, id: u64, response: PostResponse<'_>, out: &mut Outbox) {
        let Some(kind) = self.posts.answer(id) else {
            tracing::debug!(id, "answer to an unknown post id");
            return;
        };
        match (kind, response) {
            (PostKind::Info(kind), PostResponse::Info(raw)) => {
                self.sync.on_info(kind, raw.get(), &self.markets)
            }
            (PostKind::Info(kind), other) => {
                self.sync.failed = Some(format!("{kind:?} request answered {other:?}"));
            }
            (kind, response) => answers::action_answer(
                self.cfg.venue,
                kind,
                response,
                &mut self.stats.requests_refused,
                &mut out.events,
            ),
        }
    }

    fn report_unanswered(&mut self, kinds: Vec<PostKind>, out: &mut Outbox) {
        for k in kinds {
            if let PostKind::Orders(cloids) = &k {
                for c in cloids {
                    if self.unknown_cloids.len() < live::MAX_STATUS_QUERIES * 4 {
                        self.unknown_cloids.push(*c);
                    }
                }
            }
            self.stats.unknown_outcomes += answers::unanswered(k, &mut out.events);
        }
    }

    /// Copies the counters the writer and the dead-man switch keep into `stats` (what
    /// `VenueAdapter::stats` hands out by reference).
    fn sync_stats(&mut self) {
        self.stats.posts = self.writer.posts_signed;
        self.stats.dead_man_armed = self.dead_man.armed;
        self.stats.dead_man_triggers_today = self.dead_man.triggers_today;
    }
}

impl VenueAdapter for HlAdapter {
    fn venue(&self) -> VenueId {
        self.venue_id()
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
            venue: self.cfg.venue,
            state: ConnectionState::Connected,
        });
        let subs = self.subscriptions();
        self.sync = Sync::new(subs.len());
        out.frames.extend(subs.iter().map(|s| s.to_string()));
        self.live = Some(Liveness::new(now.mono, &self.timeouts()));
    }

    fn on_frame(&mut self, text: &str, now: Now, out: &mut Outbox) {
        self.stats.frames += 1;
        self.on_alive(now);
        let msg = match WsMessage::parse(text) {
            Ok(m) => {
                stagetime::mark(Stage::Parsed);
                m
            }
            Err(e) => {
                self.stats.unreadable_frames += 1;
                let n = self.stats.unreadable_frames;
                if crate::venue::log_nth(n) {
                    tracing::warn!(venue = %crate::logging::venue(self.cfg.venue), count = n, "{e}");
                }
                return;
            }
        };
        let venue = self.cfg.venue;
        match msg {
            WsMessage::Bbo(b) => {
                if let Some(ev) = decode::bbo(&b, &self.markets) {
                    out.events.push(ev);
                    stagetime::mark(Stage::Delivered);
                }
            }
            WsMessage::L2Book(b) => out.events.extend(decode::book(&b, &self.markets)),
            WsMessage::AssetCtx { ctx, .. } => {
                out.events.extend(decode::asset_ctx(&ctx, &self.markets))
            }
            WsMessage::OrderUpdates(list) => {
                let mut notes = std::mem::take(&mut self.update_notes);
                decode::order_updates(
                    venue,
                    &list,
                    &mut self.names_seen,
                    &mut out.events,
                    &mut notes,
                );
                for n in notes.drain(..) {
                    match n {
                        UpdateNote::DeadManFired(stamp) => self.dead_man.count_trigger(stamp),
                        UpdateNote::UnknownStatus { .. } => self.stats.unknown_statuses += 1,
                    }
                }
                self.update_notes = notes;
            }
            WsMessage::UserFills(f) => {
                for fill in &f.fills {
                    self.last_fill_ms = self.last_fill_ms.max(fill.time);
                    if let Some(ev) = decode::fill(venue, fill, &self.markets) {
                        if self.sync.is_done() {
                            out.events.push(Event::Fill(ev));
                        } else {
                            self.sync.hold(ev);
                        }
                    }
                }
            }
            WsMessage::User(u) => decode::user_event(venue, &u, &mut out.events),
            WsMessage::SubscriptionResponse => {
                if self.sync.on_ack() {
                    self.ask_account(now, out);
                }
            }
            WsMessage::Post(p) => self.on_post(p.id, p.response, out),
            WsMessage::Pong => {
                if let Some(l) = &mut self.live {
                    l.pong();
                }
            }
            WsMessage::Error(e) => {
                self.stats.venue_errors += 1;
                let n = self.stats.venue_errors;
                if crate::venue::log_nth(n) {
                    tracing::warn!(
                        venue = %crate::logging::venue(venue),
                        count = n,
                        "venue error: {}",
                        crate::logging::cut(&e)
                    );
                }
            }
            WsMessage::Connected => {}
            WsMessage::Unknown(channel) => {
                self.stats.unknown_channels += 1;
                if self.first_sighting(channel.to_string()) {
                    tracing::info!(%channel, "ignoring unknown channel (logged once)");
                }
            }
        }
        if let Some(why) = self.sync.failed.take() {
            out.end(SessionEnd::Reconcile(why));
            return;
        }
        if self.sync.complete() {
            self.sync.finish(venue, &mut out.events);
            self.dead_man.reset();
        }
    }

    fn on_alive(&mut self, now: Now) {
        if let Some(l) = &mut self.live {
            l.alive(now.mono);
        }
    }

    fn on_tick(&mut self, now: Now, out: &mut Outbox) {
        let timeouts = self.timeouts();
        let Some(l) = &mut self.live else {
            return;
        };
        let t = now.mono;
        match l.tick(t, self.sync.is_done(), &timeouts) {
            Err(end) => return out.end(end),
            Ok(true) => out.frames.push(r#"{"method":"ping"}"#.to_string()),
            Ok(false) => {}
        }
        let expired = self.posts.expire(t);
        self.report_unanswered(expired, out);
        if self.sync.is_done()
            && let Some(action) = self.dead_man.due(t, now.wall_ms)
        {
            let frame =
                self.writer
                    .sign_post(&action, PostKind::ScheduleCancel, now, &mut self.posts);
            out.frames.extend(frame);
        }
        self.sync_stats();
    }

    fn can_write(&self) -> bool {
        self.live.is_some()
            && self.sync.is_done()
            && self.posts.live() < self.cfg.max_posts_in_flight
    }

    fn write(&mut self, batch: ActionBatch, now: Now, out: &mut Outbox) {
        self.writer.write(
            batch,
            &self.markets,
            now,
            &mut self.posts,
            &mut out.frames,
            &mut out.events,
        );
        self.sync_stats();
    }

    fn refuse(&mut self, batch: ActionBatch, out: &mut Outbox) {
        writer::refuse_unsent(batch, &mut out.events);
    }

    fn on_disconnect(&mut self, out: &mut Outbox) {
        self.live = None;
        let pending = self.posts.drain_unreported();
        self.report_unanswered(pending, out);
        out.events.push(Event::Connection {
            venue: self.cfg.venue,
            state: ConnectionState::Disconnected,
        });
        self.sync_stats();
    }

    fn on_shutdown(&mut self, now: Now, out: &mut Outbox) {
        if self.live.is_some()
            && self.writer.has_key()
            && let Some(action) = self.dead_man.disarm()
        {
            let frame =
                self.writer
                    .sign_post(&action, PostKind::ScheduleCancel, now, &mut self.posts);
            out.frames.extend(frame);
        }
    }

    fn reconcile_queries(&mut self, now: Now, out: &mut Outbox) -> Option<Vec<HttpQuery>> {
        if self.live.is_none() || !self.sync.is_done() {
            return None;
        }
        let since = match self.last_fill_ms {
            0 => now.wall_ms.saturating_sub(10 * live::FILLS_LOOKBACK_MS),
            t => t.saturating_sub(live::FILLS_LOOKBACK_MS),
        };
        let unknown = std::mem::take(&mut self.unknown_cloids);
        let user = self.cfg.user.to_string();
        let (kinds, queries) = live::queries(&user, &self.markets.dexes(), since, &unknown);
        self.live_queries = Some(kinds);
        self.stats.reconciles += 1;
        out.events.push(Event::ReconcileStarted {
            venue: self.cfg.venue,
        });
        Some(queries)
    }

    fn reconcile_answers(
        &mut self,
        answers: Vec<Result<String, String>>,
        _now: Now,
        out: &mut Outbox,
    ) -> bool {
        let Some(kinds) = self.live_queries.take() else {
            return true;
        };
        let venue = self.cfg.venue;
        match live::apply(
            venue,
            &kinds,
            answers,
            &self.markets,
            &mut self.names_seen,
            &mut out.events,
        ) {
            Ok(()) => true,
            Err(why) => {
                self.stats.reconciles_failed += 1;
                tracing::error!(
                    venue = %crate::logging::venue(venue),
                    "reconcile failed ({why}): no entries on this venue until one succeeds"
                );
                false
            }
        }
    }
}
