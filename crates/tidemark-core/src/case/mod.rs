//! The case file: one SQLite file per case (`.tidemark`).
//!
//! Reads and writes go through separate handle types: [`CaseWriter`] owns the only connection that
//! changes the file (imports, annotations, the case log); [`CaseReader`] is `query_only` and serves
//! search, detail and export. WAL lets a reader work while an import is writing.
//!
//! Opening checks `PRAGMA application_id` (is this ours?) and `PRAGMA user_version` (the schema
//! number): a file from a newer Tidemark is refused with [`ErrorCode::CaseNewerSchema`] instead of
//! being misread; a file from an older one is migrated forward in one transaction.

mod log;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{AcquiredFile, Acquisition, CaseSummary};
use crate::time::iso_ms;

pub(crate) use log::append as append_log;
pub use log::{LogEntry, LogIssue};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};

/// Version of this build of Tidemark, recorded in cases, acquisitions and manifests.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Extension of case files.
pub const CASE_EXTENSION: &str = "tidemark";

/// Who is doing something, for the case log: the OS user, or what the caller says.
pub fn default_operator() -> String {
    std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".to_owned())
}

fn apply_pragmas(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

fn open_existing(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::new(
            ErrorCode::CaseNotFound,
            format!("There is no case file at {}. Check the path, or create a new case.", path.display()),
        ));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| {
        Error::new(ErrorCode::CaseNotACase, format!("Could not open {} as a case file.", path.display()))
            .with_detail(e.to_string())
    })?;
    schema::check_identity(&conn, path)?;
    Ok(conn)
}

/// The write handle of a case. There is at most one per process and case.
#[derive(Debug)]
pub struct CaseWriter {
    pub(crate) conn: Connection,
    path: PathBuf,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) operator: String,
}

