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
    /// What the offline IP data says about `client_ip` (none without an address).
    pub ip: Option<IpSummary>,
    /// The application's name, when Tidemark knows `app_id` (Microsoft's own, or a third-party app known
    /// to be abused in mailbox compromises).
    pub app_name: Option<String>,
    /// Why a known third-party app matters ("mailbox export, used to take copies of mail"), with its source.
    pub app_note: Option<String>,
    /// What this event was the first of for its account, after a day of the account's history in the
    /// case (`country`, `network`, `ip`, `client`, `agent`, `app`): "new for this user".
    pub new: Vec<String>,
}

/// Country, network and class of an event's client address, for the timeline and exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IpSummary {
    /// ISO 3166 country code.
    pub country: Option<String>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// `public`, `microsoft`, `hosting`, `vpn`, `private`, `reserved` or `not-an-address`.
    pub class: String,
    /// The network's owner.
    pub network: Option<String>,
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

/// An archive or gzip file an import opened.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ContainerReport {
    /// Path of the archive.
    pub path: String,
    /// Its size in bytes.
    #[ts(type = "number")]
    pub size: u64,
    /// SHA-256 of the whole archive, lowercase hex.
    pub sha256: String,
}

/// A file found inside a picked folder or archive that no format recognises.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct SkippedFile {
    /// Where it is.
    pub path: String,
    /// Why it was not imported.
    pub reason: String,
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
    /// Files inside picked folders or archives that are not audit data (README, logs …), not imported.
    pub skipped: Vec<SkippedFile>,
    /// Archives and gzip files the inputs came out of, with their own hashes (the bytes as received).
    pub containers: Vec<ContainerReport>,
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
    /// Of the writer's time, what went to the IP context and the accounts' baselines (enrichment).
    #[ts(type = "number")]
    pub context_busy_ms: i64,
}

impl ImportProgress {
    /// Updates the rate and estimate from the time elapsed.
    pub fn pace(&mut self, elapsed_ms: u64) {
        self.elapsed_ms = elapsed_ms;
        self.records_per_s = (self.records * 1000).checked_div(elapsed_ms).unwrap_or(0);
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

/// An investigator's tag: a name and a colour, attached to any number of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Tag {
    /// Tag number within the case.
    #[ts(type = "number")]
    pub id: i64,
    /// Name as shown and as typed after `tag:` (unique, ignoring case).
    pub name: String,
    /// Colour, `#rrggbb` (lowercase).
    pub color: String,
    /// When it was created.
    pub created_at: String,
    /// Events carrying it.
    #[ts(type = "number")]
    pub events: i64,
}

/// What tagging or untagging did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TagChange {
    /// The tag afterwards (with its new event count).
    pub tag: Tag,
    /// Events that gained (or lost) the tag; events that already had (or lacked) it are not counted.
    #[ts(type = "number")]
    pub changed: i64,
}

/// A bookmarked event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Bookmark {
    /// Event id, decimal.
    pub event_id: String,
    /// When it was bookmarked.
    pub created_at: String,
    /// The event, or `null` if the case no longer holds it.
    pub event: Option<EventRow>,
}

/// A note, on one event or on a time range. The body is plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Note {
    /// Note number within the case.
    #[ts(type = "number")]
    pub id: i64,
    /// The event it is about (decimal), for a note on an event.
    pub event_id: Option<String>,
    /// Start of the range (ISO 8601 UTC), for a note on a time range.
    pub start: Option<String>,
    /// End of the range, inclusive (ISO 8601 UTC), for a note on a time range.
    pub end: Option<String>,
    /// Start of the range, Unix milliseconds.
    #[ts(type = "number | null")]
    pub start_ms: Option<i64>,
    /// End of the range, Unix milliseconds (inclusive).
    #[ts(type = "number | null")]
    pub end_ms: Option<i64>,
    /// What the investigator wrote (plain text, rendered as text).
    pub body: String,
    /// When it was written.
    pub created_at: String,
    /// When it was last edited.
    pub updated_at: String,
}

/// A search kept under a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SavedSearch {
    /// Saved-search number within the case.
    #[ts(type = "number")]
    pub id: i64,
    /// Name (unique, ignoring case).
    pub name: String,
    /// The query text, as typed.
    pub query: String,
    /// When it was saved.
    pub created_at: String,
}

