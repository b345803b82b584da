//! Export sinks: CSV and JSONL of the events a query selects, with a manifest.
//!
//! Exports are evidence too: each one gets a manifest beside it (case, query, tool version, row count,
//! SHA-256 of every file) and an entry in the case log. Cells that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`, tab or CR) are neutralised with a leading `'`, because subjects,
//! rule names and user agents are written by attackers. Times are ISO 8601 UTC; numbers are plain digits.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::case::{CaseReader, CaseWriter, TOOL_VERSION};
use crate::clock::Clock;
use crate::error::{Error, ErrorCode, Result};
use crate::model::EventRow;
use crate::query::Query;
use crate::search::{plan, row_to_event, COLS, MAX_PAGE};
use crate::time::iso_ms;

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// RFC 4180 CSV, UTF-8 with BOM (so Excel reads it as UTF-8), CRLF.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl ExportFormat {
    /// Parses `csv` or `jsonl`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "jsonl" | "ndjson" => Ok(Self::Jsonl),
            _ => {
                Err(Error::new(ErrorCode::ExportFailed, format!("\"{s}\" is not an export format. Use csv or jsonl.")))
            }
        }
    }
}

/// Columns of a CSV export, in order.
pub const CSV_COLUMNS: &[&str] = &[
    "time_utc",
    "action",
    "operation",
    "actor",
    "mailbox",
    "client_ip",
    "client_port",
    "client_app",
    "user_agent",
    "app_id",
    "session_id",
    "result",
    "subject",
    "folders",
    "message_ids",
    "item_count",
    "object",
    "workload",
    "record_type",
    "source",
    "record_key",
    "event_id",
    "raw_sha256",
];

/// One exported file, as listed in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedFile {
    /// Path of the file.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// The manifest written beside an export.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Always "Tidemark".
    pub tool: &'static str,
    /// Tidemark version.
    pub tool_version: &'static str,
    /// When the export was made.
    pub created_at: String,
    /// Case name.
    pub case_name: String,
    /// Case file path.
    pub case_path: String,
    /// Case id.
    pub case_id: String,
    /// The query as typed.
    pub query: String,
    /// Export format.
    pub format: ExportFormat,
    /// Time zone of times in the export.
    pub time_zone: &'static str,
    /// Rows written.
    pub rows: u64,
    /// Files written.
    pub files: Vec<ExportedFile>,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportResult {
    /// The manifest (also written to `manifest_path`).
    pub manifest: Manifest,
    /// Where the manifest is.
    pub manifest_path: String,
    /// SHA-256 of the manifest file.
    pub manifest_sha256: String,
}

/// Neutralises a cell that a spreadsheet would evaluate as a formula.
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Quotes a CSV field per RFC 4180 when needed.
fn csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

struct ExportRow {
    row: EventRow,
    record_key: String,
    message_ids: Option<String>,
    raw_sha256: Vec<u8>,
    details: String,
}

fn export_err(path: &Path, e: &std::io::Error) -> Error {
    Error::io("write", path, e).with_code(ErrorCode::ExportFailed)
}

struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
    size: u64,
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

/// The manifest's path for an export file: `events.csv` → `events.csv.manifest.json`.
pub fn manifest_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".manifest.json");
    out.with_file_name(name)
}

