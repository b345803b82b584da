//! An open case as the app and long-running tools hold it: one writer and one reader behind locks, so
//! searches keep answering while an import writes (SQLite WAL), and every entry point takes the text
//! the investigator typed, not SQL.
//!
//! Counts, facets and the histogram can read millions of events, so each has its own read connection
//! (a [`Lane`]): a page of the timeline never waits behind them, nor facets behind the histogram. A new
//! facets or histogram request interrupts the one still running (its answer would be thrown away).
//! Annotation changes do not wait behind an import (which holds the writer for minutes); they are
//! refused with `case.busy` so the UI can say so at once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use crate::case::{CaseReader, CaseWriter};
use crate::clock::Clock;
use crate::error::{superseded, Error, ErrorCode, Result};
use crate::export::{ExportControl, ExportSpec};
use crate::facets::FacetPrecision;
use crate::import::ImportControl;
use crate::model::{
    Bookmark, CaseSummary, EventAnnotations, EventDetail, Facets, Histogram, ImportProgress, ImportReport, Note, Page,
    SavedSearch, SearchCount, SortOrder, Tag, TagChange,
};
use crate::model::{ExportProgress, ExportRequest, ExportResult};
use crate::query::Query;
use tidemark_formats::FormatRegistry;

/// An open case.
#[derive(Debug)]
pub struct OpenCase {
    path: PathBuf,
    writer: Mutex<CaseWriter>,
    reader: Mutex<CaseReader>,
    /// Counts (the timeline's scroll height); never interrupted: the UI may ask for two at once.
    counts: Lane,
    facets: Lane,
    histogram: Lane,
    formats: FormatRegistry,
    /// Set by [`OpenCase::cancel_import`]; read by the running import between batches.
    cancel_import: AtomicBool,
    /// Set by [`OpenCase::cancel_export`]; read by a running export between pages.
    cancel_export: AtomicBool,
    /// The writer's clock, for export manifests (exports do not wait for the writer).
    clock: Arc<dyn Clock>,
}

/// A read connection for one kind of request that may read millions of events.
struct Lane {
    reader: Mutex<CaseReader>,
    interrupt: rusqlite::InterruptHandle,
    /// Tickets handed out; the request holding the newest one is the one wanted.
    latest: AtomicU64,
    /// Whether a newer request replaces an older one.
    supersede: bool,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane").field("supersede", &self.supersede).finish_non_exhaustive()
    }
}

impl Lane {
    fn new(reader: CaseReader, supersede: bool) -> Self {
        let interrupt = reader.conn.get_interrupt_handle();
        Self { reader: Mutex::new(reader), interrupt, latest: AtomicU64::new(0), supersede }
    }

    /// Runs `f` on the lane's connection. When superseding, the statement running for an older request
    /// is interrupted (that request ends with `query.superseded`), and a request that a newer one
    /// overtook while it waited does no work.
    fn run<T>(&self, f: impl FnOnce(&CaseReader) -> Result<T>) -> Result<T> {
        let ticket = self.latest.fetch_add(1, Ordering::SeqCst) + 1;
        if self.supersede {
            self.interrupt.interrupt();
        }
        let reader = lock(&self.reader)?;
        if self.supersede && self.latest.load(Ordering::SeqCst) != ticket {
            return Err(superseded());
        }
        f(&reader)
    }
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    m.lock().map_err(|_| Error::internal("a previous operation on this case crashed; close and reopen the case"))
}

/// The writer for a small change, or `case.busy` while an import holds it.
fn lock_for_change(m: &Mutex<CaseWriter>) -> Result<MutexGuard<'_, CaseWriter>> {
    match m.try_lock() {
        Ok(g) => Ok(g),
        Err(TryLockError::WouldBlock) => Err(Error::new(
            ErrorCode::CaseBusy,
            "An import is writing to this case, so your change was not made. Try again when the import has finished.",
        )),
        Err(TryLockError::Poisoned(_)) => {
            Err(Error::internal("a previous operation on this case crashed; close and reopen the case"))
        }
    }
}

impl OpenCase {
    fn from_writer(writer: CaseWriter) -> Result<Self> {
        let reader = writer.reader()?;
        let counts = Lane::new(writer.reader()?, false);
        let facets = Lane::new(writer.reader()?, true);
        let histogram = Lane::new(writer.reader()?, true);
        Ok(Self {
            path: writer.path().to_path_buf(),
            clock: Arc::clone(&writer.clock),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            counts,
            facets,
            histogram,
            formats: FormatRegistry::builtin(),
            cancel_import: AtomicBool::new(false),
            cancel_export: AtomicBool::new(false),
        })
    }

