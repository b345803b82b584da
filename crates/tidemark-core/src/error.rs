//! One error type for the engine, with stable codes.
//!
//! The UI and the CLI branch on [`ErrorCode`], never on message text: messages are for people and may
//! be reworded, codes are a contract. Every message says what went wrong and what to do about it.

use serde::Serialize;
use ts_rs::TS;

/// Stable, machine-readable error codes. Serialized as dotted strings (`"case.not_found"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum ErrorCode {
    /// The case file does not exist.
    #[serde(rename = "case.not_found")]
    CaseNotFound,
    /// The file exists but is not a Tidemark case (or is damaged).
    #[serde(rename = "case.not_a_case")]
    CaseNotACase,
    /// The case was written by a newer Tidemark with a schema this build does not know.
    #[serde(rename = "case.newer_schema")]
    CaseNewerSchema,
    /// A new case was asked for at a path that already holds a file.
    #[serde(rename = "case.exists")]
    CaseExists,
    /// A command needs an open case and none is open.
    #[serde(rename = "case.none_open")]
    CaseNoneOpen,
    /// An input file could not be read.
    #[serde(rename = "import.unreadable")]
    ImportUnreadable,
    /// An input file is in no format Tidemark knows.
    #[serde(rename = "import.unknown_format")]
    ImportUnknownFormat,
    /// The investigator stopped an import; what was read before is kept.
    #[serde(rename = "import.cancelled")]
    ImportCancelled,
    /// The search text could not be understood.
    #[serde(rename = "query.invalid")]
    QueryInvalid,
    /// A newer request of the same kind (facets, histogram) replaced this one before it finished.
    #[serde(rename = "query.superseded")]
    QuerySuperseded,
    /// No event has that id.
    #[serde(rename = "event.not_found")]
    EventNotFound,
    /// Writing an export failed.
    #[serde(rename = "export.failed")]
    ExportFailed,
    /// The investigator stopped an export; no file was kept.
    #[serde(rename = "export.cancelled")]
    ExportCancelled,
    /// An export's scope, columns, time zone or destination cannot be used.
    #[serde(rename = "export.invalid")]
    ExportInvalid,
    /// A change was asked for while an import is writing to the case.
    #[serde(rename = "case.busy")]
    CaseBusy,
    /// A tag with that name (ignoring case) already exists.
    #[serde(rename = "tag.exists")]
    TagExists,
    /// No tag has that id or name.
    #[serde(rename = "tag.not_found")]
    TagNotFound,
    /// No note has that id.
    #[serde(rename = "note.not_found")]
    NoteNotFound,
    /// A saved search with that name (ignoring case) already exists.
    #[serde(rename = "saved_search.exists")]
    SavedSearchExists,
    /// No saved search has that id.
    #[serde(rename = "saved_search.not_found")]
    SavedSearchNotFound,
    /// A tag name, colour, note text or time range is not acceptable.
    #[serde(rename = "annotation.invalid")]
    AnnotationInvalid,
    /// The OS keychain is locked, absent or refused the request.
    #[serde(rename = "collect.keychain_unavailable")]
    CollectKeychainUnavailable,
    /// A connection profile is missing, invalid or names something unknown.
    #[serde(rename = "collect.profile_invalid")]
    CollectProfileInvalid,
    /// Sign-in failed (wrong secret, certificate not registered, consent missing…).
    #[serde(rename = "collect.sign_in_failed")]
    CollectSignInFailed,
    /// The investigator declined or cancelled the sign-in.
    #[serde(rename = "collect.sign_in_cancelled")]
    CollectSignInCancelled,
    /// The sign-in took too long.
    #[serde(rename = "collect.sign_in_timeout")]
    CollectSignInTimeout,
    /// The app registration lacks a permission the API needs.
    #[serde(rename = "collect.permission_missing")]
    CollectPermissionMissing,
    /// Unified audit logging is off in the tenant.
    #[serde(rename = "collect.auditing_off")]
    CollectAuditingOff,
    /// Asked for data older than the source keeps.
    #[serde(rename = "collect.outside_retention")]
    CollectOutsideRetention,
    /// The server kept throttling beyond the retry budget.
    #[serde(rename = "collect.throttled")]
    CollectThrottled,
    /// The server kept failing beyond the retry budget.
    #[serde(rename = "collect.server_unavailable")]
    CollectServerUnavailable,
    /// The network could not be reached.
    #[serde(rename = "collect.network")]
    CollectNetwork,
    /// The server answered with something Tidemark cannot read.
    #[serde(rename = "collect.bad_response")]
    CollectBadResponse,
    /// The server refused the request.
    #[serde(rename = "collect.refused")]
    CollectRefused,
    /// Microsoft disabled the legacy Activities API in July 2018.
    #[serde(rename = "collect.activities_disabled")]
    CollectActivitiesDisabled,
    /// A Graph audit query kept failing.
    #[serde(rename = "collect.query_failed")]
    CollectQueryFailed,
    /// The investigator stopped the collection; resume continues it.
    #[serde(rename = "collect.cancelled")]
    CollectCancelled,
    /// Writing the collected records to the case failed.
    #[serde(rename = "collect.case")]
    CollectCase,
    /// The case has no unfinished collection.
    #[serde(rename = "collect.nothing_to_resume")]
    CollectNothingToResume,
    /// A collection or sign-in is already running in this app.
    #[serde(rename = "collect.busy")]
    CollectBusy,
    /// An operating-system I/O error.
    #[serde(rename = "io")]
    Io,
    /// A bug or an unexpected database state.
    #[serde(rename = "internal")]
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CaseNotFound => "case.not_found",
            Self::CaseNotACase => "case.not_a_case",
            Self::CaseNewerSchema => "case.newer_schema",
            Self::CaseExists => "case.exists",
            Self::CaseNoneOpen => "case.none_open",
            Self::ImportUnreadable => "import.unreadable",
            Self::ImportUnknownFormat => "import.unknown_format",
            Self::ImportCancelled => "import.cancelled",
            Self::QueryInvalid => "query.invalid",
            Self::QuerySuperseded => "query.superseded",
            Self::EventNotFound => "event.not_found",
            Self::ExportFailed => "export.failed",
            Self::ExportCancelled => "export.cancelled",
            Self::ExportInvalid => "export.invalid",
            Self::CaseBusy => "case.busy",
            Self::TagExists => "tag.exists",
            Self::TagNotFound => "tag.not_found",
            Self::NoteNotFound => "note.not_found",
            Self::SavedSearchExists => "saved_search.exists",
            Self::SavedSearchNotFound => "saved_search.not_found",
            Self::AnnotationInvalid => "annotation.invalid",
            Self::CollectKeychainUnavailable => "collect.keychain_unavailable",
            Self::CollectProfileInvalid => "collect.profile_invalid",
            Self::CollectSignInFailed => "collect.sign_in_failed",
            Self::CollectSignInCancelled => "collect.sign_in_cancelled",
            Self::CollectSignInTimeout => "collect.sign_in_timeout",
            Self::CollectPermissionMissing => "collect.permission_missing",
            Self::CollectAuditingOff => "collect.auditing_off",
            Self::CollectOutsideRetention => "collect.outside_retention",
            Self::CollectThrottled => "collect.throttled",
            Self::CollectServerUnavailable => "collect.server_unavailable",
            Self::CollectNetwork => "collect.network",
            Self::CollectBadResponse => "collect.bad_response",
            Self::CollectRefused => "collect.refused",
            Self::CollectActivitiesDisabled => "collect.activities_disabled",
            Self::CollectQueryFailed => "collect.query_failed",
            Self::CollectCancelled => "collect.cancelled",
            Self::CollectCase => "collect.case",
            Self::CollectNothingToResume => "collect.nothing_to_resume",
            Self::CollectBusy => "collect.busy",
            Self::Io => "io",
            Self::Internal => "internal",
        }
    }
}

