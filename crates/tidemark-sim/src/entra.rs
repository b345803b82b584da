//! Entra ID activity logs over Microsoft Graph: `GET auditLogs/signIns` and `GET
//! auditLogs/directoryAudits`, on `v1.0` and `beta`.
//!
//! As Microsoft serves them: newest first, `$top` (1–1000; the sim's default page is
//! [`SimConfig::graph_page_size`](crate::SimConfig)), `@odata.nextLink` with an opaque `$skiptoken`,
//! `$filter` as [`crate::odata`] parses it. `v1.0` sign-ins are the interactive ones with v1.0's
//! properties; `beta` adds the other logs through `signInEventTypes/any(…)` (without it, beta also
//! lists interactive sign-ins only) and beta's properties (`sessionId`, `uniqueTokenIdentifier`,
//! `userAgent` …). Both need `AuditLog.Read.All` in the token (`roles` or `scp`), or answer 403
//! `Authentication_MSGraphPermissionMissing`; sign-ins also need an Entra ID P1 or P2 licence, or
//! answer 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant` (see
//! [`SimConfig::entra_premium`](crate::SimConfig)). Sign-ins and audits older than 30 days (the P1/P2
//! retention) are not served.
//!
//! Lazily, like the audit-log query records: a skip token is a cursor (scenario hour, index among
//! that hour's matching records, newest first), so a page costs a few mailbox-hours, never the
//! tenant. The shared faults (429, 5xx, slow pages, resets, expiring tokens) come from the `/graph`
//! middleware; here a page may carry one malformed record (`malformed-record`) or repeat the previous
//! page's last record (`eventual-consistency`).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::faults::FaultKind;
use crate::identity::check_bearer;
use crate::odata::{self, Filter};
use crate::prng::{hash_str, mix};
use crate::scenario::{SignInKind, Tenant};
use crate::server::{query_param, Api, ServiceRouter, SimState};
use crate::wire::graph_error;

/// How long Entra keeps sign-ins and audits with a P1/P2 licence.
pub const RETENTION_MS: i64 = 30 * 24 * 3_600_000;

/// Which log a request reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// `auditLogs/signIns`.
    SignIns,
    /// `auditLogs/directoryAudits`.
    DirectoryAudits,
}

impl Log {
    fn segment(self) -> &'static str {
        match self {
            Log::SignIns => "signIns",
            Log::DirectoryAudits => "directoryAudits",
        }
    }
}

/// Properties `$filter` may compare with `eq`.
const SIGNIN_FIELDS: &[&str] =
    &["userPrincipalName", "userId", "appId", "appDisplayName", "ipAddress", "status/errorCode", "correlationId"];
const AUDIT_FIELDS: &[&str] = &[
    "activityDisplayName",
    "category",
    "loggedByService",
    "correlationId",
    "initiatedBy/user/userPrincipalName",
    "initiatedBy/app/displayName",
];

pub(crate) fn routes() -> ServiceRouter {
    Router::new()
        .route("/{version}/auditLogs/signIns", get(sign_ins))
        .route("/{version}/auditLogs/signins", get(sign_ins))
        .route("/{version}/auditLogs/directoryAudits", get(directory_audits))
        .route("/{version}/auditLogs/directoryaudits", get(directory_audits))
}

async fn sign_ins(
    State(s): State<Arc<SimState>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    list(&s, &version, &headers, q.as_deref(), Log::SignIns)
}

async fn directory_audits(
    State(s): State<Arc<SimState>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    list(&s, &version, &headers, q.as_deref(), Log::DirectoryAudits)
}

fn error(s: &SimState, status: StatusCode, code: &str, message: &str) -> Response {
    graph_error(status, code, message, s.now_ms(), &s.next_id())
}