    /// Creates a new case file and opens it.
    pub fn create(path: &Path, name: &str, clock: Arc<dyn Clock>, operator: &str) -> Result<Self> {
        Self::from_writer(CaseWriter::create(path, name, clock, operator)?)
    }

    /// Opens an existing case file.
    pub fn open(path: &Path, clock: Arc<dyn Clock>, operator: &str) -> Result<Self> {
        Self::from_writer(CaseWriter::open(path, clock, operator)?)
    }

    /// The case file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The case at a glance.
    pub fn summary(&self) -> Result<CaseSummary> {
        lock(&self.reader)?.summary()
    }

    /// Counts the events matching what the investigator typed.
    pub fn count(&self, query_text: &str) -> Result<SearchCount> {
        let query = Query::parse(query_text)?;
        self.counts.run(|r| r.count(&query))
    }

    /// One keyset page of matching events.
    pub fn page(&self, query_text: &str, sort: SortOrder, after: Option<&str>, limit: usize) -> Result<Page> {
        lock(&self.reader)?.page(&Query::parse(query_text)?, sort, after, limit)
    }

    /// The keyset page that starts at `position` of the result list (random access for the timeline's
    /// scrollbar, End key and jumps; see `seek.rs`).
    pub fn page_at(&self, query_text: &str, sort: SortOrder, position: u64, limit: usize) -> Result<Page> {
        lock(&self.reader)?.page_at(&Query::parse(query_text)?, sort, position, limit)
    }

    /// One event with its raw records.
    pub fn event(&self, id: &str) -> Result<EventDetail> {
        lock(&self.reader)?.event(id)
    }

    /// Every account of the case with its span and baseline (the Accounts view).
    pub fn accounts(&self) -> Result<Vec<crate::accounts::AccountSummary>> {
        lock(&self.reader)?.accounts()
    }

    /// One account's sessions, oldest first.
    pub fn account_sessions(&self, account: &str) -> Result<Vec<crate::accounts::sessions::AccountSession>> {
        lock(&self.reader)?.account_sessions(account)
    }

    /// What the case knows about one client address (the detail pane's IP card).
    pub fn ip_card(&self, ip: &str) -> Result<Option<crate::ipinfo::IpCard>> {
        lock(&self.reader)?.ip_card(ip)
    }

    /// Imports files, folders and archives; searches keep working meanwhile, and
    /// [`OpenCase::cancel_import`] stops it.
    pub fn import(&self, paths: &[PathBuf], progress: &mut dyn FnMut(&ImportProgress)) -> Result<ImportReport> {
        let mut writer = lock(&self.writer)?;
        self.cancel_import.store(false, Ordering::Relaxed);
        writer.import_with(paths, &self.formats, ImportControl { cancel: &self.cancel_import }, progress)
    }

    /// Whether a long write (an import) holds the case's writer right now.
    pub fn writer_busy(&self) -> bool {
        matches!(self.writer.try_lock(), Err(TryLockError::WouldBlock))
    }

    /// Asks a running import to stop after the batch it is writing (what was written is kept).
    pub fn cancel_import(&self) {
        self.cancel_import.store(true, Ordering::Relaxed);
    }

    /// Exports what the investigator asked for (scope, format, columns, time zone) to `request.path`,
    /// writes the manifest beside it and records it in the case log. The export reads through its own
    /// connection, so the timeline keeps answering meanwhile; [`OpenCase::cancel_export`] stops it. The
    /// case-log entry waits for a running import to finish (the writer is busy until then).
    pub fn export(&self, request: &ExportRequest, progress: &mut dyn FnMut(&ExportProgress)) -> Result<ExportResult> {
        let spec = ExportSpec::from_request(request)?;
        let reader = CaseReader::open(&self.path)?;
        self.cancel_export.store(false, Ordering::Relaxed);
        let control = ExportControl { cancel: &self.cancel_export };
        let result = reader.export_events(&spec, Path::new(&request.path), self.clock.as_ref(), control, progress)?;
        lock(&self.writer)?.record_export(&result)?;
        Ok(result)
    }

    /// Asks a running export to stop after the page it is writing; its partial file is removed.
    pub fn cancel_export(&self) {
        self.cancel_export.store(true, Ordering::Relaxed);
    }

    /// Facets of what the investigator typed: the `top` most frequent values of each field, estimated
    /// for large results unless `precision` is exact. Replaces a facets request still running.
    pub fn facets(&self, query_text: &str, top: usize, precision: FacetPrecision) -> Result<Facets> {
        let query = Query::parse(query_text)?;
        self.facets.run(|r| r.facets(&query, top, precision))
    }

