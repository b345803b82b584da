//! Collection into the case: API pages → raw records → events, with the acquisition ledger.
//!
//! The network lives in `tidemark-collect`; this module is what it calls to write, so the case file
//! keeps one writer and one set of rules for evidence. A collection run plans *windows* (source ×
//! scope × time range); each window row is a ledger line that says what the server reported, what was
//! received, stored new, recognised as a duplicate or could not be read, which faults were met, and a
//! cursor to continue from. [`CollectionWriter::page`] writes one page the server sent: the page
//! verbatim (zstd) with its URL (secrets already removed by the caller), status, headers of interest
//! and SHA-256; its records cut and normalized by the same [`tidemark_formats::Format`] an import of
//! the saved page would use; de-duplicated by record key; events with time-keyed ids and both FTS
//! indexes; and the window's new cursor and counts, all in **one transaction**. A process killed at
//! any moment therefore loses nothing, and a resumed run continues from the last committed cursor:
//! a page fetched twice (once before the kill, once after) only adds raw occurrences, never events.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tidemark_formats::{FormatRegistry, HEAD_BYTES};

use crate::case::{CaseReader, CaseWriter, TOOL_VERSION};
use crate::error::{Error, Result};
use crate::import::{key128, EventWriter, TimeKeys};
use crate::raw::{self, Encoder};

/// A window to plan: one source, one scope (content type, mailbox, or empty), one time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWindow {
    /// `management`, `graph` or `activities`.
    pub source: String,
    /// Content type (Management), mailbox (Activities) or empty (Graph).
    pub scope: String,
    /// Start (inclusive), Unix ms.
    pub start_ms: i64,
    /// End (exclusive), Unix ms.
    pub end_ms: i64,
}

/// One line of the acquisition ledger.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LedgerWindow {
    /// Window id.
    pub id: i64,
    /// The run it belongs to.
    pub run_id: i64,
    /// Source.
    pub source: String,
    /// Scope.
    pub scope: String,
    /// Start (inclusive), Unix ms.
    pub start_ms: i64,
    /// End (exclusive), Unix ms.
    pub end_ms: i64,
    /// `planned`, `running`, `done`, `failed`, `skipped` or `split`.
    pub status: String,
    /// Where to continue (source-specific JSON).
    pub cursor: serde_json::Value,
    /// What the server said the window holds, where the API says it.
    pub server_count: Option<i64>,
    /// Pages received.
    pub pages: i64,
    /// Records received.
    pub records: i64,
    /// New events stored.
    pub new_events: i64,
    /// Records already in the case.
    pub duplicates: i64,
    /// Records that could not be normalized (kept raw).
    pub errors: i64,
    /// `MailItemsAccessed` records marked `IsThrottled`.
    pub throttled: i64,
    /// Faults met: name → times.
    pub faults: BTreeMap<String, i64>,
    /// Attempts (a failed query that was submitted again counts).
    pub attempts: i64,
    /// Stable error code of a failed or skipped window.
    pub error_code: Option<String>,
    /// Plain message of a failed or skipped window.
    pub error: Option<String>,
    /// The window this one was split from.
    pub parent_id: Option<i64>,
}

/// A collection run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CollectionRunInfo {
    /// Run id.
    pub id: i64,
    /// The acquisition the run started with.
    pub acquisition_id: i64,
    /// The profile it ran with (no secrets).
    pub profile: serde_json::Value,
    /// Requested start, Unix ms.
    pub from_ms: i64,
    /// Requested end, Unix ms.
    pub to_ms: i64,
    /// Sources.
    pub sources: Vec<String>,
    /// `running`, `completed`, `incomplete` or `failed`.
    pub status: String,
}

/// One page as the server sent it, and what it changes in its window.
#[derive(Debug, Clone)]
pub struct PageIn<'a> {
    /// The window.
    pub window_id: i64,
    /// `records`, `listing`, `query` or `error`.
    pub kind: &'a str,
    /// The URL, secrets removed.
    pub url: &'a str,
    /// HTTP status.
    pub status: u16,
    /// Headers of interest.
    pub headers: &'a serde_json::Value,
    /// The body exactly as received.
    pub body: &'a [u8],
    /// The format whose splitter and normalizer read the records (none: a page without records).
    pub format: Option<&'a str>,
    /// The window's cursor after this page.
    pub cursor: &'a serde_json::Value,
    /// What the server said the window holds, if this page says it.
    pub server_count: Option<i64>,
    /// Faults met since the last commit of this window.
    pub faults: &'a BTreeMap<String, i64>,
    /// A note for the ledger (e.g. why a page was fetched again).
    pub note: Option<&'a str>,
    /// The window's status after this page (`None`: `running`).
    pub window_status: Option<&'a str>,
}

