//! Raw pages of the legacy Outlook Activities API (`…/api/v1.0|v2.0/Users('…')/Activities`, §1.5 of the
//! formats spec), as investigators saved them in 2018: `{"value":[…]}`, one page per file or several
//! in one file, pretty or compact, with or without `@odata.context`, `@odata.id` and `@odata.etag`.
//!
//! The activities themselves do not say whose mailbox they are from; the request URL did. OData
//! repeats it in the page's `@odata.context` (`…$metadata#Users('victim%40contoso.com')/Activities`)
//! and in each entity's `@odata.id`. This format's context is the first page's `@odata.context`, so
//! normalization can name the mailbox even when re-run from stored records; an entity's own
//! `@odata.id` is used when the page has none. Normalization itself is [`crate::activities`]'s, shared
//! with the retriever CSV, so both give the same event and key for the same activity.

use serde_json::Value;

use crate::activities::{mailbox_from_url, normalize_activity_json};
use crate::event::NormalizedEvent;
use crate::format::{Format, Units};
use crate::json_stream::Probe;

/// `@odata.context` as written in JSON (escapes such as `\/` undone).
fn decode_json_string(raw: &str) -> String {
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_owned())
}

/// Percent-decoding for the `%40` in a UPN inside a URL (other escapes are left as they are).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16);
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// The mailbox named by a page's `@odata.context` (this format's context).
pub fn mailbox_from_context(context: &[u8]) -> Option<String> {
    let url = std::str::from_utf8(context).ok()?;
    mailbox_from_url(&percent_decode(url))
}

/// Whether the head shows Activities: activity objects, or an empty page of them.
fn looks_like_activities(p: &Probe) -> bool {
    if p.has_key("ActivityIdType") && (p.has_key("TimeStamp") || p.has_key("AppIdType")) {
        return true;
    }
    p.first.is_empty() && p.page_member("@odata.context").is_some_and(|c| c.contains("/Activities"))
}

/// Raw Activities API pages (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct ActivitiesJson;

impl Format for ActivitiesJson {
    fn id(&self) -> &'static str {
        "activities-api-json"
    }

    fn name(&self) -> &'static str {
        "Outlook Activities API pages, JSON"
    }

    fn describe(&self) -> &'static str {
        "legacy Outlook Activities API responses ({\"value\":[…]} from /api/v2.0/Users('…')/Activities): \
         objects with TimeStamp, AppIdType, ActivityIdType and CustomProperties"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        Probe::of(head).is_some_and(|p| looks_like_activities(&p))
    }

    fn context(&self, head: &[u8]) -> Vec<u8> {
        Probe::of(head)
            .and_then(|p| p.page_member("@odata.context"))
            .map(|raw| decode_json_string(&raw).into_bytes())
            .unwrap_or_default()
    }

    fn split(&self, input: Box<dyn std::io::BufRead + Send>) -> Units {
        crate::json_stream::units(input)
    }

    fn normalize(&self, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        let value: Value = serde_json::from_slice(record).map_err(|e| format!("not valid JSON ({e})"))?;
        let mailbox = mailbox_from_context(context);
        normalize_activity_json(&value, mailbox.as_deref(), self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVITY: &str = r#"{"@odata.id":"https://outlook.office.com/api/v2.0/Users('victim@contoso.com')/Activities('AAMkAGI2TG93AAA=')","@odata.etag":"W/\"CQAAAA==\"","Id":"AAMkAGI2TG93AAA=","TimeStamp":"2018-05-14T10:42:44.548Z","ActivityCreationTime":"2018-05-14T10:42:45.102Z","ActivityIdType":"ServerLogon","AppIdType":"Exchange","ActivityItemId":"","ClientSessionId":"0f3c2a41-5d7e-4b8e-9d55-2a1c3e4f5a6b","CustomProperties":[{"Name":"UserName","Value":"victim@contoso.com"},{"Name":"Result","Value":"Success"},{"Name":"ClientIP","Value":"203.0.113.50"}]}"#;

    fn page(context: &str, n: usize) -> String {
        let items = vec![ACTIVITY; n].join(",\n    ");
        format!("{{\n  \"@odata.context\": \"{context}\",\n  \"value\": [\n    {items}\n  ]\n}}\n")
    }

    #[test]
    fn reads_pages_with_odata_annotations() {
        let ctx = r"https:\/\/outlook.office.com\/api\/v2.0\/$metadata#Users('victim%40contoso.com')\/Activities";
        let text = format!("{}{}", page(ctx, 2), page(ctx, 1));
        assert!(ActivitiesJson.sniff(text.as_bytes()));
        assert!(!crate::graph::GraphAuditLog.sniff(text.as_bytes()));
        let context = ActivitiesJson.context(text.as_bytes());
        assert_eq!(mailbox_from_context(&context).as_deref(), Some("victim@contoso.com"));
        let units: Vec<_> =
            ActivitiesJson.split(Box::new(std::io::Cursor::new(text.into_bytes()))).map(Result::unwrap).collect();
        assert_eq!(units.len(), 3);
        assert_eq!(units[0].line, 4);
        let e = ActivitiesJson.normalize(&context, &units[0].bytes).unwrap();
        assert_eq!(e.record_key, "AAMkAGI2TG93AAA=");
        assert_eq!(e.action, "logon");
        assert_eq!(e.mailbox.as_deref(), Some("victim@contoso.com"));
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.50"));
        assert_eq!(e.source, "activities-api-json");
        // Without a page context the entity's @odata.id names the mailbox.
        assert_eq!(
            ActivitiesJson.normalize(&[], &units[0].bytes).unwrap().mailbox.as_deref(),
            Some("victim@contoso.com")
        );
    }

    #[test]
    fn sniffs_bare_arrays_and_empty_pages() {
        assert!(ActivitiesJson.sniff(format!("[{ACTIVITY}]").as_bytes()));
        assert!(ActivitiesJson.sniff(format!("{ACTIVITY}\n").as_bytes()));
        assert!(ActivitiesJson
            .sniff(page("https://outlook.office.com/api/v2.0/$metadata#Users('a%40b.c')/Activities", 0).as_bytes()));
        assert!(!ActivitiesJson.sniff(br#"{"value":[{"id":"1","createdDateTime":"x","auditData":{}}]}"#));
    }
}
