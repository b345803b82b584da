//! How raw records are stored: verbatim bytes, optionally zstd-compressed with a dictionary trained
//! on the same input. Compression is lossless and the SHA-256 is of the original bytes, so
//! `tidemark verify` can prove every record is still exactly what was received. A dictionary makes
//! records ~5x smaller and import faster (the writer pushes fewer pages; measured in
//! `shared/docs/ingest-performance.md` §2b).

/// Stored as received.
pub const CODEC_VERBATIM: i64 = 0;
/// zstd frame (with the dictionary in `raw_dict` when `dict_id` is set).
pub const CODEC_ZSTD: i64 = 1;

const LEVEL: i32 = 1;
const DICT_SIZE: usize = 112 * 1024;
/// Records below this size are stored verbatim: a frame header would not pay for itself.
const MIN_COMPRESS: usize = 96;

/// Trains a dictionary from sample records; `None` when there are too few samples to be worth it.
pub fn train(samples: &[&[u8]]) -> Option<Vec<u8>> {
    let total: usize = samples.iter().map(|s| s.len()).sum();
    if samples.len() < 64 || total < 64 * 1024 {
        return None;
    }
    zstd::dict::from_samples(samples, DICT_SIZE).ok()
}

/// Compresses records for one input, with or without a dictionary.
pub struct Encoder {
    compressor: zstd::bulk::Compressor<'static>,
    with_dict: bool,
    /// Reused output buffer: a fresh one per record costs more in page faults than the compression.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("with_dict", &self.with_dict).finish()
    }
}

impl Encoder {
    /// An encoder using `dict` if given.
    pub fn new(dict: Option<&[u8]>) -> std::io::Result<Self> {
        let compressor = match dict {
            Some(d) => zstd::bulk::Compressor::with_dictionary(LEVEL, d)?,
            None => zstd::bulk::Compressor::new(LEVEL)?,
        };
        Ok(Self { compressor, with_dict: dict.is_some(), scratch: Vec::new() })
    }

    /// Appends the stored form of `bytes` to `out`; returns `(codec, uses_dict)`. Falls back to
    /// verbatim when compression does not help.
    pub fn encode_into(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> (i64, bool) {
        if bytes.len() >= MIN_COMPRESS {
            self.scratch.clear();
            self.scratch.reserve(zstd::zstd_safe::compress_bound(bytes.len()));
            if let Ok(n) = self.compressor.compress_to_buffer(bytes, &mut self.scratch) {
                if n < bytes.len() {
                    out.extend_from_slice(&self.scratch[..n]);
                    return (CODEC_ZSTD, self.with_dict);
                }
            }
        }
        out.extend_from_slice(bytes);
        (CODEC_VERBATIM, false)
    }

    /// Returns `(codec, stored bytes, uses_dict)`; falls back to verbatim when compression does not help.
    pub fn encode(&mut self, bytes: &[u8]) -> (i64, Vec<u8>, bool) {
        if bytes.len() >= MIN_COMPRESS {
            if let Ok(c) = self.compressor.compress(bytes) {
                if c.len() < bytes.len() {
                    return (CODEC_ZSTD, c, self.with_dict);
                }
            }
        }
        (CODEC_VERBATIM, bytes.to_vec(), false)
    }
}

/// Restores the original bytes of a stored record.
pub fn decode(codec: i64, data: &[u8], size: usize, dict: Option<&[u8]>) -> Result<Vec<u8>, String> {
    match codec {
        CODEC_VERBATIM => Ok(data.to_vec()),
        CODEC_ZSTD => {
            let mut d = match dict {
                Some(dict) => zstd::bulk::Decompressor::with_dictionary(dict),
                None => zstd::bulk::Decompressor::new(),
            }
            .map_err(|e| e.to_string())?;
            let out = d.decompress(data, size.max(1)).map_err(|e| format!("cannot be decompressed: {e}"))?;
            Ok(out)
        }
        other => Err(format!("unknown storage codec {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_and_without_dictionary() {
        let records: Vec<Vec<u8>> = (0..400)
            .map(|i| format!("{{\"Id\":\"{i:08}\",\"Operation\":\"MailItemsAccessed\",\"UserId\":\"user{}@contoso.example\",\"Pad\":\"{}\"}}", i % 7, "x".repeat(i % 300)).into_bytes())
            .collect();
        let samples: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        let dict = train(&samples).expect("enough samples");
        let mut with = Encoder::new(Some(&dict)).unwrap();
        let mut without = Encoder::new(None).unwrap();
        for r in &records {
            let (codec, data, uses) = with.encode(r);
            assert_eq!(decode(codec, &data, r.len(), uses.then_some(dict.as_slice())).unwrap(), *r);
            let (codec, data, _) = without.encode(r);
            assert_eq!(decode(codec, &data, r.len(), None).unwrap(), *r);
            let mut arena = b"prefix".to_vec();
            let (codec, uses) = with.encode_into(r, &mut arena);
            assert_eq!(decode(codec, &arena[6..], r.len(), uses.then_some(dict.as_slice())).unwrap(), *r);
        }
        assert!(train(&samples[..10]).is_none());
    }
}