/// What an investigator attached to one event: for timeline rows (tag chips, bookmark mark) and the
/// detail pane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EventAnnotations {
    /// Event id, decimal.
    pub event_id: String,
    /// Tags on it, by tag id, ascending.
    #[ts(type = "Array<number>")]
    pub tag_ids: Vec<i64>,
    /// Whether it is bookmarked.
    pub bookmarked: bool,
    /// Notes on this event (not notes on ranges), oldest first.
    pub notes: Vec<Note>,
}

/// A field the facets panel counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FacetField {
    /// Who did it.
    Actor,
    /// Whose mailbox.
    Mailbox,
    /// Action category.
    Action,
    /// Operation, verbatim.
    Operation,
    /// Client IP.
    ClientIp,
    /// Client family.
    ClientApp,
    /// Application id.
    AppId,
    /// M365 workload.
    Workload,
    /// Source format or API.
    Source,
    /// Country of the client IP (offline IP data), derived from the IP counts.
    Country,
    /// Owner of the client IP's network, derived from the IP counts.
    Network,
}

impl FacetField {
    /// Facets derived from the client IP counts through the case's IP context: shown after
    /// [`FacetField::ALL`]'s, never stored in the rollups.
    pub const DERIVED: [Self; 2] = [Self::Country, Self::Network];

    /// Every facet, in the order the panel shows them.
    pub const ALL: [Self; 9] = [
        Self::Actor,
        Self::Mailbox,
        Self::Action,
        Self::Operation,
        Self::ClientIp,
        Self::ClientApp,
        Self::AppId,
        Self::Workload,
        Self::Source,
    ];

    /// The event column it counts.
    pub fn column(self) -> &'static str {
        match self {
            Self::Actor => "actor",
            Self::Mailbox => "mailbox",
            Self::Action => "action",
            Self::Operation => "operation",
            Self::ClientIp => "client_ip",
            Self::ClientApp => "client_app",
            Self::AppId => "app_id",
            Self::Workload => "workload",
            Self::Source => "source",
            Self::Country => "ip_country",
            Self::Network => "ip_network",
        }
    }

    /// The query field that filters on it (`actor`, `ip`, `app`, …).
    pub fn query_field(self) -> &'static str {
        match self {
            Self::Actor => "actor",
            Self::Mailbox => "mailbox",
            Self::Action => "action",
            Self::Operation => "op",
            Self::ClientIp => "ip",
            Self::ClientApp | Self::AppId => "app",
            Self::Workload => "workload",
            Self::Source => "source",
            Self::Country => "country",
            Self::Network => "network",
        }
    }
}

/// One value of a facet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FacetValue {
    /// The value as stored.
    pub value: String,
    /// A name for the value when it is an id Tidemark can name (application ids).
    pub label: Option<String>,
    /// Matching events with it.
    #[ts(type = "number")]
    pub count: i64,
    /// The query term that selects it (`actor:"adele@contoso.com"`); prefix `-` to exclude it.
    pub filter: String,
}

/// The top values of one field among the matching events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Facet {
    /// Which field.
    pub field: FacetField,
    /// The most frequent values, most frequent first (ties by value).
    pub values: Vec<FacetValue>,
    /// Distinct non-empty values among the matching events.
    #[ts(type = "number")]
    pub distinct: i64,
    /// Matching events where the field is empty.
    #[ts(type = "number")]
    pub empty: i64,
    /// Matching events with a value not in `values`.
    #[ts(type = "number")]
    pub other: i64,
}

/// Facets of a query: per field, the top values with counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Facets {
    /// Matching events.
    #[ts(type = "number")]
    pub matching: i64,
    /// One entry per field, in [`FacetField::ALL`] order, then [`FacetField::DERIVED`].
    pub fields: Vec<Facet>,
    /// Set when the counts (and `matching`) are estimates from a sample of the matching events (a large
    /// result, counted fast); `None` when every matching event was counted.
    pub sample: Option<FacetSample>,
}

/// The sample that estimated facets were counted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FacetSample {
    /// Matching events read (whole blocks of time spread evenly over the result's span); every count,
    /// `matching` included, was scaled up from them. `distinct` then counts the values seen in the sample.
    #[ts(type = "number")]
    pub events: i64,
}

