//! RFC 4180 CSV: a streaming record splitter and a cell parser, shared by every CSV format.
//!
//! Audit exports are CSV with a JSON document in one quoted cell (`AuditData`), so a record is one
//! line only until a cell holds a line break; Purview, `Export-Csv`, the Activities retriever and
//! Sentinel all quote differently, and a 2 GB export must split at disk speed. This module therefore
//! has its own small splitter instead of a general CSV library: it cuts the text into records whose
//! bytes are exactly as in the file (the evidence), and parses a record into cells only when a format
//! normalizes it.
//!
//! Rules, as the writers we meet produce them (RFC 4180 plus what Python's `csv` and PowerShell do):
//! - Records end at `\n` outside quotes; a `\r` before it is part of the terminator (CRLF or LF).
//! - A `"` opens a quoted cell only at the start of a cell; inside, `""` is a quote and a lone `"`
//!   closes the cell. A `"` in the middle of an unquoted cell is an ordinary character (so one stray
//!   quote cannot swallow the rest of the file), and text after a closing quote is kept as is.
//! - Quoted cells may hold line breaks; the record's `line` is the line it starts on.
//! - Blank lines between records are not records.
//!
//! API:
//! - [`Splitter`]: an iterator of [`RawUnit`]s over a `BufRead` (every record, header included);
//!   [`units`] is the [`Units`] factory formats return from `split`: it drops a leading `#TYPE …`
//!   line (PowerShell 5.1 `Export-Csv`) and the header row.
//! - [`header_record`]: the header row's bytes from a file's head (skipping a byte-order mark and a
//!   `#TYPE` line), the `context` a CSV format stores; [`Header`] parses it and finds columns by name.
//! - [`parse_record`] / [`parse_record_str`]: one record's cells as `Cow<str>` (borrowed unless a cell
//!   had `""` escapes), with a plain-language error for an unclosed quote or invalid UTF-8.
//!
//! Speed: the splitter scans with `memchr` between quotes and line feeds and copies each record once
//! into its own buffer; nothing is allocated per byte or per cell while splitting.

use std::borrow::Cow;
use std::io::BufRead;

use memchr::{memchr, memchr2};

use crate::format::{RawUnit, Units};

/// Where the scanner is inside the current record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside quotes.
    Unquoted,
    /// Inside a quoted cell.
    Quoted,
    /// Inside a quoted cell, just after a `"`: `""` (an escaped quote) or the end of the cell.
    QuotedSawQuote,
}

/// Splits CSV text into records, byte-exact, streaming.
///
/// Yields every record, the header row included ([`units`] drops the header). Each record's bytes
/// are as in the text without the line terminator; `line` is 1-based, `byte_offset` counts from the
/// first byte the reader gives (a byte-order mark at the very start is skipped and counted).
pub struct Splitter {
    input: Box<dyn BufRead + Send>,
    /// Line number the next record starts on.
    line: u64,
    /// Offset of the next unread byte.
    offset: u64,
    started: bool,
    done: bool,
    /// Capacity hint for the next record's buffer (the last record's length).
    hint: usize,
}

impl std::fmt::Debug for Splitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Splitter").field("line", &self.line).field("offset", &self.offset).finish_non_exhaustive()
    }
}

impl Splitter {
    /// A splitter over CSV text.
    pub fn new(input: Box<dyn BufRead + Send>) -> Self {
        Self { input, line: 1, offset: 0, started: false, done: false, hint: 256 }
    }

    /// Reads one physical record (possibly blank) into `rec`. Returns `Ok(false)` at the end of input
    /// with nothing read.
    fn read_record(&mut self, rec: &mut Vec<u8>) -> std::io::Result<bool> {
        let mut state = State::Unquoted;
        let mut any = false;
        loop {
            let buf = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(any);
            }
            any = true;
            let mut i = 0;
            let mut end = None;
            while i < buf.len() {
                match state {
                    State::Quoted => loop {
                        // `""` pairs are skipped here, without a trip through the state machine.
                        match memchr(b'"', &buf[i..]) {
                            Some(j) if buf.get(i + j + 1) == Some(&b'"') => i += j + 2,
                            Some(j) => {
                                i += j + 1;
                                state = State::QuotedSawQuote;
                                break;
                            }
                            None => {
                                i = buf.len();
                                break;
                            }
                        }
                    },
                    State::QuotedSawQuote => {
                        if buf[i] == b'"' {
                            i += 1;
                            state = State::Quoted;
                        } else {
                            state = State::Unquoted;
                        }
                    }
                    State::Unquoted => match memchr2(b'"', b'\n', &buf[i..]) {
                        Some(j) => {
                            let k = i + j;
                            if buf[k] == b'\n' {
                                end = Some(k);
                                break;
                            }
                            // A quote opens a quoted cell only at the start of a cell.
                            let prev = if k > 0 { buf.get(k - 1).copied() } else { rec.last().copied() };
                            if matches!(prev, None | Some(b',')) {
                                state = State::Quoted;
                            }
                            i = k + 1;
                        }
                        None => i = buf.len(),
                    },
                }
            }
            match end {
                Some(k) => {
                    rec.extend_from_slice(&buf[..k]);
                    self.input.consume(k + 1);
                    self.offset += k as u64 + 1;
                    return Ok(true);
                }
                None => {
                    let n = buf.len();
                    rec.extend_from_slice(buf);
                    self.input.consume(n);
                    self.offset += n as u64;
                }
            }
        }
    }
}

