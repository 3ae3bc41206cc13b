//! The venue task: the one loop that drives a venue connection, for any [`VenueAdapter`].
//!
//! Each turn: read a frame → the adapter decodes it into engine events → the engine handles each
//! (through the [`EngineLink`]) → this venue's batches are taken from the engine → the adapter
//! writes them (guard, rules, signing) → the frames are sent → the refusals the adapter returned
//! go to the engine → the journal settles. One road from a batch to its writer: a venue's
//! batches are only ever taken by its own task; work queued from elsewhere wakes it. On any
//! failure: the adapter reports what was in flight, `Disconnected`, then a reconnect with
//! exponential backoff and jitter.

use super::link::{EngineLink, Wake};
use crate::engine::events::{ConnectionState, Event};
use crate::metrics::server::VenueMetrics;
use crate::record::Tap;
use crate::stagetime;
use crate::venue::http::HttpClient;
use crate::venue::{AdapterStats, HttpQuery, Now, Outbox, SessionEnd, SessionPolicy, VenueAdapter};
use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

fn now() -> Now {
    Now {
        mono: Instant::now().into_std(),
        wall_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
    }
}

/// Runs sessions until shutdown (or until the engine side goes away); returns the adapter's
/// counters.
pub async fn run_venue<A: VenueAdapter, L: EngineLink>(adapter: A, link: L) -> AdapterStats {
    run_venue_observed(adapter, link, Observers::default()).await
}

/// Who watches a venue task besides the engine.
#[derive(Default)]
pub struct Observers {
    /// `[record]`: every frame received and sent, and the session's state changes, handed to the
    /// recorder (a clock read and a queue push per frame, the frame itself not copied).
    pub tap: Option<Tap>,
    /// `[metrics]`: tick-to-order times (one clock read per order post written) and the
    /// adapter's counters (copied on each tick).
    pub metrics: Option<Arc<VenueMetrics>>,
}

/// `run_venue` with observers (`Observers`).
pub async fn run_venue_observed<A: VenueAdapter, L: EngineLink>(
    mut adapter: A,
    mut link: L,
    obs: Observers,
) -> AdapterStats {
    let tap = obs.tap.as_ref();
    let metrics = obs.metrics.as_deref();
    let policy = adapter.policy().clone();
    let venue = adapter.venue();
    let mut out = Outbox::default();
    let mut backoff = policy.backoff_min;
    let mut rng = now().wall_ms | 1;
    loop {
        let started = Instant::now();
        let end = session(&mut adapter, &mut link, &policy, &mut out, tap, metrics).await;
        if let Some(m) = metrics {
            *m.stats.lock().unwrap_or_else(|e| e.into_inner()) = adapter.stats().clone();
        }
        out.frames.clear();
        out.end = None;
        adapter.on_disconnect(&mut out);
        let closed = deliver(&mut link, &mut out, tap).is_err();
        link.settle();
        if closed || end == SessionEnd::Shutdown {
            return adapter.stats().clone();
        }
        match &end {
            SessionEnd::Reconcile(_) => {
                tracing::error!(venue = %crate::logging::venue(venue), "{end}; retrying")
            }
            other => {
                tracing::warn!(venue = %crate::logging::venue(venue), reason = %other, "venue session ended; reconnecting")
            }
        }
        // A session that lived a while resets the backoff.
        if started.elapsed() > policy.backoff_max {
            backoff = policy.backoff_min;
        }
        let wait = jitter(&mut rng, backoff);
        backoff = (backoff * 2).min(policy.backoff_max);
        let deadline = Instant::now() + wait;
        loop {
            tokio::select! {
                _ = sleep_until(deadline) => break,
                w = link.wake() => match w {
                    Wake::Shutdown => return adapter.stats().clone(),
                    // The reconnect's sync is the reconcile.
                    Wake::Reconcile { .. } => {}
                    Wake::Work => {
                        // No session can send them: refused like any unsendable batch.
                        while let Some(b) = link.next_batch(venue) {
                            adapter.refuse(b, &mut out);
                            if deliver(&mut link, &mut out, tap).is_err() {
                                return adapter.stats().clone();
                            }
                        }
                        link.settle();
                    }
                },
            }
        }
    }
}

/// Uniform in [d/2, d] (xorshift: no dependency, and jitter needs no quality).
fn jitter(rng: &mut u64, d: Duration) -> Duration {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    let half = d / 2;
    half + Duration::from_nanos(*rng % (half.as_nanos() as u64 + 1))
}

