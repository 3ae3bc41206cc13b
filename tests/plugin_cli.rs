//! `strategy-host plugin check` and `config check` through the real binary: one clear line and a
//! non-zero exit for each failure, name/version/role/ABI on success.

use std::process::{Command, Output};
use strategy_host_e2e::{host_binary, plugin_path, scratch_dir, write_file};

fn run(args: &[&str]) -> Output {
    Command::new(host_binary())
        .args(args)
        .env("STRATEGY_HOST_LOG", "warn")
        .output()
        .expect("run strategy-host")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The error output is exactly one line starting with `error: plugin `.
fn assert_one_line_error(out: &Output, needles: &[&str]) {
    assert!(
        !out.status.success(),
        "expected failure: {}",
        text(&out.stdout)
    );
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line, got:\n{err}");
    assert!(lines[0].starts_with("error: plugin `"), "{err}");
    for n in needles {
        assert!(lines[0].contains(n), "missing {n:?} in: {err}");
    }
}

#[test]
fn check_succeeds_on_a_good_plugin_by_path_and_by_name() {
    let path = plugin_path("fx-echo");
    for arg in [path.to_str().unwrap(), "fx-echo"] {
        let out = run(&["plugin", "check", arg]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("ok: fx-echo 0.1.0 (entry plugin)"),
            "{stdout}"
        );
        assert!(
            stdout.contains("plugin ABI: plugin-api 0.2.0 (host: 0.2.0)"),
            "{stdout}"
        );
    }
}

#[test]
fn check_with_params_creates_the_strategy() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "cli-params");
    let good = write_file(&dir, "good.toml", "threshold_bps = 12.5\n");
    let out = run(&[
        "plugin",
        "check",
        "fx-strict-params",
        "--params",
        good.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("(exit plugin)"));
    assert!(text(&out.stdout).contains("params: accepted"));

    let bad = write_file(&dir, "bad.toml", "threshold_bps = 5\nverbose = true\n");
    let out = run(&[
        "plugin",
        "check",
        "fx-strict-params",
        "--params",
        bad.to_str().unwrap(),
    ]);
    assert_one_line_error(
        &out,
        &["params.verbose", "unknown field", "fix the params file"],
    );

    let out = run(&["plugin", "check", "fx-strict-params", "--role", "entry"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is an exit plugin, not entry"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_fails_with_one_line_for_each_broken_plugin() {
    assert_one_line_error(
        &run(&["plugin", "check", "fx-panic-create"]),
        &[
            "fx-panic-create",
            "create() panicked",
            "constructor exploded",
            "fix the plugin",
        ],
    );
    assert_one_line_error(
        &run(&["plugin", "check", "fx-old-api"]),
        &["plugin-api 0.0.9", "host uses 0.2.0", "rebuild the plugin"],
    );
    assert_one_line_error(
        &run(&["plugin", "check", "fx-new-api"]),
        &["expected 0.2.0, found 0.3.0", "rebuild the plugin"],
    );
    assert_one_line_error(
        &run(&["plugin", "check", "no-such-plugin"]),
        &[
            "libno_such_plugin",
            "not found",
            "cargo build --release -p no-such-plugin",
        ],
    );
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "cli-junk");
    let junk = write_file(&dir, "libjunk.so", "#!/bin/sh\n");
    assert_one_line_error(
        &run(&["plugin", "check", junk.to_str().unwrap()]),
        &["cannot open library", "libjunk.so"],
    );
}

/// A simulator venue named `sim` with a BTC market, for configs that name `sim/BTC`.
const SIM_VENUE: &str = "\n[[venues]]\nname = \"sim\"\nkind = \"hyperliquid\"\nnetwork = \"simulator\"\n[venues.sim]\n[[venues.sim.markets]]\ncoin = \"BTC\"\nsz_decimals = 5\nprice = 64000\n";

#[test]
fn config_check_reports_located_config_errors_and_every_plugin_error() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "cli-config");
    let plugin_dir = plugin_path("fx-echo")
        .parent()
        .unwrap()
        .display()
        .to_string();
    let cfg = write_file(
        &dir,
        "c.toml",
        &format!(
            "[plugins]\ndir = \"{plugin_dir}\"\n\n[[strategies]]\nname = \"a\"\nplugin = \"fx-echo\"\nrole = \"entry\"\nmarkets = [\"sim/BTC\"]\n{SIM_VENUE}"
        ),
    );
    let out = run(&["config", "check", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("a = fx-echo 0.1.0 (entry) on sim/BTC"),
        "{}",
        text(&out.stdout)
    );
    // A config with nothing to trade on, or a simulator without the market, is refused.
    let bare = write_file(&dir, "bare.toml", "[plugins]\ncall_budget_us = 50\n");
    let out = run(&["config", "check", bare.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no [[venues]]"),
        "{}",
        text(&out.stderr)
    );
    let wrong = write_file(
        &dir,
        "wrong.toml",
        &format!(
            "[plugins]\ndir = \"{plugin_dir}\"\n\n[[strategies]]\nname = \"a\"\nplugin = \"fx-echo\"\nrole = \"entry\"\nmarkets = [\"sim/SOL\"]\n{SIM_VENUE}"
        ),
    );
    let out = run(&["config", "check", wrong.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("has no coin `SOL`"),
        "{}",
        text(&out.stderr)
    );

    let typo = write_file(
        &dir,
        "typo.toml",
        "[[strategies]]\nname = \"a\"\nplugn = \"x\"\n",
    );
    let out = run(&["config", "check", typo.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("typo.toml:3:1: unknown field `plugn`"),
        "{err}"
    );

    let two_bad = write_file(
        &dir,
        "two.toml",
        &format!(
            "[plugins]\ndir = \"{plugin_dir}\"\n\n[[strategies]]\nname = \"a\"\nplugin = \"fx-panic-create\"\nrole = \"entry\"\nmarkets = [\"sim/BTC\"]\n\n[[strategies]]\nname = \"b\"\nplugin = \"fx-old-api\"\nrole = \"entry\"\nmarkets = [\"sim/BTC\"]\n{SIM_VENUE}"
        ),
    );
    let out = run(&["config", "check", two_bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("error: plugin"))
            .count(),
        2,
        "{err}"
    );
}

#[test]
fn help_reads_well() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("plugin"), "{help}");
    let out = run(&["plugin", "check", "--help"]);
    let help = text(&out.stdout);
    assert!(help.contains("--params <FILE>"), "{help}");
    assert!(
        help.contains("Load and validate a plugin without trading"),
        "{help}"
    );
}

#[test]
fn the_shipped_example_config_checks() {
    let cfg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example-plugins.toml");
    let out = run(&["config", "check", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("2 strategies loaded"), "{stdout}");
    assert!(
        stdout.contains("strict-exit = fx-strict-params 0.1.0 (exit) on hl/xyz:TSLA"),
        "{stdout}"
    );
}

#[test]
fn the_five_strategy_plugins_pass_plugin_check_with_example_params() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "cli-five");
    for (plugin, role, params, markets) in [
        (
            "dislocation-entry",
            "entry",
            "threshold_bps = 40\nnotional = 100\n",
            "hl/BTC",
        ),
        (
            "mark-regression-exit",
            "exit",
            "exit_threshold_bps = 10\nmin_holding_time_ms = 1000\n",
            "hl/BTC",
        ),
        (
            "time-stop-exit",
            "exit",
            "max_holding_ms = 30000\n",
            "hl/BTC",
        ),
        (
            "delta-neutral-entry",
            "entry",
            "entry_threshold_bps = 30\nnotional = 200\n",
            "simA/BTC,simB/BTC",
        ),
        (
            "spread-exit",
            "exit",
            "exit_target_bps = 0\n",
            "simA/BTC,simB/BTC",
        ),
    ] {
        let p = write_file(&dir, &format!("{plugin}.toml"), params);
        let out = run(&[
            "plugin",
            "check",
            plugin,
            "--params",
            p.to_str().unwrap(),
            "--markets",
            markets,
            "--role",
            role,
        ]);
        assert!(out.status.success(), "{plugin}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains(&format!("ok: {plugin} 0.1.0 ({role} plugin)")),
            "{stdout}"
        );
        assert!(stdout.contains("params: accepted"), "{stdout}");
    }
}

