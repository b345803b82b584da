//! The HTML report: one self-contained file an investigator can attach to a report or open anywhere.
//!
//! Subjects, rule names and user agents are written by attackers (`<script>`, `<img onerror>`), so the
//! report is built to be inert: every piece of case text is escaped as text (`& < > " '`, control
//! characters shown as `\u{…}`), there is no script and no external resource, and a strict
//! Content-Security-Policy meta tag (`default-src 'none'`, the one inline style block allowed by its
//! hash) stops anything that slipped through from running or loading. The report says what it is (case,
//! scope, query, time zone, tool version, generation time), lists the events with each raw record's
//! SHA-256, then the case's notes on those events and on time ranges that contain them, and a SHA-256
//! over all listed raw-record hashes. Rows are streamed; notes (few) are held in memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::columns::{Column, ExportRow, Value};
use super::{create, export_err, CaseNote, Context, DisplayZone, Finished, HashingWriter, Sink};
use crate::error::Result;
use crate::time::iso_ms;

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#5b6570;--line:#d0d7de;--head:#eef2f6;--note:#fff8e1}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9aa5b1;--line:#30363d;--head:#161b22;--note:#2b2611}}
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg);margin:24px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
thead th{background:var(--head);position:sticky;top:0}
td.n{text-align:right;color:var(--muted)}td.t{white-space:nowrap;font-variant-numeric:tabular-nums}
td.h,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11.5px}
section.note{background:var(--note);border:1px solid var(--line);border-radius:6px;padding:8px 12px;margin:8px 0}
section.note h3{font-size:14px;margin:0 0 4px}.body{white-space:pre-wrap;margin:4px 0}
.muted{color:var(--muted)}footer{margin-top:32px;color:var(--muted);font-size:12px}
@media print{thead th{position:static}body{margin:0}}
";

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(ch),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
}

fn esc(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 8);
    escape(&mut s, text);
    s
}

/// The Content-Security-Policy of the report: nothing may load or run; only the inline style block.
pub(crate) fn csp() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; script-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; font-src 'none'; \
         connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"
    )
}

pub(crate) struct HtmlSink {
    w: HashingWriter<BufWriter<File>>,
    path: PathBuf,
    columns: Vec<Column>,
    zone: DisplayZone,
    notes: Vec<CaseNote>,
    /// Event id → indexes into `notes` of the notes on that event.
    by_event: HashMap<i64, Vec<usize>>,
    /// Indexes of time-range notes, by start.
    ranges: Vec<usize>,
    /// Per note: the time of the first listed event it concerns, once one is listed.
    listed: Vec<Option<i64>>,
    n: u64,
    buf: String,
}

