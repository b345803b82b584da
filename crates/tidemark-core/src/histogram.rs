//! The histogram above the timeline: matching events per time bucket, stacked by action.
//!
//! An event id is a time key, so an event's time is read from its id (no time column needed) and a time
//! range is an id range the scan starts and stops at. The only column read per event is its action.
//! The bucket width is the smallest "nice" width (1 s, 5 s, 15 s, 30 s, 1 min, … 1 d, 7 d, …) that
//! covers the span in at most [`MAX_BUCKETS`] buckets. Bucket starts are aligned in UTC — on multiples
//! of the width from midnight, weeks on Mondays — so the same moment falls in the same bucket whatever
//! the query, and every bucket from the first to the last is returned, empty ones included.
//!
//! The whole case and time ranges, in buckets of 15 minutes or more, are summed from the action rollup
//! (`rollup.rs`) instead: a few thousand rows however many events.

use rusqlite::params_from_iter;
use rusqlite::types::{Value as SqlValue, ValueRef};
use tidemark_formats::Action;

use crate::case::CaseReader;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Histogram, HistogramBucket};
use crate::query::Query;
use crate::rollup::{self, BLOCK_MS};
use crate::search::{fts_error, plan, Plan};
use crate::time::{clamp_ms, iso_ms, key_lower, key_ms, key_upper};

/// Most buckets a histogram has.
pub const MAX_BUCKETS: i64 = 200;

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
/// 1970-01-05, the first Monday after the Unix epoch: where week buckets start.
const MONDAY: i64 = 4 * DAY;

/// The nice bucket widths, smallest first, with their names.
const WIDTHS: &[(i64, &str)] = &[
    (SECOND, "1 s"),
    (5 * SECOND, "5 s"),
    (15 * SECOND, "15 s"),
    (30 * SECOND, "30 s"),
    (MINUTE, "1 min"),
    (5 * MINUTE, "5 min"),
    (15 * MINUTE, "15 min"),
    (30 * MINUTE, "30 min"),
    (HOUR, "1 h"),
    (3 * HOUR, "3 h"),
    (6 * HOUR, "6 h"),
    (12 * HOUR, "12 h"),
    (DAY, "1 d"),
    (WEEK, "7 d"),
    (4 * WEEK, "28 d"),
    (13 * WEEK, "91 d"),
    (52 * WEEK, "364 d"),
];

/// The action taxonomy in its own order: the stacking order. Actions not listed come after, by name.
const ACTION_ORDER: &[Action] = &[
    Action::Logon,
    Action::LogonFailed,
    Action::Read,
    Action::Sync,
    Action::Search,
    Action::Send,
    Action::Reply,
    Action::Forward,
    Action::Delete,
    Action::Move,
    Action::Attachment,
    Action::Delivery,
    Action::Rule,
    Action::Forwarding,
    Action::Permission,
    Action::Consent,
    Action::Admin,
    Action::Other,
];

/// The start of the bucket of width `width` that holds `ms`.
pub fn bucket_floor(ms: i64, width: i64) -> i64 {
    let origin = if width % WEEK == 0 { MONDAY } else { 0 };
    origin + (ms - origin).div_euclid(width) * width
}

/// The bucket width for a span (inclusive, Unix ms): the smallest nice width giving at most
/// [`MAX_BUCKETS`] aligned buckets. Returns (width, name).
pub fn bucket_width(first_ms: i64, last_ms: i64) -> (i64, String) {
    let fits = |w: i64| (bucket_floor(last_ms, w) - bucket_floor(first_ms, w)) / w < MAX_BUCKETS;
    if let Some((w, name)) = WIDTHS.iter().find(|(w, _)| fits(*w)) {
        return (*w, (*name).to_owned());
    }
    // Spans of centuries (a bad timestamp can make one): whole multiples of 52 weeks.
    let year = 52 * WEEK;
    let mut n = ((last_ms - first_ms) / (year * MAX_BUCKETS)).max(1);
    while !fits(n * year) {
        n += 1;
    }
    (n * year, format!("{} d", n * 364))
}

