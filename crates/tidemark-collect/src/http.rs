//! HTTP with Microsoft's failure modes handled once: `Retry-After`, exponential backoff with seedable
//! jitter, bounded attempts, dropped connections, expired tokens (a 401 refreshes once and retries),
//! and a record of every fault met so the ledger can show it.
//!
//! Only rustls is linked (no OpenSSL, no native-tls).
//! Requests go only to the hosts of the profile's tenant ([`crate::cloud::Resolved::hosts`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::Value;

use crate::auth::Auth;
use crate::error::{Code, CollectError, Result};

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff.
    pub base_ms: u64,
    /// Longest backoff (and longest `Retry-After` honoured).
    pub max_ms: u64,
    /// Jitter seed (runs with the same seed wait the same).
    pub seed: u64,
    /// A response slower than this counts as a slow page in the ledger.
    pub slow_ms: u64,
    /// Whole-request timeout.
    pub timeout_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 10, base_ms: 250, max_ms: 60_000, seed: 0x7D3A, slow_ms: 1000, timeout_ms: 120_000 }
    }
}

/// Faults met, by name (the sim's fault names where the symptom is unambiguous).
#[derive(Debug, Default, Clone)]
pub struct FaultLog(Arc<Mutex<BTreeMap<String, i64>>>);

impl FaultLog {
    /// Counts one.
    pub fn met(&self, name: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(name.to_string()).or_default() += 1;
    }

    /// Takes what was counted since the last call.
    pub fn drain(&self) -> BTreeMap<String, i64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// One response, complete.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL with secrets removed.
    pub url: String,
    /// HTTP status.
    pub status: u16,
    /// Headers of interest (lower-case names).
    pub headers: Value,
    /// The body as received.
    pub body: Vec<u8>,
}

impl Fetched {
    /// A header of interest.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name.to_ascii_lowercase()).and_then(Value::as_str)
    }

    /// The body as JSON (Null when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// `error.code` of a Microsoft error body.
    pub fn error_code(&self) -> String {
        let v = self.json();
        v["error"]["code"].as_str().or_else(|| v["error"].as_str()).unwrap_or_default().to_string()
    }

    /// `error.message` of a Microsoft error body.
    pub fn error_message(&self) -> String {
        let v = self.json();
        v["error"]["message"].as_str().or_else(|| v["error_description"].as_str()).unwrap_or_default().to_string()
    }
}

const HEADERS_OF_INTEREST: [&str; 10] = [
    "content-type",
    "date",
    "nextpageuri",
    "nextpageurl",
    "retry-after",
    "request-id",
    "client-request-id",
    "x-ms-diagnostics",
    "location",
    "www-authenticate",
];

/// Removes secrets from a URL before it is stored or shown: query parameters that carry credentials.
pub fn redact_url(url: &str) -> String {
    const SECRET: [&str; 9] = [
        "code",
        "client_secret",
        "client_assertion",
        "access_token",
        "refresh_token",
        "id_token",
        "device_code",
        "password",
        "sig",
    ];
    let Some((base, query)) = url.split_once('?') else { return url.to_string() };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| {
            let k = kv.split('=').next().unwrap_or_default();
            let name = percent_encoding::percent_decode_str(k).decode_utf8_lossy().to_ascii_lowercase();
            if SECRET.contains(&name.as_str()) {
                format!("{k}=REDACTED")
            } else {
                kv.to_string()
            }
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

/// A reqwest client on rustls (ring), no redirects followed (Microsoft's APIs do not need them and a
/// redirect could leave the tenant's hosts).
pub fn client(timeout_ms: u64) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(timeout_ms))
        .user_agent(concat!("Tidemark/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            CollectError::new(Code::Network, "Tidemark could not set up its HTTPS client.").with_detail(e.to_string())
        })
}

/// A request to make (cloned per attempt).
#[derive(Debug, Clone)]
pub struct Req {
    /// GET or POST.
    pub method: reqwest::Method,
    /// Absolute URL.
    pub url: String,
    /// Token audience (None: no Authorization header).
    pub resource: Option<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub json: Option<Value>,
}

impl Req {
    /// A GET with a bearer token for `resource`.
    pub fn get(url: impl Into<String>, resource: &str) -> Self {
        Req {
            method: reqwest::Method::GET,
            url: url.into(),
            resource: Some(resource.to_string()),
            headers: Vec::new(),
            json: None,
        }
    }

    /// A POST with a JSON body (or empty) and a bearer token for `resource`.
    pub fn post(url: impl Into<String>, resource: &str, json: Option<Value>) -> Self {
        Req {
            method: reqwest::Method::POST,
            url: url.into(),
            resource: Some(resource.to_string()),
            headers: Vec::new(),
            json,
        }
    }

    /// Adds a header.
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
}

/// The API client: retries, backoff, token refresh, fault log.
#[derive(Debug)]
pub struct Api {
    http: reqwest::Client,
    auth: Arc<Auth>,
    policy: RetryPolicy,
    rng: Mutex<ChaCha8Rng>,
    /// Faults met since the caller last drained them.
    pub faults: FaultLog,
    allowed_hosts: Vec<String>,
    /// Time spent waiting for the server (responses), in microseconds.
    pub server_us: std::sync::atomic::AtomicU64,
}

