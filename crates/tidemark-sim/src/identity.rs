//! The identity platform (§4): authorize (auth code + PKCE with an approval page), token (auth code,
//! rotating refresh tokens, device code, client credentials with secret or certificate assertion), the
//! v1 `oauth2/token` with `resource=`, and `devicecode`; and the bearer check every API runs.
//!
//! Access tokens look like Entra's (a JWT with `aud`, `tid`, `roles`/`scp`, `exp` …) so clients can read
//! them as they would in production, but their signature is a keyed SHA-256 of the sim's seed: only the
//! sim verifies them, and it is a loopback test fixture, not a security boundary.
//!
//! Approval pages are plain HTML forms, so a test (or a person in a browser) completes sign-in with
//! ordinary HTTP requests; nothing needs JavaScript.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, RawForm, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::certificate::{verify_client_assertion, AssertionRejection, ClientCertificate};
use crate::prng::Prng;
use crate::scenario::{Tenant, DOMAIN};
use crate::server::{Api, ServiceRouter, SimState};
use crate::wire::aad_error;

/// The Outlook Dev Center OAuth sandbox app of 2018, blocked by the Activities shutdown.
pub const OAUTH_SANDBOX_APP_ID: &str = "32613fc5-e7ac-4894-ac94-fbc39c9f3e4a";
/// Every test user's password (approval pages, v1.0 Basic auth).
pub const TEST_PASSWORD: &str = "Tidemark-Sim-Only!";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A registered application.
#[derive(Debug, Clone)]
pub struct App {
    /// Client id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Public client (no secret, PKCE / device code).
    pub public: bool,
    /// Client secret (confidential apps).
    pub secret: Option<String>,
    /// Application permissions per API.
    pub roles: Vec<(Api, &'static str)>,
    /// Delegated permissions per API.
    pub delegated: Vec<(Api, &'static str)>,
}

/// Apps, users and certificates of the tenant.
#[derive(Debug)]
pub struct Directory {
    /// Registered apps.
    pub apps: Vec<App>,
    /// Public client id.
    pub public_client_id: String,
    /// Confidential client id.
    pub confidential_client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// Client without permissions.
    pub unprivileged_client_id: String,
    /// Its secret.
    pub unprivileged_secret: String,
    /// Investigator account UPN.
    pub investigator: String,
    /// Certificates registered on the confidential client (more can be added at `/_sim/certificates`).
    pub certificates: Mutex<Vec<ClientCertificate>>,
    token_key: [u8; 32],
}

impl Directory {
    /// The tenant's apps, derived from the seed.
    pub fn new(tenant: &Tenant, certificates: Vec<ClientCertificate>) -> Directory {
        let mut r = Prng::for_slot(tenant.spec.seed, &[0x1D]);
        let public_client_id = r.guid();
        let confidential_client_id = r.guid();
        let unprivileged_client_id = r.guid();
        let secret = |r: &mut Prng| format!("sim~{:016x}{:08x}", r.next_u64(), r.next_u64() as u32);
        let client_secret = secret(&mut r);
        let unprivileged_secret = secret(&mut r);
        let mut token_key = [0u8; 32];
        for chunk in token_key.chunks_mut(8) {
            chunk.copy_from_slice(&r.next_u64().to_le_bytes());
        }
        let all_delegated = vec![
            (Api::Management, "ActivityFeed.Read"),
            (Api::Graph, "AuditLogsQuery.Read.All"),
            (Api::Graph, "AuditLog.Read.All"),
            (Api::Graph, "Directory.Read.All"),
            (Api::Outlook, "Mail.Read"),
        ];
        let apps = vec![
            App {
                client_id: public_client_id.clone(),
                name: "Tidemark Investigator (public client)".into(),
                public: true,
                secret: None,
                roles: Vec::new(),
                delegated: all_delegated,
            },
            App {
                client_id: confidential_client_id.clone(),
                name: "Tidemark Collector".into(),
                public: false,
                secret: Some(client_secret.clone()),
                roles: vec![
                    (Api::Management, "ActivityFeed.Read"),
                    (Api::Management, "ActivityFeed.ReadDlp"),
                    (Api::Graph, "AuditLogsQuery.Read.All"),
                    (Api::Graph, "AuditLog.Read.All"),
                    (Api::Graph, "Directory.Read.All"),
                    (Api::Outlook, "Mail.Read"),
                ],
                delegated: Vec::new(),
            },
            App {
                client_id: unprivileged_client_id.clone(),
                name: "Tidemark Without Consent".into(),
                public: false,
                secret: Some(unprivileged_secret.clone()),
                roles: Vec::new(),
                delegated: Vec::new(),
            },
            App {
                client_id: OAUTH_SANDBOX_APP_ID.into(),
                name: "Outlook Dev Center - OAuth Sandbox".into(),
                public: true,
                secret: None,
                roles: Vec::new(),
                delegated: vec![(Api::Outlook, "Mail.Read")],
            },
        ];
        Directory {
            apps,
            public_client_id,
            confidential_client_id,
            client_secret,
            unprivileged_client_id,
            unprivileged_secret,
            investigator: format!("investigator@{DOMAIN}"),
            certificates: Mutex::new(certificates),
            token_key,
        }
    }

    fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }

    fn sign(&self, input: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.token_key);
        h.update(input.as_bytes());
        URL_SAFE_NO_PAD.encode(h.finalize())
    }
}

