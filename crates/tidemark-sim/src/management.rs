//! Office 365 Management Activity API (§2): subscriptions, content listings with the 24-hour and 7-day
//! window rules, `NextPageUri` paging, content blobs, and Microsoft's error codes.
//!
//! Blobs are a function of (content type, hour, part): an hour's records of one content type are cut
//! into one or two blobs; the second may repeat the last record of the first (the API does not
//! de-duplicate), records inside a blob are rotated, and `contentCreated` is the hour's end plus a
//! seeded 20–117 minute delay, so listings are not in event order, as Microsoft warns. Content ids
//! carry `$` like the real ones and encode which blob they are, so nothing is stored.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::faults::FaultKind;
use crate::identity::{check_bearer, Claims, TokenProblem};
use crate::prng::{hash_str, mix};
use crate::scenario::Tenant;
use crate::server::{query_param, Api, ServiceRouter, SimState};
use crate::wire::{af_error, iso_ms, parse_time};

/// The content types the API knows.
pub const CONTENT_TYPES: [&str; 5] =
    ["Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General", "DLP.All"];
const DAY_MS: i64 = 86_400_000;
const WINDOW_MESSAGE: &str = "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.";

/// A subscription to one content type.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// `enabled` or `disabled`.
    pub status: &'static str,
    /// The webhook object, if one was registered.
    pub webhook: Option<Value>,
}

/// One content blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    /// Content type.
    pub content_type: &'static str,
    /// Scenario hour whose events it holds.
    pub hour: u32,
    /// Part (0 or 1; +5 for a duplicate listing of the same part).
    pub part: u8,
    /// `contentCreated` (Unix ms).
    pub created_ms: i64,
}

impl BlobRef {
    /// The opaque content id, e.g. `20250314101907123000561$20250314101907123000561$audit_exchange$Audit_Exchange`.
    pub fn content_id(&self) -> String {
        let created = DateTime::<Utc>::from_timestamp_millis(self.created_ms).unwrap_or_default();
        let a = format!("{}{:05}{}", created.format("%Y%m%d%H%M%S%3f"), self.hour, self.part);
        let ct = self.content_type.replace('.', "_");
        format!("{a}${a}${}${ct}", ct.to_ascii_lowercase())
    }

    /// Parses a content id back into the blob it names.
    pub fn parse(id: &str) -> Option<BlobRef> {
        let parts: Vec<&str> = id.split('$').collect();
        if parts.len() != 4
            || parts[0] != parts[1]
            || parts[0].len() != 23
            || !parts[0].bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let ct = CONTENT_TYPES.iter().find(|c| c.replace('.', "_") == parts[3])?;
        let hour: u32 = parts[0][17..22].parse().ok()?;
        let part: u8 = parts[0][22..].parse().ok()?;
        let created = chrono::NaiveDateTime::parse_from_str(&parts[0][..17], "%Y%m%d%H%M%S%3f").ok()?;
        Some(BlobRef { content_type: ct, hour, part, created_ms: created.and_utc().timestamp_millis() })
    }
}

fn blob_delay(t: &Tenant, ct: &str, hour: u32, part: u8) -> i64 {
    let h = mix(t.spec.seed ^ hash_str(ct) ^ (u64::from(hour) << 8) ^ 0xB10B);
    20 * 60_000 + (h % (90 * 60_000)) as i64 + i64::from(part) * 7 * 60_000
}

/// The records of one blob, in blob order (which is not event order).
pub fn blob_records(t: &Tenant, b: &BlobRef) -> Option<Vec<Value>> {
    let part = b.part % 5;
    let records: Vec<Value> = t
        .hour_events(b.hour)
        .iter()
        .filter(|e| t.content_type(e) == b.content_type)
        .filter_map(|e| t.ual_record(e))
        .collect();
    let parts = part_count(t, b.content_type, b.hour, records.len());
    if records.is_empty() || part >= parts {
        return None;
    }
    let mid = if parts == 2 { records.len() / 2 } else { records.len() };
    let mut chunk: Vec<Value> = if part == 0 { records[..mid].to_vec() } else { records[mid..].to_vec() };
    if part == 1 && mix(t.spec.seed ^ u64::from(b.hour)).is_multiple_of(2) {
        chunk.insert(0, records[mid - 1].clone());
    }
    let rot = chunk.len() / 3;
    chunk.rotate_left(rot);
    Some(chunk)
}

