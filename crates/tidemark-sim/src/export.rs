//! The tenant as offline files, in the shapes investigators receive (§1.10, §5): Purview CSV,
//! Search-UnifiedAuditLog CSV, Microsoft-Extractor-Suite JSON/JSONL, Graph JSON, Management API blobs,
//! Untitled Goose JSONL, the CrowdStrike retriever's Activities CSV, and Entra ID's sign-in and
//! directory audit logs as Graph pages.
//!
//! They are written from the same generator the APIs serve, hour by hour, so an import of any of them
//! can be compared record for record with a collection from the sim, and memory stays flat however
//! large the tenant is. Each writer reproduces its tool's quirks (BOMs, CRLF, quoting, `#TYPE` lines,
//! concatenated JSON arrays, Python-literal dicts) because the importers must meet them.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::management::{blob_records, blobs_in_window, CONTENT_TYPES};
use crate::scenario::{Activity, Tenant, AUDIT_RECORD_TYPES};
use crate::wire::{iso_7, iso_ms, powershell_us};

/// The offline formats `tidemark-sim export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// New Purview audit search export (RecordId,CreationDate,RecordType,Operation,UserId,AuditData,…).
    PurviewCsv,
    /// `Search-UnifiedAuditLog | Export-Csv` with the `#TYPE` line.
    SualCsv,
    /// Microsoft-Extractor-Suite `Get-UAL -Output JSON` (concatenated pretty arrays, AuditData parsed).
    MesJson,
    /// Microsoft-Extractor-Suite `Get-UAL -Output JSONL` (AuditData as a string).
    MesJsonl,
    /// Microsoft-Extractor-Suite `Get-UALGraph` JSON (array of auditLogRecord).
    GraphJson,
    /// A folder of Management API content blobs (JSON arrays), named by content id.
    MgmtBlobs,
    /// Untitled Goose: one AuditData object per line.
    GooseJsonl,
    /// CrowdStrike retriever CSV of one mailbox's legacy Activities.
    RetrieverCsv,
    /// Entra ID sign-ins as one Microsoft Graph beta page (every log: interactive, non-interactive,
    /// service principal), newest first, as `GET beta/auditLogs/signIns` returns them.
    EntraSigninsJson,
    /// Entra ID directory audits as one Microsoft Graph page, newest first.
    EntraAuditsJson,
}

/// What an export wrote.
#[derive(Debug, Clone, Default)]
pub struct ExportSummary {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Records written, counting duplicates (blobs repeat some records).
    pub records: u64,
    /// Distinct records (distinct UAL `Id`s, or activities).
    pub distinct: u64,
}

