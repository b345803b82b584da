//! Export: every format (CSV, JSONL, XLSX, HTML report), every scope (query, selection, bookmarks,
//! tag), column profiles, time zones, formula neutralisation, the XLSX sheet split, manifests and the
//! case log, cancellation, and `OpenCase::export` as the app calls it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tidemark_core::export::{manifest_path, parse_profile_text, ExportControl, ExportFormat, ExportSpec};
use tidemark_core::model::{ColumnProfile, ExportRequest, ExportResult, ExportScope};
use tidemark_core::{CaseReader, ErrorCode, FixedClock, OpenCase};
use tidemark_tests::{fixture, import, new_case, write_dense_ual, TEST_NOW_MS};

/// Subjects an attacker would write: formula triggers, markup, script.
const HOSTILE: &[&str] = &[
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "<script>alert('subject')</script>",
    "<img src=x onerror=alert(1)>",
];

/// 2025-03-01T11:00:00Z: 12:00 in Berlin (CET), 06:00 in New York (EST).
const KNOWN_UTC: &str = "2025-03-01T11:00:00";

/// One record per hostile subject, a second apart from [`KNOWN_UTC`], with a hostile user agent too.
fn write_hostile(path: &Path) -> PathBuf {
    let mut out = String::new();
    for (i, s) in HOSTILE.iter().enumerate() {
        let rec = serde_json::json!({
            "CreationTime": format!("2025-03-01T11:00:{:02}", i),
            "Id": format!("00000000-0000-4000-8000-{:012x}", i + 1),
            "Operation": "Send",
            "RecordType": 2,
            "UserId": "mallory@contoso.example",
            "MailboxOwnerUPN": "mallory@contoso.example",
            "ClientIP": "203.0.113.9",
            "Workload": "Exchange",
            "ClientInfoString": "<script>alert('ua')</script> <img src=x onerror=alert(2)>",
            "Item": { "Subject": s, "InternetMessageId": format!("<h{i}@evil.example>") },
        });
        out.push_str(&rec.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
    path.to_path_buf()
}

fn spec(scope: ExportScope, format: ExportFormat, columns: Option<&str>, tz: &str) -> ExportSpec {
    let profile = columns.map(parse_profile_text);
    ExportSpec::new(scope, format, profile.as_ref(), tz).unwrap()
}

fn query(q: &str) -> ExportScope {
    ExportScope::Query { query: q.to_owned() }
}

fn run(r: &CaseReader, spec: &ExportSpec, out: &Path) -> ExportResult {
    let cancel = AtomicBool::new(false);
    r.export_events(spec, out, &FixedClock(TEST_NOW_MS), ExportControl { cancel: &cancel }, &mut |_| {}).unwrap()
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// The manifest file beside `out`, parsed; checks its file hashes against the files on disk.
fn manifest_checked(out: &Path, res: &ExportResult) -> serde_json::Value {
    let body = std::fs::read(manifest_path(out)).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&body)), res.manifest_sha256);
    let m: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let files = m["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["sha256"], sha256_hex(out), "manifest hash = file hash");
    assert_eq!(files[0]["size"], std::fs::metadata(out).unwrap().len());
    assert!(!out.with_extension("partial").exists());
    m
}

fn xlsx_part(path: &Path, name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap_or_else(|_| panic!("{name} in the workbook")).read_to_string(&mut s).unwrap();
    s
}

/// The text of every inline-string cell of a sheet, in order (XML entities decoded).
fn inline_strings(sheet_xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in sheet_xml.split("<is><t").skip(1) {
        let start = part.find('>').unwrap() + 1;
        let end = part.find("</t>").unwrap();
        out.push(
            part[start..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
                .replace("_x000D_", "\r"),
        );
    }
    out
}

#[test]
fn csv_export_neutralises_formulas_and_its_manifest_hashes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "export");
    import(&mut w, &[write_dense_ual(&dir.path().join("d.jsonl"), 500, 3)]);
    let r = CaseReader::open(&path).unwrap();
    let out = dir.path().join("sends.csv");
    let res = run(&r, &spec(query("op:Send"), ExportFormat::Csv, None, "UTC"), &out);
    w.record_export(&res).unwrap();

    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFtime,time_utc,action,operation,"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let rows: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    let expected = r.count(&tidemark_core::Query::parse("op:Send").unwrap()).unwrap().matching;
    assert_eq!(rows.len() as i64 - 1, expected);
    assert_eq!(res.manifest.rows as i64, expected);
    assert!(!rows.iter().any(|l| l.contains(",=SUM") || l.contains(",\"=SUM")), "formulas must be neutralised");
    assert!(rows.iter().any(|l| l.contains(",'=SUM(A1)+Report ")), "the neutralised text is kept");

    let m = manifest_checked(&out, &res);
    assert_eq!(m["query"], "op:Send");
    assert_eq!(m["scope"]["kind"], "query");
    assert_eq!(m["profile"], "full");
    assert_eq!(m["time_zone"], "UTC");
    assert_eq!(m["format"], "csv");
    assert_eq!(m["rows"], expected);
    assert_eq!(m["created_at"], "2026-01-02T03:04:05.000Z");
    assert_eq!(m["tool_version"], tidemark_core::TOOL_VERSION);
    assert_eq!(m["columns"][0], "time");
    assert_eq!(m["raw_records_sha256"].as_str().map(str::len), Some(64));
    let log = r.log_entries().unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.action, "export");
    assert_eq!(last.sha256.as_deref(), Some(res.manifest_sha256.as_str()));
    assert!(r.verify_log().unwrap().is_empty());
}

