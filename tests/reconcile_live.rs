//! The venue is the authority while the session stays up: a hostile simulator loses live fill
//! frames or invents a fill, and the host finds out, reconciles over HTTP without dropping the
//! WebSocket, corrects its positions to the venue's and journals each correction. Real runtime,
//! real plugins, two simulators on loopback.

mod support;

use strategy_host::config::Config;
use support::{On, fast_config, logs, positions_match, run_for};

/// The fast default config with quick asked-for reconciles, `faults` on both simulators and
/// `risk` added to `[risk]`.
fn config(faults: &str, risk: &str, test: &str) -> Config {
    let risk = format!("[risk]\n{risk}");
    let edits = [
        (
            "dead_man_secs = 30\n",
            "dead_man_secs = 30\nreconcile_min_secs = 1\n",
        ),
        ("[risk]\n", risk.as_str()),
    ];
    fast_config(faults, On::Both, &edits, test)
}

fn corrections(cfg: &Config) -> i64 {
    let conn = rusqlite::Connection::open(cfg.journal_path()).unwrap();
    conn.query_row("SELECT COUNT(*) FROM corrections", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn lost_fill_frames_are_found_and_the_positions_corrected_from_the_venue() {
    logs();
    // Corrections a second apart are expected here: keep the repeat rule out of the way.
    let cfg = config(
        "[venues.sim.faults]\ndrop_fill_every = 3\n",
        "drift_repeat_window_ms = 1\nmax_drift_notional = 100000\n",
        "lost-fills",
    );
    let out = run_for(&cfg, 14).await;
    let dropped: u64 = out
        .sims
        .iter()
        .map(|s| s.handle.state.lock().unwrap().fills_dropped)
        .sum();
    assert!(dropped > 0, "the fault lost fill frames");
    let fixed: u64 = out.summary.drift_corrections.values().sum();
    assert!(
        fixed > 0,
        "drift found and corrected: {}",
        out.summary.render()
    );
    assert!(
        corrections(&cfg) as u64 >= fixed,
        "every correction is journaled"
    );
    let reconciles: u64 = out.summary.venues.values().map(|v| v.reconciles).sum();
    assert!(reconciles > 0);
    let sessions: u64 = out.summary.venues.values().map(|v| v.sessions).sum();
    assert_eq!(sessions, 2, "reconciled without dropping the WebSocket");
    assert_eq!(out.summary.hard_stop, None, "{}", out.summary.render());
    positions_match(&out);
}

#[tokio::test(flavor = "current_thread")]
async fn a_fill_for_an_order_nobody_sent_is_undone_by_the_venue_s_account_state() {
    logs();
    let cfg = config(
        "[venues.sim.faults]\nphantom_fill_at_ms = 2500\n",
        "",
        "phantom-fill",
    );
    let out = run_for(&cfg, 8).await;
    let phantoms: u64 = out
        .sims
        .iter()
        .map(|s| s.handle.state.lock().unwrap().phantom_fills)
        .sum();
    assert!(phantoms > 0, "the fault pushed a phantom fill");
    assert!(
        out.summary.reconcile_requests.values().sum::<u64>() > 0,
        "an unmatched fill asks for a reconcile"
    );
    assert!(
        corrections(&cfg) > 0,
        "the phantom position was corrected away"
    );
    positions_match(&out);
}
