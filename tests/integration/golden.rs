//! Golden normalized output for every real sample of audit data in `shared/samples`.
//!
//! Each sample goes through what the import does before storage: encoding detection, format detection
//! from the head ([`FormatRegistry::builtin`]), the format's context, splitting and normalization. The
//! result (per record: line, byte offset, and the normalized event or the reason it was refused) is
//! compared, as pretty JSON, with `tests/golden/<sample>.json`. The goldens were read and checked by
//! hand; a change in them is a change in what investigators see, so it must show up in review.
//! `TIDEMARK_BLESS=1` rewrites them.
//!
//! The samples live outside the repository (`../shared`, or `TIDEMARK_SHARED`); when they are missing
//! the test fails and says where it looked, rather than passing without having checked anything.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tidemark_core::formats::encoding::Encoding;
use tidemark_core::formats::HEAD_BYTES;
use tidemark_core::FormatRegistry;
use tidemark_tests::repo_root;

/// The folder that holds `samples/`.
fn shared() -> PathBuf {
    let dir = std::env::var_os("TIDEMARK_SHARED").map_or_else(|| repo_root().join("../shared"), PathBuf::from);
    assert!(
        dir.join("samples").is_dir(),
        "the real samples are missing: expected the folder {} (set TIDEMARK_SHARED to the folder that \
         holds samples/)",
        dir.join("samples").display()
    );
    dir
}

/// A sample file's records, normalized, with the format that claimed it.
fn read_file(registry: &FormatRegistry, path: &Path, label: &str) -> (String, Value) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let enc = Encoding::detect(&bytes);
    let head = enc.decode_head(&bytes[..bytes.len().min(HEAD_BYTES + enc.bom_len())]);
    let format = registry.detect(&head).unwrap_or_else(|| panic!("no format recognises {}", path.display()));
    let context = format.context(&head);
    let text = enc.text_reader(Box::new(std::io::Cursor::new(bytes))).expect("text reader");
    let mut records = Vec::new();
    for unit in format.split(text) {
        let unit = unit.expect("split");
        let result = match format.normalize(&context, &unit.bytes) {
            Ok(event) => json!({ "event": event }),
            Err(reason) => json!({ "error": reason }),
        };
        let mut rec = json!({ "line": unit.line, "byte_offset": unit.byte_offset });
        rec.as_object_mut().unwrap().extend(result.as_object().unwrap().clone());
        records.push(rec);
    }
    (format.id().to_owned(), json!({ "file": label, "format": format.id(), "records": records }))
}

/// Compares (or, with `TIDEMARK_BLESS=1`, writes) `tests/golden/<name>.json`.
fn check_golden(name: &str, actual: &Value) {
    let path = repo_root().join("tests/golden").join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var_os("TIDEMARK_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} cannot be read ({e}); run with TIDEMARK_BLESS=1 to write it", path.display()));
    if golden != text {
        let (n, (want, got)) = golden
            .lines()
            .chain(std::iter::repeat("<end>"))
            .zip(text.lines().chain(std::iter::repeat("<end>")))
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap();
        panic!(
            "{} differs from the normalized output at line {}:\n  golden: {want}\n  now:    {got}\n\
             Review the change; if it is right, rerun with TIDEMARK_BLESS=1.",
            path.display(),
            n + 1
        );
    }
}

/// Files of a sample folder, sorted, with their labels relative to `samples/`.
fn files_in(samples: &Path, folder: &str) -> Vec<(PathBuf, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(samples.join(folder))
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", samples.join(folder).display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let label = p.strip_prefix(samples).unwrap().to_string_lossy().replace('\\', "/");
            (p, label)
        })
        .collect()
}

struct Expect {
    /// Golden file name.
    name: &'static str,
    /// Files (relative to `samples/`) or one folder of single-record files.
    files: Vec<(PathBuf, String)>,
    format: &'static str,
    records: usize,
    events: usize,
}

