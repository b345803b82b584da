//! Import: files → raw records → events → full-text index, in a two-stage pipeline.
//!
//! Stage one (a worker thread) cuts each input into records, hashes each with SHA-256, compresses it
//! and normalizes it. Stage two (the calling thread, which owns the write connection) de-duplicates
//! by record key, assigns time-keyed event ids, and writes raw records, events and both FTS indexes,
//! one transaction per batch with rows sorted by id (FTS5 starts a new segment whenever the rowid goes
//! backwards inside a transaction). On two cores this keeps both busy; see
//! `shared/docs/ingest-performance.md` for the measurements behind each choice.
//!
//! Nothing is dropped: a record that cannot be normalized is stored raw with its error and counted;
//! a record seen before adds a raw occurrence pointing at the existing event.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use tidemark_formats::container::{self, Expansion};
use tidemark_formats::encoding::Encoding;
use tidemark_formats::{Format, FormatRegistry, NormalizedEvent, RawUnit, HEAD_BYTES};

use crate::case::{CaseWriter, TOOL_VERSION};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{AcquiredFile, ContainerReport, ImportProgress, ImportReport, Malformed, SkippedFile};
use crate::raw::{self, Encoder};
use crate::rollup::RollupDelta;
use crate::time::{iso_ms, key_base, key_lower, key_upper, SEQ_MAX};

/// Records per batch (and per transaction). FTS5 writes a new index segment at every commit, so
/// larger transactions mean fewer segments to merge: 32 Ki records cut writer time by 30 % against 8 Ki.
const BATCH: usize = 32_768;
/// Batches queued between the stages: one transaction's worth, so a commit never stalls parsing
/// (two measured no faster and cost 130 MiB more).
const QUEUE: usize = 1;
/// How far behind the latest event time the per-millisecond sequence map keeps entries, and the size
/// above which it is pruned.
const SEQ_WINDOW_MS: i64 = 15 * 60 * 1000;
const SEQ_WINDOW_ENTRIES: usize = 100_000;
/// Records cut ahead of preparing them (bounds the cut text in memory).
const CHUNK: usize = 2048;
/// Malformed records listed in a report (all are counted and kept).
const MAX_SAMPLES: usize = 20;
/// Malformed locations listed per file.
const MAX_FILE_SAMPLES: usize = 5;
/// Records a compression dictionary is trained on: enough for a good dictionary, few enough that
/// training stays a small fixed cost per input.
const DICT_SAMPLES: usize = 1500;

/// One input, recognised: where its bytes come from, how they are encoded, and how to read them.
struct Input<'f> {
    source: container::Input,
    encoding: Encoding,
    context: Vec<u8>,
    format: &'f dyn Format,
    container_sha256: Option<Vec<u8>>,
}

struct Prepared {
    line: u64,
    offset: u64,
    sha256: [u8; 32],
    size: usize,
    codec: i64,
    /// The stored bytes: `arena[data.0..data.1]` of the batch.
    data: (usize, usize),
    uses_dict: bool,
    event: std::result::Result<NormalizedEvent, String>,
}

/// A batch's buffers. The writer hands them back, so the worker reuses them instead of allocating
/// (and the kernel zeroing) fresh pages for every batch.
#[derive(Default)]
struct Buffers {
    records: Vec<Prepared>,
    arena: Vec<u8>,
}

enum Message {
    Batch {
        file: usize,
        /// A dictionary trained for this batch's slot, sent with the first batch that uses it.
        dict: Option<Vec<u8>>,
        /// Which of this import's dictionaries the batch's records use.
        dict_slot: usize,
        buffers: Buffers,
    },
    /// A file has been read to its end: its size and SHA-256 (of the bytes as received).
    FileDone {
        file: usize,
        size: u64,
        sha256: [u8; 32],
    },
    Failed(Error),
}

fn unreadable(display: &str, e: &std::io::Error) -> Error {
    Error::new(
        ErrorCode::ImportUnreadable,
        format!("{display} could not be read: {e}. Nothing more was imported from it."),
    )
    .with_detail(e.to_string())
}

/// Reads the head of an input for format detection.
fn read_head(input: &container::Input) -> std::io::Result<Vec<u8>> {
    let mut r = input.open()?.take(HEAD_BYTES as u64 + 4);
    let mut head = Vec::with_capacity(HEAD_BYTES);
    r.read_to_end(&mut head)?;
    Ok(head)
}

fn cancelled(records: i64) -> Error {
    let kept = match records {
        0 => "No records had been written yet".to_owned(),
        1 => "The 1 record read before that is kept".to_owned(),
        n => format!("The {} records read before that are kept", thousands(n)),
    };
    Error::new(
        ErrorCode::ImportCancelled,
        format!(
            "The import was stopped. {kept}; import the same files again to add the rest (records already in \
             the case are recognised, not added twice)."
        ),
    )
}

