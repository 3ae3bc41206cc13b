//! Crash points for the kill-and-restart tests: `STRATEGY_HOST_CRASH_AT=<point>[:<n>]` makes the
//! process SIGKILL itself the n-th time (default 1st) it reaches `<point>`, so a test can kill the
//! host at an exact place (after an order left the socket but before its answer; after a fill
//! reached the engine but before the journal got it). Unset, a point costs one load of a cached
//! `Option` and a branch. Points:
//!
//! - `after_send`: an order post was written to the venue's socket.
//! - `after_fill`: the engine applied a fill; its journal record is not yet queued.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

struct Armed {
    point: String,
    nth: u32,
    seen: AtomicU32,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let v = std::env::var("STRATEGY_HOST_CRASH_AT").ok()?;
            let (point, nth) = match v.split_once(':') {
                Some((p, n)) => (p.to_string(), n.parse().unwrap_or(1)),
                None => (v, 1),
            };
            Some(Armed {
                point,
                nth,
                seen: AtomicU32::new(0),
            })
        })
        .as_ref()
}

/// SIGKILLs this process if the crash point `name` is armed and reached for the n-th time.
#[inline]
pub fn point(name: &str) {
    if let Some(a) = armed()
        && a.point == name
        && a.seen.fetch_add(1, Ordering::SeqCst) + 1 == a.nth
    {
        kill_self(name);
    }
}

/// What a Hyperliquid order post carries (its action type; a cancel is not an order).
pub const ORDER_ACTION: &str = r#""type":"order""#;

/// Whether `after_send` should be checked for this post frame (it carries an order action and a
/// crash point is armed).
#[inline]
pub fn is_order_post(frame: &str) -> bool {
    armed().is_some() && frame.contains(ORDER_ACTION)
}

fn kill_self(name: &str) -> ! {
    eprintln!("crash point {name} reached: SIGKILL");
    let pid = std::process::id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status();
    // SIGKILL is not deliverable only if `kill` could not run: end as abruptly anyway.
    std::process::abort()
}