#[test]
fn jsonl_export_round_trips_every_event_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "jsonl");
    import(&mut w, &[fixture("ual-small.jsonl")]);
    let r = CaseReader::open(&path).unwrap();
    let out = dir.path().join("all.jsonl");
    let res = run(&r, &spec(query(""), ExportFormat::Jsonl, None, "UTC"), &out);
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 298);
    assert_eq!(res.manifest.rows, 298);
    for pair in lines.windows(2) {
        assert!(pair[0]["time_ms"].as_i64() <= pair[1]["time_ms"].as_i64());
        let id = |v: &serde_json::Value| v["event_id"].as_str().unwrap().parse::<i64>().unwrap();
        assert!(id(&pair[0]) < id(&pair[1]));
    }
    assert!(lines.iter().all(|l| l["raw_sha256"].as_str().is_some_and(|s| s.len() == 64)));
    assert!(lines.iter().all(|l| l["details"].is_object() && l["message_ids"].is_array() && l["tags"].is_array()));
    let subject_with_markup = lines.iter().filter_map(|l| l["subject"].as_str()).find(|s| s.contains('<'));
    assert!(subject_with_markup.is_some(), "markup is exported as text, unchanged");
    // The manifest's raw digest is the SHA-256 over the listed raw hashes, in order.
    let mut h = Sha256::new();
    for l in &lines {
        h.update(hex::decode(l["raw_sha256"].as_str().unwrap()).unwrap());
    }
    assert_eq!(res.manifest.raw_records_sha256, hex::encode(h.finalize()));
    manifest_checked(&out, &res);
}

