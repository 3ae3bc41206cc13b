//! Recording the venues' frames: every frame each venue connection receives (and, during `run`,
//! sends), with its time in ns, written by a thread of its own as LZ4-compressed JSON lines
//! rotated hourly ([`format`]; docs/backtest.md). `strategy-host record` drives market-data
//! connections of its own ([`feed`]); `run` taps its venue tasks when `[record] dir` is set.
//!
//! The trading thread's share is one clock read and one queue push per frame: the frame's text is
//! reference-counted (the socket's own buffer, no copy), the push never wakes the recorder (it
//! polls), and compression, JSON checks and file I/O all happen on the recorder thread, which
//! runs under `SCHED_IDLE`.

pub mod feed;
pub mod format;

use format::{Dir, Header, VenueHeader};
use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// `[record]`: record every venue's frames during `run`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordConfig {
    /// Where the files go (relative to the config file).
    pub dir: PathBuf,
}

/// How often the recorder thread drains its queue (the queue is never waited on, so a push
/// never makes a system call).
const POLL: Duration = Duration::from_millis(20);
/// How often what was written is flushed to the file (an LZ4 block ends there): a crash loses
/// at most this much of a recording.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

enum Payload {
    Frame(Utf8Bytes),
    Text(&'static str),
}

struct Entry {
    t_ns: u64,
    venue: u16,
    dir: Dir,
    payload: Payload,
}

/// The current time in ns since the epoch (the recording's clock).
#[inline]
pub fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Frames queued and not yet written past which new ones are dropped (and counted): a recorder
/// starved of CPU must not take the host's memory with it.
const MAX_BACKLOG: u64 = 200_000;

/// Counters the taps and the recorder thread share (each on its own cache line: the trading
/// thread writes `pushed`, the recorder `written`).
#[derive(Default)]
struct Backlog {
    pushed: Padded,
    written: Padded,
    dropped: Padded,
}

#[derive(Default)]
#[repr(align(64))]
struct Padded(std::sync::atomic::AtomicU64);

/// A venue's handle on the recorder (cheap to clone; a dead recorder makes pushes no-ops).
#[derive(Clone)]
pub struct Tap {
    tx: mpsc::Sender<Entry>,
    venue: u16,
    backlog: std::sync::Arc<Backlog>,
}

impl Tap {
    /// A frame received from the venue.
    #[inline]
    pub fn frame_in(&self, frame: &Utf8Bytes) {
        self.push(Dir::In, Payload::Frame(frame.clone()));
    }

    /// A frame sent to the venue.
    #[inline]
    pub fn frame_out(&self, frame: &Utf8Bytes) {
        self.push(Dir::Out, Payload::Frame(frame.clone()));
    }

    /// The connection's state changed (`connected`, `ready`, `down`).
    pub fn session(&self, what: &'static str) {
        self.push(Dir::Session, Payload::Text(what));
    }

    #[inline]
    fn push(&self, dir: Dir, payload: Payload) {
        use std::sync::atomic::Ordering::Relaxed;
        let b = &self.backlog;
        if b.pushed
            .0
            .load(Relaxed)
            .saturating_sub(b.written.0.load(Relaxed))
            >= MAX_BACKLOG
        {
            b.dropped.0.fetch_add(1, Relaxed);
            return;
        }
        b.pushed.0.fetch_add(1, Relaxed);
        let _ = self.tx.send(Entry {
            t_ns: wall_ns(),
            venue: self.venue,
            dir,
            payload,
        });
    }
}

/// What a recording wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RecordStats {
    /// Lines written per venue (by the header's order).
    pub lines: Vec<u64>,
    pub files: Vec<PathBuf>,
    /// Uncompressed bytes written.
    pub bytes: u64,
    /// Frames not recorded because the recorder had fallen `MAX_BACKLOG` behind (starved of
    /// CPU): 0 unless the machine had no idle core for minutes.
    pub dropped: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("recording {path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("recording: the recorder thread failed: {0}")]
    Thread(String),
}

/// Per venue: its header and the coins the config trades there, in registry order.
pub fn venue_headers(
    cfg: &crate::config::Config,
) -> anyhow::Result<Vec<(VenueHeader, Vec<String>)>> {
    use anyhow::Context;
    let mut out = Vec::new();
    for v in &cfg.raw.venues {
        let name = v.name.get_ref().clone();
        let mut coins: Vec<String> = Vec::new();
        for s in &cfg.raw.strategies {
            for m in s.market_keys() {
                let k = crate::engine::types::MarketKey::parse(&m).context("market key")?;
                if k.venue == name && !coins.contains(&k.coin) {
                    coins.push(k.coin);
                }
            }
        }
        let markets = coins
            .iter()
            .map(|c| format::MarketHeader {
                coin: c.clone(),
                sz_decimals: v.sim.as_ref().and_then(|s| {
                    s.markets
                        .iter()
                        .find(|m| m.coin == *c)
                        .map(|m| m.sz_decimals)
                }),
            })
            .collect();
        out.push((VenueHeader { name, markets }, coins));
    }
    Ok(out)
}

/// The recorder: a thread writing what the taps push.
pub struct Recorder {
    tx: mpsc::Sender<Entry>,
    /// Set by `finish`: the thread writes what is queued and ends (a tap still held by a task
    /// that did not end in time cannot keep it open).
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    backlog: std::sync::Arc<Backlog>,
    thread: std::thread::JoinHandle<Result<RecordStats, RecordError>>,
    /// The directory files go to.
    pub dir: PathBuf,
}

impl Recorder {
    /// Starts a recorder writing into `dir` (created if missing). `venues` name the taps' venues
    /// (tap `i` is `venues[i]`).
    pub fn start(dir: &Path, venues: Vec<VenueHeader>) -> Result<Recorder, RecordError> {
        std::fs::create_dir_all(dir).map_err(|source| RecordError::Io {
            path: dir.to_path_buf(),
            cause: source,
        })?;
        let (tx, rx) = mpsc::channel();
        let header = Header {
            format: format::FORMAT.into(),
            version: format::VERSION,
            venues,
        };
        let out = dir.to_path_buf();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let backlog = std::sync::Arc::new(Backlog::default());
        let progress = backlog.clone();
        let thread = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || {
                lower_priority();
                write_loop(&out, &header, rx, &stopped, &progress)
            })
            .map_err(|e| RecordError::Thread(e.to_string()))?;
        Ok(Recorder {
            tx,
            stop,
            backlog,
            thread,
            dir: dir.to_path_buf(),
        })
    }

