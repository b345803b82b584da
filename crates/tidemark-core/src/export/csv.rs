//! CSV: RFC 4180, UTF-8 with a BOM (so Excel reads it as UTF-8), CRLF, header of column names; times in
//! ISO 8601 with the zone's offset; every text cell neutralised against formula injection.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::columns::{neutralize, Column, ExportRow, Value};
use super::{create, export_err, Context, Finished, HashingWriter, Sink};
use crate::error::Result;

/// Quotes a CSV field per RFC 4180 when needed.
pub(crate) fn csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

pub(crate) struct CsvSink {
    w: HashingWriter<BufWriter<File>>,
    path: PathBuf,
    columns: Vec<Column>,
    zone: super::DisplayZone,
    line: String,
}

impl CsvSink {
    pub(crate) fn new(path: &Path, ctx: &Context<'_>) -> Result<Self> {
        let mut w = create(path)?;
        let header: Vec<&str> = ctx.spec.columns.iter().map(|c| c.name()).collect();
        w.write_all(b"\xEF\xBB\xBF")
            .and_then(|()| w.write_all(header.join(",").as_bytes()))
            .and_then(|()| w.write_all(b"\r\n"))
            .map_err(|e| export_err(path, &e))?;
        Ok(Self {
            w,
            path: path.to_path_buf(),
            columns: ctx.spec.columns.clone(),
            zone: ctx.spec.zone.clone(),
            line: String::with_capacity(4096),
        })
    }
}

impl Sink for CsvSink {
    fn row(&mut self, row: &ExportRow) -> Result<()> {
        self.line.clear();
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            match row.value(*c) {
                Value::Empty => {}
                Value::Int(n) => self.line.push_str(&n.to_string()),
                Value::Time { ms, utc } => {
                    let t = if utc { crate::time::iso_ms(ms) } else { self.zone.iso(ms) };
                    self.line.push_str(&t);
                }
                Value::Text(t) => csv_field(&mut self.line, &neutralize(&t)),
            }
        }
        self.line.push_str("\r\n");
        self.w.write_all(self.line.as_bytes()).map_err(|e| export_err(&self.path, &e))
    }

    fn finish(self: Box<Self>, _rows: u64, _raw_digest: &str) -> Result<Finished> {
        let (size, sha256) = self.w.finish(&self.path)?;
        Ok(Finished { size, sha256, ..Finished::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_fields_that_need_it() {
        let mut s = String::new();
        csv_field(&mut s, "a,\"b\"\r\nc");
        assert_eq!(s, "\"a,\"\"b\"\"\r\nc\"");
    }
}
