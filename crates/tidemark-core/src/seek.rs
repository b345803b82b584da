//! Random access into a result list: "the event at position N of this query" without reading N rows.
//!
//! Keyset pages ([`CaseReader::page`]) walk a result list from its start. A timeline that lets the
//! investigator drag its scrollbar to 73 % of ten million events, or press End, needs the row at any
//! position. Once per query, one pass over the matching ids in id (= time) order — the FTS doclist,
//! the tag's key or the event table's primary key, reading the id column only — keeps every
//! [`ANCHOR_STEP`]-th id (the *anchors*) and the count. The event at ascending position `m` is then
//! the `(m mod step)`-th match at or after anchor `m / step`: a keyset seek plus at most `step − 1`
//! skipped ids. A descending position `n` is ascending position `count − 1 − n`.
//!
//! The whole case needs no pass: its anchors are the starts of the 15-minute blocks of the block
//! rollup (`rollup.rs`), each with its position, and a position is a block plus the ids skipped in it.
//!
//! Anchors are cached in the reader per compiled query (a few KiB each: 2,442 ids for 10 M events) and
//! dropped when the case changes: `PRAGMA data_version` moves whenever another connection (an import,
//! a new tag) commits.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;

use crate::case::CaseReader;
use crate::error::Result;
use crate::model::{Page, SortOrder};
use crate::query::Query;
use crate::rollup::BLOCK_MS;
use crate::search::{fts_error, plan, Plan, MAX_PAGE};
use crate::time::key_lower;

/// Every how many matching ids an anchor is kept.
pub const ANCHOR_STEP: usize = 4096;
/// Queries whose anchors a reader keeps.
const CACHED_QUERIES: usize = 16;

/// Every `step`-th matching id of one query, ascending, and how many ids match.
#[derive(Debug)]
pub(crate) struct Anchors {
    ids: Vec<i64>,
    /// For the whole case, instead of `ids`: per 15-minute block that has events, the position of its
    /// first event and the smallest key of the block, from the block rollup (no pass over the ids).
    blocks: Vec<(i64, i64)>,
    count: i64,
    /// Whether the ids were read from the word index's per-document table (see [`IdSource`]).
    docsize: bool,
}

/// Where the matching ids are read from, in order. For the whole case (no condition at all) that is the
/// word index's `event_fts_docsize` table — one small row per indexed event, keyed by event id, so a
/// pass reads a few MB instead of every event row (80 ms instead of 150–900 ms at 1 M events). Every
/// event is indexed; the pass checks its count against the case's event count and falls back to the
/// event table if they ever differ.
struct IdSource<'a> {
    from: &'a str,
    id_col: &'a str,
    where_: &'a [String],
    params: &'a [SqlValue],
}

impl<'a> IdSource<'a> {
    fn of(p: &'a Plan, docsize: bool) -> Self {
        if docsize && p.where_.is_empty() {
            IdSource { from: "event_fts_docsize d", id_col: "d.id", where_: &[], params: &[] }
        } else {
            IdSource { from: id_from(p), id_col: p.id_col, where_: &p.where_, params: &p.params }
        }
    }
}

/// The anchors a reader computed, newest last, valid for one `data_version`.
#[derive(Debug)]
pub(crate) struct AnchorCache {
    step: usize,
    data_version: i64,
    entries: VecDeque<(String, Arc<Anchors>)>,
}

impl Default for AnchorCache {
    fn default() -> Self {
        Self { step: ANCHOR_STEP, data_version: -1, entries: VecDeque::new() }
    }
}

pub(crate) type AnchorCell = RefCell<AnchorCache>;

fn where_sql(where_: &[String], extra: &[String]) -> String {
    let all: Vec<&str> = where_.iter().chain(extra.iter()).map(String::as_str).collect();
    if all.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", all.join(" AND "))
    }
}

/// The table expression that yields the matching ids: the driver alone when no condition reads the
/// event row.
fn id_from(p: &Plan) -> &str {
    if p.needs_event_row {
        &p.sql_from
    } else {
        &p.driver_from
    }
}

impl CaseReader {
    /// Sets how many ids lie between two anchors (for tests and benchmarks; [`ANCHOR_STEP`] otherwise).
    /// Drops the anchors computed so far.
    pub fn set_anchor_step(&self, step: usize) {
        let mut c = self.anchors.borrow_mut();
        c.step = step.max(1);
        c.entries.clear();
    }

    /// The anchors of a query: cached, or computed in one pass over its matching ids.
    fn anchors_for(&self, p: &Plan) -> Result<Arc<Anchors>> {
        let version: i64 = self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let key = format!("{}\u{1}{}\u{1}{:?}", id_from(p), p.where_.join(" AND "), p.params);
        let step = {
            let mut c = self.anchors.borrow_mut();
            if c.data_version != version {
                c.data_version = version;
                c.entries.clear();
            }
            if let Some(pos) = c.entries.iter().position(|(k, _)| *k == key) {
                let hit = c.entries.remove(pos).expect("position is in range");
                let a = Arc::clone(&hit.1);
                c.entries.push_back(hit);
                return Ok(a);
            }
            c.step
        };
        let total = if p.where_.is_empty() { Some(self.total_events()?) } else { None };
        let fast = total.and_then(|n| {
            self.block_anchors()
                .ok()
                .filter(|a| a.count == n)
                .or_else(|| self.anchor_pass(&IdSource::of(p, true), step, true).ok().filter(|a| a.count == n))
        });
        let a = Arc::new(match fast {
            Some(a) => a,
            None => self.anchor_pass(&IdSource::of(p, false), step, false)?,
        });
        let mut c = self.anchors.borrow_mut();
        if c.entries.len() >= CACHED_QUERIES {
            c.entries.pop_front();
        }
        c.entries.push_back((key, Arc::clone(&a)));
        Ok(a)
    }

