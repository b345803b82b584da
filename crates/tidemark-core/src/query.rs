//! The query language and its compilation to SQL.
//!
//! Investigators type free words, `"quoted phrases"`, field filters (`actor:`, `mailbox:`, `op:`, …),
//! `-` to exclude, `OR` between alternatives and `after:`/`before:` time bounds. [`Query::parse`] turns
//! that into a small model with errors that say what is wrong; [`Query::compile`] turns the model into
//! an FTS5 expression plus SQL conditions whose values are always bound parameters, never spliced
//! into SQL text. The UI never builds SQL; it sends the text.

use crate::error::{Error, ErrorCode, Result};
use crate::time::{key_lower, key_upper, parse_user_time};

/// A field that a filter can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Who did it (`actor:`, `user:`).
    Actor,
    /// Whose mailbox (`mailbox:`).
    Mailbox,
    /// Operation, verbatim (`op:`).
    Operation,
    /// Action category, exact (`action:`).
    Action,
    /// Client IP (`ip:`).
    Ip,
    /// App id or client family (`app:`).
    App,
    /// Session id (`session:`).
    Session,
    /// Internet message id, exact (`msgid:`).
    MessageId,
    /// Folder path (`folder:`).
    Folder,
    /// Source format or API (`source:`).
    Source,
    /// Subject or search text (`subject:`).
    Subject,
    /// M365 workload, exact (`workload:`).
    Workload,
    /// An investigator's tag, by name (`tag:`).
    Tag,
    /// A state of the event: `is:bookmarked`, `is:tagged`.
    Is,
    /// Something attached to the event: `has:note`.
    Has,
    /// Country of the client address, ISO code (`country:NL`).
    Country,
    /// Network number of the client address (`asn:14061`, `asn:AS14061`).
    Asn,
    /// Owner of the client address's network, words it contains (`network:digitalocean`).
    Network,
    /// Class of the client address (`iptype:hosting`).
    IpType,
    /// The account's first event with a value of this kind (`new:network`).
    New,
}

impl Field {
    fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "actor" | "user" => Self::Actor,
            "mailbox" => Self::Mailbox,
            "op" | "operation" => Self::Operation,
            "action" => Self::Action,
            "ip" => Self::Ip,
            "app" => Self::App,
            "session" => Self::Session,
            "msgid" | "messageid" => Self::MessageId,
            "folder" => Self::Folder,
            "source" => Self::Source,
            "subject" => Self::Subject,
            "workload" => Self::Workload,
            "tag" => Self::Tag,
            "is" => Self::Is,
            "has" => Self::Has,
            "country" => Self::Country,
            "asn" => Self::Asn,
            "network" | "net" => Self::Network,
            "iptype" => Self::IpType,
            "new" => Self::New,
            _ => return None,
        })
    }

    /// Where a field is searched: the word index, the identifier index, or SQL.
    fn index(self) -> Index {
        match self {
            Self::Actor => Index::Word("{actor}"),
            Self::Mailbox => Index::Word("{mailbox}"),
            Self::Operation => Index::Word("{operation}"),
            Self::Folder => Index::Word("{folders}"),
            Self::Subject => Index::Word("{subject}"),
            Self::Ip => Index::Ident("{client_ip}"),
            Self::Session => Index::Ident("{session_id}"),
            Self::MessageId => Index::Ident("{message_ids}"),
            Self::Action
            | Self::App
            | Self::Source
            | Self::Workload
            | Self::Tag
            | Self::Is
            | Self::Has
            | Self::Country
            | Self::Asn
            | Self::Network
            | Self::IpType
            | Self::New => Index::Sql,
        }
    }
}

/// The two full-text indexes and plain SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Index {
    /// `event_fts`: words (unicode61), with a column filter (`""` = every column).
    Word(&'static str),
    /// `ident_fts`: whole identifiers (message ids, IPs, session and app ids) as single tokens.
    Ident(&'static str),
    /// A condition on the event row.
    Sql,
}

impl Index {
    fn table(self) -> &'static str {
        match self {
            Self::Ident(_) => "ident_fts",
            _ => "event_fts",
        }
    }
}

/// Whether free text is an identifier that only the identifier index holds whole: an IP address, a
/// GUID, or a `<message-id>`.
fn looks_like_identifier(value: &str) -> bool {
    let v = value.trim();
    if v.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let hex: Vec<&str> = v.split('-').collect();
    let guid = hex.len() == 5
        && [8, 4, 4, 4, 12].iter().zip(&hex).all(|(n, h)| h.len() == *n && h.bytes().all(|b| b.is_ascii_hexdigit()));
    guid || (v.starts_with('<') && v.ends_with('>') && v.contains('@'))
}

fn term_index(t: &Term) -> Index {
    match t.field {
        // A CIDR block is a key range over the case's addresses, not a token.
        Some(Field::Ip) if !t.prefix && t.value.contains('/') => Index::Sql,
        Some(f) => f.index(),
        None if looks_like_identifier(&t.value) => Index::Ident(""),
        None => Index::Word(""),
    }
}

