//! Microsoft Graph audit-log queries (§3): `POST security/auditLog/queries` → `201 notStarted`, polling
//! through `running` to `succeeded` or `failed`, and `…/records` paged with `@odata.nextLink`, on both
//! `v1.0` and `beta`. With [`SimConfig::graph_query_record_limit`](crate::SimConfig) set, a query that
//! matches more records than the limit succeeds with `isRecordCountLimitExceeded: true` and serves only
//! the first `limit` records, as Microsoft's per-query record limit does.
//!
//! Records are produced lazily: a skip token is a cursor (scenario hour, index among that hour's matching
//! records), so a query over a 10-million-record tenant walks it page by page. Records come back the way
//! live tenants send them (PascalCase `auditLogRecordType`/`userType`, `userId` holding the UserKey and
//! `userPrincipalName` the UPN), not the way the documentation's camelCase enum suggests.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::config::Cloud;
use crate::faults::FaultKind;
use crate::identity::check_bearer;
use crate::prng::{hash_str, mix};
use crate::scenario::AUDIT_RECORD_TYPES;
use crate::server::{query_param, Api, ServiceRouter, SimState};
use crate::wire::{graph_error, iso_seconds_z, parse_time};

/// A submitted audit-log query.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    /// Query id.
    pub id: String,
    /// `v1.0` or `beta` (as created).
    pub version: String,
    /// The resource as created (filters, display name).
    pub resource: Value,
    start_ms: i64,
    end_ms: i64,
    polls: u32,
    failed: bool,
}

impl AuditQuery {
    fn status(&self, running_polls: u32) -> &'static str {
        if self.polls == 0 {
            "notStarted"
        } else if self.polls <= running_polls {
            "running"
        } else if self.failed {
            "failed"
        } else {
            "succeeded"
        }
    }
}

pub(crate) fn routes() -> ServiceRouter {
    Router::new()
        .route("/{version}/security/auditLog/queries", get(list_queries).post(create_query))
        .route("/{version}/security/auditLog/queries/{id}", get(get_query))
        .route("/{version}/security/auditLog/queries/{id}/records", get(records))
}

fn gate(s: &SimState, headers: &HeaderMap, version: &str) -> Result<(), Response> {
    let now = s.now_ms();
    if version != "v1.0" && version != "beta" {
        return Err(graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Invalid version: {version}"),
            now,
            &s.next_id(),
        ));
    }
    if matches!(s.cloud(), Cloud::GccHigh | Cloud::Dod | Cloud::China) {
        return Err(graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Resource not found for the segment 'auditLog'.",
            now,
            &s.next_id(),
        ));
    }
    let claims = check_bearer(s, headers, Api::Graph).map_err(|p| {
        let mut r = graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", &p.message(), now, &s.next_id());
        r.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\""),
        );
        r
    })?;
    let ok =
        claims.permissions.iter().any(|p| p == "AuditLogsQuery.Read.All" || p == "AuditLogsQuery-Exchange.Read.All");
    if !ok {
        return Err(graph_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "Missing role permissions on the request. API requires one of 'AuditLogsQuery.Read.All, AuditLogsQuery-Exchange.Read.All'. Roles on the request '{}'.",
                claims.permissions.join(",")
            ),
            now,
            &s.next_id(),
        ));
    }
    Ok(())
}

fn query_json(s: &SimState, q: &AuditQuery) -> Value {
    let mut v = q.resource.clone();
    v["@odata.context"] =
        json!(format!("{}/graph/{}/$metadata#security/auditLog/queries/$entity", s.base_url, q.version));
    let status = q.status(s.config.graph_polls_running);
    v["status"] = json!(status);
    if let (Some(limit), "succeeded") = (s.config.graph_query_record_limit, status) {
        // Only with a configured limit: counting walks every hour of the query.
        let (first, last) = query_hours(s, q);
        let n = matching_in_hours(s, q, first, last + 1);
        v["approximateReturnedRecordCount"] = json!(n.min(limit));
        v["isRecordCountLimitExceeded"] = json!(n > limit);
        v["recordCountLimit"] = json!(limit);
    }
    v
}