#[test]
fn formula_triggers_are_neutralised_in_csv_and_xlsx_and_kept_verbatim_in_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "formulas");
    import(&mut w, &[write_hostile(&dir.path().join("h.jsonl"))]);
    let r = CaseReader::open(&path).unwrap();
    // Import trims subjects; put the tab and CR variants into the derived rows directly, as a normalizer
    // that kept them would.
    let ids = event_ids(&r);
    let db = rusqlite::Connection::open(&path).unwrap();
    for (i, s) in [(4usize, HOSTILE[4]), (5, HOSTILE[5])] {
        db.execute("UPDATE event SET subject = ?1 WHERE id = ?2", rusqlite::params![s, ids[i].parse::<i64>().unwrap()])
            .unwrap();
    }

    let jsonl = dir.path().join("h.jsonl.out");
    run(&r, &spec(query(""), ExportFormat::Jsonl, Some("time,subject"), "UTC"), &jsonl);
    let subjects: Vec<String> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects, HOSTILE, "JSONL keeps the evidence text exactly");

    let csv = dir.path().join("h.csv");
    let res = run(&r, &spec(query(""), ExportFormat::Csv, Some("subject,time"), "UTC"), &csv);
    manifest_checked(&csv, &res);
    let text = std::fs::read_to_string(&csv).unwrap();
    let body = text.trim_start_matches('\u{feff}');
    assert!(body.starts_with("subject,time\r\n"));
    for s in HOSTILE.iter().take(6) {
        let quoted = s.contains([',', '"', '\r', '\n']);
        let cell = format!("'{s}");
        let cell = if quoted { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell };
        assert!(body.contains(&format!("\r\n{cell},")), "CSV cell for {s:?} is neutralised: {body}");
    }
    for line in body.split("\r\n").skip(1) {
        let first = line.trim_start_matches('"').chars().next();
        assert!(!matches!(first, Some('=' | '+' | '-' | '@' | '\t')), "no live formula: {line:?}");
    }

    let xlsx = dir.path().join("h.xlsx");
    let res = run(&r, &spec(query(""), ExportFormat::Xlsx, Some("subject,user_agent,time"), "UTC"), &xlsx);
    manifest_checked(&xlsx, &res);
    let sheet = xlsx_part(&xlsx, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>"), "no cell is a formula");
    let cells = inline_strings(&sheet);
    assert_eq!(&cells[..2], ["Subject", "User agent"]);
    for s in HOSTILE.iter().take(6) {
        assert!(cells.iter().any(|c| *c == format!("'{s}")), "XLSX cell for {s:?} is neutralised: {cells:?}");
    }
    for c in &cells {
        assert!(!matches!(c.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r')), "live formula {c:?}");
    }
}

#[test]
fn xlsx_has_real_datetimes_in_the_zone_a_filterable_header_and_an_about_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "xlsx");
    import(&mut w, &[write_hostile(&dir.path().join("h.jsonl"))]);
    let r = CaseReader::open(&path).unwrap();
    let out = dir.path().join("h.xlsx");
    let res = run(&r, &spec(query(""), ExportFormat::Xlsx, Some("timeline"), "Europe/Berlin"), &out);
    let m = manifest_checked(&out, &res);
    assert_eq!(m["time_zone"], "Europe/Berlin");
    assert_eq!(m["files"][0]["sheets"][0]["name"], "Events");
    assert_eq!(m["files"][0]["sheets"][0]["rows"], HOSTILE.len());

    let workbook = xlsx_part(&out, "xl/workbook.xml");
    assert!(workbook.contains("name=\"Events\"") && workbook.contains("name=\"About this export\""));
    let styles = xlsx_part(&out, "xl/styles.xml");
    assert!(styles.contains("formatCode=\"yyyy-mm-dd hh:mm:ss.000\""), "a visible datetime format");
    let sheet = xlsx_part(&out, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<autoFilter ref=\"A1:M9\"/>"), "filters on the header: {sheet}");
    assert!(sheet.contains("<pane ySplit=\"1\""), "the header is frozen");
    assert_eq!(inline_strings(&sheet)[0], "Time (Europe/Berlin)");
    // 2025-03-01T12:00:00 Berlin wall time = serial 45717.5.
    let a2 = sheet.split("<c r=\"A2\"").nth(1).unwrap();
    let v: f64 = a2[a2.find("<v>").unwrap() + 3..a2.find("</v>").unwrap()].parse().unwrap();
    assert!((v - 45_717.5).abs() < 1e-9, "{v}");
    let about = xlsx_part(&out, "xl/sharedStrings.xml"); // the small About sheet uses the shared table
    assert!(about.contains("<t>Times are Excel dates in Europe/Berlin</t>"), "{about}");
    assert!(about.contains("<t>every event in the case</t>"));
    let core = xlsx_part(&out, "docProps/core.xml");
    assert!(core.contains("2026-01-02T03:04:05Z"), "creation time from the writer's clock: {core}");
    // Same case, same clock: the same bytes.
    let again = dir.path().join("again.xlsx");
    run(&r, &spec(query(""), ExportFormat::Xlsx, Some("timeline"), "Europe/Berlin"), &again);
    assert_eq!(sha256_hex(&out), sha256_hex(&again), "XLSX output is deterministic");
}