/// One bar of the histogram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HistogramBucket {
    /// Start of the bucket, ISO 8601 UTC.
    pub start: String,
    /// Start of the bucket, Unix milliseconds (the bucket ends `bucket_ms` later, exclusive).
    #[ts(type = "number")]
    pub start_ms: i64,
    /// Matching events in it.
    #[ts(type = "number")]
    pub total: i64,
    /// Matching events in it per action, in the order of [`Histogram::actions`].
    #[ts(type = "Array<number>")]
    pub counts: Vec<i64>,
}

/// Matching events over time, in buckets of one width, stacked by action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Histogram {
    /// Start of the first bucket, Unix milliseconds (aligned in UTC).
    #[ts(type = "number")]
    pub start_ms: i64,
    /// End of the last bucket, Unix milliseconds (exclusive).
    #[ts(type = "number")]
    pub end_ms: i64,
    /// Bucket width in milliseconds.
    #[ts(type = "number")]
    pub bucket_ms: i64,
    /// Bucket width for people (`15 min`).
    pub bucket_label: String,
    /// The actions present, in the action taxonomy's order: the stacking order.
    pub actions: Vec<String>,
    /// Every bucket from `start_ms` to `end_ms`, empty ones included, oldest first.
    pub buckets: Vec<HistogramBucket>,
    /// Matching events in all buckets.
    #[ts(type = "number")]
    pub total: i64,
}

// --- The mailbox activity view (`mailbox.rs`) ---

/// A client session in the mailbox activity view: events with one key (session id; else client IP +
/// client family; else the server), with no silence longer than 30 minutes between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MailboxSession {
    /// The session's id in this view: the id of its first event (decimal).
    pub id: String,
    /// `session-id`, `ip-client` or `server` (records with neither, such as deliveries).
    pub kind: String,
    /// The record's session id (legacy `ClientSessionId`, UAL `SessionId`), if grouped by it.
    pub session_id: Option<String>,
    /// First event time, ISO 8601 UTC.
    pub first_time: String,
    /// First event time, Unix milliseconds.
    #[ts(type = "number")]
    pub first_ms: i64,
    /// Last event time so far, ISO 8601 UTC.
    pub last_time: String,
    /// Last event time so far, Unix milliseconds.
    #[ts(type = "number")]
    pub last_ms: i64,
    /// Client IPs, in order of appearance.
    pub ips: Vec<String>,
    /// Client family (OWA, Outlook desktop, Browser, …).
    pub client: Option<String>,
    /// Application (name, id, or legacy `AppIdType`).
    pub app: Option<String>,
    /// The first user agent or client info string seen.
    pub user_agent: Option<String>,
    /// Events so far (keystrokes included).
    #[ts(type = "number")]
    pub events: i64,
    /// Events per action, most first.
    pub counts: Vec<ActionCount>,
    /// Whether the session may continue on the next page (its summary will then grow).
    pub open: bool,
}

/// How many events of one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ActionCount {
    /// Action category.
    pub action: String,
    /// Events.
    #[ts(type = "number")]
    pub count: i64,
}

/// A reading-pane (or inspector) display start or end, and its partner if found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PaneTiming {
    /// `start` or `end`.
    pub marker: String,
    /// The partner entry's id (the end of a start, the start of an end); `null` when unpaired.
    pub paired_id: Option<String>,
    /// How long the message was displayed, when paired.
    #[ts(type = "number | null")]
    pub duration_ms: Option<i64>,
}

/// A search typed keystroke by keystroke (legacy `SearchSuggestionsDisplay`) and what it became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TypedSearch {
    /// What was typed, step by step, ending with the search run, if different.
    pub keystrokes: Vec<String>,
    /// The steps joined for reading: `i → in → inv → invoice`.
    pub progression: String,
    /// The search it became (the `SearchResult` query), else the last thing typed.
    pub query: String,
    /// The `SearchResult` event that completed it, if any.
    pub result_id: Option<String>,
    /// Ids of the further records folded into this entry (keystrokes after the first, the result).
    pub absorbed_ids: Vec<String>,
}

