//! The workspace's speed structures on real case files (migration 4): the rollups that the whole case
//! and time ranges are counted from, the estimate facets give for large results, the indexes behind
//! `action:` and `source:`, and cases from before them being upgraded.
//!
//! Every rollup answer is checked against counting the events one by one: the same query with a
//! condition that matches everything (`-tag:…` of a tag nobody has) takes the event-reading path.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tidemark_core::facets::FacetPrecision;
use tidemark_core::model::FacetField;
use tidemark_core::{CaseReader, CaseWriter, ErrorCode, FixedClock, Query};
use tidemark_tests::{fixture, import, new_case, TEST_NOW_MS};

/// A condition every event meets that forces the query onto the event-reading path.
const EVERYTHING: &str = "-tag:no-such-tag";

/// 2025-03-01T00:00:00Z.
const DAY0: i64 = 1_740_787_200_000;
const DAY: i64 = 86_400_000;

/// `n` UAL records spread over five days, with times on and next to day and 15-minute boundaries,
/// fields sometimes missing, and a few values far more common than others.
fn write_spread(path: &Path, n: usize, seed: u64) -> PathBuf {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(7);
    let ops = ["MailItemsAccessed", "MailItemsAccessed", "MailItemsAccessed", "Send", "UserLoggedIn", "New-InboxRule"];
    for i in 0..n {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let ms = match i % 7 {
            // Exactly on a day boundary, just before one, exactly on a 15-minute block boundary.
            0 => DAY0 + ((x >> 33) % 5) as i64 * DAY,
            1 => DAY0 + ((x >> 33) % 5 + 1) as i64 * DAY - 1,
            2 => DAY0 + ((x >> 33) % 480) as i64 * 900_000,
            _ => DAY0 + ((x >> 20) % (5 * DAY as u64)) as i64,
        };
        let time = chrono::DateTime::from_timestamp_millis(ms).unwrap().format("%Y-%m-%dT%H:%M:%S%.3f");
        let op = ops[(x >> 13) as usize % ops.len()];
        let user = (x >> 40) % 9;
        let ip = if (x >> 50).is_multiple_of(5) {
            String::new()
        } else {
            format!(r#","ClientIP":"203.0.113.{}""#, (x >> 44) % 23)
        };
        let workload = if (x >> 55).is_multiple_of(4) { "AzureActiveDirectory" } else { "Exchange" };
        writeln!(
            f,
            r#"{{"CreationTime":"{time}","Id":"{seed:08x}-0000-4000-8000-{i:012x}","Operation":"{op}","RecordType":2,"UserId":"user{user}@contoso.example","MailboxOwnerUPN":"user{}@contoso.example"{ip},"Workload":"{workload}","Item":{{"Subject":"Spread {i}"}}}}"#,
            (user + 1) % 9
        )
        .unwrap();
    }
    f.flush().unwrap();
    path.to_path_buf()
}

fn spread_case(dir: &Path, n: usize) -> (PathBuf, CaseWriter) {
    let (path, mut w) = new_case(dir, "rollup");
    // Two imports whose days overlap: the second adds to the first's rollup rows.
    import(&mut w, &[write_spread(&dir.join("a.jsonl"), n / 2, 1)]);
    import(&mut w, &[write_spread(&dir.join("b.jsonl"), n - n / 2, 2), fixture("ual-small.jsonl")]);
    (path, w)
}

/// The rollup tables hold exactly what counting the events gives.
pub(crate) fn assert_rollups_match_events(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    let rows = |sql: &str| -> Vec<(String, String, i64, i64)> {
        c.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let day = "((id >> 20) + 946684800000) / 86400000";
    let mut expect = Vec::new();
    for f in FacetField::ALL {
        let col = f.column();
        expect.extend(rows(&format!(
            "SELECT '{col}', coalesce({col}, ''), {day}, count(*) FROM event GROUP BY 2, 3 ORDER BY 2, 3"
        )));
    }
    expect.sort();
    let mut got = rows("SELECT field, value, day, count FROM rollup_day_value");
    got.sort();
    assert_eq!(got, expect, "rollup_day_value");
    let mut expect =
        rows("SELECT CAST(((id >> 20) + 946684800000) / 900000 AS TEXT), action, count(*), 0 FROM event GROUP BY 1, 2");
    expect.sort();
    let mut got = rows("SELECT CAST(block AS TEXT), action, count, 0 FROM rollup_block_action");
    got.sort();
    assert_eq!(got, expect, "rollup_block_action");
}

fn q(text: &str) -> Query {
    Query::parse(text).unwrap()
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Time ranges that start and end on, next to and between day and block boundaries, open or closed.
fn ranges() -> Vec<String> {
    vec![
        String::new(),
        format!("after:{}", iso(DAY0 + DAY)),
        format!("before:{}", iso(DAY0 + 2 * DAY - 1)),
        format!("after:{} before:{}", iso(DAY0 + DAY), iso(DAY0 + 3 * DAY - 1)),
        format!("after:{} before:{}", iso(DAY0 + DAY - 1), iso(DAY0 + 3 * DAY)),
        format!("after:{} before:{}", iso(DAY0 + 5 * 3_600_000 + 17), iso(DAY0 + 3 * DAY + 7 * 3_600_000)),
        format!("after:{} before:{}", iso(DAY0 + 900_000), iso(DAY0 + 13 * 900_000 - 1)),
        format!("after:{} before:{}", iso(DAY0 + 3_600_000), iso(DAY0 + 3_600_000 + 5_000)),
        format!("after:{} before:{}", iso(DAY0 - 10 * DAY), iso(DAY0 - 9 * DAY)),
    ]
}

#[test]
fn rollups_equal_the_events_after_imports() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = spread_case(dir.path(), 3_000);
    drop(w);
    assert_rollups_match_events(&path);
}

#[test]
fn facets_of_the_whole_case_and_time_ranges_equal_counting_every_event() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = spread_case(dir.path(), 4_000);
    let r = CaseReader::open(&path).unwrap();
    for range in ranges() {
        let from_rollups = r.facets(&q(&range), 7, FacetPrecision::Exact).unwrap();
        let counted = r.facets(&q(&format!("{range} {EVERYTHING}")), 7, FacetPrecision::Exact).unwrap();
        assert_eq!(from_rollups, counted, "{range}");
        assert_eq!(from_rollups.matching, r.count(&q(&range)).unwrap().matching, "{range}");
        assert!(from_rollups.sample.is_none());
        // Rollups are exact at any size: the fast request gives the same.
        assert_eq!(r.facets(&q(&range), 7, FacetPrecision::Estimate { above: 10 }).unwrap(), counted, "{range}");
    }
}

#[test]
fn histograms_of_the_whole_case_and_time_ranges_equal_counting_every_event() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = spread_case(dir.path(), 4_000);
    let r = CaseReader::open(&path).unwrap();
    let mut wide = 0;
    for range in ranges() {
        for explicit in [None, Some((DAY0 + 1_234, DAY0 + 4 * DAY + 77))] {
            let (a, b) = (explicit.map(|e| e.0), explicit.map(|e| e.1));
            let from_rollups = r.histogram(&q(&range), a, b);
            let counted = r.histogram(&q(&format!("{range} {EVERYTHING}")), a, b);
            match (from_rollups, counted) {
                (Ok(h), Ok(c)) => {
                    assert_eq!(h, c, "{range} {explicit:?}");
                    if h.bucket_ms >= 900_000 {
                        wide += 1;
                    }
                }
                (Err(e), Err(f)) => assert_eq!(e.code, f.code),
                (h, c) => panic!("{range}: {h:?} vs {c:?}"),
            }
        }
    }
    assert!(wide >= 6, "most ranges are wide enough for the block rollup ({wide})");
}