impl Iterator for Splitter {
    type Item = std::io::Result<RawUnit>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let mut start = self.offset;
            let line = self.line;
            let mut rec = Vec::with_capacity(self.hint);
            match self.read_record(&mut rec) {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
            // Lines spanned: one per line feed inside the record, plus its terminator.
            self.line += 1 + memchr::memchr_iter(b'\n', &rec).count() as u64;
            if rec.last() == Some(&b'\r') {
                rec.pop();
            }
            if !self.started {
                self.started = true;
                if rec.starts_with(b"\xEF\xBB\xBF") {
                    rec.drain(..3);
                    start += 3;
                }
            }
            if rec.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.hint = rec.len().next_power_of_two().clamp(256, 1 << 20);
            return Some(Ok(RawUnit { bytes: rec, line, byte_offset: start }));
        }
    }
}

/// Whether a record is PowerShell 5.1's `#TYPE System.Management.Automation.PSCustomObject` line.
pub fn is_type_line(record: &[u8]) -> bool {
    record.starts_with(b"#TYPE")
}

/// The [`Units`] of a CSV file: every record after a leading `#TYPE` line and the header row.
pub fn units(input: Box<dyn BufRead + Send>) -> Units {
    let mut split = Splitter::new(input);
    let mut pending = None;
    // Drop `#TYPE` and the header lazily, on the first `next`, so an I/O error surfaces as an item.
    let mut first = true;
    Box::new(std::iter::from_fn(move || {
        if first {
            first = false;
            let mut head = split.next();
            if let Some(Ok(u)) = &head {
                if is_type_line(&u.bytes) {
                    head = split.next();
                }
            }
            match head {
                Some(Ok(_header)) => {}
                other => pending = Some(other),
            }
        }
        if let Some(p) = pending.take() {
            return p;
        }
        split.next()
    }))
}

/// The header row's bytes from the head of a file (a byte-order mark and a `#TYPE` line skipped), or
/// `None` when the head holds no complete header row.
pub fn header_record(head: &[u8]) -> Option<Vec<u8>> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    // The header must end inside the head; a record cut off by the head's end is not trusted.
    let mut split = Splitter::new(Box::new(std::io::Cursor::new(head.to_vec())));
    let mut rec = split.next()?.ok()?;
    if is_type_line(&rec.bytes) {
        rec = split.next()?.ok()?;
    }
    let end = rec.byte_offset as usize + rec.bytes.len();
    if end >= head.len() {
        return None;
    }
    Some(rec.bytes)
}

/// Parses one record's bytes (UTF-8) into cells. See [`parse_record_str`].
pub fn parse_record(record: &[u8]) -> Result<Vec<Cow<'_, str>>, String> {
    let s = std::str::from_utf8(record)
        .map_err(|e| format!("the record is not valid UTF-8 text (invalid byte at position {})", e.valid_up_to()))?;
    parse_record_str(s)
}

