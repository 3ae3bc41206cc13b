//! `strategy-host report` through the binary, opened in a real headless Chromium (Debian's, the
//! README's test command installs it) driven over the DevTools protocol: the page of a live run
//! and of a backtest renders with no console error, no exception and no network request, holds
//! every chart and one table row per round trip, sorts its trade table, and a full-page
//! screenshot of each is kept under the target directory.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use strategy_host_e2e::{data, host_binary, host_ok as host, scratch_dir};
use tokio_tungstenite::tungstenite::{self, Message, stream::MaybeTlsStream};

/// Charts the page always holds (each says so when it has nothing to draw).
const CHARTS: usize = 11;

/// Round trips the `report` command says it drew.
fn round_trips(report_stdout: &str) -> u64 {
    let (_, rest) = report_stdout.split_once(" fills, ").expect(report_stdout);
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| *c != b'=' && *c != b'\n').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= (val(*c) as u32) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// A headless Chromium and one DevTools session on its page.
struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Every event seen, in order.
    events: Vec<Value>,
}

impl Browser {
    fn launch(profile: &Path) -> Browser {
        let exe = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut child = Command::new(&exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {exe} ({e}): install Debian's chromium (README's test command)"
                )
            });
        let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = err
                .next()
                .expect("chromium printed its DevTools address")
                .unwrap();
            if let Some(u) = line.strip_prefix("DevTools listening on ") {
                break u.trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in err {});
        let (ws, _) = tungstenite::connect(url.as_str()).expect("DevTools WebSocket");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        }
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
        };
        let targets = b.call("Target.getTargets", json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target")["targetId"]
            .clone();
        let s = b.call(
            "Target.attachToTarget",
            json!({"targetId": page, "flatten": true}),
        );
        b.session = s["sessionId"].as_str().unwrap().to_string();
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            b.call(domain, json!({}));
        }
        b
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read().expect("DevTools message") {
                Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
                Message::Close(_) => panic!("DevTools closed"),
                _ => {}
            }
        }
    }

    /// A command (on the page's session once attached); events read meanwhile are kept.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws.send(Message::Text(msg.to_string().into())).unwrap();
        loop {
            let v = self.read();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    fn wait_for(&mut self, method: &str, deadline: Duration) {
        let end = Instant::now() + deadline;
        let seen = |evs: &[Value]| evs.iter().any(|e| e["method"] == method);
        while !seen(&self.events) {
            assert!(Instant::now() < end, "no {method}");
            let v = self.read();
            self.events.push(v);
        }
    }

    fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{js}: {r}");
        r["result"]["value"].clone()
    }

    /// Console errors, uncaught exceptions and error log entries seen so far.
    fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| {
                e["method"] == "Runtime.exceptionThrown"
                    || (e["method"] == "Runtime.consoleAPICalled"
                        && (e["params"]["type"] == "error" || e["params"]["type"] == "assert"))
                    || (e["method"] == "Log.entryAdded" && e["params"]["entry"]["level"] == "error")
            })
            .map(|e| e.to_string())
            .collect()
    }

    fn screenshot(&mut self, out: &Path) {
        let m = self.call("Page.getLayoutMetrics", json!({}));
        let h = m["cssContentSize"]["height"].as_f64().unwrap().ceil();
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1280, "height": h as u64, "deviceScaleFactor": 1, "mobile": false}),
        );
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = decode_base64(shot["data"].as_str().unwrap());
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
        std::fs::write(out, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `page` and checks it: renders, no errors, nothing fetched, every chart, one row per
/// round trip, the table sorts; keeps a screenshot at `shot`.
fn check_in_browser(page: &Path, trips: u64, profile: &Path, shot: &Path) {
    let mut b = Browser::launch(profile);
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    b.call("Page.navigate", json!({"url": url}));
    b.wait_for("Page.loadEventFired", Duration::from_secs(30));
    let facts = b.eval(
        r##"JSON.stringify({
            ready: document.body.dataset.ready,
            charts: document.querySelectorAll("svg.chart").length,
            drawn: Array.from(document.querySelectorAll("svg.chart")).filter(s => s.getBBox().width > 0).length,
            rows: document.querySelectorAll("#trades tbody tr").length,
            fetched: performance.getEntriesByType("resource").length,
            external: Array.from(document.querySelectorAll("[src],[href]")).length,
            title: document.title
        })"##,
    );
    let facts: Value = serde_json::from_str(facts.as_str().unwrap()).unwrap();
    assert_eq!(facts["ready"], "1", "the page's script ran: {facts}");
    assert_eq!(facts["charts"], CHARTS, "{facts}");
    assert_eq!(facts["drawn"], CHARTS, "every chart has a size: {facts}");
    assert_eq!(facts["rows"], trips, "{facts}");
    assert_eq!(facts["fetched"], 0, "self-contained: {facts}");
    assert_eq!(facts["external"], 0, "no src or href: {facts}");
    assert!(
        facts["title"]
            .as_str()
            .unwrap()
            .starts_with("strategy-host report")
    );
    // Clicking "net PnL" sorts the trades by it, ascending, then descending.
    let sorted = |b: &mut Browser| -> Vec<f64> {
        let v = b.eval(
            r##"JSON.stringify(Array.from(document.querySelectorAll("#trades tbody tr")).map(r => parseFloat(r.cells[9].textContent)))"##,
        );
        serde_json::from_str(v.as_str().unwrap()).unwrap()
    };
    let click = r##"Array.from(document.querySelectorAll("#trades th")).find(th => th.textContent.startsWith("net PnL")).click()"##;
    b.eval(click);
    let asc = sorted(&mut b);
    assert!(asc.windows(2).all(|w| w[0] <= w[1]), "{asc:?}");
    b.eval(click);
    let desc = sorted(&mut b);
    assert!(desc.windows(2).all(|w| w[0] >= w[1]), "{desc:?}");
    b.screenshot(shot);
    let errors = b.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

