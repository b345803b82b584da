//! The mailbox activity view: for one mailbox, a second-by-second stream of what happened in it,
//! grouped into client sessions, and the five legacy "Magic Unicorn" reports.
//!
//! Why a view of its own: the timeline answers "what matches this query"; a BEC investigation also
//! asks "what did this person (or the intruder) do in this mailbox, sitting by sitting". That needs
//! things no single event carries: how long a message stayed in the reading pane (a legacy
//! `ReadingPaneDisplayStart` paired with its `ReadingPaneDisplayEnd`), which search the typed
//! keystrokes became (`SearchSuggestionsDisplay` "i", "in", "inv" … then `SearchResult` "invoice"),
//! and which message an opaque `ActivityItemId` was (its `MessageDelivered` record).
//!
//! **Which events belong to the mailbox.** Events whose `mailbox` is the UPN (case-insensitive); sign-ins
//! with no mailbox whose actor is the UPN; and legacy activities with no mailbox that came from a
//! retriever file in which the mailbox's own `ServerLogon` (`UserName`) appears, because the retriever
//! was run per mailbox and its rows name none (`tidemark-formats` `activities_csv`). A retriever file
//! without any `ServerLogon` of the mailbox cannot be attributed and is not shown.
//!
//! **Sessions.** Events are grouped by a key: the session id when the record has one (legacy
//! `ClientSessionId`, UAL `SessionId`), else client IP + client family, else (server-side records such as
//! `MessageDelivered`, which have neither) one "server" group. A session ends when its key has been
//! silent for more than [`SESSION_GAP_MS`] (30 minutes); the next event with that key starts a new
//! session. This applies to session ids too: an OWA session id can live for days in an open tab, and
//! an investigator wants the sittings in which someone was actually active; it also means only the
//! sessions active in the last 30 minutes have to be remembered while streaming, so the state a page
//! cursor carries stays small whatever the size of the mailbox. Sessions start at the range start when
//! a time range is given.
//!
//! **Streaming.** [`CaseReader::mailbox_page`] reads events in time (= id) order after a cursor, in
//! bounded chunks, and runs one deterministic state machine over them. The cursor is that machine's
//! state after the page (opaque text), so page after page gives exactly what one pass over the whole
//! mailbox would, and a page costs the same at the end of a million events as at the start. Reading-pane
//! ends and keystrokes that complete an entry of this page but arrive after it are found by running the
//! machine a bounded distance further ([`LOOKAHEAD_EVENTS`]) without emitting.
//!
//! **Reading-pane pairing.** An `…DisplayEnd` pairs with the latest unpaired `…DisplayStart` of the same
//! `ActivityItemId` (same prefix: `ReadingPane`, `Inspector`) in the same session before it; both
//! entries then carry the other's id and the duration. A start or end without its partner is shown
//! unpaired. Ends stay visible as entries of their own, so nothing is hidden by pairing.
//!
//! **Typed searches.** A `SearchSuggestionsDisplay` (or singular `SearchSuggestionDisplay`) opens a
//! typed search in its session; further suggestions less than [`TYPING_GAP_MS`] (2 minutes) apart are
//! its keystrokes, and a `SearchResult`/`SearchQueryExecute` in the same session within that gap is the
//! search it became. They are shown as one entry at the first keystroke, with every keystroke in order
//! (`i → in → inv → invoice`) and the ids of the records it absorbed. Any other non-search activity in
//! the session, or the gap, ends the typing.
//!
//! **Reports.** [`CaseReader::mailbox_report`] gives the five reports of LMG's `MagicUnicorn_v1.py`
//! (`shared/docs/m365-formats.md` §1.11) with exactly its columns, over the legacy events of the
//! mailbox in time order, "No Data" where the message dictionary knows nothing, and its "Last Login IP"
//! heuristic (the most recently first-seen IP of `ServerLogon`/`Logon` rows so far). Unlike the script,
//! rows of every `AppIdType` are kept (the script silently dropped IMAP, POP and others), and `Date`/
//! `Time` come from the normalized time (`…T10:42:44.548Z` → `2018-05-14`, `10:42:44.548Z`).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io::Write;
use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::case::{CaseReader, CaseWriter};
use crate::error::{Error, ErrorCode, Result};
use crate::export::neutralize;
use crate::model::{
    ActionCount, MailboxEntry, MailboxPage, MailboxReport, MailboxSession, PaneTiming, ReportExport, ReportKind,
    ReportRow, TypedSearch,
};
use crate::time::{iso_ms, key_lower, key_ms, key_upper, parse_user_time, MAX_MS, MIN_MS};

/// A session ends after this much silence from its key (30 minutes).
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;
/// Keystrokes of one typed search are at most this far apart (2 minutes).
pub const TYPING_GAP_MS: i64 = 2 * 60 * 1000;
/// Most entries one mailbox page may hold.
pub const MAX_MAILBOX_PAGE: usize = 1000;
/// How many events past a page are read to pair reading-pane ends and keystrokes with its entries.
pub const LOOKAHEAD_EVENTS: usize = 20_000;
/// Events read from the case per query.
const CHUNK: usize = 512;
/// The value Magic Unicorn writes where its message dictionary knows nothing.
pub const NO_DATA: &str = "No Data";

/// One mailbox and an optional time range (both ends inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxScope {
    /// The mailbox UPN, as typed (matched case-insensitively).
    pub mailbox: String,
    /// Earliest time, Unix ms.
    pub from_ms: Option<i64>,
    /// Latest time, Unix ms.
    pub to_ms: Option<i64>,
}

