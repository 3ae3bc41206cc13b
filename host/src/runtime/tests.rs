//! The runtime's own tests (the end-to-end ones are in `tests/`).
use super::*;
use crate::engine::Engine;
use crate::engine::config::{EngineConfig, RiskLimits};
use crate::engine::events::ConnectionState;
use crate::engine::hardstop::HardStopLatch;
use crate::engine::testkit::scripted;
use crate::engine::types::{Level, MarketKey, MarketRegistry, VenueId};
use plugin_api::{Intent, MarketIdx, PlaceIntent, Role, Side, Tif};
use rust_decimal::Decimal;
use std::sync::Arc;

fn count(path: &std::path::Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// An inline event's journal records wait until the client has written its posts (`settle`);
/// an event from the runtime's own loop is journaled at once.
#[test]
fn inline_journal_records_wait_for_settle() {
    let dir = std::env::temp_dir().join(format!("sh-settle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("j.db");
    let journal = crate::journal::Journal::open(&path).unwrap();
    let run = journal.start_run("c", "h", &[]).unwrap();
    let (op_tx, _op_rx) = mpsc::unbounded_channel();
    let (jh, writer) = crate::journal::writer::spawn(journal, run, op_tx, Duration::ZERO);

    let (slot, script) = scripted("entry", Role::Entry, &["hl/BTC"]);
    let mut reg = MarketRegistry::new();
    let m = reg.intern(&MarketKey::parse("hl/BTC").unwrap());
    let latch = Arc::new(HardStopLatch::new());
    let limits = RiskLimits {
        max_notional_per_market: 1_000.into(),
        max_notional_total: 1_000.into(),
        ..RiskLimits::default()
    };
    let engine = Engine::new(
        EngineConfig::default(),
        limits,
        reg,
        vec![slot],
        latch,
        1,
        16,
    )
    .unwrap();
    let core = EngineCore::new(engine);
    let mut c = core.borrow_mut();
    c.journal = Some(jh.clone());
    let venue = VenueId(0);
    let mut ready = Vec::new();
    c.handle(
        Event::Connection {
            venue,
            state: ConnectionState::Ready,
        },
        None,
    );
    let px = Decimal::from(100);
    c.handle(
        Event::AssetCtx {
            market: m,
            oracle: px,
            mark: px,
            mid: None,
            funding: Decimal::ZERO,
        },
        Some(venue),
    );
    ready.extend(c.next_batch_for(venue));
    script
        .lock()
        .unwrap()
        .next
        .push_back(Intent::Place(PlaceIntent::new(
            MarketIdx(0),
            Side::Buy,
            px,
            Decimal::ONE,
            Tif::Ioc,
        )));
    // A book that makes sense: bid below ask (a locked book is refused `bad_market_data`).
    let level = Level {
        px,
        sz: Decimal::TEN,
    };
    let bid = Level {
        px: px - Decimal::ONE,
        ..level
    };
    c.handle(
        Event::Bbo {
            market: m,
            bid: Some(bid),
            ask: Some(level),
        },
        Some(venue),
    );
    ready.extend(c.next_batch_for(venue));
    assert_eq!(ready.len(), 1, "the order's batch is handed back inline");
    assert!(jh.flush(Duration::from_secs(10)));
    assert_eq!(count(&path, "orders"), 0, "nothing journaled before settle");
    c.settle();
    assert!(jh.flush(Duration::from_secs(10)));
    assert_eq!(count(&path, "orders"), 1, "journaled after settle");
    // Every state change is journaled: queued, sent, then the venue's answer.
    let cloid = ready[0].orders[0].cloid;
    c.handle(
        Event::PostResult {
            cloid,
            outcome: crate::engine::events::PostOutcome::Rejected(
                crate::engine::reject::RejectReason::IocNoMatch,
            ),
        },
        Some(venue),
    );
    ready.extend(c.next_batch_for(venue));
    c.settle();
    assert!(jh.flush(Duration::from_secs(10)));
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        crate::journal::order_event_states(&conn),
        ["queued", "sent", "rejected"]
    );
    let state: String = conn
        .query_row("SELECT state FROM orders", [], |r| r.get(0))
        .unwrap();
    assert_eq!(state, "rejected");
    // From the runtime's own loop (no client to settle): journaled at once.
    c.handle(Event::Operator(OperatorCommand::HardStop), None);
    assert!(jh.flush(Duration::from_secs(10)));
    assert_eq!(count(&path, "hardstop"), 1, "journaled without settle");
    c.journal = None;
    drop(c);
    jh.send(crate::journal::writer::Record::EndRun);
    drop(jh);
    writer.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
