//! Microsoft Sentinel / Log Analytics `OfficeActivity` exports (§5.7 of the formats spec).
//!
//! Investigators often receive KQL query results instead of the audit log itself. The `OfficeActivity`
//! table holds the same audit records, reshaped: some columns are renamed (`TimeGenerated` is the
//! record's `CreationTime`, `OfficeId` its `Id`, `OfficeWorkload`, `OfficeObjectId`, `Client_IPAddress`,
//! `Logon_Type`), enum numbers became names (`UserType` `Regular`, `Logon_Type` `Owner`), booleans and
//! numbers became strings (`RecordType` `"50"`, `ExternalAccess` `"False"`), nested arrays and objects
//! became JSON *strings* (`Folders`, `OperationProperties`, `Item`, `AffectedItems`, `Parameters`), and
//! Log Analytics adds its own columns (`TenantId` of the workspace, `Type`, `SourceSystem`, `_ResourceId`,
//! copies such as `UserId_`).
//!
//! [`to_audit_record`] undoes that reshaping and [`crate::ual`] normalizes the result, so a record seen
//! in Sentinel and in the audit log is one event with one key (`OfficeId` is the UAL `Id`); only the
//! event's `source` differs. Files: JSON (arrays, objects one per line or pretty), JSON Lines, and CSV
//! (header names may carry the portal's ` [UTC]` suffix).

use serde_json::{Map, Value};

use crate::csv;
use crate::event::NormalizedEvent;
use crate::format::{Format, Units};
use crate::json_stream::{Layout, Probe};
use crate::ual;

/// Columns whose audit-record name differs, in order of preference for the same target.
const RENAMED: &[(&str, &str)] = &[
    ("TimeGenerated", "CreationTime"),
    ("OfficeId", "Id"),
    ("SourceRecordId", "Id"),
    ("OfficeWorkload", "Workload"),
    ("OfficeObjectId", "ObjectId"),
    ("Client_IPAddress", "ClientIPAddress"),
    ("Logon_Type", "LogonType"),
    ("Site_", "Site"),
    ("Site_Url", "SiteUrl"),
    ("Event_Data", "EventData"),
    ("AzureActiveDirectory_EventType", "AzureActiveDirectoryEventType"),
];

/// Columns Log Analytics adds; they are not part of the audit record.
const WORKSPACE_COLUMNS: &[&str] = &["TenantId", "Type", "SourceSystem", "OfficeTenantId"];

/// `UserType` names (Sentinel) to the audit record's numbers (§2.5).
const USER_TYPES: &[&str] = &[
    "Regular",
    "Reserved",
    "Admin",
    "DcAdmin",
    "System",
    "Application",
    "ServicePrincipal",
    "CustomPolicy",
    "SystemPolicy",
    "PartnerTechnician",
    "Guest",
];

/// `Logon_Type` names (Sentinel) to the audit record's `LogonType` numbers (§2.6).
const LOGON_TYPES: &[&str] =
    &["Owner", "Admin", "Delegated", "Transport", "SystemService", "BestAccess", "DelegatedAdmin"];

fn enum_number(v: &Value, names: &[&str]) -> Option<Value> {
    let s = v.as_str()?.trim();
    let i = names.iter().position(|n| n.eq_ignore_ascii_case(s))?;
    Some(Value::from(i))
}

/// A string holding a JSON array or object, parsed; anything else unchanged.
fn unstring(v: Value) -> Value {
    if let Value::String(s) = &v {
        let t = s.trim();
        let wrapped = (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('{') && t.ends_with('}'));
        if wrapped {
            if let Ok(parsed @ (Value::Array(_) | Value::Object(_))) = serde_json::from_str::<Value>(t) {
                return parsed;
            }
        }
    }
    v
}