/// One line of the mailbox activity stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MailboxEntry {
    /// The event id (time key, decimal); for a typed search, its first keystroke.
    pub id: String,
    /// Event time, ISO 8601 UTC with milliseconds.
    pub time: String,
    /// Event time, Unix milliseconds.
    #[ts(type = "number")]
    pub time_ms: i64,
    /// The [`MailboxSession::id`] it belongs to.
    pub session: String,
    /// Action category.
    pub action: String,
    /// Operation, verbatim (legacy: the `ActivityIdType`).
    pub operation: String,
    /// Subject of the message (or the search text).
    pub subject: Option<String>,
    /// Sender of the message, where known.
    pub sender: Option<String>,
    /// The event (`MessageDelivered`) that named subject and sender of a legacy item, if resolved.
    pub resolved_from: Option<String>,
    /// Folders.
    pub folders: Vec<String>,
    /// Internet message ids.
    pub message_ids: Vec<String>,
    /// Legacy `ActivityItemId`.
    pub item_id: Option<String>,
    /// Client IP.
    pub client_ip: Option<String>,
    /// What else the record says: attachment action, rule or forwarding parameters, destination
    /// folder, access type, user agent of a sign-in.
    pub detail: Option<String>,
    /// Reading-pane timing.
    pub pane: Option<PaneTiming>,
    /// The keystrokes of a typed search.
    pub search: Option<TypedSearch>,
}

/// One page of the mailbox activity view. Pass `next` back to continue; `null` means the end.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct MailboxPage {
    /// The mailbox shown.
    pub mailbox: String,
    /// Entries in time order.
    pub entries: Vec<MailboxEntry>,
    /// The sessions of these entries (summaries as of the page's end), by first time.
    pub sessions: Vec<MailboxSession>,
    /// Cursor for the next page (opaque).
    pub next: Option<String>,
}

/// The five reports of LMG's Magic Unicorn tool over legacy Outlook activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ReportKind {
    /// `-logon-activity`: ServerLogon and Logon.
    Logons,
    /// `-read-activity-by-time`: reading-pane starts and ends in time order.
    ReadsByTime,
    /// `-read-activity-by-item`: the same, grouped by `ActivityItemId`.
    ReadsByItem,
    /// `-search-activity`: searches and typed suggestions.
    Searches,
    /// `-attachments-activity`: attachments opened.
    Attachments,
}

/// One report row; `cells` line up with [`MailboxReport::columns`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportRow {
    /// The event it comes from.
    pub event_id: String,
    /// The `ActivityItemId` it is grouped under (reads by item).
    pub group: Option<String>,
    /// The cells, as text.
    pub cells: Vec<String>,
}

/// A legacy report (or one page of it).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct MailboxReport {
    /// Which report.
    pub kind: ReportKind,
    /// Its title.
    pub title: String,
    /// Column names, exactly as Magic Unicorn wrote them.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<ReportRow>,
    /// Cursor for the next page (opaque); `null` at the end.
    pub next: Option<String>,
}

/// A legacy report written to a file.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ReportExport {
    /// Which report.
    pub kind: ReportKind,
    /// The file written.
    pub path: String,
    /// Rows written (header lines not counted).
    #[ts(type = "number")]
    pub rows: i64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

/// Which events an export covers. The UI sends it as `{ kind: "query", query: "op:Send" }`,
/// `{ kind: "selection", ids: [...] }`, `{ kind: "bookmarked" }` or `{ kind: "tagged", tag: "phishing" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExportScope {
    /// The events the query text selects (empty: every event).
    Query {
        /// The query as typed.
        query: String,
    },
    /// Events picked one by one, by id (decimal strings, as in [`EventRow::id`]).
    Selection {
        /// Event ids.
        ids: Vec<String>,
    },
    /// Every bookmarked event.
    Bookmarked,
    /// Every event carrying a tag (by name, ignoring case).
    Tagged {
        /// The tag's name.
        tag: String,
    },
}

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// RFC 4180 CSV, UTF-8 with BOM (so Excel reads it as UTF-8), CRLF.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// An Excel workbook: one column per field, real datetimes, filters on the header, split into
    /// sheets of at most 1,048,576 rows.
    Xlsx,
    /// A self-contained HTML report (one file, no scripts, no external resources) with the case's notes.
    Html,
}

