//! Tick-to-order latency on loopback: from the intended send time of a market-data frame that
//! shows a dislocation, to the moment the venue receives the signed order it caused.
//!
//! Run: `cargo bench --bench tick_to_order` (figures go in docs/BENCHMARKS.md). With
//! `--features strategy-host/stage-timing` it also prints where the host's time goes, stage by
//! stage, next to the baseline's.
//!
//! A stamping venue, on a thread of its own, serves two connections: the host's and the
//! baseline's. It sends one dislocation frame every `period()` on a fixed schedule (each frame's
//! intended time is fixed in advance, so a late frame counts as latency: no coordinated
//! omission) and records, for the order each frame causes, arrival − intended time. It answers
//! each order "no match" so the next frame can trade again. The two variants take turns in
//! blocks of `BLOCK` frames (one block to one, then one to the other), so both see the same
//! machine over the same minute: drift in the VM's neighbours lands on both, not on whichever
//! ran second.
//!
//! - host: the runtime's own path on one current_thread runtime: the venue task and the
//!   Hyperliquid adapter (parse, dispatch), the engine (state, gates, scheduler), the real
//!   `dislocation-entry` .so, the pre-send guard, tick rounding, msgpack, signing, the post; and
//!   the journal as `run` keeps it (writer thread, `[journal]` defaults).
//! - baseline: a bare client on the same socket library that signs and sends a pre-built order
//!   action of the host's shape (cloid included) for every frame (same sockets and signing, no
//!   parse, no engine).
//!
//! Environment: `TICK_TO_ORDER_PERIOD_US` (frame period, default 1500), `TICK_TO_ORDER_EVENTS`
//! (measured events per variant, default 10000), `TICK_TO_ORDER_SPIN=1` (both variants keep their
//! thread polling during their own blocks: caches stay warm), `BENCH_ONLY=host` (the host alone,
//! for profilers), `BENCH_NO_JOURNAL=1` (the host without its journal, for attribution),
//! `TICK_TO_ORDER_RECORD=1` (a third variant, "host+rec": the host recording every frame as
//! `[record]` does, its cost read against the host's in the same run; `control`: a second plain
//! host in that place instead, to see what the third place in the turn order does alone),
//! `TICK_TO_ORDER_METRICS=1` (a third variant, "host+metrics": `[metrics]` on, as `run` serves
//! it: order posts timed, a sample published every second, `/metrics` scraped every second).

#[path = "common/latency.rs"]
mod latency;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use strategy_host::engine::types::{MarketId, VenueId};
use strategy_host::runtime::EngineCore;
use strategy_host::runtime::link::CoreLink;
use strategy_host::runtime::venue_task::{Observers, run_venue_observed};
use strategy_host::stagetime::{self, NAMES, Stage};
use strategy_host::venue::hyperliquid::actions::{post_frame, sign_action};
use strategy_host::venue::hyperliquid::info::{AssetTable, Meta, PerpDex};
use strategy_host::venue::hyperliquid::signing::{NonceManager, PrivateKey};
use strategy_host::venue::hyperliquid::{HlAdapter, HlClientConfig};
use strategy_host_e2e::bench::{machine, quantile};
use tokio_tungstenite::tungstenite::Message;

/// Frames per turn.
const BLOCK: usize = 500;
/// The first block of each variant is warm-up, not reported.
const WARMUP: usize = BLOCK;
const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spin() -> bool {
    // Only `1`: `TICK_TO_ORDER_SPIN=0` spun too before (2026-12-02), a trap for scripted runs.
    std::env::var("TICK_TO_ORDER_SPIN").as_deref() == Ok("1")
}

fn period() -> Duration {
    Duration::from_micros(env_or("TICK_TO_ORDER_PERIOD_US", 1_500))
}

/// Measured events per variant, rounded up to whole blocks.
fn events() -> usize {
    env_or("TICK_TO_ORDER_EVENTS", 10_000usize).div_ceil(BLOCK) * BLOCK
}

type SyncWs = tokio_tungstenite::tungstenite::WebSocket<std::net::TcpStream>;

/// What the stamping venue shares with the variants: whose turn it is (an index into its
/// sessions), and whether it is done.
struct Schedule {
    turn: AtomicUsize,
    done: AtomicBool,
}

