//! Tests across the Entra formats: every fixture detected, split byte-exactly and normalized; the
//! same record through different exports is one event; no earlier fixture changes format.

use serde_json::Value;

use crate::format::{Format, RawUnit};
use crate::{FormatRegistry, NormalizedEvent};

/// A fixture as the engine sees it (byte-order mark removed): the detected format, its units and
/// each unit's normalization.
struct Loaded {
    id: &'static str,
    bytes: Vec<u8>,
    units: Vec<RawUnit>,
    events: Vec<Result<NormalizedEvent, String>>,
}

impl Loaded {
    fn ok(&self, i: usize) -> &NormalizedEvent {
        self.events[i].as_ref().unwrap_or_else(|e| panic!("record {i}: {e}"))
    }
}

fn load(file: &[u8]) -> Loaded {
    let registry = FormatRegistry::builtin();
    let bytes = file.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(file).to_vec();
    let head = &bytes[..bytes.len().min(crate::HEAD_BYTES)];
    let format = registry.detect(head).expect("a format");
    let context = format.context(head);
    let units: Vec<RawUnit> = format.split(Box::new(std::io::Cursor::new(bytes.clone()))).map(Result::unwrap).collect();
    let events = units.iter().map(|u| format.normalize(&context, &u.bytes)).collect();
    Loaded { id: format.id(), bytes, units, events }
}

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../../tests/fixtures/entra/", $name))
    };
}

const V1: &[u8] = fixture!("graph-signins-v1.json");
const BETA: &[u8] = fixture!("graph-signins-beta.jsonl");
const LA: &[u8] = fixture!("la-signinlogs.json");
const LA_CSV: &[u8] = fixture!("la-noninteractive.csv");
const PORTAL: &[u8] = fixture!("portal-signins.csv");
const AUDITS: &[u8] = fixture!("graph-directoryaudits.json");
const LA_AUDITS: &[u8] = fixture!("la-auditlogs.json");
const PORTAL_AUDIT: &[u8] = fixture!("portal-audit.csv");

/// (fixture, format, records, records that normalize)
const FIXTURES: &[(&str, &[u8], &str, usize, usize)] = &[
    ("graph-signins-v1.json", V1, "entra-signin-json", 3, 3),
    ("graph-signins-beta.jsonl", BETA, "entra-signin-json", 8, 7),
    ("la-signinlogs.json", LA, "entra-signin-la", 2, 2),
    ("la-noninteractive.csv", LA_CSV, "entra-signin-la", 2, 2),
    ("portal-signins.csv", PORTAL, "entra-signin-csv", 3, 3),
    ("graph-directoryaudits.json", AUDITS, "entra-audit-json", 7, 7),
    ("la-auditlogs.json", LA_AUDITS, "entra-audit-json", 3, 3),
    ("portal-audit.csv", PORTAL_AUDIT, "entra-audit-csv", 3, 3),
];

fn d<'a>(e: &'a NormalizedEvent, key: &str) -> Option<&'a Value> {
    e.details.get(key)
}

fn ds<'a>(e: &'a NormalizedEvent, key: &str) -> Option<&'a str> {
    e.details.get(key).and_then(Value::as_str)
}

#[test]
fn every_fixture_is_detected_split_byte_exactly_and_normalized() {
    for (name, file, id, records, good) in FIXTURES {
        let l = load(file);
        assert_eq!(l.id, *id, "{name}");
        let ok = l.events.iter().filter(|e| e.is_ok()).count();
        assert_eq!((l.units.len(), ok), (*records, *good), "{name}: {:?}", l.events);
        for u in &l.units {
            let at = u.byte_offset as usize;
            assert_eq!(&l.bytes[at..at + u.bytes.len()], u.bytes.as_slice(), "{name}: the record is the file's bytes");
            let line = l.bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            assert_eq!(line, u.line, "{name}: line of the record at {at}");
        }
        for e in l.events.iter().flatten() {
            assert_eq!(e.source, *id, "{name}");
            assert_eq!(e.workload.as_deref(), Some("AzureActiveDirectory"), "{name}");
        }
    }
}

