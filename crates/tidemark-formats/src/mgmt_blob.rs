//! Management Activity API content blobs: a JSON array of audit records per file.
//!
//! `GET {contentUri}` returns one array of `AuditData` records (§2.3 of the formats spec); collectors
//! save each blob as a file, so an investigator hands us a folder of them (the engine expands folders).
//! The same shape comes from Extractor-Suite's `-AuditDataOnly` JSON (one array per search window,
//! appended) and from Graph exports of bare `auditData` objects without their `@odata.type`, so this
//! format is "arrays of bare audit records", whoever wrote them; several arrays may follow each other.
//! An empty blob (`[]`) is a valid blob with no records, not an unknown file.

use crate::event::NormalizedEvent;
use crate::format::{Format, Units};
use crate::json_stream::{Layout, Probe};
use crate::mes_json::{is_audit_record, normalize_json};

/// Arrays of bare audit records (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct MgmtBlob;

impl Format for MgmtBlob {
    fn id(&self) -> &'static str {
        "mgmt-blob"
    }

    fn name(&self) -> &'static str {
        "Audit records, JSON array (Management Activity API content blob)"
    }

    fn describe(&self) -> &'static str {
        "a JSON array of audit records (objects with CreationTime, Id and Operation), as the Management \
         Activity API returns a content blob; several arrays may follow each other"
    }

    fn sniff(&self, head: &[u8]) -> bool {
        let Some(p) = Probe::of(head) else { return false };
        if p.layout != Layout::Arrays {
            return false;
        }
        if p.first.is_empty() {
            // Only empty arrays: `[]`, `[ ]`, `[][]`.
            return head.iter().all(|b| b.is_ascii_whitespace() || matches!(b, b'[' | b']' | b','));
        }
        is_audit_record(&p) && !p.has_key("@odata.type")
    }

    fn split(&self, input: Box<dyn std::io::BufRead + Send>) -> Units {
        Box::new(crate::json_stream::JsonSplitter::new(input))
    }

    fn normalize(&self, _context: &[u8], record: &[u8]) -> Result<NormalizedEvent, String> {
        normalize_json(record, self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::RawUnit;

    fn split(text: &str) -> Vec<RawUnit> {
        MgmtBlob.split(Box::new(std::io::Cursor::new(text.as_bytes().to_vec()))).map(Result::unwrap).collect()
    }

    const REC: &str = r#"{"CreationTime":"2015-06-29T20:03:19","Id":"80c76bd2-9d81-4c57-a97a-accfc3443dca","Operation":"UserLoginFailed","RecordType":15,"ResultStatus":"Success","UserId":"admin@contoso.example","ClientIP":"134.170.188.221","Workload":"AzureActiveDirectory"}"#;

    #[test]
    fn reads_compact_and_pretty_blobs_and_empty_ones() {
        let text = format!("[{REC},{REC}]");
        assert!(MgmtBlob.sniff(text.as_bytes()));
        let units = split(&text);
        assert_eq!(units.len(), 2);
        assert_eq!(units[1].byte_offset as usize, REC.len() + 2);
        let e = MgmtBlob.normalize(&[], &units[0].bytes).unwrap();
        assert_eq!((e.action.as_str(), e.source.as_str()), ("logon-failed", "mgmt-blob"));
        assert_eq!(e.time_ms, 1_435_608_199_000);
        assert!(MgmtBlob.sniff(b"[]"));
        assert!(MgmtBlob.sniff(b"[ ]\n"));
        assert!(split("[]").is_empty());
        // Not blobs: a content listing, an error body, a single object, JSON Lines.
        assert!(!MgmtBlob.sniff(br#"[{"contentType":"Audit.Exchange","contentId":"x","contentUri":"https://x"}]"#));
        assert!(!MgmtBlob.sniff(br#"{"error":{"code":"AF50000","message":"x"}}"#));
        assert!(!MgmtBlob.sniff(REC.as_bytes()));
        assert!(!MgmtBlob.sniff(b"[1, 2]"));
    }

    #[test]
    fn a_truncated_blob_keeps_its_last_record_as_malformed() {
        let text = format!("[{REC},{}", &REC[..40]);
        let units = split(&text);
        assert_eq!(units.len(), 2);
        assert_eq!(units[1].bytes, &REC.as_bytes()[..40]);
        assert!(MgmtBlob.normalize(&[], &units[1].bytes).unwrap_err().contains("not valid JSON"));
    }
}
