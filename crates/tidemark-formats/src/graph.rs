//! Microsoft Graph audit log query records (`security/auditLog/queries/{id}/records`, §3.4–3.7 of the
//! formats spec), as raw API pages or as Extractor-Suite's `Get-UALGraph` JSON.
//!
//! A Graph `auditLogRecord` wraps the classic audit record: `id`, `createdDateTime`,
//! `auditLogRecordType`, `operation`, `service`, `objectId`, `userId`, `userPrincipalName`, `userType`,
//! `clientIp`, `administrativeUnits` and `auditData`, the PascalCase record itself. We normalize
//! `auditData` with [`crate::ual`], so the same record imported from any source is the same event with
//! the same key (the UAL `Id`), and take from the wrapper only what `auditData` lacks. Live quirks:
//! - enum values come back PascalCase (`ExchangeItemAggregated`, `Regular`) although documented
//!   camelCase; we write them PascalCase whichever way they came, so both give the same event;
//! - `userId` and `userPrincipalName` are crossed: `userId` holds the classic `UserKey` and
//!   `userPrincipalName` the classic `UserId` (the actor), so the actor comes from `userPrincipalName`;
//! - some records are malformed JSON in an otherwise good page; the splitter keeps them as records of
//!   their own, which fail normalization and are kept raw.
//!
//! Files: pages (`{"value":[…],"@odata.nextLink":…}`, one or several, pretty or one per line), arrays of
//! records, one record per line, and bare `auditData` objects (they carry an `@odata.type` such as
//! `#microsoft.graph.security.defaultAuditData` or `#microsoft.graph.security.exchangeMailboxAuditRecord`).

use serde_json::{Map, Value};

use crate::event::NormalizedEvent;
use crate::format::{Format, Units};
use crate::json_stream::Probe;
use crate::mes_json::{fill, missing, present};
use crate::ual;

/// An enum value in PascalCase (`exchangeItemAggregated` → `ExchangeItemAggregated`).
fn pascal(v: &Value) -> Option<Value> {
    let s = v.as_str()?.trim();
    let mut c = s.chars();
    let first = c.next()?;
    Some(Value::String(first.to_uppercase().chain(c).collect()))
}

fn fill_pascal(to: &mut Map<String, Value>, dst: &str, from: &Map<String, Value>, src: &str) {
    if missing(to, dst) {
        if let Some(v) = present(from, src).and_then(pascal) {
            to.insert(dst.to_owned(), v);
        }
    }
}

/// Whether an object is a Graph `auditLogRecord` rather than a bare `auditData`.
fn is_wrapper(o: &Map<String, Value>) -> bool {
    o.contains_key("auditData") || o.contains_key("auditLogRecordType") || o.contains_key("createdDateTime")
}

/// Normalizes a Graph `auditLogRecord` (or a bare `auditData` object). `source` is the format or API id.
pub fn normalize_record(value: &Value, source: &str) -> Result<NormalizedEvent, String> {
    let Some(o) = value.as_object() else {
        return Err("not an audit log record: expected a JSON object".to_owned());
    };
    if !is_wrapper(o) {
        return ual::normalize(value, source);
    }
    let mut data = match o.get("auditData") {
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) if !s.trim().is_empty() => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err("the record's auditData is not a JSON object".to_owned()),
            Err(e) => return Err(format!("the record's auditData is not valid JSON ({e})")),
        },
        None | Some(Value::Null) | Some(Value::String(_)) => Map::new(),
        Some(_) => return Err("the record's auditData is not a JSON object".to_owned()),
    };
    fill(&mut data, "CreationTime", o, "createdDateTime");
    fill(&mut data, "Id", o, "id");
    fill(&mut data, "Operation", o, "operation");
    fill_pascal(&mut data, "RecordType", o, "auditLogRecordType");
    fill(&mut data, "Workload", o, "service");
    fill(&mut data, "ObjectId", o, "objectId");
    fill(&mut data, "OrganizationId", o, "organizationId");
    fill_pascal(&mut data, "UserType", o, "userType");
    // Crossed names: userPrincipalName is the classic UserId, userId the classic UserKey.
    fill(&mut data, "UserId", o, "userPrincipalName");
    fill(&mut data, "UserId", o, "userId");
    if present(o, "userPrincipalName").is_some() {
        fill(&mut data, "UserKey", o, "userId");
    }
    if ["ClientIP", "ClientIPAddress", "ActorIpAddress"].iter().all(|k| missing(&data, k)) {
        fill(&mut data, "ClientIP", o, "clientIp");
    }
    let mut event = ual::normalize(&Value::Object(data), source)?;
    if let Some(Value::Array(units)) = o.get("administrativeUnits") {
        let units: Vec<&str> = units.iter().filter_map(Value::as_str).filter(|s| !s.trim().is_empty()).collect();
        if !units.is_empty() {
            event.details.insert("administrative_units".into(), Value::String(units.join("; ")));
        }
    }
    Ok(event)
}