/// An engine error: a stable code, a plain-language message, and optional technical detail.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// What kind of failure this is.
    pub code: ErrorCode,
    /// What went wrong and what to do, in plain words.
    pub message: String,
    /// Technical detail for a bug report (SQLite message, OS error), if any.
    pub detail: Option<String>,
}

/// The serialized form of [`Error`] that crosses into the UI.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ErrorBody {
    /// Branch on this.
    pub code: ErrorCode,
    /// Show this.
    pub message: String,
    /// Show this collapsed.
    pub detail: Option<String>,
}

impl From<&Error> for ErrorBody {
    fn from(e: &Error) -> Self {
        Self { code: e.code, message: e.message.clone(), detail: e.detail.clone() }
    }
}

impl Error {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), detail: None }
    }

    /// Adds technical detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Replaces the code, keeping message and detail.
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = code;
        self
    }

    /// An unexpected state: a bug, or a damaged file.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            ErrorCode::Internal,
            "Tidemark hit an unexpected problem. The case file was not changed by the failed step; \
             please report this with the detail below.",
        )
        .with_detail(detail)
    }

    /// An I/O failure on a path, with the OS error as detail.
    pub fn io(what: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        let hint = match err.kind() {
            std::io::ErrorKind::NotFound => "Check that the path exists.",
            std::io::ErrorKind::PermissionDenied => "Check that you may read and write there.",
            _ => "Check the disk and the path, then try again.",
        };
        Self::new(ErrorCode::Io, format!("Could not {what} {}. {hint}", path.display())).with_detail(err.to_string())
    }
}

/// The answer to a request that a newer one of the same kind replaced (its result is not wanted).
pub fn superseded() -> Error {
    Error::new(ErrorCode::QuerySuperseded, "A newer request replaced this one before it finished; nothing to do.")
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.code == rusqlite::ErrorCode::OperationInterrupted {
                return superseded();
            }
            if f.code == rusqlite::ErrorCode::DatabaseBusy || f.code == rusqlite::ErrorCode::DatabaseLocked {
                return Self::new(
                    ErrorCode::Io,
                    "The case file is busy: another Tidemark window or command is writing to it. \
                     Wait for it to finish, then try again.",
                )
                .with_detail(e.to_string());
            }
            if f.code == rusqlite::ErrorCode::DiskFull {
                return Self::new(ErrorCode::Io, "The disk is full. Free some space, then try again.")
                    .with_detail(e.to_string());
            }
            if f.code == rusqlite::ErrorCode::NotADatabase {
                return Self::new(
                    ErrorCode::CaseNotACase,
                    "This file is not a Tidemark case, or it is damaged. Open a .tidemark file made by Tidemark.",
                )
                .with_detail(e.to_string());
            }
        }
        Self::internal(e.to_string())
    }
}

/// Engine result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
