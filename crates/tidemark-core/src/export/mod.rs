//! Export: the events of a scope (a query, a selection, the bookmarks, a tag) written as CSV, JSONL,
//! XLSX or a self-contained HTML report, with a manifest.
//!
//! Exports are evidence too: each one gets a manifest beside it (case, scope, query, column profile,
//! time zone, tool version, row count, SHA-256 of every file and of the listed raw records) and an entry
//! in the case log ([`CaseWriter::record_export`]). Text from records is written by attackers, so every
//! format treats it as inert text: spreadsheet cells that would run as a formula are neutralised
//! ([`neutralize`]), HTML is escaped and the report runs no script.
//!
//! An export streams: rows are read in keyset pages of [`MAX_PAGE`] inside one read transaction (so the
//! count, the rows and the manifest describe one snapshot even while an import writes), and each format
//! writes them as they come — XLSX through `rust_xlsxwriter`'s constant-memory worksheets, whose rows go
//! to a temporary file beside the destination. Memory stays bounded however many rows there are. A file
//! is written under a `.partial` name and renamed when complete, so a cancelled or failed export leaves
//! nothing that looks finished. Results are deterministic: rows in event-id (time) order, and the only
//! time that is not from the evidence is the generation time, taken from the caller's [`Clock`].

mod columns;
mod csv;
mod destination;
mod html;
mod jsonl;
mod xlsx;
mod zone;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, OptionalExtension};
use sha2::{Digest, Sha256};

pub use columns::{column_infos, neutralize, parse_profile_text, resolve_profile, Column};
pub use destination::{check_destination, ExportDestination};
pub use zone::DisplayZone;

use crate::case::{CaseReader, CaseWriter, TOOL_VERSION};
use crate::clock::Clock;
use crate::error::{Error, ErrorCode, Result};
pub use crate::model::ExportFormat;
use crate::model::{
    ColumnProfile, ExportManifest, ExportOptions, ExportProgress, ExportRequest, ExportResult, ExportScope,
    ExportSheet, ExportedFile,
};
use crate::query::Query;
use crate::search::{plan, row_to_event, COLS, MAX_PAGE, NCOLS};
use crate::time::iso_ms;
use columns::ExportRow;

/// Most rows an Excel worksheet holds, the header row included.
pub const XLSX_MAX_ROWS: u32 = 1_048_576;

impl ExportFormat {
    /// Parses `csv`, `jsonl`, `xlsx` or `html`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "jsonl" | "ndjson" => Ok(Self::Jsonl),
            "xlsx" | "excel" => Ok(Self::Xlsx),
            "html" | "report" => Ok(Self::Html),
            _ => Err(Error::new(
                ErrorCode::ExportInvalid,
                format!("\"{s}\" is not an export format. Use csv, jsonl, xlsx or html."),
            )),
        }
    }

    /// The format's name as the manifest and the case log write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
            Self::Xlsx => "xlsx",
            Self::Html => "html",
        }
    }
}

/// How a running export can be stopped.
#[derive(Debug, Clone, Copy)]
pub struct ExportControl<'a> {
    /// Set to stop the export after the page it is writing; the partial file is removed and the export
    /// fails with `export.cancelled`.
    pub cancel: &'a AtomicBool,
}

/// A checked export: scope, format, columns and zone, all validated before a file is touched.
#[derive(Debug, Clone)]
pub struct ExportSpec {
    /// Which events.
    pub scope: ExportScope,
    /// Which format.
    pub format: ExportFormat,
    /// The profile's name (a preset's, or `custom`).
    pub profile: String,
    /// Columns, in order.
    pub columns: Vec<Column>,
    /// Display time zone of every time value.
    pub zone: DisplayZone,
    /// Rows per XLSX worksheet, the header included: [`XLSX_MAX_ROWS`], lowered only by tests of the
    /// split.
    pub xlsx_sheet_rows: u32,
}

impl ExportSpec {
    /// Checks a scope, format, column profile (`None`: the format's default) and time zone.
    pub fn new(scope: ExportScope, format: ExportFormat, columns: Option<&ColumnProfile>, zone: &str) -> Result<Self> {
        let (profile, mut columns) = resolve_profile(columns, format)?;
        if format == ExportFormat::Html && !columns.contains(&Column::RawSha256) {
            // The report ties every row to its evidence.
            columns.push(Column::RawSha256);
        }
        Ok(Self { scope, format, profile, columns, zone: DisplayZone::parse(zone)?, xlsx_sheet_rows: XLSX_MAX_ROWS })
    }

