//! The legacy Outlook Activities API ("Magic Unicorn"): one activity, normalized.
//!
//! Between 2016 and 2018 Exchange Online kept a per-mailbox activity log (which message was shown in
//! the reading pane, which search was typed, which IP logged on) behind an undocumented REST
//! endpoint, `…/api/v2.0/Users('{upn}')/Activities` (`shared/docs/m365-formats.md` §1). Investigators
//! still hold what was pulled then: the CrowdStrike/LMG retriever CSV ([`crate::activities_csv`]) and
//! raw API pages (`{"value":[…]}`, read by the JSON formats). Both carry the same eight properties, so
//! both come here as an [`Activity`] and leave as one [`NormalizedEvent`].
//!
//! Mapping (the one table is [`action_for_activity`]): reading-pane and inspector display → read (the
//! `start`/`end` marker is kept in `details.display` so durations can be paired later); searches and
//! typed suggestions → search, with the query or the typed text as subject; attachments opened or
//! previewed → attachment; `ServerLogon`/`Logon` → logon with `ClientIP`/`IPAddress` (a `Result`
//! containing "fail" → logon-failed); `MessageDelivered` → delivery with subject and sender; sends,
//! replies, forwards, deletes and moves to theirs; anything else (including types never seen before)
//! → other, with `ActivityIdType` always kept verbatim as the operation.
//!
//! Time is `TimeStamp` (UTC, milliseconds); `ActivityCreationTime` (when the server recorded it) is kept
//! in details. The record key is the activity `Id`; the retriever CSV has none, so then the key is the
//! SHA-256 (hex) of a canonical form of the activity ([`canonical_key`]) that is the same whether the
//! activity came from the CSV or from an API page.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::event::{client_family, split_ip, Action, NormalizedEvent};
use crate::time::parse_utc_ms;

/// One activity with the API's properties (names as on the wire in the comments).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// `Id`: the activity record's own id (absent in the retriever CSV).
    pub id: Option<String>,
    /// `TimeStamp`: when the activity happened, UTC (`2018-07-02T12:14:13.019Z`).
    pub time_stamp: String,
    /// `AppIdType`: the client family (`Web`, `Outlook`, `Mobile`, `Exchange` …).
    pub app_id_type: Option<String>,
    /// `ActivityIdType`: what happened (`ReadingPaneDisplayStart`, `ServerLogon` …), verbatim.
    pub activity_id_type: String,
    /// `ActivityItemId`: the EWS id of the mail item, if any.
    pub activity_item_id: Option<String>,
    /// `ActivityCreationTime`: when the server recorded the activity.
    pub activity_creation_time: Option<String>,
    /// `ClientSessionId`: the client's session GUID.
    pub client_session_id: Option<String>,
    /// `CustomProperties`: name/value pairs, in order, values as text.
    pub custom_properties: Vec<(String, String)>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_owned())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Activity {
    /// Reads an activity from an API object (`{"Id":…, "TimeStamp":…, "CustomProperties":[{"Name",
    /// "Value"}…]}`; `CustomProperties` may also be a plain object). OData annotations
    /// (`@odata.id`, `@odata.etag`) are ignored; see [`mailbox_from_url`] for `@odata.id`.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let Some(o) = value.as_object() else {
            return Err("not an Outlook activity: expected a JSON object".to_owned());
        };
        let get = |k: &str| text(o.get(k));
        let custom_properties = match o.get("CustomProperties") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| {
                    let i = i.as_object()?;
                    let name = text(i.get("Name"))?;
                    Some((name, i.get("Value").map(value_text).unwrap_or_default()))
                })
                .collect(),
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), value_text(v))).collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(_) => return Err("CustomProperties is neither a list of Name/Value pairs nor an object".to_owned()),
        };
        Ok(Self {
            id: get("Id"),
            time_stamp: get("TimeStamp").unwrap_or_default(),
            app_id_type: get("AppIdType"),
            activity_id_type: get("ActivityIdType").unwrap_or_default(),
            activity_item_id: get("ActivityItemId"),
            activity_creation_time: get("ActivityCreationTime"),
            client_session_id: get("ClientSessionId"),
            custom_properties,
        })
    }

    /// The first custom property with this name (case-insensitive), if not blank.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.custom_properties
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// The mailbox in an Activities URL or `@odata.id`: `…/Users('victim@contoso.com')/Activities…` →
/// `victim@contoso.com` (OData's doubled `''` undone).
pub fn mailbox_from_url(url: &str) -> Option<String> {
    let at = url.find("Users('")? + "Users('".len();
    let rest = &url[at..];
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return (!out.is_empty()).then_some(out);
        }
        out.push(c);
    }
    None
}