#[test]
fn no_earlier_fixture_changes_format_and_no_earlier_format_claims_entra_files() {
    let registry = FormatRegistry::builtin();
    let detect = |bytes: &[u8]| {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        registry.detect(&bytes[..bytes.len().min(crate::HEAD_BYTES)]).map(|f| f.id())
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    // tests-data/<format id>/<files>
    for dir in std::fs::read_dir(root.join("tests-data")).unwrap() {
        let dir = dir.unwrap().path();
        let id = dir.file_name().unwrap().to_str().unwrap().to_owned();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            // Folders are named by format id, but for Goose's JSON Lines (read as ual-jsonl) and the
            // Sentinel folder, which holds both of its formats.
            let csv = id == "sentinel-officeactivity" && f.extension().is_some_and(|e| e == "csv");
            let id = match id.as_str() {
                "goose-jsonl" => "ual-jsonl",
                _ if csv => "sentinel-officeactivity-csv",
                other => other,
            };
            assert_eq!(detect(&std::fs::read(&f).unwrap()), Some(id), "{}", f.display());
            checked += 1;
        }
    }
    let fixtures = root.join("../../tests/fixtures");
    for (rel, id) in [
        ("ual-demo.jsonl", "ual-jsonl"),
        ("ual-small.jsonl", "ual-jsonl"),
        ("ual-malformed.jsonl", "ual-jsonl"),
        ("ual-xss.jsonl", "ual-jsonl"),
        ("plaso/microsoft_audit_log.jsonl", "ual-jsonl"),
        ("activities/bec-adele-ual.jsonl", "ual-jsonl"),
        ("activities/bec-adele-retriever.csv", "activities-csv"),
        ("activities/bec-megan-retriever.csv", "activities-csv"),
    ] {
        assert_eq!(detect(&std::fs::read(fixtures.join(rel)).unwrap()), Some(id), "{rel}");
        checked += 1;
    }
    assert!(checked >= 23, "{checked}");
    // No format that was there before claims an Entra file, whatever the order.
    for (name, file, ..) in FIXTURES {
        let bytes = file.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(file);
        for f in registry.all().filter(|f| !f.id().starts_with("entra-")) {
            assert!(!f.sniff(bytes), "{} claims {name}", f.id());
        }
    }
}

#[test]
fn one_signin_is_one_event_from_graph_log_analytics_and_the_portal() {
    let (v1, la, portal) = (load(V1), load(LA), load(PORTAL));
    let (g, l, p) = (v1.ok(0), la.ok(0), portal.ok(0));
    assert_eq!(g.record_key, "signin:5f1d2b7c-8e3a-4c9f-a1d6-2b4e6a8c1300");
    for e in [l, p] {
        assert_eq!(e.record_key, g.record_key);
        assert_eq!((e.time_ms, e.action.as_str(), e.result.as_deref()), (g.time_ms, "logon", Some("Success")));
        assert_eq!((&e.actor, &e.client_ip, &e.app_id, &e.object), (&g.actor, &g.client_ip, &g.app_id, &g.object));
        assert_eq!((&e.client_app, &e.user_agent, &e.operation), (&g.client_app, &g.user_agent, &g.operation));
        for key in
            ["location", "country", "city", "status_code", "correlation_id", "app_name", "resource_id", "device_os"]
        {
            assert_eq!(d(e, key), d(g, key), "{key} from {}", e.source);
        }
    }
    // Graph v1.0 has no session id; Log Analytics and the portal do, and agree.
    assert_eq!(
        (g.session_id.as_deref(), l.session_id.as_deref()),
        (None, Some("f4a6c8e0-2b4d-4f6a-8c0e-1a3c5e7b9d24"))
    );
    assert_eq!(p.session_id, l.session_id);
    assert_eq!(ds(p, "unique_token_id"), ds(l, "unique_token_id"));
    assert_eq!(
        (g.record_type.as_deref(), l.record_type.as_deref()),
        (Some("interactiveUser"), Some("interactiveUser"))
    );
    assert_eq!(p.record_type, None, "the portal's interactive and non-interactive tabs have the same columns");

    // A non-interactive sign-in from the beta JSON Lines and the Log Analytics CSV.
    let (beta, la_csv) = (load(BETA), load(LA_CSV));
    let (b, c) = (beta.ok(2), la_csv.ok(0));
    assert_eq!(b.record_key, c.record_key);
    assert_eq!(
        (b.record_type.as_deref(), c.record_type.as_deref()),
        (Some("nonInteractiveUser"), Some("nonInteractiveUser"))
    );
    assert_eq!((&b.session_id, &b.client_ip, &b.user_agent), (&c.session_id, &c.client_ip, &c.user_agent));
    for key in ["incoming_token_type", "unique_token_id", "location", "mfa_result", "ms_asn"] {
        assert_eq!(d(b, key), d(c, key), "{key}");
    }

    // An id in capitals is the same sign-in.
    let upper = String::from_utf8(beta.units[2].bytes.clone())
        .unwrap()
        .replace("\"id\":\"6d8f0b2c-4e6a-4c8e-a0b2-5d7f9b1d1800\"", "\"id\":\"6D8F0B2C-4E6A-4C8E-A0B2-5D7F9B1D1800\"");
    let e = super::EntraSigninJson.normalize(&[], upper.as_bytes()).unwrap();
    assert_eq!(e.record_key, b.record_key);
}