fn part_count(t: &Tenant, ct: &str, hour: u32, n: usize) -> u8 {
    if n >= 2 && !mix(t.spec.seed ^ hash_str(ct) ^ u64::from(hour)).is_multiple_of(3) {
        2
    } else {
        u8::from(n > 0)
    }
}

/// Every blob of a content type whose `contentCreated` is in `[start, end)` and not after `now`,
/// ordered by (contentCreated, id).
pub fn blobs_in_window(t: &Tenant, ct: &'static str, start: i64, end: i64, now: i64) -> Vec<BlobRef> {
    let first = t.hour_of(start - 3 * 3_600_000).max(0);
    let last = t.hour_of(end).min(i64::from(t.hours) - 1);
    let mut out = Vec::new();
    for h in first..=last {
        let h = h as u32;
        let n = t.hour_events(h).iter().filter(|e| t.content_type(e) == ct && t.ual_record(e).is_some()).count();
        for part in 0..part_count(t, ct, h, n) {
            let created = t.hour_start(h) + 3_600_000 + blob_delay(t, ct, h, part);
            if created >= start && created < end && created <= now {
                out.push(BlobRef { content_type: ct, hour: h, part, created_ms: created });
            }
        }
    }
    out.sort_by_key(|b| (b.created_ms, b.content_id()));
    out
}

pub(crate) fn routes() -> ServiceRouter {
    Router::new()
        .route("/subscriptions/start", post(start))
        .route("/subscriptions/stop", post(stop))
        .route("/subscriptions/list", get(list))
        .route("/subscriptions/content", get(content))
        .route("/subscriptions/notifications", get(notifications))
        .route("/audit/{content_id}", get(blob))
}

fn auth(s: &SimState, headers: &HeaderMap, tenant: &str) -> Result<Claims, Response> {
    let claims = check_bearer(s, headers, Api::Management).map_err(|p| {
        let mut r = af_error(
            StatusCode::UNAUTHORIZED,
            "AF10001",
            &match &p {
                TokenProblem::Expired => "The access token has expired.".to_string(),
                _ => "The permission set () sent in the request does not include the expected permission.".to_string(),
            },
        );
        let desc = format!("Bearer error=\"invalid_token\", error_description=\"{}\"", p.message());
        if let Ok(v) = HeaderValue::from_str(&desc) {
            r.headers_mut().insert("www-authenticate", v);
        }
        r
    })?;
    if !claims.permissions.iter().any(|p| p == "ActivityFeed.Read") {
        return Err(af_error(
            StatusCode::UNAUTHORIZED,
            "AF10001",
            &format!(
                "The permission set ({}) sent in the request does not include the expected permission.",
                claims.permissions.join(",")
            ),
        ));
    }
    if !is_guid(tenant) {
        return Err(af_error(
            StatusCode::BAD_REQUEST,
            "AF20013",
            &format!("The tenant ID passed in the URL ({tenant}) is not a valid GUID."),
        ));
    }
    if !tenant.eq_ignore_ascii_case(&claims.tenant) {
        return Err(af_error(
            StatusCode::UNAUTHORIZED,
            "AF20010",
            &format!(
                "The tenant ID passed in the URL ({tenant}) does not match the tenant ID passed in the access token ({}).",
                claims.tenant
            ),
        ));
    }
    Ok(claims)
}

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() })
}

fn content_type_param(q: Option<&str>) -> Result<&'static str, Response> {
    let Some(ct) = query_param(q, "contentType") else {
        return Err(af_error(StatusCode::BAD_REQUEST, "AF20001", "Missing parameter: contentType."));
    };
    CONTENT_TYPES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(&ct))
        .copied()
        .ok_or_else(|| af_error(StatusCode::BAD_REQUEST, "AF20020", &format!("The content type '{ct}' is invalid.")))
}