impl HtmlSink {
    pub(crate) fn new(path: &Path, ctx: &Context<'_>, notes: Vec<CaseNote>) -> Result<Self> {
        let mut by_event: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut ranges = Vec::new();
        for (i, n) in notes.iter().enumerate() {
            match (n.event_id, n.start_ms, n.end_ms) {
                (Some(e), _, _) => by_event.entry(e).or_default().push(i),
                (None, Some(_), Some(_)) => ranges.push(i),
                _ => {}
            }
        }
        ranges.sort_by_key(|&i| (notes[i].start_ms, notes[i].id));
        let zone = ctx.spec.zone.clone();
        let mut h = String::with_capacity(8192);
        h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.push_str(&format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n", csp()));
        h.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
        h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        h.push_str(&format!("<meta name=\"generator\" content=\"Tidemark {}\">\n", esc(crate::TOOL_VERSION)));
        h.push_str(&format!("<title>Tidemark report: {}</title>\n", esc(&ctx.case_name)));
        h.push_str("<style>");
        h.push_str(STYLE);
        h.push_str("</style>\n</head>\n<body>\n<header>\n");
        h.push_str(&format!("<h1>{}</h1>\n<dl class=\"meta\">\n", esc(&ctx.case_name)));
        let mut meta = |k: &str, v: String| h.push_str(&format!("<dt>{k}</dt><dd>{v}</dd>\n"));
        meta("Events", esc(&ctx.scope_description));
        if !ctx.query.trim().is_empty() {
            meta("Query", format!("<code>{}</code>", esc(&ctx.query)));
        }
        meta("Rows", ctx.total.to_string());
        meta("Time zone", format!("All times are in {}.", esc(zone.name())));
        meta("Generated", format!("{} ({})", esc(&zone.human(ctx.created_ms)), esc(&iso_ms(ctx.created_ms))));
        meta("Tool", format!("Tidemark {}", esc(crate::TOOL_VERSION)));
        meta(
            "Case file",
            format!("{} <span class=\"muted\">(case id {})</span>", esc(&ctx.case_path), esc(&ctx.case_id)),
        );
        meta("Columns", format!("{} profile", esc(&ctx.spec.profile)));
        for d in &ctx.ip_data {
            meta("IP data", format!("{} of {} ({}): {}", esc(&d.name), esc(&d.date), esc(&d.licence), esc(&d.credit)));
        }
        h.push_str("</dl>\n</header>\n<main>\n<h2 id=\"events\">Events</h2>\n<table>\n<thead><tr><th>#</th>");
        for c in &ctx.spec.columns {
            let label = match c {
                Column::Time => format!("Time ({})", zone.name()),
                c => c.label().to_owned(),
            };
            h.push_str(&format!("<th>{}</th>", esc(&label)));
        }
        h.push_str("<th>Notes</th></tr></thead>\n<tbody>\n");
        let mut w = create(path)?;
        w.write_all(h.as_bytes()).map_err(|e| export_err(path, &e))?;
        let listed = vec![None; notes.len()];
        Ok(Self {
            w,
            path: path.to_path_buf(),
            columns: ctx.spec.columns.clone(),
            zone,
            notes,
            by_event,
            ranges,
            listed,
            n: 0,
            buf: String::with_capacity(4096),
        })
    }

    fn note_heading(&self, note: &CaseNote) -> String {
        match (note.event_id, note.start_ms, note.end_ms) {
            (Some(e), _, _) => {
                let at = self.listed[self.notes.iter().position(|n| n.id == note.id).unwrap_or(0)];
                format!(
                    "Note {} on event <a href=\"#e{e}\">{e}</a>{}",
                    note.id,
                    at.map(|ms| format!(" at {}", esc(&self.zone.human(ms)))).unwrap_or_default()
                )
            }
            (None, Some(a), Some(b)) => {
                format!("Note {} on {} to {}", note.id, esc(&self.zone.human(a)), esc(&self.zone.human(b)))
            }
            _ => format!("Note {}", note.id),
        }
    }
}

/// A CSS class from an action name (letters, digits and dashes only).
fn action_class(action: &str) -> String {
    action.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(32).collect()
}

impl Sink for HtmlSink {
    fn row(&mut self, row: &ExportRow) -> Result<()> {
        self.n += 1;
        let b = &mut self.buf;
        b.clear();
        b.push_str(&format!(
            "<tr id=\"e{}\" class=\"a-{}\"><td class=\"n\">{}</td>",
            row.id,
            action_class(&row.row.action),
            self.n
        ));
        for c in &self.columns {
            match row.value(*c) {
                Value::Empty => b.push_str("<td></td>"),
                Value::Int(n) => b.push_str(&format!("<td class=\"n\">{n}</td>")),
                Value::Time { ms, utc } => {
                    let t = if utc { iso_ms(ms) } else { self.zone.human(ms) };
                    b.push_str("<td class=\"t\">");
                    escape(b, &t);
                    b.push_str("</td>");
                }
                Value::Text(t) => {
                    b.push_str(if matches!(c, Column::RawSha256 | Column::EventId) {
                        "<td class=\"h\">"
                    } else {
                        "<td>"
                    });
                    escape(b, &t);
                    b.push_str("</td>");
                }
            }
        }
        b.push_str("<td>");
        let t = row.row.time_ms;
        let mut links = Vec::new();
        if let Some(ids) = self.by_event.get(&row.id) {
            for &i in ids {
                self.listed[i].get_or_insert(t);
                links.push(self.notes[i].id);
            }
        }
        for &i in &self.ranges {
            let n = &self.notes[i];
            if n.start_ms.is_some_and(|a| a > t) {
                break;
            }
            if n.end_ms.is_some_and(|e| e >= t) {
                self.listed[i].get_or_insert(t);
                links.push(n.id);
            }
        }
        for (k, id) in links.iter().enumerate() {
            if k > 0 {
                b.push_str(", ");
            }
            b.push_str(&format!("<a href=\"#note-{id}\">note {id}</a>"));
        }
        b.push_str("</td></tr>\n");
        self.w.write_all(self.buf.as_bytes()).map_err(|e| export_err(&self.path, &e))
    }

