//! Audit search results as JSON: what Microsoft-Extractor-Suite's `Get-UAL` writes, and any
//! `Search-UnifiedAuditLog … | ConvertTo-Json` output.
//!
//! Two formats, one record shape. A record is either a *search result*, the PowerShell object
//! `Search-UnifiedAuditLog` returns (`RecordType` as a name, culture-dependent `CreationDate`, `UserIds`,
//! `Operations`, `Identity`, `AuditData`, with `AuditData` parsed into an object by Extractor-Suite's JSON
//! output and kept as a JSON string by its JSONL output), or a bare audit record (the `AuditData`
//! object itself, with `-AuditDataOnly`, or one record per file like the AppOmni samples).
//! - [`MesUalJson`] (`mes-ual-json`): pretty-printed JSON; Extractor-Suite appends one array per search
//!   window, so a file may hold several arrays, and `ConvertTo-Json` writes a lone record as an object.
//!   Claims arrays or objects of search results, and pretty (multi-line) bare records outside arrays.
//!   Arrays of bare records are [`crate::mgmt_blob`]'s, one compact record per line is `ual-jsonl`'s.
//! - [`MesUalJsonl`] (`mes-ual-jsonl`): one search result per line.
//!
//! The audit record inside is normalized by [`crate::ual`]; the wrapper only fills what the record
//! lacks. The wrapper's `CreationDate` is used only when `AuditData` has no `CreationTime`, and only when
//! it is unambiguous (ISO 8601, or PowerShell 5.1's `\/Date(ms)\/`): a culture-formatted date is never
//! guessed at.

use serde_json::{Map, Value};

use crate::event::NormalizedEvent;
use crate::format::{Format, Units};
use crate::json_stream::{Layout, Probe};
use crate::time::parse_utc_ms;
use crate::ual;

/// Whether a value is absent for our purposes: missing, `null`, or an empty string.
pub(crate) fn missing(o: &Map<String, Value>, key: &str) -> bool {
    match o.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

/// A member as a non-empty value (strings trimmed to non-empty), or `None`.
pub(crate) fn present<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    (!missing(o, key)).then(|| o.get(key)).flatten()
}

/// Copies `from[src]` into `to[dst]` when `to` lacks `dst` and `from` has a value.
pub(crate) fn fill(to: &mut Map<String, Value>, dst: &str, from: &Map<String, Value>, src: &str) {
    if missing(to, dst) {
        if let Some(v) = present(from, src) {
            to.insert(dst.to_owned(), v.clone());
        }
    }
}

/// Whether the first record looks like a bare audit record (`AuditData`): `Operation` and a time or id.
pub(crate) fn is_audit_record(p: &Probe) -> bool {
    p.has_key("Operation") && (p.has_key("CreationTime") || p.has_key("Id"))
}

/// Whether the first record looks like a `Search-UnifiedAuditLog` result: `AuditData` and one of the
/// object's own properties.
pub(crate) fn is_search_result(p: &Probe) -> bool {
    p.has_key("AuditData")
        && ["Operations", "CreationDate", "UserIds", "RecordType", "RecordId", "Identity", "ResultIndex"]
            .iter()
            .any(|k| p.has_key(k))
}

/// A search result's `CreationDate` as an audit `CreationTime`, when it is unambiguous.
fn creation_date(v: &Value) -> Option<Value> {
    let s = v.as_str()?.trim();
    // PowerShell 5.1 ConvertTo-Json: "\/Date(1589385600000)\/" (the JSON escape is gone once parsed).
    if let Some(ms) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits = ms.split(['+', '-']).next().unwrap_or(ms);
        let ms: i64 = digits.parse().ok()?;
        let t = chrono::DateTime::from_timestamp_millis(ms)?;
        return Some(Value::String(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()));
    }
    parse_utc_ms(s).map(|_| Value::String(s.to_owned()))
}