/// The scenario hours a query covers: first, and last (-1 when none).
fn query_hours(s: &SimState, q: &AuditQuery) -> (u32, i64) {
    let t = &s.tenant;
    let first_hour = t.hour_of(q.start_ms).max(0) as u32;
    let last_hour = (t.hour_of(q.end_ms - 1).min(i64::from(t.hours) - 1)).max(-1);
    (first_hour, last_hour)
}

/// How many records of hours `[from, to)` match the query.
fn matching_in_hours(s: &SimState, q: &AuditQuery, from: u32, to: i64) -> u64 {
    let mut n = 0u64;
    let mut h = from;
    while i64::from(h) < to {
        n += s.tenant.hour_records(h).iter().filter(|r| matches(q, r)).count() as u64;
        h += 1;
    }
    n
}

fn string_list(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

async fn create_query(
    State(s): State<Arc<SimState>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = gate(&s, &headers, &version) {
        return r;
    }
    let now = s.now_ms();
    let bad = |msg: &str| graph_error(StatusCode::BAD_REQUEST, "BadRequest", msg, now, &s.next_id());
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.");
    };
    let start = body.get("filterStartDateTime").and_then(Value::as_str).and_then(parse_time);
    let end = body.get("filterEndDateTime").and_then(Value::as_str).and_then(parse_time);
    let (Some(start_ms), Some(end_ms)) = (start, end) else {
        return bad("Invalid filter: filterStartDateTime and filterEndDateTime are required.");
    };
    if end_ms <= start_ms {
        return bad("Invalid filter: filterEndDateTime must be later than filterStartDateTime.");
    }
    for rt in string_list(&body, "recordTypeFilters") {
        if !AUDIT_RECORD_TYPES.iter().any(|(_, n)| n.eq_ignore_ascii_case(&rt)) && rt != "unknownFutureValue" {
            return bad(&format!("Requested value '{rt}' was not found."));
        }
    }
    let id = s.next_id();
    let services: Vec<String> = match body.get("serviceFilter").and_then(Value::as_str) {
        Some(x) if !x.is_empty() => vec![x.to_string()],
        _ => string_list(&body, "serviceFilters"),
    };
    let resource = json!({
        "@odata.type": "#microsoft.graph.security.auditLogQuery",
        "id": id,
        "displayName": body.get("displayName").cloned().unwrap_or(Value::Null),
        "filterStartDateTime": iso_seconds_z(start_ms),
        "filterEndDateTime": iso_seconds_z(end_ms),
        "recordTypeFilters": string_list(&body, "recordTypeFilters"),
        "keywordFilter": body.get("keywordFilter").cloned().unwrap_or(Value::Null),
        "serviceFilters": services,
        "operationFilters": string_list(&body, "operationFilters"),
        "userPrincipalNameFilters": string_list(&body, "userPrincipalNameFilters"),
        "ipAddressFilters": string_list(&body, "ipAddressFilters"),
        "objectIdFilters": string_list(&body, "objectIdFilters"),
        "administrativeUnitIdFilters": string_list(&body, "administrativeUnitIdFilters"),
        "status": "notStarted",
    });
    let failed = s.faults.roll(FaultKind::QueryFailed).is_some();
    let q = AuditQuery { id: id.clone(), version: version.clone(), resource, start_ms, end_ms, polls: 0, failed };
    let out = query_json(&s, &q);
    s.queries.lock().unwrap_or_else(|e| e.into_inner()).push(q);
    let mut r = (StatusCode::CREATED, Json(out)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}/graph/{version}/security/auditLog/queries/{id}", s.base_url)) {
        r.headers_mut().insert("location", v);
    }
    r
}

async fn list_queries(State(s): State<Arc<SimState>>, Path(version): Path<String>, headers: HeaderMap) -> Response {
    if let Err(r) = gate(&s, &headers, &version) {
        return r;
    }
    let qs = s.queries.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let value: Vec<Value> = qs
        .iter()
        .map(|q| {
            let mut v = query_json(&s, q);
            if let Some(o) = v.as_object_mut() {
                o.remove("@odata.context");
            }
            v
        })
        .collect();
    Json(json!({
        "@odata.context": format!("{}/graph/{version}/$metadata#security/auditLog/queries", s.base_url),
        "value": value,
    }))
    .into_response()
}

