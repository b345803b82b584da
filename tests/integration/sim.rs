//! The simulated Microsoft 365 tenant (`tidemark-sim`), driven with plain HTTP as a client would: every
//! identity flow, the Management Activity API, Graph audit-log queries and the legacy Activities API,
//! Microsoft's error bodies, every switchable fault (observed at `/_sim/faults`), the answer key against
//! the generated records, and an offline export imported by the real `tidemark` binary.
//!
//! Each test starts its own sim on a free loopback port (the `small` scenario unless it says otherwise).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};
use sha2::Digest;
use tidemark_sim::certificate::{sign_client_assertion, AssertionAlg, AssertionKey, ClientCertificate};
use tidemark_sim::export::{export, ExportFormat};
use tidemark_sim::{Credentials, RunningSim, SimConfig, Tenant};
use tidemark_tests::binary;

struct Sim {
    sim: RunningSim,
    c: Credentials,
    http: Client,
}

fn start(scenario: &str, tweak: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut cfg = SimConfig::for_scenario(scenario).expect("preset");
    tweak(&mut cfg);
    let sim = RunningSim::spawn(cfg).expect("sim starts");
    let c = sim.credentials();
    let http = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    Sim { sim, c, http }
}

/// Status, headers and JSON (or Null) of a response.
fn parts(r: Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().expect("body");
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

impl Sim {
    fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.c.login_url, self.c.tenant_id)
    }

    fn post_form(&self, url: &str, form: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Value) {
        parts(self.http.post(url).form(form).send().expect("post"))
    }

    fn app_token_for(&self, client: &str, secret: &str, resource: &str) -> String {
        let scope = format!("{resource}/.default");
        let (st, _, v) = self.post_form(
            &self.token_url(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("client_secret", secret),
                ("scope", &scope),
            ],
        );
        assert_eq!(st, 200, "{v}");
        v["access_token"].as_str().expect("access_token").to_string()
    }

    fn app_token(&self, resource: &str) -> String {
        self.app_token_for(&self.c.confidential_client_id, &self.c.client_secret, resource)
    }

    fn get(&self, url: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        parts(self.http.get(url).bearer_auth(token).send().expect("get"))
    }

    fn feed(&self) -> String {
        format!("{}/api/v1.0/{}/activity/feed", self.c.management_url, self.c.tenant_id)
    }

    fn admin(&self, path: &str) -> Value {
        self.http.get(format!("{}/{path}", self.c.admin_url)).send().expect("admin").json().expect("json")
    }

    fn advance(&self, secs: i64) {
        let r = self.http.post(format!("{}/clock", self.c.admin_url)).json(&json!({"advance_s": secs})).send().unwrap();
        assert!(r.status().is_success());
    }

    fn set_faults(&self, faults: &[&str]) {
        let r = self.http.put(format!("{}/faults", self.c.admin_url)).json(&json!(faults)).send().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap_or_default());
    }

    fn fired(&self, kind: &str) -> u64 {
        self.admin("faults")["counts"][kind]["fired"].as_u64().unwrap_or(0)
    }

    fn assertion(&self, alg: AssertionAlg, s256: bool, aud: &str, exp_offset: i64) -> String {
        let now = self.admin("clock")["now_ms"].as_i64().unwrap() / 1000;
        let claims = json!({"aud": aud, "iss": self.c.confidential_client_id, "sub": self.c.confidential_client_id,
            "jti": "5f1c9a52-8d2e-4b7a-a1f0-3c2d4e5f6a7b", "nbf": now - 60, "iat": now - 60, "exp": now + exp_offset});
        sign_client_assertion(&AssertionKey::shipped(), &ClientCertificate::shipped(), alg, s256, &claims, 7)
    }

    /// Subscribes and lists every blob of `ct` over the last 7 days (24-hour windows, following NextPageUri).
    fn all_blobs(&self, token: &str, ct: &str) -> Vec<Value> {
        let now = tidemark_sim::wire::parse_time(self.admin("clock")["now"].as_str().unwrap()).unwrap();
        let mut out = Vec::new();
        for d in (0..7).rev() {
            let end = now - d * 86_400_000;
            let start = (end - 86_400_000).max(now - 7 * 86_400_000 + 60_000);
            let mut url = format!(
                "{}/subscriptions/content?contentType={ct}&startTime={}&endTime={}",
                self.feed(),
                tidemark_sim::wire::iso_seconds_no_zone(start),
                tidemark_sim::wire::iso_seconds_no_zone(end)
            );
            loop {
                let (st, h, v) = self.get(&url, token);
                assert_eq!(st, 200, "{v}");
                out.extend(v.as_array().unwrap().iter().cloned());
                match h.get("NextPageUri") {
                    Some(next) => url = next.to_str().unwrap().to_string(),
                    None => break,
                }
            }
        }
        out
    }
}

#[test]
fn sim_refuses_to_listen_beyond_loopback() {
    let mut cfg = SimConfig::for_scenario("small").unwrap();
    cfg.bind = "0.0.0.0".parse().unwrap();
    let err = RunningSim::spawn(cfg).unwrap_err();
    assert!(err.to_string().contains("only listens on loopback"), "{err}");
    let mut cfg = SimConfig::for_scenario("small").unwrap();
    cfg.bind = "::1".parse().unwrap();
    if let Ok(sim) = RunningSim::spawn(cfg) {
        assert!(sim.base_url().starts_with("http://[::1]:"));
    }
}

