// Generated from Rust by ts-rs (tidemark-core `typescript_bindings`); `cargo test` checks that this file is current.
// Do not edit by hand: change the Rust types and run `TIDEMARK_BLESS=1 cargo test --workspace bindings`.

export type AccountSession = { 
/**
 * The id of its first event (decimal): stable, and what the timeline can jump to.
 */
id: string, 
/**
 * `session-id` (grouped by the records' session id) or `ip-client` (by address and client).
 */
kind: string, 
/**
 * The session id, when grouped by it.
 */
session_id: string | null, 
/**
 * First event, ISO 8601 UTC.
 */
first_time: string, 
/**
 * Last event, ISO 8601 UTC.
 */
last_time: string, 
/**
 * Client addresses, in order of appearance.
 */
ips: Array<string>, 
/**
 * Countries of those addresses, sorted.
 */
countries: Array<string>, 
/**
 * Networks (owner, else `AS…`) of those addresses, Microsoft's own left out, sorted.
 */
networks: Array<string>, 
/**
 * Client families, sorted.
 */
clients: Array<string>, 
/**
 * Application ids, sorted.
 */
apps: Array<string>, 
/**
 * Events in it.
 */
events: number, 
/**
 * Events per action, most first.
 */
counts: Array<ActionCount>, 
/**
 * Used from more than one network: a sign of a stolen session (token replay).
 */
replayed: boolean, 
/**
 * Events that were the account's first with some value ("new"), after a day of its history.
 */
new_values: number, };

export type AccountSummary = { 
/**
 * The account (actor, lower-cased).
 */
account: string, 
/**
 * First event, ISO 8601 UTC: the start of its baseline window.
 */
first_time: string, 
/**
 * Last event, ISO 8601 UTC.
 */
last_time: string, 
/**
 * Events with it as actor.
 */
events: number, 
/**
 * Distinct countries, networks, IPs, clients, user agents and apps seen (in [`baseline::KINDS`] order).
 */
distinct: Array<bigint>, 
/**
 * Events that were its first with some value after a day of its history ("new" values).
 */
new_values: number, };

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

export type ActionCount = { 
/**
 * Action category.
 */
action: string, 
/**
 * Events.
 */
count: number, };

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

export type Bookmark = { 
/**
 * Event id, decimal.
 */
event_id: string, 
/**
 * When it was bookmarked.
 */
created_at: string, 
/**
 * The event, or `null` if the case no longer holds it.
 */
event: EventRow | null, };

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

export type ColumnProfile = { "kind": "preset", 
/**
 * The preset's name.
 */
name: string, } | { "kind": "custom", 
/**
 * Column names, in order.
 */
columns: Array<string>, };

export type ContainerReport = { 
/**
 * Path of the archive.
 */
path: string, 
/**
 * Its size in bytes.
 */
size: number, 
/**
 * SHA-256 of the whole archive, lowercase hex.
 */
sha256: string, };

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

export type ErrorCode = "case.not_found" | "case.not_a_case" | "case.newer_schema" | "case.exists" | "case.none_open" | "import.unreadable" | "import.unknown_format" | "import.cancelled" | "query.invalid" | "query.superseded" | "event.not_found" | "export.failed" | "export.cancelled" | "export.invalid" | "case.busy" | "tag.exists" | "tag.not_found" | "note.not_found" | "saved_search.exists" | "saved_search.not_found" | "annotation.invalid" | "collect.keychain_unavailable" | "collect.profile_invalid" | "collect.sign_in_failed" | "collect.sign_in_cancelled" | "collect.sign_in_timeout" | "collect.permission_missing" | "collect.auditing_off" | "collect.outside_retention" | "collect.throttled" | "collect.server_unavailable" | "collect.network" | "collect.bad_response" | "collect.refused" | "collect.activities_disabled" | "collect.query_failed" | "collect.cancelled" | "collect.case" | "collect.nothing_to_resume" | "collect.busy" | "io" | "internal";

export type EventAnnotations = { 
/**
 * Event id, decimal.
 */
event_id: string, 
/**
 * Tags on it, by tag id, ascending.
 */
tag_ids: Array<number>, 
/**
 * Whether it is bookmarked.
 */
bookmarked: boolean, 
/**
 * Notes on this event (not notes on ranges), oldest first.
 */
notes: Array<Note>, };

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
object: string | null, 
/**
 * What the offline IP data says about `client_ip` (none without an address).
 */
