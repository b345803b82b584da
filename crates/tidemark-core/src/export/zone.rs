//! The time zone an export shows its times in.
//!
//! Audit records are UTC, but an investigator reports in the zone of the people involved, so every
//! time value of an export (CSV, JSONL, XLSX, HTML alike) is rendered in one chosen zone: `UTC`, the
//! machine's `local` zone, or any IANA name. The zone is resolved to an IANA name once, before the
//! export starts, and that name goes into the manifest; text formats also carry the UTC offset in every
//! value, so a time can never be read in the wrong zone.

use chrono::{DateTime, TimeZone};
use chrono_tz::Tz;

use crate::error::{Error, ErrorCode, Result};

/// A resolved display time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayZone {
    tz: Tz,
    name: String,
}

/// 1899-12-30T00:00:00 in Unix milliseconds: day 0 of Excel's date serial numbers.
const EXCEL_EPOCH_MS: i64 = -2_209_161_600_000;

impl DisplayZone {
    /// UTC.
    pub fn utc() -> Self {
        Self { tz: Tz::UTC, name: "UTC".to_owned() }
    }

    /// Parses `UTC`, `local` (the operating system's zone) or an IANA name such as `Europe/Berlin`.
    /// `local` is the only input that reads the environment; the manifest records what it became.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
            return Ok(Self::utc());
        }
        if t.eq_ignore_ascii_case("local") {
            let name = iana_time_zone::get_timezone().map_err(|e| {
                Error::new(
                    ErrorCode::ExportInvalid,
                    "The computer's time zone could not be determined. Choose a zone by name (e.g. Europe/Berlin) or UTC.",
                )
                .with_detail(e.to_string())
            })?;
            return Self::parse_named(&name);
        }
        Self::parse_named(t)
    }

    fn parse_named(name: &str) -> Result<Self> {
        let tz: Tz = name.parse().map_err(|_| {
            Error::new(
                ErrorCode::ExportInvalid,
                format!("\"{name}\" is not a time zone Tidemark knows. Use UTC, local, or a name like Europe/Berlin."),
            )
        })?;
        if matches!(tz, Tz::UTC | Tz::Etc__UTC | Tz::Etc__UCT | Tz::UCT | Tz::Etc__Zulu | Tz::Zulu | Tz::Universal) {
            return Ok(Self::utc());
        }
        Ok(Self { tz, name: tz.name().to_owned() })
    }

    /// The zone's name as the manifest records it (`UTC` or an IANA name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is UTC.
    pub fn is_utc(&self) -> bool {
        self.tz == Tz::UTC
    }

    fn at(&self, ms: i64) -> Option<DateTime<Tz>> {
        self.tz.timestamp_millis_opt(ms).single()
    }

    /// ISO 8601 with milliseconds and the offset: `2025-03-01T11:00:00.000+01:00`, or `…Z` in UTC.
    pub fn iso(&self, ms: i64) -> String {
        match self.at(ms) {
            Some(t) if self.is_utc() => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
            None => format!("invalid-time({ms})"),
        }
    }

    /// For people: `2025-03-01 11:00:00.000 +01:00` (`… UTC` in UTC).
    pub fn human(&self, ms: i64) -> String {
        match self.at(ms) {
            Some(t) if self.is_utc() => t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M:%S%.3f %:z").to_string(),
            None => format!("invalid-time({ms})"),
        }
    }

    /// The wall-clock time in this zone as an Excel date serial number (days since 1899-12-30), which
    /// Excel shows as a date and time with a date number format and can sort and filter as one.
    pub fn excel_serial(&self, ms: i64) -> f64 {
        let wall = self.at(ms).map_or(ms, |t| t.naive_local().and_utc().timestamp_millis());
        (wall - EXCEL_EPOCH_MS) as f64 / 86_400_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_instant_in_three_zones() {
        let ms = 1_740_826_800_000; // 2025-03-01T11:00:00Z
        assert_eq!(DisplayZone::utc().iso(ms), "2025-03-01T11:00:00.000Z");
        let berlin = DisplayZone::parse("Europe/Berlin").unwrap();
        assert_eq!(berlin.iso(ms), "2025-03-01T12:00:00.000+01:00");
        assert_eq!(berlin.human(ms), "2025-03-01 12:00:00.000 +01:00");
        let ny = DisplayZone::parse("America/New_York").unwrap();
        assert_eq!(ny.iso(ms), "2025-03-01T06:00:00.000-05:00");
        assert_eq!(DisplayZone::parse("Etc/UTC").unwrap().name(), "UTC");
        assert_eq!(DisplayZone::parse("Mars/Olympus").unwrap_err().code, ErrorCode::ExportInvalid);
        // 1970-01-01 is serial 25569; noon is half a day.
        assert_eq!(DisplayZone::utc().excel_serial(43_200_000), 25_569.5);
        assert_eq!(berlin.excel_serial(0), 25_569.0 + 1.0 / 24.0);
    }
}
