//! The import pipeline end to end.

use std::io::Write;

use tidemark_core::model::SortOrder;
use tidemark_core::{CaseReader, ErrorCode, FormatRegistry, Query};
use tidemark_tests::{fixture, import, new_case, write_dense_ual};

#[test]
fn importing_the_same_file_twice_adds_raw_occurrences_not_events() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "dedup");
    let first = import(&mut w, &[fixture("ual-small.jsonl")]);
    assert_eq!((first.read, first.new_events, first.duplicates, first.malformed), (300, 298, 2, 0));
    let r = CaseReader::open(&path).unwrap();
    let events_before: Vec<String> = all_ids(&r);
    let raw_before = r.summary().unwrap().raw_records;
    let occurrences_before = r.event(&events_before[0]).unwrap().raw.len();

    let second = import(&mut w, &[fixture("ual-small.jsonl")]);
    assert_eq!((second.read, second.new_events, second.duplicates), (300, 0, 300));
    let s = r.summary().unwrap();
    assert_eq!(all_ids(&r), events_before, "events must be unchanged");
    assert_eq!(s.raw_records, raw_before * 2, "raw occurrences must double");
    assert_eq!(s.acquisitions.len(), 2);
    // The summary's counts come from the acquisitions; they must equal the tables themselves.
    let c = rusqlite::Connection::open(&path).unwrap();
    let (events, raws, malformed): (i64, i64, i64) = c
        .query_row(
            "SELECT (SELECT count(*) FROM event), (SELECT count(*) FROM raw_record), \
             (SELECT count(*) FROM raw_record WHERE event_id IS NULL)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((s.events, s.raw_records, s.malformed), (events, raws, malformed));
    // Each event now has its occurrences from both imports.
    let d = r.event(&events_before[0]).unwrap();
    assert_eq!(d.raw.len(), occurrences_before * 2);
    assert_eq!(d.raw[0].sha256, d.raw[occurrences_before].sha256);
    assert_ne!(d.raw[0].acquisition_id, d.raw[occurrences_before].acquisition_id);
}

fn all_ids(r: &CaseReader) -> Vec<String> {
    let mut ids = Vec::new();
    r.for_each_event(&Query::all(), &mut |e| {
        ids.push(e.id.clone());
        Ok(())
    })
    .unwrap();
    ids
}

#[test]
fn malformed_records_are_kept_counted_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "malformed");
    let rep = import(&mut w, &[fixture("ual-malformed.jsonl")]);
    assert_eq!((rep.read, rep.new_events, rep.malformed), (6, 3, 3));
    let lines: Vec<String> =
        rep.malformed_samples.iter().map(|m| m.locator.rsplit(' ').next().unwrap().to_owned()).collect();
    assert_eq!(lines, ["2", "5", "6"]);
    assert!(rep.malformed_samples[0].error.contains("not valid JSON"));
    assert!(rep.malformed_samples[1].error.contains("no Operation"));
    assert!(rep.malformed_samples[2].error.contains("not a date"));
    let r = CaseReader::open(&path).unwrap();
    let s = r.summary().unwrap();
    assert_eq!((s.raw_records, s.malformed, s.events), (6, 3, 3));
    // The BOM and CRLF are not part of a record; the first record starts after the BOM.
    let c = rusqlite::Connection::open(&path).unwrap();
    let (line, offset): (i64, i64) = c
        .query_row("SELECT line, byte_offset FROM raw_record ORDER BY id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((line, offset), (1, 3));
    let first_event = r.page(&Query::all(), SortOrder::Asc, None, 1).unwrap().rows.remove(0);
    let raw = &r.event(&first_event.id).unwrap().raw[0].verbatim;
    assert!(raw.starts_with('{') && raw.ends_with('}'), "{raw}");
}

#[test]
fn a_file_in_no_known_format_stops_the_import_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "unknown");
    let csv = dir.path().join("export.csv");
    std::fs::write(&csv, "Date,Customer,Amount\n2025-01-01,Contoso,12\n").unwrap();
    let e = w.import_files(&[fixture("ual-small.jsonl"), csv], &FormatRegistry::builtin(), &mut |_| {}).unwrap_err();
    assert_eq!(e.code, ErrorCode::ImportUnknownFormat);
    assert!(e.message.contains("export.csv") && e.message.contains("Expected"), "{}", e.message);
    let s = CaseReader::open(&path).unwrap().summary().unwrap();
    assert_eq!((s.events, s.raw_records, s.acquisitions.len()), (0, 0, 0));
    let missing =
        w.import_files(&[dir.path().join("nope.jsonl")], &FormatRegistry::builtin(), &mut |_| {}).unwrap_err();
    assert_eq!(missing.code, ErrorCode::ImportUnreadable);
}