/// `65536` → `65,536`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// 128-bit de-duplication key: a GUID parsed, anything else hashed.
pub(crate) fn key128(key: &str) -> u128 {
    let hex: String = key.chars().filter(|c| *c != '-').collect();
    if hex.len() == 32 && key.len() <= 38 {
        if let Ok(v) = u128::from_str_radix(&hex, 16) {
            return v;
        }
    }
    let d = Sha256::digest(key.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    u128::from_be_bytes(b) | 1 // hashed keys are odd; cannot be confused with a nil GUID
}

/// Counts and hashes the bytes of an input as they are read: the file's SHA-256 comes for free with
/// the one pass that imports it.
struct Witness<R> {
    inner: R,
    sha: Arc<std::sync::Mutex<(Sha256, u64)>>,
    progress: Arc<AtomicU64>,
}

impl<R: Read> Read for Witness<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut g) = self.sha.lock() {
            g.0.update(&buf[..n]);
            g.1 += n as u64;
        }
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn prepare(input: &Input<'_>, unit: &RawUnit, enc: &mut Encoder, arena: &mut Vec<u8>) -> Prepared {
    let original = input.encoding.encode_record(&unit.bytes);
    let bytes = original.as_deref().unwrap_or(&unit.bytes);
    let sha: [u8; 32] = Sha256::digest(bytes).into();
    let start = arena.len();
    let (codec, uses_dict) = enc.encode_into(bytes, arena);
    let data = (start, arena.len());
    let event = input.format.normalize(&input.context, &unit.bytes);
    Prepared {
        line: unit.line,
        offset: unit.byte_offset + input.encoding.bom_len() as u64,
        sha256: sha,
        size: bytes.len(),
        codec,
        data,
        uses_dict,
        event,
    }
}

/// Stage one: cut, hash, compress, normalize. Runs on its own thread.
fn produce(
    inputs: &[Input<'_>],
    tx: &crossbeam_channel::Sender<Message>,
    recycled: &crossbeam_channel::Receiver<Buffers>,
    bytes: &Arc<AtomicU64>,
    busy: &AtomicU64,
    cancel: &AtomicBool,
) {
    let mut t = Instant::now();
    let mut shared: Vec<((&str, Encoding), usize, Vec<u8>)> = Vec::new();
    let mut next_slot = 0usize;
    for (i, input) in inputs.iter().enumerate() {
        let raw = match input.source.open() {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Message::Failed(unreadable(&input.source.display, &e)));
                return;
            }
        };
        let sha = Arc::new(std::sync::Mutex::new((Sha256::new(), 0u64)));
        let witness = Witness { inner: raw, sha: sha.clone(), progress: bytes.clone() };
        let text = match input.encoding.text_reader(Box::new(witness)) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Message::Failed(unreadable(&input.source.display, &e)));
                return;
            }
        };
        let mut units = input.format.split(text);
        // Inputs of one format share a dictionary: a folder of 2,000-record Management API blobs
        // would otherwise train (and store) one per file, which costs more than importing them.
        let key = (input.format.id(), input.encoding);
        let mut encoder: Option<(usize, Encoder)> = shared.iter().position(|(k, _, _)| *k == key).and_then(|i| {
            let (_, slot, dict) = &shared[i];
            Encoder::new(Some(dict)).ok().map(|e| (*slot, e))
        });
        // Records are cut a chunk at a time and prepared into the batch straight away, so the cut
        // text of a whole batch never sits in memory at once.
        let mut pending: Vec<RawUnit> = Vec::with_capacity(CHUNK);
        let mut batch: Option<Buffers> = None;
        let mut dict = None;
        let mut dict_slot = 0;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            pending.clear();
            for u in units.by_ref().take(CHUNK) {
                match u {
                    Ok(u) => pending.push(u),
                    Err(e) => {
                        let _ = tx.send(Message::Failed(unreadable(&input.source.display, &e)));
                        return;
                    }
                }
            }
            let last = pending.len() < CHUNK;
            if !pending.is_empty() {
                if encoder.is_none() {
                    let samples: Vec<&[u8]> = pending.iter().take(DICT_SAMPLES).map(|u| u.bytes.as_slice()).collect();
                    let trained = raw::train(&samples);
                    let slot = next_slot;
                    next_slot += 1;
                    match Encoder::new(trained.as_deref()) {
                        Ok(e) => encoder = Some((slot, e)),
                        Err(e) => {
                            let _ = tx.send(Message::Failed(Error::internal(format!("zstd: {e}"))));
                            return;
                        }
                    }
                    if let Some(d) = &trained {
                        shared.push((key, slot, d.clone()));
                    }
                    dict = trained;
                }
                let Some((slot, enc)) = encoder.as_mut() else { return };
                dict_slot = *slot;
                let b = batch.get_or_insert_with(|| {
                    let mut b = recycled.try_recv().unwrap_or_default();
                    b.records.clear();
                    b.arena.clear();
                    b
                });
                for u in &pending {
                    let p = prepare(input, u, enc, &mut b.arena);
                    b.records.push(p);
                }
            }
            let full = batch.as_ref().is_some_and(|b| b.records.len() >= BATCH);
            if full || last {
                if let Some(buffers) = batch.take() {
                    busy.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                    if tx.send(Message::Batch { file: i, dict: dict.take(), dict_slot, buffers }).is_err() {
                        return; // the writer stopped; it reports why
                    }
                    t = Instant::now();
                }
            }
            if last {
                break;
            }
        }
        drop(units);
        let (size, digest) = match Arc::try_unwrap(sha).ok().and_then(|m| m.into_inner().ok()) {
            Some((h, n)) => (n, h.finalize().into()),
            None => {
                let _ = tx.send(Message::Failed(Error::internal("the input's hash was still in use")));
                return;
            }
        };
        if tx.send(Message::FileDone { file: i, size, sha256: digest }).is_err() {
            return;
        }
    }
}

