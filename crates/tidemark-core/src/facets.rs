//! Facets: for the events a query matches, the most frequent values of the fields investigators pivot
//! on (actor, mailbox, action, operation, IP, client, app, workload, source), with counts.
//!
//! The whole case and time ranges are summed from the rollups (`rollup.rs`). Other searches: the panel
//! beside the timeline shows nine fields at once, so they are counted in one pass over the matching
//! events — one scan reading nine columns — instead of nine `GROUP BY` queries that would each
//! scan the same rows. The case has no per-field indexes for this (they would slow every import), and
//! at a million events the scan is what dominates, so it is done once. Counting happens in Rust on
//! borrowed column bytes; a value is copied only the first time it is seen.
//!
//! Output is deterministic: values by count (highest first), ties by value; fields in
//! [`FacetField::ALL`] order.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use rusqlite::params_from_iter;
use rusqlite::types::{Value as SqlValue, ValueRef};

use crate::case::CaseReader;
use crate::error::Result;
use crate::model::{Facet, FacetField, FacetSample, FacetValue, Facets};
use crate::query::Query;
use crate::rollup::{self, DAY_MS};
use crate::search::{fts_error, plan};
use crate::time::clamp_ms;

/// Values per field when the caller does not say.
pub const DEFAULT_TOP: usize = 10;
/// Most values per field one request may ask for.
pub const MAX_TOP: usize = 1000;

/// How much of the case file a scan maps into memory: pages are then read in place instead of being
/// copied through the page cache, which makes a full scan about a quarter faster. (SQLite caps it near
/// 2 GiB; the rest of a larger file is read as usual.)
const SCAN_MMAP_BYTES: i64 = 1 << 31;

impl CaseReader {
    /// Prepares this connection for scanning many events (facets, histogram).
    pub(crate) fn prepare_scan(&self) -> Result<()> {
        self.conn.pragma_update(None, "mmap_size", SCAN_MMAP_BYTES)?;
        Ok(())
    }
}

/// A fast hasher for short strings (the multiply-rotate hash of rustc's `FxHasher`), seeded per
/// process so that crafted values in evidence cannot be aimed at collisions in advance.
#[derive(Clone, Copy)]
struct SeededFx(u64);

impl Hasher for SeededFx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Clone, Copy)]
struct Seed(u64);

impl Default for Seed {
    fn default() -> Self {
        Self(std::collections::hash_map::RandomState::new().hash_one(0x7469_6465_6d61_726b_u64))
    }
}

impl BuildHasher for Seed {
    type Hasher = SeededFx;
    fn build_hasher(&self) -> SeededFx {
        SeededFx(self.0)
    }
}

/// Counts of one field's values. Runs of one value (an import's source, a session's actor) are counted
/// without touching the map.
#[derive(Default)]
struct Tally {
    counts: HashMap<Box<[u8]>, i64, Seed>,
    empty: i64,
    last: Vec<u8>,
    run: i64,
}

impl Tally {
    #[inline]
    fn add(&mut self, v: ValueRef<'_>) {
        if let ValueRef::Text(t) = v {
            if self.run > 0 && t == self.last.as_slice() {
                self.run += 1;
                return;
            }
            self.flush();
            if !t.is_empty() {
                self.last.clear();
                self.last.extend_from_slice(t);
                self.run = 1;
                return;
            }
        } else {
            self.flush();
        }
        self.count(v);
    }

    /// Moves the current run into the map.
    fn flush(&mut self) {
        if self.run > 0 {
            let run = std::mem::take(&mut self.run);
            if let Some(n) = self.counts.get_mut(self.last.as_slice()) {
                *n += run;
            } else {
                self.counts.insert(self.last.as_slice().into(), run);
            }
        }
    }

    #[inline]
    fn count(&mut self, v: ValueRef<'_>) {
        let bytes = match v {
            ValueRef::Text(t) | ValueRef::Blob(t) => t,
            ValueRef::Null => &[],
            // Numbers do not occur in these text columns; count them by their text.
            ValueRef::Integer(i) => return self.add_owned(i.to_string().into_bytes()),
            ValueRef::Real(f) => return self.add_owned(f.to_string().into_bytes()),
        };
        if bytes.is_empty() {
            self.empty += 1;
        } else if let Some(n) = self.counts.get_mut(bytes) {
            *n += 1;
        } else {
            self.counts.insert(bytes.into(), 1);
        }
    }

    /// Adds `n` events with value `v` (empty: the field was empty).
    fn add_count(&mut self, v: &[u8], n: i64) {
        self.flush();
        if v.is_empty() {
            self.empty += n;
        } else if let Some(c) = self.counts.get_mut(v) {
            *c += n;
        } else {
            self.counts.insert(v.into(), n);
        }
    }

    fn add_owned(&mut self, bytes: Vec<u8>) {
        *self.counts.entry(bytes.into_boxed_slice()).or_insert(0) += 1;
    }