/// Normalizes a search result (`AuditData` as an object or a JSON string) or a bare audit record.
/// `source` is the format id.
pub fn normalize_record(value: &Value, source: &str) -> Result<NormalizedEvent, String> {
    let Some(o) = value.as_object() else {
        return Err("not an audit record: expected a JSON object".to_owned());
    };
    let Some(audit) = o.get("AuditData") else {
        return ual::normalize(value, source);
    };
    let mut data = match audit {
        Value::Object(m) => m.clone(),
        Value::String(s) if s.trim().is_empty() => return Err("the record's AuditData is empty".to_owned()),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err("the record's AuditData is not a JSON object".to_owned()),
            Err(e) => return Err(format!("the record's AuditData is not valid JSON ({e})")),
        },
        Value::Null => return Err("the record's AuditData is empty".to_owned()),
        _ => return Err("the record's AuditData is not a JSON object".to_owned()),
    };
    if missing(&data, "CreationTime") {
        if let Some(t) = o.get("CreationDate").and_then(creation_date) {
            data.insert("CreationTime".into(), t);
        }
    }
    fill(&mut data, "Id", o, "RecordId");
    fill(&mut data, "Id", o, "Identity");
    fill(&mut data, "Operation", o, "Operations");
    fill(&mut data, "Operation", o, "Operation");
    fill(&mut data, "UserId", o, "UserIds");
    fill(&mut data, "UserId", o, "UserId");
    fill(&mut data, "RecordType", o, "RecordType");
    ual::normalize(&Value::Object(data), source)
}

/// Normalizes one record's JSON text (see [`normalize_record`]).
pub fn normalize_json(record: &[u8], source: &str) -> Result<NormalizedEvent, String> {
    let value: Value = serde_json::from_slice(record).map_err(|e| format!("not valid JSON ({e})"))?;
    normalize_record(&value, source)
}

/// Extractor-Suite / `Search-UnifiedAuditLog` JSON (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct MesUalJson;

impl Format for MesUalJson {
    fn id(&self) -> &'static str {
        "mes-ual-json"
    }

    fn name(&self) -> &'static str {
        "Audit search results, JSON (Microsoft-Extractor-Suite, Search-UnifiedAuditLog)"
    }

    fn describe(&self) -> &'static str {
        "audit search results as JSON: arrays (possibly several, one after another) or objects of \
         Search-UnifiedAuditLog results with an AuditData member, or pretty-printed audit records \
         (CreationTime, Id, Operation) outside an array"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        let Some(p) = Probe::of(head) else { return false };
        match p.layout {
            Layout::Arrays => is_search_result(&p),
            Layout::Objects => is_search_result(&p) || is_audit_record(&p),
            Layout::Lines | Layout::Pages => false,
        }
    }

    fn split(&self, input: Box<dyn std::io::BufRead + Send>) -> Units {
        crate::json_stream::units(input)
    }

    fn normalize(&self, _context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        normalize_json(record, self.id())
    }
}

/// Extractor-Suite `Get-UAL` JSONL: one search result per line, `AuditData` a JSON string.
#[derive(Debug, Clone, Copy)]
pub struct MesUalJsonl;

