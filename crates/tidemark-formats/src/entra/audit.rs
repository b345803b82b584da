//! Entra ID directory audits (`directoryAudit`, Log Analytics `AuditLogs`): the normalizer, the action
//! categories of directory activities, and the JSON format.
//!
//! An attacker who owns a mailbox makes it last in the directory: registers an MFA method, adds a
//! secret to an application, consents to an app that reads mail, takes a role. Those changes are
//! directory audits, named by `activityDisplayName` ("User registered security info", "Update
//! application – Certificates and secrets management", "Consent to application"). [`directory_action`]
//! maps them to Tidemark's categories (`auth-method`, `app-credential`, `consent`, `role`, `password`,
//! `admin`); it also serves the same activities when they arrive as UAL records ("Add member to
//! role.").
//!
//! What changed is in `targetResources[].modifiedProperties`, whose old and new values are JSON text
//! inside strings (`"[\"Finance\"]"`); [`normalize_audit`] decodes them into readable
//! `Name: old → new` lines, and for consents pulls out the permissions granted (`scopes`) and whether an
//! administrator consented for everyone (`is_admin_consent`).

use serde_json::Value;

use super::{array, has, head_keys, object, parse_record, scalar, text, time_of, Details, Rec};
use crate::event::{client_address, client_family, Action, ClientAddress, NormalizedEvent};
use crate::format::{Format, Units};
use crate::json_stream::Probe;

/// First words of directory activities that change something.
const CHANGE_VERBS: &[&str] = &[
    "add",
    "update",
    "delete",
    "remove",
    "set",
    "reset",
    "change",
    "disable",
    "enable",
    "restore",
    "hard",
    "assign",
    "unassign",
    "create",
    "register",
    "unregister",
    "invite",
    "redeem",
    "verify",
    "approve",
    "grant",
    "revoke",
    "block",
    "unblock",
    "confirm",
    "dismiss",
    "activate",
    "deactivate",
    "convert",
    "bulk",
    "import",
    "move",
];

/// Tidemark's action for a directory activity (case-insensitive; a trailing `.` as in UAL records is
/// ignored). `modified` are the names of the modified properties, which decide for "Update user" (MFA
/// methods are `StrongAuthentication…` properties) and "Update application" (`KeyDescription`,
/// `KeyCredentials`, `PasswordCredentials`).
pub fn directory_action(activity: &str, modified: &[&str]) -> Action {
    let a = activity.trim().trim_end_matches('.').trim().to_lowercase();
    let has = |s: &str| a.contains(s);
    let prop = |p: &str| modified.iter().any(|m| m.trim().to_ascii_lowercase().starts_with(p));
    let consent = ["consent to application", "add delegated permission grant", "remove delegated permission grant"];
    if consent.contains(&a.as_str()) || a == "add app role assignment grant to user" || a.starts_with("revoke consent")
    {
        return Action::Consent;
    }
    if has("security info")
        || (has("authentication method") && !has("policy"))
        || has("strong authentication")
        || (a == "update user" && prop("strongauthentication"))
    {
        return Action::AuthMethod;
    }
    if has("password") && !has("policy") {
        return Action::Password;
    }
    let app = a == "update application" || a == "update service principal";
    let key_props = ["keydescription", "keycredentials", "passwordcredentials", "federatedidentitycredential"];
    if has("certificates and secrets")
        || (has("credential") && (has("application") || has("service principal") || has("federated")))
        || (app && key_props.iter().any(|p| prop(p)))
    {
        return Action::AppCredential;
    }
    if has(" to role") || has(" from role") || has("role assignment") || has("role definition") {
        return Action::Role;
    }
    match a.split_whitespace().next() {
        Some(verb) if CHANGE_VERBS.contains(&verb) => Action::Admin,
        _ => Action::Other,
    }
}

/// A modified property's value as people read it: the JSON inside the string decoded, lists joined.
pub fn decode_value(v: &Value) -> String {
    fn flat(v: &Value) -> String {
        match v {
            Value::Null => String::new(),
            Value::String(s) => s.trim().to_owned(),
            Value::Array(a) => a.iter().map(flat).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
        }
    }
    match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(inner) => flat(&inner),
            Err(_) => s.trim().to_owned(),
        },
        other => flat(other),
    }
}

/// One modified property, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modified {
    /// Property name (`StrongAuthenticationMethod`).
    pub name: String,
    /// Old value, decoded.
    pub old: String,
    /// New value, decoded.
    pub new: String,
}

fn targets(m: &Rec) -> Vec<Rec> {
    array(m, "targetresources")
        .into_iter()
        .filter_map(|t| if let Value::Object(o) = t { Some(o) } else { None })
        .collect()
}