ip: IpSummary | null, 
/**
 * The application's name, when Tidemark knows `app_id` (Microsoft's own, or a third-party app known
 * to be abused in mailbox compromises).
 */
app_name: string | null, 
/**
 * Why a known third-party app matters ("mailbox export, used to take copies of mail"), with its source.
 */
app_note: string | null, 
/**
 * What this event was the first of for its account, after a day of the account's history in the
 * case (`country`, `network`, `ip`, `client`, `agent`, `app`): "new for this user".
 */
new: Array<string>, };

export type ExportColumnInfo = { 
/**
 * Name used in profiles, CSV headers and JSON keys.
 */
name: string, 
/**
 * Heading for people (XLSX, HTML).
 */
label: string, 
/**
 * What it holds.
 */
description: string, };

export type ExportFormat = "csv" | "jsonl" | "xlsx" | "html";

export type ExportManifest = { 
/**
 * Always "Tidemark".
 */
tool: string, 
/**
 * Tidemark version.
 */
tool_version: string, 
/**
 * When the export was made (the writer's clock), ISO 8601 UTC.
 */
created_at: string, 
/**
 * Case name.
 */
case_name: string, 
/**
 * Case file path.
 */
case_path: string, 
/**
 * Case id.
 */
case_id: string, 
/**
 * Which events.
 */
scope: ExportScope, 
/**
 * The scope in words (`query "op:Send"`, `bookmarked events`, …).
 */
scope_description: string, 
/**
 * The query as typed (empty unless the scope is a query).
 */
query: string, 
/**
 * Export format.
 */
format: ExportFormat, 
/**
 * Column profile: a preset's name or `custom`.
 */
profile: string, 
/**
 * Column names, in order.
 */
columns: Array<string>, 
/**
 * Time zone of every time in the export (`UTC` or an IANA name).
 */
time_zone: string, 
/**
 * Rows written.
 */
rows: number, 
/**
 * SHA-256 over the SHA-256 of each listed event's raw record (32 bytes each, in export order): one
 * value that ties the export to the evidence.
 */
raw_records_sha256: string, 
/**
 * Text cells cut to Excel's 32,767-character limit (XLSX only; the JSONL export keeps them whole).
 */
truncated_cells: number, 
/**
 * The offline IP data that answered the IP columns (name, date, licence, credit), as its licence
 * asks; empty when the case has no addresses.
 */
ip_data: Array<IpDataSet>, 
/**
 * Files written.
 */
files: Array<ExportedFile>, };

export type ExportOptions = { 
/**
 * Every column, in the `full` order.
 */
columns: Array<ExportColumnInfo>, 
/**
 * Named presets.
 */
presets: Array<ExportPreset>, 
/**
 * Formats.
 */
formats: Array<ExportFormat>, };

export type ExportPreset = { 
/**
 * Preset name.
 */
name: string, 
/**
 * What it is for.
 */
description: string, 
/**
 * Column names, in order.
 */
columns: Array<string>, };

export type ExportProgress = { 
/**
 * Rows written so far.
 */
rows: number, 
/**
 * Rows the export will have.
 */
total: number, 
/**
 * Time since the export started.
 */
elapsed_ms: number, 
/**
 * Rows per second so far.
 */
rows_per_s: number, 
/**
 * Every row is written and the file is being completed (an XLSX workbook is compressed now).
 */
finishing: boolean, };

export type ExportRequest = { 
/**
 * Which events.
 */
scope: ExportScope, 
/**
 * Which file format.
 */
format: ExportFormat, 
/**
 * Which columns; `null` takes the format's default (`full`; `timeline` for HTML).
 */
columns: ColumnProfile | null, 
/**
 * `UTC`, `local`, or an IANA zone such as `Europe/Berlin`; every time in the export is shown in it.
 */
time_zone: string, 
/**
 * The file to write (the manifest goes beside it).
 */
path: string, };

export type ExportResult = { 
/**
 * The manifest (also written to `manifest_path`).
 */
manifest: ExportManifest, 
/**
 * Where the manifest is.
 */
manifest_path: string, 
/**
 * SHA-256 of the manifest file (recorded in the case log).
 */
manifest_sha256: string, 
/**
 * Wall time.
 */
elapsed_ms: number, };

