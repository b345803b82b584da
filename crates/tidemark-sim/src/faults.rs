//! Switchable faults: the ways Microsoft's services misbehave that a collection client must survive.
//!
//! Each fault is off unless the run switches it on (flag, config file, or `PUT /_sim/faults`). Whether
//! a fault fires on a given eligible request is decided by hashing (seed, fault, n-th eligible request),
//! so a sequential client sees the same faults on every run with the same seed. Every firing is counted,
//! and `GET /_sim/faults` shows the counts, so a test can assert the client met the fault and recovered.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::prng::mix;

/// The faults the sim can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// `429 Too Many Requests` with `Retry-After` (any API).
    #[serde(rename = "throttle-429")]
    Throttle429,
    /// `403` with `{"error":{"code":"AF429",…}}` (Management API, as documented).
    #[serde(rename = "throttle-af429")]
    ThrottleAf429,
    /// Bursts of `500`/`503` (any API).
    ServerError,
    /// The caller's access token is declared expired in the middle of a run (any API).
    TokenExpiry,
    /// One record of a Graph page (audit query records, Entra sign-ins and audits) has the wrong JSON types.
    MalformedRecord,
    /// Content listings name the same blob twice under different ids (Management API).
    DuplicateBlobs,
    /// The response is delayed (any API).
    SlowPage,
    /// The connection is dropped after part of the body was sent (any API).
    ConnectionReset,
    /// Counts change between pages: a Graph page (audit query records, Entra logs) repeats a record of
    /// the previous page; a Management listing omits its newest blob the first time a window is listed.
    EventualConsistency,
    /// The legacy Activities API answers `403 AppId … is not allowed.` as since July 2018.
    ActivitiesShutdown,
    /// Graph audit queries end in `failed`.
    QueryFailed,
}

impl FaultKind {
    /// Every kind, in display order.
    pub const ALL: [FaultKind; 11] = [
        FaultKind::Throttle429,
        FaultKind::ThrottleAf429,
        FaultKind::ServerError,
        FaultKind::TokenExpiry,
        FaultKind::MalformedRecord,
        FaultKind::DuplicateBlobs,
        FaultKind::SlowPage,
        FaultKind::ConnectionReset,
        FaultKind::EventualConsistency,
        FaultKind::ActivitiesShutdown,
        FaultKind::QueryFailed,
    ];

    /// The kebab-case name used in flags, config files and the admin endpoint.
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }

    fn default_rate(self) -> f64 {
        match self {
            FaultKind::ActivitiesShutdown => 1.0,
            FaultKind::TokenExpiry => 0.05,
            _ => 0.1,
        }
    }
}

/// One switched-on fault.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultSpec {
    /// Which fault.
    pub kind: FaultKind,
    /// Probability per eligible request (1.0 = every time).
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// Stop after this many firings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    /// `server-error`: how many consecutive requests fail once it fires (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    /// `slow-page`: delay in ms (default 1500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// `throttle-429` / `throttle-af429`: the `Retry-After` seconds (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

fn default_rate() -> f64 {
    0.1
}

impl FaultSpec {
    /// Parses `KIND[:key=value,…]` with keys `rate`, `max`, `burst`, `delay_ms`, `retry_after_s`,
    /// e.g. `throttle-429:rate=0.2,retry_after_s=3` or `activities-shutdown`.
    pub fn parse(s: &str) -> Result<FaultSpec, String> {
        let (kind, opts) = s.split_once(':').unwrap_or((s, ""));
        let kind: FaultKind = serde_json::from_value(Value::from(kind.trim())).map_err(|_| {
            let names: Vec<String> = FaultKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown fault {kind:?}; expected one of {}", names.join(", "))
        })?;
        let mut spec =
            FaultSpec { kind, rate: kind.default_rate(), max: None, burst: None, delay_ms: None, retry_after_s: None };
        for kv in opts.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = kv.split_once('=').ok_or_else(|| format!("expected key=value in {kv:?}"))?;
            let bad = |_| format!("bad value for {k}: {v:?}");
            match k.trim() {
                "rate" => spec.rate = v.trim().parse().map_err(|_| format!("bad rate {v:?}"))?,
                "max" => spec.max = Some(v.trim().parse().map_err(bad)?),
                "burst" => spec.burst = Some(v.trim().parse().map_err(bad)?),
                "delay_ms" => spec.delay_ms = Some(v.trim().parse().map_err(bad)?),
                "retry_after_s" => spec.retry_after_s = Some(v.trim().parse().map_err(bad)?),
                other => return Err(format!("unknown fault option {other:?}")),
            }
        }
        Ok(spec)
    }
}