fn not_found(s: &SimState, id: &str) -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("The audit log query with id '{id}' was not found."),
        s.now_ms(),
        &s.next_id(),
    )
}

async fn get_query(
    State(s): State<Arc<SimState>>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = gate(&s, &headers, &version) {
        return r;
    }
    let mut qs = s.queries.lock().unwrap_or_else(|e| e.into_inner());
    let Some(q) = qs.iter_mut().find(|q| q.id == id) else {
        drop(qs);
        return not_found(&s, &id);
    };
    q.polls += 1;
    let out = query_json(&s, q);
    Json(out).into_response()
}

/// Whether a UAL record matches the query's filters.
fn matches(q: &AuditQuery, r: &Value) -> bool {
    let res = &q.resource;
    let t = r["CreationTime"].as_str().and_then(parse_time).unwrap_or(0);
    if t < q.start_ms || t >= q.end_ms {
        return false;
    }
    let eq_any = |list: Vec<String>, v: &str| list.is_empty() || list.iter().any(|x| x.eq_ignore_ascii_case(v));
    let rt = r["RecordType"].as_i64().unwrap_or(0);
    let rt_name = AUDIT_RECORD_TYPES.iter().find(|(n, _)| *n == rt).map(|(_, n)| *n).unwrap_or("");
    let ip = r["ClientIP"].as_str().unwrap_or_default();
    let host = strip_port(ip);
    let ip_filters = string_list(res, "ipAddressFilters");
    eq_any(string_list(res, "recordTypeFilters"), rt_name)
        && eq_any(string_list(res, "operationFilters"), r["Operation"].as_str().unwrap_or_default())
        && eq_any(string_list(res, "userPrincipalNameFilters"), r["UserId"].as_str().unwrap_or_default())
        && eq_any(string_list(res, "serviceFilters"), r["Workload"].as_str().unwrap_or_default())
        && eq_any(string_list(res, "objectIdFilters"), r["ObjectId"].as_str().unwrap_or_default())
        && (ip_filters.is_empty()
            || ip_filters.iter().any(|f| f.eq_ignore_ascii_case(host) || f.eq_ignore_ascii_case(ip)))
        && match res.get("keywordFilter").and_then(Value::as_str) {
            Some(k) if !k.is_empty() => r.to_string().to_lowercase().contains(&k.to_lowercase()),
            _ => true,
        }
}

/// The last matching record before `hour` (looking back at most two days).
fn previous_match(s: &SimState, q: &AuditQuery, hour: u32, first_hour: u32) -> Option<Value> {
    let mut h = hour;
    while h > first_hour && hour - h < 48 {
        h -= 1;
        if let Some(r) = s.tenant.hour_records(h).into_iter().rev().find(|r| matches(q, r)) {
            return Some(r);
        }
    }
    None
}

fn strip_port(ip: &str) -> &str {
    if let Some(rest) = ip.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match ip.matches(':').count() {
        1 => ip.split(':').next().unwrap_or(ip),
        _ => ip,
    }
}

fn cursor_token(hour: u32, idx: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("h{hour}i{idx}"))
}

fn parse_cursor(tok: &str) -> Option<(u32, usize)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(tok).ok()?).ok()?;
    let (h, i) = raw.strip_prefix('h')?.split_once('i')?;
    Some((h.parse().ok()?, i.parse().ok()?))
}

