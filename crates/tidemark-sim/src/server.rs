//! The HTTP server: one loopback listener, each Microsoft service under its own path prefix
//! (`/login`, `/manage`, `/graph`, `/outlook`) so a client configured with per-endpoint base URLs can
//! point every service at the sim, plus `/_sim` for the admin endpoints.
//!
//! Invariant: the sim never listens beyond loopback. [`SimServer::bind`] refuses any other address,
//! because the sim hands out tokens and serves an attacker storyline with script-looking text, and it
//! must never be reachable from a network.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::json;

use crate::certificate::{ClientCertificate, SHIPPED_CERT_PEM, SHIPPED_KEY_PEM};
use crate::clock::{SimClock, TenantClock};
use crate::config::{Cloud, SimConfig};
use crate::faults::{FaultBoard, FaultKind};
use crate::identity::{Directory, IdentityState};
use crate::scenario::Tenant;
use crate::{admin, entra, graph, identity, management, outlook, wire};

/// Why the sim could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The bind address is not loopback.
    #[error("refusing to listen on {0}: the simulated tenant only listens on loopback (127.0.0.1 or ::1)")]
    NotLoopback(IpAddr),
    /// Binding or writing the credential files failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Which API a request is for (decides token audience and error shapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Office 365 Management Activity API.
    Management,
    /// Microsoft Graph.
    Graph,
    /// Outlook REST (legacy Activities).
    Outlook,
}

/// Everything a request handler can see.
#[derive(Debug)]
pub struct SimState {
    /// The generated tenant.
    pub tenant: Tenant,
    /// Simulated time.
    pub clock: Arc<dyn SimClock>,
    /// The run's configuration.
    pub config: SimConfig,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Registered apps and users.
    pub directory: Directory,
    /// Codes, refresh tokens, device codes, expired tokens.
    pub identity: Mutex<IdentityState>,
    /// Faults and their counters.
    pub faults: FaultBoard,
    /// Management API subscriptions by content type.
    pub subscriptions: Mutex<BTreeMap<String, management::Subscription>>,
    /// Management listings already answered once (eventual consistency).
    pub listed_windows: Mutex<HashSet<String>>,
    /// Graph audit-log queries.
    pub queries: Mutex<Vec<graph::AuditQuery>>,
    /// Graph record pages already served once (eventual consistency).
    pub served_pages: Mutex<HashSet<String>>,
    /// Where the test certificate and key were written.
    pub certificate_path: PathBuf,
    /// The private key file.
    pub key_path: PathBuf,
    seq: AtomicU64,
}

impl SimState {
    /// Simulated now.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A fresh request/trace id (deterministic sequence per run).
    pub fn next_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        crate::prng::guid_from(crate::prng::mix(self.config.scenario.seed ^ n), crate::prng::mix(n.wrapping_add(77)))
    }

    /// Base URL of one service.
    pub fn service_url(&self, prefix: &str) -> String {
        format!("{}/{prefix}", self.base_url)
    }

    /// The cloud the sim pretends to be.
    pub fn cloud(&self) -> Cloud {
        self.config.cloud
    }

    /// Test credentials, as printed by `serve` and returned by `GET /_sim/credentials`.
    pub fn credentials(&self) -> Credentials {
        let cert = self.directory.certificates.lock().unwrap_or_else(|e| e.into_inner())[0].clone();
        Credentials {
            tenant_id: self.tenant.tenant_id.clone(),
            tenant_domain: crate::scenario::DOMAIN.to_string(),
            base_url: self.base_url.clone(),
            login_url: self.service_url("login"),
            management_url: self.service_url("manage"),
            graph_url: self.service_url("graph"),
            outlook_url: self.service_url("outlook"),
            admin_url: self.service_url("_sim"),
            public_client_id: self.directory.public_client_id.clone(),
            confidential_client_id: self.directory.confidential_client_id.clone(),
            client_secret: self.directory.client_secret.clone(),
            unprivileged_client_id: self.directory.unprivileged_client_id.clone(),
            unprivileged_client_secret: self.directory.unprivileged_secret.clone(),
            legacy_sandbox_client_id: identity::OAUTH_SANDBOX_APP_ID.to_string(),
            certificate_path: self.certificate_path.display().to_string(),
            key_path: self.key_path.display().to_string(),
            certificate_x5t: cert.x5t(),
            certificate_x5t_s256: cert.x5t_s256(),
            certificate_thumbprint: cert.thumbprint_hex(),
            users: self.tenant.mailboxes.iter().map(|m| m.upn.clone()).collect(),
            investigator: self.directory.investigator.clone(),
            user_password: identity::TEST_PASSWORD.to_string(),
            victim: self.tenant.victim().map(|m| m.upn.clone()),
        }
    }
}