impl MailboxScope {
    /// A scope from what the investigator typed: a UPN and optional time bounds (`2018-05-14`,
    /// `2018-05-14T10:00`, full ISO; UTC when no zone is given; a bare date as `to` means the whole day).
    pub fn parse(mailbox: &str, from: Option<&str>, to: Option<&str>) -> Result<Self> {
        let mailbox = mailbox.trim();
        if mailbox.is_empty() || !mailbox.chars().any(char::is_alphanumeric) {
            return Err(Error::new(ErrorCode::QueryInvalid, "Name the mailbox to show, e.g. victim@contoso.com."));
        }
        let bound = |name: &str, v: Option<&str>, end: bool| -> Result<Option<i64>> {
            let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
            let ms = parse_user_time(v).ok_or_else(|| {
                Error::new(
                    ErrorCode::QueryInvalid,
                    format!("{name} needs a date like 2018-05-14 or 2018-05-14T10:00 (UTC); \"{v}\" is not one."),
                )
            })?;
            Ok(Some(if end && v.len() == 10 { ms + 86_399_999 } else { ms }))
        };
        let from_ms = bound("From", from, false)?;
        let to_ms = bound("To", to, true)?;
        if let (Some(a), Some(b)) = (from_ms, to_ms) {
            if a > b {
                return Err(Error::new(ErrorCode::QueryInvalid, "From is later than To. Swap the two times."));
            }
        }
        Ok(Self { mailbox: mailbox.to_owned(), from_ms, to_ms })
    }

    fn lo(&self) -> i64 {
        key_lower(self.from_ms.unwrap_or(MIN_MS))
    }

    fn hi(&self) -> i64 {
        key_upper(self.to_ms.unwrap_or(MAX_MS))
    }
}

// ---------------------------------------------------------------------------------------------------
// Reading the mailbox's events in time order.

const EV_COLS: &str = "e.id, e.time_ms, e.source, e.operation, e.action, e.actor, e.mailbox, e.client_ip, \
    e.client_app, e.user_agent, e.app_id, e.session_id, e.subject, e.folders, e.message_ids, e.object, e.details";

/// The fields of an event the view reads.
#[derive(Debug, Clone)]
struct Ev {
    id: i64,
    time_ms: i64,
    source: String,
    operation: String,
    action: String,
    actor: Option<String>,
    client_ip: Option<String>,
    client_app: Option<String>,
    user_agent: Option<String>,
    app_id: Option<String>,
    session_id: Option<String>,
    subject: Option<String>,
    folders: Vec<String>,
    message_ids: Vec<String>,
    object: Option<String>,
    details: Map<String, Value>,
}

impl Ev {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        let folders: Option<String> = r.get(13)?;
        let msgids: Option<String> = r.get(14)?;
        let details: String = r.get(16)?;
        Ok(Self {
            id: r.get(0)?,
            time_ms: r.get(1)?,
            source: r.get(2)?,
            operation: r.get(3)?,
            action: r.get(4)?,
            actor: r.get(5)?,
            client_ip: r.get(7)?,
            client_app: r.get(8)?,
            user_agent: r.get(9)?,
            app_id: r.get(10)?,
            session_id: r.get(11)?,
            subject: r.get(12)?,
            folders: folders.map(|f| f.split("; ").map(str::to_owned).collect()).unwrap_or_default(),
            message_ids: msgids.map(|m| m.split(' ').map(str::to_owned).collect()).unwrap_or_default(),
            object: r.get(15)?,
            details: match serde_json::from_str::<Value>(&details) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            },
        })
    }

    fn detail(&self, key: &str) -> Option<&str> {
        self.details.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
    }

    fn legacy(&self) -> bool {
        self.source.starts_with("activities")
    }

    /// The IP as the record gave it (with port, if any), as Magic Unicorn shows it.
    fn raw_ip(&self) -> Option<&str> {
        self.detail("client_ip_raw").or(self.client_ip.as_deref())
    }

    fn app(&self) -> Option<String> {
        self.detail("app_name").or(self.app_id.as_deref()).or_else(|| self.detail("app_id_type")).map(str::to_owned)
    }
}

/// An FTS5 phrase in one or more columns, quotes doubled (the value is bound, never spliced).
fn fts_phrase(columns: &str, value: &str) -> String {
    format!("{{{columns}}} : \"{}\"", value.replace('"', "\"\""))
}

/// Legacy files of the mailbox: retriever files holding at least one event of the mailbox.
fn legacy_files(reader: &CaseReader, scope: &MailboxScope) -> Result<Vec<i64>> {
    let mut st = reader.conn.prepare_cached(
        "SELECT id, first_ms, last_ms FROM acquired_file WHERE format LIKE 'activities%' ORDER BY id",
    )?;
    let files: Vec<(i64, Option<i64>, Option<i64>)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
    let mut probe = reader.conn.prepare_cached(
        "SELECT 1 FROM event_fts f JOIN event e ON e.id = f.rowid \
         WHERE event_fts MATCH ?1 AND f.rowid >= ?2 AND f.rowid <= ?3 AND e.mailbox = ?4 COLLATE NOCASE \
           AND EXISTS (SELECT 1 FROM raw_record r WHERE r.event_id = e.id AND r.file_id = ?5) LIMIT 1",
    )?;
    let phrase = fts_phrase("mailbox", &scope.mailbox);
    let mut out = Vec::new();
    for (id, first, last) in files {
        let lo = first.map_or(i64::MIN, key_lower);
        let hi = last.map_or(i64::MAX, key_upper);
        let hit: Option<i64> = probe
            .query_row(rusqlite::params![phrase, lo, hi, scope.mailbox, id], |r| r.get(0))
            .optional()
            .map_err(fts_error)?;
        if hit.is_some() {
            out.push(id);
        }
    }
    Ok(out)
}

fn fts_error(e: rusqlite::Error) -> Error {
    let text = e.to_string();
    if text.contains("fts5") || text.contains("MATCH") {
        Error::new(ErrorCode::QueryInvalid, "This mailbox name cannot be searched. Check how it is spelled.")
            .with_detail(text)
    } else {
        e.into()
    }
}

/// The mailbox's events in id order after a position: two bounded queries merged (events named by the
/// mailbox through the word index; unattributed legacy rows of the mailbox's retriever files by id range).
struct Stream<'r> {
    reader: &'r CaseReader,
    scope: MailboxScope,
    files: Vec<i64>,
    named: (VecDeque<Ev>, i64, bool),
    legacy: (VecDeque<Ev>, i64, bool),
    last: i64,
}