    /// Checks what the UI sent.
    pub fn from_request(request: &ExportRequest) -> Result<Self> {
        Self::new(request.scope.clone(), request.format, request.columns.as_ref(), &request.time_zone)
    }
}

/// Every column, preset and format, for the export dialog.
pub fn export_options() -> ExportOptions {
    let (columns, presets) = column_infos();
    ExportOptions {
        columns,
        presets,
        formats: vec![ExportFormat::Csv, ExportFormat::Jsonl, ExportFormat::Xlsx, ExportFormat::Html],
    }
}

/// The manifest's path for an export file: `events.csv` → `events.csv.manifest.json`.
pub fn manifest_path(out: &Path) -> PathBuf {
    with_suffix(out, ".manifest.json")
}

fn with_suffix(out: &Path, suffix: &str) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    out.with_file_name(name)
}

pub(crate) fn export_err(path: &Path, e: &std::io::Error) -> Error {
    Error::io("write", path, e).with_code(ErrorCode::ExportFailed)
}

/// A writer that hashes and counts what passes through it, so a file's SHA-256 is known without
/// reading it back.
pub(crate) struct HashingWriter<W: Write> {
    pub(crate) inner: W,
    pub(crate) hash: Sha256,
    pub(crate) size: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self { inner, hash: Sha256::new(), size: 0 }
    }
}

