//! Export columns and the named column profiles.
//!
//! Column names are a contract: they are the CSV header, the JSON keys and what `--columns` and the UI
//! send, so they are validated (an unknown name is an error that lists the known ones) and never
//! renamed. Each column knows how to render itself as a [`Value`]; the sinks decide what a value looks
//! like in their format (a real datetime in XLSX, ISO 8601 with offset in CSV, …).

use std::borrow::Cow;

use crate::error::{Error, ErrorCode, Result};
use crate::model::{ColumnProfile, EventRow, ExportColumnInfo, ExportFormat, ExportPreset};

/// One event as an export reads it: the timeline row plus what only exports need.
#[derive(Debug, Clone)]
pub(crate) struct ExportRow {
    pub(crate) row: EventRow,
    pub(crate) id: i64,
    pub(crate) record_key: String,
    pub(crate) message_ids: Option<String>,
    pub(crate) raw_sha256: Vec<u8>,
    pub(crate) details: String,
    pub(crate) tags: Option<String>,
    pub(crate) bookmarked: bool,
}

/// A column an export can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// Event time in the export's zone.
    Time,
    /// Event time in UTC.
    TimeUtc,
    /// Event time, Unix milliseconds.
    TimeMs,
    /// Normalized action.
    Action,
    /// Operation, verbatim.
    Operation,
    /// Who did it.
    Actor,
    /// Whose mailbox.
    Mailbox,
    /// Client IP.
    ClientIp,
    /// Country of the client IP (offline IP data).
    IpCountry,
    /// Owner of the client IP's network.
    IpNetwork,
    /// Network number of the client IP.
    IpAsn,
    /// Kind of the client IP (hosting, vpn, microsoft, …).
    IpKind,
    /// Client port.
    ClientPort,
    /// Client family.
    ClientApp,
    /// User agent.
    UserAgent,
    /// Application id.
    AppId,
    /// Session id.
    SessionId,
    /// Result status.
    Result,
    /// Subject or search text.
    Subject,
    /// Folder paths.
    Folders,
    /// Internet message ids.
    MessageIds,
    /// Items the record covers.
    ItemCount,
    /// Object acted on.
    Object,
    /// Workload.
    Workload,
    /// Record type.
    RecordType,
    /// Source format or API.
    Source,
    /// Further normalized details.
    Details,
    /// The investigator's tags.
    Tags,
    /// Whether the event is bookmarked.
    Bookmarked,
    /// De-duplication key.
    RecordKey,
    /// Event id.
    EventId,
    /// SHA-256 of the event's raw record.
    RawSha256,
}

/// (column, name, label, description), in the `full` order.
const COLUMNS: &[(Column, &str, &str, &str)] = &[
    (Column::Time, "time", "Time", "Event time in the export's time zone (ISO 8601 with offset; a real date in XLSX)"),
    (Column::TimeUtc, "time_utc", "Time (UTC)", "Event time in UTC"),
    (Column::Action, "action", "Action", "What kind of activity (read, send, rule, sign-in, …)"),
    (Column::Operation, "operation", "Operation", "The operation as Microsoft 365 named it"),
    (Column::Actor, "actor", "Actor", "Who did it"),
    (Column::Mailbox, "mailbox", "Mailbox", "Whose mailbox it happened in"),
    (Column::ClientIp, "client_ip", "Client IP", "Client IP address, without port"),
    (
        Column::IpCountry,
        "ip_country",
        "IP country",
        "Country of the client IP, from the offline IP data named in the manifest",
    ),
    (Column::IpNetwork, "ip_network", "IP network", "Owner of the client IP's network, from the offline IP data"),
    (Column::IpAsn, "ip_asn", "IP AS number", "Autonomous system number of the client IP's network"),
    (Column::IpKind, "ip_kind", "IP kind", "public, hosting, vpn, microsoft, private or reserved"),
    (Column::ClientPort, "client_port", "Client port", "Client port, when the record gave one"),
    (Column::ClientApp, "client_app", "Client", "Client family (OWA, Outlook desktop, REST/Graph, …)"),
    (Column::UserAgent, "user_agent", "User agent", "User agent or client info string"),
    (Column::AppId, "app_id", "App id", "Application id"),
    (Column::SessionId, "session_id", "Session id", "Session id"),
    (Column::Result, "result", "Result", "Result status, verbatim"),
    (Column::Subject, "subject", "Subject", "Message subject, or the search text for searches"),
    (Column::Folders, "folders", "Folders", "Folder paths, separated by \"; \""),
    (Column::MessageIds, "message_ids", "Message ids", "Internet message ids, separated by spaces"),
    (Column::ItemCount, "item_count", "Items", "How many items the record covers"),
    (Column::Object, "object", "Object", "The object the operation acted on"),
    (Column::Workload, "workload", "Workload", "Microsoft 365 workload"),
    (Column::RecordType, "record_type", "Record type", "Record type, as given"),
    (Column::Source, "source", "Source", "Source format or API"),
    (Column::Details, "details", "Details", "Further details as \"name: value\" pairs (a JSON object in JSONL)"),
    (Column::Tags, "tags", "Tags", "The investigator's tags, separated by \"; \""),
    (Column::Bookmarked, "bookmarked", "Bookmarked", "\"yes\" when the event is bookmarked"),
    (Column::RecordKey, "record_key", "Record key", "De-duplication key (e.g. the audit record's Id)"),
    (Column::EventId, "event_id", "Event id", "Tidemark's event id"),
    (Column::RawSha256, "raw_sha256", "Raw record SHA-256", "SHA-256 of the original record's bytes"),
    (Column::TimeMs, "time_ms", "Time (Unix ms)", "Event time in Unix milliseconds"),
];