#[test]
fn xlsx_splits_into_sheets_at_the_row_limit_with_a_header_on_each() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "split");
    import(&mut w, &[write_dense_ual(&dir.path().join("d.jsonl"), 10, 5)]);
    let r = CaseReader::open(&path).unwrap();
    let out = dir.path().join("split.xlsx");
    let mut s = spec(query(""), ExportFormat::Xlsx, Some("time,event_id"), "UTC");
    s.xlsx_sheet_rows = 4; // header + 3 rows per sheet, as 1,048,576 is header + 1,048,575
    let res = run(&r, &s, &out);
    let sheets: Vec<(String, u64)> = res.manifest.files[0].sheets.iter().map(|s| (s.name.clone(), s.rows)).collect();
    assert_eq!(
        sheets,
        [("Events".into(), 3), ("Events 2".into(), 3), ("Events 3".into(), 3), ("Events 4".into(), 1)],
        "10 rows at 3 per sheet"
    );
    let mut ids = Vec::new();
    for n in 1..=4 {
        let xml = xlsx_part(&out, &format!("xl/worksheets/sheet{n}.xml"));
        let cells = inline_strings(&xml);
        assert_eq!(cells[..2], ["Time (UTC)", "Event id"], "sheet {n} has the header");
        ids.extend(cells[2..].iter().cloned());
        assert_eq!(xml.matches("<row ").count(), if n < 4 { 4 } else { 2 });
    }
    let jsonl = dir.path().join("ids.jsonl");
    run(&r, &spec(query(""), ExportFormat::Jsonl, Some("event_id"), "UTC"), &jsonl);
    let all: Vec<String> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, all, "every row once, in order, across the sheets");
    assert!(xlsx_part(&out, "xl/workbook.xml").contains("name=\"About this export\""));
    manifest_checked(&out, &res);
}