/// Writes the tenant in `format` to `out` (a file; a folder for `mgmt-blobs`). `mailbox` selects the
/// mailbox for `retriever-csv` (default: the storyline's victim, else the first mailbox).
pub fn export(t: &Tenant, format: ExportFormat, out: &Path, mailbox: Option<&str>) -> io::Result<ExportSummary> {
    match format {
        ExportFormat::MgmtBlobs => return mgmt_blobs(t, out),
        ExportFormat::RetrieverCsv => return retriever_csv(t, out, mailbox),
        ExportFormat::EntraSigninsJson | ExportFormat::EntraAuditsJson => return entra_page(t, format, out),
        _ => {}
    }
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut w = BufWriter::new(File::create(out)?);
    let total = count_records(t);
    let mut n: u64 = 0;
    match format {
        ExportFormat::PurviewCsv => {
            w.write_all(b"\xEF\xBB\xBF")?;
            w.write_all(b"RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n")?;
        }
        ExportFormat::SualCsv => {
            w.write_all(
                b"\xEF\xBB\xBF#TYPE Deserialized.Microsoft.Exchange.Data.ApplicationLogic.UnifiedAuditLogEvent\r\n",
            )?;
            w.write_all(b"\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"ResultIndex\",\"ResultCount\",\"Identity\",\"IsValid\",\"ObjectState\"\r\n")?;
        }
        ExportFormat::GraphJson => w.write_all(b"[")?,
        _ => {}
    }
    let mut day_open: Option<u32> = None;
    let mut result: io::Result<()> = Ok(());
    t.for_each_record(|e, r| {
        if result.is_err() {
            return;
        }
        n += 1;
        result = (|| -> io::Result<()> {
            let ms = e.time_ms - e.time_ms.rem_euclid(1000);
            let id = r["Id"].as_str().unwrap_or_default();
            let op = r["Operation"].as_str().unwrap_or_default();
            let user = r["UserId"].as_str().unwrap_or_default();
            let rt = r["RecordType"].as_i64().unwrap_or(0);
            let rt_name = AUDIT_RECORD_TYPES.iter().find(|(k, _)| *k == rt).map(|(_, v)| *v).unwrap_or("Unknown");
            match format {
                ExportFormat::PurviewCsv => {
                    let cells = [
                        csv_cell(id, false),
                        csv_cell(&format!("{} ", iso_7(ms)), true),
                        rt.to_string(),
                        csv_cell(op, false),
                        csv_cell(user, false),
                        csv_cell(&r.to_string(), false),
                        String::new(),
                        String::new(),
                    ];
                    write!(w, "{}\r\n", cells.join(","))?;
                }
                ExportFormat::SualCsv => {
                    let cells = [
                        rt_name.to_string(),
                        powershell_us(ms),
                        user.to_string(),
                        op.to_string(),
                        r.to_string(),
                        n.to_string(),
                        total.to_string(),
                        id.to_string(),
                        "True".into(),
                        "Unchanged".into(),
                    ];
                    let line: Vec<String> = cells.iter().map(|c| csv_cell(c, true)).collect();
                    write!(w, "{}\r\n", line.join(","))?;
                }
                ExportFormat::MesJson => {
                    let day = (e.time_ms - t.start_ms).div_euclid(86_400_000) as u32;
                    if day_open != Some(day) {
                        if day_open.is_some() {
                            w.write_all(b"\r\n]\r\n")?;
                        }
                        w.write_all(b"[\r\n")?;
                        day_open = Some(day);
                    } else {
                        w.write_all(b",\r\n")?;
                    }
                    let o = json!({
                        "RecordType": rt_name, "CreationDate": crate::wire::iso_seconds_no_zone(ms),
                        "UserIds": user, "Operations": op, "AuditData": r, "ResultIndex": n,
                        "ResultCount": total, "Identity": id, "IsValid": true, "ObjectState": "Unchanged",
                    });
                    let text = serde_json::to_string_pretty(&o).map_err(io::Error::other)?;
                    w.write_all(text.replace('\n', "\r\n").as_bytes())?;
                }
                ExportFormat::MesJsonl => {
                    let o = json!({
                        "RecordType": rt_name, "CreationDate": crate::wire::iso_seconds_no_zone(ms),
                        "UserIds": user, "Operations": op, "AuditData": r.to_string(), "ResultIndex": n,
                        "ResultCount": total, "Identity": id, "IsValid": true, "ObjectState": "Unchanged",
                    });
                    writeln!(w, "{o}")?;
                }
                ExportFormat::GraphJson => {
                    if n > 1 {
                        w.write_all(b",")?;
                    }
                    w.write_all(b"\n  ")?;
                    w.write_all(t.graph_record(r).to_string().as_bytes())?;
                }
                ExportFormat::GooseJsonl => writeln!(w, "{r}")?,
                ExportFormat::MgmtBlobs
                | ExportFormat::RetrieverCsv
                | ExportFormat::EntraSigninsJson
                | ExportFormat::EntraAuditsJson => {}
            }
            Ok(())
        })();
    });
    result?;
    match format {
        ExportFormat::GraphJson => w.write_all(b"\n]\n")?,
        ExportFormat::MesJson if day_open.is_some() => w.write_all(b"\r\n]\r\n")?,
        _ => {}
    }
    w.flush()?;
    Ok(ExportSummary { files: vec![out.to_path_buf()], records: n, distinct: n })
}

/// Number of UAL records in the tenant.
pub fn count_records(t: &Tenant) -> u64 {
    let mut n = 0;
    t.for_each_record(|_, _| n += 1);
    n
}

fn mgmt_blobs(t: &Tenant, dir: &Path) -> io::Result<ExportSummary> {
    std::fs::create_dir_all(dir)?;
    let mut summary = ExportSummary::default();
    let mut seen = std::collections::HashSet::new();
    for ct in CONTENT_TYPES {
        for b in blobs_in_window(t, ct, t.start_ms - 86_400_000, t.spec.end_ms + 86_400_000, i64::MAX) {
            let Some(records) = blob_records(t, &b) else { continue };
            let path = dir.join(format!("{}.json", b.content_id()));
            let mut w = BufWriter::new(File::create(&path)?);
            serde_json::to_writer(&mut w, &records).map_err(io::Error::other)?;
            w.flush()?;
            summary.records += records.len() as u64;
            for r in &records {
                seen.insert(r["Id"].as_str().unwrap_or_default().to_string());
            }
            summary.files.push(path);
        }
    }
    summary.distinct = seen.len() as u64;
    Ok(summary)
}

