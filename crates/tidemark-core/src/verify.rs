//! Verification: proves that every raw record is still exactly what was received, and that the case
//! log's hash chain is unbroken.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::case::{CaseReader, LogIssue};
use crate::error::Result;
use crate::search::locator;

/// A raw record that failed verification.
#[derive(Debug, Clone, Serialize)]
pub struct RawIssue {
    /// Raw record number.
    pub raw_id: i64,
    /// Acquisition it belongs to.
    pub acquisition_id: i64,
    /// Where it came from.
    pub locator: String,
    /// What is wrong.
    pub problem: String,
}

/// The outcome of [`CaseReader::verify`].
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Raw records checked.
    pub raw_checked: u64,
    /// Raw records whose bytes no longer match their SHA-256 or cannot be read.
    pub raw_issues: Vec<RawIssue>,
    /// Case-log entries checked.
    pub log_checked: u64,
    /// Case-log entries that break the hash chain.
    pub log_issues: Vec<LogIssue>,
}

impl VerifyReport {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.raw_issues.is_empty() && self.log_issues.is_empty()
    }
}

impl CaseReader {
    /// Re-reads every raw record, recomputes its SHA-256 and compares; checks the case-log chain.
    pub fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport> {
        let total: i64 = self.conn.query_row("SELECT count(*) FROM raw_record", [], |r| r.get(0))?;
        let total = u64::try_from(total).unwrap_or(0);
        let mut st = self.conn.prepare(
            "SELECT r.id, r.acquisition_id, f.path, r.line, r.byte_offset, r.url, r.page, r.sha256, r.size, r.codec, \
                    r.dict_id, r.data \
             FROM raw_record r LEFT JOIN acquired_file f ON f.id = r.file_id ORDER BY r.id",
        )?;
        let mut rows = st.query([])?;
        let mut issues = Vec::new();
        let mut checked = 0u64;
        while let Some(r) = rows.next()? {
            let (id, acq): (i64, i64) = (r.get(0)?, r.get(1)?);
            let sha: Vec<u8> = r.get(7)?;
            let size: i64 = r.get(8)?;
            let data = r.get_ref(11)?.as_blob().unwrap_or_default();
            let problem = match self.decode_raw(r.get(9)?, data, size, r.get(10)?) {
                Err(e) => Some(format!("the stored bytes {e}")),
                Ok(bytes) if bytes.len() as i64 != size => {
                    Some(format!("size is {} bytes, {} were received", bytes.len(), size))
                }
                Ok(bytes) if Sha256::digest(&bytes).as_slice() != sha.as_slice() => Some(format!(
                    "SHA-256 is {}, but {} was recorded when it was received",
                    hex::encode(Sha256::digest(&bytes)),
                    hex::encode(&sha)
                )),
                Ok(_) => None,
            };
            if let Some(problem) = problem {
                let path: Option<String> = r.get(2)?;
                let url: Option<String> = r.get(5)?;
                issues.push(RawIssue {
                    raw_id: id,
                    acquisition_id: acq,
                    locator: locator(path.as_deref(), r.get(3)?, r.get(4)?, url.as_deref(), r.get(6)?),
                    problem,
                });
            }
            checked += 1;
            if checked.is_multiple_of(50_000) {
                progress(checked, total);
            }
        }
        progress(checked, total);
        let log_checked: i64 = self.conn.query_row("SELECT count(*) FROM case_log", [], |r| r.get(0))?;
        Ok(VerifyReport {
            raw_checked: checked,
            raw_issues: issues,
            log_checked: u64::try_from(log_checked).unwrap_or(0),
            log_issues: self.verify_log()?,
        })
    }
}

/// A raw record whose stored event is not what normalizing it again gives.
#[derive(Debug, Clone, Serialize)]
pub struct DerivedIssue {
    /// Raw record number.
    pub raw_id: i64,
    /// The event it is linked to, if any.
    pub event_id: Option<i64>,
    /// What differs.
    pub problem: String,
}

/// The outcome of [`CaseReader::renormalize`].
#[derive(Debug, Clone, Serialize)]
pub struct RenormalizeReport {
    /// Raw records normalized again.
    pub checked: u64,
    /// Records whose stored event (or stored error) differs from a fresh normalization.
    pub issues: Vec<DerivedIssue>,
}

/// Stops listing differences after this many (all are counted in `checked`).
const MAX_DERIVED_ISSUES: usize = 100;

struct FileFormat<'r> {
    format: Option<&'r dyn tidemark_formats::Format>,
    format_id: String,
    encoding: tidemark_formats::encoding::Encoding,
    context: Vec<u8>,
}

