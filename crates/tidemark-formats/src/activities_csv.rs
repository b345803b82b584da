//! The CrowdStrike/LMG Activities retriever CSV (`activities-csv`): legacy Outlook activities, one per row.
//!
//! Written by Python's `csv.DictWriter` (`shared/docs/m365-formats.md` §1.10): header
//! `TimeStamp,AppIdType,ActivityIdType,ActivityItemId,ActivityCreationTime,ClientSessionId,CustomProperties`,
//! minimal quoting, LF line ends, and `CustomProperties` as the `repr()` of a Python dict (single
//! quotes, not JSON), read with [`crate::python_literal`]. The final CrowdStrike version wrote UTF-8
//! with a byte-order mark, LMG's copy UTF-8 without, and the first version the Windows code page, so a
//! row that is not valid UTF-8 is decoded as Windows-1252 here ([`decode_cp1252`]); the stored evidence
//! stays the file's bytes. A `CustomProperties` cell that is not a Python literal falls back to JSON,
//! then to a plain `key: value` reading, and the event says so in `details.custom_properties_problem`.
//! The rows name no mailbox (the retriever was run per mailbox), so `mailbox` is only known for
//! server logons (`UserName`). Normalization is [`crate::activities::normalize_activity`].

use std::borrow::Cow;
use std::io::BufRead;

use serde_json::Value;

use crate::activities::{normalize_activity, Activity};
use crate::csv::{self, Header};
use crate::event::NormalizedEvent;
use crate::format::{Format, Units};
use crate::python_literal;

/// The retriever CSV format.
#[derive(Debug, Clone, Copy)]
pub struct ActivitiesCsv;

impl Format for ActivitiesCsv {
    fn id(&self) -> &'static str {
        "activities-csv"
    }

    fn name(&self) -> &'static str {
        "Outlook Activities CSV (CrowdStrike/LMG retriever)"
    }

    fn describe(&self) -> &'static str {
        "Outlook Activities CSV from the CrowdStrike/LMG retriever: header TimeStamp,AppIdType,ActivityIdType,ActivityItemId,ActivityCreationTime,ClientSessionId,CustomProperties"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        let Some(rec) = csv::header_record(head) else {
            return false;
        };
        Header::parse(&rec)
            .is_ok_and(|h| ["TimeStamp", "ActivityIdType", "AppIdType"].iter().all(|c| h.index(c).is_some()))
    }

    fn context(&self, head: &[u8]) -> Vec<u8> {
        csv::header_record(head).unwrap_or_default()
    }

    fn split(&self, input: Box<dyn BufRead + Send>) -> Units {
        csv::units(input)
    }

    fn normalize(&self, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        if context.is_empty() {
            return Err("the file's header row is missing, so the columns cannot be told apart".to_owned());
        }
        let header = Header::parse(context)?;
        let (text, cp1252) = match std::str::from_utf8(record) {
            Ok(s) => (Cow::Borrowed(s), false),
            Err(_) => (Cow::Owned(decode_cp1252(record)), true),
        };
        let cells = csv::parse_record_str(&text)?;
        let cell = |name: &str| -> Option<String> {
            header.index(name).and_then(|i| cells.get(i)).map(|c| c.trim()).filter(|c| !c.is_empty()).map(str::to_owned)
        };
        let (custom_properties, problem) = match cell("CustomProperties") {
            None => (Vec::new(), None),
            Some(raw) => custom_properties(&raw),
        };
        let activity = Activity {
            id: cell("Id"),
            time_stamp: cell("TimeStamp").unwrap_or_default(),
            app_id_type: cell("AppIdType"),
            activity_id_type: cell("ActivityIdType").unwrap_or_default(),
            activity_item_id: cell("ActivityItemId"),
            activity_creation_time: cell("ActivityCreationTime"),
            client_session_id: cell("ClientSessionId"),
            custom_properties,
        };
        let mut e = normalize_activity(&activity, None, self.id())?;
        if let Some(p) = problem {
            e.details.insert("custom_properties_problem".into(), Value::String(p));
        }
        if cp1252 {
            e.details.insert("encoding".into(), Value::String("windows-1252".into()));
        }
        Ok(e)
    }
}

/// Reads a `CustomProperties` cell: a Python dict literal, else a JSON object, else `key: value`
/// pairs. The second value says what went wrong with the first reading, if anything.
pub fn custom_properties(raw: &str) -> (Vec<(String, String)>, Option<String>) {
    let err = match python_literal::parse_dict(raw) {
        Ok(pairs) => return (pairs, None),
        Err(e) => e,
    };
    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(raw) {
        let pairs = o
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect();
        return (pairs, Some(format!("CustomProperties is JSON, not a Python literal ({err})")));
    }
    (key_values(raw), Some(format!("CustomProperties is not a Python literal ({err}); read as key: value text")))
}

/// The crude reading: `{'a': 'b', c: d}` → `[(a, b), (c, d)]`, quotes and braces stripped.
fn key_values(raw: &str) -> Vec<(String, String)> {
    let body = raw.trim().trim_start_matches('{').trim_end_matches('}');
    let strip = |s: &str| s.trim().trim_matches(|c| c == '\'' || c == '"').trim().to_owned();
    let mut out: Vec<(String, String)> = Vec::new();
    for part in body.split(", ") {
        match part.split_once(':') {
            Some((k, v)) if !strip(k).is_empty() && !k.contains(' ') || k.trim().starts_with(['\'', '"']) => {
                out.push((strip(k), strip(v)));
            }
            _ => {
                // A comma inside a value: glue it back on.
                if let Some((_, v)) = out.last_mut() {
                    v.push_str(", ");
                    v.push_str(&strip(part));
                }
            }
        }
    }
    out
}

