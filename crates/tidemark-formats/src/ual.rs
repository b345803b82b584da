//! Normalization of Unified Audit Log records (`AuditData`, PascalCase keys; see
//! `shared/docs/m365-formats.md` §2.5–2.8).
//!
//! Tolerant by design: a field of an unexpected type is treated as absent, never as an error. A record
//! is only refused when it has no `Operation` or no usable time, because an event without them cannot
//! be placed on a timeline.

use std::borrow::Cow;

use serde::de::{IgnoredAny, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::event::{client_address, client_family, Action, ClientAddress, NormalizedEvent};
use crate::time::parse_utc_ms;

/// A scalar field read leniently: strings as they are, numbers and booleans as their text, anything
/// else (objects, arrays, null) as absent.
#[derive(Debug, Default, Clone, PartialEq)]
struct Text<'a>(Option<Cow<'a, str>>);

impl<'a> Text<'a> {
    /// The trimmed value, if not empty.
    fn get(&self) -> Option<&str> {
        self.0.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }
    fn owned(&self) -> Option<String> {
        self.get().map(str::to_owned)
    }
    fn from_value(v: Option<&'a Value>) -> Self {
        Text(match v {
            Some(Value::String(s)) => Some(Cow::Borrowed(s.as_str())),
            Some(Value::Number(n)) => Some(Cow::Owned(n.to_string())),
            Some(Value::Bool(b)) => Some(Cow::Owned(b.to_string())),
            _ => None,
        })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v))))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(
                    serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()),
                ))))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// `{"Name": …, "Value": …}` entries (Parameters, OperationProperties, ExtendedProperties). A value
/// that is not a string keeps its JSON text.
#[derive(Debug, Default, Deserialize)]
struct NameValue<'a> {
    #[serde(rename = "Name", borrow, default)]
    name: Text<'a>,
    #[serde(rename = "Value", borrow, default)]
    value: Option<&'a serde_json::value::RawValue>,
}

#[derive(Debug, Default, Deserialize)]
struct PathRef<'a> {
    #[serde(rename = "Path", borrow, default)]
    path: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
struct ItemRef<'a> {
    #[serde(rename = "Subject", borrow, default)]
    subject: Text<'a>,
    #[serde(rename = "InternetMessageId", borrow, default)]
    internet_message_id: Text<'a>,
    #[serde(rename = "ParentFolder", borrow, default)]
    parent_folder: Option<PathRef<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct FolderItems<'a> {
    #[serde(rename = "Path", borrow, default)]
    path: Text<'a>,
    #[serde(rename = "FolderItems", borrow, default)]
    items: Vec<ItemRef<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct AppAccess<'a> {
    #[serde(rename = "ClientAppId", borrow, default)]
    client_app_id: Text<'a>,
    #[serde(rename = "AADSessionId", borrow, default)]
    aad_session_id: Text<'a>,
}