#[test]
fn folders_import_every_file_inside_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "folder");
    let data = dir.path().join("exports");
    std::fs::create_dir_all(data.join("day2")).unwrap();
    std::fs::copy(fixture("ual-small.jsonl"), data.join("day1.jsonl")).unwrap();
    std::fs::copy(fixture("plaso/microsoft_audit_log.jsonl"), data.join("day2/blob.jsonl")).unwrap();
    let rep = import(&mut w, &[data]);
    let names: Vec<&str> = rep.files.iter().map(|f| f.path.rsplit('/').next().unwrap()).collect();
    assert_eq!(names, ["day1.jsonl", "blob.jsonl"]);
    assert_eq!(rep.new_events, 298 + 4);
    assert_eq!(CaseReader::open(&path).unwrap().summary().unwrap().events, 302);
}

#[test]
fn real_management_api_records_normalize() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "plaso");
    let rep = import(&mut w, &[fixture("plaso/microsoft_audit_log.jsonl")]);
    assert_eq!(rep.files[0].sha256, "d9b3f230989b63055441e46b48d8aedbae377305448a8d4189e83eb84b1bd890");
    let r = CaseReader::open(&path).unwrap();
    let rows = r.page(&Query::all(), SortOrder::Asc, None, 10).unwrap().rows;
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].operation, "Install-DefaultSharingPolicy");
    assert_eq!(rows[0].action, "admin");
    assert_eq!(rows[0].actor.as_deref(), Some("NT AUTHORITY\\SYSTEM (Microsoft.Exchange.Servicehost)"));
    assert_eq!(rows[0].time, "2022-05-07T12:55:53.000Z");
    assert_eq!(rows[0].result.as_deref(), Some("True"));
    let login = rows.iter().find(|r| r.operation == "UserLoggedIn").unwrap();
    assert_eq!(login.action, "logon");
    assert_eq!(login.client_ip.as_deref(), Some("0.0.0.0"));
}

#[test]
fn many_records_in_the_same_second_get_distinct_time_ordered_ids_across_imports() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "dense");
    // 45,000 records span two import batches (32,768 each), so batch boundaries are crossed too.
    let a = write_dense_ual(&dir.path().join("a.jsonl"), 45_000, 1);
    let b = write_dense_ual(&dir.path().join("b.jsonl"), 20_000, 2);
    assert_eq!(import(&mut w, &[a]).new_events, 45_000);
    assert_eq!(import(&mut w, &[b]).new_events, 20_000);
    let r = CaseReader::open(&path).unwrap();
    let mut prev: Option<(i64, i64)> = None;
    let mut n = 0;
    r.for_each_event(&Query::all(), &mut |e| {
        let id: i64 = e.id.parse().unwrap();
        if let Some((pt, pid)) = prev {
            assert!(id > pid && e.time_ms >= pt, "ids and times must ascend together");
        }
        prev = Some((e.time_ms, id));
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(n, 65_000);
}

#[test]
fn late_records_get_distinct_time_keys_after_the_sequence_window_moved_on() {
    // 110,000 records one millisecond apart push the per-millisecond sequence map past its window;
    // then records for early milliseconds arrive again (new Ids): their keys must not collide.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let base = 1_740_787_200_000i64; // 2025-03-01T00:00:00Z
    let line = |i: usize, ms: i64| {
        let t = tidemark_core::time::iso_ms(ms);
        format!(
            r#"{{"CreationTime":"{}","Id":"00000000-0000-4000-8000-{i:012x}","Operation":"MailItemsAccessed","UserId":"a@contoso.example"}}"#,
            t.trim_end_matches('Z')
        )
    };
    for i in 0..110_000usize {
        writeln!(f, "{}", line(i, base + i as i64)).unwrap();
    }
    for i in 0..50usize {
        writeln!(f, "{}", line(200_000 + i, base + i as i64)).unwrap();
    }
    drop(f);
    let (case, mut w) = new_case(dir.path(), "late");
    let report = w.import_files(&[path], &FormatRegistry::builtin(), &mut |_| {}).unwrap();
    assert_eq!(report.new_events, 110_050);
    let c = rusqlite::Connection::open(&case).unwrap();
    let at_base: i64 = c.query_row("SELECT count(*) FROM event WHERE time_ms = ?1", [base], |r| r.get(0)).unwrap();
    assert_eq!(at_base, 2, "the early millisecond holds both of its events");
    let distinct: i64 = c.query_row("SELECT count(DISTINCT id) FROM event", [], |r| r.get(0)).unwrap();
    assert_eq!(distinct, 110_050);
}
