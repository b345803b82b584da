//! Setting up a live collection against the simulated tenant: certificates in PFX files (modern and
//! legacy encryption, the password from the keychain) with PS256 and RS256; the preflight checklist (a
//! privileged app, an app without permissions, a wrong secret, the legacy Activities API before and
//! after its shutdown, a cloud without Graph audit queries); and Graph windows split in two when a
//! query keeps ending `failed` or would return more records than one query may, the halves tiling the
//! parent exactly and the case holding exactly the sim's records.
//!
//! The sim's clock, the runtime, stored keys and faults met come from `collect`; the `Sim` here builds
//! profiles for any client id, which `collect`'s does not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use tidemark_collect::auth::Interaction;
use tidemark_collect::cloud::{Cloud, Endpoints};
use tidemark_collect::http::{Api, Req, RetryPolicy};
use tidemark_collect::preflight::{preflight, Check};
use tidemark_collect::profile::SourceOptions;
use tidemark_collect::run::{RunOptions, RunReport, Runner, CONTENT_TYPES};
use tidemark_collect::secrets::{MemoryStore, Secret, SecretKind, SecretStore};
use tidemark_collect::{Profile, SignIn, Source};
use tidemark_core::{CaseWriter, Clock};
use tidemark_sim::{Credentials, RunningSim, SimConfig, Tenant};

use crate::collect::{ledger_faults, rt, stored, ual_key, SimTime};

const HOUR: i64 = 3_600_000;
const PFX_PASSWORD: &str = "tidemark-test";

struct Sim {
    sim: RunningSim,
    c: Credentials,
    tenant: Tenant,
}

fn start(tweak: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut cfg = SimConfig::for_scenario("small").unwrap();
    tweak(&mut cfg);
    let sim = RunningSim::spawn(cfg).unwrap();
    let c = sim.credentials();
    let tenant = Tenant::generate(sim.state.config.scenario.clone());
    let s = Sim { sim, c, tenant };
    // Three more hours: every content blob of the scenario is then available.
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/clock", s.c.admin_url))
        .json(&json!({"advance_s": 3 * 3600}))
        .send()
        .unwrap();
    assert!(r.status().is_success());
    s
}

impl Sim {
    fn set_faults(&self, faults: &[&str]) {
        let r = reqwest::blocking::Client::new()
            .put(format!("{}/faults", self.c.admin_url))
            .json(&json!(faults))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }

    fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(SimTime(self.sim.state.clone()))
    }

    fn profile(&self, client_id: &str, sign_in: SignIn, sources: Vec<Source>) -> Profile {
        Profile {
            id: "sim".into(),
            display_name: "Simulated tenant".into(),
            cloud: Cloud::Global,
            tenant: self.c.tenant_id.clone(),
            client_id: client_id.to_string(),
            sign_in,
            sources,
            options: SourceOptions { mailboxes: self.c.users.clone(), ..SourceOptions::default() },
            endpoints: Endpoints {
                login: Some(self.c.login_url.clone()),
                management: Some(self.c.management_url.clone()),
                graph: Some(self.c.graph_url.clone()),
                outlook: Some(self.c.outlook_url.clone()),
            },
            origin: "simulated-tenant".into(),
        }
    }

    /// The privileged confidential client, signing in with `secret`.
    fn secret_profile(&self, client_id: &str, secret: &str, sources: Vec<Source>) -> (Profile, Arc<MemoryStore>) {
        let m = MemoryStore::default();
        m.set("sim", SecretKind::ClientSecret, &Secret::new(secret)).unwrap();
        (self.profile(client_id, SignIn::ClientSecret, sources), Arc::new(m))
    }

    fn api(&self, profile: Profile, secrets: Arc<MemoryStore>) -> Arc<Api> {
        let auth = tidemark_collect::auth::Auth::new(profile, secrets, self.clock(), Interaction::default()).unwrap();
        let policy = RetryPolicy { base_ms: 20, max_ms: 3000, ..RetryPolicy::default() };
        Arc::new(Api::new(Arc::new(auth), policy).unwrap())
    }

    fn range(&self) -> (i64, i64) {
        (self.tenant.start_ms, self.tenant.spec.end_ms + HOUR)
    }

    /// Every UAL record of the tenant: record key (`collect::ual_key`) → CreationTime (Unix ms).
    fn ual_records(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        self.tenant.for_each_record(|_, r| {
            let t = tidemark_sim::wire::parse_time(r["CreationTime"].as_str().unwrap()).unwrap();
            out.insert(ual_key(r), t);
        });
        out
    }
}

