//! Unified Audit Log records exported as CSV, with the record as JSON text in one cell.
//!
//! Three families, told apart by their header row (never by file name):
//! - [`PurviewCsv`] (`purview-csv`): the Purview / Compliance portal's audit search export, classic
//!   `CreationDate,UserIds,Operations,AuditData` (2016–2023) and the new
//!   `RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames`
//!   (one writer spells the last column `AssociatedAdminUnitNames`) — `shared/docs/m365-formats.md` §5.1.
//! - [`PowerShellUalCsv`] (`ual-powershell-csv`): `Search-UnifiedAuditLog | Export-Csv`, with or without
//!   PowerShell 5.1's `#TYPE` line, every cell quoted, `RecordType` as a name, `CreationDate`
//!   culture-formatted (§5.2); Microsoft-Extractor-Suite's `Get-UAL` CSV is the same shape (§5.3).
//! - [`GraphUalCsv`] (`graph-ual-csv`): Microsoft-Extractor-Suite's `Get-UALGraph` CSV of Graph
//!   `auditLogRecord`s (`id, createdDateTime, auditLogRecordType, …, auditData`; §3.4, §5.3).
//!
//! The record itself is the JSON in the `AuditData` cell, normalized by [`ual::normalize_json`]; the
//! other columns are derived by the exporter and are never preferred over it. In particular a
//! culture-formatted `CreationDate` (`3/12/2025 7:31:34 AM` is 3 December in en-AU and 12 March in
//! en-US) is never used when `AuditData.CreationTime` exists. Only when the `AuditData` cell is empty,
//! not JSON, or lacks what a record needs do the columns fill in (record id, time, operation, user,
//! record type, client IP), and the event says so in `details.audit_data_problem`; a row whose id is
//! unknown then gets the key `csv-sha256:<hex of the row's bytes>`. A date that cannot be read without
//! guessing the day/month order is refused, and the row is kept raw with the reason.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::BufRead;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::csv::{self, Header};
use crate::event::NormalizedEvent;
use crate::format::{Format, Units};
use crate::time::parse_utc_ms;
use crate::ual;

/// Column positions a UAL CSV row is read by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Columns {
    audit_data: Option<usize>,
    creation_date: Option<usize>,
    record_id: Option<usize>,
    record_type: Option<usize>,
    operation: Option<usize>,
    user_id: Option<usize>,
    client_ip: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Purview,
    PowerShell,
    Graph,
}

impl Kind {
    fn columns(self, h: &Header) -> Columns {
        match self {
            Self::Purview | Self::PowerShell => Columns {
                audit_data: h.index("AuditData"),
                creation_date: h.index("CreationDate"),
                record_id: h.index("RecordId"),
                record_type: h.index("RecordType"),
                operation: h.index_any(&["Operation", "Operations"]),
                user_id: h.index_any(&["UserId", "UserIds"]),
                client_ip: None,
            },
            Self::Graph => Columns {
                audit_data: h.index("auditData"),
                creation_date: h.index("createdDateTime"),
                record_id: h.index("id"),
                record_type: h.index("auditLogRecordType"),
                operation: h.index("operation"),
                // Graph's names are crossed: `userPrincipalName` holds the classic UserId (§3.4).
                user_id: h.index("userPrincipalName"),
                client_ip: h.index("clientIp"),
            },
        }
    }
}

thread_local! {
    /// The last header seen on this thread and its columns: every row of a file has the same context.
    static LAST_HEADER: RefCell<Option<(Vec<u8>, Kind, Columns)>> = const { RefCell::new(None) };
}

fn columns_for(kind: Kind, context: &[u8]) -> Result<Columns, String> {
    if let Some(c) = LAST_HEADER.with_borrow(|last| match last {
        Some((ctx, k, c)) if *k == kind && ctx.as_slice() == context => Some(*c),
        _ => None,
    }) {
        return Ok(c);
    }
    if context.is_empty() {
        return Err("the file's header row is missing, so the columns cannot be told apart".to_owned());
    }
    let header = Header::parse(context)?;
    let cols = kind.columns(&header);
    if cols.audit_data.is_none() {
        return Err("the header row has no AuditData column".to_owned());
    }
    LAST_HEADER.with_borrow_mut(|last| *last = Some((context.to_vec(), kind, cols)));
    Ok(cols)
}

