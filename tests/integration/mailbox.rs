//! The mailbox activity view and the legacy Magic Unicorn reports over an imported BEC storyline
//! (`tests/fixtures/activities/`): sessions, reading-pane durations, typed searches, item resolution,
//! paging that gives exactly what one pass gives, and each report's rows and columns.

use std::collections::HashMap;
use std::process::Command;

use tidemark_core::mailbox::{write_report_csv, MailboxScope};
use tidemark_core::model::{MailboxEntry, MailboxPage, MailboxSession, ReportKind};
use tidemark_core::{CaseReader, ErrorCode};
use tidemark_tests::{binary, fixture, import, new_case};

const ADELE: &str = "adele.vance@contoso.example";
const S_ATTACKER: &str = "a7e3b9c1-52d4-4f0e-8c6b-1e2d3f4a5b6c";
const ITEM1: &str = "AAMkAGRmItemQ2Batch=";
const ITEM2: &str = "AAMkAGRmItemInv4471=";
const ITEM3: &str = "AAMkAGRmItemLure=";
const ITEM4: &str = "AAMkAGRmItemLateEnd=";
const CHROME: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/66.0 Safari/537.36";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:60.0) Gecko/20100101 Firefox/60.0";

fn bec_case() -> (tempfile::TempDir, std::path::PathBuf, CaseReader) {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "bec");
    let report = import(
        &mut w,
        &[
            fixture("activities/bec-adele-retriever.csv"),
            fixture("activities/bec-megan-retriever.csv"),
            fixture("activities/bec-adele-ual.jsonl"),
        ],
    );
    assert_eq!((report.read, report.new_events, report.malformed), (28 + 4 + 7, 28 + 4 + 7, 0));
    assert_eq!(report.files[0].format, "activities-csv");
    let r = CaseReader::open(&path).unwrap();
    (dir, path, r)
}

fn scope(from: Option<&str>, to: Option<&str>) -> MailboxScope {
    MailboxScope::parse(ADELE, from, to).unwrap()
}

/// Every page, concatenated; the last summary seen of every session.
fn walk(r: &CaseReader, s: &MailboxScope, limit: usize) -> (Vec<MailboxEntry>, Vec<MailboxSession>) {
    let mut entries = Vec::new();
    let mut sessions: HashMap<String, MailboxSession> = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let page: MailboxPage = r.mailbox_page(s, after.as_deref(), limit).unwrap();
        assert!(page.entries.len() <= limit);
        for e in &page.entries {
            assert!(page.sessions.iter().any(|s| s.id == e.session), "entry {} has its session in the page", e.id);
        }
        entries.extend(page.entries);
        for s in page.sessions {
            sessions.insert(s.id.clone(), s);
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let mut sessions: Vec<MailboxSession> = sessions.into_values().collect();
    sessions.sort_by_key(|s| (s.first_ms, s.id.parse::<i64>().unwrap()));
    (entries, sessions)
}

fn at<'a>(entries: &'a [MailboxEntry], time: &str, op: &str) -> &'a MailboxEntry {
    entries
        .iter()
        .find(|e| e.time == format!("2018-05-14T{time}") && e.operation == op)
        .unwrap_or_else(|| panic!("no {op} at {time}"))
}

fn count(s: &MailboxSession, action: &str) -> i64 {
    s.counts.iter().find(|c| c.action == action).map_or(0, |c| c.count)
}

