//! Tamper detection.

use tidemark_core::CaseReader;
use tidemark_tests::{fixture, import, new_case};

#[test]
fn an_intact_case_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "ok");
    import(&mut w, &[fixture("ual-small.jsonl"), fixture("ual-malformed.jsonl")]);
    let rep = CaseReader::open(&path).unwrap().verify(&mut |_, _| {}).unwrap();
    assert!(rep.ok(), "{rep:?}");
    assert_eq!(rep.raw_checked, 306);
    assert_eq!(rep.log_checked, 2);
}

#[test]
fn a_flipped_byte_in_a_raw_record_fails_verification_and_names_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "tampered");
    import(&mut w, &[fixture("ual-small.jsonl")]);
    drop(w);
    {
        // Tampering from outside Tidemark: drop the guard, flip one byte of record 42's stored bytes.
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("DROP TRIGGER raw_record_immutable").unwrap();
        let (codec, mut data): (i64, Vec<u8>) = c
            .query_row("SELECT codec, data FROM raw_record WHERE id = 42", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        let i = if codec == 0 { 10 } else { data.len() / 2 };
        data[i] ^= 0x01;
        c.execute("UPDATE raw_record SET data = ?1 WHERE id = 42", [data]).unwrap();
    }
    let rep = CaseReader::open(&path).unwrap().verify(&mut |_, _| {}).unwrap();
    assert!(!rep.ok());
    assert_eq!(rep.raw_issues.len(), 1);
    assert_eq!(rep.raw_issues[0].raw_id, 42);
    assert!(rep.raw_issues[0].locator.contains("ual-small.jsonl line 42"), "{}", rep.raw_issues[0].locator);
}

#[test]
fn an_edited_case_log_entry_breaks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "log");
    import(&mut w, &[fixture("ual-small.jsonl")]);
    drop(w);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("DROP TRIGGER case_log_immutable").unwrap();
        c.execute("UPDATE case_log SET summary = 'Imported nothing' WHERE id = 2", []).unwrap();
    }
    let rep = CaseReader::open(&path).unwrap().verify(&mut |_, _| {}).unwrap();
    assert_eq!(rep.log_issues.len(), 1);
    assert_eq!(rep.log_issues[0].id, 2);
}