const FIELD_NAMES: &str = "actor: (or user:), mailbox:, op:, action:, ip: (an address, 10.0.* or a block like 203.0.113.0/24), country:, asn:, network:, iptype:, new:, app:, session:, msgid:, folder:, source:, subject:, workload:, tag:, is:bookmarked, is:tagged, has:note, after:, before:";

/// Checks the value of a field about client addresses, so a typo is an error that says what works
/// instead of a search that silently finds nothing.
fn check_ip_value(field: Field, value: &str, prefix: bool) -> Result<()> {
    let v = value.trim();
    let star = if prefix { "*" } else { "" };
    match field {
        Field::Ip if !prefix && v.contains('/') && tidemark_ipintel::cidr_range(v).is_none() => Err(invalid(format!(
            "ip:{v} is not an address block. Write one like ip:203.0.113.0/24 or ip:2001:db8::/32."
        ))),
        Field::Country if prefix || v.len() != 2 || !v.bytes().all(|b| b.is_ascii_alphabetic()) => Err(invalid(format!(
            "country:{v}{star} is not a country code. Use the two-letter code, e.g. country:NL, country:US or country:GB."
        ))),
        Field::Asn if prefix || parse_asn(v).is_none() => Err(invalid(format!(
            "asn:{v}{star} is not a network number. Use the number, e.g. asn:14061 or asn:AS14061."
        ))),
        Field::IpType if prefix || tidemark_ipintel::IpClass::parse(v).is_none() => {
            let names: Vec<&str> = tidemark_ipintel::IpClass::ALL.iter().map(|c| c.as_str()).collect();
            Err(invalid(format!("iptype:{v}{star} is not an address class. Use one of iptype:{}.", names.join(", iptype:"))))
        }
        Field::New if prefix || crate::accounts::baseline::parse_kind(v).is_none() => Err(invalid(format!(
            "new:{v}{star} is not something an account's baseline keeps. Use one of new:{}.",
            crate::accounts::baseline::KINDS.join(", new:")
        ))),
        _ => Ok(()),
    }
}

/// `14061`, `AS14061`, `as14061` → 14061.
fn parse_asn(v: &str) -> Option<u32> {
    let v = v.trim();
    let digits = v.strip_prefix("AS").or_else(|| v.strip_prefix("as")).or_else(|| v.strip_prefix("As")).unwrap_or(v);
    digits.parse().ok()
}

/// The condition "the event's client address is one of the case's addresses with `test`": events
/// without an address do not match, and are kept when the term is excluded.
fn client_ip_where(test: &str) -> String {
    format!("coalesce(e.client_ip IN (SELECT i.ip FROM ip_info i WHERE {test}), 0)")
}

/// What `is:` accepts, with the SQL condition each one is.
const IS_VALUES: &[(&str, &str)] = &[
    ("bookmarked", "e.id IN (SELECT event_id FROM bookmark)"),
    ("tagged", "e.id IN (SELECT event_id FROM event_tag)"),
];

/// What `has:` accepts, with the SQL condition each one is. A note on a time range is not a note on the
/// events inside it: `has:note` finds the events an investigator wrote about.
const HAS_VALUES: &[(&str, &str)] = &[("note", "e.id IN (SELECT event_id FROM note WHERE event_id IS NOT NULL)")];

fn state_condition(field: Field, value: &str) -> Option<&'static str> {
    let table = match field {
        Field::Is => IS_VALUES,
        Field::Has => HAS_VALUES,
        _ => return None,
    };
    let v = value.trim().to_ascii_lowercase();
    // `has:notes` reads as well as `has:note`.
    let v = if field == Field::Has { v.strip_suffix('s').unwrap_or(&v) } else { &v };
    table.iter().find(|(name, _)| *name == v).map(|(_, cond)| *cond)
}

/// One searchable term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// `None` for free text over every field.
    pub field: Option<Field>,
    /// The words or phrase to match.
    pub value: String,
    /// Match word beginnings (`invo*`).
    pub prefix: bool,
}

/// Terms joined by `OR`, possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// Exclude what matches.
    pub negated: bool,
    /// At least one must match.
    pub any_of: Vec<Term>,
}

/// A parsed query: clauses that must all hold, and an optional time range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// All must hold.
    pub clauses: Vec<Clause>,
    /// Only events at or after this time (Unix ms).
    pub after_ms: Option<i64>,
    /// Only events at or before this time (Unix ms).
    pub before_ms: Option<i64>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::QueryInvalid, msg)
}

/// Reads one value: a quoted phrase or a bare word. Returns (value, quoted, rest).
fn read_value(s: &str) -> Result<(String, bool, &str)> {
    if let Some(rest) = s.strip_prefix('"') {
        match rest.find('"') {
            Some(end) => Ok((rest[..end].to_owned(), true, &rest[end + 1..])),
            None => Err(invalid("A quote is not closed. Add the closing \" to the phrase.")),
        }
    } else {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        Ok((s[..end].to_owned(), false, &s[end..]))
    }
}