/// What one page added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PageOut {
    /// Records in the page.
    pub records: i64,
    /// New events.
    pub new_events: i64,
    /// Records already in the case.
    pub duplicates: i64,
    /// Records that could not be normalized.
    pub errors: i64,
    /// `MailItemsAccessed` records marked `IsThrottled`.
    pub throttled: i64,
}

/// A change to a window that comes with no page (a failure, a skip, a retry counted).
#[derive(Debug, Clone, Default)]
pub struct WindowUpdate<'a> {
    /// New status.
    pub status: Option<&'a str>,
    /// New cursor.
    pub cursor: Option<&'a serde_json::Value>,
    /// Error code and message (for `failed` / `skipped`).
    pub error: Option<(&'a str, &'a str)>,
    /// Faults met since the last commit.
    pub faults: Option<&'a BTreeMap<String, i64>>,
    /// Attempts to add.
    pub attempts: i64,
}

/// The write side of a collection: owns the case writer for the run's duration.
#[derive(Debug)]
pub struct CollectionWriter {
    writer: CaseWriter,
    _lock: std::fs::File,
    registry: FormatRegistry,
    run: CollectionRunInfo,
    acquisition_id: i64,
    known: HashMap<u128, i64>,
    keys: TimeKeys,
    plain: Encoder,
    dicts: HashMap<String, (i64, Vec<u8>)>,
    page_encoder: Encoder,
    totals: PageOut,
}

fn ledger_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LedgerWindow> {
    let cursor: String = r.get(7)?;
    let faults: String = r.get(16)?;
    Ok(LedgerWindow {
        id: r.get(0)?,
        run_id: r.get(1)?,
        source: r.get(2)?,
        scope: r.get(3)?,
        start_ms: r.get(4)?,
        end_ms: r.get(5)?,
        status: r.get(6)?,
        cursor: serde_json::from_str(&cursor).unwrap_or(serde_json::Value::Null),
        server_count: r.get(8)?,
        pages: r.get(9)?,
        records: r.get(10)?,
        new_events: r.get(11)?,
        duplicates: r.get(12)?,
        errors: r.get(13)?,
        throttled: r.get(14)?,
        attempts: r.get(15)?,
        faults: serde_json::from_str(&faults).unwrap_or_default(),
        error_code: r.get(17)?,
        error: r.get(18)?,
        parent_id: r.get(19)?,
    })
}

const LEDGER_COLUMNS: &str = "id, run_id, source, scope, start_ms, end_ms, status, cursor, server_count, pages, \
     records, new_events, duplicates, errors, throttled, attempts, faults, error_code, error, parent_id";