/// (name, description, columns).
const PRESETS: &[(&str, &str, &[&str])] = &[
    (
        "timeline",
        "What the timeline shows: when, what, who, from where, which message",
        &[
            "time",
            "action",
            "operation",
            "actor",
            "mailbox",
            "client_ip",
            "ip_country",
            "ip_network",
            "client_app",
            "subject",
            "folders",
            "result",
            "event_id",
        ],
    ),
    ("full", "Every field, with provenance (record key, event id, raw record SHA-256)", &[]),
    (
        "network",
        "Sign-ins and sessions: addresses, clients, user agents, app and session ids",
        &[
            "time",
            "actor",
            "mailbox",
            "operation",
            "result",
            "client_ip",
            "ip_country",
            "ip_network",
            "ip_asn",
            "ip_kind",
            "client_port",
            "client_app",
            "user_agent",
            "app_id",
            "session_id",
            "event_id",
        ],
    ),
    (
        "messages",
        "Which messages were read, sent, moved or deleted",
        &[
            "time",
            "action",
            "operation",
            "actor",
            "mailbox",
            "subject",
            "folders",
            "message_ids",
            "item_count",
            "event_id",
        ],
    ),
];

impl Column {
    /// Every column, in the `full` order.
    pub fn all() -> impl Iterator<Item = Column> {
        COLUMNS.iter().map(|c| c.0)
    }

    fn entry(self) -> &'static (Column, &'static str, &'static str, &'static str) {
        COLUMNS.iter().find(|c| c.0 == self).unwrap_or(&COLUMNS[0])
    }

    /// The column's name (CSV header, JSON key).
    pub fn name(self) -> &'static str {
        self.entry().1
    }

    /// The heading for people.
    pub fn label(self) -> &'static str {
        self.entry().2
    }

    /// Looks a column up by name.
    pub fn parse(name: &str) -> Result<Column> {
        let n = name.trim();
        COLUMNS.iter().find(|c| c.1.eq_ignore_ascii_case(n)).map(|c| c.0).ok_or_else(|| {
            let known: Vec<&str> = COLUMNS.iter().map(|c| c.1).collect();
            Error::new(
                ErrorCode::ExportInvalid,
                format!("\"{n}\" is not an export column. Use any of: {}.", known.join(", ")),
            )
        })
    }

    /// Whether rendering needs the tags of each event (an extra lookup per row).
    pub(crate) fn needs_tags(columns: &[Column]) -> bool {
        columns.contains(&Column::Tags)
    }
}

/// The columns of a preset, by name.
fn preset(name: &str) -> Option<(&'static str, Vec<Column>)> {
    let (n, _, cols) = PRESETS.iter().find(|p| p.0.eq_ignore_ascii_case(name.trim()))?;
    let cols = if cols.is_empty() {
        Column::all().collect()
    } else {
        cols.iter().filter_map(|c| Column::parse(c).ok()).collect()
    };
    Some((n, cols))
}