#[test]
fn mailbox_view_groups_sessions_and_shows_what_the_intruder_did() {
    let (_dir, _path, r) = bec_case();
    let page = r.mailbox_page(&scope(None, None), None, 1000).unwrap();
    assert_eq!(page.next, None);
    let e = &page.entries;
    // 28 legacy rows of Adele + 6 UAL records of hers; Megan's retriever rows and UAL record never show;
    // the 4 later keystrokes and the SearchResult fold into the typed search.
    assert_eq!(e.len(), 28 + 6 - 5);
    assert!(e.windows(2).all(|w| w[0].id.parse::<i64>().unwrap() < w[1].id.parse::<i64>().unwrap()));
    assert!(e
        .iter()
        .all(|x| x.subject.as_deref() != Some("Lunch?") && !x.message_ids.iter().any(|m| m.contains("lunch"))));
    let ops: Vec<&str> = e.iter().map(|x| x.operation.as_str()).collect();
    for op in ["UserLoggedIn", "MailItemsAccessed", "Send", "New-InboxRule", "Set-Mailbox", "SoftDelete", "Reply"] {
        assert!(ops.contains(&op), "{op} is in the stream");
    }

    // Sessions: Adele's morning, three deliveries (server, more than 30 min apart), the Entra sign-in
    // (no session id: IP + client), the intruder's OWA session, the UAL session, and the intruder's
    // session id back after 50 minutes (a new session).
    let s = &page.sessions;
    let kinds: Vec<(&str, Option<&str>)> = s.iter().map(|x| (x.kind.as_str(), x.session_id.as_deref())).collect();
    assert_eq!(
        kinds,
        vec![
            ("session-id", Some("6f1d2c3b-0a4e-4c55-9b1e-3f2a1d0c9e81")),
            ("server", None),
            ("server", None),
            ("server", None),
            ("ip-client", None),
            ("session-id", Some(S_ATTACKER)),
            ("session-id", Some("5e55f00d-0000-4000-8000-0000000a77ac")),
            ("session-id", Some(S_ATTACKER)),
        ]
    );
    assert!(s.iter().all(|x| !x.open));
    let morning = &s[0];
    assert_eq!((morning.events, morning.ips.clone()), (5, vec!["203.0.113.10".to_owned()]));
    assert_eq!((count(morning, "logon"), count(morning, "read"), count(morning, "attachment")), (2, 2, 1));
    assert_eq!(
        (morning.first_time.as_str(), morning.last_time.as_str()),
        ("2018-05-14T08:55:00.120Z", "2018-05-14T09:05:00.000Z")
    );
    let signin = &s[4];
    assert_eq!((signin.ips.clone(), signin.client.as_deref()), (vec!["198.51.100.77".to_owned()], Some("Browser")));
    let intruder = &s[5];
    assert_eq!(intruder.events, 18);
    assert_eq!(intruder.ips, vec!["198.51.100.77"]);
    assert_eq!(intruder.user_agent.as_deref(), Some(FIREFOX));
    assert_eq!(
        (count(intruder, "logon"), count(intruder, "read"), count(intruder, "search"), count(intruder, "attachment")),
        (2, 6, 6, 1)
    );
    assert_eq!((count(intruder, "reply"), count(intruder, "move"), count(intruder, "delete")), (1, 1, 1));
    assert_eq!(intruder.last_time, "2018-05-14T14:18:00.000Z");
    let ual = &s[6];
    assert_eq!(ual.events, 5);
    for a in ["read", "send", "rule", "forwarding", "delete"] {
        assert_eq!(count(ual, a), 1, "{a}");
    }
    assert_eq!(ual.client.as_deref(), Some("OWA"));
    assert_eq!(s[7].first_time, "2018-05-14T15:08:00.000Z");
    assert_eq!(s[7].events, 2);
    assert_eq!(at(e, "15:08:00.000Z", "ReadingPaneDisplayStart").session, s[7].id);
    assert_eq!(at(e, "14:18:00.000Z", "Delete").session, intruder.id);
    assert_eq!(at(e, "14:21:00.000Z", "SoftDelete").session, ual.id);

    // UAL entries carry folders, message ids, rule and forwarding parameters.
    let bind = at(e, "14:11:30.000Z", "MailItemsAccessed");
    assert_eq!(bind.folders, vec!["\\Inbox"]);
    assert_eq!(bind.message_ids, vec!["<q2batch@fabrikam.example>", "<inv4471@fabrikam.example>"]);
    assert_eq!(bind.detail.as_deref(), Some("Bind"));
    let rule = at(e, "14:19:00.000Z", "New-InboxRule");
    assert_eq!(rule.action, "rule");
    assert!(rule.detail.as_deref().unwrap().contains("MoveToFolder=RSS Subscriptions"));
    let fwd = at(e, "14:20:00.000Z", "Set-Mailbox");
    assert_eq!(fwd.action, "forwarding");
    assert!(fwd.detail.as_deref().unwrap().contains("ForwardingSmtpAddress=smtp:payments@fabrikam-billing.example"));
    let del = at(e, "14:21:00.000Z", "SoftDelete");
    assert_eq!(del.subject.as_deref(), Some("RE: Invoice 4471 - payment due"));
    assert_eq!(del.folders, vec!["\\Sent Items"]);
    assert_eq!(at(e, "14:09:50.000Z", "UserLoggedIn").action, "logon");
}

