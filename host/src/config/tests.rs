use super::*;
use crate::venue::hyperliquid::config::Network;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("test.toml"), text.to_string())
}

const GOOD: &str = r#"
[plugins]
call_budget_us = 20

[[strategies]]
name = "a"
plugin = "fx-echo"
role = "entry"
markets = ["hl/BTC", "hl/xyz:TSLA"]
[strategies.params]
threshold_bps = 40
"#;

#[test]
fn parses_a_good_config() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.raw.strategies.len(), 1);
    let s = &c.raw.strategies[0];
    assert_eq!(s.market_keys(), vec!["hl/BTC", "hl/xyz:TSLA"]);
    assert_eq!(s.params_toml().trim(), "threshold_bps = 40");
    assert_eq!(c.raw.plugins.call_budget_us, 20);
}

#[test]
fn unknown_key_gives_file_line_col() {
    let text = GOOD.replace("role = \"entry\"", "role = \"entry\"\nrol = 1");
    let e = parse(&text).unwrap_err().to_string();
    assert!(e.starts_with("test.toml:9:1: "), "{e}");
    assert!(e.contains("rol"), "{e}");
}

#[test]
fn bad_role_and_market_are_located() {
    let e = parse(&GOOD.replace("\"entry\"", "\"entri\""))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("test.toml:8:8: "), "{e}");
    let e = parse(&GOOD.replace("hl/BTC", "BTC"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("test.toml:9:12: ") && e.contains("venue/coin"),
        "{e}"
    );
    let e = parse(&GOOD.replace("hl/xyz:TSLA", "hl/xyz:"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("dex:COIN"), "{e}");
}

#[test]
fn engine_and_risk_tables_are_strict_and_checked() {
    let c = parse(&format!("{GOOD}\n[risk]\nmax_notional_per_market = 250\n")).unwrap();
    assert_eq!(
        c.raw.risk.max_notional_per_market,
        rust_decimal::Decimal::from(250)
    );
    assert_eq!(
        c.raw.engine.timer_interval_ms, 200,
        "defaults fill the rest"
    );
    let e = parse(&format!("{GOOD}\n[risk]\nmax_notional = 250\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `max_notional`"), "{e}");
    let e = parse(&format!("{GOOD}\n[risk]\nmax_slippage_bps = -5\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("test.toml:14:1: risk.max_slippage_bps must be > 0"),
        "{e}"
    );
    let c = parse(&format!("{GOOD}\n[journal]\ncommit_window_ms = 0\n")).unwrap();
    assert_eq!(c.raw.journal.commit_window_ms, 0);
    let e = parse(&format!("{GOOD}\n[journal]\ncommit_window_ms = 60000\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("test.toml:14:1: journal.commit_window_ms must be at most 1000"),
        "{e}"
    );
}

const VENUE: &str = r#"
[[venues]]
name = "hl"
kind = "hyperliquid"
network = "testnet"
account = "0x14791697260e4c9a71f18484c9f997b308e59325"
key_env = "HL_AGENT_KEY"
"#;

#[test]
fn venues_are_checked_and_mainnet_needs_an_explicit_yes() {
    let c = parse(&format!("{GOOD}{VENUE}")).unwrap();
    let VenueKind::Hyperliquid(h) = &c.raw.venues[0].kind;
    assert_eq!(*h.network.get_ref(), Network::Testnet);
    assert_eq!(
        Network::Testnet.default_urls().unwrap().0,
        "wss://api.hyperliquid-testnet.xyz/ws"
    );
    let main = format!("{GOOD}{}", VENUE.replace("testnet", "mainnet"));
    let e = parse(&main).unwrap_err().to_string();
    assert!(
        e.contains("is on mainnet: add `allow_mainnet = true`"),
        "{e}"
    );
    assert!(
        e.starts_with("test.toml:16:11:"),
        "located at the network value: {e}"
    );
    assert!(parse(&format!("{main}allow_mainnet = true\n")).is_ok());
    let e = parse(&format!(
        "{GOOD}{}",
        VENUE.replace("key_env = \"HL_AGENT_KEY\"\n", "")
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("needs `key_env` or `key_file`"), "{e}");
    let e = parse(&format!("{GOOD}{}", VENUE.replace("0x1479", "0xZZ79")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not an address"), "{e}");
    let e = parse(&format!(
        "{GOOD}{}",
        VENUE.replace("name = \"hl\"", "name = \"other\"")
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("names venue `hl`, which is not in [[venues]]"),
        "{e}"
    );
    let sim = "[[venues]]\nname = \"hl\"\nkind = \"hyperliquid\"\nnetwork = \"simulator\"\n";
    assert!(
        parse(&format!("{GOOD}{sim}")).is_ok(),
        "the simulator needs no account or key"
    );
}

#[test]
fn venues_are_chosen_by_kind_and_their_keys_are_the_kind_s() {
    let e = parse(&format!(
        "{GOOD}{}",
        VENUE.replace("hyperliquid", "paradex")
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("test.toml:15:8: unknown venue kind `paradex` (known: hyperliquid)"),
        "located at the kind: {e}"
    );
    let e = parse(&format!(
        "{GOOD}{}",
        VENUE.replace("kind = \"hyperliquid\"\n", "")
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("missing field `kind`"), "{e}");
    // A key the kind does not have is an error located at that key, like any unknown key.
    let e = parse(&format!("{GOOD}{VENUE}dead_man = 30\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("test.toml:19:1:") && e.contains("unknown field `dead_man`"),
        "{e}"
    );
    let e = parse(&format!("venues = 3\n{GOOD}"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("array of tables"), "{e}");
}

#[test]
fn values_that_would_switch_a_safety_off_or_overflow_are_refused() {
    for (table, key, value, expect) in [
        (
            "risk",
            "max_consecutive_losses",
            "0",
            "risk.max_consecutive_losses must be between 1",
        ),
        ("risk", "max_rejects_in_window", "0", "never fire"),
        (
            "risk",
            "data_loss_hardstop_ms",
            "0",
            "risk.data_loss_hardstop_ms must be between 1000",
        ),
        (
            "engine",
            "timer_interval_ms",
            "18446744073709551615",
            "engine.timer_interval_ms",
        ),
        ("engine", "stale_after_ms", "0", "engine.stale_after_ms"),
        ("engine", "max_book_distance_bps", "0", "must be > 0"),
        ("risk", "max_drift_notional", "-1", "must be > 0"),
    ] {
        let e = parse(&format!("{GOOD}\n[{table}]\n{key} = {value}\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(expect), "{key} = {value}: {e}");
        assert!(e.starts_with("test.toml:14:1:"), "located at the key: {e}");
    }
    for (line, expect) in [
        (
            "dead_man_secs = 18446744073709551615",
            "dead_man_secs must be 0 (off) or between 5",
        ),
        (
            "verify_every_secs = 0",
            "verify_every_secs must be between 5",
        ),
        (
            "reconcile_min_secs = 0",
            "reconcile_min_secs must be between 1",
        ),
        (
            "ws_url = \"127.0.0.1:3001/ws\"\ninfo_url = \"http://127.0.0.1:3001\"",
            "must start with ws://",
        ),
    ] {
        let e = parse(&format!("{GOOD}{VENUE}{line}\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(expect), "{line}: {e}");
    }
}

#[test]
fn a_private_key_pasted_into_the_config_is_never_echoed() {
    let key = "0x0123456789012345678901234567890123456789012345678901234567890123";
    for field in ["account", "vault", "key_env", "key_file"] {
        let venue = VENUE.replace("key_env = \"HL_AGENT_KEY\"\n", "").replace(
            "account = \"0x14791697260e4c9a71f18484c9f997b308e59325\"\n",
            "",
        );
        let text = format!("{GOOD}{venue}{field} = \"{key}\"\n");
        let e = parse(&text).unwrap_err().to_string();
        assert!(!e.contains(&key[2..20]), "{field}: the key is echoed: {e}");
        assert!(e.contains("looks like a private key"), "{field}: {e}");
    }
}

#[test]
fn duplicate_names_are_refused() {
    let text = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[strategies]]").unwrap()..]);
    let e = parse(&text).unwrap_err().to_string();
    assert!(e.contains("duplicate strategy name `a`"), "{e}");
}

#[test]
fn paper_venues_need_no_key_account_or_mainnet_yes_and_a_run_is_not_mixed() {
    let bare = "\n[[venues]]\nname = \"hl\"\nkind = \"hyperliquid\"\nnetwork = \"mainnet\"\n";
    // Live: refused (mainnet, no account, no key).
    assert!(parse(&format!("{GOOD}{bare}")).is_err());
    // Paper, by the key or by `run --paper`: market data only, nothing to sign.
    let c = parse(&format!("{GOOD}{bare}mode = \"paper\"\n")).unwrap();
    assert!(c.is_paper());
    let c = Config::parse_as(Path::new("test.toml"), format!("{GOOD}{bare}"), true).unwrap();
    assert!(c.is_paper());
    assert_eq!(c.raw.paper.balance, rust_decimal::Decimal::from(10_000));
    let e = parse(&format!("{GOOD}{bare}mode = \"papr\"\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("papr"), "{e}");
    // One paper venue and one live: refused, naming both.
    let two = format!(
        "{GOOD}{VENUE}\n[[venues]]\nname = \"hl2\"\nkind = \"hyperliquid\"\nnetwork = \"testnet\"\nmode = \"paper\"\n"
    );
    let e = parse(&two).unwrap_err().to_string();
    assert!(
        e.contains("venue `hl2` is paper and venue `hl` is live"),
        "{e}"
    );
    let e = parse(&format!(
        "{GOOD}{bare}mode = \"paper\"\n[paper]\nbalance = 0\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("paper.balance must be above 0"), "{e}");
}