#[test]
fn signins_give_the_investigator_every_field() {
    let beta = load(BETA);
    // (action, result, ip, client app, failure reason, record type)
    let expect = [
        ("logon-failed", "Interrupted", Some("203.0.113.45"), "Browser", Some("Strong Authentication is required."), "interactiveUser"),
        ("logon", "Success", Some("203.0.113.45"), "Browser", None, "interactiveUser"),
        ("logon", "Success", Some("2001:db8:4f1::25"), "Other", None, "nonInteractiveUser"),
        ("logon-failed", "Failure", Some("198.51.100.23"), "Browser", Some("Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."), "interactiveUser"),
        ("logon-failed", "Failure", Some("203.0.113.45"), "IMAP", Some("wrong user name or password"), "interactiveUser"),
        ("logon", "Success", Some("198.51.100.77"), "", None, "servicePrincipal"),
        ("logon", "Success", None, "", None, "managedIdentity"),
    ];
    for (i, (action, result, ip, client, reason, kind)) in expect.into_iter().enumerate() {
        let e = beta.ok(i);
        assert_eq!((e.action.as_str(), e.result.as_deref(), e.client_ip.as_deref()), (action, Some(result), ip), "{i}");
        assert_eq!(e.client_app.as_deref().unwrap_or(""), client, "{i}");
        assert_eq!((ds(e, "failure_reason"), e.record_type.as_deref()), (reason, Some(kind)), "{i}");
        assert_eq!(ds(e, "sign_in_event_type"), Some(kind), "{i}");
    }
    let mfa = beta.ok(1);
    assert_eq!(mfa.operation, "Sign-in");
    assert_eq!(mfa.session_id.as_deref(), Some("f4a6c8e0-2b4d-4f6a-8c0e-1a3c5e7b9d24"));
    assert_eq!(
        (ds(mfa, "mfa_method"), ds(mfa, "mfa_detail")),
        (Some("Mobile app notification"), Some("Microsoft Authenticator"))
    );
    assert_eq!(ds(mfa, "mfa_result"), Some("MFA successfully completed"));
    assert_eq!(ds(mfa, "auth_requirement"), Some("multiFactorAuthentication"));
    assert_eq!(ds(mfa, "unique_token_id"), Some("dHZ6b0ZVdmN2RUdBbGxhS2ZOYkdBQQ"));
    assert_eq!(
        ds(mfa, "ca_policies_applied"),
        Some("Require MFA for all users: success"),
        "not-applied policies are left out"
    );
    assert_eq!((ds(mfa, "location"), ds(mfa, "country")), (Some("Amsterdam, Noord-Holland, NL"), Some("NL")));
    assert_eq!((d(mfa, "ms_asn"), d(mfa, "latitude")), (Some(&Value::from(64500)), Some(&Value::from(52.37403))));
    assert!(ds(mfa, "auth_steps").unwrap().contains("Mobile app notification (Multifactor authentication): succeeded"));
    let axios = beta.ok(2);
    assert_eq!(
        (axios.operation.as_str(), axios.user_agent.as_deref()),
        ("Non-interactive sign-in", Some("axios/1.6.8"))
    );
    assert_eq!(
        (ds(axios, "incoming_token_type"), d(axios, "is_interactive")),
        (Some("refreshToken"), Some(&Value::Bool(false)))
    );
    assert_eq!((ds(axios, "app_name"), axios.object.as_deref()), (Some("Microsoft Office"), Some("Microsoft Graph")));
    let ca = beta.ok(3);
    assert_eq!(ds(ca, "conditional_access"), Some("failure"));
    assert!(ds(ca, "ca_policies_applied")
        .unwrap()
        .starts_with("Block sign-ins from outside allowed countries: failure"));
    let imap = beta.ok(4);
    assert_eq!(
        (imap.user_agent.as_deref(), ds(imap, "auth_protocol"), ds(imap, "client_app_used")),
        (Some("BAV2ROPC"), Some("ropc"), Some("IMAP4"))
    );
    let sp = beta.ok(5);
    assert_eq!((sp.operation.as_str(), sp.actor.as_deref()), ("Service principal sign-in", Some("Contoso Mail Sync")));
    assert_eq!(
        (ds(sp, "service_principal_id"), ds(sp, "client_credential_type")),
        (Some("6f1a3c5e-7b9d-4f2a-8c4e-0a2c4e6a8c91"), Some("clientSecret"))
    );
    let mi = beta.ok(6);
    assert_eq!(
        (mi.operation.as_str(), ds(mi, "managed_identity_type")),
        ("Managed identity sign-in", Some("systemAssigned"))
    );
    assert_eq!(mi.mailbox, None);

    let la = load(LA);
    let locked = la.ok(1);
    assert_eq!((locked.action.as_str(), d(locked, "status_code")), ("logon-failed", Some(&Value::from(50053))));
    assert!(ds(locked, "failure_reason").unwrap().starts_with("Account is locked"));
    assert_eq!(
        ds(locked, "resource_id"),
        Some("00000002-0000-0ff1-ce00-000000000000"),
        "ResourceIdentity, not the workspace path"
    );
    let la_csv = load(LA_CSV);
    let revoked = la_csv.ok(1);
    assert_eq!((revoked.action.as_str(), revoked.result.as_deref()), ("logon-failed", Some("Failure")));
    assert_eq!(ds(revoked, "failure_reason"), Some("token revoked: the password changed or an admin revoked sessions"));

    // The portal download: BOM, quoted cells with commas, Status words.
    let portal = load(PORTAL);
    let kmsi = portal.ok(1);
    assert_eq!(
        (kmsi.action.as_str(), kmsi.result.as_deref(), d(kmsi, "status_code")),
        ("logon-failed", Some("Interrupted"), Some(&Value::from(50140)))
    );
    assert_eq!((ds(kmsi, "city"), ds(kmsi, "state")), (Some("Amsterdam"), Some("Noord-Holland")));
    assert_eq!(kmsi.user_agent.as_deref().map(|u| u.contains("(KHTML, like Gecko)")), Some(true));
    assert_eq!(d(kmsi, "device_compliant"), Some(&Value::Bool(false)));
    let bad = portal.ok(2);
    assert_eq!((bad.result.as_deref(), ds(bad, "country"), ds(bad, "ms_asn")), (Some("Failure"), Some("NG"), None));
}