/// Mutable identity state: outstanding codes and grants.
#[derive(Debug, Default)]
pub struct IdentityState {
    pending: BTreeMap<String, AuthorizeRequest>,
    codes: BTreeMap<String, IssuedCode>,
    refresh: BTreeMap<String, Grant>,
    devices: BTreeMap<String, DeviceCode>,
    /// Token ids declared expired by the `token-expiry` fault.
    pub expired_tokens: BTreeSet<String>,
    /// Uses per token id (for the `token-expiry` fault).
    pub token_uses: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
struct AuthorizeRequest {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    challenge: String,
    login_hint: Option<String>,
}

#[derive(Debug, Clone)]
struct IssuedCode {
    request: AuthorizeRequest,
    user: String,
    issued_ms: i64,
    redeemed: bool,
}

#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    user: String,
    scope: String,
}

#[derive(Debug, Clone, PartialEq)]
enum DeviceStatus {
    Pending,
    Approved(String),
    Declined,
    Redeemed,
}

#[derive(Debug, Clone)]
struct DeviceCode {
    client_id: String,
    scope: String,
    user_code: String,
    expires_ms: i64,
    interval_s: i64,
    last_poll_ms: Option<i64>,
    status: DeviceStatus,
}

/// What an API learns from a valid bearer token.
#[derive(Debug, Clone)]
pub struct Claims {
    /// The whole claim set.
    pub raw: Value,
    /// `tid`.
    pub tenant: String,
    /// `appid`.
    pub app_id: String,
    /// `roles` and `scp` together.
    pub permissions: Vec<String>,
    /// `upn` for delegated tokens.
    pub user: Option<String>,
    /// `uti` (token id).
    pub token_id: String,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenProblem {
    /// No `Authorization: Bearer`.
    Missing,
    /// Not a token this sim issued.
    Invalid,
    /// Past `exp` (or expired by the `token-expiry` fault).
    Expired,
    /// Issued for another API.
    WrongAudience(String),
}

impl TokenProblem {
    /// A human message in Microsoft's words.
    pub fn message(&self) -> String {
        match self {
            TokenProblem::Missing => "Access token is empty.".into(),
            TokenProblem::Invalid => "Invalid JWT token. The token is malformed or its signature is invalid.".into(),
            TokenProblem::Expired => "Lifetime validation failed, the token is expired.".into(),
            TokenProblem::WrongAudience(a) => format!("Invalid audience Uri '{a}'."),
        }
    }
}

/// Checks `Authorization: Bearer …` for `api`: signature, expiry (simulated clock), audience; counts
/// a use and applies the `token-expiry` fault.
pub fn check_bearer(s: &SimState, headers: &HeaderMap, api: Api) -> Result<Claims, TokenProblem> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(TokenProblem::Missing)?;
    let raw = decode_access_token(s, token).ok_or(TokenProblem::Invalid)?;
    let token_id = raw["uti"].as_str().unwrap_or_default().to_string();
    let now_s = s.now_ms() / 1000;
    if raw["exp"].as_i64().unwrap_or(0) <= now_s {
        return Err(TokenProblem::Expired);
    }
    let aud = raw["aud"].as_str().unwrap_or_default().trim_end_matches('/').to_string();
    if audience_api(s, &aud) != Some(api) {
        return Err(TokenProblem::WrongAudience(aud));
    }
    {
        let mut g = s.identity.lock().unwrap_or_else(|e| e.into_inner());
        if g.expired_tokens.contains(&token_id) {
            return Err(TokenProblem::Expired);
        }
        *g.token_uses.entry(token_id.clone()).or_default() += 1;
    }
    if s.faults.roll(crate::faults::FaultKind::TokenExpiry).is_some() {
        s.identity.lock().unwrap_or_else(|e| e.into_inner()).expired_tokens.insert(token_id);
        return Err(TokenProblem::Expired);
    }
    let mut permissions: Vec<String> = raw["roles"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if let Some(scp) = raw["scp"].as_str() {
        permissions.extend(scp.split(' ').filter(|x| !x.is_empty()).map(str::to_string));
    }
    Ok(Claims {
        tenant: raw["tid"].as_str().unwrap_or_default().to_string(),
        app_id: raw["appid"].as_str().unwrap_or_default().to_string(),
        user: raw["upn"].as_str().map(str::to_string),
        permissions,
        token_id: raw["uti"].as_str().unwrap_or_default().to_string(),
        raw,
    })
}

fn decode_access_token(s: &SimState, token: &str) -> Option<Value> {
    let (input, sig) = token.rsplit_once('.')?;
    if s.directory.sign(input) != sig {
        return None;
    }
    let payload = input.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

fn audience_api(s: &SimState, aud: &str) -> Option<Api> {
    let c = s.cloud();
    if aud.eq_ignore_ascii_case(c.management_resource()) {
        Some(Api::Management)
    } else if aud.eq_ignore_ascii_case(c.graph_resource()) || aud == "00000003-0000-0000-c000-000000000000" {
        Some(Api::Graph)
    } else if c.outlook_resources().iter().any(|r| aud.eq_ignore_ascii_case(r)) {
        Some(Api::Outlook)
    } else {
        None
    }
}

pub(crate) fn routes() -> ServiceRouter {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize).post(authorize_decision))
        .route("/{tenant}/oauth2/v2.0/token", post(token_v2))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(devicecode))
        .route("/{tenant}/oauth2/token", post(token_v1))
        .route("/{tenant}/oauth2/devicecode", post(devicecode))
        .route("/devicelogin", get(device_page).post(device_decision))
}

