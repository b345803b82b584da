//! Entra ID logs as CSV: the admin center's downloads and Log Analytics query exports.
//!
//! The admin center writes its own column names ("Date (UTC)", "Request ID", "Sign-in error code",
//! "Target1ModifiedProperty1OldValue" …; some with trailing spaces, "Autonomous system  number" with two).
//! A row is mapped onto the names Graph uses and normalized by [`super::signin`] or [`super::audit`], so
//! a portal row and the same sign-in from Graph are one event. Column names are compared as
//! [`super::norm_key`] folds them. Log Analytics CSV rows keep their own column names (a ` [UTC]` suffix
//! dropped) and need no mapping; their nested columns are JSON strings, read as the JSON rows are.
//!
//! - [`EntraSigninCsv`] (`entra-signin-csv`): the sign-in downloads. The interactive and
//!   non-interactive tabs have the same columns, so a row says which it was only when it says so; the
//!   service principal and managed identity tabs name a service principal and no user. "Location" is
//!   `City, State, CC`; "Status" is Success, Failure or Interrupted; Compliant/Managed are words.
//! - [`EntraAuditCsv`] (`entra-audit-csv`): the audit download (actor columns, up to three targets with
//!   five modified properties each, six additional details), and Log Analytics `AuditLogs` CSV. The
//!   download has no audit id: a row's key is `entra-audit:csv-sha256:<hex of the row's bytes>`, so the
//!   same row downloaded twice is one event, but it does not merge with the same audit from Graph.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{norm_key, Rec};
use crate::csv as rfc;
use crate::event::NormalizedEvent;
use crate::format::{Format, Units};

/// The header's column names, folded ([`norm_key`]), from the head of a file; `None` when the head does
/// not start with a complete CSV header row.
pub fn header_names(head: &[u8]) -> Option<Vec<String>> {
    let rec = rfc::header_record(head)?;
    let h = rfc::Header::parse(&rec).ok()?;
    Some(h.names().iter().map(|n| norm_key(n)).collect())
}

fn has(names: &[String], n: &str) -> bool {
    names.iter().any(|x| x == n)
}

/// Whether a header is a Log Analytics sign-in table's (see [`super`]).
pub fn is_la_signin_header(names: &[String]) -> bool {
    (has(names, "timegenerated") || has(names, "createddatetime"))
        && has(names, "resulttype")
        && (has(names, "ipaddress") || has(names, "serviceprincipalid"))
        && (has(names, "appid") || has(names, "appdisplayname") || has(names, "serviceprincipalname"))
        && !has(names, "activitydisplayname")
}

fn is_portal_signin_header(names: &[String]) -> bool {
    ["date (utc)", "request id", "status", "sign-in error code"].iter().all(|n| has(names, n))
}

fn is_portal_audit_header(names: &[String]) -> bool {
    ["date (utc)", "activity", "correlationid", "result"].iter().all(|n| has(names, n))
}

fn is_la_audit_header(names: &[String]) -> bool {
    has(names, "activitydisplayname")
        && (has(names, "activitydatetime") || has(names, "timegenerated"))
        && (has(names, "initiatedby") || has(names, "targetresources"))
}

/// A row's cells with their folded column names; empty cells left out.
fn cells(context: &[u8], record: &[u8]) -> Result<Vec<(String, String)>, String> {
    let header = rfc::Header::parse(context)?;
    let cells = rfc::parse_record(record)?;
    if cells.len() > header.names().len() {
        return Err(format!("the row has {} cells but the header names {} columns", cells.len(), header.names().len()));
    }
    Ok(header
        .names()
        .iter()
        .zip(cells)
        .filter(|(_, c)| !c.trim().is_empty())
        .map(|(n, c)| (norm_key(n), c.into_owned()))
        .collect())
}