#[test]
fn every_shipped_config_checks() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, strategies) in [("config/default.toml", 5), ("config/testnet.toml", 3)] {
        let out = run(&["config", "check", root.join(file).to_str().unwrap()]);
        assert!(out.status.success(), "{file}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(&format!("{strategies} strategies loaded")),
            "{file}: {}",
            text(&out.stdout)
        );
    }
    let sim = std::fs::read_to_string(root.join("config/sim.toml")).unwrap();
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct SimFile {
        sim: strategy_host::sim::server::SimConfig,
    }
    let parsed: Result<SimFile, _> = toml::from_str(&sim);
    assert!(parsed.is_ok(), "config/sim.toml: {:?}", parsed.err());
}

#[test]
fn hardstop_and_journal_commands_work_on_a_journal() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "cli-journal");
    let plugin_dir = plugin_path("fx-echo")
        .parent()
        .unwrap()
        .display()
        .to_string();
    let cfg = write_file(
        &dir,
        "c.toml",
        &format!("[plugins]\ndir = \"{plugin_dir}\"\n[journal]\npath = \"j.db\"\n"),
    );
    let c = cfg.to_str().unwrap();
    let out = run(&["hardstop", "status", "--config", c]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("never triggered"));
    // Read-only commands never create a journal.
    assert!(!dir.join("j.db").exists(), "status created no journal");
    let out = run(&["journal", "runs", "--config", c]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no journal at") && text(&out.stderr).contains("no run yet"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.join("j.db").exists(), "journal created no journal");
    let out = run(&["hardstop", "trigger", "--config", c]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&run(&["hardstop", "status", "--config", c]).stdout)
            .contains("HARD STOP latched (operator)")
    );
    assert!(
        run(&["hardstop", "release", "--config", c])
            .status
            .success()
    );
    assert!(text(&run(&["hardstop", "status", "--config", c]).stdout).contains("released"));
    let out = run(&["journal", "hardstop", "--config", c]);
    let t = text(&out.stdout);
    assert!(
        t.contains("triggered") && t.contains("released") && t.contains("operator-cli"),
        "{t}"
    );
    let out = run(&["journal", "fills", "--config", c]);
    assert!(text(&out.stdout).contains("(none)"));
    // A damaged journal: one clear line, file untouched.
    std::fs::write(dir.join("j.db"), b"garbage, not sqlite").unwrap();
    let out = run(&["journal", "runs", "--config", c]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("not a SQLite file") && err.contains("was not modified"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.join("j.db")).unwrap(),
        b"garbage, not sqlite"
    );
}