impl<'r> Stream<'r> {
    fn new(reader: &'r CaseReader, scope: &MailboxScope, files: Vec<i64>, after: i64) -> Self {
        let legacy_done = files.is_empty();
        Self {
            reader,
            scope: scope.clone(),
            files,
            named: (VecDeque::new(), after, false),
            legacy: (VecDeque::new(), after, legacy_done),
            last: after,
        }
    }

    fn fill_named(&mut self) -> Result<()> {
        let (buf, after, done) = &mut self.named;
        if !buf.is_empty() || *done {
            return Ok(());
        }
        let sql = format!(
            "SELECT {EV_COLS} FROM event_fts f JOIN event e ON e.id = f.rowid \
             WHERE event_fts MATCH ?1 AND f.rowid > ?2 AND f.rowid >= ?3 AND f.rowid <= ?4 \
               AND (e.mailbox = ?5 COLLATE NOCASE OR (e.mailbox IS NULL AND e.actor = ?5 COLLATE NOCASE \
                    AND e.action IN ('logon', 'logon-failed'))) \
             ORDER BY f.rowid LIMIT {CHUNK}"
        );
        let mut st = self.reader.conn.prepare_cached(&sql)?;
        let phrase = fts_phrase("mailbox actor", &self.scope.mailbox);
        let rows: Vec<Ev> = st
            .query_map(
                rusqlite::params![phrase, *after, self.scope.lo(), self.scope.hi(), self.scope.mailbox],
                Ev::from_row,
            )
            .map_err(fts_error)?
            .collect::<rusqlite::Result<_>>()
            .map_err(fts_error)?;
        *done = rows.len() < CHUNK;
        if let Some(l) = rows.last() {
            *after = l.id;
        }
        buf.extend(rows);
        Ok(())
    }

    fn fill_legacy(&mut self) -> Result<()> {
        let (buf, after, done) = &mut self.legacy;
        if !buf.is_empty() || *done {
            return Ok(());
        }
        let marks = vec!["?"; self.files.len()].join(", ");
        let sql = format!(
            "SELECT {EV_COLS} FROM event e \
             WHERE e.id > ? AND e.id >= ? AND e.id <= ? AND e.mailbox IS NULL AND e.source LIKE 'activities%' \
               AND EXISTS (SELECT 1 FROM raw_record r WHERE r.event_id = e.id AND r.file_id IN ({marks})) \
             ORDER BY e.id LIMIT {CHUNK}"
        );
        let mut params =
            vec![SqlValue::Integer(*after), SqlValue::Integer(self.scope.lo()), SqlValue::Integer(self.scope.hi())];
        params.extend(self.files.iter().map(|f| SqlValue::Integer(*f)));
        let mut st = self.reader.conn.prepare_cached(&sql)?;
        let rows: Vec<Ev> =
            st.query_map(params_from_iter(params.iter()), Ev::from_row)?.collect::<rusqlite::Result<_>>()?;
        *done = rows.len() < CHUNK;
        if let Some(l) = rows.last() {
            *after = l.id;
        }
        buf.extend(rows);
        Ok(())
    }