fn header_of(head: &[u8]) -> Option<(Header, bool)> {
    let rec = csv::header_record(head)?;
    let quoted = rec.first() == Some(&b'"');
    Some((Header::parse(&rec).ok()?, quoted))
}

const CLASSIC: [&str; 4] = ["CreationDate", "UserIds", "Operations", "AuditData"];
const NEW: [&str; 6] = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData"];

fn is_new_purview(h: &Header) -> bool {
    h.starts_with(&NEW)
        && h.names()[NEW.len()..].iter().all(|n| {
            ["AssociatedAdminUnits", "AssociatedAdminUnitsNames", "AssociatedAdminUnitNames"]
                .iter()
                .any(|k| n.eq_ignore_ascii_case(k))
        })
}

/// Purview / Compliance portal audit search export (classic and new header).
#[derive(Debug, Clone, Copy)]
pub struct PurviewCsv;

impl Format for PurviewCsv {
    fn id(&self) -> &'static str {
        "purview-csv"
    }

    fn name(&self) -> &'static str {
        "Purview audit search CSV"
    }

    fn describe(&self) -> &'static str {
        "Purview audit search CSV: header CreationDate,UserIds,Operations,AuditData or RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        if csv::is_type_line(head) {
            return false;
        }
        // The portal writes its header unquoted; `Export-Csv` quotes every cell.
        matches!(header_of(head), Some((h, quoted)) if is_new_purview(&h) || (h.is(&CLASSIC) && !quoted))
    }

    fn context(&self, head: &[u8]) -> Vec<u8> {
        csv::header_record(head).unwrap_or_default()
    }

    fn split(&self, input: Box<dyn BufRead + Send>) -> Units {
        csv::units(input)
    }

    fn normalize(&self, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        normalize_row(Kind::Purview, self.id(), context, record)
    }
}

/// `Search-UnifiedAuditLog | Export-Csv` (and Microsoft-Extractor-Suite `Get-UAL` CSV).
#[derive(Debug, Clone, Copy)]
pub struct PowerShellUalCsv;

impl Format for PowerShellUalCsv {
    fn id(&self) -> &'static str {
        "ual-powershell-csv"
    }

    fn name(&self) -> &'static str {
        "Search-UnifiedAuditLog CSV (Export-Csv)"
    }

    fn describe(&self) -> &'static str {
        "Search-UnifiedAuditLog | Export-Csv output (also Microsoft-Extractor-Suite Get-UAL CSV): an optional #TYPE line, then a header with CreationDate, UserIds, Operations and AuditData columns"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        matches!(header_of(head), Some((h, _)) if CLASSIC.iter().all(|c| h.index(c).is_some()))
    }

    fn context(&self, head: &[u8]) -> Vec<u8> {
        csv::header_record(head).unwrap_or_default()
    }

    fn split(&self, input: Box<dyn BufRead + Send>) -> Units {
        csv::units(input)
    }

    fn normalize(&self, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        normalize_row(Kind::PowerShell, self.id(), context, record)
    }
}

/// Graph audit log records as CSV (Microsoft-Extractor-Suite `Get-UALGraph`).
#[derive(Debug, Clone, Copy)]
pub struct GraphUalCsv;

impl Format for GraphUalCsv {
    fn id(&self) -> &'static str {
        "graph-ual-csv"
    }

    fn name(&self) -> &'static str {
        "Graph audit log CSV"
    }

    fn describe(&self) -> &'static str {
        "Graph audit log CSV (Microsoft-Extractor-Suite Get-UALGraph): header id, createdDateTime, auditLogRecordType, operation, …, auditData"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        matches!(header_of(head), Some((h, _))
            if ["id", "createdDateTime", "auditLogRecordType", "operation", "auditData"].iter().all(|c| h.index(c).is_some()))
    }

    fn context(&self, head: &[u8]) -> Vec<u8> {
        csv::header_record(head).unwrap_or_default()
    }

    fn split(&self, input: Box<dyn BufRead + Send>) -> Units {
        csv::units(input)
    }

    fn normalize(&self, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        normalize_row(Kind::Graph, self.id(), context, record)
    }
}

