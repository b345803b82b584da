//! The legacy Outlook REST Activities API ("Magic Unicorn", §1): `Users('{upn}')/Activities` on v1.0,
//! v2.0 and beta, the `Prefer: exchange.behavior="ActivityAccess"` switch, OData `$filter` / `$orderby` /
//! `$top` / `$skip` / `$select`, optional `@odata.nextLink`, the `/Messages/{id}` companion, and the
//! 2018 shutdown (`403 AppId: "…" is not allowed.`) as the `activities-shutdown` fault.
//!
//! The live API died in July 2018; the sim keeps it alive so old cases can be re-collected in tests and
//! the importers of retriever CSVs can be compared against a collector. Without `$orderby` the sim
//! answers newest first, because clients must not assume ascending order.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::faults::FaultKind;
use crate::identity::{check_basic, check_bearer, TokenProblem};
use crate::scenario::{Activity, Mail};
use crate::server::{Api, ServiceRouter, SimState};
use crate::wire::{iso_ms, outlook_error, outlook_unauthorized, parse_time};

const PROPERTIES: [&str; 8] = [
    "Id",
    "TimeStamp",
    "ActivityCreationTime",
    "ActivityIdType",
    "AppIdType",
    "ActivityItemId",
    "ClientSessionId",
    "CustomProperties",
];
const EXCHANGE_APP: &str = "00000002-0000-0ff1-ce00-000000000000";

pub(crate) fn routes() -> ServiceRouter {
    Router::new()
        .route("/api/{version}/{user}/{collection}", get(activities))
        .route("/api/{version}/{user}/Messages/{id}", get(message))
}

fn parse_error(msg: &str) -> Response {
    outlook_error(StatusCode::BAD_REQUEST, "RequestBroker--ParseUri", msg)
}

/// Who is asking: the user of a delegated token (or Basic), or an app-only token.
struct Caller {
    app_id: String,
    user: Option<String>,
    can_read_mail: bool,
}

fn authenticate(s: &SimState, headers: &HeaderMap, version: &str) -> Result<Caller, Response> {
    if version == "v1.0" {
        if let Some(user) = check_basic(s, headers) {
            return Ok(Caller { app_id: EXCHANGE_APP.into(), user: Some(user), can_read_mail: true });
        }
    }
    match check_bearer(s, headers, Api::Outlook) {
        Ok(c) => Ok(Caller {
            can_read_mail: c.permissions.iter().any(|p| p == "Mail.Read" || p == "full_access_as_app"),
            app_id: c.app_id,
            user: c.user,
        }),
        Err(p) => Err(outlook_unauthorized(match p {
            TokenProblem::Missing => "The request does not carry an access token.",
            TokenProblem::Expired => "The token has expired.",
            TokenProblem::Invalid => "The token is malformed or its signature is invalid.",
            TokenProblem::WrongAudience(_) => "The audience claim value is invalid for current resource.",
        })),
    }
}

fn mailbox_of(s: &SimState, segment: &str, caller: &Caller) -> Result<u32, Response> {
    let inner = segment
        .strip_prefix("Users(")
        .or_else(|| segment.strip_prefix("users("))
        .and_then(|x| x.strip_suffix(')'))
        .map(|x| x.trim_matches('\''));
    let Some(upn) = inner else {
        return Err(parse_error(&format!("Resource not found for the segment '{segment}'.")));
    };
    let Some(mb) = s.tenant.mailbox_by_upn(upn) else {
        return Err(outlook_error(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            &format!("The requested user '{upn}' is invalid."),
        ));
    };
    let own = caller
        .user
        .as_deref()
        .is_some_and(|u| u.eq_ignore_ascii_case(&mb.upn) || u.eq_ignore_ascii_case(&s.directory.investigator));
    let app_only = caller.user.is_none();
    if !caller.can_read_mail || !(own || app_only) {
        return Err(outlook_error(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        ));
    }
    Ok(mb.index)
}

/// Parsed OData options.
struct Options {
    filter: Option<Expr>,
    descending: bool,
    top: usize,
    skip: usize,
    select: Option<Vec<&'static str>>,
}