/// Hands the outbox's events to the engine (a connection state change is recorded too).
fn deliver<L: EngineLink>(
    link: &mut L,
    out: &mut Outbox,
    tap: Option<&Tap>,
) -> Result<(), SessionEnd> {
    for ev in out.events.drain(..) {
        if let (Some(tap), Event::Connection { state, .. }) = (tap, &ev) {
            tap.session(match state {
                ConnectionState::Disconnected => "down",
                ConnectionState::Connected => "connected",
                ConnectionState::Ready => "ready",
            });
        }
        link.deliver(ev).map_err(|_| SessionEnd::Shutdown)?;
    }
    Ok(())
}

/// The answers of a reconcile's HTTP queries, in order.
type Fetch = Pin<Box<dyn Future<Output = Vec<Result<String, String>>> + Send>>;

/// Runs a reconcile's queries one after the other (off the socket: the session goes on).
fn fetch(http: Arc<HttpClient>, queries: Vec<HttpQuery>) -> Fetch {
    Box::pin(async move {
        let mut out = Vec::with_capacity(queries.len());
        for q in queries {
            out.push(
                http.post_json(q.path, &q.body)
                    .await
                    .map_err(|e| e.to_string()),
            );
        }
        out
    })
}

/// Reconciles while the session stays up: at most one at a time, asked ones at most every
/// `reconcile_min_interval`, verification ones every `verify_every`.
struct Reconciles {
    http: Option<Arc<HttpClient>>,
    in_flight: Option<Fetch>,
    /// Asked for and not begun yet.
    wanted: bool,
    last: Option<Instant>,
    next_verify: Option<Instant>,
}

impl Reconciles {
    fn new(policy: &SessionPolicy) -> Reconciles {
        let http = policy.info_url.as_deref().and_then(|u| {
            HttpClient::new(u, policy.connect_timeout)
                .map_err(|e| tracing::error!("no reconciles over HTTP: {e}"))
                .ok()
        });
        Reconciles {
            http: http.map(Arc::new),
            in_flight: None,
            wanted: false,
            last: None,
            next_verify: policy.verify_every.map(|d| Instant::now() + d),
        }
    }

    /// Begins one if it is due and none is under way.
    fn maybe_start<A: VenueAdapter>(
        &mut self,
        adapter: &mut A,
        policy: &SessionPolicy,
        out: &mut Outbox,
    ) {
        if self.in_flight.is_some() {
            return;
        }
        let t = Instant::now();
        let verify_due = self.next_verify.is_some_and(|v| t >= v);
        let asked_due = self.wanted
            && self
                .last
                .is_none_or(|l| t.duration_since(l) >= policy.reconcile_min_interval);
        if !verify_due && !asked_due {
            return;
        }
        let Some(http) = &self.http else {
            // No HTTP API: a venue whose account is local answers at once.
            if adapter.reconcile_local(now(), out) {
                self.wanted = false;
                self.last = Some(t);
                self.next_verify = policy.verify_every.map(|d| t + d);
            }
            return;
        };
        if let Some(q) = adapter.reconcile_queries(now(), out) {
            tracing::info!(
                venue = %crate::logging::venue(adapter.venue()),
                queries = q.len(),
                "reconcile started over HTTP ({})",
                if asked_due {
                    "asked for"
                } else {
                    "periodic verification"
                }
            );
            self.wanted = false;
            self.last = Some(t);
            self.next_verify = policy.verify_every.map(|d| t + d);
            self.in_flight = Some(fetch(http.clone(), q));
        }
    }
}