    pub fn tap(&self, venue: u16) -> Tap {
        Tap {
            tx: self.tx.clone(),
            venue,
            backlog: self.backlog.clone(),
        }
    }

    /// Writes what is queued, closes the last file and returns what was written.
    pub fn finish(self) -> Result<RecordStats, RecordError> {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        drop(self.tx);
        let mut stats = self
            .thread
            .join()
            .map_err(|_| RecordError::Thread("panicked".into()))??;
        stats.dropped = self
            .backlog
            .dropped
            .0
            .load(std::sync::atomic::Ordering::Relaxed);
        if stats.dropped > 0 {
            tracing::error!(
                dropped = stats.dropped,
                "the recorder fell {MAX_BACKLOG} frames behind (no idle core for it): frames \
                 were not recorded"
            );
        }
        Ok(stats)
    }
}

/// The recorder must never keep the trading thread waiting for a core: like the journal writer
/// it runs under `SCHED_IDLE` (a waking trading thread preempts it at once; nice 19 if that is
/// refused). A machine with no idle core for minutes starves it: past `MAX_BACKLOG` queued
/// frames, new ones are dropped and counted (`RecordStats::dropped`) rather than growing the
/// host's memory.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: changes the calling thread's policy (tid 0), reading a valid sched_param.
        let r = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
        if r != 0 {
            // SAFETY: setpriority on the calling thread has no memory effects.
            unsafe {
                libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19);
            }
        }
    }
}

struct OpenFile {
    path: PathBuf,
    hour: (String, u32),
    enc: lz4_flex::frame::FrameEncoder<std::io::BufWriter<std::fs::File>>,
}

fn write_loop(
    dir: &Path,
    header: &Header,
    rx: mpsc::Receiver<Entry>,
    stop: &std::sync::atomic::AtomicBool,
    backlog: &Backlog,
) -> Result<RecordStats, RecordError> {
    let mut written = 0u64;
    let mut stats = RecordStats {
        lines: vec![0; header.venues.len()],
        ..Default::default()
    };
    let mut file: Option<OpenFile> = None;
    let mut buf = Vec::with_capacity(1 << 16);
    let mut last_flush = std::time::Instant::now();
    let mut dirty = false;
    loop {
        // Read before draining: what was pushed before `finish` is written.
        let mut ended = stop.load(std::sync::atomic::Ordering::Acquire);
        loop {
            match rx.try_recv() {
                Ok(e) => {
                    let hour = crate::timefmt::date_hour(e.t_ns);
                    if file.as_ref().is_none_or(|f| f.hour != hour) {
                        if let Some(f) = file.take() {
                            close(f)?;
                        }
                        let f = open(dir, header, hour, e.t_ns)?;
                        stats.files.push(f.path.clone());
                        file = Some(f);
                    }
                    let f = file.as_mut().expect("opened above");
                    let venue = header
                        .venues
                        .get(e.venue as usize)
                        .map_or("?", |v| v.name.as_str());
                    let text = match &e.payload {
                        Payload::Frame(b) => b.as_str(),
                        Payload::Text(t) => t,
                    };
                    buf.clear();
                    match e.payload {
                        Payload::Frame(_) => {
                            format::write_line(&mut buf, e.t_ns, venue, e.dir, text)
                        }
                        Payload::Text(t) => format::write_line(
                            &mut buf,
                            e.t_ns,
                            venue,
                            e.dir,
                            &serde_json::to_string(t).expect("a string serializes"),
                        ),
                    }
                    f.enc.write_all(&buf).map_err(|source| RecordError::Io {
                        path: f.path.clone(),
                        cause: source,
                    })?;
                    stats.bytes += buf.len() as u64;
                    if let Some(n) = stats.lines.get_mut(e.venue as usize) {
                        *n += 1;
                    }
                    written += 1;
                    dirty = true;
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    ended = true;
                    break;
                }
            }
        }
        backlog
            .written
            .0
            .store(written, std::sync::atomic::Ordering::Relaxed);
        if ended {
            if let Some(f) = file.take() {
                close(f)?;
            }
            return Ok(stats);
        }
        if dirty && last_flush.elapsed() >= FLUSH_EVERY {
            if let Some(f) = &mut file {
                f.enc.flush().map_err(|source| RecordError::Io {
                    path: f.path.clone(),
                    cause: source,
                })?;
            }
            dirty = false;
            last_flush = std::time::Instant::now();
        }
        std::thread::sleep(POLL);
    }
}