fn options(raw: Option<&str>) -> Result<(Options, Vec<(String, String)>), Response> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let top = match get("$top") {
        None => 10,
        Some(t) => match t.trim().parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(outlook_error(
                    StatusCode::BAD_REQUEST,
                    "ErrorInvalidParameter",
                    &format!("The value '{t}' of parameter '$top' is invalid: it must be between 1 and 1000."),
                ))
            }
        },
    };
    let skip = match get("$skip") {
        None => 0,
        Some(t) => t.trim().parse::<usize>().map_err(|_| parse_error(&format!("Invalid $skip value '{t}'.")))?,
    };
    let descending = match get("$orderby") {
        None => true,
        Some(o) => {
            let mut it = o.split_whitespace();
            let field = it.next().unwrap_or_default();
            if !field.eq_ignore_ascii_case("TimeStamp") {
                return Err(parse_error(&format!("The $orderby property '{field}' is not supported.")));
            }
            match it.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(d) => return Err(parse_error(&format!("Syntax error: invalid sort direction '{d}'."))),
            }
        }
    };
    let select = match get("$select") {
        None => None,
        Some(sel) => {
            let mut out = Vec::new();
            for p in sel.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match PROPERTIES.iter().find(|k| k.eq_ignore_ascii_case(p)) {
                    Some(k) => out.push(*k),
                    None => {
                        return Err(parse_error(&format!(
                            "Could not find a property named '{p}' on type 'Microsoft.OutlookServices.Activity'."
                        )))
                    }
                }
            }
            Some(out)
        }
    };
    let filter = match get("$filter") {
        None => None,
        Some(f) => Some(parse_filter(&f).map_err(|e| parse_error(&e))?),
    };
    Ok((Options { filter, descending, top, skip, select }, pairs))
}

fn render(a: &Activity, select: Option<&[&'static str]>, v1_metadata: Option<(&str, &str)>) -> Value {
    let full = a.to_json();
    let mut out = Map::new();
    if let Some((base, upn)) = v1_metadata {
        out.insert("@odata.id".into(), json!(format!("{base}/api/v1.0/Users('{upn}')/Activities('{}')", a.id)));
        out.insert("@odata.etag".into(), json!("W/\"CQAAAA==\""));
    }
    for k in PROPERTIES {
        if select.is_none_or(|s| s.contains(&k)) {
            out.insert(k.to_string(), full[k].clone());
        }
    }
    Value::Object(out)
}

async fn activities(
    State(s): State<Arc<SimState>>,
    Path((version, user, collection)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if !matches!(version.as_str(), "v1.0" | "v2.0" | "beta") {
        return outlook_error(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUrl",
            &format!("Unsupported API version '{version}'."),
        );
    }
    let caller = match authenticate(&s, &headers, &version) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let single = collection
        .strip_prefix("Activities(")
        .and_then(|x| x.strip_suffix(')'))
        .map(|x| x.trim_matches('\'').to_string());
    if collection != "Activities" && single.is_none() {
        return parse_error(&format!("Resource not found for the segment '{collection}'."));
    }
    if s.faults.roll(FaultKind::ActivitiesShutdown).is_some() {
        return outlook_error(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            &format!("AppId: \"{}\" is not allowed.", caller.app_id),
        );
    }
    let prefer = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim().replace(' ', "") == "exchange.behavior=\"ActivityAccess\""));
    if !prefer {
        return parse_error("Resource not found for the segment 'Activities'.");
    }
    let mailbox = match mailbox_of(&s, &user, &caller) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let (opts, pairs) = match options(raw.as_deref()) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let upn = s.tenant.mailboxes[mailbox as usize].upn.clone();
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or_default().replace(' ', "");
    let no_metadata = accept.contains("odata.metadata=none");
    let base = format!("{}/outlook", s.base_url);
    let v1_meta = (version == "v1.0" && !no_metadata && opts.select.is_none()).then_some((base.as_str(), upn.as_str()));
    let mut all = s.tenant.mailbox_activities(mailbox);
    if let Some(id) = single {
        return match all.iter().find(|a| a.id == id) {
            Some(a) => Json(render(a, opts.select.as_deref(), v1_meta)).into_response(),
            None => outlook_error(
                StatusCode::NOT_FOUND,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            ),
        };
    }
    if let Some(f) = &opts.filter {
        all.retain(|a| f.eval(a));
    }
    if opts.descending {
        all.reverse();
    }
    let total = all.len();
    let value: Vec<Value> =
        all.iter().skip(opts.skip).take(opts.top).map(|a| render(a, opts.select.as_deref(), v1_meta)).collect();
    let mut out = Map::new();
    if !no_metadata {
        out.insert("@odata.context".into(), json!(format!("{base}/api/{version}/$metadata#Users('{upn}')/Activities")));
    }
    out.insert("value".into(), json!(value));
    if !no_metadata && opts.skip + opts.top < total {
        // Like Outlook REST: `$` options stay literal, values are percent-encoded.
        let mut q: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skip"))
            .map(|(k, v)| format!("{}={}", encode_query(k), encode_query(v)))
            .collect();
        q.push(format!("$skip={}", opts.skip + opts.top));
        out.insert("@odata.nextLink".into(), json!(format!("{base}/api/{version}/{user}/Activities?{}", q.join("&"))));
    }
    Json(Value::Object(out)).into_response()
}

