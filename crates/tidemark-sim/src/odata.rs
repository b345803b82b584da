//! The OData `$filter` subset Microsoft documents for the Entra audit logs, parsed strictly.
//!
//! Collectors build filters like `createdDateTime ge 2025-03-12T00:00:00Z and createdDateTime lt
//! 2025-03-13T00:00:00Z and (signInEventTypes/any(t: t eq 'nonInteractiveUser'))` (the form in
//! Microsoft's "Analyze activity logs with Microsoft Graph" and the List signIns examples). The sim
//! accepts exactly that grammar — clauses joined by `and`, each optionally in parentheses: a time
//! comparison (`ge`, `gt`, `le`, `lt`, unquoted ISO timestamps), `PATH eq 'text'` or `PATH eq 123`
//! on the properties the caller allows, and the `any` lambda over `signInEventTypes` with `or`
//! between its terms — and refuses anything else with Graph's 400, so a client cannot rely on a
//! filter Microsoft would reject.

use serde_json::Value;

/// A parsed filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Inclusive lower bound (Unix ms).
    pub from_ms: Option<i64>,
    /// Exclusive upper bound (Unix ms).
    pub to_ms: Option<i64>,
    /// `signInEventTypes/any(…)` values, if the filter names any.
    pub event_types: Option<Vec<String>>,
    /// `path eq value` clauses: the property path split at `/`, and the value.
    pub equals: Vec<(Vec<String>, Value)>,
}

impl Filter {
    /// Whether a time falls inside the bounds.
    pub fn time_ok(&self, ms: i64) -> bool {
        self.from_ms.is_none_or(|f| ms >= f) && self.to_ms.is_none_or(|t| ms < t)
    }

    /// Whether every `eq` clause holds for a record (strings compared without case, as Graph does).
    pub fn equals_ok(&self, record: &Value) -> bool {
        self.equals.iter().all(|(path, want)| {
            let mut v = record;
            for p in path {
                v = &v[p.as_str()];
            }
            match (v, want) {
                (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
                (a, b) => a == b,
            }
        })
    }
}

/// Splits at top-level ` and ` (outside quotes and parentheses).
fn split_and(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut quoted, mut start) = (Vec::new(), 0i32, false, 0usize);
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            b' ' if !quoted && depth == 0 && s[i..].len() > 5 && s[i..i + 5].eq_ignore_ascii_case(" and ") => {
                out.push(&s[start..i]);
                i += 5;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// Removes parentheses around a whole clause.
fn unwrap_parens(mut s: &str) -> &str {
    loop {
        s = s.trim();
        let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) else { return s };
        // Only when the opening parenthesis closes at the very end.
        let mut depth = 0;
        let whole = s.char_indices().all(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth > 0 || i == s.len() - 1
        });
        if !whole {
            return s;
        }
        s = inner;
    }
}

fn literal(s: &str) -> Option<Value> {
    let s = s.trim();
    if let Some(q) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(Value::String(q.replace("''", "'")));
    }
    s.parse::<i64>().ok().map(Value::from)
}

/// `signInEventTypes/any(t: t eq 'a' or t eq 'b')` → `["a", "b"]`.
fn any_event_types(clause: &str) -> Option<Result<Vec<String>, String>> {
    let lower = clause.to_ascii_lowercase();
    let rest = lower.strip_prefix("signineventtypes/any(")?;
    let body = &clause[clause.len() - rest.len()..];
    let Some(body) = body.trim_end().strip_suffix(')') else {
        return Some(Err(format!("Invalid filter clause: '{clause}'")));
    };
    let Some((var, terms)) = body.split_once(':') else {
        return Some(Err(format!("Invalid filter clause: '{clause}'")));
    };
    let var = var.trim();
    let mut out = Vec::new();
    for term in terms.split(" or ") {
        let term = term.trim();
        let parsed = term
            .strip_prefix(var)
            .map(str::trim_start)
            .and_then(|t| t.strip_prefix("eq "))
            .and_then(literal)
            .and_then(|v| v.as_str().map(str::to_string));
        match parsed {
            Some(v) => out.push(v),
            None => return Some(Err(format!("Invalid filter clause: '{clause}'"))),
        }
    }
    Some(Ok(out))
}

