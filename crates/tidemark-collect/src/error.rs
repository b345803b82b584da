//! Errors with stable codes (`collect.*`) and plain messages.
//!
//! The CLI's exit codes and the app branch on [`Code`]; the message is for the investigator and says
//! what to do. Every failed window in the ledger carries one of these codes.

use std::fmt;

/// Stable error codes of live collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// The OS keychain is locked, absent or refused the request.
    KeychainUnavailable,
    /// A profile is missing, invalid or names something unknown.
    ProfileInvalid,
    /// Sign-in failed (wrong secret, certificate not registered, consent missing…).
    SignInFailed,
    /// The investigator declined or cancelled the sign-in.
    SignInCancelled,
    /// The sign-in took too long (device code or browser).
    SignInTimeout,
    /// The app registration lacks a permission the API needs.
    PermissionMissing,
    /// Unified audit logging is off in the tenant.
    AuditingOff,
    /// Asked for data older than the source keeps.
    OutsideRetention,
    /// The server kept throttling beyond the retry budget.
    Throttled,
    /// The server kept failing (5xx, dropped connections) beyond the retry budget.
    ServerUnavailable,
    /// The network could not be reached.
    Network,
    /// The server answered with something Tidemark cannot read.
    BadResponse,
    /// The server refused the request (4xx that is not one of the above).
    Refused,
    /// Microsoft disabled the legacy Activities API in July 2018.
    ActivitiesDisabled,
    /// A Graph audit query ended `failed` more often than the retry budget allows.
    QueryFailed,
    /// The investigator stopped the collection; what was stored stays and `resume` continues.
    Cancelled,
    /// Writing to the case failed.
    Case,
    /// Nothing to resume.
    NothingToResume,
}

impl Code {
    /// The code as written in the ledger and shown by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::KeychainUnavailable => "collect.keychain_unavailable",
            Code::ProfileInvalid => "collect.profile_invalid",
            Code::SignInFailed => "collect.sign_in_failed",
            Code::SignInCancelled => "collect.sign_in_cancelled",
            Code::SignInTimeout => "collect.sign_in_timeout",
            Code::PermissionMissing => "collect.permission_missing",
            Code::AuditingOff => "collect.auditing_off",
            Code::OutsideRetention => "collect.outside_retention",
            Code::Throttled => "collect.throttled",
            Code::ServerUnavailable => "collect.server_unavailable",
            Code::Network => "collect.network",
            Code::BadResponse => "collect.bad_response",
            Code::Refused => "collect.refused",
            Code::ActivitiesDisabled => "collect.activities_disabled",
            Code::QueryFailed => "collect.query_failed",
            Code::Cancelled => "collect.cancelled",
            Code::Case => "collect.case",
            Code::NothingToResume => "collect.nothing_to_resume",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A collection error: a stable code, a plain message, technical detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectError {
    /// Branch on this.
    pub code: Code,
    /// Show this.
    pub message: String,
    /// Show this collapsed (server error code, HTTP status).
    pub detail: Option<String>,
}

impl CollectError {
    /// An error with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), detail: None }
    }

    /// Adds technical detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CollectError {}

impl From<tidemark_core::Error> for CollectError {
    fn from(e: tidemark_core::Error) -> Self {
        let detail = format!("{}: {}", e.code.as_str(), e.detail.clone().unwrap_or_default());
        CollectError::new(Code::Case, e.message).with_detail(detail)
    }
}

impl Code {
    /// The engine's code for the same failure, so the app hands the UI one list of codes.
    pub fn engine_code(self) -> tidemark_core::ErrorCode {
        use tidemark_core::ErrorCode as E;
        match self {
            Code::KeychainUnavailable => E::CollectKeychainUnavailable,
            Code::ProfileInvalid => E::CollectProfileInvalid,
            Code::SignInFailed => E::CollectSignInFailed,
            Code::SignInCancelled => E::CollectSignInCancelled,
            Code::SignInTimeout => E::CollectSignInTimeout,
            Code::PermissionMissing => E::CollectPermissionMissing,
            Code::AuditingOff => E::CollectAuditingOff,
            Code::OutsideRetention => E::CollectOutsideRetention,
            Code::Throttled => E::CollectThrottled,
            Code::ServerUnavailable => E::CollectServerUnavailable,
            Code::Network => E::CollectNetwork,
            Code::BadResponse => E::CollectBadResponse,
            Code::Refused => E::CollectRefused,
            Code::ActivitiesDisabled => E::CollectActivitiesDisabled,
            Code::QueryFailed => E::CollectQueryFailed,
            Code::Cancelled => E::CollectCancelled,
            Code::Case => E::CollectCase,
            Code::NothingToResume => E::CollectNothingToResume,
        }
    }
}

impl From<&CollectError> for tidemark_core::Error {
    fn from(e: &CollectError) -> Self {
        let mut out = tidemark_core::Error::new(e.code.engine_code(), e.message.clone());
        out.detail = e.detail.clone();
        out
    }
}

/// Result of collection operations.
pub type Result<T> = std::result::Result<T, CollectError>;