fn tenant_known(s: &SimState, t: &str) -> bool {
    t.eq_ignore_ascii_case(&s.tenant.tenant_id)
        || t.eq_ignore_ascii_case(DOMAIN)
        || t.eq_ignore_ascii_case("common")
        || t.eq_ignore_ascii_case("organizations")
}

fn form_map(body: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn err(s: &SimState, status: StatusCode, error: &str, code: u32, desc: &str) -> Response {
    aad_error(status, error, code, desc, s.now_ms(), &s.next_id())
}

fn is_loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else { return false };
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default().to_string()
    };
    matches!(host.to_ascii_lowercase().as_str(), "localhost" | "127.0.0.1")
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    let location = format!("{uri}{sep}{}", q.finish());
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert("location", v);
    }
    r
}

fn html_error(status: StatusCode, code: u32, msg: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we’re having trouble signing you in.</h1><p>AADSTS{code}: {}</p></body></html>",
        html_escape(msg)
    );
    (status, Html(body)).into_response()
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

async fn authorize(
    State(s): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if !tenant_known(&s, &tenant) {
        return html_error(StatusCode::BAD_REQUEST, 90002, &format!("Tenant '{tenant}' not found."));
    }
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    let Some(app) = s.directory.app(&client_id) else {
        return html_error(
            StatusCode::BAD_REQUEST,
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{DOMAIN}'."),
        );
    };
    let redirect_uri = q.get("redirect_uri").cloned().unwrap_or_default();
    if !is_loopback_redirect(&redirect_uri) {
        return html_error(
            StatusCode::BAD_REQUEST,
            50011,
            &format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{}'.",
                app.client_id
            ),
        );
    }
    let state = q.get("state").cloned();
    let redirect_error = |error: &str, desc: &str| {
        let mut p = vec![("error", error), ("error_description", desc)];
        if let Some(st) = &state {
            p.push(("state", st));
        }
        redirect_with(&redirect_uri, &p)
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return redirect_error(
            "unsupported_response_type",
            "AADSTS700054: response_type 'id_token' is not enabled for the application.",
        );
    }
    let challenge = q.get("code_challenge").cloned().unwrap_or_default();
    if challenge.is_empty() {
        return redirect_error(
            "invalid_request",
            "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
        );
    }
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return redirect_error(
            "invalid_request",
            "AADSTS501491: Invalid size of Code_Challenge parameter; S256 is required.",
        );
    }
    if q.get("prompt").map(String::as_str) == Some("none") {
        return redirect_error(
            "login_required",
            "AADSTS50058: A silent sign-in request was sent but no user is signed in.",
        );
    }
    let id = s.next_id();
    let login_hint = q.get("login_hint").cloned();
    let request = AuthorizeRequest {
        client_id: app.client_id.clone(),
        redirect_uri,
        scope: q.get("scope").cloned().unwrap_or_default(),
        state,
        challenge,
        login_hint: login_hint.clone(),
    };
    s.identity.lock().unwrap_or_else(|e| e.into_inner()).pending.insert(id.clone(), request);
    let user = login_hint.unwrap_or_else(|| s.directory.investigator.clone());
    let body = format!(
        "<!DOCTYPE html><html><head><title>Permissions requested</title></head><body>\
<h1>Permissions requested</h1><p>{app} (simulated tenant {tenant}) wants to: {scope}</p>\
<form method=\"post\" action=\"/login/{tenant}/oauth2/v2.0/authorize\">\
<input type=\"hidden\" name=\"request_id\" value=\"{id}\">\
<label>Account <input name=\"login\" value=\"{user}\"></label>\
<label>Password <input name=\"password\" type=\"password\" value=\"\"></label>\
<button name=\"decision\" value=\"approve\">Accept</button>\
<button name=\"decision\" value=\"deny\">Cancel</button></form></body></html>",
        app = html_escape(&app.name),
        tenant = html_escape(&tenant),
        scope = html_escape(q.get("scope").map(String::as_str).unwrap_or_default()),
        id = html_escape(&id),
        user = html_escape(&user),
    );
    Html(body).into_response()
}

