//! XLSX: an Excel workbook an investigator can sort and filter.
//!
//! One column per field with a frozen, filterable header; times are real Excel datetimes (date serial
//! numbers with a visible `yyyy-mm-dd hh:mm:ss.000` format) in the export's zone, named in the header;
//! counts and ports are numbers; event ids stay text (they exceed Excel's 15 digits). Every text cell
//! is neutralised like CSV, although cells are written as strings and never as formulas: the text may
//! be copied into another sheet or saved as CSV later.
//!
//! Excel holds 1,048,576 rows per sheet, header included, so a larger export is split into sheets
//! `Events`, `Events 2`, … of one workbook (one file keeps one manifest entry and one destination),
//! each with its own header. A last sheet, `About this export`, says what the workbook holds. Cells are
//! cut at Excel's 32,767-character limit (counted in the manifest; the JSONL export keeps the text
//! whole). Worksheets use `rust_xlsxwriter`'s constant-memory mode: each row goes to a temporary file
//! in the destination's folder as soon as the next one starts, and the workbook is zipped at the end.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use super::columns::{neutralize, Column, ExportRow, Value};
use super::{create, Context, Finished, Sink};
use crate::error::{Error, ErrorCode, Result};
use crate::model::ExportSheet;
use crate::time::iso_ms;

/// Excel's limit on the characters in one cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Largest integer Excel (a double) holds exactly.
const MAX_EXACT: i64 = 1 << 53;

fn xlsx_err(path: &Path, e: &XlsxError) -> Error {
    Error::new(
        ErrorCode::ExportFailed,
        format!("The workbook {} could not be written. Check the disk and the folder, then try again.", path.display()),
    )
    .with_detail(e.to_string())
}

/// Cuts text to Excel's cell limit, saying so in the cell.
fn fit(text: &str) -> Option<String> {
    if text.len() <= MAX_CELL_CHARS {
        return None; // bytes ≥ chars: short enough
    }
    let chars = text.chars().count();
    if chars <= MAX_CELL_CHARS {
        return None;
    }
    let kept: String = text.chars().take(32_000).collect();
    Some(format!("{kept}… [cut at Excel's cell limit: {chars} characters in all; the JSONL export has the whole text]"))
}

fn width(c: Column) -> f64 {
    match c {
        Column::Time | Column::TimeUtc => 24.0,
        Column::Subject | Column::UserAgent | Column::Folders | Column::Object => 45.0,
        Column::Details | Column::MessageIds => 60.0,
        Column::RawSha256 => 66.0,
        Column::EventId | Column::RecordKey | Column::AppId | Column::SessionId | Column::Actor | Column::Mailbox => {
            30.0
        }
        Column::ClientPort | Column::ItemCount | Column::Bookmarked => 10.0,
        _ => 16.0,
    }
}

pub(crate) struct XlsxSink {
    path: PathBuf,
    workbook: Workbook,
    sheet: Worksheet,
    sheet_rows: u32,
    limit: u32,
    sheets: Vec<ExportSheet>,
    columns: Vec<Column>,
    headers: Vec<String>,
    zone: super::DisplayZone,
    utc: super::DisplayZone,
    header: Format,
    datetime: Format,
    integer: Format,
    truncated: u64,
    about: Vec<(String, String)>,
}

impl XlsxSink {
    pub(crate) fn new(path: &Path, ctx: &Context<'_>) -> Result<Self> {
        let e = |x: XlsxError| xlsx_err(path, &x);
        let mut workbook = Workbook::new();
        // Temporary row files beside the destination: same disk, and not a RAM-backed /tmp.
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        workbook.set_tempdir(dir).map_err(e)?;
        if ctx.total > 200_000 {
            workbook.use_zip_large_file(true);
        }
        let created = ExcelDateTime::from_timestamp(ctx.created_ms.div_euclid(1000)).map_err(e)?;
        workbook.set_properties(
            &DocProperties::new()
                .set_title(format!("Tidemark export: {}", ctx.case_name))
                .set_author(format!("Tidemark {}", crate::TOOL_VERSION))
                .set_comment(format!("{} from case {}", ctx.scope_description, ctx.case_name))
                .set_creation_datetime(&created),
        );
        let zone = ctx.spec.zone.clone();
        let headers = ctx
            .spec
            .columns
            .iter()
            .map(|c| match c {
                Column::Time => format!("Time ({})", zone.name()),
                c => c.label().to_owned(),
            })
            .collect();
        let about = vec![
            ("Case".to_owned(), ctx.case_name.clone()),
            ("Case file".to_owned(), ctx.case_path.clone()),
            ("Case id".to_owned(), ctx.case_id.clone()),
            ("Events".to_owned(), ctx.scope_description.clone()),
            ("Query".to_owned(), ctx.query.clone()),
            (
                "Columns".to_owned(),
                format!(
                    "{} ({})",
                    ctx.spec.profile,
                    ctx.spec.columns.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
                ),
            ),
            ("Time zone".to_owned(), format!("Times are Excel dates in {}", zone.name())),
            ("Generated".to_owned(), iso_ms(ctx.created_ms)),
            ("Tool".to_owned(), format!("Tidemark {}", crate::TOOL_VERSION)),
        ];
        let mut sink = Self {
            path: path.to_path_buf(),
            sheet: Worksheet::new(),
            workbook,
            sheet_rows: 0,
            limit: ctx.spec.xlsx_sheet_rows,
            sheets: Vec::new(),
            columns: ctx.spec.columns.clone(),
            headers,
            zone,
            utc: super::DisplayZone::utc(),
            header: Format::new().set_bold().set_background_color("#D9E2F3").set_border_bottom(FormatBorder::Thin),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss.000"),
            integer: Format::new().set_num_format("0"),
            truncated: 0,
            about,
        };
        sink.sheet = sink.new_sheet()?;
        Ok(sink)
    }

