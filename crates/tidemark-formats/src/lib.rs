//! Tidemark's importers: every export format investigators receive, detected from content and
//! normalized into one event model.
//!
//! Pure by design: formats read bytes and return events. No case file, no network, no window, so the
//! live collectors can hand API pages to the same normalizers the importers use, and every parser is
//! tested on bytes alone. The engine (`tidemark-core`) owns hashing, storage and de-duplication.
//!
//! - [`format`]: the seam ([`Format`], [`FormatRegistry`]).
//! - [`event`]: the event model ([`NormalizedEvent`], [`Action`]) and shared field parsers.
//! - [`ual`]: Unified Audit Log records, whatever container they came in.
//! - [`encoding`]: byte-order marks and UTF-16; [`container`]: folders, zip and gzip.
//! - [`csv`]: the CSV splitter; [`audit_csv`]: UAL CSV exports; [`activities`], [`activities_csv`]: the
//!   legacy Outlook Activities API; [`apps`]: Microsoft first-party application names.
//! - [`json_stream`]: the streaming JSON splitter; JSON formats: [`mgmt_blob`] (Management API content
//!   blobs), [`mes_json`] (Extractor-Suite / `Search-UnifiedAuditLog` JSON and JSONL), [`graph`] (Graph
//!   audit log query records), [`sentinel`] (Sentinel `OfficeActivity`), [`activities_json`] (Activities
//!   API pages).
//! - [`entra`]: Entra ID sign-in logs and directory audit logs (Graph, Log Analytics, admin center CSV).
#![deny(missing_docs)]

pub mod abused_apps;
pub mod activities;
pub mod activities_csv;
pub mod activities_json;
pub mod apps;
pub mod audit_csv;
pub mod container;
pub mod csv;
pub mod encoding;
pub mod entra;
pub mod event;
pub mod format;
pub mod graph;
pub mod json_stream;
pub mod mes_json;
pub mod mgmt_blob;
pub mod python_literal;
pub mod sentinel;
pub mod time;
pub mod ual;
pub mod ual_jsonl;

pub use event::{Action, NormalizedEvent};
pub use format::{Format, FormatRegistry, RawUnit, Units, HEAD_BYTES};