    fn into_facet(mut self, field: FacetField, top: usize) -> Facet {
        self.flush();
        let distinct = self.counts.len() as i64;
        let non_empty: i64 = self.counts.values().sum();
        let mut entries: Vec<(Box<[u8]>, i64)> = self.counts.into_iter().collect();
        let by_count = |a: &(Box<[u8]>, i64), b: &(Box<[u8]>, i64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0));
        if entries.len() > top {
            // Only the top ones need ordering.
            entries.select_nth_unstable_by(top, by_count);
            entries.truncate(top);
        }
        entries.sort_unstable_by(by_count);
        let shown: i64 = entries.iter().map(|e| e.1).sum();
        let values = entries
            .into_iter()
            .map(|(v, count)| {
                let value = String::from_utf8_lossy(&v).into_owned();
                FacetValue { filter: filter_term(field, &value), value, count }
            })
            .collect();
        Facet { field, values, distinct, empty: self.empty, other: non_empty - shown }
    }
}

/// The query term that selects a value of a field: `actor:"adele@contoso.com"`. A double quote cannot
/// be written inside a phrase; the full-text fields read it as a word break anyway, so it becomes a space.
pub fn filter_term(field: FacetField, value: &str) -> String {
    format!("{}:\"{}\"", field.query_field(), value.replace('"', " "))
}

/// Above this many matching events (and not asked for exact counts), facets are estimated from an
/// evenly spread sample of between half this and this many of them.
pub const SAMPLE_TARGET: i64 = 50_000;

/// Registers `tm_sample(id, mask)` on a reader's connection: true for the ids whose mixed bits under
/// `mask` are zero, i.e. a fixed pseudo-random 1 in `mask + 1` of them, the same on every call (so an
/// estimate is reproducible). It is applied to the driving index's id before the event row is read, so
/// the rows left out cost an index step, not a row read.
pub(crate) fn register_sampler(conn: &rusqlite::Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "tm_sample",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            let id: i64 = ctx.get(0)?;
            let mask: i64 = ctx.get(1)?;
            Ok(mix(id as u64) & (mask as u64) == 0)
        },
    )?;
    Ok(())
}

/// SplitMix64's finaliser: neighbouring ids (one millisecond's events) get unrelated bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How exactly facets are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacetPrecision {
    /// Every matching event counted, however many.
    Exact,
    /// Exact up to `above` matching events; above, estimated from an evenly spread sample of between
    /// `above / 2` and `above` of them.
    Estimate {
        /// The most events counted one by one.
        above: i64,
    },
}

impl FacetPrecision {
    /// What the app asks for first: estimates above [`SAMPLE_TARGET`] events, in under a second.
    pub const FAST: Self = Self::Estimate { above: SAMPLE_TARGET };
}

impl CaseReader {
    /// The top `top` values (at most [`MAX_TOP`]) of every facet field among the events matching `query`,
    /// with the number of distinct values and of events where the field is empty.
    ///
    /// The whole case and time ranges are summed from the rollups (exact, whatever their size). Other
    /// searches read the matching events in one pass; with [`FacetPrecision::Estimate`] a search
    /// matching more events than that allows reads an evenly spread sample of them instead and says so
    /// in [`Facets::sample`].
    pub fn facets(&self, query: &Query, top: usize, precision: FacetPrecision) -> Result<Facets> {
        let top = top.clamp(1, MAX_TOP);
        self.prepare_scan()?;
        let mut tallies: Vec<Tally> = FacetField::ALL.iter().map(|_| Tally::default()).collect();
        let c = query.compile();
        let (matching, sample) = if c.fts.is_none() && c.tag.is_none() && c.conds.is_empty() {
            // A time range (or the whole case): whole days from the rollups, partial days counted.
            let lo = query.after_ms.map(clamp_ms);
            let hi = query.before_ms.map(clamp_ms);
            let split = rollup::split(lo, hi, DAY_MS);
            let mut matching = 0;
            if let Some((first, last)) = split.whole {
                matching += self.add_rollup_values(first, last, &mut tallies)?;
            }
            for (a, b) in split.partial {
                let mut part = query.clone();
                part.after_ms = Some(a);
                part.before_ms = Some(b);
                matching += self.scan_facets(&part, &mut tallies, 0)?;
            }
            (matching, None)
        } else {
            let mask = match precision {
                FacetPrecision::Exact => 0,
                FacetPrecision::Estimate { above } => {
                    let n = self.count(query)?.matching;
                    // The smallest 1-in-2^k sample that leaves at most `above` events.
                    let mut k = 0;
                    while n >> k > above.max(1) {
                        k += 1;
                    }
                    if k == 0 {
                        0
                    } else {
                        let mask = (1i64 << k) - 1;
                        let read = self.scan_facets(query, &mut tallies, mask)?;
                        let facets = estimate(tallies, top, n, read);
                        return Ok(facets);
                    }
                }
            };
            (self.scan_facets(query, &mut tallies, mask)?, None)
        };
        let fields = FacetField::ALL.iter().zip(tallies).map(|(f, t)| t.into_facet(*f, top)).collect();
        Ok(Facets { matching, fields, sample })
    }