/// The fields of a UAL record that normalization reads, borrowed from the JSON text where possible.
/// Everything else in the record is skipped by the parser and kept in the raw record.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[allow(non_snake_case)]
struct Record<'a> {
    #[serde(borrow)]
    Id: Text<'a>,
    #[serde(borrow)]
    CreationTime: Text<'a>,
    #[serde(borrow)]
    Operation: Text<'a>,
    #[serde(borrow)]
    RecordType: Text<'a>,
    #[serde(borrow)]
    Workload: Text<'a>,
    #[serde(borrow)]
    UserId: Text<'a>,
    #[serde(borrow)]
    MailboxOwnerUPN: Text<'a>,
    #[serde(borrow)]
    ClientIP: Text<'a>,
    #[serde(borrow)]
    ClientIPAddress: Text<'a>,
    #[serde(borrow)]
    ActorIpAddress: Text<'a>,
    #[serde(borrow)]
    ClientInfoString: Text<'a>,
    #[serde(borrow)]
    ClientUserAgent: Text<'a>,
    #[serde(borrow)]
    UserAgent: Text<'a>,
    #[serde(borrow)]
    AppId: Text<'a>,
    #[serde(borrow)]
    ClientAppId: Text<'a>,
    #[serde(borrow)]
    ApplicationId: Text<'a>,
    #[serde(borrow)]
    AppAccessContext: Option<AppAccess<'a>>,
    #[serde(borrow)]
    SessionId: Text<'a>,
    #[serde(borrow)]
    IntraSystemId: Text<'a>,
    #[serde(borrow)]
    ResultStatus: Text<'a>,
    #[serde(borrow)]
    ObjectId: Text<'a>,
    #[serde(borrow)]
    QueryText: Text<'a>,
    #[serde(borrow)]
    OperationCount: Text<'a>,
    #[serde(borrow)]
    OperationProperties: Option<Vec<NameValue<'a>>>,
    #[serde(borrow)]
    Parameters: Option<Vec<NameValue<'a>>>,
    #[serde(borrow)]
    ExtendedProperties: Option<Vec<NameValue<'a>>>,
    #[serde(borrow)]
    DeviceProperties: Option<Vec<NameValue<'a>>>,
    #[serde(borrow)]
    Item: Option<ItemRef<'a>>,
    #[serde(borrow)]
    Folder: Option<PathRef<'a>>,
    #[serde(borrow)]
    AffectedItems: Option<Vec<ItemRef<'a>>>,
    #[serde(borrow)]
    Folders: Option<Vec<FolderItems<'a>>>,
    #[serde(borrow)]
    DestFolder: Option<PathRef<'a>>,
    #[serde(borrow)]
    LogonType: Text<'a>,
    #[serde(borrow)]
    UserType: Text<'a>,
    #[serde(borrow)]
    LogonError: Text<'a>,
    #[serde(borrow)]
    ErrorNumber: Text<'a>,
    #[serde(borrow)]
    ExternalAccess: Text<'a>,
    #[serde(borrow)]
    SendAsUserSmtp: Text<'a>,
    #[serde(borrow)]
    SendOnBehalfOfUserSmtp: Text<'a>,
}

/// The same view, built from a parsed JSON value, for records whose shape the typed parser refuses
/// (a field of an unexpected type, a duplicated key): tolerance must not depend on the fast path.
fn record_from_value(o: &Map<String, Value>) -> Record<'_> {
    let t = |k: &str| Text::from_value(o.get(k));
    fn path(v: Option<&Value>) -> Option<PathRef<'_>> {
        v.and_then(Value::as_object).map(|p| PathRef { path: Text::from_value(p.get("Path")) })
    }
    fn item(v: &Value) -> Option<ItemRef<'_>> {
        v.as_object().map(|i| ItemRef {
            subject: Text::from_value(i.get("Subject")),
            internet_message_id: Text::from_value(i.get("InternetMessageId")),
            parent_folder: path(i.get("ParentFolder")),
        })
    }
    let nv = |k: &str| {
        o.get(k).and_then(Value::as_array).map(|items| {
            items
                .iter()
                .filter_map(Value::as_object)
                .map(|i| NameValue { name: Text::from_value(i.get("Name")), value: None })
                .collect::<Vec<_>>()
        })
    };
    Record {
        Id: t("Id"),
        CreationTime: t("CreationTime"),
        Operation: t("Operation"),
        RecordType: t("RecordType"),
        Workload: t("Workload"),
        UserId: t("UserId"),
        MailboxOwnerUPN: t("MailboxOwnerUPN"),
        ClientIP: t("ClientIP"),
        ClientIPAddress: t("ClientIPAddress"),
        ActorIpAddress: t("ActorIpAddress"),
        ClientInfoString: t("ClientInfoString"),
        ClientUserAgent: t("ClientUserAgent"),
        UserAgent: t("UserAgent"),
        AppId: t("AppId"),
        ClientAppId: t("ClientAppId"),
        ApplicationId: t("ApplicationId"),
        AppAccessContext: o.get("AppAccessContext").and_then(Value::as_object).map(|a| AppAccess {
            client_app_id: Text::from_value(a.get("ClientAppId")),
            aad_session_id: Text::from_value(a.get("AADSessionId")),
        }),
        SessionId: t("SessionId"),
        IntraSystemId: t("IntraSystemId"),
        ResultStatus: t("ResultStatus"),
        ObjectId: t("ObjectId"),
        QueryText: t("QueryText"),
        OperationCount: t("OperationCount"),
        OperationProperties: nv("OperationProperties"),
        Parameters: nv("Parameters"),
        ExtendedProperties: nv("ExtendedProperties"),
        DeviceProperties: nv("DeviceProperties"),
        Item: o.get("Item").and_then(item),
        Folder: path(o.get("Folder")),
        AffectedItems: o.get("AffectedItems").and_then(Value::as_array).map(|a| a.iter().filter_map(item).collect()),
        Folders: o.get("Folders").and_then(Value::as_array).map(|fs| {
            fs.iter()
                .filter_map(Value::as_object)
                .map(|f| FolderItems {
                    path: Text::from_value(f.get("Path")),
                    items: f
                        .get("FolderItems")
                        .and_then(Value::as_array)
                        .map_or_else(Vec::new, |a| a.iter().filter_map(item).collect()),
                })
                .collect()
        }),
        DestFolder: path(o.get("DestFolder")),
        LogonType: t("LogonType"),
        UserType: t("UserType"),
        LogonError: t("LogonError"),
        ErrorNumber: t("ErrorNumber"),
        ExternalAccess: t("ExternalAccess"),
        SendAsUserSmtp: t("SendAsUserSmtp"),
        SendOnBehalfOfUserSmtp: t("SendOnBehalfOfUserSmtp"),
    }
}

