//! Unified Audit Log as JSON Lines: one audit record (the `AuditData` object) per line.
//!
//! This is what the Management Activity API's blobs look like when a collector writes one record per
//! line, what SOF-ELK and Untitled Goose keep, and what `shared/bench/gen_ual.py --format jsonl` writes.
//! Lines are cut at `\n`; a `\r` before it and a UTF-8 BOM at the start are not part of the record.
//! Blank lines are not records.

use std::io::BufRead;

use crate::event::NormalizedEvent;
use crate::format::{Format, RawUnit, Units};
use crate::ual;

/// The UAL JSONL format.
#[derive(Debug, Clone, Copy)]
pub struct UalJsonl;

impl Format for UalJsonl {
    fn id(&self) -> &'static str {
        "ual-jsonl"
    }

    fn name(&self) -> &'static str {
        "Unified Audit Log JSONL"
    }

    fn describe(&self) -> &'static str {
        "Unified Audit Log JSONL: one audit record per line, each a JSON object with CreationTime, Id and Operation"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        let first = head.iter().position(|b| !b.is_ascii_whitespace()).map(|i| &head[i..]).unwrap_or_default();
        if first.first() != Some(&b'{') {
            return false;
        }
        // The first line is one object (not a pretty-printed document) that names UAL fields.
        let line_end = first.iter().position(|&b| b == b'\n').unwrap_or(first.len());
        let line = &first[..line_end];
        let has = |needle: &[u8]| line.windows(needle.len()).any(|w| w == needle);
        has(b"\"Operation\"") && (has(b"\"CreationTime\"") || has(b"\"Id\""))
    }

    fn split(&self, input: Box<dyn BufRead + Send>) -> Units {
        Box::new(Lines { input, line: 0, offset: 0, done: false })
    }

    fn normalize(&self, _context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        ual::normalize_json(record, "ual-jsonl")
    }
}

struct Lines {
    input: Box<dyn BufRead + Send>,
    line: u64,
    offset: u64,
    done: bool,
}

impl Iterator for Lines {
    type Item = std::io::Result<RawUnit>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let mut buf = Vec::with_capacity(2048);
            let start = self.offset;
            let n = match self.input.read_until(b'\n', &mut buf) {
                Ok(n) => n,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if n == 0 {
                self.done = true;
                return None;
            }
            self.line += 1;
            self.offset += n as u64;
            let mut skip = 0;
            if start == 0 && buf.starts_with(b"\xEF\xBB\xBF") {
                skip = 3;
            }
            if buf.last() == Some(&b'\n') {
                buf.pop();
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
            }
            if buf[skip..].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if skip > 0 {
                buf.drain(..skip);
            }
            return Some(Ok(RawUnit { bytes: buf, line: self.line, byte_offset: start + skip as u64 }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_keeping_offsets_and_skipping_blanks() {
        let data = b"\xEF\xBB\xBF{\"a\":1}\r\n\n{\"b\":2}\n  \n{\"c\":3}".to_vec();
        let units: Vec<RawUnit> =
            UalJsonl.split(Box::new(std::io::Cursor::new(data))).collect::<Result<_, _>>().unwrap();
        assert_eq!(units.len(), 3);
        assert_eq!(units[0].bytes, b"{\"a\":1}");
        assert_eq!((units[0].line, units[0].byte_offset), (1, 3));
        assert_eq!(units[1].bytes, b"{\"b\":2}");
        assert_eq!((units[1].line, units[1].byte_offset), (3, 13));
        assert_eq!(units[2].bytes, b"{\"c\":3}");
        assert_eq!(units[2].line, 5);
    }

    #[test]
    fn sniffs_ual_lines_only() {
        assert!(UalJsonl.sniff(b"{\"CreationTime\":\"2022-05-07T12:55:53\",\"Id\":\"x\",\"Operation\":\"Send\"}\n"));
        assert!(!UalJsonl.sniff(b"[{\"CreationTime\":\"x\",\"Operation\":\"y\"}]"));
        assert!(!UalJsonl.sniff(b"CreationDate,UserIds,Operations,AuditData\n"));
        assert!(!UalJsonl.sniff(b"{\n  \"CreationTime\": \"x\",\n  \"Operation\": \"y\"\n}"));
    }
}