#[test]
fn directory_audits_are_categorised_with_readable_changes() {
    let audits = load(AUDITS);
    let actions: Vec<&str> = audits.events.iter().map(|e| e.as_ref().unwrap().action.as_str()).collect();
    assert_eq!(actions, ["consent", "auth-method", "password", "role", "app-credential", "auth-method", "admin"]);
    let consent = audits.ok(0);
    assert_eq!(consent.record_key, "entra-audit:Directory_7e9a1c3e-5b7d-4f9b-8d1f-3a5c7e9b1a2c_QWERT_48215593");
    assert_eq!(
        (consent.actor.as_deref(), consent.client_ip.as_deref()),
        (Some("megan.bowen@contoso.com"), Some("203.0.113.45"))
    );
    assert_eq!(
        (consent.object.as_deref(), consent.app_id.as_deref()),
        (Some("Mail Backup Pro"), Some("a7c3e9f1-2b4d-4f6a-8c0e-5d7b9f1a3c62"))
    );
    assert_eq!(
        (ds(consent, "scopes"), d(consent, "is_admin_consent")),
        (Some("Mail.Read offline_access User.Read"), Some(&Value::Bool(false)))
    );
    assert_eq!(consent.record_type.as_deref(), Some("directoryAudit"));
    assert!(consent.user_agent.as_deref().unwrap().starts_with("Mozilla/5.0"));
    let mfa = audits.ok(5);
    assert_eq!(
        ds(mfa, "modified_properties"),
        Some(
            "StrongAuthenticationMethod: {\"MethodType\":6,\"Default\":true}, {\"MethodType\":7,\"Default\":false} → \
             {\"MethodType\":7,\"Default\":true}; Included Updated Properties: (empty) → StrongAuthenticationMethod"
        )
    );
    let secret = audits.ok(4);
    assert_eq!(secret.operation, "Update application – Certificates and secrets management");
    assert!(ds(secret, "modified_properties")
        .unwrap()
        .starts_with("KeyDescription: (empty) → [KeyIdentifier=2f4b6d8f"));
    let dept = audits.ok(6);
    assert_eq!(
        (dept.actor.as_deref(), ds(dept, "initiated_by_app")),
        (Some("Contoso Provisioning"), Some("Contoso Provisioning (2c4e6a8c-0e2a-4c4e-9a8c-2e4a6c8e0a3e)"))
    );
    assert!(ds(dept, "modified_properties").unwrap().starts_with("Department: Sales → Finance"));
    let role = audits.ok(3);
    assert_eq!(ds(role, "targets"), Some("User: adele.vance@contoso.com (c2e8f4a1-9b3d-4e7c-a5f6-3d1b8e9c0a42); Role: Exchange Administrator (0d2f4b6d-8f0b-4d2f-a4b6-0d2f4b6d8f0b)"));
    assert_eq!(
        (ds(role, "category"), ds(role, "operation_type"), ds(role, "logged_by_service")),
        (Some("RoleManagement"), Some("Assign"), Some("Core Directory"))
    );

    // Log Analytics: the same consent is the same event; the grant and the new secret are categorised.
    let la = load(LA_AUDITS);
    let mut same = la.ok(0).clone();
    same.source.clone_from(&consent.source);
    assert_eq!(&same, consent);
    assert_eq!(
        (la.ok(1).action.as_str(), ds(la.ok(1), "scopes")),
        ("consent", Some("Mail.Read offline_access User.Read"))
    );
    assert_eq!((la.ok(2).action.as_str(), la.ok(2).client_app.as_deref()), ("app-credential", Some("Other")));

    // The portal download has no id: the key is the row's hash, stable across imports.
    let portal = load(PORTAL_AUDIT);
    let actions: Vec<&str> = portal.events.iter().map(|e| e.as_ref().unwrap().action.as_str()).collect();
    assert_eq!(actions, ["password", "auth-method", "app-credential"]);
    assert!(portal.ok(0).record_key.starts_with("entra-audit:csv-sha256:"));
    assert_eq!(load(PORTAL_AUDIT).ok(0).record_key, portal.ok(0).record_key);
    assert_eq!(
        (portal.ok(0).actor.as_deref(), portal.ok(0).object.as_deref()),
        (Some("it.admin@contoso.com"), Some("megan.bowen@contoso.com"))
    );
    assert_eq!(portal.ok(2).actor.as_deref(), Some("Contoso Provisioning"));
    assert!(ds(portal.ok(2), "modified_properties").unwrap().contains("DisplayName=CN=mailsync, O=Contoso]"));
}