/// One Graph page of every sign-in (or directory audit), newest first: an hour at a time from the
/// last, so memory holds one hour.
fn entra_page(t: &Tenant, format: ExportFormat, out: &Path) -> io::Result<ExportSummary> {
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let signins = format == ExportFormat::EntraSigninsJson;
    let (version, collection) = if signins { ("beta", "signIns") } else { ("v1.0", "directoryAudits") };
    let mut w = BufWriter::new(File::create(out)?);
    write!(
        w,
        "{{\"@odata.context\":\"https://graph.microsoft.com/{version}/$metadata#auditLogs/{collection}\",\"value\":["
    )?;
    let mut n: u64 = 0;
    for h in (0..t.hours).rev() {
        let mut records: Vec<Value> = if signins {
            t.hour_signins(h).iter().map(|s| t.signin_json(s, true)).collect()
        } else {
            t.hour_audits(h).iter().map(|a| t.audit_json(a)).collect()
        };
        records.reverse();
        for r in records {
            w.write_all(if n == 0 { b"\n  " } else { b",\n  " })?;
            serde_json::to_writer(&mut w, &r).map_err(io::Error::other)?;
            n += 1;
        }
    }
    w.write_all(b"\n]}\n")?;
    w.flush()?;
    Ok(ExportSummary { files: vec![out.to_path_buf()], records: n, distinct: n })
}

fn retriever_csv(t: &Tenant, out: &Path, mailbox: Option<&str>) -> io::Result<ExportSummary> {
    let mb = match mailbox {
        Some(upn) => t
            .mailbox_by_upn(upn)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no mailbox {upn} in the scenario")))?,
        None => t.victim().unwrap_or(&t.mailboxes[0]),
    };
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut w = BufWriter::new(File::create(out)?);
    w.write_all(b"\xEF\xBB\xBFTimeStamp,AppIdType,ActivityIdType,ActivityItemId,ActivityCreationTime,ClientSessionId,CustomProperties\n")?;
    let acts = t.mailbox_activities(mb.index);
    for a in &acts {
        writeln!(w, "{}", retriever_row(a))?;
    }
    w.flush()?;
    Ok(ExportSummary { files: vec![out.to_path_buf()], records: acts.len() as u64, distinct: acts.len() as u64 })
}

fn retriever_row(a: &Activity) -> String {
    let props = if a.props.is_empty() {
        String::new()
    } else {
        let inner: Vec<String> = a.props.iter().map(|(k, v)| format!("{}: {}", py_repr(k), py_repr(v))).collect();
        format!("{{{}}}", inner.join(", "))
    };
    [
        iso_ms(a.timestamp_ms),
        a.app.to_string(),
        a.id_type.to_string(),
        a.item_id.clone(),
        iso_ms(a.creation_ms),
        a.session.clone(),
        props,
    ]
    .iter()
    .map(|c| csv_cell(c, false))
    .collect::<Vec<_>>()
    .join(",")
}

/// A CSV cell: quoted when needed (or always), inner quotes doubled.
pub fn csv_cell(s: &str, always: bool) -> String {
    if always || s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Python 3 `repr()` of a str: single quotes unless the text has `'` and no `"`; backslash escapes for
/// `\\`, the quote, `\n`, `\r`, `\t` and other control characters.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7F => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Writes the answer key as pretty JSON.
pub fn write_answer_key(t: &Tenant, path: &Path) -> io::Result<bool> {
    let Some(key) = t.answer_key() else { return Ok(false) };
    let text = serde_json::to_string_pretty(&key).map_err(io::Error::other)?;
    std::fs::write(path, text + "\n")?;
    Ok(true)
}

/// The Value of a JSON export file's records (for tests): Goose/MES JSONL lines, Graph arrays.
pub fn read_jsonl(path: &Path) -> io::Result<Vec<Value>> {
    let text = std::fs::read_to_string(path)?;
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).map_err(io::Error::other)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_repr_matches_python() {
        assert_eq!(py_repr("plain"), "'plain'");
        assert_eq!(py_repr("O'Neill"), "\"O'Neill\"");
        assert_eq!(py_repr("both ' and \""), "'both \\' and \"'");
        assert_eq!(py_repr("a\\b\nc"), "'a\\\\b\\nc'");
        assert_eq!(csv_cell("a,b", false), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\"", false), "\"say \"\"hi\"\"\"");
    }
}