export type ExportScope = { "kind": "query", 
/**
 * The query as typed.
 */
query: string, } | { "kind": "selection", 
/**
 * Event ids.
 */
ids: Array<string>, } | { "kind": "bookmarked" } | { "kind": "tagged", 
/**
 * The tag's name.
 */
tag: string, };

export type ExportSheet = { 
/**
 * Sheet name (`Events`, `Events 2`, …).
 */
name: string, 
/**
 * Event rows on it (the header row not counted).
 */
rows: number, };

export type ExportedFile = { 
/**
 * Path of the file.
 */
path: string, 
/**
 * Size in bytes.
 */
size: number, 
/**
 * SHA-256 of the file, lowercase hex.
 */
sha256: string, 
/**
 * The sheets of an XLSX workbook, in order (empty for other formats).
 */
sheets: Array<ExportSheet>, };

export type Facet = { 
/**
 * Which field.
 */
field: FacetField, 
/**
 * The most frequent values, most frequent first (ties by value).
 */
values: Array<FacetValue>, 
/**
 * Distinct non-empty values among the matching events.
 */
distinct: number, 
/**
 * Matching events where the field is empty.
 */
empty: number, 
/**
 * Matching events with a value not in `values`.
 */
other: number, };

export type FacetField = "actor" | "mailbox" | "action" | "operation" | "client_ip" | "client_app" | "app_id" | "workload" | "source" | "country" | "network";

export type FacetSample = { 
/**
 * Matching events read (whole blocks of time spread evenly over the result's span); every count,
 * `matching` included, was scaled up from them. `distinct` then counts the values seen in the sample.
 */
events: number, };

export type FacetValue = { 
/**
 * The value as stored.
 */
value: string, 
/**
 * A name for the value when it is an id Tidemark can name (application ids).
 */
label: string | null, 
/**
 * Matching events with it.
 */
count: number, 
/**
 * The query term that selects it (`actor:"adele@contoso.com"`); prefix `-` to exclude it.
 */
filter: string, };

export type Facets = { 
/**
 * Matching events.
 */
matching: number, 
/**
 * One entry per field, in [`FacetField::ALL`] order, then [`FacetField::DERIVED`].
 */
fields: Array<Facet>, 
/**
 * Set when the counts (and `matching`) are estimates from a sample of the matching events (a large
 * result, counted fast); `None` when every matching event was counted.
 */
sample: FacetSample | null, };

export type Histogram = { 
/**
 * Start of the first bucket, Unix milliseconds (aligned in UTC).
 */
start_ms: number, 
/**
 * End of the last bucket, Unix milliseconds (exclusive).
 */
end_ms: number, 
/**
 * Bucket width in milliseconds.
 */
bucket_ms: number, 
/**
 * Bucket width for people (`15 min`).
 */
bucket_label: string, 
/**
 * The actions present, in the action taxonomy's order: the stacking order.
 */
actions: Array<string>, 
/**
 * Every bucket from `start_ms` to `end_ms`, empty ones included, oldest first.
 */
buckets: Array<HistogramBucket>, 
/**
 * Matching events in all buckets.
 */
total: number, };

export type HistogramBucket = { 
/**
 * Start of the bucket, ISO 8601 UTC.
 */
start: string, 
/**
 * Start of the bucket, Unix milliseconds (the bucket ends `bucket_ms` later, exclusive).
 */
start_ms: number, 
/**
 * Matching events in it.
 */
total: number, 
/**
 * Matching events in it per action, in the order of [`Histogram::actions`].
 */
counts: Array<number>, };

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
 * Archives and gzip files the inputs came out of, with their own hashes (the bytes as received).
 */
containers: Array<ContainerReport>, 
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
writer_busy_ms: number, 
/**
 * Of the writer's time, what went to the IP context and the accounts' baselines (enrichment).
 */
context_busy_ms: number, };