async fn authorize_decision(State(s): State<Arc<SimState>>, RawForm(body): RawForm) -> Response {
    let f = form_map(&body);
    let id = f.get("request_id").cloned().unwrap_or_default();
    let Some(req) = s.identity.lock().unwrap_or_else(|e| e.into_inner()).pending.remove(&id) else {
        return html_error(
            StatusCode::BAD_REQUEST,
            900144,
            "The request body must contain the following parameter: 'request_id'.",
        );
    };
    let mut params: Vec<(&str, String)> = Vec::new();
    if f.get("decision").map(String::as_str) != Some("approve") {
        params.push(("error", "access_denied".into()));
        params.push(("error_description", "AADSTS65004: User declined to consent to access the app.".into()));
    } else {
        let user =
            f.get("login").cloned().or(req.login_hint.clone()).unwrap_or_else(|| s.directory.investigator.clone());
        if !user_exists(&s, &user) {
            return html_error(
                StatusCode::BAD_REQUEST,
                50034,
                &format!("The user account {user} does not exist in the {DOMAIN} directory."),
            );
        }
        let code = format!("1.{}", URL_SAFE_NO_PAD.encode(s.next_id()));
        let issued_ms = s.now_ms();
        s.identity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .codes
            .insert(code.clone(), IssuedCode { request: req.clone(), user, issued_ms, redeemed: false });
        params.push(("code", code));
        params.push(("session_state", s.next_id()));
    }
    if let Some(st) = &req.state {
        params.push(("state", st.clone()));
    }
    let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    redirect_with(&req.redirect_uri, &p)
}

fn user_exists(s: &SimState, upn: &str) -> bool {
    upn.eq_ignore_ascii_case(&s.directory.investigator) || s.tenant.mailbox_by_upn(upn).is_some()
}

/// The API and permission names a scope string asks for.
struct ScopeRequest {
    api: Option<Api>,
    resource: String,
    names: Vec<String>,
    default: bool,
    offline: bool,
    openid: bool,
    unknown_resource: Option<String>,
}

fn parse_scopes(s: &SimState, scope: &str) -> ScopeRequest {
    let mut out = ScopeRequest {
        api: None,
        resource: String::new(),
        names: Vec::new(),
        default: false,
        offline: false,
        openid: false,
        unknown_resource: None,
    };
    for sc in scope.split_whitespace() {
        match sc {
            "offline_access" => out.offline = true,
            "openid" | "profile" | "email" => out.openid = true,
            _ => {
                let (resource, name) = match sc.rsplit_once('/') {
                    Some((r, n)) if r.contains("://") || r.starts_with("api:") => (r.to_string(), n.to_string()),
                    _ => (s.cloud().graph_resource().to_string(), sc.to_string()),
                };
                let Some(api) = audience_api(s, resource.trim_end_matches('/')) else {
                    out.unknown_resource.get_or_insert(resource);
                    continue;
                };
                if out.api.is_none() {
                    out.api = Some(api);
                    out.resource = resource.trim_end_matches('/').to_string();
                }
                if out.api == Some(api) {
                    if name == ".default" {
                        out.default = true;
                    } else {
                        out.names.push(name);
                    }
                }
            }
        }
    }
    out
}

struct TokenOut {
    body: Value,
}