impl Api {
    /// A client for one profile.
    pub fn new(auth: Arc<Auth>, policy: RetryPolicy) -> Result<Self> {
        let allowed_hosts = auth.resolved().hosts();
        Ok(Api {
            http: client(policy.timeout_ms)?,
            auth,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(policy.seed)),
            policy,
            faults: FaultLog::default(),
            allowed_hosts,
            server_us: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The sign-in.
    pub fn auth(&self) -> &Arc<Auth> {
        &self.auth
    }

    /// Exponential backoff with jitter in [50 %, 100 %] of the step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let step = self.policy.base_ms.saturating_mul(1u64 << attempt.min(16)).min(self.policy.max_ms);
        let r = self.rng.lock().unwrap_or_else(|e| e.into_inner()).next_u64() % 1000;
        Duration::from_millis(step / 2 + step * r / 2000)
    }

    fn retry_after(&self, f: &Fetched, attempt: u32) -> Duration {
        match f.header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(s) => Duration::from_millis((s * 1000).min(self.policy.max_ms)),
            None => self.backoff(attempt),
        }
    }

    /// Sends a request until it gets an answer that is not a transient failure, or the budget is spent.
    /// 4xx answers other than throttling and one expired token are returned for the caller to read.
    pub async fn send(&self, req: &Req) -> Result<Fetched> {
        let host = crate::cloud::url_host(&req.url).unwrap_or_default();
        if !self.allowed_hosts.contains(&host) {
            return Err(CollectError::new(
                Code::Refused,
                format!("Tidemark did not follow a link to {host}: it only talks to the tenant's own services."),
            ));
        }
        let mut refreshed = false;
        let mut last: Option<CollectError> = None;
        let mut attempt = 0u32;
        while attempt < self.policy.max_attempts {
            let mut b = self.http.request(req.method.clone(), &req.url);
            if let Some(res) = &req.resource {
                let token = self.auth.token(res).await?;
                b = b.bearer_auth(token.expose());
            }
            for (k, v) in &req.headers {
                b = b.header(k, v);
            }
            if let Some(j) = &req.json {
                b = b.json(j);
            } else if req.method == reqwest::Method::POST {
                b = b.header("content-length", "0");
            }
            let started = Instant::now();
            let result = async {
                let r = b.send().await?;
                let status = r.status().as_u16();
                let mut headers = serde_json::Map::new();
                for name in HEADERS_OF_INTEREST {
                    if let Some(v) = r.headers().get(name).and_then(|v| v.to_str().ok()) {
                        headers.insert(name.to_string(), Value::String(v.to_string()));
                    }
                }
                let body = r.bytes().await?.to_vec();
                Ok::<_, reqwest::Error>((status, headers, body))
            }
            .await;
            let took = started.elapsed();
            self.server_us.fetch_add(took.as_micros() as u64, std::sync::atomic::Ordering::Relaxed);
            if took.as_millis() as u64 >= self.policy.slow_ms {
                self.faults.met("slow-page");
            }
            let (status, headers, body) = match result {
                Ok(x) => x,
                Err(e) => {
                    self.faults.met(if e.is_timeout() { "timeout" } else { "connection-reset" });
                    last = Some(
                        CollectError::new(
                            Code::Network,
                            "The connection to Microsoft kept failing. Check the network connection and resume.",
                        )
                        .with_detail(e.to_string()),
                    );
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
            };
            let f = Fetched { url: redact_url(&req.url), status, headers: Value::Object(headers), body };
            let code = f.error_code();
            match status {
                401 if !refreshed && req.resource.is_some() => {
                    // An access token can die before its time (revoked, clock skew): refresh once.
                    self.faults.met("token-expiry");
                    if let Some(res) = &req.resource {
                        self.auth.invalidate(res);
                    }
                    refreshed = true;
                    continue;
                }
                429 => {
                    self.faults.met("throttle-429");
                    tokio::time::sleep(self.retry_after(&f, attempt)).await;
                    last = Some(throttled(&f));
                }
                403 if code == "AF429" => {
                    self.faults.met("throttle-af429");
                    tokio::time::sleep(self.retry_after(&f, attempt)).await;
                    last = Some(throttled(&f));
                }
                500..=599 => {
                    self.faults.met("server-error");
                    tokio::time::sleep(self.retry_after(&f, attempt)).await;
                    last = Some(
                        CollectError::new(
                            Code::ServerUnavailable,
                            "Microsoft's service kept answering with server errors. Try again later; `resume` \
                             continues where this stopped.",
                        )
                        .with_detail(format!("HTTP {status} {code}: {}", f.error_message())),
                    );
                }
                _ => return Ok(f),
            }
            attempt += 1;
        }
        Err(last.unwrap_or_else(|| CollectError::new(Code::Network, "The request could not be completed.")))
    }

    /// Like [`Api::send`], and the body must parse as JSON.
    pub async fn send_json(&self, req: &Req) -> Result<(Fetched, Value)> {
        let mut attempt = 0;
        loop {
            let f = self.send(req).await?;
            match serde_json::from_slice::<Value>(&f.body) {
                Ok(v) => return Ok((f, v)),
                Err(e) if attempt + 1 < self.policy.max_attempts && (200..300).contains(&f.status) => {
                    // A body cut short on a 200 is a dropped connection the transport did not see.
                    self.faults.met("connection-reset");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                    let _ = e;
                }
                Err(e) => {
                    return Err(CollectError::new(Code::BadResponse, "Microsoft sent an answer Tidemark cannot read.")
                        .with_detail(format!("HTTP {} from {}: {e}", f.status, f.url)))
                }
            }
        }
    }
}

fn throttled(f: &Fetched) -> CollectError {
    CollectError::new(
        Code::Throttled,
        "Microsoft kept throttling the requests. Wait a while, then resume; nothing collected so far is lost.",
    )
    .with_detail(format!("HTTP {}: {}", f.status, f.error_message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_secrets() {
        assert_eq!(redact_url("http://x/cb?code=abc&state=s"), "http://x/cb?code=REDACTED&state=s");
        assert_eq!(redact_url("http://x/a?$top=5"), "http://x/a?$top=5");
        assert_eq!(redact_url("http://x/a"), "http://x/a");
    }
}
