//! The Hyperliquid client against a local WebSocket server on 127.0.0.1 that speaks the protocol
//! (connect text, subscription acks, userFills snapshot, info and action posts, signature check)
//! and drops connections on demand. Events are fed into a real engine where it matters.

use futures_util::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strategy_host::engine::events::Event as VenueEvent;
use strategy_host::engine::events::{CancelOutcome, ConnectionState, PostOutcome};
use strategy_host::engine::hardstop::{HardStopLatch, HardStopReason};
use strategy_host::engine::scheduler::{ActionBatch, CancelRequest, OrderRequest};
use strategy_host::engine::types::{Cloid, MarketId, Side, Tif, VenueId};
use strategy_host::runtime::link::{ChannelLink, VenueCommand};
use strategy_host::runtime::venue_task::run_venue;
use strategy_host::venue::hyperliquid::info::{AssetTable, Meta, PerpDex};
use strategy_host::venue::hyperliquid::signing::{self, NonceManager, PrivateKey};
use strategy_host::venue::hyperliquid::{HlAdapter, HlClientConfig};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// What the fake venue saw and how it behaves.
#[derive(Default)]
struct Venue {
    /// Order cloids received (to prove nothing is sent twice).
    orders: Vec<String>,
    cancels: Vec<String>,
    schedule_cancels: u32,
    subscriptions: u32,
    sessions: u32,
    /// Drop the connection after receiving this many action posts in a session.
    drop_after_actions: Option<u32>,
    /// Do not answer action posts (to make outcomes unknown).
    silent: bool,
    bad_signatures: u32,
    /// `time` of each scheduleCancel received (None = the disarm).
    schedule_times: Vec<Option<u64>>,
    /// Woken on every scheduleCancel.
    schedule_seen: Arc<tokio::sync::Notify>,
    /// Sessions (1-based, counted from the first) whose clearinghouseState answer is unreadable.
    garbled_account_until_session: u32,
    /// Oids cancelled by `cancel` (by oid, not cloid).
    cancels_by_oid: Vec<u64>,
}

type Shared = Arc<Mutex<Venue>>;

fn verify(payload: &Value) -> bool {
    let mut buf = Vec::new();
    strategy_host::venue::hyperliquid::actions::msgpack_into(&payload["action"], &mut buf).unwrap();
    let nonce = payload["nonce"].as_u64().unwrap();
    let cid = signing::action_hash(&buf, nonce, None, None);
    let digest = signing::agent_digest(&cid, false);
    let hex = |k: &str| -> [u8; 32] {
        let v = signing::parse_hex(payload["signature"][k].as_str().unwrap()).unwrap();
        let mut out = [0u8; 32];
        out[32 - v.len()..].copy_from_slice(&v);
        out
    };
    let sig = signing::Signature {
        r: hex("r"),
        s: hex("s"),
        v: payload["signature"]["v"].as_u64().unwrap() as u8,
    };
    sig.recover(&digest) == Some(PrivateKey::from_hex(KEY).unwrap().address())
}

