//! Paper trading end to end: the real runtime and plugin `.so` files on the default config's two
//! simulators over loopback WebSockets, every venue in paper mode. The simulators must receive
//! no order at all, while the paper fills follow their books (each fill price is a level of a
//! book the simulator had just sent), the local accounts agree with the engine's own
//! accounting, and a second run resumes the account the journal kept.

mod support;

use rust_decimal::Decimal;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use strategy_host::config::Config;
use strategy_host::journal::Journal;
use strategy_host::paper::PaperAccount;
use support::{On, fast_config, logs, run_for};

/// The default config (fast episodes, `edits` applied) in paper mode, recording its frames.
fn paper_config(test: &str, edits: &[(&str, &str)]) -> (Config, PathBuf) {
    let base = fast_config("", On::Both, edits, test);
    let dir = base.journal_path().parent().unwrap().to_path_buf();
    let text = format!(
        "{}\n[record]\ndir = \"{}\"\n",
        base.text,
        dir.join("rec").display()
    );
    let cfg = Config::parse_as(&base.path, text, true).unwrap();
    assert!(cfg.is_paper());
    (cfg, dir)
}

fn accounts(j: &Journal) -> HashMap<String, PaperAccount> {
    j.paper_accounts()
        .unwrap()
        .into_iter()
        .map(|(v, a)| (v.clone(), PaperAccount::parse(&v, &a).unwrap()))
        .collect()
}

struct Fill {
    venue: String,
    coin: String,
    buy: bool,
    px: Decimal,
    sz: Decimal,
    fee: Decimal,
    realized: Decimal,
    time_ms: i64,
}

fn fills(j: &Journal) -> Vec<Fill> {
    let mut st = j
        .conn()
        .prepare("SELECT venue, market, side, px, sz, fee, realized, time_ms FROM fills ORDER BY time_ms, tid")
        .unwrap();
    st.query_map([], |r| {
        let market: String = r.get(1)?;
        let d =
            |i: usize| -> rusqlite::Result<Decimal> { Ok(r.get::<_, String>(i)?.parse().unwrap()) };
        Ok(Fill {
            venue: r.get(0)?,
            coin: market.split_once('/').unwrap().1.to_string(),
            buy: r.get::<_, String>(2)? == "B",
            px: d(3)?,
            sz: d(4)?,
            fee: d(5)?,
            realized: d(6)?,
            time_ms: r.get(7)?,
        })
    })
    .unwrap()
    .map(|f| f.unwrap())
    .collect()
}

/// Every book the venues sent: (venue, coin, receive time ms, bid prices, ask prices).
type Books = Vec<(String, String, i64, Vec<Decimal>, Vec<Decimal>)>;

fn recorded_books(dir: &Path) -> Books {
    use std::io::BufRead;
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let r = std::io::BufReader::new(lz4_flex::frame::FrameDecoder::new(
            std::fs::File::open(&p).unwrap(),
        ));
        for line in r.lines().skip(1) {
            let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            if v["d"] != "in" {
                continue;
            }
            let f = &v["f"];
            let pxs = |side: &serde_json::Value| -> Vec<Decimal> {
                let one = |l: &serde_json::Value| l["px"].as_str().unwrap().parse().unwrap();
                match side {
                    serde_json::Value::Array(ls) => ls.iter().map(one).collect(),
                    serde_json::Value::Null => Vec::new(),
                    l => vec![one(l)],
                }
            };
            let (bids, asks) = match f["channel"].as_str() {
                Some("bbo") => (pxs(&f["data"]["bbo"][0]), pxs(&f["data"]["bbo"][1])),
                Some("l2Book") => (pxs(&f["data"]["levels"][0]), pxs(&f["data"]["levels"][1])),
                _ => continue,
            };
            out.push((
                v["v"].as_str().unwrap().to_string(),
                f["data"]["coin"].as_str().unwrap().to_string(),
                (v["t"].as_u64().unwrap() / 1_000_000) as i64,
                bids,
                asks,
            ));
        }
    }
    out
}

