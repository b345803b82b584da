//! The importer seam: what a file format must provide to be imported.
//!
//! A [`Format`] recognises its files from their content ([`Format::sniff`]), cuts a stream into records
//! exactly as they appear in the file ([`Format::split`]), and turns one record into one normalized
//! event ([`Format::normalize`]). The engine's pipeline does everything else (decoding the file's
//! encoding, hashing, storage, de-duplication, indexing), so a new format is a parser and nothing more.
//!
//! Formats see UTF-8 text: the engine removes a byte-order mark and transcodes UTF-16 before `sniff` and
//! `split`, and stores each record's bytes in the file's own encoding as evidence. A format whose files
//! may be in a legacy 8-bit code page (the Activities retriever CSV) decodes that itself in `normalize`.
//!
//! Some formats need a little of the file to read a record: a CSV row means nothing without its header.
//! That is the file's *context* ([`Format::context`]), taken from the head of the file, stored beside the
//! file in the case, and handed to every `normalize` call, so that normalization can be re-run from the
//! stored evidence alone.

use std::fmt::Debug;
use std::io::BufRead;

use crate::event::NormalizedEvent;

/// One record cut out of an input, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawUnit {
    /// The record's bytes exactly as in the (UTF-8) text, without a line terminator.
    pub bytes: Vec<u8>,
    /// 1-based line number of the record's first line.
    pub line: u64,
    /// Byte offset of the record's first byte in the text the format read (after a byte-order mark).
    pub byte_offset: u64,
}

/// A record iterator over one input.
pub type Units = Box<dyn Iterator<Item = std::io::Result<RawUnit>> + Send>;

/// How many bytes of a file [`Format::sniff`] and [`Format::context`] see (fewer if the file is shorter).
pub const HEAD_BYTES: usize = 64 * 1024;

/// An import format.
pub trait Format: Send + Sync + Debug {
    /// Stable id, recorded with every acquisition (`ual-jsonl`).
    fn id(&self) -> &'static str;
    /// Name for people ("Unified Audit Log JSONL").
    fn name(&self) -> &'static str;
    /// What the files look like, for the message shown when nothing recognises a file.
    fn describe(&self) -> &'static str;
    /// Whether the head of a file (UTF-8 text without byte-order mark, at most [`HEAD_BYTES`], possibly
    /// cut in the middle of a character or record) looks like this format.
    fn sniff(&self, head: &[u8]) -> bool;
    /// What `normalize` needs from the file beyond one record (a CSV header), taken from the same head
    /// `sniff` saw. Most formats need nothing.
    fn context(&self, head: &[u8]) -> Vec<u8> {
        let _ = head;
        Vec::new()
    }
    /// Cuts the input (UTF-8 text, byte-order mark removed) into records. Headers, separators and
    /// array brackets are not records.
    fn split(&self, input: Box<dyn BufRead + Send>) -> Units;
    /// Normalizes one record; `Err` carries a plain-language reason, and the record is kept raw.
    fn normalize(&self, context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String>;
}

/// The formats an import may use, tried in order.
#[derive(Debug, Default)]
pub struct FormatRegistry {
    formats: Vec<Box<dyn Format>>,
}

impl FormatRegistry {
    /// Every format Tidemark reads, most specific first.
    pub fn builtin() -> Self {
        let mut r = Self::default();
        // CSV formats, by header row: Purview's exact headers before the looser Export-Csv one.
        r.register(Box::new(crate::audit_csv::PurviewCsv));
        r.register(Box::new(crate::audit_csv::PowerShellUalCsv));
        r.register(Box::new(crate::audit_csv::GraphUalCsv));
        r.register(Box::new(crate::activities_csv::ActivitiesCsv));
        r.register(Box::new(crate::entra::EntraSigninCsv));
        r.register(Box::new(crate::entra::EntraAuditCsv));
        // JSON formats: each claims files by the first record's keys; ual-jsonl (any line with UAL
        // names, even nested ones) must come after them. Entra logs first: Log Analytics sign-in rows
        // (also CSV) before Graph sign-ins, which share most key names but not TimeGenerated/ResultType.
        r.register(Box::new(crate::entra::EntraSigninLa));
        r.register(Box::new(crate::entra::EntraSigninJson));
        r.register(Box::new(crate::entra::EntraAuditJson));
        r.register(Box::new(crate::graph::GraphAuditLog));
        r.register(Box::new(crate::activities_json::ActivitiesJson));
        r.register(Box::new(crate::sentinel::SentinelJson));
        r.register(Box::new(crate::sentinel::SentinelCsv));
        r.register(Box::new(crate::mes_json::MesUalJsonl));
        r.register(Box::new(crate::mes_json::MesUalJson));
        r.register(Box::new(crate::mgmt_blob::MgmtBlob));
        r.register(Box::new(crate::ual_jsonl::UalJsonl));
        r
    }

    /// Adds a format; earlier ones win when several recognise a file.
    pub fn register(&mut self, format: Box<dyn Format>) {
        self.formats.push(format);
    }

    /// The first format that recognises this head (see [`Format::sniff`]).
    pub fn detect(&self, head: &[u8]) -> Option<&dyn Format> {
        self.formats.iter().find(|f| f.sniff(head)).map(AsRef::as_ref)
    }

    /// A format by id.
    pub fn get(&self, id: &str) -> Option<&dyn Format> {
        self.formats.iter().find(|f| f.id() == id).map(AsRef::as_ref)
    }

    /// Every registered format.
    pub fn all(&self) -> impl Iterator<Item = &dyn Format> {
        self.formats.iter().map(AsRef::as_ref)
    }
}
