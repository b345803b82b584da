//! Text encodings of input files: byte-order marks and UTF-16.
//!
//! Exports come as UTF-8 (with or without a byte-order mark; Purview adds one) or as UTF-16 with a
//! byte-order mark (Windows PowerShell 5.1's `Out-File` and `Export-Csv -Encoding Unicode`). Formats
//! only ever see UTF-8, so this module removes the mark and transcodes UTF-16 on the fly, in bounded
//! memory. Evidence stays in the file's own encoding: [`Encoding::encode_record`] gives back a record's
//! bytes as they were in the file (UTF-16 decoding and re-encoding is lossless for well-formed text),
//! and [`Encoding::decode_record`] turns stored bytes into text again when normalization is re-run.
//! Encodings are recognised from the mark only; a file without one is read as UTF-8.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};

/// A file's text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// UTF-16 little-endian with a byte-order mark.
    Utf16Le,
    /// UTF-16 big-endian with a byte-order mark.
    Utf16Be,
}

impl Encoding {
    /// Recognises the encoding from a file's first bytes.
    pub fn detect(head: &[u8]) -> Self {
        if head.starts_with(b"\xEF\xBB\xBF") {
            Self::Utf8Bom
        } else if head.starts_with(b"\xFF\xFE") {
            Self::Utf16Le
        } else if head.starts_with(b"\xFE\xFF") {
            Self::Utf16Be
        } else {
            Self::Utf8
        }
    }

    /// Stable name, recorded with each file (`utf-16le`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Utf8Bom => "utf-8-bom",
            Self::Utf16Le => "utf-16le",
            Self::Utf16Be => "utf-16be",
        }
    }

    /// The encoding with this [`Encoding::as_str`] name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Utf8, Self::Utf8Bom, Self::Utf16Le, Self::Utf16Be].into_iter().find(|e| e.as_str() == name)
    }

    /// Length of the byte-order mark.
    pub fn bom_len(self) -> usize {
        match self {
            Self::Utf8 => 0,
            Self::Utf8Bom => 3,
            Self::Utf16Le | Self::Utf16Be => 2,
        }
    }

    fn is_utf16(self) -> bool {
        matches!(self, Self::Utf16Le | Self::Utf16Be)
    }

    /// The head of a file as UTF-8 text without the mark (a partial character at the end is dropped).
    pub fn decode_head(self, head: &[u8]) -> Vec<u8> {
        let body = &head[self.bom_len().min(head.len())..];
        if self.is_utf16() {
            let even = body.len() & !1;
            decode_utf16(self, &body[..even])
        } else {
            body.to_vec()
        }
    }

    /// Wraps a file's byte stream (starting at its first byte) into UTF-8 text without the mark.
    pub fn text_reader(self, mut input: Box<dyn Read + Send>) -> std::io::Result<Box<dyn BufRead + Send>> {
        let mut bom = vec![0u8; self.bom_len()];
        input.read_exact(&mut bom)?;
        Ok(if self.is_utf16() {
            Box::new(BufReader::with_capacity(1 << 20, Utf16Reader::new(self, input)))
        } else {
            Box::new(BufReader::with_capacity(4 << 20, input))
        })
    }

    /// A record's bytes as they were in the file, from the UTF-8 text a format cut (`None`: the text
    /// *is* the file's bytes).
    pub fn encode_record(self, text: &[u8]) -> Option<Vec<u8>> {
        let le = match self {
            Self::Utf16Le => true,
            Self::Utf16Be => false,
            Self::Utf8 | Self::Utf8Bom => return None,
        };
        let s = String::from_utf8_lossy(text);
        let mut out = Vec::with_capacity(s.len() * 2);
        for u in s.encode_utf16() {
            out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        Some(out)
    }

    /// The UTF-8 text of a stored record (the inverse of [`Encoding::encode_record`]).
    pub fn decode_record(self, stored: &[u8]) -> Cow<'_, [u8]> {
        if self.is_utf16() {
            Cow::Owned(decode_utf16(self, stored))
        } else {
            Cow::Borrowed(stored)
        }
    }
}

