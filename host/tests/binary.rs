//! The `strategy-host` binary itself. Besides checking it starts, this integration test is what
//! makes `cargo test` build the binary afresh: the end-to-end tests in `tests/` run it
//! (`strategy_host_e2e::host_binary`), and without an integration test in this package cargo
//! would leave an old build in place for them.

use std::process::Command;

#[test]
fn the_binary_starts_and_lists_its_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_strategy-host"))
        .arg("--help")
        .output()
        .expect("run strategy-host --help");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "run",
        "sim",
        "plugin",
        "config",
        "hardstop",
        "journal",
        "reconcile",
        "hl",
    ] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(cmd)),
            "`{cmd}` missing from --help:\n{text}"
        );
    }
}
