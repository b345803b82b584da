//! Microsoft's wire conventions in one place: timestamp spellings and the error-body shapes of each
//! service (Management API `AFxxxxx`, Graph `innerError`, Outlook REST, Entra `AADSTSxxxxx`).
//!
//! They differ per service, and clients branch on them, so each shape is built by exactly one function
//! here rather than ad hoc in handlers.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{json, Value};

fn dt(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// `2025-03-13T09:05:31.902Z` (Activities, Management API content timestamps).
pub fn iso_ms(ms: i64) -> String {
    dt(ms).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `2025-03-13T09:05:31` (UAL `CreationTime`: no zone, no fraction).
pub fn iso_seconds_no_zone(ms: i64) -> String {
    dt(ms).format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `2025-03-13T09:05:31Z`.
pub fn iso_seconds_z(ms: i64) -> String {
    dt(ms).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2025-03-13T09:05:31.9020000Z`: seven fraction digits, as Entra's logs write times.
pub fn iso_ticks(ms: i64) -> String {
    dt(ms).format("%Y-%m-%dT%H:%M:%S%.3f0000Z").to_string()
}

/// `2025-03-13T09:05:31.0000000Z` (Purview CSV `CreationDate`).
pub fn iso_7(ms: i64) -> String {
    dt(ms).format("%Y-%m-%dT%H:%M:%S.0000000Z").to_string()
}

/// `3/13/2025 9:05:31 AM` (PowerShell en-US `DateTime` in CSV).
pub fn powershell_us(ms: i64) -> String {
    let d = dt(ms);
    let h12 = match chrono::Timelike::hour(&d) % 12 {
        0 => 12,
        h => h,
    };
    format!(
        "{}/{}/{} {}:{}",
        chrono::Datelike::month(&d),
        chrono::Datelike::day(&d),
        chrono::Datelike::year(&d),
        h12,
        d.format("%M:%S %p")
    )
}

/// Parses the time spellings Microsoft APIs accept: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`,
/// `YYYY-MM-DDTHH:MM:SS`, with optional fraction and `Z` or offset. Zone-less values are UTC.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.timestamp_millis());
    }
    let bare = s.strip_suffix('Z').unwrap_or(s);
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(bare, f) {
            return Some(d.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(bare, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp_millis())
}

/// Management Activity API error: `{"error":{"code":"AF…","message":"…"}}`.
pub fn af_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
}

/// Microsoft Graph error with `innerError` (date, request-id, client-request-id).
pub fn graph_error(status: StatusCode, code: &str, message: &str, now_ms: i64, request_id: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message, "innerError": {
        "date": iso_seconds_z(now_ms), "request-id": request_id, "client-request-id": request_id}}});
    (status, Json(body)).into_response()
}

/// Outlook REST error: `{"error":{"code":"…","message":"…"}}`.
pub fn outlook_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
}

/// Outlook REST 401: empty body, reason in `x-ms-diagnostics` (as CrowdStrike's retriever parses it).
pub fn outlook_unauthorized(reason: &str) -> Response {
    let mut r = StatusCode::UNAUTHORIZED.into_response();
    let diag = format!("2000001;reason=\"{reason}\";error_category=\"invalid_token\"");
    if let Ok(v) = HeaderValue::from_str(&diag) {
        r.headers_mut().insert("x-ms-diagnostics", v);
    }
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", error=\"invalid_token\""),
    );
    r
}

/// Entra token-endpoint error body (§4.2): `error`, `error_description` with AADSTS code and trace
/// lines, `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
pub fn aad_error(status: StatusCode, error: &str, code: u32, description: &str, now_ms: i64, trace: &str) -> Response {
    let ts = dt(now_ms).format("%Y-%m-%d %H:%M:%SZ").to_string();
    let desc = format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {trace} Timestamp: {ts}");
    let body = json!({
        "error": error,
        "error_description": desc,
        "error_codes": [code],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": trace,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    (status, Json(body)).into_response()
}

/// The JSON of a response body (test and admin convenience).
pub fn json_body(v: Value) -> Response {
    Json(v).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_spellings() {
        let ms = parse_time("2025-03-13T09:05:31.902Z").unwrap();
        assert_eq!(iso_ms(ms), "2025-03-13T09:05:31.902Z");
        assert_eq!(iso_seconds_no_zone(ms), "2025-03-13T09:05:31");
        assert_eq!(parse_time("2025-03-13").unwrap(), parse_time("2025-03-13T00:00").unwrap());
        assert_eq!(parse_time("2025-03-13T09:05:31").unwrap(), ms - 902);
        assert_eq!(powershell_us(ms), "3/13/2025 9:05:31 AM");
        assert_eq!(iso_7(ms), "2025-03-13T09:05:31.0000000Z");
        assert_eq!(iso_ticks(ms), "2025-03-13T09:05:31.9020000Z");
        assert_eq!(parse_time(&iso_ticks(ms)), Some(ms));
    }
}