impl Query {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// Parses what an investigator typed.
    pub fn parse(text: &str) -> Result<Self> {
        let mut q = Self::default();
        let mut rest = text.trim_start();
        let mut join_next = false;
        while !rest.is_empty() {
            let mut negated = false;
            if let Some(r) = rest.strip_prefix('-') {
                if r.starts_with(|c: char| !c.is_whitespace()) {
                    negated = true;
                    rest = r;
                }
            }
            // Field prefix?
            let word_end = rest.find(|c: char| c.is_whitespace() || c == '"').unwrap_or(rest.len());
            let word = &rest[..word_end];
            let mut field = None;
            if let Some((name, _)) = word.split_once(':') {
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic()) {
                    let value_start = &rest[name.len() + 1..];
                    if value_start.starts_with("//") {
                        // a URL: free text
                    } else if name.eq_ignore_ascii_case("after") || name.eq_ignore_ascii_case("before") {
                        let (v, _, r) = read_value(value_start)?;
                        let ms = parse_user_time(&v).ok_or_else(|| {
                            invalid(format!(
                                "{name}: needs a date like 2024-01-31 or 2024-01-31T10:00 (UTC); \"{v}\" is not one."
                            ))
                        })?;
                        if negated || join_next {
                            return Err(invalid(format!("{name}: cannot be excluded or combined with OR.")));
                        }
                        if name.eq_ignore_ascii_case("after") {
                            q.after_ms = Some(ms);
                        } else {
                            // A bare date means "through the end of that day".
                            let whole_day = v.len() == 10;
                            q.before_ms = Some(if whole_day { ms + 86_399_999 } else { ms });
                        }
                        rest = r.trim_start();
                        continue;
                    } else {
                        match Field::parse(name) {
                            Some(f) => {
                                field = Some(f);
                                rest = value_start;
                            }
                            None => {
                                return Err(invalid(format!(
                                    "\"{name}:\" is not a field Tidemark knows. Use one of {FIELD_NAMES}, or put the text in quotes."
                                )))
                            }
                        }
                    }
                }
            }
            let (mut value, quoted, r) = read_value(rest)?;
            rest = r.trim_start();
            if !quoted && field.is_none() && !negated {
                if value == "OR" {
                    if q.clauses.is_empty() || join_next {
                        return Err(invalid("OR needs a search term on both sides."));
                    }
                    join_next = true;
                    continue;
                }
                if value == "AND" {
                    continue;
                }
            }
            let prefix = !quoted && value.len() > 1 && value.ends_with('*');
            if prefix {
                value.pop();
            }
            if value.trim().is_empty() {
                return Err(match field {
                    Some(_) => invalid(format!("{} needs a value after the colon.", word.trim_end_matches(':'))),
                    None => invalid("An empty phrase (\"\") matches nothing. Type some words between the quotes."),
                });
            }
            if !value.chars().any(char::is_alphanumeric) {
                return Err(invalid(format!("\"{value}\" has no letters or digits to search for.")));
            }
            if let Some(f @ (Field::Is | Field::Has)) = field {
                if prefix || state_condition(f, &value).is_none() {
                    let (name, values) = if f == Field::Is { ("is", IS_VALUES) } else { ("has", HAS_VALUES) };
                    let list: Vec<String> = values.iter().map(|(v, _)| format!("{name}:{v}")).collect();
                    return Err(invalid(format!(
                        "{name}:{value}{} is not something Tidemark can look for. Use {}.",
                        if prefix { "*" } else { "" },
                        list.join(" or ")
                    )));
                }
            }
            if let Some(f) = field {
                check_ip_value(f, &value, prefix)?;
            }
            let term = Term { field, value, prefix };
            if join_next {
                let last = q.clauses.last_mut().ok_or_else(|| invalid("OR needs a search term on both sides."))?;
                if last.negated || negated {
                    return Err(invalid(
                        "OR cannot be combined with an excluded (-) term. Exclude each term separately.",
                    ));
                }
                last.any_of.push(term);
                join_next = false;
            } else {
                q.clauses.push(Clause { negated, any_of: vec![term] });
            }
        }
        if join_next {
            return Err(invalid("OR needs a search term on both sides."));
        }
        if let (Some(a), Some(b)) = (q.after_ms, q.before_ms) {
            if a > b {
                return Err(invalid("after: is later than before:, so nothing can match. Swap the two dates."));
            }
        }
        Ok(q)
    }

    /// Compiles the query, leaving every prefix (`invo*`) to FTS5.
    pub fn compile(&self) -> Compiled {
        self.compile_with(&mut |_, _| None)
    }

    /// Compiles the query, spelling out each prefix of the driving MATCH expression as the index
    /// terms that `terms(table, prefix)` lists for it (see [`PrefixTerms`]); a prefix it returns `None`
    /// for stays a prefix. FTS5 answers a prefix by merging the whole doclist of every term that starts
    /// with it before it yields the first row (13.7 ms for `invo*` and far more for `mail*` at 10 M
    /// events), while an `OR` of the same terms is walked lazily in rowid order like any word, so a page
    /// stops after its rows. The two match exactly the same events when the list is complete.
    /// Conditions (`e.id IN (SELECT …)`) read every match anyway and keep the prefix.
    pub fn compile_with(&self, terms: &mut PrefixTerms<'_>) -> Compiled {
        // Clauses whose terms all live in one full-text index become one MATCH expression on it. The
        // word index drives the query when it has a clause (it is the larger one); otherwise the
        // identifier index does. Everything else is an SQL condition on the event row.
        let mut word: (Vec<&Clause>, Vec<&Clause>) = (Vec::new(), Vec::new());
        let mut ident: (Vec<&Clause>, Vec<&Clause>) = (Vec::new(), Vec::new());
        let mut others: Vec<&Clause> = Vec::new();
        for clause in &self.clauses {
            let indexes: Vec<Index> = clause.any_of.iter().map(term_index).collect();
            let all_word = indexes.iter().all(|i| matches!(i, Index::Word(_)));
            let all_ident = indexes.iter().all(|i| matches!(i, Index::Ident(_)));
            let bucket = if all_word {
                &mut word
            } else if all_ident {
                &mut ident
            } else {
                others.push(clause);
                continue;
            };
            if clause.negated {
                bucket.1.push(clause)
            } else {
                bucket.0.push(clause)
            }
        }
        let drive_table = if !word.0.is_empty() {
            Some("event_fts")
        } else if !ident.0.is_empty() {
            Some("ident_fts")
        } else {
            None
        };
        // One clause as an FTS5 expression; prefixes spelled out only in the driving expression.
        let mut render = |clause: &Clause, table: &'static str| {
            any_of(
                clause
                    .any_of
                    .iter()
                    .map(|t| {
                        let spelled = if drive_table == Some(table) { spelled_prefix(t, table, terms) } else { None };
                        spelled.unwrap_or_else(|| fts_term(t))
                    })
                    .collect(),
            )
        };
        let mut rendered = |bucket: &(Vec<&Clause>, Vec<&Clause>), table: &'static str| {
            (
                bucket.0.iter().map(|c| render(c, table)).collect::<Vec<String>>(),
                bucket.1.iter().map(|c| render(c, table)).collect::<Vec<String>>(),
            )
        };
        let word = rendered(&word, "event_fts");
        let ident = rendered(&ident, "ident_fts");
        let mut conds: Vec<String> = Vec::new();
        let mut params: Vec<String> = Vec::new();
        let combine = |(pos, neg): &(Vec<String>, Vec<String>)| {
            let mut expr = pos.join(" AND ");
            for n in neg {
                expr = format!("({expr}) NOT {n}");
            }
            expr
        };
        let driving = match drive_table {
            Some("event_fts") => Some(("event_fts", combine(&word))),
            Some(table) => Some((table, combine(&ident))),
            None => None,
        };
        // Without words, one positive `tag:NAME` (not a prefix, not in an OR) drives through the tag's
        // index instead of being a condition: pages then stop early however many events carry it.
        let mut tag = None;
        if driving.is_none() {
            let single_tag = |c: &&Clause| {
                !c.negated && c.any_of.len() == 1 && c.any_of[0].field == Some(Field::Tag) && !c.any_of[0].prefix
            };
            if let Some(i) = others.iter().position(single_tag) {
                tag = Some(others.remove(i).any_of[0].value.trim().to_owned());
            }
        }
        for (table, (pos, neg)) in [("event_fts", &word), ("ident_fts", &ident)] {
            if drive_table == Some(table) {
                continue;
            }
            if !pos.is_empty() {
                conds.push(format!("e.id IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)"));
                params.push(combine(&(pos.clone(), neg.clone())));
            } else {
                for n in neg {
                    conds.push(format!("e.id NOT IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)"));
                    params.push(n.clone());
                }
            }
        }
        for clause in others {
            let mut alts = Vec::new();
            for t in &clause.any_of {
                match term_index(t) {
                    Index::Sql => {
                        let (cond, value) = sql_term(t);
                        alts.push(cond);
                        params.extend(value);
                    }
                    i => {
                        let table = i.table();
                        alts.push(format!("e.id IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)"));
                        params.push(fts_term(t));
                    }
                }
            }
            let joined = format!("({})", alts.join(" OR "));
            conds.push(if clause.negated { format!("NOT {joined}") } else { joined });
        }
        let (fts_table, fts) = match driving {
            Some((t, e)) => (t, Some(e)),
            None => ("event_fts", None),
        };
        Compiled {
            fts,
            fts_table,
            tag,
            conds,
            params,
            lo: self.after_ms.map(key_lower),
            hi: self.before_ms.map(key_upper),
        }
    }
}

