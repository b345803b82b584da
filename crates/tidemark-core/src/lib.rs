//! Tidemark's engine: the forensic case file, the import pipeline, normalization, the query language,
//! search and export. It knows nothing of windows or networks: the desktop app (`tidemark-app`) and the
//! command line (`tidemark-cli`) are thin layers over it, and every capability is tested here without
//! a window.
//!
//! The shape of the data, from evidence to view:
//! raw records (verbatim bytes + SHA-256 + provenance, never modified) → normalized events (derived,
//! keyed by time) → FTS5 indexes → [`query::Query`] → pages, detail, facets, histogram, export; and
//! beside them the investigator's annotations ([`annotate`]: tags, bookmarks, notes, saved searches).
#![deny(missing_docs)]

pub mod accounts;
pub mod annotate;
pub mod case;
pub mod clock;
pub mod collect;
pub mod error;
pub mod export;
pub mod facets;
pub mod histogram;
pub mod import;
pub mod ipinfo;
pub mod mailbox;
pub mod model;
pub mod query;
pub mod raw;
pub mod recent;
pub(crate) mod rollup;
pub mod search;
pub mod seek;
pub mod session;
pub mod time;
pub mod verify;

pub use case::{CaseReader, CaseWriter, TOOL_VERSION};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, ErrorBody, ErrorCode, Result};
pub use query::Query;
pub use session::OpenCase;
pub use tidemark_formats as formats;
pub use tidemark_formats::FormatRegistry;

/// The TypeScript declarations of every type that crosses into the UI, in a stable order.
/// `ui/src/lib/bindings.ts` is this text; a test fails when the committed file differs.
pub fn typescript_bindings() -> String {
    use ts_rs::TS;
    let cfg = ts_rs::Config::default();
    let mut decls = vec![
        model::AcquiredFile::decl(&cfg),
        model::Acquisition::decl(&cfg),
        model::AppInfo::decl(&cfg),
        model::ActionCount::decl(&cfg),
        model::MailboxEntry::decl(&cfg),
        model::MailboxPage::decl(&cfg),
        model::MailboxReport::decl(&cfg),
        model::MailboxSession::decl(&cfg),
        model::PaneTiming::decl(&cfg),
        model::ReportExport::decl(&cfg),
        model::ReportKind::decl(&cfg),
        model::ReportRow::decl(&cfg),
        model::TypedSearch::decl(&cfg),
        model::Bookmark::decl(&cfg),
        model::CaseSummary::decl(&cfg),
        model::ContainerReport::decl(&cfg),
        ErrorBody::decl(&cfg),
        ErrorCode::decl(&cfg),
        model::EventDetail::decl(&cfg),
        model::EventAnnotations::decl(&cfg),
        model::EventRow::decl(&cfg),
        model::IpSummary::decl(&cfg),
        accounts::AccountSummary::decl(&cfg),
        accounts::sessions::AccountSession::decl(&cfg),
        ipinfo::IpCard::decl(&cfg),
        ipinfo::IpDataSet::decl(&cfg),
        ipinfo::ReenrichReport::decl(&cfg),
        model::Facet::decl(&cfg),
        model::FacetField::decl(&cfg),
        model::FacetValue::decl(&cfg),
        model::Facets::decl(&cfg),
        model::FacetSample::decl(&cfg),
        model::Histogram::decl(&cfg),
        model::HistogramBucket::decl(&cfg),
        model::ImportProgress::decl(&cfg),
        model::ImportReport::decl(&cfg),
        model::Malformed::decl(&cfg),
        model::Note::decl(&cfg),
        model::Page::decl(&cfg),
        model::RawOccurrence::decl(&cfg),
        model::RecentCase::decl(&cfg),
        model::SavedSearch::decl(&cfg),
        model::SearchCount::decl(&cfg),
        model::SkippedFile::decl(&cfg),
        model::SortOrder::decl(&cfg),
        model::ColumnProfile::decl(&cfg),
        model::ExportColumnInfo::decl(&cfg),
        model::ExportFormat::decl(&cfg),
        model::ExportManifest::decl(&cfg),
        model::ExportOptions::decl(&cfg),
        model::ExportPreset::decl(&cfg),
        model::ExportProgress::decl(&cfg),
        model::ExportRequest::decl(&cfg),
        model::ExportResult::decl(&cfg),
        model::ExportScope::decl(&cfg),
        model::ExportSheet::decl(&cfg),
        model::ExportedFile::decl(&cfg),
        model::Tag::decl(&cfg),
        model::TagChange::decl(&cfg),
    ];
    decls.sort();
    let mut out = String::from(
        "// Generated from Rust by ts-rs (tidemark-core `typescript_bindings`); `cargo test` checks that this file is current.\n\
         // Do not edit by hand: change the Rust types and run `TIDEMARK_BLESS=1 cargo test --workspace bindings`.\n\n",
    );
    for d in decls {
        out.push_str("export ");
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}