/// What one file contributed.
#[derive(Default, Clone)]
struct FileCounts {
    read: i64,
    new_events: i64,
    duplicates: i64,
    malformed: i64,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    samples: Vec<String>,
    size: u64,
    sha256: Vec<u8>,
}

#[derive(Default)]
struct Counts {
    read: i64,
    new_events: i64,
    duplicates: i64,
    malformed: i64,
    samples: Vec<Malformed>,
    writer_busy_us: u64,
    context_busy_us: u64,
    files: Vec<FileCounts>,
}

/// An import's options beyond its inputs.
#[derive(Debug, Clone, Copy)]
pub struct ImportControl<'a> {
    /// Set to stop the import; what was read before is kept and the acquisition is marked interrupted.
    pub cancel: &'a AtomicBool,
}

/// The event-table columns derived from list and map fields: how an event is stored, shared by the
/// writer and by the re-normalization check so both agree on what "the same event" means.
pub(crate) struct EventRow<'e> {
    pub(crate) folders: Option<String>,
    pub(crate) message_ids: Option<String>,
    pub(crate) details: String,
    pub(crate) parameters: Option<&'e str>,
}

impl<'e> EventRow<'e> {
    pub(crate) fn of(ev: &'e NormalizedEvent) -> Result<Self> {
        Ok(Self {
            folders: (!ev.folders.is_empty()).then(|| ev.folders.join("; ")),
            message_ids: (!ev.message_ids.is_empty()).then(|| ev.message_ids.join(" ")),
            details: serde_json::to_string(&ev.details).map_err(|e| Error::internal(e.to_string()))?,
            parameters: ev.details.get("parameters").and_then(serde_json::Value::as_str),
        })
    }
}

/// Writes events and both FTS indexes: the one place that knows the event table's columns, shared by
/// imports and collections.
pub(crate) struct EventWriter<'t> {
    event: rusqlite::CachedStatement<'t>,
    words: rusqlite::CachedStatement<'t>,
    idents: rusqlite::CachedStatement<'t>,
    rollup: RollupDelta,
    /// Client addresses of this batch, enriched when it finishes.
    ips: std::collections::BTreeSet<String>,
    /// What the batch adds to the accounts' baselines.
    seen: Vec<crate::accounts::baseline::Seen>,
    tx: &'t rusqlite::Connection,
}

