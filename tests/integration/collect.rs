//! Live collection (`tidemark-collect`) against the simulated tenant on loopback: every source (the
//! Entra ID logs too; `collect_entra` goes deeper into them) with
//! every sign-in method stores exactly the sim's record set (by record key); every fault, alone and all
//! together, loses and duplicates nothing and shows in the ledger; the CLI killed with SIGKILL and
//! resumed ends with exactly the record set; the keychain round trip; and no secret or token the sim
//! issued appears in the case, the logs or an export.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use tidemark_collect::auth::{Auth, BrowserOpener, DevicePrompt, Interaction};
use tidemark_collect::cloud::{Cloud, Endpoints};
use tidemark_collect::http::{Api, RetryPolicy};
use tidemark_collect::profile::SourceOptions;
use tidemark_collect::run::{RunOptions, RunReport, Runner};
use tidemark_collect::secrets::{MemoryStore, Secret, SecretKind, SecretStore};
use tidemark_collect::{Profile, SignIn, Source};
use tidemark_core::{CaseWriter, Clock};
use tidemark_sim::scenario::SignInKind;
use tidemark_sim::{Credentials, RunningSim, SimConfig, Tenant};

const HOUR: i64 = 3_600_000;

/// The sim's own clock: token and content rules run on it, so the collector must share it.
#[derive(Debug)]
pub(crate) struct SimTime(pub(crate) Arc<tidemark_sim::server::SimState>);

impl Clock for SimTime {
    fn now_ms(&self) -> i64 {
        self.0.now_ms()
    }
}

/// Follows the authorize URL over plain HTTP like a person in a browser: approval page, Accept, then
/// the redirect to Tidemark's real loopback listener.
#[derive(Debug)]
struct HttpOpener {
    login: String,
}

impl BrowserOpener for HttpOpener {
    fn open(&self, url: &str) -> Result<(), String> {
        let url = url.to_string();
        let login = self.login.clone();
        std::thread::spawn(move || {
            let http =
                reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let page = http.get(&url).send().unwrap().text().unwrap();
            let request_id =
                page.split("name=\"request_id\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
            let action = url.split('?').next().unwrap().to_string();
            let r = http
                .post(&action)
                .form(&[
                    ("request_id", request_id.as_str()),
                    ("login", login.as_str()),
                    ("password", "x"),
                    ("decision", "approve"),
                ])
                .send()
                .unwrap();
            let location = r.headers()["location"].to_str().unwrap().to_string();
            assert!(location.starts_with("http://localhost:"), "{location}");
            http.get(&location).send().unwrap();
        });
        Ok(())
    }
}

/// Approves the device code on the sim's device login page.
#[derive(Debug)]
struct ApproveDevice {
    login_url: String,
    login: String,
}

impl DevicePrompt for ApproveDevice {
    fn show(&self, user_code: &str, verification_uri: &str, _message: &str) {
        assert!(!verification_uri.is_empty());
        let (url, code, login) = (format!("{}/devicelogin", self.login_url), user_code.to_string(), self.login.clone());
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let r = reqwest::blocking::Client::new()
                .post(url)
                .form(&[("user_code", code.as_str()), ("login", login.as_str()), ("decision", "approve")])
                .send()
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        });
    }
}

pub(crate) struct Sim {
    pub(crate) sim: RunningSim,
    pub(crate) c: Credentials,
    pub(crate) tenant: Tenant,
}

pub(crate) fn start(tweak: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut cfg = SimConfig::for_scenario("small").unwrap();
    cfg.device_code_interval_s = 1;
    tweak(&mut cfg);
    let sim = RunningSim::spawn(cfg).unwrap();
    let c = sim.credentials();
    let tenant = Tenant::generate(sim.state.config.scenario.clone());
    let s = Sim { sim, c, tenant };
    // Three more hours: every content blob of the scenario is then available.
    s.admin_post("clock", &json!({"advance_s": 3 * 3600}));
    s
}

