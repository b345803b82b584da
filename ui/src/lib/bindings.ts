// Generated from Rust by ts-rs (tidemark-core `typescript_bindings`); `cargo test` checks that this file is current.
// Do not edit by hand: change the Rust types and run `TIDEMARK_BLESS=1 cargo test --workspace bindings`.

export type AcquiredFile = { 
/**
 * Path as given at import time (`archive.zip › member.json` for archive members).
 */
path: string, 
/**
 * Size in bytes (decompressed for archive members and gzip).
 */
size: number, 
/**
 * SHA-256 of the whole input as read, lowercase hex.
 */
sha256: string, 
/**
 * Format id the file was read as.
 */
format: string, 
/**
 * The format's name for people.
 */
format_name: string, 
/**
 * Text encoding (`utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be`).
 */
encoding: string, 
/**
 * The archive or gzip file it came from.
 */
container: string | null, 
/**
 * Records read from it.
 */
records: number, 
/**
 * New events it added.
 */
new_events: number, 
/**
 * Records already in the case (or earlier in this import).
 */
duplicates: number, 
/**
 * Records that could not be normalized (kept raw).
 */
malformed: number, 
/**
 * Where the first malformed records are, with why.
 */
malformed_at: Array<string>, 
/**
 * Earliest event time in it.
 */
first_time: string | null, 
/**
 * Latest event time in it.
 */
last_time: string | null, };

export type Acquisition = { 
/**
 * Acquisition number within the case.
 */
id: number, 
/**
 * `import` or `collection`.
 */
kind: string, 
/**
 * Format id or API source.
 */
source: string, 
/**
 * Parameters as JSON (never secrets).
 */
parameters: string, 
/**
 * Who ran it (OS user name).
 */
operator: string, 
/**
 * Tidemark version that ran it.
 */
tool_version: string, 
/**
 * When it started.
 */
started_at: string, 
/**
 * When it ended, if it did.
 */
finished_at: string | null, 
/**
 * `running`, `completed`, `failed` or `interrupted`.
 */
status: string, 
/**
 * Records read.
 */
records_read: number, 
/**
 * Events that were new to the case.
 */
events_new: number, 
/**
 * Records already in the case (kept as raw occurrences).
 */
duplicates: number, 
/**
 * Records that could not be normalized (kept raw).
 */
malformed: number, 
/**
 * Input files.
 */
files: Array<AcquiredFile>, };

export type AppInfo = { 
/**
 * Tidemark version.
 */
version: string, 
/**
 * The demo case, if one was prepared.
 */
demo_case: string | null, 
/**
 * A case passed on the command line, to open at once.
 */
initial_case: string | null, 
/**
 * Recently opened cases, newest first.
 */
recent: Array<RecentCase>, };

export type CaseSummary = { 
/**
 * Case file path.
 */
path: string, 
/**
 * Case name.
 */
name: string, 
/**
 * When the case was created.
 */
created_at: string, 
/**
 * Tidemark version that created it.
 */
tool_version: string, 
/**
 * IANA zone (or `UTC`) used for display.
 */
display_time_zone: string, 
/**
 * Distinct events.
 */
events: number, 
/**
 * Raw records (every occurrence, malformed included).
 */
raw_records: number, 
/**
 * Raw records that could not be normalized.
 */
malformed: number, 
/**
 * Raw records that repeated an event already in the case.
 */
duplicates: number, 
/**
 * Earliest event time.
 */
first_time: string | null, 
/**
 * Latest event time.
 */
last_time: string | null, 
/**
 * Every import and collection, oldest first.
 */
acquisitions: Array<Acquisition>, };

export type ErrorBody = { 
/**
 * Branch on this.
 */
code: ErrorCode, 
/**
 * Show this.
 */
message: string, 
/**
 * Show this collapsed.
 */
detail: string | null, };

export type ErrorCode = "case.not_found" | "case.not_a_case" | "case.newer_schema" | "case.exists" | "case.none_open" | "import.unreadable" | "import.unknown_format" | "import.cancelled" | "query.invalid" | "event.not_found" | "export.failed" | "io" | "internal";

export type EventDetail = { 
/**
 * The normalized fields.
 */
event: EventRow, 
/**
 * De-duplication key (e.g. the UAL record Id).
 */
record_key: string, 
/**
 * Every internet message id the record names.
 */
internet_message_ids: Array<string>, 
/**
 * Extra normalized details, pretty JSON.
 */
details: string, 
/**
 * Every occurrence of the record, first first.
 */
raw: Array<RawOccurrence>, };