async fn session<A: VenueAdapter, L: EngineLink>(
    adapter: &mut A,
    link: &mut L,
    policy: &SessionPolicy,
    out: &mut Outbox,
    tap: Option<&Tap>,
    metrics: Option<&VenueMetrics>,
) -> SessionEnd {
    let connect = tokio_tungstenite::connect_async_with_config(policy.ws_url.as_str(), None, true);
    let (ws, _) = match tokio::time::timeout(policy.connect_timeout, connect).await {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return SessionEnd::Connect(e.to_string()),
        Err(_) => return SessionEnd::Connect("timed out".into()),
    };
    let (mut sink, mut stream) = ws.split();
    adapter.on_connect(now(), out);
    let mut tick = tokio::time::interval(policy.tick_every);
    let mut reconciles = Reconciles::new(policy);
    // When the frame being handled was read (tick-to-order starts there; None: the turn was
    // not caused by a frame, or no one measures).
    let mut frame_at: Option<std::time::Instant> = None;
    loop {
        let w = Written {
            metrics,
            frame_at: frame_at.take(),
        };
        if let Err(end) = turn(adapter, link, &mut sink, out, tap, w).await {
            return end;
        }
        link.settle();
        // Reconciles start from the tick, a wake-up or an answer, never after a market frame:
        // the frame path reads no clock for them.
        tokio::select! {
            frame = stream.next() => match frame {
                None => return SessionEnd::Closed("end of stream".into()),
                Some(Err(e)) => return SessionEnd::Closed(e.to_string()),
                Some(Ok(Message::Text(t))) => {
                    stagetime::mark(stagetime::Stage::FrameRead);
                    if let Some(tap) = tap {
                        tap.frame_in(&t);
                    }
                    let n = now();
                    if metrics.is_some() {
                        frame_at = Some(n.mono);
                    }
                    adapter.on_frame(t.as_str(), n, out);
                }
                Some(Ok(Message::Close(c))) => return SessionEnd::Closed(format!("close frame {c:?}")),
                // Ping/pong/binary: alive, nothing to decode.
                Some(Ok(_)) => adapter.on_alive(now()),
            },
            answers = async { reconciles.in_flight.as_mut().expect("guarded").await }, if reconciles.in_flight.is_some() => {
                reconciles.in_flight = None;
                if !adapter.reconcile_answers(answers, now(), out) {
                    reconciles.wanted = true;
                }
                reconciles.maybe_start(adapter, policy, out);
            }
            w = link.wake() => match w {
                // Batches are taken in `turn` whenever the adapter can write them.
                Wake::Work => {}
                Wake::Reconcile { urgent } => {
                    reconciles.wanted = true;
                    if urgent {
                        reconciles.last = None;
                    }
                    reconciles.maybe_start(adapter, policy, out);
                }
                Wake::Shutdown => {
                    adapter.on_shutdown(now(), out);
                    for f in out.frames.drain(..) {
                        let f = Utf8Bytes::from(f);
                        if let Some(tap) = tap {
                            tap.frame_out(&f);
                        }
                        let _ = sink.send(Message::Text(f)).await;
                    }
                    let _ = sink.send(Message::Close(None)).await;
                    return SessionEnd::Shutdown;
                }
            },
            _ = tick.tick() => {
                if let Some(m) = metrics {
                    m.stats.lock().unwrap_or_else(|e| e.into_inner()).clone_from(adapter.stats());
                }
                adapter.on_tick(now(), out);
                reconciles.maybe_start(adapter, policy, out);
            }
        }
    }
}

/// Everything one input produced, to a fixed point: frames out, events in, this venue's batches
/// written (their frames out, their refusals in), until nothing is left.
async fn turn<A: VenueAdapter, L: EngineLink, S>(
    adapter: &mut A,
    link: &mut L,
    sink: &mut S,
    out: &mut Outbox,
    tap: Option<&Tap>,
    w: Written<'_>,
) -> Result<(), SessionEnd>
where
    S: futures_util::Sink<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    let venue = adapter.venue();
    loop {
        send_frames(sink, out, tap, w).await?;
        deliver(link, out, tap)?;
        if let Some(end) = out.end.take() {
            return Err(end);
        }
        while adapter.can_write() {
            match link.next_batch(venue) {
                Some(b) => adapter.write(b, now(), out),
                None => break,
            }
        }
        if out.is_empty() {
            return Ok(());
        }
    }
}

/// Where written order posts are timed: from the read of the frame that caused them.
#[derive(Clone, Copy)]
struct Written<'a> {
    metrics: Option<&'a VenueMetrics>,
    frame_at: Option<std::time::Instant>,
}

/// Writes frames in order; the first failure ends the session. After an order post is written,
/// its tick-to-order time is observed and the `after_send` crash point (tests only) may fire.
async fn send_frames<S>(
    sink: &mut S,
    out: &mut Outbox,
    tap: Option<&Tap>,
    w: Written<'_>,
) -> Result<(), SessionEnd>
where
    S: futures_util::Sink<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    for p in out.frames.drain(..) {
        let order = crate::crash::is_order_post(&p);
        let p = Utf8Bytes::from(p);
        if let Some(tap) = tap {
            tap.frame_out(&p);
        }
        // Kept (a reference count, not a copy) to tell an order post after the write.
        let sent = (w.metrics.is_some() && w.frame_at.is_some()).then(|| p.clone());
        if let Err(e) = sink.send(Message::Text(p)).await {
            return Err(SessionEnd::Closed(e.to_string()));
        }
        stagetime::written();
        // Measured after the write, so the order is never later for it.
        if let (Some(m), Some(t0), Some(p)) = (w.metrics, w.frame_at, sent)
            && p.contains(crate::crash::ORDER_ACTION)
        {
            m.tick_to_order.observe_ns(t0.elapsed().as_nanos() as u64);
        }
        if order {
            crate::crash::point("after_send");
        }
    }
    Ok(())
}