fn subscription_json(ct: &str, sub: &Subscription) -> Value {
    json!({"contentType": ct, "status": sub.status, "webhook": sub.webhook.clone().unwrap_or(Value::Null)})
}

async fn start(
    State(s): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = auth(&s, &headers, &tenant) {
        return r;
    }
    let ct = match content_type_param(q.as_deref()) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let webhook = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => v.get("webhook").filter(|w| !w.is_null()).map(|w| {
                json!({"status": "enabled", "address": w["address"], "authId": w["authId"], "expiration": Value::Null})
            }),
            Err(_) => return af_error(StatusCode::BAD_REQUEST, "AF20002", "Invalid parameter type: the request body is not valid JSON."),
        }
    };
    let mut subs = s.subscriptions.lock().unwrap_or_else(|e| e.into_inner());
    if subs.get(ct).is_some_and(|x| x.status == "enabled") {
        return af_error(
            StatusCode::BAD_REQUEST,
            "AF20024",
            "The subscription is already enabled. No property change.",
        );
    }
    let sub = Subscription { status: "enabled", webhook };
    let out = subscription_json(ct, &sub);
    subs.insert(ct.to_string(), sub);
    Json(out).into_response()
}

async fn stop(
    State(s): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = auth(&s, &headers, &tenant) {
        return r;
    }
    let ct = match content_type_param(q.as_deref()) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut subs = s.subscriptions.lock().unwrap_or_else(|e| e.into_inner());
    match subs.get_mut(ct) {
        Some(sub) if sub.status == "enabled" => {
            sub.status = "disabled";
            StatusCode::OK.into_response()
        }
        _ => no_subscription(),
    }
}

fn no_subscription() -> Response {
    af_error(StatusCode::BAD_REQUEST, "AF20022", "No subscription found for the specified content type")
}

async fn list(State(s): State<Arc<SimState>>, Path(tenant): Path<String>, headers: HeaderMap) -> Response {
    if let Err(r) = auth(&s, &headers, &tenant) {
        return r;
    }
    let subs = s.subscriptions.lock().unwrap_or_else(|e| e.into_inner());
    let out: Vec<Value> = subs.iter().map(|(ct, sub)| subscription_json(ct, sub)).collect();
    Json(out).into_response()
}

/// Validates the `startTime`/`endTime` window; returns `[start, end)` in Unix ms.
fn window(q: Option<&str>, now: i64) -> Result<(i64, i64), Response> {
    let bad = |code: &str| af_error(StatusCode::BAD_REQUEST, code, WINDOW_MESSAGE);
    match (query_param(q, "startTime"), query_param(q, "endTime")) {
        (None, None) => Ok((now - DAY_MS, now)),
        (Some(a), Some(b)) => {
            let (Some(start), Some(end)) = (parse_time(&a), parse_time(&b)) else { return Err(bad("AF20055")) };
            if end - start > DAY_MS {
                return Err(bad("AF20055"));
            }
            if end <= start || start < now - 7 * DAY_MS {
                return Err(bad("AF20030"));
            }
            Ok((start, end))
        }
        _ => Err(bad("AF20055")),
    }
}

