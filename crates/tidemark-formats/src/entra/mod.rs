//! Microsoft Entra ID sign-in logs and directory audit logs, as evidence beside the mailbox records.
//!
//! A mailbox compromise starts with a sign-in, and the attacker's persistence (an MFA method, an app
//! secret, a consent grant, a role) is written to the directory audit log, not to the Unified Audit
//! Log's mailbox records. Investigators receive both logs in many shapes; each is one format here,
//! recognised by content, never by file name:
//!
//! | id | what | recognised by |
//! |---|---|---|
//! | `entra-signin-json` | Graph `signIn` objects (v1.0 and beta): pages, arrays, JSON Lines; the admin center's JSON download; Extractor-Suite `Get-GraphEntraSignInLogs` (camelCase, one array per page or one object per line) and Graph PowerShell `ConvertTo-Json` output (PascalCase) | `createdDateTime` with `appDisplayName`/`appId`/`ipAddress` and `status`/`userPrincipalName`/`signInEventTypes`/`servicePrincipalId`, any key case; an empty page by its `@odata.context` |
//! | `entra-signin-la` | Log Analytics / Sentinel `SigninLogs`, `AADNonInteractiveUserSignInLogs`, `AADServicePrincipalSignInLogs`, `AADManagedIdentitySignInLogs` rows, JSON/JSON Lines or CSV | `Type`/`Category` naming one of those tables, or `TimeGenerated` + `ResultType` + an address or app column |
//! | `entra-signin-csv` | the admin center's sign-in CSV downloads (every tab) | `Date (UTC)`, `Request ID`, `Status`, `Sign-in error code` |
//! | `entra-audit-json` | Graph `directoryAudit` objects (pages, arrays, JSON Lines, Extractor-Suite), Log Analytics `AuditLogs` rows as JSON | `activityDisplayName` + `activityDateTime` (any key case) |
//! | `entra-audit-csv` | the admin center's audit CSV download; Log Analytics `AuditLogs` rows as CSV | `Date (UTC)` + `Activity` + `CorrelationId`; or `ActivityDisplayName` + `InitiatedBy`/`TargetResources` |
//!
//! Every shape is read into one view first: keys folded to lower case (Graph writes camelCase, Log
//! Analytics and PowerShell PascalCase, `targetResources` even mixes `Type` and `type`), a PowerShell
//! object's `AdditionalProperties` merged into it, and nested values that Log Analytics stores as JSON
//! *strings* parsed when they are read ([`object`], [`array`]). [`signin`] and [`audit`] normalize that
//! view, so the same sign-in from Graph, Log Analytics and the portal CSV is one event with one key:
//! `signin:` + the sign-in id in lower case (`entra-audit:` + id for directory audits).
//!
//! Modules: [`signin`] (sign-ins, the two JSON sign-in formats), [`audit`] (directory audits, their
//! action categories, the audit JSON format), [`csv`] (the portal and Log Analytics CSVs), [`codes`]
//! (AADSTS codes in plain words, legacy client names).

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

use crate::json_stream::{top_level_members, Probe};
use crate::time::parse_utc_ms;

pub mod audit;
pub mod codes;
pub mod csv;
pub mod signin;

#[cfg(test)]
mod tests;

pub use audit::EntraAuditJson;
pub use csv::{EntraAuditCsv, EntraSigninCsv};
pub use signin::{EntraSigninJson, EntraSigninLa};

/// A record with its keys folded to lower case (see [`fold`]).
pub type Rec = Map<String, Value>;

/// A key as compared: trimmed, a Log Analytics ` [UTC]` suffix removed, runs of spaces as one, lower
/// case (`"TimeGenerated [UTC]"` → `timegenerated`, `"Autonomous system  number"` → `autonomous system
/// number`).
pub fn norm_key(k: &str) -> String {
    let k = k.trim();
    // Compared as bytes: the suffix is ASCII, so cutting it off cuts at a character boundary.
    let suffixed = k.len() > 6 && k.as_bytes()[k.len() - 6..].eq_ignore_ascii_case(b" [utc]");
    let k = if suffixed { &k[..k.len() - 6] } else { k };
    k.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Folds every object's keys with [`norm_key`], recursively, and merges a PowerShell
/// `AdditionalProperties` object into its parent. When two keys fold to the same name, the first
/// non-blank value wins.
pub fn fold(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            let mut extra = Vec::new();
            for (k, v) in m {
                let k = norm_key(&k);
                if k == "additionalproperties" && v.is_object() {
                    extra.push(fold(v));
                    continue;
                }
                put(&mut out, k, fold(v));
            }
            for e in extra {
                if let Value::Object(e) = e {
                    for (k, v) in e {
                        put(&mut out, k, v);
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(fold).collect()),
        other => other,
    }
}

fn put(out: &mut Rec, k: String, v: Value) {
    match out.get(&k) {
        Some(old) if !is_blank(old) => {}
        _ => {
            out.insert(k, v);
        }
    }
}

/// Parses one record's JSON text into a folded [`Rec`].
pub fn parse_record(bytes: &[u8], what: &str) -> Result<Rec, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
    match fold(v) {
        Value::Object(m) => Ok(m),
        _ => Err(format!("not {what}: expected a JSON object")),
    }
}

/// A scalar as text: strings trimmed (empty is absent), numbers and booleans as written.
pub fn scalar(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s.trim())).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// The first of these members that holds a non-empty scalar, as text.
pub fn text(m: &Rec, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| m.get(*k).and_then(scalar)).map(Cow::into_owned)
}