impl Sim {
    pub(crate) fn admin_post(&self, path: &str, body: &Value) {
        let r =
            reqwest::blocking::Client::new().post(format!("{}/{path}", self.c.admin_url)).json(body).send().unwrap();
        assert!(r.status().is_success());
    }

    pub(crate) fn set_faults(&self, faults: &[&str]) {
        let r = reqwest::blocking::Client::new()
            .put(format!("{}/faults", self.c.admin_url))
            .json(&json!(faults))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(SimTime(self.sim.state.clone()))
    }

    pub(crate) fn profile(&self, sign_in: SignIn, sources: Vec<Source>) -> Profile {
        let delegated = sign_in.is_delegated();
        Profile {
            id: "sim".into(),
            display_name: "Simulated tenant".into(),
            cloud: Cloud::Global,
            tenant: self.c.tenant_id.clone(),
            client_id: if delegated { self.c.public_client_id.clone() } else { self.c.confidential_client_id.clone() },
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

    pub(crate) fn secrets(&self) -> Arc<MemoryStore> {
        let m = MemoryStore::default();
        m.set("sim", SecretKind::ClientSecret, &Secret::new(self.c.client_secret.clone())).unwrap();
        Arc::new(m)
    }

    pub(crate) fn api(&self, profile: Profile, secrets: Arc<MemoryStore>) -> Arc<Api> {
        let interaction = Interaction {
            opener: Some(Arc::new(HttpOpener { login: self.c.investigator.clone() })),
            prompt: Some(Arc::new(ApproveDevice {
                login_url: self.c.login_url.clone(),
                login: self.c.investigator.clone(),
            })),
            timeout: Some(std::time::Duration::from_secs(60)),
            ..Interaction::default()
        };
        let auth = Auth::new(profile, secrets, self.clock(), interaction).unwrap();
        let policy = RetryPolicy { base_ms: 20, max_ms: 3000, ..RetryPolicy::default() };
        Arc::new(Api::new(Arc::new(auth), policy).unwrap())
    }

    pub(crate) fn range(&self) -> (i64, i64) {
        (self.tenant.start_ms, self.tenant.spec.end_ms + HOUR)
    }

    /// The record key of every UAL record of the tenant ([`ual_key`]).
    pub(crate) fn ual_ids(&self) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        self.tenant.for_each_record(|_, r| {
            ids.insert(ual_key(r));
        });
        ids
    }

    /// The record keys of the sim's sign-ins of these kinds (`signin:` + id, as the formats key them).
    pub(crate) fn signin_keys(&self, kinds: &[SignInKind]) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        self.tenant.for_each_signin(|si| {
            if kinds.contains(&si.kind) {
                keys.insert(format!("signin:{}", si.id.to_lowercase()));
            }
        });
        keys
    }

    /// The record keys of the sim's directory audits.
    pub(crate) fn audit_keys(&self) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        self.tenant.for_each_audit(|a| {
            keys.insert(format!("entra-audit:{}", a.id));
        });
        keys
    }

    /// Every legacy Activity id of every mailbox.
    fn activity_ids(&self) -> BTreeSet<String> {
        (0..self.tenant.mailboxes.len() as u32).flat_map(|m| self.tenant.mailbox_activities(m)).map(|a| a.id).collect()
    }
}

/// The record key Tidemark gives a UAL record: a sign-in the audit log reports (record type 15,
/// `UserLoggedIn`/`UserLoginFailed`) is keyed by its `IntraSystemId`, the Entra sign-in's id, so it and
/// the sign-in log's record are one event; every other record by its `Id`.
pub(crate) fn ual_key(r: &Value) -> String {
    match (r["RecordType"].as_i64(), r["Operation"].as_str(), r["IntraSystemId"].as_str()) {
        (Some(15), Some("UserLoggedIn" | "UserLoginFailed"), Some(id)) => format!("signin:{}", id.to_lowercase()),
        _ => r["Id"].as_str().unwrap().to_string(),
    }
}

pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

pub(crate) fn new_case(dir: &Path, clock: Arc<dyn Clock>) -> (PathBuf, CaseWriter) {
    let path = dir.join("collect.tidemark");
    let w = CaseWriter::create(&path, "collect", clock, "tester").unwrap();
    (path, w)
}

pub(crate) fn collect(
    api: Arc<Api>,
    clock: Arc<dyn Clock>,
    case: CaseWriter,
    opts: RunOptions,
) -> (CaseWriter, RunReport) {
    rt().block_on(Runner::new(api, clock, opts).start(case, &mut |_| {})).unwrap()
}

/// Record keys of the stored events, and how many events there are.
/// Every stored event's record key, and how many events there are (shared with `app_collect_e2e`).
pub(crate) fn stored(path: &Path) -> (BTreeSet<String>, usize) {
    let db = rusqlite::Connection::open(path).unwrap();
    let keys: Vec<String> = db
        .prepare("SELECT record_key FROM event")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let n = keys.len();
    (keys.into_iter().collect(), n)
}

/// Faults met over the whole ledger.
pub(crate) fn ledger_faults(path: &Path) -> BTreeMap<String, i64> {
    let db = rusqlite::Connection::open(path).unwrap();
    let mut out = BTreeMap::new();
    let rows: Vec<String> = db
        .prepare("SELECT faults FROM collection_window")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for r in rows {
        let m: BTreeMap<String, i64> = serde_json::from_str(&r).unwrap();
        for (k, v) in m {
            *out.entry(k).or_default() += v;
        }
    }
    out
}

pub(crate) fn ledger_statuses(path: &Path) -> Vec<(String, String, Option<String>)> {
    let db = rusqlite::Connection::open(path).unwrap();
    let mut st = db
        .prepare("SELECT source, status, error_code FROM collection_window WHERE status != 'split' ORDER BY id")
        .unwrap();
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
    rows
}

fn expected(s: &Sim, source: Source) -> BTreeSet<String> {
    match source {
        Source::Activities => s.activity_ids(),
        Source::EntraSignins => s.signin_keys(&SignInKind::ALL),
        Source::EntraAudits => s.audit_keys(),
        _ => s.ual_ids(),
    }
}

pub(crate) fn assert_exact(s: &Sim, path: &Path, source: Source, what: &str) {
    let (keys, n) = stored(path);
    let want = expected(s, source);
    assert_eq!(n, keys.len(), "{what}: duplicated events");
    let lost: Vec<&String> = want.difference(&keys).take(5).collect();
    let extra: Vec<&String> = keys.difference(&want).take(5).collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "{what}: {} lost (e.g. {lost:?}), {} extra (e.g. {extra:?})",
        want.difference(&keys).count(),
        keys.difference(&want).count()
    );
    for (src, status, code) in ledger_statuses(path) {
        assert!(status == "done", "{what}: window of {src} ended {status} {code:?}");
    }
    // The facet and histogram rollups count what the collection stored, page by page.
    crate::rollup::assert_rollups_match_events(path);
}

