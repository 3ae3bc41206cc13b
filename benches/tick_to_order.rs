//! Tick-to-order latency on loopback: from the intended send time of a market-data frame that
//! shows a dislocation, to the moment the venue receives the signed order it caused.
//!
//! Run: `cargo bench --bench tick_to_order` (figures go in docs/BENCHMARKS.md).
//!
//! A stamping venue, on its own thread and runtime, sends one dislocation frame every `period()` on a
//! fixed schedule (each frame's intended time is start + k × period, so a late frame counts as
//! latency: no coordinated omission) and records, for the order that frame caused, arrival −
//! intended time. It answers each order "no match" so the next frame can trade again.
//!
//! - host: the real pipeline on one current_thread runtime: the Hyperliquid client (parse,
//!   dispatch), the engine (state, gates, scheduler), the real `dislocation-entry` .so, the
//!   pre-send guard, tick rounding, msgpack, signing, the post.
//! - baseline: a bare client on the same socket library that signs and sends a pre-built order
//!   action for every frame (same sockets and signing, no parse, no engine).

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strategy_host::engine::Engine;
use strategy_host::engine::config::{EngineConfig, RiskLimits};
use strategy_host::engine::hardstop::HardStopLatch;
use strategy_host::engine::types::{MarketId, MarketKey, MarketRegistry, VenueId};
use strategy_host::plugins::loader::{StrategySpec, create_strategy, load_library};
use strategy_host::plugins::timer::CallTimer;
use strategy_host::runtime::{EngineCore, InlineSink};
use strategy_host::venue::events::VenueCommand;
use strategy_host::venue::hyperliquid::actions::{
    Action, Grouping, OrderTypeWire, OrderWire, TifWire, post_frame, sign_action,
};
use strategy_host::venue::hyperliquid::client::{HlClient, HlClientConfig};
use strategy_host::venue::hyperliquid::info::{AssetTable, Meta, PerpDex};
use strategy_host::venue::hyperliquid::signing::{NonceManager, PrivateKey};
use strategy_host_e2e::bench::{machine, quantile};
use strategy_host_e2e::plugin_path;
use tokio_tungstenite::tungstenite::Message;

const EVENTS: usize = 10_000;
const WARMUP: usize = 500;
/// `TICK_TO_ORDER_SPIN=1`: both variants keep their runtime from parking (a task that always
/// yields makes tokio poll the socket without a timeout): caches and the core stay warm.
fn spin() -> bool {
    std::env::var("TICK_TO_ORDER_SPIN").is_ok()
}

/// Frame period; `TICK_TO_ORDER_PERIOD_US` overrides it (to see how much of the latency is caches
/// gone cold between frames).
fn period() -> Duration {
    static P: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *P.get_or_init(|| {
        let us = std::env::var("TICK_TO_ORDER_PERIOD_US")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_500);
        Duration::from_micros(us)
    })
}
const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

/// The stamping venue, on a thread of its own that busy-polls a non-blocking socket: it sends
/// each frame at its intended time to the microsecond (a tokio timer has 1 ms granularity, which
/// would add its own lateness) and stamps each order the moment it can be read.
/// Returns its port and the latencies (ns) it records.
fn start_venue() -> (u16, Arc<Mutex<Vec<u64>>>) {
    let lat = Arc::new(Mutex::new(Vec::with_capacity(EVENTS + WARMUP)));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = lat.clone();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_nodelay(true).unwrap();
        let ws = tokio_tungstenite::tungstenite::accept(tcp).unwrap();
        session(ws, out);
    });
    (port, lat)
}

type SyncWs = tokio_tungstenite::tungstenite::WebSocket<std::net::TcpStream>;

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

fn session(mut ws: SyncWs, lat: Arc<Mutex<Vec<u64>>>) {
    // Handshake (blocking): acknowledge subscriptions and answer the account-state requests.
    let mut synced = false;
    let mut sync_posts = 0;
    while !synced {
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
                synced = sync_posts >= 3;
            }
            Some("bench") => synced = true, // the baseline client
            _ => {}
        }
    }
    ws.get_mut().set_nonblocking(true).unwrap();
    let settle = Instant::now() + Duration::from_millis(300);
    while Instant::now() < settle {
        let _ = try_read(&mut ws);
    }
    let total = EVENTS + WARMUP;
    let start = Instant::now();
    let mut k = 0usize;
    let mut next = start;
    while lat.lock().unwrap().len() < total {
        let now = Instant::now();
        if k < total && now >= next {
            // A dislocation: the ask 50 bps under the oracle.
            let ask = if k % 2 == 0 { "99.5" } else { "99.49" };
            send(
                &mut ws,
                format!(
                    r#"{{"channel":"bbo","data":{{"coin":"BTC","time":{k},"bbo":[{{"px":"99.4","sz":"10","n":1}},{{"px":"{ask}","sz":"10","n":1}}]}}}}"#
                ),
            );
            k += 1;
            next = start + period() * k as u32;
        }
        if k >= total && now > next + Duration::from_secs(2) {
            break; // the last orders never came
        }
        let Some(t) = try_read(&mut ws) else {
            std::hint::spin_loop();
            continue;
        };
        let arrived = Instant::now();
        let Ok(v) = serde_json::from_str::<Value>(&t) else {
            continue;
        };
        if v["method"] == "post" && v["request"]["type"] == "action" {
            let intended = start + period() * (k as u32 - 1);
            lat.lock()
                .unwrap()
                .push(arrived.duration_since(intended).as_nanos() as u64);
            let n = v["request"]["payload"]["action"]["orders"]
                .as_array()
                .map_or(1, |a| a.len());
            let statuses: Vec<Value> = (0..n).map(|_| json!({"error":"Order could not immediately match against any resting orders."})).collect();
            send(&mut ws, json!({"channel":"post","data":{"id":v["id"],"response":{"type":"action","payload":{"status":"ok","response":{"type":"order","data":{"statuses":statuses}}}}}}).to_string());
        } else if v["method"] == "ping" {
            send(&mut ws, r#"{"channel":"pong"}"#.to_string());
        }
    }
}

