//! Counts, keyset paging, query fields and event detail on real case files.

use std::collections::HashSet;

use tidemark_core::model::SortOrder;
use tidemark_core::{CaseReader, ErrorCode, Query};
use tidemark_tests::{fixture, import, new_case, write_dense_ual};

fn dense_case(n: usize) -> (tempfile::TempDir, CaseReader) {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "search");
    let f = write_dense_ual(&dir.path().join("d.jsonl"), n, 9);
    import(&mut w, &[f, fixture("ual-small.jsonl")]);
    let r = CaseReader::open(&path).unwrap();
    (dir, r)
}

fn walk(r: &CaseReader, q: &Query, sort: SortOrder, limit: usize) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = r.page(q, sort, after.as_deref(), limit).unwrap();
        assert!(page.rows.len() <= limit);
        out.extend(page.rows.iter().map(|e| (e.time_ms, e.id.parse::<i64>().unwrap())));
        match page.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

#[test]
fn keyset_paging_returns_every_event_exactly_once_in_time_order() {
    let (_dir, r) = dense_case(12_000);
    let total = r.count(&Query::all()).unwrap();
    assert_eq!(total.matching, 12_000 + 298);
    for (query, sort, limit) in [
        ("", SortOrder::Asc, 1000),
        ("", SortOrder::Desc, 333),
        ("Report", SortOrder::Asc, 97),
        ("Report", SortOrder::Desc, 1000),
        ("-op:Send", SortOrder::Asc, 500),
        ("action:read OR op:Send", SortOrder::Desc, 250),
        ("user:user3 SUM", SortOrder::Asc, 7),
    ] {
        let q = Query::parse(query).unwrap();
        let seen = walk(&r, &q, sort, limit);
        let expected = r.count(&q).unwrap().matching;
        assert_eq!(seen.len() as i64, expected, "{query}: every match once");
        let distinct: HashSet<i64> = seen.iter().map(|(_, id)| *id).collect();
        assert_eq!(distinct.len(), seen.len(), "{query}: no duplicates");
        for w in seen.windows(2) {
            let ordered = match sort {
                SortOrder::Asc => w[0].1 < w[1].1 && w[0].0 <= w[1].0,
                SortOrder::Desc => w[0].1 > w[1].1 && w[0].0 >= w[1].0,
            };
            assert!(ordered, "{query}: out of order at {w:?}");
        }
        assert!(expected > 0, "{query} should match something");
    }
}

#[test]
fn field_filters_match_only_their_field() {
    let (_dir, r) = dense_case(3_000);
    let check = |query: &str, pred: &dyn Fn(&tidemark_core::model::EventRow) -> bool| {
        let q = Query::parse(query).unwrap();
        let mut n = 0;
        r.for_each_event(&q, &mut |e| {
            assert!(pred(e), "{query} matched {e:?}");
            n += 1;
            Ok(())
        })
        .unwrap();
        assert!(n > 0, "{query} matched nothing");
        n
    };
    let sends = check("op:Send", &|e| e.operation == "Send");
    let not_sends = check("-op:Send", &|e| e.operation != "Send");
    assert_eq!(sends + not_sends, r.count(&Query::all()).unwrap().matching as usize);
    check("actor:user3", &|e| e.actor.as_deref() == Some("user3@contoso.example"));
    check("ip:198.51.100.7", &|e| e.client_ip.as_deref() == Some("198.51.100.7"));
    check("action:rule", &|e| e.action == "rule");
    check("msgid:<m42@mail.contoso.example>", &|e| e.subject.as_deref() == Some("=SUM(A1)+Report 42 <b>x</b>"));
    check("subject:\"Report 43\"", &|e| e.subject.as_deref() == Some("Report 43 <b>x</b>"));
    check("after:2025-03-01T10:05 before:2025-03-01T10:06", &|e| {
        (1_740_823_500_000..=1_740_823_560_000).contains(&e.time_ms)
    });
}

#[test]
fn invalid_queries_and_cursors_say_what_is_wrong() {
    let (_dir, r) = dense_case(100);
    assert_eq!(Query::parse("foo:bar").unwrap_err().code, ErrorCode::QueryInvalid);
    let e = r.page(&Query::all(), SortOrder::Asc, Some("not-a-cursor"), 10).unwrap_err();
    assert_eq!(e.code, ErrorCode::QueryInvalid);
    assert_eq!(r.event("12345").unwrap_err().code, ErrorCode::EventNotFound);
}

