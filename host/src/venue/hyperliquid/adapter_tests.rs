//! The adapter alone, with no socket and no runtime: frames and time in, engine events and
//! frames out. What the venue task does with them is tested in tests/venue_client.rs.

use super::adapter::HlAdapter;
use super::client_config::HlClientConfig;
use super::info::{AssetTable, Meta, PerpDex};
use super::signing::{NonceManager, PrivateKey};
use crate::engine::events::{ConnectionState, Event, PostOutcome, VenuePosition};
use crate::engine::hardstop::{HardStopLatch, HardStopReason};
use crate::engine::reject::RejectReason;
use crate::engine::scheduler::{ActionBatch, OrderRequest};
use crate::engine::types::{Cloid, MarketId, Side, Tif, VenueId};
use crate::venue::{Now, Outbox, SessionEnd, VenueAdapter};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

fn adapter(latch: Arc<HardStopLatch>) -> HlAdapter {
    let key = Arc::new(PrivateKey::from_hex(KEY).unwrap());
    let mut cfg = HlClientConfig::new(
        VenueId(0),
        "ws://127.0.0.1:1/ws".into(),
        key.address(),
        vec![(MarketId(0), "BTC".into())],
    );
    cfg.dead_man = None;
    let meta: Meta =
        serde_json::from_str(r#"{"universe":[{"name":"BTC","szDecimals":3}]}"#).unwrap();
    let assets = AssetTable::from_perps(&[None::<PerpDex>], &[meta]).unwrap();
    HlAdapter::new(cfg, assets, Some(key), Arc::new(NonceManager::new()), latch)
}

fn post_id(frame: &str) -> u64 {
    serde_json::from_str::<Value>(frame).unwrap()["id"]
        .as_u64()
        .unwrap()
}

fn info_answer(id: u64, kind: &str, data: Value) -> String {
    json!({"channel":"post","data":{"id":id,"response":{"type":"info","payload":{"type":kind,"data":data}}}})
        .to_string()
}

/// A synced adapter and its time (for the fuzz run).
pub(super) fn synced_adapter(latch: Arc<HardStopLatch>) -> (HlAdapter, Now) {
    let (a, now, _) = synced(latch);
    (a, now)
}

/// Connects and acknowledges every subscription: the adapter, the time, the events so far and
/// the account-state requests it then sent.
fn subscribed(latch: Arc<HardStopLatch>) -> (HlAdapter, Now, Vec<Event>, Vec<String>) {
    let mut a = adapter(latch);
    let now = Now {
        mono: Instant::now(),
        wall_ms: 1_700_000_000_000,
    };
    let mut out = Outbox::default();
    a.on_connect(now, &mut out);
    assert_eq!(
        out.frames.len(),
        4,
        "bbo, activeAssetCtx, orderUpdates, userFills"
    );
    let events = std::mem::take(&mut out.events);
    out.frames.clear();
    let ack =
        r#"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{}}}"#;
    for _ in 0..4 {
        a.on_frame(ack, now, &mut out);
    }
    (a, now, events, std::mem::take(&mut out.frames))
}

/// Connects and syncs with a position of 0.5 BTC; returns the adapter ready and the time.
fn synced(latch: Arc<HardStopLatch>) -> (HlAdapter, Now, Vec<Event>) {
    let (mut a, now, mut events, infos) = subscribed(latch);
    let mut out = Outbox::default();
    assert_eq!(
        infos.len(),
        3,
        "clearinghouseState, openOrders, userRateLimit: {infos:?}"
    );
    // A fill before the account state is known is held, not lost.
    a.on_frame(
        r#"{"channel":"userFills","data":{"isSnapshot":true,"user":"0x0","fills":[{"coin":"BTC","px":"100.0","sz":"0.5","side":"B","time":900,"startPosition":"0","dir":"Open Long","closedPnl":"0","hash":"0x1","oid":7,"crossed":true,"fee":"0.01","tid":1,"feeToken":"USDC"}]}}"#,
        now,
        &mut out,
    );
    assert!(out.events.is_empty(), "held until reconciled");
    assert!(!a.can_write(), "no batch before the sync ends");
    let ch = json!({"assetPositions":[{"position":{"coin":"BTC","szi":"0.5","entryPx":"100.0"},"type":"oneWay"}],"time":1000});
    a.on_frame(
        &info_answer(post_id(&infos[0]), "clearinghouseState", ch),
        now,
        &mut out,
    );
    a.on_frame(
        &info_answer(post_id(&infos[1]), "openOrders", json!([])),
        now,
        &mut out,
    );
    let rl = json!({"cumVlm":"0","nRequestsUsed":10,"nRequestsCap":10000});
    a.on_frame(
        &info_answer(post_id(&infos[2]), "userRateLimit", rl),
        now,
        &mut out,
    );
    events.append(&mut out.events);
    assert!(a.can_write());
    (a, now, events)
}

#[test]
fn the_sync_ends_in_reconciled_held_fills_budget_then_ready() {
    let (_, _, events) = synced(Arc::new(HardStopLatch::new()));
    let venue = VenueId(0);
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(
        events[0],
        Event::Connection {
            venue,
            state: ConnectionState::Connected
        }
    );
    assert_eq!(
        events[1],
        Event::Reconciled {
            venue,
            as_of_ms: 1000,
            positions: vec![VenuePosition {
                market: MarketId(0),
                size: Decimal::new(5, 1),
                entry_px: Decimal::new(1000, 1),
            }],
            open_orders: vec![],
        }
    );
    assert!(matches!(events[2], Event::Fill(f) if f.tid == 1));
    assert_eq!(
        events[3],
        Event::VenueBudget {
            venue,
            used: 10,
            cap: 10000
        }
    );
    assert_eq!(
        events[4],
        Event::Connection {
            venue,
            state: ConnectionState::Ready
        }
    );
}

fn order(cloid: u128, px: &str, reduce_only: bool) -> OrderRequest {
    OrderRequest {
        cloid: Cloid(cloid),
        market: MarketId(0),
        side: Side::Buy,
        px: px.parse().unwrap(),
        sz: Decimal::new(1, 2),
        tif: Tif::Ioc,
        reduce_only,
    }
}

#[test]
fn a_batch_becomes_signed_frames_and_its_refusals_come_back_as_events() {
    let latch = Arc::new(HardStopLatch::new());
    let (mut a, now, _) = synced(latch.clone());
    let mut out = Outbox::default();
    // A market bbo frame is an engine event, nothing else.
    a.on_frame(
        r#"{"channel":"bbo","data":{"coin":"BTC","time":1,"bbo":[{"px":"99","sz":"1","n":1},{"px":"101","sz":"1","n":1}]}}"#,
        now,
        &mut out,
    );
    assert!(matches!(
        out.events[..],
        [Event::Bbo {
            market: MarketId(0),
            ..
        }]
    ));
    assert!(out.frames.is_empty());
    out.events.clear();
    // One order is sendable; one is below the minimum value (refused before signing, as an
    // event); the latch then drops new orders from a batch already handed out.
    let batch = ActionBatch {
        venue: VenueId(0),
        cancels: vec![],
        orders: vec![order(1, "2000", false), order(2, "1", false)],
    };
    a.write(batch, now, &mut out);
    assert_eq!(out.frames.len(), 1, "one signed order action");
    assert_eq!(
        out.events,
        vec![Event::PostResult {
            cloid: Cloid(2),
            outcome: PostOutcome::Rejected(RejectReason::MinNotional)
        }]
    );
    let id = post_id(&out.frames[0]);
    out.frames.clear();
    out.events.clear();
    latch.trigger(HardStopReason::Operator);
    let batch = ActionBatch {
        venue: VenueId(0),
        cancels: vec![],
        orders: vec![order(3, "2000", false), order(4, "2000", true)],
    };
    a.write(batch, now, &mut out);
    assert_eq!(
        out.events,
        vec![Event::BatchDropped {
            cloids: vec![Cloid(3)]
        }]
    );
    assert_eq!(out.frames.len(), 1, "the reduce-only order still goes");
    out.frames.clear();
    out.events.clear();
    // The answer to the first post, then a session end: the second post's outcome is unknown.
    let answer = json!({"channel":"post","data":{"id":id,"response":{"type":"action","payload":{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":77}}]}}}}}});
    a.on_frame(&answer.to_string(), now, &mut out);
    assert_eq!(
        out.events,
        vec![Event::PostResult {
            cloid: Cloid(1),
            outcome: PostOutcome::Resting { oid: 77 }
        }]
    );
    out.events.clear();
    a.on_disconnect(&mut out);
    assert_eq!(
        out.events,
        vec![
            Event::PostResult {
                cloid: Cloid(4),
                outcome: PostOutcome::UnknownOutcome
            },
            Event::Connection {
                venue: VenueId(0),
                state: ConnectionState::Disconnected
            }
        ]
    );
    assert_eq!(a.stats().unknown_outcomes, 1);
}

#[test]
fn silence_ends_the_session_and_an_unreadable_account_state_never_reconciles() {
    let (mut a, now, _) = synced(Arc::new(HardStopLatch::new()));
    let mut out = Outbox::default();
    let later = Now {
        mono: now.mono + Duration::from_secs(61),
        ..now
    };
    a.on_tick(later, &mut out);
    assert_eq!(out.end, Some(SessionEnd::Idle(Duration::from_secs(60))));

    let (mut a, now, _, infos) = subscribed(Arc::new(HardStopLatch::new()));
    let mut out = Outbox::default();
    let garbled = json!({"assetPositions":"not a list","time":1000});
    a.on_frame(
        &info_answer(post_id(&infos[0]), "clearinghouseState", garbled),
        now,
        &mut out,
    );
    assert!(
        matches!(&out.end, Some(SessionEnd::Reconcile(why)) if why.contains("clearinghouseState")),
        "{:?}",
        out.end
    );
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, Event::Reconciled { .. }))
    );
}

#[test]
fn a_hostile_stream_cannot_grow_memory_or_flood_the_log() {
    let (mut a, now, _) = synced(Arc::new(HardStopLatch::new()));
    let mut out = Outbox::default();
    let long = "x".repeat(10_000);
    for i in 0..5_000 {
        a.on_frame(
            &format!(r#"{{"channel":"junk{i}","data":{{}}}}"#),
            now,
            &mut out,
        );
        a.on_frame(
            &format!(r#"{{"channel":"error","data":"{long}{i}"}}"#),
            now,
            &mut out,
        );
    }
    assert!(out.events.is_empty() && out.frames.is_empty());
    let s = a.stats();
    assert_eq!(s.unknown_channels, 5_000);
    assert_eq!(s.venue_errors, 5_000);
    // Names remembered (each logged once) stay bounded, and repeated warnings are logged
    // 3 + log2(n) times.
    assert!(a.names_remembered() <= super::decode::MAX_REMEMBERED_NAMES);
    let logged = (1..=5_000u64).filter(|n| crate::venue::log_nth(*n)).count();
    assert_eq!(logged, 3 + 11, "1, 2, 3, then 4, 8, …, 4096");
    assert_eq!(
        crate::logging::cut(&long).len(),
        200,
        "a venue's text is cut for the log"
    );
}