impl CaseReader {
    fn for_each_export_row(&self, query: &Query, f: &mut dyn FnMut(ExportRow) -> Result<()>) -> Result<u64> {
        let mut after: Option<i64> = None;
        let mut n = 0u64;
        loop {
            let mut p = plan(query);
            if let Some(a) = after {
                p.where_.push(format!("{} > ?", p.id_col));
                p.params.push(SqlValue::Integer(a));
            }
            let where_ = if p.where_.is_empty() { String::new() } else { format!("WHERE {}", p.where_.join(" AND ")) };
            let sql = format!(
                "SELECT {COLS}, e.record_key, e.message_ids, (SELECT sha256 FROM raw_record WHERE id = e.raw_id), e.details \
                 FROM {} {where_} ORDER BY {} ASC LIMIT {MAX_PAGE}",
                p.sql_from, p.id_col
            );
            let mut st = self.conn.prepare_cached(&sql)?;
            let rows: Vec<ExportRow> = st
                .query_map(params_from_iter(p.params.iter()), |r| {
                    Ok(ExportRow {
                        row: row_to_event(r)?,
                        record_key: r.get(20)?,
                        message_ids: r.get(21)?,
                        raw_sha256: r.get::<_, Option<Vec<u8>>>(22)?.unwrap_or_default(),
                        details: r.get(23)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let full = rows.len() == MAX_PAGE;
            for row in rows {
                after = row.row.id.parse().ok();
                f(row)?;
                n += 1;
            }
            if !full {
                return Ok(n);
            }
        }
    }

    /// Writes the events matching `query` to `out` and a manifest beside it.
    /// Record the result in the case log with [`CaseWriter::record_export`].
    pub fn export(
        &self,
        query_text: &str,
        query: &Query,
        format: ExportFormat,
        out: &Path,
        clock: &dyn Clock,
    ) -> Result<ExportResult> {
        let file = File::create(out).map_err(|e| export_err(out, &e))?;
        let mut w = HashingWriter { inner: BufWriter::with_capacity(1 << 20, file), hash: Sha256::new(), size: 0 };
        let mut line = String::with_capacity(4096);
        if format == ExportFormat::Csv {
            w.write_all(b"\xEF\xBB\xBF").map_err(|e| export_err(out, &e))?;
            w.write_all(CSV_COLUMNS.join(",").as_bytes())
                .and_then(|()| w.write_all(b"\r\n"))
                .map_err(|e| export_err(out, &e))?;
        }
        let rows = self.for_each_export_row(query, &mut |x| {
            line.clear();
            match format {
                ExportFormat::Csv => {
                    let r = &x.row;
                    let port = r.client_port.map(|p| p.to_string());
                    let count = r.item_count.map(|c| c.to_string());
                    let sha = hex::encode(&x.raw_sha256);
                    let cells: [Option<&str>; 23] = [
                        Some(&r.time),
                        Some(&r.action),
                        Some(&r.operation),
                        r.actor.as_deref(),
                        r.mailbox.as_deref(),
                        r.client_ip.as_deref(),
                        port.as_deref(),
                        r.client_app.as_deref(),
                        r.user_agent.as_deref(),
                        r.app_id.as_deref(),
                        r.session_id.as_deref(),
                        r.result.as_deref(),
                        r.subject.as_deref(),
                        r.folders.as_deref(),
                        x.message_ids.as_deref(),
                        count.as_deref(),
                        r.object.as_deref(),
                        r.workload.as_deref(),
                        r.record_type.as_deref(),
                        Some(&r.source),
                        Some(&x.record_key),
                        Some(&r.id),
                        Some(&sha),
                    ];
                    for (i, c) in cells.iter().enumerate() {
                        if i > 0 {
                            line.push(',');
                        }
                        csv_field(&mut line, &neutralize(c.unwrap_or("")));
                    }
                    line.push_str("\r\n");
                }
                ExportFormat::Jsonl => {
                    let mut v = serde_json::to_value(&x.row).map_err(|e| Error::internal(e.to_string()))?;
                    if let Some(o) = v.as_object_mut() {
                        o.insert("record_key".into(), x.record_key.into());
                        let ids: Vec<&str> =
                            x.message_ids.as_deref().map(|m| m.split(' ').collect()).unwrap_or_default();
                        o.insert("message_ids".into(), ids.into());
                        o.insert("details".into(), serde_json::from_str(&x.details).unwrap_or(serde_json::Value::Null));
                        o.insert("raw_sha256".into(), hex::encode(&x.raw_sha256).into());
                    }
                    line.push_str(&v.to_string());
                    line.push('\n');
                }
            }
            w.write_all(line.as_bytes()).map_err(|e| export_err(out, &e))
        })?;
        w.flush().map_err(|e| export_err(out, &e))?;
        let file =
            ExportedFile { path: out.display().to_string(), size: w.size, sha256: hex::encode(w.hash.finalize()) };
        let manifest = Manifest {
            tool: "Tidemark",
            tool_version: TOOL_VERSION,
            created_at: iso_ms(clock.now_ms()),
            case_name: self.meta("name")?.unwrap_or_default(),
            case_path: self.path().display().to_string(),
            case_id: self.meta("case_id")?.unwrap_or_default(),
            query: query_text.to_owned(),
            format,
            time_zone: "UTC",
            rows,
            files: vec![file],
        };
        let mpath = manifest_path(out);
        let body = serde_json::to_string_pretty(&manifest).map_err(|e| Error::internal(e.to_string()))? + "\n";
        std::fs::write(&mpath, &body).map_err(|e| export_err(&mpath, &e))?;
        Ok(ExportResult {
            manifest,
            manifest_path: mpath.display().to_string(),
            manifest_sha256: hex::encode(Sha256::digest(body.as_bytes())),
        })
    }
}

impl CaseWriter {
    /// Records an export in the case log.
    pub fn record_export(&mut self, result: &ExportResult) -> Result<()> {
        let m = &result.manifest;
        let sha = hex::decode(&result.manifest_sha256).unwrap_or_default();
        self.log(
            "export",
            &format!("Exported {} events as {} to {}", m.rows, serde_json::to_value(m.format).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(), m.files.first().map(|f| f.path.as_str()).unwrap_or("")),
            &serde_json::json!({ "query": m.query, "rows": m.rows, "files": m.files, "manifest": result.manifest_path }),
            Some(&sha),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralizes_formulas_and_quotes_fields() {
        assert_eq!(neutralize("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for c in ["+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralize(c).starts_with('\''), "{c:?}");
        }
        assert_eq!(neutralize("plain"), "plain");
        let mut s = String::new();
        csv_field(&mut s, "a,\"b\"\r\nc");
        assert_eq!(s, "\"a,\"\"b\"\"\r\nc\"");
    }
}