/// Version, token, permission and licence, in the order Graph checks them.
fn gate(s: &SimState, headers: &HeaderMap, version: &str, log: Log) -> Result<(), Response> {
    if version != "v1.0" && version != "beta" {
        return Err(error(s, StatusCode::BAD_REQUEST, "BadRequest", &format!("Invalid version: {version}")));
    }
    let claims = check_bearer(s, headers, Api::Graph).map_err(|p| {
        let mut r = error(s, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", &p.message());
        r.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\""),
        );
        r
    })?;
    if !claims.permissions.iter().any(|p| p == "AuditLog.Read.All") {
        return Err(error(
            s,
            StatusCode::FORBIDDEN,
            "Authentication_MSGraphPermissionMissing",
            "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
        ));
    }
    if log == Log::SignIns && !s.config.entra_premium {
        return Err(error(
            s,
            StatusCode::FORBIDDEN,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            "Neither tenant is B2C or tenant doesn't have premium license",
        ));
    }
    Ok(())
}

/// What one request asks for, resolved against the tenant.
struct Ask {
    filter: Filter,
    kinds: Vec<SignInKind>,
    beta: bool,
    log: Log,
}

impl Ask {
    /// The matching records of one hour, newest first, as Graph renders them.
    fn hour(&self, t: &Tenant, hour: u32) -> Vec<Value> {
        let mut out = Vec::new();
        match self.log {
            Log::SignIns => {
                for si in t.hour_signins(hour) {
                    if !self.kinds.contains(&si.kind) || !self.filter.time_ok(si.time_ms) {
                        continue;
                    }
                    let full = t.signin_json(&si, true);
                    if self.filter.equals_ok(&full) {
                        out.push(if self.beta { full } else { t.signin_json(&si, false) });
                    }
                }
            }
            Log::DirectoryAudits => {
                for a in t.hour_audits(hour) {
                    if !self.filter.time_ok(a.time_ms) {
                        continue;
                    }
                    let v = t.audit_json(&a);
                    if self.filter.equals_ok(&v) {
                        out.push(v);
                    }
                }
            }
        }
        out.reverse();
        out
    }
}

fn cursor_token(hour: u32, idx: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("e{hour}.{idx}"))
}

fn parse_cursor(tok: &str) -> Option<(u32, usize)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(tok).ok()?).ok()?;
    let (h, i) = raw.strip_prefix('e')?.split_once('.')?;
    Some((h.parse().ok()?, i.parse().ok()?))
}

