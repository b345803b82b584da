//! Search over a case: count, keyset pages, and one event with its raw records.
//!
//! Pages are keyed on the event id, which is a time key, so `(time, id)` order is id order and the
//! next page is "ids after the last one" — no OFFSET, no gaps, no repeats, however deep. With text
//! terms the FTS5 index is walked in rowid (= time) order and stopped at the page size.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, OptionalExtension, Row};
use tidemark_formats::encoding::Encoding;

use crate::case::CaseReader;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{EventDetail, EventRow, Page, RawOccurrence, SearchCount, SortOrder};
use crate::query::{Compiled, Query, MAX_PREFIX_TERMS};
use crate::raw;
use crate::time::{iso_ms, key_ms};

/// Most rows one page may hold.
pub const MAX_PAGE: usize = 1000;

pub(crate) const COLS: &str =
    "e.id, e.time_ms, e.source, e.workload, e.record_type, e.operation, e.action, e.actor, e.mailbox, \
    e.client_ip, e.client_port, e.client_app, e.user_agent, e.app_id, e.session_id, e.result, e.subject, e.folders, \
    e.item_count, e.object, \
    (SELECT ifnull(i.country, '') || '|' || ifnull(i.asn, '') || '|' || i.class || '|' || ifnull(i.network, '') \
     FROM ip_info i WHERE i.ip = e.client_ip), \
    (SELECT group_concat(f.kind, ' ') FROM account_first f JOIN account a ON a.account = f.account \
     WHERE f.first_id = e.id AND f.first_ms >= a.first_ms + 86400000)";

/// How many columns [`COLS`] has: what a query selects after them starts here.
pub(crate) const NCOLS: usize = 22;

pub(crate) fn row_to_event(r: &Row<'_>) -> rusqlite::Result<EventRow> {
    row_to_event_from(r, 0)
}

/// An [`EventRow`] from a row whose [`COLS`] start at column `at`.
pub(crate) fn row_to_event_from(r: &Row<'_>, at: usize) -> rusqlite::Result<EventRow> {
    let id: i64 = r.get(at)?;
    let time_ms: i64 = r.get(at + 1)?;
    Ok(EventRow {
        id: id.to_string(),
        time: iso_ms(time_ms),
        time_ms,
        source: r.get(at + 2)?,
        workload: r.get(at + 3)?,
        record_type: r.get(at + 4)?,
        operation: r.get(at + 5)?,
        action: r.get(at + 6)?,
        actor: r.get(at + 7)?,
        mailbox: r.get(at + 8)?,
        client_ip: r.get(at + 9)?,
        client_port: r.get(at + 10)?,
        client_app: r.get(at + 11)?,
        user_agent: r.get(at + 12)?,
        app_id: r.get(at + 13)?,
        session_id: r.get(at + 14)?,
        result: r.get(at + 15)?,
        subject: r.get(at + 16)?,
        folders: r.get(at + 17)?,
        item_count: r.get(at + 18)?,
        object: r.get(at + 19)?,
        ip: ip_summary(r.get(at + 20)?),
        new: new_kinds(r.get(at + 21)?),
        app_name: None,
        app_note: None,
    }
    .with_app_names())
}

impl EventRow {
    /// Fills `app_name` and `app_note` from the application id.
    pub(crate) fn with_app_names(mut self) -> Self {
        if let Some(id) = self.app_id.as_deref() {
            self.app_name = tidemark_formats::abused_apps::any_app_name(id).map(str::to_owned);
            self.app_note = tidemark_formats::abused_apps::abused_app(id).map(|(_, why)| {
                format!(
                    "Known to be abused in mailbox compromises: {why} ({})",
                    tidemark_formats::abused_apps::ROGUEAPPS
                )
            });
        }
        self
    }
}

/// The kinds an event was its account's first with (`COLS`' last column), in
/// [`crate::accounts::baseline::KINDS`] order.
fn new_kinds(packed: Option<String>) -> Vec<String> {
    let Some(packed) = packed else { return Vec::new() };
    let have: Vec<&str> = packed.split(' ').collect();
    crate::accounts::baseline::KINDS.iter().filter(|k| have.contains(k)).map(|k| (*k).to_owned()).collect()
}

/// The IP data's answer for a row's address, from [`COLS`]' packed last column.
fn ip_summary(packed: Option<String>) -> Option<crate::model::IpSummary> {
    let packed = packed?;
    let mut parts = packed.splitn(4, '|');
    let (country, asn, class, network) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Some(crate::model::IpSummary {
        country: some(country),
        asn: asn.parse().ok(),
        class: class.to_owned(),
        network: some(network),
    })
}