#[allow(clippy::too_many_arguments)]
fn issue(
    s: &SimState,
    v1: bool,
    app: &App,
    user: Option<&str>,
    resource: &str,
    api: Api,
    perms: &[&str],
    delegated: bool,
    refresh_scope: Option<String>,
    id_token: bool,
) -> TokenOut {
    let now = s.now_ms() / 1000;
    let exp = now + s.config.token_lifetime_s;
    let uti = URL_SAFE_NO_PAD.encode(&s.next_id().as_bytes()[..18]);
    let mut claims = json!({
        "aud": resource,
        "iss": format!("https://sts.windows.net/{}/", s.tenant.tenant_id),
        "iat": now, "nbf": now, "exp": exp,
        "appid": app.client_id, "app_displayname": app.name,
        "tid": s.tenant.tenant_id,
        "ver": if v1 { "1.0" } else { "2.0" },
        "uti": uti,
    });
    if delegated {
        let upn = user.unwrap_or_default();
        let oid = s.tenant.mailbox_by_upn(upn).map(|m| m.object_id.clone()).unwrap_or_else(|| s.next_id());
        claims["scp"] = json!(perms.join(" "));
        claims["upn"] = json!(upn);
        claims["unique_name"] = json!(upn);
        claims["oid"] = json!(oid);
    } else {
        claims["roles"] = json!(perms);
        claims["oid"] = json!(s.next_id());
    }
    let access_token = encode_token(s, &claims);
    let mut body = if v1 {
        json!({
            "token_type": "Bearer",
            "expires_in": s.config.token_lifetime_s.to_string(),
            "ext_expires_in": s.config.token_lifetime_s.to_string(),
            "expires_on": exp.to_string(),
            "not_before": now.to_string(),
            "resource": resource,
            "access_token": access_token,
        })
    } else {
        json!({
            "token_type": "Bearer",
            "expires_in": s.config.token_lifetime_s,
            "ext_expires_in": s.config.token_lifetime_s,
            "access_token": access_token,
        })
    };
    if delegated && !v1 {
        let scope: Vec<String> = perms.iter().map(|p| format!("{resource}/{p}")).collect();
        body["scope"] = json!(scope.join(" "));
    }
    let _ = api;
    if let Some(scope) = refresh_scope {
        let rt = format!("0.A{}", URL_SAFE_NO_PAD.encode(format!("{}{}", s.next_id(), s.next_id())));
        s.identity.lock().unwrap_or_else(|e| e.into_inner()).refresh.insert(
            rt.clone(),
            Grant { client_id: app.client_id.clone(), user: user.unwrap_or_default().to_string(), scope },
        );
        body["refresh_token"] = json!(rt);
    }
    if id_token {
        let upn = user.unwrap_or_default();
        let idt = json!({"aud": app.client_id, "iss": format!("https://login.microsoftonline.com/{}/v2.0", s.tenant.tenant_id),
            "iat": now, "nbf": now, "exp": exp, "preferred_username": upn, "name": upn, "tid": s.tenant.tenant_id, "ver": "2.0"});
        body["id_token"] = json!(encode_token(s, &idt));
    }
    TokenOut { body }
}

fn encode_token(s: &SimState, claims: &Value) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "tidemark-sim", "x5t": "tidemark-sim"});
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let sig = s.directory.sign(&input);
    format!("{input}.{sig}")
}

fn delegated_grant(
    s: &SimState,
    v1: bool,
    app: &App,
    user: &str,
    scope: &str,
    v1_resource: Option<&str>,
) -> Result<TokenOut, Response> {
    let req = match v1_resource {
        Some(res) => {
            let mut r = parse_scopes(s, &format!("{}/.default", res.trim_end_matches('/')));
            r.offline = true;
            r
        }
        None => parse_scopes(s, scope),
    };
    if let Some(res) = &req.unknown_resource {
        return Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            &format!("The resource principal named {res} was not found in the tenant named {DOMAIN}."),
        ));
    }
    let Some(api) = req.api else {
        return Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            "The provided value for the input parameter 'scope' is not valid.",
        ));
    };
    let granted: Vec<&str> = app
        .delegated
        .iter()
        .filter(|(a, p)| *a == api && (req.default || req.names.iter().any(|n| n.eq_ignore_ascii_case(p))))
        .map(|(_, p)| *p)
        .collect();
    if granted.is_empty() {
        return Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            65001,
            &format!(
                "The user or administrator has not consented to use the application with ID '{}' named '{}'.",
                app.client_id, app.name
            ),
        ));
    }
    let refresh = if req.offline { Some(scope.to_string()) } else { None };
    Ok(issue(s, v1, app, Some(user), &req.resource, api, &granted, true, refresh, req.openid))
}

async fn token_v2(State(s): State<Arc<SimState>>, Path(tenant): Path<String>, RawForm(body): RawForm) -> Response {
    token(&s, &tenant, false, &form_map(&body))
}

async fn token_v1(State(s): State<Arc<SimState>>, Path(tenant): Path<String>, RawForm(body): RawForm) -> Response {
    token(&s, &tenant, true, &form_map(&body))
}

fn token(s: &SimState, tenant: &str, v1: bool, f: &BTreeMap<String, String>) -> Response {
    if !tenant_known(s, tenant) {
        return err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
        );
    }
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or_default();
    let grant_type = get("grant_type");
    let client_id = get("client_id");
    if grant_type.is_empty() {
        return err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    }
    let Some(app) = s.directory.app(client_id).cloned() else {
        return err(
            s,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{DOMAIN}'."),
        );
    };
    let v1_resource = if v1 { Some(get("resource")) } else { None };
    if v1 && get("resource").is_empty() {
        return err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'resource'.",
        );
    }
    let out = match grant_type {
        "authorization_code" => redeem_code(s, v1, &app, f, v1_resource),
        "refresh_token" => redeem_refresh(s, v1, &app, f, v1_resource),
        DEVICE_GRANT | "device_code" => redeem_device(s, v1, &app, f, v1_resource),
        "client_credentials" => client_credentials(s, tenant, v1, &app, f),
        other => Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{other}'."),
        )),
    };
    match out {
        Ok(t) => Json(t.body).into_response(),
        Err(r) => r,
    }
}