#[test]
fn html_report_is_inert_self_contained_and_lists_the_notes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.tidemark");
    let clock = Arc::new(FixedClock(TEST_NOW_MS));
    let mut w = tidemark_core::CaseWriter::create(&path, "<b>Case</b> & \"report\"", clock, "tester").unwrap();
    import(&mut w, &[write_hostile(&dir.path().join("h.jsonl"))]);
    let r = CaseReader::open(&path).unwrap();
    let ids = event_ids(&r);
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute(
        "INSERT INTO note (event_id, body, created_ms, updated_ms) VALUES (?1, ?2, 1, 1)",
        rusqlite::params![ids[6].parse::<i64>().unwrap(), "Note on the script event: <script>alert('note')</script>"],
    )
    .unwrap();
    let t0 = 1_740_826_800_000i64; // KNOWN_UTC
    db.execute("INSERT INTO note (start_ms, end_ms, body, created_ms, updated_ms) VALUES (?1, ?2, 'Range note: mallory sends', 1, 2)", [t0 + 1000, t0 + 3000]).unwrap();
    db.execute(
        "INSERT INTO note (start_ms, end_ms, body, created_ms, updated_ms) VALUES (?1, ?2, 'Unrelated range', 1, 1)",
        [t0 - 90_000, t0 - 80_000],
    )
    .unwrap();
    db.execute(
        "INSERT INTO note (event_id, body, created_ms, updated_ms) VALUES (?1, 'Note on an event not listed', 1, 1)",
        [ids[0].parse::<i64>().unwrap()],
    )
    .unwrap();

    let out = dir.path().join("report.html");
    let scope = ExportScope::Selection { ids: ids[1..].to_vec() };
    let res = run(&r, &spec(scope, ExportFormat::Html, None, "America/New_York"), &out);
    let m = manifest_checked(&out, &res);
    assert_eq!(m["format"], "html");
    assert_eq!(m["profile"], "timeline");
    assert_eq!(
        m["columns"].as_array().unwrap().last().unwrap(),
        "raw_sha256",
        "the report always carries the raw hashes"
    );
    let html = std::fs::read_to_string(&out).unwrap();

    // Inert: no tag, attribute or script from data; only escaped text.
    assert!(!html.to_lowercase().contains("<script"), "no script element");
    assert!(!html.contains("<img"), "no img element");
    assert_eq!(
        html.matches("onerror=").count(),
        html.matches("&lt;img src=x onerror=").count(),
        "onerror only as text"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;"));
    assert!(html.contains("&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt;"), "notes are escaped too");
    assert!(html.contains("<h1>&lt;b&gt;Case&lt;/b&gt; &amp; &quot;report&quot;</h1>"), "the case name is text");
    for external in ["http://", "https://", " src=\"", "@import", "url(", "<link", "<iframe", "<object"] {
        assert!(!html.contains(external), "no external resource: {external}");
    }
    assert_eq!(html.matches("href=\"").count(), html.matches("href=\"#").count(), "links stay inside the report");
    // The CSP forbids everything but the one inline style block, by its hash.
    let csp_start = html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"").unwrap();
    let csp = &html[csp_start..html[csp_start..].find("\">").unwrap() + csp_start];
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'none'") && csp.contains("base-uri 'none'"));
    let style = &html[html.find("<style>").unwrap() + 7..html.find("</style>").unwrap()];
    use base64::Engine as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style.as_bytes()));
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")));
    assert_eq!(html.matches("<style>").count(), 1);

    // What the report says about itself.
    assert!(html.contains(&format!("{} selected events", ids.len() - 1)));
    assert!(html.contains("All times are in America/New_York."));
    assert!(html.contains(&format!("Tidemark {}", tidemark_core::TOOL_VERSION)));
    assert!(
        html.contains("2026-01-01 22:04:05.000 -05:00 (2026-01-02T03:04:05.000Z)"),
        "generation time from the clock"
    );
    assert!(html.contains("2025-03-01 06:00:01.000 -05:00"), "event times in the zone");
    assert!(html.contains(&res.manifest.raw_records_sha256));
    assert_eq!(html.matches("<tr id=\"e").count(), ids.len() - 1);
    // Notes on listed events and ranges around them; not the others.
    assert!(html.contains("Note on the script event"));
    assert!(html.contains("Range note: mallory sends"));
    assert!(!html.contains("Unrelated range"));
    assert!(!html.contains("Note on an event not listed"));
    assert!(html.contains("<a href=\"#note-2\">note 2</a>"), "rows link to their range note");
}

fn event_ids(r: &CaseReader) -> Vec<String> {
    r.page(&tidemark_core::Query::all(), tidemark_core::model::SortOrder::Asc, None, 1000)
        .unwrap()
        .rows
        .into_iter()
        .map(|e| e.id)
        .collect()
}

fn exported_ids(r: &CaseReader, scope: ExportScope, out: &Path) -> Result<Vec<String>, tidemark_core::Error> {
    let cancel = AtomicBool::new(false);
    let s = ExportSpec::new(
        scope,
        ExportFormat::Jsonl,
        Some(&ColumnProfile::Custom { columns: vec!["event_id".into(), "tags".into(), "bookmarked".into()] }),
        "UTC",
    )?;
    r.export_events(&s, out, &FixedClock(TEST_NOW_MS), ExportControl { cancel: &cancel }, &mut |_| {})?;
    Ok(std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event_id"].as_str().unwrap().to_owned())
        .collect())
}