fn checks(api: &Api, sources: &[Source], mailboxes: &[String], content_types: &[String]) -> Vec<Check> {
    rt().block_on(preflight(api, sources, mailboxes, content_types))
}

/// The lines of one source and check.
fn lines<'a>(cs: &'a [Check], source: Source, check: &str) -> Vec<&'a Check> {
    cs.iter().filter(|c| c.source == source.as_str() && c.check == check).collect()
}

/// The only line of one source and check.
fn line<'a>(cs: &'a [Check], source: Source, check: &str) -> &'a Check {
    let l = lines(cs, source, check);
    assert_eq!(l.len(), 1, "{source:?} {check}: {cs:#?}");
    l[0]
}

fn collect(s: &Sim, api: Arc<Api>, dir: &Path, opts: RunOptions) -> (PathBuf, RunReport) {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("collect.tidemark");
    let case = CaseWriter::create(&path, "collect", s.clock(), "tester").unwrap();
    let (_, report) = rt().block_on(Runner::new(api, s.clock(), opts).start(case, &mut |_| {})).unwrap();
    (path, report)
}

fn assert_records(path: &Path, want: &BTreeSet<String>, what: &str) {
    let (keys, n) = stored(path);
    assert_eq!(n, keys.len(), "{what}: duplicated events");
    let lost: Vec<&String> = want.difference(&keys).take(5).collect();
    let extra: Vec<&String> = keys.difference(want).take(5).collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "{what}: {} lost (e.g. {lost:?}), {} extra (e.g. {extra:?})",
        want.difference(&keys).count(),
        keys.difference(want).count()
    );
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/tidemark-collect/tests-data").join(name)
}

// ----- PFX certificates ---------------------------------------------------------------------------

#[test]
fn collect_setup_pfx_certificate_with_its_password_in_the_keychain_signs_in_and_collects() {
    let s = start(|c| c.graph_polls_running = 0);
    let dir = tempfile::tempdir().unwrap();
    let want: BTreeSet<String> = s.ual_records().into_keys().collect();
    let (from, to) = s.range();
    let cert = |file: &str, alg: &str| SignIn::Certificate {
        path: Some(fixture(file)),
        key_in_keychain: false,
        algorithm: alg.into(),
    };
    let with_password = |pw: Option<&str>| {
        let m = MemoryStore::default();
        if let Some(pw) = pw {
            m.set("sim", SecretKind::CertificatePassword, &Secret::new(pw)).unwrap();
        }
        Arc::new(m)
    };
    for (file, alg, collects) in [
        ("sim-client.pfx", "PS256", true),
        ("sim-client-legacy.pfx", "RS256", true),
        ("sim-client.pfx", "RS256", false),
        ("sim-client-legacy.pfx", "PS256", false),
    ] {
        let what = format!("{file} {alg}");
        let profile = s.profile(&s.c.confidential_client_id, cert(file, alg), vec![Source::Graph]);
        let api = s.api(profile, with_password(Some(PFX_PASSWORD)));
        let cs = checks(&api, &[Source::Management, Source::Graph], &[], &[]);
        for src in [Source::Management, Source::Graph] {
            assert_eq!(line(&cs, src, "token").status, "ok", "{what}: {cs:#?}");
            assert_eq!(line(&cs, src, "permission").status, "ok", "{what}: {cs:#?}");
        }
        if collects {
            let (path, report) = collect(
                &s,
                api,
                &dir.path().join(what.replace(' ', "-")),
                RunOptions::new(from, to, vec![Source::Graph]),
            );
            assert!(report.records > 0 && !report.stopped_early, "{what}: {report:?}");
            assert_records(&path, &want, &what);
        }
    }
    // A wrong password, or none in the keychain: the token line fails and says it is the password.
    for (pw, what) in [(Some("not-the-password"), "wrong password"), (None, "no password stored")] {
        let profile = s.profile(&s.c.confidential_client_id, cert("sim-client.pfx", "PS256"), vec![Source::Graph]);
        let cs = checks(&s.api(profile, with_password(pw)), &[Source::Graph], &[], &[]);
        assert_eq!(cs.len(), 1, "{what}: a source without a token gets no further lines: {cs:#?}");
        let t = line(&cs, Source::Graph, "token");
        assert_eq!(t.status, "fail", "{what}");
        assert!(t.message.contains("PFX") && t.message.contains("password"), "{what}: {}", t.message);
    }
}