async fn serve(listener: TcpListener, venue: Shared) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let venue = venue.clone();
        tokio::spawn(async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                return;
            };
            venue.lock().unwrap().sessions += 1;
            let _ = ws
                .send(Message::text("Websocket connection established."))
                .await;
            let mut actions = 0u32;
            let mut oid = 1000u64;
            while let Some(Ok(Message::Text(t))) = ws.next().await {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                let mut replies: Vec<String> = Vec::new();
                match v["method"].as_str() {
                    Some("ping") => replies.push(r#"{"channel":"pong"}"#.into()),
                    Some("subscribe") => {
                        venue.lock().unwrap().subscriptions += 1;
                        let sub = &v["subscription"];
                        replies.push(json!({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":sub}}).to_string());
                        if sub["type"] == "userFills" {
                            // The snapshot: a fill from before (tid 1), resent on every (re)connect.
                            replies.push(json!({"channel":"userFills","data":{"isSnapshot":true,"user":sub["user"],"fills":[
                                {"coin":"BTC","px":"100.0","sz":"0.5","side":"B","time":900,"startPosition":"0","dir":"Open Long","closedPnl":"0","hash":"0x1","oid":7,"crossed":true,"fee":"0.01","tid":1,"feeToken":"USDC"}]}}).to_string());
                        }
                        if sub["type"] == "bbo" {
                            replies.push(json!({"channel":"bbo","data":{"coin":sub["coin"],"time":1,"bbo":[{"px":"99","sz":"1","n":1},{"px":"101","sz":"1","n":1}]}}).to_string());
                        }
                    }
                    Some("post") => {
                        let id = v["id"].clone();
                        let req = &v["request"];
                        if req["type"] == "info" {
                            let garbled = {
                                let v = venue.lock().unwrap();
                                v.sessions <= v.garbled_account_until_session
                            };
                            let data = match req["payload"]["type"].as_str().unwrap() {
                                "clearinghouseState" if garbled => {
                                    json!({"assetPositions":"not a list","time":1000})
                                }
                                "clearinghouseState" => {
                                    json!({"assetPositions":[{"position":{"coin":"BTC","szi":"0.5","entryPx":"100.0"},"type":"oneWay"}],"time":1000})
                                }
                                "openOrders" => json!([]),
                                "userRateLimit" => {
                                    json!({"cumVlm":"0","nRequestsUsed":10,"nRequestsCap":10000})
                                }
                                other => panic!("unexpected info {other}"),
                            };
                            replies.push(json!({"channel":"post","data":{"id":id,"response":{"type":"info","payload":{"type":req["payload"]["type"],"data":data}}}}).to_string());
                        } else {
                            let payload = &req["payload"];
                            let mut v2 = venue.lock().unwrap();
                            if !verify(payload) {
                                v2.bad_signatures += 1;
                            }
                            let action = &payload["action"];
                            actions += 1;
                            let answer = match action["type"].as_str().unwrap() {
                                "order" => {
                                    let statuses: Vec<Value> = action["orders"]
                                        .as_array()
                                        .unwrap()
                                        .iter()
                                        .map(|o| {
                                            v2.orders.push(o["c"].as_str().unwrap().to_string());
                                            oid += 1;
                                            json!({"resting":{"oid":oid}})
                                        })
                                        .collect();
                                    json!({"status":"ok","response":{"type":"order","data":{"statuses":statuses}}})
                                }
                                "cancelByCloid" => {
                                    let statuses: Vec<Value> = action["cancels"]
                                        .as_array()
                                        .unwrap()
                                        .iter()
                                        .map(|c| {
                                            v2.cancels
                                                .push(c["cloid"].as_str().unwrap().to_string());
                                            json!("success")
                                        })
                                        .collect();
                                    json!({"status":"ok","response":{"type":"cancel","data":{"statuses":statuses}}})
                                }
                                "cancel" => {
                                    let statuses: Vec<Value> = action["cancels"]
                                        .as_array()
                                        .unwrap()
                                        .iter()
                                        .map(|c| {
                                            v2.cancels_by_oid.push(c["o"].as_u64().unwrap());
                                            json!("success")
                                        })
                                        .collect();
                                    json!({"status":"ok","response":{"type":"cancel","data":{"statuses":statuses}}})
                                }
                                "scheduleCancel" => {
                                    v2.schedule_cancels += 1;
                                    v2.schedule_times.push(action["time"].as_u64());
                                    v2.schedule_seen.notify_one();
                                    json!({"status":"ok","response":{"type":"default"}})
                                }
                                other => panic!("unexpected action {other}"),
                            };
                            let drop_now = v2.drop_after_actions.is_some_and(|n| actions >= n);
                            let silent = v2.silent;
                            drop(v2);
                            if drop_now {
                                return; // the connection drops without an answer
                            }
                            if !silent {
                                replies.push(json!({"channel":"post","data":{"id":id,"response":{"type":"action","payload":answer}}}).to_string());
                            }
                        }
                    }
                    _ => {}
                }
                for r in replies {
                    if ws.send(Message::text(r)).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

struct Rig {
    venue: Shared,
    events: mpsc::UnboundedReceiver<VenueEvent>,
    commands: mpsc::UnboundedSender<VenueCommand>,
    latch: Arc<HardStopLatch>,
    task: tokio::task::JoinHandle<strategy_host::venue::AdapterStats>,
}

async fn rig(tweak: impl FnOnce(&mut HlClientConfig, &mut Venue)) -> Rig {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let key = Arc::new(PrivateKey::from_hex(KEY).unwrap());
    let mut cfg = HlClientConfig::new(
        VenueId(0),
        format!("ws://127.0.0.1:{port}/ws"),
        key.address(),
        vec![(MarketId(0), "BTC".into())],
    );
    cfg.backoff_min = Duration::from_millis(20);
    cfg.backoff_max = Duration::from_millis(100);
    cfg.dead_man = None;
    let mut venue = Venue::default();
    tweak(&mut cfg, &mut venue);
    let venue = Arc::new(Mutex::new(venue));
    tokio::spawn(serve(listener, venue.clone()));
    let meta: Meta =
        serde_json::from_str(r#"{"universe":[{"name":"BTC","szDecimals":3}]}"#).unwrap();
    let assets = AssetTable::from_perps(&[None::<PerpDex>], &[meta]).unwrap();
    let (ev_tx, events) = mpsc::unbounded_channel();
    let (commands, cmd_rx) = mpsc::unbounded_channel();
    let latch = Arc::new(HardStopLatch::new());
    let adapter = HlAdapter::new(
        cfg,
        assets,
        Some(key),
        Arc::new(NonceManager::new()),
        latch.clone(),
    );
    let task = tokio::spawn(run_venue(adapter, ChannelLink::new(ev_tx, cmd_rx)));
    Rig {
        venue,
        events,
        commands,
        latch,
        task,
    }
}

impl Rig {
    /// Next event, failing the test if none comes (a hang guard, not a timing assertion).
    async fn next(&mut self) -> VenueEvent {
        tokio::time::timeout(Duration::from_secs(10), self.events.recv())
            .await
            .expect("an event")
            .expect("client alive")
    }

    async fn until(&mut self, mut pred: impl FnMut(&VenueEvent) -> bool) -> Vec<VenueEvent> {
        let mut seen = Vec::new();
        loop {
            let e = self.next().await;
            let stop = pred(&e);
            seen.push(e);
            if stop {
                return seen;
            }
        }
    }

    async fn until_ready(&mut self) -> Vec<VenueEvent> {
        self.until(|e| {
            matches!(
                e,
                VenueEvent::Connection {
                    state: ConnectionState::Ready,
                    ..
                }
            )
        })
        .await
    }
}

fn order(c: u128, side: Side, px: &str, sz: &str, reduce_only: bool) -> OrderRequest {
    OrderRequest {
        cloid: Cloid(c),
        market: MarketId(0),
        side,
        px: d(px),
        sz: d(sz),
        tif: Tif::Gtc,
        reduce_only,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn sync_then_ready_in_the_right_order() {
    let mut r = rig(|_, _| {}).await;
    let events = r.until_ready().await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            VenueEvent::Connection {
                state: ConnectionState::Connected,
                ..
            } => "connected",
            VenueEvent::Bbo { .. } => "bbo",
            VenueEvent::AssetCtx { .. } => "ctx",
            VenueEvent::Reconciled { .. } => "reconciled",
            VenueEvent::Fill(_) => "fill",
            VenueEvent::VenueBudget { .. } => "budget",
            VenueEvent::Connection {
                state: ConnectionState::Ready,
                ..
            } => "ready",
            _ => "other",
        })
        .collect();
    let pos = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("{k} missing: {kinds:?}"))
    };
    assert_eq!(kinds[0], "connected");
    assert!(
        pos("reconciled") < pos("fill"),
        "fills held until the account state is known: {kinds:?}"
    );
    assert!(
        pos("fill") < pos("ready") && pos("budget") < pos("ready"),
        "{kinds:?}"
    );
    match events
        .iter()
        .find(|e| matches!(e, VenueEvent::Reconciled { .. }))
        .unwrap()
    {
        VenueEvent::Reconciled {
            as_of_ms,
            positions,
            ..
        } => {
            assert_eq!(*as_of_ms, 1000);
            assert_eq!(positions[0].size, d("0.5"));
        }
        _ => unreachable!(),
    }
    let bbo = events
        .iter()
        .find_map(|e| match e {
            VenueEvent::Bbo { bid, .. } => *bid,
            _ => None,
        })
        .unwrap();
    assert_eq!(bbo.px, d("99"));
    assert_eq!(r.venue.lock().unwrap().subscriptions, 4);
}

#[tokio::test(flavor = "current_thread")]
async fn orders_are_rounded_signed_and_answered() {
    let mut r = rig(|_, _| {}).await;
    r.until_ready().await;
    let batch = ActionBatch {
        venue: VenueId(0),
        cancels: vec![CancelRequest {
            cloid: Cloid(9),
            market: MarketId(0),
            oid: None,
        }],
        orders: vec![
            order(1, Side::Buy, "100.123456", "0.1239", false), // → 100.12 / 0.123
            order(2, Side::Buy, "100", "0.01", false),          // $1: below the minimum value
        ],
    };
    r.commands.send(VenueCommand::Send(batch)).unwrap();
    let evs = r
        .until(|e| {
            matches!(
                e,
                VenueEvent::PostResult {
                    cloid: Cloid(1),
                    ..
                }
            )
        })
        .await;
    assert!(
        evs.iter().any(|e| matches!(
            e,
            VenueEvent::PostResult {
                cloid: Cloid(2),
                outcome: PostOutcome::Rejected(
                    strategy_host::engine::reject::RejectReason::MinNotional
                )
            }
        )),
        "refused before signing: {evs:?}"
    );
    assert!(evs.iter().any(|e| matches!(
        e,
        VenueEvent::PostResult {
            cloid: Cloid(1),
            outcome: PostOutcome::Resting { .. }
        }
    )));
    let v = r.venue.lock().unwrap();
    assert_eq!(v.orders, vec![Cloid(1).to_string()]);
    assert_eq!(v.cancels, vec![Cloid(9).to_string()]);
    assert_eq!(
        v.bad_signatures, 0,
        "every post verifies as the venue would (testnet, phantom agent \"b\")"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_pre_send_guard_drops_new_orders_once_latched() {
    let mut r = rig(|_, _| {}).await;
    r.until_ready().await;
    r.latch.trigger(HardStopReason::Operator);
    let batch = ActionBatch {
        venue: VenueId(0),
        cancels: vec![],
        orders: vec![
            order(1, Side::Buy, "100", "1", false),
            order(2, Side::Sell, "99", "0.5", true),
        ],
    };
    r.commands.send(VenueCommand::Send(batch)).unwrap();
    let evs = r
        .until(|e| {
            matches!(
                e,
                VenueEvent::PostResult {
                    cloid: Cloid(2),
                    ..
                }
            )
        })
        .await;
    assert!(
        evs.iter()
            .any(|e| matches!(e, VenueEvent::BatchDropped { cloids } if *cloids == vec![Cloid(1)])),
        "{evs:?}"
    );
    assert_eq!(
        r.venue.lock().unwrap().orders,
        vec![Cloid(2).to_string()],
        "only the reduce-only order left"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_dropped_connection_reconnects_resubscribes_and_makes_outcomes_unknown() {
    let mut r = rig(|_, v| v.drop_after_actions = Some(1)).await;
    r.until_ready().await;
    let batch = ActionBatch {
        venue: VenueId(0),
        cancels: vec![],
        orders: vec![order(5, Side::Buy, "100", "1", false)],
    };
    r.commands.send(VenueCommand::Send(batch)).unwrap();
    // The server drops the connection instead of answering: the outcome is unknown, not rejected.
    let evs = r
        .until(|e| {
            matches!(
                e,
                VenueEvent::Connection {
                    state: ConnectionState::Disconnected,
                    ..
                }
            )
        })
        .await;
    assert!(
        evs.iter().any(|e| matches!(
            e,
            VenueEvent::PostResult {
                cloid: Cloid(5),
                outcome: PostOutcome::UnknownOutcome
            }
        )),
        "{evs:?}"
    );
    r.venue.lock().unwrap().drop_after_actions = None;
    let again = r.until_ready().await;
    assert!(
        again
            .iter()
            .any(|e| matches!(e, VenueEvent::Reconciled { .. })),
        "reconciled after every reconnect"
    );
    let v = r.venue.lock().unwrap();
    assert_eq!(v.sessions, 2);
    assert_eq!(v.subscriptions, 8, "resubscribed everything");
    assert_eq!(
        v.orders,
        vec![Cloid(5).to_string()],
        "the order was not re-sent on reconnect"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn reconnect_snapshots_never_count_a_fill_twice_in_the_engine() {
    use strategy_host::engine::testkit::{Harness, scripted};
    let mut r = rig(|_, v| v.drop_after_actions = Some(1)).await;
    let (s, _) = scripted("x", plugin_api::Role::Entry, &["hl/BTC"]);
    let mut h = Harness::new(Default::default(), Default::default(), &["hl/BTC"], vec![s]);
    let feed = |h: &mut Harness, evs: &[VenueEvent]| {
        for e in evs {
            h.handle(e.clone());
        }
    };
    let evs = r.until_ready().await;
    feed(&mut h, &evs);
    assert_eq!(h.engine.position(MarketId(0)).size, d("0.5"));
    // Drop and reconnect: the same snapshot fill (tid 1) arrives again.
    r.commands
        .send(VenueCommand::Send(ActionBatch {
            venue: VenueId(0),
            cancels: vec![CancelRequest {
                cloid: Cloid(1),
                market: MarketId(0),
                oid: None,
            }],
            orders: vec![],
        }))
        .unwrap();
    let evs = r
        .until(|e| {
            matches!(
                e,
                VenueEvent::Connection {
                    state: ConnectionState::Disconnected,
                    ..
                }
            )
        })
        .await;
    feed(&mut h, &evs);
    r.venue.lock().unwrap().drop_after_actions = None;
    let evs = r.until_ready().await;
    assert!(
        evs.iter()
            .any(|e| matches!(e, VenueEvent::Fill(f) if f.tid == 1)),
        "the snapshot was resent"
    );
    feed(&mut h, &evs);
    assert_eq!(
        h.engine.position(MarketId(0)).size,
        d("0.5"),
        "not 1.0: deduplicated"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn posts_in_flight_are_capped_and_unanswered_ones_time_out_unknown() {
    let mut r = rig(|c, v| {
        c.max_posts_in_flight = 1;
        c.post_timeout = Duration::from_millis(300);
        v.silent = true;
    })
    .await;
    r.until_ready().await;
    for c in [1u128, 2] {
        let b = ActionBatch {
            venue: VenueId(0),
            cancels: vec![],
            orders: vec![order(c, Side::Buy, "100", "1", false)],
        };
        r.commands.send(VenueCommand::Send(b)).unwrap();
    }
    let evs = r
        .until(|e| {
            matches!(
                e,
                VenueEvent::PostResult {
                    cloid: Cloid(2),
                    ..
                }
            )
        })
        .await;
    let first_unknown = evs
        .iter()
        .position(|e| {
            matches!(
                e,
                VenueEvent::PostResult {
                    cloid: Cloid(1),
                    outcome: PostOutcome::UnknownOutcome
                }
            )
        })
        .expect("1 unknown");
    let second = evs
        .iter()
        .position(|e| {
            matches!(
                e,
                VenueEvent::PostResult {
                    cloid: Cloid(2),
                    ..
                }
            )
        })
        .unwrap();
    assert!(first_unknown < second);
    // The second was only sent once the first stopped counting against the cap.
    assert_eq!(r.venue.lock().unwrap().orders.len(), 2);
    r.commands.send(VenueCommand::Shutdown).unwrap();
    let stats = r.task.await.unwrap();
    assert!(stats.unknown_outcomes >= 2);
}

#[tokio::test(flavor = "current_thread")]
async fn the_dead_man_switch_is_armed_while_live_and_cleared_on_shutdown() {
    let mut r = rig(|c, _| c.dead_man = Some(Duration::from_secs(30))).await;
    let seen = r.venue.lock().unwrap().schedule_seen.clone();
    r.until_ready().await;
    let wait = || tokio::time::timeout(Duration::from_secs(10), seen.notified());
    wait().await.expect("armed right after sync");
    r.commands.send(VenueCommand::Shutdown).unwrap();
    wait().await.expect("disarmed on an orderly shutdown");
    let stats = r.task.await.unwrap();
    assert_eq!(stats.dead_man_armed, 1);
    let times = r.venue.lock().unwrap().schedule_times.clone();
    assert_eq!(times.len(), 2);
    let armed_for = times[0].expect("a time") as i64
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
    assert!(armed_for > 5_000, "at least 5 s ahead: {armed_for} ms");
    assert_eq!(times[1], None, "no time clears it");
}

#[tokio::test(flavor = "current_thread")]
async fn an_unreadable_account_state_is_never_reconciled_as_flat() {
    let mut r = rig(|_, v| v.garbled_account_until_session = 2).await;
    let events = r.until_ready().await;
    let reconciled: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            VenueEvent::Reconciled { positions, .. } => Some(positions.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        reconciled.len(),
        1,
        "the failed sessions reconcile nothing (not an empty position list)"
    );
    assert_eq!(reconciled[0][0].size, d("0.5"));
    assert_eq!(
        r.venue.lock().unwrap().sessions,
        3,
        "the session retried until the account state was readable"
    );
    let disconnects = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                VenueEvent::Connection {
                    state: ConnectionState::Disconnected,
                    ..
                }
            )
        })
        .count();
    assert_eq!(
        disconnects, 2,
        "never Ready before the reconcile: {events:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn orders_known_only_by_oid_are_cancelled_by_oid() {
    let mut r = rig(|_, _| {}).await;
    r.until_ready().await;
    let adopted = Cloid::for_venue_oid(777);
    let batch = ActionBatch {
        venue: VenueId(0),
        cancels: vec![
            CancelRequest {
                cloid: adopted,
                market: MarketId(0),
                oid: Some(777),
            },
            CancelRequest {
                cloid: Cloid(9),
                market: MarketId(0),
                oid: Some(778),
            },
        ],
        orders: vec![],
    };
    r.commands.send(VenueCommand::Send(batch)).unwrap();
    let evs = r
        .until(|e| matches!(e, VenueEvent::CancelResult { cloid, .. } if *cloid == adopted))
        .await;
    assert!(
        evs.iter().any(|e| matches!(
            e,
            VenueEvent::CancelResult {
                outcome: CancelOutcome::Success,
                ..
            }
        )),
        "{evs:?}"
    );
    let v = r.venue.lock().unwrap();
    assert_eq!(v.cancels_by_oid, vec![777]);
    assert_eq!(
        v.cancels,
        vec![Cloid(9).to_string()],
        "a real cloid is cancelled by cloid"
    );
    assert_eq!(v.bad_signatures, 0);
}
