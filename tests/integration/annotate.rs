//! Annotations, facets and the histogram on real case files: tagging by query and by id, `tag:` /
//! `is:bookmarked` / `has:note` searches with paging, notes on ranges, saved searches, the case-log
//! entries every change writes (and that the chain still verifies), facet counts against brute force,
//! and histogram buckets against the query count.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use tidemark_core::facets::FacetPrecision;
use tidemark_core::model::{EventRow, FacetField, SortOrder};
use tidemark_core::{CaseReader, CaseWriter, ErrorCode, FixedClock, OpenCase, Query};
use tidemark_tests::{fixture, import, new_case, write_dense_ual, TEST_NOW_MS};

fn dense_case(n: usize) -> (tempfile::TempDir, std::path::PathBuf, CaseWriter, CaseReader) {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "annotate");
    let f = write_dense_ual(&dir.path().join("d.jsonl"), n, 5);
    import(&mut w, &[f, fixture("ual-small.jsonl")]);
    let r = CaseReader::open(&path).unwrap();
    (dir, path, w, r)
}

fn q(text: &str) -> Query {
    Query::parse(text).unwrap()
}

fn count(r: &CaseReader, text: &str) -> i64 {
    r.count(&q(text)).unwrap().matching
}

/// Every matching event by keyset pages.
fn walk(r: &CaseReader, text: &str, sort: SortOrder, limit: usize) -> Vec<EventRow> {
    let query = q(text);
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = r.page(&query, sort, after.as_deref(), limit).unwrap();
        out.extend(page.rows);
        match page.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

fn ids(rows: &[EventRow]) -> Vec<i64> {
    rows.iter().map(|e| e.id.parse().unwrap()).collect()
}

#[test]
fn tag_by_query_then_search_by_tag_with_paging_words_ranges_and_or() {
    let (_dir, _path, mut w, r) = dense_case(6_000);
    let sent = w.create_tag("Sent mail", "#1C7ED6").unwrap();
    let n = count(&r, "op:Send");
    assert!(n > 500, "{n}");
    let change = w.tag_query(sent.id, "op:Send", &q("op:Send")).unwrap();
    assert_eq!((change.changed, change.tag.events), (n, n));
    // Tagging again changes nothing.
    assert_eq!(w.tag_query(sent.id, "op:Send", &q("op:Send")).unwrap().changed, 0);

    // tag: finds exactly those events, in time order, page by page, both directions.
    let expected = ids(&walk(&r, "op:Send", SortOrder::Asc, 1000));
    for (sort, limit) in [(SortOrder::Asc, 97), (SortOrder::Desc, 250)] {
        let mut got = ids(&walk(&r, r#"tag:"sent mail""#, sort, limit));
        if sort == SortOrder::Desc {
            got.reverse();
        }
        assert_eq!(got, expected, "{sort:?}");
    }
    // Combined with words, time ranges, exclusion and OR, tag: means the same as the query it came from.
    let first = walk(&r, "", SortOrder::Asc, 1000)[0].time.clone();
    let from = &first[..16];
    for (with_tag, same) in [
        (r#"tag:"Sent mail" Report"#, "op:Send Report"),
        (
            r#"tag:"Sent mail" after:2025-03-01T10:03 before:2025-03-01T10:05"#,
            "op:Send after:2025-03-01T10:03 before:2025-03-01T10:05",
        ),
        (r#"-tag:"Sent mail""#, "-op:Send"),
        (r#"tag:"Sent mail" OR op:SoftDelete"#, "op:Send OR op:SoftDelete"),
        (r#"tag:sent* user:user3"#, "op:Send user:user3"),
        ("is:tagged", "op:Send"),
        (&format!(r#"tag:"Sent mail" after:{from}"#), &format!("op:Send after:{from}")),
    ] {
        assert_eq!(count(&r, with_tag), count(&r, same), "{with_tag}");
        assert_eq!(
            ids(&walk(&r, with_tag, SortOrder::Asc, 333)),
            ids(&walk(&r, same, SortOrder::Asc, 1000)),
            "{with_tag}"
        );
    }
    assert_eq!(count(&r, "tag:nonexistent"), 0);

    // Untag by query.
    let change = w.untag_query(sent.id, "user:user3", &q("user:user3")).unwrap();
    assert_eq!(change.changed, count(&r, "op:Send user:user3"));
    assert_eq!(count(&r, r#"tag:"sent mail""#), count(&r, "op:Send -user:user3"));

    // By id: all or nothing.
    let noise = w.create_tag("noise", "#868e96").unwrap();
    let some: Vec<String> =
        walk(&r, "op:SoftDelete", SortOrder::Asc, 1000).iter().take(5).map(|e| e.id.clone()).collect();
    let mut with_bad = some.clone();
    with_bad.push("12345".into());
    assert_eq!(w.tag_events(noise.id, &with_bad).unwrap_err().code, ErrorCode::EventNotFound);
    assert_eq!(count(&r, "tag:noise"), 0, "a failed tagging changes nothing");
    let mut twice = some.clone();
    twice.extend(some.iter().cloned());
    assert_eq!(w.tag_events(noise.id, &twice).unwrap().changed, 5);
    assert_eq!(w.untag_events(noise.id, &some[..2]).unwrap().changed, 2);
    assert_eq!(count(&r, "tag:noise"), 3);
    assert_eq!(w.tag_events(999, &some).unwrap_err().code, ErrorCode::TagNotFound);

    // Deleting a tag removes its assignments; the log keeps what happened.
    let before = count(&r, r#"tag:"sent mail""#);
    assert_eq!(w.delete_tag(sent.id).unwrap(), before);
    assert_eq!(count(&r, r#"tag:"sent mail""#), 0);
    assert_eq!(count(&r, "is:tagged"), 3);
    let log = r.log_entries().unwrap();
    let tagging: Vec<&str> = log.iter().filter(|e| e.action.starts_with("tag.")).map(|e| e.action.as_str()).collect();
    assert_eq!(
        tagging,
        [
            "tag.created",
            "tag.applied",
            "tag.applied",
            "tag.removed",
            "tag.created",
            "tag.applied",
            "tag.removed",
            "tag.deleted"
        ]
    );
    let applied = log.iter().find(|e| e.action == "tag.applied").unwrap();
    assert_eq!(applied.details["query"], "op:Send");
    assert_eq!(applied.details["changed"], n);
    assert_eq!(applied.time, "2026-01-02T03:04:05.000Z", "the writer's clock");
    let by_id = log.iter().filter(|e| e.action == "tag.applied").nth(2).unwrap();
    assert_eq!(by_id.details["event_ids"].as_array().unwrap().len(), 5);
    let deleted = log.iter().find(|e| e.action == "tag.deleted").unwrap();
    assert_eq!(
        (deleted.details["name"].as_str(), deleted.details["events_removed"].as_i64()),
        (Some("Sent mail"), Some(before))
    );
    assert!(r.verify_log().unwrap().is_empty());
}

#[test]
fn bookmarks_notes_on_events_and_ranges_and_what_each_event_carries() {
    let (_dir, _path, mut w, r) = dense_case(2_000);
    let rows = walk(&r, "op:New-InboxRule", SortOrder::Asc, 1000);
    let (a, b, c) = (&rows[0], &rows[10], &rows[20]);
    for e in [c, a, b] {
        assert!(w.toggle_bookmark(&e.id).unwrap());
    }
    assert!(!w.toggle_bookmark(&b.id).unwrap(), "a second toggle removes the bookmark");
    assert_eq!(w.toggle_bookmark("1").unwrap_err().code, ErrorCode::EventNotFound);
    let marks = r.bookmarks().unwrap();
    let marked: Vec<&str> = marks.iter().map(|m| m.event_id.as_str()).collect();
    assert_eq!(marked, [a.id.as_str(), c.id.as_str()], "time order");
    assert_eq!(marks[0].event.as_ref().unwrap().operation, "New-InboxRule");
    assert_eq!(ids(&walk(&r, "is:bookmarked", SortOrder::Asc, 1)), ids(&[a.clone(), c.clone()]));
    assert_eq!(count(&r, "is:bookmarked op:New-InboxRule"), 2);
    assert_eq!(count(&r, "-is:bookmarked"), count(&r, "") - 2);

    let on_event = w.add_event_note(&b.id, "Rule forwards to an outside address.\n<script>alert(1)</script>").unwrap();
    let range = w.add_range_note(a.time_ms - 60_000, a.time_ms + 60_000, "Attacker active").unwrap();
    assert_eq!(range.start.as_deref().map(|s| s.ends_with('Z')), Some(true));
    assert_eq!(count(&r, "has:note"), 1, "a note on a range is not a note on the events in it");
    assert_eq!(walk(&r, "has:note", SortOrder::Desc, 10)[0].id, b.id);
    let notes = r.notes().unwrap();
    assert_eq!(notes.iter().map(|n| n.id).collect::<Vec<_>>(), [range.id, on_event.id], "timeline order");
    assert_eq!(notes[1].body, "Rule forwards to an outside address.\n<script>alert(1)</script>", "stored as typed");
    let edited = w.edit_note(range.id, "Attacker active (confirmed)").unwrap();
    assert_eq!((edited.start_ms, edited.end_ms), (range.start_ms, range.end_ms));
    assert_eq!(w.edit_note(999, "x").unwrap_err().code, ErrorCode::NoteNotFound);

    let sent = w.create_tag("sent", "#2f9e44").unwrap();
    let rule = w.create_tag("rule", "#e03131").unwrap();
    w.tag_events(rule.id, std::slice::from_ref(&b.id)).unwrap();
    w.tag_events(sent.id, std::slice::from_ref(&b.id)).unwrap();
    let ann = r.event_annotations(&[b.id.clone(), a.id.clone(), "garbage".into()]).unwrap();
    assert_eq!(ann.len(), 3);
    assert_eq!(ann[0].tag_ids, [sent.id, rule.id]);
    assert!(!ann[0].bookmarked);
    assert_eq!(ann[0].notes.len(), 1);
    assert!(ann[1].bookmarked && ann[1].tag_ids.is_empty() && ann[1].notes.is_empty());
    assert!(ann[2].tag_ids.is_empty());

    w.delete_note(on_event.id).unwrap();
    assert_eq!(count(&r, "has:note"), 0);
    let log = r.log_entries().unwrap();
    let actions: Vec<&str> = log
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("bookmark.") || a.starts_with("note."))
        .collect();
    assert_eq!(
        actions,
        [
            "bookmark.added",
            "bookmark.added",
            "bookmark.added",
            "bookmark.removed",
            "note.created",
            "note.created",
            "note.edited",
            "note.deleted"
        ]
    );
    let edit = log.iter().find(|e| e.action == "note.edited").unwrap();
    assert_eq!(
        (edit.details["old_body"].as_str(), edit.details["body"].as_str()),
        (Some("Attacker active"), Some("Attacker active (confirmed)"))
    );
    assert!(r.verify_log().unwrap().is_empty());
}

#[test]
fn saved_searches_are_named_queries_that_must_parse() {
    let (_dir, _path, mut w, r) = dense_case(100);
    let b = w.save_search("Rules by user3", "op:New-InboxRule user:user3").unwrap();
    let a = w.save_search("all sends", "op:Send").unwrap();
    assert_eq!(w.save_search("ALL SENDS", "x").unwrap_err().code, ErrorCode::SavedSearchExists);
    assert_eq!(w.save_search("bad", "acter:x").unwrap_err().code, ErrorCode::QueryInvalid);
    assert_eq!(w.save_search(" ", "x").unwrap_err().code, ErrorCode::AnnotationInvalid);
    let names: Vec<String> = r.saved_searches().unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["all sends", "Rules by user3"], "by name, ignoring case");
    assert_eq!(w.rename_saved_search(a.id, "Rules by USER3").unwrap_err().code, ErrorCode::SavedSearchExists);
    w.rename_saved_search(a.id, "Sends").unwrap();
    w.delete_saved_search(b.id).unwrap();
    let left = r.saved_searches().unwrap();
    assert_eq!((left.len(), left[0].name.as_str(), left[0].query.as_str()), (1, "Sends", "op:Send"));
    assert_eq!(count(&r, &left[0].query), count(&r, "op:Send"));
    let log = r.log_entries().unwrap();
    let deleted = log.iter().find(|e| e.action == "saved_search.deleted").unwrap();
    assert_eq!(deleted.details["query"], "op:New-InboxRule user:user3");
    assert!(r.verify_log().unwrap().is_empty());
}

#[test]
fn renaming_a_tag_rewrites_the_saved_searches_that_use_it_in_the_same_transaction() {
    let (_dir, path, mut w, r) = dense_case(2_000);
    let phish = w.create_tag("Phish wave", "#e03131").unwrap();
    let other = w.create_tag("phishing", "#1c7ed6").unwrap();
    w.tag_query(phish.id, "op:Send", &q("op:Send")).unwrap();
    w.tag_query(other.id, "op:SoftDelete", &q("op:SoftDelete")).unwrap();
    let searches = [
        ("quoted", r#"tag:"Phish wave" user:user3"#),
        ("any case, excluded", r#"op:Send -TAG:"phish WAVE""#),
        ("in OR", r#"tag:"phish wave" OR op:New-InboxRule"#),
        ("prefix", "tag:phish*"),
        ("other tag", "tag:phishing"),
        ("words", r#""Phish wave" subject:"tag:Phish wave""#),
    ];
    let mut counts_before = HashMap::new();
    for (name, text) in searches {
        w.save_search(name, text).unwrap();
        counts_before.insert(name, count(&r, text));
    }
    assert!(counts_before["quoted"] > 0 && counts_before["in OR"] > counts_before["quoted"]);

    let renamed = w.rename_tag(phish.id, "BEC").unwrap();
    assert_eq!(renamed.name, "BEC");
    let now: BTreeMap<String, String> = r.saved_searches().unwrap().into_iter().map(|s| (s.name, s.query)).collect();
    assert_eq!(now["quoted"], r#"tag:"BEC" user:user3"#, "a quoted name stays quoted");
    assert_eq!(now["any case, excluded"], r#"op:Send -TAG:"BEC""#);
    assert_eq!(now["in OR"], r#"tag:"BEC" OR op:New-InboxRule"#);
    assert_eq!(now["prefix"], "tag:phish*", "a prefix is a pattern, not the tag's name");
    assert_eq!(now["other tag"], "tag:phishing");
    assert_eq!(now["words"], r#""Phish wave" subject:"tag:Phish wave""#, "free text is not a tag");
    // The rewritten searches find what they found before the rename.
    for (name, text) in &now {
        if name != "prefix" {
            assert_eq!(count(&r, text), counts_before[name.as_str()], "{name}: {text}");
        }
    }
    // A bare name that gains a space is quoted (and stays quoted).
    w.save_search("bare", "tag:bec -op:Send").unwrap();
    w.rename_tag(phish.id, "BEC wave 2").unwrap();
    w.rename_tag(phish.id, "bec3").unwrap();
    let now: BTreeMap<String, String> = r.saved_searches().unwrap().into_iter().map(|s| (s.name, s.query)).collect();
    assert_eq!(now["bare"], r#"tag:"bec3" -op:Send"#, "once quoted, it stays quoted");
    assert_eq!(now["quoted"], r#"tag:"bec3" user:user3"#);

    // The case log says which searches changed, with both queries.
    let log = r.log_entries().unwrap();
    let renames: Vec<_> = log.iter().filter(|e| e.action == "tag.renamed").collect();
    assert_eq!(renames.len(), 3);
    let first = renames[0];
    assert_eq!(
        first.summary,
        r#"Tag "Phish wave" renamed to "BEC"; saved searches "quoted", "any case, excluded", "in OR" now search for tag:BEC"#
    );
    let changed = first.details["saved_searches"].as_array().unwrap();
    assert_eq!(changed.len(), 3);
    assert_eq!(changed[1]["name"], "any case, excluded");
    assert_eq!(changed[1]["old_query"], r#"op:Send -TAG:"phish WAVE""#);
    assert_eq!(changed[1]["query"], r#"op:Send -TAG:"BEC""#);
    assert!(renames[1].summary.ends_with(r#"now search for tag:"BEC wave 2""#), "{}", renames[1].summary);
    assert!(r.verify_log().unwrap().is_empty());

    // A rename that fails changes no search either (one transaction).
    assert_eq!(w.rename_tag(phish.id, "PHISHING").unwrap_err().code, ErrorCode::TagExists);
    let after_fail: BTreeMap<String, String> =
        r.saved_searches().unwrap().into_iter().map(|s| (s.name, s.query)).collect();
    assert_eq!(after_fail, now);
    assert_eq!(r.log_entries().unwrap().len(), log.len());

    // Through the open case (what the app calls), too.
    drop(w);
    let case = OpenCase::open(&path, Arc::new(FixedClock(TEST_NOW_MS)), "tester").unwrap();
    case.tag_rename(phish.id, "final").unwrap();
    let q_bare = case.saved_searches().unwrap().into_iter().find(|s| s.name == "bare").unwrap().query;
    assert_eq!(q_bare, r#"tag:"final" -op:Send"#);
}

fn field_value(e: &EventRow, f: FacetField) -> Option<&str> {
    match f {
        FacetField::Actor => e.actor.as_deref(),
        FacetField::Mailbox => e.mailbox.as_deref(),
        FacetField::Action => Some(&e.action),
        FacetField::Operation => Some(&e.operation),
        FacetField::ClientIp => e.client_ip.as_deref(),
        FacetField::ClientApp => e.client_app.as_deref(),
        FacetField::AppId => e.app_id.as_deref(),
        FacetField::Workload => e.workload.as_deref(),
        FacetField::Source => Some(&e.source),
        FacetField::Country => e.ip.as_ref().and_then(|i| i.country.as_deref()),
        FacetField::Network => e.ip.as_ref().and_then(|i| i.network.as_deref()),
    }
}

#[test]
fn facet_counts_equal_brute_force_counts() {
    let (_dir, _path, mut w, r) = dense_case(3_000);
    let t = w.create_tag("x", "#000000").unwrap();
    w.tag_query(t.id, "user:user4 OR op:Send", &q("user:user4 OR op:Send")).unwrap();
    for text in [
        "",
        "op:MailItemsAccessed",
        "user:user3 Report",
        "tag:x -action:send",
        "mailbox:contoso after:2025-03-01T10:04",
    ] {
        let rows = walk(&r, text, SortOrder::Asc, 1000);
        let facets = r.facets(&q(text), 5, FacetPrecision::Exact).unwrap();
        assert_eq!(facets.matching, rows.len() as i64, "{text}");
        let every: Vec<FacetField> = FacetField::ALL.iter().chain(FacetField::DERIVED.iter()).copied().collect();
        assert_eq!(facets.fields.iter().map(|f| f.field).collect::<Vec<_>>(), every);
        for facet in &facets.fields {
            let mut counts: HashMap<&str, i64> = HashMap::new();
            let mut empty = 0;
            for e in &rows {
                match field_value(e, facet.field).filter(|v| !v.is_empty()) {
                    Some(v) => *counts.entry(v).or_default() += 1,
                    None => empty += 1,
                }
            }
            let mut expect: Vec<(&str, i64)> = counts.iter().map(|(k, v)| (*k, *v)).collect();
            expect.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let shown: i64 = expect.iter().take(5).map(|e| e.1).sum();
            expect.truncate(5);
            let got: Vec<(&str, i64)> = facet.values.iter().map(|v| (v.value.as_str(), v.count)).collect();
            assert_eq!(got, expect, "{text} {:?}", facet.field);
            assert_eq!(facet.distinct, counts.len() as i64, "{text} {:?}", facet.field);
            assert_eq!(facet.empty, empty, "{text} {:?}", facet.field);
            assert_eq!(facet.other, rows.len() as i64 - empty - shown, "{text} {:?}", facet.field);
            // Clicking a value narrows the search to (at least) the events counted for it.
            if let Some(v) = facet.values.first() {
                let narrowed = if text.is_empty() { v.filter.clone() } else { format!("{text} {}", v.filter) };
                assert!(count(&r, &narrowed) >= v.count, "{narrowed}");
            }
        }
    }
}

#[test]
fn histogram_buckets_sum_to_the_query_count_and_match_the_events() {
    let (_dir, _path, _w, r) = dense_case(4_000);
    let all = walk(&r, "", SortOrder::Asc, 1000);
    let (t0, t1) = (all[0].time_ms, all[all.len() - 1].time_ms);
    for (text, range) in [
        ("", None),
        ("op:Send", None),
        ("Report user:user2", None),
        ("", Some((t0 + 61_000, t0 + 125_500))),
        ("op:MailItemsAccessed", Some((t0 - 86_400_000, t1 + 86_400_000))),
        ("action:rule after:2025-03-01T10:02", None),
        ("nothing-matches-this", None),
    ] {
        let h = r.histogram(&q(text), range.map(|r| r.0), range.map(|r| r.1)).unwrap();
        let rows: Vec<EventRow> = walk(&r, text, SortOrder::Asc, 1000)
            .into_iter()
            .filter(|e| range.is_none_or(|(a, b)| (a..=b).contains(&e.time_ms)))
            .collect();
        assert_eq!(h.total, rows.len() as i64, "{text} {range:?}");
        assert_eq!(h.buckets.iter().map(|b| b.total).sum::<i64>(), h.total);
        assert!(h.buckets.len() <= 200);
        for (i, b) in h.buckets.iter().enumerate() {
            assert_eq!(b.start_ms, h.start_ms + i as i64 * h.bucket_ms, "contiguous, empty buckets included");
            assert_eq!(b.start_ms % 1000, 0, "aligned");
            assert_eq!(b.counts.len(), h.actions.len());
            assert_eq!(b.counts.iter().sum::<i64>(), b.total);
        }
        if let Some((a, b)) = range {
            assert!(h.start_ms <= a && h.end_ms > b, "{text}: the range is covered");
        }
        // Bucket by bucket and action by action, the same as counting the events.
        let mut expect: BTreeMap<(i64, String), i64> = BTreeMap::new();
        for e in &rows {
            let bucket = h.start_ms + (e.time_ms - h.start_ms).div_euclid(h.bucket_ms) * h.bucket_ms;
            *expect.entry((bucket, e.action.clone())).or_default() += 1;
        }
        let mut got: BTreeMap<(i64, String), i64> = BTreeMap::new();
        for b in &h.buckets {
            for (action, n) in h.actions.iter().zip(&b.counts) {
                if *n > 0 {
                    got.insert((b.start_ms, action.clone()), *n);
                }
            }
        }
        assert_eq!(got, expect, "{text} {range:?}");
        let distinct: HashSet<&String> = rows.iter().map(|e| &e.action).collect();
        assert_eq!(h.actions.len(), distinct.len());
    }
    // The generated ten minutes: 5-second buckets from 10:00:00, 120 of them.
    let h = r.histogram(&q("after:2025-03-01T10:00 before:2025-03-01T10:09:59.999Z"), None, None).unwrap();
    assert_eq!((h.bucket_label.as_str(), h.bucket_ms, h.buckets.len()), ("5 s", 5_000, 120));
    assert_eq!(h.buckets[0].start, "2025-03-01T10:00:00.000Z");
    assert_eq!(h.total, count(&r, "after:2025-03-01T10:00 before:2025-03-01T10:09:59.999Z"));
    // The whole case (the fixture's events too) still fits in at most 200 buckets.
    let h = r.histogram(&Query::all(), None, None).unwrap();
    assert_eq!(h.total, count(&r, ""));
    assert!(h.buckets.len() <= 200);
    assert_eq!(r.histogram(&Query::all(), Some(10), Some(5)).unwrap_err().code, ErrorCode::QueryInvalid);
}

#[test]
fn the_open_case_takes_plain_values() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "open");
    import(&mut w, &[fixture("ual-small.jsonl")]);
    drop(w);
    let c = OpenCase::open(&path, Arc::new(FixedClock(TEST_NOW_MS)), "tester").unwrap();
    let t = c.tag_create("Rules", "#E03131").unwrap();
    assert_eq!(c.tag_create("rules", "#000000").unwrap_err().code, ErrorCode::TagExists);
    assert_eq!(c.tag_query(t.id, "acter:x").unwrap_err().code, ErrorCode::QueryInvalid);
    let change = c.tag_query(t.id, "action:rule").unwrap();
    assert_eq!(change.changed, c.count("action:rule").unwrap().matching);
    assert_eq!(c.count("tag:rules").unwrap().matching, change.changed);
    let facets = c.facets("tag:rules", 3, FacetPrecision::Exact).unwrap();
    assert_eq!(facets.matching, change.changed);
    let action = facets.fields.iter().find(|f| f.field == FacetField::Action).unwrap();
    assert_eq!(action.values[0].value, "rule");
    let h = c.histogram("tag:rules", None, None).unwrap();
    assert_eq!(h.total, change.changed);
    assert_eq!(c.tags().unwrap()[0].events, change.changed);
    let id = c.page("tag:rules", SortOrder::Asc, None, 1).unwrap().rows[0].id.clone();
    assert!(c.bookmark_toggle(&id).unwrap());
    c.note_event(&id, "first rule").unwrap();
    let n = c.note_range(0, 1_000, "range").unwrap();
    c.note_edit(n.id, "range, edited").unwrap();
    c.note_delete(n.id).unwrap();
    let s = c.saved_search_create("rules", "tag:rules").unwrap();
    c.saved_search_rename(s.id, "Rules").unwrap();
    assert_eq!(c.saved_searches().unwrap()[0].name, "Rules");
    c.saved_search_delete(s.id).unwrap();
    assert_eq!(c.bookmarks().unwrap().len(), 1);
    assert_eq!(c.notes().unwrap().len(), 1);
    assert_eq!(c.event_annotations(std::slice::from_ref(&id)).unwrap()[0].tag_ids, [t.id]);
    assert_eq!(c.untag_events(t.id, std::slice::from_ref(&id)).unwrap().changed, 1);
    assert_eq!(c.untag_query(t.id, "").unwrap().changed, change.changed - 1);
    c.tag_recolor(t.id, "#000000").unwrap();
    c.tag_rename(t.id, "Inbox rules").unwrap();
    assert_eq!(c.tag_delete(t.id).unwrap(), 0);
    let r = CaseReader::open(&path).unwrap();
    assert!(r.verify_log().unwrap().is_empty());
}

#[test]
fn tag_and_facets_from_the_command_line() {
    use std::process::Command;
    let bin = tidemark_tests::binary("tidemark");
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "cli");
    import(&mut w, &[fixture("ual-small.jsonl")]);
    drop(w);
    let case = path.to_str().unwrap();
    let run = |args: &[&str]| Command::new(&bin).args(args).env("USER", "cli-tester").output().unwrap();
    let o = run(&["tag", case, "Rules", "--query", "action:rule", "--color", "#e03131"]);
    assert!(o.status.success(), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("Tag \"Rules\" put on "), "{out}");
    let o = run(&["tag", case, "Rules", "--query", "acter:x"]);
    assert_eq!(o.status.code(), Some(5), "invalid query");
    let o = run(&["tag", case, "Nope", "--query", "x", "--remove"]);
    assert_eq!(o.status.code(), Some(7), "unknown tag");
    let o = run(&["tag", case, "Bad", "--query", "x", "--color", "red"]);
    assert_eq!(o.status.code(), Some(7), "bad colour");
    let o = run(&["facets", case, "tag:rules", "--json", "--top", "2"]);
    assert!(o.status.success(), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = CaseReader::open(&path).unwrap();
    assert_eq!(v["matching"], r.count(&q("action:rule")).unwrap().matching);
    assert_eq!(v["fields"][2]["field"], "action");
    assert_eq!(v["fields"][2]["values"][0]["value"], "rule");
    let o = run(&["tags", case]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("#e03131 Rules"), "{o:?}");
    assert!(r.log_entries().unwrap().iter().any(|e| e.action == "tag.applied" && e.operator == "cli-tester"));
}