export type IpCard = { 
/**
 * The address as the events give it.
 */
ip: string, 
/**
 * ISO 3166 country code.
 */
country: string | null, 
/**
 * Country name in English, when the code is known.
 */
country_name: string | null, 
/**
 * Autonomous system number.
 */
asn: number | null, 
/**
 * The network's owner.
 */
network: string | null, 
/**
 * `public`, `microsoft`, `hosting`, `vpn`, `private`, `reserved` or `not-an-address`.
 */
class: string, 
/**
 * The class in words ("Hosting / cloud").
 */
class_label: string, 
/**
 * Why a special address is special, in words.
 */
note: string | null, 
/**
 * First event from this address in the case, ISO 8601 UTC.
 */
first_seen: string | null, 
/**
 * Last event from this address.
 */
last_seen: string | null, 
/**
 * Events from this address.
 */
events: number, 
/**
 * Accounts seen acting from this address (at most 50, sorted).
 */
accounts: Array<string>, 
/**
 * Which data answered.
 */
data: IpDataSet | null, };

export type IpDataSet = { 
/**
 * Name for people.
 */
name: string, 
/**
 * Package versions.
 */
version: string, 
/**
 * Date of the data.
 */
date: string, 
/**
 * Licence.
 */
licence: string, 
/**
 * The attribution the licence asks for.
 */
credit: string, };

export type IpSummary = { 
/**
 * ISO 3166 country code.
 */
country: string | null, 
/**
 * Autonomous system number.
 */
asn: number | null, 
/**
 * `public`, `microsoft`, `hosting`, `vpn`, `private`, `reserved` or `not-an-address`.
 */
class: string, 
/**
 * The network's owner.
 */
network: string | null, };

export type MailboxEntry = { 
/**
 * The event id (time key, decimal); for a typed search, its first keystroke.
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
 * The [`MailboxSession::id`] it belongs to.
 */
session: string, 
/**
 * Action category.
 */
action: string, 
/**
 * Operation, verbatim (legacy: the `ActivityIdType`).
 */
operation: string, 
/**
 * Subject of the message (or the search text).
 */
subject: string | null, 
/**
 * Sender of the message, where known.
 */
sender: string | null, 
/**
 * The event (`MessageDelivered`) that named subject and sender of a legacy item, if resolved.
 */
resolved_from: string | null, 
/**
 * Folders.
 */
folders: Array<string>, 
/**
 * Internet message ids.
 */
message_ids: Array<string>, 
/**
 * Legacy `ActivityItemId`.
 */
item_id: string | null, 
/**
 * Client IP.
 */
client_ip: string | null, 
/**
 * What else the record says: attachment action, rule or forwarding parameters, destination
 * folder, access type, user agent of a sign-in.
 */
detail: string | null, 
/**
 * Reading-pane timing.
 */
pane: PaneTiming | null, 
/**
 * The keystrokes of a typed search.
 */
search: TypedSearch | null, };

export type MailboxPage = { 
/**
 * The mailbox shown.
 */
mailbox: string, 
/**
 * Entries in time order.
 */
entries: Array<MailboxEntry>, 
/**
 * The sessions of these entries (summaries as of the page's end), by first time.
 */
sessions: Array<MailboxSession>, 
/**
 * Cursor for the next page (opaque).
 */
next: string | null, };

export type MailboxReport = { 
/**
 * Which report.
 */
kind: ReportKind, 
/**
 * Its title.
 */
title: string, 
/**
 * Column names, exactly as Magic Unicorn wrote them.
 */
columns: Array<string>, 
/**
 * Rows.
 */
rows: Array<ReportRow>, 
/**
 * Cursor for the next page (opaque); `null` at the end.
 */
next: string | null, };

export type MailboxSession = { 
/**
 * The session's id in this view: the id of its first event (decimal).
 */
id: string, 
/**
 * `session-id`, `ip-client` or `server` (records with neither, such as deliveries).
 */
kind: string, 
/**
 * The record's session id (legacy `ClientSessionId`, UAL `SessionId`), if grouped by it.
 */
session_id: string | null, 
/**
 * First event time, ISO 8601 UTC.
 */
first_time: string, 
/**
 * First event time, Unix milliseconds.
 */
first_ms: number, 
/**
 * Last event time so far, ISO 8601 UTC.
 */
last_time: string, 
/**
 * Last event time so far, Unix milliseconds.
 */
last_ms: number, 
/**
 * Client IPs, in order of appearance.
 */
ips: Array<string>, 
/**
 * Client family (OWA, Outlook desktop, Browser, …).
 */
client: string | null, 
/**
 * Application (name, id, or legacy `AppIdType`).
 */
app: string | null, 
/**
 * The first user agent or client info string seen.
 */
user_agent: string | null, 
/**
 * Events so far (keystrokes included).
 */
events: number, 
/**
 * Events per action, most first.
 */
counts: Array<ActionCount>, 
/**
 * Whether the session may continue on the next page (its summary will then grow).
 */
open: boolean, };