#[test]
fn reading_pane_durations_pair_start_and_end_and_show_the_unpaired() {
    let (_dir, _path, r) = bec_case();
    let e = r.mailbox_page(&scope(None, None), None, 1000).unwrap().entries;
    let pair = |start: &str, end: &str, ms: i64| {
        let s = at(&e, start, "ReadingPaneDisplayStart");
        let en = at(&e, end, "ReadingPaneDisplayEnd");
        let sp = s.pane.as_ref().unwrap();
        let ep = en.pane.as_ref().unwrap();
        assert_eq!((sp.marker.as_str(), ep.marker.as_str()), ("start", "end"));
        assert_eq!(sp.paired_id.as_deref(), Some(en.id.as_str()), "{start}");
        assert_eq!(ep.paired_id.as_deref(), Some(s.id.as_str()), "{end}");
        assert_eq!((sp.duration_ms, ep.duration_ms), (Some(ms), Some(ms)), "{start}");
    };
    pair("09:02:10.000Z", "09:03:40.000Z", 90_000);
    pair("14:11:00.000Z", "14:11:45.000Z", 45_000);
    pair("14:12:30.000Z", "14:14:00.000Z", 90_000);
    pair("15:08:00.000Z", "15:08:20.000Z", 20_000);
    // The same item in two sessions never pairs across them: 09:02 (Adele) and 14:11 (intruder) both read ITEM1.
    let never_ended = at(&e, "14:15:00.000Z", "ReadingPaneDisplayStart");
    assert_eq!(never_ended.item_id.as_deref(), Some(ITEM3));
    assert_eq!(never_ended.pane.as_ref().unwrap().paired_id, None);
    assert_eq!(never_ended.pane.as_ref().unwrap().duration_ms, None);
    let never_started = at(&e, "14:16:30.000Z", "ReadingPaneDisplayEnd");
    assert_eq!(never_started.item_id.as_deref(), Some(ITEM4));
    assert_eq!(never_started.pane.as_ref().unwrap().paired_id, None);
}

#[test]
fn typed_keystrokes_collapse_into_the_search_they_became() {
    let (_dir, _path, r) = bec_case();
    let e = r.mailbox_page(&scope(None, None), None, 1000).unwrap().entries;
    let searches: Vec<&MailboxEntry> = e.iter().filter(|x| x.action == "search").collect();
    assert_eq!(searches.len(), 1, "five keystrokes and the result are one entry");
    let s = searches[0];
    assert_eq!((s.time.as_str(), s.operation.as_str()), ("2018-05-14T14:12:00.000Z", "SearchSuggestionsDisplay"));
    let t = s.search.as_ref().unwrap();
    assert_eq!(t.keystrokes, vec!["i", "in", "inv", "invo", "invoice"]);
    assert_eq!(t.progression, "i → in → inv → invo → invoice");
    assert_eq!(t.query, "invoice");
    assert_eq!(s.subject.as_deref(), Some("invoice"));
    assert_eq!(t.absorbed_ids.len(), 5);
    let result = r.event(t.result_id.as_deref().unwrap()).unwrap();
    assert_eq!(
        (result.event.operation.as_str(), result.event.time.as_str()),
        ("SearchResult", "2018-05-14T14:12:06.000Z")
    );
    assert_eq!(t.absorbed_ids.last(), t.result_id.as_ref());
    for id in &t.absorbed_ids {
        assert!(e.iter().all(|x| &x.id != id), "absorbed {id} is not shown twice");
    }
}