fn redeem_code(
    s: &SimState,
    v1: bool,
    app: &App,
    f: &BTreeMap<String, String>,
    v1_resource: Option<&str>,
) -> Result<TokenOut, Response> {
    let code = f.get("code").cloned().unwrap_or_default();
    let now = s.now_ms();
    let issued = {
        let mut g = s.identity.lock().unwrap_or_else(|e| e.into_inner());
        let Some(c) = g.codes.get_mut(&code) else {
            return Err(err(
                s,
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid: the code is not valid.",
            ));
        };
        if c.redeemed {
            return Err(err(
                s,
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        c.redeemed = true;
        c.clone()
    };
    if now - issued.issued_ms > 10 * 60_000 {
        return Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity.",
        ));
    }
    if !issued.request.client_id.eq_ignore_ascii_case(&app.client_id) {
        return Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70000,
            "The provided authorization code was issued to a different client.",
        ));
    }
    if f.get("redirect_uri").map(String::as_str) != Some(issued.request.redirect_uri.as_str()) {
        return Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50011,
            "The redirect URI specified in the request does not match the redirect URI used to obtain the authorization code.",
        ));
    }
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != issued.request.challenge {
        return Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ));
    }
    let scope = f.get("scope").cloned().filter(|x| !x.is_empty()).unwrap_or(issued.request.scope.clone());
    delegated_grant(s, v1, app, &issued.user, &scope, v1_resource)
}

fn redeem_refresh(
    s: &SimState,
    v1: bool,
    app: &App,
    f: &BTreeMap<String, String>,
    v1_resource: Option<&str>,
) -> Result<TokenOut, Response> {
    let rt = f.get("refresh_token").cloned().unwrap_or_default();
    let grant = s.identity.lock().unwrap_or_else(|e| e.into_inner()).refresh.remove(&rt);
    let Some(grant) = grant else {
        return Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70000,
            "The provided value for the input parameter 'refresh_token' or 'assertion' is not valid.",
        ));
    };
    if !grant.client_id.eq_ignore_ascii_case(&app.client_id) {
        return Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70000,
            "The refresh token was issued to a different client.",
        ));
    }
    let mut scope = f.get("scope").cloned().filter(|x| !x.is_empty()).unwrap_or(grant.scope.clone());
    if !scope.split_whitespace().any(|x| x == "offline_access") {
        scope.push_str(" offline_access");
    }
    delegated_grant(s, v1, app, &grant.user, &scope, v1_resource)
}

fn redeem_device(
    s: &SimState,
    v1: bool,
    app: &App,
    f: &BTreeMap<String, String>,
    v1_resource: Option<&str>,
) -> Result<TokenOut, Response> {
    let code = f.get("device_code").or_else(|| f.get("code")).cloned().unwrap_or_default();
    let now = s.now_ms();
    let (status, scope) = {
        let mut g = s.identity.lock().unwrap_or_else(|e| e.into_inner());
        let Some(d) = g.devices.get_mut(&code) else {
            return Err(err(
                s,
                StatusCode::BAD_REQUEST,
                "bad_verification_code",
                70000,
                "The provided value for the input parameter 'device_code' is not valid.",
            ));
        };
        if !d.client_id.eq_ignore_ascii_case(&app.client_id) {
            return Err(err(
                s,
                StatusCode::BAD_REQUEST,
                "bad_verification_code",
                70000,
                "The device code was issued to a different client.",
            ));
        }
        if now >= d.expires_ms {
            return Err(err(
                s,
                StatusCode::BAD_REQUEST,
                "expired_token",
                70020,
                "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
            ));
        }
        let too_fast = d.last_poll_ms.is_some_and(|last| now - last < d.interval_s * 1000);
        d.last_poll_ms = Some(now);
        if too_fast && d.status == DeviceStatus::Pending {
            d.interval_s += 5;
            return Err(err(
                s,
                StatusCode::BAD_REQUEST,
                "slow_down",
                70016,
                "Polling too fast: wait the interval (now increased by 5 seconds) between requests.",
            ));
        }
        let st = d.status.clone();
        if let DeviceStatus::Approved(_) = st {
            d.status = DeviceStatus::Redeemed;
        }
        (st, d.scope.clone())
    };
    match status {
        DeviceStatus::Pending => Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )),
        DeviceStatus::Declined => Err(err(
            s,
            StatusCode::BAD_REQUEST,
            "authorization_declined",
            70019,
            "The end user declined the authorization request.",
        )),
        DeviceStatus::Redeemed => {
            Err(err(s, StatusCode::BAD_REQUEST, "invalid_grant", 70000, "The device code was already redeemed."))
        }
        DeviceStatus::Approved(user) => delegated_grant(s, v1, app, &user, &scope, v1_resource),
    }
}