#[test]
fn sim_serve_starts_in_under_two_seconds_and_prints_credentials() {
    use std::io::{BufRead, BufReader};
    let state = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut child = Command::new(binary("tidemark-sim"))
        .args(["serve", "--scenario", "demo", "--port", "0", "--state-dir", state.path().to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn tidemark-sim");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("ready in");
        seen.push(line);
        if done {
            break;
        }
    }
    let elapsed = started.elapsed();
    let text = seen.join("\n");
    let base = text.split("listening on ").nth(1).and_then(|r| r.lines().next()).expect("base URL").trim().to_string();
    let ok = Client::new().get(format!("{base}/_sim/credentials")).send().map(|r| r.status().as_u16());
    child.kill().ok();
    child.wait().ok();
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert!(base.starts_with("http://127.0.0.1:"), "{text}");
    for needle in
        ["public client id:", "confidential client id:", "client secret:", "certificate:", "sim-client-cert.pem"]
    {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert_eq!(ok.unwrap(), 200);
    assert!(state.path().join("sim-client-key.pem").exists());
}

#[test]
fn sim_identity_client_credentials_with_secret_and_certificate() {
    let s = start("small", |_| {});
    let url = s.token_url();
    let cid = s.c.confidential_client_id.clone();
    // Secret: v2 numbers are numbers.
    let (st, _, v) = s.post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &s.c.client_secret),
            ("scope", "https://manage.office.com/.default"),
        ],
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].is_i64());
    assert!(v.get("refresh_token").is_none());
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD.decode(v["access_token"].as_str().unwrap().split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], "https://manage.office.com");
    assert_eq!(claims["tid"], s.c.tenant_id.as_str());
    assert!(claims["roles"].as_array().unwrap().iter().any(|r| r == "ActivityFeed.Read"));
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());

    // Wrong secret.
    let (st, _, v) = s.post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", "nope"),
            ("scope", "https://manage.office.com/.default"),
        ],
    );
    assert_eq!(st, 401);
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["error_codes"][0], 7000215);
    assert!(v["error_description"].as_str().unwrap().starts_with("AADSTS7000215:"));
    for k in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }

    // Certificate: RS256 with x5t and PS256 with x5t#S256.
    for (alg, s256) in [(AssertionAlg::Rs256, false), (AssertionAlg::Ps256, true)] {
        let jwt = s.assertion(alg, s256, &url, 600);
        let (st, _, v) = s.post_form(
            &url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &cid),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", &jwt),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        );
        assert_eq!(st, 200, "{alg:?}: {v}");
    }
    // The real login host in `aud` is accepted too.
    let real_aud = format!("https://login.microsoftonline.com/{}/oauth2/v2.0/token", s.c.tenant_id);
    let assertion_form = |jwt: &str| {
        s.post_form(
            &url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &cid),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", jwt),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
    };
    assert_eq!(assertion_form(&s.assertion(AssertionAlg::Rs256, true, &real_aud, 600)).0, 200);
    // Wrong audience, expired, tampered signature, unknown certificate.
    let (st, _, v) = assertion_form(&s.assertion(AssertionAlg::Rs256, false, "https://example.invalid/token", 600));
    assert_eq!((st, v["error_codes"][0].as_i64()), (401, Some(700023)), "{v}");
    let (st, _, v) = assertion_form(&s.assertion(AssertionAlg::Ps256, false, &url, -120));
    assert_eq!((st, v["error_codes"][0].as_i64()), (401, Some(700024)), "{v}");
    let good = s.assertion(AssertionAlg::Rs256, false, &url, 600);
    let tampered = format!("{}AAAA", &good[..good.len() - 4]);
    let (st, _, v) = assertion_form(&tampered);
    assert_eq!((st, v["error_codes"][0].as_i64()), (401, Some(700027)), "{v}");
    assert!(v["error_description"].as_str().unwrap().contains("signature validation"));
    let foreign =
        ClientCertificate { der: b"another certificate".to_vec(), public_key: ClientCertificate::shipped().public_key };
    let claims = json!({"aud": url, "iss": cid, "sub": cid, "jti": "x", "nbf": 0, "exp": i64::MAX / 2000});
    let jwt = sign_client_assertion(&AssertionKey::shipped(), &foreign, AssertionAlg::Rs256, false, &claims, 1);
    let (st, _, v) = assertion_form(&jwt);
    assert_eq!((st, v["error_codes"][0].as_i64()), (401, Some(700027)), "{v}");
    assert!(v["error_description"].as_str().unwrap().contains("not registered"));

    // Scope rules and unknown resources, grant types, tenants.
    let (st, _, v) = s.post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &s.c.client_secret),
            ("scope", "https://manage.office.com/ActivityFeed.Read"),
        ],
    );
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_scope")), "{v}");
    let (st, _, v) = s.post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &s.c.client_secret),
            ("scope", "https://nowhere.example/.default"),
        ],
    );
    assert_eq!((st, v["error"].as_str(), v["error_codes"][0].as_i64()), (400, Some("invalid_resource"), Some(500011)));
    let (st, _, v) = s.post_form(&url, &[("grant_type", "password"), ("client_id", &cid)]);
    assert_eq!((st, v["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (st, _, v) = s.post_form(
        &format!("{}/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token", s.c.login_url),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &s.c.client_secret),
            ("scope", "https://manage.office.com/.default"),
        ],
    );
    assert_eq!((st, v["error_codes"][0].as_i64()), (400, Some(90002)));

    // v1 endpoint with resource=: numbers as strings, resource echoed; usable on the Management API.
    let (st, _, v) = s.post_form(
        &format!("{}/{}/oauth2/token", s.c.login_url, s.c.tenant_id),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &s.c.client_secret),
            ("resource", "https://manage.office.com"),
        ],
    );
    assert_eq!(st, 200, "{v}");
    assert!(v["expires_in"].is_string() && v["expires_on"].is_string() && v["not_before"].is_string());
    assert_eq!(v["resource"], "https://manage.office.com");
    let (st, _, _) = s.get(&format!("{}/subscriptions/list", s.feed()), v["access_token"].as_str().unwrap());
    assert_eq!(st, 200);
    // v1 with a certificate whose aud is login.windows.net.
    let v1_aud = format!("https://login.windows.net/{}/oauth2/token", s.c.tenant_id);
    let (st, _, v) = s.post_form(
        &format!("{}/{}/oauth2/token", s.c.login_url, s.c.tenant_id),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", &s.assertion(AssertionAlg::Rs256, false, &v1_aud, 600)),
            ("resource", "https://manage.office.com"),
        ],
    );
    assert_eq!(st, 200, "{v}");
}