#[test]
fn large_results_get_estimated_facets_that_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = spread_case(dir.path(), 6_000);
    let r = CaseReader::open(&path).unwrap();
    let query = q("op:MailItemsAccessed");
    let exact = r.facets(&query, 5, FacetPrecision::Exact).unwrap();
    assert!(exact.sample.is_none());
    assert!(exact.matching > 2_500, "{}", exact.matching);
    let est = r.facets(&query, 5, FacetPrecision::Estimate { above: 600 }).unwrap();
    let sample = est.sample.as_ref().expect("a large result is estimated");
    // At least half of `above`, and far fewer than all.
    assert!((300..exact.matching / 2).contains(&sample.events), "{}", sample.events);
    let near = |got: i64, truth: i64| (got - truth).abs() <= 60.max(truth * 35 / 100);
    assert!(near(est.matching, exact.matching), "{} vs {}", est.matching, exact.matching);
    // Again: the same sample, the same estimate.
    assert_eq!(r.facets(&query, 5, FacetPrecision::Estimate { above: 600 }).unwrap(), est);
    for (e, x) in est.fields.iter().zip(&exact.fields) {
        assert_eq!(e.field, x.field);
        // Each estimated top value is near its exact count (a sample of hundreds: within 35 %, or 60
        // events for small ones).
        for v in &e.values {
            let truth = x.values.iter().find(|t| t.value == v.value).map_or_else(
                || r.count(&q(&format!("op:MailItemsAccessed {}", v.filter))).unwrap().matching,
                |t| t.count,
            );
            assert!(near(v.count, truth), "{:?} {}: {} vs {}", e.field, v.value, v.count, truth);
        }
        assert!(near(e.empty, x.empty), "{:?} empty: {} vs {}", e.field, e.empty, x.empty);
    }
    // At or under the limit nothing is estimated.
    let small = r.facets(&query, 5, FacetPrecision::Estimate { above: exact.matching }).unwrap();
    assert_eq!(small, exact);
    // A filter on the event row (not the index) is sampled the same way.
    let text = "op:MailItemsAccessed -workload:exchange";
    let est = r.facets(&q(text), 5, FacetPrecision::Estimate { above: 100 }).unwrap();
    let exact = r.facets(&q(text), 5, FacetPrecision::Exact).unwrap();
    assert!(est.sample.is_some());
    // A small sample of whole blocks (a thousand of these events fall on five instants): rough.
    assert!(
        (exact.matching / 2..=exact.matching * 2).contains(&est.matching),
        "{} vs {}",
        est.matching,
        exact.matching
    );
    // A prefix is sampled through its spelled-out terms, block by block like a word: `mailitems*` is
    // `"mailitemsaccessed"` here, so it reads the word's very sample (FTS5's own prefix would be read
    // in one pass over a coarser grid instead).
    let word = r.facets(&q("mailitemsaccessed"), 5, FacetPrecision::Estimate { above: 600 }).unwrap();
    let prefix = r.facets(&q("mailitems*"), 5, FacetPrecision::Estimate { above: 600 }).unwrap();
    assert!(prefix.sample.is_some());
    assert_eq!(prefix, word);
    let exact = r.facets(&q("mailitemsaccessed"), 5, FacetPrecision::Exact).unwrap();
    assert_eq!(r.facets(&q("mailitems*"), 5, FacetPrecision::Exact).unwrap(), exact);
    // A rare result is counted, not estimated, whatever it asks for.
    let rare = r.facets(&q("op:New-InboxRule user:user3"), 5, FacetPrecision::Estimate { above: 600 }).unwrap();
    assert!(rare.matching < 300, "{}", rare.matching);
    assert!(rare.sample.is_none());
    assert_eq!(rare, r.facets(&q("op:New-InboxRule user:user3"), 5, FacetPrecision::Exact).unwrap());
}