/// The host: the runtime's own inline path (client task → engine → post, no hop) with the
/// dislocation-entry .so, on one current_thread runtime.
fn run_host(port: u16) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let key = Arc::new(PrivateKey::from_hex(KEY).unwrap());
        let lib = load_library("dislocation-entry", &plugin_path("dislocation-entry")).unwrap();
        let spec = StrategySpec {
            plugin_spec: "dislocation-entry",
            name: "entry",
            markets: vec!["bench/BTC".into()],
            params_toml: "threshold_bps = 40\nnotional = 100\n",
            params_origin: "bench",
            call_budget_us: 50,
        };
        let slot = create_strategy(&lib, spec, CallTimer::calibrate()).unwrap();
        let mut reg = MarketRegistry::new();
        reg.intern(&MarketKey::parse("bench/BTC").unwrap());
        let latch = Arc::new(HardStopLatch::new());
        let cfg = EngineConfig {
            action_budget: 1_000_000,
            action_refill_per_sec: 1_000_000,
            stale_after_ms: 60_000,
            ..EngineConfig::default()
        };
        let limits = RiskLimits {
            max_notional_per_market: 1_000_000.into(),
            max_notional_total: 1_000_000.into(),
            ..RiskLimits::default()
        };
        let engine = Engine::new(cfg, limits, reg, vec![slot], latch.clone(), 1, 16).unwrap();
        let core = EngineCore::new(engine);
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
        let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
        core.borrow_mut().add_route(VenueId(0), cmd_tx.clone());
        let sink = InlineSink {
            core: core.clone(),
            venue: VenueId(0),
        };
        let client = HlClient::new(
            ccfg,
            assets,
            Some(key),
            Arc::new(NonceManager::new()),
            latch,
            sink,
            cmd_rx,
        );
        let task = tokio::task::spawn_local(client.run());
        if spin() {
            // As `[engine] busy_poll = true` does in `run`.
            tokio::task::spawn_local(async {
                loop {
                    tokio::task::yield_now().await;
                }
            });
        }
        tokio::time::sleep(period() * (EVENTS + WARMUP) as u32 + Duration::from_secs(3)).await;
        let _ = cmd_tx.send(VenueCommand::Shutdown);
        let _ = task.await;
    });
}

/// The baseline: sign and send a pre-built order for every frame; nothing else.
fn run_baseline(port: u16) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        if spin() {
            tokio::spawn(async {
                loop {
                    tokio::task::yield_now().await;
                }
            });
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
        let action = Action::Order {
            orders: vec![OrderWire {
                a: 0,
                b: true,
                p: "99.5".into(),
                s: "1.005".into(),
                r: false,
                t: OrderTypeWire::Limit { tif: TifWire::Ioc },
                c: None,
            }],
            grouping: Grouping::Na,
            builder: None,
        };
        let deadline =
            Instant::now() + period() * (EVENTS + WARMUP) as u32 + Duration::from_secs(3);
        while Instant::now() < deadline {
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
            id += 1;
            let nonce = nonces.next(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis() as u64,
            );
            let signed = sign_action(&key, &action, nonce, None, None, false, &mut buf).unwrap();
            let post = post_frame(id, &signed).unwrap();
            if sink.send(Message::text(post)).await.is_err() {
                break;
            }
        }
    });
}

fn report(name: &str, lat: &Arc<Mutex<Vec<u64>>>) -> (f64, f64, f64) {
    let mut v: Vec<f64> = lat
        .lock()
        .unwrap()
        .iter()
        .skip(WARMUP)
        .map(|n| *n as f64 / 1000.0)
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
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

fn main() {
    println!(
        "tick_to_order: intended frame time -> signed order received, loopback, one frame every {:?}",
        period()
    );
    println!("machine: {}", machine());
    if std::env::var("BENCH_ONLY").as_deref() == Ok("host") {
        // For profiling the host path alone (perf record).
        let (hport, hlat) = start_venue();
        run_host(hport);
        report("host", &hlat);
        return;
    }
    let (bport, blat) = start_venue();
    run_baseline(bport);
    let (hport, hlat) = start_venue();
    run_host(hport);
    let (b50, b99, _) = report("baseline", &blat);
    let (h50, h99, hmax) = report("host", &hlat);
    println!(
        "  host - baseline: p50 {:+.1} us (target <= +5), p99 {:+.1} us (target <= +20), host max {:.1} us (target < 1000)",
        h50 - b50,
        h99 - b99,
        hmax
    );
}
