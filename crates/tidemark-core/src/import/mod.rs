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
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use tidemark_formats::{Format, FormatRegistry, NormalizedEvent, RawUnit};

use crate::case::{CaseWriter, TOOL_VERSION};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{AcquiredFile, ImportProgress, ImportReport, Malformed};
use crate::raw::{self, Encoder};
use crate::time::{key_base, key_lower, key_upper, SEQ_MAX};

/// Records per batch (and per transaction). FTS5 writes a new index segment at every commit, so
/// larger transactions mean fewer segments to merge: 32 Ki records cut writer time by 30 % against 8 Ki.
const BATCH: usize = 32_768;
/// Batches queued between the stages: one transaction's worth, so a commit never stalls parsing
/// (two measured no faster and cost 130 MiB more).
const QUEUE: usize = 1;
/// Malformed records listed in a report (all are counted and kept).
const MAX_SAMPLES: usize = 20;
/// Records a compression dictionary is trained on: enough for a good dictionary, few enough that
/// training stays a small fixed cost per input.
const DICT_SAMPLES: usize = 1500;
/// How much of a file format detection looks at.
const SNIFF_BYTES: usize = 64 * 1024;

struct Input<'f> {
    path: PathBuf,
    display: String,
    size: u64,
    sha256: Vec<u8>,
    format: &'f dyn Format,
}

struct Prepared {
    line: u64,
    offset: u64,
    sha256: [u8; 32],
    size: usize,
    codec: i64,
    data: Vec<u8>,
    uses_dict: bool,
    event: std::result::Result<NormalizedEvent, String>,
}

enum Message {
    Batch { file: usize, dict: Option<Vec<u8>>, records: Vec<Prepared> },
    Failed(Error),
}

/// Expands folders (recursively, in name order) into the files inside them.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| Error::io("read", p, &e).with_code(ErrorCode::ImportUnreadable))?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::io("list the folder", p, &e).with_code(ErrorCode::ImportUnreadable))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
                .collect();
            entries.sort();
            out.extend(expand(&entries)?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Hashes a file and reads its head for format detection.
fn inspect(path: &Path) -> Result<(u64, Vec<u8>, Vec<u8>)> {
    let unreadable = |e: &std::io::Error| Error::io("read", path, e).with_code(ErrorCode::ImportUnreadable);
    let mut f = File::open(path).map_err(|e| unreadable(&e))?;
    let mut h = Sha256::new();
    let mut head = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| unreadable(&e))?;
        if n == 0 {
            break;
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, h.finalize().to_vec(), head))
}