/// Resolves a column profile (or the format's default) to its name and columns.
pub fn resolve_profile(profile: Option<&ColumnProfile>, format: ExportFormat) -> Result<(String, Vec<Column>)> {
    let default = if format == ExportFormat::Html { "timeline" } else { "full" };
    match profile {
        None => preset(default).map(|(n, c)| (n.to_owned(), c)).ok_or_else(|| Error::internal("no default preset")),
        Some(ColumnProfile::Preset { name }) => preset(name).map(|(n, c)| (n.to_owned(), c)).ok_or_else(|| {
            let known: Vec<&str> = PRESETS.iter().map(|p| p.0).collect();
            Error::new(
                ErrorCode::ExportInvalid,
                format!("\"{name}\" is not a column profile. Use one of {}, or list columns.", known.join(", ")),
            )
        }),
        Some(ColumnProfile::Custom { columns }) => {
            let mut out = Vec::with_capacity(columns.len());
            for name in columns {
                let c = Column::parse(name)?;
                if out.contains(&c) {
                    return Err(Error::new(
                        ErrorCode::ExportInvalid,
                        format!("The column \"{}\" is listed twice. List each column once.", c.name()),
                    ));
                }
                out.push(c);
            }
            if out.is_empty() {
                return Err(Error::new(ErrorCode::ExportInvalid, "No columns were chosen. Choose at least one."));
            }
            Ok(("custom".to_owned(), out))
        }
    }
}

/// Parses what `--columns` takes: a preset name, or column names separated by commas.
pub fn parse_profile_text(text: &str) -> ColumnProfile {
    let t = text.trim();
    if !t.contains(',') && PRESETS.iter().any(|p| p.0.eq_ignore_ascii_case(t)) {
        ColumnProfile::Preset { name: t.to_ascii_lowercase() }
    } else {
        ColumnProfile::Custom { columns: t.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect() }
    }
}

/// Every column and preset, for the export dialog.
pub fn column_infos() -> (Vec<ExportColumnInfo>, Vec<ExportPreset>) {
    let cols = COLUMNS
        .iter()
        .map(|c| ExportColumnInfo { name: c.1.to_owned(), label: c.2.to_owned(), description: c.3.to_owned() })
        .collect();
    let presets = PRESETS
        .iter()
        .filter_map(|p| {
            let (_, cols) = preset(p.0)?;
            Some(ExportPreset {
                name: p.0.to_owned(),
                description: p.1.to_owned(),
                columns: cols.iter().map(|c| c.name().to_owned()).collect(),
            })
        })
        .collect();
    (cols, presets)
}

/// A cell before a format renders it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    /// No value.
    Empty,
    /// Text from the case (evidence: attacker-controlled).
    Text(Cow<'a, str>),
    /// A whole number.
    Int(i64),
    /// A time, Unix ms, in the export's zone (`utc`: always in UTC).
    Time { ms: i64, utc: bool },
}

fn text(s: Option<&str>) -> Value<'_> {
    match s {
        Some(s) if !s.is_empty() => Value::Text(Cow::Borrowed(s)),
        _ => Value::Empty,
    }
}

/// Details as `name: value` pairs separated by `; `: readable in a cell, and "contains" filters work.
pub(crate) fn details_text(details: &str) -> String {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(details) {
        Ok(map) => {
            let mut out = String::new();
            for (k, v) in map {
                if !out.is_empty() {
                    out.push_str("; ");
                }
                out.push_str(&k);
                out.push_str(": ");
                match v {
                    serde_json::Value::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                }
            }
            out
        }
        Err(_) => details.to_owned(),
    }
}