/// Name/value lists as owned pairs. `values` supplies the values for lists built from a JSON value
/// (whose entries carry no raw text).
fn name_values(list: Option<&[NameValue<'_>]>, values: Option<&Value>) -> Vec<(String, String)> {
    let Some(list) = list else { return Vec::new() };
    let from_value: Vec<Option<&Value>> = match values.and_then(Value::as_array) {
        Some(items) => items.iter().filter_map(Value::as_object).map(|i| i.get("Value")).collect(),
        None => Vec::new(),
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, nv)| {
            let name = nv.name.owned()?;
            let value = match (nv.value, from_value.get(i).copied().flatten()) {
                (Some(raw), _) => {
                    let t = raw.get();
                    if t.starts_with('"') {
                        serde_json::from_str::<String>(t).unwrap_or_default()
                    } else if t == "null" {
                        String::new()
                    } else {
                        serde_json::from_str::<Value>(t).map(|v| v.to_string()).unwrap_or_else(|_| t.to_owned())
                    }
                }
                (None, Some(Value::String(s))) => s.clone(),
                (None, Some(Value::Null) | None) => String::new(),
                (None, Some(other)) => other.to_string(),
            };
            Some((name, value))
        })
        .collect()
}

fn nv_get<'a>(list: &'a [(String, String)], name: &str) -> Option<&'a str> {
    list.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn push_distinct(list: &mut Vec<String>, s: Option<&str>) {
    if let Some(s) = s {
        if !list.iter().any(|x| x == s) {
            list.push(s.to_owned());
        }
    }
}

/// Maps an operation to Tidemark's action category. This table is the one place that decides.
pub fn action_for(operation: &str, access_type: Option<&str>, parameters: &[(String, String)]) -> Action {
    let op = operation.trim_end_matches('.');
    match op {
        "UserLoggedIn"
        | "MailboxLogin"
        | "PasswordLogonInitialAuthUsingPassword"
        | "UserLoggedInWithPassword"
        | "SignInEvent" => Action::Logon,
        "UserLoginFailed" => Action::LogonFailed,
        "MailItemsAccessed" => match access_type {
            Some(t) if t.eq_ignore_ascii_case("sync") => Action::Sync,
            _ => Action::Read,
        },
        "MessageBind" => Action::Read,
        "SearchQueryInitiatedExchange"
        | "SearchQueryInitiatedSharePoint"
        | "SearchQueryInitiated"
        | "SearchQueryPerformed" => Action::Search,
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
        | "Remove-RecipientPermission"
        | "SiteCollectionAdminAdded"
        | "SiteCollectionAdminRemoved"
        | "AddedToGroup" => Action::Permission,
        "Add member to role" | "Remove member from role" => Action::Role,
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
        // Entra ID directory changes are written as sentences ("Add user.", "Reset user password."): the
        // same activities as the directory audit log, categorised the same way.
        _ if operation.ends_with('.') => crate::entra::audit::directory_action(op, &[]),
        _ => Action::Other,
    }
}