/// The credentials a client needs to talk to this sim.
#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    /// Tenant GUID.
    pub tenant_id: String,
    /// Tenant domain (also accepted in login URLs).
    pub tenant_domain: String,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Identity platform base (`{login}/{tenant}/oauth2/v2.0/token`).
    pub login_url: String,
    /// Management API base (`{management}/api/v1.0/{tenant}/activity/feed/…`).
    pub management_url: String,
    /// Graph base (`{graph}/v1.0/…`, `{graph}/beta/…`).
    pub graph_url: String,
    /// Outlook REST base (`{outlook}/api/v2.0/Users('…')/Activities`).
    pub outlook_url: String,
    /// Admin endpoints.
    pub admin_url: String,
    /// Public client (auth code + PKCE, device code).
    pub public_client_id: String,
    /// Confidential client (secret and certificate).
    pub confidential_client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// A confidential client with no API permissions.
    pub unprivileged_client_id: String,
    /// Its secret.
    pub unprivileged_client_secret: String,
    /// The 2018 OAuth-sandbox app id (public client; blocked in Activities shutdown mode).
    pub legacy_sandbox_client_id: String,
    /// PEM certificate registered on the confidential client.
    pub certificate_path: String,
    /// Its PKCS#8 PEM private key.
    pub key_path: String,
    /// `x5t` of the certificate.
    pub certificate_x5t: String,
    /// `x5t#S256` of the certificate.
    pub certificate_x5t_s256: String,
    /// SHA-1 thumbprint, hex.
    pub certificate_thumbprint: String,
    /// Mailbox owners.
    pub users: Vec<String>,
    /// An investigator account without a mailbox in the scenario.
    pub investigator: String,
    /// Password for every user on the approval pages and v1.0 Basic auth.
    pub user_password: String,
    /// The compromised mailbox.
    pub victim: Option<String>,
}

/// A bound, not yet serving, sim.
#[derive(Debug)]
pub struct SimServer {
    state: Arc<SimState>,
    listener: tokio::net::TcpListener,
}

impl SimServer {
    /// Generates the tenant, writes the test certificate, and binds the loopback listener.
    pub async fn bind(config: SimConfig) -> Result<SimServer, SimError> {
        if !config.bind.is_loopback() {
            return Err(SimError::NotLoopback(config.bind));
        }
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(config.bind, config.port)).await?;
        let addr = listener.local_addr()?;
        let base_url = match addr.ip() {
            IpAddr::V6(ip) => format!("http://[{ip}]:{}", addr.port()),
            IpAddr::V4(ip) => format!("http://{ip}:{}", addr.port()),
        };
        let tenant = Tenant::generate(config.scenario.clone());
        let start = config.start_ms.unwrap_or(tenant.spec.end_ms + 3_600_000);
        let dir = config
            .state_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("tidemark-sim-{}", addr.port())));
        std::fs::create_dir_all(&dir)?;
        let certificate_path = dir.join("sim-client-cert.pem");
        let key_path = dir.join("sim-client-key.pem");
        std::fs::write(&certificate_path, SHIPPED_CERT_PEM)?;
        std::fs::write(&key_path, SHIPPED_KEY_PEM)?;
        let directory = Directory::new(&tenant, vec![ClientCertificate::shipped()]);
        let state = SimState {
            clock: Arc::new(TenantClock::starting_at(start)),
            faults: FaultBoard::new(config.scenario.seed, config.faults.clone()),
            base_url,
            directory,
            identity: Mutex::new(IdentityState::default()),
            subscriptions: Mutex::new(BTreeMap::new()),
            listed_windows: Mutex::new(HashSet::new()),
            queries: Mutex::new(Vec::new()),
            served_pages: Mutex::new(HashSet::new()),
            certificate_path,
            key_path,
            seq: AtomicU64::new(1),
            tenant,
            config,
        };
        Ok(SimServer { state: Arc::new(state), listener })
    }

    /// The shared state (credentials, clock, faults).
    pub fn state(&self) -> Arc<SimState> {
        self.state.clone()
    }

    /// Serves until `shutdown` completes.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let app = router(self.state.clone());
        axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await
    }
}