    /// Adds the day rollups of days `first..=last` to the tallies; returns the events they count.
    fn add_rollup_values(&self, first: i64, last: i64, tallies: &mut [Tally]) -> Result<i64> {
        let mut st = self.conn.prepare_cached(
            "SELECT field, value, sum(count) FROM rollup_day_value WHERE day BETWEEN ?1 AND ?2 GROUP BY field, value",
        )?;
        let mut rows = st.query([first, last])?;
        let mut matching = 0;
        while let Some(r) = rows.next()? {
            let field = match r.get_ref(0)? {
                ValueRef::Text(t) => t,
                _ => continue,
            };
            let Some(i) = FacetField::ALL.iter().position(|f| f.column().as_bytes() == field) else { continue };
            let n: i64 = r.get(2)?;
            let value = match r.get_ref(1)? {
                ValueRef::Text(t) => t,
                _ => b"",
            };
            tallies[i].add_count(value, n);
            if i == 0 {
                matching += n;
            }
        }
        Ok(matching)
    }

    /// Counts the matching events' values into the tallies in one pass; with a non-zero `mask`, only the
    /// sample `tm_sample(id, mask)` keeps. Returns the events counted.
    fn scan_facets(&self, query: &Query, tallies: &mut [Tally], mask: i64) -> Result<i64> {
        let mut p = plan(query);
        if mask != 0 {
            p.where_.insert(0, format!("tm_sample({}, ?)", p.id_col));
            p.params.insert(0, SqlValue::Integer(mask));
        }
        let cols: Vec<String> = FacetField::ALL.iter().map(|f| format!("e.{}", f.column())).collect();
        let where_ = if p.where_.is_empty() { String::new() } else { format!("WHERE {}", p.where_.join(" AND ")) };
        let sql = format!("SELECT {} FROM {} {where_}", cols.join(", "), p.sql_from);
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut rows = st.query(params_from_iter(p.params.iter())).map_err(fts_error)?;
        let mut matching = 0i64;
        while let Some(row) = rows.next().map_err(fts_error)? {
            matching += 1;
            for (i, t) in tallies.iter_mut().enumerate() {
                t.add(row.get_ref(i)?);
            }
        }
        Ok(matching)
    }
}

/// Facets of `matching` events estimated from the tallies of a sample of `read` of them: every count
/// scaled by `matching / read`, rounded.
fn estimate(tallies: Vec<Tally>, top: usize, matching: i64, read: i64) -> Facets {
    let scale = |n: i64| if read == 0 { 0 } else { ((n as f64) * (matching as f64) / (read as f64)).round() as i64 };
    let fields = FacetField::ALL
        .iter()
        .zip(tallies)
        .map(|(f, t)| {
            let mut facet = t.into_facet(*f, top);
            for v in &mut facet.values {
                v.count = scale(v.count).max(1);
            }
            facet.empty = scale(facet.empty);
            let shown: i64 = facet.values.iter().map(|v| v.count).sum();
            facet.other = (matching - facet.empty - shown).max(0);
            facet
        })
        .collect();
    Facets { matching, fields, sample: Some(FacetSample { events: read }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_values_are_ordered_by_count_then_value_and_the_rest_is_counted() {
        let mut t = Tally::default();
        for v in ["b", "a", "a", "c", "b", "d", "", "e"] {
            t.add(ValueRef::Text(v.as_bytes()));
        }
        t.add(ValueRef::Null);
        let f = t.into_facet(FacetField::Actor, 3);
        let got: Vec<(&str, i64)> = f.values.iter().map(|v| (v.value.as_str(), v.count)).collect();
        assert_eq!(got, vec![("a", 2), ("b", 2), ("c", 1)]);
        assert_eq!((f.distinct, f.empty, f.other), (5, 2, 2));
        assert_eq!(f.values[0].filter, "actor:\"a\"");
    }

    #[test]
    fn filter_terms_parse_back_to_the_field() {
        for (field, value) in [
            (FacetField::Operation, "New-InboxRule"),
            (FacetField::ClientIp, "2001:db8::1"),
            (FacetField::AppId, "00000002-0000-0ff1-ce00-000000000000"),
            (FacetField::Actor, "odd \"quoted\" name"),
            (FacetField::Workload, "Exchange"),
        ] {
            let term = filter_term(field, value);
            let q = Query::parse(&term).unwrap();
            assert_eq!(q.clauses.len(), 1, "{term}");
            let q = Query::parse(&format!("-{term}")).unwrap();
            assert!(q.clauses[0].negated, "{term}");
        }
    }
}