fn pkce() -> (String, String) {
    let verifier = "M25iVXpKU3puUjFaYWg3T1NDTDQtcW1ROUY5YXlwalNoc0hhakxifmZHag".to_string();
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Runs authorize → approval page → decision and returns the redirect `Location`.
fn authorize(s: &Sim, scope: &str, redirect: &str, decision: &str, login: &str) -> String {
    let (_, challenge) = pkce();
    let url = format!("{}/{}/oauth2/v2.0/authorize", s.c.login_url, s.c.tenant_id);
    let r = s
        .http
        .get(&url)
        .query(&[
            ("client_id", s.c.public_client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("response_mode", "query"),
            ("scope", scope),
            ("state", "st-42"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().unwrap();
    let request_id = page.split("name=\"request_id\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = s
        .http
        .post(&url)
        .form(&[("request_id", request_id.as_str()), ("login", login), ("password", "x"), ("decision", decision)])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    r.headers()["location"].to_str().unwrap().to_string()
}

fn query_of(location: &str) -> BTreeMap<String, String> {
    let q = location.split_once('?').map(|x| x.1).unwrap_or_default();
    url_pairs(q)
}

fn url_pairs(q: &str) -> BTreeMap<String, String> {
    q.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), percent_decode(v))).collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.replace('+', " ");
    let bytes = b.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&b[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn sim_identity_auth_code_with_pkce_and_rotating_refresh_tokens() {
    let s = start("small", |_| {});
    let redirect = "http://localhost:53682/callback";
    let victim = s.c.victim.clone().unwrap();
    let loc = authorize(&s, "https://outlook.office.com/Mail.Read offline_access openid", redirect, "approve", &victim);
    assert!(loc.starts_with(redirect), "{loc}");
    let q = query_of(&loc);
    assert_eq!(q["state"], "st-42");
    let code = q["code"].clone();
    let (verifier, _) = pkce();
    let redeem = |code: &str, verifier: &str| {
        s.post_form(
            &s.token_url(),
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &s.c.public_client_id),
                ("code", code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
                ("scope", "https://outlook.office.com/Mail.Read offline_access openid"),
            ],
        )
    };
    // A wrong verifier burns nothing but fails; Entra codes are single-use, so get a fresh one after it.
    let (st, _, v) = redeem(&code, "wrong-verifier-wrong-verifier-wrong-verifier-00");
    assert_eq!(
        (st, v["error"].as_str(), v["error_codes"][0].as_i64()),
        (400, Some("invalid_grant"), Some(501481)),
        "{v}"
    );
    let (st, _, v) = redeem(&code, &verifier);
    assert_eq!((st, v["error_codes"][0].as_i64()), (400, Some(54005)), "{v}");
    let code = query_of(&authorize(
        &s,
        "https://outlook.office.com/Mail.Read offline_access openid",
        redirect,
        "approve",
        &victim,
    ))["code"]
        .clone();
    let (st, _, v) = redeem(&code, &verifier);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["scope"], "https://outlook.office.com/Mail.Read");
    assert!(v["id_token"].is_string());
    let rt1 = v["refresh_token"].as_str().unwrap().to_string();
    let outlook_token = v["access_token"].as_str().unwrap().to_string();
    let url = format!("{}/api/v2.0/Users('{victim}')/Activities?$top=3", s.c.outlook_url);
    let r = s
        .http
        .get(&url)
        .bearer_auth(&outlook_token)
        .header("Prefer", "exchange.behavior=\"ActivityAccess\"")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // Refresh rotates: a new refresh token, the old one is refused; another resource works with the same grant.
    let refresh = |rt: &str, scope: &str| {
        s.post_form(
            &s.token_url(),
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &s.c.public_client_id),
                ("refresh_token", rt),
                ("scope", scope),
            ],
        )
    };
    let (st, _, v) = refresh(&rt1, "https://manage.office.com/ActivityFeed.Read offline_access");
    assert_eq!(st, 200, "{v}");
    let rt2 = v["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    let (st, _, v) = refresh(&rt1, "https://manage.office.com/ActivityFeed.Read offline_access");
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_grant")));
    let (st, _, _) = refresh(&rt2, "https://graph.microsoft.com/AuditLogsQuery.Read.All offline_access");
    assert_eq!(st, 200);

    // The user cancels: error=access_denied back to the loopback redirect, state kept.
    let loc = authorize(&s, "https://graph.microsoft.com/.default", "http://127.0.0.1:8400/", "deny", &victim);
    let q = query_of(&loc);
    assert_eq!(q["error"], "access_denied");
    assert!(q["error_description"].starts_with("AADSTS65004"));
    assert_eq!(q["state"], "st-42");

    // A non-loopback redirect never leaves the sim: an error page.
    let r = s
        .http
        .get(format!("{}/{}/oauth2/v2.0/authorize", s.c.login_url, s.c.tenant_id))
        .query(&[
            ("client_id", s.c.public_client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", "https://evil.example/cb"),
            ("scope", "openid"),
            ("code_challenge", "x"),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().unwrap().contains("AADSTS50011"));
    // PKCE is required (redirected error), and only S256.
    let r = s
        .http
        .get(format!("{}/{}/oauth2/v2.0/authorize", s.c.login_url, s.c.tenant_id))
        .query(&[
            ("client_id", s.c.public_client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(query_of(r.headers()["location"].to_str().unwrap())["error"], "invalid_request");
}

#[test]
fn sim_identity_device_code_flow() {
    let s = start("small", |_| {});
    let dc_url = format!("{}/{}/oauth2/v2.0/devicecode", s.c.login_url, s.c.tenant_id);
    let begin = || {
        let (st, _, v) = s.post_form(
            &dc_url,
            &[
                ("client_id", &s.c.public_client_id),
                ("scope", "https://manage.office.com/ActivityFeed.Read offline_access"),
            ],
        );
        assert_eq!(st, 200, "{v}");
        for k in ["device_code", "user_code", "verification_uri", "expires_in", "interval", "message"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert!(v.get("verification_uri_complete").is_none());
        v
    };
    let poll = |dc: &str| {
        s.post_form(
            &s.token_url(),
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", &s.c.public_client_id),
                ("device_code", dc),
            ],
        )
    };
    let decide = |user_code: &str, decision: &str| {
        s.http
            .post(format!("{}/devicelogin", s.c.login_url))
            .form(&[("user_code", user_code), ("login", s.c.users[0].as_str()), ("decision", decision)])
            .send()
            .unwrap()
    };
    let v = begin();
    let dc = v["device_code"].as_str().unwrap().to_string();
    let interval = v["interval"].as_i64().unwrap();
    let (st, _, e) = poll(&dc);
    assert_eq!(
        (st, e["error"].as_str(), e["error_codes"][0].as_i64()),
        (400, Some("authorization_pending"), Some(70016))
    );
    let (st, _, e) = poll(&dc);
    assert_eq!((st, e["error"].as_str()), (400, Some("slow_down")), "{e}");
    assert_eq!(s.http.get(format!("{}/devicelogin", s.c.login_url)).send().unwrap().status().as_u16(), 200);
    let r = decide(v["user_code"].as_str().unwrap(), "approve");
    assert_eq!(r.status().as_u16(), 200);
    s.advance(interval + 6);
    let (st, _, t) = poll(&dc);
    assert_eq!(st, 200, "{t}");
    assert!(t["refresh_token"].is_string());
    assert_eq!(s.get(&format!("{}/subscriptions/list", s.feed()), t["access_token"].as_str().unwrap()).0, 200);

    let v = begin();
    assert_eq!(decide(v["user_code"].as_str().unwrap(), "decline").status().as_u16(), 200);
    let (st, _, e) = poll(v["device_code"].as_str().unwrap());
    assert_eq!((st, e["error"].as_str()), (400, Some("authorization_declined")));

    let v = begin();
    s.advance(16 * 60);
    let (st, _, e) = poll(v["device_code"].as_str().unwrap());
    assert_eq!((st, e["error"].as_str()), (400, Some("expired_token")));
    let (st, _, e) = poll("not-a-device-code");
    assert_eq!((st, e["error"].as_str()), (400, Some("bad_verification_code")));
    assert_eq!(decide("WRONGCODE", "approve").status().as_u16(), 400);
}

#[test]
fn sim_every_api_checks_its_tokens() {
    let s = start("small", |_| {});
    let manage = s.app_token("https://manage.office.com");
    let graph = s.app_token("https://graph.microsoft.com");
    let weak_manage =
        s.app_token_for(&s.c.unprivileged_client_id, &s.c.unprivileged_client_secret, "https://manage.office.com");
    let weak_graph =
        s.app_token_for(&s.c.unprivileged_client_id, &s.c.unprivileged_client_secret, "https://graph.microsoft.com");
    let list = format!("{}/subscriptions/list", s.feed());
    // Management: no token, a Graph token (wrong audience), no permission → 401 AF10001; wrong tenant → AF20010.
    let (st, h, v) = parts(s.http.get(&list).send().unwrap());
    assert_eq!((st, error_code(&v)), (401, "AF10001"));
    assert!(h.contains_key("www-authenticate"));
    assert_eq!(s.get(&list, &graph).0, 401);
    let (st, _, v) = s.get(&list, &weak_manage);
    assert_eq!((st, error_code(&v)), (401, "AF10001"));
    assert_eq!(
        v["error"]["message"],
        "The permission set () sent in the request does not include the expected permission."
    );
    let other = format!(
        "{}/api/v1.0/0b4c1c1e-9f3a-4d55-8e2a-6f1d2c3b4a59/activity/feed/subscriptions/list",
        s.c.management_url
    );
    let (st, _, v) = s.get(&other, &manage);
    assert_eq!((st, error_code(&v)), (401, "AF20010"));
    assert!(v["error"]["message"].as_str().unwrap().contains(&s.c.tenant_id));
    let bad_guid = format!("{}/api/v1.0/not-a-guid/activity/feed/subscriptions/list", s.c.management_url);
    assert_eq!(error_code(&s.get(&bad_guid, &manage).2), "AF20013");
    // Graph: 401 InvalidAuthenticationToken with innerError; 403 without AuditLogsQuery permissions.
    let q = format!("{}/v1.0/security/auditLog/queries", s.c.graph_url);
    let (st, _, v) = parts(s.http.get(&q).send().unwrap());
    assert_eq!((st, error_code(&v)), (401, "InvalidAuthenticationToken"));
    assert!(v["error"]["innerError"]["request-id"].is_string());
    let (st, _, v) = s.get(&q, &weak_graph);
    assert_eq!((st, error_code(&v)), (403, "Forbidden"));
    // Outlook: 401 with x-ms-diagnostics carrying the reason.
    let acts = format!("{}/api/v2.0/Users('{}')/Activities", s.c.outlook_url, s.c.users[0]);
    let r =
        s.http.get(&acts).bearer_auth(&manage).header("Prefer", "exchange.behavior=\"ActivityAccess\"").send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let diag = r.headers()["x-ms-diagnostics"].to_str().unwrap();
    assert!(diag.starts_with("2000001;reason=\"") && diag.contains("error_category=\"invalid_token\""), "{diag}");
    // Tokens expire on the simulated clock.
    s.advance(3600);
    let (st, _, v) = s.get(&list, &manage);
    assert_eq!((st, error_code(&v)), (401, "AF10001"));
    assert_eq!(v["error"]["message"], "The access token has expired.");
    let (st, _, v) = s.get(&q, &graph);
    assert_eq!(st, 401);
    assert!(v["error"]["message"].as_str().unwrap().contains("expired"));
}

#[test]
fn sim_management_activity_api_end_to_end() {
    let s = start("small", |c| c.content_page_size = 7);
    let t = s.app_token("https://manage.office.com");
    let feed = s.feed();
    let ct = "Audit.Exchange";
    let content = format!("{feed}/subscriptions/content?contentType={ct}");
    let (st, _, v) = s.get(&content, &t);
    assert_eq!((st, error_code(&v)), (400, "AF20022"));
    let (st, _, v) =
        parts(s.http.post(format!("{feed}/subscriptions/start?contentType={ct}")).bearer_auth(&t).send().unwrap());
    assert_eq!(st, 200);
    assert_eq!(v, json!({"contentType": ct, "status": "enabled", "webhook": null}));
    let (st, _, v) =
        parts(s.http.post(format!("{feed}/subscriptions/start?contentType={ct}")).bearer_auth(&t).send().unwrap());
    assert_eq!((st, error_code(&v)), (400, "AF20024"));
    let (st, _, v) = parts(
        s.http
            .post(format!("{feed}/subscriptions/start?contentType=Audit.AzureActiveDirectory"))
            .bearer_auth(&t)
            .header("content-type", "application/json; utf-8")
            .body(r#"{"webhook":{"address":"https://hooks.example/x","authId":"a1","expiration":""}}"#)
            .send()
            .unwrap(),
    );
    assert_eq!(st, 200);
    assert_eq!(v["webhook"]["status"], "enabled");
    assert_eq!(v["webhook"]["address"], "https://hooks.example/x");
    let (_, _, v) = parts(
        s.http.post(format!("{feed}/subscriptions/start?contentType=Audit.Nope")).bearer_auth(&t).send().unwrap(),
    );
    assert_eq!(error_code(&v), "AF20020");
    let (st, _, v) = s.get(&format!("{feed}/subscriptions/list"), &t);
    assert_eq!(st, 200);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(v.as_array().unwrap().iter().all(|x| x["status"] == "enabled" && x.get("webhook").is_some()));

    // Window rules.
    let (st, _, v) = s.get(&format!("{content}&startTime=2025-03-13T00:00"), &t);
    assert_eq!((st, error_code(&v)), (400, "AF20055"));
    let (_, _, v) = s.get(&format!("{content}&startTime=2025-03-13T00:00&endTime=2025-03-14T00:01"), &t);
    assert_eq!(error_code(&v), "AF20055");
    let (_, _, v) = s.get(&format!("{content}&startTime=2025-03-01&endTime=2025-03-02"), &t);
    assert_eq!(error_code(&v), "AF20030");
    assert!(v["error"]["message"].as_str().unwrap().contains("7 days"));
    let (_, _, v) = s.get(&format!("{content}&startTime=2025-03-14&endTime=2025-03-14T12:00&nextPage=garbage"), &t);
    assert_eq!(error_code(&v), "AF20031");

    // Paging with NextPageUri (PublisherIdentifier carried along), blobs with `$`, duplicates, order.
    let publisher = "9f1a2b3c-4d5e-4f60-8a7b-1c2d3e4f5a6b";
    let (st, h, first) = s.get(
        &format!("{content}&startTime=2025-03-14T00:00:00&endTime=2025-03-15T00:00:00&PublisherIdentifier={publisher}"),
        &t,
    );
    assert_eq!(st, 200);
    assert_eq!(first.as_array().unwrap().len(), 7);
    let next = h["NextPageUri"].to_str().unwrap();
    assert!(next.contains("nextPage=") && next.contains(publisher), "{next}");
    for k in ["contentType", "contentId", "contentUri", "contentCreated", "contentExpiration"] {
        assert!(first[0].get(k).is_some(), "{k}");
    }
    let blobs = s.all_blobs(&t, ct);
    assert!(blobs.len() > 10);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out_of_order = false;
    let mut last_max = String::new();
    let mut all_ids = BTreeSet::new();
    for b in &blobs {
        let id = b["contentId"].as_str().unwrap();
        assert_eq!(id.matches('$').count(), 3, "{id}");
        let uri = b["contentUri"].as_str().unwrap();
        assert!(uri.ends_with(id) && uri.contains('$'));
        let (st, _, recs) = s.get(&format!("{uri}?PublisherIdentifier={publisher}"), &t);
        assert_eq!(st, 200, "{recs}");
        let recs = recs.as_array().unwrap().clone();
        let times: Vec<String> = recs.iter().map(|r| r["CreationTime"].as_str().unwrap().to_string()).collect();
        if times.iter().min().cloned().unwrap_or_default() < last_max {
            out_of_order = true;
        }
        last_max = last_max.max(times.iter().max().cloned().unwrap_or_default());
        for r in &recs {
            assert_eq!(r["Workload"], "Exchange");
            *seen.entry(r["Id"].as_str().unwrap().to_string()).or_default() += 1;
            all_ids.insert(r["Id"].as_str().unwrap().to_string());
        }
    }
    assert!(out_of_order, "blobs should not be in event order");
    assert!(seen.values().any(|n| *n > 1), "some records should appear in two blobs");
    // Every record of the tenant whose blob is available in the last 7 days was delivered.
    let tenant = Tenant::generate(s.sim.state.config.scenario.clone());
    let expected: BTreeSet<String> = (tenant.hours - 22..tenant.hours - 3)
        .flat_map(|h| tenant.hour_events(h))
        .filter(|e| tenant.content_type(e) == ct)
        .filter_map(|e| tenant.ual_record(&e))
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    assert!(!expected.is_empty() && expected.is_subset(&all_ids));

    // Blob errors: malformed id, not existing, expired (older than 7 days).
    let (st, _, v) = s.get(&format!("{feed}/audit/not-a-content-id"), &t);
    assert_eq!((st, error_code(&v)), (400, "AF20052"));
    let listed = tidemark_sim::management::BlobRef::parse(blobs[0]["contentId"].as_str().unwrap()).unwrap();
    let mut bogus = listed;
    bogus.created_ms += 1;
    assert_eq!(error_code(&s.get(&format!("{feed}/audit/{}", bogus.content_id()), &t).2), "AF20050");
    // Content expires 7 days after it was created: a fetched blob becomes AF20051 when the clock moves.
    let recent = blobs.last().unwrap()["contentUri"].as_str().unwrap().to_string();
    assert_eq!(s.get(&recent, &t).0, 200);
    s.advance(8 * 86_400);
    let fresh = s.app_token("https://manage.office.com");
    let (st, _, v) = s.get(&recent, &fresh);
    assert_eq!((st, error_code(&v)), (400, "AF20051"), "{v}");

    // Notifications and stop.
    assert_eq!(s.get(&format!("{feed}/subscriptions/notifications?contentType={ct}"), &fresh).0, 200);
    let (st, _, _) =
        parts(s.http.post(format!("{feed}/subscriptions/stop?contentType={ct}")).bearer_auth(&fresh).send().unwrap());
    assert_eq!(st, 200);
    assert_eq!(error_code(&s.get(&content, &fresh).2), "AF20022");
    let (_, _, v) = s.get(&format!("{feed}/subscriptions/list"), &fresh);
    assert!(v.as_array().unwrap().iter().any(|x| x["contentType"] == ct && x["status"] == "disabled"));
}

fn create_query(s: &Sim, token: &str, version: &str, body: &Value) -> Value {
    let (st, h, v) = parts(
        s.http
            .post(format!("{}/{version}/security/auditLog/queries", s.c.graph_url))
            .bearer_auth(token)
            .json(body)
            .send()
            .unwrap(),
    );
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["status"], "notStarted");
    assert_eq!(v["@odata.type"], "#microsoft.graph.security.auditLogQuery");
    assert!(h["location"].to_str().unwrap().ends_with(v["id"].as_str().unwrap()));
    v
}

fn wait_for(s: &Sim, token: &str, version: &str, id: &str) -> Vec<String> {
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (st, _, v) = s.get(&format!("{}/{version}/security/auditLog/queries/{id}", s.c.graph_url), token);
        assert_eq!(st, 200, "{v}");
        let status = v["status"].as_str().unwrap().to_string();
        statuses.push(status.clone());
        if status == "succeeded" || status == "failed" {
            break;
        }
    }
    statuses
}

fn all_records(s: &Sim, token: &str, version: &str, id: &str, top: usize) -> (Vec<Value>, usize) {
    let mut url = format!("{}/{version}/security/auditLog/queries/{id}/records?$top={top}", s.c.graph_url);
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let (st, _, v) = s.get(&url, token);
        assert_eq!(st, 200, "{v}");
        pages += 1;
        let page = v["value"].as_array().unwrap();
        assert!(page.len() <= top);
        out.extend(page.iter().cloned());
        match v["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    (out, pages)
}

#[test]
fn sim_graph_audit_log_queries_beta_and_v1() {
    let s = start("small", |_| {});
    let t = s.app_token("https://graph.microsoft.com");
    let tenant = Tenant::generate(s.sim.state.config.scenario.clone());
    let mut every: Vec<Value> = Vec::new();
    tenant.for_each_record(|_, r| every.push(r.clone()));
    let start_s = tidemark_sim::wire::iso_seconds_z(tenant.start_ms);
    let end_s = tidemark_sim::wire::iso_seconds_z(tenant.spec.end_ms);
    for version in ["beta", "v1.0"] {
        let q = create_query(
            &s,
            &t,
            version,
            &json!({"displayName": "all", "filterStartDateTime": start_s, "filterEndDateTime": end_s}),
        );
        let id = q["id"].as_str().unwrap();
        let (st, _, v) = s.get(&format!("{}/{version}/security/auditLog/queries/{id}/records", s.c.graph_url), &t);
        assert_eq!((st, error_code(&v)), (400, "BadRequest"), "records before success");
        assert_eq!(wait_for(&s, &t, version, id), ["running", "succeeded"]);
        let (records, pages) = all_records(&s, &t, version, id, 25);
        assert!(pages > 1);
        assert_eq!(records.len(), every.len());
        let ids: BTreeSet<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), records.len());
        let r = records.iter().find(|r| r["operation"] == "MailItemsAccessed").unwrap();
        assert_eq!(r["auditLogRecordType"], "ExchangeItemAggregated");
        assert_eq!(r["userType"], "Regular");
        assert_ne!(r["userId"], r["userPrincipalName"]);
        assert_eq!(r["userId"], r["auditData"]["UserKey"]);
        assert_eq!(r["userPrincipalName"], r["auditData"]["UserId"]);
        assert_eq!(r["auditData"]["@odata.type"], "#microsoft.graph.security.defaultAuditData");
        assert!(r["createdDateTime"].as_str().unwrap().ends_with('Z'));
    }
    let list = s.get(&format!("{}/beta/security/auditLog/queries", s.c.graph_url), &t).2;
    assert_eq!(list["value"].as_array().unwrap().len(), 2);

    // Filters: each one against the generator.
    let victim = s.c.victim.clone().unwrap();
    type Check = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(Value, Check)> = vec![
        (
            json!({"operationFilters": ["New-InboxRule", "set-mailbox"]}),
            Box::new(|r: &Value| r["Operation"] == "New-InboxRule" || r["Operation"] == "Set-Mailbox"),
        ),
        (json!({"recordTypeFilters": ["exchangeItemAggregated"]}), Box::new(|r: &Value| r["RecordType"] == 50)),
        (
            json!({"userPrincipalNameFilters": [victim.clone()]}),
            Box::new(move |r: &Value| r["UserId"] == victim.as_str()),
        ),
        (
            json!({"ipAddressFilters": [tidemark_sim::scenario::ATTACKER_IP]}),
            Box::new(|r: &Value| r["ClientIP"].as_str().unwrap().starts_with(tidemark_sim::scenario::ATTACKER_IP)),
        ),
        (json!({"keywordFilter": "wire"}), Box::new(|r: &Value| r.to_string().to_lowercase().contains("wire"))),
        (
            json!({"serviceFilter": "AzureActiveDirectory"}),
            Box::new(|r: &Value| r["Workload"] == "AzureActiveDirectory"),
        ),
    ];
    for (filter, pred) in cases {
        let mut body = json!({"filterStartDateTime": start_s, "filterEndDateTime": end_s});
        for (k, v) in filter.as_object().unwrap() {
            body[k] = v.clone();
        }
        let q = create_query(&s, &t, "beta", &body);
        let id = q["id"].as_str().unwrap();
        wait_for(&s, &t, "beta", id);
        let (records, _) = all_records(&s, &t, "beta", id, 999);
        let got: BTreeSet<String> = records.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
        let want: BTreeSet<String> =
            every.iter().filter(|r| pred(r)).map(|r| r["Id"].as_str().unwrap().to_string()).collect();
        assert!(!want.is_empty(), "{filter}");
        assert_eq!(got, want, "{filter}");
    }
    // Time filter: one day only.
    let day_start = tidemark_sim::wire::iso_seconds_z(tenant.spec.end_ms - 86_400_000);
    let q = create_query(&s, &t, "v1.0", &json!({"filterStartDateTime": day_start, "filterEndDateTime": end_s}));
    let id = q["id"].as_str().unwrap();
    wait_for(&s, &t, "v1.0", id);
    let (records, _) = all_records(&s, &t, "v1.0", id, 1000);
    assert!(records.iter().all(|r| r["createdDateTime"].as_str().unwrap() >= day_start.as_str()));
    assert!(!records.is_empty() && records.len() < every.len());
    // Bad requests.
    let (st, _, v) = parts(
        s.http
            .post(format!("{}/beta/security/auditLog/queries", s.c.graph_url))
            .bearer_auth(&t)
            .json(&json!({"displayName": "x"}))
            .send()
            .unwrap(),
    );
    assert_eq!((st, error_code(&v)), (400, "BadRequest"));
    assert_eq!(s.get(&format!("{}/beta/security/auditLog/queries/nope", s.c.graph_url), &t).0, 404);
    let (st, _, _) = s.get(&format!("{}/v1.0/security/auditLog/queries/{id}/records?$top=5000", s.c.graph_url), &t);
    assert_eq!(st, 400);
}

fn activities(s: &Sim, token: &str, upn: &str, query: &str, prefer: bool, accept_none: bool) -> (u16, Value) {
    let mut r = s.http.get(format!("{}/api/v2.0/Users('{upn}')/Activities{query}", s.c.outlook_url)).bearer_auth(token);
    if prefer {
        r = r.header("Prefer", "exchange.behavior=\"ActivityAccess\"");
    }
    if accept_none {
        r = r.header("Accept", "application/json; odata.metadata=none");
    }
    let (st, _, v) = parts(r.send().unwrap());
    (st, v)
}

#[test]
fn sim_legacy_outlook_activities_api() {
    let s = start("small", |_| {});
    let t = s.app_token("https://outlook.office.com");
    let victim = s.c.victim.clone().unwrap();
    let (st, v) = activities(&s, &t, &victim, "", false, false);
    assert_eq!((st, error_code(&v)), (400, "RequestBroker--ParseUri"));
    // Default: 10 rows, newest first, nextLink when metadata is not suppressed.
    let (st, v) = activities(&s, &t, &victim, "", true, false);
    assert_eq!(st, 200, "{v}");
    let rows = v["value"].as_array().unwrap();
    assert_eq!(rows.len(), 10);
    assert!(rows[0]["TimeStamp"].as_str() > rows[9]["TimeStamp"].as_str());
    assert!(v["@odata.nextLink"].as_str().unwrap().contains("$skip=10"));
    // The CrowdStrike retriever's exact request: $filter, $top=1000, $skip paging, $select, metadata=none.
    let tenant = Tenant::generate(s.sim.state.config.scenario.clone());
    let all = tenant.mailbox_activities(tenant.victim().unwrap().index);
    let from = tidemark_sim::wire::iso_seconds_z(tenant.start_ms);
    let to = tidemark_sim::wire::iso_seconds_z(tenant.spec.end_ms);
    let filter = format!("(TimeStamp ge {from}) and (TimeStamp le {to}) and (ActivityIdType eq 'ServerLogon' or ActivityIdType eq 'SearchResult')");
    let select =
        "TimeStamp,AppIdType,ActivityIdType,ActivityItemId,ActivityCreationTime,ClientSessionId,CustomProperties";
    let mut got = Vec::new();
    let mut skip = 0;
    loop {
        let q = format!(
            "?$filter={}&$orderby=TimeStamp%20asc&$top=3&$skip={skip}&$select={select}",
            filter.replace(' ', "%20").replace('\'', "%27")
        );
        let (st, v) = activities(&s, &t, &victim, &q, true, true);
        assert_eq!(st, 200, "{v}");
        assert!(v.get("@odata.nextLink").is_none() && v.get("@odata.context").is_none());
        let page = v["value"].as_array().unwrap().clone();
        for r in &page {
            assert_eq!(r.as_object().unwrap().len(), 7);
            assert!(r.get("Id").is_none());
        }
        let n = page.len();
        got.extend(page);
        if n < 3 {
            break;
        }
        skip += 3;
    }
    let want: Vec<&str> =
        all.iter().filter(|a| a.id_type == "ServerLogon" || a.id_type == "SearchResult").map(|a| a.id_type).collect();
    assert_eq!(got.len(), want.len());
    assert!(got.windows(2).all(|w| w[0]["TimeStamp"].as_str() <= w[1]["TimeStamp"].as_str()));
    let logon = got.iter().find(|r| r["ActivityIdType"] == "ServerLogon").unwrap();
    let props: Vec<&str> =
        logon["CustomProperties"].as_array().unwrap().iter().map(|p| p["Name"].as_str().unwrap()).collect();
    assert!(props.contains(&"ClientIP") && props.contains(&"UserAgent"));
    // EXOMailActivity's shape: one parenthesised group with AppIdType, `+` for spaces, v1.0 with Basic auth.
    let exo = "(ActivityIdType eq 'Logon' and AppIdType eq 'Web')".replace(' ', "+");
    let r = s
        .http
        .get(format!("{}/api/v1.0/Users('{victim}')/Activities?$filter={exo}&$top=500", s.c.outlook_url))
        .basic_auth(&victim, Some(&s.c.user_password))
        .header("Prefer", "exchange.behavior=\"ActivityAccess\"")
        .send()
        .unwrap();
    let (st, _, v) = parts(r);
    assert_eq!(st, 200, "{v}");
    let rows = v["value"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r["ActivityIdType"] == "Logon" && r["AppIdType"] == "Web"));
    assert!(rows[0]["@odata.id"].as_str().unwrap().contains("/api/v1.0/Users("));
    assert_eq!(rows[0]["@odata.etag"], "W/\"CQAAAA==\"");
    // Errors: $top over 1000, unknown property, bad syntax.
    assert_eq!(activities(&s, &t, &victim, "?$top=1001", true, true).0, 400);
    let (st, v) = activities(&s, &t, &victim, "?$select=Nope", true, true);
    assert_eq!(st, 400);
    assert!(v["error"]["message"].as_str().unwrap().contains("Could not find a property named 'Nope'"));
    assert_eq!(activities(&s, &t, &victim, "?$filter=(TimeStamp%20ge", true, true).0, 400);
    assert_eq!(activities(&s, &t, "nobody@fabrikam.example", "", true, true).0, 404);
    // A delegated token reads its own mailbox only.
    let other = s.c.users.iter().find(|u| **u != victim).unwrap().clone();
    let r = s
        .http
        .get(format!("{}/api/v1.0/Users('{other}')/Activities", s.c.outlook_url))
        .basic_auth(&victim, Some(&s.c.user_password))
        .header("Prefer", "exchange.behavior=\"ActivityAccess\"")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // The single activity and the /Messages companion for an ActivityItemId.
    let item = all.iter().find(|a| a.id_type == "MessageDelivered").unwrap();
    let r = s
        .http
        .get(format!("{}/api/v2.0/Users('{victim}')/Activities('{}')", s.c.outlook_url, item.id))
        .bearer_auth(&t)
        .header("Prefer", "exchange.behavior=\"ActivityAccess\"")
        .send()
        .unwrap();
    assert_eq!(r.json::<Value>().unwrap()["Id"], item.id.as_str());
    let (st, _, m) = s.get(
        &format!(
            "{}/api/v1.0/Users('{victim}')/Messages/{}?$select=Subject,From,DateTimeReceived,HasAttachments",
            s.c.outlook_url, item.item_id
        ),
        &t,
    );
    assert_eq!(st, 200, "{m}");
    let subject = item.props.iter().find(|(k, _)| k == "Subject").unwrap().1.clone();
    assert_eq!(m["Subject"], subject.as_str());
    assert!(m["From"]["EmailAddress"]["Address"].is_string() && m.get("BodyPreview").is_none());
    assert_eq!(s.get(&format!("{}/api/v1.0/Users('{victim}')/Messages/AAMkAGnope", s.c.outlook_url), &t).0, 404);
}

#[test]
fn sim_every_fault_can_be_switched_on_and_is_counted() {
    let s = start("small", |c| {
        c.faults = vec![tidemark_sim::FaultSpec::parse("throttle-429:rate=1,max=1,retry_after_s=3").unwrap()]
    });
    let mt = s.app_token("https://manage.office.com");
    let gt = s.app_token("https://graph.microsoft.com");
    let ot = s.app_token("https://outlook.office.com");
    let feed = s.feed();
    let list = format!("{feed}/subscriptions/list");
    // throttle-429 (from the run's configuration).
    let (st, h, v) = s.get(&list, &mt);
    assert_eq!((st, h["retry-after"].to_str().unwrap()), (429, "3"), "{v}");
    assert_eq!(s.get(&list, &mt).0, 200);
    assert_eq!(s.fired("throttle-429"), 1);
    // throttle-af429: 403 with AF429 and the method.
    s.set_faults(&["throttle-af429:rate=1,max=1"]);
    let (st, _, v) = s.get(&format!("{list}?PublisherIdentifier=9f1a2b3c-4d5e-4f60-8a7b-1c2d3e4f5a6b"), &mt);
    assert_eq!((st, error_code(&v)), (403, "AF429"));
    assert!(v["error"]["message"].as_str().unwrap().contains("PublisherId=9f1a2b3c-4d5e-4f60-8a7b-1c2d3e4f5a6b"));
    // server-error: a burst of 500 then 503, then service again.
    s.set_faults(&["server-error:rate=1,max=3,burst=3"]);
    let codes: Vec<u16> = (0..4).map(|_| s.get(&list, &mt).0).collect();
    assert_eq!(codes, [500, 503, 500, 200]);
    // token-expiry: the token dies mid-run; a new one works.
    s.set_faults(&["token-expiry:rate=1,max=1"]);
    let (st, _, v) = s.get(&list, &mt);
    assert_eq!((st, v["error"]["message"].as_str()), (401, Some("The access token has expired.")));
    assert_eq!(s.get(&list, &mt).0, 401, "stays expired");
    let mt = s.app_token("https://manage.office.com");
    assert_eq!(s.get(&list, &mt).0, 200);
    // slow-page.
    s.set_faults(&["slow-page:rate=1,max=1,delay_ms=700"]);
    let t0 = Instant::now();
    assert_eq!(s.get(&list, &mt).0, 200);
    assert!(t0.elapsed() >= Duration::from_millis(700));
    // connection-reset: the body stops half way.
    s.set_faults(&["connection-reset:rate=1,max=1"]);
    let r = s.http.get(&list).bearer_auth(&mt).send();
    assert!(r.is_err() || r.unwrap().bytes().is_err(), "body should be cut");
    assert_eq!(s.get(&list, &mt).0, 200);
    // duplicate-blobs and eventual-consistency on the Management API.
    parts(
        s.http.post(format!("{feed}/subscriptions/start?contentType=Audit.Exchange")).bearer_auth(&mt).send().unwrap(),
    );
    let window = format!(
        "{feed}/subscriptions/content?contentType=Audit.Exchange&startTime=2025-03-14T00:00&endTime=2025-03-15T00:00"
    );
    s.set_faults(&[]);
    let plain = s.get(&window, &mt).2.as_array().unwrap().len();
    let window2 = format!(
        "{feed}/subscriptions/content?contentType=Audit.Exchange&startTime=2025-03-13T12:00&endTime=2025-03-14T12:00"
    );
    s.set_faults(&["eventual-consistency:rate=1,max=1"]);
    let first = s.get(&window2, &mt).2.as_array().unwrap().len();
    let second = s.get(&window2, &mt).2.as_array().unwrap().len();
    assert_eq!(first + 1, second, "the newest blob shows up late");
    s.set_faults(&["duplicate-blobs:rate=1,max=2"]);
    let listed = s.get(&window, &mt).2.as_array().unwrap().clone();
    assert_eq!(listed.len(), plain + 2);
    assert_eq!(listed[0]["contentCreated"], listed[1]["contentCreated"]);
    assert_ne!(listed[0]["contentId"], listed[1]["contentId"]);
    let a = s.get(listed[0]["contentUri"].as_str().unwrap(), &mt).2;
    let b = s.get(listed[1]["contentUri"].as_str().unwrap(), &mt).2;
    assert_eq!(a, b);
    // Graph: query-failed, malformed-record, eventual-consistency.
    let tenant = Tenant::generate(s.sim.state.config.scenario.clone());
    let body = json!({"filterStartDateTime": tidemark_sim::wire::iso_seconds_z(tenant.start_ms), "filterEndDateTime": tidemark_sim::wire::iso_seconds_z(tenant.spec.end_ms)});
    s.set_faults(&["query-failed:rate=1,max=1"]);
    let q = create_query(&s, &gt, "beta", &body);
    assert_eq!(wait_for(&s, &gt, "beta", q["id"].as_str().unwrap()).last().unwrap(), "failed");
    s.set_faults(&["malformed-record:rate=1,max=1"]);
    let q = create_query(&s, &gt, "beta", &body);
    let id = q["id"].as_str().unwrap().to_string();
    wait_for(&s, &gt, "beta", &id);
    let page = s.get(&format!("{}/beta/security/auditLog/queries/{id}/records?$top=20", s.c.graph_url), &gt).2;
    let bad: Vec<&Value> = page["value"].as_array().unwrap().iter().filter(|r| r["auditData"].is_string()).collect();
    assert_eq!(bad.len(), 1);
    assert!(bad[0]["administrativeUnits"].is_string());
    s.set_faults(&["eventual-consistency:rate=1,max=1"]);
    let p1 = s.get(&format!("{}/beta/security/auditLog/queries/{id}/records?$top=20", s.c.graph_url), &gt).2;
    let p2 = s.get(p1["@odata.nextLink"].as_str().unwrap(), &gt).2;
    assert_eq!(p2["value"][0]["id"], p1["value"][19]["id"], "a record repeats across pages");
    // activities-shutdown: 403 AppId … is not allowed.
    s.set_faults(&["activities-shutdown"]);
    let victim = s.c.victim.clone().unwrap();
    let (st, v) = activities(&s, &ot, &victim, "", true, true);
    assert_eq!((st, error_code(&v)), (403, "ErrorAccessDenied"));
    assert_eq!(v["error"]["message"], format!("AppId: \"{}\" is not allowed.", s.c.confidential_client_id));
    // Every fault fired and the admin endpoint says so.
    let snapshot = s.admin("faults");
    for kind in tidemark_sim::FaultKind::ALL {
        let name = kind.name();
        assert!(snapshot["counts"][&name]["fired"].as_u64().unwrap() >= 1, "{name}: {snapshot}");
    }
    assert_eq!(snapshot["seed"], 42);
}

#[test]
fn sim_answer_key_matches_the_generated_records() {
    let s = start("demo", |_| {});
    let key = s.admin("answer-key");
    let tenant = Tenant::generate(s.sim.state.config.scenario.clone());
    let attacker_ips: Vec<String> =
        key["attacker_ips"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let session = key["attacker_session"].as_str().unwrap();
    // UAL: the key's records are exactly those from the attacker's IPs / session.
    let mut by_ip = BTreeSet::new();
    let mut texts = String::new();
    tenant.for_each_record(|_, r| {
        let ip = r["ClientIP"].as_str().unwrap_or_default();
        if attacker_ips.iter().any(|a| ip.starts_with(a.as_str())) || r["SessionId"] == session {
            by_ip.insert(r["Id"].as_str().unwrap().to_string());
            texts.push_str(&r.to_string());
        }
    });
    let keyed: BTreeSet<String> = key["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "ual")
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keyed, by_ip);
    let ops: BTreeSet<&str> =
        key["records"].as_array().unwrap().iter().map(|e| e["operation"].as_str().unwrap()).collect();
    for op in [
        "UserLoggedIn",
        "New-InboxRule",
        "MailItemsAccessed",
        "SearchQueryInitiatedExchange",
        "Send",
        "Set-Mailbox",
        "SoftDelete",
        "HardDelete",
        "SearchSuggestionsDisplay",
        "OpenedAnAttachment",
    ] {
        assert!(ops.contains(op), "{op} missing from the answer key");
    }
    // Attacker-controlled text looks like HTML/script and spreadsheet formulas: in the mailbox records,
    // and in the user agent of the attacker's own browser, which the sign-in log keeps.
    assert!(texts.contains("onerror=") && texts.contains("=HYPERLINK(") && texts.contains("=1+1"), "{texts}");
    let mut agents = String::new();
    tenant.for_each_signin(|si| {
        if si.session == session {
            agents.push_str(&tenant.signin_json(si, true)["userAgent"].to_string());
        }
    });
    assert!(agents.contains("<script>") && agents.contains("axios/1.7"), "{agents}");
    assert!(texts.contains(key["forwarding_address"].as_str().unwrap()));
    // The same story over the APIs: Graph by IP, legacy Activities by session.
    let gt = s.app_token("https://graph.microsoft.com");
    let q = create_query(
        &s,
        &gt,
        "beta",
        &json!({
            "filterStartDateTime": tidemark_sim::wire::iso_seconds_z(tenant.start_ms),
            "filterEndDateTime": tidemark_sim::wire::iso_seconds_z(tenant.spec.end_ms),
            "ipAddressFilters": attacker_ips,
        }),
    );
    let id = q["id"].as_str().unwrap();
    wait_for(&s, &gt, "beta", id);
    let (records, _) = all_records(&s, &gt, "beta", id, 999);
    let from_graph: BTreeSet<String> = records.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(from_graph, keyed);
    let ot = s.app_token("https://outlook.office.com");
    let victim = key["victim"].as_str().unwrap();
    let q = format!("?$filter=ClientSessionId%20eq%20%27{session}%27&$top=1000");
    let (st, v) = activities(&s, &ot, victim, &q, true, true);
    assert_eq!(st, 200, "{v}");
    let from_activities: BTreeSet<String> =
        v["value"].as_array().unwrap().iter().map(|a| a["Id"].as_str().unwrap().to_string()).collect();
    let keyed_activities: BTreeSet<String> = key["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "activity")
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(from_activities, keyed_activities);
    let keystrokes: Vec<String> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["ActivityIdType"] == "SearchSuggestionsDisplay")
        .map(|a| a["CustomProperties"][0]["Value"].as_str().unwrap().to_string())
        .collect();
    for prefix in ["i", "in", "inv", "invoice", "w", "wire", "payment"] {
        assert!(keystrokes.iter().any(|k| k == prefix), "{prefix} not typed: {keystrokes:?}");
    }
}

#[test]
fn sim_scenario_is_deterministic_and_generated_lazily() {
    let small = |seed| {
        let mut spec = tidemark_sim::ScenarioSpec::preset("small").unwrap();
        spec.seed = seed;
        Tenant::generate(spec)
    };
    let ids = |t: &Tenant| {
        let mut v = Vec::new();
        t.for_each_record(|_, r| v.push(r["Id"].as_str().unwrap().to_string()));
        v
    };
    assert_eq!(ids(&small(7)), ids(&small(7)));
    assert_ne!(ids(&small(7)), ids(&small(8)));
    // The 10-million-record preset: generating the tenant holds no records; one hour is computed on demand.
    let started = Instant::now();
    let large = Tenant::generate(tidemark_sim::ScenarioSpec::preset("large").unwrap());
    assert_eq!(large.mailboxes.len(), 2000);
    let busy = large.hour_events(24 * 4 + 10);
    assert!(busy.len() > 5_000, "{}", busy.len());
    assert!(started.elapsed() < Duration::from_secs(20));
    let mut custom = tidemark_sim::ScenarioSpec::preset("small").unwrap();
    custom.extra_ips = vec!["100.64.0.9".into()];
    custom.mailboxes = 6;
    let t = Tenant::generate(custom);
    assert_eq!(t.mailboxes[2].home_ip, "100.64.0.9");
    assert!(t.mailboxes.iter().all(|m| m.office_ip.starts_with("31.49.58.")));
}

#[test]
fn sim_export_goose_jsonl_imports_with_the_exact_event_count() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ual_goose.json");
    let key = dir.path().join("answer-key.json");
    let o = Command::new(binary("tidemark-sim"))
        .args([
            "export",
            "--scenario",
            "small",
            "--format",
            "goose-jsonl",
            "--out",
            out.to_str().unwrap(),
            "--answer-key",
            key.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let tenant = Tenant::generate(tidemark_sim::ScenarioSpec::preset("small").unwrap());
    let n = tidemark_sim::export::count_records(&tenant);
    let lines = tidemark_sim::export::read_jsonl(&out).unwrap();
    assert_eq!(lines.len() as u64, n);
    assert!(serde_json::from_str::<Value>(&std::fs::read_to_string(&key).unwrap()).unwrap()["records"].is_array());
    let case = dir.path().join("c.tidemark");
    let tidemark =
        |args: &[&str]| Command::new(binary("tidemark")).args(args).env("USER", "sim-tester").output().unwrap();
    assert!(tidemark(&["case", "new", case.to_str().unwrap(), "--name", "sim"]).status.success());
    let o = tidemark(&["import", case.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(&format!("{n} records read, {n} new events")), "{text}");
}

#[test]
fn sim_exports_are_deterministic_and_shaped_like_their_tools() {
    let tenant = Tenant::generate(tidemark_sim::ScenarioSpec::preset("small").unwrap());
    let n = tidemark_sim::export::count_records(&tenant);
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let purview = export(&tenant, ExportFormat::PurviewCsv, &p("purview.csv"), None).unwrap();
    assert_eq!(purview.records, n);
    let text = std::fs::read_to_string(p("purview.csv")).unwrap();
    assert!(text.starts_with("\u{feff}RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n"));
    assert!(text.lines().nth(1).unwrap().ends_with(",,"));
    let sual = std::fs::read_to_string({
        export(&tenant, ExportFormat::SualCsv, &p("sual.csv"), None).unwrap();
        p("sual.csv")
    })
    .unwrap();
    assert!(sual.starts_with("\u{feff}#TYPE Deserialized.Microsoft.Exchange.Data.ApplicationLogic.UnifiedAuditLogEvent\r\n\"RecordType\",\"CreationDate\""));
    let blobs = export(&tenant, ExportFormat::MgmtBlobs, &p("blobs"), None).unwrap();
    assert_eq!(blobs.distinct, n);
    assert!(blobs.records > n, "blobs repeat some records");
    assert!(blobs.files.iter().all(|f| f.file_name().unwrap().to_str().unwrap().contains('$')));
    let graph = export(&tenant, ExportFormat::GraphJson, &p("graph.json"), None).unwrap();
    assert_eq!(graph.records, n);
    let g: Value = serde_json::from_str(&std::fs::read_to_string(p("graph.json")).unwrap()).unwrap();
    assert_eq!(g.as_array().unwrap().len() as u64, n);
    export(&tenant, ExportFormat::MesJsonl, &p("mes.jsonl"), None).unwrap();
    let mes = tidemark_sim::export::read_jsonl(&p("mes.jsonl")).unwrap();
    assert!(mes[0]["AuditData"].is_string());
    export(&tenant, ExportFormat::MesJson, &p("mes.json"), None).unwrap();
    let mes_json = std::fs::read_to_string(p("mes.json")).unwrap();
    assert!(mes_json.matches("\r\n]\r\n[").count() >= 1, "one array per day, concatenated");
    let r = export(&tenant, ExportFormat::RetrieverCsv, &p("retriever.csv"), None).unwrap();
    let csv = std::fs::read_to_string(p("retriever.csv")).unwrap();
    assert!(csv.starts_with("\u{feff}TimeStamp,AppIdType,ActivityIdType,ActivityItemId,ActivityCreationTime,ClientSessionId,CustomProperties\n"));
    assert!(!csv.contains("\r\n"), "LF line endings");
    assert!(csv.contains("\"{'UserName': '"), "Python-literal dict");
    assert_eq!(csv.lines().count() as u64, r.records + 1);
    // Same seed, same bytes.
    export(&tenant, ExportFormat::GooseJsonl, &p("a.jsonl"), None).unwrap();
    export(
        &Tenant::generate(tidemark_sim::ScenarioSpec::preset("small").unwrap()),
        ExportFormat::GooseJsonl,
        &p("b.jsonl"),
        None,
    )
    .unwrap();
    assert_eq!(std::fs::read(p("a.jsonl")).unwrap(), std::fs::read(p("b.jsonl")).unwrap());
}

#[test]
fn sim_every_export_format_imports_with_identical_event_counts() {
    let tenant = Tenant::generate(tidemark_sim::ScenarioSpec::preset("small").unwrap());
    let n = tidemark_sim::export::count_records(&tenant);
    let activities = tenant.mailbox_activities(tenant.victim().unwrap().index).len() as u64;
    let dir = tempfile::tempdir().unwrap();
    let tidemark =
        |args: &[&str]| Command::new(binary("tidemark")).args(args).env("USER", "sim-tester").output().unwrap();
    let formats = [
        ("purview-csv", "purview.csv", n, n),
        ("sual-csv", "sual.csv", n, n),
        ("mes-json", "mes.json", n, n),
        ("mes-jsonl", "mes.jsonl", n, n),
        ("graph-json", "graph.json", n, n),
        ("goose-jsonl", "goose.json", n, n),
        ("retriever-csv", "retriever.csv", activities, activities),
    ];
    let blobs = export(&tenant, ExportFormat::MgmtBlobs, &dir.path().join("probe"), None).unwrap();
    for (format, file, read, events) in formats.into_iter().chain([("mgmt-blobs", "blobs", blobs.records, n)]) {
        let out = dir.path().join(file);
        let o = Command::new(binary("tidemark-sim"))
            .args(["export", "--scenario", "small", "--format", format, "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{format}: {o:?}");
        let case = dir.path().join(format!("{format}.tidemark"));
        assert!(tidemark(&["case", "new", case.to_str().unwrap(), "--name", format]).status.success());
        let o = tidemark(&["import", case.to_str().unwrap(), out.to_str().unwrap()]);
        assert!(o.status.success(), "{format}: {o:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        let dups = read - events;
        assert!(
            text.contains(&format!("{read} records read, {events} new events, {dups} duplicates, 0 malformed")),
            "{format}: {text}"
        );
    }
}
