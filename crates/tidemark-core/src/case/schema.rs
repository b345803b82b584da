//! Schema migrations: numbered SQL files embedded in the binary, applied in one transaction.

use std::path::Path;

use rusqlite::Connection;

use crate::error::{Error, ErrorCode, Result};

/// `PRAGMA application_id` of Tidemark case files ("TDMK").
pub const APPLICATION_ID: i32 = 0x5444_4D4B;

/// Migrations in order; the schema version is the number of the last one applied.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/0001_case_file.sql")),
    (2, include_str!("../../migrations/0002_universal_import.sql")),
    (3, include_str!("../../migrations/0003_collection.sql")),
    (4, include_str!("../../migrations/0004_workspace_speed.sql")),
    (5, include_str!("../../migrations/0005_ip_context.sql")),
    (6, include_str!("../../migrations/0006_account_baselines.sql")),
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

pub(crate) fn version(conn: &Connection) -> Result<u32> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// Refuses files that are not Tidemark cases, and cases from a newer Tidemark.
pub(crate) fn check_identity(conn: &Connection, path: &Path) -> Result<()> {
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(|e| {
        Error::new(
            ErrorCode::CaseNotACase,
            format!("{} is not a Tidemark case file, or it is damaged. Open a .tidemark file.", path.display()),
        )
        .with_detail(e.to_string())
    })?;
    if app_id != APPLICATION_ID {
        return Err(Error::new(
            ErrorCode::CaseNotACase,
            format!("{} is not a Tidemark case file. Open a .tidemark file made by Tidemark.", path.display()),
        )
        .with_detail(format!("application_id is {app_id:#x}, expected {APPLICATION_ID:#x}")));
    }
    let v = version(conn)?;
    if v > SCHEMA_VERSION {
        return Err(Error::new(
            ErrorCode::CaseNewerSchema,
            format!(
                "This case was made by a newer version of Tidemark (case format {v}; this version reads up to \
                 {SCHEMA_VERSION}). Update Tidemark to open it. The file was not changed."
            ),
        ));
    }
    Ok(())
}

/// Applies every migration newer than the file's version. Call inside a transaction.
pub(crate) fn migrate(conn: &Connection) -> Result<()> {
    let current = version(conn)?;
    for (n, sql) in MIGRATIONS {
        if *n > current {
            conn.execute_batch(sql).map_err(|e| Error::internal(format!("migration {n} failed: {e}")))?;
            if *n == 4 {
                // The rollups start from the events already in the case.
                crate::rollup::rebuild(conn).map_err(|e| Error::internal(format!("migration {n} failed: {e}")))?;
            }
            if *n == 5 {
                // Every address already in the case gets its country and network.
                crate::ipinfo::enrich_case(conn).map_err(|e| Error::internal(format!("migration {n} failed: {e}")))?;
            }
            if *n == 6 {
                // Every account's baseline starts from the events already in the case.
                crate::accounts::baseline::rebuild(conn)
                    .map_err(|e| Error::internal(format!("migration {n} failed: {e}")))?;
            }
            conn.pragma_update(None, "user_version", n)?;
        }
    }
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    Ok(())
}