#[tokio::test(flavor = "current_thread")]
async fn paper_fills_follow_the_simulators_books_and_nothing_is_sent() {
    logs();
    let (cfg, dir) = paper_config("paper", &[]);
    // The metrics endpoint on a free port, scraped while the run goes on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let opts = strategy_host::runtime::RunOptions {
        duration: Some(std::time::Duration::from_secs(12)),
        status_every: std::time::Duration::from_secs(60),
        metrics_listen: Some(format!("127.0.0.1:{port}")),
        ..Default::default()
    };
    let scrape = async {
        tokio::time::sleep(std::time::Duration::from_secs(8)).await;
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut body = String::new();
            c.read_to_string(&mut body).unwrap();
            body
        })
        .await
        .unwrap()
    };
    let (out, metrics) = tokio::join!(strategy_host::runtime::run(&cfg, opts), scrape);
    let out = out.unwrap();
    assert!(
        metrics.contains("strategy_host_up{run=\"1\",mode=\"paper\"} 1"),
        "{metrics}"
    );
    for venue in ["simA", "simB"] {
        assert!(
            metrics.contains(&format!(
                "strategy_host_paper_balance_usd{{venue=\"{venue}\"}}"
            )),
            "{metrics}"
        );
    }
    let s = &out.summary;
    assert_eq!(s.run.mode, "paper");
    assert!(s.fills > 0, "paper trades happen: {}", s.render());
    assert!(
        s.render().starts_with("PAPER run summary"),
        "{}",
        s.render()
    );
    for sim in &out.sims {
        let st = sim.handle.state.lock().unwrap();
        assert_eq!(
            st.exchange.orders_received(),
            0,
            "{}: the simulator received an order in a paper run",
            sim.name
        );
        assert!(st.sessions >= 1, "{}: its market data was read", sim.name);
    }
    let journal = Journal::open_existing(&cfg.journal_path()).unwrap();
    let mode: String = journal
        .conn()
        .query_row("SELECT mode FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "paper");
    let html = dir.join("report.html");
    strategy_host_e2e::host_ok::<&std::ffi::OsStr>(&[
        "report".as_ref(),
        "--journal".as_ref(),
        cfg.journal_path().as_os_str(),
        "--out".as_ref(),
        html.as_os_str(),
    ]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("run 1 (paper)"), "the report says paper");
    let fills = fills(&journal);
    assert_eq!(fills.len() as u64, s.fills);

    // Each fill's price is a level on the side it took, of a book its simulator sent in the
    // seconds before.
    let books = recorded_books(&dir.join("rec"));
    assert!(books.len() > 100, "books were recorded: {}", books.len());
    for f in &fills {
        let seen = books.iter().any(|(v, c, t, bids, asks)| {
            *v == f.venue
                && *c == f.coin
                && (f.time_ms - 3_000..=f.time_ms + 50).contains(t)
                && if f.buy { asks } else { bids }.contains(&f.px)
        });
        assert!(
            seen,
            "{}/{} {} {} @ {} at {}: no book of the simulator's showed that price",
            f.venue,
            f.coin,
            if f.buy { "buy" } else { "sell" },
            f.sz,
            f.px,
            f.time_ms
        );
    }

    // The local accounts (execution's own accounting) agree with the engine's, fill for fill.
    let accts = accounts(&journal);
    assert_eq!(accts.len(), 2, "one account per paper venue");
    let net: Decimal = accts.values().map(|a| a.realized_pnl - a.fees).sum();
    assert_eq!(
        net, s.realized_pnl,
        "paper accounts vs the position tracker"
    );
    let journal_net: Decimal = fills.iter().map(|f| f.realized).sum();
    assert_eq!(
        journal_net, s.realized_pnl,
        "journal fills vs the position tracker"
    );
    let fees: Decimal = fills.iter().map(|f| f.fee).sum();
    assert_eq!(accts.values().map(|a| a.fees).sum::<Decimal>(), fees);
    for a in accts.values() {
        assert_eq!(a.start_balance, Decimal::from(10_000));
        assert_eq!(
            a.balance(),
            a.start_balance + a.realized_pnl - a.fees + a.funding
        );
        for coin in ["BTC", "ETH", "xyz:TSLA"] {
            let held = a
                .positions
                .iter()
                .find(|p| p.coin == coin)
                .map_or(Decimal::ZERO, |p| p.size);
            let market = format!("{}/{coin}", a.venue);
            let engine = s
                .positions
                .iter()
                .find(|p| p.market == market)
                .map_or(Decimal::ZERO, |p| p.size);
            assert_eq!(held, engine, "{market}: paper account vs engine");
        }
    }
    // The summary's net PnL is its closed round trips: the journal's net less the fills of the
    // round trips still open (fees are taken once).
    let mut open_trip: HashMap<(String, String), (Decimal, Decimal)> = HashMap::new();
    for f in &fills {
        let e = open_trip
            .entry((f.venue.clone(), f.coin.clone()))
            .or_insert((Decimal::ZERO, Decimal::ZERO));
        let before = e.0;
        e.0 += if f.buy { f.sz } else { -f.sz };
        e.1 = if before.is_zero() {
            f.realized
        } else {
            e.1 + f.realized
        };
        if e.0.is_zero() {
            e.1 = Decimal::ZERO;
        }
    }
    let still_open: Decimal = open_trip.values().map(|(_, r)| *r).sum();
    assert_eq!(s.net_pnl + still_open, s.realized_pnl, "{}", s.render());
}

