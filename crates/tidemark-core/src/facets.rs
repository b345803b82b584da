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

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params_from_iter, OptionalExtension};

use crate::case::CaseReader;
use crate::error::Result;
use crate::model::{Facet, FacetField, FacetSample, FacetValue, Facets};
use crate::query::Query;
use crate::rollup::{self, DAY_MS};
use crate::search::{fts_error, plan, plan_compiled, Plan};
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
                let label = match field {
                    FacetField::AppId => tidemark_formats::abused_apps::any_app_name(&value).map(str::to_owned),
                    _ => None,
                };
                FacetValue { filter: filter_term(field, &value), value, label, count }
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

/// Above about this many matching events (and not asked for exact counts), facets are estimated from a
/// sample of at least half this many of them, spread evenly over the result's time span.
pub const SAMPLE_TARGET: i64 = 50_000;

/// Time blocks a large result is divided into for an estimate (a power of two).
const SAMPLE_BLOCKS: i64 = 1 << 16;
/// Blocks read before the first look at how large the result is (a power of two).
const FIRST_ROUND: i64 = 64;
/// Most blocks read one query each (a power of two); beyond, the grid is read in one pass.
const MAX_BLOCK_QUERIES: i64 = 1024;

/// Reverses the low 16 bits: block `j` of the reading order. Reading blocks 0..2^r in this order reads
/// every (2^16 / 2^r)-th block, an even grid over the span that each round makes twice as fine.
fn grid_block(j: i64) -> i64 {
    i64::from((j as u16).reverse_bits())
}

