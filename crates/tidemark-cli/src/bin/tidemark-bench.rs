//! `tidemark-bench`: search latency on a real case file, for `scripts/bench`.
//!
//! Runs each query's first page (and a deep keyset page, and counts) many times and prints latency
//! percentiles. Measures the engine as the app uses it, through `CaseReader`, not raw SQL.
//! `--ui-queries Q…` after RUNS measures only those queries as the timeline asks for them
//! (`scripts/bench-ui`: count, first page of 500, facets).

use std::time::Instant;

use tidemark_core::facets::FacetPrecision;
use tidemark_core::model::SortOrder;
use tidemark_core::{CaseReader, Query};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn measure(name: &str, runs: usize, mut f: impl FnMut() -> usize) {
    let mut times = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let t = Instant::now();
        rows = f();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{name:<58} rows {rows:>7}  p50 {:>8.3} ms  p95 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
}

/// What the timeline asks for a search, query by query (`scripts/bench-ui`): the count, the first page
/// of 500 oldest first (the page cache's block), both together, and the facets panel's top 10.
fn ui_queries(r: &CaseReader, runs: usize, queries: &[String]) {
    for query in queries {
        let text = if query.is_empty() { "(everything)" } else { query.as_str() };
        let q = match Query::parse(query) {
            Ok(q) => q,
            Err(e) => {
                eprintln!("tidemark-bench: {text}: {}", e.message);
                std::process::exit(2);
            }
        };
        measure(&format!("count {text}"), runs, || r.count(&q).map(|c| c.matching as usize).unwrap_or(0));
        measure(&format!("first page (500, oldest first) {text}"), runs, || {
            r.page(&q, SortOrder::Asc, None, 500).map(|p| p.rows.len()).unwrap_or(0)
        });
        measure(&format!("count + first page {text}"), runs, || {
            let _ = r.count(&q);
            r.page(&q, SortOrder::Asc, None, 500).map(|p| p.rows.len()).unwrap_or(0)
        });
        measure(&format!("facets (top 10 of 9 fields, as the app asks first) {text}"), runs.min(5), || {
            r.facets(&q, 10, FacetPrecision::FAST).map(|f| f.matching as usize).unwrap_or(0)
        });
        measure(&format!("facets (top 10 of 9 fields, exact) {text}"), runs.min(3), || {
            r.facets(&q, 10, FacetPrecision::Exact).map(|f| f.matching as usize).unwrap_or(0)
        });
        measure(&format!("histogram (stacked by action) {text}"), runs.min(5), || {
            r.histogram(&q, None, None).map(|h| h.total as usize).unwrap_or(0)
        });
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(case), runs) = (args.next(), args.next().and_then(|r| r.parse().ok()).unwrap_or(50usize)) else {
        eprintln!("usage: tidemark-bench CASE.tidemark [RUNS] [--ui-queries QUERY…]");
        std::process::exit(2);
    };
    let r = match CaseReader::open(std::path::Path::new(&case)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tidemark-bench: {}", e.message);
            std::process::exit(3);
        }
    };
    let total = r.count(&Query::all()).map(|c| c.matching).unwrap_or(0);
    println!("case {case}: {total} events, {runs} runs per query (warm page cache)");
    if args.next().as_deref() == Some("--ui-queries") {
        ui_queries(&r, runs, &args.collect::<Vec<_>>());
        return;
    }
    // A message id and an hour from the data itself, so the queries hit real values.
    let sample = r.page(&Query::parse("op:MailItemsAccessed").unwrap(), SortOrder::Asc, None, 1).unwrap();
    let msgid =
        sample.rows.first().and_then(|e| r.event(&e.id).ok()).and_then(|d| d.internet_message_ids.first().cloned());
    let mid_hour = sample.rows.first().map(|e| e.time[..13].to_owned());
    let mut queries: Vec<String> = vec![
        String::new(),
        "mailitemsaccessed".into(),
        "contoso".into(),
        "op:MailItemsAccessed".into(),
        "actor:adele".into(),
        "onerror".into(),
        "invo*".into(),
        "mail*".into(),
        "action:rule".into(),
        "\"new-inboxrule\" -ip:10.0.0.1".into(),
        // Address context: conditions over the case's IP table and the accounts' baselines.
        "iptype:hosting".into(),
        "country:US".into(),
        "ip:10.0.0.0/8".into(),
        "new:network".into(),
    ];
    if let Some(h) = &mid_hour {
        queries.push(format!("mailitemsaccessed after:{h}:00 before:{h}:59"));
    }
    if let Some(m) = &msgid {
        queries.push(format!("msgid:{m}"));
    }
    for text in &queries {
        let q = Query::parse(text).expect("benchmark query parses");
        let label = if text.is_empty() { "(everything)".to_owned() } else { text.clone() };
        measure(&format!("first page (100, newest first) {label}"), runs, || {
            r.page(&q, SortOrder::Desc, None, 100).map(|p| p.rows.len()).unwrap_or(0)
        });
    }
    // A deep page: the 50th page of 100, reached by keyset, then timed on its own.
    let q = Query::parse("mailitemsaccessed").unwrap();
    let mut after = None;
    for _ in 0..50 {
        after = r.page(&q, SortOrder::Asc, after.as_deref(), 100).ok().and_then(|p| p.next);
    }
    measure("page 51 by keyset cursor: mailitemsaccessed", runs, || {
        r.page(&q, SortOrder::Asc, after.as_deref(), 100).map(|p| p.rows.len()).unwrap_or(0)
    });
    for text in ["", "mailitemsaccessed", "actor:adele", "onerror", "iptype:hosting"] {
        let q = Query::parse(text).unwrap();
        measure(&format!("count {}", if text.is_empty() { "(everything)" } else { text }), runs.min(10), || {
            r.count(&q).map(|c| c.matching as usize).unwrap_or(0)
        });
    }
    // Facets (nine fields, one pass) and the histogram (stacked by action) over the matching events.
    for text in ["", "mailitemsaccessed", "action:rule", "actor:adele"] {
        let q = Query::parse(text).unwrap();
        let label = if text.is_empty() { "(everything)" } else { text };
        measure(&format!("facets (top 10 of 9 fields, IP country and network) {label}"), runs.min(10), || {
            r.facets(&q, 10, FacetPrecision::FAST).map(|f| f.matching as usize).unwrap_or(0)
        });
        measure(&format!("histogram (stacked by action) {label}"), runs.min(10), || {
            r.histogram(&q, None, None).map(|h| h.total as usize).unwrap_or(0)
        });
    }
    // Random access for the timeline (seek.rs): the anchor pass once per query (cold), then pages of
    // 100 rows at pseudo-random positions, in both orders (warm anchors).
    let mut seek_queries = vec![String::new(), "mailitemsaccessed".to_owned(), "op:MailItemsAccessed".to_owned()];
    if let Some(h) = &mid_hour {
        seek_queries.push(format!("after:{h}:00 before:{h}:59"));
    }
    for text in &seek_queries {
        let q = Query::parse(text).unwrap();
        let label = if text.is_empty() { "(everything)" } else { text.as_str() };
        measure(&format!("seek: anchor pass (cold, once per query) {label}"), runs.min(5), || {
            r.set_anchor_step(tidemark_core::seek::ANCHOR_STEP);
            r.positions(&q).unwrap_or(0) as usize
        });
        let n = r.positions(&q).unwrap_or(0).max(1) as u64;
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for sort in [SortOrder::Asc, SortOrder::Desc] {
            measure(&format!("seek: page of 100 at a random position {sort:?} {label}"), runs, || {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                r.page_at(&q, sort, (x >> 11) % n, 100).map(|p| p.rows.len()).unwrap_or(0)
            });
        }
    }
    if let Some(first) = sample.rows.first() {
        measure("event detail (raw records decompressed)", runs, || {
            r.event(&first.id).map(|d| d.raw.len()).unwrap_or(0)
        });
    }
}