/// One connection of the stamping venue.
struct Session {
    ws: SyncWs,
    /// Frames sent to it so far (its frames' `time` field).
    sent: usize,
    /// The intended time of its latest frame.
    intended: Instant,
    /// Latencies (ns) of the orders it sent, with the turn of the frame that caused each.
    lat: Vec<(usize, u64)>,
}

/// Reads one text frame if one is ready (non-blocking).
fn try_read(ws: &mut SyncWs) -> Option<String> {
    match ws.read() {
        Ok(Message::Text(t)) => Some(t.as_str().to_string()),
        Ok(_) => None,
        Err(tokio_tungstenite::tungstenite::Error::Io(e))
            if e.kind() == std::io::ErrorKind::WouldBlock =>
        {
            None
        }
        Err(e) => panic!("venue read: {e}"),
    }
}

fn send(ws: &mut SyncWs, text: String) {
    ws.send(Message::text(text)).unwrap();
}

/// Accepts one connection and answers its handshake (blocking): subscriptions acknowledged and
/// the account-state requests answered (the host), or the bare client's hello (the baseline).
fn accept(listener: &std::net::TcpListener) -> SyncWs {
    let (tcp, _) = listener.accept().unwrap();
    tcp.set_nodelay(true).unwrap();
    // A small read buffer: tungstenite zero-fills its whole read buffer (128 KiB by default)
    // before every read, and this venue polls each socket continuously, so the default made one
    // polling round ~10 us: frames left late and orders were stamped late by up to that much.
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let mut ws = tokio_tungstenite::tungstenite::accept_with_config(tcp, Some(config)).unwrap();
    let mut sync_posts = 0;
    loop {
        let Ok(Message::Text(t)) = ws.read() else {
            continue;
        };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        match v["method"].as_str() {
            Some("subscribe") => {
                send(&mut ws, json!({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":v["subscription"]}}).to_string());
                if v["subscription"]["type"] == "activeAssetCtx" {
                    send(&mut ws, r#"{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"funding":"0","oraclePx":"100.0","markPx":"100.0","midPx":"100.0"}}}"#.to_string());
                }
            }
            Some("post") => {
                let kind = v["request"]["payload"]["type"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let data = match kind.as_str() {
                    "clearinghouseState" => json!({"assetPositions": [], "time": 1}),
                    "openOrders" => json!([]),
                    _ => json!({"cumVlm":"0","nRequestsUsed":0,"nRequestsCap":1_000_000_000u64}),
                };
                send(&mut ws, json!({"channel":"post","data":{"id":v["id"],"response":{"type":"info","payload":{"type":kind,"data":data}}}}).to_string());
                sync_posts += 1;
                if sync_posts >= 3 {
                    break;
                }
            }
            Some("bench") => break,
            _ => {}
        }
    }
    ws.get_mut().set_nonblocking(true).unwrap();
    ws
}

/// Answers whatever a session sent; an order is stamped and answered "no match".
fn serve(s: &mut Session) {
    while let Some(t) = try_read(&mut s.ws) {
        let arrived = Instant::now();
        let Ok(v) = serde_json::from_str::<Value>(&t) else {
            continue;
        };
        if v["method"] == "post" && v["request"]["type"] == "action" {
            let turn = s.sent.saturating_sub(1) / BLOCK;
            s.lat
                .push((turn, arrived.duration_since(s.intended).as_nanos() as u64));
            let n = v["request"]["payload"]["action"]["orders"]
                .as_array()
                .map_or(1, |a| a.len());
            let statuses: Vec<Value> = (0..n).map(|_| json!({"error":"Order could not immediately match against any resting orders."})).collect();
            send(&mut s.ws, json!({"channel":"post","data":{"id":v["id"],"response":{"type":"action","payload":{"status":"ok","response":{"type":"order","data":{"statuses":statuses}}}}}}).to_string());
        } else if v["method"] == "ping" {
            send(&mut s.ws, r#"{"channel":"pong"}"#.to_string());
        }
    }
}

/// The stamping venue: one listener per variant, served on this thread, which busy-polls
/// non-blocking sockets so each frame leaves at its intended time to the microsecond (a tokio
/// timer has 1 ms granularity) and each order is stamped the moment it can be read. Turns go
/// round the sessions, `BLOCK` frames each, until each has had `WARMUP + events()`.
fn stamp(listeners: Vec<std::net::TcpListener>, schedule: Arc<Schedule>) -> Vec<Vec<(usize, u64)>> {
    let mut sessions: Vec<Session> = listeners
        .iter()
        .map(|l| Session {
            ws: accept(l),
            sent: 0,
            intended: Instant::now(),
            lat: Vec::with_capacity(WARMUP + events()),
        })
        .collect();
    let settle = Instant::now() + Duration::from_millis(300);
    while Instant::now() < settle {
        sessions.iter_mut().for_each(serve);
    }
    let per_session = WARMUP + events();
    let turns = per_session / BLOCK * sessions.len();
    for turn in 0..turns {
        let who = turn % sessions.len();
        schedule.turn.store(who, Ordering::Release);
        // A quiet gap between turns: the previous variant's last answer is in, and the next one
        // has parked (or, spinning, has noticed its turn).
        let start = Instant::now() + Duration::from_millis(20);
        while Instant::now() < start {
            sessions.iter_mut().for_each(serve);
        }
        for i in 0..BLOCK {
            let intended = start + period() * i as u32;
            while Instant::now() < intended {
                sessions.iter_mut().for_each(serve);
                std::hint::spin_loop();
            }
            let s = &mut sessions[who];
            // A dislocation: the ask 50 bps under the oracle.
            let ask = if s.sent % 2 == 0 { "99.5" } else { "99.49" };
            let k = s.sent;
            send(
                &mut s.ws,
                format!(
                    r#"{{"channel":"bbo","data":{{"coin":"BTC","time":{k},"bbo":[{{"px":"99.4","sz":"10","n":1}},{{"px":"{ask}","sz":"10","n":1}}]}}}}"#
                ),
            );
            s.sent += 1;
            s.intended = intended;
        }
        let tail = Instant::now() + period() * 2;
        while Instant::now() < tail {
            sessions.iter_mut().for_each(serve);
        }
    }
    schedule.done.store(true, Ordering::Release);
    sessions.into_iter().map(|s| s.lat).collect()
}

/// Keeps a current-thread runtime polling while it is `me`'s turn, parked otherwise: the runtime's
/// own `busy_poll` (`[engine] busy_poll = true` in `run`), including its watch on the journal
/// writer.
fn spin_during_turn(
    schedule: Arc<Schedule>,
    me: usize,
    journal: Option<strategy_host::journal::writer::JournalHandle>,
) -> impl std::future::Future<Output = ()> {
    strategy_host::runtime::busy_poll(journal, move || schedule.turn.load(Ordering::Acquire) == me)
}

/// The host: the runtime's own venue task (frame → adapter → engine → post, no hop) with the
/// dislocation-entry .so and a journal, on one current_thread runtime. Returns the stage rows.
fn run_host(port: u16, schedule: Arc<Schedule>, me: usize) -> Vec<[u64; 9]> {
    run_host_with(port, schedule, me, false, false)
}

/// The host with `[metrics]` on: the venue task times its order posts and copies its counters,
/// the engine thread publishes a sample every second, and a scraper fetches `/metrics` every
/// second (Prometheus' usual interval is 15 s: this is harsher).
fn run_host_metrics(port: u16, schedule: Arc<Schedule>, me: usize) -> Vec<[u64; 9]> {
    run_host_with(port, schedule, me, false, true)
}

/// The host recording every frame it receives and sends (`[record]`, as `run` taps it).
fn run_host_recording(port: u16, schedule: Arc<Schedule>, me: usize) -> Vec<[u64; 9]> {
    run_host_with(port, schedule, me, true, false)
}

fn run_host_with(
    port: u16,
    schedule: Arc<Schedule>,
    me: usize,
    record: bool,
    metrics: bool,
) -> Vec<[u64; 9]> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let key = Arc::new(PrivateKey::from_hex(KEY).unwrap());
        let (engine, latch) = latency::dislocation_engine();
        let core = EngineCore::new(engine);
        // A journal as `run` keeps one: every order and refusal goes to the writer thread.
        // One directory per variant: two hosts in one run must not share a journal.
        let dir = strategy_host_e2e::scratch_dir(
            env!("CARGO_TARGET_TMPDIR"),
            &format!("tick-to-order-{me}"),
        );
        let recorder = record.then(|| {
            strategy_host::record::Recorder::start(
                &dir.join("recording"),
                vec![strategy_host::record::format::VenueHeader {
                    name: "bench".into(),
                    markets: vec![],
                }],
            )
            .unwrap()
        });
        let journal = strategy_host::journal::Journal::open(&dir.join("bench.db")).unwrap();
        let run_id = journal.start_run("bench", "bench", &[]).unwrap();
        let (op_tx, _op_rx) = tokio::sync::mpsc::unbounded_channel();
        let window = strategy_host::config::JournalConfig::default().commit_window_ms;
        let (jh, writer) = strategy_host::journal::writer::spawn(
            journal,
            run_id,
            op_tx,
            Duration::from_millis(window),
        );
        if std::env::var("BENCH_NO_JOURNAL").is_err() {
            core.borrow_mut().journal = Some(jh);
        } else {
            drop(jh); // the writer ends with its last handle
        }
        let meta: Meta =
            serde_json::from_str(r#"{"universe":[{"name":"BTC","szDecimals":3}]}"#).unwrap();
        let assets = AssetTable::from_perps(&[None::<PerpDex>], &[meta]).unwrap();
        let mut ccfg = HlClientConfig::new(
            VenueId(0),
            format!("ws://127.0.0.1:{port}/ws"),
            key.address(),
            vec![(MarketId(0), "BTC".into())],
        );
        ccfg.dead_man = None;
        let link = CoreLink {
            core: core.clone(),
            venue: VenueId(0),
            signal: core.borrow_mut().signal(VenueId(0)),
        };
        let adapter = HlAdapter::new(
            ccfg,
            assets,
            Some(key),
            Arc::new(NonceManager::new()),
            latch,
        );
        let tap = recorder.as_ref().map(|r| r.tap(0));
        let server = metrics.then(|| {
            std::rc::Rc::new(
                strategy_host::metrics::server::MetricsServer::start(
                    "127.0.0.1:0".parse().unwrap(),
                )
                .unwrap(),
            )
        });
        let vm = server.as_ref().map(|srv| {
            let vm = Arc::new(strategy_host::metrics::server::VenueMetrics::default());
            srv.add_venue("bench", vm.clone());
            vm
        });
        let task = tokio::task::spawn_local(run_venue_observed(
            adapter,
            link,
            Observers { tap, metrics: vm },
        ));
        let scraper = server.as_ref().map(|srv| {
            let (addr, schedule) = (srv.local_addr(), schedule.clone());
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut bytes = 0;
                while !schedule.done.load(Ordering::Acquire) {
                    if let Ok(mut c) = std::net::TcpStream::connect(addr) {
                        let _ = c.write_all(b"GET /metrics HTTP/1.1\r\n\r\n");
                        let mut s = String::new();
                        let _ = c.read_to_string(&mut s);
                        bytes = s.len();
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
                bytes
            })
        });
        let publisher = server.as_ref().map(|srv| {
            // As `run` does: a sample of the room and the engine, once a second.
            let (core, srv, schedule) = (core.clone(), srv.clone(), schedule.clone());
            tokio::task::spawn_local(async move {
                let mut lag = strategy_host::metrics::prom::LagWatch::default();
                let mut every = tokio::time::interval(Duration::from_secs(1));
                // How long each sample holds the engine thread.
                let mut took = Vec::new();
                while !schedule.done.load(Ordering::Acquire) {
                    every.tick().await;
                    let t = Instant::now();
                    let s = core.borrow_mut().sample(1, &mut lag);
                    took.push(t.elapsed().as_secs_f64() * 1e6);
                    srv.publish(s);
                }
                took.sort_by(|a, b| a.total_cmp(b));
                println!(
                    "  (host+metrics: {} samples on the engine thread, p50 {:.1} us, max {:.1} us)",
                    took.len(),
                    quantile(&took, 0.5),
                    took.last().copied().unwrap_or(0.0)
                );
            })
        });
        if spin() {
            let journal = core.borrow().journal.clone();
            tokio::task::spawn_local(spin_during_turn(schedule.clone(), me, journal));
        }
        while !schedule.done.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        core.borrow().shutdown_venues();
        let _ = task.await;
        if let Some(p) = publisher {
            let _ = p.await;
        }
        core.borrow_mut().settle();
        // The spinner holds a handle too: the writer ends on EndRun, as in `run`.
        if let Some(j) = core.borrow_mut().journal.take() {
            j.send(strategy_host::journal::writer::Record::EndRun);
        }
        writer.join().unwrap();
        if let Some(s) = scraper {
            let bytes = s.join().unwrap();
            println!("  (host+metrics: the last scrape was {bytes} bytes)");
        }
        if let Some(r) = recorder {
            let stats = r.finish().unwrap();
            println!(
                "  (host+record wrote {} lines)",
                stats.lines.iter().sum::<u64>()
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
    stagetime::take()
}

/// The baseline: sign and send a pre-built order for every frame; nothing else.
fn run_baseline(port: u16, schedule: Arc<Schedule>, me: usize) -> Vec<[u64; 9]> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        if spin() {
            tokio::spawn(spin_during_turn(schedule.clone(), me, None));
        }
        let key = PrivateKey::from_hex(KEY).unwrap();
        let (ws, _) = tokio_tungstenite::connect_async_with_config(
            format!("ws://127.0.0.1:{port}/ws"),
            None,
            true,
        )
        .await
        .unwrap();
        let (mut sink, mut stream) = ws.split();
        sink.send(Message::text(r#"{"method":"bench"}"#))
            .await
            .unwrap();
        let nonces = NonceManager::new();
        let mut buf = Vec::with_capacity(256);
        let mut id = 0u64;
        let action = latency::baseline_order();
        while !schedule.done.load(Ordering::Acquire) {
            let msg = tokio::select! {
                m = stream.next() => m,
                _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
            };
            let Some(Ok(Message::Text(t))) = msg else {
                break;
            };
            if !t.as_str().starts_with(r#"{"channel":"bbo""#) {
                continue;
            }
            stagetime::mark(Stage::FrameRead);
            stagetime::mark(Stage::SignStart);
            id += 1;
            let nonce = nonces.next(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis() as u64,
            );
            let signed = sign_action(&key, &action, nonce, None, None, false, &mut buf).unwrap();
            stagetime::mark(Stage::Signed);
            let post = post_frame(id, &signed).unwrap();
            stagetime::mark(Stage::Framed);
            if sink.send(Message::text(post)).await.is_err() {
                break;
            }
            stagetime::written();
        }
    });
    stagetime::take()
}

/// The latencies (µs) of the measured turns (the first turn is warm-up), optionally of one turn.
fn measured(lat: &[(usize, u64)], turn: Option<usize>) -> Vec<f64> {
    let mut v: Vec<f64> = lat
        .iter()
        .filter(|(t, _)| *t * BLOCK >= WARMUP && turn.is_none_or(|k| *t == k))
        .map(|(_, n)| *n as f64 / 1000.0)
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// The host − baseline p50 gap turn by turn: turn k of each variant ran back to back, so each
/// pair met the same machine within ~1.5 s. Their median (and quartiles) is steadier than the
/// difference of the two overall medians when the VM's speed drifts within a run.
fn report_paired(label: &str, base: &[(usize, u64)], host: &[(usize, u64)]) {
    let turns = base.iter().chain(host).map(|(t, _)| *t).max().unwrap_or(0);
    let mut gaps: Vec<f64> = (WARMUP / BLOCK..=turns)
        .filter_map(|k| {
            let (b, h) = (measured(base, Some(k)), measured(host, Some(k)));
            (!b.is_empty() && !h.is_empty()).then(|| quantile(&h, 0.5) - quantile(&b, 0.5))
        })
        .collect();
    gaps.sort_by(|a, b| a.total_cmp(b));
    if gaps.is_empty() {
        return;
    }
    println!(
        "  {label} p50, paired by turn: median {:+.1} us (quartiles {:+.1} / {:+.1}, {} pairs)",
        quantile(&gaps, 0.5),
        quantile(&gaps, 0.25),
        quantile(&gaps, 0.75),
        gaps.len()
    );
}

fn report(name: &str, lat: &[(usize, u64)]) -> (f64, f64, f64) {
    let v = measured(lat, None);
    let (p50, p99, p999, max) = (
        quantile(&v, 0.5),
        quantile(&v, 0.99),
        quantile(&v, 0.999),
        *v.last().unwrap_or(&f64::NAN),
    );
    println!(
        "  {name:<10} n={:>6}  p50 {p50:8.1} us  p99 {p99:8.1} us  p99.9 {p999:8.1} us  max {max:9.1} us",
        v.len()
    );
    (p50, p99, max)
}

/// Median time of each stage since the frame was read (feature `stage-timing`).
fn report_stages(name: &str, rows: &[[u64; 9]]) {
    if rows.is_empty() {
        return;
    }
    let rows = &rows[rows.len().min(WARMUP)..];
    let mut line = format!("  {name:<10} stages (p50 us since frame read):");
    for (i, stage) in NAMES.iter().enumerate().skip(1) {
        let mut v: Vec<f64> = rows
            .iter()
            .map(|r| r[i])
            .filter(|t| *t > 0)
            .map(|t| t as f64 / 1000.0)
            .collect();
        if v.is_empty() {
            continue;
        }
        v.sort_by(|a, b| a.total_cmp(b));
        line.push_str(&format!("  {stage} {:.2}", quantile(&v, 0.5)));
    }
    println!("{line}");
}

type Variant = fn(u16, Arc<Schedule>, usize) -> Vec<[u64; 9]>;

fn main() {
    println!(
        "tick_to_order: intended frame time -> signed order received, loopback, one frame every {:?}, turns of {BLOCK} frames{}",
        period(),
        if spin() { ", spinning" } else { "" }
    );
    println!("machine: {}", machine());
    // `control`: the third variant is a second plain host, to see what its place in the turn
    // order alone does to it.
    let record_mode = std::env::var("TICK_TO_ORDER_RECORD").unwrap_or_default();
    let recording = record_mode == "1" || record_mode == "control";
    let mut variants: Vec<(&str, Variant)> = if std::env::var("BENCH_ONLY").as_deref() == Ok("host")
    {
        vec![("host", run_host)]
    } else {
        vec![("baseline", run_baseline), ("host", run_host)]
    };
    if record_mode == "control" {
        variants.push(("host(2)", run_host));
    } else if recording {
        variants.push(("host+rec", run_host_recording));
    } else if std::env::var("TICK_TO_ORDER_METRICS").as_deref() == Ok("1") {
        variants.push(("host+metrics", run_host_metrics));
    }
    let schedule = Arc::new(Schedule {
        turn: AtomicUsize::new(usize::MAX),
        done: AtomicBool::new(false),
    });
    let listeners: Vec<_> = variants
        .iter()
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let clients: Vec<_> = variants
        .iter()
        .enumerate()
        .map(|(i, (_, run))| {
            let port = listeners[i].local_addr().unwrap().port();
            let (run, schedule) = (*run, schedule.clone());
            std::thread::spawn(move || run(port, schedule, i))
        })
        .collect();
    let lat = stamp(listeners, schedule);
    let stages: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let mut p = Vec::new();
    for (i, (name, _)) in variants.iter().enumerate() {
        p.push(report(name, &lat[i]));
    }
    for (i, (name, _)) in variants.iter().enumerate() {
        report_stages(name, &stages[i]);
    }
    if let [_, (h50, h99, _), (r50, r99, rmax)] = p[..] {
        let third = variants[2].0;
        println!(
            "  {third} - host: p50 {:+.1} us, p99 {:+.1} us, {third} max {:.1} us",
            r50 - h50,
            r99 - h99,
            rmax
        );
        report_paired(&format!("{third} - host"), &lat[1], &lat[2]);
    }
    if let [(b50, b99, _), (h50, h99, hmax), ..] = p[..] {
        println!(
            "  host - baseline: p50 {:+.1} us (target <= +5), p99 {:+.1} us (target <= +20), host max {:.1} us (target < 1000)",
            h50 - b50,
            h99 - b99,
            hmax
        );
        report_paired("host - baseline", &lat[0], &lat[1]);
    }
}