async fn records(
    State(s): State<Arc<SimState>>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(rq): RawQuery,
) -> Response {
    if let Err(r) = gate(&s, &headers, &version) {
        return r;
    }
    let now = s.now_ms();
    let Some(q) = s.queries.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|q| q.id == id).cloned() else {
        return not_found(&s, &id);
    };
    let status = q.status(s.config.graph_polls_running);
    if status != "succeeded" {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("The audit log query '{id}' has status '{status}'; records are available once it has succeeded."),
            now,
            &s.next_id(),
        );
    }
    let rq = rq.as_deref();
    let top = match query_param(rq, "$top") {
        None => s.config.graph_page_size,
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!("Invalid $top value '{t}'."),
                    now,
                    &s.next_id(),
                )
            }
        },
    };
    let t = &s.tenant;
    let (first_hour, last_hour) = query_hours(&s, &q);
    let (mut hour, mut idx) = match query_param(rq, "$skiptoken") {
        None => (first_hour, 0usize),
        Some(tok) => match parse_cursor(&tok) {
            Some(c) => c,
            None => {
                return graph_error(StatusCode::BAD_REQUEST, "BadRequest", "Invalid skip token.", now, &s.next_id())
            }
        },
    };
    let mut page: Vec<Value> = Vec::new();
    if query_param(rq, "$skiptoken").is_some() {
        let key = format!("{id}|{hour}|{idx}");
        let first_time = s.served_pages.lock().unwrap_or_else(|e| e.into_inner()).insert(key);
        if first_time && s.faults.roll(FaultKind::EventualConsistency).is_some() {
            // The previous page's last record shows up again, as when counts shift between pages.
            if idx > 0 {
                idx -= 1;
            } else if let Some(r) = previous_match(&s, &q, hour, first_hour) {
                page.push(t.graph_record(&r));
            }
        }
    }
    // With a record limit, the query serves its first `limit` records and no more.
    let mut top = top;
    let limit = s.config.graph_query_record_limit;
    let mut at_limit = false;
    if let Some(limit) = limit {
        let before = matching_in_hours(&s, &q, first_hour, i64::from(hour)) + idx as u64;
        let left = limit.saturating_sub(before) as usize;
        if left <= top {
            // A record repeated from the previous page (eventual consistency) is not counted.
            top = left + page.len();
            at_limit = true;
        }
    }
    let mut next: Option<(u32, usize)> = None;
    while i64::from(hour) <= last_hour && top > 0 {
        let matching: Vec<Value> = t.hour_records(hour).into_iter().filter(|r| matches(&q, r)).collect();
        while idx < matching.len() && page.len() < top {
            page.push(t.graph_record(&matching[idx]));
            idx += 1;
        }
        if page.len() >= top {
            if idx < matching.len() {
                next = Some((hour, idx));
            } else {
                // Look ahead a little for more matches; past that, hand out a cursor anyway.
                let mut h = hour + 1;
                while i64::from(h) <= last_hour && next.is_none() {
                    if h > hour + 48 || t.hour_records(h).iter().any(|r| matches(&q, r)) {
                        next = Some((h, 0));
                    }
                    h += 1;
                }
            }
            break;
        }
        hour += 1;
        idx = 0;
    }
    if at_limit {
        page.truncate(top);
        next = None;
    }
    if !page.is_empty() {
        if let Some(_f) = s.faults.roll(FaultKind::MalformedRecord) {
            let i = (mix(hash_str(&id) ^ page.len() as u64) % page.len() as u64) as usize;
            page[i]["administrativeUnits"] = json!("System.Collections.Generic.List`1[System.String]");
            let truncated: String = page[i]["auditData"].to_string().chars().take(40).collect();
            page[i]["auditData"] = json!(truncated);
        }
    }
    let mut out = json!({
        "@odata.context": format!("{}/graph/{version}/$metadata#security/auditLog/queries('{id}')/records", s.base_url),
        "value": page,
    });
    if let Some((h, i)) = next {
        out["@odata.nextLink"] = json!(format!(
            "{}/graph/{version}/security/auditLog/queries/{id}/records?$top={top}&$skiptoken={}",
            s.base_url,
            cursor_token(h, i)
        ));
    }
    Json(out).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_cursors() {
        assert_eq!(strip_port("203.0.113.77:51234"), "203.0.113.77");
        assert_eq!(strip_port("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(parse_cursor(&cursor_token(12, 7)), Some((12, 7)));
    }
}
