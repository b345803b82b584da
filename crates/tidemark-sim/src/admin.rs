//! Admin endpoints under `/_sim`, for tests and for a person watching the sim: fault plan and counters,
//! the simulated clock, the answer key, the test credentials, and registering another certificate
//! (as the Tidemark app does when it generates its own).
//!
//! They need no token: the sim only listens on loopback, and these endpoints exist so a test can
//! observe what a client went through.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::certificate::ClientCertificate;
use crate::faults::FaultSpec;
use crate::server::{ServiceRouter, SimState};
use crate::wire::iso_ms;

pub(crate) fn routes() -> ServiceRouter {
    Router::new()
        .route("/faults", get(faults).put(set_faults))
        .route("/clock", get(clock).post(advance_clock))
        .route("/answer-key", get(answer_key))
        .route("/credentials", get(credentials))
        .route("/scenario", get(scenario))
        .route("/certificates", post(add_certificate))
}

async fn faults(State(s): State<Arc<SimState>>) -> Response {
    Json(s.faults.snapshot()).into_response()
}

/// Body: a JSON array of fault specs (objects like `{"kind":"throttle-429","rate":1,"max":2}` or
/// strings like `"throttle-429:rate=1,max=2"`), or `{"faults":[…]}`. Replaces the plan.
async fn set_faults(State(s): State<Arc<SimState>>, body: axum::body::Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not JSON: {e}")).into_response(),
    };
    let list = v.get("faults").cloned().unwrap_or(v);
    let Some(items) = list.as_array() else {
        return (StatusCode::BAD_REQUEST, "expected an array of faults").into_response();
    };
    let mut specs = Vec::new();
    for item in items {
        let spec = match item {
            Value::String(text) => FaultSpec::parse(text),
            other => serde_json::from_value::<FaultSpec>(other.clone()).map_err(|e| e.to_string()),
        };
        match spec {
            Ok(x) => specs.push(x),
            Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
        }
    }
    s.faults.replace(specs);
    Json(s.faults.snapshot()).into_response()
}

async fn clock(State(s): State<Arc<SimState>>) -> Response {
    let now = s.now_ms();
    Json(json!({"now": iso_ms(now), "now_ms": now})).into_response()
}

/// Body: `{"advance_s": N}` or `{"advance_ms": N}`.
async fn advance_clock(State(s): State<Arc<SimState>>, Json(v): Json<Value>) -> Response {
    let ms = v
        .get("advance_ms")
        .and_then(Value::as_i64)
        .or_else(|| v.get("advance_s").and_then(Value::as_i64).map(|x| x * 1000));
    let Some(ms) = ms else {
        return (StatusCode::BAD_REQUEST, "expected {\"advance_s\": N} or {\"advance_ms\": N}").into_response();
    };
    s.clock.advance_ms(ms);
    clock(State(s)).await
}

async fn answer_key(State(s): State<Arc<SimState>>) -> Response {
    match s.tenant.answer_key() {
        Some(k) => Json(k).into_response(),
        None => (StatusCode::NOT_FOUND, "this scenario has no storyline").into_response(),
    }
}

async fn credentials(State(s): State<Arc<SimState>>) -> Response {
    Json(s.credentials()).into_response()
}

async fn scenario(State(s): State<Arc<SimState>>) -> Response {
    Json(json!({
        "spec": s.tenant.spec,
        "tenant_id": s.tenant.tenant_id,
        "start": iso_ms(s.tenant.start_ms),
        "end": iso_ms(s.tenant.spec.end_ms),
        "mailboxes": s.tenant.mailboxes,
    }))
    .into_response()
}

/// Body: a PEM certificate; it is registered on the confidential client.
async fn add_certificate(State(s): State<Arc<SimState>>, body: String) -> Response {
    match ClientCertificate::from_pem(&body) {
        Ok(c) => {
            let out = json!({"x5t": c.x5t(), "x5t#S256": c.x5t_s256(), "thumbprint": c.thumbprint_hex()});
            s.directory.certificates.lock().unwrap_or_else(|e| e.into_inner()).push(c);
            Json(out).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}
