//! The case file: identity, schema versions, immutable evidence, the case log.

use std::sync::Arc;

use tidemark_core::case::SCHEMA_VERSION;
use tidemark_core::{CaseReader, CaseWriter, ErrorCode, FixedClock};
use tidemark_tests::{fixture, import, new_case, TEST_NOW_MS};

#[test]
fn a_new_case_records_its_metadata_and_creation_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = new_case(dir.path(), "Contoso BEC");
    let r = CaseReader::open(&path).unwrap();
    let s = r.summary().unwrap();
    assert_eq!(s.name, "Contoso BEC");
    assert_eq!(s.created_at, "2026-01-02T03:04:05.000Z");
    assert_eq!(s.display_time_zone, "UTC");
    assert_eq!((s.events, s.raw_records), (0, 0));
    let log = r.log_entries().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "case.created");
    assert_eq!(log[0].operator, "tester");
}

#[test]
fn creating_over_an_existing_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = new_case(dir.path(), "a");
    let e = CaseWriter::create(&path, "b", Arc::new(FixedClock(TEST_NOW_MS)), "t").unwrap_err();
    assert_eq!(e.code, ErrorCode::CaseExists);
}

#[test]
fn a_case_from_a_newer_tidemark_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = new_case(dir.path(), "future");
    drop(w);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let e = CaseReader::open(&path).unwrap_err();
    assert_eq!(e.code, ErrorCode::CaseNewerSchema);
    assert!(e.message.contains("newer version of Tidemark"), "{}", e.message);
    let e = CaseWriter::open(&path, Arc::new(FixedClock(TEST_NOW_MS)), "t").unwrap_err();
    assert_eq!(e.code, ErrorCode::CaseNewerSchema);
    assert_eq!(std::fs::read(&path).unwrap(), before, "a refused file must not be touched");
}

#[test]
fn files_that_are_not_cases_are_refused_with_a_clear_code() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.tidemark");
    std::fs::write(&text, "not a database").unwrap();
    assert_eq!(CaseReader::open(&text).unwrap_err().code, ErrorCode::CaseNotACase);
    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE t(x)").unwrap();
    assert_eq!(CaseReader::open(&other).unwrap_err().code, ErrorCode::CaseNotACase);
    assert_eq!(CaseReader::open(&dir.path().join("missing.tidemark")).unwrap_err().code, ErrorCode::CaseNotFound);
}

#[test]
fn raw_evidence_and_the_case_log_cannot_be_changed_through_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "immutable");
    import(&mut w, &[fixture("ual-small.jsonl")]);
    drop(w);
    let c = rusqlite::Connection::open(&path).unwrap();
    for sql in [
        "UPDATE raw_record SET data = x'00' WHERE id = 1",
        "UPDATE raw_record SET sha256 = x'00' WHERE id = 1",
        "DELETE FROM raw_record WHERE id = 1",
        "UPDATE acquired_file SET sha256 = x'00'",
        "DELETE FROM case_log",
        "UPDATE case_log SET summary = 'nothing happened'",
    ] {
        let e = c.execute(sql, []).unwrap_err().to_string();
        assert!(e.contains("immutable") || e.contains("append-only"), "{sql}: {e}");
    }
    // The derived link to events may be rebuilt.
    c.execute("UPDATE raw_record SET event_id = event_id WHERE id = 1", []).unwrap();
}

#[test]
fn the_case_file_uses_wal_and_the_expected_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = new_case(dir.path(), "pragmas");
    let c = rusqlite::Connection::open(&path).unwrap();
    let mode: String = c.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let v: u32 = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let fts5: i64 = c.query_row("SELECT sqlite_compileoption_used('ENABLE_FTS5')", [], |r| r.get(0)).unwrap();
    assert_eq!(fts5, 1);
}

#[test]
fn an_import_cut_off_by_a_crash_is_marked_interrupted_on_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "crash");
    import(&mut w, &[fixture("ual-small.jsonl")]);
    drop(w);
    // What a killed import leaves behind: an acquisition still marked running.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO acquisition (kind, source, parameters, operator, tool_version, started_ms, status, records_read) \
             VALUES ('import', 'ual-jsonl', '{}', 'tester', '0.1.0', 1, 'running', 8192)",
            [],
        )
        .unwrap();
    // While another process holds the import lock, the import is live and left alone.
    let lock_path = dir.path().join("crash.tidemark.import-lock");
    let held = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).unwrap();
    held.lock().unwrap();
    drop(CaseWriter::open(&path, Arc::new(FixedClock(TEST_NOW_MS)), "t").unwrap());
    let status = |p: &std::path::Path| CaseReader::open(p).unwrap().summary().unwrap().acquisitions[1].status.clone();
    assert_eq!(status(&path), "running");
    held.unlock().unwrap();
    // Once nobody holds it, the next open closes the acquisition and says so in the case log.
    drop(CaseWriter::open(&path, Arc::new(FixedClock(TEST_NOW_MS)), "t").unwrap());
    assert_eq!(status(&path), "interrupted");
    let log = CaseReader::open(&path).unwrap().log_entries().unwrap();
    assert_eq!(log.last().unwrap().action, "acquisition.interrupted");
    assert!(log.last().unwrap().summary.contains("8192 records"));
}