#[test]
fn a_malformed_record_is_refused_with_a_reason() {
    let beta = load(BETA);
    let err = beta.events[7].as_ref().unwrap_err();
    assert!(err.starts_with("not valid JSON"), "{err}");
    assert_eq!(beta.units[7].line, 8);
    let f = super::EntraSigninJson;
    let n = |j: &str| f.normalize(&[], j.as_bytes());
    assert!(n(r#"{"createdDateTime":"2025-03-04T09:00:00Z"}"#).unwrap_err().contains("no id"));
    assert!(n(r#"{"id":"x","createdDateTime":"04/03/2025 09:00"}"#).unwrap_err().contains("is not a date and time"));
    assert!(n("[1]").unwrap_err().contains("expected a JSON object"));
    let ctx = super::EntraSigninCsv.context(PORTAL.strip_prefix(b"\xEF\xBB\xBF").unwrap());
    let too_many = format!("{},extra", ",".repeat(60));
    assert!(super::EntraSigninCsv.normalize(&ctx, too_many.as_bytes()).unwrap_err().contains("cells"));
}

#[test]
fn other_shapes_powershell_objects_host_names_and_empty_pages() {
    // Graph PowerShell `Get-MgBetaAuditLogSignIn | ConvertTo-Json`: PascalCase, AdditionalProperties,
    // PowerShell 5.1 dates; the AzureAD module's `IpAddress`.
    let ps = r#"[
  {
    "AppDisplayName": "OfficeHome",
    "AppId": "4765445b-32c6-49b0-83e6-1d93765276ca",
    "CreatedDateTime": "\/Date(1741079564000)\/",
    "Id": "5F1D2B7C-8E3A-4C9F-A1D6-2B4E6A8C1300",
    "IpAddress": "proxy-7.contoso.com",
    "Status": { "ErrorCode": 50076, "FailureReason": "", "AdditionalProperties": {} },
    "UserPrincipalName": "megan.bowen@contoso.com",
    "AdditionalProperties": { "sessionId": "s-1", "signInEventTypes": ["interactiveUser"] }
  }
]"#;
    let registry = FormatRegistry::builtin();
    let f = registry.detect(ps.as_bytes()).unwrap();
    assert_eq!(f.id(), "entra-signin-json");
    let unit = f.split(Box::new(std::io::Cursor::new(ps.as_bytes().to_vec()))).next().unwrap().unwrap();
    let e = f.normalize(&[], &unit.bytes).unwrap();
    assert_eq!((e.record_key.as_str(), e.time_ms), ("signin:5f1d2b7c-8e3a-4c9f-a1d6-2b4e6a8c1300", 1_741_079_564_000));
    assert_eq!(
        (e.action.as_str(), e.result.as_deref(), e.session_id.as_deref()),
        ("logon-failed", Some("Interrupted"), Some("s-1"))
    );
    assert_eq!((e.client_ip.as_deref(), ds(&e, "client_host")), (None, Some("proxy-7.contoso.com")));
    assert_eq!(ds(&e, "failure_reason"), Some("multifactor authentication required (by policy or for this location)"));
    // Empty pages say what they are; other Graph pages are not sign-ins.
    let empty =
        |c: &str| format!(r#"{{"@odata.context":"https://graph.microsoft.com/beta/$metadata#{c}","value":[]}}"#);
    assert_eq!(registry.detect(empty("auditLogs/signIns").as_bytes()).map(|f| f.id()), Some("entra-signin-json"));
    assert_eq!(
        registry.detect(empty("auditLogs/directoryAudits").as_bytes()).map(|f| f.id()),
        Some("entra-audit-json")
    );
    assert_eq!(registry.detect(empty("users").as_bytes()).map(|f| f.id()), None);
}

#[test]
fn keys_fold_whatever_their_characters() {
    use super::norm_key;
    assert_eq!(norm_key(" TimeGenerated [UTC] "), "timegenerated");
    assert_eq!(norm_key("Autonomous system  number"), "autonomous system number");
    assert_eq!(norm_key("Path:\"\\\\Inbox\\\\経理\""), "path:\"\\\\inbox\\\\経理\"");
    assert_eq!(norm_key("経理 [utc]"), "経理");
    assert_eq!(super::parse_time("/Date(1741079564000)/"), Some(1_741_079_564_000));
    assert_eq!(super::parse_time("/Date(1741079564000+0100)/"), Some(1_741_079_564_000));
    assert_eq!(super::parse_time("3/4/2025 9:12:44 AM"), None, "culture dates are never guessed");
}