// ----- Preflight ----------------------------------------------------------------------------------

#[test]
fn collect_setup_preflight_checklist_for_a_privileged_app_an_unprivileged_app_and_a_wrong_secret() {
    let s = start(|c| c.graph_polls_running = 0);
    let cts: Vec<String> = CONTENT_TYPES.iter().map(|c| c.to_string()).collect();
    let all = Source::ALL.to_vec();

    // The privileged confidential client: everything answers; subscriptions are not started yet.
    let (profile, secrets) = s.secret_profile(&s.c.confidential_client_id, &s.c.client_secret, all.clone());
    let api = s.api(profile, secrets);
    let cs = checks(&api, &all, &s.c.users, &cts);
    for src in Source::ALL {
        assert_eq!(line(&cs, src, "token").status, "ok", "{src:?}: {cs:#?}");
    }
    let m = Source::Management;
    assert_eq!(line(&cs, m, "permission").status, "ok");
    assert!(line(&cs, m, "permission").message.contains("ActivityFeed.Read"));
    assert_eq!(line(&cs, m, "auditing").status, "ok");
    assert_eq!(line(&cs, Source::Graph, "permission").status, "ok");
    assert!(line(&cs, Source::Graph, "permission").message.contains("AuditLogsQuery.Read.All"));
    assert_eq!(line(&cs, Source::Activities, "available").status, "ok");
    let subs = lines(&cs, m, "subscription");
    assert_eq!(subs.len(), cts.len(), "one line per content type: {cs:#?}");
    for (sub, ct) in subs.iter().zip(&cts) {
        assert_eq!(sub.status, "warn", "{ct}: before any collection, no subscription exists");
        assert!(sub.message.contains(ct.as_str()), "{}", sub.message);
        assert!(sub.fix.contains("starts it") && sub.fix.contains("12 hours"), "{}", sub.fix);
    }
    for c in &cs {
        assert!(c.status == "ok" || c.status == "warn", "{c:?}");
        assert_eq!(c.status == "ok", c.fix.is_empty(), "an ok line has nothing to fix, others do: {c:?}");
    }
    // A Management collection starts the subscriptions; the next preflight says so.
    let dir = tempfile::tempdir().unwrap();
    let (from, to) = s.range();
    let (_, report) = collect(&s, api.clone(), dir.path(), RunOptions::new(to - 6 * HOUR, to, vec![m]));
    assert!(!report.stopped_early && report.coverage.iter().all(|c| c.status == "done"), "{report:?}");
    assert!(from < to - 6 * HOUR);
    let cs = checks(&api, &[m], &[], &cts);
    let subs = lines(&cs, m, "subscription");
    assert_eq!(subs.len(), cts.len());
    for sub in subs {
        assert_eq!(sub.status, "ok", "{sub:?}");
        assert!(sub.fix.is_empty());
    }
    // Only the content types asked about are listed.
    let one = vec!["Audit.Exchange".to_string()];
    assert_eq!(lines(&checks(&api, &[m], &[], &one), m, "subscription").len(), 1);

    // The unprivileged client signs in, but has no permission: the fix names it and the admin consent.
    let (profile, secrets) =
        s.secret_profile(&s.c.unprivileged_client_id, &s.c.unprivileged_client_secret, all.clone());
    let cs = checks(&s.api(profile, secrets), &[m, Source::Graph], &[], &cts);
    for (src, permission) in [(m, "ActivityFeed.Read"), (Source::Graph, "AuditLogsQuery.Read.All")] {
        assert_eq!(line(&cs, src, "token").status, "ok", "{src:?}: {cs:#?}");
        let p = line(&cs, src, "permission");
        assert_eq!(p.status, "fail", "{p:?}");
        assert!(p.fix.contains(permission), "{src:?}: {}", p.fix);
        assert!(p.fix.contains("administrator") && p.fix.contains("consent"), "{src:?}: {}", p.fix);
    }
    assert!(line(&cs, m, "permission").message.contains("ActivityFeed.Read"), "{cs:#?}");
    assert!(line(&cs, m, "permission").detail.contains("AF10001"), "the server's code is in the detail: {cs:#?}");
    assert!(lines(&cs, m, "auditing").is_empty() && lines(&cs, m, "subscription").is_empty(), "{cs:#?}");

    // A wrong client secret: every source's token line fails with a plain message, and nothing more.
    let (profile, secrets) = s.secret_profile(&s.c.confidential_client_id, "not-the-secret", all.clone());
    let cs = checks(&s.api(profile, secrets), &all, &s.c.users, &cts);
    assert_eq!(cs.len(), all.len(), "{cs:#?}");
    for src in Source::ALL {
        let t = line(&cs, src, "token");
        assert_eq!(t.status, "fail");
        assert!(t.message.contains("client secret") && t.message.contains("wrong"), "{}", t.message);
        assert!(!t.message.contains("AADSTS") && !t.message.contains("invalid_client"), "plain: {}", t.message);
        assert!(!t.fix.contains("AADSTS") && t.fix.contains("admin"), "the fix is plain: {}", t.fix);
        assert!(t.detail.contains("AADSTS"), "Microsoft's answer is kept as the detail: {t:?}");
        assert!(
            !t.message.contains("not-the-secret")
                && !t.fix.contains("not-the-secret")
                && !t.detail.contains("not-the-secret"),
            "{t:?}"
        );
    }
    // No secret stored at all.
    let profile = s.profile(&s.c.confidential_client_id, SignIn::ClientSecret, all);
    let cs = checks(&s.api(profile, Arc::new(MemoryStore::default())), &[Source::Graph], &[], &[]);
    let t = line(&cs, Source::Graph, "token");
    assert!(t.status == "fail" && t.message.contains("No client secret is stored"), "{t:?}");
}

