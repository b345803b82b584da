//! An account's sessions: its sign-ins and the mailbox activity that follows them, stitched together.
//!
//! A session is what one sign-in made possible. Records name it in different ways: Entra sign-ins by
//! `sessionId`, mailbox records by `AppAccessContext.AADSessionId` or Exchange's `SessionId` (all
//! normalized into `session_id`); records with none are grouped by address and client family within a
//! gap of [`GAP_MS`]. A session seen from more than one network (owner or number, Microsoft's own
//! networks aside) is marked: the same session used from two places is how a stolen session cookie or
//! token shows (adversary-in-the-middle phishing, token replay).
//!
//! Computed on demand from the account's events, in time order, deterministically: nothing is stored,
//! so the list is always what the evidence gives.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::case::CaseReader;
use crate::error::Result;
use crate::model::ActionCount;
use crate::time::iso_ms;

/// Silence after which records without a session id start a new session.
pub const GAP_MS: i64 = 30 * 60 * 1000;

/// One session of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccountSession {
    /// The id of its first event (decimal): stable, and what the timeline can jump to.
    pub id: String,
    /// `session-id` (grouped by the records' session id) or `ip-client` (by address and client).
    pub kind: String,
    /// The session id, when grouped by it.
    pub session_id: Option<String>,
    /// First event, ISO 8601 UTC.
    pub first_time: String,
    /// Last event, ISO 8601 UTC.
    pub last_time: String,
    /// Client addresses, in order of appearance.
    pub ips: Vec<String>,
    /// Countries of those addresses, sorted.
    pub countries: Vec<String>,
    /// Networks (owner, else `AS…`) of those addresses, Microsoft's own left out, sorted.
    pub networks: Vec<String>,
    /// Client families, sorted.
    pub clients: Vec<String>,
    /// Application ids, sorted.
    pub apps: Vec<String>,
    /// Events in it.
    #[ts(type = "number")]
    pub events: i64,
    /// Events per action, most first.
    pub counts: Vec<ActionCount>,
    /// Used from more than one network: a sign of a stolen session (token replay).
    pub replayed: bool,
    /// Events that were the account's first with some value ("new"), after a day of its history.
    #[ts(type = "number")]
    pub new_values: i64,
}

#[derive(Default)]
struct Building {
    first_id: i64,
    first_ms: i64,
    last_ms: i64,
    kind: &'static str,
    session_id: Option<String>,
    ips: Vec<String>,
    countries: BTreeSet<String>,
    networks: BTreeSet<String>,
    clients: BTreeSet<String>,
    apps: BTreeSet<String>,
    counts: BTreeMap<String, i64>,
    events: i64,
    new_values: i64,
}

impl Building {
    fn finish(self) -> AccountSession {
        let mut counts: Vec<ActionCount> =
            self.counts.into_iter().map(|(action, count)| ActionCount { action, count }).collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.action.cmp(&b.action)));
        AccountSession {
            id: self.first_id.to_string(),
            kind: self.kind.to_owned(),
            session_id: self.session_id,
            first_time: iso_ms(self.first_ms),
            last_time: iso_ms(self.last_ms),
            ips: self.ips,
            countries: self.countries.into_iter().collect(),
            replayed: self.networks.len() > 1,
            networks: self.networks.into_iter().collect(),
            clients: self.clients.into_iter().collect(),
            apps: self.apps.into_iter().collect(),
            events: self.events,
            counts,
            new_values: self.new_values,
        }
    }
}

impl CaseReader {
    /// The sessions of one account (actor, any case), oldest first.
    pub fn account_sessions(&self, account: &str) -> Result<Vec<AccountSession>> {
        let account = account.trim().to_lowercase();
        // The word index finds the account's events; the exact comparison keeps only its own.
        let phrase = format!("{{actor}} : \"{}\"", account.replace('"', "\"\""));
        let mut st = self.conn.prepare_cached(
            "SELECT e.id, e.time_ms, e.action, e.client_ip, e.client_app, e.app_id, e.session_id, \
                    i.country, i.asn, i.network, i.class, \
                    (SELECT count(*) FROM account_first f JOIN account a ON a.account = f.account \
                     WHERE f.first_id = e.id AND f.account = ?2 AND f.first_ms >= a.first_ms + ?3) \
             FROM event e LEFT JOIN ip_info i ON i.ip = e.client_ip \
             WHERE e.id IN (SELECT rowid FROM event_fts WHERE event_fts MATCH ?1) AND lower(e.actor) = ?2 \
             ORDER BY e.id",
        )?;
        let mut rows = st.query(params![phrase, account, super::baseline::HISTORY_MS])?;
        let mut open: HashMap<String, Building> = HashMap::new();
        let mut done: Vec<Building> = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let ms: i64 = r.get(1)?;
            let action: String = r.get(2)?;
            let ip: Option<String> = r.get(3)?;
            let client: Option<String> = r.get(4)?;
            let app: Option<String> = r.get(5)?;
            let sid: Option<String> = r.get::<_, Option<String>>(6)?.filter(|s| !s.trim().is_empty());
            let country: Option<String> = r.get(7)?;
            let asn: Option<i64> = r.get(8)?;
            let network: Option<String> = r.get(9)?;
            let class: Option<String> = r.get(10)?;
            let new_values: i64 = r.get(11)?;
            let (key, kind) = match &sid {
                Some(s) => (format!("s\u{1}{s}"), "session-id"),
                None => (
                    format!("i\u{1}{}\u{1}{}", ip.as_deref().unwrap_or(""), client.as_deref().unwrap_or("")),
                    "ip-client",
                ),
            };
            // Sessions without an id end after a silence; a session id holds its records together.
            if kind == "ip-client" {
                if let Some(b) = open.get(&key) {
                    if ms - b.last_ms > GAP_MS {
                        done.extend(open.remove(&key));
                    }
                }
            }
            let b = open.entry(key).or_insert_with(|| Building {
                first_id: id,
                first_ms: ms,
                last_ms: ms,
                kind,
                session_id: sid.clone(),
                ..Building::default()
            });
            b.last_ms = b.last_ms.max(ms);
            b.events += 1;
            b.new_values += new_values;
            *b.counts.entry(action).or_default() += 1;
            if let Some(ip) = ip {
                if !b.ips.contains(&ip) {
                    b.ips.push(ip);
                }
                let service = matches!(class.as_deref(), Some("microsoft" | "not-an-address"));
                if !service {
                    b.countries.extend(country);
                    if let Some(n) = network.or_else(|| asn.map(|a| format!("AS{a}"))) {
                        b.networks.insert(n);
                    }
                }
            }
            b.clients.extend(client);
            b.apps.extend(app);
        }
        done.extend(open.into_values());
        done.sort_by_key(|b| b.first_id);
        Ok(done.into_iter().map(Building::finish).collect())
    }
}
