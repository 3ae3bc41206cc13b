//! Where a tick-to-order spends its time, stage by stage (the `stage-timing` feature; without it
//! every call here is empty and compiles to nothing).
//!
//! The venue client marks the stages of one frame on the thread that handles it; the
//! tick-to-order bench prints the percentiles (`cargo bench --bench tick_to_order --features
//! stage-timing`). A mark is one clock read (~30 ns on this machine), so the feature stays off
//! outside that measurement.

/// The stages, in the order a frame that causes an order passes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Stage {
    /// The WebSocket layer handed the client a text frame (time zero of the frame).
    FrameRead = 0,
    /// The frame is parsed.
    Parsed,
    /// The engine's handling begins (the event built, the inline sink entered).
    EngineIn,
    /// The engine (market state, strategies, gates, scheduler) is done with the event.
    EngineOut,
    /// The batches are taken and the notes counted: back in the client.
    Delivered,
    /// The order is rounded and its wire form built; signing begins.
    SignStart,
    /// Signed (msgpack, Keccak, ECDSA).
    Signed,
    /// The post frame's JSON is built.
    Framed,
    /// The frame is written to the socket (the last stage).
    Written,
}

const STAGES: usize = Stage::Written as usize + 1;

#[cfg(feature = "stage-timing")]
mod imp {
    use super::{STAGES, Stage};
    use std::cell::RefCell;
    use std::time::Instant;

    thread_local! {
        static CURRENT: RefCell<[Option<Instant>; STAGES]> = const { RefCell::new([None; STAGES]) };
        static DONE: RefCell<Vec<[u64; STAGES]>> = const { RefCell::new(Vec::new()) };
    }

    pub fn mark(s: Stage) {
        let now = Instant::now();
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            if s == Stage::FrameRead {
                *c = [None; STAGES];
            }
            c[s as usize] = Some(now);
        });
    }

    pub fn written() {
        mark(Stage::Written);
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            // Only frames that led to a signed post are kept.
            let (Some(t0), Some(_)) = (c[0], c[Stage::SignStart as usize]) else {
                return;
            };
            let mut row = [0u64; STAGES];
            for (i, t) in c.iter().enumerate().skip(1) {
                row[i] = t.map_or(0, |t| t.duration_since(t0).as_nanos() as u64);
            }
            *c = [None; STAGES];
            DONE.with(|d| d.borrow_mut().push(row));
        });
    }

    pub fn take() -> Vec<[u64; STAGES]> {
        DONE.with(|d| std::mem::take(&mut *d.borrow_mut()))
    }
}

#[cfg(not(feature = "stage-timing"))]
mod imp {
    use super::{STAGES, Stage};
    #[inline(always)]
    pub fn mark(_: Stage) {}
    #[inline(always)]
    pub fn written() {}
    pub fn take() -> Vec<[u64; STAGES]> {
        Vec::new()
    }
}

/// Marks a stage of the frame being handled on this thread.
#[inline(always)]
pub fn mark(s: Stage) {
    imp::mark(s)
}

/// Marks the post written and keeps the frame's stages (ns since `FrameRead`; 0: not passed).
#[inline(always)]
pub fn written() {
    imp::written()
}

/// Takes the stages kept on this thread since the last call (empty without the feature).
pub fn take() -> Vec<[u64; STAGES]> {
    imp::take()
}

/// The stages' names, by index.
pub const NAMES: [&str; STAGES] = [
    "frame read",
    "parsed",
    "engine in",
    "engine out",
    "delivered",
    "sign start",
    "signed",
    "framed",
    "written",
];