export type Malformed = { 
/**
 * Where it is.
 */
locator: string, 
/**
 * What is wrong with it.
 */
error: string, };

export type Note = { 
/**
 * Note number within the case.
 */
id: number, 
/**
 * The event it is about (decimal), for a note on an event.
 */
event_id: string | null, 
/**
 * Start of the range (ISO 8601 UTC), for a note on a time range.
 */
start: string | null, 
/**
 * End of the range, inclusive (ISO 8601 UTC), for a note on a time range.
 */
end: string | null, 
/**
 * Start of the range, Unix milliseconds.
 */
start_ms: number | null, 
/**
 * End of the range, Unix milliseconds (inclusive).
 */
end_ms: number | null, 
/**
 * What the investigator wrote (plain text, rendered as text).
 */
body: string, 
/**
 * When it was written.
 */
created_at: string, 
/**
 * When it was last edited.
 */
updated_at: string, };

export type Page = { 
/**
 * Rows in the requested order.
 */
rows: Array<EventRow>, 
/**
 * Cursor for the next page.
 */
next: string | null, };

export type PaneTiming = { 
/**
 * `start` or `end`.
 */
marker: string, 
/**
 * The partner entry's id (the end of a start, the start of an end); `null` when unpaired.
 */
paired_id: string | null, 
/**
 * How long the message was displayed, when paired.
 */
duration_ms: number | null, };

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

export type ReenrichReport = { 
/**
 * Addresses answered again.
 */
addresses: number, 
/**
 * Addresses whose country, network or class changed.
 */
changed: number, 
/**
 * The data set that answered.
 */
data: IpDataSet, };

export type ReportExport = { 
/**
 * Which report.
 */
kind: ReportKind, 
/**
 * The file written.
 */
path: string, 
/**
 * Rows written (header lines not counted).
 */
rows: number, 
/**
 * SHA-256 of the file, lowercase hex.
 */
sha256: string, };

export type ReportKind = "logons" | "reads-by-time" | "reads-by-item" | "searches" | "attachments";

export type ReportRow = { 
/**
 * The event it comes from.
 */
event_id: string, 
/**
 * The `ActivityItemId` it is grouped under (reads by item).
 */
group: string | null, 
/**
 * The cells, as text.
 */
cells: Array<string>, };

export type SavedSearch = { 
/**
 * Saved-search number within the case.
 */
id: number, 
/**
 * Name (unique, ignoring case).
 */
name: string, 
/**
 * The query text, as typed.
 */
query: string, 
/**
 * When it was saved.
 */
created_at: string, };

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

export type Tag = { 
/**
 * Tag number within the case.
 */
id: number, 
/**
 * Name as shown and as typed after `tag:` (unique, ignoring case).
 */
name: string, 
/**
 * Colour, `#rrggbb` (lowercase).
 */
color: string, 
/**
 * When it was created.
 */
created_at: string, 
/**
 * Events carrying it.
 */
events: number, };

export type TagChange = { 
/**
 * The tag afterwards (with its new event count).
 */
tag: Tag, 
/**
 * Events that gained (or lost) the tag; events that already had (or lacked) it are not counted.
 */
changed: number, };

export type TypedSearch = { 
/**
 * What was typed, step by step, ending with the search run, if different.
 */
keystrokes: Array<string>, 
/**
 * The steps joined for reading: `i → in → inv → invoice`.
 */
progression: string, 
/**
 * The search it became (the `SearchResult` query), else the last thing typed.
 */
query: string, 
/**
 * The `SearchResult` event that completed it, if any.
 */
result_id: string | null, 
/**
 * Ids of the further records folded into this entry (keystrokes after the first, the result).
 */
absorbed_ids: Array<string>, };