#[test]
fn event_detail_has_normalized_fields_raw_json_and_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "detail");
    import(&mut w, &[fixture("ual-small.jsonl")]);
    let r = CaseReader::open(&path).unwrap();
    let q = Query::parse("op:MailItemsAccessed").unwrap();
    let row = r.page(&q, SortOrder::Asc, None, 1).unwrap().rows.remove(0);
    let d = r.event(&row.id).unwrap();
    assert_eq!(d.event, row);
    assert!(!d.internet_message_ids.is_empty());
    let raw = &d.raw[0];
    assert!(raw.locator.contains("ual-small.jsonl line "), "{}", raw.locator);
    assert!(raw.text.contains("\n  \"CreationTime\""), "pretty JSON keeps the original key order: {}", &raw.text[..80]);
    assert!(raw.verbatim.contains(&d.record_key));
    // The verbatim text is the line from the file, byte for byte.
    let file = std::fs::read_to_string(fixture("ual-small.jsonl")).unwrap();
    assert!(file.lines().any(|l| l == raw.verbatim));
    use sha2::Digest;
    assert_eq!(raw.sha256, hex::encode(sha2::Sha256::digest(raw.verbatim.as_bytes())));
}

/// Random access (`seek.rs`): the event at every position is the one a full keyset walk puts there, in
/// both orders, for everything, a word (FTS doclist), a field filter (event table), a time range (id
/// range) and a tag (the tag's key), with anchors close together (many anchors, many skips) and at the
/// default spacing (one or two anchors).
#[test]
fn every_position_maps_to_the_row_a_full_scan_puts_there() {
    let (_dir, r) = dense_case(5_000);
    let queries = [
        "",
        "Report",
        "op:Send",
        "after:2025-03-01T10:03 before:2025-03-01T10:07",
        "Report -op:Send after:2025-03-01T10:02",
    ];
    for step in [61, tidemark_core::seek::ANCHOR_STEP] {
        r.set_anchor_step(step);
        for query in queries {
            let q = Query::parse(query).unwrap();
            for sort in [SortOrder::Asc, SortOrder::Desc] {
                let full = walk(&r, &q, sort, 1000);
                assert!(full.len() > 100, "{query}: matches enough to test ({})", full.len());
                assert_eq!(r.positions(&q).unwrap(), full.len() as i64, "{query}: count");
                for (pos, (_, id)) in full.iter().enumerate() {
                    assert_eq!(
                        r.id_at(&q, sort, pos as u64).unwrap(),
                        Some(*id),
                        "{query} {sort:?} step {step} position {pos}"
                    );
                }
                assert_eq!(r.id_at(&q, sort, full.len() as u64).unwrap(), None, "{query}: past the end");
                // Pages from any position are the same slice of the full walk, and continue by keyset.
                for pos in [0, 1, step - 1, step, step + 1, full.len() / 2, full.len() - 3, full.len() - 1] {
                    let pos = pos.min(full.len() - 1);
                    let page = r.page_at(&q, sort, pos as u64, 50).unwrap();
                    let ids: Vec<i64> = page.rows.iter().map(|e| e.id.parse().unwrap()).collect();
                    let want: Vec<i64> = full[pos..(pos + 50).min(full.len())].iter().map(|(_, id)| *id).collect();
                    assert_eq!(ids, want, "{query} {sort:?} page at {pos}");
                    if let Some(next) = page.next {
                        let more = r.page(&q, sort, Some(&next), 10).unwrap();
                        assert_eq!(
                            more.rows[0].id.parse::<i64>().unwrap(),
                            full[pos + 50].1,
                            "{query}: next continues"
                        );
                    } else {
                        assert!(pos + 50 >= full.len());
                    }
                }
                assert!(r.page_at(&q, sort, full.len() as u64, 10).unwrap().rows.is_empty());
            }
        }
    }
}