#[test]
fn low_cardinality_filters_walk_their_index_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = spread_case(dir.path(), 500);
    let c = rusqlite::Connection::open(&path).unwrap();
    for (sql, index) in [
        ("SELECT id FROM event e WHERE (e.action = 'rule') ORDER BY e.id LIMIT 501", "event_action"),
        ("SELECT count(*) FROM event e WHERE (e.action = 'rule')", "event_action"),
        ("SELECT id FROM event e WHERE (e.source = 'ual-jsonl') ORDER BY e.id DESC LIMIT 501", "event_source"),
    ] {
        let plan: Vec<String> = c
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let plan = plan.join(" | ");
        assert!(plan.contains(index), "{sql}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "no sort: {sql}: {plan}");
    }
    // And the engine's query for `action:` reads the same as counting by hand.
    let r = CaseReader::open(&path).unwrap();
    let n: i64 = c.query_row("SELECT count(*) FROM event WHERE action = 'rule'", [], |r| r.get(0)).unwrap();
    assert!(n > 0);
    assert_eq!(r.count(&q("action:rule")).unwrap().matching, n);
}

#[test]
fn a_case_from_before_the_rollups_gets_them_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = spread_case(dir.path(), 1_000);
    drop(w);
    {
        // What schema 3 had: no rollups, no field indexes (and no IP context, schema 5).
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP TABLE rollup_day_value; DROP TABLE rollup_block_action; DROP INDEX event_action; \
             DROP INDEX event_source; DROP TABLE ip_info; DROP TABLE ip_data; DROP TABLE account_first; DROP TABLE account; \
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let e = CaseReader::open(&path).unwrap_err();
    assert_eq!(e.code, ErrorCode::CaseNotACase, "a reader does not upgrade: {}", e.message);
    drop(CaseWriter::open(&path, Arc::new(FixedClock(TEST_NOW_MS)), "t").unwrap());
    assert_rollups_match_events(&path);
    let c = rusqlite::Connection::open(&path).unwrap();
    let indexes: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN ('event_action', 'event_source')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 2, "event_action and event_source");
    let r = CaseReader::open(&path).unwrap();
    let all = r.facets(&Query::all(), 5, FacetPrecision::Exact).unwrap();
    assert_eq!(all, r.facets(&q(EVERYTHING), 5, FacetPrecision::Exact).unwrap());
}