#[test]
fn legacy_item_ids_resolve_to_subject_and_sender_through_message_delivered() {
    let (_dir, _path, r) = bec_case();
    let e = r.mailbox_page(&scope(None, None), None, 1000).unwrap().entries;
    let read = at(&e, "14:11:00.000Z", "ReadingPaneDisplayStart");
    assert_eq!(read.item_id.as_deref(), Some(ITEM1));
    assert_eq!(read.subject.as_deref(), Some("Q2 invoice batch"));
    assert_eq!(read.sender.as_deref(), Some("billing@fabrikam.example"));
    assert_eq!(read.message_ids, vec!["<q2batch@fabrikam.example>"]);
    let delivered = r.event(read.resolved_from.as_deref().unwrap()).unwrap();
    assert_eq!(delivered.event.operation, "MessageDelivered");
    assert_eq!(delivered.event.object.as_deref(), Some(ITEM1));
    let att = at(&e, "14:13:10.000Z", "OpenedAnAttachment");
    assert_eq!(att.subject.as_deref(), Some("Invoice 4471 - payment due"));
    assert_eq!(att.sender.as_deref(), Some("accounts@fabrikam.example"));
    assert_eq!(att.detail.as_deref(), Some("Open"));
    let reply = at(&e, "14:16:00.000Z", "Reply");
    assert_eq!((reply.action.as_str(), reply.subject.as_deref()), ("reply", Some("Invoice 4471 - payment due")));
    let mv = at(&e, "14:17:00.000Z", "Move");
    assert_eq!(mv.folders, vec!["Inbox", "RSS Subscriptions"]);
    let lure = at(&e, "14:15:00.000Z", "ReadingPaneDisplayStart");
    assert_eq!(lure.subject.as_deref(), Some("=HYPERLINK(\"http://pay.example/4471\",\"Pay now\")"));
    let unknown = at(&e, "14:16:30.000Z", "ReadingPaneDisplayEnd");
    assert_eq!(
        (unknown.subject.as_deref(), unknown.sender.as_deref(), unknown.resolved_from.as_deref()),
        (None, None, None)
    );
    // The delivery itself names its subject and sender.
    let d = at(&e, "10:15:00.000Z", "MessageDelivered");
    assert_eq!((d.action.as_str(), d.sender.as_deref()), ("delivery", Some("accounts@fabrikam.example")));
}

#[test]
fn paging_with_any_page_size_gives_exactly_what_one_pass_gives() {
    let (_dir, _path, r) = bec_case();
    let s = scope(None, None);
    let (whole, whole_sessions) = walk(&r, &s, 1000);
    let strip = |v: &[MailboxSession]| -> Vec<MailboxSession> {
        v.iter().map(|x| MailboxSession { open: false, ..x.clone() }).collect()
    };
    for limit in [1, 2, 3, 5, 7, 11] {
        let (entries, sessions) = walk(&r, &s, limit);
        assert_eq!(entries, whole, "limit {limit}");
        assert_eq!(strip(&sessions), strip(&whole_sessions), "limit {limit}");
    }
    // A cursor is the machine's state, not a position anyone can forge into SQL.
    let err = r.mailbox_page(&s, Some("1; DROP TABLE event"), 10).unwrap_err();
    assert_eq!(err.code, ErrorCode::QueryInvalid);
}

#[test]
fn a_time_range_bounds_the_stream_and_starts_sessions_at_its_start() {
    let (_dir, _path, r) = bec_case();
    let page = r.mailbox_page(&scope(Some("2018-05-14T14:12"), Some("2018-05-14T14:14")), None, 1000).unwrap();
    let times: Vec<&str> = page.entries.iter().map(|e| &e.time[11..]).collect();
    assert_eq!(times, vec!["14:12:00.000Z", "14:12:30.000Z", "14:13:10.000Z", "14:14:00.000Z"]);
    // The end at 14:14 has its start (14:12:30) in range; the 14:11 pair is outside.
    assert_eq!(page.entries[3].pane.as_ref().unwrap().duration_ms, Some(90_000));
    assert_eq!(page.sessions.len(), 1);
    assert_eq!(page.sessions[0].first_time, "2018-05-14T14:12:00.000Z");
    // Unknown mailboxes are empty, not errors; nonsense bounds are errors that say why.
    let none = r.mailbox_page(&MailboxScope::parse("nobody@contoso.example", None, None).unwrap(), None, 10).unwrap();
    assert!(none.entries.is_empty() && none.sessions.is_empty() && none.next.is_none());
    assert_eq!(MailboxScope::parse(ADELE, Some("soon"), None).unwrap_err().code, ErrorCode::QueryInvalid);
}