/// Turns an FTS5 error into something an investigator can act on.
pub(crate) fn fts_error(e: rusqlite::Error) -> Error {
    let text = e.to_string();
    if text.contains("fts5") || text.contains("MATCH") {
        Error::new(
            ErrorCode::QueryInvalid,
            "The search could not be run. Simplify it (fewer special characters) and try again.",
        )
        .with_detail(text)
    } else {
        e.into()
    }
}

/// Parses a page cursor (the last id of the previous page).
pub fn parse_cursor(cursor: &str) -> Result<i64> {
    cursor
        .parse()
        .map_err(|_| Error::new(ErrorCode::QueryInvalid, "The page position is not valid. Run the search again."))
}

/// The terms of the prefixes a reader spelled out last, valid for one `data_version`: the pages that
/// follow a search's first (scrolling, jumps, export) reuse them instead of seeking the vocabulary again
/// (a seek costs up to 1.5 ms at 10 M events). Cleared when another connection commits.
#[derive(Debug, Default)]
pub(crate) struct PrefixCache {
    data_version: i64,
    entries: std::collections::VecDeque<PrefixEntry>,
}

/// `(table, prefix)` and its terms, as [`CaseReader::prefix_terms`] answered.
type PrefixEntry = ((String, String), Option<Vec<String>>);

/// Prefixes remembered per reader.
const PREFIX_CACHE: usize = 16;

#[derive(Clone)]
pub(crate) struct Plan {
    pub(crate) sql_from: String,
    pub(crate) where_: Vec<String>,
    pub(crate) params: Vec<SqlValue>,
    pub(crate) id_col: &'static str,
    /// Whether a condition reads the `event` row (otherwise a count can read the driving table alone).
    pub(crate) needs_event_row: bool,
    /// The driving table alone (`event_fts f`, `event_tag dt`), for counts that need no event row.
    pub(crate) driver_from: String,
}

/// What drives a search: the full-text index when the query has words, else the tag's own index when
/// it asks for one tag (`tag:NAME`), else the event table. Each yields event ids in order, so pages
/// stop after `limit` rows however large the match.
pub(crate) fn plan(query: &Query) -> Plan {
    plan_compiled(query.compile())
}

/// [`plan`] for a query already compiled (with its prefixes spelled out, for pages).
pub(crate) fn plan_compiled(c: Compiled) -> Plan {
    let mut params: Vec<SqlValue> = Vec::new();
    let mut where_ = Vec::new();
    let (sql_from, id_col, driver_from) = match (&c.fts, &c.tag) {
        (Some(expr), _) => {
            where_.push(format!("{} MATCH ?", c.fts_table));
            params.push(SqlValue::Text(expr.clone()));
            (format!("{} f JOIN event e ON e.id = f.rowid", c.fts_table), "f.rowid", format!("{} f", c.fts_table))
        }
        (None, Some(tag)) => {
            // The tag's (tag_id, event_id) key walks its events in id order.
            where_.push("dt.tag_id = (SELECT id FROM tag WHERE name = ? COLLATE NOCASE)".to_owned());
            params.push(SqlValue::Text(tag.clone()));
            ("event_tag dt JOIN event e ON e.id = dt.event_id".to_owned(), "dt.event_id", "event_tag dt".to_owned())
        }
        (None, None) => ("event e".to_owned(), "e.id", "event e".to_owned()),
    };
    if let Some(lo) = c.lo {
        where_.push(format!("{id_col} >= ?"));
        params.push(SqlValue::Integer(lo));
    }
    if let Some(hi) = c.hi {
        where_.push(format!("{id_col} <= ?"));
        params.push(SqlValue::Integer(hi));
    }
    let needs_event_row = (c.fts.is_none() && c.tag.is_none()) || !c.conds.is_empty();
    where_.extend(c.conds);
    params.extend(c.params.into_iter().map(SqlValue::Text));
    Plan { sql_from, where_, params, id_col, needs_event_row, driver_from }
}