/// An `OfficeActivity` row as the audit record it came from (see the module documentation).
pub fn to_audit_record(row: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut renamed: Vec<(&str, Value)> = Vec::new(); // (column, value)
    for (k, v) in row {
        let k = k.trim();
        let k = k.strip_suffix(" [UTC]").unwrap_or(k);
        if matches!(v, Value::Null) || v.as_str().is_some_and(|s| s.is_empty()) {
            continue;
        }
        if let Some((from, _)) = RENAMED.iter().find(|(from, _)| *from == k) {
            renamed.push((from, v.clone()));
            continue;
        }
        if WORKSPACE_COLUMNS.contains(&k) || k.starts_with('_') || k.ends_with('_') {
            continue;
        }
        let v = match k {
            "UserType" => enum_number(v, USER_TYPES).unwrap_or_else(|| v.clone()),
            "ExternalAccess" => match v.as_str().map(str::trim) {
                Some(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
                Some(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
                _ => v.clone(),
            },
            _ => unstring(v.clone()),
        };
        out.insert(k.to_owned(), v);
    }
    // Renamed columns fill what the row does not already carry under the audit name, in table order.
    for (from, to) in RENAMED {
        if out.contains_key(*to) {
            continue;
        }
        if let Some((_, v)) = renamed.iter().find(|(f, _)| f == from) {
            let v =
                if *to == "LogonType" { enum_number(v, LOGON_TYPES).unwrap_or_else(|| v.clone()) } else { v.clone() };
            out.insert((*to).to_owned(), unstring(v));
        }
    }
    out
}

/// Normalizes one `OfficeActivity` row. `source` is the format id.
pub fn normalize_row(value: &Value, source: &str) -> Result<NormalizedEvent, String> {
    let Some(row) = value.as_object() else {
        return Err("not an OfficeActivity row: expected a JSON object".to_owned());
    };
    ual::normalize(&Value::Object(to_audit_record(row)), source)
}

/// Whether the first record is an `OfficeActivity` row.
fn is_office_activity(p: &Probe) -> bool {
    p.str_member("Type").is_some_and(|t| t == "OfficeActivity")
        || p.has_key("OfficeWorkload")
        || (p.has_key("OfficeId") && p.has_key("TimeGenerated"))
}

/// `OfficeActivity` rows as JSON or JSON Lines (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct SentinelJson;

impl Format for SentinelJson {
    fn id(&self) -> &'static str {
        "sentinel-officeactivity"
    }

    fn name(&self) -> &'static str {
        "Microsoft Sentinel OfficeActivity, JSON"
    }

    fn describe(&self) -> &'static str {
        "Microsoft Sentinel / Log Analytics OfficeActivity rows as JSON or JSON Lines (TimeGenerated, \
         OfficeWorkload, Operation, OfficeId, Type \"OfficeActivity\")"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        Probe::of(head).is_some_and(|p| p.layout != Layout::Pages && is_office_activity(&p))
    }

    fn split(&self, input: Box<dyn std::io::BufRead + Send>) -> Units {
        crate::json_stream::units(input)
    }

    fn normalize(&self, _context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        let value: Value = serde_json::from_slice(record).map_err(|e| format!("not valid JSON ({e})"))?;
        normalize_row(&value, self.id())
    }
}

/// `OfficeActivity` rows as CSV (the Log Analytics portal's export; the header is the context).
#[derive(Debug, Clone, Copy)]
pub struct SentinelCsv;

fn csv_header(head: &[u8]) -> Option<csv::Header> {
    let rec = csv::header_record(head)?;
    csv::Header::parse(&rec).ok()
}

fn is_office_activity_header(h: &csv::Header) -> bool {
    let has = |n: &str| h.index(n).is_some() || h.index(&format!("{n} [UTC]")).is_some();
    has("OfficeWorkload") || (has("TimeGenerated") && has("OfficeId") && has("Operation"))
}

