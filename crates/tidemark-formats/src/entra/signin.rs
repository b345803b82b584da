//! Entra ID sign-ins: one normalizer for every shape, and the two JSON formats.
//!
//! [`normalize_signin`] reads a folded record ([`super::Rec`]) whatever wrote it: Graph `signIn`
//! (v1.0 or beta; beta adds `signInEventTypes`, `sessionId`, `uniqueTokenIdentifier`, `incomingTokenType`,
//! `authenticationRequirement`, `authenticationProtocol`, `servicePrincipalId`, `clientCredentialType` …),
//! a Log Analytics row (`Status`, `LocationDetails`, `DeviceDetail` … possibly JSON strings; `ResultType`
//! the error code; `Location` the country; `ResourceId` the workspace's `/tenants/…` path and
//! `ResourceIdentity` the resource app), or a portal CSV row mapped onto Graph's names by [`super::csv`].
//!
//! The key is `signin:` + the sign-in id in lower case. Graph's `id`, Log Analytics' `Id` and the admin
//! center's "Request ID" are the same value: Microsoft documents `id` as "the identifier representing
//! the sign-in activity" and `originalRequestId` as "the request identifier of the first request in the
//! authentication sequence" (its documented examples have the same request-id shape as `id`), Log
//! Analytics' `Id` carries the same description, and the portal's download has a "Request ID" column
//! and no other id. No Microsoft page says "Request ID = id" in those words; the tests check the three
//! shapes merge.
//!
//! The action is `logon` when the error code is 0 and `logon-failed` otherwise; `result` is "Success",
//! "Failure", or "Interrupted" for the codes the portal shows as interrupts ([`codes::is_interrupt`]).
//! A record with no status at all (never seen from Microsoft) stays `logon` with no result.

use serde_json::Value;

use super::{
    array, boolean, codes, has, head_keys, int, number, object, parse_record, text, time_of, value, Details, Rec,
};
use crate::event::{client_address, client_family, ClientAddress, NormalizedEvent};
use crate::format::{Format, Units};
use crate::json_stream::{Layout, Probe};

/// Sign-in event types: (Graph name, operation, Log Analytics `Category`, Log Analytics `Type`).
const KINDS: &[(&str, &str, &str, &str)] = &[
    ("interactiveUser", "Sign-in", "signinlogs", "signinlogs"),
    (
        "nonInteractiveUser",
        "Non-interactive sign-in",
        "noninteractiveusersigninlogs",
        "aadnoninteractiveusersigninlogs",
    ),
    ("servicePrincipal", "Service principal sign-in", "serviceprincipalsigninlogs", "aadserviceprincipalsigninlogs"),
    ("managedIdentity", "Managed identity sign-in", "managedidentitysigninlogs", "aadmanagedidentitysigninlogs"),
];

fn kind_named(name: &str) -> Option<&'static str> {
    let n = name.trim().to_ascii_lowercase();
    KINDS.iter().find(|k| k.0.eq_ignore_ascii_case(&n) || k.2 == n || k.3 == n).map(|k| k.0)
}

/// The sign-in event type: `signInEventTypes`, else the Log Analytics table (`Category`, `Type`), else
/// what the record shows (a managed identity, `isInteractive`, a service principal without a user).
fn event_type(m: &Rec) -> Option<&'static str> {
    let listed = array(m, "signineventtypes");
    let single = text(m, &["signineventtypes"]);
    let named = listed.iter().filter_map(Value::as_str).chain(single.as_deref());
    if let Some(k) = named.filter_map(kind_named).next() {
        return Some(k);
    }
    if let Some(k) = text(m, &["category"]).or_else(|| text(m, &["type"])).as_deref().and_then(kind_named) {
        return Some(k);
    }
    let msi = object(m, "managedserviceidentity")
        .and_then(|o| text(&o, &["msitype"]))
        .or_else(|| text(m, &["managedidentitytype"]))
        .filter(|t| !t.eq_ignore_ascii_case("none"));
    if msi.is_some() {
        return Some("managedIdentity");
    }
    let user = text(m, &["userprincipalname"]).is_some();
    match boolean(m, "isinteractive") {
        Some(true) => Some("interactiveUser"),
        Some(false) if user => Some("nonInteractiveUser"),
        _ if !user && text(m, &["serviceprincipalid", "serviceprincipalname"]).is_some() => Some("servicePrincipal"),
        _ => None,
    }
}

