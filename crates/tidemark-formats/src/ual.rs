//! Normalization of Unified Audit Log records (`AuditData`, PascalCase keys; see
//! `shared/docs/m365-formats.md` §2.5–2.8).
//!
//! Tolerant by design: a field of an unexpected type is treated as absent, never as an error. A record
//! is only refused when it has no `Operation` or no usable time, because an event without them cannot
//! be placed on a timeline.

use serde_json::{Map, Value};

use crate::event::{client_family, split_ip, Action, NormalizedEvent};
use crate::time::parse_utc_ms;

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

fn get<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key)
}

/// `[{"Name": …, "Value": …}]` lists (Parameters, OperationProperties, ExtendedProperties).
fn name_values(v: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Array(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| {
            let o = i.as_object()?;
            let name = text(o.get("Name"))?;
            let value = match o.get("Value") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            Some((name, value))
        })
        .collect()
}

fn nv_get<'a>(list: &'a [(String, String)], name: &str) -> Option<&'a str> {
    list.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn push_distinct(list: &mut Vec<String>, s: Option<String>) {
    if let Some(s) = s {
        if !list.contains(&s) {
            list.push(s);
        }
    }
}

/// Maps an operation to Tidemark's action category. This table is the one place that decides.
pub fn action_for(operation: &str, access_type: Option<&str>, parameters: &[(String, String)]) -> Action {
    let op = operation.trim_end_matches('.');
    match op {
        "UserLoggedIn" | "MailboxLogin" | "PasswordLogonInitialAuthUsingPassword" | "UserLoggedInWithPassword" => {
            Action::Logon
        }
        "UserLoginFailed" => Action::LogonFailed,
        "MailItemsAccessed" => match access_type {
            Some(t) if t.eq_ignore_ascii_case("sync") => Action::Sync,
            _ => Action::Read,
        },
        "MessageBind" => Action::Read,
        "SearchQueryInitiatedExchange" | "SearchQueryInitiated" | "SearchQueryPerformed" => Action::Search,
        "Send" | "SendAs" | "SendOnBehalf" => Action::Send,
        "MoveToDeletedItems" | "SoftDelete" | "HardDelete" => Action::Delete,
        "Move" | "Copy" => Action::Move,
        "AttachmentAccess" | "FileAccessed" | "FilePreviewed" => Action::Attachment,
        "New-InboxRule" | "Set-InboxRule" | "Remove-InboxRule" | "Enable-InboxRule" | "Disable-InboxRule"
        | "UpdateInboxRules" | "New-TransportRule" | "Set-TransportRule" => Action::Rule,
        "Set-Mailbox" => {
            let forwards = parameters.iter().any(|(n, _)| {
                n.eq_ignore_ascii_case("ForwardingSmtpAddress")
                    || n.eq_ignore_ascii_case("ForwardingAddress")
                    || n.eq_ignore_ascii_case("DeliverToMailboxAndForward")
            });
            if forwards {
                Action::Forwarding
            } else {
                Action::Admin
            }
        }
        "Add-MailboxPermission"
        | "Remove-MailboxPermission"
        | "Add-MailboxFolderPermission"
        | "Set-MailboxFolderPermission"
        | "Remove-MailboxFolderPermission"
        | "AddFolderPermissions"
        | "UpdateFolderPermissions"
        | "ModifyFolderPermissions"
        | "RemoveFolderPermissions"
        | "Add-RecipientPermission"
        | "Remove-RecipientPermission" => Action::Permission,
        "Consent to application" | "Add delegated permission grant" | "Add app role assignment grant to user" => {
            Action::Consent
        }
        _ if op.contains('-')
            && op.split('-').next().is_some_and(|verb| {
                matches!(verb, "New" | "Set" | "Remove" | "Add" | "Enable" | "Disable" | "Install" | "Update")
            }) =>
        {
            Action::Admin
        }
        _ => Action::Other,
    }
}

/// Normalizes one UAL record given as JSON text (an `AuditData` object). `source` is the format or API
/// it came from.
pub fn normalize_json(json: &[u8], source: &str) -> Result<NormalizedEvent, String> {
    let value: Value = serde_json::from_slice(json).map_err(|e| format!("not valid JSON ({e})"))?;
    normalize(&value, source)
}