fn cells(r: &CaseReader, kind: ReportKind) -> Vec<Vec<String>> {
    r.mailbox_report_all(&scope(None, None), kind).unwrap().rows.into_iter().map(|r| r.cells).collect()
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

#[test]
fn logon_report_has_magic_unicorns_columns_and_rows() {
    let (_dir, _path, r) = bec_case();
    let rep = r.mailbox_report(&scope(None, None), ReportKind::Logons, None, 1000).unwrap();
    assert_eq!(rep.columns, vec!["Date", "Time", "Source IP", "Logon Type", "App Type", "User", "Client"]);
    assert_eq!(
        cells(&r, ReportKind::Logons),
        vec![
            row(&["2018-05-14", "08:55:00.120Z", "203.0.113.10", "ServerLogon", "Exchange", ADELE, CHROME]),
            row(&["2018-05-14", "08:55:02.400Z", "203.0.113.10", "Logon", "Web", "", CHROME]),
            row(&["2018-05-14", "14:10:00.500Z", "198.51.100.77:51234", "ServerLogon", "Exchange", ADELE, FIREFOX]),
            row(&["2018-05-14", "14:10:03.000Z", "198.51.100.77", "Logon", "Web", "", FIREFOX]),
        ]
    );
}

#[test]
fn read_reports_by_time_and_by_item_resolve_items_and_carry_the_last_login_ip() {
    let (_dir, _path, r) = bec_case();
    let rep = r.mailbox_report(&scope(None, None), ReportKind::ReadsByTime, None, 1000).unwrap();
    assert_eq!(
        rep.columns,
        vec!["Date", "Time", "Type", "Platform", "Subject", "From", "Received Date", "Last Login IP"]
    );
    let q2 = ["Q2 invoice batch", "billing@fabrikam.example", "05/14/2018 09:00:00 AM"];
    let inv = ["Invoice 4471 - payment due", "accounts@fabrikam.example", "05/14/2018 10:15:00 AM"];
    let lure =
        ["=HYPERLINK(\"http://pay.example/4471\",\"Pay now\")", "ceo@contoso-mail.example", "05/14/2018 11:30:00 AM"];
    let nd = ["No Data", "No Data", "No Data"];
    let mk = |t: &str, ty: &str, m: [&str; 3], ip: &str| row(&["2018-05-14", t, ty, "Web", m[0], m[1], m[2], ip]);
    let (s, e) = ("ReadingPaneDisplayStart", "ReadingPaneDisplayEnd");
    let (home, new_ip) = ("203.0.113.10", "198.51.100.77");
    let by_time = vec![
        mk("09:02:10.000Z", s, q2, home),
        mk("09:03:40.000Z", e, q2, home),
        mk("14:11:00.000Z", s, q2, new_ip),
        mk("14:11:45.000Z", e, q2, new_ip),
        mk("14:12:30.000Z", s, inv, new_ip),
        mk("14:14:00.000Z", e, inv, new_ip),
        mk("14:15:00.000Z", s, lure, new_ip),
        mk("14:16:30.000Z", e, nd, new_ip),
        mk("15:08:00.000Z", s, inv, new_ip),
        mk("15:08:20.000Z", e, inv, new_ip),
    ];
    assert_eq!(cells(&r, ReportKind::ReadsByTime), by_time);
    let by_item = r.mailbox_report_all(&scope(None, None), ReportKind::ReadsByItem).unwrap();
    assert_eq!(by_item.columns, rep.columns);
    let groups: Vec<&str> = by_item.rows.iter().map(|r| r.group.as_deref().unwrap()).collect();
    assert_eq!(groups, vec![ITEM1, ITEM1, ITEM1, ITEM1, ITEM2, ITEM2, ITEM2, ITEM2, ITEM3, ITEM4]);
    let order = [0, 1, 2, 3, 4, 5, 8, 9, 6, 7];
    let want: Vec<Vec<String>> = order.iter().map(|i| by_time[*i].clone()).collect();
    assert_eq!(by_item.rows.iter().map(|r| r.cells.clone()).collect::<Vec<_>>(), want);
    // Paged in threes, both give the same rows.
    for kind in [ReportKind::ReadsByTime, ReportKind::ReadsByItem] {
        let mut rows = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let p = r.mailbox_report(&scope(None, None), kind, after.as_deref(), 3).unwrap();
            assert!(p.rows.len() <= 3);
            rows.extend(p.rows);
            match p.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(rows, r.mailbox_report_all(&scope(None, None), kind).unwrap().rows, "{kind:?}");
    }
}

#[test]
fn search_and_attachment_reports() {
    let (_dir, _path, r) = bec_case();
    let rep = r.mailbox_report(&scope(None, None), ReportKind::Searches, None, 1000).unwrap();
    assert_eq!(rep.columns, vec!["Date", "Time", "Platform", "Query", "Last Login ip"]);
    let ip = "198.51.100.77";
    assert_eq!(
        cells(&r, ReportKind::Searches),
        vec![
            row(&["2018-05-14", "14:12:00.000Z", "Web", "i", ip]),
            row(&["2018-05-14", "14:12:00.800Z", "Web", "in", ip]),
            row(&["2018-05-14", "14:12:01.500Z", "Web", "inv", ip]),
            row(&["2018-05-14", "14:12:02.300Z", "Web", "invo", ip]),
            row(&["2018-05-14", "14:12:04.000Z", "Web", "invoice", ip]),
            row(&["2018-05-14", "14:12:06.000Z", "Web", "invoice", ip]),
        ]
    );
    let rep = r.mailbox_report(&scope(None, None), ReportKind::Attachments, None, 1000).unwrap();
    assert_eq!(
        rep.columns,
        vec![
            "Date",
            "Time",
            "Platform",
            "Subject",
            "From",
            "Received Date",
            "Action",
            "Last Login IP",
            "Activity Item ID"
        ]
    );
    assert_eq!(
        cells(&r, ReportKind::Attachments),
        vec![
            row(&[
                "2018-05-14",
                "09:05:00.000Z",
                "Web",
                "Q2 invoice batch",
                "billing@fabrikam.example",
                "05/14/2018 09:00:00 AM",
                "Preview",
                "203.0.113.10",
                ITEM1
            ]),
            row(&[
                "2018-05-14",
                "14:13:10.000Z",
                "Web",
                "Invoice 4471 - payment due",
                "accounts@fabrikam.example",
                "05/14/2018 10:15:00 AM",
                "Open",
                ip,
                ITEM2
            ]),
        ]
    );
    // A range before the intruder: the morning's attachment only.
    let morning = r.mailbox_report_all(&scope(None, Some("2018-05-14T12:00")), ReportKind::Attachments).unwrap();
    assert_eq!(morning.rows.len(), 1);
}

#[test]
fn report_csv_keeps_the_layout_and_neutralises_formulas() {
    let (_dir, _path, r) = bec_case();
    let rep = r.mailbox_report_all(&scope(None, None), ReportKind::ReadsByItem).unwrap();
    let mut out = Vec::new();
    write_report_csv(&rep, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("UTF-8 BOM for spreadsheets");
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], ITEM1);
    assert_eq!(lines[1], "Date,Time,Type,Platform,Subject,From,Received Date,Last Login IP");
    assert!(lines[2].starts_with("2018-05-14,09:02:10.000Z,ReadingPaneDisplayStart,Web,Q2 invoice batch,"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("Date,")).count(), 4, "a header per item");
    assert!(
        text.contains(r#","'=HYPERLINK(""http://pay.example/4471"",""Pay now"")",ceo@contoso-mail.example,"#),
        "formula neutralised and quoted: {text}"
    );
}

#[test]
fn cli_prints_the_view_and_writes_a_report_csv_recorded_in_the_case_log() {
    let (dir, path, _r) = bec_case();
    let tidemark = binary("tidemark");
    let out = Command::new(&tidemark).arg("mailbox").arg(&path).arg(ADELE).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("i → in → inv → invo → invoice"), "{text}");
    assert!(text.contains("198.51.100.77"));
    assert!(text.contains("Q2 invoice batch"));
    let csv = dir.path().join("searches.csv");
    let out = Command::new(&tidemark)
        .arg("mailbox")
        .arg(&path)
        .arg(ADELE)
        .args(["--from", "2018-05-14T14:00", "--to", "2018-05-14", "--report", "searches", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(written.lines().count(), 1 + 6);
    assert!(written.starts_with("\u{feff}Date,Time,Platform,Query,Last Login ip\r\n"));
    let log = CaseReader::open(&path).unwrap().log_entries().unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.action, "export");
    assert!(last.summary.contains("searches") && last.summary.contains(ADELE), "{}", last.summary);
    let bad = Command::new(&tidemark).arg("mailbox").arg(&path).arg(ADELE).args(["--report", "mail"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(5));
}