/// Tidemark's action for an `ActivityIdType` (`result` is the `Result` custom property of logons).
/// This table is the one place that decides.
pub fn action_for_activity(activity_id_type: &str, result: Option<&str>) -> Action {
    match activity_id_type {
        "ReadingPaneDisplayStart"
        | "ReadingPaneDisplayEnd"
        | "InspectorDisplayStart"
        | "InspectorDisplayEnd"
        | "MarkAsRead"
        | "MessageSelected"
        | "ModernGroupsConversationSelected" => Action::Read,
        "SearchResult"
        | "SearchSuggestionsDisplay"
        | "SearchSuggestionDisplay"
        | "SearchQueryExecute"
        | "SearchSessionStart"
        | "SearchSessionEnd"
        | "SearchRequestStart"
        | "SearchRequestEnd"
        | "SearchResultsReceived"
        | "SearchRefinersReceived"
        | "SearchRefinersDisplay" => Action::Search,
        "OpenedAnAttachment" | "PreviewOfAttachmentStarted" | "PreviewOfAttachmentEnded" => Action::Attachment,
        "ServerLogon" | "Logon" => match result {
            Some(r) if r.to_ascii_lowercase().contains("fail") => Action::LogonFailed,
            _ => Action::Logon,
        },
        "MessageDelivered" => Action::Delivery,
        "MessageSent" | "RemoteSend" | "SendMeetingRequest" => Action::Send,
        "Reply" | "ReplyAll" | "ModernGroupsQuickReply" => Action::Reply,
        "Forward" => Action::Forward,
        "Delete" | "DeleteFromInbox" | "DeleteFromClutter" | "DeleteFolder" | "DeleteCalendarEvent" => Action::Delete,
        "Move" | "MoveFromInbox" | "MoveToInbox" | "MoveFromClutter" | "MoveToClutter" | "CopyItem" => Action::Move,
        _ => Action::Other,
    }
}

/// The client family for an `AppIdType` (§1.6). `Exchange` is the server itself: no client.
pub fn client_for_app_id_type(app_id_type: &str) -> Option<&'static str> {
    Some(match app_id_type.trim().to_ascii_lowercase().as_str() {
        "web" => "OWA",
        "outlook" | "macoutlook" => "Outlook desktop",
        "mobile" => "Outlook mobile",
        "imap" | "imap4" => "IMAP",
        "pop" | "pop3" => "POP",
        "exchange" | "" => return None,
        _ => "Other",
    })
}

/// The de-duplication key of an activity without `Id`: SHA-256 (hex) of `TimeStamp`, `AppIdType`,
/// `ActivityIdType`, `ActivityItemId`, `ActivityCreationTime`, `ClientSessionId` and each custom
/// property as `name U+001E value`, joined with U+001F (absent values are empty).
pub fn canonical_key(a: &Activity) -> String {
    let mut h = Sha256::new();
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let fields = [
        a.time_stamp.clone(),
        opt(&a.app_id_type),
        a.activity_id_type.clone(),
        opt(&a.activity_item_id),
        opt(&a.activity_creation_time),
        opt(&a.client_session_id),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            h.update("\u{1f}".as_bytes());
        }
        h.update(f.as_bytes());
    }
    for (n, v) in &a.custom_properties {
        h.update("\u{1f}".as_bytes());
        h.update(n.as_bytes());
        h.update("\u{1e}".as_bytes());
        h.update(v.as_bytes());
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn push_distinct(list: &mut Vec<String>, s: Option<&str>) {
    if let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) {
        if !list.iter().any(|x| x == s) {
            list.push(s.to_owned());
        }
    }
}