/// Parses `$filter`. `time_field` is `createdDateTime` or `activityDateTime`; `fields` the property
/// paths `eq` may name; `event_types` whether the `any` lambda exists (beta sign-ins). The error is
/// Graph's message.
pub fn parse(text: &str, time_field: &str, fields: &[&str], event_types: bool) -> Result<Filter, String> {
    let mut f = Filter::default();
    if text.trim().is_empty() {
        return Ok(f);
    }
    for clause in split_and(text.trim()) {
        let clause = unwrap_parens(clause);
        if let Some(types) = any_event_types(clause) {
            if !event_types {
                return Err(
                    "Could not find a property named 'signInEventTypes' on type 'microsoft.graph.signIn'.".into()
                );
            }
            f.event_types.get_or_insert_with(Vec::new).extend(types?);
            continue;
        }
        let parts: Vec<&str> = clause.splitn(3, ' ').collect();
        let [field, op, value] = parts[..] else {
            return Err(format!("Invalid filter clause: '{clause}'"));
        };
        if field.eq_ignore_ascii_case(time_field) {
            let ms = crate::wire::parse_time(value.trim().trim_matches('\''))
                .ok_or_else(|| format!("Invalid filter clause: '{clause}'"))?;
            match op.to_ascii_lowercase().as_str() {
                "ge" => f.from_ms = Some(f.from_ms.map_or(ms, |x| x.max(ms))),
                "gt" => f.from_ms = Some(f.from_ms.map_or(ms + 1, |x| x.max(ms + 1))),
                "lt" => f.to_ms = Some(f.to_ms.map_or(ms, |x| x.min(ms))),
                "le" => f.to_ms = Some(f.to_ms.map_or(ms + 1, |x| x.min(ms + 1))),
                "eq" => {
                    f.from_ms = Some(ms);
                    f.to_ms = Some(ms + 1);
                }
                _ => return Err(format!("Invalid filter clause: '{clause}'")),
            }
            continue;
        }
        let known = fields.iter().find(|k| k.eq_ignore_ascii_case(field));
        match (known, op.eq_ignore_ascii_case("eq"), literal(value)) {
            (Some(k), true, Some(v)) => f.equals.push((k.split('/').map(str::to_string).collect(), v)),
            (None, _, _) => return Err(format!("Invalid filter clause: '{field}' is not supported in a filter.")),
            _ => return Err(format!("Invalid filter clause: '{clause}'")),
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_filters() {
        let f = parse(
            "createdDateTime ge 2025-03-12T00:00:00Z and createdDateTime le 2025-03-13T00:00:00Z and \
             (signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser'))",
            "createdDateTime",
            &["userPrincipalName"],
            true,
        )
        .unwrap();
        let day = crate::wire::parse_time("2025-03-12T00:00:00Z").unwrap();
        assert_eq!((f.from_ms, f.to_ms), (Some(day), Some(day + 86_400_000 + 1)));
        assert_eq!(f.event_types.unwrap(), ["interactiveUser", "nonInteractiveUser"]);
        let f = parse(
            "userPrincipalName eq 'Lena.O''Neill@x' and createdDateTime lt 2025-03-12",
            "createdDateTime",
            &["userPrincipalName", "status/errorCode"],
            true,
        )
        .unwrap();
        assert!(f.equals_ok(&serde_json::json!({"userPrincipalName": "lena.o'neill@X"})));
        assert!(parse("status/errorCode eq 50126", "createdDateTime", &["status/errorCode"], true)
            .unwrap()
            .equals_ok(&serde_json::json!({"status": {"errorCode": 50126}})));
        assert!(parse("signInEventTypes/any(t: t eq 'x')", "createdDateTime", &[], false)
            .unwrap_err()
            .contains("signInEventTypes"));
        assert!(parse("createdDateTime ge yesterday", "createdDateTime", &[], true).is_err());
        assert!(parse("startsWith(appDisplayName,'Graph')", "createdDateTime", &[], true).is_err());
        assert!(parse("secret eq 'x'", "createdDateTime", &[], true).is_err());
    }
}
