//! Live collection of the Entra ID logs (`entra-signins`, `entra-audits`) from the simulated tenant
//! into real case files: exactly the sim's sign-ins and directory audits, per sign-in log and window;
//! through throttling, server errors, expiring tokens, malformed records, repeats across pages and
//! dropped connections; the CLI killed with SIGKILL and resumed, nothing lost or doubled, and an
//! imported export of the same logs merging into the collected events; the story read back through
//! the query language (the attacker on hosting and VPN networks, the replayed session from two
//! networks, the victim's own sign-ins from ordinary providers); a tenant without an Entra ID P1/P2
//! licence and an app without AuditLog.Read.All, in the ledger and the preflight checklist.

use std::collections::BTreeSet;
use std::path::Path;

use tidemark_collect::preflight::preflight;
use tidemark_collect::run::RunOptions;
use tidemark_collect::{SignIn, Source};
use tidemark_core::query::Query;
use tidemark_core::CaseReader;
use tidemark_sim::scenario::{Actor, SignInKind, ATTACKER_APP_IP, ATTACKER_IP, ATTACKER_REPLAY_IP};
use tidemark_sim::{RunningSim, SimConfig, Tenant};

use crate::collect::{
    assert_exact, collect, count_pages, ledger_faults, ledger_statuses, new_case, rt, start, stored, tidemark, Sim,
};

const HOUR: i64 = 3_600_000;
const BOTH: [Source; 2] = [Source::EntraSignins, Source::EntraAudits];

fn both(s: &Sim) -> BTreeSet<String> {
    s.signin_keys(&SignInKind::ALL).union(&s.audit_keys()).cloned().collect()
}

fn count(path: &Path, q: &str) -> i64 {
    CaseReader::open(path).unwrap().count(&Query::parse(q).unwrap()).unwrap().matching
}

fn collect_into(s: &Sim, dir: &Path, name: &str, sources: &[Source], page_size: u32) -> std::path::PathBuf {
    let case_dir = dir.join(name);
    std::fs::create_dir_all(&case_dir).unwrap();
    let (path, case) = new_case(&case_dir, s.clock());
    let api = s.api(s.profile(SignIn::ClientSecret, sources.to_vec()), s.secrets());
    let (from, to) = s.range();
    let mut opts = RunOptions::new(from, to, sources.to_vec());
    opts.page_size = page_size;
    let (_, report) = collect(api, s.clock(), case, opts);
    assert!(!report.stopped_early, "{report:?}");
    path
}