fn run(e: &Expect) {
    let registry = FormatRegistry::builtin();
    let mut out = Vec::new();
    let (mut records, mut events) = (0, 0);
    for (path, label) in &e.files {
        let (format, v) = read_file(&registry, path, label);
        assert_eq!(format, e.format, "{label} was taken for {format}");
        let recs = v["records"].as_array().unwrap();
        records += recs.len();
        events += recs.iter().filter(|r| r.get("event").is_some()).count();
        out.push(v);
    }
    assert_eq!((records, events), (e.records, e.events), "{}: records read, events normalized", e.name);
    check_golden(e.name, &Value::Array(out));
}

fn samples() -> PathBuf {
    shared().join("samples")
}

fn one(samples: &Path, rel: &str) -> Vec<(PathBuf, String)> {
    vec![(samples.join(rel), rel.to_owned())]
}

#[test]
fn appomni_azure_ad_records() {
    let s = samples();
    let files = files_in(&s, "appomni-event-maturity-matrix/azure_ad");
    assert_eq!(files.len(), 25);
    run(&Expect { name: "appomni-azure_ad", files, format: "mes-ual-json", records: 25, events: 25 });
}

#[test]
fn appomni_exchange_records() {
    let s = samples();
    let files = files_in(&s, "appomni-event-maturity-matrix/exchange");
    assert_eq!(files.len(), 24);
    run(&Expect { name: "appomni-exchange", files, format: "mes-ual-json", records: 24, events: 24 });
}

#[test]
fn appomni_general_records() {
    let s = samples();
    let files = files_in(&s, "appomni-event-maturity-matrix/general");
    assert_eq!(files.len(), 9);
    run(&Expect { name: "appomni-general", files, format: "mes-ual-json", records: 9, events: 9 });
}

#[test]
fn appomni_sharepoint_records() {
    let s = samples();
    let files = files_in(&s, "appomni-event-maturity-matrix/sharepoint");
    assert_eq!(files.len(), 11);
    run(&Expect { name: "appomni-sharepoint", files, format: "mes-ual-json", records: 11, events: 11 });
}

#[test]
fn msdocs_management_api_content_blob() {
    let s = samples();
    let files = one(&s, "msdocs-office-365-management-api/retrieve_content_blob_response.json");
    run(&Expect { name: "msdocs-content-blob", files, format: "mgmt-blob", records: 3, events: 3 });
}

#[test]
fn otrf_sentinel_office_activity() {
    let s = samples();
    let files = one(&s, "otrf-security-datasets/OfficeActivityEvents.json");
    run(&Expect { name: "otrf-officeactivity", files, format: "sentinel-officeactivity", records: 1, events: 1 });
}

#[test]
fn plaso_management_api_jsonl() {
    let s = samples();
    let files = one(&s, "plaso/microsoft_audit_log.jsonl");
    run(&Expect { name: "plaso-microsoft-audit-log", files, format: "ual-jsonl", records: 4, events: 4 });
}

/// OTRF's Entra ID directory audit events (Log Analytics `AuditLogs` rows): a credential added to an
/// application, an application updated, and an admin's consent with mail scopes.
#[test]
fn otrf_entra_directory_audit_events() {
    let s = samples();
    let files = one(&s, "otrf-security-datasets/AADAuditEvents.json");
    run(&Expect { name: "otrf-aad-audit-events", files, format: "entra-audit-json", records: 4, events: 4 });
}

/// Samples that are not audit records are refused as unknown files, not misread.
#[test]
fn non_audit_samples_are_not_claimed() {
    let s = samples();
    let registry = FormatRegistry::builtin();
    for rel in [
        "msdocs-office-365-management-api/list_content_response.json",
        "msdocs-office-365-management-api/start_subscription_response.json",
        "msdocs-office-365-management-api/error_response.json",
    ] {
        let bytes = std::fs::read(s.join(rel)).unwrap();
        let enc = Encoding::detect(&bytes);
        let head = enc.decode_head(&bytes[..bytes.len().min(HEAD_BYTES)]);
        assert!(registry.detect(&head).is_none(), "{rel} was taken for {}", registry.detect(&head).unwrap().id());
    }
}