#[test]
fn an_interrupted_request_says_it_was_superseded() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = spread_case(dir.path(), 10);
    drop(w);
    let c = rusqlite::Connection::open(&path).unwrap();
    let handle = c.get_interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        handle.interrupt();
    });
    // A statement that only ends when interrupted.
    let e = c
        .query_row("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap_err();
    t.join().unwrap();
    let e = tidemark_core::Error::from(e);
    assert_eq!(e.code, ErrorCode::QuerySuperseded, "{}", e.message);
}

#[test]
fn whole_case_positions_from_the_block_rollup_match_a_full_walk() {
    use tidemark_core::model::SortOrder;
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = spread_case(dir.path(), 3_000);
    let r = CaseReader::open(&path).unwrap();
    let all = Query::all();
    for sort in [SortOrder::Asc, SortOrder::Desc] {
        let mut full: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = r.page(&all, sort, after.as_deref(), 1000).unwrap();
            full.extend(page.rows.into_iter().map(|e| e.id));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(r.positions(&all).unwrap(), full.len() as i64);
        // Every position, across hundreds of 15-minute blocks and the instants many events share.
        for (pos, id) in full.iter().enumerate() {
            assert_eq!(
                r.id_at(&all, sort, pos as u64).unwrap().map(|i| i.to_string()).as_ref(),
                Some(id),
                "{sort:?} {pos}"
            );
        }
        assert_eq!(r.id_at(&all, sort, full.len() as u64).unwrap(), None);
        for pos in [1, 499, full.len() / 3, full.len() - 2] {
            let page = r.page_at(&all, sort, pos as u64, 20).unwrap();
            let ids: Vec<&String> = page.rows.iter().map(|e| &e.id).collect();
            let want: Vec<&String> = full[pos..(pos + 20).min(full.len())].iter().collect();
            assert_eq!(ids, want, "{sort:?} page at {pos}");
        }
    }
}