    /// Matching events over time, stacked by action, optionally within `start_ms..=end_ms`. Replaces
    /// a histogram request still running.
    pub fn histogram(&self, query_text: &str, start_ms: Option<i64>, end_ms: Option<i64>) -> Result<Histogram> {
        let query = Query::parse(query_text)?;
        self.histogram.run(|r| r.histogram(&query, start_ms, end_ms))
    }

    /// Every tag with its event count.
    pub fn tags(&self) -> Result<Vec<Tag>> {
        lock(&self.reader)?.tags()
    }

    /// Creates a tag (`color` is `#rrggbb`).
    pub fn tag_create(&self, name: &str, color: &str) -> Result<Tag> {
        lock_for_change(&self.writer)?.create_tag(name, color)
    }

    /// Renames a tag.
    pub fn tag_rename(&self, tag_id: i64, name: &str) -> Result<Tag> {
        lock_for_change(&self.writer)?.rename_tag(tag_id, name)
    }

    /// Changes a tag's colour.
    pub fn tag_recolor(&self, tag_id: i64, color: &str) -> Result<Tag> {
        lock_for_change(&self.writer)?.recolor_tag(tag_id, color)
    }

    /// Deletes a tag and its assignments; returns how many events lost it.
    pub fn tag_delete(&self, tag_id: i64) -> Result<i64> {
        lock_for_change(&self.writer)?.delete_tag(tag_id)
    }

    /// Puts a tag on events by id.
    pub fn tag_events(&self, tag_id: i64, event_ids: &[String]) -> Result<TagChange> {
        lock_for_change(&self.writer)?.tag_events(tag_id, event_ids)
    }

    /// Takes a tag off events by id.
    pub fn untag_events(&self, tag_id: i64, event_ids: &[String]) -> Result<TagChange> {
        lock_for_change(&self.writer)?.untag_events(tag_id, event_ids)
    }

    /// Puts a tag on every event matching what the investigator typed.
    pub fn tag_query(&self, tag_id: i64, query_text: &str) -> Result<TagChange> {
        let q = Query::parse(query_text)?;
        lock_for_change(&self.writer)?.tag_query(tag_id, query_text, &q)
    }

    /// Takes a tag off every event matching what the investigator typed.
    pub fn untag_query(&self, tag_id: i64, query_text: &str) -> Result<TagChange> {
        let q = Query::parse(query_text)?;
        lock_for_change(&self.writer)?.untag_query(tag_id, query_text, &q)
    }

    /// Bookmarks an event or removes its bookmark; returns whether it is bookmarked now.
    pub fn bookmark_toggle(&self, event_id: &str) -> Result<bool> {
        lock_for_change(&self.writer)?.toggle_bookmark(event_id)
    }

    /// Every bookmark with its event, in time order.
    pub fn bookmarks(&self) -> Result<Vec<Bookmark>> {
        lock(&self.reader)?.bookmarks()
    }

    /// Every note in timeline order.
    pub fn notes(&self) -> Result<Vec<Note>> {
        lock(&self.reader)?.notes()
    }

    /// Writes a note on an event.
    pub fn note_event(&self, event_id: &str, body: &str) -> Result<Note> {
        lock_for_change(&self.writer)?.add_event_note(event_id, body)
    }

    /// Writes a note on a time range (Unix ms, inclusive).
    pub fn note_range(&self, start_ms: i64, end_ms: i64, body: &str) -> Result<Note> {
        lock_for_change(&self.writer)?.add_range_note(start_ms, end_ms, body)
    }

    /// Replaces a note's text.
    pub fn note_edit(&self, note_id: i64, body: &str) -> Result<Note> {
        lock_for_change(&self.writer)?.edit_note(note_id, body)
    }

    /// Deletes a note.
    pub fn note_delete(&self, note_id: i64) -> Result<()> {
        lock_for_change(&self.writer)?.delete_note(note_id)
    }

    /// Every saved search, by name.
    pub fn saved_searches(&self) -> Result<Vec<SavedSearch>> {
        lock(&self.reader)?.saved_searches()
    }

    /// Saves a search under a name.
    pub fn saved_search_create(&self, name: &str, query_text: &str) -> Result<SavedSearch> {
        lock_for_change(&self.writer)?.save_search(name, query_text)
    }

    /// Renames a saved search.
    pub fn saved_search_rename(&self, saved_search_id: i64, name: &str) -> Result<SavedSearch> {
        lock_for_change(&self.writer)?.rename_saved_search(saved_search_id, name)
    }

