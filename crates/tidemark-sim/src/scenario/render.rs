//! How one [`SimEvent`] looks on each wire: a Unified Audit Log record (Management blobs, exports,
//! Graph `auditData`), a Graph `auditLogRecord`, and legacy Outlook Activities.
//!
//! Field names, casing and value quirks follow `shared/docs/m365-formats.md` §1.5–1.8 and §2.5–2.8
//! (`CreationTime` without zone, `ClientIP` with a port on admin cmdlets, `OriginatingServer` ending in
//! CR/LF, `"False"` strings in `OperationProperties`), because importers must meet them in the sim first.

use serde_json::{json, Map, Value};

use super::{derived_id, Actor, Client, Kind, Mail, SimEvent, Tenant, DOMAIN, ROGUE_APP_ID};
use crate::wire::{iso_ms, iso_seconds_no_zone, iso_seconds_z};

const EXCHANGE_APP: &str = "00000002-0000-0ff1-ce00-000000000000";
const OUTLOOK_MOBILE_APP: &str = "27922004-5251-4030-b22d-91ecd9a37ea4";
const OUTLOOK_DESKTOP_APP: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";

/// `RecordType` numbers the sim emits and their enum names (Graph and SUAL show names).
pub const AUDIT_RECORD_TYPES: &[(i64, &str)] = &[
    (1, "ExchangeAdmin"),
    (2, "ExchangeItem"),
    (3, "ExchangeItemGroup"),
    (15, "AzureActiveDirectoryStsLogon"),
    (50, "ExchangeItemAggregated"),
    (101, "ExchangeSearch"),
];

/// One legacy Outlook Activity (§1.5).
#[derive(Debug, Clone)]
pub struct Activity {
    /// `Id`.
    pub id: String,
    /// `TimeStamp` (Unix ms).
    pub timestamp_ms: i64,
    /// `ActivityCreationTime` (Unix ms).
    pub creation_ms: i64,
    /// `ActivityIdType`.
    pub id_type: &'static str,
    /// `AppIdType`.
    pub app: &'static str,
    /// `ActivityItemId` (empty for itemless activities).
    pub item_id: String,
    /// `ClientSessionId`.
    pub session: String,
    /// `CustomProperties` in order.
    pub props: Vec<(String, String)>,
    /// Whether the attacker caused it (not on the wire; for the answer key).
    pub attacker: bool,
}

impl Activity {
    /// The entity as the Activities API returns it (all properties).
    pub fn to_json(&self) -> Value {
        json!({
            "Id": self.id,
            "TimeStamp": iso_ms(self.timestamp_ms),
            "ActivityCreationTime": iso_ms(self.creation_ms),
            "ActivityIdType": self.id_type,
            "AppIdType": self.app,
            "ActivityItemId": self.item_id,
            "ClientSessionId": self.session,
            "CustomProperties": self.props.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>(),
        })
    }
}

/// The enum name of a `RecordType` number.
pub fn record_type_name(n: i64) -> &'static str {
    AUDIT_RECORD_TYPES.iter().find(|(k, _)| *k == n).map(|(_, v)| *v).unwrap_or("Unknown")
}

fn client_info(c: Client) -> &'static str {
    match c {
        Client::Owa => "Client=OWA;Action=ViaProxy",
        Client::Outlook => "Client=MSExchangeRPC",
        Client::Mobile | Client::RogueApp => "Client=REST;Client=RESTSystem;;",
        Client::Transport => "Client=Transport",
    }
}

fn app_id(c: Client) -> &'static str {
    match c {
        Client::Owa | Client::Transport => EXCHANGE_APP,
        Client::Outlook => OUTLOOK_DESKTOP_APP,
        Client::Mobile => OUTLOOK_MOBILE_APP,
        Client::RogueApp => ROGUE_APP_ID,
    }
}

fn folder_id(path: &str) -> String {
    format!("LgAAAAB{:016X}AQ", crate::prng::hash_str(path))
}

fn exchange_item(m: &Mail) -> Value {
    json!({
        "Id": m.item_id,
        "InternetMessageId": m.internet_message_id,
        "ParentFolder": {"Id": folder_id(&m.folder), "Path": m.folder},
        "Subject": m.subject,
        "SizeInBytes": m.size,
    })
}