impl Format for MesUalJsonl {
    fn id(&self) -> &'static str {
        "mes-ual-jsonl"
    }

    fn name(&self) -> &'static str {
        "Audit search results, JSON Lines (Microsoft-Extractor-Suite)"
    }

    fn describe(&self) -> &'static str {
        "audit search results as JSON Lines: one object per line with an AuditData member (a JSON string \
         or object) and RecordType, CreationDate, UserIds or Operations"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        Probe::of(head).is_some_and(|p| p.layout == Layout::Lines && is_search_result(&p))
    }

    fn split(&self, input: Box<dyn std::io::BufRead + Send>) -> Units {
        crate::ual_jsonl::UalJsonl.split(input)
    }

    fn normalize(&self, _context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        normalize_json(record, self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::RawUnit;

    const AUDIT: &str = r#"{"CreationTime":"2024-05-01T17:24:12","Id":"121899a5-ff77-49a0-b344-e368a192ca4e","Operation":"Send","RecordType":2,"UserId":"a@contoso.example","MailboxOwnerUPN":"a@contoso.example","ClientIP":"[2001:db8::1]:443","Workload":"Exchange","Item":{"Subject":"Invoice ] } \" \\","InternetMessageId":"<m1@contoso.example>","ParentFolder":{"Path":"\\Sent Items"}}}"#;

    fn split(f: &dyn Format, text: &str) -> Vec<RawUnit> {
        f.split(Box::new(std::io::Cursor::new(text.as_bytes().to_vec()))).map(Result::unwrap).collect()
    }

    fn wrapper(audit_as_string: bool) -> String {
        let audit = if audit_as_string { serde_json::to_string(AUDIT).unwrap() } else { AUDIT.to_owned() };
        format!(
            r#"{{"RecordType":"ExchangeItem","CreationDate":"/Date(1714584252000)/","UserIds":"a@contoso.example","Operations":"Send","AuditData":{audit},"ResultIndex":1,"ResultCount":2,"Identity":"121899a5-ff77-49a0-b344-e368a192ca4e"}}"#
        )
    }

    fn pretty(v: &str) -> String {
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(v).unwrap()).unwrap()
    }

    #[test]
    fn reads_concatenated_pretty_arrays_of_search_results() {
        let w = pretty(&wrapper(false));
        let text = format!("[\n{w},\n{w}\n]\n[\n{w}\n][{w}]");
        assert!(MesUalJson.sniff(text.as_bytes()));
        assert!(!MesUalJsonl.sniff(text.as_bytes()));
        let units = split(&MesUalJson, &text);
        assert_eq!(units.len(), 4);
        for u in &units {
            let e = MesUalJson.normalize(&[], &u.bytes).unwrap();
            assert_eq!(e.record_key, "121899a5-ff77-49a0-b344-e368a192ca4e");
            assert_eq!(e.action, "send");
            assert_eq!(e.time_ms, 1_714_584_252_000);
            assert_eq!(e.subject.as_deref(), Some("Invoice ] } \" \\"));
            assert_eq!(e.folders, ["\\Sent Items"]);
            assert_eq!(e.client_ip.as_deref(), Some("2001:db8::1"));
            assert_eq!(e.source, "mes-ual-json");
        }
        // The same record from ual-jsonl gives the same event, but for the source.
        let mut bare = ual::normalize_json(AUDIT.as_bytes(), "mes-ual-json").unwrap();
        bare.source = "mes-ual-json".into();
        assert_eq!(MesUalJson.normalize(&[], &units[0].bytes).unwrap(), bare);
    }

    #[test]
    fn reads_single_pretty_records_and_jsonl_wrappers() {
        let one = pretty(AUDIT);
        assert!(MesUalJson.sniff(one.as_bytes()));
        assert_eq!(split(&MesUalJson, &one).len(), 1);
        let lines = format!("{}\r\n{}\r\n", wrapper(true), wrapper(true));
        assert!(MesUalJsonl.sniff(lines.as_bytes()));
        assert!(!MesUalJson.sniff(lines.as_bytes()));
        assert!(!crate::ual_jsonl::UalJsonl.sniff(lines.as_bytes()));
        let units = split(&MesUalJsonl, &lines);
        assert_eq!(units.len(), 2);
        assert_eq!(units[1].line, 2);
        let e = MesUalJsonl.normalize(&[], &units[1].bytes).unwrap();
        assert_eq!((e.action.as_str(), e.actor.as_deref()), ("send", Some("a@contoso.example")));
    }

    #[test]
    fn fills_what_audit_data_lacks_and_never_guesses_culture_dates() {
        let v: Value = serde_json::from_str(
            r#"{"RecordType":"ExchangeItem","CreationDate":"2024-05-01T17:24:12.0000000Z","UserIds":"b@x.example",
            "Operations":"MailboxLogin","Identity":"id-1","AuditData":"{\"Workload\":\"Exchange\"}"}"#,
        )
        .unwrap();
        let e = normalize_record(&v, "t").unwrap();
        assert_eq!((e.record_key.as_str(), e.operation.as_str(), e.action.as_str()), ("id-1", "MailboxLogin", "logon"));
        assert_eq!(e.actor.as_deref(), Some("b@x.example"));
        assert_eq!(e.record_type.as_deref(), Some("ExchangeItem"));
        assert_eq!(e.time_ms, 1_714_584_252_000);
        let mut culture = v.clone();
        culture["CreationDate"] = Value::String("3/12/2025 7:31:34 AM".into());
        assert!(normalize_record(&culture, "t").unwrap_err().contains("CreationTime"));
        for bad in [r#""""#, "null", r#""{not json""#, "[1]"] {
            let mut w = v.clone();
            w["AuditData"] = serde_json::from_str(bad).unwrap();
            assert!(normalize_record(&w, "t").unwrap_err().contains("AuditData"), "{bad}");
        }
    }
}