    /// Deletes a saved search.
    pub fn saved_search_delete(&self, saved_search_id: i64) -> Result<()> {
        lock_for_change(&self.writer)?.delete_saved_search(saved_search_id)
    }

    /// Tags, bookmark and notes of each of these events (for timeline rows and the detail pane).
    pub fn event_annotations(&self, event_ids: &[String]) -> Result<Vec<EventAnnotations>> {
        lock(&self.reader)?.event_annotations(event_ids)
    }
}

/// The mailbox activity view and the legacy reports (`mailbox.rs`).
impl OpenCase {
    /// One page of the mailbox activity view: what happened in `mailbox` between `from` and `to` (typed
    /// times, both optional), in sessions, after the cursor `after`.
    pub fn mailbox_page(
        &self,
        mailbox: &str,
        from: Option<&str>,
        to: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<crate::model::MailboxPage> {
        let scope = crate::mailbox::MailboxScope::parse(mailbox, from, to)?;
        lock(&self.reader)?.mailbox_page(&scope, after, limit)
    }

    /// One page of a legacy Magic Unicorn report of `mailbox`.
    pub fn mailbox_report(
        &self,
        mailbox: &str,
        from: Option<&str>,
        to: Option<&str>,
        kind: crate::model::ReportKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<crate::model::MailboxReport> {
        let scope = crate::mailbox::MailboxScope::parse(mailbox, from, to)?;
        lock(&self.reader)?.mailbox_report(&scope, kind, after, limit)
    }

    /// Writes a whole legacy report as CSV to `out` and records it in the case log.
    pub fn mailbox_report_csv(
        &self,
        mailbox: &str,
        from: Option<&str>,
        to: Option<&str>,
        kind: crate::model::ReportKind,
        out: &Path,
    ) -> Result<crate::model::ReportExport> {
        let scope = crate::mailbox::MailboxScope::parse(mailbox, from, to)?;
        let written = lock(&self.reader)?.mailbox_report_csv(&scope, kind, out)?;
        lock(&self.writer)?.record_report_export(&scope, &written)?;
        Ok(written)
    }
}

/// The case log as the app shows it: the entries, and whether their hash chain holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseLog {
    /// Every entry, oldest first.
    pub entries: Vec<crate::case::LogEntry>,
    /// The entries that break the hash chain (empty when it is intact).
    pub issues: Vec<crate::case::LogIssue>,
}

/// The case log (chain of custody) for Case home.
impl OpenCase {
    /// The case log, with its hash chain checked.
    pub fn case_log(&self) -> Result<CaseLog> {
        let reader = lock(&self.reader)?;
        Ok(CaseLog { entries: reader.log_entries()?, issues: reader.verify_log()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;

    fn spin_until(what: impl Fn() -> bool) {
        let start = std::time::Instant::now();
        while !what() {
            assert!(start.elapsed() < std::time::Duration::from_secs(20), "timed out");
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_request_overtaken_while_it_waits_does_no_work_and_the_newest_runs() {
        let dir = tempfile::tempdir().unwrap();
        let writer =
            CaseWriter::create(&dir.path().join("lane.tidemark"), "lane", Arc::new(FixedClock(0)), "t").unwrap();
        let lane = Arc::new(Lane::new(writer.reader().unwrap(), true));
        // The lane is busy (held here); two requests queue behind it, the second after the first.
        let held = lane.reader.lock().unwrap();
        let ran = Arc::new(AtomicU64::new(0));
        let spawn = |n: u64| {
            let (lane, ran) = (Arc::clone(&lane), Arc::clone(&ran));
            std::thread::spawn(move || {
                lane.run(|_| {
                    ran.fetch_add(n, Ordering::SeqCst);
                    Ok(n)
                })
            })
        };
        let older = spawn(1);
        spin_until(|| lane.latest.load(Ordering::SeqCst) == 1);
        let newer = spawn(10);
        spin_until(|| lane.latest.load(Ordering::SeqCst) == 2);
        drop(held);
        assert_eq!(older.join().unwrap().unwrap_err().code, ErrorCode::QuerySuperseded);
        assert_eq!(newer.join().unwrap().unwrap(), 10);
        assert_eq!(ran.load(Ordering::SeqCst), 10, "only the newest request ran");
        // A lane that does not supersede (counts) runs every request.
        let counts = Lane::new(writer.reader().unwrap(), false);
        assert_eq!(counts.run(|_| Ok(1)).unwrap(), 1);
        assert_eq!(counts.run(|_| Ok(2)).unwrap(), 2);
    }
}