#[test]
fn collect_setup_preflight_for_the_legacy_activities_api_and_a_cloud_without_graph_audit_queries() {
    let s = start(|_| {});
    let a = Source::Activities;
    let (profile, secrets) = s.secret_profile(&s.c.confidential_client_id, &s.c.client_secret, vec![a]);
    let api = s.api(profile, secrets);
    assert_eq!(line(&checks(&api, &[a], &s.c.users, &[]), a, "available").status, "ok");
    // No mailbox named: nothing to ask the API about.
    let cs = checks(&api, &[a], &[], &[]);
    let l = line(&cs, a, "available");
    assert!(l.status == "fail" && l.fix.contains("mailbox"), "{l:?}");
    // Microsoft's July 2018 shutdown (the sim's `activities-shutdown` fault: 403 "AppId … is not allowed").
    s.set_faults(&["activities-shutdown"]);
    let cs = checks(&api, &[a], &s.c.users, &[]);
    assert_eq!(line(&cs, a, "token").status, "ok");
    let l = line(&cs, a, "available");
    assert_eq!(l.status, "fail", "{l:?}");
    assert!(l.message.contains("disabled") && l.message.contains("July 2018"), "{}", l.message);
    assert!(l.fix.contains("Management Activity API") && l.fix.contains("Graph"), "{}", l.fix);
    s.set_faults(&[]);

    // GCC High has no Graph audit log queries: said without asking for a token.
    let (mut profile, secrets) = s.secret_profile(&s.c.confidential_client_id, &s.c.client_secret, vec![]);
    profile.cloud = Cloud::GccHigh;
    let cs = checks(&s.api(profile, secrets), &[Source::Graph], &[], &[]);
    assert_eq!(cs.len(), 1, "{cs:#?}");
    let l = line(&cs, Source::Graph, "available");
    assert!(l.status == "fail" && l.fix.contains("Management Activity API"), "{l:?}");
}

// ----- Graph window splitting ---------------------------------------------------------------------

/// One ledger row.
#[derive(Debug, Clone)]
struct Row {
    id: i64,
    parent: Option<i64>,
    start: i64,
    end: i64,
    status: String,
    error_code: Option<String>,
    error: Option<String>,
}