/// A record laid out for reading: pretty JSON, or for a CSV row one `Column: value` line per cell with
/// JSON cells (AuditData) pretty-printed. `None` when the record is neither.
fn readable(record: &[u8], context: &[u8]) -> Option<String> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(record) {
        return serde_json::to_string_pretty(&v).ok();
    }
    let header = tidemark_formats::csv::parse_record(context).ok().filter(|h| h.len() > 1)?;
    let cells = tidemark_formats::csv::parse_record(record).ok()?;
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        let name = header.get(i).map_or_else(|| format!("column {}", i + 1), |h| h.to_string());
        let value = match serde_json::from_str::<serde_json::Value>(cell) {
            Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                format!("\n{}", serde_json::to_string_pretty(&v).ok()?)
            }
            _ => cell.to_string(),
        };
        out.push_str(&format!("{name}: {value}\n"));
    }
    Some(out)
}

impl CaseReader {
    /// The first (`"ASC"`) or last (`"DESC"`) id of a plan's matches under `where_` (a `WHERE …` clause
    /// or empty) with `params`: a short walk in id order for common queries.
    pub(crate) fn edge_id(&self, p: &Plan, where_: &str, params: &[SqlValue], dir: &str) -> Result<Option<i64>> {
        let sql = format!("SELECT {id} FROM {} {where_} ORDER BY {id} {dir} LIMIT 1", p.sql_from, id = p.id_col);
        self.conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(params.iter()), |r| r.get(0))
            .optional()
            .map_err(fts_error)
    }

    /// All events in the case: the sum of what each acquisition added (every event is created by
    /// exactly one acquisition, in the same transaction as its count), so no table scan is needed.
    pub fn total_events(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT coalesce(sum(events_new), 0) FROM acquisition", [], |r| r.get(0))?)
    }

    /// How many events match, of how many, and their span.
    pub fn count(&self, query: &Query) -> Result<SearchCount> {
        let total = self.total_events()?;
        let p = plan(query);
        let (matching, first, last) = if p.where_.is_empty() {
            let first: Option<i64> =
                self.conn.query_row("SELECT id FROM event ORDER BY id LIMIT 1", [], |r| r.get(0)).optional()?;
            let last: Option<i64> =
                self.conn.query_row("SELECT id FROM event ORDER BY id DESC LIMIT 1", [], |r| r.get(0)).optional()?;
            (total, first, last)
        } else {
            // Counting needs the event table only when a condition reads it.
            let from = if p.needs_event_row { p.sql_from.as_str() } else { p.driver_from.as_str() };
            let sql = format!(
                "SELECT count(*), min({id}), max({id}) FROM {from} WHERE {}",
                p.where_.join(" AND "),
                id = p.id_col
            );
            self.conn
                .prepare_cached(&sql)?
                .query_row(params_from_iter(p.params.iter()), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(fts_error)?
        };
        Ok(SearchCount {
            matching,
            total,
            first_time: first.map(|id: i64| iso_ms(key_ms(id))),
            last_time: last.map(|id: i64| iso_ms(key_ms(id))),
        })
    }

    /// Every term of the full-text index `table` (`event_fts` or `ident_fts`) that starts with
    /// `prefix`, in order; `None` when there are more than [`MAX_PREFIX_TERMS`] (FTS5's own prefix
    /// merge is then the cheaper way) or the index cannot be listed. Each term is one seek in the
    /// index's vocabulary (`fts5vocab`, instance kind, which reads a term's first posting only; the
    /// row kind would count every document of every term): "the first term at or after the last one
    /// found, plus a zero byte", which no term contains.
    pub fn prefix_terms(&self, table: &str, prefix: &str) -> Option<Vec<String>> {
        // Inside a read transaction this starts it, so the version is the snapshot's.
        let version: i64 = self.conn.query_row("PRAGMA data_version", [], |r| r.get(0)).ok()?;
        let key = (table.to_owned(), prefix.to_owned());
        {
            let mut cache = self.prefixes.borrow_mut();
            if cache.data_version != version {
                cache.data_version = version;
                cache.entries.clear();
            }
            if let Some((_, terms)) = cache.entries.iter().find(|(k, _)| *k == key) {
                return terms.clone();
            }
        }
        let terms = self.list_prefix_terms(table, prefix);
        let mut cache = self.prefixes.borrow_mut();
        if cache.entries.len() == PREFIX_CACHE {
            cache.entries.pop_front();
        }
        cache.entries.push_back((key, terms.clone()));
        terms
    }

    /// [`CaseReader::prefix_terms`] read from the index.
    fn list_prefix_terms(&self, table: &str, prefix: &str) -> Option<Vec<String>> {
        let vocab = match table {
            "event_fts" => "temp.event_fts_terms",
            "ident_fts" => "temp.ident_fts_terms",
            _ => return None,
        };
        let mut st = self.conn.prepare_cached(&format!("SELECT term FROM {vocab} WHERE term >= ?1 LIMIT 1")).ok()?;
        let mut terms: Vec<String> = Vec::new();
        let mut from = prefix.to_owned();
        loop {
            let term: Option<String> = st.query_row([&from], |r| r.get(0)).optional().ok()?;
            match term {
                Some(t) if t.starts_with(prefix) => {
                    if terms.len() == MAX_PREFIX_TERMS {
                        return None;
                    }
                    from = format!("{t}\0");
                    terms.push(t);
                }
                _ => return Some(terms),
            }
        }
    }

    /// A read transaction for statements that must see one snapshot, unless one is already open
    /// (an export's); it ends when dropped.
    pub(crate) fn read_snapshot(&self) -> Result<Option<rusqlite::Transaction<'_>>> {
        Ok(if self.conn.is_autocommit() { Some(self.conn.unchecked_transaction()?) } else { None })
    }

    /// The query compiled for reading its matches in stretches (pages, facet samples): its driving
    /// prefixes spelled out as the index's terms ([`Query::compile_with`]). Call it inside the read
    /// transaction of the statements that use it, so the terms and the rows are of one snapshot.
    pub(crate) fn compile_spelled(&self, query: &Query) -> Compiled {
        query.compile_with(&mut |table, prefix| self.prefix_terms(table, prefix))
    }

    /// One page of matching events in time order, after `cursor` (exclusive).
    pub fn page(&self, query: &Query, sort: SortOrder, after: Option<&str>, limit: usize) -> Result<Page> {
        let limit = limit.clamp(1, MAX_PAGE);
        // The prefixes' terms and the page come from one snapshot (a collection may add terms).
        let _snapshot = self.read_snapshot()?;
        let mut p = plan_compiled(self.compile_spelled(query));
        if let Some(cursor) = after {
            let id = parse_cursor(cursor)?;
            p.where_.push(format!("{} {} ?", p.id_col, if sort == SortOrder::Asc { ">" } else { "<" }));
            p.params.push(SqlValue::Integer(id));
        }
        let where_ = if p.where_.is_empty() { String::new() } else { format!("WHERE {}", p.where_.join(" AND ")) };
        let dir = if sort == SortOrder::Asc { "ASC" } else { "DESC" };
        let sql = format!("SELECT {COLS} FROM {} {where_} ORDER BY {} {dir} LIMIT {}", p.sql_from, p.id_col, limit + 1);
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut rows: Vec<EventRow> = st
            .query_map(params_from_iter(p.params.iter()), row_to_event)
            .map_err(fts_error)?
            .collect::<rusqlite::Result<_>>()
            .map_err(fts_error)?;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(Page { rows, next })
    }

    /// Calls `f` for every matching event in time order, in pages (for export).
    pub fn for_each_event(&self, query: &Query, f: &mut dyn FnMut(&EventRow) -> Result<()>) -> Result<u64> {
        let mut after: Option<String> = None;
        let mut n = 0;
        loop {
            let page = self.page(query, SortOrder::Asc, after.as_deref(), MAX_PAGE)?;
            for row in &page.rows {
                f(row)?;
                n += 1;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(n),
            }
        }
    }

    /// The original bytes of a stored raw record. Decompressors (with their dictionary loaded) are
    /// kept per dictionary: building one costs far more than decompressing a record.
    pub(crate) fn decode_raw(
        &self,
        codec: i64,
        data: &[u8],
        size: i64,
        dict_id: Option<i64>,
    ) -> Result<Vec<u8>, String> {
        if codec != raw::CODEC_ZSTD {
            return raw::decode(codec, data, usize::try_from(size).unwrap_or(0), None);
        }
        let mut decoders = self.decoders.borrow_mut();
        let d = match decoders.entry(dict_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let d = match dict_id {
                    Some(id) => {
                        let dict: Vec<u8> = self
                            .conn
                            .query_row("SELECT dict FROM raw_dict WHERE id = ?1", [id], |r| r.get(0))
                            .map_err(|e| format!("needs compression dictionary {id}, which is missing ({e})"))?;
                        zstd::bulk::Decompressor::with_dictionary(&dict)
                    }
                    None => zstd::bulk::Decompressor::new(),
                }
                .map_err(|e| e.to_string())?;
                e.insert(d)
            }
        };
        d.decompress(data, usize::try_from(size).unwrap_or(0).max(1))
            .map_err(|e| format!("cannot be decompressed: {e}"))
    }

    /// One event with its normalized fields and every raw occurrence.
    pub fn event(&self, id: &str) -> Result<EventDetail> {
        let not_found = || {
            Error::new(
                ErrorCode::EventNotFound,
                format!("There is no event {id} in this case. It may have been rebuilt; search again."),
            )
        };
        let id: i64 = id.parse().map_err(|_| not_found())?;
        let sql = format!("SELECT {COLS}, e.record_key, e.message_ids, e.details FROM event e WHERE e.id = ?1");
        let found = self
            .conn
            .query_row(&sql, [id], |r| {
                Ok((
                    row_to_event(r)?,
                    r.get::<_, String>(NCOLS)?,
                    r.get::<_, Option<String>>(NCOLS + 1)?,
                    r.get::<_, String>(NCOLS + 2)?,
                ))
            })
            .optional()?;
        let Some((event, record_key, msgids, details)) = found else {
            return Err(not_found());
        };
        let details = serde_json::from_str::<serde_json::Value>(&details)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or(details);
        let mut st = self.conn.prepare_cached(
            "SELECT r.id, r.acquisition_id, a.source, f.path, r.line, r.byte_offset, r.url, r.page, r.sha256, r.size, \
                    r.received_ms, r.codec, r.dict_id, r.data, f.encoding, f.context \
             FROM raw_record r JOIN acquisition a ON a.id = r.acquisition_id \
             LEFT JOIN acquired_file f ON f.id = r.file_id WHERE r.event_id = ?1 ORDER BY r.id",
        )?;
        type RawRow = (
            i64,
            i64,
            String,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<i64>,
            Vec<u8>,
            i64,
            i64,
            i64,
            Option<i64>,
            Vec<u8>,
            Option<String>,
            Option<Vec<u8>>,
        );
        let rows: Vec<RawRow> = st
            .query_map([id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                    r.get(12)?,
                    r.get(13)?,
                    r.get(14)?,
                    r.get(15)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut raw = Vec::with_capacity(rows.len());
        for (
            raw_id,
            acquisition_id,
            source,
            path,
            line,
            offset,
            url,
            page,
            sha,
            size,
            received,
            codec,
            dict_id,
            data,
            encoding,
            context,
        ) in rows
        {
            let bytes = self.decode_raw(codec, &data, size, dict_id);
            let (text, verbatim) = match bytes {
                Ok(b) => {
                    let encoding = encoding.as_deref().and_then(Encoding::from_name).unwrap_or(Encoding::Utf8);
                    let decoded = encoding.decode_record(&b);
                    let verbatim = String::from_utf8_lossy(&decoded).into_owned();
                    let text =
                        readable(&decoded, context.as_deref().unwrap_or_default()).unwrap_or_else(|| verbatim.clone());
                    (text, verbatim)
                }
                Err(e) => {
                    let msg = format!("The stored record is damaged: it {e}. Run Verify on this case.");
                    (msg.clone(), msg)
                }
            };
            raw.push(RawOccurrence {
                raw_id,
                acquisition_id,
                source_format: source,
                locator: locator(path.as_deref(), line, offset, url.as_deref(), page),
                sha256: hex::encode(sha),
                size,
                received_at: iso_ms(received),
                text,
                verbatim,
            });
        }
        Ok(EventDetail {
            event,
            record_key,
            internet_message_ids: msgids.map(|m| m.split(' ').map(str::to_owned).collect()).unwrap_or_default(),
            details,
            raw,
        })
    }
}

/// Where a raw record was found, for people.
pub fn locator(
    path: Option<&str>,
    line: Option<i64>,
    offset: Option<i64>,
    url: Option<&str>,
    page: Option<i64>,
) -> String {
    match (path, url) {
        (Some(p), _) => match (line, offset) {
            (Some(l), Some(o)) => format!("{p} line {l} (byte {o})"),
            (Some(l), None) => format!("{p} line {l}"),
            _ => p.to_owned(),
        },
        (None, Some(u)) => match page {
            Some(pg) => format!("{u} page {pg}"),
            None => u.to_owned(),
        },
        (None, None) => "unknown location".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_row_columns_use_the_baselines_history() {
        let history = crate::accounts::baseline::HISTORY_MS.to_string();
        assert!(super::COLS.contains(&format!("a.first_ms + {history})")), "COLS must use HISTORY_MS");
    }
}
