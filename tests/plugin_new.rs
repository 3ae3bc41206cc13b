//! A quant's first plugin, as the docs tell it: `strategy-host plugin new`, then `cargo test` and
//! `cargo build --release` in the new crate (standalone: its own workspace), `plugin check`, a
//! config edit that trades it on the simulator, and a restart that gives it back its state.

use std::path::Path;
use std::process::Command;
use strategy_host_e2e::{host_binary, host_ok, scratch_dir};

fn cargo(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        // The crate's own target dir, as a user would have it (not this workspace's).
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "cargo {args:?} in {}: {err}",
        dir.display()
    );
    assert!(!err.contains("warning:"), "cargo {args:?} warns: {err}");
    String::from_utf8_lossy(&out.stdout).to_string() + &err
}

#[test]
fn a_new_plugin_builds_checks_trades_and_resumes() {
    let dir = scratch_dir(env!("CARGO_TARGET_TMPDIR"), "plugin-new");
    let out = host_ok(&["plugin", "new", "my-entry", "--dir", dir.to_str().unwrap()]);
    assert!(out.contains("made "), "{out}");
    let krate = dir.join("my-entry");
    for f in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "README.md",
        "config-snippet.toml",
        "params.toml",
    ] {
        assert!(krate.join(f).is_file(), "{f} missing");
    }
    // Making it again refuses to overwrite.
    let again = Command::new(host_binary())
        .args(["plugin", "new", "my-entry", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let tests = cargo(&krate, &["test", "--offline"]);
    assert!(tests.contains("test result: ok. 3 passed"), "{tests}");
    cargo(&krate, &["build", "--release", "--offline"]);
    let lib = krate.join("target/release/libmy_entry.so");
    let check = host_ok(&[
        "plugin".as_ref(),
        "check".as_ref(),
        lib.as_os_str(),
        "--params".as_ref(),
        krate.join("params.toml").as_os_str(),
    ]);
    assert!(
        check.starts_with("ok: my-entry 0.1.0 (entry plugin)"),
        "{check}"
    );

    // The config edit config-snippet.toml describes, on a copy of the default config.
    let snippet = std::fs::read_to_string(krate.join("config-snippet.toml")).unwrap();
    let dir_line = snippet
        .lines()
        .find_map(|l| l.trim_start_matches('#').trim().strip_prefix("dir = "))
        .expect("the snippet names the plugin dir");
    let entry = &snippet[snippet.find("\n[[strategies]]").unwrap() + 1..];
    let default =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"))
            .unwrap();
    let start = default
        .find("[[strategies]]\nname = \"dislocation\"")
        .unwrap();
    let end = start + 1 + default[start + 1..].find("[[strategies]]").unwrap();
    let text = format!(
        "{}{entry}\n{}",
        default[..start].replacen("[plugins]\n", &format!("[plugins]\ndir = {dir_line}\n"), 1),
        &default[end..]
    );
    let config = dir.join("mine.toml");
    std::fs::write(&config, text).unwrap();
    host_ok(&["config".as_ref(), "check".as_ref(), config.as_os_str()]);

    let c = config.as_os_str();
    let run = |secs: &str| {
        let o = Command::new(host_binary())
            .args(["run".as_ref(), "--config".as_ref(), c])
            .args(["--duration", secs, "--status-every", "0"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout).to_string();
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{stdout}{stderr}");
        (stdout, stderr)
    };
    let (first, _) = run("10s");
    let line = first
        .lines()
        .find(|l| l.trim_start().starts_with("my-entry"))
        .unwrap_or_else(|| panic!("my-entry in the summary: {first}"));
    assert!(
        line.contains("entry") && !line.contains("idle"),
        "it traded: {line}"
    );
    let conn = rusqlite::Connection::open(dir.join("strategy-host.db")).unwrap();
    let state: String = conn
        .query_row(
            "SELECT state FROM plugin_state WHERE strategy = 'my-entry'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let saved: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert!(saved["entries"].as_u64().unwrap() > 0, "{state}");
    drop(conn);

    // The restart gives the strategy its state back.
    let (_, log) = run("2s");
    assert!(
        log.lines()
            .any(|l| l.contains("strategy state restored") && l.contains("strategy=my-entry")),
        "{log}"
    );
    // The crate's own build is half a gigabyte: not kept.
    let _ = std::fs::remove_dir_all(krate.join("target"));
}