/// Counts per action per bucket, as they are found.
struct Series {
    n: usize,
    first: i64,
    width: i64,
    actions: Vec<(Box<[u8]>, Vec<i64>)>,
    /// The slot of the last action seen: consecutive events often share one.
    last: usize,
}

impl Series {
    /// Adds `count` events of `action` at `ms`.
    fn add(&mut self, action: &[u8], ms: i64, count: i64) {
        let slot = if self.last < self.actions.len() && &*self.actions[self.last].0 == action {
            self.last
        } else {
            match self.actions.iter().position(|(a, _)| &**a == action) {
                Some(i) => i,
                None => {
                    self.actions.push((action.into(), vec![0; self.n]));
                    self.actions.len() - 1
                }
            }
        };
        self.last = slot;
        if ms < self.first {
            return;
        }
        let b = ((ms - self.first) / self.width) as usize;
        if let Some(c) = self.actions[slot].1.get_mut(b) {
            *c += count;
        }
    }

    /// Adds every `(id, action)` row.
    fn scan(&mut self, mut rows: rusqlite::Rows<'_>) -> Result<()> {
        while let Some(row) = rows.next().map_err(fts_error)? {
            let id = match row.get_ref(0)? {
                ValueRef::Integer(id) => id,
                _ => continue,
            };
            let action: &[u8] = match row.get_ref(1)? {
                ValueRef::Text(t) => t,
                _ => b"other",
            };
            self.add(action, key_ms(id), 1);
        }
        Ok(())
    }
}

