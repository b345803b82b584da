//! An open case as the app and long-running tools hold it: one writer and one reader behind locks, so
//! searches keep answering while an import writes (SQLite WAL), and every entry point takes the text
//! the investigator typed, not SQL.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::case::{CaseReader, CaseWriter};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::import::ImportControl;
use crate::model::{CaseSummary, EventDetail, ImportProgress, ImportReport, Page, SearchCount, SortOrder};
use crate::query::Query;
use tidemark_formats::FormatRegistry;

/// An open case.
#[derive(Debug)]
pub struct OpenCase {
    path: PathBuf,
    writer: Mutex<CaseWriter>,
    reader: Mutex<CaseReader>,
    formats: FormatRegistry,
    /// Set by [`OpenCase::cancel_import`]; read by the running import between batches.
    cancel_import: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    m.lock().map_err(|_| Error::internal("a previous operation on this case crashed; close and reopen the case"))
}

impl OpenCase {
    fn from_writer(writer: CaseWriter) -> Result<Self> {
        let reader = writer.reader()?;
        Ok(Self {
            path: writer.path().to_path_buf(),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            formats: FormatRegistry::builtin(),
            cancel_import: AtomicBool::new(false),
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
        lock(&self.reader)?.count(&Query::parse(query_text)?)
    }

    /// One keyset page of matching events.
    pub fn page(&self, query_text: &str, sort: SortOrder, after: Option<&str>, limit: usize) -> Result<Page> {
        lock(&self.reader)?.page(&Query::parse(query_text)?, sort, after, limit)
    }

    /// One event with its raw records.
    pub fn event(&self, id: &str) -> Result<EventDetail> {
        lock(&self.reader)?.event(id)
    }

    /// Imports files, folders and archives; searches keep working meanwhile, and
    /// [`OpenCase::cancel_import`] stops it.
    pub fn import(&self, paths: &[PathBuf], progress: &mut dyn FnMut(&ImportProgress)) -> Result<ImportReport> {
        let mut writer = lock(&self.writer)?;
        self.cancel_import.store(false, Ordering::Relaxed);
        writer.import_with(paths, &self.formats, ImportControl { cancel: &self.cancel_import }, progress)
    }

    /// Asks a running import to stop after the batch it is writing (what was written is kept).
    pub fn cancel_import(&self) {
        self.cancel_import.store(true, Ordering::Relaxed);
    }
}