impl CaseWriter {
    /// Creates a new case file at `path` (which must not exist) and opens it for writing.
    pub fn create(path: &Path, name: &str, clock: Arc<dyn Clock>, operator: &str) -> Result<Self> {
        if path.exists() {
            return Err(Error::new(
                ErrorCode::CaseExists,
                format!("{} already exists. Choose another file name, or open the existing case.", path.display()),
            ));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(Error::new(
                    ErrorCode::Io,
                    format!("The folder {} does not exist. Create it first or choose another place.", dir.display()),
                ));
            }
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::new(ErrorCode::CaseNotACase, "A case needs a name. Type one and try again."));
        }
        let conn = Connection::open(path).map_err(|e| {
            Error::new(ErrorCode::Io, format!("Could not create the case file {}.", path.display()))
                .with_detail(e.to_string())
        })?;
        // Must precede the first table: 16 KiB pages measured fastest for bulk import.
        conn.pragma_update(None, "page_size", 16_384)?;
        apply_pragmas(&conn)?;
        let mut writer = Self { conn, path: path.to_path_buf(), clock, operator: operator.to_owned() };
        let now = writer.clock.now_ms();
        let case_id = {
            let mut h = Sha256::new();
            h.update(path.to_string_lossy().as_bytes());
            h.update(name.as_bytes());
            h.update(now.to_le_bytes());
            hex::encode(&h.finalize()[..16])
        };
        let tx = writer.conn.transaction()?;
        schema::migrate(&tx)?;
        {
            let mut st = tx.prepare("INSERT INTO case_meta (key, value) VALUES (?1, ?2)")?;
            st.execute(("name", name))?;
            st.execute(("case_id", case_id.as_str()))?;
            st.execute(("created_ms", now.to_string()))?;
            st.execute(("tool_version", TOOL_VERSION))?;
            st.execute(("display_time_zone", "UTC"))?;
        }
        log::append(
            &tx,
            now,
            operator,
            "case.created",
            &format!("Case \"{name}\" created"),
            &serde_json::json!({ "name": name, "case_id": case_id, "tool_version": TOOL_VERSION }),
            None,
        )?;
        tx.commit()?;
        Ok(writer)
    }

    /// Opens an existing case for writing, migrating an older schema forward.
    pub fn open(path: &Path, clock: Arc<dyn Clock>, operator: &str) -> Result<Self> {
        let conn = open_existing(path)?;
        apply_pragmas(&conn)?;
        let mut writer = Self { conn, path: path.to_path_buf(), clock, operator: operator.to_owned() };
        let from = schema::version(&writer.conn)?;
        if from < SCHEMA_VERSION {
            let now = writer.clock.now_ms();
            let tx = writer.conn.transaction()?;
            schema::migrate(&tx)?;
            log::append(
                &tx,
                now,
                operator,
                "case.migrated",
                &format!("Case file schema upgraded from {from} to {SCHEMA_VERSION}"),
                &serde_json::json!({ "from": from, "to": SCHEMA_VERSION, "tool_version": TOOL_VERSION }),
                None,
            )?;
            tx.commit()?;
        }
        writer.close_interrupted()?;
        Ok(writer)
    }

    /// The lock file that a running import holds, so other processes can tell a live import from one
    /// that was cut off (crash, power loss, kill).
    pub(crate) fn import_lock_path(&self) -> PathBuf {
        let mut name = self.path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".import-lock");
        self.path.with_file_name(name)
    }

    /// Takes the import lock, or says that another import into this case is running.
    pub(crate) fn lock_imports(&self) -> Result<std::fs::File> {
        let lock_path = self.import_lock_path();
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("create the import lock", &lock_path, &e))?;
        match f.try_lock() {
            Ok(()) => Ok(f),
            Err(_) => Err(Error::new(
                ErrorCode::Io,
                "Another import into this case is running (in another window or command). Wait for it to \
                 finish, then try again.",
            )),
        }
    }

    /// Marks acquisitions left `running` by a process that is gone as `interrupted`, and logs it.
    /// What they stored is kept; their counts say how far they got.
    fn close_interrupted(&mut self) -> Result<()> {
        let stale: Vec<(i64, i64)> = {
            let mut st =
                self.conn.prepare("SELECT id, records_read FROM acquisition WHERE status = 'running' ORDER BY id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
            rows
        };
        if stale.is_empty() {
            return Ok(());
        }
        // A live import holds the lock; then its acquisition is not stale.
        let Ok(_lock) = self.lock_imports() else { return Ok(()) };
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        for (id, read) in stale {
            tx.execute(
                "UPDATE acquisition SET status = 'interrupted', finished_ms = ?2, \
                 error = 'Tidemark stopped before this acquisition finished.' WHERE id = ?1",
                rusqlite::params![id, now],
            )?;
            log::append(
                &tx,
                now,
                &self.operator,
                "acquisition.interrupted",
                &format!(
                    "Acquisition #{id} was interrupted before it finished; the {read} records it stored are kept and counted"
                ),
                &serde_json::json!({ "acquisition_id": id, "records_read": read }),
                None,
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The case file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens a read handle on the same file.
    pub fn reader(&self) -> Result<CaseReader> {
        CaseReader::open(&self.path)
    }

    /// Appends an entry to the case log (chain of custody).
    pub fn log(
        &mut self,
        action: &str,
        summary: &str,
        details: &serde_json::Value,
        sha256: Option<&[u8]>,
    ) -> Result<()> {
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        log::append(&tx, now, &self.operator, action, summary, details, sha256)?;
        tx.commit()?;
        Ok(())
    }

    /// Sets the display time zone (an IANA name or `UTC`).
    pub fn set_display_time_zone(&mut self, zone: &str) -> Result<()> {
        if zone != "UTC" && zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(Error::new(
                ErrorCode::QueryInvalid,
                format!("\"{zone}\" is not a time zone Tidemark knows. Use a name like Europe/Berlin or UTC."),
            ));
        }
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE case_meta SET value = ?1 WHERE key = 'display_time_zone'", [zone])?;
        log::append(
            &tx,
            now,
            &self.operator,
            "case.time_zone",
            &format!("Display time zone set to {zone}"),
            &serde_json::json!({ "zone": zone }),
            None,
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// The read handle of a case (`PRAGMA query_only`): search, detail, export, verify.
pub struct CaseReader {
    pub(crate) conn: Connection,
    path: PathBuf,
    pub(crate) decoders: std::cell::RefCell<std::collections::HashMap<Option<i64>, zstd::bulk::Decompressor<'static>>>,
    /// Sparse position anchors per query, for random access into result lists (`seek.rs`).
    pub(crate) anchors: crate::seek::AnchorCell,
    /// The terms of recently spelled-out prefixes (`search.rs`), for the pages that follow.
    pub(crate) prefixes: std::cell::RefCell<crate::search::PrefixCache>,
}

impl std::fmt::Debug for CaseReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseReader").field("path", &self.path).finish_non_exhaustive()
    }
}

impl CaseReader {
    /// Opens a case for reading. Fails with `case.newer_schema` for files from a newer Tidemark.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = open_existing(path)?;
        apply_pragmas(&conn)?;
        let version = schema::version(&conn)?;
        if version < SCHEMA_VERSION {
            return Err(Error::new(
                ErrorCode::CaseNotACase,
                format!(
                    "This case file uses an older layout (schema {version}). Open it once for writing \
                     (in the app, or with `tidemark case info`) to upgrade it."
                ),
            ));
        }
        // The word and identifier indexes' vocabularies, for spelling out prefixes (`search.rs`). In
        // the connection's temp schema: nothing is written to the case file.
        conn.execute_batch(
            "CREATE VIRTUAL TABLE temp.event_fts_terms USING fts5vocab(main, event_fts, instance);
             CREATE VIRTUAL TABLE temp.ident_fts_terms USING fts5vocab(main, ident_fts, instance);",
        )?;
        conn.pragma_update(None, "query_only", "ON")?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            decoders: Default::default(),
            anchors: Default::default(),
            prefixes: Default::default(),
        })
    }

    /// The case file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A value from the case metadata.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM case_meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// The case at a glance: name, counts, span, acquisitions.
    pub fn summary(&self) -> Result<CaseSummary> {
        let meta = |k: &str| -> Result<String> { Ok(self.meta(k)?.unwrap_or_default()) };
        let created_ms: i64 = meta("created_ms")?.parse().unwrap_or(0);
        let events = self.total_events()?;
        let (first, last): (Option<i64>, Option<i64>) = self.conn.query_row(
            "SELECT (SELECT time_ms FROM event ORDER BY id ASC LIMIT 1), (SELECT time_ms FROM event ORDER BY id DESC LIMIT 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        // Kept per acquisition in the same transactions as the rows they count: no table scans.
        let (raw_records, malformed): (i64, i64) = self.conn.query_row(
            "SELECT coalesce(sum(records_read), 0), coalesce(sum(malformed), 0) FROM acquisition",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let acquisitions = self.acquisitions()?;
        let duplicates = acquisitions.iter().map(|a| a.duplicates).sum();
        Ok(CaseSummary {
            path: self.path.display().to_string(),
            name: meta("name")?,
            created_at: iso_ms(created_ms),
            tool_version: meta("tool_version")?,
            display_time_zone: meta("display_time_zone")?,
            events,
            raw_records,
            malformed,
            duplicates,
            first_time: first.map(iso_ms),
            last_time: last.map(iso_ms),
            acquisitions,
        })
    }

    /// Every acquisition, oldest first, with its files.
    pub fn acquisitions(&self) -> Result<Vec<Acquisition>> {
        let formats = tidemark_formats::FormatRegistry::builtin();
        let mut files_st = self.conn.prepare_cached(
            "SELECT path, size, sha256, format, encoding, container, records, events_new, duplicates, malformed, \
             first_ms, last_ms FROM acquired_file WHERE acquisition_id = ?1 ORDER BY id",
        )?;
        let mut st = self.conn.prepare_cached(
            "SELECT id, kind, source, parameters, operator, tool_version, started_ms, finished_ms, status, \
                    records_read, events_new, duplicates, malformed FROM acquisition ORDER BY id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(Acquisition {
                id: r.get(0)?,
                kind: r.get(1)?,
                source: r.get(2)?,
                parameters: r.get(3)?,
                operator: r.get(4)?,
                tool_version: r.get(5)?,
                started_at: iso_ms(r.get(6)?),
                finished_at: r.get::<_, Option<i64>>(7)?.map(iso_ms),
                status: r.get(8)?,
                records_read: r.get(9)?,
                events_new: r.get(10)?,
                duplicates: r.get(11)?,
                malformed: r.get(12)?,
                files: Vec::new(),
            })
        })?;
        let mut out = Vec::new();
        for a in rows {
            let mut a = a?;
            a.files = files_st
                .query_map([a.id], |r| {
                    let format: String = r.get(3)?;
                    Ok(AcquiredFile {
                        path: r.get(0)?,
                        size: r.get::<_, i64>(1)?.try_into().unwrap_or(0),
                        sha256: hex::encode(r.get::<_, Vec<u8>>(2)?),
                        format_name: formats.get(&format).map_or_else(|| format.clone(), |f| f.name().to_owned()),
                        format,
                        encoding: r.get(4)?,
                        container: r.get(5)?,
                        records: r.get::<_, Option<i64>>(6)?.unwrap_or(0),
                        new_events: r.get::<_, Option<i64>>(7)?.unwrap_or(0),
                        duplicates: r.get::<_, Option<i64>>(8)?.unwrap_or(0),
                        malformed: r.get::<_, Option<i64>>(9)?.unwrap_or(0),
                        malformed_at: Vec::new(),
                        first_time: r.get::<_, Option<i64>>(10)?.map(iso_ms),
                        last_time: r.get::<_, Option<i64>>(11)?.map(iso_ms),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            out.push(a);
        }
        Ok(out)
    }

    /// The case log, oldest first.
    pub fn log_entries(&self) -> Result<Vec<LogEntry>> {
        log::entries(&self.conn)
    }

    /// Checks the hash chain of the case log; returns the entries that break it.
    pub fn verify_log(&self) -> Result<Vec<LogIssue>> {
        log::verify(&self.conn)
    }
}