fn methods(s: &Sim) -> Vec<(&'static str, SignIn)> {
    let key_pem = std::fs::read_to_string(&s.c.key_path).unwrap();
    let cert_pem = std::fs::read_to_string(&s.c.certificate_path).unwrap();
    let dir = std::env::temp_dir().join(format!("tidemark-collect-cert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let both = dir.join("sim-client.pem");
    std::fs::write(&both, format!("{cert_pem}\n{key_pem}")).unwrap();
    vec![
        ("client secret", SignIn::ClientSecret),
        (
            "certificate PS256",
            SignIn::Certificate { path: Some(both.clone()), key_in_keychain: false, algorithm: "PS256".into() },
        ),
        (
            "certificate RS256",
            SignIn::Certificate { path: Some(both), key_in_keychain: false, algorithm: "RS256".into() },
        ),
        ("browser (PKCE)", SignIn::Browser { login_hint: None }),
        ("device code", SignIn::DeviceCode),
    ]
}

#[test]
fn collect_every_source_with_every_sign_in_method_stores_exactly_the_sims_records() {
    let s = start(|_| {});
    let dir = tempfile::tempdir().unwrap();
    for (name, method) in methods(&s) {
        let secrets = s.secrets();
        for source in Source::ALL {
            let case_dir = dir.path().join(format!("{}-{}", name.replace(' ', "_"), source.as_str()));
            std::fs::create_dir_all(&case_dir).unwrap();
            let (path, case) = new_case(&case_dir, s.clock());
            let api = s.api(s.profile(method.clone(), vec![source]), secrets.clone());
            let (from, to) = s.range();
            let (_, report) = collect(api, s.clock(), case, RunOptions::new(from, to, vec![source]));
            assert!(report.records > 0 && !report.stopped_early, "{name} {source:?}: {report:?}");
            assert_exact(&s, &path, source, &format!("{name} / {}", source.as_str()));
        }
        if method.is_delegated() {
            // One interactive sign-in served all three APIs: the refresh token did the rest (and rotated).
            assert!(secrets.get("sim", SecretKind::RefreshToken).unwrap().is_some(), "{name}");
        }
    }
}

fn fault_case(s: &Sim, dir: &Path, name: &str, sources: &[Source]) -> PathBuf {
    let case_dir = dir.join(name);
    std::fs::create_dir_all(&case_dir).unwrap();
    let (path, case) = new_case(&case_dir, s.clock());
    let api = s.api(s.profile(SignIn::ClientSecret, sources.to_vec()), s.secrets());
    let (from, to) = s.range();
    let mut opts = RunOptions::new(from, to, sources.to_vec());
    opts.page_size = 10;
    collect(api, s.clock(), case, opts);
    path
}

#[test]
fn collect_survives_every_fault_alone_and_all_together_losing_and_duplicating_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, &[Source], &[&str])> = vec![
        (
            "throttle-429:rate=0.3,max=4,retry_after_s=1",
            &[Source::Management, Source::Graph, Source::Activities],
            &["throttle-429"],
        ),
        ("throttle-af429:rate=0.3,max=4,retry_after_s=1", &[Source::Management], &["throttle-af429"]),
        (
            "server-error:rate=0.2,max=6,burst=2",
            &[Source::Management, Source::Graph, Source::Activities],
            &["server-error"],
        ),
        ("token-expiry:rate=0.1,max=3", &[Source::Management, Source::Graph], &["token-expiry"]),
        ("malformed-record:rate=0.5,max=3", &[Source::Graph], &["malformed-record"]),
        ("duplicate-blobs:rate=0.3,max=5", &[Source::Management], &["duplicate-blobs"]),
        ("slow-page:rate=0.2,max=2,delay_ms=1100", &[Source::Graph], &["slow-page"]),
        (
            "connection-reset:rate=0.2,max=4",
            &[Source::Management, Source::Graph, Source::Activities],
            &["connection-reset"],
        ),
        ("eventual-consistency:rate=1,max=3", &[Source::Management], &["eventual-consistency"]),
        ("eventual-consistency:rate=1,max=3", &[Source::Graph], &["eventual-consistency"]),
        ("query-failed:rate=1,max=2", &[Source::Graph], &["query-failed"]),
    ];
    for (i, (fault, sources, names)) in cases.iter().enumerate() {
        // A fresh tenant per fault: some faults fire only the first time a window is asked for.
        let s = start(|c| c.faults = vec![tidemark_sim::FaultSpec::parse(fault).unwrap()]);
        for source in *sources {
            let path = fault_case(&s, dir.path(), &format!("f{i}-{}", source.as_str()), &[*source]);
            assert_exact(&s, &path, *source, &format!("{fault} / {}", source.as_str()));
        }
        // Across the sources this fault was tried with, the ledger shows it met.
        let met: BTreeMap<String, i64> = sources
            .iter()
            .map(|src| ledger_faults(&dir.path().join(format!("f{i}-{}", src.as_str())).join("collect.tidemark")))
            .fold(BTreeMap::new(), |mut acc, m| {
                for (k, v) in m {
                    *acc.entry(k).or_default() += v;
                }
                acc
            });
        for n in *names {
            assert!(met.get(*n).copied().unwrap_or(0) > 0, "{fault}: ledger does not show {n}: {met:?}");
        }
    }
    // activities-shutdown: stop and explain, in plain words, which sources replace it.
    let s = start(|_| {});
    s.set_faults(&["activities-shutdown"]);
    let path = fault_case(&s, dir.path(), "shutdown", &[Source::Activities]);
    let st = ledger_statuses(&path);
    assert!(
        st.iter()
            .all(|(_, status, code)| status == "skipped" && code.as_deref() == Some("collect.activities_disabled")),
        "{st:?}"
    );
    let db = rusqlite::Connection::open(&path).unwrap();
    let msg: String = db.query_row("SELECT error FROM collection_window LIMIT 1", [], |r| r.get(0)).unwrap();
    assert!(msg.contains("July 2018") && msg.contains("Management Activity API") && msg.contains("Graph"), "{msg}");
    assert_eq!(ledger_faults(&path).get("activities-shutdown"), Some(&1), "stops at the first 403");
    // All together (the shutdown aside, which ends the Activities source by design).
    let s = start(|_| {});
    s.set_faults(&[
        "throttle-429:rate=0.1,max=4,retry_after_s=1",
        "throttle-af429:rate=0.1,max=3,retry_after_s=1",
        "server-error:rate=0.1,max=4,burst=2",
        "token-expiry:rate=0.05,max=2",
        "malformed-record:rate=0.3,max=2",
        "duplicate-blobs:rate=0.2,max=4",
        "slow-page:rate=0.05,max=2,delay_ms=1100",
        "connection-reset:rate=0.1,max=4",
        "eventual-consistency:rate=0.5,max=4",
        "query-failed:rate=1,max=1",
    ]);
    let mut met: BTreeMap<String, i64> = BTreeMap::new();
    for source in Source::ALL {
        let path = fault_case(&s, dir.path(), &format!("all-{}", source.as_str()), &[source]);
        assert_exact(&s, &path, source, &format!("all faults / {}", source.as_str()));
        for (k, v) in ledger_faults(&path) {
            *met.entry(k).or_default() += v;
        }
    }
    // Each fault's budget is spent by whichever source meets it first; together they met most kinds.
    assert!(met.len() >= 5, "all faults together: {met:?}");
}