/// Normalizes one record's JSON text (see [`normalize_record`]).
pub fn normalize_json(record: &[u8], source: &str) -> Result<NormalizedEvent, String> {
    let value: Value = serde_json::from_slice(record).map_err(|e| format!("not valid JSON ({e})"))?;
    normalize_record(&value, source)
}

/// Whether the head shows Graph audit log records, pages of them, or bare Graph `auditData` objects.
fn looks_like_graph(p: &Probe) -> bool {
    if p.has_key("auditLogRecordType") || (p.has_key("auditData") && (p.has_key("createdDateTime") || p.has_key("id")))
    {
        return true;
    }
    // Bare auditData: `#microsoft.graph.security.defaultAuditData`, `….exchangeMailboxAuditRecord` ….
    if p.str_member("@odata.type").is_some_and(|t| t.starts_with("#microsoft.graph.security.")) {
        return true;
    }
    // An empty page still says what it is.
    p.first.is_empty() && p.page_member("@odata.context").is_some_and(|c| c.contains("auditLog/queries"))
}

/// Graph audit log query records (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct GraphAuditLog;

impl Format for GraphAuditLog {
    fn id(&self) -> &'static str {
        "graph-auditlog-json"
    }

    fn name(&self) -> &'static str {
        "Graph audit log query records, JSON"
    }

    fn describe(&self) -> &'static str {
        "Microsoft Graph audit log query records: pages ({\"value\":[…],\"@odata.nextLink\":…}), arrays or \
         JSON Lines of auditLogRecord objects (id, createdDateTime, auditLogRecordType, auditData), or bare \
         auditData objects with @odata.type"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        Probe::of(head).is_some_and(|p| looks_like_graph(&p))
    }

    fn split(&self, input: Box<dyn std::io::BufRead + Send>) -> Units {
        crate::json_stream::units(input)
    }

    fn normalize(&self, _context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        normalize_json(record, self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::RawUnit;

    const AUDIT: &str = r##"{"@odata.type":"#microsoft.graph.security.exchangeMailboxAuditRecord","CreationTime":"2024-05-01T17:24:12","Id":"121899a5-ff77-49a0-b344-e368a192ca4e","Operation":"MailItemsAccessed","RecordType":50,"UserId":"noor@contoso.example","UserKey":"10037FFE8E38C3F1","UserType":0,"Workload":"Exchange","ClientIPAddress":"198.51.100.7","ClientInfoString":"Client=REST;;","AppId":"00000003-0000-0000-c000-000000000000","MailboxOwnerUPN":"noor@contoso.example","OperationProperties":[{"Name":"MailAccessType","Value":"Bind"}],"Folders":[{"Path":"\\Inbox","FolderItems":[{"InternetMessageId":"<a@x>"}]}]}"##;

    fn record(pascal_enums: bool, audit: &str) -> String {
        let (rt, ut) =
            if pascal_enums { ("ExchangeItemAggregated", "Regular") } else { ("exchangeItemAggregated", "regular") };
        format!(
            r#"{{"id":"121899a5-ff77-49a0-b344-e368a192ca4e","createdDateTime":"2024-05-01T17:24:12Z","auditLogRecordType":"{rt}","operation":"MailItemsAccessed","organizationId":"o","userType":"{ut}","userId":"10037FFE8E38C3F1","service":"Exchange","objectId":"","userPrincipalName":"noor@contoso.example","clientIp":"198.51.100.7","administrativeUnits":["au-1"],"auditData":{audit}}}"#
        )
    }

    fn split(text: &str) -> Vec<RawUnit> {
        GraphAuditLog.split(Box::new(std::io::Cursor::new(text.as_bytes().to_vec()))).map(Result::unwrap).collect()
    }

    #[test]
    fn reads_pages_and_normalizes_like_the_audit_record() {
        let page = format!(
            r#"{{"@odata.context":"https://graph.microsoft.com/beta/$metadata#security/auditLog/queries('q1')/records","value":[{},{}],"@odata.nextLink":"https://graph.microsoft.com/beta/security/auditLog/queries/q1/records?$skiptoken=x"}}"#,
            record(true, AUDIT),
            record(false, AUDIT)
        );
        let text = format!("{page}\n{page}\n");
        assert!(GraphAuditLog.sniff(text.as_bytes()));
        let units = split(&text);
        assert_eq!(units.len(), 4);
        let a = GraphAuditLog.normalize(&[], &units[0].bytes).unwrap();
        let b = GraphAuditLog.normalize(&[], &units[1].bytes).unwrap();
        assert_eq!(a, b, "PascalCase and camelCase enums give the same event");
        let mut plain = ual::normalize_json(AUDIT.as_bytes(), "graph-auditlog-json").unwrap();
        plain.details.insert("administrative_units".into(), Value::String("au-1".into()));
        assert_eq!(a, plain);
        assert_eq!(a.record_key, "121899a5-ff77-49a0-b344-e368a192ca4e");
        assert_eq!((a.action.as_str(), a.actor.as_deref()), ("read", Some("noor@contoso.example")));
        assert_eq!(a.message_ids, ["<a@x>"]);
        // Empty last page.
        assert!(GraphAuditLog.sniff(br#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#security/auditLog/queries('q')/records","value":[]}"#));
    }

    #[test]
    fn fills_from_the_wrapper_with_crossed_user_names_and_either_enum_casing() {
        for pascal_enums in [true, false] {
            let v: Value = serde_json::from_str(&record(pascal_enums, r#"{"Workload":"Exchange"}"#)).unwrap();
            let e = normalize_record(&v, "t").unwrap();
            assert_eq!(e.record_key, "121899a5-ff77-49a0-b344-e368a192ca4e");
            assert_eq!(e.time_ms, 1_714_584_252_000);
            assert_eq!(e.actor.as_deref(), Some("noor@contoso.example"), "actor from userPrincipalName");
            assert_eq!(e.record_type.as_deref(), Some("ExchangeItemAggregated"));
            assert_eq!(e.details.get("UserType"), Some(&Value::String("Regular".into())));
            assert_eq!(e.client_ip.as_deref(), Some("198.51.100.7"));
            assert_eq!(e.object, None);
        }
        // Only userId: it is all we have.
        let v: Value = serde_json::from_str(
            r#"{"id":"k","createdDateTime":"2024-05-01T17:24:12Z","operation":"UserLoggedIn","userId":"x@y.example","auditData":{}}"#,
        )
        .unwrap();
        let e = normalize_record(&v, "t").unwrap();
        assert_eq!((e.actor.as_deref(), e.action.as_str(), e.record_key.as_str()), (Some("x@y.example"), "logon", "k"));
        // auditData's own Id wins over the wrapper id.
        let v: Value =
            serde_json::from_str(&record(true, AUDIT).replace(r#""id":"121899a5"#, r#""id":"other-121899a5"#)).unwrap();
        assert_eq!(normalize_record(&v, "t").unwrap().record_key, "121899a5-ff77-49a0-b344-e368a192ca4e");
        let bad: Value = serde_json::from_str(r#"{"id":"k","auditData":"{oops"}"#).unwrap();
        assert!(normalize_record(&bad, "t").unwrap_err().contains("auditData"));
    }

    #[test]
    fn reads_arrays_lines_and_bare_audit_data() {
        let arr = format!("[\n{},\n{}\n]", record(true, AUDIT), record(false, AUDIT));
        assert!(GraphAuditLog.sniff(arr.as_bytes()));
        assert_eq!(split(&arr).len(), 2);
        let lines = format!("{}\n{}\n", record(true, AUDIT), record(true, AUDIT));
        assert!(GraphAuditLog.sniff(lines.as_bytes()));
        assert_eq!(split(&lines).len(), 2);
        let bare = format!("[{AUDIT},{AUDIT}]");
        assert!(GraphAuditLog.sniff(bare.as_bytes()));
        assert!(!crate::mgmt_blob::MgmtBlob.sniff(bare.as_bytes()));
        let e = GraphAuditLog.normalize(&[], &split(&bare)[0].bytes).unwrap();
        assert_eq!(e.action, "read");
        assert!(!GraphAuditLog.sniff(br#"[{"CreationTime":"x","Id":"y","Operation":"z"}]"#));
    }
}