/// Normalizes an activity read from a JSON object (see [`Activity::from_json`]). The mailbox is
/// `mailbox` if given, else the one named in `@odata.id`, else the `UserName` custom property.
pub fn normalize_activity_json(value: &Value, mailbox: Option<&str>, source: &str) -> Result<NormalizedEvent, String> {
    let a = Activity::from_json(value)?;
    let from_odata = value.get("@odata.id").and_then(Value::as_str).and_then(mailbox_from_url);
    normalize_activity(&a, mailbox.or(from_odata.as_deref()), source)
}

/// Normalizes one activity. `mailbox` is the UPN of the mailbox the activities were pulled from
/// (`/Users('upn')`), when known; otherwise the `UserName` custom property (server logons) is used.
/// `source` is the format or API it came from.
pub fn normalize_activity(a: &Activity, mailbox: Option<&str>, source: &str) -> Result<NormalizedEvent, String> {
    let operation = a.activity_id_type.trim();
    if operation.is_empty() {
        return Err("not an Outlook activity: it has no ActivityIdType".to_owned());
    }
    let stamp = a.time_stamp.trim();
    if stamp.is_empty() {
        return Err("the activity has no TimeStamp".to_owned());
    }
    let time_ms = parse_utc_ms(stamp).ok_or_else(|| format!("TimeStamp \"{stamp}\" is not a date and time"))?;

    let result = a.property("Result");
    let action = action_for_activity(operation, result);
    let mut details = Map::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            details.insert(k.to_owned(), Value::String(v.to_owned()));
        }
    };
    put("activity_creation_time", a.activity_creation_time.as_deref());
    put("app_id_type", a.app_id_type.as_deref());
    if let Some(marker) = ["Start", "Started", "End", "Ended"].iter().find(|m| operation.ends_with(**m)) {
        put("display", Some(if marker.starts_with("Start") { "start" } else { "end" }));
    }

    let user_name = a.property("UserName");
    let mailbox = mailbox.map(str::trim).filter(|m| !m.is_empty()).or(user_name).map(str::to_owned);
    let sender = a.property("SenderSmtpAddress").or_else(|| a.property("SenderAddress")).or_else(|| a.property("From"));
    put("sender", sender);
    let actor = match action {
        Action::Delivery => sender.map(str::to_owned),
        _ => user_name.map(str::to_owned).or_else(|| mailbox.clone()),
    };

    let ip_raw = a.property("ClientIP").or_else(|| a.property("IPAddress"));
    let (client_ip, client_port) = match ip_raw.and_then(split_ip) {
        Some((ip, port)) => (Some(ip), port),
        None => (None, None),
    };
    if let Some(raw) = ip_raw {
        if client_ip.as_deref() != Some(raw) {
            put("client_ip_raw", Some(raw));
        }
    }
    let user_agent = a.property("UserAgent").or_else(|| a.property("Browser")).map(str::to_owned);
    let client_app = a
        .app_id_type
        .as_deref()
        .and_then(client_for_app_id_type)
        .or_else(|| client_family(None, user_agent.as_deref(), None))
        .map(str::to_owned);

    let subject = match operation {
        "SearchResult" | "SearchQueryExecute" => a.property("Query"),
        "SearchSuggestionsDisplay" | "SearchSuggestionDisplay" => a.property("SuggestionStimulus"),
        _ => None,
    }
    .or_else(|| a.property("Subject"))
    .map(str::to_owned);
    put("query", a.property("Query"));
    put("suggestion_stimulus", a.property("SuggestionStimulus"));
    put("attachment_action", a.property("AttachmentAction"));
    put("recipients", a.property("Recipients"));

    let mut folders = Vec::new();
    for key in
        ["SelectedFolderName", "SourceFolder", "SourceDefaultFolderType", "DeliveredFolderType", "DestinationFolder"]
    {
        push_distinct(&mut folders, a.property(key));
    }
    let mut message_ids = Vec::new();
    push_distinct(&mut message_ids, a.property("InternetMessageId"));

    // Every custom property, flattened to searchable `key=value` text.
    if !a.custom_properties.is_empty() {
        let flat: Vec<String> = a.custom_properties.iter().map(|(n, v)| format!("{n}={v}")).collect();
        details.insert("custom_properties".into(), Value::String(flat.join("; ")));
    }

    let record_key = a.id.clone().filter(|id| !id.trim().is_empty()).unwrap_or_else(|| canonical_key(a));

    Ok(NormalizedEvent {
        record_key,
        time_ms,
        source: source.to_owned(),
        workload: Some("Exchange".to_owned()),
        record_type: None,
        operation: operation.to_owned(),
        action: action.as_str().to_owned(),
        actor,
        mailbox,
        client_ip,
        client_port,
        client_app,
        user_agent,
        app_id: None,
        session_id: a.client_session_id.clone().filter(|s| !s.trim().is_empty()),
        result: result.map(str::to_owned),
        subject,
        folders,
        message_ids,
        item_count: None,
        object: a.activity_item_id.clone().filter(|s| !s.trim().is_empty()),
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_activity() -> Value {
        serde_json::json!({
            "@odata.id": "https://outlook.office365.com/api/v1.0/Users('victim@contoso.com')/Activities('AAMkAGI2TG93AAA=')",
            "@odata.etag": "W/\"CQAAAA==\"",
            "Id": "AAMkAGI2TG93AAA=",
            "TimeStamp": "2018-05-14T10:42:44.548Z",
            "ActivityCreationTime": "2018-05-14T10:42:45.102Z",
            "ActivityIdType": "ServerLogon",
            "AppIdType": "Exchange",
            "ActivityItemId": "",
            "ClientSessionId": "0f3c2a41-5d7e-4b8e-9d55-2a1c3e4f5a6b",
            "CustomProperties": [
                { "Name": "UserName", "Value": "victim@contoso.com" },
                { "Name": "Result", "Value": "Success" },
                { "Name": "ClientIP", "Value": "[2001:db8::5]:443" },
                { "Name": "UserAgent", "Value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" }
            ]
        })
    }

    #[test]
    fn normalizes_an_api_server_logon() {
        let e = normalize_activity_json(&page_activity(), None, "activities-api").unwrap();
        assert_eq!(e.record_key, "AAMkAGI2TG93AAA=");
        assert_eq!(e.time_ms, 1_526_294_564_548);
        assert_eq!(e.action, "logon");
        assert_eq!(e.operation, "ServerLogon");
        assert_eq!(e.mailbox.as_deref(), Some("victim@contoso.com"));
        assert_eq!(e.actor.as_deref(), Some("victim@contoso.com"));
        assert_eq!((e.client_ip.as_deref(), e.client_port), (Some("2001:db8::5"), Some(443)));
        assert_eq!(e.details["client_ip_raw"], "[2001:db8::5]:443");
        assert_eq!(e.client_app.as_deref(), Some("Browser"), "server logon: family from the user agent");
        assert_eq!(e.session_id.as_deref(), Some("0f3c2a41-5d7e-4b8e-9d55-2a1c3e4f5a6b"));
        assert_eq!(e.result.as_deref(), Some("Success"));
        assert_eq!(e.object, None);
        assert_eq!(e.details["activity_creation_time"], "2018-05-14T10:42:45.102Z");
        let mut failed = page_activity();
        failed["CustomProperties"][1]["Value"] = "Failure".into();
        assert_eq!(normalize_activity_json(&failed, None, "t").unwrap().action, "logon-failed");
    }

    #[test]
    fn maps_activity_types_and_keeps_unknown_ones_verbatim() {
        let mk = |t: &str, props: &[(&str, &str)]| Activity {
            time_stamp: "2018-07-02T12:14:13.019Z".into(),
            app_id_type: Some("Web".into()),
            activity_id_type: t.into(),
            activity_item_id: Some("AAMkItem=".into()),
            custom_properties: props.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect(),
            ..Activity::default()
        };
        let n = |a: &Activity| normalize_activity(a, Some("victim@contoso.com"), "t").unwrap();
        let start = n(&mk("ReadingPaneDisplayStart", &[("SelectedFolderName", "Inbox")]));
        assert_eq!((start.action.as_str(), start.details["display"].as_str()), ("read", Some("start")));
        assert_eq!(start.folders, vec!["Inbox"]);
        assert_eq!(start.client_app.as_deref(), Some("OWA"));
        assert_eq!(start.object.as_deref(), Some("AAMkItem="));
        assert_eq!(n(&mk("ReadingPaneDisplayEnd", &[])).details["display"], "end");
        let s = n(&mk("SearchResult", &[("Query", "wire transfer")]));
        assert_eq!((s.action.as_str(), s.subject.as_deref()), ("search", Some("wire transfer")));
        let s = n(&mk("SearchSuggestionsDisplay", &[("SuggestionStimulus", "inv")]));
        assert_eq!((s.action.as_str(), s.subject.as_deref()), ("search", Some("inv")));
        assert_eq!(n(&mk("OpenedAnAttachment", &[("AttachmentAction", "Open")])).action, "attachment");
        let d = n(&mk(
            "MessageDelivered",
            &[("Subject", "Invoice"), ("SenderSmtpAddress", "ceo@evil.example"), ("InternetMessageId", "<a@b>")],
        ));
        assert_eq!(d.action, "delivery");
        assert_eq!((d.subject.as_deref(), d.actor.as_deref()), (Some("Invoice"), Some("ceo@evil.example")));
        assert_eq!(d.details["sender"], "ceo@evil.example");
        assert_eq!(d.message_ids, vec!["<a@b>"]);
        let l = n(&mk("Logon", &[("IPAddress", "198.51.100.7"), ("Browser", "Mozilla/5.0")]));
        assert_eq!((l.action.as_str(), l.client_ip.as_deref()), ("logon", Some("198.51.100.7")));
        assert_eq!(l.user_agent.as_deref(), Some("Mozilla/5.0"));
        for (t, want) in [("MessageSent", "send"), ("ReplyAll", "reply"), ("Forward", "forward"), ("Delete", "delete")]
        {
            assert_eq!(n(&mk(t, &[])).action, want, "{t}");
        }
        assert_eq!(n(&mk("Move", &[])).action, "move");
        let u = n(&mk("SomethingNew2019", &[]));
        assert_eq!((u.action.as_str(), u.operation.as_str()), ("other", "SomethingNew2019"));
        assert_eq!(client_for_app_id_type("IMAP4"), Some("IMAP"));
        assert_eq!(client_for_app_id_type("Exchange"), None);
    }

    #[test]
    fn key_is_id_else_a_canonical_hash_equal_for_csv_and_json() {
        let mut v = page_activity();
        v.as_object_mut().unwrap().remove("Id");
        let from_json = Activity::from_json(&v).unwrap();
        let e = normalize_activity(&from_json, None, "t").unwrap();
        assert_eq!(e.record_key.len(), 64);
        assert_eq!(e.record_key, canonical_key(&from_json));
        // The same activity with CustomProperties as an object (as the CSV's dict gives it).
        v["CustomProperties"] = serde_json::json!({"UserName": "victim@contoso.com", "Result": "Success",
            "ClientIP": "[2001:db8::5]:443", "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"});
        assert_eq!(canonical_key(&Activity::from_json(&v).unwrap()), e.record_key);
        v["ActivityItemId"] = "other".into();
        assert_ne!(canonical_key(&Activity::from_json(&v).unwrap()), e.record_key);
    }

    #[test]
    fn refuses_activities_without_type_or_time() {
        let v = serde_json::json!({"TimeStamp": "2018-01-01T00:00:00Z"});
        assert!(normalize_activity_json(&v, None, "t").unwrap_err().contains("ActivityIdType"));
        let v = serde_json::json!({"ActivityIdType": "Logon", "TimeStamp": "yesterday"});
        assert!(normalize_activity_json(&v, None, "t").unwrap_err().contains("not a date"));
        assert!(normalize_activity_json(&serde_json::json!([1]), None, "t").unwrap_err().contains("JSON object"));
        assert_eq!(
            mailbox_from_url("/api/v2.0/Users('o''brien@x.example')/Activities").as_deref(),
            Some("o'brien@x.example")
        );
        assert_eq!(mailbox_from_url("/api/v2.0/Me/Activities"), None);
    }
}
