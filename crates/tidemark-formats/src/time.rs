//! Audit timestamps to UTC milliseconds.
//!
//! Every source writes times its own way (`2025-02-28T23:58:32` without a zone in UAL, seven-digit
//! fractions, `Z`, offsets); the normalizers need one strict parser that refuses to guess rather than
//! misplace an event on the timeline. Culture-formatted dates (`28/02/2025 23:58`) are parsed only where a
//! format knows its culture, never here.

use chrono::{NaiveDate, NaiveDateTime};

fn digits(b: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Parses an audit timestamp to UTC milliseconds.
///
/// Accepts `YYYY-MM-DDTHH:MM:SS` (the UAL `CreationTime`: no zone means UTC), an optional fraction of any
/// length, and an optional `Z` or `±HH:MM` offset; also a space instead of `T`. Returns `None` for
/// anything else rather than guessing.
pub fn parse_utc_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return parse_date_only(s);
    }
    let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (h, mi, sec) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    let mut rest = &b[19..];
    let mut millis: u32 = 0;
    if let Some((&b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let f = &frac[..n];
        let mut m = 0u32;
        for i in 0..3 {
            m = m * 10 + f.get(i).map_or(0, |c| u32::from(c - b'0'));
        }
        millis = m;
        rest = &frac[n..];
    }
    let offset_min: i64 = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), hh1, hh2, b':', mm1, mm2] | [sign @ (b'+' | b'-'), hh1, hh2, mm1, mm2] => {
            let hh = i64::from(digits(&[*hh1, *hh2])?);
            let mm = i64::from(digits(&[*mm1, *mm2])?);
            let v = hh * 60 + mm;
            if *sign == b'+' {
                v
            } else {
                -v
            }
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?;
    let dt = date.and_hms_milli_opt(h, mi, sec, millis)?;
    Some(dt.and_utc().timestamp_millis() - offset_min * 60_000)
}

fn parse_date_only(s: &str) -> Option<i64> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(NaiveDateTime::from(d).and_utc().timestamp_millis())
}
