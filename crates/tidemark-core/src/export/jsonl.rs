//! JSONL: one JSON object per event, keys in the profile's order. Unlike the cell formats it keeps
//! structure: message ids and tags are arrays, details an object, numbers numbers, ids strings (they
//! exceed 2^53). Text is not neutralised: JSON is not a spreadsheet, and the exact text is evidence.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use super::columns::{Column, ExportRow, Value};
use super::{create, export_err, Context, DisplayZone, Finished, HashingWriter, Sink};
use crate::error::{Error, Result};

pub(crate) struct JsonlSink {
    w: HashingWriter<BufWriter<File>>,
    path: PathBuf,
    columns: Vec<Column>,
    zone: DisplayZone,
    line: Vec<u8>,
}

impl JsonlSink {
    pub(crate) fn new(path: &Path, ctx: &Context<'_>) -> Result<Self> {
        Ok(Self {
            w: create(path)?,
            path: path.to_path_buf(),
            columns: ctx.spec.columns.clone(),
            zone: ctx.spec.zone.clone(),
            line: Vec::with_capacity(4096),
        })
    }

    fn json(&self, row: &ExportRow, c: Column) -> Json {
        match c {
            Column::MessageIds => row
                .message_ids
                .as_deref()
                .map(|m| m.split(' ').filter(|s| !s.is_empty()).map(|s| Json::String(s.to_owned())).collect())
                .unwrap_or(Json::Array(Vec::new())),
            Column::Tags => row
                .tags
                .as_deref()
                .map(|t| t.split('\u{1f}').filter(|s| !s.is_empty()).map(|s| Json::String(s.to_owned())).collect())
                .unwrap_or(Json::Array(Vec::new())),
            Column::Details => serde_json::from_str(&row.details).unwrap_or_else(|_| Json::String(row.details.clone())),
            Column::Bookmarked => Json::Bool(row.bookmarked),
            _ => match row.value(c) {
                Value::Empty => Json::Null,
                Value::Int(n) => Json::from(n),
                Value::Time { ms, utc: true } => Json::String(crate::time::iso_ms(ms)),
                Value::Time { ms, utc: false } => Json::String(self.zone.iso(ms)),
                Value::Text(t) => Json::String(t.into_owned()),
            },
        }
    }
}

impl Sink for JsonlSink {
    fn row(&mut self, row: &ExportRow) -> Result<()> {
        let mut o = Map::with_capacity(self.columns.len());
        for c in &self.columns {
            o.insert(c.name().to_owned(), self.json(row, *c));
        }
        self.line.clear();
        serde_json::to_writer(&mut self.line, &o).map_err(|e| Error::internal(e.to_string()))?;
        self.line.push(b'\n');
        self.w.write_all(&self.line).map_err(|e| export_err(&self.path, &e))
    }

    fn finish(self: Box<Self>, _rows: u64, _raw_digest: &str) -> Result<Finished> {
        let (size, sha256) = self.w.finish(&self.path)?;
        Ok(Finished { size, sha256, ..Finished::default() })
    }
}
