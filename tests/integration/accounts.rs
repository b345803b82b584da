//! Accounts: per-account baselines ("new for this user") equal brute force over the events, whatever
//! order the evidence arrives in and after an upgrade; `new:` finds exactly those events; sessions
//! stitch records by session id (marking one used from two networks) and by address and client.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tidemark_core::accounts::baseline::{HISTORY_MS, KINDS};
use tidemark_core::model::{EventRow, SortOrder};
use tidemark_core::query::Query;
use tidemark_core::{CaseReader, CaseWriter, FixedClock};
use tidemark_tests::{import, new_case, TEST_NOW_MS};

const HOME: &str = "8.8.8.8"; // Google, US: the user's usual network in this story
const RENTED: &str = "5.101.96.10"; // DigitalOcean: a rented server
const SERVICE: &str = "40.92.1.1"; // Microsoft's own: never a user's network

struct Rec<'a> {
    day: u32,
    hour: u32,
    minute: u32,
    user: &'a str,
    ip: &'a str,
    op: &'a str,
    session: Option<&'a str>,
    app: &'a str,
}

fn write(dir: &Path, name: &str, recs: &[Rec<'_>]) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    for (i, r) in recs.iter().enumerate() {
        let session = r.session.map(|s| format!(r#","SessionId":"{s}""#)).unwrap_or_default();
        writeln!(
            f,
            r#"{{"CreationTime":"2025-03-{:02}T{:02}:{:02}:00","Id":"{name}-{i}","Operation":"{}","RecordType":50,"UserId":"{}","MailboxOwnerUPN":"{}","ClientIP":"{}","AppId":"{}","ClientInfoString":"Client=REST;","Workload":"Exchange"{session}}}"#,
            r.day, r.hour, r.minute, r.op, r.user, r.user, r.ip, r.app
        )
        .unwrap();
    }
    path
}

const APP_USUAL: &str = "00000002-0000-0ff1-ce00-000000000000";
const APP_NEW: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";

/// Three days of Adele at home, then (day 4) a session from a rented server that is replayed at home;
/// Mallory appears once; every record of day 2 also goes through Microsoft's front-end.
fn history() -> Vec<Rec<'static>> {
    let mut v = Vec::new();
    for day in 1..=3 {
        for hour in [9, 10, 14] {
            v.push(Rec {
                day,
                hour,
                minute: 0,
                user: "Adele@contoso.example",
                ip: HOME,
                op: "MailItemsAccessed",
                session: None,
                app: APP_USUAL,
            });
        }
    }
    v.push(Rec {
        day: 2,
        hour: 11,
        minute: 0,
        user: "adele@contoso.example",
        ip: SERVICE,
        op: "MailItemsAccessed",
        session: None,
        app: APP_USUAL,
    });
    v.push(Rec {
        day: 4,
        hour: 3,
        minute: 0,
        user: "adele@contoso.example",
        ip: RENTED,
        op: "UserLoggedIn",
        session: Some("S-evil"),
        app: APP_NEW,
    });
    v.push(Rec {
        day: 4,
        hour: 3,
        minute: 5,
        user: "adele@contoso.example",
        ip: RENTED,
        op: "MailItemsAccessed",
        session: Some("S-evil"),
        app: APP_NEW,
    });
    v.push(Rec {
        day: 4,
        hour: 3,
        minute: 40,
        user: "adele@contoso.example",
        ip: HOME,
        op: "MailItemsAccessed",
        session: Some("S-evil"),
        app: APP_NEW,
    });
    v.push(Rec {
        day: 4,
        hour: 9,
        minute: 0,
        user: "adele@contoso.example",
        ip: HOME,
        op: "MailItemsAccessed",
        session: None,
        app: APP_USUAL,
    });
    v.push(Rec {
        day: 4,
        hour: 9,
        minute: 45,
        user: "adele@contoso.example",
        ip: HOME,
        op: "MailItemsAccessed",
        session: None,
        app: APP_USUAL,
    });
    v.push(Rec {
        day: 4,
        hour: 12,
        minute: 0,
        user: "mallory@contoso.example",
        ip: RENTED,
        op: "Send",
        session: None,
        app: APP_NEW,
    });
    v
}

fn all_rows(r: &CaseReader) -> Vec<EventRow> {
    r.page(&Query::all(), SortOrder::Asc, None, 1000).unwrap().rows
}

/// What every event was new for, by walking all events in time order.
fn brute_force_new(rows: &[EventRow]) -> BTreeSet<(String, String)> {
    let mut first_ms: HashMap<String, i64> = HashMap::new();
    let mut seen: BTreeSet<(String, &str, String)> = BTreeSet::new();
    let mut out = BTreeSet::new();
    for e in rows {
        let Some(account) = e.actor.as_deref().map(str::to_lowercase) else { continue };
        let start = *first_ms.entry(account.clone()).or_insert(e.time_ms);
        let ip = e.ip.as_ref();
        let service = ip.is_some_and(|i| i.class == "microsoft" || i.class == "not-an-address");
        let mut values: Vec<(&str, Option<String>)> =
            vec![("client", e.client_app.clone()), ("agent", e.user_agent.clone()), ("app", e.app_id.clone())];
        if !service {
            values.push(("ip", e.client_ip.clone()));
            values.push(("country", ip.and_then(|i| i.country.clone())));
            values.push(("network", ip.and_then(|i| i.network.clone().or_else(|| i.asn.map(|a| format!("AS{a}"))))));
        }
        for (kind, v) in values {
            let Some(v) = v else { continue };
            if seen.insert((account.clone(), kind, v)) && e.time_ms >= start + HISTORY_MS {
                out.insert((e.id.clone(), kind.to_owned()));
            }
        }
    }
    out
}

fn reported_new(rows: &[EventRow]) -> BTreeSet<(String, String)> {
    rows.iter().flat_map(|e| e.new.iter().map(|k| (e.id.clone(), k.clone()))).collect()
}

fn ids(r: &CaseReader, q: &str) -> Vec<String> {
    r.page(&Query::parse(q).unwrap(), SortOrder::Asc, None, 1000).unwrap().rows.into_iter().map(|e| e.id).collect()
}

#[test]
fn new_for_the_user_equals_brute_force_in_any_import_order() {
    let dir = tempfile::tempdir().unwrap();
    let recs = history();
    let (late, early): (Vec<_>, Vec<_>) = recs.into_iter().partition(|r| r.day == 4);
    let late_file = write(dir.path(), "late.jsonl", &late);
    let early_file = write(dir.path(), "early.jsonl", &early);
    // The attack's day arrives first, the history after it: first occurrences must move earlier.
    let (path, mut w) = new_case(dir.path(), "accounts");
    import(&mut w, std::slice::from_ref(&late_file));
    import(&mut w, std::slice::from_ref(&early_file));
    let r = CaseReader::open(&path).unwrap();
    let rows = all_rows(&r);
    let want = brute_force_new(&rows);
    assert_eq!(reported_new(&rows), want);
    // The rented server's first event is new by network and IP for Adele, not for Mallory (no history).
    let evil = rows.iter().find(|e| e.client_ip.as_deref() == Some(RENTED)).unwrap();
    assert!(evil.new.contains(&"network".to_owned()) && evil.new.contains(&"ip".to_owned()), "{:?}", evil.new);
    assert!(evil.new.contains(&"app".to_owned()));
    let mallory = rows.iter().find(|e| e.actor.as_deref() == Some("mallory@contoso.example")).unwrap();
    assert!(mallory.new.is_empty(), "no history, nothing is new: {:?}", mallory.new);
    // Microsoft's front-end is never a new network or IP.
    assert!(rows
        .iter()
        .filter(|e| e.client_ip.as_deref() == Some(SERVICE))
        .all(|e| !e.new.iter().any(|k| k == "ip" || k == "network")));
    // `new:` finds exactly those events, per kind.
    for kind in KINDS {
        let expect: Vec<String> =
            rows.iter().filter(|e| want.contains(&(e.id.clone(), kind.to_owned()))).map(|e| e.id.clone()).collect();
        assert_eq!(ids(&r, &format!("new:{kind}")), expect, "new:{kind}");
    }
    assert_eq!(ids(&r, "new:ua"), ids(&r, "new:agent"));
    assert_eq!(ids(&r, "new:network actor:adele"), vec![evil.id.clone()]);
    let e = Query::parse("new:device").unwrap_err();
    assert!(e.message.contains("new:network"), "{}", e.message);

    // The same evidence in time order gives the same answers.
    let dir2 = tempfile::tempdir().unwrap();
    let (path2, mut w2) = new_case(dir2.path(), "ordered");
    import(&mut w2, &[early_file, late_file]);
    let rows2 = all_rows(&CaseReader::open(&path2).unwrap());
    // Ids may differ in their sequence part between cases: compare by what each event is.
    let what = |rows: &[EventRow]| {
        rows.iter()
            .map(|e| (e.time_ms, e.operation.clone(), e.client_ip.clone(), e.new.clone()))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(what(&rows), what(&rows2));

    // Accounts list their span and baseline sizes.
    let accounts = r.accounts().unwrap();
    assert_eq!(accounts[0].account, "adele@contoso.example");
    assert_eq!(accounts[0].first_time, "2025-03-01T09:00:00.000Z");
    assert_eq!(accounts[0].new_values, want.len() as i64);
    assert_eq!(accounts[1].account, "mallory@contoso.example");
}

#[test]
fn a_case_from_before_baselines_gets_them_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "all.jsonl", &history());
    let (path, mut w) = new_case(dir.path(), "upgrade");
    import(&mut w, &[file]);
    drop(w);
    let before = reported_new(&all_rows(&CaseReader::open(&path).unwrap()));
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("DROP TABLE account_first; DROP TABLE account; PRAGMA user_version = 5;").unwrap();
    }
    drop(CaseWriter::open(&path, Arc::new(FixedClock(TEST_NOW_MS)), "t").unwrap());
    let rows = all_rows(&CaseReader::open(&path).unwrap());
    assert_eq!(reported_new(&rows), before);
    assert_eq!(reported_new(&rows), brute_force_new(&rows));
}