fn list(s: &SimState, version: &str, headers: &HeaderMap, q: Option<&str>, log: Log) -> Response {
    if let Err(r) = gate(s, headers, version, log) {
        return r;
    }
    let beta = version == "beta";
    let bad = |m: &str| error(s, StatusCode::BAD_REQUEST, "BadRequest", m);
    let filter_text = query_param(q, "$filter").unwrap_or_default();
    let filter = match log {
        Log::SignIns => odata::parse(&filter_text, "createdDateTime", SIGNIN_FIELDS, beta),
        Log::DirectoryAudits => odata::parse(&filter_text, "activityDateTime", AUDIT_FIELDS, false),
    };
    let filter = match filter {
        Ok(f) => f,
        Err(m) => return bad(&m),
    };
    let kinds = match &filter.event_types {
        None => vec![SignInKind::Interactive],
        Some(names) => {
            let mut k = Vec::new();
            for n in names {
                match SignInKind::from_graph(n) {
                    Some(x) => k.push(x),
                    // Managed identities exist in Entra; this tenant has none.
                    None if n.eq_ignore_ascii_case("managedIdentity") => {}
                    None => return bad(&format!("Requested value '{n}' was not found.")),
                }
            }
            k
        }
    };
    let top = match query_param(q, "$top") {
        None => s.config.graph_page_size.clamp(1, 1000),
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return bad(&format!("Invalid page size specified: '{t}'. Must be between 1 and 1000 inclusive.")),
        },
    };
    let t = &s.tenant;
    let ask = Ask { filter, kinds, beta, log };
    // The hours the request can touch: the filter's bounds inside the tenant and the retention.
    let lo = ask.filter.from_ms.unwrap_or(i64::MIN).max(s.now_ms() - RETENTION_MS).max(t.start_ms);
    let hi = ask.filter.to_ms.unwrap_or(i64::MAX).min(t.spec.end_ms);
    let mut filter = ask.filter.clone();
    filter.from_ms = Some(lo);
    let ask = Ask { filter, ..ask };
    let (first, last) = (t.hour_of(lo).max(0), t.hour_of(hi - 1).min(i64::from(t.hours) - 1));
    let context = format!("{}/graph/{version}/$metadata#auditLogs/{}", s.base_url, log.segment());
    if hi <= lo || last < first {
        return Json(json!({"@odata.context": context, "value": []})).into_response();
    }
    let (first, last) = (first as u32, last as u32);
    let skiptoken = query_param(q, "$skiptoken");
    let (mut hour, mut idx) = match skiptoken.as_deref().map(parse_cursor) {
        None => (last, 0usize),
        Some(Some(c)) => c,
        Some(None) => return bad("Invalid skip token."),
    };
    let mut page: Vec<Value> = Vec::new();
    if skiptoken.is_some() {
        let key = format!("entra|{version}|{}|{q:?}", log.segment());
        let first_time = s.served_pages.lock().unwrap_or_else(|e| e.into_inner()).insert(key);
        if first_time && s.faults.roll(FaultKind::EventualConsistency).is_some() {
            // The previous page's last record shows up again, as when the log grows between pages.
            if idx > 0 {
                idx -= 1;
            } else if let Some(r) = (hour + 1..=last.min(hour + 48)).find_map(|h| ask.hour(t, h).pop()) {
                page.push(r);
            }
        }
    }
    let mut next: Option<(u32, usize)> = None;
    loop {
        let matching = ask.hour(t, hour);
        let take = top.saturating_sub(page.len());
        let end = (idx + take).min(matching.len());
        page.extend(matching.get(idx..end).unwrap_or_default().iter().cloned());
        if end < matching.len() {
            next = Some((hour, end));
            break;
        }
        if hour == first {
            break;
        }
        if page.len() >= top {
            // Look a little further for more; past that, hand out a cursor anyway.
            let mut h = hour;
            while h > first && next.is_none() {
                h -= 1;
                if hour - h > 48 || !ask.hour(t, h).is_empty() {
                    next = Some((h, 0));
                }
            }
            break;
        }
        hour -= 1;
        idx = 0;
    }
    if !page.is_empty() && s.faults.roll(FaultKind::MalformedRecord).is_some() {
        let i = (mix(hash_str(&format!("{q:?}")) ^ page.len() as u64) % page.len() as u64) as usize;
        match log {
            Log::SignIns => {
                page[i]["createdDateTime"] = Value::Null;
                page[i]["status"] = json!("System.Collections.Generic.Dictionary`2[System.String,System.Object]");
            }
            Log::DirectoryAudits => {
                page[i]["activityDateTime"] = Value::Null;
                page[i]["targetResources"] = json!("System.Collections.Generic.List`1[System.Object]");
            }
        }
    }
    let mut out = json!({"@odata.context": context, "value": page});
    if let Some((h, i)) = next {
        let mut link = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(q.unwrap_or_default().as_bytes()) {
            if !k.eq_ignore_ascii_case("$skiptoken") && !k.eq_ignore_ascii_case("$top") {
                link.append_pair(&k, &v);
            }
        }
        link.append_pair("$top", &top.to_string()).append_pair("$skiptoken", &cursor_token(h, i));
        out["@odata.nextLink"] =
            json!(format!("{}/graph/{version}/auditLogs/{}?{}", s.base_url, log.segment(), link.finish()));
    }
    Json(out).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(parse_cursor(&cursor_token(71, 3)), Some((71, 3)));
        assert_eq!(parse_cursor("nope"), None);
    }
}