/// The MFA step of a sign-in: (method, method detail, result).
type MfaStep = (Option<String>, Option<String>, Option<String>);

/// `Step (requirement): succeeded|failed, detail` for each authentication step, and the MFA step's
/// (method, detail, result) if there is one.
fn auth_steps(m: &Rec) -> (Vec<String>, Option<MfaStep>) {
    let mut steps = Vec::new();
    let mut mfa = None;
    for step in array(m, "authenticationdetails") {
        let Value::Object(s) = step else { continue };
        let method = text(&s, &["authenticationmethod"]);
        let requirement = text(&s, &["authenticationsteprequirement"]);
        let detail = text(&s, &["authenticationstepresultdetail"]);
        let ok = boolean(&s, "succeeded");
        let mut line = method.clone().unwrap_or_else(|| "(no method)".to_owned());
        if let Some(r) = &requirement {
            line.push_str(&format!(" ({r})"));
        }
        if let Some(ok) = ok {
            line.push_str(if ok { ": succeeded" } else { ": failed" });
        }
        if let Some(d) = &detail {
            line.push_str(&format!(", {d}"));
        }
        steps.push(line);
        let lower = |o: &Option<String>| o.as_deref().unwrap_or("").to_ascii_lowercase();
        let (req, det) = (lower(&requirement), lower(&detail));
        let is_mfa = req.contains("multifactor") || req.contains("multi-factor") || det.contains("mfa");
        if is_mfa {
            let result = detail.clone().or(ok.map(|ok| if ok { "succeeded" } else { "failed" }.to_owned()));
            mfa = Some((method, text(&s, &["authenticationmethoddetail"]), result));
        }
    }
    (steps, mfa)
}

/// Applied Conditional Access policies as `Name: result`, leaving out those that did not apply.
fn ca_policies(m: &Rec) -> Vec<String> {
    let mut list = array(m, "appliedconditionalaccesspolicies");
    if list.is_empty() {
        list = array(m, "conditionalaccesspolicies");
    }
    list.iter()
        .filter_map(Value::as_object)
        .filter_map(|p| {
            let result = text(p, &["result"]).unwrap_or_default();
            let skip = ["notapplied", "notenabled", "reportonlynotapplied", "unknownfuturevalue"];
            if skip.contains(&result.to_ascii_lowercase().as_str()) {
                return None;
            }
            let name = text(p, &["displayname", "id"])?;
            Some(if result.is_empty() { name } else { format!("{name}: {result}") })
        })
        .collect()
}

