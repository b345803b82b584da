//! Export sinks and manifests.

use sha2::{Digest, Sha256};
use tidemark_core::export::{manifest_path, ExportFormat};
use tidemark_core::{CaseReader, FixedClock, Query};
use tidemark_tests::{fixture, import, new_case, write_dense_ual, TEST_NOW_MS};

#[test]
fn csv_export_neutralises_formulas_and_its_manifest_hashes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "export");
    import(&mut w, &[write_dense_ual(&dir.path().join("d.jsonl"), 500, 3)]);
    let r = CaseReader::open(&path).unwrap();
    let out = dir.path().join("sends.csv");
    let q = Query::parse("op:Send").unwrap();
    let res = r.export("op:Send", &q, ExportFormat::Csv, &out, &FixedClock(TEST_NOW_MS)).unwrap();
    w.record_export(&res).unwrap();

    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFtime_utc,action,operation,"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let rows: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    let expected = r.count(&q).unwrap().matching;
    assert_eq!(rows.len() as i64 - 1, expected);
    assert_eq!(res.manifest.rows as i64, expected);
    assert!(!rows.iter().any(|l| l.contains(",=SUM") || l.contains(",\"=SUM")), "formulas must be neutralised");
    assert!(rows.iter().any(|l| l.contains(",'=SUM(A1)+Report ")), "the neutralised text is kept");

    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(manifest_path(&out)).unwrap()).unwrap();
    assert_eq!(m["query"], "op:Send");
    assert_eq!(m["rows"], expected);
    assert_eq!(m["created_at"], "2026-01-02T03:04:05.000Z");
    assert_eq!(m["files"][0]["sha256"], hex::encode(Sha256::digest(std::fs::read(&out).unwrap())));
    let log = r.log_entries().unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.action, "export");
    assert_eq!(last.sha256.as_deref(), Some(res.manifest_sha256.as_str()));
}

#[test]
fn jsonl_export_round_trips_every_event_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "jsonl");
    import(&mut w, &[fixture("ual-small.jsonl")]);
    let r = CaseReader::open(&path).unwrap();
    let out = dir.path().join("all.jsonl");
    let res = r.export("", &Query::all(), ExportFormat::Jsonl, &out, &FixedClock(TEST_NOW_MS)).unwrap();
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 298);
    assert_eq!(res.manifest.rows, 298);
    for pair in lines.windows(2) {
        assert!(pair[0]["time_ms"].as_i64() <= pair[1]["time_ms"].as_i64());
    }
    assert!(lines.iter().all(|l| l["raw_sha256"].as_str().is_some_and(|s| s.len() == 64)));
    let subject_with_markup = lines.iter().filter_map(|l| l["subject"].as_str()).find(|s| s.contains('<'));
    assert!(subject_with_markup.is_some(), "markup is exported as text, unchanged");
}