/// A string that holds a JSON object or array (Log Analytics' nested columns), parsed and folded.
fn unstring(v: &Value) -> Option<Value> {
    let s = v.as_str()?.trim();
    let wrapped = (s.starts_with('{') && s.ends_with('}')) || (s.starts_with('[') && s.ends_with(']'));
    if !wrapped {
        return None;
    }
    serde_json::from_str::<Value>(s).ok().map(fold)
}

/// A member as an object, whether nested or a JSON string holding one.
pub fn object(m: &Rec, key: &str) -> Option<Rec> {
    match m.get(key)? {
        Value::Object(o) => Some(o.clone()),
        v => match unstring(v)? {
            Value::Object(o) => Some(o),
            _ => None,
        },
    }
}

/// A member as an array, whether nested or a JSON string holding one; anything else is empty.
pub fn array(m: &Rec, key: &str) -> Vec<Value> {
    match m.get(key) {
        Some(Value::Array(a)) => a.clone(),
        Some(v) => match unstring(v) {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// A member as an integer (a number or a numeric string).
pub fn int(m: &Rec, key: &str) -> Option<i64> {
    match m.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A member as a boolean (`true`, `"True"`, `"Yes"`, `"1"` …).
pub fn boolean(m: &Rec, key: &str) -> Option<bool> {
    match m.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        _ => None,
    }
}

/// A member as a number (a number or a numeric string).
pub fn number(m: &Rec, key: &str) -> Option<Number> {
    match m.get(key)? {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().map(Number::from).or_else(|| s.parse::<f64>().ok().and_then(Number::from_f64))
        }
        _ => None,
    }
}

/// A timestamp as Entra exports write it: ISO 8601 ([`parse_utc_ms`]), or PowerShell 5.1's
/// `/Date(ms)/`. Culture-formatted dates are refused, never guessed.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits = ms.strip_prefix('-').map_or(ms, |d| d);
        let end = digits.find(['+', '-']).unwrap_or(digits.len());
        let v: i64 = digits[..end].parse().ok()?;
        return Some(if ms.starts_with('-') { -v } else { v });
    }
    parse_utc_ms(s)
}

/// The time of a record from the first of these members that has one; `Err` names the problem.
pub fn time_of(m: &Rec, keys: &[&str]) -> Result<i64, String> {
    let Some((key, raw)) = keys.iter().find_map(|k| m.get(*k).and_then(scalar).map(|v| (*k, v))) else {
        return Err(format!("the record has no {}", keys.join(" or ")));
    };
    parse_time(&raw).ok_or_else(|| format!("{key} \"{raw}\" is not a date and time"))
}

/// The `details` object being built: only values that are present are kept.
#[derive(Debug, Default)]
pub struct Details(pub Map<String, Value>);

impl Details {
    /// A text value, unless empty.
    pub fn str(&mut self, key: &str, v: Option<impl AsRef<str>>) {
        if let Some(v) = v {
            let v = v.as_ref().trim();
            if !v.is_empty() {
                self.0.insert(key.to_owned(), Value::String(v.to_owned()));
            }
        }
    }
    /// A boolean value.
    pub fn bool(&mut self, key: &str, v: Option<bool>) {
        if let Some(v) = v {
            self.0.insert(key.to_owned(), Value::Bool(v));
        }
    }
    /// A number.
    pub fn num(&mut self, key: &str, v: Option<Number>) {
        if let Some(v) = v {
            self.0.insert(key.to_owned(), Value::Number(v));
        }
    }
}

/// The first record's top-level keys, folded, with their string values as written.
pub(crate) fn head_keys(p: &Probe) -> Vec<(String, Option<String>)> {
    top_level_members(&p.first).into_iter().map(|(k, v)| (norm_key(&k), v)).collect()
}

/// Whether folded keys include `key`.
pub(crate) fn has(keys: &[(String, Option<String>)], key: &str) -> bool {
    keys.iter().any(|(k, _)| k == key)
}

/// The string value of a folded key, as written.
pub(crate) fn value<'a>(keys: &'a [(String, Option<String>)], key: &str) -> Option<&'a str> {
    keys.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_deref())
}

/// Whether an empty page's `@odata.context` names this Graph collection (`auditlogs/signins`).
pub(crate) fn empty_page_of(p: &Probe, collection: &str) -> bool {
    p.first.is_empty() && p.page_member("@odata.context").is_some_and(|c| c.to_ascii_lowercase().contains(collection))
}