/// A query text with every `tag:OLD` (also quoted, excluded or inside `OR`) naming `new` instead, the
/// rest of the text kept byte for byte. Names are compared as `tag:` searches compare them (trimmed,
/// ignoring ASCII case, as SQLite's NOCASE does). Prefix searches (`tag:ph*`) are patterns, not names,
/// and stay as typed. `None` when the text names no such tag (or is not a query Tidemark understands).
pub fn rename_tag_in_query(text: &str, old: &str, new: &str) -> Option<String> {
    let before = Query::parse(text).ok()?;
    let old = old.trim();
    let new = new.trim();
    let is_old = |t: &Term| t.field == Some(Field::Tag) && !t.prefix && t.value.trim().eq_ignore_ascii_case(old);
    // The same reading as `Query::parse`, keeping where each tag value sits in the text.
    let mut spans: Vec<(usize, usize, bool)> = Vec::new(); // (start, end, quoted)
    let at = |rest: &str| text.len() - rest.len();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('-') {
            if r.starts_with(|c: char| !c.is_whitespace()) {
                rest = r;
            }
        }
        let word_end = rest.find(|c: char| c.is_whitespace() || c == '"').unwrap_or(rest.len());
        let word = &rest[..word_end];
        let mut field = None;
        if let Some((name, _)) = word.split_once(':') {
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic()) {
                let value_start = &rest[name.len() + 1..];
                if value_start.starts_with("//") {
                    // a URL: free text
                } else if name.eq_ignore_ascii_case("after") || name.eq_ignore_ascii_case("before") {
                    rest = read_value(value_start).ok()?.2.trim_start();
                    continue;
                } else {
                    field = Some(Field::parse(name)?);
                    rest = value_start;
                }
            }
        }
        let start = at(rest);
        let (value, quoted, r) = read_value(rest).ok()?;
        rest = r.trim_start();
        let prefix = !quoted && value.len() > 1 && value.ends_with('*');
        if field == Some(Field::Tag) && !prefix && value.trim().eq_ignore_ascii_case(old) {
            let inner = if quoted { start + 1 } else { start };
            spans.push((inner, inner + value.len(), quoted));
        }
    }
    if spans.is_empty() {
        return None;
    }
    let bare_ok = !(new.contains(char::is_whitespace) || (new.len() > 1 && new.ends_with('*')));
    let mut out = String::with_capacity(text.len() + spans.len() * new.len());
    let mut last = 0;
    for (start, end, quoted) in spans {
        out.push_str(&text[last..start]);
        if quoted || bare_ok {
            out.push_str(new);
        } else {
            out.push('"');
            out.push_str(new);
            out.push('"');
        }
        last = end;
    }
    out.push_str(&text[last..]);
    // The new text must read as the old query with only the tag's name changed.
    let mut want = before;
    for t in want.clauses.iter_mut().flat_map(|c| c.any_of.iter_mut()) {
        if is_old(t) {
            t.value = new.to_owned();
        }
    }
    (Query::parse(&out).ok()? == want).then_some(out)
}