async fn content(
    State(s): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = auth(&s, &headers, &tenant) {
        return r;
    }
    let q = q.as_deref();
    let ct = match content_type_param(q) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if s.subscriptions.lock().unwrap_or_else(|e| e.into_inner()).get(ct).is_none_or(|x| x.status != "enabled") {
        return no_subscription();
    }
    let now = s.now_ms();
    let (start, end) = match window(q, now) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let offset = match query_param(q, "nextPage") {
        None => 0usize,
        Some(p) => match p.split_once('R').and_then(|(_, n)| n.parse::<usize>().ok()) {
            Some(n) => n,
            None => return af_error(StatusCode::BAD_REQUEST, "AF20031", &format!("Invalid nextPage Input: {p}.")),
        },
    };
    let mut blobs = blobs_in_window(&s.tenant, ct, start, end, now);
    if offset == 0 {
        let key = format!("{ct}|{start}|{end}");
        let first_time = s.listed_windows.lock().unwrap_or_else(|e| e.into_inner()).insert(key);
        if first_time && !blobs.is_empty() && s.faults.roll(FaultKind::EventualConsistency).is_some() {
            blobs.pop();
        }
    }
    let mut listed = Vec::new();
    for b in blobs {
        let dup = s.faults.is_on(FaultKind::DuplicateBlobs) && s.faults.roll(FaultKind::DuplicateBlobs).is_some();
        if dup {
            let mut alias = b.clone();
            alias.part += 5;
            listed.push(b);
            listed.push(alias);
        } else {
            listed.push(b);
        }
    }
    let page = s.config.content_page_size.max(1);
    let publisher = query_param(q, "PublisherIdentifier");
    let base = format!("{}/manage/api/v1.0/{tenant}/activity/feed", s.base_url);
    let items: Vec<Value> = listed
        .iter()
        .skip(offset)
        .take(page)
        .map(|b| {
            let id = b.content_id();
            json!({
                "contentType": ct,
                "contentId": id,
                "contentUri": format!("{base}/audit/{id}"),
                "contentCreated": iso_ms(b.created_ms),
                "contentExpiration": iso_ms(b.created_ms + 7 * DAY_MS),
            })
        })
        .collect();
    let mut resp = Json(items).into_response();
    if offset + page < listed.len() {
        let start_s = DateTime::<Utc>::from_timestamp_millis(start).unwrap_or_default();
        let mut next = format!(
            "{base}/subscriptions/content?contentType={ct}&startTime={}&endTime={}&nextPage={}R{:012}",
            start_s.format("%Y-%m-%dT%H:%M:%S"),
            DateTime::<Utc>::from_timestamp_millis(end).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S"),
            start_s.format("%Y%m%d%H"),
            offset + page
        );
        if let Some(p) = publisher {
            next.push_str(&format!("&PublisherIdentifier={p}"));
        }
        if let Ok(v) = HeaderValue::from_str(&next) {
            resp.headers_mut().insert("NextPageUri", v);
        }
    }
    resp
}

async fn notifications(
    State(s): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = auth(&s, &headers, &tenant) {
        return r;
    }
    let ct = match content_type_param(q.as_deref()) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if s.subscriptions.lock().unwrap_or_else(|e| e.into_inner()).get(ct).is_none_or(|x| x.status != "enabled") {
        return no_subscription();
    }
    if let Err(r) = window(q.as_deref(), s.now_ms()) {
        return r;
    }
    Json(Vec::<Value>::new()).into_response()
}

async fn blob(
    State(s): State<Arc<SimState>>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = auth(&s, &headers, &tenant) {
        return r;
    }
    let Some(b) = BlobRef::parse(&id) else {
        return af_error(StatusCode::BAD_REQUEST, "AF20052", &format!("Content ID {id} in the URL is invalid."));
    };
    let now = s.now_ms();
    let expected_created =
        s.tenant.hour_start(b.hour) + 3_600_000 + blob_delay(&s.tenant, b.content_type, b.hour, b.part % 5);
    if b.hour >= s.tenant.hours || expected_created != b.created_ms || b.created_ms > now {
        return af_error(StatusCode::NOT_FOUND, "AF20050", &format!("The specified content ({id}) doesn't exist."));
    }
    if b.created_ms + 7 * DAY_MS < now {
        return af_error(
            StatusCode::BAD_REQUEST,
            "AF20051",
            &format!("Content requested with the key {id} has already expired. Content older than 7 days cannot be retrieved."),
        );
    }
    match blob_records(&s.tenant, &b) {
        Some(records) => Json(records).into_response(),
        None => af_error(StatusCode::NOT_FOUND, "AF20050", &format!("The specified content ({id}) doesn't exist.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ids_round_trip() {
        let b = BlobRef { content_type: "Audit.Exchange", hour: 201, part: 1, created_ms: 1_741_950_000_123 };
        let id = b.content_id();
        assert_eq!(id.matches('$').count(), 3);
        assert!(id.ends_with("$audit_exchange$Audit_Exchange"));
        assert_eq!(BlobRef::parse(&id), Some(b));
        assert_eq!(BlobRef::parse("nope"), None);
        assert!(is_guid("4a60b5c3-5a63-46f6-9caa-357b58a46ea1"));
    }
}