/// Anchors are dropped when the case changes: a second import (another connection's commit) moves
/// positions, and a tag's result list is seekable too.
#[test]
fn positions_follow_imports_and_tags() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "seek");
    import(&mut w, &[write_dense_ual(&dir.path().join("a.jsonl"), 900, 3)]);
    let r = CaseReader::open(&path).unwrap();
    r.set_anchor_step(50);
    let all = Query::all();
    assert_eq!(r.positions(&all).unwrap(), 900);
    let last = r.id_at(&all, SortOrder::Desc, 0).unwrap().unwrap();
    import(&mut w, &[write_dense_ual(&dir.path().join("b.jsonl"), 400, 4)]);
    assert_eq!(r.positions(&all).unwrap(), 1300, "anchors recomputed after the import");
    let full = walk(&r, &all, SortOrder::Asc, 1000);
    assert_eq!(r.id_at(&all, SortOrder::Asc, 1299).unwrap(), Some(full[1299].1));
    assert!(full.iter().any(|(_, id)| *id == last));

    let tag = w.create_tag("seen", "#336699").unwrap();
    w.tag_query(tag.id, "op:Send", &Query::parse("op:Send").unwrap()).unwrap();
    let q = Query::parse("tag:seen").unwrap();
    let tagged = walk(&r, &q, SortOrder::Desc, 1000);
    assert!(tagged.len() > 100);
    for (pos, (_, id)) in tagged.iter().enumerate() {
        assert_eq!(r.id_at(&q, SortOrder::Desc, pos as u64).unwrap(), Some(*id), "tag: position {pos}");
    }
}

/// The index's terms that start with `prefix`, read the slow, obvious way: the `row` vocabulary, which
/// counts every document of every term.
fn vocabulary(path: &std::path::Path, table: &str, prefix: &str) -> Vec<String> {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch(&format!("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, {table}, row)")).unwrap();
    let mut st = db.prepare("SELECT term FROM temp.v WHERE term >= ?1 ORDER BY term").unwrap();
    let terms = st.query_map([prefix], |r| r.get::<_, String>(0)).unwrap();
    terms.map(Result::unwrap).take_while(|t| t.starts_with(prefix)).collect()
}

/// Ids FTS5 itself matches for a query that is one MATCH expression (its prefixes left to FTS5).
fn fts5_ids(path: &std::path::Path, q: &Query) -> Vec<i64> {
    let c = q.compile();
    assert!(c.conds.is_empty() && c.lo.is_none(), "one MATCH expression");
    let db = rusqlite::Connection::open(path).unwrap();
    let sql = format!("SELECT rowid FROM {t} WHERE {t} MATCH ?1 ORDER BY rowid", t = c.fts_table);
    let mut st = db.prepare(&sql).unwrap();
    let ids = st.query_map([c.fts.unwrap()], |r| r.get::<_, i64>(0)).unwrap();
    ids.map(Result::unwrap).collect()
}

