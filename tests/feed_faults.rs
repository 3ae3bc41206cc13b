//! A book that makes no sense is never traded: the simulator publishes a crossed book, or zero
//! prices, for one market for a few seconds; the host refuses every entry there
//! (`bad_market_data`), keeps trading the others, and ends with the simulator's positions.

mod support;

use strategy_host::config::Config;
use support::{On, fast_config, logs, positions_match, run_for};

fn config(faults: &str, test: &str) -> Config {
    fast_config(faults, On::SimA, &[], test)
}

/// Runs 10 s with `kind` published for simA/BTC from 2 s to 7 s after start.
async fn bad_book(kind: &str) {
    logs();
    let faults = format!(
        "[venues.sim.faults]\nbad_book = \"{kind}\"\nbad_book_coin = \"BTC\"\nbad_book_after_ms = 2000\nbad_book_for_ms = 5000\n"
    );
    let cfg = config(&faults, &format!("bad-book-{kind}"));
    let out = run_for(&cfg, 10).await;
    let s = &out.summary;
    let sim = out.sims.iter().find(|v| v.name == "simA").unwrap();
    let state = sim.handle.state.lock().unwrap();
    assert!(
        state.bad_frames > 0,
        "{kind}: the fault published broken frames"
    );
    // Entries reaching the venue while its BTC book made no sense (a frame in flight at the
    // start of the window may still carry an order made on sane data: 300 ms of margin).
    let (from, to) = (state.start_ms + 2_300, state.start_ms + 7_000);
    let entries: Vec<_> = state
        .exchange
        .order_arrivals
        .iter()
        .filter(|(t, coin, reduce_only)| coin == "BTC" && !reduce_only && *t >= from && *t < to)
        .collect();
    assert!(
        entries.is_empty(),
        "{kind}: entries on a bad book: {entries:?}"
    );
    drop(state);
    // A crossed book looks like the dislocation the entry strategy waits for: it asks, and the
    // host refuses. (On zero prices the strategy itself sees no edge and asks nothing.)
    if kind == "crossed" {
        assert!(
            s.refusals_by_reason
                .get("bad_market_data")
                .copied()
                .unwrap_or(0)
                > 0,
            "{kind}: refused and counted: {}",
            s.render()
        );
    }
    assert!(s.fills > 0, "the other markets kept trading");
    positions_match(&out);
}

#[tokio::test(flavor = "current_thread")]
async fn a_crossed_book_is_never_traded() {
    bad_book("crossed").await;
}

#[tokio::test(flavor = "current_thread")]
async fn zero_prices_are_never_traded() {
    bad_book("zero").await;
}

#[tokio::test(flavor = "current_thread")]
async fn truncated_frames_are_survived_and_what_they_lost_recovered() {
    logs();
    let cfg = config(
        "[venues.sim.faults]\ntruncate_every = 5\n",
        "truncated-frames",
    );
    let out = run_for(&cfg, 10).await;
    let s = &out.summary;
    let sim = out.sims.iter().find(|v| v.name == "simA").unwrap();
    assert!(sim.handle.state.lock().unwrap().truncated_frames > 0);
    let unreadable = s.venues.get("simA").map_or(0, |v| v.unreadable_frames);
    assert!(
        unreadable > 0,
        "the host saw the cut frames: {}",
        s.render()
    );
    assert!(s.fills > 0, "and kept trading");
    positions_match(&out);
}