    fn next(&mut self) -> Result<Option<Ev>> {
        loop {
            self.fill_named()?;
            self.fill_legacy()?;
            let a = self.named.0.front().map(|e| e.id);
            let b = self.legacy.0.front().map(|e| e.id);
            let ev = match (a, b) {
                (None, None) => return Ok(None),
                (Some(x), Some(y)) if y < x => self.legacy.0.pop_front(),
                (Some(_), _) => self.named.0.pop_front(),
                (None, Some(_)) => self.legacy.0.pop_front(),
            };
            let Some(ev) = ev else { return Ok(None) };
            if ev.id <= self.last {
                continue; // both queries gave it (cannot happen today; harmless if it ever does)
            }
            self.last = ev.id;
            return Ok(Some(ev));
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// The session state machine.

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PaneStart {
    item: String,
    prefix: String,
    id: i64,
    ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Run {
    entry: i64,
    last_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenSession {
    id: i64,
    key: String,
    kind: String,
    session_id: Option<String>,
    first_ms: i64,
    last_ms: i64,
    ips: Vec<String>,
    client: Option<String>,
    app: Option<String>,
    user_agent: Option<String>,
    events: i64,
    counts: BTreeMap<String, i64>,
    starts: Vec<PaneStart>,
    run: Option<Run>,
}

impl OpenSession {
    fn summary(&self, open: bool) -> MailboxSession {
        let mut counts: Vec<ActionCount> =
            self.counts.iter().map(|(a, n)| ActionCount { action: a.clone(), count: *n }).collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.action.cmp(&b.action)));
        MailboxSession {
            id: self.id.to_string(),
            kind: self.kind.clone(),
            session_id: self.session_id.clone(),
            first_time: iso_ms(self.first_ms),
            first_ms: self.first_ms,
            last_time: iso_ms(self.last_ms),
            last_ms: self.last_ms,
            ips: self.ips.clone(),
            client: self.client.clone(),
            app: self.app.clone(),
            user_agent: self.user_agent.clone(),
            events: self.events,
            counts,
            open,
        }
    }
}

/// What the cursor carries: the position and the sessions still open there.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    /// Version of this cursor's shape.
    v: u32,
    /// Last event id processed.
    pos: i64,
    /// Open sessions, oldest first.
    sessions: Vec<OpenSession>,
}

const CURSOR_VERSION: u32 = 1;

fn bad_cursor() -> Error {
    Error::new(ErrorCode::QueryInvalid, "The page position is not valid. Open the mailbox view again.")
}

impl State {
    fn decode(cursor: Option<&str>, scope: &MailboxScope) -> Result<Self> {
        match cursor {
            None => Ok(Self { v: CURSOR_VERSION, pos: scope.lo() - 1, sessions: Vec::new() }),
            Some(c) => {
                let s: Self = serde_json::from_str(c).map_err(|_| bad_cursor())?;
                if s.v != CURSOR_VERSION {
                    return Err(bad_cursor());
                }
                Ok(s)
            }
        }
    }
}

/// Whether an entry or a session summary may be written (the page) or only completed (the lookahead).
#[derive(Debug, Default)]
struct Out {
    emit: bool,
    entries: Vec<MailboxEntry>,
    index: HashMap<i64, usize>,
    /// Sessions closed while emitting, with their final summaries.
    closed: BTreeMap<i64, MailboxSession>,
    /// Sessions that had an event in the page.
    touched: BTreeSet<i64>,
}

impl Out {
    fn entry(&mut self, id: i64) -> Option<&mut MailboxEntry> {
        self.index.get(&id).map(|i| &mut self.entries[*i])
    }

    fn push(&mut self, e: MailboxEntry, id: i64) {
        if self.emit {
            self.index.insert(id, self.entries.len());
            self.entries.push(e);
        }
    }
}

fn is_suggestion(op: &str) -> bool {
    matches!(op, "SearchSuggestionsDisplay" | "SearchSuggestionDisplay")
}

fn is_search_result(op: &str) -> bool {
    matches!(op, "SearchResult" | "SearchQueryExecute")
}

/// `ReadingPaneDisplayStart` → (`ReadingPane`, start).
fn display_marker(op: &str) -> Option<(&str, bool)> {
    if let Some(p) = op.strip_suffix("DisplayStart") {
        return Some((p, true));
    }
    op.strip_suffix("DisplayEnd").map(|p| (p, false))
}

fn progression(steps: &[String]) -> String {
    steps.join(" → ")
}

/// A short description of what the record says beyond subject and folder.
fn entry_detail(ev: &Ev) -> Option<String> {
    let d = |k: &str| ev.detail(k).map(str::to_owned);
    match ev.action.as_str() {
        "attachment" => d("attachment_action"),
        "rule" | "forwarding" | "permission" | "admin" => d("parameters").or_else(|| ev.object.clone()),
        "move" | "delete" => d("dest_folder"),
        "search" => d("query").or_else(|| d("query_text")),
        "logon" | "logon-failed" => ev.user_agent.clone(),
        "read" | "sync" => d("mail_access_type"),
        _ => None,
    }
}

fn base_entry(ev: &Ev, session: i64) -> MailboxEntry {
    MailboxEntry {
        id: ev.id.to_string(),
        time: iso_ms(ev.time_ms),
        time_ms: ev.time_ms,
        session: session.to_string(),
        action: ev.action.clone(),
        operation: ev.operation.clone(),
        subject: ev.subject.clone(),
        sender: ev.detail("sender").map(str::to_owned),
        resolved_from: None,
        folders: ev.folders.clone(),
        message_ids: ev.message_ids.clone(),
        item_id: if ev.legacy() { ev.object.clone() } else { None },
        client_ip: ev.client_ip.clone(),
        detail: entry_detail(ev),
        pane: None,
        search: None,
    }
}

fn session_key(ev: &Ev) -> (String, &'static str) {
    if let Some(s) = ev.session_id.as_deref().filter(|s| !s.trim().is_empty()) {
        return (format!("sid:{s}"), "session-id");
    }
    if ev.client_ip.is_some() || ev.client_app.is_some() {
        let ip = ev.client_ip.as_deref().unwrap_or("");
        let client = ev.client_app.as_deref().unwrap_or("");
        return (format!("net:{ip}|{client}"), "ip-client");
    }
    ("server".to_owned(), "server")
}

impl State {
    /// Closes what has been silent too long before `now_ms`.
    fn expire(&mut self, now_ms: i64, out: &mut Out) {
        let mut i = 0;
        while i < self.sessions.len() {
            let s = &mut self.sessions[i];
            if s.run.as_ref().is_some_and(|r| now_ms - r.last_ms > TYPING_GAP_MS) {
                s.run = None;
            }
            if now_ms - s.last_ms > SESSION_GAP_MS {
                let s = self.sessions.remove(i);
                if out.emit && out.touched.contains(&s.id) {
                    out.closed.insert(s.id, s.summary(false));
                }
            } else {
                i += 1;
            }
        }
    }

    fn step(&mut self, ev: &Ev, out: &mut Out) {
        self.pos = ev.id;
        self.expire(ev.time_ms, out);
        let (key, kind) = session_key(ev);
        let si = match self.sessions.iter().position(|s| s.key == key) {
            Some(i) => i,
            None => {
                self.sessions.push(OpenSession {
                    id: ev.id,
                    key,
                    kind: kind.to_owned(),
                    session_id: ev.session_id.clone(),
                    first_ms: ev.time_ms,
                    last_ms: ev.time_ms,
                    ips: Vec::new(),
                    client: None,
                    app: None,
                    user_agent: None,
                    events: 0,
                    counts: BTreeMap::new(),
                    starts: Vec::new(),
                    run: None,
                });
                self.sessions.len() - 1
            }
        };
        let s = &mut self.sessions[si];
        s.last_ms = ev.time_ms;
        s.events += 1;
        *s.counts.entry(ev.action.clone()).or_insert(0) += 1;
        if let Some(ip) = &ev.client_ip {
            if !s.ips.contains(ip) {
                s.ips.push(ip.clone());
            }
        }
        if s.client.is_none() {
            s.client.clone_from(&ev.client_app);
        }
        if s.app.is_none() {
            s.app = ev.app();
        }
        if s.user_agent.is_none() {
            s.user_agent.clone_from(&ev.user_agent);
        }
        if out.emit {
            out.touched.insert(s.id);
        }
        let sid = s.id;
        let op = ev.operation.as_str();

        // Typed searches.
        if is_suggestion(op) {
            let typed = ev.detail("suggestion_stimulus").or(ev.subject.as_deref()).unwrap_or("").to_owned();
            if let Some(run) = s.run.as_mut() {
                run.last_ms = ev.time_ms;
                let entry = run.entry;
                if let Some(e) = out.entry(entry) {
                    if let Some(t) = e.search.as_mut() {
                        t.keystrokes.push(typed.clone());
                        t.absorbed_ids.push(ev.id.to_string());
                        t.query.clone_from(&typed);
                        t.progression = progression(&t.keystrokes);
                    }
                    e.subject = Some(typed);
                }
                return;
            }
            s.run = Some(Run { entry: ev.id, last_ms: ev.time_ms });
            let mut e = base_entry(ev, sid);
            e.subject = Some(typed.clone());
            e.detail = None;
            e.search = Some(TypedSearch {
                keystrokes: vec![typed.clone()],
                progression: typed.clone(),
                query: typed,
                result_id: None,
                absorbed_ids: Vec::new(),
            });
            out.push(e, ev.id);
            return;
        }
        if is_search_result(op) {
            if let Some(run) = s.run.take() {
                let query = ev.detail("query").or(ev.subject.as_deref()).unwrap_or("").to_owned();
                if let Some(e) = out.entry(run.entry) {
                    if let Some(t) = e.search.as_mut() {
                        if t.keystrokes.last() != Some(&query) && !query.is_empty() {
                            t.keystrokes.push(query.clone());
                            t.progression = progression(&t.keystrokes);
                        }
                        t.query.clone_from(&query);
                        t.result_id = Some(ev.id.to_string());
                        t.absorbed_ids.push(ev.id.to_string());
                    }
                    e.subject = Some(query);
                }
                return;
            }
        } else if ev.action != "search" {
            s.run = None;
        }

        let mut e = base_entry(ev, sid);
        // Reading-pane (and inspector) display start and end.
        if let (Some((prefix, start)), Some(item)) = (display_marker(op), ev.object.as_deref()) {
            if start {
                s.starts.push(PaneStart {
                    item: item.to_owned(),
                    prefix: prefix.to_owned(),
                    id: ev.id,
                    ms: ev.time_ms,
                });
                e.pane = Some(PaneTiming { marker: "start".into(), paired_id: None, duration_ms: None });
            } else {
                let found = s.starts.iter().rposition(|p| p.item == item && p.prefix == prefix);
                let mut timing = PaneTiming { marker: "end".into(), paired_id: None, duration_ms: None };
                if let Some(i) = found {
                    let p = s.starts.remove(i);
                    let duration = ev.time_ms - p.ms;
                    timing.paired_id = Some(p.id.to_string());
                    timing.duration_ms = Some(duration);
                    if let Some(se) = out.entry(p.id) {
                        se.pane = Some(PaneTiming {
                            marker: "start".into(),
                            paired_id: Some(ev.id.to_string()),
                            duration_ms: Some(duration),
                        });
                    }
                }
                e.pane = Some(timing);
            }
        }
        out.push(e, ev.id);
    }

    /// Whether anything emitted in this page still waits for a later event.
    fn waits_for(&self, out: &Out) -> bool {
        self.sessions.iter().any(|s| {
            s.run.as_ref().is_some_and(|r| out.index.contains_key(&r.entry))
                || s.starts.iter().any(|p| out.index.contains_key(&p.id))
        })
    }
}

// ---------------------------------------------------------------------------------------------------
// Legacy item resolution: ActivityItemId → subject, sender, received time through MessageDelivered.

/// What Magic Unicorn's message dictionary knows about an item.
#[derive(Debug, Clone, Default)]
struct ItemInfo {
    event_id: Option<i64>,
    subject: Option<String>,
    sender: Option<String>,
    received: Option<String>,
    folder: Option<String>,
    message_id: Option<String>,
}

/// A custom property from the normalizer's flattened `custom_properties` text (`k=v; k=v`).
fn custom_property(details: &Map<String, Value>, name: &str) -> Option<String> {
    let flat = details.get("custom_properties")?.as_str()?;
    let prefix = format!("{name}=");
    flat.split("; ").find_map(|kv| kv.strip_prefix(&prefix)).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// id, subject, folders, message ids, details of the record that names an item.
type ItemRow = (i64, Option<String>, Option<String>, Option<String>, String);

struct Resolver<'r> {
    reader: &'r CaseReader,
    mailbox: String,
    cache: HashMap<String, ItemInfo>,
}

impl<'r> Resolver<'r> {
    fn new(reader: &'r CaseReader, mailbox: &str) -> Self {
        Self { reader, mailbox: mailbox.to_owned(), cache: HashMap::new() }
    }

    /// The item's `MessageDelivered` record (else a `MarkAsRead`/`ReplyAll` that names its sender, as
    /// Magic Unicorn's first pass does) in this mailbox.
    fn item(&mut self, item: &str) -> Result<ItemInfo> {
        if let Some(i) = self.cache.get(item) {
            return Ok(i.clone());
        }
        let mut st = self.reader.conn.prepare_cached(
            "SELECT e.id, e.subject, e.folders, e.message_ids, e.details FROM event_fts f JOIN event e ON e.id = f.rowid \
             WHERE event_fts MATCH ?1 AND e.object = ?2 \
               AND e.operation IN ('MessageDelivered', 'MarkAsRead', 'ReplyAll') \
               AND (e.mailbox IS NULL OR e.mailbox = ?3 COLLATE NOCASE) \
             ORDER BY e.operation <> 'MessageDelivered', e.id LIMIT 1",
        )?;
        let found: Option<ItemRow> = st
            .query_row(rusqlite::params![fts_phrase("object", item), item, self.mailbox], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()
            .map_err(fts_error)?;
        let info = match found {
            None => ItemInfo::default(),
            Some((id, subject, folders, msgids, details)) => {
                let details = match serde_json::from_str::<Value>(&details) {
                    Ok(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                ItemInfo {
                    event_id: Some(id),
                    subject,
                    sender: details.get("sender").and_then(Value::as_str).map(str::to_owned),
                    received: custom_property(&details, "ReceivedTime"),
                    folder: folders.and_then(|f| f.split("; ").next().map(str::to_owned)),
                    message_id: msgids.and_then(|m| m.split(' ').next().map(str::to_owned)),
                }
            }
        };
        self.cache.insert(item.to_owned(), info.clone());
        Ok(info)
    }

    fn enrich(&mut self, e: &mut MailboxEntry) -> Result<()> {
        let Some(item) = e.item_id.clone() else { return Ok(()) };
        if e.operation == "MessageDelivered" || (e.subject.is_some() && e.sender.is_some()) {
            return Ok(());
        }
        let info = self.item(&item)?;
        if info.event_id.is_none() {
            return Ok(());
        }
        if e.search.is_none() && e.subject.is_none() {
            e.subject.clone_from(&info.subject);
        }
        if e.sender.is_none() {
            e.sender.clone_from(&info.sender);
        }
        if e.message_ids.is_empty() {
            e.message_ids.extend(info.message_id.clone());
        }
        if e.folders.is_empty() {
            e.folders.extend(info.folder.clone());
        }
        e.resolved_from = info.event_id.map(|i| i.to_string());
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------
// The view and the reports.

fn reading_pane(op: &str) -> bool {
    op.contains("ReadingPane")
}

impl ReportKind {
    /// Parses `logons`, `reads-by-time`, `reads-by-item`, `searches` or `attachments`.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "logons" | "logon" => Self::Logons,
            "reads-by-time" => Self::ReadsByTime,
            "reads-by-item" => Self::ReadsByItem,
            "searches" | "search" => Self::Searches,
            "attachments" | "attachment" => Self::Attachments,
            _ => {
                return Err(Error::new(
                    ErrorCode::QueryInvalid,
                    format!(
                        "\"{s}\" is not a legacy report. Use logons, reads-by-time, reads-by-item, searches or attachments."
                    ),
                ))
            }
        })
    }

    /// The name used on the command line and in file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logons => "logons",
            Self::ReadsByTime => "reads-by-time",
            Self::ReadsByItem => "reads-by-item",
            Self::Searches => "searches",
            Self::Attachments => "attachments",
        }
    }

    /// The title Magic Unicorn's file suffix gives it.
    pub fn title(self) -> &'static str {
        match self {
            Self::Logons => "Logon activity",
            Self::ReadsByTime => "Read activity by time",
            Self::ReadsByItem => "Read activity by item",
            Self::Searches => "Search activity",
            Self::Attachments => "Attachments activity",
        }
    }

    /// The columns, exactly as `MagicUnicorn_v1.py` writes them (`shared/docs/m365-formats.md` §1.11).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Logons => &["Date", "Time", "Source IP", "Logon Type", "App Type", "User", "Client"],
            Self::ReadsByTime | Self::ReadsByItem => {
                &["Date", "Time", "Type", "Platform", "Subject", "From", "Received Date", "Last Login IP"]
            }
            Self::Searches => &["Date", "Time", "Platform", "Query", "Last Login ip"],
            Self::Attachments => &[
                "Date",
                "Time",
                "Platform",
                "Subject",
                "From",
                "Received Date",
                "Action",
                "Last Login IP",
                "Activity Item ID",
            ],
        }
    }
}