impl<'t> EventWriter<'t> {
    pub(crate) fn new(tx: &'t rusqlite::Connection) -> Result<Self> {
        Ok(Self {
            event: tx.prepare_cached(
                "INSERT INTO event (id, raw_id, record_key, time_ms, source, workload, record_type, operation, action, \
                 actor, mailbox, client_ip, client_port, client_app, user_agent, app_id, session_id, result, subject, \
                 folders, message_ids, item_count, object, details, parameters) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, \
                 ?23, ?24, ?25)",
            )?,
            words: tx.prepare_cached(
                "INSERT INTO event_fts (rowid, operation, actor, mailbox, user_agent, subject, folders, object, \
                 parameters) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            idents: tx.prepare_cached(
                "INSERT INTO ident_fts (rowid, message_ids, client_ip, session_id, app_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            rollup: RollupDelta::default(),
            ips: std::collections::BTreeSet::new(),
            seen: Vec::new(),
            tx,
        })
    }

    /// Stores one event under its time-key `id`, linked to the raw record `raw_id`.
    pub(crate) fn write(&mut self, id: i64, raw_id: i64, ev: &NormalizedEvent) -> Result<()> {
        let row = EventRow::of(ev)?;
        let (folders, msgids) = (row.folders.as_deref(), row.message_ids.as_deref());
        self.event.execute(params![
            id,
            raw_id,
            ev.record_key,
            ev.time_ms,
            ev.source,
            ev.workload,
            ev.record_type,
            ev.operation,
            ev.action,
            ev.actor,
            ev.mailbox,
            ev.client_ip,
            ev.client_port,
            ev.client_app,
            ev.user_agent,
            ev.app_id,
            ev.session_id,
            ev.result,
            ev.subject,
            folders,
            msgids,
            ev.item_count,
            ev.object,
            row.details,
            row.parameters
        ])?;
        self.words.execute(params![
            id,
            ev.operation,
            ev.actor,
            ev.mailbox,
            ev.user_agent,
            ev.subject,
            folders,
            ev.object,
            row.parameters
        ])?;
        self.seen.extend(crate::accounts::baseline::Seen::of(id, ev));
        if let Some(ip) = ev.client_ip.as_deref() {
            if !self.ips.contains(ip) {
                self.ips.insert(ip.to_owned());
            }
        }
        if msgids.is_some() || ev.client_ip.is_some() || ev.session_id.is_some() || ev.app_id.is_some() {
            self.idents.execute(params![id, msgids, ev.client_ip, ev.session_id, ev.app_id])?;
        }
        self.rollup.add(
            id,
            &ev.action,
            [
                ev.actor.as_deref(),
                ev.mailbox.as_deref(),
                Some(ev.action.as_str()),
                Some(ev.operation.as_str()),
                ev.client_ip.as_deref(),
                ev.client_app.as_deref(),
                ev.app_id.as_deref(),
                ev.workload.as_deref(),
                Some(ev.source.as_str()),
            ],
        );
        Ok(())
    }

    /// Adds the written events to the rollups and their new client addresses to `ip_info`. Call once,
    /// after the last `write`, before the transaction commits: events, their counts and what the IP
    /// data says about them are committed together.
    /// Returns the time spent on the IP context and the baselines (the import report's `context_busy_ms`).
    pub(crate) fn finish(mut self) -> Result<std::time::Duration> {
        let started = Instant::now();
        crate::ipinfo::enrich(self.tx, tidemark_ipintel::IpIntel::bundled(), self.ips.iter().map(String::as_str))?;
        let mut baseline = crate::accounts::baseline::BaselineDelta::default();
        baseline.add(self.tx, &self.seen)?;
        baseline.write(self.tx)?;
        let context = started.elapsed();
        self.rollup.write(self.tx)?;
        Ok(context)
    }
}

/// Assigns time-key event ids: `key_base(ms) | sequence`, the sequence counting the events of that
/// millisecond in the case. Only a recent window of milliseconds is remembered (records arrive close to
/// time order), so memory stays flat however long the input is; a millisecond the window forgot, or
/// one the case already had events in, asks the case for its highest id.
#[derive(Debug)]
pub(crate) struct TimeKeys {
    next_seq: HashMap<i64, i64>,
    case_had_events: bool,
    forgotten_below: i64,
    latest_ms: i64,
}

impl TimeKeys {
    /// `case_had_events`: whether the case held events before this writer started.
    pub(crate) fn new(case_had_events: bool) -> Self {
        Self { next_seq: HashMap::new(), case_had_events, forgotten_below: i64::MIN, latest_ms: i64::MIN }
    }

    /// The id for a new event at `time_ms`, inside the transaction that will store it.
    pub(crate) fn assign(&mut self, tx: &rusqlite::Connection, time_ms: i64) -> Result<i64> {
        let ms = crate::time::clamp_ms(time_ms);
        let seq = match self.next_seq.get(&ms) {
            Some(&s) => s,
            None if self.case_had_events || ms < self.forgotten_below => {
                let max: Option<i64> = tx
                    .prepare_cached("SELECT max(id) FROM event WHERE id BETWEEN ?1 AND ?2")?
                    .query_row([key_lower(ms), key_upper(ms)], |r| r.get(0))
                    .optional()?
                    .flatten();
                max.map_or(0, |m| m - key_base(ms) + 1)
            }
            None => 0,
        };
        if seq > SEQ_MAX {
            return Err(Error::internal(format!("more than {SEQ_MAX} events in one millisecond")));
        }
        self.next_seq.insert(ms, seq + 1);
        self.latest_ms = self.latest_ms.max(ms);
        Ok(key_base(ms) | seq)
    }