    fn finish(mut self: Box<Self>, rows: u64, raw_digest: &str) -> Result<Finished> {
        let mut h = String::new();
        h.push_str("</tbody>\n</table>\n");
        if rows == 0 {
            h.push_str("<p class=\"muted\">No events are in this scope.</p>\n");
        }
        let mut shown: Vec<usize> = (0..self.notes.len()).filter(|&i| self.listed[i].is_some()).collect();
        shown.sort_by_key(|&i| (self.listed[i], self.notes[i].id));
        h.push_str("<h2 id=\"notes\">Notes</h2>\n");
        if shown.is_empty() {
            h.push_str(
                "<p class=\"muted\">The case has no notes on these events or on time ranges that contain them.</p>\n",
            );
        }
        for i in shown {
            let n = &self.notes[i];
            h.push_str(&format!(
                "<section class=\"note\" id=\"note-{}\">\n<h3>{}</h3>\n<p class=\"body\">",
                n.id,
                self.note_heading(n)
            ));
            escape(&mut h, &n.body);
            h.push_str(&format!(
                "</p>\n<p class=\"muted\">Written {}{}</p>\n</section>\n",
                esc(&self.zone.human(n.created_ms)),
                if n.updated_ms != n.created_ms {
                    format!(", changed {}", esc(&self.zone.human(n.updated_ms)))
                } else {
                    String::new()
                }
            ));
        }
        h.push_str("<h2 id=\"provenance\">Provenance</h2>\n<dl class=\"meta\">\n");
        h.push_str(&format!("<dt>Rows</dt><dd>{rows}</dd>\n"));
        h.push_str(&format!(
            "<dt>Raw records</dt><dd>Each row's “Raw record SHA-256” is the hash of the original record's bytes as \
             received; <code>tidemark verify</code> re-checks them against the case.</dd>\n\
             <dt>All raw records</dt><dd>SHA-256 over the listed raw-record hashes, in row order: <code>{}</code></dd>\n",
            esc(raw_digest)
        ));
        h.push_str("</dl>\n</main>\n<footer>Generated by Tidemark ");
        h.push_str(&esc(crate::TOOL_VERSION));
        h.push_str(
            ". This report contains no scripts and loads nothing from elsewhere; the file's SHA-256 is in \
                    the manifest beside it.</footer>\n</body>\n</html>\n",
        );
        self.w.write_all(h.as_bytes()).map_err(|e| export_err(&self.path, &e))?;
        let (size, sha256) = self.w.finish(&self.path)?;
        Ok(Finished { size, sha256, ..Finished::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            esc("<img src=x onerror=\"alert(1)\">&'"),
            "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;"
        );
        assert_eq!(esc("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(action_class("Sign-in <x>"), "sign-in--x-");
        assert!(csp().starts_with("default-src 'none'; script-src 'none'; style-src 'sha256-"));
    }
}
