//! Facets: for the events a query matches, the most frequent values of the fields investigators pivot
//! on (actor, mailbox, action, operation, IP, client, app, workload, source), with counts.
//!
//! The panel beside the timeline shows nine fields at once, so they are counted in one pass over the
//! matching events — one scan reading nine columns — instead of nine `GROUP BY` queries that would each
//! scan the same rows. The case has no per-field indexes for this (they would slow every import), and
//! at a million events the scan is what dominates, so it is done once. Counting happens in Rust on
//! borrowed column bytes; a value is copied only the first time it is seen.
//!
//! Output is deterministic: values by count (highest first), ties by value; fields in
//! [`FacetField::ALL`] order.

use std::collections::HashMap;

use rusqlite::params_from_iter;
use rusqlite::types::ValueRef;

use crate::case::CaseReader;
use crate::error::Result;
use crate::model::{Facet, FacetField, FacetValue, Facets};
use crate::query::Query;
use crate::search::{fts_error, plan};

/// Values per field when the caller does not say.
pub const DEFAULT_TOP: usize = 10;
/// Most values per field one request may ask for.
pub const MAX_TOP: usize = 1000;

/// Counts of one field's values.
#[derive(Default)]
struct Tally {
    counts: HashMap<Box<[u8]>, i64>,
    empty: i64,
}

impl Tally {
    #[inline]
    fn add(&mut self, v: ValueRef<'_>) {
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

    fn add_owned(&mut self, bytes: Vec<u8>) {
        *self.counts.entry(bytes.into_boxed_slice()).or_insert(0) += 1;
    }

    fn into_facet(self, field: FacetField, top: usize) -> Facet {
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

impl CaseReader {
    /// The top `top` values (at most [`MAX_TOP`]) of every facet field among the events matching `query`,
    /// with the number of distinct values and of events where the field is empty, in one pass.
    pub fn facets(&self, query: &Query, top: usize) -> Result<Facets> {
        let top = top.clamp(1, MAX_TOP);
        let p = plan(query);
        let cols: Vec<String> = FacetField::ALL.iter().map(|f| format!("e.{}", f.column())).collect();
        let where_ = if p.where_.is_empty() { String::new() } else { format!("WHERE {}", p.where_.join(" AND ")) };
        let sql = format!("SELECT {} FROM {} {where_}", cols.join(", "), p.sql_from);
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut rows = st.query(params_from_iter(p.params.iter())).map_err(fts_error)?;
        let mut tallies: Vec<Tally> = FacetField::ALL.iter().map(|_| Tally::default()).collect();
        let mut matching = 0i64;
        while let Some(row) = rows.next().map_err(fts_error)? {
            matching += 1;
            for (i, t) in tallies.iter_mut().enumerate() {
                t.add(row.get_ref(i)?);
            }
        }
        let fields = FacetField::ALL.iter().zip(tallies).map(|(f, t)| t.into_facet(*f, top)).collect();
        Ok(Facets { matching, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_values_are_ordered_by_count_then_value_and_the_rest_is_counted() {
        let mut t = Tally::default();
        for v in ["b", "a", "c", "a", "b", "d", "", "e"] {
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