    /// Forgets milliseconds well behind the latest one once the map is large. Call between
    /// transactions.
    pub(crate) fn prune(&mut self) {
        if self.next_seq.len() > SEQ_WINDOW_ENTRIES {
            self.forgotten_below = self.forgotten_below.max(self.latest_ms.saturating_sub(SEQ_WINDOW_MS));
            let below = self.forgotten_below;
            self.next_seq.retain(|&ms, _| ms >= below);
        }
    }
}

/// What the writer needs to know about the acquisition it writes.
struct Batches<'a, 'f> {
    acquisition_id: i64,
    received_ms: i64,
    file_ids: &'a [i64],
    inputs: &'a [Input<'f>],
    started: Instant,
    /// Bytes the worker has read so far (for progress).
    bytes: &'a AtomicU64,
    /// Where emptied batch buffers go back to the worker.
    recycle: &'a crossbeam_channel::Sender<Buffers>,
    cancel: &'a AtomicBool,
}

impl CaseWriter {
    /// Imports files, folders (recursively), zip archives and gzip files into the case as one
    /// acquisition.
    ///
    /// Every input's format and encoding are detected before anything is written; an input in no
    /// known format stops the import with [`ErrorCode::ImportUnknownFormat`] and the case unchanged.
    pub fn import_files(
        &mut self,
        paths: &[PathBuf],
        registry: &FormatRegistry,
        progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportReport> {
        let cancel = AtomicBool::new(false);
        self.import_with(paths, registry, ImportControl { cancel: &cancel }, progress)
    }

    /// [`CaseWriter::import_files`], cancellable.
    pub fn import_with(
        &mut self,
        paths: &[PathBuf],
        registry: &FormatRegistry,
        control: ImportControl<'_>,
        progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportReport> {
        let started = Instant::now();
        let _lock = self.lock_imports()?;
        let Expansion { inputs: sources, containers } = container::expand(paths).map_err(|e| {
            Error::new(
                ErrorCode::ImportUnreadable,
                format!("The selection could not be read: {e}. Nothing was imported."),
            )
        })?;
        if sources.is_empty() {
            return Err(Error::new(
                ErrorCode::ImportUnreadable,
                "There is nothing to import: no files were given, or the folders and archives are empty.",
            ));
        }
        let found = sources.len();
        let mut inputs = Vec::with_capacity(sources.len());
        let mut skipped = Vec::new();
        for source in sources {
            let head = read_head(&source).map_err(|e| unreadable(&source.display, &e))?;
            let encoding = Encoding::detect(&head);
            let text = encoding.decode_head(&head);
            let Some(format) = registry.detect(&text) else {
                if !source.picked {
                    // A README or log beside the exports in a folder or archive: skip it, say so.
                    skipped.push(SkippedFile {
                        path: source.display.clone(),
                        reason: "not audit data in a format Tidemark knows".to_owned(),
                    });
                    continue;
                }
                let known: Vec<&str> = registry.all().map(|f| f.describe()).collect();
                return Err(Error::new(
                    ErrorCode::ImportUnknownFormat,
                    format!(
                        "{} is not in a format Tidemark can import, so nothing was imported. Expected an audit log \
                         export (Purview or PowerShell CSV, Extractor-Suite, Management API, Graph, Sentinel or \
                         Outlook Activities files).",
                        source.display
                    ),
                )
                .with_detail(format!("Formats Tidemark reads:\n- {}", known.join("\n- "))));
            };
            let container_sha256 = source
                .container
                .as_ref()
                .and_then(|c| containers.iter().find(|k| &k.path == c))
                .map(|k| k.sha256.to_vec());
            let context = format.context(&text);
            inputs.push(Input { source, encoding, context, format, container_sha256 });
        }

        if inputs.is_empty() {
            return Err(Error::new(
                ErrorCode::ImportUnknownFormat,
                format!(
                    "None of the {found} files in the selection is audit data in a format Tidemark knows, so nothing \
                     was imported. Pick the export files themselves to see what each one was expected to be."
                ),
            ));
        }
        let now = self.clock.now_ms();
        let formats: Vec<&str> = {
            let mut f: Vec<&str> = inputs.iter().map(|i| i.format.id()).collect();
            f.sort_unstable();
            f.dedup();
            f
        };
        let parameters = serde_json::json!({
            "inputs": paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "files": inputs.iter().map(|i| &i.source.display).collect::<Vec<_>>(),
            "containers": containers.iter().map(|c| serde_json::json!({
                "path": c.path.display().to_string(), "size": c.size, "sha256": hex::encode(c.sha256),
            })).collect::<Vec<_>>(),
            "formats": formats,
            "skipped": skipped.iter().map(|s| &s.path).collect::<Vec<_>>(),
        });
        let acquisition_id = {
            let tx = self.conn.transaction()?;
            tx.execute(
                "INSERT INTO acquisition (kind, source, parameters, operator, tool_version, started_ms, status) \
                 VALUES ('import', ?1, ?2, ?3, ?4, ?5, 'running')",
                params![formats.join(","), parameters.to_string(), self.operator, TOOL_VERSION, now],
            )?;
            let id = tx.last_insert_rowid();
            for input in &inputs {
                tx.execute(
                    "INSERT INTO acquired_file (acquisition_id, path, size, sha256, format, encoding, context, container, \
                     container_sha256) VALUES (?1, ?2, 0, X'', ?3, ?4, ?5, ?6, ?7)",
                    params![
                        id,
                        input.source.display,
                        input.format.id(),
                        input.encoding.as_str(),
                        input.context,
                        input.source.container.as_ref().map(|c| c.display().to_string()),
                        input.container_sha256,
                    ],
                )?;
            }
            tx.commit()?;
            id
        };
        let file_ids: Vec<i64> = {
            let mut st = self.conn.prepare("SELECT id FROM acquired_file WHERE acquisition_id = ?1 ORDER BY id")?;
            let ids = st.query_map([acquisition_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            ids
        };

        // Bulk-load settings for the duration of the import: checkpoint the WAL less often (pages
        // rewritten by consecutive batches are copied to the file once), and skip per-row foreign-key
        // lookups for ids this function itself just created. Both are restored below.
        self.conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let bytes = Arc::new(AtomicU64::new(0));
        let (tx, rx) = crossbeam_channel::bounded::<Message>(QUEUE);
        let (recycle, recycled) = crossbeam_channel::bounded::<Buffers>(QUEUE + 1);
        let mut counts = Counts { files: vec![FileCounts::default(); inputs.len()], ..Counts::default() };
        let worker_busy = AtomicU64::new(0);
        let mut prog = ImportProgress {
            files_total: inputs.len() as u32,
            bytes_total: inputs.iter().map(|i| i.source.size_hint).sum(),
            current_file: inputs.first().map(|i| i.source.display.clone()).unwrap_or_default(),
            ..Default::default()
        };
        progress(&prog);
        let outcome = std::thread::scope(|s| {
            let producer_bytes = bytes.clone();
            let inputs_ref = &inputs;
            let busy = &worker_busy;
            let cancel = control.cancel;
            s.spawn(move || produce(inputs_ref, &tx, &recycled, &producer_bytes, busy, cancel));
            let batches = Batches {
                acquisition_id,
                received_ms: now,
                file_ids: &file_ids,
                inputs: &inputs,
                started,
                bytes: &bytes,
                recycle: &recycle,
                cancel: control.cancel,
            };
            let r = self.write_batches(&rx, &batches, &mut prog, &mut counts, progress);
            drop(rx); // unblocks the producer if the writer stopped early
            r
        });

        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
        let finished = self.clock.now_ms();
        let files_report: Vec<AcquiredFile> = inputs
            .iter()
            .zip(&counts.files)
            .map(|(i, c)| AcquiredFile {
                path: i.source.display.clone(),
                size: c.size,
                sha256: hex::encode(&c.sha256),
                format: i.format.id().to_owned(),
                format_name: i.format.name().to_owned(),
                encoding: i.encoding.as_str().to_owned(),
                container: i.source.container.as_ref().map(|c| c.display().to_string()),
                records: c.read,
                new_events: c.new_events,
                duplicates: c.duplicates,
                malformed: c.malformed,
                malformed_at: c.samples.clone(),
                first_time: c.first_ms.map(iso_ms),
                last_time: c.last_ms.map(iso_ms),
            })
            .collect();
        let (status, error) = match &outcome {
            Ok(()) => ("completed", None),
            Err(e) if e.code == ErrorCode::ImportCancelled => ("interrupted", Some(e.message.clone())),
            Err(e) => ("failed", Some(e.message.clone())),
        };
        let mut combined = Sha256::new();
        for c in &counts.files {
            combined.update(&c.sha256);
        }
        let combined = combined.finalize();
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE acquisition SET status = ?2, finished_ms = ?3, error = ?4, records_read = ?5, events_new = ?6, \
             duplicates = ?7, malformed = ?8 WHERE id = ?1",
            params![
                acquisition_id,
                status,
                finished,
                error,
                counts.read,
                counts.new_events,
                counts.duplicates,
                counts.malformed
            ],
        )?;
        crate::case::append_log(
            &tx,
            finished,
            &self.operator,
            "import",
            &format!(
                "Imported {} file(s): {} records, {} new events, {} duplicates, {} malformed{}",
                inputs.len(),
                counts.read,
                counts.new_events,
                counts.duplicates,
                counts.malformed,
                if status == "completed" { String::new() } else { format!(" — {status}") }
            ),
            &serde_json::json!({
                "acquisition_id": acquisition_id,
                "status": status,
                "error": error,
                "files": files_report,
                "containers": parameters["containers"],
                "skipped": parameters["skipped"],
                "records": counts.read,
                "new_events": counts.new_events,
                "duplicates": counts.duplicates,
                "malformed": counts.malformed,
            }),
            Some(&combined),
        )?;
        tx.commit()?;
        outcome?;
        Ok(ImportReport {
            acquisition_id,
            files: files_report,
            read: counts.read,
            new_events: counts.new_events,
            duplicates: counts.duplicates,
            malformed: counts.malformed,
            malformed_samples: counts.samples,
            skipped,
            containers: containers
                .iter()
                .map(|c| ContainerReport {
                    path: c.path.display().to_string(),
                    size: c.size,
                    sha256: hex::encode(c.sha256),
                })
                .collect(),
            elapsed_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            worker_busy_ms: i64::try_from(worker_busy.load(Ordering::Relaxed) / 1000).unwrap_or(i64::MAX),
            writer_busy_ms: i64::try_from(counts.writer_busy_us / 1000).unwrap_or(i64::MAX),
            context_busy_ms: i64::try_from(counts.context_busy_us / 1000).unwrap_or(i64::MAX),
        })
    }

    fn write_batches(
        &mut self,
        rx: &crossbeam_channel::Receiver<Message>,
        b: &Batches<'_, '_>,
        prog: &mut ImportProgress,
        counts: &mut Counts,
        progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<()> {
        let (acquisition_id, received_ms, file_ids, inputs) = (b.acquisition_id, b.received_ms, b.file_ids, b.inputs);
        let (bytes, recycle, cancel) = (b.bytes, b.recycle, b.cancel);
        // Known record keys → event id. Preloaded so re-imports add occurrences, not events.
        let mut known: HashMap<u128, i64> = HashMap::new();
        {
            let mut st = self.conn.prepare("SELECT record_key, id FROM event")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let k: String = r.get(0)?;
                known.insert(key128(&k), r.get(1)?);
            }
        }
        let mut keys = TimeKeys::new(!known.is_empty());
        let mut dict_ids: HashMap<usize, i64> = HashMap::new();
        let mut next_raw: i64 =
            self.conn.query_row("SELECT coalesce(max(id), 0) + 1 FROM raw_record", [], |r| r.get(0))?;

        for msg in rx {
            if cancel.load(Ordering::Relaxed) {
                return Err(cancelled(counts.read));
            }
            let (file, dict, dict_slot, mut buffers) = match msg {
                Message::Batch { file, dict, dict_slot, buffers } => (file, dict, dict_slot, buffers),
                Message::FileDone { file, size, sha256 } => {
                    let c = &mut counts.files[file];
                    c.size = size;
                    c.sha256 = sha256.to_vec();
                    self.conn.execute(
                        "UPDATE acquired_file SET size = ?2, sha256 = ?3, records = ?4, events_new = ?5, duplicates = ?6, \
                         malformed = ?7, first_ms = ?8, last_ms = ?9 WHERE id = ?1",
                        params![
                            file_ids[file],
                            size as i64,
                            &sha256[..],
                            c.read,
                            c.new_events,
                            c.duplicates,
                            c.malformed,
                            c.first_ms,
                            c.last_ms
                        ],
                    )?;
                    prog.files_done = file as u32 + 1;
                    if let Some(next) = inputs.get(file + 1) {
                        prog.current_file.clone_from(&next.source.display);
                    }
                    continue;
                }
                Message::Failed(e) => return Err(e),
            };
            let busy_since = Instant::now();
            let tx = self.conn.transaction()?;
            if let Some(d) = dict {
                let sha = Sha256::digest(&d).to_vec();
                tx.execute(
                    "INSERT INTO raw_dict (acquisition_id, dict, sha256) VALUES (?1, ?2, ?3)",
                    params![acquisition_id, d, sha],
                )?;
                dict_ids.insert(dict_slot, tx.last_insert_rowid());
            }
            let dict_id = dict_ids.get(&dict_slot).copied();

            // De-duplicate in input order, then assign time keys.
            let records = &buffers.records;
            let mut raw_event: Vec<Option<i64>> = Vec::with_capacity(records.len());
            let mut new_events: Vec<(i64, i64, &NormalizedEvent)> = Vec::new();
            let fc = &mut counts.files[file];
            for (i, rec) in records.iter().enumerate() {
                counts.read += 1;
                fc.read += 1;
                match &rec.event {
                    Err(reason) => {
                        counts.malformed += 1;
                        fc.malformed += 1;
                        let locator = format!("{} line {}", inputs[file].source.display, rec.line);
                        if fc.samples.len() < MAX_FILE_SAMPLES {
                            fc.samples.push(format!("line {}: {reason}", rec.line));
                        }
                        if counts.samples.len() < MAX_SAMPLES {
                            counts.samples.push(Malformed { locator, error: reason.clone() });
                        }
                        raw_event.push(None);
                    }
                    Ok(ev) => {
                        fc.first_ms = Some(fc.first_ms.map_or(ev.time_ms, |m| m.min(ev.time_ms)));
                        fc.last_ms = Some(fc.last_ms.map_or(ev.time_ms, |m| m.max(ev.time_ms)));
                        let k = key128(&ev.record_key);
                        if let Some(&id) = known.get(&k) {
                            counts.duplicates += 1;
                            fc.duplicates += 1;
                            raw_event.push(Some(id));
                        } else {
                            let id = keys.assign(&tx, ev.time_ms)?;
                            known.insert(k, id);
                            counts.new_events += 1;
                            fc.new_events += 1;
                            raw_event.push(Some(id));
                            new_events.push((id, next_raw + i as i64, ev));
                        }
                    }
                }
            }
            new_events.sort_unstable_by_key(|(id, _, _)| *id);
            {
                let mut events = EventWriter::new(&tx)?;
                for (id, raw_id, ev) in &new_events {
                    events.write(*id, *raw_id, ev)?;
                }
                counts.context_busy_us += events.finish()?.as_micros() as u64;
                let mut ins_raw = tx.prepare_cached(
                    "INSERT INTO raw_record (id, acquisition_id, file_id, line, byte_offset, received_ms, sha256, size, \
                     codec, dict_id, data, event_id, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )?;
                for (i, rec) in records.iter().enumerate() {
                    ins_raw.execute(params![
                        next_raw + i as i64,
                        acquisition_id,
                        file_ids[file],
                        rec.line as i64,
                        rec.offset as i64,
                        received_ms,
                        &rec.sha256[..],
                        rec.size as i64,
                        rec.codec,
                        if rec.uses_dict { dict_id } else { None },
                        &buffers.arena[rec.data.0..rec.data.1],
                        raw_event[i],
                        rec.event.as_ref().err(),
                    ])?;
                }
            }
            next_raw += records.len() as i64;
            // Hand the buffers back uncleared: the worker frees the events on the thread that
            // allocated them, which is what the allocator is fastest at.
            let _ = recycle.try_send(std::mem::take(&mut buffers));
            tx.execute(
                "UPDATE acquisition SET records_read = ?2, events_new = ?3, duplicates = ?4, malformed = ?5 WHERE id = ?1",
                params![acquisition_id, counts.read, counts.new_events, counts.duplicates, counts.malformed],
            )?;
            tx.commit()?;
            keys.prune();
            counts.writer_busy_us += busy_since.elapsed().as_micros() as u64;
            prog.records = counts.read as u64;
            prog.bytes_done = bytes.load(Ordering::Relaxed);
            prog.pace(b.started.elapsed().as_millis() as u64);
            progress(prog);
        }
        if cancel.load(Ordering::Relaxed) {
            // The worker stopped early: the channel closed without the rest of the input.
            return Err(cancelled(counts.read));
        }
        prog.files_done = prog.files_total;
        prog.bytes_done = bytes.load(Ordering::Relaxed);
        prog.pace(b.started.elapsed().as_millis() as u64);
        progress(prog);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{key128, thousands};

    #[test]
    fn counts_read_like_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(65_536), "65,536");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn guid_keys_parse_and_other_keys_hash() {
        assert_eq!(key128("6a5cf5f1-b5b1-4868-2474-1e2b89d10afb"), 0x6a5cf5f1_b5b1_4868_2474_1e2b89d10afb);
        assert_eq!(key128("6A5CF5F1-B5B1-4868-2474-1E2B89D10AFB"), key128("6a5cf5f1-b5b1-4868-2474-1e2b89d10afb"));
        assert_ne!(key128("abc"), key128("abd"));
        assert_eq!(key128("abc") & 1, 1);
    }
}