/// Decodes Windows-1252 text. The five bytes the code page leaves undefined (0x81, 0x8D, 0x8F, 0x90,
/// 0x9D) become the C1 control with the same number (U+0081 …), as Windows itself maps them.
pub fn decode_cp1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}', '\u{02C6}',
        '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}', '\u{0090}', '\u{2018}',
        '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}',
        '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::RawUnit;

    fn run(data: &[u8]) -> (Vec<RawUnit>, Vec<Result<NormalizedEvent, String>>) {
        assert!(ActivitiesCsv.sniff(data));
        let ctx = ActivitiesCsv.context(data);
        let units: Vec<RawUnit> =
            ActivitiesCsv.split(Box::new(std::io::Cursor::new(data.to_vec()))).collect::<Result<_, _>>().unwrap();
        let events = units.iter().map(|u| ActivitiesCsv.normalize(&ctx, &u.bytes)).collect();
        (units, events)
    }

    #[test]
    fn normalizes_retriever_rows() {
        let data = include_bytes!("../tests-data/activities-csv/retriever-bom.csv");
        let (units, events) = run(data);
        assert_eq!(units.len(), 7);
        let ok: Vec<&NormalizedEvent> = events.iter().filter_map(|e| e.as_ref().ok()).collect();
        let logon = ok[0];
        assert_eq!((logon.operation.as_str(), logon.action.as_str()), ("ServerLogon", "logon"));
        assert_eq!(logon.time_ms, 1_526_294_564_548);
        assert_eq!(logon.mailbox.as_deref(), Some("victim@contoso.com"));
        assert_eq!(logon.client_ip.as_deref(), Some("203.0.113.50"));
        assert_eq!(logon.user_agent.as_deref(), Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"));
        assert_eq!(logon.record_key.len(), 64, "no Id column: a canonical hash");
        assert_eq!(logon.details["activity_creation_time"], "2018-05-14T10:42:45.102Z");
        let read = ok[1];
        assert_eq!((read.action.as_str(), read.details["display"].as_str()), ("read", Some("start")));
        assert_eq!(read.client_app.as_deref(), Some("OWA"));
        assert_eq!(read.object.as_deref(), Some("AAMkAGRmItem1="));
        assert_eq!(read.session_id.as_deref(), Some("1c6c6a80-b98b-45ef-8a4e-b874f3fe375f"));
        let search = ok[2];
        assert_eq!((search.action.as_str(), search.subject.as_deref()), ("search", Some("wire 'urgent' \"now\"")));
        let delivered = ok[3];
        assert_eq!(delivered.action, "delivery");
        assert_eq!(delivered.subject.as_deref(), Some("Invoice, Q1\nplease pay"));
        assert_eq!(delivered.actor.as_deref(), Some("ceo@evil.example"));
        assert_eq!(delivered.message_ids, vec!["<m1@evil.example>"]);
        assert_eq!(delivered.folders, vec!["Inbox"]);
        // A row without CustomProperties.
        assert_eq!(ok[4].action, "attachment");
        // Malformed rows fail alone.
        assert!(events[5].as_ref().unwrap_err().contains("TimeStamp"), "{:?}", events[5]);
        let last = events[6].as_ref().unwrap();
        assert_eq!(last.operation, "SearchSuggestionsDisplay");
        assert_eq!(last.subject.as_deref(), Some("inv"));
        assert!(last.details["custom_properties_problem"].as_str().unwrap().contains("key: value"));
    }

    #[test]
    fn decodes_cp1252_rows_and_keys_them_stably() {
        let data = include_bytes!("../tests-data/activities-csv/retriever-cp1252.csv");
        assert!(String::from_utf8(data.to_vec()).is_err(), "the fixture is really cp1252");
        let (units, events) = run(data);
        assert_eq!(units.len(), 2);
        let e = events[0].as_ref().unwrap();
        assert_eq!(e.subject.as_deref(), Some("Überweisung – “dringend” €500 \u{81}"));
        assert_eq!(e.details["encoding"], "windows-1252");
        assert_eq!(e.actor.as_deref(), Some("müller@contoso.example"));
        // The same row again is the same record.
        let again = ActivitiesCsv.normalize(&ActivitiesCsv.context(data), &units[0].bytes).unwrap();
        assert_eq!(again.record_key, e.record_key);
        assert_ne!(events[1].as_ref().unwrap().record_key, e.record_key);
    }

    #[test]
    fn reads_custom_properties_every_way() {
        let (p, problem) = custom_properties("{'a': 'x, y', 'b': \"it's\"}");
        assert_eq!(p, vec![("a".into(), "x, y".into()), ("b".into(), "it's".into())]);
        assert_eq!(problem, None);
        let (p, problem) = custom_properties("{\"a\": true, \"b\": null}");
        assert_eq!(p, vec![("a".into(), "true".into()), ("b".into(), "null".into())]);
        assert!(problem.unwrap().contains("JSON"));
        let (p, _) = custom_properties("{Query: wire, transfer, Sid: 1}");
        assert_eq!(p, vec![("Query".into(), "wire, transfer".into()), ("Sid".into(), "1".into())]);
        assert_eq!(decode_cp1252(b"\x80\x81\x8d\x8f\x90\x9d\x9f\xa0\xff"), "€\u{81}\u{8d}\u{8f}\u{90}\u{9d}Ÿ\u{a0}ÿ");
    }
}
