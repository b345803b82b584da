//! The case log: a hash-chained, append-only record of everything done to the case.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields, so removing
//! or editing any entry (even outside Tidemark) is detected by [`verify`].

use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::time::iso_ms;

/// One case-log entry.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// Entry number.
    pub id: i64,
    /// When, ISO 8601 UTC.
    pub time: String,
    /// Who.
    pub operator: String,
    /// What kind of action (`case.created`, `import`, `export`, …).
    pub action: String,
    /// One line for people.
    pub summary: String,
    /// Structured details (JSON).
    pub details: serde_json::Value,
    /// Hash of the subject of the entry (file, export manifest), hex.
    pub sha256: Option<String>,
    /// This entry's chain hash, hex.
    pub entry_hash: String,
}

/// A case-log entry whose hash does not match the chain.
#[derive(Debug, Clone, Serialize)]
pub struct LogIssue {
    /// Entry number.
    pub id: i64,
    /// What is wrong.
    pub problem: String,
}

fn entry_hash(
    prev: &[u8],
    time_ms: i64,
    operator: &str,
    action: &str,
    summary: &str,
    details: &str,
    sha: Option<&[u8]>,
) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(time_ms.to_le_bytes());
    for part in [operator, action, summary, details] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    match sha {
        Some(s) => {
            h.update([1]);
            h.update(s);
        }
        None => h.update([0]),
    }
    h.finalize().to_vec()
}

pub(crate) fn append(
    conn: &Connection,
    time_ms: i64,
    operator: &str,
    action: &str,
    summary: &str,
    details: &serde_json::Value,
    sha256: Option<&[u8]>,
) -> Result<()> {
    let prev: Vec<u8> = conn
        .query_row("SELECT entry_hash FROM case_log ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
        .unwrap_or_else(|_| vec![0u8; 32]);
    let details = details.to_string();
    let hash = entry_hash(&prev, time_ms, operator, action, summary, &details, sha256);
    conn.execute(
        "INSERT INTO case_log (time_ms, operator, action, summary, details, sha256, prev_hash, entry_hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![time_ms, operator, action, summary, details, sha256, prev, hash],
    )?;
    Ok(())
}

type Row = (i64, i64, String, String, String, String, Option<Vec<u8>>, Vec<u8>, Vec<u8>);

fn rows(conn: &Connection) -> Result<Vec<Row>> {
    let mut st = conn.prepare(
        "SELECT id, time_ms, operator, action, summary, details, sha256, prev_hash, entry_hash FROM case_log ORDER BY id",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(crate) fn entries(conn: &Connection) -> Result<Vec<LogEntry>> {
    Ok(rows(conn)?
        .into_iter()
        .map(|(id, t, operator, action, summary, details, sha, _, hash)| LogEntry {
            id,
            time: iso_ms(t),
            operator,
            action,
            summary,
            details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
            sha256: sha.map(hex::encode),
            entry_hash: hex::encode(hash),
        })
        .collect())
}

pub(crate) fn verify(conn: &Connection) -> Result<Vec<LogIssue>> {
    let mut issues = Vec::new();
    let mut prev = vec![0u8; 32];
    for (id, t, operator, action, summary, details, sha, stored_prev, stored_hash) in rows(conn)? {
        if stored_prev != prev {
            issues.push(LogIssue {
                id,
                problem: "does not follow the entry before it (an entry was removed or changed)".into(),
            });
        }
        let expect = entry_hash(&stored_prev, t, &operator, &action, &summary, &details, sha.as_deref());
        if expect != stored_hash {
            issues.push(LogIssue { id, problem: "its content does not match its hash (the entry was edited)".into() });
        }
        prev = stored_hash;
    }
    Ok(issues)
}
