use super::*;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sh-journal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("j.db")
}

#[test]
fn created_on_first_use_and_reopened() {
    let p = tmp("create");
    let j = Journal::open(&p).unwrap();
    let run = j
        .start_run(
            "c.toml",
            "abc",
            &[("s".into(), "p".into(), "0.1.0".into(), "h".into())],
        )
        .unwrap();
    assert_eq!(run, 1);
    assert_eq!(j.hard_stop().unwrap(), None);
    j.record_hard_stop(true, "slippage", "engine").unwrap();
    drop(j);
    let j = Journal::open(&p).unwrap();
    let h = j.hard_stop().unwrap().unwrap();
    assert!(h.latched);
    assert_eq!(h.reason, "slippage");
    j.record_hard_stop(false, "operator", "operator-cli")
        .unwrap();
    assert!(!j.hard_stop().unwrap().unwrap().latched);
    let mode: String = j
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_corrupt_or_foreign_file_is_refused_and_left_untouched() {
    let p = tmp("corrupt");
    std::fs::write(&p, b"this is not a database at all, just text").unwrap();
    let before = std::fs::read(&p).unwrap();
    let e = Journal::open(&p).err().unwrap().to_string();
    assert!(
        e.contains("not a SQLite file") && e.contains("was not modified"),
        "{e}"
    );
    assert_eq!(std::fs::read(&p).unwrap(), before);

    // A real journal cut short.
    let good = tmp("truncated");
    let j = Journal::open(&good).unwrap();
    j.start_run("c", "h", &[]).unwrap();
    j.conn()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(j);
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&good, &bytes[..bytes.len() / 3]).unwrap();
    let cut = std::fs::read(&good).unwrap();
    let e = Journal::open(&good).err().map(|e| e.to_string());
    assert!(
        e.as_deref()
            .is_some_and(|e| e.contains("damaged") || e.contains("not a SQLite")),
        "{e:?}"
    );
    assert_eq!(std::fs::read(&good).unwrap(), cut, "nothing overwritten");

    // Another program's SQLite database.
    let other = tmp("foreign");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let e = Journal::open(&other).err().unwrap().to_string();
    assert!(e.contains("not a strategy-host journal"), "{e}");
}

#[test]
fn a_newer_schema_is_refused() {
    let p = tmp("newer");
    Journal::open(&p)
        .unwrap()
        .conn()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    let e = Journal::open(&p).err().unwrap().to_string();
    assert!(e.contains("newer strategy-host (schema 99"), "{e}");
}

#[test]
fn operator_commands_are_taken_once() {
    let j = Journal::open(&tmp("ops")).unwrap();
    j.queue_operator_command("hardstop-release").unwrap();
    j.queue_operator_command("hardstop").unwrap();
    assert_eq!(
        j.take_operator_commands().unwrap(),
        vec!["hardstop-release", "hardstop"]
    );
    assert!(j.take_operator_commands().unwrap().is_empty());
}

/// `ctl` commands no host took are discarded at the next start (a pause or flatten meant for a
/// host that had stopped must not fire later); HardStop commands are kept, as the latch is.
#[test]
fn stale_ctl_commands_are_discarded_at_start() {
    let j = Journal::open(&tmp("stale-ops")).unwrap();
    let id = j.queue_operator_command("flatten:hl/BTC").unwrap();
    j.queue_operator_command("hardstop").unwrap();
    j.queue_operator_command("pause").unwrap();
    assert_eq!(j.operator_command_consumed(id).unwrap(), None);
    assert_eq!(
        j.discard_stale_operator_commands().unwrap(),
        vec!["flatten:hl/BTC", "pause"]
    );
    assert!(
        j.operator_command_consumed(id)
            .unwrap()
            .is_some_and(|t| t < 0),
        "marked discarded"
    );
    assert_eq!(j.take_operator_commands().unwrap(), vec!["hardstop"]);
}