impl CaseReader {
    /// For a search the full-text index answers alone, counts its events per bucket and action without
    /// reading an event row: the index gives the matching ids in order, and the `(action, id)` index
    /// gives every action's ids in order; a merge of the two finds each match's action. Reading every
    /// action's index entries costs about a sixteenth of reading a row, so this is done only when the
    /// matches are more than a sixteenth of the events in the range (4.46 M matches at 10 M events:
    /// about a second instead of 3.6 s). Returns false, having counted nothing, when reading the rows is
    /// cheaper.
    fn merge_actions(
        &self,
        p: &Plan,
        where_: &str,
        params: &[SqlValue],
        lo: i64,
        hi: i64,
        series: &mut Series,
    ) -> Result<bool> {
        // The range's actions and how many events it holds, from the block rollup in one read.
        let per_action: Vec<(String, i64)> = self
            .conn
            .prepare_cached(
                "SELECT action, sum(count) FROM rollup_block_action WHERE block BETWEEN ?1 AND ?2 \
                 GROUP BY action ORDER BY action",
            )?
            .query_map([lo.div_euclid(BLOCK_MS), hi.div_euclid(BLOCK_MS)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let in_range: i64 = per_action.iter().map(|(_, n)| n).sum();
        let sql = format!("SELECT {id} FROM {} {where_} ORDER BY {id}", p.driver_from, id = p.id_col);
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut rows = st.query(params_from_iter(params.iter())).map_err(fts_error)?;
        let mut ids: Vec<i64> = Vec::new();
        while let Some(r) = rows.next().map_err(fts_error)? {
            ids.push(r.get(0)?);
        }
        if (ids.len() as i64).saturating_mul(16) < in_range {
            return Ok(false);
        }
        let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else { return Ok(true) };
        let mut st =
            self.conn.prepare_cached("SELECT id FROM event WHERE action = ?1 AND id BETWEEN ?2 AND ?3 ORDER BY id")?;
        for (action, _) in &per_action {
            let mut rows = st.query(rusqlite::params![action, first, last])?;
            let mut j = 0usize;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                while j < ids.len() && ids[j] < id {
                    j += 1;
                }
                if j == ids.len() {
                    break;
                }
                if ids[j] == id {
                    series.add(action.as_bytes(), key_ms(id), 1);
                }
            }
        }
        Ok(true)
    }
}

fn action_rank(name: &str) -> (usize, &str) {
    (ACTION_ORDER.iter().position(|a| a.as_str() == name).unwrap_or(ACTION_ORDER.len()), name)
}

impl CaseReader {
    /// Matching events per time bucket, stacked by action, over `start_ms..=end_ms` (Unix ms). Without
    /// a range, the query's `after:`/`before:` bound it; what is still open is the span of the matching
    /// events.
    pub fn histogram(&self, query: &Query, start_ms: Option<i64>, end_ms: Option<i64>) -> Result<Histogram> {
        if let (Some(s), Some(e)) = (start_ms, end_ms) {
            if s > e {
                return Err(Error::new(
                    ErrorCode::QueryInvalid,
                    "The time range ends before it starts. Select the range again.",
                ));
            }
        }
        let narrow = |a: Option<i64>, b: Option<i64>, pick: fn(i64, i64) -> i64| match (a, b) {
            (Some(a), Some(b)) => Some(pick(a, b)),
            (a, b) => a.or(b),
        };
        let mut lo = narrow(start_ms, query.after_ms, i64::max).map(clamp_ms);
        let mut hi = narrow(end_ms, query.before_ms, i64::min).map(clamp_ms);
        self.prepare_scan()?;
        let p = plan(query);
        let mut where_ = p.where_.clone();
        let mut params = p.params.clone();
        for (bound, op) in [(lo, ">="), (hi, "<=")] {
            if let Some(ms) = bound {
                where_.push(format!("{} {op} ?", p.id_col));
                params.push(SqlValue::Integer(if op == ">=" { key_lower(ms) } else { key_upper(ms) }));
            }
        }
        let where_ = if where_.is_empty() { String::new() } else { format!("WHERE {}", where_.join(" AND ")) };
        // Open ends: the first and last matching event (a short walk in id order for common queries).
        for (end, dir) in [(&mut lo, "ASC"), (&mut hi, "DESC")] {
            if end.is_none() {
                *end = self.edge_id(&p, &where_, &params, dir)?.map(key_ms);
            }
        }
        let (Some(lo), Some(hi)) = (lo, hi) else {
            // Nothing matches and no range was given: no buckets.
            return Ok(Histogram {
                start_ms: 0,
                end_ms: 0,
                bucket_ms: SECOND,
                bucket_label: "1 s".to_owned(),
                actions: Vec::new(),
                buckets: Vec::new(),
                total: 0,
            });
        };
        let (width, label) = bucket_width(lo, hi.max(lo));
        let first = bucket_floor(lo, width);
        let n = if hi < lo { 0 } else { ((bucket_floor(hi, width) - first) / width + 1) as usize };

        let mut series = Series { n, first, width, actions: Vec::new(), last: usize::MAX };
        if n > 0 {
            let c = query.compile();
            if c.time_range_only() && width % BLOCK_MS == 0 {
                // A time range (or the whole case) in buckets of whole 15-minute blocks: whole blocks from
                // the rollup, the partial ones at the ends counted from the events.
                let split = rollup::split(Some(lo), Some(hi), BLOCK_MS);
                if let Some((b0, b1)) = split.whole {
                    let mut st = self.conn.prepare_cached(
                        "SELECT block, action, count FROM rollup_block_action WHERE block BETWEEN ?1 AND ?2",
                    )?;
                    let mut rows = st.query([b0, b1])?;
                    while let Some(r) = rows.next()? {
                        let block: i64 = r.get(0)?;
                        let action: &[u8] = match r.get_ref(1)? {
                            ValueRef::Text(t) => t,
                            _ => b"other",
                        };
                        series.add(action, block * BLOCK_MS, r.get(2)?);
                    }
                }
                for (a, b) in split.partial {
                    let mut st =
                        self.conn.prepare_cached("SELECT e.id, e.action FROM event e WHERE e.id BETWEEN ?1 AND ?2")?;
                    let rows = st.query([key_lower(a), key_upper(b)])?;
                    series.scan(rows)?;
                }
            } else if c.fts.is_some()
                && !p.needs_event_row
                && self.merge_actions(&p, &where_, &params, lo, hi, &mut series)?
            {
                // Counted from the word index's ids and the action index.
            } else {
                // One pass: (id, action) of every matching event in the range.
                let sql = format!("SELECT {}, e.action FROM {} {where_}", p.id_col, p.sql_from);
                let mut st = self.conn.prepare_cached(&sql)?;
                let rows = st.query(params_from_iter(params.iter())).map_err(fts_error)?;
                series.scan(rows)?;
            }
        }
        let actions = series.actions;
        let mut series: Vec<(String, Vec<i64>)> =
            actions.into_iter().map(|(a, c)| (String::from_utf8_lossy(&a).into_owned(), c)).collect();
        series.sort_by(|a, b| action_rank(&a.0).cmp(&action_rank(&b.0)));
        let buckets: Vec<HistogramBucket> = (0..n)
            .map(|i| {
                let start_ms = first + i as i64 * width;
                let counts: Vec<i64> = series.iter().map(|(_, c)| c[i]).collect();
                HistogramBucket { start: iso_ms(start_ms), start_ms, total: counts.iter().sum(), counts }
            })
            .collect();
        Ok(Histogram {
            start_ms: first,
            end_ms: first + n as i64 * width,
            bucket_ms: width,
            bucket_label: label,
            total: buckets.iter().map(|b| b.total).sum(),
            actions: series.into_iter().map(|(a, _)| a).collect(),
            buckets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_740_787_200_000; // 2025-03-01T00:00:00Z, a Saturday

    #[test]
    fn widths_are_nice_and_give_at_most_200_aligned_buckets() {
        for (span, want) in [
            (0, "1 s"),
            (199 * SECOND, "1 s"),
            (200 * SECOND, "5 s"),
            (10 * MINUTE, "5 s"),
            (HOUR, "30 s"),
            (DAY, "15 min"),
            (30 * DAY, "6 h"),
            (180 * DAY, "1 d"),
            (3 * 365 * DAY, "7 d"),
            (10 * 365 * DAY, "28 d"),
        ] {
            let (w, name) = bucket_width(T + 123, T + 123 + span);
            assert_eq!(name, want, "span {span}");
            let n = (bucket_floor(T + 123 + span, w) - bucket_floor(T + 123, w)) / w + 1;
            assert!(n <= MAX_BUCKETS, "{span}: {n}");
        }
        let (w, name) = bucket_width(0, 7_258_118_400_000);
        assert!(name.ends_with(" d") && w % (52 * WEEK) == 0, "{name}");
        assert!((bucket_floor(7_258_118_400_000, w) - bucket_floor(0, w)) / w < MAX_BUCKETS);
    }

    #[test]
    fn buckets_are_aligned_in_utc() {
        assert_eq!(bucket_floor(T + 7 * MINUTE + 5, 5 * MINUTE), T + 5 * MINUTE);
        assert_eq!(bucket_floor(T + 13 * HOUR, 12 * HOUR), T + 12 * HOUR);
        assert_eq!(bucket_floor(T + 5 * HOUR, DAY), T);
        // Weeks start on Monday: 2025-03-01 is a Saturday, the week began on 2025-02-24.
        assert_eq!(iso_ms(bucket_floor(T, WEEK)), "2025-02-24T00:00:00.000Z");
        assert_eq!(bucket_floor(-1, SECOND), -SECOND);
    }

    #[test]
    fn actions_stack_in_taxonomy_order() {
        let mut names = vec!["zzz-new", "send", "other", "logon", "read"];
        names.sort_by_key(|n| action_rank(n));
        assert_eq!(names, vec!["logon", "read", "send", "other", "zzz-new"]);
    }
}