impl Tenant {
    /// The Management-API content type of an event's record.
    pub fn content_type(&self, e: &SimEvent) -> &'static str {
        match e.kind {
            Kind::SignIn => "Audit.AzureActiveDirectory",
            _ => "Audit.Exchange",
        }
    }

    /// The Unified Audit Log record of an event, or `None` for things the UAL does not record
    /// (deliveries, attachment previews).
    pub fn ual_record(&self, e: &SimEvent) -> Option<Value> {
        let mb = &self.mailboxes[e.mailbox as usize];
        let mut r = Map::new();
        let put = |r: &mut Map<String, Value>, k: &str, v: Value| {
            r.insert(k.to_string(), v);
        };
        put(&mut r, "CreationTime", json!(iso_seconds_no_zone(e.time_ms)));
        put(&mut r, "Id", json!(e.id));
        let (op, rt): (&str, i64) = match &e.kind {
            Kind::SignIn => ("UserLoggedIn", 15),
            Kind::Read(_) | Kind::Sync(_) => ("MailItemsAccessed", 50),
            Kind::Send(_) => ("Send", 2),
            Kind::Delete(_, op) => (op, 3),
            Kind::Move(..) => ("Move", 3),
            Kind::Search(_) => ("SearchQueryInitiatedExchange", 101),
            Kind::Calendar(_) => ("Create", 2),
            Kind::NewInboxRule { .. } => ("New-InboxRule", 1),
            Kind::SetForwarding(_) => ("Set-Mailbox", 1),
            Kind::Delivered(_) | Kind::AttachmentOpened(_) => return None,
        };
        put(&mut r, "Operation", json!(op));
        put(&mut r, "OrganizationId", json!(self.tenant_id));
        put(&mut r, "RecordType", json!(rt));
        let aad = rt == 15;
        let admin = rt == 1;
        put(
            &mut r,
            "ResultStatus",
            json!(if aad {
                "Success"
            } else if admin {
                "True"
            } else {
                "Succeeded"
            }),
        );
        put(&mut r, "UserKey", json!(if aad { mb.object_id.clone() } else { mb.puid.clone() }));
        put(&mut r, "UserType", json!(0));
        put(&mut r, "Version", json!(1));
        put(&mut r, "Workload", json!(if aad { "AzureActiveDirectory" } else { "Exchange" }));
        let client_ip = if admin {
            if e.ip.contains(':') {
                format!("[{}]:{}", e.ip, e.port)
            } else {
                format!("{}:{}", e.ip, e.port)
            }
        } else {
            e.ip.clone()
        };
        put(&mut r, "ClientIP", json!(client_ip));
        let object_id = match &e.kind {
            Kind::SignIn => EXCHANGE_APP.to_string(),
            Kind::NewInboxRule { name, .. } => format!("{DOMAIN}/Users/{}\\{name}", mb.display_name),
            Kind::SetForwarding(_) => mb.display_name.clone(),
            _ => mb.upn.clone(),
        };
        put(&mut r, "ObjectId", json!(object_id));
        put(&mut r, "UserId", json!(mb.upn));
        if aad {
            put(&mut r, "AzureActiveDirectoryEventType", json!(1));
            put(
                &mut r,
                "ExtendedProperties",
                json!([
                    {"Name": "ResultStatusDetail", "Value": "Redirect"},
                    {"Name": "UserAgent", "Value": e.user_agent},
                    {"Name": "RequestType", "Value": "OAuth2:Authorize"},
                    {"Name": "KeepMeSignedIn", "Value": "false"}
                ]),
            );
            put(&mut r, "ModifiedProperties", json!([]));
            put(&mut r, "Actor", json!([{"ID": mb.object_id, "Type": 0}, {"ID": mb.upn, "Type": 5}]));
            put(&mut r, "ActorContextId", json!(self.tenant_id));
            put(&mut r, "ActorIpAddress", json!(e.ip));
            // The sign-in log's correlation id and request id of the same sign-in (`signin`).
            put(&mut r, "InterSystemsId", json!(super::signin::correlation_of_event(&e.id)));
            put(&mut r, "IntraSystemId", json!(super::signin::guid_of_event(&e.id)));
            put(&mut r, "SupportTicketId", json!(""));
            put(&mut r, "Target", json!([{"ID": EXCHANGE_APP, "Type": 0}]));
            put(&mut r, "TargetContextId", json!(self.tenant_id));
            put(&mut r, "ApplicationId", json!("4765445b-32c6-49b0-83e6-1d93765276ca"));
            put(
                &mut r,
                "DeviceProperties",
                json!([
                    {"Name": "OS", "Value": if e.actor == Actor::Attacker { "Linux" } else { "Windows10" }},
                    {"Name": "BrowserType", "Value": if e.actor == Actor::Attacker { "Chrome" } else { "Edge" }},
                    {"Name": "SessionId", "Value": e.session}
                ]),
            );
            put(&mut r, "ErrorNumber", json!("0"));
            return Some(Value::Object(r));
        }
        put(&mut r, "AppId", json!(app_id(e.client)));
        put(&mut r, "ClientAppId", json!(if e.client == Client::RogueApp { ROGUE_APP_ID } else { "" }));
        put(&mut r, "ExternalAccess", json!(false));
        put(&mut r, "OrganizationName", json!(format!("{}.onmicrosoft.example", "fabrikamtidewater")));
        put(&mut r, "OriginatingServer", json!("AM0PR01MB6420 (15.20.7316.039)\r\n"));
        put(&mut r, "SessionId", json!(e.session));
        if admin {
            let params = match &e.kind {
                Kind::NewInboxRule { name, words, move_to } => json!([
                    {"Name": "AlwaysDeleteOutlookRulesBlob", "Value": "False"},
                    {"Name": "Force", "Value": "False"},
                    {"Name": "Name", "Value": name},
                    {"Name": "SubjectOrBodyContainsWords", "Value": words},
                    {"Name": "MoveToFolder", "Value": move_to},
                    {"Name": "MarkAsRead", "Value": "True"},
                    {"Name": "StopProcessingRules", "Value": "True"}
                ]),
                Kind::SetForwarding(addr) => json!([
                    {"Name": "Identity", "Value": mb.upn},
                    {"Name": "ForwardingSmtpAddress", "Value": addr},
                    {"Name": "DeliverToMailboxAndForward", "Value": "False"}
                ]),
                _ => json!([]),
            };
            put(&mut r, "Parameters", params);
            return Some(Value::Object(r));
        }
        put(&mut r, "ClientIPAddress", json!(e.ip));
        put(&mut r, "ClientInfoString", json!(client_info(e.client)));
        put(&mut r, "InternalLogonType", json!(0));
        put(&mut r, "LogonType", json!(0));
        put(&mut r, "LogonUserSid", json!(mb.sid));
        put(&mut r, "MailboxGuid", json!(mb.mailbox_guid));
        put(&mut r, "MailboxOwnerSid", json!(mb.sid));
        put(&mut r, "MailboxOwnerUPN", json!(mb.upn));
        match &e.kind {
            Kind::Read(mails) => {
                put(
                    &mut r,
                    "OperationProperties",
                    json!([{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "False"}]),
                );
                put(&mut r, "OperationCount", json!(mails.len()));
                let mut folders: Vec<(String, Vec<Value>)> = Vec::new();
                for m in mails {
                    let item =
                        json!({"Id": m.item_id, "InternetMessageId": m.internet_message_id, "SizeInBytes": m.size});
                    match folders.iter_mut().find(|(p, _)| *p == m.folder) {
                        Some((_, v)) => v.push(item),
                        None => folders.push((m.folder.clone(), vec![item])),
                    }
                }
                let folders: Vec<Value> = folders
                    .into_iter()
                    .map(|(p, items)| json!({"FolderItems": items, "Id": folder_id(&p), "Path": p}))
                    .collect();
                put(&mut r, "Folders", json!(folders));
            }
            Kind::Sync(path) => {
                put(
                    &mut r,
                    "OperationProperties",
                    json!([{"Name": "MailAccessType", "Value": "Sync"}, {"Name": "IsThrottled", "Value": "False"}]),
                );
                put(&mut r, "OperationCount", json!(1));
                put(&mut r, "Item", json!({"ParentFolder": {"Id": folder_id(path), "Path": path}}));
            }
            Kind::Send(m) => {
                put(&mut r, "Item", exchange_item(m));
                put(&mut r, "SaveToSentItems", json!(true));
            }
            Kind::Calendar(subject) => {
                put(
                    &mut r,
                    "Item",
                    json!({"Id": derived_id(&e.id, 0), "Subject": subject,
                           "ParentFolder": {"Id": folder_id("\\Calendar"), "Path": "\\Calendar"}}),
                );
            }
            Kind::Delete(mails, op) => {
                let from = mails.first().map(|m| m.folder.clone()).unwrap_or_default();
                put(&mut r, "CrossMailboxOperation", json!(false));
                put(&mut r, "Folder", json!({"Id": folder_id(&from), "Path": from}));
                put(&mut r, "AffectedItems", json!(mails.iter().map(exchange_item).collect::<Vec<_>>()));
                if *op == "MoveToDeletedItems" {
                    put(&mut r, "DestFolder", json!({"Id": folder_id("\\Deleted Items"), "Path": "\\Deleted Items"}));
                }
            }
            Kind::Move(m, to) => {
                put(&mut r, "CrossMailboxOperation", json!(false));
                put(&mut r, "Folder", json!({"Id": folder_id(&m.folder), "Path": m.folder}));
                put(&mut r, "DestFolder", json!({"Id": folder_id(to), "Path": to}));
                put(&mut r, "AffectedItems", json!([exchange_item(m)]));
            }
            Kind::Search(q) => {
                put(&mut r, "QueryText", json!(q));
                put(&mut r, "QuerySource", json!("Owa"));
                put(&mut r, "ScenarioName", json!("Search"));
            }
            _ => {}
        }
        Some(Value::Object(r))
    }

    /// The Graph `auditLogRecord` for a UAL record: PascalCase enum values and crossed
    /// `userId`/`userPrincipalName`, as live tenants answer (§3.4).
    pub fn graph_record(&self, ual: &Value) -> Value {
        let rt = ual["RecordType"].as_i64().unwrap_or(0);
        let mut audit = Map::new();
        audit.insert("@odata.type".into(), json!("#microsoft.graph.security.defaultAuditData"));
        if let Value::Object(m) = ual {
            for (k, v) in m {
                audit.insert(k.clone(), v.clone());
            }
        }
        let created = ual["CreationTime"].as_str().map(|s| format!("{s}Z")).unwrap_or_default();
        let ip = ual["ClientIP"].as_str().unwrap_or_default();
        json!({
            "@odata.type": "#microsoft.graph.security.auditLogRecord",
            "id": ual["Id"],
            "createdDateTime": created,
            "auditLogRecordType": record_type_name(rt),
            "operation": ual["Operation"],
            "organizationId": ual["OrganizationId"],
            "userType": "Regular",
            "userId": ual["UserKey"],
            "service": ual["Workload"],
            "objectId": ual["ObjectId"],
            "userPrincipalName": ual["UserId"],
            "clientIp": ip,
            "administrativeUnits": [],
            "auditData": Value::Object(audit),
        })
    }

    /// The legacy Activities an event leaves in its mailbox (§1.7–1.8).
    pub fn activities(&self, e: &SimEvent) -> Vec<Activity> {
        let mb = &self.mailboxes[e.mailbox as usize];
        let attacker = e.actor == Actor::Attacker;
        let app = match e.client {
            Client::Owa => "Web",
            Client::Outlook => "Outlook",
            Client::Mobile => "Mobile",
            Client::Transport => "Exchange",
            Client::RogueApp => return Vec::new(),
        };
        let mut k = 0u32;
        let mut out = Vec::new();
        let mut push =
            |offset_ms: i64, id_type: &'static str, app: &'static str, item: &str, props: Vec<(&str, String)>| {
                let id = derived_id(&e.id, k);
                let lag = 150 + (crate::prng::hash_str(&id) % 700) as i64;
                k += 1;
                out.push(Activity {
                    id,
                    timestamp_ms: e.time_ms + offset_ms,
                    creation_ms: e.time_ms + offset_ms + lag,
                    id_type,
                    app,
                    item_id: item.to_string(),
                    session: e.session.clone(),
                    props: props.into_iter().map(|(a, b)| (a.to_string(), b)).collect(),
                    attacker,
                });
            };
        match &e.kind {
            Kind::SignIn => {
                push(
                    0,
                    "ServerLogon",
                    "Exchange",
                    "",
                    vec![
                        ("UserName", mb.upn.clone()),
                        ("Result", "Success".into()),
                        ("ClientIP", e.ip.clone()),
                        ("UserAgent", e.user_agent.clone()),
                    ],
                );
                push(
                    1_840,
                    "Logon",
                    "Web",
                    "",
                    vec![
                        ("Layout", "Mouse".into()),
                        ("Timezone", if attacker { "UTC" } else { "W. Europe Standard Time" }.into()),
                        ("IPAddress", e.ip.clone()),
                        ("Browser", e.user_agent.clone()),
                    ],
                );
            }
            Kind::Delivered(m) => push(
                0,
                "MessageDelivered",
                "Exchange",
                &m.item_id,
                vec![
                    ("From", m.from.clone()),
                    ("SenderSmtpAddress", m.from.clone()),
                    ("Subject", m.subject.clone()),
                    ("InternetMessageId", m.internet_message_id.clone()),
                    ("ReceivedTime", us_time(m.received_ms)),
                    ("SentTime", iso_seconds_z(m.received_ms - 4_000)),
                    ("DeliveredFolderType", "Inbox".into()),
                    ("Recipients", m.to.clone()),
                    ("ItemClass", "IPM.Note".into()),
                ],
            ),
            Kind::Read(mails) => {
                for (i, m) in mails.iter().enumerate() {
                    let at = i as i64 * 41_000;
                    if e.client == Client::Owa {
                        let p = vec![
                            ("IsConversation", "False".to_string()),
                            ("SelectedFolderName", m.folder.trim_start_matches('\\').to_string()),
                        ];
                        push(at, "ReadingPaneDisplayStart", app, &m.item_id, p.clone());
                        push(at + 23_500, "ReadingPaneDisplayEnd", app, &m.item_id, p);
                    } else {
                        push(
                            at,
                            "MarkAsRead",
                            app,
                            &m.item_id,
                            vec![
                                ("ReceivedTime", us_time(m.received_ms)),
                                ("SenderAddress", m.from.clone()),
                                ("InternetMessageId", m.internet_message_id.clone()),
                                ("SourceFolder", m.folder.trim_start_matches('\\').to_string()),
                            ],
                        );
                    }
                }
            }
            Kind::Send(m) => push(
                0,
                "MessageSent",
                app,
                &m.item_id,
                vec![("Subject", m.subject.clone()), ("InternetMessageId", m.internet_message_id.clone())],
            ),
            Kind::Delete(mails, op) => {
                for m in mails {
                    push(
                        0,
                        "Delete",
                        app,
                        &m.item_id,
                        vec![
                            ("DeleteType", (*op).to_string()),
                            ("SelectedFolderName", m.folder.trim_start_matches('\\').to_string()),
                        ],
                    );
                }
            }
            Kind::Move(m, to) => {
                push(0, "Move", app, &m.item_id, vec![("DestinationFolder", to.trim_start_matches('\\').to_string())])
            }
            Kind::Search(q) => {
                let sid = derived_guid(&e.id, 7);
                let mut t = 0i64;
                for n in 1..=q.chars().count() {
                    let prefix: String = q.chars().take(n).collect();
                    push(t, "SearchSuggestionsDisplay", app, "", vec![("SuggestionStimulus", prefix)]);
                    t += 280 + (n as i64 * 97) % 400;
                }
                push(
                    t + 900,
                    "SearchResult",
                    app,
                    "",
                    vec![("Query", q.clone()), ("Sid", sid), ("MaxRes", "25".into()), ("App", "OWA".into())],
                );
            }
            Kind::Calendar(subject) => {
                push(0, "CreateAppointment", app, &derived_id(&e.id, 0), vec![("Subject", subject.clone())])
            }
            Kind::AttachmentOpened(m) => {
                push(0, "OpenedAnAttachment", app, &m.item_id, vec![("AttachmentAction", "Preview".into())])
            }
            Kind::Sync(_) | Kind::NewInboxRule { .. } | Kind::SetForwarding(_) => {}
        }
        out
    }
}

/// `MM/DD/YYYY hh:mm:ss AM` as the Activities `ReceivedTime` property shows it.
fn us_time(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|d| d.format("%m/%d/%Y %I:%M:%S %p").to_string())
        .unwrap_or_default()
}

fn derived_guid(parent: &str, k: u64) -> String {
    let h = crate::prng::hash_str(parent);
    crate::prng::guid_from(crate::prng::mix(h ^ k), crate::prng::mix(h.rotate_left(17) ^ k))
}
