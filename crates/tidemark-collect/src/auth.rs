//! Sign-in: the four methods of the identity platform (formats spec §4), and tokens per API.
//!
//! - **Browser**: authorization code + PKCE (S256) with a one-shot loopback listener on an ephemeral
//!   port, redirect `http://localhost:{port}/` (Entra ignores the port only for `localhost`), `state`
//!   checked, a timeout and a cancel switch. Opening the browser is a [`BrowserOpener`], so the app
//!   uses the system browser and tests follow the redirect over plain HTTP.
//! - **Device code**: shows the code through a [`DevicePrompt`], polls at `interval`, slows down on
//!   `slow_down`, stops on declined or expired.
//! - **Client secret** and **certificate** (PEM or PFX; a JWT client assertion, RS256 or PS256, with
//!   `x5t#S256`).
//!
//! Delegated sign-ins ask for `offline_access`; the refresh token goes to the keychain and is used
//! silently for every other API, and the rotated one replaces it each time. Access tokens are cached
//! per API until shortly before they expire; [`Auth::invalidate`] drops one after a 401. Time comes
//! from the [`Clock`] passed in.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tidemark_core::Clock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cloud::Resolved;
use crate::error::{Code, CollectError, Result};
use crate::profile::{Profile, SignIn};
use crate::secrets::{Secret, SecretKind, SecretStore};

/// Opens the sign-in page (the system browser in the app; a test opener follows it over HTTP).
pub trait BrowserOpener: Send + Sync + std::fmt::Debug {
    /// Opens `url`; returns once the browser was asked to.
    fn open(&self, url: &str) -> std::result::Result<(), String>;
}

/// Shows the device code to the investigator.
pub trait DevicePrompt: Send + Sync + std::fmt::Debug {
    /// Shows `user_code` and where to type it; `message` is Microsoft's own sentence.
    fn show(&self, user_code: &str, verification_uri: &str, message: &str);
}

/// What an interactive sign-in may use.
#[derive(Debug, Clone, Default)]
pub struct Interaction {
    /// For browser sign-in.
    pub opener: Option<Arc<dyn BrowserOpener>>,
    /// For device code sign-in.
    pub prompt: Option<Arc<dyn DevicePrompt>>,
    /// How long to wait for the investigator.
    pub timeout: Option<Duration>,
    /// Set to stop waiting.
    pub cancel: Arc<AtomicBool>,
}

/// A certificate and its private key, ready to sign assertions.
pub struct Credential {
    key: RsaPrivateKey,
    der: Vec<u8>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("key", &"<redacted>").field("cert_bytes", &self.der.len()).finish()
    }
}

fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let b64: String = text[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

impl Credential {
    /// From PEM text holding the certificate and the key (PKCS#8 or PKCS#1), possibly in two texts.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self> {
        let bad = |m: &str| CollectError::new(Code::SignInFailed, m.to_string());
        let der = pem_block(cert_pem, "CERTIFICATE").ok_or_else(|| bad("The PEM file holds no certificate."))?;
        let key = if let Some(k) = pem_block(key_pem, "PRIVATE KEY") {
            RsaPrivateKey::from_pkcs8_der(&k)
                .map_err(|e| bad("The private key is not an RSA key Tidemark can read.").with_detail(e.to_string()))?
        } else if let Some(k) = pem_block(key_pem, "RSA PRIVATE KEY") {
            RsaPrivateKey::from_pkcs1_der(&k)
                .map_err(|e| bad("The private key is not an RSA key Tidemark can read.").with_detail(e.to_string()))?
        } else {
            return Err(bad("The PEM holds no private key (expected BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)."));
        };
        Ok(Self { key, der })
    }

    /// From a PFX / PKCS#12 file and its password.
    pub fn from_pfx(data: &[u8], password: &str) -> Result<Self> {
        let ks = p12_keystore::KeyStore::from_pkcs12(data, password).map_err(|e| {
            CollectError::new(Code::SignInFailed, "The PFX file could not be opened: check its password.")
                .with_detail(e.to_string())
        })?;
        let (_, chain) = ks
            .private_key_chain()
            .ok_or_else(|| CollectError::new(Code::SignInFailed, "The PFX file holds no private key."))?;
        let der = chain
            .chain()
            .first()
            .map(|c| c.as_der().to_vec())
            .ok_or_else(|| CollectError::new(Code::SignInFailed, "The PFX file holds no certificate."))?;
        let key = RsaPrivateKey::from_pkcs8_der(chain.key())
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(chain.key()))
            .map_err(|e| {
                CollectError::new(Code::SignInFailed, "The PFX key is not an RSA key.").with_detail(e.to_string())
            })?;
        Ok(Self { key, der })
    }

    /// Loads the profile's certificate: a file (PEM or PFX) or the key kept in the keychain.
    pub fn load(path: Option<&Path>, password: Option<&Secret>, keychain_pem: Option<&Secret>) -> Result<Self> {
        if let Some(pem) = keychain_pem {
            let cert = path.map(std::fs::read_to_string).transpose().ok().flatten().unwrap_or_default();
            let cert = if cert.is_empty() { pem.expose().to_string() } else { cert };
            return Self::from_pem(&cert, pem.expose());
        }
        let path = path.ok_or_else(|| {
            CollectError::new(
                Code::ProfileInvalid,
                "The profile signs in with a certificate but names no certificate file.",
            )
        })?;
        let data = std::fs::read(path).map_err(|e| {
            CollectError::new(
                Code::ProfileInvalid,
                format!("The certificate file {} could not be read.", path.display()),
            )
            .with_detail(e.to_string())
        })?;
        match std::str::from_utf8(&data) {
            Ok(text) if text.contains("-----BEGIN") => Self::from_pem(text, text),
            _ => Self::from_pfx(&data, password.map(Secret::expose).unwrap_or("")),
        }
    }

    /// `x5t#S256`: base64url of the SHA-256 of the DER certificate.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.der))
    }

    /// A signed client assertion (valid 10 minutes from `now_s`).
    pub fn assertion(&self, alg: &str, client_id: &str, audience: &str, now_s: i64) -> Result<String> {
        let alg = if alg.eq_ignore_ascii_case("RS256") { "RS256" } else { "PS256" };
        let header = json!({"alg": alg, "typ": "JWT", "x5t#S256": self.x5t_s256()});
        let mut jti = [0u8; 16];
        OsRng.fill_bytes(&mut jti);
        let claims = json!({"aud": audience, "iss": client_id, "sub": client_id, "jti": guid(&jti),
            "nbf": now_s - 60, "iat": now_s - 60, "exp": now_s + 600});
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let sig = if alg == "RS256" {
            rsa::pkcs1v15::SigningKey::<Sha256>::new(self.key.clone()).sign(input.as_bytes()).to_vec()
        } else {
            rsa::pss::BlindedSigningKey::<Sha256>::new(self.key.clone())
                .sign_with_rng(&mut OsRng, input.as_bytes())
                .to_vec()
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

fn guid(b: &[u8; 16]) -> String {
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn random_urlsafe(n: usize) -> String {
    let mut b = vec![0u8; n];
    OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

struct Cached {
    token: Secret,
    expires_ms: i64,
}

/// Tokens for one profile.
pub struct Auth {
    profile: Profile,
    resolved: Resolved,
    secrets: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    interaction: Interaction,
    cache: tokio::sync::Mutex<HashMap<String, Cached>>,
    tenant_id: Mutex<Option<String>>,
    issued: Mutex<Vec<Secret>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("profile", &self.profile.id).field("method", &self.profile.sign_in.id()).finish()
    }
}

fn claims_of(token: &str) -> Value {
    token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

fn num(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

impl Auth {
    /// Sign-in for a profile.
    pub fn new(
        profile: Profile,
        secrets: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
        interaction: Interaction,
    ) -> Result<Self> {
        let resolved = Resolved::new(profile.cloud, &profile.endpoints);
        Ok(Auth {
            profile,
            resolved,
            secrets,
            clock,
            http: crate::http::client(60_000)?,
            interaction,
            cache: tokio::sync::Mutex::new(HashMap::new()),
            tenant_id: Mutex::new(None),
            issued: Mutex::new(Vec::new()),
        })
    }

    /// The base URLs and audiences.
    pub fn resolved(&self) -> &Resolved {
        &self.resolved
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The tenant GUID (from the profile, or the `tid` of a token once one was issued).
    pub fn tenant_id(&self) -> String {
        self.tenant_id.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or_else(|| self.profile.tenant.clone())
    }

    /// Every access and refresh token issued in this process (for the no-secrets-in-the-case test).
    pub fn issued_tokens(&self) -> Vec<Secret> {
        self.issued.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.resolved.login, self.profile.tenant)
    }

    /// Drops a cached token (after a 401).
    pub fn invalidate(&self, resource: &str) {
        if let Ok(mut c) = self.cache.try_lock() {
            c.remove(resource);
        }
    }

    /// An access token for an API (`https://manage.office.com`, …).
    pub async fn token(&self, resource: &str) -> Result<Secret> {
        let mut cache = self.cache.lock().await;
        let now = self.clock.now_ms();
        if let Some(c) = cache.get(resource) {
            if c.expires_ms - 120_000 > now {
                return Ok(c.token.clone());
            }
        }
        let v = self.acquire(resource).await?;
        let token = v["access_token"].as_str().unwrap_or_default().to_string();
        if token.is_empty() {
            return Err(CollectError::new(Code::SignInFailed, "Microsoft's sign-in answered without a token."));
        }
        let claims = claims_of(&token);
        if let Some(tid) = claims["tid"].as_str() {
            *self.tenant_id.lock().unwrap_or_else(|e| e.into_inner()) = Some(tid.to_string());
        }
        let expires_ms = claims["exp"]
            .as_i64()
            .map(|e| e * 1000)
            .unwrap_or_else(|| now + num(&v["expires_in"]).unwrap_or(3600) * 1000);
        let secret = Secret::new(token);
        self.issued.lock().unwrap_or_else(|e| e.into_inner()).push(secret.clone());
        if let Some(rt) = v["refresh_token"].as_str() {
            let rt = Secret::new(rt);
            self.issued.lock().unwrap_or_else(|e| e.into_inner()).push(rt.clone());
            self.secrets.set(&self.profile.id, SecretKind::RefreshToken, &rt)?;
        }
        cache.insert(resource.to_string(), Cached { token: secret.clone(), expires_ms });
        Ok(secret)
    }

    /// The delegated permissions asked for one API. Graph's depend on the profile's sources: audit
    /// queries need AuditLogsQuery.Read.All, the Entra logs AuditLog.Read.All and Directory.Read.All;
    /// asking only for what the sources use keeps a consent the tenant never gave from failing a
    /// sign-in that does not need it.
    fn delegated_scope(&self, resource: &str) -> String {
        let perms: Vec<&str> = if resource == self.resolved.management_resource {
            vec!["ActivityFeed.Read"]
        } else if resource == self.resolved.graph_resource {
            let s = &self.profile.sources;
            let entra = s.contains(&crate::Source::EntraSignins) || s.contains(&crate::Source::EntraAudits);
            let mut p = Vec::new();
            if s.contains(&crate::Source::Graph) || !entra {
                p.push("AuditLogsQuery.Read.All");
            }
            if entra {
                p.extend(["AuditLog.Read.All", "Directory.Read.All"]);
            }
            p
        } else {
            vec!["Mail.Read"]
        };
        let scopes: Vec<String> = perms.iter().map(|p| format!("{resource}/{p}")).collect();
        format!("{} offline_access", scopes.join(" "))
    }

    async fn post_token(&self, form: &[(&str, &str)]) -> Result<std::result::Result<Value, Value>> {
        let r = self.http.post(self.token_url()).form(form).send().await.map_err(|e| {
            CollectError::new(Code::Network, "Microsoft's sign-in service could not be reached. Check the network.")
                .with_detail(e.to_string())
        })?;
        let ok = r.status().is_success();
        let status = r.status().as_u16();
        let v: Value = r.json().await.map_err(|e| {
            CollectError::new(Code::SignInFailed, "Microsoft's sign-in service sent an answer Tidemark cannot read.")
                .with_detail(format!("HTTP {status}: {e}"))
        })?;
        Ok(if ok { Ok(v) } else { Err(v) })
    }

    async fn acquire(&self, resource: &str) -> Result<Value> {
        let cid = self.profile.client_id.clone();
        let scope_default = format!("{resource}/.default");
        match &self.profile.sign_in {
            SignIn::ClientSecret => {
                let secret = self.secrets.get(&self.profile.id, SecretKind::ClientSecret)?.ok_or_else(|| {
                    CollectError::new(
                        Code::SignInFailed,
                        format!(
                            "No client secret is stored for profile \"{}\". Add it with `tidemark profile add {} \
                             --client-secret -` (read from standard input).",
                            self.profile.id, self.profile.id
                        ),
                    )
                })?;
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", cid.as_str()),
                    ("client_secret", secret.expose()),
                    ("scope", scope_default.as_str()),
                ];
                self.post_token(&form).await?.map_err(|e| sign_in_error(&e))
            }
            SignIn::Certificate { path, key_in_keychain, algorithm } => {
                let key = if *key_in_keychain {
                    self.secrets.get(&self.profile.id, SecretKind::CertificateKey)?
                } else {
                    None
                };
                // A PEM file needs nothing from the keychain; a PFX file needs its password.
                let is_pem = path
                    .as_ref()
                    .and_then(|p| std::fs::read(p).ok())
                    .is_some_and(|d| d.windows(10).any(|w| w == b"-----BEGIN"));
                let password = if key.is_none() && !is_pem {
                    self.secrets.get(&self.profile.id, SecretKind::CertificatePassword)?
                } else {
                    None
                };
                let cred = Credential::load(path.as_deref(), password.as_ref(), key.as_ref())?;
                let aud = self.token_url();
                let jwt = Secret::new(cred.assertion(algorithm, &cid, &aud, self.clock.now_ms() / 1000)?);
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", cid.as_str()),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", jwt.expose()),
                    ("scope", scope_default.as_str()),
                ];
                self.post_token(&form).await?.map_err(|e| sign_in_error(&e))
            }
            SignIn::Browser { .. } | SignIn::DeviceCode => {
                let scope = self.delegated_scope(resource);
                if let Some(rt) = self.secrets.get(&self.profile.id, SecretKind::RefreshToken)? {
                    let form = [
                        ("grant_type", "refresh_token"),
                        ("client_id", cid.as_str()),
                        ("refresh_token", rt.expose()),
                        ("scope", scope.as_str()),
                    ];
                    match self.post_token(&form).await? {
                        Ok(v) => return Ok(v),
                        Err(e) if e["error"] == "invalid_grant" || e["error"] == "interaction_required" => {
                            // The refresh token is gone (rotated elsewhere, revoked, expired): sign in again.
                            self.secrets.delete(&self.profile.id, SecretKind::RefreshToken)?;
                        }
                        Err(e) => return Err(sign_in_error(&e)),
                    }
                }
                if matches!(self.profile.sign_in, SignIn::DeviceCode) {
                    self.device_code(&scope).await
                } else {
                    self.browser(&scope).await
                }
            }
        }
    }

    fn waited_too_long(&self) -> CollectError {
        CollectError::new(Code::SignInTimeout, "The sign-in was not completed in time. Start it again.")
    }

    async fn browser(&self, scope: &str) -> Result<Value> {
        let opener = self.interaction.opener.clone().ok_or_else(|| {
            CollectError::new(
                Code::SignInFailed,
                "Browser sign-in needs a browser; use device code or a certificate here.",
            )
        })?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| {
            CollectError::new(Code::SignInFailed, "Tidemark could not open a local port for the sign-in redirect.")
                .with_detail(e.to_string())
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        // Browsers may resolve localhost to ::1: listen there too on the same port when possible.
        let listener6 = tokio::net::TcpListener::bind(("::1", port)).await.ok();
        let redirect = format!("http://localhost:{port}/");
        let verifier = random_urlsafe(48);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let state = random_urlsafe(16);
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("client_id", &self.profile.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &redirect)
            .append_pair("response_mode", "query")
            .append_pair("scope", scope)
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if let SignIn::Browser { login_hint: Some(h) } = &self.profile.sign_in {
            q.append_pair("login_hint", h);
        }
        let url = format!("{}/{}/oauth2/v2.0/authorize?{}", self.resolved.login, self.profile.tenant, q.finish());
        opener
            .open(&url)
            .map_err(|e| CollectError::new(Code::SignInFailed, "The browser could not be opened.").with_detail(e))?;
        let timeout = self.interaction.timeout.unwrap_or(Duration::from_secs(300));
        let cancel = self.interaction.cancel.clone();
        let wait = async {
            loop {
                let accepted = match &listener6 {
                    Some(l6) => tokio::select! { a = listener.accept() => a, a = l6.accept() => a },
                    None => listener.accept().await,
                };
                let Ok((mut sock, _)) = accepted else { continue };
                let mut buf = vec![0u8; 8192];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let target = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                let query = target.split_once('?').map(|x| x.1).unwrap_or_default();
                let params: HashMap<String, String> =
                    form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                if params.is_empty() {
                    // favicon and the like
                    let _ = sock
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    continue;
                }
                let ok = params.get("state") == Some(&state) && params.contains_key("code");
                let text = if ok {
                    "Signed in. You can close this window and return to Tidemark."
                } else {
                    "Sign-in did not complete. Return to Tidemark for details."
                };
                let body = format!("<!DOCTYPE html><html><body><p>{text}</p></body></html>");
                let _ = sock
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
                return params;
            }
        };
        let cancelled = async {
            while !cancel.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let params = tokio::select! {
            r = tokio::time::timeout(timeout, wait) => r.map_err(|_| self.waited_too_long())?,
            () = cancelled => return Err(CollectError::new(Code::SignInCancelled, "The sign-in was cancelled.")),
        };
        if params.get("state") != Some(&state) {
            return Err(CollectError::new(
                Code::SignInFailed,
                "The sign-in answer did not belong to this sign-in (state mismatch); it was ignored. Start again.",
            ));
        }
        if let Some(e) = params.get("error") {
            let desc = params.get("error_description").cloned().unwrap_or_default();
            let code = if e == "access_denied" { Code::SignInCancelled } else { Code::SignInFailed };
            return Err(CollectError::new(code, format!("The sign-in was not completed: {e}.")).with_detail(desc));
        }
        let code = Secret::new(params.get("code").cloned().unwrap_or_default());
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", self.profile.client_id.as_str()),
            ("code", code.expose()),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", verifier.as_str()),
            ("scope", scope),
        ];
        self.post_token(&form).await?.map_err(|e| sign_in_error(&e))
    }

    async fn device_code(&self, scope: &str) -> Result<Value> {
        let prompt = self.interaction.prompt.clone().ok_or_else(|| {
            CollectError::new(Code::SignInFailed, "Device code sign-in needs somewhere to show the code.")
        })?;
        let url = format!("{}/{}/oauth2/v2.0/devicecode", self.resolved.login, self.profile.tenant);
        let r = self
            .http
            .post(&url)
            .form(&[("client_id", self.profile.client_id.as_str()), ("scope", scope)])
            .send()
            .await
            .map_err(|e| {
                CollectError::new(Code::Network, "Microsoft's sign-in service could not be reached.")
                    .with_detail(e.to_string())
            })?;
        let ok = r.status().is_success();
        let v: Value = r.json().await.map_err(|e| {
            CollectError::new(Code::SignInFailed, "Unreadable device code answer.").with_detail(e.to_string())
        })?;
        if !ok {
            return Err(sign_in_error(&v));
        }
        let device_code = Secret::new(v["device_code"].as_str().unwrap_or_default());
        prompt.show(
            v["user_code"].as_str().unwrap_or_default(),
            v["verification_uri"].as_str().unwrap_or_default(),
            v["message"].as_str().unwrap_or_default(),
        );
        let mut interval = num(&v["interval"]).unwrap_or(5).max(1) as u64;
        let deadline = std::time::Instant::now()
            + self
                .interaction
                .timeout
                .unwrap_or(Duration::from_secs(num(&v["expires_in"]).unwrap_or(900).max(1) as u64));
        loop {
            for _ in 0..interval * 10 {
                if self.interaction.cancel.load(Ordering::Relaxed) {
                    return Err(CollectError::new(Code::SignInCancelled, "The sign-in was cancelled."));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if std::time::Instant::now() > deadline {
                return Err(self.waited_too_long());
            }
            let form = [
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", self.profile.client_id.as_str()),
                ("device_code", device_code.expose()),
            ];
            match self.post_token(&form).await? {
                Ok(v) => return Ok(v),
                Err(e) => match e["error"].as_str().unwrap_or_default() {
                    "authorization_pending" => {}
                    "slow_down" => interval += 5,
                    "authorization_declined" => {
                        return Err(CollectError::new(
                            Code::SignInCancelled,
                            "The sign-in was declined on the other device.",
                        ))
                    }
                    "expired_token" => {
                        return Err(CollectError::new(
                            Code::SignInTimeout,
                            "The device code expired before it was used. Start again.",
                        ))
                    }
                    _ => return Err(sign_in_error(&e)),
                },
            }
        }
    }
}

/// A plain message for an identity-platform error body.
pub fn sign_in_error(v: &Value) -> CollectError {
    let error = v["error"].as_str().unwrap_or("unknown_error");
    let desc = v["error_description"].as_str().unwrap_or_default().to_string();
    let codes: Vec<i64> =
        v["error_codes"].as_array().map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default();
    let message = match (error, codes.first()) {
        (_, Some(7000215)) => "The client secret is wrong or expired. Create a new secret for the app registration and store it again.",
        (_, Some(700027)) => "The certificate is not registered on the app registration (or its signature did not verify). Upload the certificate in Entra, or pick the matching key.",
        (_, Some(700016)) => "The app registration (client id) does not exist in this tenant. Check the client id and the tenant.",
        (_, Some(90002)) => "The tenant was not found. Check the tenant domain or GUID and the cloud.",
        (_, Some(65001)) => "An administrator has not consented to this app's permissions yet. Ask a tenant admin to grant admin consent in Entra.",
        (_, Some(7000218)) => "Device code sign-in needs \"Allow public client flows\" on the app registration.",
        ("invalid_scope", _) => "The app asked for a permission the sign-in refused. Check the app registration's API permissions.",
        _ => "Signing in to Microsoft 365 failed.",
    };
    CollectError::new(Code::SignInFailed, message).with_detail(format!("{error}: {desc}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_sim::certificate::{SHIPPED_CERT_PEM, SHIPPED_KEY_PEM};

    /// PFX fixtures of the sim's published test key (see `tests-data/README.md`).
    const MODERN_PFX: &[u8] = include_bytes!("../tests-data/sim-client.pfx");
    const LEGACY_PFX: &[u8] = include_bytes!("../tests-data/sim-client-legacy.pfx");
    const PASSWORD: &str = "tidemark-test";

    fn pem_x5t() -> String {
        Credential::from_pem(SHIPPED_CERT_PEM, SHIPPED_KEY_PEM).unwrap().x5t_s256()
    }

    #[test]
    fn pfx_with_the_right_password_is_the_same_certificate_as_the_pem_pair() {
        let want = pem_x5t();
        for (name, pfx) in [("modern (AES-256)", MODERN_PFX), ("legacy (3DES/RC2)", LEGACY_PFX)] {
            let c = Credential::from_pfx(pfx, PASSWORD).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(c.x5t_s256(), want, "{name}");
            // The key inside signs assertions (both algorithms).
            for alg in ["PS256", "RS256"] {
                let jwt = c.assertion(alg, "client", "https://login.example/token", 1_700_000_000).unwrap();
                assert_eq!(jwt.split('.').count(), 3, "{name} {alg}");
                assert_eq!(claims_of(&jwt)["iss"], "client");
            }
        }
    }

    #[test]
    fn pfx_with_a_wrong_or_missing_password_fails_saying_so() {
        for (name, pfx) in [("modern", MODERN_PFX), ("legacy", LEGACY_PFX)] {
            for pw in ["wrong-password", ""] {
                let e = Credential::from_pfx(pfx, pw).unwrap_err();
                assert_eq!(e.code, Code::SignInFailed, "{name} {pw:?}");
                assert!(e.message.to_lowercase().contains("password"), "{name} {pw:?}: {}", e.message);
                // The message is the plain one; the library's words go to the detail only.
                assert!(!e.message.contains(PASSWORD));
            }
        }
    }

    #[test]
    fn load_tells_pfx_from_pem_by_content_not_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let want = pem_x5t();
        let pw = Secret::new(PASSWORD);
        // Names that lie about the content: the bytes decide.
        let pfx_named_pem = dir.path().join("looks-like.pem");
        std::fs::write(&pfx_named_pem, MODERN_PFX).unwrap();
        let legacy_named_crt = dir.path().join("legacy.crt");
        std::fs::write(&legacy_named_crt, LEGACY_PFX).unwrap();
        let pem_named_pfx = dir.path().join("looks-like.pfx");
        std::fs::write(&pem_named_pfx, format!("{SHIPPED_CERT_PEM}\n{SHIPPED_KEY_PEM}")).unwrap();
        for p in [&pfx_named_pem, &legacy_named_crt] {
            assert_eq!(Credential::load(Some(p), Some(&pw), None).unwrap().x5t_s256(), want, "{}", p.display());
            // A PFX without its password is refused with a word about the password.
            let e = Credential::load(Some(p), None, None).unwrap_err();
            assert_eq!(e.code, Code::SignInFailed);
            assert!(e.message.contains("password"), "{}", e.message);
        }
        // PEM needs no password, and a password given anyway does no harm.
        assert_eq!(Credential::load(Some(&pem_named_pfx), None, None).unwrap().x5t_s256(), want);
        assert_eq!(Credential::load(Some(&pem_named_pfx), Some(&pw), None).unwrap().x5t_s256(), want);
        // The key from the keychain with the certificate file beside it.
        let cert_only = dir.path().join("cert.pem");
        std::fs::write(&cert_only, SHIPPED_CERT_PEM).unwrap();
        let key = Secret::new(SHIPPED_KEY_PEM);
        assert_eq!(Credential::load(Some(&cert_only), None, Some(&key)).unwrap().x5t_s256(), want);
        // Neither: a profile error, not a sign-in error.
        assert_eq!(Credential::load(None, None, None).unwrap_err().code, Code::ProfileInvalid);
        let missing = dir.path().join("missing.pfx");
        assert_eq!(Credential::load(Some(&missing), Some(&pw), None).unwrap_err().code, Code::ProfileInvalid);
    }

    #[test]
    fn pfx_x5t_matches_what_the_sim_registers() {
        let c = Credential::from_pfx(MODERN_PFX, PASSWORD).unwrap();
        let registered = tidemark_sim::certificate::ClientCertificate::from_pem(SHIPPED_CERT_PEM).unwrap();
        assert_eq!(c.x5t_s256(), registered.x5t_s256());
    }
}
