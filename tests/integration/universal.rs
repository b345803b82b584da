//! The universal import end to end: every format in containers and encodings investigators receive,
//! the per-file report, cancelling, and the proof that events are derived (normalizing the stored
//! evidence again gives exactly the stored events).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use tidemark_core::import::ImportControl;
use tidemark_core::model::SortOrder;
use tidemark_core::{CaseReader, ErrorCode, FormatRegistry, Query};
use tidemark_tests::{fixture, new_case, repo_root};

fn formats_data(rel: &str) -> PathBuf {
    repo_root().join("crates/tidemark-formats/tests-data").join(rel)
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A zip as a colleague would send it: several exports, one of them UTF-16, one gzipped, with macOS
/// litter that must be skipped.
fn evidence_zip(dir: &Path) -> (PathBuf, Vec<(&'static str, Vec<u8>)>) {
    let small = std::fs::read_to_string(fixture("ual-small.jsonl")).unwrap();
    let members: Vec<(&'static str, Vec<u8>)> = vec![
        ("exports/purview.csv", std::fs::read(formats_data("purview-csv/gen-seed3-200.csv")).unwrap()),
        ("exports/powershell.csv", std::fs::read(formats_data("ual-powershell-csv/type-line.csv")).unwrap()),
        ("exports/graph.csv", std::fs::read(formats_data("graph-ual-csv/records.csv")).unwrap()),
        ("legacy/retriever.csv", std::fs::read(formats_data("activities-csv/retriever-bom.csv")).unwrap()),
        ("mailbox-utf16.jsonl", utf16le(&small.replace('\n', "\r\n"))),
        ("plaso.jsonl.gz", gzip(&std::fs::read(fixture("plaso/microsoft_audit_log.jsonl")).unwrap())),
    ];
    let path = dir.join("evidence.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in &members {
        z.start_file(*name, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.start_file("__MACOSX/exports/._purview.csv", opts).unwrap();
    z.write_all(b"\x00\x05\x16\x07 resource fork").unwrap();
    z.finish().unwrap();
    (path, members)
}

#[test]
fn a_zip_of_every_format_imports_with_a_report_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let (zip_path, members) = evidence_zip(dir.path());
    let (case, mut w) = new_case(dir.path(), "universal");
    let report = w.import_files(std::slice::from_ref(&zip_path), &FormatRegistry::builtin(), &mut |_| {}).unwrap();
    let formats: Vec<(&str, &str, &str)> = report
        .files
        .iter()
        .map(|f| (f.path.rsplit(" › ").next().unwrap(), f.format.as_str(), f.encoding.as_str()))
        .collect();
    assert_eq!(
        formats,
        vec![
            ("exports/graph.csv", "graph-ual-csv", "utf-8"),
            ("exports/powershell.csv", "ual-powershell-csv", "utf-8"),
            ("exports/purview.csv", "purview-csv", "utf-8-bom"),
            ("legacy/retriever.csv", "activities-csv", "utf-8-bom"),
            ("mailbox-utf16.jsonl", "ual-jsonl", "utf-16le"),
            ("plaso.jsonl.gz", "ual-jsonl", "utf-8"),
        ],
        "members in name order, detected by content, litter skipped"
    );
    for f in &report.files {
        let name = f.path.rsplit(" › ").next().unwrap();
        let (_, bytes) = members.iter().find(|(n, _)| *n == name).unwrap();
        let expected = if name.ends_with(".gz") {
            std::fs::read(fixture("plaso/microsoft_audit_log.jsonl")).unwrap()
        } else {
            bytes.clone()
        };
        assert_eq!(f.sha256, hex::encode(Sha256::digest(&expected)), "{name}: hash of the bytes as read");
        assert_eq!(f.size, expected.len() as u64, "{name}");
        assert_eq!(f.container.as_deref(), Some(zip_path.display().to_string().as_str()));
        assert!(f.records > 0, "{name} has records");
        assert_eq!(f.records, f.new_events + f.duplicates + f.malformed, "{name}: every record is accounted for");
        assert!(f.first_time.is_some() && f.last_time >= f.first_time, "{name}: time span");
    }
    // The zip is the container received; the gzip member inside it is covered by the zip's hash and read
    // through (its decompressed bytes are hashed as that member).
    assert_eq!(report.containers.len(), 1);
    assert_eq!(report.containers[0].sha256, hex::encode(Sha256::digest(std::fs::read(&zip_path).unwrap())));
    let utf16 = report.files.iter().find(|f| f.encoding == "utf-16le").unwrap();
    assert_eq!((utf16.records, utf16.new_events, utf16.duplicates), (300, 298, 2));
    assert_eq!(report.read, report.files.iter().map(|f| f.records).sum::<i64>());

    // The UTF-16 records are stored as they were in the file, and read back as text.
    let r = CaseReader::open(&case).unwrap();
    let c = rusqlite::Connection::open(&case).unwrap();
    let (raw_id, size): (i64, i64) = c
        .query_row(
            "SELECT r.id, r.size FROM raw_record r JOIN acquired_file f ON f.id = r.file_id \
             WHERE f.encoding = 'utf-16le' ORDER BY r.id LIMIT 1",
            [],
            |x| Ok((x.get(0)?, x.get(1)?)),
        )
        .unwrap();
    let first_line = std::fs::read_to_string(fixture("ual-small.jsonl")).unwrap().lines().next().unwrap().to_owned();
    assert_eq!(size as usize, first_line.encode_utf16().count() * 2, "raw record {raw_id} is UTF-16 bytes");
    let event_id: i64 = c.query_row("SELECT event_id FROM raw_record WHERE id = ?1", [raw_id], |x| x.get(0)).unwrap();
    let detail = r.event(&event_id.to_string()).unwrap();
    let occurrence = detail.raw.iter().find(|o| o.verbatim == first_line);
    assert!(occurrence.is_some(), "the stored UTF-16 record reads back as the original line");

    // A CSV row reads as columns with the AuditData laid out.
    let purview = r.page(&Query::parse("source:purview-csv").unwrap(), SortOrder::Asc, None, 1).unwrap();
    let d = r.event(&purview.rows[0].id).unwrap();
    assert!(d.raw[0].text.contains("AuditData: \n{"), "{}", d.raw[0].text);

    // Stored events are exactly what the stored evidence normalizes to.
    let again = r.renormalize(&FormatRegistry::builtin(), &mut |_, _| {}).unwrap();
    assert_eq!(again.checked, report.read as u64);
    assert!(again.issues.is_empty(), "{:?}", again.issues);
}

#[test]
fn renormalizing_finds_an_event_that_no_longer_matches_its_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let (case, mut w) = new_case(dir.path(), "derived");
    w.import_files(
        &[fixture("ual-small.jsonl"), fixture("ual-malformed.jsonl")],
        &FormatRegistry::builtin(),
        &mut |_| {},
    )
    .unwrap();
    let r = CaseReader::open(&case).unwrap();
    assert!(r.renormalize(&FormatRegistry::builtin(), &mut |_, _| {}).unwrap().issues.is_empty());
    let c = rusqlite::Connection::open(&case).unwrap();
    let id: i64 = c.query_row("SELECT id FROM event ORDER BY id LIMIT 1 OFFSET 7", [], |x| x.get(0)).unwrap();
    c.execute("UPDATE event SET actor = 'mallory@evil.example' WHERE id = ?1", [id]).unwrap();
    let report = r.renormalize(&FormatRegistry::builtin(), &mut |_, _| {}).unwrap();
    assert_eq!(report.issues.len(), 1, "{:?}", report.issues);
    assert_eq!(report.issues[0].event_id, Some(id));
    assert!(report.issues[0].problem.contains("actor") && report.issues[0].problem.contains("mallory"));
}

#[test]
fn a_cancelled_import_keeps_what_was_read_and_a_rerun_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (case, mut w) = new_case(dir.path(), "cancel");
    let cancel = AtomicBool::new(false);
    let files = [fixture("ual-small.jsonl"), fixture("ual-demo.jsonl")];
    // Stop as soon as the first progress report arrives (before any batch is written).
    let e = w
        .import_with(&files, &FormatRegistry::builtin(), ImportControl { cancel: &cancel }, &mut |_| {
            cancel.store(true, Ordering::Relaxed)
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ImportCancelled);
    assert!(e.message.contains("stopped"), "{}", e.message);
    let s = CaseReader::open(&case).unwrap().summary().unwrap();
    assert_eq!(s.acquisitions[0].status, "interrupted");
    let again = w.import_files(&files, &FormatRegistry::builtin(), &mut |_| {}).unwrap();
    assert_eq!(again.read, 1500);
    let s = CaseReader::open(&case).unwrap().summary().unwrap();
    assert_eq!(s.acquisitions[1].status, "completed");
    assert!(s.events > 1000);
}

#[test]
fn gzip_and_folders_nest_and_empty_selections_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(inbox.join("day2")).unwrap();
    std::fs::write(inbox.join("day1.jsonl.gz"), gzip(&std::fs::read(fixture("ual-small.jsonl")).unwrap())).unwrap();
    std::fs::copy(fixture("ual-demo.jsonl"), inbox.join("day2/mailbox.jsonl")).unwrap();
    std::fs::write(inbox.join(".DS_Store"), b"\x00\x00\x00\x01Bud1").unwrap();
    let (_, mut w) = new_case(dir.path(), "nest");
    let report = w.import_files(std::slice::from_ref(&inbox), &FormatRegistry::builtin(), &mut |_| {}).unwrap();
    assert_eq!(report.files.len(), 2);
    assert!(report.files[0].path.ends_with("day1.jsonl.gz (gzip)"), "{}", report.files[0].path);
    assert_eq!(report.read, 1500);
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = w.import_files(&[empty], &FormatRegistry::builtin(), &mut |_| {}).unwrap_err();
    assert_eq!(e.code, ErrorCode::ImportUnreadable);
    assert!(e.message.contains("nothing to import"), "{}", e.message);
}

#[test]
fn the_real_samples_folder_imports_its_audit_data_and_skips_the_rest() {
    let shared = std::env::var_os("TIDEMARK_SHARED").map_or_else(|| repo_root().join("../shared"), PathBuf::from);
    let samples = shared.join("samples");
    assert!(samples.is_dir(), "the real samples are missing: expected {}", samples.display());
    let dir = tempfile::tempdir().unwrap();
    let (case, mut w) = new_case(dir.path(), "samples");
    let report = w.import_files(&[samples], &FormatRegistry::builtin(), &mut |_| {}).unwrap();
    // The same counts the golden tests check file by file: AppOmni 25 + 24 + 9 + 11, the msdocs
    // content blob 3, the OTRF OfficeActivity record 1 and Entra audit events 4, the plaso JSONL 4.
    let per_format = |id: &str| report.files.iter().filter(|f| f.format == id).map(|f| f.records).sum::<i64>();
    assert_eq!(report.read, 25 + 24 + 9 + 11 + 3 + 1 + 4 + 4, "{:#?}", report.files);
    assert_eq!(per_format("entra-audit-json"), 4);
    assert_eq!(per_format("mgmt-blob"), 3);
    assert_eq!(per_format("ual-jsonl"), 4);
    assert_eq!(report.malformed, 0, "{:?}", report.malformed_samples);
    assert_eq!(per_format("sentinel-officeactivity"), 1);
    assert!(report.skipped.iter().any(|s| s.path.ends_with("README.md")), "{:?}", report.skipped);
    assert!(report.skipped.iter().any(|s| s.path.ends_with("error_response.json")), "{:?}", report.skipped);
    let r = CaseReader::open(&case).unwrap();
    assert!(r.renormalize(&FormatRegistry::builtin(), &mut |_, _| {}).unwrap().issues.is_empty());
}