/// The SQL condition for a field the full-text indexes do not hold, with its bound values.
fn sql_term(t: &Term) -> (String, Vec<String>) {
    let v = t.value.trim();
    let like = |col: &str| (format!("{col} LIKE ? ESCAPE '\\'"), vec![like_prefix(v)]);
    match t.field {
        Some(f @ (Field::Is | Field::Has)) => {
            // The parser only lets known values through.
            (state_condition(f, v).unwrap_or("0").to_owned(), Vec::new())
        }
        Some(Field::Tag) => {
            let (test, value) = if t.prefix {
                ("t.name LIKE ? ESCAPE '\\'", like_prefix(v))
            } else {
                ("t.name = ? COLLATE NOCASE", v.to_owned())
            };
            (
                format!("e.id IN (SELECT et.event_id FROM event_tag et JOIN tag t ON t.id = et.tag_id WHERE {test})"),
                vec![value],
            )
        }
        Some(Field::Ip) => {
            let (lo, hi) = tidemark_ipintel::cidr_range(v).unwrap_or(([0xff; 16], [0; 16]));
            (client_ip_where("i.key BETWEEN ? AND ?"), vec![hex::encode(lo), hex::encode(hi)])
        }
        Some(Field::Country) => (client_ip_where("i.country = ?"), vec![v.to_ascii_uppercase()]),
        Some(Field::Asn) => (client_ip_where("i.asn = ?"), vec![parse_asn(v).unwrap_or(0).to_string()]),
        Some(Field::Network) => (
            client_ip_where("i.network LIKE ? ESCAPE '\\'"),
            vec![format!("%{}%", v.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))],
        ),
        Some(Field::IpType) => (client_ip_where("i.class = ?"), vec![v.to_ascii_lowercase()]),
        Some(Field::New) => (
            crate::accounts::baseline::new_condition(),
            vec![crate::accounts::baseline::parse_kind(v).unwrap_or("none").to_owned()],
        ),
        Some(Field::Workload) if t.prefix => like("e.workload"),
        Some(Field::Workload) => ("e.workload = ? COLLATE NOCASE".to_owned(), vec![v.to_owned()]),
        Some(Field::Action) => ("e.action = ?".to_owned(), vec![v.to_lowercase()]),
        Some(Field::Source) if t.prefix => like("e.source"),
        Some(Field::Source) => ("e.source = ?".to_owned(), vec![v.to_lowercase()]),
        // `app:` is a client family (`app:OWA`) or an application id.
        _ => {
            let fam = if t.prefix { "e.client_app LIKE ?" } else { "e.client_app = ? COLLATE NOCASE" };
            let fam_value = if t.prefix { format!("{v}%") } else { v.to_owned() };
            (
                format!("({fam} OR e.id IN (SELECT rowid FROM ident_fts WHERE ident_fts MATCH ?))"),
                vec![
                    fam_value,
                    format!("{{app_id}} : \"{}\"{}", v.replace('"', "\"\""), if t.prefix { " *" } else { "" }),
                ],
            )
        }
    }
}