/// Normalizes one UAL record. `source` is the format or API it came from.
pub fn normalize(value: &Value, source: &str) -> Result<NormalizedEvent, String> {
    let Some(o) = value.as_object() else {
        return Err("not a Unified Audit Log record: expected a JSON object".to_owned());
    };
    let operation = text(get(o, "Operation")).ok_or("not a Unified Audit Log record: it has no Operation")?;
    let time_raw = text(get(o, "CreationTime")).ok_or("the record has no CreationTime")?;
    let time_ms =
        parse_utc_ms(&time_raw).ok_or_else(|| format!("CreationTime \"{time_raw}\" is not a date and time"))?;

    let mut details = Map::new();
    let op_props = name_values(get(o, "OperationProperties"));
    let params = name_values(get(o, "Parameters"));
    let ext_props = name_values(get(o, "ExtendedProperties"));
    let access_type = nv_get(&op_props, "MailAccessType");
    let action = action_for(&operation, access_type, &params);

    let record_key = match text(get(o, "Id")) {
        Some(id) => id,
        None => return Err("the record has no Id, so it cannot be told apart from others".to_owned()),
    };

    // Client address: ClientIP (may carry a port), else ClientIPAddress, else ActorIpAddress.
    let ip_raw =
        text(get(o, "ClientIP")).or_else(|| text(get(o, "ClientIPAddress"))).or_else(|| text(get(o, "ActorIpAddress")));
    let (client_ip, client_port) = match ip_raw.as_deref().and_then(split_ip) {
        Some((ip, port)) => (Some(ip), port),
        None => (None, None),
    };
    if let Some(raw) = &ip_raw {
        if client_ip.as_deref() != Some(raw.as_str()) {
            details.insert("client_ip_raw".into(), Value::String(raw.clone()));
        }
    }

    let client_info = text(get(o, "ClientInfoString"));
    let ua_ext = nv_get(&ext_props, "UserAgent").map(str::to_owned);
    let user_agent = ua_ext.clone().or_else(|| client_info.clone());
    let aac = get(o, "AppAccessContext").and_then(Value::as_object);
    let app_id = text(get(o, "AppId"))
        .or_else(|| text(get(o, "ClientAppId")))
        .or_else(|| text(get(o, "ApplicationId")))
        .or_else(|| aac.and_then(|a| text(a.get("ClientAppId"))));
    let client_app = client_family(client_info.as_deref(), ua_ext.as_deref(), app_id.as_deref()).map(str::to_owned);
    let device = name_values(get(o, "DeviceProperties"));
    let session_id = text(get(o, "SessionId"))
        .or_else(|| aac.and_then(|a| text(a.get("AADSessionId"))))
        .or_else(|| nv_get(&device, "SessionId").map(str::to_owned));

    // Items: single item, affected items, aggregated folders.
    let mut folders = Vec::new();
    let mut message_ids = Vec::new();
    let mut subject = None;
    let mut items = 0i64;
    let mut note_item = |item: &Map<String, Value>, folders: &mut Vec<String>, ids: &mut Vec<String>| {
        if subject.is_none() {
            subject = text(item.get("Subject"));
        }
        push_distinct(ids, text(item.get("InternetMessageId")));
        if let Some(pf) = item.get("ParentFolder").and_then(Value::as_object) {
            push_distinct(folders, text(pf.get("Path")));
        }
    };
    if let Some(item) = get(o, "Item").and_then(Value::as_object) {
        note_item(item, &mut folders, &mut message_ids);
        items += 1;
    }
    if let Some(f) = get(o, "Folder").and_then(Value::as_object) {
        push_distinct(&mut folders, text(f.get("Path")));
    }
    if let Some(Value::Array(affected)) = get(o, "AffectedItems") {
        for item in affected.iter().filter_map(Value::as_object) {
            note_item(item, &mut folders, &mut message_ids);
            items += 1;
        }
    }
    if let Some(Value::Array(fs)) = get(o, "Folders") {
        for f in fs.iter().filter_map(Value::as_object) {
            push_distinct(&mut folders, text(f.get("Path")));
            if let Some(Value::Array(fitems)) = f.get("FolderItems") {
                for item in fitems.iter().filter_map(Value::as_object) {
                    note_item(item, &mut folders, &mut message_ids);
                    items += 1;
                }
            }
        }
    }
    if let Some(dest) = get(o, "DestFolder").and_then(Value::as_object) {
        if let Some(p) = text(dest.get("Path")) {
            details.insert("dest_folder".into(), Value::String(p.clone()));
            push_distinct(&mut folders, Some(p));
        }
    }
    let query_text = text(get(o, "QueryText"));
    if action == Action::Search && query_text.is_some() {
        subject = query_text.clone();
    }
    let item_count = match get(o, "OperationCount") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .or((items > 0).then_some(items));

    // Mailbox: the owner for mailbox records; for cmdlets that change a mailbox (forwarding, rules,
    // permissions), the Identity they acted on. Other cmdlets' Identity is not a mailbox (plans, policies).
    let targets_mailbox = matches!(action, Action::Forwarding | Action::Rule | Action::Permission)
        || operation.trim_end_matches('.') == "Set-Mailbox";
    let mailbox = text(get(o, "MailboxOwnerUPN"))
        .or_else(|| targets_mailbox.then(|| nv_get(&params, "Identity").map(str::to_owned)).flatten());

    if let Some(t) = access_type {
        details.insert("mail_access_type".into(), Value::String(t.to_owned()));
    }
    if let Some(t) = nv_get(&op_props, "IsThrottled") {
        details.insert("is_throttled".into(), Value::String(t.to_owned()));
    }
    if let Some(q) = query_text {
        details.insert("query_text".into(), Value::String(q));
    }
    if let Some(ci) = client_info.filter(|ci| user_agent.as_deref() != Some(ci.as_str())) {
        details.insert("client_info".into(), Value::String(ci));
    }
    for key in [
        "LogonType",
        "UserType",
        "LogonError",
        "ErrorNumber",
        "ExternalAccess",
        "SendAsUserSmtp",
        "SendOnBehalfOfUserSmtp",
    ] {
        if let Some(v) = text(get(o, key)) {
            details.insert(key.to_owned(), Value::String(v));
        }
    }
    if let Some(s) = nv_get(&ext_props, "RequestType") {
        details.insert("request_type".into(), Value::String(s.to_owned()));
    }
    // Parameters and rule properties flattened to searchable `key=value` text.
    let flat: Vec<String> = params
        .iter()
        .chain(op_props.iter().filter(|(n, _)| n.starts_with("Rule")))
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    if !flat.is_empty() {
        details.insert("parameters".into(), Value::String(flat.join("; ")));
    }

    Ok(NormalizedEvent {
        record_key,
        time_ms,
        source: source.to_owned(),
        workload: text(get(o, "Workload")),
        record_type: text(get(o, "RecordType")),
        operation,
        action: action.as_str().to_owned(),
        actor: text(get(o, "UserId")),
        mailbox,
        client_ip,
        client_port,
        client_app,
        user_agent,
        app_id,
        session_id,
        result: text(get(o, "ResultStatus")),
        subject,
        folders,
        message_ids,
        item_count,
        object: text(get(o, "ObjectId")),
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_a_mail_items_accessed_bind() {
        let v: Value = serde_json::from_str(
            r#"{"CreationTime":"2025-02-28T23:58:32","Id":"6a5cf5f1-b5b1-4868-2474-1e2b89d10afb",
            "Operation":"MailItemsAccessed","RecordType":50,"ResultStatus":"Succeeded","Workload":"Exchange",
            "UserId":"noor@contoso.example","ClientIP":"45.214.9.216:5249","ClientIPAddress":"45.214.9.216",
            "ClientInfoString":"Client=REST;;","AppId":"00000003-0000-0000-c000-000000000000",
            "MailboxOwnerUPN":"noor@contoso.example","SessionId":"s-1","OperationCount":2,
            "OperationProperties":[{"Name":"MailAccessType","Value":"Bind"},{"Name":"IsThrottled","Value":"False"}],
            "Folders":[{"Path":"\\Inbox","FolderItems":[{"InternetMessageId":"<a@x>","Subject":"<img src=x onerror=alert(1)>"},
            {"InternetMessageId":"<b@x>"}]}]}"#,
        )
        .unwrap();
        let e = normalize(&v, "ual-jsonl").unwrap();
        assert_eq!(e.action, "read");
        assert_eq!(e.time_ms, 1_740_787_112_000);
        assert_eq!(e.client_ip.as_deref(), Some("45.214.9.216"));
        assert_eq!(e.client_port, Some(5249));
        assert_eq!(e.client_app.as_deref(), Some("REST/Graph"));
        assert_eq!(e.folders, vec!["\\Inbox"]);
        assert_eq!(e.message_ids, vec!["<a@x>", "<b@x>"]);
        assert_eq!(e.subject.as_deref(), Some("<img src=x onerror=alert(1)>"));
        assert_eq!(e.item_count, Some(2));
        assert_eq!(e.record_type.as_deref(), Some("50"));
    }

    #[test]
    fn classifies_forwarding_and_rules_and_refuses_records_without_operation() {
        let fwd = [("ForwardingSmtpAddress".to_owned(), "smtp:x@evil.example".to_owned())];
        assert_eq!(action_for("Set-Mailbox", None, &fwd), Action::Forwarding);
        assert_eq!(action_for("Set-Mailbox", None, &[]), Action::Admin);
        assert_eq!(action_for("New-InboxRule", None, &[]), Action::Rule);
        assert_eq!(action_for("MailItemsAccessed", Some("Sync"), &[]), Action::Sync);
        assert_eq!(action_for("Consent to application.", None, &[]), Action::Consent);
        assert_eq!(action_for("Set-AdminAuditLogConfig", None, &[]), Action::Admin);
        let v: Value = serde_json::from_str(r#"{"CreationTime":"2025-02-28T23:58:32","Id":"x"}"#).unwrap();
        assert!(normalize(&v, "t").unwrap_err().contains("Operation"));
    }
}
