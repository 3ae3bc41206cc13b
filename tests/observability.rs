//! Observability through the real binary: the Prometheus endpoint of a real `run` (the default
//! config's two simulated venues and five plugin `.so` files) is scraped over a real socket while
//! it trades; the families are checked against the exposition format, and the values must move
//! (frames, fills, tick-to-order, a HardStop the operator sets through the CLI mid-run).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use strategy_host::metrics::prom::{FAMILIES, Kind};
use strategy_host_e2e::{default_config, host_binary};

fn scrape(addr: &str) -> String {
    let mut c = TcpStream::connect(addr).expect("connect to the metrics endpoint");
    c.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut s = String::new();
    c.read_to_string(&mut s).unwrap();
    let (head, body) = s.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    body.to_string()
}

/// Parses the exposition text: every sample line is `name{labels} value` with a known family
/// (declared by HELP and TYPE lines before its samples) and a number. Returns sample → value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut declared = std::collections::HashSet::new();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            let fam = FAMILIES
                .iter()
                .find(|f| f.name == name)
                .unwrap_or_else(|| panic!("undocumented family {name}"));
            let want = match fam.kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
                Kind::Histogram => "histogram",
            };
            assert_eq!(kind, want, "{name}");
            if fam.kind == Kind::Counter {
                assert!(
                    name.ends_with("_total"),
                    "counter {name} must end in _total"
                );
            }
            declared.insert(name.to_string());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name value");
        let name = series.split('{').next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|b| declared.contains(*b)))
            .unwrap_or(name);
        assert!(
            declared.contains(family),
            "sample before its TYPE line: {line}"
        );
        let v: f64 = match value {
            "+Inf" => f64::INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
        };
        out.insert(series.to_string(), v);
    }
    out
}

fn sum(m: &BTreeMap<String, f64>, prefix: &str) -> f64 {
    m.iter()
        .filter(|(k, _)| k.split('{').next() == Some(prefix))
        .map(|(_, v)| v)
        .sum()
}

#[test]
fn a_real_run_serves_metrics_that_move() {
    let (_, config) = default_config(env!("CARGO_TARGET_TMPDIR"), "metrics");
    let bin = host_binary();
    let mut child = Command::new(&bin)
        .args(["run", "--duration", "25", "--status-every", "60"])
        .arg("--config")
        .arg(&config)
        .args(["--metrics-listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let l = lines
            .next()
            .expect("the run printed its metrics address")
            .unwrap();
        if let Some(rest) = l.strip_prefix("metrics: http://") {
            break rest.trim_end_matches("/metrics").to_string();
        }
    };
    // The rest of stdout is drained on a thread (a full pipe would block the host).
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());

    // The first sample is published once the venues are started (a scrape before it shows
    // no series).
    let deadline = Instant::now() + Duration::from_secs(10);
    let first = loop {
        let m = parse(&scrape(&addr));
        if m.contains_key("strategy_host_up{run=\"1\",mode=\"live\"}") {
            break m;
        }
        assert!(Instant::now() < deadline, "no sample in 10 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    for fam in FAMILIES {
        // Present from the first sample on: everything but what has not happened yet.
        let later = [
            "strategy_host_refusals_total",
            "strategy_host_hardstop_triggers_total",
            "strategy_host_reconcile_corrections_total",
            "strategy_host_reconcile_requests_total",
            "strategy_host_fills_total",
            "strategy_host_venue_request_budget_remaining",
            "strategy_host_venue_data_age_seconds",
        ];
        // Only a paper run has paper accounts (tests/paper.rs scrapes them).
        let paper_only = ["strategy_host_paper_balance_usd"];
        if !later.contains(&fam.name) && !paper_only.contains(&fam.name) {
            assert!(
                first.keys().any(|k| k.starts_with(fam.name)),
                "family {} missing from the first scrape",
                fam.name
            );
        }
    }
    assert_eq!(first["strategy_host_hardstop_latched{reason=\"\"}"], 0.0);

    // Poll until the run has traded: fills counted, a tick-to-order observed, frames moving.
    let deadline = Instant::now() + Duration::from_secs(20);
    let traded = loop {
        let m = parse(&scrape(&addr));
        if sum(&m, "strategy_host_fills_total") > 0.0
            && sum(&m, "strategy_host_tick_to_order_seconds_count") > 0.0
        {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "no fills or tick-to-order in 20 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        sum(&traded, "strategy_host_venue_frames_total")
            > sum(&first, "strategy_host_venue_frames_total")
    );
    assert!(sum(&traded, "strategy_host_plugin_call_seconds_count") > 0.0);
    assert!(sum(&traded, "strategy_host_venue_data_age_seconds") < 10.0);
    let limit = traded["strategy_host_max_position_limit_usd{market=\"total\"}"];
    let exposure = traded["strategy_host_max_position_exposure_usd{market=\"total\"}"];
    let headroom = traded["strategy_host_max_position_headroom_usd{market=\"total\"}"];
    assert_eq!(limit, 3000.0);
    assert!((limit - exposure - headroom).abs() < 1e-6);

    // The operator sets the HardStop through the CLI: the latch and its trigger show up.
    strategy_host_e2e::host_ok(&[
        "hardstop".as_ref(),
        "trigger".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
    ]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let stopped = loop {
        let m = parse(&scrape(&addr));
        if m.keys()
            .any(|k| k.starts_with("strategy_host_hardstop_latched{reason=\"operator"))
        {
            break m;
        }
        assert!(Instant::now() < deadline, "the HardStop never showed");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(sum(&stopped, "strategy_host_hardstop_triggers_total") >= 1.0);
    assert_eq!(sum(&stopped, "strategy_host_hardstop_latched"), 1.0);

    let status = child.wait().unwrap();
    assert!(status.success());
    let stdout = rest.join().unwrap().join("\n");
    assert!(stdout.contains("run summary"), "{stdout}");
    // The endpoint is gone with the run.
    assert!(TcpStream::connect(&addr).is_err());
}

/// Logs off a terminal: no colour, one name per venue, entries and exits logged, and a normal
/// stop with no WARN line; `--log-format json --log-file` writes one JSON object per line.
#[test]
fn logs_are_plain_named_and_quiet_on_a_normal_stop() {
    let (dir, config) = default_config(env!("CARGO_TARGET_TMPDIR"), "logs");
    let bin = host_binary();
    let out = Command::new(&bin)
        .args(["run", "--duration", "6"])
        .arg("--config")
        .arg(&config)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\x1b'), "colour into a pipe: {err}");
    assert!(
        err.contains("venue=simA") && err.contains("venue=simB"),
        "{err}"
    );
    assert!(
        !err.contains("venue=0") && !err.contains("venue=\"simA\""),
        "{err}"
    );
    assert!(
        err.contains(" entry market=simA/"),
        "entries are logged: {err}"
    );
    let warns: Vec<&str> = err.lines().filter(|l| l.contains(" WARN ")).collect();
    assert!(warns.is_empty(), "a normal stop warns: {warns:#?}");
    // Sizes in log lines are normalised: no 28-digit decimals.
    for l in err.lines().filter(|l| l.contains(" sz=")) {
        let sz = l
            .split(" sz=")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        assert!(sz.len() <= 20, "{l}");
    }

    let log = dir.join("host.log");
    let out = Command::new(&bin)
        .args([
            "run",
            "--duration",
            "3",
            "--log-format",
            "json",
            "--log-file",
        ])
        .arg(&log)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.len() > 5, "{text}");
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["fields"].is_object())
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["venue"] == "simA" && l["fields"]["state"] == "Ready")
    );
}