/// Sets `a.b` in a record, creating the inner object; an earlier non-empty value is kept (the sign-in
/// download names "Incoming token type" twice).
fn set(rec: &mut Rec, path: &str, v: String) {
    let (outer, inner) = match path.split_once('.') {
        Some((o, i)) => (o, Some(i)),
        None => (path, None),
    };
    match inner {
        None => {
            rec.entry(outer.to_owned()).or_insert(Value::String(v));
        }
        Some(inner) => {
            let slot = rec.entry(outer.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(o) = slot {
                o.entry(inner.to_owned()).or_insert(Value::String(v));
            }
        }
    }
}

/// A Log Analytics CSV row as a record (column names folded, nested columns left as JSON strings).
pub fn la_row(context: &[u8], record: &[u8]) -> Result<Rec, String> {
    let mut rec = Rec::new();
    for (name, cell) in cells(context, record)? {
        set(&mut rec, &name.replace('.', "_"), cell);
    }
    Ok(rec)
}

/// Sign-in download columns (folded) and where Graph keeps the same value.
const SIGNIN_COLUMNS: &[(&str, &str)] = &[
    ("date (utc)", "createddatetime"),
    ("request id", "id"),
    ("user agent", "useragent"),
    ("correlation id", "correlationid"),
    ("user id", "userid"),
    ("user", "userdisplayname"),
    ("username", "userprincipalname"),
    ("user type", "usertype"),
    ("cross tenant access type", "crosstenantaccesstype"),
    ("incoming token type", "incomingtokentype"),
    ("authentication protocol", "authenticationprotocol"),
    ("unique token identifier", "uniquetokenidentifier"),
    ("original transfer method", "originaltransfermethod"),
    ("client credential type", "clientcredentialtype"),
    ("application", "appdisplayname"),
    ("application id", "appid"),
    ("resource", "resourcedisplayname"),
    ("resource id", "resourceid"),
    ("resource tenant id", "resourcetenantid"),
    ("home tenant id", "hometenantid"),
    ("ip address", "ipaddress"),
    ("status", "status_word"),
    ("sign-in error code", "status.errorcode"),
    ("failure reason", "status.failurereason"),
    ("client app", "clientappused"),
    ("device id", "devicedetail.deviceid"),
    ("browser", "devicedetail.browser"),
    ("operating system", "devicedetail.operatingsystem"),
    ("compliant", "devicedetail.iscompliant"),
    ("managed", "devicedetail.ismanaged"),
    ("join type", "devicedetail.trusttype"),
    ("multifactor authentication result", "mfa_result"),
    ("multifactor authentication auth method", "mfadetail.authmethod"),
    ("multifactor authentication auth detail", "mfadetail.authdetail"),
    ("authentication requirement", "authenticationrequirement"),
    ("sign-in identifier", "signinidentifier"),
    ("session id", "sessionid"),
    ("ip address (seen by resource)", "ipaddressfromresourceprovider"),
    ("autonomous system number", "autonomoussystemnumber"),
    ("token issuer type", "tokenissuertype"),
    ("conditional access", "conditionalaccessstatus"),
    ("managed identity type", "managedidentitytype"),
    ("service principal id", "serviceprincipalid"),
    ("service principal name", "serviceprincipalname"),
    ("credential key id", "serviceprincipalcredentialkeyid"),
    ("credential thumbprint", "serviceprincipalcredentialthumbprint"),
];

/// "City, State, CC" (parts may be empty) as Graph's `location` object.
fn location(text: &str) -> Value {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let (city, state, country) = match parts.as_slice() {
        [c] => (String::new(), "", *c),
        [city, c] => ((*city).to_owned(), "", *c),
        [rest @ .., s, c] => (rest.join(", "), *s, *c),
        [] => (String::new(), "", ""),
    };
    let mut o = Map::new();
    for (k, v) in [("city", city.as_str()), ("state", state), ("countryorregion", country)] {
        if !v.is_empty() {
            o.insert(k.to_owned(), Value::String(v.to_owned()));
        }
    }
    Value::Object(o)
}

/// A sign-in download row as a Graph-shaped record.
pub fn portal_signin(context: &[u8], record: &[u8]) -> Result<Rec, String> {
    let mut rec = Rec::new();
    for (name, cell) in cells(context, record)? {
        if name == "location" {
            rec.entry("location").or_insert_with(|| location(&cell));
        } else if let Some((_, path)) = SIGNIN_COLUMNS.iter().find(|(n, _)| *n == name) {
            set(&mut rec, path, cell);
        }
    }
    Ok(rec)
}

/// A target's own columns and its modified properties by number, as read from the audit download.
type Target = (Map<String, Value>, BTreeMap<u32, Map<String, Value>>);

/// An audit download row as a Graph-shaped `directoryAudit`.
pub fn portal_audit(context: &[u8], record: &[u8]) -> Result<Rec, String> {
    let mut rec = Rec::new();
    let mut actor: BTreeMap<String, String> = BTreeMap::new();
    let mut targets: BTreeMap<u32, Target> = BTreeMap::new();
    let mut details: BTreeMap<u32, Map<String, Value>> = BTreeMap::new();
    for (name, cell) in cells(context, record)? {
        let plain = match name.as_str() {
            "date (utc)" => Some("activitydatetime"),
            "id" => Some("id"),
            "correlationid" => Some("correlationid"),
            "service" => Some("loggedbyservice"),
            "category" => Some("category"),
            "activity" => Some("activitydisplayname"),
            "result" => Some("result"),
            "resultreason" => Some("resultreason"),
            "user agent" | "useragent" => Some("useragent"),
            _ => None,
        };
        if let Some(key) = plain {
            set(&mut rec, key, cell);
        } else if name.starts_with("actor") || name == "ipaddress" {
            actor.entry(name).or_insert(cell);
        } else if let Some((n, field)) = numbered(&name, "target") {
            let t = targets.entry(n).or_default();
            match numbered(field, "modifiedproperty") {
                Some((m, part)) => {
                    let key = if part == "name" { "displayname" } else { part };
                    t.1.entry(m).or_default().insert(key.to_owned(), Value::String(cell));
                }
                None => {
                    let key = if field == "objectid" { "id" } else { field };
                    t.0.insert(key.to_owned(), Value::String(cell));
                }
            }
        } else if let Some((n, part)) = numbered(&name, "additionaldetail") {
            details.entry(n).or_default().insert(part.to_owned(), Value::String(cell));
        }
    }
    // The actor: a user (ActorType "User" or a user principal name), else an application.
    let get = |k: &str| actor.get(k).map(|v| Value::String(v.clone()));
    let is_user = actor.get("actortype").is_some_and(|t| t.eq_ignore_ascii_case("user"))
        || actor.contains_key("actoruserprincipalname");
    let pick = |pairs: &[(&str, &str)]| -> Map<String, Value> {
        pairs.iter().filter_map(|(to, from)| Some(((*to).to_owned(), get(from)?))).collect()
    };
    let mut init = Map::new();
    let user = if is_user {
        pick(&[
            ("id", "actorobjectid"),
            ("displayname", "actordisplayname"),
            ("userprincipalname", "actoruserprincipalname"),
            ("ipaddress", "ipaddress"),
            ("hometenantid", "actorhometenantid"),
        ])
    } else {
        let app = pick(&[
            ("displayname", "actordisplayname"),
            ("serviceprincipalid", "actorserviceprincipalid"),
            ("serviceprincipalname", "actorserviceprincipalname"),
        ]);
        init.insert("app".into(), Value::Object(app));
        pick(&[("ipaddress", "ipaddress")])
    };
    init.insert("user".into(), Value::Object(user));
    rec.insert("initiatedby".into(), Value::Object(init));
    let targets: Vec<Value> = targets
        .into_values()
        .map(|(mut t, props)| {
            t.insert("modifiedproperties".into(), Value::Array(props.into_values().map(Value::Object).collect()));
            Value::Object(t)
        })
        .collect();
    rec.insert("targetresources".into(), Value::Array(targets));
    rec.insert("additionaldetails".into(), Value::Array(details.into_values().map(Value::Object).collect()));
    Ok(rec)
}

/// `target12type` → `(12, "type")` for the prefix `target`.
fn numbered<'a>(name: &'a str, prefix: &str) -> Option<(u32, &'a str)> {
    let rest = name.strip_prefix(prefix)?;
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let n = rest[..digits].parse().ok()?;
    Some((n, &rest[digits..]))
}