#[test]
fn sessions_stitch_records_and_mark_one_used_from_two_networks() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "all.jsonl", &history());
    let (path, mut w) = new_case(dir.path(), "sessions");
    import(&mut w, &[file]);
    let r = CaseReader::open(&path).unwrap();
    let sessions = r.account_sessions("ADELE@contoso.example").unwrap();
    let evil = sessions.iter().find(|s| s.session_id.as_deref() == Some("S-evil")).expect("the session by its id");
    assert_eq!(evil.kind, "session-id");
    assert_eq!(evil.events, 3);
    assert_eq!(evil.ips, vec![RENTED.to_owned(), HOME.to_owned()]);
    assert!(evil.replayed, "used from two networks: {evil:?}");
    assert_eq!(evil.networks.len(), 2);
    assert!(evil.new_values > 0);
    // Records without a session id: one session per sitting (address + client, 30 minutes of silence).
    let home: Vec<_> = sessions.iter().filter(|s| s.kind == "ip-client" && s.ips == vec![HOME.to_owned()]).collect();
    // Days 1–3 at 9, 10 and 14 o'clock are each a sitting; day 4's 9:00 and 9:45 are two (45 min apart).
    assert_eq!(home.len(), 3 * 3 + 2, "{home:#?}");
    assert!(home.iter().all(|s| !s.replayed && s.events == 1));
    // Microsoft's front-end is not a network of the session.
    let service = sessions.iter().find(|s| s.ips == vec![SERVICE.to_owned()]).unwrap();
    assert!(service.networks.is_empty() && !service.replayed);
    // Every event of the account is in exactly one session; oldest first.
    assert_eq!(sessions.iter().map(|s| s.events).sum::<i64>(), 15);
    assert!(sessions.windows(2).all(|w| w[0].first_time <= w[1].first_time));
    assert!(r.account_sessions("nobody@contoso.example").unwrap().is_empty());
}