/// Normalizes one sign-in (see the module documentation). `source` is the format id.
pub fn normalize_signin(m: &Rec, source: &str) -> Result<NormalizedEvent, String> {
    let id = text(m, &["id"]).ok_or("the sign-in has no id, so it cannot be told apart from others")?;
    let time_ms = time_of(m, &["createddatetime", "timegenerated"])?;
    let kind = event_type(m);
    let operation = KINDS.iter().find(|k| Some(k.0) == kind).map_or("Sign-in", |k| k.1);

    // Outcome: the error code decides; the portal's Status word only when there is no code.
    let status = object(m, "status").unwrap_or_default();
    let code = int(&status, "errorcode").or_else(|| int(m, "resulttype"));
    let word = text(m, &["status_word"])
        .or_else(|| text(m, &["resulttype"]).filter(|t| t.parse::<i64>().is_err()))
        .map(|w| w.to_ascii_lowercase());
    let result = match (code, word.as_deref()) {
        (Some(0), _) => Some("Success"),
        (Some(c), w) if codes::is_interrupt(c) || w == Some("interrupted") => Some("Interrupted"),
        (Some(_), _) => Some("Failure"),
        (None, Some("success")) => Some("Success"),
        (None, Some("failure")) => Some("Failure"),
        (None, Some("interrupted")) => Some("Interrupted"),
        (None, _) => None,
    };
    let action = if matches!(result, Some("Failure" | "Interrupted")) { "logon-failed" } else { "logon" };

    let upn = text(m, &["userprincipalname"]);
    let sp = text(m, &["serviceprincipalname", "serviceprincipalid"]);
    let actor = match kind {
        Some("servicePrincipal" | "managedIdentity") => sp.or(upn),
        _ => upn.or(sp).or_else(|| text(m, &["userdisplayname", "userid"])),
    };
    let mut d = Details::default();
    let (client_ip, client_port) = match text(m, &["ipaddress"]).as_deref().and_then(client_address) {
        Some(ClientAddress::Ip { ip, port }) => (Some(ip), port),
        Some(ClientAddress::Host(h)) => {
            d.str("client_host", Some(h));
            (None, None)
        }
        None => (None, None),
    };
    let user_agent = text(m, &["useragent"]);
    let app_id = text(m, &["appid"]);
    let cau = text(m, &["clientappused"]);
    let client_app = cau
        .as_deref()
        .and_then(codes::legacy_client)
        .or_else(|| client_family(None, user_agent.as_deref(), app_id.as_deref()))
        .or(cau.as_deref().filter(|c| c.eq_ignore_ascii_case("browser")).map(|_| "Browser"));
    let resource = text(m, &["resourcedisplayname"]);

    let app_name = text(m, &["appdisplayname"])
        .or_else(|| app_id.as_deref().and_then(crate::abused_apps::any_app_name).map(str::to_owned));
    d.str("app_name", app_name);
    d.str("resource", resource.as_deref());
    let resource_id =
        text(m, &["resourceidentity"]).or_else(|| text(m, &["resourceid"]).filter(|r| !r.starts_with('/')));
    d.str("resource_id", resource_id);
    d.str("client_app_used", cau.as_deref());

    let loc = object(m, "locationdetails").or_else(|| object(m, "location")).unwrap_or_default();
    let (city, state) = (text(&loc, &["city"]), text(&loc, &["state"]));
    let country = text(&loc, &["countryorregion"]).or_else(|| text(m, &["location"]));
    let place: Vec<&str> = [&city, &state, &country].into_iter().filter_map(|p| p.as_deref()).collect();
    d.str("location", Some(place.join(", ")));
    d.str("country", country.as_deref());
    d.str("city", city.as_deref());
    d.str("state", state.as_deref());
    if let Some(geo) = object(&loc, "geocoordinates") {
        d.num("latitude", number(&geo, "latitude"));
        d.num("longitude", number(&geo, "longitude"));
    }

    let dev = object(m, "devicedetail").unwrap_or_default();
    d.str("device_id", text(&dev, &["deviceid"]));
    d.str("device_name", text(&dev, &["displayname"]));
    d.str("device_os", text(&dev, &["operatingsystem"]));
    d.str("device_browser", text(&dev, &["browser"]));
    d.bool("device_compliant", boolean(&dev, "iscompliant"));
    d.bool("device_managed", boolean(&dev, "ismanaged"));
    d.str("device_trust_type", text(&dev, &["trusttype"]));

    d.num("status_code", code.map(Into::into));
    if result.is_some_and(|r| r != "Success") {
        let given = text(&status, &["failurereason"])
            .or_else(|| text(m, &["resultdescription"]))
            .filter(|r| !r.eq_ignore_ascii_case("other."));
        d.str("failure_reason", given.or_else(|| code.and_then(codes::failure_reason).map(str::to_owned)));
    }
    d.str("additional_details", text(&status, &["additionaldetails"]));
    d.str("conditional_access", text(m, &["conditionalaccessstatus"]));
    d.str("ca_policies_applied", Some(ca_policies(m).join("; ")));
    d.str("auth_requirement", text(m, &["authenticationrequirement"]));

    let (steps, mfa_step) = auth_steps(m);
    let mfa = object(m, "mfadetail").unwrap_or_default();
    let (step_method, step_detail, step_result) = mfa_step.unwrap_or_default();
    d.str("mfa_result", text(m, &["mfa_result"]).or(step_result));
    d.str("mfa_method", text(&mfa, &["authmethod"]).or(step_method));
    d.str("mfa_detail", text(&mfa, &["authdetail"]).or(step_detail));
    d.str("auth_steps", Some(steps.join("; ")));

    for (key, names) in [
        ("auth_protocol", &["authenticationprotocol"][..]),
        ("token_issuer_type", &["tokenissuertype"]),
        ("incoming_token_type", &["incomingtokentype"]),
        ("unique_token_id", &["uniquetokenidentifier"]),
        ("correlation_id", &["correlationid"]),
        ("original_request_id", &["originalrequestid"]),
        ("original_transfer_method", &["originaltransfermethod"]),
    ] {
        d.str(key, text(m, names));
    }
    let during = text(m, &["risklevelduringsignin"]);
    let aggregated = text(m, &["risklevelaggregated"]);
    d.str("risk_level", during.clone().or_else(|| aggregated.clone()).or_else(|| text(m, &["risklevel"])));
    if during.is_some() && aggregated != during {
        d.str("risk_level_aggregated", aggregated);
    }
    d.str("risk_state", text(m, &["riskstate"]));
    d.str("risk_detail", text(m, &["riskdetail"]));
    let mut risks = array(m, "riskeventtypes_v2");
    if risks.is_empty() {
        risks = array(m, "riskeventtypes");
    }
    let risks: Vec<String> = risks.iter().filter_map(super::scalar).map(|s| s.into_owned()).collect();
    let risk_text = text(m, &["riskeventtypes_v2", "riskeventtypes"]).filter(|t| !t.starts_with('['));
    d.str("risk_event_types", if risks.is_empty() { risk_text } else { Some(risks.join(", ")) });
    d.bool("is_interactive", boolean(m, "isinteractive"));
    d.str("sign_in_event_type", kind);
    d.str("cross_tenant_access_type", text(m, &["crosstenantaccesstype"]));
    d.str("home_tenant_id", text(m, &["hometenantid"]));
    d.str("resource_tenant_id", text(m, &["resourcetenantid"]));
    d.str("service_principal_id", text(m, &["serviceprincipalid"]));
    let msi = object(m, "managedserviceidentity").and_then(|o| text(&o, &["msitype"]));
    d.str("managed_identity_type", msi.or_else(|| text(m, &["managedidentitytype"])));
    d.str("client_credential_type", text(m, &["clientcredentialtype"]));
    d.str("sp_credential_key_id", text(m, &["serviceprincipalcredentialkeyid"]));
    d.str("sp_credential_thumbprint", text(m, &["serviceprincipalcredentialthumbprint"]));
    d.num("ms_asn", number(m, "autonomoussystemnumber"));
    d.str("user_id", text(m, &["userid"]));
    d.str("user_display_name", text(m, &["userdisplayname"]));
    d.str("user_type", text(m, &["usertype"]));
    d.str("sign_in_identifier", text(m, &["signinidentifier"]).filter(|s| Some(s) != actor.as_ref()));
    d.str("resource_ip", text(m, &["ipaddressfromresourceprovider"]));

    Ok(NormalizedEvent {
        record_key: format!("signin:{}", id.to_lowercase()),
        time_ms,
        source: source.to_owned(),
        workload: Some("AzureActiveDirectory".to_owned()),
        record_type: kind.map(str::to_owned),
        operation: operation.to_owned(),
        action: action.to_owned(),
        actor,
        mailbox: None,
        client_ip,
        client_port,
        client_app: client_app.map(str::to_owned),
        user_agent,
        app_id,
        session_id: text(m, &["sessionid"]),
        result: result.map(str::to_owned),
        object: resource,
        details: d.0,
        ..NormalizedEvent::default()
    })
}