fn shots_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_live_runs_report_renders_in_chromium() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "report-live");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("config/default.toml")).unwrap();
    // EdgeTracker periods short enough that a short run has several.
    let text = text.replace(
        "edge_summary_interval_ms = 10000",
        "edge_summary_interval_ms = 2000",
    );
    assert!(text.contains("edge_summary_interval_ms = 2000"));
    let config = dir.join("default.toml");
    std::fs::write(&config, text).unwrap();
    let c = config.as_os_str();
    let summary = host(&[
        "run".as_ref(),
        "--config".as_ref(),
        c,
        "--duration".as_ref(),
        "15".as_ref(),
    ]);
    // The summary: round trips and PnL net of fees per strategy, in USDC, every strategy listed
    // (time-stop is configured; it may not act in 15 s), and where to look further.
    assert!(summary.contains("round trips, net PnL"), "{summary}");
    assert!(summary.contains(" USDC"), "{summary}");
    for name in [
        "dislocation",
        "regression",
        "timestop",
        "delta-neutral",
        "spread-exit",
    ] {
        assert!(
            summary.lines().any(|l| l.trim_start().starts_with(name)),
            "{name} not listed: {summary}"
        );
    }
    assert!(
        summary.contains("look further: strategy-host journal fills --config"),
        "{summary}"
    );
    assert!(
        summary.contains("strategy-host report --config"),
        "{summary}"
    );
    // The journal reads as people write: buy/sell, ISO times, plain decimals; exports parse.
    let runs: Value = serde_json::from_str(&host(&[
        "journal".as_ref(),
        "runs".as_ref(),
        "--config".as_ref(),
        c,
        "--format".as_ref(),
        "json".as_ref(),
    ]))
    .unwrap();
    let run = &runs[0];
    assert_eq!(run["run"], "1");
    assert_eq!(run["mode"], "live");
    assert!(run["started"].as_str().unwrap().ends_with('Z'), "{run}");
    let fills: u64 = run["fills"].as_str().unwrap().parse().unwrap();
    assert!(fills > 0, "{run}");
    run["pnl"]
        .as_str()
        .unwrap()
        .parse::<rust_decimal::Decimal>()
        .unwrap();
    let csv = host(&[
        "journal".as_ref(),
        "fills".as_ref(),
        "--config".as_ref(),
        c,
        "--run".as_ref(),
        "1".as_ref(),
        "--limit".as_ref(),
        "1000".as_ref(),
        "--format".as_ref(),
        "csv".as_ref(),
    ]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "run,venue,tid,market,side,px,sz,fee,realized,strategy,time"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(
        rows.len() as u64,
        fills,
        "journal runs and journal fills agree"
    );
    for r in &rows {
        let cells: Vec<&str> = r.split(',').collect();
        assert!(cells[4] == "buy" || cells[4] == "sell", "{r}");
        assert!(cells[10].len() == 24 && cells[10].ends_with('Z'), "{r}");
        assert!(
            !cells[5].ends_with('0') || !cells[5].contains('.'),
            "normalised: {r}"
        );
    }
    let table = host(&["journal".as_ref(), "exits".as_ref(), "--config".as_ref(), c]);
    assert!(table.starts_with("run  at"), "{table}");
    assert!(table.contains("mark_regression"), "{table}");

    let page = dir.join("report.html");
    let out = host(&[
        "report".as_ref(),
        "--config".as_ref(),
        c,
        "--out".as_ref(),
        page.as_os_str(),
    ]);
    assert!(out.contains("(live)"), "{out}");
    let trips = round_trips(&out);
    assert!(trips > 0, "the run traded: {out}");
    let html = std::fs::read_to_string(&page).unwrap();
    for id in ["equity", "entry-edge", "exit-edge", "latency"] {
        let at = html.find(&format!("id=\"{id}\"")).unwrap();
        let chart = &html[at..at + html[at..].find("</svg>").unwrap()];
        assert!(
            !chart.contains("no observations") && !chart.contains("no data"),
            "{id} drew nothing"
        );
    }
    let shot = shots_dir().join("report-live.png");
    check_in_browser(&page, trips, &dir.join("chromium"), &shot);
    println!("screenshot: {}", shot.display());
}