#[test]
fn application_ids_are_named_in_rows_details_and_facets() {
    use tidemark_core::facets::FacetPrecision;
    use tidemark_core::model::FacetField;
    let dir = tempfile::tempdir().unwrap();
    let em_client = "E9A7FEA1-1CC0-4CD9-A31B-9137CA5DEEDD";
    let recs = [
        Rec {
            day: 1,
            hour: 9,
            minute: 0,
            user: "adele@contoso.example",
            ip: HOME,
            op: "MailItemsAccessed",
            session: None,
            app: em_client,
        },
        Rec {
            day: 1,
            hour: 9,
            minute: 1,
            user: "adele@contoso.example",
            ip: HOME,
            op: "MailItemsAccessed",
            session: None,
            app: APP_USUAL,
        },
        Rec {
            day: 1,
            hour: 9,
            minute: 2,
            user: "adele@contoso.example",
            ip: HOME,
            op: "MailItemsAccessed",
            session: None,
            app: "11111111-2222-3333-4444-555555555555",
        },
    ];
    let file = write(dir.path(), "apps.jsonl", &recs);
    let (path, mut w) = new_case(dir.path(), "apps");
    import(&mut w, &[file]);
    let r = CaseReader::open(&path).unwrap();
    let rows = all_rows(&r);
    assert_eq!(rows[0].app_name.as_deref(), Some("eM Client"));
    assert!(rows[0].app_note.as_deref().unwrap().contains("abused"), "{:?}", rows[0].app_note);
    assert_eq!(rows[1].app_name.as_deref(), Some("Office 365 Exchange Online"));
    assert_eq!(rows[1].app_note, None, "Microsoft's own apps carry no warning");
    assert_eq!((rows[2].app_name.as_deref(), rows[2].app_note.as_deref()), (None, None));
    assert_eq!(r.event(&rows[0].id).unwrap().event.app_name.as_deref(), Some("eM Client"));
    let facets = r.facets(&Query::all(), 10, FacetPrecision::Exact).unwrap();
    let apps = facets.fields.iter().find(|f| f.field == FacetField::AppId).unwrap();
    let labels: BTreeSet<Option<&str>> = apps.values.iter().map(|v| v.label.as_deref()).collect();
    assert_eq!(labels, BTreeSet::from([None, Some("eM Client"), Some("Office 365 Exchange Online")]));
}