/// A sim serving on a background thread (for tests and embedding in synchronous code). Dropping it
/// stops the server.
#[derive(Debug)]
pub struct RunningSim {
    /// The shared state.
    pub state: Arc<SimState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningSim {
    /// Binds and starts serving on a new thread with its own Tokio runtime.
    pub fn spawn(config: SimConfig) -> Result<RunningSim, SimError> {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let server = rt.block_on(SimServer::bind(config))?;
        let state = server.state();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let _ = rt.block_on(server.run(async {
                let _ = rx.await;
            }));
        });
        Ok(RunningSim { state, stop: Some(tx), thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }

    /// The test credentials.
    pub fn credentials(&self) -> Credentials {
        self.state.credentials()
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// All routes.
pub fn router(state: Arc<SimState>) -> Router {
    let login = identity::routes();
    let feed = management::routes();
    let manage = Router::new()
        .nest("/api/v1.0/{tenant}/activity/feed", feed.clone())
        .nest("/api/v1/{tenant}/activity/feed", feed)
        .layer(middleware::from_fn_with_state(state.clone(), api_faults_management));
    let graph =
        graph::routes().merge(entra::routes()).layer(middleware::from_fn_with_state(state.clone(), api_faults_graph));
    let outlook = outlook::routes().layer(middleware::from_fn_with_state(state.clone(), api_faults_outlook));
    Router::new()
        .nest("/login", login)
        .nest("/manage", manage)
        .nest("/graph", graph)
        .nest("/outlook", outlook)
        .nest("/_sim", admin::routes())
        .route("/", get(index))
        .fallback(not_found)
        .with_state(state)
}

async fn index(State(s): State<Arc<SimState>>) -> Response {
    wire::json_body(json!({"simulated_tenant": s.tenant.spec.name, "credentials": s.credentials()}))
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such endpoint in the simulated tenant").into_response()
}

async fn api_faults_management(State(s): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    api_faults(s, Api::Management, req, next).await
}

async fn api_faults_graph(State(s): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    api_faults(s, Api::Graph, req, next).await
}

async fn api_faults_outlook(State(s): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    api_faults(s, Api::Outlook, req, next).await
}

/// Faults that any API can show, applied around the handler: throttling, 5xx bursts, slow pages and
/// connection resets. Service-specific faults live in the handlers.
async fn api_faults(s: Arc<SimState>, api: Api, req: Request, next: Next) -> Response {
    let now = s.now_ms();
    if let Some(f) = s.faults.roll(FaultKind::Throttle429) {
        let retry = f.retry_after_s.unwrap_or(2);
        let mut r = match api {
            Api::Graph => wire::graph_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests.",
                now,
                &s.next_id(),
            ),
            Api::Management => wire::af_error(
                StatusCode::TOO_MANY_REQUESTS,
                "AF429",
                "Too many requests. Method=GetBlob, PublisherId=00000000-0000-0000-0000-000000000000",
            ),
            Api::Outlook => wire::outlook_error(
                StatusCode::TOO_MANY_REQUESTS,
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
            ),
        };
        r.headers_mut().insert("retry-after", HeaderValue::from(retry));
        return r;
    }
    if api == Api::Management {
        if let Some(f) = s.faults.roll(FaultKind::ThrottleAf429) {
            let publisher = query_param(req.uri().query(), "PublisherIdentifier")
                .unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".into());
            let method = if req.uri().path().contains("/audit/") { "GetBlob" } else { "ListContent" };
            let mut r = wire::af_error(
                StatusCode::FORBIDDEN,
                "AF429",
                &format!("Too many requests. Method={method}, PublisherId={publisher}"),
            );
            if let Some(secs) = f.retry_after_s {
                r.headers_mut().insert("retry-after", HeaderValue::from(secs));
            }
            return r;
        }
    }
    if s.faults.roll(FaultKind::ServerError).is_some() {
        let n = s.faults.fired(FaultKind::ServerError);
        let (status, code, msg) = if n % 2 == 1 {
            (StatusCode::INTERNAL_SERVER_ERROR, "AF50000", "An internal error occurred. Retry the request.")
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "The service is temporarily unavailable.")
        };
        return match api {
            Api::Graph => {
                wire::graph_error(status, if n % 2 == 1 { "InternalServerError" } else { code }, msg, now, &s.next_id())
            }
            Api::Management => wire::af_error(status, if n % 2 == 1 { code } else { "AF50000" }, msg),
            Api::Outlook => wire::outlook_error(status, "ErrorInternalServerError", msg),
        };
    }
    if let Some(f) = s.faults.roll(FaultKind::SlowPage) {
        tokio::time::sleep(std::time::Duration::from_millis(f.delay_ms.unwrap_or(1500))).await;
    }
    let resp = next.run(req).await;
    if !resp.status().is_success() {
        return resp;
    }
    if s.faults.roll(FaultKind::ConnectionReset).is_some() {
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        let half = bytes.slice(0..bytes.len() / 2);
        let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> =
            vec![Ok(half), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "simulated connection reset"))];
        let mut r = Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(chunks)));
        r.headers_mut().insert(axum::http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        return r;
    }
    resp
}

/// The first value of a query parameter (URL-decoded).
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.into_owned())
}

/// `Router` for one service with the shared state type.
pub type ServiceRouter = Router<Arc<SimState>>;