export type EventRow = { 
/**
 * Event id (time key), decimal.
 */
id: string, 
/**
 * Event time, ISO 8601 UTC with milliseconds.
 */
time: string, 
/**
 * Event time, Unix milliseconds.
 */
time_ms: number, 
/**
 * Source format or API.
 */
source: string, 
/**
 * M365 workload.
 */
workload: string | null, 
/**
 * Record type, as given.
 */
record_type: string | null, 
/**
 * Operation, verbatim.
 */
operation: string, 
/**
 * Normalized action category.
 */
action: string, 
/**
 * Who did it.
 */
actor: string | null, 
/**
 * Whose mailbox.
 */
mailbox: string | null, 
/**
 * Client IP without port or brackets.
 */
client_ip: string | null, 
/**
 * Client port, if the record gave one.
 */
client_port: number | null, 
/**
 * Client family (OWA, Outlook desktop, REST/Graph, …).
 */
client_app: string | null, 
/**
 * User agent or client info string.
 */
user_agent: string | null, 
/**
 * Application id.
 */
app_id: string | null, 
/**
 * Session id.
 */
session_id: string | null, 
/**
 * Result status, verbatim.
 */
result: string | null, 
/**
 * Subject (or search text for searches).
 */
subject: string | null, 
/**
 * Folder paths, `; `-separated.
 */
folders: string | null, 
/**
 * Items the record covers.
 */
item_count: number | null, 
/**
 * Object the operation acted on.
 */
object: string | null, };

export type ImportProgress = { 
/**
 * Files finished.
 */
files_done: number, 
/**
 * Files in this import.
 */
files_total: number, 
/**
 * The file being read.
 */
current_file: string, 
/**
 * Bytes read so far.
 */
bytes_done: number, 
/**
 * Bytes in all files (an estimate for gzip).
 */
bytes_total: number, 
/**
 * Records written so far.
 */
records: number, 
/**
 * Time since the import started.
 */
elapsed_ms: number, 
/**
 * Records per second so far.
 */
records_per_s: number, 
/**
 * Estimated time left, from the bytes still to read.
 */
eta_ms: number | null, };

export type ImportReport = { 
/**
 * The acquisition that records it.
 */
acquisition_id: number, 
/**
 * Files read.
 */
files: Array<AcquiredFile>, 
/**
 * Records read.
 */
read: number, 
/**
 * New events.
 */
new_events: number, 
/**
 * Records already in the case.
 */
duplicates: number, 
/**
 * Records that could not be normalized (kept raw).
 */
malformed: number, 
/**
 * The first malformed records (at most 20), with their locations.
 */
malformed_samples: Array<Malformed>, 
/**
 * Files inside picked folders or archives that are not audit data (README, logs …), not imported.
 */
skipped: Array<SkippedFile>, 
/**
 * Wall time.
 */
elapsed_ms: number, 
/**
 * Time the worker stage (split, hash, compress, normalize) was busy. With `writer_busy_ms`, says
 * which stage limits the import.
 */
worker_busy_ms: number, 
/**
 * Time the writer stage (SQLite: raw records, events, indexes) was busy.
 */
writer_busy_ms: number, };

export type Malformed = { 
/**
 * Where it is.
 */
locator: string, 
/**
 * What is wrong with it.
 */
error: string, };

export type Page = { 
/**
 * Rows in the requested order.
 */
rows: Array<EventRow>, 
/**
 * Cursor for the next page.
 */
next: string | null, };

export type RawOccurrence = { 
/**
 * Raw record number.
 */
raw_id: number, 
/**
 * Acquisition that received it.
 */
acquisition_id: number, 
/**
 * Format or API source.
 */
source_format: string, 
/**
 * File and line/byte offset, or URL and page.
 */
locator: string, 
/**
 * SHA-256 of the original bytes, lowercase hex.
 */
sha256: string, 
/**
 * Size of the original bytes.
 */
size: number, 
/**
 * When it was received.
 */
received_at: string, 
/**
 * Pretty-printed JSON if the record is JSON, else the verbatim text.
 */
text: string, 
/**
 * The original bytes as text (lossy only if they were not UTF-8).
 */
verbatim: string, };

export type RecentCase = { 
/**
 * Case file path.
 */
path: string, 
/**
 * Case name.
 */
name: string, 
/**
 * Events when last opened.
 */
events: number, 
/**
 * When it was last opened.
 */
last_opened: string, 
/**
 * Whether the file is still there.
 */
exists: boolean, };

export type SearchCount = { 
/**
 * Matching events.
 */
matching: number, 
/**
 * All events in the case.
 */
total: number, 
/**
 * Earliest matching time.
 */
first_time: string | null, 
/**
 * Latest matching time.
 */
last_time: string | null, };

export type SkippedFile = { 
/**
 * Where it is.
 */
path: string, 
/**
 * Why it was not imported.
 */
reason: string, };

export type SortOrder = "asc" | "desc";