/// Whether the first record is a Log Analytics sign-in row.
pub(crate) fn looks_like_la(keys: &[(String, Option<String>)]) -> bool {
    let table = |k: &str| value(keys, k).and_then(kind_named).is_some();
    table("type")
        || table("category")
        || (has(keys, "timegenerated")
            && has(keys, "resulttype")
            && ["ipaddress", "appid", "serviceprincipalid"].iter().any(|k| has(keys, k)))
}

/// Whether the first record is a Graph `signIn` (any key case) and not a Log Analytics row.
pub(crate) fn looks_like_graph(keys: &[(String, Option<String>)]) -> bool {
    has(keys, "createddatetime")
        && ["appdisplayname", "appid", "ipaddress"].iter().any(|k| has(keys, k))
        && ["status", "userprincipalname", "signineventtypes", "serviceprincipalid"].iter().any(|k| has(keys, k))
        && !has(keys, "timegenerated")
        && !has(keys, "resulttype")
}

/// Graph `signIn` objects as JSON (see the module documentation of [`super`]).
#[derive(Debug, Clone, Copy)]
pub struct EntraSigninJson;

impl Format for EntraSigninJson {
    fn id(&self) -> &'static str {
        "entra-signin-json"
    }

    fn name(&self) -> &'static str {
        "Entra ID sign-in log, JSON (Microsoft Graph)"
    }

    fn describe(&self) -> &'static str {
        "Entra ID sign-ins as Microsoft Graph signIn objects: pages ({\"value\":[…]}), arrays or JSON Lines \
         with createdDateTime, appDisplayName, ipAddress, status (camelCase or PascalCase)"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        Probe::of(head)
            .is_some_and(|p| looks_like_graph(&head_keys(&p)) || super::empty_page_of(&p, "auditlogs/signins"))
    }

    fn split(&self, input: Box<dyn std::io::BufRead + Send>) -> Units {
        crate::json_stream::units(input)
    }

    fn normalize(&self, _context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        normalize_signin(&parse_record(record, "a sign-in")?, self.id())
    }
}