#[test]
fn scopes_select_by_ids_bookmarks_and_tags() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "scopes");
    import(&mut w, &[write_dense_ual(&dir.path().join("d.jsonl"), 2500, 9)]);
    let r = CaseReader::open(&path).unwrap();
    let ids = event_ids(&r);
    let out = dir.path().join("x.jsonl");

    // A selection, given out of order and with a repeat, comes back once each in time order.
    let picked = vec![ids[7].clone(), ids[2].clone(), ids[7].clone(), ids[900].clone()];
    assert_eq!(
        exported_ids(&r, ExportScope::Selection { ids: picked }, &out).unwrap(),
        [ids[2].clone(), ids[7].clone(), ids[900].clone()]
    );
    let e = exported_ids(&r, ExportScope::Selection { ids: vec!["12345".into()] }, &out).unwrap_err();
    assert_eq!(e.code, ErrorCode::EventNotFound);
    let e = exported_ids(&r, ExportScope::Selection { ids: vec!["x".into()] }, &out).unwrap_err();
    assert_eq!(e.code, ErrorCode::ExportInvalid);
    // Every event of a large selection (more than one page).
    let all = exported_ids(&r, ExportScope::Selection { ids: ids.iter().rev().cloned().collect() }, &out).unwrap();
    assert_eq!(all.len(), 1000.min(ids.len()));

    let db = rusqlite::Connection::open(&path).unwrap();
    for i in [5usize, 1, 600] {
        db.execute("INSERT INTO bookmark (event_id, created_ms) VALUES (?1, 1)", [ids[i].parse::<i64>().unwrap()])
            .unwrap();
    }
    db.execute("INSERT INTO bookmark (event_id, created_ms) VALUES (42, 1)", []).unwrap(); // a rebuilt-away event
    assert_eq!(
        exported_ids(&r, ExportScope::Bookmarked, &out).unwrap(),
        [ids[1].clone(), ids[5].clone(), ids[600].clone()]
    );
    let line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&out).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(line["bookmarked"], true);

    db.execute("INSERT INTO tag (id, name, color, created_ms) VALUES (1, 'Phishing', '#ff0000', 1), (2, 'other; tag', '#00ff00', 1)", []).unwrap();
    for (tag, i) in [(1, 3usize), (1, 999), (2, 3)] {
        db.execute(
            "INSERT INTO event_tag (event_id, tag_id, created_ms) VALUES (?1, ?2, 1)",
            [ids[i].parse::<i64>().unwrap(), tag],
        )
        .unwrap();
    }
    assert_eq!(
        exported_ids(&r, ExportScope::Tagged { tag: "phishing".into() }, &out).unwrap(),
        [ids[3].clone(), ids[999].clone()]
    );
    let first: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&out).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["tags"], serde_json::json!(["other; tag", "Phishing"]));
    let e = exported_ids(&r, ExportScope::Tagged { tag: "nope".into() }, &out).unwrap_err();
    assert_eq!(e.code, ErrorCode::ExportInvalid);

    // The whole query scope crosses pages.
    assert_eq!(exported_ids(&r, query(""), &out).unwrap().len(), 2500);
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(manifest_path(&out)).unwrap()).unwrap();
    assert_eq!(m["rows"], 2500);
}

#[test]
fn one_instant_in_utc_berlin_and_new_york_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "zones");
    import(&mut w, &[write_hostile(&dir.path().join("h.jsonl"))]);
    let r = CaseReader::open(&path).unwrap();
    let first = |format: ExportFormat, tz: &str, name: &str| {
        let out = dir.path().join(name);
        let res = run(&r, &spec(query(""), format, Some("time,time_utc"), tz), &out);
        assert_eq!(res.manifest.time_zone, tz);
        std::fs::read_to_string(&out).unwrap()
    };
    assert!(KNOWN_UTC.starts_with("2025-03-01T11:00:00"));
    let csv = first(ExportFormat::Csv, "UTC", "u.csv");
    assert!(csv.contains("\r\n2025-03-01T11:00:00.000Z,2025-03-01T11:00:00.000Z\r\n"), "{csv}");
    let csv = first(ExportFormat::Csv, "Europe/Berlin", "b.csv");
    assert!(csv.contains("\r\n2025-03-01T12:00:00.000+01:00,2025-03-01T11:00:00.000Z\r\n"), "{csv}");
    let jsonl = first(ExportFormat::Jsonl, "America/New_York", "n.jsonl");
    assert!(
        jsonl.starts_with(r#"{"time":"2025-03-01T06:00:00.000-05:00","time_utc":"2025-03-01T11:00:00.000Z"}"#),
        "{jsonl}"
    );
    let html = first(ExportFormat::Html, "Europe/Berlin", "b.html");
    assert!(html.contains("<td class=\"t\">2025-03-01 12:00:00.000 +01:00</td>"));
    assert!(html.contains("<th>Time (Europe/Berlin)</th>"));
    // A zone Tidemark does not know is refused before anything is written.
    let e = ExportSpec::new(query(""), ExportFormat::Csv, None, "Europe/Atlantis").unwrap_err();
    assert_eq!(e.code, ErrorCode::ExportInvalid);
    // `local` resolves to a named zone (whatever this machine's is) and the manifest records it.
    let local = ExportSpec::new(query(""), ExportFormat::Csv, None, "local").unwrap();
    assert_ne!(local.zone.name(), "local");
}

