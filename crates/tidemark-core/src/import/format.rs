//! The importer seam: what a file format must provide to be imported.
//!
//! A [`Format`] recognises its files from their first bytes ([`Format::sniff`]), cuts a stream into
//! records exactly as they appear in the file ([`Format::split`]), and turns one record into one
//! normalized event ([`Format::normalize`]). The pipeline does everything else (hashing, storage,
//! de-duplication, indexing), so a new format is a parser and nothing more. The universal-import crate
//! (`tidemark-formats`) registers its formats in a [`FormatRegistry`].

use std::fmt::Debug;
use std::io::BufRead;

use crate::normalize::NormalizedEvent;

/// One record cut out of an input, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawUnit {
    /// The record's bytes exactly as in the input (line terminator and BOM excluded).
    pub bytes: Vec<u8>,
    /// 1-based line number of the record's first line.
    pub line: u64,
    /// Byte offset of the record's first byte in the (decompressed) input.
    pub byte_offset: u64,
}

/// A record iterator over one input.
pub type Units = Box<dyn Iterator<Item = std::io::Result<RawUnit>> + Send>;

/// An import format.
pub trait Format: Send + Sync + Debug {
    /// Stable id, recorded with every acquisition (`ual-jsonl`).
    fn id(&self) -> &'static str;
    /// Name for people ("Unified Audit Log JSONL").
    fn name(&self) -> &'static str;
    /// What the files look like, for the message shown when nothing recognises a file.
    fn describe(&self) -> &'static str;
    /// Whether these first bytes of a file (at most 64 KiB) look like this format.
    fn sniff(&self, head: &[u8]) -> bool;
    /// Cuts the input into records.
    fn split(&self, input: Box<dyn BufRead + Send>) -> Units;
    /// Normalizes one record; `Err` carries a plain-language reason, and the record is kept raw.
    fn normalize(&self, record: &[u8]) -> Result<NormalizedEvent, String>;
}

/// The formats an import may use, tried in order.
#[derive(Debug, Default)]
pub struct FormatRegistry {
    formats: Vec<Box<dyn Format>>,
}

impl FormatRegistry {
    /// The formats built into the engine.
    pub fn builtin() -> Self {
        let mut r = Self::default();
        r.register(Box::new(super::ual_jsonl::UalJsonl));
        r
    }

    /// Adds a format; earlier ones win when several recognise a file.
    pub fn register(&mut self, format: Box<dyn Format>) {
        self.formats.push(format);
    }

    /// The first format that recognises these bytes.
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