    /// The whole case's anchors from the block rollup: where each 15-minute block starts in the list.
    /// A few thousand rows instead of a pass over every id (400 ms at 10 M events); a position is then
    /// a block plus the ids skipped inside it.
    fn block_anchors(&self) -> Result<Anchors> {
        let mut st = self
            .conn
            .prepare_cached("SELECT block, sum(count) FROM rollup_block_action GROUP BY block ORDER BY block")?;
        let mut rows = st.query([])?;
        let mut blocks = Vec::new();
        let mut count = 0i64;
        while let Some(r) = rows.next()? {
            let (block, n): (i64, i64) = (r.get(0)?, r.get(1)?);
            if n > 0 {
                blocks.push((count, key_lower(block * BLOCK_MS)));
                count += n;
            }
        }
        Ok(Anchors { ids: Vec::new(), blocks, count, docsize: true })
    }

    /// One pass over the matching ids in order, keeping every `step`-th.
    fn anchor_pass(&self, src: &IdSource<'_>, step: usize, docsize: bool) -> Result<Anchors> {
        let sql =
            format!("SELECT {id} FROM {} {} ORDER BY {id}", src.from, where_sql(src.where_, &[]), id = src.id_col);
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut rows = st.query(params_from_iter(src.params.iter())).map_err(fts_error)?;
        let mut ids = Vec::new();
        let mut count: i64 = 0;
        let mut until_next = 0usize;
        while let Some(r) = rows.next().map_err(fts_error)? {
            if until_next == 0 {
                ids.push(r.get::<_, i64>(0)?);
                until_next = step;
            }
            until_next -= 1;
            count += 1;
        }
        Ok(Anchors { ids, blocks: Vec::new(), count, docsize })
    }

    /// How many events match, counted by the same pass that places the anchors (so positions and
    /// count agree).
    pub fn positions(&self, query: &Query) -> Result<i64> {
        Ok(self.anchors_for(&plan(query))?.count)
    }

    /// The id of the event at `position` (0-based) of the query's result list in `sort` order, or
    /// `None` past the end. Reads at most [`ANCHOR_STEP`] ids once the query's anchors are known.
    pub fn id_at(&self, query: &Query, sort: SortOrder, position: u64) -> Result<Option<i64>> {
        let p = plan(query);
        let a = self.anchors_for(&p)?;
        let Ok(pos) = i64::try_from(position) else { return Ok(None) };
        if pos >= a.count {
            return Ok(None);
        }
        let asc = match sort {
            SortOrder::Asc => pos,
            SortOrder::Desc => a.count - 1 - pos,
        };
        let (anchor, skip) = if a.blocks.is_empty() {
            let step = self.anchors.borrow().step as i64;
            let k = usize::try_from(asc / step).unwrap_or(usize::MAX);
            let Some(&anchor) = a.ids.get(k) else { return Ok(None) };
            if asc % step == 0 {
                return Ok(Some(anchor));
            }
            (anchor, asc % step)
        } else {
            // The last block starting at or before the position; the block's smallest key is at or
            // before its first event.
            let k = a.blocks.partition_point(|(start, _)| *start <= asc).saturating_sub(1);
            let Some(&(start, bound)) = a.blocks.get(k) else { return Ok(None) };
            (bound, asc - start)
        };
        let src = IdSource::of(&p, a.docsize);
        let extra = [format!("{} >= ?", src.id_col)];
        let sql = format!(
            "SELECT {id} FROM {} {} ORDER BY {id} LIMIT 1 OFFSET ?",
            src.from,
            where_sql(src.where_, &extra),
            id = src.id_col
        );
        let mut params = src.params.to_vec();
        params.push(SqlValue::Integer(anchor));
        params.push(SqlValue::Integer(skip));
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut rows = st.query(params_from_iter(params.iter())).map_err(fts_error)?;
        Ok(match rows.next().map_err(fts_error)? {
            Some(r) => Some(r.get(0)?),
            None => None,
        })
    }

    /// The page of matching events that starts at `position` of the result list in `sort` order:
    /// rows `position .. position + limit`. Its `next` continues by keyset like [`CaseReader::page`].
    pub fn page_at(&self, query: &Query, sort: SortOrder, position: u64, limit: usize) -> Result<Page> {
        if position == 0 {
            return self.page(query, sort, None, limit);
        }
        let Some(id) = self.id_at(query, sort, position)? else {
            return Ok(Page { rows: Vec::new(), next: None });
        };
        // Ids are integers, so "after id − 1" is "from id on" (and "after id + 1" in descending order).
        let cursor = match sort {
            SortOrder::Asc => id - 1,
            SortOrder::Desc => id + 1,
        };
        self.page(query, sort, Some(&cursor.to_string()), limit.clamp(1, MAX_PAGE))
    }
}