fn modified(targets: &[Rec]) -> Vec<Modified> {
    let mut out = Vec::new();
    for t in targets {
        for p in array(t, "modifiedproperties") {
            let Value::Object(p) = p else { continue };
            let Some(name) = text(&p, &["displayname", "name"]) else { continue };
            let get = |k: &str| p.get(k).map(decode_value).unwrap_or_default();
            out.push(Modified { name, old: get("oldvalue"), new: get("newvalue") });
        }
    }
    out
}

/// What a consent granted: the permissions the app holds afterwards, those it held before, and
/// whether an administrator consented for all users.
#[derive(Debug, Default, PartialEq, Eq)]
struct Grant {
    scopes: Vec<String>,
    before: Vec<String>,
    admin: Option<bool>,
}

fn add_scopes(list: &mut Vec<String>, text: &str) {
    for s in text.split([' ', ',']).map(str::trim).filter(|s| !s.is_empty()) {
        if !list.iter().any(|x| x == s) {
            list.push(s.to_owned());
        }
    }
}

/// `Scope:` parts of a `ConsentAction.Permissions` value
/// (`[[Id: …, ConsentType: Principal, Scope: Mail.Read offline_access, CreatedDateTime: …]]; `).
fn permission_scopes(list: &mut Vec<String>, text: &str) {
    for part in text.split("Scope:").skip(1) {
        add_scopes(list, part.split([',', ']']).next().unwrap_or(""));
    }
}

fn consent_grant(props: &[Modified]) -> Grant {
    let mut g = Grant::default();
    for p in props {
        let name = p.name.to_ascii_lowercase();
        if name == "consentaction.permissions" {
            // "old => new": the new value names what the app holds now.
            let (old, new) = p.new.rsplit_once("=>").unwrap_or(("", &p.new));
            permission_scopes(&mut g.scopes, new);
            permission_scopes(&mut g.before, old);
            if new.contains("ConsentType: AllPrincipals") {
                g.admin = g.admin.or(Some(true));
            } else if new.contains("ConsentType: Principal") {
                g.admin = g.admin.or(Some(false));
            }
        } else if name.ends_with("permissiongrant.scope") || name == "approle.value" {
            add_scopes(&mut g.scopes, &p.new);
            add_scopes(&mut g.before, &p.old);
        } else if name == "consentcontext.isadminconsent" {
            // The explicit flag wins over what the permissions' ConsentType suggests.
            match p.new.trim().to_ascii_lowercase().as_str() {
                "true" => g.admin = Some(true),
                "false" => g.admin = Some(false),
                _ => {}
            }
        } else if name.ends_with("permissiongrant.consenttype") {
            g.admin = g.admin.or(Some(p.new.eq_ignore_ascii_case("AllPrincipals")));
        }
    }
    g
}

/// A target as people read it: `User: Megan Bowen <megan@contoso.com> (id)`.
fn target_text(t: &Rec) -> String {
    let (kind, name, upn, id) =
        (text(t, &["type"]), text(t, &["displayname"]), text(t, &["userprincipalname"]), text(t, &["id"]));
    let who = match (name, upn) {
        (Some(n), Some(u)) if !n.eq_ignore_ascii_case(&u) => format!("{n} <{u}>"),
        (Some(n), _) => n,
        (None, Some(u)) => u,
        (None, None) => String::new(),
    };
    let mut s = kind.map(|k| format!("{k}: ")).unwrap_or_default();
    s.push_str(&who);
    if let Some(id) = id {
        s.push_str(&if who.is_empty() { id } else { format!(" ({id})") });
    }
    s
}