/// Whether a record reports a failure (`ResultStatus` "Failed", "failed", "Failure").
fn failed(result: Option<&str>) -> bool {
    result.is_some_and(|r| r.eq_ignore_ascii_case("failed") || r.eq_ignore_ascii_case("failure"))
}

/// Message ids as some exports write them, HTML-escaped (`&lt;id@host&gt;`), decoded so the same id
/// matches across sources.
fn unescape_message_id(id: &str) -> Cow<'_, str> {
    if id.contains('&') {
        Cow::Owned(id.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&"))
    } else {
        Cow::Borrowed(id)
    }
}

/// Normalizes one UAL record given as JSON text (an `AuditData` object). `source` is the format or API
/// it came from.
///
/// The fast path reads only the fields it needs, borrowed from the text; a record it refuses (an
/// unexpected shape) is read through a full JSON value instead, with the same result for every field.
pub fn normalize_json(json: &[u8], source: &str) -> Result<NormalizedEvent, String> {
    match serde_json::from_slice::<Record<'_>>(json) {
        Ok(rec) => from_record(&rec, None, source),
        Err(_) => {
            let value: Value = serde_json::from_slice(json).map_err(|e| format!("not valid JSON ({e})"))?;
            normalize(&value, source)
        }
    }
}

/// Normalizes one UAL record. `source` is the format or API it came from.
pub fn normalize(value: &Value, source: &str) -> Result<NormalizedEvent, String> {
    let Some(o) = value.as_object() else {
        return Err("not a Unified Audit Log record: expected a JSON object".to_owned());
    };
    from_record(&record_from_value(o), Some(o), source)
}

