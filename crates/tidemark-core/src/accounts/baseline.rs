//! Per-account baselines: the first time each account was seen with each country, network, IP,
//! client, user agent and application, kept as events are written.
//!
//! An attacker's sign-in rarely looks odd on its own; it is odd *for that user*: a network the user
//! never signed in from, an app the user never used. The first occurrence per (account, kind, value)
//! is enough to answer "was this new for the user at that time" for every event, and it can be kept
//! exactly as batches arrive in any order: a batch only moves first ids earlier and adds counts.
//!
//! **Which values count.** The account is the actor, lower-cased. Country and network come from the
//! case's IP context; addresses of Microsoft's own networks are left out of country, network and IP
//! (they are the service, not where the user was), and a network is named by its owner, else by its
//! number. Private and reserved addresses count as IPs but have no country or network.
//!
//! **What "new" means.** Everything is new at the start of an account's data, so an event is only
//! called new for its account when the account had at least [`HISTORY_MS`] of events in the case
//! before it: "first time from this network, after 24 hours of this user's activity in the case".
//! The window is the case's data for that account, and the UI says so.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use tidemark_formats::NormalizedEvent;

use crate::error::Result;

/// How much of an account's own history must come before a value for it to be called new.
pub const HISTORY_MS: i64 = 24 * 60 * 60 * 1000;

/// The kinds of values a baseline keeps, in the order badges list them.
pub const KINDS: [&str; 6] = ["country", "network", "ip", "client", "agent", "app"];

/// Country, network and whether the address is a service's (Microsoft, not an address).
type IpFacts = (Option<String>, Option<String>, bool);

/// What one event contributes, before its address is looked up.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    id: i64,
    time_ms: i64,
    account: String,
    ip: Option<String>,
    client: Option<String>,
    agent: Option<String>,
    app: Option<String>,
}

impl Seen {
    /// The baseline's view of an event, or `None` when it has no actor.
    pub(crate) fn of(id: i64, ev: &NormalizedEvent) -> Option<Self> {
        let account = ev.actor.as_deref()?.trim();
        if account.is_empty() {
            return None;
        }
        let keep = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        Some(Self {
            id,
            time_ms: ev.time_ms,
            account: account.to_lowercase(),
            ip: keep(&ev.client_ip),
            client: keep(&ev.client_app),
            agent: keep(&ev.user_agent),
            app: keep(&ev.app_id),
        })
    }
}

/// A batch's contribution: per account its span, per (account, kind, value) the first event and count.
#[derive(Debug, Default)]
pub(crate) struct BaselineDelta {
    accounts: HashMap<String, (i64, i64, i64)>,
    firsts: HashMap<(String, &'static str, String), (i64, i64, i64)>,
}

impl BaselineDelta {
    /// Adds the events of a batch; their addresses must already be in `ip_info` (same transaction).
    pub(crate) fn add(&mut self, conn: &Connection, seen: &[Seen]) -> Result<()> {
        let mut ip_info = conn.prepare_cached("SELECT country, asn, network, class FROM ip_info WHERE ip = ?1")?;
        let mut ips: HashMap<&str, Option<IpFacts>> = HashMap::new();
        for s in seen {
            let a = self.accounts.entry(s.account.clone()).or_insert((s.time_ms, s.time_ms, 0));
            a.0 = a.0.min(s.time_ms);
            a.1 = a.1.max(s.time_ms);
            a.2 += 1;
            let mut note = |kind: &'static str, value: &str| {
                let f = self.firsts.entry((s.account.clone(), kind, value.to_owned())).or_insert((s.id, s.time_ms, 0));
                if s.id < f.0 {
                    (f.0, f.1) = (s.id, s.time_ms);
                }
                f.2 += 1;
            };
            if let Some(ip) = s.ip.as_deref() {
                if !ips.contains_key(ip) {
                    let row = ip_info
                        .query_row([ip], |r| {
                            let asn: Option<i64> = r.get(1)?;
                            let network: Option<String> = r.get(2)?;
                            let class: String = r.get(3)?;
                            let network = network.or_else(|| asn.map(|a| format!("AS{a}")));
                            Ok((
                                r.get::<_, Option<String>>(0)?,
                                network,
                                class == "microsoft" || class == "not-an-address",
                            ))
                        })
                        .optional()?;
                    ips.insert(ip, row);
                }
                let (country, network, service) = ips[ip].clone().unwrap_or((None, None, false));
                if !service {
                    note("ip", ip);
                    if let Some(c) = country.as_deref() {
                        note("country", c);
                    }
                    if let Some(n) = network.as_deref() {
                        note("network", n);
                    }
                }
            }
            if let Some(v) = s.client.as_deref() {
                note("client", v);
            }
            if let Some(v) = s.agent.as_deref() {
                note("agent", v);
            }
            if let Some(v) = s.app.as_deref() {
                note("app", v);
            }
        }
        Ok(())
    }