fn open(
    dir: &Path,
    header: &Header,
    hour: (String, u32),
    t_ns: u64,
) -> Result<OpenFile, RecordError> {
    // One file per hour and start: a restart within the hour starts a file of its own.
    let path = dir.join(format!(
        "rec-{}-{:02}-{}.jsonl.lz4",
        hour.0,
        hour.1,
        t_ns / 1_000_000
    ));
    let io = |source| RecordError::Io {
        path: path.clone(),
        cause: source,
    };
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io)?;
    let mut enc = lz4_flex::frame::FrameEncoder::new(std::io::BufWriter::new(f));
    let mut line = serde_json::to_vec(header).expect("the header serializes");
    line.push(b'\n');
    enc.write_all(&line).map_err(io)?;
    Ok(OpenFile { path, hour, enc })
}

fn close(f: OpenFile) -> Result<(), RecordError> {
    let io = |source| RecordError::Io {
        path: f.path.clone(),
        cause: source,
    };
    let w = f
        .enc
        .finish()
        .map_err(|e| io(std::io::Error::other(e.to_string())))?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    impl Tap {
        fn push_at(&self, t_ns: u64, frame: &str) {
            self.backlog
                .pushed
                .0
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let _ = self.tx.send(Entry {
                t_ns,
                venue: self.venue,
                dir: Dir::In,
                payload: Payload::Frame(Utf8Bytes::from(frame.to_string())),
            });
        }
    }

    #[test]
    fn files_rotate_at_the_hour_and_hold_every_frame_as_it_came() {
        let dir = std::env::temp_dir().join(format!("rec-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let venues = vec![VenueHeader {
            name: "simA".into(),
            markets: vec![],
        }];
        let r = Recorder::start(&dir, venues).unwrap();
        let tap = r.tap(0);
        let hour = 1_764_547_200_000_000_000u64; // 2025-12-01T00:00:00Z
        tap.push_at(hour - 100_000_000, r#"{"channel":"bbo","data":1}"#);
        tap.push_at(hour - 1, "Websocket connection established.");
        tap.push_at(hour + 100_000_000, r#"{"channel":"bbo","data":2}"#);
        tap.session("down");
        drop(tap);
        let stats = r.finish().unwrap();
        assert_eq!(
            stats.files.len(),
            3,
            "two hours, then the wall clock's: {:?}",
            stats.files
        );
        assert_eq!(stats.lines, vec![4]);
        let read = |p: &Path| {
            let mut s = String::new();
            lz4_flex::frame::FrameDecoder::new(std::fs::File::open(p).unwrap())
                .read_to_string(&mut s)
                .unwrap();
            s
        };
        let first = read(&stats.files[0]);
        assert!(
            stats.files[0]
                .display()
                .to_string()
                .contains("rec-20251130-23-")
        );
        let lines: Vec<&str> = first.lines().collect();
        assert!(lines[0].starts_with(r#"{"format":"strategy-host-recording","version":1"#));
        let l = format::parse_line(lines[1]).unwrap();
        assert_eq!(
            (l.t_ns, l.payload),
            (hour - 100_000_000, r#"{"channel":"bbo","data":1}"#)
        );
        let l = format::parse_line(lines[2]).unwrap();
        assert!(l.unreadable, "a frame that is not JSON is kept as a string");
        let second = read(&stats.files[1]);
        assert!(
            stats.files[1]
                .display()
                .to_string()
                .contains("rec-20251201-00-")
        );
        assert_eq!(second.lines().count(), 2, "its own header and one frame");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_recorder_far_behind_drops_and_counts_frames_instead_of_growing() {
        let dir = std::env::temp_dir().join(format!("rec-backlog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let venues = vec![VenueHeader {
            name: "simA".into(),
            markets: vec![],
        }];
        let r = Recorder::start(&dir, venues).unwrap();
        // As if MAX_BACKLOG frames were queued and none written yet.
        r.backlog
            .pushed
            .0
            .store(MAX_BACKLOG, std::sync::atomic::Ordering::Relaxed);
        let tap = r.tap(0);
        tap.session("ready");
        tap.frame_in(&Utf8Bytes::from_static("{}"));
        drop(tap);
        let stats = r.finish().unwrap();
        assert_eq!(
            (stats.dropped, stats.lines.clone()),
            (2, vec![0]),
            "{stats:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
