//! The simulated tenant's Entra ID logs over plain HTTP, as a collector meets them: `auditLogs/signIns`
//! (v1.0 interactive; beta with `signInEventTypes/any(…)`) and `auditLogs/directoryAudits`, newest
//! first with `@odata.nextLink`, `$filter` on time and properties, `$top`; the permission and licence
//! errors Microsoft answers with; the shared faults on these routes; and `tidemark-sim export` of both
//! logs imported by the real `tidemark` binary with the exact event counts.

use std::collections::BTreeSet;
use std::process::Command;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use tidemark_sim::scenario::{SignInKind, ATTACKER_IP};
use tidemark_sim::wire::iso_seconds_z;
use tidemark_sim::{Credentials, RunningSim, SimConfig, Tenant};
use tidemark_tests::binary;

struct Sim {
    _sim: RunningSim,
    c: Credentials,
    http: Client,
    tenant: Tenant,
}

fn start(tweak: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut cfg = SimConfig::for_scenario("small").unwrap();
    tweak(&mut cfg);
    let sim = RunningSim::spawn(cfg).unwrap();
    let c = sim.credentials();
    let tenant = Tenant::generate(sim.state.config.scenario.clone());
    Sim { _sim: sim, c, http: Client::new(), tenant }
}

impl Sim {
    fn token(&self, client: &str, secret: &str) -> String {
        let url = format!("{}/{}/oauth2/v2.0/token", self.c.login_url, self.c.tenant_id);
        let v: Value = self
            .http
            .post(url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("client_secret", secret),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["access_token"].as_str().unwrap().to_string()
    }

    fn app_token(&self) -> String {
        self.token(&self.c.confidential_client_id, &self.c.client_secret)
    }

    fn get(&self, url: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = self.http.get(url).bearer_auth(token).send().unwrap();
        let (st, h) = (r.status().as_u16(), r.headers().clone());
        (st, h, serde_json::from_str(&r.text().unwrap()).unwrap_or(Value::Null))
    }

    fn url(&self, version: &str, log: &str, query: &[(&str, &str)]) -> String {
        let base = format!("{}/{version}/auditLogs/{log}", self.c.graph_url);
        reqwest::Url::parse_with_params(&base, query).unwrap().to_string()
    }

    /// Every record of a listing, following nextLinks; and how many pages it took.
    fn all(&self, url: &str, token: &str) -> (Vec<Value>, usize) {
        let (mut out, mut pages, mut next) = (Vec::new(), 0, Some(url.to_string()));
        while let Some(u) = next {
            let (st, _, v) = self.get(&u, token);
            assert_eq!(st, 200, "{u}: {v}");
            out.extend(v["value"].as_array().unwrap().iter().cloned());
            pages += 1;
            next = v["@odata.nextLink"].as_str().map(str::to_string);
        }
        (out, pages)
    }

    fn whole(&self) -> String {
        format!(
            "createdDateTime ge {} and createdDateTime lt {}",
            iso_seconds_z(self.tenant.start_ms),
            iso_seconds_z(self.tenant.spec.end_ms)
        )
    }

    fn signin_ids(&self, kinds: &[SignInKind]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.tenant.for_each_signin(|s| {
            if kinds.contains(&s.kind) {
                out.insert(s.id.clone());
            }
        });
        out
    }
}

fn ids(records: &[Value]) -> BTreeSet<String> {
    records.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

fn newest_first(records: &[Value], field: &str) {
    let times: Vec<&str> = records.iter().map(|r| r[field].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first");
}

#[test]
fn sim_entra_sign_ins_page_newest_first_with_filters_on_v1_and_beta() {
    let s = start(|_| {});
    let t = s.app_token();
    let whole = s.whole();
    // v1.0: the interactive log, v1.0's properties.
    let (v1, pages) = s.all(&s.url("v1.0", "signIns", &[("$filter", &whole), ("$top", "5")]), &t);
    assert!(pages > 2, "{pages}");
    assert_eq!(ids(&v1), s.signin_ids(&[SignInKind::Interactive]));
    assert_eq!(ids(&v1).len(), v1.len(), "no record twice");
    newest_first(&v1, "createdDateTime");
    assert!(v1.iter().all(|r| r.get("sessionId").is_none() && r["isInteractive"] == true));
    // beta: each log by signInEventTypes, and all of them at once.
    for kind in [SignInKind::Interactive, SignInKind::NonInteractive, SignInKind::ServicePrincipal] {
        let f = format!("{whole} and (signInEventTypes/any(t: t eq '{}'))", kind.graph_name());
        let (got, _) = s.all(&s.url("beta", "signIns", &[("$filter", &f), ("$top", "40")]), &t);
        assert_eq!(ids(&got), s.signin_ids(&[kind]), "{kind:?}");
        assert!(got.iter().all(|r| r["signInEventTypes"][0] == kind.graph_name()));
    }
    let every = format!(
        "{whole} and signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser' or t eq 'servicePrincipal')"
    );
    let (all, _) = s.all(&s.url("beta", "signIns", &[("$filter", &every)]), &t);
    assert_eq!(ids(&all), s.signin_ids(&SignInKind::ALL));
    newest_first(&all, "createdDateTime");
    // Without the lambda, beta lists interactive sign-ins only, as Microsoft documents.
    let (plain, _) = s.all(&s.url("beta", "signIns", &[("$filter", &whole)]), &t);
    assert_eq!(ids(&plain), ids(&v1));
    // One day; one user's wrong passwords; the attacker's address.
    let day = iso_seconds_z(s.tenant.spec.end_ms - 86_400_000);
    let f = format!("createdDateTime ge {day}");
    let (last_day, _) = s.all(&s.url("v1.0", "signIns", &[("$filter", &f)]), &t);
    assert!(!last_day.is_empty() && last_day.len() < v1.len());
    assert!(last_day.iter().all(|r| r["createdDateTime"].as_str().unwrap() >= day.as_str()));
    let victim = s.c.victim.clone().unwrap();
    let f = format!("userPrincipalName eq '{victim}' and status/errorCode eq 50126");
    let (wrong, _) = s.all(&s.url("v1.0", "signIns", &[("$filter", &f)]), &t);
    assert!(wrong.len() >= 3, "the spray and the proxied attempts: {}", wrong.len());
    assert!(wrong.iter().all(|r| r["userPrincipalName"] == victim.as_str() && r["status"]["errorCode"] == 50126));
    let f = format!("ipAddress eq '{ATTACKER_IP}'");
    let (proxy, _) = s.all(&s.url("beta", "signIns", &[("$filter", &f)]), &t);
    assert!(proxy.iter().any(|r| r["status"]["errorCode"] == 0 && r["userAgent"] == "axios/1.7.7"));
    // What Graph refuses.
    let bad = |u: String| {
        let (st, _, v) = s.get(&u, &t);
        assert_eq!((st, v["error"]["code"].as_str()), (400, Some("BadRequest")), "{u}: {v}");
        v["error"]["message"].as_str().unwrap().to_string()
    };
    let lambda = "signInEventTypes/any(t: t eq 'nonInteractiveUser')";
    assert!(bad(s.url("v1.0", "signIns", &[("$filter", lambda)])).contains("signInEventTypes"));
    bad(s.url("v1.0", "signIns", &[("$top", "1001")]));
    bad(s.url("v1.0", "signIns", &[("$filter", "createdDateTime ge yesterday")]));
    bad(s.url("v1.0", "signIns", &[("$filter", "startsWith(appDisplayName,'Graph')")]));
    bad(s.url("v1.0", "signIns", &[("$skiptoken", "not-a-token")]));
}

#[test]
fn sim_entra_directory_audits_page_and_filter() {
    let s = start(|_| {});
    let t = s.app_token();
    let mut want = BTreeSet::new();
    s.tenant.for_each_audit(|a| {
        want.insert(a.id.clone());
    });
    assert!(want.len() >= 5);
    for version in ["v1.0", "beta"] {
        let (all, pages) = s.all(&s.url(version, "directoryAudits", &[("$top", "3")]), &t);
        assert!(pages > 1);
        assert_eq!(ids(&all), want, "{version}");
        newest_first(&all, "activityDateTime");
    }
    let (consent, _) =
        s.all(&s.url("v1.0", "directoryAudits", &[("$filter", "activityDisplayName eq 'Consent to application'")]), &t);
    assert_eq!(consent.len(), 1);
    let text = consent[0].to_string();
    assert!(text.contains("Mail.ReadWrite") && text.contains("offline_access"), "{text}");
    let victim = s.c.victim.clone().unwrap();
    let f = format!(
        "initiatedBy/user/userPrincipalName eq '{victim}' and activityDateTime ge {}",
        iso_seconds_z(s.tenant.start_ms)
    );
    let (by_victim, _) = s.all(&s.url("v1.0", "directoryAudits", &[("$filter", &f)]), &t);
    let names: BTreeSet<&str> = by_victim.iter().map(|a| a["activityDisplayName"].as_str().unwrap()).collect();
    for n in ["User registered security info", "Add delegated permission grant", "Consent to application"] {
        assert!(names.contains(n), "{names:?}");
    }
    let key = s.http.get(format!("{}/answer-key", s.c.admin_url)).send().unwrap().json::<Value>().unwrap();
    let keyed: BTreeSet<&str> = key["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "directory-audit")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(keyed.iter().all(|id| want.contains(*id)) && keyed.len() == 5, "{keyed:?}");
}

#[test]
fn sim_entra_logs_need_audit_log_read_all_and_sign_ins_a_premium_licence() {
    let s = start(|_| {});
    let none = s.token(&s.c.unprivileged_client_id, &s.c.unprivileged_client_secret);
    for log in ["signIns", "directoryAudits"] {
        let (st, _, v) = s.get(&s.url("v1.0", log, &[]), &none);
        assert_eq!((st, v["error"]["code"].as_str()), (403, Some("Authentication_MSGraphPermissionMissing")), "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("AuditLog.Read.All"));
        assert!(v["error"]["innerError"]["request-id"].is_string());
        let (st, h, v) = s.get(&s.url("beta", log, &[]), "not-a-token");
        assert_eq!((st, v["error"]["code"].as_str()), (401, Some("InvalidAuthenticationToken")));
        assert!(h.contains_key("www-authenticate"));
    }
    let free = start(|c| c.entra_premium = false);
    let t = free.app_token();
    let (st, _, v) = free.get(&free.url("beta", "signIns", &[]), &t);
    assert_eq!((st, v["error"]["code"].as_str()), (403, Some("Authentication_RequestFromNonPremiumTenantOrB2CTenant")));
    assert_eq!(v["error"]["message"], "Neither tenant is B2C or tenant doesn't have premium license");
    assert_eq!(free.get(&free.url("v1.0", "directoryAudits", &[]), &t).0, 200, "audits need no premium licence");
}

#[test]
fn sim_entra_logs_meet_the_faults() {
    let s = start(|_| {});
    let t = s.app_token();
    let faults = |list: &[&str]| {
        let r = s.http.put(format!("{}/faults", s.c.admin_url)).json(&json!(list)).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
    };
    let url = s.url("beta", "signIns", &[("$filter", &s.whole()), ("$top", "10")]);
    faults(&["throttle-429:rate=1,max=1,retry_after_s=2"]);
    let (st, h, _) = s.get(&url, &t);
    assert_eq!((st, h["retry-after"].to_str().unwrap()), (429, "2"));
    faults(&["server-error:rate=1,max=2,burst=2"]);
    assert_eq!([s.get(&url, &t).0, s.get(&url, &t).0, s.get(&url, &t).0], [500, 503, 200]);
    faults(&["malformed-record:rate=1,max=1"]);
    let page = s.get(&url, &t).2;
    let bad: Vec<&Value> =
        page["value"].as_array().unwrap().iter().filter(|r| r["createdDateTime"].is_null()).collect();
    assert_eq!(bad.len(), 1);
    assert!(bad[0]["status"].is_string());
    faults(&["eventual-consistency:rate=1,max=1"]);
    let p1 = s.get(&url, &t).2;
    let p2 = s.get(p1["@odata.nextLink"].as_str().unwrap(), &t).2;
    assert_eq!(p2["value"][0]["id"], p1["value"][9]["id"], "a record repeats across pages");
    faults(&["token-expiry:rate=1,max=1"]);
    assert_eq!(s.get(&url, &t).0, 401);
    assert_eq!(s.get(&url, &s.app_token()).0, 200);
    let counts = s.http.get(format!("{}/faults", s.c.admin_url)).send().unwrap().json::<Value>().unwrap();
    for k in ["throttle-429", "server-error", "malformed-record", "eventual-consistency", "token-expiry"] {
        assert!(counts["counts"][k]["fired"].as_u64().unwrap() >= 1, "{k}: {counts}");
    }
}

#[test]
fn sim_export_entra_logs_import_with_the_exact_event_count() {
    let tenant = Tenant::generate(tidemark_sim::ScenarioSpec::preset("small").unwrap());
    let (mut signins, mut audits) = (0u64, 0u64);
    tenant.for_each_signin(|_| signins += 1);
    tenant.for_each_audit(|_| audits += 1);
    let dir = tempfile::tempdir().unwrap();
    let tidemark =
        |args: &[&str]| Command::new(binary("tidemark")).args(args).env("USER", "sim-tester").output().unwrap();
    for (format, n, detected) in
        [("entra-signins-json", signins, "entra-signin-json"), ("entra-audits-json", audits, "entra-audit-json")]
    {
        let out = dir.path().join(format!("{format}.json"));
        let o = Command::new(binary("tidemark-sim"))
            .args(["export", "--scenario", "small", "--format", format, "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let page: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(page["value"].as_array().unwrap().len() as u64, n);
        let case = dir.path().join(format!("{format}.tidemark"));
        assert!(tidemark(&["case", "new", case.to_str().unwrap(), "--name", format]).status.success());
        let o = tidemark(&["import", case.to_str().unwrap(), out.to_str().unwrap()]);
        assert!(o.status.success(), "{o:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains(&format!("{n} records read, {n} new events, 0 duplicates, 0 malformed")), "{text}");
        let db = rusqlite::Connection::open(&case).unwrap();
        let sources: Vec<String> = db
            .prepare("SELECT DISTINCT source FROM event")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(sources, [detected], "{format}");
    }
}