fn encode_query(s: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'$')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b',')
        .remove(b':')
        .remove(b'(')
        .remove(b')')
        .remove(b'\'');
    percent_encoding::utf8_percent_encode(s, KEEP).to_string()
}

fn message_json(s: &SimState, version: &str, m: &Mail) -> Value {
    let addr = |a: &str| json!({"EmailAddress": {"Name": a.split('@').next().unwrap_or(a), "Address": a}});
    let (recv, sent, created, modified) = if version == "v1.0" {
        ("DateTimeReceived", "DateTimeSent", "DateTimeCreated", "DateTimeLastModified")
    } else {
        ("ReceivedDateTime", "SentDateTime", "CreatedDateTime", "LastModifiedDateTime")
    };
    let mut v = json!({
        "Id": m.item_id,
        "ChangeKey": "CQAAABYAAAA",
        "Categories": [],
        "Subject": m.subject,
        "BodyPreview": format!("(simulated message body of \"{}\")", m.subject),
        "Importance": "Normal",
        "HasAttachments": m.has_attachment,
        "ParentFolderId": format!("AAMkAGFolder{}", m.folder.trim_start_matches('\\').replace(' ', "")),
        "From": addr(&m.from),
        "Sender": addr(&m.from),
        "ToRecipients": [addr(&m.to)],
        "CcRecipients": [],
        "BccRecipients": [],
        "ReplyTo": [],
        "ConversationId": format!("AAQkAG{:016x}", crate::prng::hash_str(&m.subject)),
        "IsDeliveryReceiptRequested": false,
        "IsReadReceiptRequested": false,
        "IsRead": true,
        "IsDraft": false,
        "InternetMessageId": m.internet_message_id,
        "WebLink": format!("{}/outlook/owa/?ItemID={}&exvsurl=1&viewmodel=ReadMessageItem", s.base_url, m.item_id),
    });
    v[recv] = json!(iso_ms(m.received_ms));
    v[sent] = json!(iso_ms(m.received_ms - 4_000));
    v[created] = json!(iso_ms(m.received_ms));
    v[modified] = json!(iso_ms(m.received_ms + 60_000));
    v
}

async fn message(
    State(s): State<Arc<SimState>>,
    Path((version, user, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let caller = match authenticate(&s, &headers, &version) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mailbox = match mailbox_of(&s, &user, &caller) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Some(m) = s.tenant.message(mailbox, &id) else {
        return outlook_error(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        );
    };
    let full = message_json(&s, &version, &m);
    let select = crate::server::query_param(raw.as_deref(), "$select");
    let out = match select {
        None => full,
        Some(sel) => {
            let mut o = Map::new();
            for p in sel.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match full.get(p) {
                    Some(v) => {
                        o.insert(p.to_string(), v.clone());
                    }
                    None => {
                        return parse_error(&format!(
                            "Could not find a property named '{p}' on type 'Microsoft.OutlookServices.Message'."
                        ))
                    }
                }
            }
            o.insert("Id".into(), json!(m.item_id));
            Value::Object(o)
        }
    };
    Json(out).into_response()
}

/// A parsed `$filter` expression over Activity properties.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// `field op value`.
    Cmp(String, Op, String),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

impl Expr {
    /// Whether an activity satisfies the expression.
    pub fn eval(&self, a: &Activity) -> bool {
        match self {
            Expr::And(x, y) => x.eval(a) && y.eval(a),
            Expr::Or(x, y) => x.eval(a) || y.eval(a),
            Expr::Not(x) => !x.eval(a),
            Expr::Cmp(field, op, value) => {
                let time = match field.as_str() {
                    "TimeStamp" => Some(a.timestamp_ms),
                    "ActivityCreationTime" => Some(a.creation_ms),
                    _ => None,
                };
                if let Some(t) = time {
                    let v = parse_time(value).unwrap_or(i64::MIN);
                    return match op {
                        Op::Eq => t == v,
                        Op::Ne => t != v,
                        Op::Gt => t > v,
                        Op::Ge => t >= v,
                        Op::Lt => t < v,
                        Op::Le => t <= v,
                    };
                }
                let actual = match field.as_str() {
                    "ActivityIdType" => a.id_type.to_string(),
                    "AppIdType" => a.app.to_string(),
                    "ActivityItemId" => a.item_id.clone(),
                    "ClientSessionId" => a.session.clone(),
                    _ => a.id.clone(),
                };
                let same = actual.eq_ignore_ascii_case(value)
                    || (field == "AppIdType" && actual == "IMAP4" && value.eq_ignore_ascii_case("IMAP"))
                    || (field == "ActivityIdType"
                        && actual == "SearchSuggestionsDisplay"
                        && value.eq_ignore_ascii_case("SearchSuggestionDisplay"));
                match op {
                    Op::Eq => same,
                    Op::Ne => !same,
                    _ => false,
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Word(String),
    Str(String),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            out.push(Tok::Close);
            i += 1;
        } else if c == '\'' {
            let mut v = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("Syntax error: unterminated string literal at position {i} in '{s}'.")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        v.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        v.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(v));
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '(' && chars[i] != ')' {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        }
    }
    Ok(out)
}

/// Parses an OData `$filter` of the shape Activities clients sent.
pub fn parse_filter(s: &str) -> Result<Expr, String> {
    let toks = tokenize(s)?;
    let mut p = FilterParser { toks, pos: 0, text: s };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("Syntax error at position {} in '{s}'.", p.pos));
    }
    Ok(e)
}

struct FilterParser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    text: &'a str,
}