/// The Entra admin center's sign-in CSV downloads (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct EntraSigninCsv;

impl Format for EntraSigninCsv {
    fn id(&self) -> &'static str {
        "entra-signin-csv"
    }

    fn name(&self) -> &'static str {
        "Entra ID sign-in log, CSV download (admin center)"
    }

    fn describe(&self) -> &'static str {
        "the Entra admin center's sign-in log CSV download (Date (UTC), Request ID, User agent, Correlation ID, \
         Username, Application, IP address, Location, Status, Sign-in error code …)"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        header_names(head).is_some_and(|h| is_portal_signin_header(&h))
    }

    fn context(&self, head: &[u8]) -> Vec<u8> {
        rfc::header_record(head).unwrap_or_default()
    }

    fn split(&self, input: Box<dyn BufRead + Send>) -> Units {
        rfc::units(input)
    }

    fn normalize(&self, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        super::signin::normalize_signin(&portal_signin(context, record)?, self.id())
    }
}

/// The Entra admin center's audit CSV download and Log Analytics `AuditLogs` CSV (see the module
/// documentation).
#[derive(Debug, Clone, Copy)]
pub struct EntraAuditCsv;

impl Format for EntraAuditCsv {
    fn id(&self) -> &'static str {
        "entra-audit-csv"
    }

    fn name(&self) -> &'static str {
        "Entra ID audit log, CSV (admin center download, Log Analytics)"
    }

    fn describe(&self) -> &'static str {
        "the Entra admin center's audit log CSV download (Date (UTC), CorrelationId, Service, Category, Activity, \
         Result, Actor…, Target1…) or Log Analytics AuditLogs rows as CSV (ActivityDisplayName, InitiatedBy, \
         TargetResources)"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        header_names(head).is_some_and(|h| is_portal_audit_header(&h) || is_la_audit_header(&h))
    }

    fn context(&self, head: &[u8]) -> Vec<u8> {
        rfc::header_record(head).unwrap_or_default()
    }

    fn split(&self, input: Box<dyn BufRead + Send>) -> Units {
        rfc::units(input)
    }

    fn normalize(&self, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        let names = rfc::Header::parse(context)?.names().iter().map(|n| norm_key(n)).collect::<Vec<_>>();
        if is_la_audit_header(&names) {
            return super::audit::normalize_audit(&la_row(context, record)?, self.id(), None);
        }
        let key = format!(
            "entra-audit:csv-sha256:{}",
            Sha256::digest(record).iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        super::audit::normalize_audit(&portal_audit(context, record)?, self.id(), Some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_portal_locations_numbered_columns_and_headers() {
        let loc = |s: &str| location(s);
        assert_eq!(
            loc("Amsterdam, Noord-Holland, NL"),
            serde_json::json!({"city":"Amsterdam","state":"Noord-Holland","countryorregion":"NL"})
        );
        assert_eq!(loc("Amsterdam, , NL"), serde_json::json!({"city":"Amsterdam","countryorregion":"NL"}));
        assert_eq!(loc("NL"), serde_json::json!({"countryorregion":"NL"}));
        assert_eq!(numbered("target12modifiedproperty3oldvalue", "target"), Some((12, "modifiedproperty3oldvalue")));
        assert_eq!(numbered("targettype", "target"), None);
        let h = header_names(
            b"\xEF\xBB\xBFDate (UTC),Request ID,Application ID ,Status,Sign-in error code,Autonomous system  number\n",
        )
        .unwrap();
        assert_eq!(h[2], "application id");
        assert_eq!(h[5], "autonomous system number");
        assert!(is_portal_signin_header(&h) && !is_portal_audit_header(&h));
        assert!(EntraSigninCsv.sniff(b"Date (UTC),Request ID,Status,Sign-in error code\nx\n"));
        assert!(!EntraSigninCsv.sniff(b"Date (UTC),Request ID,Status\nx\n"));
        assert!(EntraAuditCsv.sniff(b"ActivityDisplayName,ActivityDateTime [UTC],InitiatedBy,TargetResources\nx\n"));
    }

    #[test]
    fn reads_service_principal_downloads_and_log_analytics_audit_rows() {
        let ctx = b"Date (UTC),Request ID,Correlation ID,Service principal ID,Service principal name,Application,Application ID ,IP address,Location,Status,Sign-in error code,Failure reason";
        let row = b"2025-03-04T11:02:00Z,4C6E8A0B-2D4F-4B6D-9F1B-7C9E1A3C2100,c,sp-1,Contoso Mail Sync,Contoso Mail Sync,app-1,198.51.100.77,\"Dublin, Dublin, IE\",Failure,7000215,";
        let e = EntraSigninCsv.normalize(ctx, row).unwrap();
        assert_eq!(
            (e.operation.as_str(), e.actor.as_deref()),
            ("Service principal sign-in", Some("Contoso Mail Sync"))
        );
        assert_eq!(
            (e.record_key.as_str(), e.action.as_str()),
            ("signin:4c6e8a0b-2d4f-4b6d-9f1b-7c9e1a3c2100", "logon-failed")
        );
        assert_eq!(e.details.get("failure_reason").and_then(Value::as_str), Some("wrong client secret"));

        let ctx = b"TimeGenerated [UTC],Id,ActivityDisplayName,ActivityDateTime [UTC],InitiatedBy,TargetResources,Result,Category";
        let row = br#"2025-03-04T09:15:02.118Z,UserManagement_x,User registered security info,2025-03-04T09:15:02.118Z,"{""user"":{""userPrincipalName"":""megan.bowen@contoso.com"",""ipAddress"":""203.0.113.45""}}","[{""type"":""User"",""userPrincipalName"":""megan.bowen@contoso.com"",""modifiedProperties"":[]}]",success,UserManagement"#;
        let e = EntraAuditCsv.normalize(ctx, row).unwrap();
        assert_eq!((e.record_key.as_str(), e.action.as_str()), ("entra-audit:UserManagement_x", "auth-method"));
        assert_eq!(
            (e.actor.as_deref(), e.client_ip.as_deref()),
            (Some("megan.bowen@contoso.com"), Some("203.0.113.45"))
        );
        assert_eq!(e.time_ms, 1_741_079_702_118);
    }

    #[test]
    fn an_application_actor_keeps_its_address_apart() {
        let ctx =
            b"Date (UTC),Activity,CorrelationId,Result,ActorType,ActorDisplayName,ActorServicePrincipalId,IPAddress";
        let rec =
            portal_audit(ctx, b"2025-03-04T12:00:00Z,Add user,c,success,Application,Provisioner,sp-1,203.0.113.9")
                .unwrap();
        let e = super::super::audit::normalize_audit(&rec, "t", Some("k".into())).unwrap();
        assert_eq!(
            (e.actor.as_deref(), e.client_ip.as_deref(), e.action.as_str()),
            (Some("Provisioner"), Some("203.0.113.9"), "admin")
        );
        assert_eq!(e.details.get("actor_id").and_then(Value::as_str), Some("sp-1"));
    }
}
