//! The domain types that leave the engine: what the CLI prints, what the app sends to the UI.
//!
//! They derive `ts_rs::TS` so the UI's TypeScript types are generated from here
//! (`ui/src/lib/bindings.ts`), and a test fails when the committed file drifts.
//! Times are ISO 8601 UTC strings with milliseconds; event ids are decimal strings, because time keys
//! exceed JavaScript's 2^53.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where an imported file came from and what it hashed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AcquiredFile {
    /// Path as given at import time (`archive.zip › member.json` for archive members).
    pub path: String,
    /// Size in bytes (decompressed for archive members and gzip).
    #[ts(type = "number")]
    pub size: u64,
    /// SHA-256 of the whole input as read, lowercase hex.
    pub sha256: String,
    /// Format id the file was read as.
    pub format: String,
    /// The format's name for people.
    pub format_name: String,
    /// Text encoding (`utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be`).
    pub encoding: String,
    /// The archive or gzip file it came from.
    pub container: Option<String>,
    /// Records read from it.
    #[ts(type = "number")]
    pub records: i64,
    /// New events it added.
    #[ts(type = "number")]
    pub new_events: i64,
    /// Records already in the case (or earlier in this import).
    #[ts(type = "number")]
    pub duplicates: i64,
    /// Records that could not be normalized (kept raw).
    #[ts(type = "number")]
    pub malformed: i64,
    /// Where the first malformed records are, with why.
    pub malformed_at: Vec<String>,
    /// Earliest event time in it.
    pub first_time: Option<String>,
    /// Latest event time in it.
    pub last_time: Option<String>,
}

/// One import or collection run: the chain-of-custody unit.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Acquisition {
    /// Acquisition number within the case.
    #[ts(type = "number")]
    pub id: i64,
    /// `import` or `collection`.
    pub kind: String,
    /// Format id or API source.
    pub source: String,
    /// Parameters as JSON (never secrets).
    pub parameters: String,
    /// Who ran it (OS user name).
    pub operator: String,
    /// Tidemark version that ran it.
    pub tool_version: String,
    /// When it started.
    pub started_at: String,
    /// When it ended, if it did.
    pub finished_at: Option<String>,
    /// `running`, `completed`, `failed` or `interrupted`.
    pub status: String,
    /// Records read.
    #[ts(type = "number")]
    pub records_read: i64,
    /// Events that were new to the case.
    #[ts(type = "number")]
    pub events_new: i64,
    /// Records already in the case (kept as raw occurrences).
    #[ts(type = "number")]
    pub duplicates: i64,
    /// Records that could not be normalized (kept raw).
    #[ts(type = "number")]
    pub malformed: i64,
    /// Input files.
    pub files: Vec<AcquiredFile>,
}

/// A case at a glance.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct CaseSummary {
    /// Case file path.
    pub path: String,
    /// Case name.
    pub name: String,
    /// When the case was created.
    pub created_at: String,
    /// Tidemark version that created it.
    pub tool_version: String,
    /// IANA zone (or `UTC`) used for display.
    pub display_time_zone: String,
    /// Distinct events.
    #[ts(type = "number")]
    pub events: i64,
    /// Raw records (every occurrence, malformed included).
    #[ts(type = "number")]
    pub raw_records: i64,
    /// Raw records that could not be normalized.
    #[ts(type = "number")]
    pub malformed: i64,
    /// Raw records that repeated an event already in the case.
    #[ts(type = "number")]
    pub duplicates: i64,
    /// Earliest event time.
    pub first_time: Option<String>,
    /// Latest event time.
    pub last_time: Option<String>,
    /// Every import and collection, oldest first.
    pub acquisitions: Vec<Acquisition>,
}

/// One normalized event as a timeline row. `id` is a decimal string (it exceeds 2^53).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventRow {
    /// Event id (time key), decimal.
    pub id: String,
    /// Event time, ISO 8601 UTC with milliseconds.
    pub time: String,
    /// Event time, Unix milliseconds.
    #[ts(type = "number")]
    pub time_ms: i64,
    /// Source format or API.
    pub source: String,
    /// M365 workload.
    pub workload: Option<String>,
    /// Record type, as given.
    pub record_type: Option<String>,
    /// Operation, verbatim.
    pub operation: String,
    /// Normalized action category.
    pub action: String,
    /// Who did it.
    pub actor: Option<String>,
    /// Whose mailbox.
    pub mailbox: Option<String>,
    /// Client IP without port or brackets.
    pub client_ip: Option<String>,
    /// Client port, if the record gave one.
    pub client_port: Option<u16>,
    /// Client family (OWA, Outlook desktop, REST/Graph, …).
    pub client_app: Option<String>,
    /// User agent or client info string.
    pub user_agent: Option<String>,
    /// Application id.
    pub app_id: Option<String>,
    /// Session id.
    pub session_id: Option<String>,
    /// Result status, verbatim.
    pub result: Option<String>,
    /// Subject (or search text for searches).
    pub subject: Option<String>,
    /// Folder paths, `; `-separated.
    pub folders: Option<String>,
    /// Items the record covers.
    #[ts(type = "number | null")]
    pub item_count: Option<i64>,
    /// Object the operation acted on.
    pub object: Option<String>,
}

