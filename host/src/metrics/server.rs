//! The Prometheus endpoint: one OS thread with a blocking listener, off the trading thread. It
//! renders the last [`Sample`] the engine thread published and each venue task's live counters;
//! a scrape never touches the engine. Answers `GET /metrics` (and `/`); anything else gets 404
//! or 405. Binds 127.0.0.1 unless a non-loopback address is opted into (`[metrics]
//! allow_remote = true`).

use super::hist::SharedHistogram;
use super::prom::{Sample, render};
use crate::venue::AdapterStats;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// `[metrics]`: where the Prometheus endpoint listens (None: no endpoint).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// `host:port`, e.g. `127.0.0.1:9464`; `--metrics-listen` overrides it.
    #[serde(default)]
    pub listen: Option<String>,
    /// A non-loopback `listen` is refused unless this is true.
    #[serde(default)]
    pub allow_remote: bool,
}

/// What a venue task shares with the endpoint: its tick-to-order histogram (written per order
/// post) and its adapter's counters (copied on each of its ticks).
#[derive(Debug, Default)]
pub struct VenueMetrics {
    pub tick_to_order: SharedHistogram,
    pub stats: Mutex<AdapterStats>,
}

#[derive(Default)]
struct Shared {
    sample: Mutex<Arc<Sample>>,
    venues: Mutex<Vec<(String, Arc<VenueMetrics>)>>,
    scrapes: std::sync::atomic::AtomicU64,
}

pub struct MetricsServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// `listen` as a socket address, refused when it is not loopback and `allow_remote` is off.
pub fn check_listen(listen: &str, allow_remote: bool) -> Result<SocketAddr, String> {
    let addr = listen
        .to_socket_addrs()
        .map_err(|e| format!("metrics listen address `{listen}`: {e}"))?
        .next()
        .ok_or_else(|| format!("metrics listen address `{listen}` resolves to nothing"))?;
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "metrics listen address `{listen}` is not loopback: the endpoint shows positions and \
             limits to anyone who can reach it. Set [metrics] allow_remote = true (or pass \
             --metrics-allow-remote) to serve it there"
        ));
    }
    Ok(addr)
}

impl MetricsServer {
    /// Binds `addr` (port 0: any free port) and starts serving.
    pub fn start(addr: SocketAddr) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (sh, st) = (shared.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if st.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Ok(c) = conn {
                        // A slow or broken client costs only this thread; nothing is kept.
                        let _ = serve(c, &sh);
                    }
                }
            })?;
        Ok(MetricsServer {
            addr,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the sample scrapes render (the engine thread, once a second).
    pub fn publish(&self, s: Sample) {
        *self.shared.sample.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(s);
    }

    /// A venue task's shared counters, rendered with the label `venue`.
    pub fn add_venue(&self, venue: &str, m: Arc<VenueMetrics>) {
        self.shared
            .venues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((venue.to_string(), m));
    }

    /// Scrapes answered so far.
    pub fn scrapes(&self) -> u64 {
        self.shared.scrapes.load(Ordering::Relaxed)
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn body(sh: &Shared) -> String {
    let mut s = (**sh.sample.lock().unwrap_or_else(|e| e.into_inner())).clone();
    for (name, v) in sh.venues.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let st = v.stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
        s.add_venue(name, &st, v.tick_to_order.read());
    }
    render(&s, crate::timefmt::now_ms())
}

fn serve(mut c: TcpStream, sh: &Shared) -> std::io::Result<()> {
    c.set_read_timeout(Some(Duration::from_secs(2)))?;
    c.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [0u8; 8192];
    let mut n = 0;
    while n < buf.len() {
        let k = c.read(&mut buf[n..])?;
        if k == 0 {
            break;
        }
        n += k;
        if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&buf[..n]);
    let mut first = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, ctype, text) = match (method, path) {
        ("GET", "/metrics" | "/") => {
            sh.scrapes.fetch_add(1, Ordering::Relaxed);
            (
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                body(sh),
            )
        }
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "not found: the metrics are at /metrics\n".into(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET is served\n".into(),
        ),
    };
    write!(
        c,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    c.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: SocketAddr, req: &str) -> String {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(req.as_bytes()).unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn serves_metrics_and_refuses_the_rest() {
        let srv = MetricsServer::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let v = Arc::new(VenueMetrics::default());
        srv.add_venue("hl", v.clone());
        v.tick_to_order.observe_ns(30_000);
        v.stats.lock().unwrap().sessions = 3;
        let r = get(srv.local_addr(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(
            r.contains("strategy_host_venue_reconnects_total{venue=\"hl\"} 2\n"),
            "{r}"
        );
        assert!(r.contains("strategy_host_tick_to_order_seconds_count{venue=\"hl\"} 1\n"));
        let r = get(srv.local_addr(), "GET /x HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
        let r = get(srv.local_addr(), "POST /metrics HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 405"), "{r}");
        assert_eq!(srv.scrapes(), 1);
    }

    #[test]
    fn non_loopback_needs_an_opt_in() {
        assert!(check_listen("127.0.0.1:9464", false).is_ok());
        assert!(check_listen("[::1]:9464", false).is_ok());
        let e = check_listen("0.0.0.0:9464", false).unwrap_err();
        assert!(e.contains("allow_remote"), "{e}");
        assert!(check_listen("0.0.0.0:9464", true).is_ok());
        assert!(check_listen("nonsense", false).is_err());
    }
}