/// Whether `s` is a GUID (8-4-4-4-12 hex digits).
fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn from_record(r: &Record<'_>, value: Option<&Map<String, Value>>, source: &str) -> Result<NormalizedEvent, String> {
    let operation = r.Operation.owned().ok_or("not a Unified Audit Log record: it has no Operation")?;
    let time_raw = r.CreationTime.get().ok_or("the record has no CreationTime")?;
    let time_ms =
        parse_utc_ms(time_raw).ok_or_else(|| format!("CreationTime \"{time_raw}\" is not a date and time"))?;
    let audit_id = r.Id.owned().ok_or("the record has no Id, so it cannot be told apart from others")?;
    // An Entra sign-in as the audit log reports it (AzureActiveDirectoryStsLogon, record type 15) names
    // the sign-in's request id in IntraSystemId, which is the `id` of the same sign-in in the Entra
    // sign-in log: keyed by it, the two records of one sign-in are one event with both raw records.
    let sign_in_id = match (r.RecordType.get(), r.IntraSystemId.get(), operation.as_str()) {
        (Some("15" | "AzureActiveDirectoryStsLogon"), Some(id), "UserLoggedIn" | "UserLoginFailed") if is_guid(id) => {
            Some(format!("signin:{}", id.to_ascii_lowercase()))
        }
        _ => None,
    };

    let raw_list = |k: &str| value.and_then(|o| o.get(k));
    let mut details = Map::new();
    let record_key = match sign_in_id {
        Some(key) => {
            // Keyed as a sign-in: the audit record's own Id stays findable.
            details.insert("audit_id".into(), Value::String(audit_id));
            key
        }
        None => audit_id,
    };
    let op_props = name_values(r.OperationProperties.as_deref(), raw_list("OperationProperties"));
    let params = name_values(r.Parameters.as_deref(), raw_list("Parameters"));
    let ext_props = name_values(r.ExtendedProperties.as_deref(), raw_list("ExtendedProperties"));
    let access_type = nv_get(&op_props, "MailAccessType");
    let mut action = action_for(&operation, access_type, &params);
    if action == Action::Logon && failed(r.ResultStatus.get()) {
        action = Action::LogonFailed;
    }

    // Client address: ClientIP (may carry a port), else ClientIPAddress, else ActorIpAddress. A host
    // name is never a client IP: it is kept as `client_host`, and the next field that holds an address
    // is the client's. Exchange writes its own front-end server into ClientIP of some mailbox records;
    // when ClientIP is one of Microsoft's addresses and ClientIPAddress names another address, that one
    // is the client and Microsoft's is kept as `service_ip`.
    let raws = [r.ClientIP.get(), r.ClientIPAddress.get(), r.ActorIpAddress.get()];
    let parsed: Vec<(&str, ClientAddress)> =
        raws.iter().flatten().filter_map(|raw| client_address(raw).map(|a| (*raw, a))).collect();
    let ips: Vec<(&str, &String, Option<u16>)> = parsed
        .iter()
        .filter_map(|(raw, a)| match a {
            ClientAddress::Ip { ip, port } => Some((*raw, ip, *port)),
            ClientAddress::Host(_) => None,
        })
        .collect();
    let is_microsoft = |ip: &str| {
        tidemark_ipintel::IpIntel::bundled()
            .lookup_str(ip)
            .is_some_and(|i| i.class == tidemark_ipintel::IpClass::Microsoft)
    };
    // Looked up only when another address is there to choose instead (most records give one).
    let other_address = |first: &(&str, &String, Option<u16>)| ips.iter().any(|c| c.1 != first.1);
    let chosen = match ips.first() {
        Some(first) if other_address(first) && is_microsoft(first.1) => {
            match ips.iter().find(|c| c.1 != first.1 && !is_microsoft(c.1)) {
                Some(client) => {
                    details.insert("service_ip".into(), Value::String(first.1.clone()));
                    Some(*client)
                }
                None => Some(*first),
            }
        }
        other => other.copied(),
    };
    let client_host = parsed.iter().find_map(|(_, a)| match a {
        ClientAddress::Host(h) => Some(h.clone()),
        ClientAddress::Ip { .. } => None,
    });
    let (client_ip, client_port) = match chosen {
        Some((raw, ip, port)) => {
            if raw != ip.as_str() {
                details.insert("client_ip_raw".into(), Value::String(raw.to_owned()));
            }
            (Some(ip.clone()), port)
        }
        None => {
            if let (Some(raw), Some(host)) = (parsed.first().map(|p| p.0), client_host.as_deref()) {
                if raw != host {
                    details.insert("client_ip_raw".into(), Value::String(raw.to_owned()));
                }
            }
            (None, None)
        }
    };
    if let Some(host) = client_host {
        details.insert("client_host".into(), Value::String(host));
    }

    let client_info = r.ClientInfoString.get();
    let ua_ext = nv_get(&ext_props, "UserAgent").or_else(|| r.ClientUserAgent.get()).or_else(|| r.UserAgent.get());
    let user_agent = ua_ext.or(client_info).map(str::to_owned);
    let aac = r.AppAccessContext.as_ref();
    let app_id = r
        .AppId
        .get()
        .or_else(|| r.ClientAppId.get())
        .or_else(|| r.ApplicationId.get())
        .or_else(|| aac.and_then(|a| a.client_app_id.get()))
        .map(str::to_owned);
    let client_app = client_family(client_info, ua_ext, app_id.as_deref()).map(str::to_owned);
    let device = name_values(r.DeviceProperties.as_deref(), raw_list("DeviceProperties"));
    let session_id = r
        .SessionId
        .get()
        .or_else(|| aac.and_then(|a| a.aad_session_id.get()))
        .or_else(|| nv_get(&device, "SessionId"))
        .map(str::to_owned);

    // Items: single item, affected items, aggregated folders.
    let mut folders: Vec<String> = Vec::new();
    let mut message_ids: Vec<String> = Vec::new();
    let mut subject: Option<String> = None;
    let mut items = 0i64;
    let mut note_item = |item: &ItemRef<'_>, folders: &mut Vec<String>, ids: &mut Vec<String>| {
        if subject.is_none() {
            subject = item.subject.owned();
        }
        push_distinct(ids, item.internet_message_id.get().map(unescape_message_id).as_deref());
        if let Some(pf) = &item.parent_folder {
            push_distinct(folders, pf.path.get());
        }
    };
    if let Some(item) = &r.Item {
        note_item(item, &mut folders, &mut message_ids);
        items += 1;
    }
    if let Some(f) = &r.Folder {
        push_distinct(&mut folders, f.path.get());
    }
    for item in r.AffectedItems.iter().flatten() {
        note_item(item, &mut folders, &mut message_ids);
        items += 1;
    }
    for f in r.Folders.iter().flatten() {
        push_distinct(&mut folders, f.path.get());
        for item in &f.items {
            note_item(item, &mut folders, &mut message_ids);
            items += 1;
        }
    }
    if let Some(p) = r.DestFolder.as_ref().and_then(|d| d.path.get()) {
        details.insert("dest_folder".into(), Value::String(p.to_owned()));
        push_distinct(&mut folders, Some(p));
    }
    let query_text = r.QueryText.owned();
    if action == Action::Search && query_text.is_some() {
        subject.clone_from(&query_text);
    }
    let item_count = r.OperationCount.get().and_then(|s| s.parse::<i64>().ok()).or((items > 0).then_some(items));

    // Mailbox: the owner for mailbox records; for cmdlets that change a mailbox (forwarding, rules,
    // permissions), the Identity they acted on. Other cmdlets' Identity is not a mailbox (plans, policies).
    let targets_mailbox = matches!(action, Action::Forwarding | Action::Rule | Action::Permission)
        || operation.trim_end_matches('.') == "Set-Mailbox";
    let mailbox = r
        .MailboxOwnerUPN
        .owned()
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
    if let Some(ci) = client_info.filter(|ci| user_agent.as_deref() != Some(*ci)) {
        details.insert("client_info".into(), Value::String(ci.to_owned()));
    }
    for (key, v) in [
        ("LogonType", &r.LogonType),
        ("UserType", &r.UserType),
        ("LogonError", &r.LogonError),
        ("ErrorNumber", &r.ErrorNumber),
        ("ExternalAccess", &r.ExternalAccess),
        ("SendAsUserSmtp", &r.SendAsUserSmtp),
        ("SendOnBehalfOfUserSmtp", &r.SendOnBehalfOfUserSmtp),
    ] {
        if let Some(v) = v.owned() {
            details.insert(key.to_owned(), Value::String(v));
        }
    }
    if let Some(s) = nv_get(&ext_props, "RequestType") {
        details.insert("request_type".into(), Value::String(s.to_owned()));
    }
    if let Some(s) = nv_get(&ext_props, "LoginError").or_else(|| nv_get(&ext_props, "LogonError")) {
        details.insert("login_error".into(), Value::String(s.to_owned()));
    }
    if let Some(name) = app_id.as_deref().and_then(crate::abused_apps::any_app_name) {
        details.insert("app_name".into(), Value::String(name.to_owned()));
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
        workload: r.Workload.owned(),
        record_type: r.RecordType.owned(),
        operation,
        action: action.as_str().to_owned(),
        actor: r.UserId.owned(),
        mailbox,
        client_ip,
        client_port,
        client_app,
        user_agent,
        app_id,
        session_id,
        result: r.ResultStatus.owned(),
        subject,
        folders,
        message_ids,
        item_count,
        object: r.ObjectId.owned(),
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

    #[test]
    fn the_fast_path_and_the_value_path_agree_on_every_fixture_record() {
        let mut n = 0;
        for text in [
            include_str!("../../../tests/fixtures/ual-demo.jsonl"),
            include_str!("../../../tests/fixtures/ual-malformed.jsonl"),
            include_str!("../../../tests/fixtures/plaso/microsoft_audit_log.jsonl"),
        ] {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let fast = normalize_json(line.as_bytes(), "t");
                let slow = serde_json::from_str::<Value>(line)
                    .map_err(|e| format!("not valid JSON ({e})"))
                    .and_then(|v| normalize(&v, "t"));
                assert_eq!(fast, slow, "{line}");
                n += 1;
            }
        }
        assert!(n > 1200);
    }

    #[test]
    fn odd_shapes_fall_back_without_losing_fields() {
        // Item is a string, OperationCount a string, a Parameters value is an object: still normalized.
        let line = r#"{"CreationTime":"2025-02-28T23:58:32Z","Id":"k","Operation":"Set-Mailbox","Item":"x",
            "OperationCount":"3","UserId":42,"Parameters":[{"Name":"ForwardingSmtpAddress","Value":"smtp:a@evil.example"},
            {"Name":"Identity","Value":{"a":1}}]}"#;
        let e = normalize_json(line.as_bytes(), "t").unwrap();
        assert_eq!(e.action, "forwarding");
        assert_eq!(e.actor.as_deref(), Some("42"));
        assert_eq!(e.item_count, Some(3));
        assert_eq!(
            e.details.get("parameters").and_then(Value::as_str),
            Some(r#"ForwardingSmtpAddress=smtp:a@evil.example; Identity={"a":1}"#)
        );
    }

    #[test]
    fn failed_logons_escaped_ids_sharepoint_searches_and_user_agents() {
        let e = normalize_json(
            br#"{"CreationTime":"2025-01-01T00:00:00","Id":"a","Operation":"PasswordLogonInitialAuthUsingPassword",
            "ResultStatus":"failed","ExtendedProperties":[{"Name":"LoginError","Value":"PP_E_BAD_PASSWORD"}]}"#,
            "t",
        )
        .unwrap();
        assert_eq!(e.action, "logon-failed");
        assert_eq!(e.details.get("login_error").and_then(Value::as_str), Some("PP_E_BAD_PASSWORD"));
        let e = normalize_json(
            br#"{"CreationTime":"2025-01-01T00:00:00","Id":"b","Operation":"MailItemsAccessed",
            "AppId":"00000002-0000-0ff1-ce00-000000000000","ClientUserAgent":"python-requests/2.31",
            "Folders":[{"Path":"\\Inbox","FolderItems":[{"InternetMessageId":"&lt;x@y.example&gt;"}]}]}"#,
            "t",
        )
        .unwrap();
        assert_eq!(e.message_ids, vec!["<x@y.example>"]);
        assert_eq!(e.user_agent.as_deref(), Some("python-requests/2.31"));
        assert!(e.details.get("app_name").and_then(Value::as_str).is_some_and(|n| n.contains("Exchange")));
        let e = normalize_json(
            br#"{"CreationTime":"2025-01-01T00:00:00","Id":"c","Operation":"SearchQueryInitiatedSharePoint",
            "QueryText":"passwords and secrets","UserAgent":"Mozilla/5.0"}"#,
            "t",
        )
        .unwrap();
        assert_eq!((e.action.as_str(), e.subject.as_deref()), ("search", Some("passwords and secrets")));
        assert_eq!(e.client_app.as_deref(), Some("Browser"));
        assert_eq!(action_for("Add user.", None, &[]), Action::Admin);
        assert_eq!(action_for("Add member to role.", None, &[]), Action::Role);
        assert_eq!(action_for("Reset user password.", None, &[]), Action::Password);
        assert_eq!(
            action_for("Update application – Certificates and secrets management .", None, &[]),
            Action::AppCredential
        );
        assert_eq!(action_for("SignInEvent", None, &[]), Action::Logon);
    }

    #[test]
    fn a_microsoft_front_end_in_client_ip_gives_way_to_the_client_address() {
        let rec = |ip: &str, ip_address: &str| {
            format!(
                r#"{{"CreationTime":"2025-01-01T00:00:00","Id":"m","Operation":"MailItemsAccessed","ClientIP":"{ip}","ClientIPAddress":"{ip_address}"}}"#
            )
        };
        // Exchange Online's own server (Microsoft's IPv6 block) and the person's address.
        let e = normalize_json(rec("2603:10a6:208:e0::14", "5.101.96.10").as_bytes(), "t").unwrap();
        assert_eq!(e.client_ip.as_deref(), Some("5.101.96.10"));
        assert_eq!(e.details.get("service_ip").and_then(Value::as_str), Some("2603:10a6:208:e0::14"));
        let e = normalize_json(rec("[40.92.1.1]:443", "203.0.113.7").as_bytes(), "t").unwrap();
        assert_eq!((e.client_ip.as_deref(), e.client_port), (Some("203.0.113.7"), None));
        // An ordinary ClientIP stays the client, whatever ClientIPAddress says.
        let e = normalize_json(rec("5.101.96.10:5249", "8.8.8.8").as_bytes(), "t").unwrap();
        assert_eq!((e.client_ip.as_deref(), e.client_port), (Some("5.101.96.10"), Some(5249)));
        assert!(!e.details.contains_key("service_ip"));
        // Microsoft on both sides (a service acting): the first one is kept.
        let e = normalize_json(rec("40.92.1.1", "52.96.10.20").as_bytes(), "t").unwrap();
        assert_eq!(e.client_ip.as_deref(), Some("40.92.1.1"));
        // A host name in ClientIP: the address in ClientIPAddress is the client, the host is kept.
        let e = normalize_json(rec("EXHUB01", "198.51.100.4").as_bytes(), "t").unwrap();
        assert_eq!(e.client_ip.as_deref(), Some("198.51.100.4"));
        assert_eq!(e.details.get("client_host").and_then(Value::as_str), Some("EXHUB01"));
    }

    #[test]
    fn an_entra_sign_in_in_the_audit_log_is_keyed_by_its_sign_in_id() {
        let rec = |rt: &str, op: &str, intra: &str| {
            format!(
                r#"{{"CreationTime":"2025-03-04T09:01:33","Id":"AAAA0000-0000-0000-0000-000000000001","Operation":"{op}","RecordType":{rt},"UserId":"megan@contoso.com","IntraSystemId":"{intra}","InterSystemsId":"c0ffee00-0000-0000-0000-000000000000"}}"#
            )
        };
        let e =
            normalize_json(rec("15", "UserLoggedIn", "4C6E8A0B-2D4F-4B6D-9F1B-7C9E1A3C2100").as_bytes(), "t").unwrap();
        assert_eq!(e.record_key, "signin:4c6e8a0b-2d4f-4b6d-9f1b-7c9e1a3c2100");
        assert_eq!(e.details.get("audit_id").and_then(Value::as_str), Some("AAAA0000-0000-0000-0000-000000000001"));
        let e = normalize_json(rec("15", "UserLoginFailed", "4c6e8a0b-2d4f-4b6d-9f1b-7c9e1a3c2101").as_bytes(), "t")
            .unwrap();
        assert!(e.record_key.starts_with("signin:"));
        // Other operations, other record types, and ids that are not GUIDs keep the audit Id.
        for (rt, op, intra) in [
            ("15", "Add user.", "4c6e8a0b-2d4f-4b6d-9f1b-7c9e1a3c2100"),
            ("8", "UserLoggedIn", "4c6e8a0b-2d4f-4b6d-9f1b-7c9e1a3c2100"),
            ("15", "UserLoggedIn", "not-a-guid"),
        ] {
            let e = normalize_json(rec(rt, op, intra).as_bytes(), "t").unwrap();
            assert_eq!(e.record_key, "AAAA0000-0000-0000-0000-000000000001", "{rt} {op} {intra}");
            assert!(!e.details.contains_key("audit_id"));
        }
    }

    #[test]
    fn a_host_name_is_never_a_client_ip() {
        let rec = |ip: &str| {
            format!(r#"{{"CreationTime":"2025-01-01T00:00:00","Id":"h","Operation":"MailboxLogin","ClientIP":"{ip}"}}"#)
        };
        let e = normalize_json(rec("EXHUB01.contoso.example:44321").as_bytes(), "t").unwrap();
        assert_eq!((e.client_ip, e.client_port), (None, None));
        assert_eq!(e.details.get("client_host").and_then(Value::as_str), Some("EXHUB01.contoso.example"));
        assert_eq!(e.details.get("client_ip_raw").and_then(Value::as_str), Some("EXHUB01.contoso.example:44321"));
        let e = normalize_json(rec("EXHUB01").as_bytes(), "t").unwrap();
        assert_eq!((e.client_ip, e.details.get("client_host").and_then(Value::as_str)), (None, Some("EXHUB01")));
        assert!(!e.details.contains_key("client_ip_raw"));
        let e = normalize_json(rec("[::ffff:203.0.113.9]:5000").as_bytes(), "t").unwrap();
        assert_eq!((e.client_ip.as_deref(), e.client_port), (Some("::ffff:203.0.113.9"), Some(5000)));
        assert!(!e.details.contains_key("client_host"));
    }
}