/// A LIKE pattern matching values that start with `v` (wildcards in `v` escaped with `\`).
fn like_prefix(v: &str) -> String {
    format!("{}%", v.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// An FTS5 phrase for a term: the value quoted (quotes doubled), with a column filter and prefix star.
fn fts_term(t: &Term) -> String {
    let phrase = format!("{}{}", fts_string(fts_value(t)), if t.prefix { " *" } else { "" });
    in_columns(t, phrase)
}

/// What a term looks for in its full-text index: message ids without their angle brackets (the
/// identifier index does not keep them), everything else as typed.
fn fts_value(t: &Term) -> &str {
    let value = t.value.as_str();
    if t.field == Some(Field::MessageId) || t.field.is_none() && looks_like_identifier(value) {
        value.trim().trim_start_matches('<').trim_end_matches('>')
    } else {
        value
    }
}

/// An FTS5 string: quoted, with quotes doubled, so user text cannot break out of it.
fn fts_string(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `expr` restricted to the columns of the term's field (`{subject} : expr`); every column without one.
fn in_columns(t: &Term, expr: String) -> String {
    match t.field.map(Field::index) {
        Some(Index::Word(cols) | Index::Ident(cols)) if !cols.is_empty() => format!("{cols} : {expr}"),
        _ => expr,
    }
}

/// Alternatives as one FTS5 expression: the one alone, or `(a OR b …)`.
fn any_of(mut alts: Vec<String>) -> String {
    if alts.len() == 1 {
        alts.pop().unwrap_or_default()
    } else {
        format!("({})", alts.join(" OR "))
    }
}

/// Most index terms a prefix is spelled out into for a page ([`Query::compile_with`]). An `OR` of `n`
/// terms steps through all `n` doclists for every row it yields, so past a few dozen FTS5's one merge
/// of the prefix's doclists costs less.
pub const MAX_PREFIX_TERMS: usize = 64;

/// Lists the index terms that start with a prefix: `(table, prefix)` → the terms of that full-text
/// index, or `None` to leave the prefix to FTS5. The prefix comes as the index holds terms (ASCII,
/// lower case, one token); the terms must be every one the index holds that starts with it.
pub type PrefixTerms<'a> = dyn FnMut(&'static str, &str) -> Option<Vec<String>> + 'a;

/// What `ident_fts`'s tokenizer keeps inside a token besides letters and digits (its `tokenchars`,
/// migration 0002); `event_fts`'s keeps nothing else.
const IDENT_CHARS: &str = ".:@-_$+=%!#&*/?^`{|}~";

/// The token a prefix term asks for, as `table` stores it, when it is one plain ASCII token there: the
/// tokenizers then only fold case, so the index's terms that begin with it are exactly the words the
/// prefix matches. Anything else (several words, letters with accents) is left to FTS5.
fn prefix_token(t: &Term, table: &str) -> Option<String> {
    if !t.prefix {
        return None;
    }
    let value = fts_value(t).trim();
    let in_token = |c: char| c.is_ascii_alphanumeric() || table == "ident_fts" && IDENT_CHARS.contains(c);
    (!value.is_empty() && value.chars().all(in_token)).then(|| value.to_ascii_lowercase())
}

/// A prefix term spelled out as the terms `terms` lists for it: `"invoice"`, or
/// `{subject} : ("invoice" OR "invoices")`. `None` keeps the prefix: not a plain token, no list, an
/// empty list (a prefix with no terms is as cheap as it gets), or a term that is not plain ASCII.
fn spelled_prefix(t: &Term, table: &'static str, terms: &mut PrefixTerms<'_>) -> Option<String> {
    let token = prefix_token(t, table)?;
    let list = terms(table, &token)?;
    if list.is_empty() || list.iter().any(|w| !w.starts_with(&token) || !w.is_ascii()) {
        return None;
    }
    Some(in_columns(t, any_of(list.iter().map(|w| fts_string(w)).collect())))
}

/// A query ready for SQL: an optional FTS5 MATCH expression (bound as a parameter), extra conditions
/// on `event e` with `?` placeholders, their values in order, and an id (time-key) range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// MATCH expression for the driving full-text index, if any positive text terms exist.
    pub fts: Option<String>,
    /// The full-text table `fts` is for (`event_fts` or `ident_fts`).
    pub fts_table: &'static str,
    /// A tag name whose events drive the query when no full-text expression does (`tag:NAME`).
    pub tag: Option<String>,
    /// SQL conditions over `e` (the event table), joined with AND.
    pub conds: Vec<String>,
    /// Bound values for the `?` in `conds`, in order.
    pub params: Vec<String>,
    /// Lowest event id (inclusive).
    pub lo: Option<i64>,
    /// Highest event id (inclusive).
    pub hi: Option<i64>,
}

impl Compiled {
    /// Whether the query selects nothing but a time range (or the whole case): what the rollups answer.
    pub fn time_range_only(&self) -> bool {
        self.fts.is_none() && self.tag.is_none() && self.conds.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Query {
        Query::parse(s).unwrap()
    }

    #[test]
    fn parses_words_phrases_fields_negation_or_and_time() {
        let q = parse(
            r#"invoice "wire transfer" actor:adele -op:Send ip:10.0.0.1 OR ip:2001:db8::1 after:2025-01-01 before:2025-01-31"#,
        );
        assert_eq!(q.clauses.len(), 5);
        assert_eq!(q.clauses[1].any_of[0].value, "wire transfer");
        assert_eq!(q.clauses[2].any_of[0].field, Some(Field::Actor));
        assert!(q.clauses[3].negated);
        assert_eq!(q.clauses[4].any_of.len(), 2);
        assert_eq!(q.clauses[4].any_of[1].value, "2001:db8::1");
        assert_eq!(q.after_ms, Some(1_735_689_600_000));
        assert_eq!(q.before_ms, Some(1_738_367_999_999));
        let c = q.compile();
        assert_eq!(
            c.fts.as_deref(),
            Some(r#"("invoice" AND "wire transfer" AND {actor} : "adele") NOT {operation} : "Send""#)
        );
        assert_eq!(c.fts_table, "event_fts");
        assert_eq!(c.conds, vec!["e.id IN (SELECT rowid FROM ident_fts WHERE ident_fts MATCH ?)"]);
        assert_eq!(c.params, vec![r#"({client_ip} : "10.0.0.1" OR {client_ip} : "2001:db8::1")"#]);
    }

    #[test]
    fn prefixes_of_the_driving_expression_are_spelled_out_as_index_terms() {
        let asked: std::cell::RefCell<Vec<(String, String)>> = Default::default();
        let compile = |text: &str| {
            parse(text).compile_with(&mut |table, prefix| {
                asked.borrow_mut().push((table.to_owned(), prefix.to_owned()));
                match prefix {
                    "invo" => Some(vec!["invoice".to_owned(), "invoices".to_owned()]),
                    "wir" => Some(vec!["wire".to_owned()]),
                    "10.0." => Some(vec!["10.0.0.1".to_owned(), "10.0.0.2".to_owned()]),
                    "na" => Some(vec!["naïve".to_owned()]),
                    "zz" => Some(Vec::new()),
                    "odd" => Some(vec!["other".to_owned()]),
                    _ => None,
                }
            })
        };
        let fts = |c: Compiled| c.fts.unwrap_or_default();
        assert_eq!(fts(compile("INVO* actor:adele")), r#"("invoice" OR "invoices") AND {actor} : "adele""#);
        assert_eq!(fts(compile("subject:invo*")), r#"{subject} : ("invoice" OR "invoices")"#);
        assert_eq!(fts(compile("wir* OR report")), r#"("wire" OR "report")"#);
        assert_eq!(fts(compile("report -invo*")), r#"("report") NOT ("invoice" OR "invoices")"#);
        let c = compile("ip:10.0.* action:read");
        assert_eq!((c.fts_table, fts(c)), ("ident_fts", r#"{client_ip} : ("10.0.0.1" OR "10.0.0.2")"#.to_owned()));
        // Left to FTS5: a condition (it reads every match anyway), no list, an empty list, a list with
        // a term that is not plain ASCII or does not start with the prefix.
        let c = compile("report ip:10.0.*");
        assert_eq!(c.params, vec![r#"{client_ip} : "10.0." *"#]);
        for (text, kept) in [("abc*", r#""abc" *"#), ("zz*", r#""zz" *"#), ("na*", r#""na" *"#), ("odd*", r#""odd" *"#)]
        {
            assert_eq!(fts(compile(text)), kept, "{text}");
        }
        // Never asked: several words, accents, exact terms, a prefix in a condition.
        asked.borrow_mut().clear();
        for text in ["wire-tr*", "naï*", "\"invo*\"", "invoice", "report ip:10.0.*"] {
            compile(text);
        }
        assert!(asked.borrow().is_empty(), "{asked:?}");
        assert_eq!(parse("invo*").compile().fts.as_deref(), Some(r#""invo" *"#), "compile() keeps prefixes");
    }

    #[test]
    fn ident_token_characters_are_the_migrations() {
        let migration = include_str!("../migrations/0002_universal_import.sql");
        assert!(migration.contains(&format!("tokenchars '{IDENT_CHARS}'")), "prefix_token's IDENT_CHARS");
    }

    #[test]
    fn user_input_cannot_break_out_of_a_phrase() {
        let c = parse(r#"x"y"#).compile();
        assert_eq!(c.fts.as_deref(), Some(r#""x""y""#));
        let q = Query::parse(r#"subject:"a"" OR 1=1 --""#);
        assert!(q.is_err() || q.unwrap().compile().params.is_empty());
        let c = parse(r#"x'; DROP TABLE event; x"#).compile();
        assert!(c.fts.unwrap().starts_with(r#""x';" AND "DROP""#));
    }

    #[test]
    fn explains_what_is_wrong() {
        for (text, needle) in [
            ("acter:bob", "not a field"),
            ("\"open", "not closed"),
            ("OR x", "both sides"),
            ("x OR", "both sides"),
            ("after:yesterday", "needs a date"),
            ("actor:", "needs a value"),
            ("= + @", "no letters or digits"),
            ("after:2025-02-01 before:2025-01-01", "Swap"),
            ("is:read", "is:bookmarked or is:tagged"),
            ("has:attachment", "has:note"),
            ("is:book*", "is:bookmarked"),
            ("tag:", "needs a value"),
        ] {
            let e = Query::parse(text).unwrap_err();
            assert_eq!(e.code, ErrorCode::QueryInvalid);
            assert!(e.message.contains(needle), "{text}: {}", e.message);
        }
    }

    #[test]
    fn exact_fields_become_sql_conditions_with_bound_values() {
        let c = parse("action:Read msgid:<ABC@x.example> -action:sync").compile();
        assert_eq!((c.fts_table, c.fts.as_deref()), ("ident_fts", Some(r#"{message_ids} : "ABC@x.example""#)));
        assert_eq!(c.conds, vec!["(e.action = ?)", "NOT (e.action = ?)"]);
        assert_eq!(c.params, vec!["read", "sync"]);
        // Pasted identifiers are looked up whole; app: is a client family or an app id.
        let c = parse("203.0.113.7 6a5cf5f1-b5b1-4868-2474-1e2b89d10afb").compile();
        assert_eq!(c.fts_table, "ident_fts");
        assert_eq!(c.fts.as_deref(), Some(r#""203.0.113.7" AND "6a5cf5f1-b5b1-4868-2474-1e2b89d10afb""#));
        let c = parse("app:OWA source:purview*").compile();
        assert_eq!(c.params, vec!["OWA", r#"{app_id} : "OWA""#, "purview%"]);
        let c = parse("-invoice").compile();
        assert_eq!(c.fts, None);
        assert_eq!(c.conds, vec!["e.id NOT IN (SELECT rowid FROM event_fts WHERE event_fts MATCH ?)"]);
    }

    #[test]
    fn renaming_a_tag_rewrites_only_that_tag_in_a_query() {
        let r = |text: &str, old: &str, new: &str| rename_tag_in_query(text, old, new);
        assert_eq!(r("tag:old", "old", "new").as_deref(), Some("tag:new"));
        assert_eq!(r("  TAG:Old  invoice", "old", "new").as_deref(), Some("  TAG:new  invoice"));
        assert_eq!(r(r#"tag:"old name" -tag:OLD"#, "Old Name", "x").as_deref(), Some(r#"tag:"x" -tag:OLD"#));
        assert_eq!(r("-tag:old OR", "old", "new"), None, "not a query");
        assert_eq!(
            r("a OR tag:old -tag:old", "old", "two words").as_deref(),
            Some(r#"a OR tag:"two words" -tag:"two words""#)
        );
        assert_eq!(r("tag:old", "old", "new*").as_deref(), Some(r#"tag:"new*""#));
        // Not the tag: other fields, prefixes, free text, other tags, dates and URLs.
        for text in ["old", "subject:old", "tag:old*", "tag:olden", "\"tag:old\"", "after:2025-01-01 x://tag:old"] {
            assert_eq!(r(text, "old", "new"), None, "{text}");
        }
        // Non-ASCII letters are compared exactly, as SQLite's NOCASE does.
        assert_eq!(r("tag:ÉTÉ", "été", "x"), None);
        assert_eq!(r("tag:été", "été", "x").as_deref(), Some("tag:x"));
    }

    #[test]
    fn annotations_are_bound_sql_conditions() {
        let c = parse(r#"tag:"BEC wave" -tag:noise is:bookmarked has:notes"#).compile();
        assert_eq!((c.fts, c.tag.as_deref()), (None, Some("BEC wave")), "one tag drives");
        let tag = "e.id IN (SELECT et.event_id FROM event_tag et JOIN tag t ON t.id = et.tag_id WHERE t.name = ? COLLATE NOCASE)";
        assert_eq!(
            c.conds,
            vec![
                format!("NOT ({tag})"),
                "(e.id IN (SELECT event_id FROM bookmark))".to_owned(),
                "(e.id IN (SELECT event_id FROM note WHERE event_id IS NOT NULL))".to_owned(),
            ]
        );
        assert_eq!(c.params, vec!["noise"]);
        // A second tag is a condition.
        let c = parse("tag:a tag:b").compile();
        assert_eq!((c.tag.as_deref(), c.conds.len(), c.params.clone()), (Some("a"), 1, vec!["b".to_owned()]));
        // Combined with words, OR and a time range: the word index drives, annotations filter.
        let c = parse("invoice tag:x OR is:tagged after:2025-01-01 workload:exchange tag:ph%_*").compile();
        assert_eq!((c.fts.as_deref(), c.tag.as_deref()), (Some(r#""invoice""#), None));
        assert_eq!(c.conds.len(), 3);
        assert!(c.conds[0].contains(" OR e.id IN (SELECT event_id FROM event_tag)"), "{}", c.conds[0]);
        assert_eq!(c.conds[1], "(e.workload = ? COLLATE NOCASE)");
        assert!(c.conds[2].contains("t.name LIKE ? ESCAPE"), "{}", c.conds[2]);
        assert_eq!(c.params, vec!["x", "exchange", r"ph\%\_%"]);
        assert!(c.lo.is_some());
        // Nothing the investigator types reaches the SQL text.
        let c = parse(r#"tag:"x') OR 1=1 --""#).compile();
        assert!(c.conds.iter().all(|s| !s.contains("1=1")));
    }
}