fn normalize_row(kind: Kind, source: &str, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
    let cols = columns_for(kind, context)?;
    let cells = csv::parse_record(record)?;
    let cell = |i: Option<usize>| -> Option<&str> {
        i.and_then(|i| cells.get(i)).map(|c: &Cow<'_, str>| c.trim()).filter(|c| !c.is_empty())
    };
    let audit = cell(cols.audit_data);

    // The record is the AuditData JSON.
    let problem = match audit {
        Some(json) => match ual::normalize_json(json.as_bytes(), source) {
            Ok(mut e) => {
                if e.record_type.is_none() {
                    e.record_type = cell(cols.record_type).map(str::to_owned);
                }
                return Ok(e);
            }
            Err(e) => format!("AuditData: {e}"),
        },
        None if cols.audit_data.is_some_and(|i| i >= cells.len()) => {
            format!("the row has {} cells, fewer than the header's AuditData column", cells.len())
        }
        None => "AuditData is empty".to_owned(),
    };

    // Fall back on the CSV columns for what AuditData lacks.
    let mut obj = match audit.map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(o))) => o,
        _ => Map::new(),
    };
    let mut filled = Vec::new();
    let mut fill = |obj: &mut Map<String, Value>, key: &str, value: Option<String>| {
        let present = obj.get(key).is_some_and(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()));
        if let (false, Some(v)) = (present, value) {
            obj.insert(key.to_owned(), Value::String(v));
            filled.push(key.to_owned());
        }
    };
    let mut date_problem = None;
    let creation_time = cell(cols.creation_date).and_then(|d| match culture_date_ms(d) {
        Ok(ms) => Some(format_utc(ms)),
        Err(e) => {
            date_problem = Some(e);
            None
        }
    });
    fill(&mut obj, "Operation", cell(cols.operation).map(str::to_owned));
    fill(&mut obj, "CreationTime", creation_time);
    fill(&mut obj, "UserId", cell(cols.user_id).map(str::to_owned));
    fill(&mut obj, "RecordType", cell(cols.record_type).map(str::to_owned));
    fill(&mut obj, "ClientIP", cell(cols.client_ip).map(str::to_owned));
    fill(&mut obj, "Id", cell(cols.record_id).map(str::to_owned));
    let mut hashed_key = false;
    if !obj.contains_key("Id") && obj.contains_key("Operation") {
        obj.insert("Id".to_owned(), Value::String(format!("csv-sha256:{}", hex_sha256(record))));
        hashed_key = true;
    }
    if filled.is_empty() {
        return Err(problem);
    }
    match ual::normalize(&Value::Object(obj), source) {
        Ok(mut e) => {
            e.details.insert("audit_data_problem".into(), Value::String(problem));
            e.details.insert("from_csv_columns".into(), Value::String(filled.join(", ")));
            if hashed_key {
                e.details.insert("record_key_from".into(), Value::String("SHA-256 of the CSV row".into()));
            }
            Ok(e)
        }
        Err(e) => Err(match date_problem {
            Some(d) => format!("{problem}; the CSV columns cannot stand in: {d}"),
            None => format!("{problem}; the CSV columns cannot stand in: {e}"),
        }),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn format_utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// Reads a `CreationDate` cell: ISO 8601 (`2020-06-22T14:31:00.0000000Z`, trailing spaces allowed)
/// or a culture format (`28/02/2025 23:58:32`, `2/28/2025 11:58:32 PM`, `28.02.2025 23:58:32`),
/// taken as UTC. Day and month are only told apart when one of them is above 12 or they are equal,
/// or the separator is `.` or `-` (day first in every culture that uses them); otherwise the date is
/// refused as ambiguous.
pub fn culture_date_ms(raw: &str) -> Result<i64, String> {
    let s = raw.trim();
    if let Some(ms) = parse_utc_ms(s) {
        return Ok(ms);
    }
    let bad = || format!("CreationDate \"{s}\" is not a date and time");
    let (date, rest) = s.split_once([' ', 'T']).unwrap_or((s, ""));
    let sep = date.chars().find(|c| matches!(c, '/' | '.' | '-')).ok_or_else(bad)?;
    let parts: Vec<&str> = date.split(sep).collect();
    let [a, b, c] = parts.as_slice() else {
        return Err(bad());
    };
    let num = |p: &str| p.trim().parse::<u32>().map_err(|_| bad());
    let (y, mo, d) = if a.len() == 4 {
        (num(a)?, num(b)?, num(c)?)
    } else {
        let (a, b, y) = (num(a)?, num(b)?, num(c)?);
        let y = if c.len() == 2 { 2000 + y } else { y };
        if sep != '/' || a > 12 || a == b {
            (y, b, a)
        } else if b > 12 {
            (y, a, b)
        } else {
            return Err(format!(
                "CreationDate \"{s}\" is ambiguous (day/month order unknown) and AuditData has no CreationTime"
            ));
        }
    };
    // Time: H:mm[:ss[.fff]] with an optional AM/PM.
    let rest = rest.trim();
    let (clock, ampm) = match rest.rsplit_once(' ') {
        Some((c, m)) if m.eq_ignore_ascii_case("AM") || m.eq_ignore_ascii_case("PM") => (c.trim(), Some(m)),
        _ => (rest, None),
    };
    let mut hms = [0u32; 3];
    let mut millis = 0u32;
    if !clock.is_empty() {
        let tp: Vec<&str> = clock.split(':').collect();
        if !(2..=3).contains(&tp.len()) {
            return Err(bad());
        }
        for (i, p) in tp.iter().enumerate() {
            let (whole, frac) = p.split_once(['.', ',']).unwrap_or((p, ""));
            hms[i] = num(whole)?;
            if i == 2 && !frac.is_empty() {
                let f: String = frac.chars().chain("000".chars()).take(3).collect();
                millis = num(&f)?;
            }
        }
        if let Some(m) = ampm {
            if hms[0] == 0 || hms[0] > 12 {
                return Err(bad());
            }
            hms[0] = match (hms[0], m.eq_ignore_ascii_case("PM")) {
                (12, false) => 0,
                (12, true) => 12,
                (h, true) => h + 12,
                (h, false) => h,
            };
        }
    }
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(y).map_err(|_| bad())?, mo, d).ok_or_else(bad)?;
    let t = date.and_hms_milli_opt(hms[0], hms[1], hms[2], millis).ok_or_else(bad)?;
    Ok(t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::RawUnit;

    fn split(format: &dyn Format, data: &[u8]) -> Vec<RawUnit> {
        format.split(Box::new(std::io::Cursor::new(data.to_vec()))).collect::<Result<_, _>>().unwrap()
    }

    fn run(format: &dyn Format, data: &[u8]) -> (Vec<RawUnit>, Vec<Result<NormalizedEvent, String>>) {
        assert!(format.sniff(data), "{} should recognise the file", format.id());
        let ctx = format.context(data);
        let units = split(format, data);
        let events = units.iter().map(|u| format.normalize(&ctx, &u.bytes)).collect();
        (units, events)
    }

    #[test]
    fn reads_culture_dates_without_guessing() {
        let ms = 1_740_787_112_000; // 2025-02-28T23:58:32Z
        assert_eq!(culture_date_ms("2025-02-28T23:58:32.0000000Z "), Ok(ms));
        assert_eq!(culture_date_ms("28/02/2025 23:58:32"), Ok(ms));
        assert_eq!(culture_date_ms("2/28/2025 11:58:32 PM"), Ok(ms));
        assert_eq!(culture_date_ms("28.02.2025 23:58:32"), Ok(ms));
        assert_eq!(culture_date_ms("2025/02/28 23:58:32"), Ok(ms));
        assert_eq!(culture_date_ms("9/20/2023 4:05:03 AM"), Ok(1_695_182_703_000));
        assert_eq!(culture_date_ms("2/2/2025 12:00:00 AM"), Ok(1_738_454_400_000));
        assert!(culture_date_ms("3/12/2025 7:31:34 AM").unwrap_err().contains("ambiguous"));
        assert!(culture_date_ms("yesterday").unwrap_err().contains("not a date"));
        assert!(culture_date_ms("31/02/2025 10:00:00").is_err());
    }

    #[test]
    fn sniffs_each_header_variant_and_nothing_else() {
        let classic = b"CreationDate,UserIds,Operations,AuditData\r\nx\r\n";
        let new = b"RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\nx\n";
        let new2 = b"\xEF\xBB\xBFRecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitNames\nx\n";
        let ps = b"#TYPE System.Management.Automation.PSCustomObject\r\n\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"ResultIndex\",\"ResultCount\",\"Identity\",\"IsValid\",\"ObjectState\"\r\nx\r\n";
        let ps4 = b"\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\"\r\nx\r\n";
        let graph = b"id,createdDateTime,auditLogRecordType,operation,organizationId,userType,userId,service,objectId,userPrincipalName,clientIp,administrativeUnits,auditData\nx\n";
        let activities = b"TimeStamp,AppIdType,ActivityIdType,ActivityItemId,ActivityCreationTime,ClientSessionId,CustomProperties\nx\n";
        for (data, purview, powershell, g) in [
            (&classic[..], true, true, false),
            (&new[..], true, false, false),
            (&new2[..], true, false, false),
            (&ps[..], false, true, false),
            (&ps4[..], false, true, false),
            (&graph[..], false, false, true),
            (&activities[..], false, false, false),
            (&b"{\"CreationTime\":\"x\",\"Operation\":\"y\"}\n"[..], false, false, false),
        ] {
            let text = String::from_utf8_lossy(data);
            assert_eq!(PurviewCsv.sniff(data), purview, "purview: {text}");
            assert_eq!(PowerShellUalCsv.sniff(data), powershell, "powershell: {text}");
            assert_eq!(GraphUalCsv.sniff(data), g, "graph: {text}");
        }
    }

    #[test]
    fn the_registry_sends_each_csv_fixture_to_its_format() {
        let reg = crate::FormatRegistry::builtin();
        for (data, id) in [
            (&include_bytes!("../tests-data/purview-csv/gen-seed3-200.csv")[..], "purview-csv"),
            (&include_bytes!("../tests-data/purview-csv/classic.csv")[..], "purview-csv"),
            (&include_bytes!("../tests-data/purview-csv/edge-cases.csv")[..], "purview-csv"),
            (&include_bytes!("../tests-data/ual-powershell-csv/type-line.csv")[..], "ual-powershell-csv"),
            (&include_bytes!("../tests-data/graph-ual-csv/records.csv")[..], "graph-ual-csv"),
            (&include_bytes!("../tests-data/activities-csv/retriever-bom.csv")[..], "activities-csv"),
            (&include_bytes!("../tests-data/activities-csv/retriever-cp1252.csv")[..], "activities-csv"),
        ] {
            let head = &data[..data.len().min(crate::HEAD_BYTES)];
            let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
            assert_eq!(reg.detect(head).map(|f| f.id()), Some(id));
        }
    }

    #[test]
    fn purview_edge_cases_normalize_or_fail_row_by_row() {
        let data = include_bytes!("../tests-data/purview-csv/edge-cases.csv");
        let (units, events) = run(&PurviewCsv, data);
        assert_eq!(units.len(), 6, "every data row is a record, none is lost");
        // 1: a Bind with a multi-line subject, CreationDate with a trailing space.
        let e = events[0].as_ref().unwrap();
        assert_eq!(e.record_key, "0a1b2c3d-0000-4000-8000-000000000001");
        assert_eq!(e.time_ms, 1_740_787_112_000);
        assert_eq!(e.action, "read");
        assert_eq!(e.actor.as_deref(), Some("noor@contoso.example"));
        assert_eq!(e.mailbox.as_deref(), Some("noor@contoso.example"));
        assert_eq!((e.client_ip.as_deref(), e.client_port), (Some("203.0.113.9"), Some(5249)));
        assert_eq!(e.client_app.as_deref(), Some("OWA"));
        assert_eq!(e.message_ids, vec!["<a1@contoso.example>", "<a2@contoso.example>"]);
        assert_eq!(e.subject.as_deref(), Some("Invoice \"Q1\"\r\nsecond line"));
        assert_eq!(e.source, "purview-csv");
        assert_eq!(units[0].line, 2);
        // 2: locale CreationDate that disagrees with AuditData: AuditData wins.
        let e = events[1].as_ref().unwrap();
        assert_eq!(e.time_ms, 1_740_787_200_000);
        assert_eq!(e.action, "rule");
        assert!(e.details["parameters"].as_str().unwrap().contains("ForwardTo=attacker@evil.example"));
        // 3: empty AuditData: the columns stand in.
        let e = events[2].as_ref().unwrap();
        assert_eq!(e.record_key, "0a1b2c3d-0000-4000-8000-000000000003");
        assert_eq!(e.time_ms, 1_740_787_112_000);
        assert_eq!(e.operation, "UserLoggedIn");
        assert_eq!(e.actor.as_deref(), Some("noor@contoso.example"));
        assert_eq!(e.record_type.as_deref(), Some("15"));
        assert_eq!(e.details["audit_data_problem"], "AuditData is empty");
        // 4: invalid AuditData and an ambiguous date: refused with a plain reason.
        let err = events[3].as_ref().unwrap_err();
        assert!(err.contains("not valid JSON") && err.contains("ambiguous"), "{err}");
        // 5: a row with too few cells is refused, the next row is still read.
        assert!(events[4].as_ref().unwrap_err().contains("fewer than the header"), "{:?}", events[4]);
        let e = events[5].as_ref().unwrap();
        assert_eq!(e.operation, "Send");
        assert_eq!(e.action, "send");
    }

    #[test]
    fn classic_purview_export_with_crlf_and_bom() {
        let data = include_bytes!("../tests-data/purview-csv/classic.csv");
        let (units, events) = run(&PurviewCsv, data);
        assert_eq!(units.len(), 2);
        let e = events[0].as_ref().unwrap();
        assert_eq!((e.operation.as_str(), e.action.as_str()), ("Set-Mailbox", "forwarding"));
        assert_eq!(e.mailbox.as_deref(), Some("noor@contoso.example"));
        assert_eq!(e.time_ms, 1_592_836_260_000);
        // Classic has no RecordId: an empty AuditData row gets a key from its bytes.
        let e = events[1].as_ref().unwrap();
        assert!(e.record_key.starts_with("csv-sha256:"), "{}", e.record_key);
        assert_eq!(e.time_ms, 1_592_836_320_000);
        assert_eq!(e.details["record_key_from"], "SHA-256 of the CSV row");
    }

    #[test]
    fn powershell_export_with_type_line_and_names() {
        let data = include_bytes!("../tests-data/ual-powershell-csv/type-line.csv");
        assert!(!PurviewCsv.sniff(data));
        let (units, events) = run(&PowerShellUalCsv, data);
        assert_eq!(units.len(), 3);
        assert_eq!(units[0].line, 3);
        let e = events[0].as_ref().unwrap();
        // CreationDate says 3/12/2025 (ambiguous); AuditData.CreationTime is used.
        assert_eq!(e.time_ms, 1_741_764_694_000);
        assert_eq!(e.record_type.as_deref(), Some("50"));
        assert_eq!(e.action, "sync");
        // AuditData without RecordType: the column's name stands in.
        let e = events[1].as_ref().unwrap();
        assert_eq!(e.record_type.as_deref(), Some("ExchangeItem"));
        assert_eq!(e.action, "send");
        // Invalid AuditData, ambiguous date, no id: refused.
        assert!(events[2].as_ref().unwrap_err().contains("ambiguous"));
    }

    #[test]
    fn graph_csv_uses_audit_data_and_crossed_columns() {
        let data = include_bytes!("../tests-data/graph-ual-csv/records.csv");
        let (units, events) = run(&GraphUalCsv, data);
        assert_eq!(units.len(), 2);
        let e = events[0].as_ref().unwrap();
        assert_eq!(e.record_key, "5d8c9543-6fee-42ff-94ac-f44f2e9365fa");
        assert_eq!(e.action, "read");
        assert_eq!(e.source, "graph-ual-csv");
        // auditData without the classic fields: id, time, operation and the UPN come from the columns.
        let e = events[1].as_ref().unwrap();
        assert_eq!(e.record_key, "79fee367-2ca2-4e07-013e-9ff90923805d");
        assert_eq!(e.time_ms, 1_740_787_112_000);
        assert_eq!(e.actor.as_deref(), Some("quinn.okafor@contoso.example"));
        assert_eq!(e.client_ip.as_deref(), Some("198.51.100.4"));
        assert_eq!(e.operation, "MailboxLogin");
    }

    #[test]
    fn a_huge_audit_data_cell_is_one_record() {
        let subject = "x".repeat(1 << 20);
        let json = format!(
            r#"{{"CreationTime":"2025-02-28T23:58:32","Id":"big-1","Operation":"Send","UserId":"a@b","Item":{{"Subject":"{subject}"}}}}"#
        );
        let cell = json.replace('"', "\"\"");
        let data = format!("CreationDate,UserIds,Operations,AuditData\n2025-02-28T23:58:32.0000000Z,a@b,Send,\"{cell}\"\n2025-02-28T23:58:33.0000000Z,a@b,Send,\"{{\"\"Id\"\":\"\"small\"\",\"\"CreationTime\"\":\"\"2025-02-28T23:58:33\"\",\"\"Operation\"\":\"\"Send\"\"}}\"\n");
        let (units, events) = run(&PurviewCsv, data.as_bytes());
        assert_eq!(units.len(), 2);
        assert_eq!(events[0].as_ref().unwrap().subject.as_ref().map(String::len), Some(1 << 20));
        assert_eq!(events[1].as_ref().unwrap().record_key, "small");
    }

    #[test]
    fn generated_purview_export_normalizes_completely() {
        // First 200 records of `gen_ual.py --records 2000 --format purview-csv --seed 3`.
        let data = include_bytes!("../tests-data/purview-csv/gen-seed3-200.csv");
        let (units, events) = run(&PurviewCsv, data);
        assert_eq!(units.len(), 200);
        for (u, e) in units.iter().zip(&events) {
            let e = e.as_ref().unwrap_or_else(|err| panic!("line {}: {err}", u.line));
            assert!(!e.record_key.is_empty() && e.time_ms > 0 && !e.operation.is_empty());
        }
        // The key is the record's Id, which the RecordId column repeats; a sign-in is keyed by its
        // sign-in id (IntraSystemId) and keeps the Id as `audit_id`.
        let mut sign_ins = 0;
        for (u, e) in units.iter().zip(&events) {
            let record_id = csv::parse_record(&u.bytes).unwrap()[0].to_string();
            let e = e.as_ref().unwrap();
            if e.record_key.starts_with("signin:") {
                sign_ins += 1;
                assert_eq!(e.details.get("audit_id").and_then(|v| v.as_str()), Some(record_id.as_str()));
            } else {
                assert_eq!(e.record_key, record_id);
            }
        }
        assert!(sign_ins > 0, "the sample has sign-ins");
    }

    /// Split + normalize rate, for release builds (`… --release --lib throughput -- --ignored --nocapture`).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn purview_throughput() {
        let gen = include_bytes!("../tests-data/purview-csv/gen-seed3-200.csv");
        let body_start = gen.iter().position(|&b| b == b'\n').unwrap() + 1;
        let mut data = gen.to_vec();
        for _ in 0..99 {
            data.extend_from_slice(&gen[body_start..]);
        }
        let ctx = PurviewCsv.context(&data);
        let t = std::time::Instant::now();
        let n = PurviewCsv
            .split(Box::new(std::io::Cursor::new(data)))
            .map(|u| PurviewCsv.normalize(&ctx, &u.unwrap().bytes).unwrap().time_ms)
            .filter(|&t| t > 0)
            .count();
        eprintln!("purview-csv: {n} records, {:.0} records/s on one thread", n as f64 / t.elapsed().as_secs_f64());
    }
}
