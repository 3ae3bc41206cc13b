//! The simulator's server: one loopback port serving WebSocket `/ws` and HTTP `/info` and
//! `/exchange`, a ticker publishing market data, and fault injection.

use crate::sim::exchange::{AccountSpec, Exchange, Push};
use publish::{deliver, publish};
use ws::ws_session;

mod publish;
mod ws;
use crate::venue::hyperliquid::signing::Address;
use futures_util::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

pub use crate::sim::config::{Faults, SimAccount, SimConfig};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("simulator config: {0}")]
    Config(String),
    #[error("cannot listen on 127.0.0.1:{port}: {cause}")]
    Bind { port: u16, cause: std::io::Error },
}

/// What a subscription is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Topic {
    Bbo(String),
    Ctx(String),
    /// (coin, (nSigFigs, mantissa): None for the full book)
    Book(String, Option<(u32, u32)>),
    AllMids,
    Trades(String),
    /// (coin, interval)
    Candle(String, String),
    OrderUpdates(Address),
    UserFills(Address),
    /// The `user` channel: the user's fills and liquidations.
    UserEvents(Address),
    UserFundings(Address),
    WebData2(Address),
    TwapStates(Address),
    TwapSliceFills(Address),
    TwapHistory(Address),
    /// (user, dex)
    OpenOrders(Address, String),
    /// (user, dex)
    ClearinghouseState(Address, String),
    SpotState(Address),
    /// (user, coin)
    AssetData(Address, String),
    /// A dex's asset contexts (`assetCtxs`).
    AssetCtxs(String),
    AllDexsAssetCtxs,
    AllDexsClearinghouseState(Address),
    WebData3(Address),
}

struct Sub {
    conn: u64,
    topic: Topic,
    tx: mpsc::UnboundedSender<String>,
}

/// Everything the server tasks share (a std Mutex: never held across an await).
pub struct State {
    pub exchange: Exchange,
    subs: Vec<Sub>,
    next_conn: u64,
    faults: Faults,
    pub start_ms: u64,
    /// WebSocket sessions accepted so far.
    pub sessions: u64,
    /// Bumped to make every WebSocket session end (fault injection and tests).
    drop_tx: watch::Sender<u64>,
    /// Live fill frames routed so far (for `drop_fill_every`).
    fill_frames: u64,
    /// Live fill frames lost on purpose (`drop_fill_every`), and phantom fills pushed.
    pub fills_dropped: u64,
    pub phantom_fills: u64,
    /// Market frames published broken (`bad_book`), and frames cut (`truncate_every`).
    pub bad_frames: u64,
    pub truncated_frames: u64,
    frames_pushed: u64,
    /// The last bbo pushed per market: the venue pushes a bbo only when it changed.
    last_bbo: Vec<Option<(Decimal, Decimal)>>,
    ticks: u64,
}

impl State {
    /// The `truncate_every` fault: every Nth frame pushed goes out cut in half.
    fn maybe_truncate(&mut self, frame: String) -> String {
        let n = self.faults.truncate_every;
        if n == 0 {
            return frame;
        }
        self.frames_pushed += 1;
        if self.frames_pushed % u64::from(n) != 0 {
            return frame;
        }
        self.truncated_frames += 1;
        let mut cut = frame.len() / 2;
        while !frame.is_char_boundary(cut) {
            cut -= 1;
        }
        frame[..cut].to_string()
    }
}

/// A running simulator.
#[derive(Clone)]
pub struct SimHandle {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    shutdown: watch::Sender<bool>,
}

impl SimHandle {
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Closes every WebSocket connection now (clients reconnect).
    pub fn drop_connections(&self) {
        let s = self.state.lock().expect("sim state");
        s.drop_tx.send_modify(|n| *n += 1);
    }

    /// A user's position in `coin` on the simulator.
    pub fn position(&self, user: &Address, coin: &str) -> Decimal {
        self.state
            .lock()
            .expect("sim state")
            .exchange
            .accounts
            .get(user)
            .map_or(Decimal::ZERO, |a| a.position(coin))
    }

    pub fn open_orders(&self, user: &Address) -> usize {
        self.state
            .lock()
            .expect("sim state")
            .exchange
            .accounts
            .get(user)
            .map_or(0, |a| a.orders.len())
    }