#[test]
fn a_cancelled_export_leaves_no_file_and_no_log_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "cancel");
    import(&mut w, &[write_dense_ual(&dir.path().join("d.jsonl"), 3000, 2)]);
    let r = CaseReader::open(&path).unwrap();
    let entries = r.log_entries().unwrap().len();
    for format in [ExportFormat::Csv, ExportFormat::Jsonl, ExportFormat::Xlsx, ExportFormat::Html] {
        let out = dir.path().join(format!("c.{}", format.as_str()));
        let cancel = AtomicBool::new(false);
        let mut seen = Vec::new();
        let e = r
            .export_events(
                &spec(query(""), format, None, "UTC"),
                &out,
                &FixedClock(TEST_NOW_MS),
                ExportControl { cancel: &cancel },
                &mut |p| {
                    seen.push(p.clone());
                    cancel.store(true, Ordering::Relaxed); // the investigator presses Stop at once
                },
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ExportCancelled, "{format:?}");
        assert_eq!(seen[0].total, 3000);
        assert!(!out.exists() && !manifest_path(&out).exists(), "{format:?}: nothing that looks finished");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .filter(|n| n.to_string_lossy().starts_with("c."))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
    assert_eq!(r.log_entries().unwrap().len(), entries);
    drop(w);
}

#[test]
fn open_case_exports_what_the_app_sends_and_logs_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "app");
    import(&mut w, &[write_dense_ual(&dir.path().join("d.jsonl"), 300, 4)]);
    drop(w);
    let case = OpenCase::open(&path, Arc::new(FixedClock(TEST_NOW_MS)), "tester").unwrap();
    let out = dir.path().join("app.xlsx");
    // The request exactly as the UI sends it.
    let request: ExportRequest = serde_json::from_value(serde_json::json!({
        "scope": { "kind": "query", "query": "op:Send" },
        "format": "xlsx",
        "columns": { "kind": "preset", "name": "network" },
        "time_zone": "Europe/Berlin",
        "path": out.display().to_string(),
    }))
    .unwrap();
    let mut progress = Vec::new();
    let res = case.export(&request, &mut |p| progress.push(p.clone())).unwrap();
    assert_eq!(res.manifest.rows as i64, case.count("op:Send").unwrap().matching);
    assert_eq!(res.manifest.profile, "network");
    let last = progress.last().unwrap();
    assert!(last.finishing && last.rows == res.manifest.rows && last.total == res.manifest.rows);
    manifest_checked(&out, &res);
    let log = CaseReader::open(&path).unwrap().log_entries().unwrap();
    let entry = log.last().unwrap();
    assert_eq!(entry.action, "export");
    assert!(entry.summary.contains("as xlsx"), "{}", entry.summary);
    let details = &entry.details;
    assert_eq!(details["time_zone"], "Europe/Berlin");
    assert_eq!(details["profile"], "network");
    // Bad requests say what is wrong, with the export code.
    let bad: ExportRequest = serde_json::from_value(serde_json::json!({
        "scope": { "kind": "bookmarked" }, "format": "csv",
        "columns": { "kind": "custom", "columns": ["time", "colour"] },
        "time_zone": "UTC", "path": out.display().to_string(),
    }))
    .unwrap();
    let e = case.export(&bad, &mut |_| {}).unwrap_err();
    assert_eq!(e.code, ErrorCode::ExportInvalid);
    assert!(e.message.contains("colour"));
    assert_eq!(tidemark_core::export::export_options().presets.len(), 4);
}