/// How exactly facets are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacetPrecision {
    /// Every matching event counted, however many.
    Exact,
    /// Exact up to about `above` matching events; above, estimated from a sample of at least
    /// `above / 2` of them, spread evenly over the result's time span.
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
    /// matching more events than that allows reads a sample of them spread evenly over its time span
    /// instead, and says so in [`Facets::sample`].
    pub fn facets(&self, query: &Query, top: usize, precision: FacetPrecision) -> Result<Facets> {
        let top = top.clamp(1, MAX_TOP);
        self.prepare_scan()?;
        let mut tallies: Vec<Tally> = FacetField::ALL.iter().map(|_| Tally::default()).collect();
        let c = query.compile();
        let matching = if c.time_range_only() {
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
                matching += self.scan_facets(&plan(&part), &mut tallies, Blocks::All)?;
            }
            matching
        } else {
            if let FacetPrecision::Estimate { above } = precision {
                if let Some(facets) = self.estimate_facets(query, top, above)? {
                    return Ok(facets);
                }
            }
            self.scan_facets(&plan(query), &mut tallies, Blocks::All)?
        };
        let derived = self.derived_tallies(&mut tallies)?;
        let fields = FacetField::ALL
            .iter()
            .chain(FacetField::DERIVED.iter())
            .zip(tallies.into_iter().chain(derived))
            .map(|(f, t)| t.into_facet(*f, top))
            .collect();
        Ok(Facets { matching, fields, sample: None })
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

    /// Counts the matching events' values (those in `blocks`) into the tallies in one pass. Returns the
    /// events counted.
    fn scan_facets(&self, p: &Plan, tallies: &mut [Tally], blocks: Blocks) -> Result<i64> {
        let mut p = p.clone();
        match blocks {
            Blocks::All => {}
            Blocks::Ids(a, b) => {
                p.where_.push(format!("{} BETWEEN ? AND ?", p.id_col));
                p.params.extend([SqlValue::Integer(a), SqlValue::Integer(b)]);
            }
            Blocks::Grid { lo, width, step } => {
                // On the driving index's id, so rows off the grid are skipped before the event is read.
                p.where_.push(format!("(({} - ?) / ?) % ? = 0", p.id_col));
                p.params.extend([SqlValue::Integer(lo), SqlValue::Integer(width), SqlValue::Integer(step)]);
            }
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

    /// Facets estimated from a sample, or `None` when the result is small enough to count (at most
    /// about `above` events).
    ///
    /// The span from the first to the last matching event is cut into [`SAMPLE_BLOCKS`] blocks of
    /// equal time, and whole blocks on an even grid over the span are read: every count is scaled by
    /// all blocks / blocks read. Every matching event lies in exactly one block and every block has the
    /// same chance to be on the grid, so the estimate is unbiased; whole blocks keep a session's events
    /// together, which is why the sample is large. Two ways to read the grid:
    /// - Block by block, in rounds that double the blocks read (64, 128, … up to
    ///   [`MAX_BLOCK_QUERIES`]) until they hold `above / 2` events. Each block is a keyset range on the
    ///   driving index (the word index walks just that stretch of its doclist), so a result of millions
    ///   costs what its sample costs: the way for large results.
    /// - In one pass over the driving index that skips the rows off the grid before reading the event:
    ///   for results too small to fill the sample in that many blocks, and for prefixes that stay
    ///   prefixes (more terms than [`crate::query::MAX_PREFIX_TERMS`]), which FTS5 expands anew for
    ///   every query. Other prefixes are spelled out as their terms, which FTS5 walks like any word.
    fn estimate_facets(&self, query: &Query, top: usize, above: i64) -> Result<Option<Facets>> {
        // The spelled-out terms and the sample come from one snapshot.
        let _snapshot = self.read_snapshot()?;
        let spelled = self.compile_spelled(query);
        let prefix = spelled.fts.as_deref().is_some_and(|e| e.contains('*'));
        let p = plan_compiled(spelled);
        let where_ = if p.where_.is_empty() { String::new() } else { format!("WHERE {}", p.where_.join(" AND ")) };
        let (Some(lo), Some(hi)) =
            (self.edge_id(&p, &where_, &p.params, "ASC")?, self.edge_id(&p, &where_, &p.params, "DESC")?)
        else {
            return Ok(None);
        };
        let width = ((hi - lo) / SAMPLE_BLOCKS).saturating_add(1);
        let block = |i: i64| {
            Blocks::Ids(
                lo.saturating_add(i.saturating_mul(width)),
                lo.saturating_add((i + 1).saturating_mul(width)) - 1,
            )
        };
        let above = above.max(1);
        let expected = if prefix {
            self.count(query)?.matching
        } else {
            let mut tallies: Vec<Tally> = FacetField::ALL.iter().map(|_| Tally::default()).collect();
            let mut read = 0i64;
            let mut blocks = 0i64;
            let mut round_end = FIRST_ROUND;
            loop {
                for j in blocks..round_end {
                    read += self.scan_facets(&p, &mut tallies, block(grid_block(j)))?;
                }
                blocks = round_end;
                let projected = read.saturating_mul(SAMPLE_BLOCKS / blocks);
                if projected <= above {
                    return Ok(None);
                }
                if read >= above / 2 {
                    let derived = self.derived_tallies(&mut tallies)?;
                    return Ok(Some(estimate(tallies, derived, top, SAMPLE_BLOCKS / blocks, read)));
                }
                if round_end >= MAX_BLOCK_QUERIES {
                    break projected;
                }
                round_end *= 2;
            }
        };
        // The coarsest grid expected to hold `above / 2` events, read in one pass.
        let mut step = 1i64;
        while step < SAMPLE_BLOCKS && expected / (step * 2) >= above / 2 {
            step *= 2;
        }
        if step == 1 {
            return Ok(None);
        }
        let mut tallies: Vec<Tally> = FacetField::ALL.iter().map(|_| Tally::default()).collect();
        let read = self.scan_facets(&p, &mut tallies, Blocks::Grid { lo, width, step })?;
        let derived = self.derived_tallies(&mut tallies)?;
        Ok(Some(estimate(tallies, derived, top, step, read)))
    }

    /// The country and network tallies ([`FacetField::DERIVED`]) from the client IP tally: each
    /// address's count goes to its country and its network's owner as the case's IP context names
    /// them; events without an address, or whose address has no country (private, reserved) or
    /// network, count as empty.
    fn derived_tallies(&self, tallies: &mut [Tally]) -> Result<[Tally; 2]> {
        let ip_at = FacetField::ALL.iter().position(|f| *f == FacetField::ClientIp).unwrap_or(0);
        let ips = &mut tallies[ip_at];
        ips.flush();
        let mut st = self.conn.prepare_cached("SELECT country, network FROM ip_info WHERE ip = ?1")?;
        let (mut country, mut network) = (Tally::default(), Tally::default());
        country.empty = ips.empty;
        network.empty = ips.empty;
        for (ip, n) in &ips.counts {
            let row: Option<(Option<String>, Option<String>)> = match std::str::from_utf8(ip) {
                Ok(ip) => st.query_row([ip], |r| Ok((r.get(0)?, r.get(1)?))).optional()?,
                Err(_) => None,
            };
            let (c, w) = row.unwrap_or_default();
            country.add_count(c.as_deref().unwrap_or("").as_bytes(), *n);
            network.add_count(w.as_deref().unwrap_or("").as_bytes(), *n);
        }
        Ok([country, network])
    }
}

/// Which of the matching events a facet scan reads.
#[derive(Debug, Clone, Copy)]
enum Blocks {
    All,
    /// Ids in this inclusive range.
    Ids(i64, i64),
    /// Ids `lo + k·width ..` whose block number `k` is a multiple of `step`.
    Grid {
        lo: i64,
        width: i64,
        step: i64,
    },
}

/// Facets estimated from the tallies of `read` sampled events, each standing for `scale` events.
fn estimate(tallies: Vec<Tally>, derived: [Tally; 2], top: usize, scale: i64, read: i64) -> Facets {
    let fields = FacetField::ALL
        .iter()
        .chain(FacetField::DERIVED.iter())
        .zip(tallies.into_iter().chain(derived))
        .map(|(f, t)| {
            let mut facet = t.into_facet(*f, top);
            for v in &mut facet.values {
                v.count *= scale;
            }
            facet.empty *= scale;
            facet.other *= scale;
            facet
        })
        .collect();
    Facets { matching: read * scale, fields, sample: Some(FacetSample { events: read }) }
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