/// Pages spell a prefix out as the index's terms (`CaseReader::prefix_terms`) so FTS5 walks them
/// lazily; they must list exactly the terms the index holds and page through exactly the events FTS5's
/// own prefix matches, in both orders, alone and with other terms, exclusions and fields, when the
/// prefix has too many terms or non-ASCII ones (left to FTS5), and after an import adds new terms.
#[test]
fn prefix_pages_spell_out_exactly_the_terms_fts5_would_merge() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = new_case(dir.path(), "prefix");
    let words = dir.path().join("words.jsonl");
    let subjects = ["Invoice due", "INVOICED twice", "invoices: paid", "Invoïce naïve", "Invołce spelt oddly"];
    let mut text = String::new();
    for (i, s) in subjects.iter().enumerate() {
        text.push_str(&format!(
            r#"{{"CreationTime":"2025-03-01T10:0{i}:30","Id":"aaaaaaaa-0000-4000-8000-00000000000{i}","Operation":"Send","RecordType":2,"UserId":"payroll@contoso.example","ClientIP":"203.0.113.{i}","Workload":"Exchange","Item":{{"Subject":"{s}"}}}}"#
        ));
        text.push('\n');
    }
    std::fs::write(&words, text).unwrap();
    import(&mut w, &[write_dense_ual(&dir.path().join("d.jsonl"), 4_000, 5), words]);
    let r = CaseReader::open(&path).unwrap();

    // The listing: every term, in order, from the seek-per-term vocabulary; None past the cap.
    let user1: Vec<String> =
        ["user1", "user10", "user11", "user12", "user13", "user14", "user15", "user16"].map(String::from).to_vec();
    assert_eq!(vocabulary(&path, "event_fts", "user1"), user1);
    assert_eq!(r.prefix_terms("event_fts", "user1"), Some(user1));
    assert_eq!(r.prefix_terms("event_fts", "invoi").unwrap(), vocabulary(&path, "event_fts", "invoi"));
    assert_eq!(r.prefix_terms("event_fts", "invoi").unwrap(), ["invoice", "invoiced", "invoices"]);
    assert_eq!(r.prefix_terms("event_fts", "invo").unwrap(), vocabulary(&path, "event_fts", "invo"));
    assert!(r.prefix_terms("event_fts", "invo").unwrap().iter().any(|t| !t.is_ascii()), "invołce");
    assert_eq!(r.prefix_terms("event_fts", "zzq"), Some(Vec::new()));
    let ones = vocabulary(&path, "event_fts", "1");
    assert!(ones.len() > tidemark_core::query::MAX_PREFIX_TERMS, "{}", ones.len());
    assert_eq!(r.prefix_terms("event_fts", "1"), None, "too many terms: left to FTS5");
    assert_eq!(r.prefix_terms("ident_fts", "198.51.100.24").unwrap(), vocabulary(&path, "ident_fts", "198.51.100.24"));
    assert_eq!(r.prefix_terms("ident_fts", "198.51.100.24").unwrap().len(), 11);
    assert_eq!(r.prefix_terms("nope", "x"), None);

    let check = |r: &CaseReader, query: &str| {
        let q = Query::parse(query).unwrap();
        let expected = r.count(&q).unwrap().matching;
        assert!(expected > 0, "{query} should match something");
        for (sort, limit) in [(SortOrder::Asc, 37), (SortOrder::Desc, 1000)] {
            let seen = walk(r, &q, sort, limit);
            assert_eq!(seen.len() as i64, expected, "{query} {sort:?}: as many as FTS5's prefix counts");
            let distinct: HashSet<i64> = seen.iter().map(|(_, id)| *id).collect();
            assert_eq!(distinct.len(), seen.len(), "{query}: no duplicates");
            let ordered =
                seen.windows(2).all(|w| if sort == SortOrder::Asc { w[0].1 < w[1].1 } else { w[0].1 > w[1].1 });
            assert!(ordered, "{query} {sort:?}: in order");
            let c = q.compile();
            if c.conds.is_empty() && c.lo.is_none() {
                let mut ids: Vec<i64> = seen.iter().map(|(_, id)| *id).collect();
                ids.sort_unstable();
                assert_eq!(ids, fts5_ids(&path, &q), "{query}: the same events as FTS5's own prefix");
            }
        }
    };
    for query in [
        "user1*",
        "actor:user1*",
        "USER1*",
        "invoi*",
        "invo*",
        "subject:invoi*",
        "1*",
        "12*",
        "123*",
        "report user1*",
        "user1* -op:Send",
        "user1* -user12*",
        "user1* OR invoi*",
        "ip:198.51.100.24*",
        "ip:198.51.100.24* op:send",
        "report ip:198.51.100.2*",
        "mailbox:user1* after:2025-03-01T10:03",
    ] {
        check(&r, query);
    }
    // An import adds terms; the next page lists them (another connection committed them).
    let more = dir.path().join("more.jsonl");
    std::fs::write(
        &more,
        r#"{"CreationTime":"2025-03-01T11:00:00","Id":"bbbbbbbb-0000-4000-8000-000000000001","Operation":"Send","RecordType":2,"UserId":"user1zz@contoso.example","Workload":"Exchange","Item":{"Subject":"Invoicing run"}}"#,
    )
    .unwrap();
    import(&mut w, &[more]);
    assert!(r.prefix_terms("event_fts", "user1").unwrap().contains(&"user1zz".to_owned()));
    assert!(r.prefix_terms("event_fts", "invoi").unwrap().contains(&"invoicing".to_owned()));
    check(&r, "user1*");
    check(&r, "invoi*");
}