impl Format for SentinelCsv {
    fn id(&self) -> &'static str {
        "sentinel-officeactivity-csv"
    }

    fn name(&self) -> &'static str {
        "Microsoft Sentinel OfficeActivity, CSV"
    }

    fn describe(&self) -> &'static str {
        "Microsoft Sentinel / Log Analytics OfficeActivity rows as CSV, with columns such as \
         TimeGenerated [UTC], OfficeWorkload, Operation, UserId and OfficeId"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        csv_header(head).is_some_and(|h| is_office_activity_header(&h))
    }

    fn context(&self, head: &[u8]) -> Vec<u8> {
        csv::header_record(head).unwrap_or_default()
    }

    fn split(&self, input: Box<dyn std::io::BufRead + Send>) -> Units {
        csv::units(input)
    }

    fn normalize(&self, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        let header = csv::Header::parse(context)?;
        let cells = csv::parse_record(record)?;
        let mut row = Map::new();
        for (name, cell) in header.names().iter().zip(cells.iter()) {
            if !cell.is_empty() {
                row.insert(name.clone(), Value::String(cell.to_string()));
            }
        }
        if cells.len() > header.names().len() {
            return Err(format!(
                "the row has {} cells but the header names {} columns",
                cells.len(),
                header.names().len()
            ));
        }
        normalize_row(&Value::Object(row), self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OTRF sample's row (`OfficeActivityEvents.json`), shortened to two message ids.
    const ROW: &str = r#"{"TenantId":"00000000-0000-0000-0000-000000000000","RecordType":"50","TimeGenerated":"2021-08-02T13:32:07Z","Operation":"MailItemsAccessed","OrganizationId":"00000000-0000-0000-0000-000000000000","OrganizationId_":"00000000-0000-0000-0000-000000000000","UserType":"Regular","UserKey":"100320015858B802","OfficeWorkload":"Exchange","ResultStatus":"Succeeded","UserId":"pgustavo@simulandlabs.com","UserId_":"pgustavo@simulandlabs.com","ExternalAccess":"False","OriginatingServer":"AB1CD23EF4567 (15.20.4200.000)\r\n","Logon_Type":"Owner","MailboxOwnerUPN":"pgustavo@simulandlabs.com","ClientInfoString":"Client=REST;;","Client_IPAddress":"1.2.3.4","Folders":"[{\"FolderItems\":[{\"InternetMessageId\":\"\u003ca@x\u003e\"},{\"InternetMessageId\":\"\u003cb@x\u003e\"}],\"Id\":\"LgAA\",\"Path\":\"\\\\Inbox\"}]","SourceSystem":"OfficeActivityManager","OfficeId":"699e0b10-1c53-403e-976f-ce0847a92b44","SourceRecordId":"699e0b10-1c53-403e-976f-ce0847a92b44","OperationProperties":"[{\"Name\":\"MailAccessType\",\"Value\":\"Bind\"},{\"Name\":\"IsThrottled\",\"Value\":\"False\"}]","AppId":"00000003-0000-0000-c000-000000000000","ClientAppId":"5a95e683-08ad-424e-a441-1d1aec52c02c","Type":"OfficeActivity"}"#;

    /// The same record as the audit log has it.
    const AUDIT: &str = r#"{"CreationTime":"2021-08-02T13:32:07","Id":"699e0b10-1c53-403e-976f-ce0847a92b44","Operation":"MailItemsAccessed","OrganizationId":"00000000-0000-0000-0000-000000000000","RecordType":50,"ResultStatus":"Succeeded","UserKey":"100320015858B802","UserType":0,"Workload":"Exchange","UserId":"pgustavo@simulandlabs.com","ExternalAccess":false,"OriginatingServer":"AB1CD23EF4567 (15.20.4200.000)\r\n","LogonType":0,"MailboxOwnerUPN":"pgustavo@simulandlabs.com","ClientInfoString":"Client=REST;;","ClientIPAddress":"1.2.3.4","Folders":[{"FolderItems":[{"InternetMessageId":"<a@x>"},{"InternetMessageId":"<b@x>"}],"Id":"LgAA","Path":"\\Inbox"}],"OperationProperties":[{"Name":"MailAccessType","Value":"Bind"},{"Name":"IsThrottled","Value":"False"}],"AppId":"00000003-0000-0000-c000-000000000000","ClientAppId":"5a95e683-08ad-424e-a441-1d1aec52c02c"}"#;

    #[test]
    fn a_row_is_the_same_event_as_its_audit_record() {
        let row: Value = serde_json::from_str(ROW).unwrap();
        let e = normalize_row(&row, "sentinel-officeactivity").unwrap();
        let mut expected = ual::normalize_json(AUDIT.as_bytes(), "sentinel-officeactivity").unwrap();
        expected.source = e.source.clone();
        assert_eq!(e, expected);
        assert_eq!(e.record_key, "699e0b10-1c53-403e-976f-ce0847a92b44");
        assert_eq!(e.message_ids, ["<a@x>", "<b@x>"]);
        assert_eq!(e.folders, ["\\Inbox"]);
        assert_eq!(e.details.get("LogonType"), Some(&Value::String("0".into())));
    }

    #[test]
    fn sniffs_json_lines_arrays_and_pretty_rows_but_not_other_tables() {
        let lines = format!("{ROW}\r\n{ROW}\r\n");
        assert!(SentinelJson.sniff(lines.as_bytes()));
        let arr = format!("[{ROW},\n{ROW}]");
        assert!(SentinelJson.sniff(arr.as_bytes()));
        let units: Vec<_> = SentinelJson.split(Box::new(std::io::Cursor::new(arr.into_bytes()))).collect();
        assert_eq!(units.len(), 2);
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(ROW).unwrap()).unwrap();
        assert!(SentinelJson.sniff(pretty.as_bytes()));
        assert!(!SentinelJson.sniff(br#"{"TenantId":"x","TimeGenerated":"2021-08-02T13:32:07Z","OperationName":"Add delegated permission grant","Type":"AuditLogs"}"#));
    }

    #[test]
    fn reads_the_portal_csv() {
        let text = "TenantId,\"TimeGenerated [UTC]\",Operation,OfficeWorkload,UserId,Client_IPAddress,OfficeId,Folders,Logon_Type\r\n\
            t,2021-08-02T13:32:07.000Z,MailItemsAccessed,Exchange,p@x.example,1.2.3.4:50000,id-1,\"[{\"\"Path\"\":\"\"\\\\Inbox\"\"}]\",Owner\r\n";
        assert!(SentinelCsv.sniff(text.as_bytes()));
        assert!(!SentinelJson.sniff(text.as_bytes()));
        let ctx = SentinelCsv.context(text.as_bytes());
        let units: Vec<_> =
            SentinelCsv.split(Box::new(std::io::Cursor::new(text.as_bytes().to_vec()))).map(Result::unwrap).collect();
        assert_eq!(units.len(), 1);
        let e = SentinelCsv.normalize(&ctx, &units[0].bytes).unwrap();
        assert_eq!(e.record_key, "id-1");
        assert_eq!(e.time_ms, 1_627_911_127_000);
        assert_eq!((e.client_ip.as_deref(), e.client_port), (Some("1.2.3.4"), Some(50000)));
        assert_eq!(e.folders, ["\\Inbox"]);
        assert_eq!(e.details.get("LogonType"), Some(&Value::String("0".into())));
    }
}