fn decode_utf16(enc: Encoding, bytes: &[u8]) -> Vec<u8> {
    let units = bytes.chunks_exact(2).map(|c| match enc {
        Encoding::Utf16Be => u16::from_be_bytes([c[0], c[1]]),
        _ => u16::from_le_bytes([c[0], c[1]]),
    });
    let mut out = String::with_capacity(bytes.len() / 2);
    for ch in char::decode_utf16(units) {
        out.push(ch.unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    out.into_bytes()
}

/// Transcodes a UTF-16 stream to UTF-8 in chunks. A surrogate pair split across reads is carried over;
/// an unpaired surrogate becomes U+FFFD.
struct Utf16Reader {
    enc: Encoding,
    input: Box<dyn Read + Send>,
    raw: Vec<u8>,
    /// Bytes of `raw` not yet decoded (an odd byte or a high surrogate waiting for its pair).
    carry: usize,
    out: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl Utf16Reader {
    fn new(enc: Encoding, input: Box<dyn Read + Send>) -> Self {
        Self { enc, input, raw: vec![0; 256 * 1024], carry: 0, out: Vec::new(), pos: 0, eof: false }
    }

    fn refill(&mut self) -> std::io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !self.eof {
            let n = self.input.read(&mut self.raw[self.carry..])?;
            if n == 0 {
                self.eof = true;
            }
            let avail = self.carry + n;
            let mut usable = if self.eof { avail } else { avail & !1 };
            if !self.eof && usable >= 2 {
                let last = &self.raw[usable - 2..usable];
                let unit = match self.enc {
                    Encoding::Utf16Be => u16::from_be_bytes([last[0], last[1]]),
                    _ => u16::from_le_bytes([last[0], last[1]]),
                };
                if (0xD800..0xDC00).contains(&unit) {
                    usable -= 2; // keep a high surrogate until its pair arrives
                }
            }
            let even = usable & !1;
            self.out = decode_utf16(self.enc, &self.raw[..even]);
            if self.eof && usable % 2 == 1 {
                self.out.extend_from_slice("\u{FFFD}".as_bytes());
            }
            let consumed = if self.eof { avail } else { even };
            self.raw.copy_within(consumed..avail, 0);
            self.carry = avail - consumed;
        }
        Ok(())
    }
}

impl Read for Utf16Reader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.out.len() {
            self.refill()?;
            if self.out.is_empty() {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str, le: bool) -> Vec<u8> {
        let mut v = if le { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
        for u in s.encode_utf16() {
            v.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        v
    }

    #[test]
    fn transcodes_utf16_in_small_reads_and_round_trips_records() {
        let text = "CreationDate,UserIds\r\n2025-01-01,\"Zoë 😀 <x@y>\"\r\n".repeat(5000);
        for le in [true, false] {
            let bytes = utf16(&text, le);
            let enc = Encoding::detect(&bytes);
            assert_eq!(enc, if le { Encoding::Utf16Le } else { Encoding::Utf16Be });
            // A reader that returns 3 bytes at a time splits code units and surrogate pairs.
            struct Trickle(std::io::Cursor<Vec<u8>>);
            impl Read for Trickle {
                fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                    let n = buf.len().min(3);
                    self.0.read(&mut buf[..n])
                }
            }
            let mut r = enc.text_reader(Box::new(Trickle(std::io::Cursor::new(bytes.clone())))).unwrap();
            let mut out = String::new();
            r.read_to_string(&mut out).unwrap();
            assert_eq!(out, text);
            let rec = "2025-01-01,\"Zoë 😀 <x@y>\"";
            let stored = enc.encode_record(rec.as_bytes()).unwrap();
            assert!(bytes.windows(stored.len()).any(|w| w == stored.as_slice()), "record bytes are the file's");
            assert_eq!(&*enc.decode_record(&stored), rec.as_bytes());
        }
    }

    #[test]
    fn utf8_marks_are_removed_and_text_is_untouched() {
        let bytes = b"\xEF\xBB\xBFa,b\n".to_vec();
        let enc = Encoding::detect(&bytes);
        assert_eq!(enc, Encoding::Utf8Bom);
        assert_eq!(enc.decode_head(&bytes), b"a,b\n");
        let mut s = String::new();
        enc.text_reader(Box::new(std::io::Cursor::new(bytes))).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "a,b\n");
        assert_eq!(enc.encode_record(b"a,b"), None);
        assert_eq!(Encoding::from_name("utf-16be"), Some(Encoding::Utf16Be));
    }
}