#[derive(Debug, Default, Clone)]
struct Tally {
    eligible: u64,
    fired: u64,
    /// Firings since the plan was last replaced (what `max` limits).
    fired_in_plan: u64,
    burst_left: u64,
}

/// The run's fault plan and its counters.
#[derive(Debug)]
pub struct FaultBoard {
    seed: u64,
    inner: Mutex<(Vec<FaultSpec>, BTreeMap<FaultKind, Tally>)>,
}

impl FaultBoard {
    /// A board with these faults switched on.
    pub fn new(seed: u64, specs: Vec<FaultSpec>) -> Self {
        FaultBoard { seed, inner: Mutex::new((specs, BTreeMap::new())) }
    }

    /// Replaces the plan. The totals shown at `/_sim/faults` are kept; `max` counts from now.
    pub fn replace(&self, specs: Vec<FaultSpec>) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 = specs;
        for t in g.1.values_mut() {
            t.fired_in_plan = 0;
            t.burst_left = 0;
        }
    }

    /// Whether `kind` is switched on at all (no counting).
    pub fn is_on(&self, kind: FaultKind) -> bool {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0.iter().any(|s| s.kind == kind)
    }

    /// Counts an eligible request for `kind` and decides whether the fault fires on it.
    pub fn roll(&self, kind: FaultKind) -> Option<FaultSpec> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let spec = g.0.iter().find(|s| s.kind == kind)?.clone();
        let seed = self.seed;
        let t = g.1.entry(kind).or_default();
        t.eligible += 1;
        if t.burst_left > 0 {
            t.burst_left -= 1;
            t.fired += 1;
            t.fired_in_plan += 1;
            return Some(spec);
        }
        if spec.max.is_some_and(|m| t.fired_in_plan >= m) {
            return None;
        }
        let h = mix(seed ^ mix(kind as u64 + 1) ^ t.eligible.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let x = (h >> 11) as f64 / (1u64 << 53) as f64;
        if x < spec.rate {
            t.fired += 1;
            t.fired_in_plan += 1;
            if kind == FaultKind::ServerError {
                t.burst_left = spec.burst.unwrap_or(3).saturating_sub(1);
                if let Some(m) = spec.max {
                    t.burst_left = t.burst_left.min(m.saturating_sub(t.fired_in_plan));
                }
            }
            Some(spec)
        } else {
            None
        }
    }

    /// Firing count of one fault.
    pub fn fired(&self, kind: FaultKind) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).1.get(&kind).map_or(0, |t| t.fired)
    }

    /// What `GET /_sim/faults` shows: the plan, and per kind how often it was eligible and fired.
    pub fn snapshot(&self) -> Value {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let counts: serde_json::Map<String, Value> = FaultKind::ALL
            .iter()
            .map(|k| {
                let t = g.1.get(k).cloned().unwrap_or_default();
                (k.name(), json!({"eligible": t.eligible, "fired": t.fired}))
            })
            .collect();
        json!({"seed": self.seed, "enabled": g.0, "counts": counts})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_fire_deterministically() {
        let s = FaultSpec::parse("throttle-429:rate=0.5,max=3,retry_after_s=4").unwrap();
        assert_eq!(s.kind, FaultKind::Throttle429);
        assert_eq!(s.max, Some(3));
        assert!(FaultSpec::parse("nope").is_err());
        let run = || {
            let b = FaultBoard::new(9, vec![s.clone()]);
            (0..20).map(|_| b.roll(FaultKind::Throttle429).is_some()).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        assert_eq!(run().iter().filter(|x| **x).count(), 3);
        let b = FaultBoard::new(1, vec![FaultSpec::parse("server-error:rate=1,max=1,burst=3").unwrap()]);
        assert!(b.roll(FaultKind::ServerError).is_some());
        assert!(b.roll(FaultKind::ServerError).is_none());
        assert!(b.roll(FaultKind::Throttle429).is_none());
    }
}