/// Log Analytics sign-in rows, JSON or CSV (see the module documentation of [`super`]). The context is
/// the CSV header, empty for JSON.
#[derive(Debug, Clone, Copy)]
pub struct EntraSigninLa;

impl Format for EntraSigninLa {
    fn id(&self) -> &'static str {
        "entra-signin-la"
    }

    fn name(&self) -> &'static str {
        "Entra ID sign-in log, Log Analytics / Sentinel (JSON or CSV)"
    }

    fn describe(&self) -> &'static str {
        "Log Analytics / Microsoft Sentinel SigninLogs, AADNonInteractiveUserSignInLogs, \
         AADServicePrincipalSignInLogs or AADManagedIdentitySignInLogs rows as JSON, JSON Lines or CSV \
         (TimeGenerated, CreatedDateTime, Id, UserPrincipalName, IPAddress, ResultType, Status, Type)"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        match Probe::of(head) {
            Some(p) => p.layout != Layout::Pages && looks_like_la(&head_keys(&p)),
            None => super::csv::header_names(head).is_some_and(|h| super::csv::is_la_signin_header(&h)),
        }
    }

    fn context(&self, head: &[u8]) -> Vec<u8> {
        if Probe::of(head).is_some() {
            return Vec::new();
        }
        crate::csv::header_record(head).unwrap_or_default()
    }

    fn split(&self, mut input: Box<dyn std::io::BufRead + Send>) -> Units {
        let json = matches!(input.fill_buf().map(crate::json_stream::layout), Ok(Some(_)));
        if json {
            crate::json_stream::units(input)
        } else {
            crate::csv::units(input)
        }
    }

    fn normalize(&self, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        let rec =
            if context.is_empty() { parse_record(record, "a sign-in")? } else { super::csv::la_row(context, record)? };
        normalize_signin(&rec, self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entra::fold;

    fn rec(j: &str) -> Rec {
        match fold(serde_json::from_str(j).unwrap()) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_event_type_comes_from_the_record_or_its_table() {
        let kind = |j: &str| event_type(&rec(j));
        assert_eq!(
            kind(r#"{"signInEventTypes":["nonInteractiveUser"],"isInteractive":true}"#),
            Some("nonInteractiveUser")
        );
        assert_eq!(kind(r#"{"SignInEventTypes":"[\"servicePrincipal\"]"}"#), Some("servicePrincipal"));
        assert_eq!(
            kind(r#"{"SignInEventTypes":"refreshToken","Category":"NonInteractiveUserSignInLogs"}"#),
            Some("nonInteractiveUser")
        );
        assert_eq!(kind(r#"{"Type":"AADManagedIdentitySignInLogs"}"#), Some("managedIdentity"));
        assert_eq!(kind(r#"{"Type":"SigninLogs"}"#), Some("interactiveUser"));
        assert_eq!(kind(r#"{"isInteractive":false,"userPrincipalName":"a@b.example"}"#), Some("nonInteractiveUser"));
        assert_eq!(kind(r#"{"servicePrincipalId":"x"}"#), Some("servicePrincipal"));
        assert_eq!(kind(r#"{"managedIdentityType":"userAssigned","servicePrincipalId":"x"}"#), Some("managedIdentity"));
        assert_eq!(kind(r#"{"userPrincipalName":"a@b.example"}"#), None);
    }

    #[test]
    fn outcome_codes_and_words() {
        let n = |j: &str| normalize_signin(&rec(j), "t").unwrap();
        let base = r#""id":"k","createdDateTime":"2025-03-04T09:00:00Z""#;
        let e = n(&format!(r#"{{{base},"status":{{"errorCode":50140}}}}"#));
        assert_eq!((e.action.as_str(), e.result.as_deref()), ("logon-failed", Some("Interrupted")));
        assert_eq!(
            e.details.get("failure_reason").and_then(Value::as_str),
            Some("interrupted by the \"Keep me signed in?\" prompt")
        );
        let e = n(&format!(r#"{{{base},"ResultType":"Failure"}}"#));
        assert_eq!((e.action.as_str(), e.result.as_deref()), ("logon-failed", Some("Failure")));
        let e = n(&format!(r#"{{{base},"status":{{"errorCode":0,"failureReason":"Other."}}}}"#));
        assert_eq!((e.action.as_str(), e.details.get("failure_reason")), ("logon", None));
        let e = n(&format!(r#"{{{base}}}"#));
        assert_eq!((e.action.as_str(), e.result.as_deref(), e.operation.as_str()), ("logon", None, "Sign-in"));
    }

    #[test]
    fn sniffs_graph_and_log_analytics_rows_apart() {
        let graph = br#"{"id":"k","createdDateTime":"x","appDisplayName":"a","ipAddress":"203.0.113.1","status":{}}"#;
        let la = br#"{"TimeGenerated":"x","CreatedDateTime":"x","AppDisplayName":"a","IPAddress":"203.0.113.1","ResultType":"0","Id":"k"}"#;
        assert!(EntraSigninJson.sniff(graph) && !EntraSigninLa.sniff(graph));
        assert!(EntraSigninLa.sniff(la) && !EntraSigninJson.sniff(la));
        let office = br#"{"TimeGenerated":"x","OfficeWorkload":"Exchange","Operation":"MailItemsAccessed","Type":"OfficeActivity"}"#;
        assert!(!EntraSigninLa.sniff(office) && !EntraSigninJson.sniff(office));
    }
}