/// One time a record was received: the verbatim bytes and where they came from.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct RawOccurrence {
    /// Raw record number.
    #[ts(type = "number")]
    pub raw_id: i64,
    /// Acquisition that received it.
    #[ts(type = "number")]
    pub acquisition_id: i64,
    /// Format or API source.
    pub source_format: String,
    /// File and line/byte offset, or URL and page.
    pub locator: String,
    /// SHA-256 of the original bytes, lowercase hex.
    pub sha256: String,
    /// Size of the original bytes.
    #[ts(type = "number")]
    pub size: i64,
    /// When it was received.
    pub received_at: String,
    /// Pretty-printed JSON if the record is JSON, else the verbatim text.
    pub text: String,
    /// The original bytes as text (lossy only if they were not UTF-8).
    pub verbatim: String,
}

/// One event with its normalized fields, the original records and their provenance.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct EventDetail {
    /// The normalized fields.
    pub event: EventRow,
    /// De-duplication key (e.g. the UAL record Id).
    pub record_key: String,
    /// Every internet message id the record names.
    pub internet_message_ids: Vec<String>,
    /// Extra normalized details, pretty JSON.
    pub details: String,
    /// Every occurrence of the record, first first.
    pub raw: Vec<RawOccurrence>,
}

/// Time order of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Oldest first.
    #[default]
    Asc,
    /// Newest first.
    Desc,
}

/// One keyset page. Pass `next` as `after` to get the following page; `null` means the end.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Page {
    /// Rows in the requested order.
    pub rows: Vec<EventRow>,
    /// Cursor for the next page.
    pub next: Option<String>,
}

/// How many events match a query, of how many, and the span they cover.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct SearchCount {
    /// Matching events.
    #[ts(type = "number")]
    pub matching: i64,
    /// All events in the case.
    #[ts(type = "number")]
    pub total: i64,
    /// Earliest matching time.
    pub first_time: Option<String>,
    /// Latest matching time.
    pub last_time: Option<String>,
}

/// A record that could not be normalized; its raw bytes are kept.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Malformed {
    /// Where it is.
    pub locator: String,
    /// What is wrong with it.
    pub error: String,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ImportReport {
    /// The acquisition that records it.
    #[ts(type = "number")]
    pub acquisition_id: i64,
    /// Files read.
    pub files: Vec<AcquiredFile>,
    /// Records read.
    #[ts(type = "number")]
    pub read: i64,
    /// New events.
    #[ts(type = "number")]
    pub new_events: i64,
    /// Records already in the case.
    #[ts(type = "number")]
    pub duplicates: i64,
    /// Records that could not be normalized (kept raw).
    #[ts(type = "number")]
    pub malformed: i64,
    /// The first malformed records (at most 20), with their locations.
    pub malformed_samples: Vec<Malformed>,
    /// Wall time.
    #[ts(type = "number")]
    pub elapsed_ms: i64,
    /// Time the worker stage (split, hash, compress, normalize) was busy. With `writer_busy_ms`, says
    /// which stage limits the import.
    #[ts(type = "number")]
    pub worker_busy_ms: i64,
    /// Time the writer stage (SQLite: raw records, events, indexes) was busy.
    #[ts(type = "number")]
    pub writer_busy_ms: i64,
}

impl ImportProgress {
    /// Updates the rate and estimate from the time elapsed.
    pub fn pace(&mut self, elapsed_ms: u64) {
        self.elapsed_ms = elapsed_ms;
        self.records_per_s = if elapsed_ms > 0 { self.records * 1000 / elapsed_ms } else { 0 };
        self.eta_ms = (self.bytes_done > 0 && self.bytes_total > self.bytes_done && elapsed_ms > 500).then(|| {
            let left = self.bytes_total - self.bytes_done;
            (left as f64 * elapsed_ms as f64 / self.bytes_done as f64) as u64
        });
    }
}

/// Progress of a running import, sent as the `import-progress` event.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
pub struct ImportProgress {
    /// Files finished.
    pub files_done: u32,
    /// Files in this import.
    pub files_total: u32,
    /// The file being read.
    pub current_file: String,
    /// Bytes read so far.
    #[ts(type = "number")]
    pub bytes_done: u64,
    /// Bytes in all files (an estimate for gzip).
    #[ts(type = "number")]
    pub bytes_total: u64,
    /// Records written so far.
    #[ts(type = "number")]
    pub records: u64,
    /// Time since the import started.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// Records per second so far.
    #[ts(type = "number")]
    pub records_per_s: u64,
    /// Estimated time left, from the bytes still to read.
    #[ts(type = "number | null")]
    pub eta_ms: Option<u64>,
}

/// A case opened before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RecentCase {
    /// Case file path.
    pub path: String,
    /// Case name.
    pub name: String,
    /// Events when last opened.
    #[ts(type = "number")]
    pub events: i64,
    /// When it was last opened.
    pub last_opened: String,
    /// Whether the file is still there.
    pub exists: bool,
}

/// What the app knows at start-up.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct AppInfo {
    /// Tidemark version.
    pub version: String,
    /// The demo case, if one was prepared.
    pub demo_case: Option<String>,
    /// A case passed on the command line, to open at once.
    pub initial_case: Option<String>,
    /// Recently opened cases, newest first.
    pub recent: Vec<RecentCase>,
}