#[test]
fn the_audit_logs_user_logged_in_and_the_entra_sign_in_it_reports_are_one_event() {
    let dir = tempfile::tempdir().unwrap();
    // The same sign-in as the first one of the Graph fixture, as the audit log reports it.
    let ual = dir.path().join("ual-signin.jsonl");
    std::fs::write(
        &ual,
        r#"{"CreationTime":"2025-03-04T09:12:44","Id":"0d9e7b4a-1111-4222-8333-944455556666","Operation":"UserLoggedIn","RecordType":15,"Workload":"AzureActiveDirectory","UserId":"megan.bowen@contoso.com","ClientIP":"203.0.113.45","ResultStatus":"Success","IntraSystemId":"5F1D2B7C-8E3A-4C9F-A1D6-2B4E6A8C1300","InterSystemsId":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","ApplicationId":"4765445b-32c6-49b0-83e6-1d93765276ca"}
"#,
    )
    .unwrap();
    let graph = tidemark_tests::fixture("entra/graph-signins-v1.json");
    for order in [[ual.clone(), graph.clone()], [graph, ual]] {
        let case_dir = tempfile::tempdir().unwrap();
        let (path, mut w) = new_case(case_dir.path(), "linked");
        let mut duplicates = 0;
        for f in &order {
            duplicates += import(&mut w, std::slice::from_ref(f)).duplicates;
        }
        assert_eq!(duplicates, 1, "the second report of the sign-in is another occurrence, not another event");
        let r = CaseReader::open(&path).unwrap();
        let rows = ids(&r, "5f1d2b7c-8e3a-4c9f-a1d6-2b4e6a8c1300 OR 0d9e7b4a-1111-4222-8333-944455556666");
        let hits: Vec<String> = r
            .page(
                &Query::parse("actor:megan.bowen@contoso.com after:2025-03-04T09:12:44 before:2025-03-04T09:12:44.999")
                    .unwrap(),
                SortOrder::Asc,
                None,
                10,
            )
            .unwrap()
            .rows
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(hits.len(), 1, "one sign-in, one event: {hits:?} {rows:?}");
        let detail = r.event(&hits[0]).unwrap();
        assert_eq!(detail.raw.len(), 2, "both raw records are kept");
        assert_eq!(detail.record_key, "signin:5f1d2b7c-8e3a-4c9f-a1d6-2b4e6a8c1300");
    }
}