#[test]
fn collect_entra_stores_exactly_the_sims_sign_ins_and_audits_and_the_story_reads_back() {
    let s = start(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let path = collect_into(&s, dir.path(), "both", &BOTH, 7);
    let (keys, n) = stored(&path);
    assert_eq!(n, keys.len(), "duplicated events");
    assert_eq!(keys, both(&s));
    // One window per sign-in log and day, every one done; the audits' windows too.
    let st = ledger_statuses(&path);
    assert!(st.iter().all(|(_, status, _)| status == "done"), "{st:?}");
    let db = rusqlite::Connection::open(&path).unwrap();
    let scopes: Vec<String> = db
        .prepare("SELECT DISTINCT scope FROM collection_window WHERE source = 'entra-signins' ORDER BY scope")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(scopes, ["interactive", "non-interactive", "service-principal"]);
    for (scope, kind) in [
        ("interactive", SignInKind::Interactive),
        ("non-interactive", SignInKind::NonInteractive),
        ("service-principal", SignInKind::ServicePrincipal),
    ] {
        let got: i64 = db
            .query_row(
                "SELECT sum(records) FROM collection_window WHERE source = 'entra-signins' AND scope = ?1",
                [scope],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(got as usize, s.signin_keys(&[kind]).len(), "{scope}");
    }
    // Same source ids as an import: the formats' own.
    assert_eq!(count(&path, "source:entra-signin-json"), s.signin_keys(&SignInKind::ALL).len() as i64);
    assert_eq!(count(&path, "source:entra-audit-json"), s.audit_keys().len() as i64);
    crate::rollup::assert_rollups_match_events(&path);

    // The story through the query language.
    let key = s.tenant.answer_key().unwrap();
    let session = &key.attacker_session;
    assert!(count(&path, "iptype:hosting") > 0 && count(&path, "iptype:vpn") > 0);
    for (ip, class) in [(ATTACKER_IP, "hosting"), (ATTACKER_REPLAY_IP, "vpn"), (ATTACKER_APP_IP, "hosting")] {
        let all = count(&path, &format!("ip:{ip}"));
        assert!(all > 0, "{ip}");
        assert_eq!(count(&path, &format!("ip:{ip} iptype:{class}")), all, "{ip} reads as {class}");
    }
    let proxied = count(&path, &format!("source:entra-signin-json session:{session} ip:{ATTACKER_IP} iptype:hosting"));
    let replayed =
        count(&path, &format!("source:entra-signin-json session:{session} ip:{ATTACKER_REPLAY_IP} iptype:vpn"));
    assert!(proxied >= 2 && replayed >= 4, "one session from two networks: {proxied} / {replayed}");
    let victim = &key.victim;
    let mut usual = 0;
    s.tenant.for_each_signin(|si| {
        let mine = si.mailbox.is_some_and(|m| s.tenant.mailboxes[m as usize].upn == *victim);
        if mine && si.actor == Actor::Owner {
            usual += 1;
        }
    });
    let public = count(&path, &format!("source:entra-signin-json actor:{victim} iptype:public"));
    assert!(usual > 0);
    assert_eq!(public, usual, "the victim's own sign-ins come from ordinary providers");
    assert!(count(&path, &format!("source:entra-audit-json actor:{victim} action:consent")) >= 2);
    assert!(count(&path, &format!("source:entra-audit-json actor:{victim} action:auth-method")) >= 1);

    // The mailbox records' UserLoggedIn entries are the same sign-ins: collected into the same case
    // from the Management API, each joins its sign-in-log event as a second raw record.
    let ual = s.ual_ids();
    let merged = ual.iter().filter(|k| k.starts_with("signin:")).count();
    assert!(merged > 0 && ual.iter().filter(|k| k.starts_with("signin:")).all(|k| keys.contains(k)));
    let case = tidemark_core::CaseWriter::open(&path, s.clock(), "tester").unwrap();
    let api = s.api(s.profile(SignIn::ClientSecret, vec![Source::Management]), s.secrets());
    let (from, to) = s.range();
    let (_, report) = collect(api, s.clock(), case, RunOptions::new(from, to, vec![Source::Management]));
    assert_eq!(report.duplicates as usize, merged + (report.records as usize - ual.len()), "{report:?}");
    let (after, n) = stored(&path);
    assert_eq!(n, after.len());
    assert_eq!(after, keys.union(&ual).cloned().collect::<BTreeSet<_>>());

    // A profile pinned to Graph v1.0 collects the interactive log only.
    let case_dir = dir.path().join("v1");
    std::fs::create_dir_all(&case_dir).unwrap();
    let (v1, case) = new_case(&case_dir, s.clock());
    let mut profile = s.profile(SignIn::ClientSecret, vec![Source::EntraSignins]);
    profile.options.graph_version = Some("v1.0".into());
    let (from, to) = s.range();
    collect(s.api(profile, s.secrets()), s.clock(), case, RunOptions::new(from, to, vec![Source::EntraSignins]));
    assert_eq!(stored(&v1).0, s.signin_keys(&[SignInKind::Interactive]));
}

#[test]
fn collect_entra_survives_the_faults_losing_and_duplicating_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 6] = [
        ("throttle-429:rate=0.3,max=4,retry_after_s=1", "throttle-429"),
        ("server-error:rate=0.2,max=6,burst=2", "server-error"),
        ("token-expiry:rate=0.1,max=3", "token-expiry"),
        ("malformed-record:rate=0.5,max=3", "malformed-record"),
        ("eventual-consistency:rate=1,max=3", "eventual-consistency"),
        ("connection-reset:rate=0.2,max=4", "connection-reset"),
    ];
    for (i, (fault, name)) in cases.iter().enumerate() {
        let s = start(|c| c.faults = vec![tidemark_sim::FaultSpec::parse(fault).unwrap()]);
        let path = collect_into(&s, dir.path(), &format!("f{i}"), &BOTH, 10);
        let (keys, n) = stored(&path);
        assert_eq!(n, keys.len(), "{fault}: duplicated events");
        assert_eq!(keys, both(&s), "{fault}");
        assert!(ledger_faults(&path).get(*name).copied().unwrap_or(0) > 0, "{fault}: {:?}", ledger_faults(&path));
        if *name == "eventual-consistency" {
            // A sign-in seen twice is one event with two raw occurrences.
            let db = rusqlite::Connection::open(&path).unwrap();
            let twice: i64 = db
                .query_row(
                    "SELECT count(*) FROM (SELECT event_id FROM raw_record WHERE event_id IS NOT NULL \
                     GROUP BY event_id HAVING count(*) > 1)",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(twice > 0);
        }
    }
    // All together, on both sources.
    let s = start(|_| {});
    s.set_faults(&[
        "throttle-429:rate=0.1,max=3,retry_after_s=1",
        "server-error:rate=0.1,max=4,burst=2",
        "token-expiry:rate=0.05,max=2",
        "malformed-record:rate=0.3,max=2",
        "slow-page:rate=0.05,max=1,delay_ms=1100",
        "connection-reset:rate=0.1,max=3",
        "eventual-consistency:rate=0.5,max=3",
    ]);
    for source in BOTH {
        let path = collect_into(&s, dir.path(), &format!("all-{}", source.as_str()), &[source], 10);
        assert_exact(&s, &path, source, &format!("all faults / {}", source.as_str()));
    }
}

#[test]
fn collect_entra_without_a_licence_or_a_permission_says_what_to_ask_for() {
    let s = start(|c| c.entra_premium = false);
    let dir = tempfile::tempdir().unwrap();
    let path = collect_into(&s, dir.path(), "free", &BOTH, 50);
    let st = ledger_statuses(&path);
    let signins: Vec<_> = st.iter().filter(|(src, _, _)| src == "entra-signins").collect();
    assert!(!signins.is_empty());
    assert!(signins.iter().all(|(_, status, code)| status == "skipped" && code.as_deref() == Some("collect.refused")));
    let db = rusqlite::Connection::open(&path).unwrap();
    let msg: String = db
        .query_row("SELECT error FROM collection_window WHERE source = 'entra-signins' LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert!(msg.contains("P1 or P2") && msg.contains("admin"), "{msg}");
    assert_eq!(stored(&path).0, s.audit_keys(), "the audit log needs no licence");
    // The checklist says the same before collecting.
    let api = s.api(s.profile(SignIn::ClientSecret, BOTH.to_vec()), s.secrets());
    let cs = rt().block_on(preflight(&api, &BOTH, &[], &[]));
    let lic = cs.iter().find(|c| c.source == "entra-signins" && c.check == "licence").unwrap();
    assert_eq!(lic.status, "fail");
    assert!(lic.message.contains("P1 or P2") && lic.fix.contains("admin"), "{lic:?}");
    assert!(lic.detail.contains("Authentication_RequestFromNonPremiumTenantOrB2CTenant"), "{lic:?}");
    assert!(cs.iter().all(|c| c.source != "entra-audits" || c.status == "ok"), "{cs:#?}");

    // An app without AuditLog.Read.All: a failed window and a checklist line naming the permission.
    let s = start(|_| {});
    let mut profile = s.profile(SignIn::ClientSecret, BOTH.to_vec());
    profile.client_id = s.c.unprivileged_client_id.clone();
    let secrets = tidemark_collect::secrets::MemoryStore::default();
    use tidemark_collect::secrets::{Secret, SecretKind, SecretStore};
    secrets.set("sim", SecretKind::ClientSecret, &Secret::new(s.c.unprivileged_client_secret.clone())).unwrap();
    let api = s.api(profile, std::sync::Arc::new(secrets));
    let cs = rt().block_on(preflight(&api, &BOTH, &[], &[]));
    for src in ["entra-signins", "entra-audits"] {
        let p = cs.iter().find(|c| c.source == src && c.check == "permission").unwrap();
        assert_eq!(p.status, "fail", "{p:?}");
        assert!(p.fix.contains("AuditLog.Read.All") && p.fix.contains("Directory.Read.All"), "{p:?}");
        assert!(p.fix.contains("admin consent"), "{p:?}");
    }
    let case_dir = dir.path().join("denied");
    std::fs::create_dir_all(&case_dir).unwrap();
    let (path, case) = new_case(&case_dir, s.clock());
    let (from, to) = s.range();
    let (_, report) = collect(api, s.clock(), case, RunOptions::new(to - 2 * HOUR, to, BOTH.to_vec()));
    assert!(report.coverage.iter().all(|c| c.status == "failed"), "{report:?}");
    let st = ledger_statuses(&path);
    assert!(st.iter().all(|(_, _, code)| code.as_deref() == Some("collect.permission_missing")), "{st:?}");
    assert!(from < to);
}

#[test]
fn collect_entra_cli_killed_with_sigkill_and_resumed_ends_with_exactly_the_sims_logs() {
    // The CLI runs on the system clock: the sim's clock is set to it, the scenario ends 4 h before.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let mut cfg = SimConfig::for_scenario("small").unwrap();
    cfg.scenario.end_ms = now - 4 * HOUR;
    cfg.start_ms = Some(now);
    let sim = RunningSim::spawn(cfg).unwrap();
    let c = sim.credentials();
    let tenant = Tenant::generate(sim.state.config.scenario.clone());
    let s = Sim { sim, c, tenant };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let case = dir.path().join("killed.tidemark");
    assert!(tidemark(&config).args(["case", "new", case.to_str().unwrap(), "--name", "k"]).status().unwrap().success());
    // A certificate file: nothing goes through the keychain.
    let pem = dir.path().join("sim.pem");
    let text = format!(
        "{}\n{}",
        std::fs::read_to_string(&s.c.certificate_path).unwrap(),
        std::fs::read_to_string(&s.c.key_path).unwrap()
    );
    std::fs::write(&pem, text).unwrap();
    let mut add = tidemark(&config);
    add.args(["profile", "add", "sim", "--tenant", &s.c.tenant_id, "--client-id", &s.c.confidential_client_id]).args([
        "--method",
        "certificate",
        "--certificate",
        pem.to_str().unwrap(),
        "--endpoint-base",
        &s.c.base_url,
    ]);
    assert!(add.status().unwrap().success());
    let (from, to) = s.range();
    let (from, to) = (tidemark_core::time::iso_ms(from), tidemark_core::time::iso_ms(to));
    let (mut kills, mut first) = (0, true);
    for threshold in [2, 7, 15, 26, 40] {
        let mut cmd = tidemark(&config);
        cmd.args(["collect", case.to_str().unwrap(), "--page-size", "5"]);
        if first {
            cmd.args(["--profile", "sim", "--from", &from, "--to", &to]);
            cmd.args(["--source", "entra-signins", "--source", "entra-audits"]);
        } else {
            cmd.arg("--resume");
        }
        first = false;
        let mut child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
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
        tidemark(&config).args(["collect", case.to_str().unwrap(), "--resume", "--page-size", "5"]).output().unwrap();
    // 0: the resume finished it; 8: an earlier resume already had ("no unfinished collection").
    let code = out.status.code();
    assert!(code == Some(0) || code == Some(8), "{}", String::from_utf8_lossy(&out.stderr));
    let (keys, n) = stored(&case);
    assert_eq!(n, keys.len(), "duplicated events");
    assert_eq!(keys, both(&s));
    for (src, status, code) in ledger_statuses(&case) {
        assert_eq!(status, "done", "{src}: {code:?}");
    }
    // An export of the same logs, imported into the case: every record is already there.
    for (format, n) in
        [("entra-signins-json", s.signin_keys(&SignInKind::ALL).len()), ("entra-audits-json", s.audit_keys().len())]
    {
        let file = dir.path().join(format!("{format}.json"));
        let mut export = std::process::Command::new(tidemark_tests::binary("tidemark-sim"));
        export.args(["export", "--format", format, "--out", file.to_str().unwrap()]);
        // The same tenant: the scenario ends where the sim's does.
        let cfg = dir.path().join("scenario.json");
        std::fs::write(&cfg, serde_json::json!({"scenario": s.sim.state.config.scenario}).to_string()).unwrap();
        export.args(["--config", cfg.to_str().unwrap()]);
        assert!(export.status().unwrap().success());
        let o = tidemark(&config).args(["import", case.to_str().unwrap(), file.to_str().unwrap()]).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains(&format!("{n} records read, 0 new events, {n} duplicates")), "{format}: {text}");
    }
    assert_eq!(stored(&case), (keys.clone(), keys.len()));
    let verify = tidemark(&config).args(["verify", case.to_str().unwrap(), "--events"]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}