    pub fn approve_agent(&self, account: Address, agent: Address) {
        self.state
            .lock()
            .expect("sim state")
            .exchange
            .approve_agent(account, agent);
    }

    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Starts a simulator on 127.0.0.1:`port` (0 = any free port).
pub async fn spawn(cfg: SimConfig, port: u16) -> Result<SimHandle, SimError> {
    if cfg.markets.is_empty() {
        return Err(SimError::Config("no [[sim.markets]]".into()));
    }
    let mut accounts = Vec::new();
    for a in &cfg.accounts {
        let address = Address::parse(&a.address).ok_or_else(|| {
            SimError::Config(format!("account `{}` is not an address", a.address))
        })?;
        let agents = a
            .agents
            .iter()
            .map(|g| {
                Address::parse(g)
                    .ok_or_else(|| SimError::Config(format!("agent `{g}` is not an address")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let abstraction = match a.abstraction.as_deref() {
            None | Some("default") => None,
            Some(m @ ("disabled" | "dexAbstraction")) => Some(m.to_string()),
            Some(m) => {
                return Err(SimError::Config(format!(
                    "account `{}`: abstraction `{m}` is not one of default, disabled, dexAbstraction",
                    a.address
                )));
            }
        };
        accounts.push(AccountSpec {
            address,
            usdc: a.usdc,
            spot_usdc: a.spot_usdc,
            agents,
            abstraction,
        });
    }
    let now = wall_ms();
    let mut exchange = Exchange::new(cfg.seed, cfg.markets.clone(), accounts, now);
    exchange.add_spot(&cfg.spot);
    exchange.reject_every = cfg.faults.reject_every;
    exchange.hip3 = cfg.hip3.clone();
    exchange.staking = cfg.staking.clone();
    exchange.tick(now);
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| SimError::Bind {
            port,
            cause: source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        port,
        cause: source,
    })?;
    let (drop_tx, _) = watch::channel(0u64);
    let state = Arc::new(Mutex::new(State {
        exchange,
        subs: Vec::new(),
        next_conn: 1,
        faults: cfg.faults.clone(),
        start_ms: now,
        sessions: 0,
        drop_tx,
        fill_frames: 0,
        fills_dropped: 0,
        phantom_fills: 0,
        bad_frames: 0,
        truncated_frames: 0,
        frames_pushed: 0,
        last_bbo: Vec::new(),
        ticks: 0,
    }));
    let (shutdown, shutdown_rx) = watch::channel(false);
    tokio::spawn(accept_loop(listener, state.clone(), shutdown_rx.clone()));
    tokio::spawn(tick_loop(state.clone(), cfg.tick_ms.max(10), shutdown_rx));
    tracing::info!(%addr, markets = cfg.markets.len(), "simulator listening");
    Ok(SimHandle {
        addr,
        state,
        shutdown,
    })
}

async fn tick_loop(state: Arc<Mutex<State>>, tick_ms: u64, mut shutdown: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(Duration::from_millis(tick_ms));
    let mut last_drop = wall_ms();
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = wall_ms();
        let mut s = state.lock().expect("sim state");
        let elapsed = now.saturating_sub(s.start_ms);
        // Fault: a stalled market publishes nothing (and refuses orders) for a while.
        if let Some(coin) = s.faults.stall_coin.clone()
            && let Some(i) = s.exchange.market_index(&coin)
        {
            let f = &s.faults;
            s.exchange.markets[i].stalled =
                elapsed >= f.stall_after_ms && elapsed < f.stall_after_ms + f.stall_for_ms;
        }
        if s.faults.drop_every_ms > 0 && now.saturating_sub(last_drop) >= s.faults.drop_every_ms {
            last_drop = now;
            s.drop_tx.send_modify(|n| *n += 1);
        }
        let mut pushes = s.exchange.tick(now);
        if s.faults.phantom_fill_at_ms.is_some_and(|t| elapsed >= t) {
            s.faults.phantom_fill_at_ms = None;
            let users: Vec<Address> = s
                .subs
                .iter()
                .filter_map(|sub| match &sub.topic {
                    Topic::UserFills(u) => Some(*u),
                    _ => None,
                })
                .collect();
            for user in users {
                pushes.push(s.exchange.phantom_fill(user));
                s.phantom_fills += 1;
            }
        }
        s.ticks += 1;
        let n = s.exchange.markets.len();
        s.last_bbo.resize(n, None);
        for i in 0..n {
            if s.exchange.markets[i].stalled {
                continue;
            }
            let top = s.exchange.markets[i].bbo(now);
            let bbo_changed = s.last_bbo[i] != Some(top);
            s.last_bbo[i] = Some(top);
            let coin = s.exchange.markets[i].spec.coin.clone();
            let (mut bbo, mut ctx) = s.exchange.market_frames(i);
            let f = &s.faults;
            if f.bad_book_coin.as_deref() == Some(coin.as_str())
                && elapsed >= f.bad_book_after_ms
                && elapsed < f.bad_book_after_ms + f.bad_book_for_ms
                && let Some(kind) = f.bad_book.as_deref()
            {
                (bbo, ctx) = corrupt(kind, &bbo, &ctx);
                s.bad_frames += 1;
            }
            let book = json!({"channel":"l2Book","data": s.exchange.book_json(i, now)}).to_string();
            // Books aggregated to the significant figures their subscribers asked for.
            let mut sig: Vec<((u32, u32), String)> = Vec::new();
            for sub in &s.subs {
                if let Topic::Book(c, Some(n)) = &sub.topic
                    && *c == coin
                    && !sig.iter().any(|(m, _)| m == n)
                {
                    let data = s
                        .exchange
                        .info(&json!({"type": "l2Book", "coin": coin, "nSigFigs": n.0, "mantissa": n.1}))
                        .unwrap_or_default();
                    sig.push((*n, json!({"channel": "l2Book", "data": data}).to_string()));
                }
            }
            let (bbo, ctx) = (s.maybe_truncate(bbo), s.maybe_truncate(ctx));
            s.subs.retain(|sub| {
                let frame = match &sub.topic {
                    Topic::Bbo(c) if *c == coin && bbo_changed => &bbo,
                    Topic::Ctx(c) if *c == coin => &ctx,
                    Topic::Book(c, None) if *c == coin => &book,
                    Topic::Book(c, Some(n)) if *c == coin => {
                        match sig.iter().find(|(m, _)| m == n) {
                            Some((_, f)) => f,
                            None => return true,
                        }
                    }
                    _ => return true,
                };
                sub.tx.send(frame.clone()).is_ok()
            });
        }
        deliver(&mut s, pushes);
        publish(&mut s);
    }
}

/// The `bad_book` fault: the bbo and activeAssetCtx frames of a market, broken as asked.
fn corrupt(kind: &str, bbo: &str, ctx: &str) -> (String, String) {
    let mut b: Value = serde_json::from_str(bbo).expect("own bbo frame");
    let mut c: Value = serde_json::from_str(ctx).expect("own ctx frame");
    let levels = &mut b["data"]["bbo"];
    match kind {
        "crossed" => {
            let (bid, ask) = (levels[0]["px"].clone(), levels[1]["px"].clone());
            levels[0]["px"] = ask;
            levels[1]["px"] = bid;
        }
        "zero" => {
            levels[0]["px"] = json!("0");
            levels[1]["px"] = json!("0");
        }
        "far_mark" => {
            let mark: Decimal = c["data"]["ctx"]["markPx"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_default();
            c["data"]["ctx"]["markPx"] = json!((mark * Decimal::new(12, 1)).to_string());
        }
        _ => {}
    }
    (b.to_string(), c.to_string())
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<Mutex<State>>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = shutdown.changed() => return,
        };
        let Ok((tcp, _)) = conn else { continue };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(handle_connection(tcp, state.clone()));
    }
}

/// Reads one HTTP request head (and body); routes to the WebSocket or HTTP handlers.
async fn handle_connection(mut tcp: TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        if !path.starts_with("/ws") {
            let _ = tcp
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await;
            return;
        }
        let Some(key) = header("sec-websocket-key") else {
            return;
        };
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let resp = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        if tcp.write_all(resp.as_bytes()).await.is_err() {
            return;
        }
        let ws = WebSocketStream::from_raw_socket(tcp, Role::Server, None).await;
        ws_session(ws, state).await;
        return;
    }
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let req: Result<Value, _> = serde_json::from_slice(&body[..len.min(body.len())]);
    let (status, answer) = match (method, path, req) {
        ("POST", "/info", Ok(v)) => match info(&state, &v) {
            Ok(data) => (200, data.to_string()),
            // The venue answers a request it cannot read with 422 and a plain-text reason
            // (the SDKs raise their client error on it).
            Err(e) => (
                422,
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            ),
        },
        ("POST", "/exchange", Ok(v)) => (200, exchange(&state, &v).await.to_string()),
        ("POST", "/explorer", Ok(v)) => {
            let mut s = state.lock().expect("sim state");
            stamp(&mut s);
            match s.exchange.explorer(&v) {
                Ok(data) => (200, data.to_string()),
                Err(e) => (
                    422,
                    format!("Failed to deserialize the JSON body into the target type: {e}"),
                ),
            }
        }
        ("POST", _, Err(e)) => (400, json!({"error": format!("bad JSON: {e}")}).to_string()),
        _ => (404, "{}".to_string()),
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Unprocessable Entity",
    };
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        if status == 422 {
            "text/plain; charset=utf-8"
        } else {
            "application/json"
        },
        answer.len()
    );
    let _ = tcp.write_all(resp.as_bytes()).await;
    let _ = tcp.shutdown().await;
}

/// Requests are stamped with the wall clock (like the venue's block and query times), not the
/// last tick's: a fill made between two ticks must not share its time with an account state
/// served before it.
fn stamp(s: &mut State) {
    s.exchange.now_ms = s.exchange.now_ms.max(wall_ms());
}

fn info(state: &Arc<Mutex<State>>, req: &Value) -> Result<Value, String> {
    let mut s = state.lock().expect("sim state");
    stamp(&mut s);
    s.exchange.info(req)
}

async fn exchange(state: &Arc<Mutex<State>>, req: &Value) -> Value {
    let delay = state.lock().expect("sim state").faults.post_delay_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mut s = state.lock().expect("sim state");
    stamp(&mut s);
    let (resp, pushes) = s.exchange.exchange(req);
    deliver(&mut s, pushes);
    resp
}