impl CaseReader {
    /// Normalizes every raw record again from the stored evidence alone (its bytes, its file's format,
    /// encoding and context) and compares the result with the stored event or stored error. Proves
    /// that events are derived data: the same evidence gives the same events.
    pub fn renormalize(
        &self,
        registry: &tidemark_formats::FormatRegistry,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RenormalizeReport> {
        use std::collections::HashMap;
        let total: i64 = self.conn.query_row("SELECT count(*) FROM raw_record", [], |r| r.get(0))?;
        let total = u64::try_from(total).unwrap_or(0);
        let mut files: HashMap<i64, FileFormat<'_>> = HashMap::new();
        {
            let mut st = self.conn.prepare("SELECT id, format, encoding, context FROM acquired_file")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let format_id: String = r.get(1)?;
                let encoding: String = r.get(2)?;
                files.insert(
                    r.get(0)?,
                    FileFormat {
                        format: registry.get(&format_id),
                        format_id,
                        encoding: tidemark_formats::encoding::Encoding::from_name(&encoding)
                            .unwrap_or(tidemark_formats::encoding::Encoding::Utf8),
                        context: r.get(3)?,
                    },
                );
            }
        }
        let mut st = self.conn.prepare(
            "SELECT r.id, r.file_id, r.size, r.codec, r.dict_id, r.data, r.event_id, r.error, \
                    e.raw_id, e.record_key, e.time_ms, e.source, e.workload, e.record_type, e.operation, e.action, \
                    e.actor, e.mailbox, e.client_ip, e.client_port, e.client_app, e.user_agent, e.app_id, \
                    e.session_id, e.result, e.subject, e.folders, e.message_ids, e.item_count, e.object, e.details, \
                    e.parameters \
             FROM raw_record r LEFT JOIN event e ON e.id = r.event_id ORDER BY r.id",
        )?;
        let mut rows = st.query([])?;
        let mut issues = Vec::new();
        let mut checked = 0u64;
        while let Some(r) = rows.next()? {
            checked += 1;
            if checked.is_multiple_of(50_000) {
                progress(checked, total);
            }
            let raw_id: i64 = r.get(0)?;
            let event_id: Option<i64> = r.get(6)?;
            let mut issue = |problem: String| {
                if issues.len() < MAX_DERIVED_ISSUES {
                    issues.push(DerivedIssue { raw_id, event_id, problem });
                }
            };
            let Some(file) = r.get::<_, Option<i64>>(1)?.and_then(|f| files.get(&f)) else {
                continue; // collected pages carry no file; their normalizer is the collector's
            };
            let Some(format) = file.format else {
                issue(format!("its format {} is not known to this version of Tidemark", file.format_id));
                continue;
            };
            let data = r.get_ref(5)?.as_blob().unwrap_or_default();
            let bytes = match self.decode_raw(r.get(3)?, data, r.get(2)?, r.get(4)?) {
                Ok(b) => b,
                Err(e) => {
                    issue(format!("the stored bytes {e}"));
                    continue;
                }
            };
            let text = file.encoding.decode_record(&bytes);
            let fresh = format.normalize(&file.context, &text);
            let stored_error: Option<String> = r.get(7)?;
            let ev = match (fresh, stored_error, event_id) {
                (Err(now), Some(then), _) if now == then => continue,
                (Err(now), Some(then), _) => {
                    issue(format!("it was refused as \"{then}\" but now as \"{now}\""));
                    continue;
                }
                (Err(now), None, _) => {
                    issue(format!("it has an event but now cannot be normalized: {now}"));
                    continue;
                }
                (Ok(_), Some(then), _) => {
                    issue(format!("it was refused as \"{then}\" but now normalizes"));
                    continue;
                }
                (Ok(_), None, None) => {
                    issue("it normalizes but is linked to no event".to_owned());
                    continue;
                }
                (Ok(ev), None, Some(_)) => ev,
            };
            let record_key: String = r.get(9)?;
            if ev.record_key != record_key {
                issue(format!("its record key is now {} instead of {record_key}", ev.record_key));
                continue;
            }
            if r.get::<_, Option<i64>>(8)? != Some(raw_id) {
                continue; // a repeat occurrence: the key is all it must share with the event
            }
            let row = crate::import::EventRow::of(&ev)?;
            use rusqlite::types::Value as V;
            let text = |s: Option<&str>| s.map_or(V::Null, |s| V::Text(s.to_owned()));
            let expected: [(&str, V); 22] = [
                ("time", V::Integer(ev.time_ms)),
                ("source", V::Text(ev.source.clone())),
                ("workload", text(ev.workload.as_deref())),
                ("record type", text(ev.record_type.as_deref())),
                ("operation", V::Text(ev.operation.clone())),
                ("action", V::Text(ev.action.clone())),
                ("actor", text(ev.actor.as_deref())),
                ("mailbox", text(ev.mailbox.as_deref())),
                ("client ip", text(ev.client_ip.as_deref())),
                ("client port", ev.client_port.map_or(V::Null, |p| V::Integer(i64::from(p)))),
                ("client", text(ev.client_app.as_deref())),
                ("user agent", text(ev.user_agent.as_deref())),
                ("app id", text(ev.app_id.as_deref())),
                ("session id", text(ev.session_id.as_deref())),
                ("result", text(ev.result.as_deref())),
                ("subject", text(ev.subject.as_deref())),
                ("folders", text(row.folders.as_deref())),
                ("message ids", text(row.message_ids.as_deref())),
                ("item count", ev.item_count.map_or(V::Null, V::Integer)),
                ("object", text(ev.object.as_deref())),
                ("details", V::Text(row.details.clone())),
                ("parameters", text(row.parameters)),
            ];
            for (i, (name, want)) in expected.iter().enumerate() {
                let got: V = r.get(10 + i)?;
                if &got != want {
                    issue(format!("its {name} is stored as {got:?} but normalizes to {want:?}"));
                    break;
                }
            }
        }
        progress(checked, total);
        Ok(RenormalizeReport { checked, issues })
    }
}