/// What a report cursor carries: the position and Magic Unicorn's list of first-seen logon IPs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ReportState {
    v: u32,
    pos: i64,
    ips: Vec<String>,
    /// Rows already given (reads-by-item, which is built whole and handed out in slices).
    offset: usize,
}

fn date_time(ms: i64) -> (String, String) {
    let iso = iso_ms(ms);
    match iso.split_once('T') {
        Some((d, t)) => (d.to_owned(), t.to_owned()),
        None => (iso, String::new()),
    }
}

/// Writes a report as CSV: UTF-8 with BOM, CRLF, RFC 4180 quoting, and every cell that a spreadsheet
/// would run as a formula neutralised with the export's rule ([`crate::export::neutralize`]).
/// Reads by item keeps Magic Unicorn's layout: per item a line with its `ActivityItemId`, the header,
/// then its rows.
pub fn write_report_csv(report: &MailboxReport, out: &mut dyn Write) -> std::io::Result<()> {
    fn line(out: &mut dyn Write, cells: &[&str]) -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let c = neutralize(c);
            if c.contains([',', '"', '\r', '\n']) {
                s.push('"');
                s.push_str(&c.replace('"', "\"\""));
                s.push('"');
            } else {
                s.push_str(&c);
            }
        }
        s.push_str("\r\n");
        out.write_all(s.as_bytes())
    }
    out.write_all("\u{feff}".as_bytes())?;
    let header: Vec<&str> = report.columns.iter().map(String::as_str).collect();
    if report.kind == ReportKind::ReadsByItem {
        let mut group: Option<&str> = None;
        for r in &report.rows {
            let g = r.group.as_deref().unwrap_or("");
            if group != Some(g) {
                line(out, &[g])?;
                line(out, &header)?;
                group = Some(g);
            }
            line(out, &r.cells.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
    } else {
        line(out, &header)?;
        for r in &report.rows {
            line(out, &r.cells.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
    }
    Ok(())
}

impl CaseReader {
    /// One page of the mailbox activity view: up to `limit` entries in time order after `cursor` (the
    /// `next` of the previous page; `None` for the first), the sessions they belong to (summaries as of
    /// the page's end; `open` when the session may continue on the next page), and the next cursor.
    pub fn mailbox_page(&self, scope: &MailboxScope, cursor: Option<&str>, limit: usize) -> Result<MailboxPage> {
        let limit = limit.clamp(1, MAX_MAILBOX_PAGE);
        let mut state = State::decode(cursor, scope)?;
        let files = legacy_files(self, scope)?;
        let mut stream = Stream::new(self, scope, files, state.pos);
        let mut out = Out { emit: true, ..Out::default() };
        let mut more = false;
        while let Some(ev) = stream.next()? {
            if out.entries.len() >= limit {
                // The page is full; this event starts the next page. Only complete this page's entries.
                more = true;
                let mut ahead = state.clone();
                let mut quiet = Out {
                    emit: false,
                    entries: std::mem::take(&mut out.entries),
                    index: std::mem::take(&mut out.index),
                    ..Out::default()
                };
                let mut next = Some(ev);
                let mut n = 0;
                while let Some(ev) = next {
                    if !ahead.waits_for(&quiet) || n >= LOOKAHEAD_EVENTS {
                        break;
                    }
                    ahead.step(&ev, &mut quiet);
                    n += 1;
                    next = stream.next()?;
                }
                out.entries = quiet.entries;
                out.index = quiet.index;
                break;
            }
            state.step(&ev, &mut out);
        }
        let mut sessions: Vec<MailboxSession> = std::mem::take(&mut out.closed).into_values().collect();
        for s in &state.sessions {
            if out.touched.contains(&s.id) {
                sessions.push(s.summary(more));
            }
        }
        sessions.sort_by_key(|s| (s.first_ms, s.id.parse::<i64>().unwrap_or(0)));
        let mut resolver = Resolver::new(self, &scope.mailbox);
        for e in &mut out.entries {
            resolver.enrich(e)?;
        }
        let next =
            if more { Some(serde_json::to_string(&state).map_err(|e| Error::internal(e.to_string()))?) } else { None };
        Ok(MailboxPage { mailbox: scope.mailbox.clone(), entries: out.entries, sessions, next })
    }

    /// One page of a legacy report (at most `limit` rows after `cursor`).
    pub fn mailbox_report(
        &self,
        scope: &MailboxScope,
        kind: ReportKind,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<MailboxReport> {
        let limit = limit.clamp(1, MAX_MAILBOX_PAGE);
        let mut st: ReportState = match cursor {
            None => ReportState { v: CURSOR_VERSION, pos: scope.lo() - 1, ips: Vec::new(), offset: 0 },
            Some(c) => serde_json::from_str(c).map_err(|_| bad_cursor())?,
        };
        if st.v != CURSOR_VERSION {
            return Err(bad_cursor());
        }
        let columns: Vec<String> = kind.columns().iter().map(|c| (*c).to_owned()).collect();
        let mut resolver = Resolver::new(self, &scope.mailbox);
        let files = legacy_files(self, scope)?;
        if kind == ReportKind::ReadsByItem {
            // Grouped by item in order of first appearance, so the whole report is built, then sliced.
            let mut from_start = ReportState { v: CURSOR_VERSION, pos: scope.lo() - 1, ips: Vec::new(), offset: 0 };
            let mut stream = Stream::new(self, scope, files, from_start.pos);
            let mut groups: Vec<(String, Vec<ReportRow>)> = Vec::new();
            let mut at: HashMap<String, usize> = HashMap::new();
            while let Some(ev) = stream.next()? {
                if let Some(row) = report_row(ReportKind::ReadsByTime, &ev, &mut from_start, &mut resolver)? {
                    let item = ev.object.clone().unwrap_or_default();
                    let i = *at.entry(item.clone()).or_insert_with(|| {
                        groups.push((item.clone(), Vec::new()));
                        groups.len() - 1
                    });
                    groups[i].1.push(ReportRow { group: Some(item), ..row });
                }
            }
            let all: Vec<ReportRow> = groups.into_iter().flat_map(|(_, rows)| rows).collect();
            let end = (st.offset + limit).min(all.len());
            let rows = all.get(st.offset..end).map(<[ReportRow]>::to_vec).unwrap_or_default();
            st.offset = end;
            let next = if end < all.len() {
                Some(serde_json::to_string(&st).map_err(|e| Error::internal(e.to_string()))?)
            } else {
                None
            };
            return Ok(MailboxReport { kind, title: kind.title().to_owned(), columns, rows, next });
        }
        let mut stream = Stream::new(self, scope, files, st.pos);
        let mut rows = Vec::new();
        let mut next = None;
        while let Some(ev) = stream.next()? {
            if rows.len() >= limit {
                // The next page starts with this event.
                next = Some(serde_json::to_string(&st).map_err(|e| Error::internal(e.to_string()))?);
                break;
            }
            st.pos = ev.id;
            if let Some(row) = report_row(kind, &ev, &mut st, &mut resolver)? {
                rows.push(row);
            }
        }
        Ok(MailboxReport { kind, title: kind.title().to_owned(), columns, rows, next })
    }

    /// The whole report, page by page (for export).
    pub fn mailbox_report_all(&self, scope: &MailboxScope, kind: ReportKind) -> Result<MailboxReport> {
        let mut all = self.mailbox_report(scope, kind, None, MAX_MAILBOX_PAGE)?;
        let mut next = all.next.take();
        while let Some(c) = next {
            let mut page = self.mailbox_report(scope, kind, Some(&c), MAX_MAILBOX_PAGE)?;
            all.rows.append(&mut page.rows);
            next = page.next;
        }
        Ok(all)
    }
}

impl CaseReader {
    /// Writes a whole legacy report as CSV ([`write_report_csv`]) to `out`, hashing what it wrote.
    pub fn mailbox_report_csv(&self, scope: &MailboxScope, kind: ReportKind, out: &Path) -> Result<ReportExport> {
        let report = self.mailbox_report_all(scope, kind)?;
        let mut bytes = Vec::new();
        write_report_csv(&report, &mut bytes).map_err(|e| Error::internal(e.to_string()))?;
        std::fs::write(out, &bytes).map_err(|e| {
            Error::new(ErrorCode::ExportFailed, format!("The report could not be written to {}: {e}", out.display()))
        })?;
        Ok(ReportExport {
            kind,
            path: out.display().to_string(),
            rows: i64::try_from(report.rows.len()).unwrap_or(i64::MAX),
            sha256: hex::encode(Sha256::digest(&bytes)),
        })
    }
}

impl CaseWriter {
    /// Records a written legacy report in the case log (chain of custody).
    pub fn record_report_export(&mut self, scope: &MailboxScope, written: &ReportExport) -> Result<()> {
        let sha = hex::decode(&written.sha256).unwrap_or_default();
        self.log(
            "export",
            &format!(
                "Exported the legacy report {} of {} ({} rows) to {}",
                written.kind.as_str(),
                scope.mailbox,
                written.rows,
                written.path
            ),
            &serde_json::json!({
                "report": written.kind.as_str(),
                "mailbox": scope.mailbox,
                "from": scope.from_ms.map(iso_ms),
                "to": scope.to_ms.map(iso_ms),
                "rows": written.rows,
                "path": written.path,
                "sha256": written.sha256,
            }),
            Some(&sha),
        )
    }
}

/// The report row an event gives, if any; keeps Magic Unicorn's running list of logon IPs.
fn report_row(
    kind: ReportKind,
    ev: &Ev,
    st: &mut ReportState,
    resolver: &mut Resolver<'_>,
) -> Result<Option<ReportRow>> {
    if !ev.legacy() {
        return Ok(None);
    }
    let op = ev.operation.as_str();
    let platform = ev.detail("app_id_type").unwrap_or("").to_owned();
    if matches!(op, "ServerLogon" | "Logon") {
        if let Some(ip) = ev.raw_ip() {
            if !st.ips.iter().any(|i| i == ip) {
                st.ips.push(ip.to_owned());
            }
        }
    }
    let last_ip = st.ips.last().cloned().unwrap_or_else(|| NO_DATA.to_owned());
    let (date, time) = date_time(ev.time_ms);
    let item = |resolver: &mut Resolver<'_>| -> Result<ItemInfo> {
        match ev.object.as_deref() {
            Some(i) => resolver.item(i),
            None => Ok(ItemInfo::default()),
        }
    };
    let or_no = |v: Option<String>| v.unwrap_or_else(|| NO_DATA.to_owned());
    let cells = match kind {
        ReportKind::Logons => match op {
            "ServerLogon" => vec![
                date,
                time,
                ev.raw_ip().unwrap_or("").to_owned(),
                op.to_owned(),
                platform,
                ev.actor.clone().unwrap_or_default(),
                ev.user_agent.clone().unwrap_or_default(),
            ],
            "Logon" => vec![
                date,
                time,
                ev.raw_ip().unwrap_or("").to_owned(),
                op.to_owned(),
                platform,
                String::new(),
                ev.user_agent.clone().unwrap_or_default(),
            ],
            _ => return Ok(None),
        },
        ReportKind::ReadsByTime | ReportKind::ReadsByItem => {
            if !reading_pane(op) {
                return Ok(None);
            }
            let info = item(resolver)?;
            vec![
                date,
                time,
                op.to_owned(),
                platform,
                or_no(info.subject),
                or_no(info.sender),
                or_no(info.received),
                last_ip,
            ]
        }
        ReportKind::Searches => {
            let query = if op == "SearchResult" {
                ev.detail("query")
            } else if is_suggestion(op) {
                ev.detail("suggestion_stimulus")
            } else {
                return Ok(None);
            };
            vec![date, time, platform, query.unwrap_or("").to_owned(), last_ip]
        }
        ReportKind::Attachments => {
            if op != "OpenedAnAttachment" {
                return Ok(None);
            }
            let info = item(resolver)?;
            vec![
                date,
                time,
                platform,
                or_no(info.subject),
                or_no(info.sender),
                or_no(info.received),
                ev.detail("attachment_action").unwrap_or("").to_owned(),
                last_ip,
                ev.object.clone().unwrap_or_default(),
            ]
        }
    };
    Ok(Some(ReportRow { event_id: ev.id.to_string(), group: None, cells }))
}

/// Checks that a mailbox page cursor is one this version wrote (for callers that keep cursors).
pub fn cursor_position(cursor: &str) -> Result<String> {
    let s: State = serde_json::from_str(cursor).map_err(|_| bad_cursor())?;
    Ok(iso_ms(key_ms(s.pos)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_markers_and_joins_keystrokes() {
        assert_eq!(display_marker("ReadingPaneDisplayStart"), Some(("ReadingPane", true)));
        assert_eq!(display_marker("InspectorDisplayEnd"), Some(("Inspector", false)));
        assert_eq!(display_marker("MessageDelivered"), None);
        let steps: Vec<String> = ["i", "in", "inv", "invoice"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(progression(&steps), "i → in → inv → invoice");
        let mut d = Map::new();
        d.insert("custom_properties".into(), "Subject=a; ReceivedTime=05/14/2018 10:40:00 AM; X=y".into());
        assert_eq!(custom_property(&d, "ReceivedTime").as_deref(), Some("05/14/2018 10:40:00 AM"));
        assert_eq!(date_time(1_526_294_564_548), ("2018-05-14".to_owned(), "10:42:44.548Z".to_owned()));
    }

    #[test]
    fn scopes_and_report_kinds_parse_with_helpful_errors() {
        let s = MailboxScope::parse(" victim@contoso.com ", Some("2018-05-14"), Some("2018-05-14")).unwrap();
        assert_eq!(s.mailbox, "victim@contoso.com");
        assert_eq!(s.to_ms.unwrap() - s.from_ms.unwrap(), 86_399_999);
        assert!(MailboxScope::parse("", None, None).is_err());
        assert!(MailboxScope::parse("a@b", Some("yesterday"), None).unwrap_err().message.contains("yesterday"));
        assert!(MailboxScope::parse("a@b", Some("2018-05-15"), Some("2018-05-14")).is_err());
        assert_eq!(ReportKind::parse("reads-by-item").unwrap(), ReportKind::ReadsByItem);
        assert!(ReportKind::parse("mail").unwrap_err().message.contains("reads-by-time"));
        assert_eq!(ReportKind::Searches.columns()[4], "Last Login ip");
    }
}