pub(crate) fn tidemark(config: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(tidemark_tests::binary("tidemark"));
    c.env("TIDEMARK_CONFIG_DIR", config);
    c
}

pub(crate) fn count_pages(path: &Path) -> i64 {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .ok()
        .and_then(|db| db.query_row("SELECT count(*) FROM collection_page", [], |r| r.get(0)).ok())
        .unwrap_or(0)
}

#[test]
fn collect_cli_killed_with_sigkill_and_resumed_ends_with_exactly_the_sims_records() {
    // The CLI runs on the system clock: the sim's clock is set to it, the scenario ends 4 h before.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let mut cfg = SimConfig::for_scenario("small").unwrap();
    cfg.scenario.end_ms = now - 4 * HOUR;
    cfg.start_ms = Some(now);
    cfg.content_page_size = 5;
    let sim = RunningSim::spawn(cfg).unwrap();
    let c = sim.credentials();
    let tenant = Tenant::generate(sim.state.config.scenario.clone());
    let s = Sim { sim, c, tenant };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let case = dir.path().join("killed.tidemark");
    assert!(tidemark(&config)
        .args(["case", "new", case.to_str().unwrap(), "--name", "killed"])
        .status()
        .unwrap()
        .success());
    let pem = dir.path().join("sim.pem");
    let text = format!(
        "{}\n{}",
        std::fs::read_to_string(&s.c.certificate_path).unwrap(),
        std::fs::read_to_string(&s.c.key_path).unwrap()
    );
    std::fs::write(&pem, text).unwrap();
    let mut add = tidemark(&config);
    add.args(["profile", "add", "sim", "--tenant", &s.c.tenant_id, "--client-id", &s.c.confidential_client_id])
        .args(["--method", "certificate", "--certificate", pem.to_str().unwrap(), "--endpoint-base", &s.c.base_url])
        .args(["--source", "management", "--source", "graph", "--source", "activities"]);
    for u in &s.c.users {
        add.args(["--mailbox", u]);
    }
    assert!(add.status().unwrap().success());
    let (from, to) = s.range();
    let (from, to) = (tidemark_core::time::iso_ms(from), tidemark_core::time::iso_ms(to));
    let mut kills = 0;
    let mut first = true;
    for threshold in [2, 9, 23, 41, 67, 97] {
        let mut cmd = tidemark(&config);
        if first {
            cmd.args([
                "collect",
                case.to_str().unwrap(),
                "--profile",
                "sim",
                "--from",
                &from,
                "--to",
                &to,
                "--page-size",
                "40",
            ]);
        } else {
            cmd.args(["collect", case.to_str().unwrap(), "--resume", "--page-size", "40"]);
        }
        let mut child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
        first = false;
        let mut exited = false;
        loop {
            if child.try_wait().unwrap().is_some() {
                exited = true;
                break;
            }
            if count_pages(&case) >= threshold {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        if exited {
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    assert!(kills >= 3, "the run finished before it could be killed three times ({kills})");
    let out =
        tidemark(&config).args(["collect", case.to_str().unwrap(), "--resume", "--page-size", "40"]).output().unwrap();
    let code = out.status.code();
    assert!(code == Some(0) || code == Some(8), "{}", String::from_utf8_lossy(&out.stderr));
    let (keys, n) = stored(&case);
    let want: BTreeSet<String> = s.ual_ids().union(&s.activity_ids()).cloned().collect();
    assert_eq!(n, keys.len(), "duplicated events");
    assert_eq!(
        keys.len(),
        want.len(),
        "lost {} / extra {}",
        want.difference(&keys).count(),
        keys.difference(&want).count()
    );
    assert_eq!(keys, want);
    for (src, status, code) in ledger_statuses(&case) {
        assert_eq!(status, "done", "{src}: {code:?}");
    }
    // Every acquisition but the last was cut off and is marked so; the run is complete.
    let db = rusqlite::Connection::open(&case).unwrap();
    let interrupted: i64 = db
        .query_row("SELECT count(*) FROM acquisition WHERE kind = 'collection' AND status = 'interrupted'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(interrupted >= kills as i64, "{interrupted} < {kills}");
    let run: String = db.query_row("SELECT status FROM collection_run", [], |r| r.get(0)).unwrap();
    assert_eq!(run, "completed");
    let verify = tidemark(&config).args(["verify", case.to_str().unwrap(), "--events"]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

#[test]
fn collect_keychain_round_trip_in_the_os_keychain() {
    use tidemark_collect::secrets::Keychain;
    let k = Keychain::with_service(format!("tidemark-test-{}", std::process::id()));
    if std::env::var_os("TIDEMARK_KEYRING_SESSION").is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must run the tests inside scripts/keyring-session");
        // No keychain here: the answer must be the plain-language error, never a silent "no secret".
        match k.get("p", SecretKind::ClientSecret) {
            Err(e) => {
                assert_eq!(e.code, tidemark_collect::Code::KeychainUnavailable);
                assert!(e.message.contains("keychain") && e.message.contains("nlock"), "{}", e.message);
                eprintln!("SKIP round trip (not inside scripts/keyring-session); keychain error is: {}", e.message);
                return;
            }
            Ok(_) => eprintln!("a keychain answers outside scripts/keyring-session: running the round trip against it"),
        }
    }
    let secret = Secret::new("s3cret-value-for-the-keychain");
    assert!(k.get("p", SecretKind::ClientSecret).unwrap().is_none(), "a missing entry is None");
    k.set("p", SecretKind::ClientSecret, &secret).unwrap();
    k.set("p", SecretKind::RefreshToken, &Secret::new("rt-1")).unwrap();
    k.set("p", SecretKind::RefreshToken, &Secret::new("rt-2")).unwrap();
    assert_eq!(k.get("p", SecretKind::ClientSecret).unwrap().unwrap().expose(), secret.expose());
    assert_eq!(k.get("p", SecretKind::RefreshToken).unwrap().unwrap().expose(), "rt-2", "rotation replaces");
    assert_eq!(format!("{:?}", k.get("p", SecretKind::ClientSecret).unwrap()), "Some(<redacted>)");
    k.delete("p", SecretKind::ClientSecret).unwrap();
    k.delete("p", SecretKind::RefreshToken).unwrap();
    k.delete("p", SecretKind::RefreshToken).unwrap();
    assert!(k.get("p", SecretKind::ClientSecret).unwrap().is_none());
}

#[test]
fn collect_leaves_no_secret_or_token_in_the_case_logs_or_exports() {
    let s = start(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let (path, mut case) = new_case(dir.path(), s.clock());
    let mut secrets_seen: Vec<String> = vec![s.c.client_secret.clone()];
    let key_pem = std::fs::read_to_string(&s.c.key_path).unwrap();
    secrets_seen.extend(key_pem.lines().filter(|l| l.len() > 40 && !l.starts_with("-----")).map(str::to_string));
    let (from, to) = s.range();
    for (_, method) in methods(&s) {
        let store = s.secrets();
        let api = s.api(s.profile(method.clone(), Source::ALL.to_vec()), store.clone());
        let (c, _) = collect(api.clone(), s.clock(), case, RunOptions::new(from, to, Source::ALL.to_vec()));
        case = c;
        for t in api.auth().issued_tokens() {
            secrets_seen.push(t.expose().to_string());
        }
        if let Some(rt) = store.get("sim", SecretKind::RefreshToken).unwrap() {
            secrets_seen.push(rt.expose().to_string());
        }
    }
    drop(case);
    assert!(secrets_seen.len() > 10, "tokens were issued");
    let export = dir.path().join("all.jsonl");
    let out = std::process::Command::new(tidemark_tests::binary("tidemark"))
        .args(["export", path.to_str().unwrap(), "--format", "jsonl", "--out", export.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = std::process::Command::new(tidemark_tests::binary("tidemark"))
        .args(["log", path.to_str().unwrap()])
        .output()
        .unwrap();
    // Everything on disk beside the case (the case, its WAL, the export and its manifest) + the log text.
    let mut haystacks: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            haystacks.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    haystacks.push(("tidemark log".into(), log.stdout));
    // Page bodies and raw records are compressed: decompress them to look inside.
    let db = rusqlite::Connection::open(&path).unwrap();
    let mut st = db.prepare("SELECT codec, body, size, url, headers FROM collection_page").unwrap();
    let pages: Vec<(i64, Vec<u8>, i64, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!pages.is_empty());
    for (codec, body, size, url, headers) in pages {
        let text = tidemark_core::raw::decode(codec, &body, size as usize, None).unwrap();
        haystacks.push((format!("page {url}"), text));
        haystacks.push((format!("url/headers {url}"), format!("{url} {headers}").into_bytes()));
    }
    for (name, bytes) in &haystacks {
        for secret in &secrets_seen {
            let needle = secret.as_bytes();
            assert!(
                !bytes.windows(needle.len().min(bytes.len()).max(1)).any(|w| w == needle),
                "a secret or token ({}…) was found in {name}",
                &secret[..8.min(secret.len())]
            );
        }
    }
}