    /// Upserts the delta (first ids only move earlier, counts add up) and empties it.
    pub(crate) fn write(&mut self, conn: &Connection) -> Result<()> {
        let mut acc = conn.prepare_cached(
            "INSERT INTO account (account, first_ms, last_ms, events) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (account) DO UPDATE SET first_ms = min(first_ms, excluded.first_ms), \
             last_ms = max(last_ms, excluded.last_ms), events = events + excluded.events",
        )?;
        let mut accounts: Vec<_> = self.accounts.drain().collect();
        accounts.sort();
        for (account, (first, last, n)) in accounts {
            acc.execute(params![account, first, last, n])?;
        }
        let mut first = conn.prepare_cached(
            "INSERT INTO account_first (account, kind, value, first_id, first_ms, events) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (account, kind, value) DO UPDATE SET \
             first_ms = CASE WHEN excluded.first_id < first_id THEN excluded.first_ms ELSE first_ms END, \
             first_id = min(first_id, excluded.first_id), events = events + excluded.events",
        )?;
        let mut firsts: Vec<_> = self.firsts.drain().collect();
        firsts.sort();
        for ((account, kind, value), (id, ms, n)) in firsts {
            first.execute(params![account, kind, value, id, ms, n])?;
        }
        Ok(())
    }
}

/// Rebuilds both tables from the events (the schema-6 migration), in batches so memory stays flat.
pub(crate) fn rebuild(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM account", [])?;
    conn.execute("DELETE FROM account_first", [])?;
    let mut st = conn.prepare(
        "SELECT id, time_ms, actor, client_ip, client_app, user_agent, app_id FROM event WHERE actor IS NOT NULL ORDER BY id",
    )?;
    let mut rows = st.query([])?;
    let mut delta = BaselineDelta::default();
    let mut batch: Vec<Seen> = Vec::new();
    while let Some(r) = rows.next()? {
        let ev = NormalizedEvent {
            time_ms: r.get(1)?,
            actor: r.get(2)?,
            client_ip: r.get(3)?,
            client_app: r.get(4)?,
            user_agent: r.get(5)?,
            app_id: r.get(6)?,
            ..NormalizedEvent::default()
        };
        batch.extend(Seen::of(r.get(0)?, &ev));
        if batch.len() >= 100_000 {
            delta.add(conn, &batch)?;
            delta.write(conn)?;
            batch.clear();
        }
    }
    delta.add(conn, &batch)?;
    delta.write(conn)
}

/// The SQL condition "the event is the first of its account with a value of `kind`, after
/// [`HISTORY_MS`] of the account's history"; `kind` is bound as the one parameter.
pub(crate) fn new_condition() -> String {
    format!(
        "e.id IN (SELECT f.first_id FROM account_first f JOIN account a ON a.account = f.account \
         WHERE f.kind = ? AND f.first_ms >= a.first_ms + {HISTORY_MS})"
    )
}

/// The kinds a query's `new:` accepts (with `ua` for `agent`), or `None`.
pub fn parse_kind(v: &str) -> Option<&'static str> {
    let v = v.trim().to_ascii_lowercase();
    let v = match v.as_str() {
        "ua" | "useragent" | "user-agent" => "agent",
        "application" => "app",
        "asn" => "network",
        other => other,
    };
    KINDS.iter().copied().find(|k| *k == v)
}