/// Parses one record into cells: quoted cells are unquoted and their `""` turned into `"`; cells are
/// borrowed from the record unless they had to be unescaped. Fails only when a quoted cell is never
/// closed.
pub fn parse_record_str(record: &str) -> Result<Vec<Cow<'_, str>>, String> {
    let b = record.as_bytes();
    let mut cells = Vec::with_capacity(8);
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            // Quoted cell.
            let start = i + 1;
            let mut j = start;
            let mut owned: Option<String> = None;
            loop {
                let Some(q) = memchr(b'"', &b[j..]) else {
                    return Err(format!("cell {} opens a quote that is never closed", cells.len() + 1));
                };
                let q = j + q;
                if b.get(q + 1) == Some(&b'"') {
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(&record[j..=q]);
                    j = q + 2;
                    continue;
                }
                // Closing quote; text up to the next comma is kept as is.
                let after = q + 1;
                let next = memchr(b',', &b[after..]).map_or(b.len(), |c| after + c);
                let cell = match owned {
                    Some(mut o) => {
                        o.push_str(&record[j..q]);
                        o.push_str(&record[after..next]);
                        Cow::Owned(o)
                    }
                    None if after == next => Cow::Borrowed(&record[start..q]),
                    None => Cow::Owned(format!("{}{}", &record[start..q], &record[after..next])),
                };
                cells.push(cell);
                i = next;
                break;
            }
        } else {
            let next = memchr(b',', &b[i..]).map_or(b.len(), |c| i + c);
            cells.push(Cow::Borrowed(&record[i..next]));
            i = next;
        }
        if i >= b.len() {
            return Ok(cells);
        }
        i += 1; // the comma
        if i == b.len() {
            cells.push(Cow::Borrowed(""));
            return Ok(cells);
        }
    }
}