impl ExportRow {
    /// The value of one column.
    pub(crate) fn value(&self, c: Column) -> Value<'_> {
        let r = &self.row;
        match c {
            Column::Time => Value::Time { ms: r.time_ms, utc: false },
            Column::TimeUtc => Value::Time { ms: r.time_ms, utc: true },
            Column::TimeMs => Value::Int(r.time_ms),
            Column::Action => text(Some(&r.action)),
            Column::Operation => text(Some(&r.operation)),
            Column::Actor => text(r.actor.as_deref()),
            Column::Mailbox => text(r.mailbox.as_deref()),
            Column::ClientIp => text(r.client_ip.as_deref()),
            Column::IpCountry => text(r.ip.as_ref().and_then(|i| i.country.as_deref())),
            Column::IpNetwork => text(r.ip.as_ref().and_then(|i| i.network.as_deref())),
            Column::IpAsn => r.ip.as_ref().and_then(|i| i.asn).map_or(Value::Empty, |a| Value::Int(i64::from(a))),
            Column::IpKind => text(r.ip.as_ref().map(|i| i.class.as_str())),
            Column::ClientPort => r.client_port.map_or(Value::Empty, |p| Value::Int(i64::from(p))),
            Column::ClientApp => text(r.client_app.as_deref()),
            Column::UserAgent => text(r.user_agent.as_deref()),
            Column::AppId => text(r.app_id.as_deref()),
            Column::SessionId => text(r.session_id.as_deref()),
            Column::Result => text(r.result.as_deref()),
            Column::Subject => text(r.subject.as_deref()),
            Column::Folders => text(r.folders.as_deref()),
            Column::MessageIds => text(self.message_ids.as_deref()),
            Column::ItemCount => r.item_count.map_or(Value::Empty, Value::Int),
            Column::Object => text(r.object.as_deref()),
            Column::Workload => text(r.workload.as_deref()),
            Column::RecordType => text(r.record_type.as_deref()),
            Column::Source => text(Some(&r.source)),
            Column::Details => match details_text(&self.details) {
                s if s.is_empty() => Value::Empty,
                s => Value::Text(Cow::Owned(s)),
            },
            // Tag names are read joined by U+001F (a name may contain "; ").
            Column::Tags => match self.tags.as_deref() {
                Some(t) if !t.is_empty() => Value::Text(Cow::Owned(t.replace('\u{1f}', "; "))),
                _ => Value::Empty,
            },
            Column::Bookmarked => {
                if self.bookmarked {
                    Value::Text(Cow::Borrowed("yes"))
                } else {
                    Value::Empty
                }
            }
            Column::RecordKey => text(Some(&self.record_key)),
            // Time keys exceed 2^53 and Excel's 15 digits: ids are text everywhere.
            Column::EventId => Value::Text(Cow::Borrowed(&r.id)),
            Column::RawSha256 => Value::Text(Cow::Owned(hex::encode(&self.raw_sha256))),
        }
    }
}

/// Neutralises a cell that a spreadsheet would evaluate as a formula: text starting with `=`, `+`,
/// `-`, `@`, tab, CR or LF gets a leading `'`. Subjects, rule names and user agents are written by
/// attackers; the text is kept, only made inert.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_resolve_and_unknown_names_are_refused() {
        let (name, cols) = resolve_profile(None, ExportFormat::Csv).unwrap();
        assert_eq!(name, "full");
        assert_eq!(cols.len(), COLUMNS.len());
        let (name, cols) = resolve_profile(None, ExportFormat::Html).unwrap();
        assert_eq!((name.as_str(), cols[0]), ("timeline", Column::Time));
        let custom = parse_profile_text("time, subject,EVENT_ID");
        let (name, cols) = resolve_profile(Some(&custom), ExportFormat::Xlsx).unwrap();
        assert_eq!((name.as_str(), cols), ("custom", vec![Column::Time, Column::Subject, Column::EventId]));
        for bad in ["time,nope", "time,time", "   "] {
            let e = resolve_profile(Some(&parse_profile_text(bad)), ExportFormat::Csv).unwrap_err();
            assert_eq!(e.code, ErrorCode::ExportInvalid, "{bad}");
        }
        let e = resolve_profile(Some(&ColumnProfile::Preset { name: "nope".into() }), ExportFormat::Csv).unwrap_err();
        assert!(e.message.contains("timeline"));
        // Every preset names only real columns.
        for p in PRESETS {
            for c in p.2 {
                Column::parse(c).unwrap();
            }
        }
    }

    #[test]
    fn neutralizes_formula_triggers() {
        assert_eq!(neutralize("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for c in ["+1", "-2", "@SUM(A1)", "\tx", "\rx", "\n=1"] {
            assert!(neutralize(c).starts_with('\''), "{c:?}");
        }
        assert_eq!(neutralize("plain"), "plain");
        assert_eq!(details_text(r#"{"a":"x","n":2}"#), "a: x; n: 2");
    }
}