fn ledger_of(conn: &Connection, run_id: i64) -> Result<Vec<LedgerWindow>> {
    let mut st =
        conn.prepare(&format!("SELECT {LEDGER_COLUMNS} FROM collection_window WHERE run_id = ?1 ORDER BY id"))?;
    let rows = st.query_map([run_id], ledger_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn run_of(conn: &Connection, run_id: i64) -> Result<Option<CollectionRunInfo>> {
    let r = conn
        .query_row(
            "SELECT id, acquisition_id, profile, from_ms, to_ms, sources, status FROM collection_run WHERE id = ?1",
            [run_id],
            |r| {
                let profile: String = r.get(2)?;
                let sources: String = r.get(5)?;
                Ok(CollectionRunInfo {
                    id: r.get(0)?,
                    acquisition_id: r.get(1)?,
                    profile: serde_json::from_str(&profile).unwrap_or_default(),
                    from_ms: r.get(3)?,
                    to_ms: r.get(4)?,
                    sources: serde_json::from_str(&sources).unwrap_or_default(),
                    status: r.get(6)?,
                })
            },
        )
        .optional()?;
    Ok(r)
}

fn merge_faults(conn: &Connection, window_id: i64, add: &BTreeMap<String, i64>) -> Result<Option<String>> {
    if add.is_empty() {
        return Ok(None);
    }
    let cur: String =
        conn.query_row("SELECT faults FROM collection_window WHERE id = ?1", [window_id], |r| r.get(0))?;
    let mut m: BTreeMap<String, i64> = serde_json::from_str(&cur).unwrap_or_default();
    for (k, v) in add {
        *m.entry(k.clone()).or_default() += v;
    }
    Ok(Some(serde_json::to_string(&m).map_err(|e| Error::internal(e.to_string()))?))
}

impl CaseReader {
    /// Collection runs in this case, oldest first.
    pub fn collection_runs(&self) -> Result<Vec<CollectionRunInfo>> {
        let ids: Vec<i64> = {
            let mut st = self.conn.prepare("SELECT id FROM collection_run ORDER BY id")?;
            let ids = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
            ids
        };
        let mut out = Vec::new();
        for id in ids {
            if let Some(r) = run_of(&self.conn, id)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The ledger of one run, in plan order.
    pub fn collection_ledger(&self, run_id: i64) -> Result<Vec<LedgerWindow>> {
        ledger_of(&self.conn, run_id)
    }
}

impl CollectionWriter {
    fn open(writer: CaseWriter, run: CollectionRunInfo, acquisition_id: i64, lock: std::fs::File) -> Result<Self> {
        let mut known = HashMap::new();
        {
            let mut st = writer.conn.prepare("SELECT record_key, id FROM event")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let k: String = r.get(0)?;
                known.insert(key128(&k), r.get(1)?);
            }
        }
        let enc = |e: std::io::Error| Error::internal(format!("zstd: {e}"));
        Ok(Self {
            writer,
            _lock: lock,
            registry: FormatRegistry::builtin(),
            run,
            acquisition_id,
            known,
            keys: TimeKeys::new(true),
            plain: Encoder::new(None).map_err(enc)?,
            dicts: HashMap::new(),
            page_encoder: Encoder::new(None).map_err(enc)?,
            totals: PageOut::default(),
        })
    }

    fn new_acquisition(writer: &mut CaseWriter, sources: &[String], parameters: &serde_json::Value) -> Result<i64> {
        let now = writer.clock.now_ms();
        writer.conn.execute(
            "INSERT INTO acquisition (kind, source, parameters, operator, tool_version, started_ms, status) \
             VALUES ('collection', ?1, ?2, ?3, ?4, ?5, 'running')",
            params![sources.join(","), parameters.to_string(), writer.operator, TOOL_VERSION, now],
        )?;
        Ok(writer.conn.last_insert_rowid())
    }

    /// Starts a run: one acquisition, the run row and its planned windows, in one transaction.
    /// `profile` must hold no secrets; it is stored as the run's parameters.
    pub fn start(
        mut writer: CaseWriter,
        profile: &serde_json::Value,
        from_ms: i64,
        to_ms: i64,
        sources: &[String],
        windows: &[PlannedWindow],
    ) -> Result<Self> {
        let lock = writer.lock_imports()?;
        let now = writer.clock.now_ms();
        let parameters =
            serde_json::json!({"profile": profile, "from_ms": from_ms, "to_ms": to_ms, "sources": sources});
        let tx = writer.conn.transaction()?;
        tx.execute(
            "INSERT INTO acquisition (kind, source, parameters, operator, tool_version, started_ms, status) \
             VALUES ('collection', ?1, ?2, ?3, ?4, ?5, 'running')",
            params![sources.join(","), parameters.to_string(), writer.operator, TOOL_VERSION, now],
        )?;
        let acquisition_id = tx.last_insert_rowid();
        let sources_json = serde_json::to_string(sources).map_err(|e| Error::internal(e.to_string()))?;
        tx.execute(
            "INSERT INTO collection_run (acquisition_id, profile, from_ms, to_ms, sources, status, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)",
            params![acquisition_id, profile.to_string(), from_ms, to_ms, sources_json, now],
        )?;
        let run_id = tx.last_insert_rowid();
        {
            let mut ins = tx.prepare(
                "INSERT INTO collection_window (run_id, source, scope, start_ms, end_ms, status, updated_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'planned', ?6)",
            )?;
            for w in windows {
                ins.execute(params![run_id, w.source, w.scope, w.start_ms, w.end_ms, now])?;
            }
        }
        crate::case::append_log(
            &tx,
            now,
            &writer.operator,
            "collection.started",
            &format!("Collection run #{run_id} started: {} window(s) from {}", windows.len(), sources.join(", ")),
            &serde_json::json!({"run_id": run_id, "acquisition_id": acquisition_id, "parameters": parameters}),
            None,
        )?;
        tx.commit()?;
        let run = run_of(&writer.conn, run_id)?.ok_or_else(|| Error::internal("the run just created is missing"))?;
        Self::open(writer, run, acquisition_id, lock)
    }

    /// Continues a run that did not finish (the newest one unless `run_id` says which), under a new
    /// acquisition that names the run it continues. `None` when there is nothing to resume.
    pub fn resume(mut writer: CaseWriter, run_id: Option<i64>) -> Result<Option<Self>> {
        let lock = writer.lock_imports()?;
        let id: Option<i64> = match run_id {
            Some(id) => Some(id),
            None => writer
                .conn
                .query_row(
                    "SELECT id FROM collection_run WHERE status IN ('running', 'incomplete') ORDER BY id DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?,
        };
        let Some(id) = id else { return Ok(None) };
        let Some(run) = run_of(&writer.conn, id)? else { return Ok(None) };
        let parameters = serde_json::json!({"resume_of_run": id, "profile": run.profile, "from_ms": run.from_ms,
            "to_ms": run.to_ms, "sources": run.sources});
        let acquisition_id = Self::new_acquisition(&mut writer, &run.sources, &parameters)?;
        let now = writer.clock.now_ms();
        writer.conn.execute("UPDATE collection_run SET status = 'running' WHERE id = ?1", [id])?;
        writer.log(
            "collection.resumed",
            &format!("Collection run #{id} resumed"),
            &serde_json::json!({"run_id": id, "acquisition_id": acquisition_id, "time_ms": now}),
            None,
        )?;
        let run = run_of(&writer.conn, id)?.ok_or_else(|| Error::internal("the run is missing"))?;
        Self::open(writer, run, acquisition_id, lock).map(Some)
    }

    /// The run.
    pub fn run(&self) -> &CollectionRunInfo {
        &self.run
    }

    /// The acquisition this process writes under.
    pub fn acquisition_id(&self) -> i64 {
        self.acquisition_id
    }

    /// Totals written by this process.
    pub fn totals(&self) -> PageOut {
        self.totals
    }

    /// The run's ledger, in plan order.
    pub fn ledger(&self) -> Result<Vec<LedgerWindow>> {
        ledger_of(&self.writer.conn, self.run.id)
    }

    /// Replaces a window by smaller ones (a query over it was too large or kept failing). The old
    /// window is marked `split`; the new ones are returned.
    pub fn split_window(&mut self, window_id: i64, parts: &[(i64, i64)]) -> Result<Vec<LedgerWindow>> {
        let now = self.writer.clock.now_ms();
        let tx = self.writer.conn.transaction()?;
        let (source, scope): (String, String) =
            tx.query_row("SELECT source, scope FROM collection_window WHERE id = ?1", [window_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        tx.execute(
            "UPDATE collection_window SET status = 'split', updated_ms = ?2 WHERE id = ?1",
            params![window_id, now],
        )?;
        for (a, b) in parts {
            tx.execute(
                "INSERT INTO collection_window (run_id, source, scope, start_ms, end_ms, status, parent_id, updated_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'planned', ?6, ?7)",
                params![self.run.id, source, scope, a, b, window_id, now],
            )?;
        }
        tx.commit()?;
        Ok(self.ledger()?.into_iter().filter(|w| w.parent_id == Some(window_id)).collect())
    }

    /// Changes a window without a page.
    pub fn update_window(&mut self, window_id: i64, u: &WindowUpdate<'_>) -> Result<()> {
        let now = self.writer.clock.now_ms();
        let tx = self.writer.conn.transaction()?;
        let faults = match u.faults {
            Some(f) => merge_faults(&tx, window_id, f)?,
            None => None,
        };
        tx.execute(
            "UPDATE collection_window SET status = coalesce(?2, status), cursor = coalesce(?3, cursor), \
             error_code = CASE WHEN ?4 IS NULL THEN error_code ELSE ?4 END, \
             error = CASE WHEN ?4 IS NULL THEN error ELSE ?5 END, faults = coalesce(?6, faults), \
             attempts = attempts + ?7, updated_ms = ?8 WHERE id = ?1",
            params![
                window_id,
                u.status,
                u.cursor.map(ToString::to_string),
                u.error.map(|e| e.0),
                u.error.map(|e| e.1),
                faults,
                u.attempts,
                now
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Writes one page: the page, its records and events, and the window's new state, in one
    /// transaction (see the module documentation).
    pub fn page(&mut self, p: &PageIn<'_>) -> Result<PageOut> {
        let now = self.writer.clock.now_ms();
        // Cut and normalize before the transaction: the format is pure.
        let mut units: Vec<(
            tidemark_formats::RawUnit,
            std::result::Result<tidemark_formats::NormalizedEvent, String>,
        )> = Vec::new();
        let mut context = Vec::new();
        if let Some(fid) = p.format {
            let format = self
                .registry
                .get(fid)
                .ok_or_else(|| Error::internal(format!("collection page in unknown format {fid}")))?;
            context = format.context(&p.body[..p.body.len().min(HEAD_BYTES)]);
            let split = format.split(Box::new(std::io::Cursor::new(p.body.to_vec())));
            for u in split {
                let u = u.map_err(|e| Error::internal(format!("cannot cut the page into records: {e}")))?;
                let ev = format.normalize(&context, &u.bytes);
                units.push((u, ev));
            }
        }
        let mut out = PageOut { records: units.len() as i64, ..PageOut::default() };
        let page_sha: [u8; 32] = Sha256::digest(p.body).into();
        let (page_codec, page_data, _) = self.page_encoder.encode(p.body);

        // A dictionary per format, trained on the first page that gives enough samples.
        let fid = p.format.unwrap_or_default().to_owned();
        let mut new_dict: Option<Vec<u8>> = None;
        if p.format.is_some() && !self.dicts.contains_key(&fid) {
            let samples: Vec<&[u8]> = units.iter().take(1500).map(|(u, _)| u.bytes.as_slice()).collect();
            new_dict = raw::train(&samples);
        }

        let tx = self.writer.conn.transaction()?;
        if let Some(d) = new_dict {
            let sha = Sha256::digest(&d).to_vec();
            tx.execute(
                "INSERT INTO raw_dict (acquisition_id, dict, sha256) VALUES (?1, ?2, ?3)",
                params![self.acquisition_id, &d, sha],
            )?;
            self.dicts.insert(fid.clone(), (tx.last_insert_rowid(), d));
        }
        let mut dict_enc = match self.dicts.get(&fid) {
            Some((id, d)) => Some((*id, Encoder::new(Some(d)).map_err(|e| Error::internal(format!("zstd: {e}")))?)),
            None => None,
        };

        let file_id: Option<i64> = if p.format.is_some() {
            let (mut first, mut last): (Option<i64>, Option<i64>) = (None, None);
            for (_, ev) in &units {
                if let Ok(ev) = ev {
                    first = Some(first.map_or(ev.time_ms, |m| m.min(ev.time_ms)));
                    last = Some(last.map_or(ev.time_ms, |m| m.max(ev.time_ms)));
                }
            }
            tx.execute(
                "INSERT INTO acquired_file (acquisition_id, path, size, sha256, format, encoding, context, records, \
                 first_ms, last_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'utf-8', ?6, ?7, ?8, ?9)",
                params![
                    self.acquisition_id,
                    p.url,
                    p.body.len() as i64,
                    &page_sha[..],
                    fid,
                    context,
                    out.records,
                    first,
                    last
                ],
            )?;
            Some(tx.last_insert_rowid())
        } else {
            None
        };
        tx.execute(
            "INSERT INTO collection_page (window_id, acquisition_id, file_id, kind, url, status, headers, received_ms, \
             sha256, size, codec, body, records, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                p.window_id,
                self.acquisition_id,
                file_id,
                p.kind,
                p.url,
                i64::from(p.status),
                p.headers.to_string(),
                now,
                &page_sha[..],
                p.body.len() as i64,
                page_codec,
                page_data,
                out.records,
                p.note
            ],
        )?;
        let page_id = tx.last_insert_rowid();

        if !units.is_empty() {
            let first_raw: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM raw_record", [], |r| r.get(0))?;
            let mut events = EventWriter::new(&tx)?;
            let mut ins_raw = tx.prepare_cached(
                "INSERT INTO raw_record (id, acquisition_id, file_id, line, byte_offset, url, page, received_ms, sha256, \
                 size, codec, dict_id, data, event_id, error) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?;
            for (raw_id, (u, ev)) in (first_raw..).zip(&units) {
                let mut event_id = None;
                match ev {
                    Err(_) => out.errors += 1,
                    Ok(ev) => {
                        if ev.operation == "MailItemsAccessed" && is_throttled(&u.bytes) {
                            out.throttled += 1;
                        }
                        let k = key128(&ev.record_key);
                        if let Some(&id) = self.known.get(&k) {
                            out.duplicates += 1;
                            event_id = Some(id);
                        } else {
                            let id = self.keys.assign(&tx, ev.time_ms)?;
                            self.known.insert(k, id);
                            out.new_events += 1;
                            event_id = Some(id);
                            events.write(id, raw_id, ev)?;
                        }
                    }
                }
                let sha: [u8; 32] = Sha256::digest(&u.bytes).into();
                let (codec, data, dict_id) = match dict_enc.as_mut() {
                    Some((id, e)) => {
                        let (c, d, uses) = e.encode(&u.bytes);
                        (c, d, uses.then_some(*id))
                    }
                    None => {
                        let (c, d, _) = self.plain.encode(&u.bytes);
                        (c, d, None)
                    }
                };
                ins_raw.execute(params![
                    raw_id,
                    self.acquisition_id,
                    file_id,
                    u.line as i64,
                    u.byte_offset as i64,
                    p.url,
                    page_id,
                    now,
                    &sha[..],
                    u.bytes.len() as i64,
                    codec,
                    dict_id,
                    data,
                    event_id,
                    ev.as_ref().err()
                ])?;
            }
            drop(ins_raw);
            events.finish()?;
        }
        let faults = merge_faults(&tx, p.window_id, p.faults)?;
        tx.execute(
            "UPDATE collection_window SET status = ?2, cursor = ?3, server_count = coalesce(?4, server_count), \
             pages = pages + 1, records = records + ?5, new_events = new_events + ?6, duplicates = duplicates + ?7, \
             errors = errors + ?8, throttled = throttled + ?9, faults = coalesce(?10, faults), updated_ms = ?11 \
             WHERE id = ?1",
            params![
                p.window_id,
                p.window_status.unwrap_or("running"),
                p.cursor.to_string(),
                p.server_count,
                out.records,
                out.new_events,
                out.duplicates,
                out.errors,
                out.throttled,
                faults,
                now
            ],
        )?;
        self.totals.records += out.records;
        self.totals.new_events += out.new_events;
        self.totals.duplicates += out.duplicates;
        self.totals.errors += out.errors;
        self.totals.throttled += out.throttled;
        tx.execute(
            "UPDATE acquisition SET records_read = records_read + ?2, events_new = events_new + ?3, \
             duplicates = duplicates + ?4, malformed = malformed + ?5 WHERE id = ?1",
            params![self.acquisition_id, out.records, out.new_events, out.duplicates, out.errors],
        )?;
        tx.commit()?;
        self.keys.prune();
        Ok(out)
    }

    /// Ends this process's part of the run: the acquisition is `completed` (or `failed`), the run
    /// `completed` when every window is done or skipped, else `incomplete`; logged with the totals.
    pub fn finish(mut self, error: Option<&str>) -> Result<CaseWriter> {
        let now = self.writer.clock.now_ms();
        let ledger = self.ledger()?;
        let open = ledger.iter().filter(|w| matches!(w.status.as_str(), "planned" | "running")).count();
        let failed = ledger.iter().filter(|w| w.status == "failed").count();
        let run_status = if open > 0 || error.is_some() {
            "incomplete"
        } else if failed > 0 {
            "failed"
        } else {
            "completed"
        };
        let acq_status = if error.is_some() { "failed" } else { "completed" };
        let t = self.totals;
        let tx = self.writer.conn.transaction()?;
        tx.execute(
            "UPDATE acquisition SET status = ?2, finished_ms = ?3, error = ?4 WHERE id = ?1",
            params![self.acquisition_id, acq_status, now, error],
        )?;
        tx.execute(
            "UPDATE collection_run SET status = ?2, finished_ms = ?3 WHERE id = ?1",
            params![self.run.id, run_status, now],
        )?;
        crate::case::append_log(
            &tx,
            now,
            &self.writer.operator,
            "collection",
            &format!(
                "Collection run #{} ({run_status}): {} records, {} new events, {} duplicates, {} unreadable; {} of {} \
                 windows failed",
                self.run.id,
                t.records,
                t.new_events,
                t.duplicates,
                t.errors,
                failed,
                ledger.len()
            ),
            &serde_json::json!({"run_id": self.run.id, "acquisition_id": self.acquisition_id, "status": run_status,
                "error": error, "records": t.records, "new_events": t.new_events, "duplicates": t.duplicates,
                "errors": t.errors, "windows": ledger.len(), "failed_windows": failed}),
            None,
        )?;
        tx.commit()?;
        Ok(self.writer)
    }
}

/// Whether a `MailItemsAccessed` record says Exchange throttled its auditing (`IsThrottled` true).
fn is_throttled(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some(i) = text.find("IsThrottled") else { return false };
    let rest = &text[i..text.len().min(i + 60)];
    rest.to_ascii_lowercase().contains("true")
}