    fn e(&self, x: &XlsxError) -> Error {
        xlsx_err(&self.path, x)
    }

    /// Starts the next `Events` sheet with its header.
    fn new_sheet(&mut self) -> Result<Worksheet> {
        let mut ws = self.workbook.new_worksheet_with_constant_memory().map_err(|x| self.e(&x))?;
        let name = match self.sheets.len() {
            0 => "Events".to_owned(),
            n => format!("Events {}", n + 1),
        };
        ws.set_name(&name).map_err(|x| self.e(&x))?;
        for (i, c) in self.columns.iter().enumerate() {
            let col = u16::try_from(i).map_err(|_| Error::internal("too many columns"))?;
            ws.set_column_width(col, width(*c)).map_err(|x| self.e(&x))?;
            ws.write_string_with_format(0, col, &self.headers[i], &self.header).map_err(|x| self.e(&x))?;
        }
        ws.set_freeze_panes(1, 0).map_err(|x| self.e(&x))?;
        self.sheets.push(ExportSheet { name, rows: 0 });
        self.sheet_rows = 1;
        Ok(ws)
    }

    /// Closes the current sheet: filters over its rows, then hands it to the workbook.
    fn close_sheet(&mut self) -> Result<()> {
        let last_col = u16::try_from(self.columns.len().saturating_sub(1)).unwrap_or(0);
        let mut ws = std::mem::replace(&mut self.sheet, Worksheet::new());
        ws.autofilter(0, 0, self.sheet_rows.saturating_sub(1), last_col).map_err(|x| self.e(&x))?;
        self.workbook.push_worksheet(ws);
        Ok(())
    }

    fn text(&mut self, row: u32, col: u16, t: &str) -> Result<()> {
        let t = neutralize(t);
        let r = match fit(&t) {
            Some(cut) => {
                self.truncated += 1;
                self.sheet.write_string(row, col, cut)
            }
            None => self.sheet.write_string(row, col, t.as_ref()),
        };
        r.map(|_| ()).map_err(|x| xlsx_err(&self.path, &x))
    }
}

impl Sink for XlsxSink {
    fn row(&mut self, row: &ExportRow) -> Result<()> {
        if self.sheet_rows >= self.limit {
            self.close_sheet()?;
            self.sheet = self.new_sheet()?;
        }
        let r = self.sheet_rows;
        for i in 0..self.columns.len() {
            let c = self.columns[i];
            let col = i as u16;
            let res = match row.value(c) {
                Value::Empty => Ok(()),
                Value::Int(n) if n.abs() < MAX_EXACT => self
                    .sheet
                    .write_number_with_format(r, col, n as f64, &self.integer)
                    .map(|_| ())
                    .map_err(|x| self.e(&x)),
                Value::Int(n) => self.text(r, col, &n.to_string()),
                Value::Time { ms, utc } => {
                    let serial = if utc { self.utc.excel_serial(ms) } else { self.zone.excel_serial(ms) };
                    self.sheet
                        .write_number_with_format(r, col, serial, &self.datetime)
                        .map(|_| ())
                        .map_err(|x| self.e(&x))
                }
                Value::Text(t) => self.text(r, col, &t),
            };
            res?;
        }
        self.sheet_rows += 1;
        if let Some(s) = self.sheets.last_mut() {
            s.rows += 1;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, rows: u64, raw_digest: &str) -> Result<Finished> {
        self.close_sheet()?;
        let mut about = Worksheet::new();
        about.set_name("About this export").map_err(|x| self.e(&x))?;
        about.set_column_width(0, 22).map_err(|x| self.e(&x))?;
        about.set_column_width(1, 100).map_err(|x| self.e(&x))?;
        let mut lines = std::mem::take(&mut self.about);
        lines.push(("Rows".to_owned(), rows.to_string()));
        lines.push((
            "Sheets".to_owned(),
            self.sheets.iter().map(|s| format!("{} ({} rows)", s.name, s.rows)).collect::<Vec<_>>().join(", "),
        ));
        lines.push(("Raw records SHA-256".to_owned(), raw_digest.to_owned()));
        if self.truncated > 0 {
            lines.push((
                "Cut cells".to_owned(),
                format!("{} cells were cut at Excel's 32,767-character limit", self.truncated),
            ));
        }
        for (i, (k, v)) in lines.iter().enumerate() {
            let r = i as u32;
            about.write_string_with_format(r, 0, k, &self.header).map_err(|x| self.e(&x))?;
            about.write_string(r, 1, neutralize(v).as_ref()).map_err(|x| self.e(&x))?;
        }
        self.workbook.push_worksheet(about);
        let mut w = create(&self.path)?;
        self.workbook.save_to_writer(&mut w).map_err(|x| self.e(&x))?;
        let (size, sha256) = w.finish(&self.path)?;
        Ok(Finished { size, sha256, sheets: std::mem::take(&mut self.sheets), truncated_cells: self.truncated })
    }
}