impl HashingWriter<BufWriter<File>> {
    /// Flushes and returns (size, SHA-256 hex).
    pub(crate) fn finish(mut self, path: &Path) -> Result<(u64, String)> {
        self.inner.flush().map_err(|e| export_err(path, &e))?;
        self.inner.get_ref().sync_all().map_err(|e| export_err(path, &e))?;
        Ok((self.size, hex::encode(self.hash.finalize())))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Creates the file a sink writes (1 MiB buffer, hashed as written).
pub(crate) fn create(path: &Path) -> Result<HashingWriter<BufWriter<File>>> {
    let file = File::create(path).map_err(|e| export_err(path, &e))?;
    Ok(HashingWriter::new(BufWriter::with_capacity(1 << 20, file)))
}

/// SHA-256 of a file, read back in 1 MiB blocks.
#[allow(dead_code)]
pub(crate) fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut f = File::open(path).map_err(|e| export_err(path, &e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| export_err(path, &e))?;
        if n == 0 {
            return Ok((size, hex::encode(h.finalize())));
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
}

/// A note of the case, as the HTML report lists it.
#[derive(Debug, Clone)]
pub(crate) struct CaseNote {
    pub(crate) id: i64,
    pub(crate) event_id: Option<i64>,
    pub(crate) start_ms: Option<i64>,
    pub(crate) end_ms: Option<i64>,
    pub(crate) body: String,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
}

/// What every sink knows besides the rows.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub(crate) spec: &'a ExportSpec,
    pub(crate) case_name: String,
    pub(crate) case_path: String,
    pub(crate) case_id: String,
    pub(crate) scope_description: String,
    pub(crate) query: String,
    pub(crate) created_ms: i64,
    pub(crate) total: u64,
    /// The IP data the case's country and network answers came from (credited in the manifest).
    pub(crate) ip_data: Vec<crate::ipinfo::IpDataSet>,
}

/// What a sink wrote.
#[derive(Debug, Default)]
pub(crate) struct Finished {
    pub(crate) size: u64,
    pub(crate) sha256: String,
    pub(crate) sheets: Vec<ExportSheet>,
    pub(crate) truncated_cells: u64,
}

/// A format's writer: rows in, one file out.
pub(crate) trait Sink {
    fn row(&mut self, row: &ExportRow) -> Result<()>;
    /// Completes the file; `rows` were written, `raw_digest` is the manifest's `raw_records_sha256`.
    fn finish(self: Box<Self>, rows: u64, raw_digest: &str) -> Result<Finished>;
}

/// One keyset-walkable source of rows: `FROM … WHERE …`, ordered by an id column.
struct Segment {
    from: String,
    where_: Vec<String>,
    params: Vec<SqlValue>,
    id_col: &'static str,
}

/// A scope resolved against the case.
struct Resolved {
    segments: Vec<Segment>,
    total: u64,
    description: String,
    query: String,
}

fn cancelled() -> Error {
    Error::new(ErrorCode::ExportCancelled, "The export was stopped. No file was kept; start it again to export.")
}

impl CaseReader {
    fn resolve_scope(&self, scope: &ExportScope) -> Result<Resolved> {
        match scope {
            ExportScope::Query { query } => {
                let q = Query::parse(query)?;
                let total = u64::try_from(self.count(&q)?.matching).unwrap_or(0);
                let p = plan(&q);
                let description = if query.trim().is_empty() {
                    "every event in the case".to_owned()
                } else {
                    format!("events matching the query \"{}\"", query.trim())
                };
                Ok(Resolved {
                    segments: vec![Segment { from: p.sql_from, where_: p.where_, params: p.params, id_col: p.id_col }],
                    total,
                    description,
                    query: query.clone(),
                })
            }
            ExportScope::Selection { ids } => {
                let mut parsed = Vec::with_capacity(ids.len());
                for id in ids {
                    parsed.push(id.trim().parse::<i64>().map_err(|_| {
                        Error::new(
                            ErrorCode::ExportInvalid,
                            format!("\"{id}\" is not an event id. Select the events again."),
                        )
                    })?);
                }
                parsed.sort_unstable();
                parsed.dedup();
                if parsed.is_empty() {
                    return Err(Error::new(
                        ErrorCode::ExportInvalid,
                        "No events are selected. Select events to export.",
                    ));
                }
                let mut segments = Vec::new();
                let mut total = 0u64;
                for chunk in parsed.chunks(MAX_PAGE) {
                    let list =
                        SqlValue::Text(serde_json::to_string(chunk).map_err(|e| Error::internal(e.to_string()))?);
                    let found: i64 = self.conn.query_row(
                        "SELECT count(*) FROM event WHERE id IN (SELECT value FROM json_each(?1))",
                        [&list],
                        |r| r.get(0),
                    )?;
                    total += u64::try_from(found).unwrap_or(0);
                    segments.push(Segment {
                        from: "event e".to_owned(),
                        where_: vec!["e.id IN (SELECT value FROM json_each(?))".to_owned()],
                        params: vec![list],
                        id_col: "e.id",
                    });
                }
                let missing = parsed.len() as u64 - total;
                if missing > 0 {
                    return Err(Error::new(
                        ErrorCode::EventNotFound,
                        format!(
                            "{missing} of the {} selected events are no longer in this case (it may have been rebuilt). \
                             Search again and select the events anew.",
                            parsed.len()
                        ),
                    ));
                }
                let description = format!("{} selected event{}", total, if total == 1 { "" } else { "s" });
                Ok(Resolved { segments, total, description, query: String::new() })
            }
            ExportScope::Bookmarked => {
                let total: i64 = self.conn.query_row(
                    "SELECT count(*) FROM bookmark b JOIN event e ON e.id = b.event_id",
                    [],
                    |r| r.get(0),
                )?;
                Ok(Resolved {
                    segments: vec![Segment {
                        from: "bookmark b JOIN event e ON e.id = b.event_id".to_owned(),
                        where_: Vec::new(),
                        params: Vec::new(),
                        id_col: "b.event_id",
                    }],
                    total: u64::try_from(total).unwrap_or(0),
                    description: "bookmarked events".to_owned(),
                    query: String::new(),
                })
            }
            ExportScope::Tagged { tag } => {
                let found: Option<(i64, String)> = self
                    .conn
                    .query_row(
                        "SELECT id, name FROM tag WHERE name = ?1 COLLATE NOCASE ORDER BY name = ?1 DESC, id LIMIT 1",
                        [tag.trim()],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let Some((tag_id, name)) = found else {
                    return Err(Error::new(
                        ErrorCode::ExportInvalid,
                        format!(
                            "There is no tag named \"{}\" in this case. Choose one of the case's tags.",
                            tag.trim()
                        ),
                    ));
                };
                let total: i64 = self.conn.query_row(
                    "SELECT count(*) FROM event_tag t JOIN event e ON e.id = t.event_id WHERE t.tag_id = ?1",
                    [tag_id],
                    |r| r.get(0),
                )?;
                Ok(Resolved {
                    segments: vec![Segment {
                        from: "event_tag t JOIN event e ON e.id = t.event_id".to_owned(),
                        where_: vec!["t.tag_id = ?".to_owned()],
                        params: vec![SqlValue::Integer(tag_id)],
                        id_col: "t.event_id",
                    }],
                    total: u64::try_from(total).unwrap_or(0),
                    description: format!("events tagged \"{name}\""),
                    query: String::new(),
                })
            }
        }
    }

    /// Every note of the case (they are few; the report picks those on or around its events).
    pub(crate) fn case_notes(&self) -> Result<Vec<CaseNote>> {
        let mut st = self
            .conn
            .prepare("SELECT id, event_id, start_ms, end_ms, body, created_ms, updated_ms FROM note ORDER BY id")?;
        let notes = st
            .query_map([], |r| {
                Ok(CaseNote {
                    id: r.get(0)?,
                    event_id: r.get(1)?,
                    start_ms: r.get(2)?,
                    end_ms: r.get(3)?,
                    body: r.get(4)?,
                    created_ms: r.get(5)?,
                    updated_ms: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(notes)
    }

    /// Reads one segment page by page and hands each row to `f`; stops when `f` fails.
    fn walk(&self, seg: &Segment, with_tags: bool, f: &mut dyn FnMut(Vec<ExportRow>) -> Result<()>) -> Result<()> {
        let tags = if with_tags {
            "(SELECT group_concat(name, char(31)) FROM (SELECT t2.name FROM event_tag et JOIN tag t2 ON t2.id = et.tag_id \
              WHERE et.event_id = e.id ORDER BY t2.name COLLATE NOCASE))"
        } else {
            "NULL"
        };
        let mut after: Option<i64> = None;
        loop {
            let mut where_ = seg.where_.clone();
            let mut params = seg.params.clone();
            if let Some(a) = after {
                where_.push(format!("{} > ?", seg.id_col));
                params.push(SqlValue::Integer(a));
            }
            let where_ = if where_.is_empty() { String::new() } else { format!("WHERE {}", where_.join(" AND ")) };
            let sql = format!(
                "SELECT {COLS}, e.record_key, e.message_ids, (SELECT sha256 FROM raw_record WHERE id = e.raw_id), e.details, \
                 {tags}, EXISTS (SELECT 1 FROM bookmark bm WHERE bm.event_id = e.id) \
                 FROM {} {where_} ORDER BY {} ASC LIMIT {MAX_PAGE}",
                seg.from, seg.id_col
            );
            let mut st = self.conn.prepare_cached(&sql)?;
            let rows: Vec<ExportRow> = st
                .query_map(params_from_iter(params.iter()), |r| {
                    Ok(ExportRow {
                        id: r.get(0)?,
                        row: row_to_event(r)?,
                        record_key: r.get(NCOLS)?,
                        message_ids: r.get(NCOLS + 1)?,
                        raw_sha256: r.get::<_, Option<Vec<u8>>>(NCOLS + 2)?.unwrap_or_default(),
                        details: r.get(NCOLS + 3)?,
                        tags: r.get(NCOLS + 4)?,
                        bookmarked: r.get(NCOLS + 5)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let full = rows.len() == MAX_PAGE;
            after = rows.last().map(|r| r.id);
            f(rows)?;
            if !full {
                return Ok(());
            }
        }
    }

    /// Writes the events of `spec.scope` to `out` in `spec.format`, and the manifest beside it.
    /// `progress` hears about every few thousand rows; `control.cancel` stops the export (the partial
    /// file is removed, `export.cancelled`). Record the result in the case log with
    /// [`CaseWriter::record_export`].
    pub fn export_events(
        &self,
        spec: &ExportSpec,
        out: &Path,
        clock: &dyn Clock,
        control: ExportControl<'_>,
        progress: &mut dyn FnMut(&ExportProgress),
    ) -> Result<ExportResult> {
        let started = Instant::now();
        if out.file_name().is_none() || same_file(out, self.path()) {
            return Err(Error::new(
                ErrorCode::ExportInvalid,
                format!("{} cannot be an export file. Choose another name.", out.display()),
            ));
        }
        if spec.xlsx_sheet_rows < 2 || spec.xlsx_sheet_rows > XLSX_MAX_ROWS {
            return Err(Error::internal(format!("xlsx_sheet_rows {} is out of range", spec.xlsx_sheet_rows)));
        }
        // One read transaction: count, rows and notes come from one snapshot.
        let snapshot = self.conn.unchecked_transaction()?;
        let resolved = self.resolve_scope(&spec.scope)?;
        let ctx = Context {
            spec,
            case_name: self.meta("name")?.unwrap_or_default(),
            case_path: self.path().display().to_string(),
            case_id: self.meta("case_id")?.unwrap_or_default(),
            scope_description: resolved.description.clone(),
            query: resolved.query.clone(),
            created_ms: clock.now_ms(),
            total: resolved.total,
            ip_data: self.ip_data_sets()?,
        };
        let partial = with_suffix(out, ".partial");
        let result = self.write_export(spec, &ctx, &resolved, &partial, control, started, progress);
        drop(snapshot);
        let (rows, raw_digest, finished) = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        std::fs::rename(&partial, out).map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            export_err(out, &e)
        })?;
        let manifest = ExportManifest {
            tool: "Tidemark".to_owned(),
            tool_version: TOOL_VERSION.to_owned(),
            created_at: iso_ms(ctx.created_ms),
            case_name: ctx.case_name,
            case_path: ctx.case_path,
            case_id: ctx.case_id,
            scope: spec.scope.clone(),
            scope_description: ctx.scope_description,
            query: ctx.query,
            format: spec.format,
            profile: spec.profile.clone(),
            columns: spec.columns.iter().map(|c| c.name().to_owned()).collect(),
            time_zone: spec.zone.name().to_owned(),
            rows,
            raw_records_sha256: raw_digest,
            truncated_cells: finished.truncated_cells,
            ip_data: ctx.ip_data.clone(),
            files: vec![ExportedFile {
                path: out.display().to_string(),
                size: finished.size,
                sha256: finished.sha256,
                sheets: finished.sheets,
            }],
        };
        let mpath = manifest_path(out);
        let body = serde_json::to_string_pretty(&manifest).map_err(|e| Error::internal(e.to_string()))? + "\n";
        std::fs::write(&mpath, &body).map_err(|e| export_err(&mpath, &e))?;
        Ok(ExportResult {
            manifest,
            manifest_path: mpath.display().to_string(),
            manifest_sha256: hex::encode(Sha256::digest(body.as_bytes())),
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn write_export(
        &self,
        spec: &ExportSpec,
        ctx: &Context<'_>,
        resolved: &Resolved,
        partial: &Path,
        control: ExportControl<'_>,
        started: Instant,
        progress: &mut dyn FnMut(&ExportProgress),
    ) -> Result<(u64, String, Finished)> {
        let mut sink: Box<dyn Sink> = match spec.format {
            ExportFormat::Csv => Box::new(csv::CsvSink::new(partial, ctx)?),
            ExportFormat::Jsonl => Box::new(jsonl::JsonlSink::new(partial, ctx)?),
            ExportFormat::Xlsx => Box::new(xlsx::XlsxSink::new(partial, ctx)?),
            ExportFormat::Html => Box::new(html::HtmlSink::new(partial, ctx, self.case_notes()?)?),
        };
        let mut digest = Sha256::new();
        let mut rows = 0u64;
        let mut reported = 0u64;
        let report = |rows: u64, finishing: bool, progress: &mut dyn FnMut(&ExportProgress)| {
            let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            progress(&ExportProgress {
                rows,
                total: ctx.total.max(rows),
                elapsed_ms,
                rows_per_s: (rows * 1000).checked_div(elapsed_ms).unwrap_or(0),
                finishing,
            });
        };
        report(0, false, progress);
        let with_tags = Column::needs_tags(&spec.columns);
        for seg in &resolved.segments {
            self.walk(seg, with_tags, &mut |page| {
                if control.cancel.load(Ordering::Relaxed) {
                    return Err(cancelled());
                }
                for row in &page {
                    digest.update(&row.raw_sha256);
                    sink.row(row)?;
                    rows += 1;
                }
                if rows - reported >= 10_000 {
                    reported = rows;
                    report(rows, false, progress);
                }
                Ok(())
            })?;
        }
        if control.cancel.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        report(rows, true, progress);
        let raw_digest = hex::encode(digest.finalize());
        let finished = sink.finish(rows, &raw_digest)?;
        Ok((rows, raw_digest, finished))
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl CaseWriter {
    /// Records an export in the case log, with the manifest's SHA-256 as the entry's hash.
    pub fn record_export(&mut self, result: &ExportResult) -> Result<()> {
        let m = &result.manifest;
        let sha = hex::decode(&result.manifest_sha256).unwrap_or_default();
        self.log(
            "export",
            &format!(
                "Exported {} events ({}) as {} to {}",
                m.rows,
                m.scope_description,
                m.format.as_str(),
                m.files.first().map(|f| f.path.as_str()).unwrap_or("")
            ),
            &serde_json::json!({
                "scope": m.scope,
                "query": m.query,
                "format": m.format,
                "profile": m.profile,
                "columns": m.columns,
                "time_zone": m.time_zone,
                "rows": m.rows,
                "raw_records_sha256": m.raw_records_sha256,
                "files": m.files,
                "manifest": result.manifest_path,
            }),
            Some(&sha),
        )
    }
}