impl FilterParser<'_> {
    fn keyword(&mut self, k: &str) -> bool {
        if let Some(Tok::Word(w)) = self.toks.get(self.pos) {
            if w.eq_ignore_ascii_case(k) {
                self.pos += 1;
                return true;
            }
        }
        false
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.keyword("or") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        while self.keyword("and") {
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.toks.get(self.pos) == Some(&Tok::Open) {
            self.pos += 1;
            let e = self.or()?;
            if self.toks.get(self.pos) != Some(&Tok::Close) {
                return Err(format!("Syntax error: ')' expected at position {} in '{}'.", self.pos, self.text));
            }
            self.pos += 1;
            return Ok(e);
        }
        let field = match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => w.clone(),
            _ => return Err(format!("Syntax error at position {} in '{}'.", self.pos, self.text)),
        };
        let Some(field) = PROPERTIES.iter().find(|p| p.eq_ignore_ascii_case(&field) && **p != "CustomProperties")
        else {
            return Err(format!(
                "Could not find a property named '{field}' on type 'Microsoft.OutlookServices.Activity'."
            ));
        };
        self.pos += 1;
        let op = match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                other => return Err(format!("Syntax error: unknown operator '{other}' in '{}'.", self.text)),
            },
            _ => return Err(format!("Syntax error: operator expected after '{field}' in '{}'.", self.text)),
        };
        self.pos += 1;
        let value = match self.toks.get(self.pos) {
            Some(Tok::Str(v)) => v.clone(),
            Some(Tok::Word(w)) => w.clone(),
            _ => return Err(format!("Syntax error: value expected after '{field}' in '{}'.", self.text)),
        };
        self.pos += 1;
        let is_time = *field == "TimeStamp" || *field == "ActivityCreationTime";
        if is_time && parse_time(&value).is_none() {
            return Err(format!("The DateTimeOffset literal '{value}' is not valid."));
        }
        Ok(Expr::Cmp(field.to_string(), op, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_in_the_shapes_clients_sent() {
        let cs = "(TimeStamp ge 2018-01-01T00:00:00Z) and (TimeStamp le 2018-05-31T23:59:59Z) and (ActivityIdType eq 'ServerLogon' or ActivityIdType eq 'SearchResult')";
        let e = parse_filter(cs).unwrap();
        let a = Activity {
            id: "x".into(),
            timestamp_ms: parse_time("2018-03-01T10:00:00Z").unwrap(),
            creation_ms: 0,
            id_type: "SearchResult",
            app: "Web",
            item_id: String::new(),
            session: String::new(),
            props: vec![],
            attacker: false,
        };
        assert!(e.eval(&a));
        let exo = "(TimeStamp ge 2018-06-02T12:14:13Z and TimeStamp le 2018-07-02T12:14:13Z and ActivityIdType eq 'ServerLogon' and AppIdType eq 'Web')";
        assert!(!parse_filter(exo).unwrap().eval(&a));
        assert!(parse_filter("not (AppIdType eq 'Outlook')").unwrap().eval(&a));
        assert!(parse_filter("(TimeStamp ge 2018").is_err());
        assert!(parse_filter("Foo eq 'x'").unwrap_err().contains("Foo"));
        assert!(parse_filter("TimeStamp gt yesterday").is_err());
    }
}