/// Normalizes one directory audit (see the module documentation). `fallback_key` is used when the
/// record has no id (the portal CSV has none).
pub fn normalize_audit(m: &Rec, source: &str, fallback_key: Option<String>) -> Result<NormalizedEvent, String> {
    let operation =
        text(m, &["activitydisplayname", "operationname"]).ok_or("not a directory audit: it has no activity name")?;
    let time_ms = time_of(m, &["activitydatetime", "timegenerated"])?;
    let record_key = match text(m, &["id"]) {
        Some(id) => format!("entra-audit:{id}"),
        None => fallback_key.ok_or("the audit record has no id, so it cannot be told apart from others")?,
    };
    let init = object(m, "initiatedby").unwrap_or_default();
    let user = object(&init, "user").unwrap_or_default();
    let app = object(&init, "app").unwrap_or_default();
    let targets = targets(m);
    let props = modified(&targets);
    let names: Vec<&str> = props.iter().map(|p| p.name.as_str()).collect();
    let action = directory_action(&operation, &names);

    let extra: Vec<(String, String)> = array(m, "additionaldetails")
        .iter()
        .filter_map(Value::as_object)
        .filter_map(|kv| Some((text(kv, &["key"])?, kv.get("value").and_then(scalar).unwrap_or_default().into_owned())))
        .collect();
    let extra_get = |k: &str| extra.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());

    let app_name = text(&app, &["displayname", "serviceprincipalname"]);
    let actor = text(&user, &["userprincipalname"])
        .or_else(|| app_name.clone())
        .or_else(|| text(&user, &["displayname", "id"]))
        .or_else(|| text(&app, &["appid", "serviceprincipalid"]))
        .or_else(|| text(m, &["initiatinguserorapp", "identity"]));
    let mut d = Details::default();
    let (client_ip, client_port) = match text(&user, &["ipaddress"]).as_deref().and_then(client_address) {
        Some(ClientAddress::Ip { ip, port }) => (Some(ip), port),
        Some(ClientAddress::Host(h)) => {
            d.str("client_host", Some(h));
            (None, None)
        }
        None => (None, None),
    };
    let user_agent = extra_get("User-Agent").or_else(|| text(m, &["useragent", "user agent"]));
    // The acting application, else the application the activity is about (consents name it in
    // additionalDetails), so searching for an app id finds its consent.
    let app_id = text(&app, &["appid"]).or_else(|| extra_get("AppId"));
    let object = targets.iter().find_map(|t| text(t, &["userprincipalname", "displayname"]));

    d.str("category", text(m, &["category"]));
    d.str("operation_type", text(m, &["operationtype", "aadoperationtype"]));
    d.str("logged_by_service", text(m, &["loggedbyservice"]));
    d.str("correlation_id", text(m, &["correlationid"]));
    d.str("result_reason", text(m, &["resultreason", "resultdescription"]));
    d.str("targets", Some(targets.iter().map(target_text).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("; ")));
    let shown = |v: &str| {
        let v = v.trim_end_matches([';', ' ']);
        if v.is_empty() {
            "(empty)".to_owned()
        } else {
            v.to_owned()
        }
    };
    let lines: Vec<String> = props
        .iter()
        .filter(|p| !(p.old.is_empty() && p.new.is_empty()))
        .map(|p| format!("{}: {} → {}", p.name, shown(&p.old), shown(&p.new)))
        .collect();
    d.str("modified_properties", Some(lines.join("; ")));
    d.str("additional_details", Some(extra.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")));
    let app_text = match (&app_name, &text(&app, &["appid"])) {
        (Some(n), Some(id)) => Some(format!("{n} ({id})")),
        (n, id) => n.clone().or_else(|| id.clone()),
    };
    d.str("initiated_by_app", app_text);
    d.str("actor_id", text(&user, &["id"]).or_else(|| text(&app, &["serviceprincipalid"])));
    if action == Action::Consent {
        let g = consent_grant(&props);
        d.str("scopes", Some(g.scopes.join(" ")));
        if !g.before.is_empty() {
            let added: Vec<&str> = g.scopes.iter().filter(|s| !g.before.contains(s)).map(String::as_str).collect();
            d.str("scopes_added", Some(added.join(" ")));
        }
        d.bool("is_admin_consent", g.admin);
    }

    Ok(NormalizedEvent {
        record_key,
        time_ms,
        source: source.to_owned(),
        workload: Some("AzureActiveDirectory".to_owned()),
        record_type: Some("directoryAudit".to_owned()),
        operation,
        action: action.as_str().to_owned(),
        actor,
        client_ip,
        client_port,
        client_app: client_family(None, user_agent.as_deref(), app_id.as_deref()).map(str::to_owned),
        user_agent,
        app_id,
        result: text(m, &["result", "resulttype"]),
        object,
        details: d.0,
        ..NormalizedEvent::default()
    })
}

/// Whether the first record is a directory audit (Graph or Log Analytics, any key case).
pub(crate) fn looks_like_audit(keys: &[(String, Option<String>)]) -> bool {
    has(keys, "activitydisplayname") && (has(keys, "activitydatetime") || has(keys, "timegenerated"))
}

/// Directory audits as JSON: Graph `directoryAudit` pages, arrays and JSON Lines, Log Analytics
/// `AuditLogs` rows (see the module documentation of [`super`]).
#[derive(Debug, Clone, Copy)]
pub struct EntraAuditJson;

impl Format for EntraAuditJson {
    fn id(&self) -> &'static str {
        "entra-audit-json"
    }

    fn name(&self) -> &'static str {
        "Entra ID audit log, JSON (Microsoft Graph, Log Analytics)"
    }

    fn describe(&self) -> &'static str {
        "Entra ID directory audits as JSON: Graph directoryAudit pages, arrays or JSON Lines, or Log Analytics \
         AuditLogs rows (activityDisplayName, activityDateTime, initiatedBy, targetResources)"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        Probe::of(head)
            .is_some_and(|p| looks_like_audit(&head_keys(&p)) || super::empty_page_of(&p, "auditlogs/directoryaudits"))
    }

    fn split(&self, input: Box<dyn std::io::BufRead + Send>) -> Units {
        crate::json_stream::units(input)
    }

    fn normalize(&self, _context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        normalize_audit(&parse_record(record, "a directory audit")?, self.id(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entra::boolean;

    #[test]
    fn maps_directory_activities_to_actions() {
        let cases = [
            ("Consent to application", Action::Consent),
            ("Add delegated permission grant", Action::Consent),
            ("Add app role assignment grant to user.", Action::Consent),
            ("User registered security info", Action::AuthMethod),
            ("User registered all required security info", Action::AuthMethod),
            ("User deleted security info", Action::AuthMethod),
            ("Admin registered security info", Action::AuthMethod),
            ("Delete authentication method", Action::AuthMethod),
            ("Update authentication methods policy", Action::Admin),
            ("Reset password (self-service)", Action::Password),
            ("Reset user password", Action::Password),
            ("Change user password", Action::Password),
            ("Change password (self-service)", Action::Password),
            ("Reset password (by admin)", Action::Password),
            ("Update password policy", Action::Admin),
            ("Add member to role", Action::Role),
            ("Add eligible member to role in PIM completed (permanent)", Action::Role),
            ("Remove member from role.", Action::Role),
            ("Add app role assignment to service principal", Action::Role),
            ("Update application – Certificates and secrets management ", Action::AppCredential),
            ("Add service principal credentials", Action::AppCredential),
            ("Add user", Action::Admin),
            ("Update conditional access policy", Action::Admin),
            ("Add service principal", Action::Admin),
            ("GroupLifecyclePolicies_Get", Action::Other),
        ];
        for (activity, want) in cases {
            assert_eq!(directory_action(activity, &[]), want, "{activity}");
        }
        assert_eq!(directory_action("Update user", &["StrongAuthenticationMethod"]), Action::AuthMethod);
        assert_eq!(directory_action("Update user", &["Department"]), Action::Admin);
        assert_eq!(directory_action("Update application", &["KeyDescription"]), Action::AppCredential);
        assert_eq!(directory_action("Update application", &["DisplayName"]), Action::Admin);
    }

    #[test]
    fn decodes_modified_property_values_and_consent_grants() {
        assert_eq!(decode_value(&Value::String("[\"Sales\"]".into())), "Sales");
        assert_eq!(decode_value(&Value::String("\"True\"".into())), "True");
        assert_eq!(decode_value(&Value::String("[]".into())), "");
        assert_eq!(decode_value(&Value::Null), "");
        assert_eq!(decode_value(&Value::String("not json".into())), "not json");
        assert_eq!(decode_value(&Value::String("[{\"MethodType\":6}]".into())), "{\"MethodType\":6}");
        let p = |name: &str, new: &str| Modified { name: name.into(), old: String::new(), new: new.into() };
        let g = consent_grant(&[
            p("ConsentContext.IsAdminConsent", "False"),
            p("ConsentAction.Permissions", "[[Scope: User.Read]] => [[Id: x, ConsentType: Principal, Scope: Mail.Read offline_access, CreatedDateTime: ]]; "),
        ]);
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            g,
            Grant {
                scopes: owned(&["Mail.Read", "offline_access"]),
                before: owned(&["User.Read"]),
                admin: Some(false)
            }
        );
        let mut grant = p("DelegatedPermissionGrant.Scope", " User.Read Mail.ReadWrite Mail.Send");
        grant.old = "User.Read".into();
        let g = consent_grant(&[grant, p("DelegatedPermissionGrant.ConsentType", "AllPrincipals")]);
        let got = (g.scopes.join(" "), g.before.join(" "), g.admin);
        assert_eq!(got, ("User.Read Mail.ReadWrite Mail.Send".to_owned(), "User.Read".to_owned(), Some(true)));
    }

    #[test]
    fn refuses_records_without_activity_or_time_and_uses_a_fallback_key() {
        let rec = |j: &str| match super::super::fold(serde_json::from_str(j).unwrap()) {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let e = normalize_audit(&rec(r#"{"id":"A"}"#), "t", None).unwrap_err();
        assert!(e.contains("activity"), "{e}");
        let e = normalize_audit(
            &rec(r#"{"id":"A","activityDisplayName":"Add user","activityDateTime":"soon"}"#),
            "t",
            None,
        );
        assert!(e.unwrap_err().contains("is not a date and time"));
        let m = rec(r#"{"activityDisplayName":"Add user","activityDateTime":"2025-03-04T10:00:00Z"}"#);
        assert!(normalize_audit(&m, "t", None).unwrap_err().contains("no id"));
        assert_eq!(normalize_audit(&m, "t", Some("k".into())).unwrap().record_key, "k");
        assert!(boolean(&rec(r#"{"a":"True"}"#), "a").unwrap());
    }
}