#[test]
fn a_backtests_report_renders_in_chromium() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "report-backtest");
    let markets = data::markets();
    let (rec, _) = data::recording(&dir, "hl", &markets, 1_700_000_000_000, 120, 100);
    let config = dir.join("bt.toml");
    std::fs::write(
        &config,
        data::config(&markets, 40, "")
            .replace("[engine]\n", "[engine]\nedge_summary_interval_ms = 10000\n"),
    )
    .unwrap();
    let journal = dir.join("bt.db");
    host(&[
        "backtest".as_ref(),
        "--quiet".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
        "--data".as_ref(),
        rec.as_os_str(),
        "--journal".as_ref(),
        journal.as_os_str(),
    ]);
    let page = dir.join("report.html");
    let out = host(&[
        "report".as_ref(),
        "--journal".as_ref(),
        journal.as_os_str(),
        "--out".as_ref(),
        page.as_os_str(),
    ]);
    assert!(out.contains("(backtest)"), "{out}");
    let trips = round_trips(&out);
    assert!(trips > 0, "the backtest traded: {out}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("Simulated order round trips"),
        "the backtest's latency"
    );
    let shot = shots_dir().join("report-backtest.png");
    check_in_browser(&page, trips, &dir.join("chromium"), &shot);
    println!("screenshot: {}", shot.display());
}

#[test]
fn bad_report_arguments_say_what_is_wrong() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "report-bad");
    let run = |args: &[&str]| {
        let o = Command::new(host_binary()).args(args).output().unwrap();
        assert!(!o.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let missing = dir.join("none.db");
    let e = run(&[
        "report",
        "--journal",
        missing.to_str().unwrap(),
        "--out",
        "/nonexistent-dir/x.html",
    ]);
    assert!(
        e.contains("/nonexistent-dir") && e.contains("does not exist"),
        "{e}"
    );
    let e = run(&[
        "report",
        "--journal",
        missing.to_str().unwrap(),
        "--out",
        dir.join("x.html").to_str().unwrap(),
    ]);
    assert!(e.contains("none.db"), "{e}");
}