/// Which columns an export has, in which order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnProfile {
    /// A named preset (`timeline`, `full`, `network`, `messages`).
    Preset {
        /// The preset's name.
        name: String,
    },
    /// Columns chosen one by one, by name.
    Custom {
        /// Column names, in order.
        columns: Vec<String>,
    },
}

/// What the investigator asked to export, as the UI sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportRequest {
    /// Which events.
    pub scope: ExportScope,
    /// Which file format.
    pub format: ExportFormat,
    /// Which columns; `null` takes the format's default (`full`; `timeline` for HTML).
    pub columns: Option<ColumnProfile>,
    /// `UTC`, `local`, or an IANA zone such as `Europe/Berlin`; every time in the export is shown in it.
    pub time_zone: String,
    /// The file to write (the manifest goes beside it).
    pub path: String,
}

/// Progress of a running export, sent as the `export-progress` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportProgress {
    /// Rows written so far.
    #[ts(type = "number")]
    pub rows: u64,
    /// Rows the export will have.
    #[ts(type = "number")]
    pub total: u64,
    /// Time since the export started.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// Rows per second so far.
    #[ts(type = "number")]
    pub rows_per_s: u64,
    /// Every row is written and the file is being completed (an XLSX workbook is compressed now).
    pub finishing: bool,
}

/// One sheet of an XLSX export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportSheet {
    /// Sheet name (`Events`, `Events 2`, …).
    pub name: String,
    /// Event rows on it (the header row not counted).
    #[ts(type = "number")]
    pub rows: u64,
}

/// One file an export wrote, as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportedFile {
    /// Path of the file.
    pub path: String,
    /// Size in bytes.
    #[ts(type = "number")]
    pub size: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// The sheets of an XLSX workbook, in order (empty for other formats).
    pub sheets: Vec<ExportSheet>,
}

/// The manifest written beside an export (`<file>.manifest.json`) and recorded in the case log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportManifest {
    /// Always "Tidemark".
    pub tool: String,
    /// Tidemark version.
    pub tool_version: String,
    /// When the export was made (the writer's clock), ISO 8601 UTC.
    pub created_at: String,
    /// Case name.
    pub case_name: String,
    /// Case file path.
    pub case_path: String,
    /// Case id.
    pub case_id: String,
    /// Which events.
    pub scope: ExportScope,
    /// The scope in words (`query "op:Send"`, `bookmarked events`, …).
    pub scope_description: String,
    /// The query as typed (empty unless the scope is a query).
    pub query: String,
    /// Export format.
    pub format: ExportFormat,
    /// Column profile: a preset's name or `custom`.
    pub profile: String,
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Time zone of every time in the export (`UTC` or an IANA name).
    pub time_zone: String,
    /// Rows written.
    #[ts(type = "number")]
    pub rows: u64,
    /// SHA-256 over the SHA-256 of each listed event's raw record (32 bytes each, in export order): one
    /// value that ties the export to the evidence.
    pub raw_records_sha256: String,
    /// Text cells cut to Excel's 32,767-character limit (XLSX only; the JSONL export keeps them whole).
    #[ts(type = "number")]
    pub truncated_cells: u64,
    /// The offline IP data that answered the IP columns (name, date, licence, credit), as its licence
    /// asks; empty when the case has no addresses.
    pub ip_data: Vec<crate::ipinfo::IpDataSet>,
    /// Files written.
    pub files: Vec<ExportedFile>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportResult {
    /// The manifest (also written to `manifest_path`).
    pub manifest: ExportManifest,
    /// Where the manifest is.
    pub manifest_path: String,
    /// SHA-256 of the manifest file (recorded in the case log).
    pub manifest_sha256: String,
    /// Wall time.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
}

/// A column an export can have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportColumnInfo {
    /// Name used in profiles, CSV headers and JSON keys.
    pub name: String,
    /// Heading for people (XLSX, HTML).
    pub label: String,
    /// What it holds.
    pub description: String,
}

/// A named column profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportPreset {
    /// Preset name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Column names, in order.
    pub columns: Vec<String>,
}

/// What the export dialog can offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportOptions {
    /// Every column, in the `full` order.
    pub columns: Vec<ExportColumnInfo>,
    /// Named presets.
    pub presets: Vec<ExportPreset>,
    /// Formats.
    pub formats: Vec<ExportFormat>,
}