fn client_credentials(
    s: &SimState,
    tenant: &str,
    v1: bool,
    app: &App,
    f: &BTreeMap<String, String>,
) -> Result<TokenOut, Response> {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or_default();
    if app.public {
        return Err(err(
            s,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    if !get("client_assertion").is_empty() {
        if get("client_assertion_type") != JWT_BEARER {
            return Err(err(
                s,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                70002,
                "The client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
            ));
        }
        check_assertion(s, tenant, v1, app, get("client_assertion"))?;
    } else if !get("client_secret").is_empty() {
        if app.secret.as_deref() != Some(get("client_secret")) {
            return Err(err(
                s,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.", app.client_id),
            ));
        }
    } else {
        return Err(err(
            s,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    let (resource, api) = if v1 {
        let res = get("resource").trim_end_matches('/').to_string();
        match audience_api(s, &res) {
            Some(api) => (res, api),
            None => {
                return Err(err(
                    s,
                    StatusCode::BAD_REQUEST,
                    "invalid_resource",
                    500011,
                    &format!("The resource principal named {res} was not found in the tenant named {DOMAIN}."),
                ))
            }
        }
    } else {
        let scope = get("scope");
        let req = parse_scopes(s, scope);
        if let Some(res) = req.unknown_resource {
            return Err(err(
                s,
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                &format!("The resource principal named {res} was not found in the tenant named {DOMAIN}."),
            ));
        }
        match req.api {
            Some(api) if req.default && req.names.is_empty() => (req.resource, api),
            _ => {
                return Err(err(
                    s,
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    1002012,
                    &format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
                ))
            }
        }
    };
    let roles: Vec<&str> = app.roles.iter().filter(|(a, _)| *a == api).map(|(_, r)| *r).collect();
    Ok(issue(s, v1, app, None, &resource, api, &roles, false, None, false))
}

fn check_assertion(s: &SimState, tenant: &str, v1: bool, app: &App, jwt: &str) -> Result<(), Response> {
    let certs = s.directory.certificates.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let certs: Vec<ClientCertificate> =
        if app.client_id == s.directory.confidential_client_id { certs } else { Vec::new() };
    let claims = match verify_client_assertion(jwt, &certs) {
        Ok(c) => c,
        Err(AssertionRejection::UnknownCertificate) => {
            return Err(err(
                s,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700027,
                &format!("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]", app.client_id),
            ))
        }
        Err(AssertionRejection::BadSignature) => {
            return Err(err(s, StatusCode::UNAUTHORIZED, "invalid_client", 700027, "Client assertion failed signature validation."))
        }
        Err(AssertionRejection::UnsupportedAlg) => {
            return Err(err(s, StatusCode::UNAUTHORIZED, "invalid_client", 5002738, "Invalid JWT token. 'alg' must be RS256 or PS256."))
        }
        Err(AssertionRejection::Malformed) => {
            return Err(err(s, StatusCode::UNAUTHORIZED, "invalid_client", 50027, "JWT token is invalid or malformed."))
        }
    };
    let iss = claims["iss"].as_str().unwrap_or_default();
    let sub = claims["sub"].as_str().unwrap_or_default();
    if !iss.eq_ignore_ascii_case(&app.client_id) || !sub.eq_ignore_ascii_case(&app.client_id) {
        return Err(err(
            s,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let path = if v1 { "oauth2/token" } else { "oauth2/v2.0/token" };
    let mut accepted = Vec::new();
    for t in [tenant, s.tenant.tenant_id.as_str()] {
        accepted.push(format!("{}/login/{t}/{path}", s.base_url));
        accepted.push(format!("https://{}/{t}/{path}", s.cloud().login_host()));
        accepted.push(format!("https://login.windows.net/{t}/{path}"));
    }
    let aud = claims["aud"].as_str().unwrap_or_default();
    if !accepted.iter().any(|a| a.eq_ignore_ascii_case(aud)) {
        return Err(err(
            s,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700023,
            &format!("Client assertion audience claim does not match Realm issuer. Expected '{}'.", accepted[0]),
        ));
    }
    let now = s.now_ms() / 1000;
    let exp = claims["exp"].as_i64().unwrap_or(0);
    let nbf = claims["nbf"].as_i64().unwrap_or(0);
    if exp <= now || nbf > now + 300 {
        return Err(err(
            s,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    if claims["jti"].as_str().unwrap_or_default().is_empty() {
        return Err(err(
            s,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            50027,
            "JWT token is invalid or malformed: 'jti' is missing.",
        ));
    }
    Ok(())
}

async fn devicecode(State(s): State<Arc<SimState>>, Path(tenant): Path<String>, RawForm(body): RawForm) -> Response {
    let f = form_map(&body);
    if !tenant_known(&s, &tenant) {
        return err(&s, StatusCode::BAD_REQUEST, "invalid_request", 90002, &format!("Tenant '{tenant}' not found."));
    }
    let client_id = f.get("client_id").cloned().unwrap_or_default();
    let Some(app) = s.directory.app(&client_id) else {
        return err(
            &s,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{DOMAIN}'."),
        );
    };
    if !app.public {
        return err(
            &s,
            StatusCode::BAD_REQUEST,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    let scope = match f.get("resource") {
        Some(res) => format!("{}/.default offline_access", res.trim_end_matches('/')),
        None => f.get("scope").cloned().unwrap_or_default(),
    };
    let mut r = Prng::for_slot(s.config.scenario.seed, &[0xDC, crate::prng::hash_str(&s.next_id())]);
    let user_code: String = (0..9).map(|_| (b'A' + r.below(26) as u8) as char).collect();
    let device_code = format!("DAQABAAEAAA{}", URL_SAFE_NO_PAD.encode(s.next_id()));
    let interval = s.config.device_code_interval_s;
    s.identity.lock().unwrap_or_else(|e| e.into_inner()).devices.insert(
        device_code.clone(),
        DeviceCode {
            client_id: app.client_id.clone(),
            scope,
            user_code: user_code.clone(),
            expires_ms: s.now_ms() + 900_000,
            interval_s: interval,
            last_poll_ms: None,
            status: DeviceStatus::Pending,
        },
    );
    let uri = format!("{}/login/devicelogin", s.base_url);
    Json(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": uri,
        "expires_in": 900,
        "interval": interval,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
    }))
    .into_response()
}

async fn device_page(State(s): State<Arc<SimState>>) -> Response {
    Html(format!(
        "<!DOCTYPE html><html><head><title>Enter code</title></head><body><h1>Enter code</h1>\
<form method=\"post\" action=\"/login/devicelogin\"><input name=\"user_code\">\
<input name=\"login\" value=\"{}\"><input name=\"password\" type=\"password\">\
<button name=\"decision\" value=\"approve\">Continue</button><button name=\"decision\" value=\"decline\">Cancel</button></form></body></html>",
        html_escape(&s.directory.investigator)
    ))
    .into_response()
}

async fn device_decision(State(s): State<Arc<SimState>>, RawForm(body): RawForm) -> Response {
    let f = form_map(&body);
    let code = f.get("user_code").map(|c| c.trim().to_ascii_uppercase()).unwrap_or_default();
    let user = f.get("login").cloned().unwrap_or_else(|| s.directory.investigator.clone());
    if !user_exists(&s, &user) {
        return html_error(
            StatusCode::BAD_REQUEST,
            50034,
            &format!("The user account {user} does not exist in the {DOMAIN} directory."),
        );
    }
    let approve = f.get("decision").map(String::as_str) == Some("approve");
    let mut g = s.identity.lock().unwrap_or_else(|e| e.into_inner());
    let Some(d) = g.devices.values_mut().find(|d| d.user_code == code && d.status == DeviceStatus::Pending) else {
        return (
            StatusCode::BAD_REQUEST,
            Html(
                "<!DOCTYPE html><html><body><p>That code didn't work. Check the code and try again.</p></body></html>",
            ),
        )
            .into_response();
    };
    d.status = if approve { DeviceStatus::Approved(user) } else { DeviceStatus::Declined };
    let msg = if approve {
        "You have signed in to the application on your device. You may now close this window."
    } else {
        "You have declined to sign in to the application on your device. You may now close this window."
    };
    Html(format!("<!DOCTYPE html><html><body><p>{msg}</p></body></html>")).into_response()
}

/// Checks HTTP Basic credentials (the v1.0 Activities path EXOMailActivity used); returns the user.
pub fn check_basic(s: &SimState, headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let b = auth.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    (pass == TEST_PASSWORD && user_exists(s, user)).then(|| user.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_only() {
        assert!(is_loopback_redirect("http://localhost:53121/"));
        assert!(is_loopback_redirect("http://127.0.0.1:8400/cb?x=1"));
        assert!(is_loopback_redirect("http://localhost"));
        assert!(!is_loopback_redirect("https://localhost:1/"));
        assert!(!is_loopback_redirect("http://localhost.evil.example/"));
        assert!(!is_loopback_redirect("http://192.0.2.1/"));
    }
}