/// A parsed header row: column names, matched case-insensitively and ignoring surrounding spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    /// Parses a header record (as from [`header_record`]); a byte-order mark is ignored.
    pub fn parse(record: &[u8]) -> Result<Self, String> {
        let record = record.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(record);
        let cells = parse_record(record).map_err(|e| format!("the header row cannot be read: {e}"))?;
        Ok(Self { names: cells.iter().map(|c| c.trim().to_owned()).collect() })
    }

    /// Column names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Index of the first column with this name (case-insensitive).
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    /// Index of the first column with any of these names, tried in order.
    pub fn index_any(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.index(n))
    }

    /// Whether the header has exactly these columns, in this order (case-insensitive).
    pub fn is(&self, names: &[&str]) -> bool {
        self.names.len() == names.len() && self.names.iter().zip(names).all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// Whether the header starts with these columns, in this order (case-insensitive).
    pub fn starts_with(&self, names: &[&str]) -> bool {
        self.names.len() >= names.len() && self.names.iter().zip(names).all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(data: &[u8]) -> Vec<RawUnit> {
        Splitter::new(Box::new(std::io::Cursor::new(data.to_vec()))).collect::<Result<_, _>>().unwrap()
    }

    /// A reader that hands out a few bytes at a time, so records and escapes straddle buffer edges.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        step: usize,
    }
    impl BufRead for Trickle {
        fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
            let end = (self.pos + self.step).min(self.data.len());
            Ok(&self.data[self.pos..end])
        }
        fn consume(&mut self, amt: usize) {
            self.pos += amt;
        }
    }
    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = {
                let b = self.fill_buf()?;
                let n = b.len().min(buf.len());
                buf[..n].copy_from_slice(&b[..n]);
                n
            };
            self.consume(n);
            Ok(n)
        }
    }

    #[test]
    fn splits_crlf_lf_multiline_cells_and_blank_lines_with_locations() {
        let data = b"\xEF\xBB\xBFa,b,c\r\n1,\"x\r\ny\",\"he said \"\"hi\"\"\"\r\n\r\n2,plain,\"\"\n3,\"a,b\",z";
        let units = split_all(data);
        let got: Vec<(&[u8], u64, u64)> = units.iter().map(|u| (u.bytes.as_slice(), u.line, u.byte_offset)).collect();
        assert_eq!(
            got,
            vec![
                (&b"a,b,c"[..], 1, 3),
                (&b"1,\"x\r\ny\",\"he said \"\"hi\"\"\""[..], 2, 10),
                (&b"2,plain,\"\""[..], 5, 39),
                (&b"3,\"a,b\",z"[..], 6, 50),
            ]
        );
        for u in &units {
            let at = u.byte_offset as usize;
            assert_eq!(&data[at..at + u.bytes.len()], u.bytes.as_slice(), "bytes are the file's");
        }
        // Same result whatever the read size.
        for step in [1, 2, 3, 7] {
            let t = Trickle { data: data.to_vec(), pos: 0, step };
            let again: Vec<RawUnit> = Splitter::new(Box::new(t)).collect::<Result<_, _>>().unwrap();
            assert_eq!(again, units, "step {step}");
        }
    }

    #[test]
    fn stray_quote_in_an_unquoted_cell_does_not_swallow_the_file() {
        let units = split_all(b"a,b\"c,d\n2,3\n");
        assert_eq!(units.len(), 2);
        assert_eq!(parse_record(&units[0].bytes).unwrap(), vec!["a", "b\"c", "d"]);
        // An unclosed quoted cell runs to the end of input and is reported by the cell parser.
        let units = split_all(b"1,\"open\n2,3\n");
        assert_eq!(units.len(), 1);
        assert!(parse_record(&units[0].bytes).unwrap_err().contains("never closed"));
    }

    #[test]
    fn parses_cells_borrowing_where_possible() {
        let cells = parse_record(b"x,\"a \"\"q\"\" b\",,\"\",\"multi\nline\", sp ,").unwrap();
        assert_eq!(cells, vec!["x", "a \"q\" b", "", "", "multi\nline", " sp ", ""]);
        assert!(matches!(cells[0], Cow::Borrowed(_)));
        assert!(matches!(cells[1], Cow::Owned(_)));
        assert!(matches!(cells[4], Cow::Borrowed(_)));
        assert_eq!(parse_record(b"").unwrap(), vec![""]);
        assert_eq!(parse_record(b"\"ab\"cd,e").unwrap(), vec!["abcd", "e"]);
        assert!(parse_record(b"a,\xff").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn units_skip_type_line_and_header() {
        let data = b"#TYPE System.Management.Automation.PSCustomObject\r\n\"A\",\"B\"\r\n\"1\",\"2\"\r\n";
        let got: Vec<RawUnit> = units(Box::new(std::io::Cursor::new(data.to_vec()))).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].bytes.as_slice(), got[0].line), (&b"\"1\",\"2\""[..], 3));
        assert_eq!(header_record(data).unwrap(), b"\"A\",\"B\"");
        assert_eq!(header_record(b"\xEF\xBB\xBFA,B\nx"), Some(b"A,B".to_vec()));
        assert_eq!(header_record(b"A,B"), None, "a header cut off by the head is not trusted");
        let h = Header::parse(b"\"A\", b ,C").unwrap();
        assert_eq!(h.index("b"), Some(1));
        assert!(h.is(&["a", "B", "c"]));
        assert!(h.starts_with(&["a"]));
        assert_eq!(h.index_any(&["z", "c"]), Some(2));
        let empty: Vec<RawUnit> =
            units(Box::new(std::io::Cursor::new(b"A,B\n".to_vec()))).collect::<Result<_, _>>().unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn splits_a_huge_cell_and_is_fast_enough() {
        let big = "{\"\"k\"\":\"\"v\"\"},".repeat(80_000); // ~1 MB inside one quoted cell
        let rec = format!("id,\"{big}\"");
        let mut data = format!("h1,h2\n{rec}\nnext,1\n").into_bytes();
        let units = split_all(&data);
        assert_eq!(units.len(), 3);
        assert_eq!(units[1].bytes, rec.as_bytes());
        let cells = parse_record(&units[1].bytes).unwrap();
        assert_eq!(cells[1].len(), big.len() - big.matches("\"\"").count());
        // Throughput smoke check (generous, debug builds are slow): 20 MB of 2 KB records.
        let line = format!("a,b,\"{}\",,\n", "{\"\"Key\"\":\"\"Value, more\"\"}".repeat(70));
        data = line.repeat(20_000_000 / line.len()).into_bytes();
        let t = std::time::Instant::now();
        let n = Splitter::new(Box::new(std::io::Cursor::new(data))).count();
        assert!(n > 9000);
        eprintln!("split {} records in {:?}", n, t.elapsed());
    }

    /// Throughput, for release builds: `cargo test -p tidemark-formats --release --lib throughput -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn split_throughput() {
        let gen = include_bytes!("../tests-data/purview-csv/gen-seed3-200.csv");
        let data = gen.repeat(256 * 1024 * 1024 / gen.len());
        let input = Box::new(std::io::Cursor::new(data.clone()));
        let t = std::time::Instant::now();
        let n = units(input).count();
        let secs = t.elapsed().as_secs_f64();
        eprintln!("split {n} records, {:.0} MB/s", data.len() as f64 / secs / 1e6);
        let t = std::time::Instant::now();
        let cells: usize =
            units(Box::new(std::io::Cursor::new(data))).map(|u| parse_record(&u.unwrap().bytes).unwrap().len()).sum();
        eprintln!("split + cells: {cells} cells, {:.0} records/s", n as f64 / t.elapsed().as_secs_f64());
    }
}
