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
