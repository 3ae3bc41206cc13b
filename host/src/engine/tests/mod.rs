//! Engine unit tests: every gate and reason code, HardStop triggers and actions, order lifecycle,
//! fill dedupe, pairs, the two exit paths. In-process scripted strategies, explicit time.

use super::config::{EngineConfig, RiskLimits};
use super::events::{
    CancelOutcome, ConnectionState, EngineNote, Event, FillEvent, OperatorCommand, PostOutcome,
    VenuePosition,
};
use super::hardstop::HardStopReason;
use super::orders::OrderState;
use super::reject::RejectReason;
use super::testkit::{Harness, MS, Seen, scripted};
use super::types::{Cloid, MarketId, VenueId};
use plugin_api::{
    FlattenKind, FlattenReason, Intent, MarketIdx, PlaceIntent, RejectCode, Role, Side, Tif,
};
use rust_decimal::Decimal;
use std::str::FromStr;

mod backoff;
mod feed;
mod gates;
mod hard_stop;
mod lifecycle;
mod reconcile;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn buy(m: u32, px: &str, sz: &str) -> Intent {
    Intent::Place(
        PlaceIntent::new(MarketIdx(m), Side::Buy, d(px), d(sz), Tif::Ioc).with_tag(m as u64 + 1),
    )
}

fn sell(m: u32, px: &str, sz: &str) -> Intent {
    Intent::Place(
        PlaceIntent::new(MarketIdx(m), Side::Sell, d(px), d(sz), Tif::Ioc).with_tag(m as u64 + 11),
    )
}

fn flatten(m: u32, kind: FlattenKind) -> Intent {
    Intent::Flatten(plugin_api::FlattenIntent {
        market: MarketIdx(m),
        reason: FlattenReason::new(kind, 0),
        max_slippage_bps: None.into(),
    })
}

fn limits() -> RiskLimits {
    RiskLimits {
        max_notional_per_market: d("1000"),
        max_notional_total: d("1500"),
        ..RiskLimits::default()
    }
}

/// One entry strategy on two markets of venue `hl` and one exit strategy on the first.
struct World {
    h: Harness,
    entry: super::testkit::ScriptHandle,
    exit: super::testkit::ScriptHandle,
    a: MarketId,
    b: MarketId,
}

fn world_with(cfg: EngineConfig, limits: RiskLimits) -> World {
    let (es, entry) = scripted("entry", Role::Entry, &["hl/BTC", "hl/ETH"]);
    let (xs, exit) = scripted("exit", Role::Exit, &["hl/BTC"]);
    let mut h = Harness::new(cfg, limits, &["hl/BTC", "hl/ETH"], vec![es, xs]);
    let (a, b) = (h.market("hl/BTC"), h.market("hl/ETH"));
    h.all_ready();
    h.quote(a, d("99"), d("101"), d("100"));
    h.quote(b, d("99"), d("101"), d("100"));
    World {
        h,
        entry,
        exit,
        a,
        b,
    }
}

fn world() -> World {
    world_with(EngineConfig::default(), limits())
}

/// Queues intents for a scripted strategy's next call.
fn queue(script: &super::testkit::ScriptHandle, intents: &[Intent]) {
    script.lock().unwrap().next.extend(intents.iter().copied());
}

impl World {
    /// Queues intents for the entry strategy and ticks market `a` so it emits them.
    fn entry_does(&mut self, intents: &[Intent]) {
        queue(&self.entry, intents);
        let a = self.a;
        self.h.quote(a, d("99"), d("101"), d("100"));
    }

    fn exit_does(&mut self, intents: &[Intent]) {
        queue(&self.exit, intents);
        let a = self.a;
        self.h.quote(a, d("99"), d("101"), d("100"));
    }

    /// Queues intents for the exit strategy and calls it with the current data (a timer tick).
    fn exit_does_on_current(&mut self, intents: &[Intent]) {
        queue(&self.exit, intents);
        self.h.handle(Event::Timer);
    }

    fn rejects(&self, script: &super::testkit::ScriptHandle) -> Vec<RejectCode> {
        script
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter_map(|s| match s {
                Seen::Reject(r) => Some(r.reason),
                _ => None,
            })
            .collect()
    }

    /// Opens a long of `sz` in market a through a filled entry.
    fn open_long(&mut self, sz: &str) -> Cloid {
        self.entry_does(&[buy(0, "101", sz)]);
        let b = self.h.batches();
        let c = b[0].orders[0].cloid;
        self.h.fill_ioc(c, d("101"));
        c
    }
}