/// 128-bit de-duplication key: a GUID parsed, anything else hashed.
fn key128(key: &str) -> u128 {
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

struct CountingReader<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn prepare(format: &dyn Format, unit: &RawUnit, enc: &mut Encoder) -> Prepared {
    let sha: [u8; 32] = Sha256::digest(&unit.bytes).into();
    let (codec, data, uses_dict) = enc.encode(&unit.bytes);
    let event = format.normalize(&[], &unit.bytes);
    Prepared {
        line: unit.line,
        offset: unit.byte_offset,
        sha256: sha,
        size: unit.bytes.len(),
        codec,
        data,
        uses_dict,
        event,
    }
}

/// Stage one: cut, hash, compress, normalize. Runs on its own thread.
fn produce(inputs: &[Input<'_>], tx: &crossbeam_channel::Sender<Message>, bytes: &Arc<AtomicU64>, busy: &AtomicU64) {
    let mut t = Instant::now();
    for (i, input) in inputs.iter().enumerate() {
        let file = match File::open(&input.path) {
            Ok(f) => f,
            Err(e) => {
                let _ =
                    tx.send(Message::Failed(Error::io("read", &input.path, &e).with_code(ErrorCode::ImportUnreadable)));
                return;
            }
        };
        let reader = BufReader::with_capacity(4 << 20, CountingReader { inner: file, counter: bytes.clone() });
        let mut units = input.format.split(Box::new(reader));
        let mut encoder: Option<Encoder> = None;
        let mut pending: Vec<RawUnit> = Vec::with_capacity(BATCH);
        let mut finished = false;
        while !finished {
            pending.clear();
            for u in units.by_ref().take(BATCH) {
                match u {
                    Ok(u) => pending.push(u),
                    Err(e) => {
                        let _ = tx.send(Message::Failed(
                            Error::io("read", &input.path, &e).with_code(ErrorCode::ImportUnreadable),
                        ));
                        return;
                    }
                }
            }
            finished = pending.len() < BATCH;
            if pending.is_empty() {
                break;
            }
            let mut dict = None;
            if encoder.is_none() {
                let samples: Vec<&[u8]> = pending.iter().take(DICT_SAMPLES).map(|u| u.bytes.as_slice()).collect();
                dict = raw::train(&samples);
                match Encoder::new(dict.as_deref()) {
                    Ok(e) => encoder = Some(e),
                    Err(e) => {
                        let _ = tx.send(Message::Failed(Error::internal(format!("zstd: {e}"))));
                        return;
                    }
                }
            }
            let Some(enc) = encoder.as_mut() else { return };
            let records: Vec<Prepared> = pending.iter().map(|u| prepare(input.format, u, enc)).collect();
            busy.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
            if tx.send(Message::Batch { file: i, dict, records }).is_err() {
                return; // the writer stopped; it reports why
            }
            t = Instant::now();
        }
    }
}

#[derive(Default)]
struct Counts {
    read: i64,
    new_events: i64,
    duplicates: i64,
    malformed: i64,
    samples: Vec<Malformed>,
    writer_busy_us: u64,
}

impl CaseWriter {
    /// Imports files (or folders of files) into the case as one acquisition.
    ///
    /// Every file is hashed and its format detected before anything is written; a file in no known
    /// format stops the import with [`ErrorCode::ImportUnknownFormat`] and the case unchanged.
    pub fn import_files(
        &mut self,
        paths: &[PathBuf],
        registry: &FormatRegistry,
        progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportReport> {
        let started = Instant::now();
        let _lock = self.lock_imports()?;
        let files = expand(paths)?;
        if files.is_empty() {
            return Err(Error::new(ErrorCode::ImportUnreadable, "There is nothing to import: no files were given."));
        }
        let mut inputs = Vec::with_capacity(files.len());
        let bytes_total: u64 = files.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
        let mut prog = ImportProgress { files_total: files.len() as u32, bytes_total, ..Default::default() };
        progress(&prog);
        for path in &files {
            let (size, sha256, head) = inspect(path)?;
            let Some(format) = registry.detect(&head) else {
                let known: Vec<&str> = registry.all().map(|f| f.describe()).collect();
                return Err(Error::new(
                    ErrorCode::ImportUnknownFormat,
                    format!(
                        "{} is not in a format Tidemark can import. Expected: {}. Nothing was imported.",
                        path.display(),
                        known.join("; ")
                    ),
                ));
            };
            inputs.push(Input { path: path.clone(), display: path.display().to_string(), size, sha256, format });
        }

        let now = self.clock.now_ms();
        let formats: Vec<&str> = {
            let mut f: Vec<&str> = inputs.iter().map(|i| i.format.id()).collect();
            f.dedup();
            f
        };
        let parameters = serde_json::json!({
            "files": inputs.iter().map(|i| &i.display).collect::<Vec<_>>(),
            "formats": formats,
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
                    "INSERT INTO acquired_file (acquisition_id, path, size, sha256, format) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, input.display, input.size as i64, input.sha256, input.format.id()],
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
        let mut counts = Counts::default();
        let worker_busy = AtomicU64::new(0);
        let outcome = std::thread::scope(|s| {
            let producer_bytes = bytes.clone();
            let inputs_ref = &inputs;
            let busy = &worker_busy;
            s.spawn(move || produce(inputs_ref, &tx, &producer_bytes, busy));
            let r = self.write_batches(
                &rx,
                acquisition_id,
                now,
                &file_ids,
                &inputs,
                &bytes,
                &mut prog,
                &mut counts,
                progress,
            );
            drop(rx); // unblocks the producer if the writer stopped early
            r
        });

        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
        let finished = self.clock.now_ms();
        let files_report: Vec<AcquiredFile> = inputs
            .iter()
            .map(|i| AcquiredFile {
                path: i.display.clone(),
                size: i.size,
                sha256: hex::encode(&i.sha256),
                format: i.format.id().to_owned(),
            })
            .collect();
        let (status, error) = match &outcome {
            Ok(()) => ("completed", None),
            Err(e) => ("failed", Some(e.message.clone())),
        };
        let mut combined = Sha256::new();
        for i in &inputs {
            combined.update(&i.sha256);
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
            elapsed_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            worker_busy_ms: i64::try_from(worker_busy.load(Ordering::Relaxed) / 1000).unwrap_or(i64::MAX),
            writer_busy_ms: i64::try_from(counts.writer_busy_us / 1000).unwrap_or(i64::MAX),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn write_batches(
        &mut self,
        rx: &crossbeam_channel::Receiver<Message>,
        acquisition_id: i64,
        received_ms: i64,
        file_ids: &[i64],
        inputs: &[Input<'_>],
        bytes: &AtomicU64,
        prog: &mut ImportProgress,
        counts: &mut Counts,
        progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<()> {
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
        let case_had_events = !known.is_empty();
        let mut next_seq: HashMap<i64, i64> = HashMap::new();
        let mut dict_ids: HashMap<usize, i64> = HashMap::new();
        let mut next_raw: i64 =
            self.conn.query_row("SELECT coalesce(max(id), 0) + 1 FROM raw_record", [], |r| r.get(0))?;
        let mut current_file = 0usize;

        for msg in rx {
            let (file, dict, records) = match msg {
                Message::Batch { file, dict, records } => (file, dict, records),
                Message::Failed(e) => return Err(e),
            };
            let busy_since = Instant::now();
            if file != current_file {
                prog.files_done = file as u32;
                current_file = file;
            }
            let tx = self.conn.transaction()?;
            if let Some(d) = dict {
                let sha = Sha256::digest(&d).to_vec();
                tx.execute(
                    "INSERT INTO raw_dict (acquisition_id, dict, sha256) VALUES (?1, ?2, ?3)",
                    params![acquisition_id, d, sha],
                )?;
                dict_ids.insert(file, tx.last_insert_rowid());
            }
            let dict_id = dict_ids.get(&file).copied();

            // De-duplicate in input order, then assign time keys.
            let mut raw_event: Vec<Option<i64>> = Vec::with_capacity(records.len());
            let mut new_events: Vec<(i64, i64, &NormalizedEvent)> = Vec::new();
            for (i, rec) in records.iter().enumerate() {
                counts.read += 1;
                match &rec.event {
                    Err(reason) => {
                        counts.malformed += 1;
                        if counts.samples.len() < MAX_SAMPLES {
                            counts.samples.push(Malformed {
                                locator: format!("{} line {}", inputs[file].display, rec.line),
                                error: reason.clone(),
                            });
                        }
                        raw_event.push(None);
                    }
                    Ok(ev) => {
                        let k = key128(&ev.record_key);
                        if let Some(&id) = known.get(&k) {
                            counts.duplicates += 1;
                            raw_event.push(Some(id));
                        } else {
                            let ms = crate::time::clamp_ms(ev.time_ms);
                            let seq = match next_seq.get(&ms) {
                                Some(&s) => s,
                                None if case_had_events => {
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
                            next_seq.insert(ms, seq + 1);
                            let id = key_base(ms) | seq;
                            known.insert(k, id);
                            counts.new_events += 1;
                            raw_event.push(Some(id));
                            new_events.push((id, next_raw + i as i64, ev));
                        }
                    }
                }
            }
            new_events.sort_unstable_by_key(|(id, _, _)| *id);
            {
                let mut ins_event = tx.prepare_cached(
                    "INSERT INTO event (id, raw_id, record_key, time_ms, source, workload, record_type, operation, action, \
                     actor, mailbox, client_ip, client_port, client_app, user_agent, app_id, session_id, result, subject, \
                     folders, message_ids, item_count, object, details) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
                )?;
                let mut ins_fts = tx.prepare_cached(
                    "INSERT INTO event_fts (rowid, operation, action, actor, mailbox, client_ip, client_app, user_agent, \
                     app_id, session_id, subject, folders, object, source) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )?;
                let mut ins_msgid = tx.prepare_cached("INSERT INTO msgid_fts (rowid, message_ids) VALUES (?1, ?2)")?;
                for (id, raw_id, ev) in &new_events {
                    let folders = (!ev.folders.is_empty()).then(|| ev.folders.join("; "));
                    let msgids = (!ev.message_ids.is_empty()).then(|| ev.message_ids.join(" "));
                    let details = serde_json::to_string(&ev.details).map_err(|e| Error::internal(e.to_string()))?;
                    ins_event.execute(params![
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
                        details
                    ])?;
                    ins_fts.execute(params![
                        id,
                        ev.operation,
                        ev.action,
                        ev.actor,
                        ev.mailbox,
                        ev.client_ip,
                        ev.client_app,
                        ev.user_agent,
                        ev.app_id,
                        ev.session_id,
                        ev.subject,
                        folders,
                        ev.object,
                        ev.source
                    ])?;
                    if let Some(m) = msgids {
                        ins_msgid.execute(params![id, m])?;
                    }
                }
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
                        rec.data,
                        raw_event[i],
                        rec.event.as_ref().err(),
                    ])?;
                }
            }
            next_raw += records.len() as i64;
            tx.execute(
                "UPDATE acquisition SET records_read = ?2, events_new = ?3, duplicates = ?4, malformed = ?5 WHERE id = ?1",
                params![acquisition_id, counts.read, counts.new_events, counts.duplicates, counts.malformed],
            )?;
            tx.commit()?;
            counts.writer_busy_us += busy_since.elapsed().as_micros() as u64;
            prog.records = counts.read as u64;
            prog.bytes_done = bytes.load(Ordering::Relaxed);
            progress(prog);
        }
        prog.files_done = prog.files_total;
        prog.bytes_done = bytes.load(Ordering::Relaxed);
        progress(prog);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::key128;

    #[test]
    fn guid_keys_parse_and_other_keys_hash() {
        assert_eq!(key128("6a5cf5f1-b5b1-4868-2474-1e2b89d10afb"), 0x6a5cf5f1_b5b1_4868_2474_1e2b89d10afb);
        assert_eq!(key128("6A5CF5F1-B5B1-4868-2474-1E2B89D10AFB"), key128("6a5cf5f1-b5b1-4868-2474-1e2b89d10afb"));
        assert_ne!(key128("abc"), key128("abd"));
        assert_eq!(key128("abc") & 1, 1);
    }
}