fn graph_ledger(path: &Path) -> Vec<Row> {
    let db = rusqlite::Connection::open(path).unwrap();
    let mut st = db
        .prepare(
            "SELECT id, parent_id, start_ms, end_ms, status, error_code, error FROM collection_window \
             WHERE source = 'graph' ORDER BY id",
        )
        .unwrap();
    let rows = st
        .query_map([], |r| {
            Ok(Row {
                id: r.get(0)?,
                parent: r.get(1)?,
                start: r.get(2)?,
                end: r.get(3)?,
                status: r.get(4)?,
                error_code: r.get(5)?,
                error: r.get(6)?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

/// Checks the split tree: every `split` window has exactly two children that tile `[start, end)` with
/// no gap and no overlap, only split windows have children, and the top-level windows tile `[from, to)`.
/// Returns the leaves (windows that were not split), in time order.
fn assert_tiling(rows: &[Row], from: i64, to: i64) -> Vec<Row> {
    let children = |id: Option<i64>| {
        let mut c: Vec<&Row> = rows.iter().filter(|r| r.parent == id).collect();
        c.sort_by_key(|r| r.start);
        c
    };
    let tiles = |parts: &[&Row], a: i64, b: i64| {
        assert!(!parts.is_empty());
        assert_eq!(parts[0].start, a, "first part starts where the whole starts: {parts:?}");
        for w in parts.windows(2) {
            assert_eq!(w[0].end, w[1].start, "gap or overlap between {:?} and {:?}", w[0], w[1]);
        }
        assert_eq!(parts.last().unwrap().end, b, "last part ends where the whole ends: {parts:?}");
        for p in parts {
            assert!(p.start < p.end, "empty window {p:?}");
        }
    };
    tiles(&children(None), from, to);
    for r in rows {
        let kids = children(Some(r.id));
        if r.status == "split" {
            assert_eq!(kids.len(), 2, "a split window has two halves: {r:?} → {kids:?}");
            tiles(&kids, r.start, r.end);
            assert_eq!(kids[0].end, r.start + (r.end - r.start) / 2, "split in the middle: {r:?}");
        } else {
            assert!(kids.is_empty(), "only split windows have children: {r:?}");
        }
    }
    let mut leaves: Vec<Row> = rows.iter().filter(|r| r.status != "split").cloned().collect();
    leaves.sort_by_key(|r| r.start);
    tiles(&leaves.iter().collect::<Vec<_>>(), from, to);
    leaves
}

/// The windows a collection ends with, from the plan's 24-hour windows, when a window longer than an
/// hour is halved while `split(records in it, depth)` says so (the collector's rule, mirrored).
fn leaves_when(times: &[i64], from: i64, to: i64, split: &dyn Fn(u64, u32) -> bool) -> Vec<(i64, i64)> {
    fn walk(times: &[i64], a: i64, b: i64, d: u32, split: &dyn Fn(u64, u32) -> bool, out: &mut Vec<(i64, i64)>) {
        let n = times.iter().filter(|t| (a..b).contains(t)).count() as u64;
        if b - a > HOUR && split(n, d) {
            let mid = a + (b - a) / 2;
            walk(times, a, mid, d + 1, split, out);
            walk(times, mid, b, d + 1, split, out);
        } else {
            out.push((a, b));
        }
    }
    let mut out = Vec::new();
    let mut a = from;
    while a < to {
        let b = (a + 24 * HOUR).min(to);
        walk(times, a, b, 0, split, &mut out);
        a = b;
    }
    out
}

#[test]
fn collect_setup_graph_window_over_the_record_limit_is_split_until_each_half_fits() {
    // The limit: the most records in any window three halvings below the plan's 24-hour windows, so
    // busy days split up to three times and no leaf is over it.
    let probe = Tenant::generate(SimConfig::for_scenario("small").unwrap().scenario);
    let (from, to) = (probe.start_ms, probe.spec.end_ms + HOUR);
    let mut records = BTreeMap::new();
    probe.for_each_record(|_, r| {
        let t = tidemark_sim::wire::parse_time(r["CreationTime"].as_str().unwrap()).unwrap();
        records.insert(ual_key(r), t);
    });
    let times: Vec<i64> = records.values().copied().collect();
    let count = |(a, b): (i64, i64)| times.iter().filter(|t| (a..b).contains(*t)).count() as u64;
    let limit = leaves_when(&times, from, to, &|_, d| d < 3).into_iter().map(count).max().unwrap();
    let day_max = leaves_when(&times, from, to, &|_, _| false).into_iter().map(count).max().unwrap();
    assert!(limit > 0 && day_max > limit, "the scenario must have a day over the limit ({day_max} vs {limit})");
    let want_leaves = leaves_when(&times, from, to, &|n, _| n > limit);
    assert!(want_leaves.len() >= 6, "several splits are forced: {want_leaves:?}");

    let s = start(|c| {
        c.graph_polls_running = 0;
        c.graph_query_record_limit = Some(limit);
    });
    assert_eq!(s.range(), (from, to));
    assert_eq!(s.ual_records(), records);
    let (profile, secrets) = s.secret_profile(&s.c.confidential_client_id, &s.c.client_secret, vec![Source::Graph]);
    let api = s.api(profile, secrets);

    // The sim's knob on the wire: a query over everything says it is over the limit and serves only
    // the first `limit` records, paged, with no link past them.
    let mut wire_ids = BTreeSet::new();
    s.tenant.for_each_record(|_, r| {
        wire_ids.insert(r["Id"].as_str().unwrap().to_string());
    });
    rt().block_on(async {
        let graph = format!("{}/beta/security/auditLog/queries", s.c.graph_url);
        let res = api.auth().resolved().graph_resource.clone();
        let body = json!({"filterStartDateTime": tidemark_core::time::iso_ms(from),
            "filterEndDateTime": tidemark_core::time::iso_ms(to)});
        let (f, q) = api.send_json(&Req::post(&graph, &res, Some(body))).await.unwrap();
        assert_eq!(f.status, 201, "{q}");
        let (_, q) = api.send_json(&Req::get(format!("{graph}/{}", q["id"].as_str().unwrap()), &res)).await.unwrap();
        assert_eq!(q["status"], "succeeded", "{q}");
        assert_eq!(q["isRecordCountLimitExceeded"], true, "{q}");
        assert_eq!(q["recordCountLimit"], limit, "{q}");
        assert_eq!(q["approximateReturnedRecordCount"], limit, "{q}");
        let mut next = Some(format!("{graph}/{}/records?$top=7", q["id"].as_str().unwrap()));
        let mut got = Vec::new();
        while let Some(url) = next {
            let (_, page) = api.send_json(&Req::get(url, &res)).await.unwrap();
            got.extend(page["value"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()));
            next = page["@odata.nextLink"].as_str().map(str::to_string);
        }
        assert_eq!(got.len() as u64, limit, "exactly the limit is served");
        assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), got.len());
        assert!(got.iter().all(|id| wire_ids.contains(id)));
    });

    let dir = tempfile::tempdir().unwrap();
    let mut opts = RunOptions::new(from, to, vec![Source::Graph]);
    opts.page_size = 25;
    let started = std::time::Instant::now();
    let (path, report) = collect(&s, api, dir.path(), opts);
    eprintln!("record limit {limit}: {} leaves in {:?}", want_leaves.len(), started.elapsed());
    assert!(!report.stopped_early, "{report:?}");

    let rows = graph_ledger(&path);
    let leaves = assert_tiling(&rows, from, to);
    for l in &leaves {
        assert_eq!(l.status, "done", "every leaf is done: {l:?}");
    }
    // Exactly the windows the rule gives: nothing split that fits, nothing kept that does not.
    let got: Vec<(i64, i64)> = leaves.iter().map(|l| (l.start, l.end)).collect();
    assert_eq!(got, want_leaves);
    assert!(rows.iter().filter(|r| r.status == "split").count() >= 3, "{rows:#?}");
    assert_eq!(report.coverage.len(), leaves.len(), "the coverage map shows the leaves, not the split parents");
    assert_records(&path, &records.keys().cloned().collect(), "record limit");

    // An hour over the limit is not split further: it fails and says why; the hours that fit are kept.
    let s = start(|c| {
        c.graph_polls_running = 0;
        c.graph_query_record_limit = Some(1);
    });
    let (mut profile, secrets) = s.secret_profile(&s.c.confidential_client_id, &s.c.client_secret, vec![Source::Graph]);
    profile.options.window_hours = Some(1);
    let to = from + 12 * HOUR;
    let (path, _) =
        collect(&s, s.api(profile, secrets), &dir.path().join("floor"), RunOptions::new(from, to, vec![Source::Graph]));
    let rows = graph_ledger(&path);
    let leaves = assert_tiling(&rows, from, to);
    assert!(rows.iter().all(|r| r.status != "split"), "{rows:#?}");
    let mut want = BTreeSet::new();
    let mut failed = 0;
    for l in &leaves {
        let ids: Vec<&String> =
            records.iter().filter(|(_, t)| (l.start..l.end).contains(*t)).map(|(id, _)| id).collect();
        if ids.len() > 1 {
            failed += 1;
            assert_eq!((l.status.as_str(), l.error_code.as_deref()), ("failed", Some("collect.query_failed")), "{l:?}");
            let msg = l.error.as_deref().unwrap_or_default();
            assert!(msg.contains("more records than one Graph audit query may return"), "{msg}");
            assert!(!msg.contains("kept failing"), "{msg}");
        } else {
            assert_eq!(l.status, "done", "{l:?}");
            want.extend(ids.into_iter().cloned());
        }
    }
    assert!(failed > 0, "some hour holds more than one record");
    assert_records(&path, &want, "one-hour windows over the limit");
}

#[test]
fn collect_setup_graph_query_failing_more_than_the_attempts_is_split_then_fails_at_one_hour() {
    let s = start(|c| c.graph_polls_running = 0);
    let (from, to) = s.range();
    let records = s.ual_records();
    let all: BTreeSet<String> = records.keys().cloned().collect();
    let dir = tempfile::tempdir().unwrap();

    // The first four queries end `failed`, two attempts per window: the first window planned splits,
    // then the next one taken (the second day: halves are queued after the plan), then all succeed.
    s.set_faults(&["query-failed:rate=1,max=4"]);
    let (profile, secrets) = s.secret_profile(&s.c.confidential_client_id, &s.c.client_secret, vec![Source::Graph]);
    let mut opts = RunOptions::new(from, to, vec![Source::Graph]);
    opts.query_attempts = 2;
    opts.page_size = 40;
    let (path, report) = collect(&s, s.api(profile, secrets), &dir.path().join("split"), opts);
    assert!(!report.stopped_early, "{report:?}");
    let rows = graph_ledger(&path);
    let leaves = assert_tiling(&rows, from, to);
    for l in &leaves {
        assert_eq!(l.status, "done", "every leaf is done: {l:?}");
    }
    let splits: Vec<&Row> = rows.iter().filter(|r| r.status == "split").collect();
    assert_eq!(splits.len(), 2, "{rows:#?}");
    assert_eq!((splits[0].start, splits[0].end), (from, from + 24 * HOUR), "the first day split");
    assert!(splits[1].end - splits[1].start >= 12 * HOUR, "{:?}", splits[1]);
    assert!(rows.iter().filter(|r| r.status != "split").all(|r| r.end - r.start >= HOUR), "{rows:#?}");
    assert_eq!(ledger_faults(&path).get("query-failed"), Some(&4), "the ledger shows the failed queries");
    assert_records(&path, &all, "query failed");

    // One-hour windows cannot be split: the first fails for good with a plain message, the rest are
    // collected, and the coverage map shows the gap.
    s.set_faults(&["query-failed:rate=1,max=2"]);
    let (mut profile, secrets) = s.secret_profile(&s.c.confidential_client_id, &s.c.client_secret, vec![Source::Graph]);
    profile.options.window_hours = Some(1);
    let to = from + 6 * HOUR;
    let mut opts = RunOptions::new(from, to, vec![Source::Graph]);
    opts.query_attempts = 2;
    let (path, report) = collect(&s, s.api(profile, secrets), &dir.path().join("floor"), opts);
    let rows = graph_ledger(&path);
    let leaves = assert_tiling(&rows, from, to);
    assert_eq!(leaves.len(), 6);
    assert!(rows.iter().all(|r| r.status != "split"), "{rows:#?}");
    let first = &leaves[0];
    assert_eq!(first.status, "failed", "{first:?}");
    assert_eq!(first.error_code.as_deref(), Some("collect.query_failed"));
    assert!(first.error.as_deref().unwrap_or_default().contains("kept failing"), "{first:?}");
    for l in &leaves[1..] {
        assert_eq!(l.status, "done", "{l:?}");
    }
    assert!(report.coverage[0].blind_spots.iter().any(|b| b.contains("collect.query_failed")), "{report:?}");
    let want: BTreeSet<String> =
        records.iter().filter(|(_, t)| (from + HOUR..to).contains(*t)).map(|(id, _)| id.clone()).collect();
    assert_records(&path, &want, "one-hour floor");
}