#[tokio::test(flavor = "current_thread")]
async fn a_second_paper_run_resumes_the_journaled_account() {
    logs();
    // The first run enters and never exits: it ends holding positions.
    let hold = [
        ("min_holding_time_ms = 500", "min_holding_time_ms = 3600000"),
        ("max_holding_ms = 20000", "max_holding_ms = 3600000"),
        ("exit_target_bps = -5", "exit_target_bps = 100000"),
    ];
    let (first, _) = paper_config("paper-resume", &hold);
    let out1 = run_for(&first, 6).await;
    let journal = Journal::open_existing(&first.journal_path()).unwrap();
    let a1 = accounts(&journal);
    drop(journal);
    let held: usize = a1.values().map(|a| a.positions.len()).sum();
    assert!(
        held > 0,
        "the first run ends holding: {}",
        out1.summary.render()
    );
    assert!(
        out1.summary
            .open_positions_next
            .as_deref()
            .unwrap_or("")
            .contains("paper")
    );

    // The second run (same journal, exits as configured) starts from that account.
    // Its time stop is short: a resumed position is closed within seconds.
    let base = fast_config(
        "",
        On::Both,
        &[("max_holding_ms = 20000", "max_holding_ms = 1000")],
        "paper-resume-2",
    );
    let second_text = format!(
        "{}\n[journal]\npath = \"{}\"\n",
        base.text.split("\n[journal]").next().unwrap(),
        first.journal_path().display()
    );
    let second = Config::parse_as(&base.path, second_text, true).unwrap();
    let out2 = run_for(&second, 8).await;
    let journal = Journal::open_existing(&second.journal_path()).unwrap();
    let a2 = accounts(&journal);
    let all = fills(&journal);
    for (venue, before) in &a1 {
        let after = &a2[venue];
        assert_eq!(after.start_balance, before.start_balance);
        assert!(after.next_id > before.next_id, "{venue}: ids go on");
        // Every fill of both runs is in the journal under its own trade id, and the account
        // counts each once.
        let n = all.iter().filter(|f| &f.venue == venue).count() as u64;
        assert_eq!(after.fills, n, "{venue}: account fills vs journal fills");
        // What the account gained in the second run is what the second run's fills made.
        let run2: Decimal = all
            .iter()
            .filter(|f| &f.venue == venue)
            .skip(before.fills as usize)
            .map(|f| f.realized)
            .sum();
        assert_eq!(
            (after.realized_pnl - after.fees) - (before.realized_pnl - before.fees),
            run2,
            "{venue}"
        );
        // The positions it resumed were managed: each is closed or was traded on.
        for p in &before.positions {
            let traded = all
                .iter()
                .skip_while(|f| f.time_ms <= before.updated_ms as i64)
                .any(|f| &f.venue == venue && f.coin == p.coin);
            assert!(
                traded,
                "{venue}/{}: the resumed position was handed to the exit strategies: {}",
                p.coin,
                out2.summary.render()
            );
        }
    }
    for sim in &out2.sims {
        assert_eq!(
            sim.handle.state.lock().unwrap().exchange.orders_received(),
            0
        );
    }
}
