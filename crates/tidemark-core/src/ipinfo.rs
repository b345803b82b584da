//! What the offline IP data says about the case's client addresses, kept in the case.
//!
//! Every distinct `event.client_ip` gets one `ip_info` row (country, network, class) as soon as the
//! batch that brought it commits, in the same transaction, so a search for `country:NL` or
//! `iptype:hosting` never sees an event its address is not yet known for. The row names the data set
//! (`ip_data`) that answered; [`reenrich`] re-answers every address from another data set (a newer copy
//! an investigator brought offline) and reports how many answers changed, logged in the case log, so
//! nothing changes silently. Both tables are derived, like the events.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tidemark_ipintel::{address_key, parse_ip, DataSet, IpIntel};
use ts_rs::TS;

use crate::error::Result;
use crate::time::iso_ms;

/// The class stored for a `client_ip` value that is not an address (a host name some sources give).
pub const NOT_AN_ADDRESS: &str = "not-an-address";

/// The `ip_data` row for a data set, added the first time the case uses it.
pub(crate) fn data_id(conn: &Connection, data: &DataSet) -> Result<i64> {
    if let Some(id) =
        conn.query_row("SELECT id FROM ip_data WHERE sha256 = ?1", [&data.sha256], |r| r.get(0)).optional()?
    {
        return Ok(id);
    }
    conn.execute(
        "INSERT INTO ip_data (name, version, date, licence, credit, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![data.name, data.version, data.date, data.licence, data.credit, data.sha256],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Adds an `ip_info` row for each of `ips` the case does not know yet, answered by `intel`.
/// Returns how many were added.
pub(crate) fn enrich<'a>(conn: &Connection, intel: &IpIntel, ips: impl IntoIterator<Item = &'a str>) -> Result<usize> {
    let mut known = conn.prepare_cached("SELECT 1 FROM ip_info WHERE ip = ?1")?;
    let mut data = None;
    let mut added = 0;
    for ip in ips {
        if known.exists([ip])? {
            continue;
        }
        let id = match data {
            Some(id) => id,
            None => *data.insert(data_id(conn, intel.data())?),
        };
        write_info(conn, intel, ip, id, "INSERT")?;
        added += 1;
    }
    Ok(added)
}

fn write_info(conn: &Connection, intel: &IpIntel, ip: &str, data_id: i64, verb: &str) -> Result<()> {
    let sql = format!(
        "{verb} INTO ip_info (ip, key, country, asn, network, class, note, data_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    );
    let mut st = conn.prepare_cached(&sql)?;
    match parse_ip(ip) {
        Some(addr) => {
            let info = intel.lookup(addr);
            st.execute(params![
                ip,
                hex::encode(address_key(addr)),
                info.country,
                info.asn,
                info.network,
                info.class.as_str(),
                info.note,
                data_id
            ])?;
        }
        None => {
            st.execute(params![
                ip,
                None::<String>,
                None::<String>,
                None::<u32>,
                None::<String>,
                NOT_AN_ADDRESS,
                None::<String>,
                data_id
            ])?;
        }
    }
    Ok(())
}

/// Enriches every client address of the events already in the case (the schema-5 migration and any
/// case whose rows are missing). The facet rollup lists every distinct address, so this reads a few
/// thousand rows, not every event.
pub(crate) fn enrich_case(conn: &Connection) -> Result<usize> {
    let ips: Vec<String> = conn
        .prepare("SELECT DISTINCT value FROM rollup_day_value WHERE field = 'client_ip' AND value <> ''")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    enrich(conn, IpIntel::bundled(), ips.iter().map(String::as_str))
}

/// What [`reenrich`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReenrichReport {
    /// Addresses answered again.
    #[ts(type = "number")]
    pub addresses: i64,
    /// Addresses whose country, network or class changed.
    #[ts(type = "number")]
    pub changed: i64,
    /// The data set that answered.
    pub data: IpDataSet,
}

/// Answers every address in the case again from `intel`, in one transaction (call inside one).
pub(crate) fn reenrich(conn: &Connection, intel: &IpIntel) -> Result<ReenrichReport> {
    let id = data_id(conn, intel.data())?;
    let before: Vec<(String, Option<String>, Option<i64>, String)> = conn
        .prepare("SELECT ip, country, asn, class FROM ip_info ORDER BY ip")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut changed = 0;
    for (ip, country, asn, class) in &before {
        write_info(conn, intel, ip, id, "REPLACE")?;
        let after: (Option<String>, Option<i64>, String) =
            conn.query_row("SELECT country, asn, class FROM ip_info WHERE ip = ?1", [ip], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if after != (country.clone(), *asn, class.clone()) {
            changed += 1;
        }
    }
    Ok(ReenrichReport { addresses: before.len() as i64, changed, data: IpDataSet::from(intel.data()) })
}

/// A data set as the case records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IpDataSet {
    /// Name for people.
    pub name: String,
    /// Package versions.
    pub version: String,
    /// Date of the data.
    pub date: String,
    /// Licence.
    pub licence: String,
    /// The attribution the licence asks for.
    pub credit: String,
}

impl From<&DataSet> for IpDataSet {
    fn from(d: &DataSet) -> Self {
        Self {
            name: d.name.clone(),
            version: d.version.clone(),
            date: d.date.clone(),
            licence: d.licence.clone(),
            credit: d.credit.clone(),
        }
    }
}

/// Everything the case knows about one address: the IP card of the detail pane and `tidemark ip`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IpCard {
    /// The address as the events give it.
    pub ip: String,
    /// ISO 3166 country code.
    pub country: Option<String>,
    /// Country name in English, when the code is known.
    pub country_name: Option<String>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// The network's owner.
    pub network: Option<String>,
    /// `public`, `microsoft`, `hosting`, `vpn`, `private`, `reserved` or `not-an-address`.
    pub class: String,
    /// The class in words ("Hosting / cloud").
    pub class_label: String,
    /// Why a special address is special, in words.
    pub note: Option<String>,
    /// First event from this address in the case, ISO 8601 UTC.
    pub first_seen: Option<String>,
    /// Last event from this address.
    pub last_seen: Option<String>,
    /// Events from this address.
    #[ts(type = "number")]
    pub events: i64,
    /// Accounts seen acting from this address (at most 50, sorted).
    pub accounts: Vec<String>,
    /// Which data answered.
    pub data: Option<IpDataSet>,
}

/// The card for one address, or `None` when no event of the case comes from it.
pub(crate) fn card(conn: &Connection, ip: &str) -> Result<Option<IpCard>> {
    let row = conn
        .query_row(
            "SELECT i.country, i.asn, i.network, i.class, i.note, d.name, d.version, d.date, d.licence, d.credit \
             FROM ip_info i JOIN ip_data d ON d.id = i.data_id WHERE i.ip = ?1",
            [ip],
            |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<u32>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    IpDataSet {
                        name: r.get(5)?,
                        version: r.get(6)?,
                        date: r.get(7)?,
                        licence: r.get(8)?,
                        credit: r.get(9)?,
                    },
                ))
            },
        )
        .optional()?;
    let Some((country, asn, network, class, note, data)) = row else {
        return Ok(None);
    };
    // The identifier index holds each address as one token: the events from it, in time order.
    let from_ip = "SELECT rowid FROM ident_fts WHERE ident_fts MATCH ?1";
    let phrase = format!("{{client_ip}} : \"{}\"", ip.replace('"', "\"\""));
    let (first, last, events): (Option<i64>, Option<i64>, i64) = conn.query_row(
        &format!("SELECT min(e.time_ms), max(e.time_ms), count(*) FROM event e WHERE e.id IN ({from_ip}) AND e.client_ip = ?2"),
        params![phrase, ip],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let accounts: BTreeSet<String> = conn
        .prepare(&format!(
            "SELECT DISTINCT e.actor FROM event e WHERE e.id IN ({from_ip}) AND e.client_ip = ?2 AND e.actor IS NOT NULL \
             ORDER BY e.actor LIMIT 50"
        ))?
        .query_map(params![phrase, ip], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let class_label = tidemark_ipintel::IpClass::parse(&class)
        .map(|c| c.label().to_owned())
        .unwrap_or_else(|| "Not an IP address (a host name)".to_owned());
    Ok(Some(IpCard {
        ip: ip.to_owned(),
        country_name: country.as_deref().and_then(tidemark_ipintel::country_name).map(str::to_owned),
        country,
        asn,
        network,
        class,
        class_label,
        note,
        first_seen: first.map(iso_ms),
        last_seen: last.map(iso_ms),
        events,
        accounts: accounts.into_iter().collect(),
        data: Some(data),
    }))
}

/// The data sets the case's answers came from, oldest first (for exports, reports and About).
pub(crate) fn data_sets(conn: &Connection) -> Result<Vec<IpDataSet>> {
    Ok(conn
        .prepare("SELECT name, version, date, licence, credit FROM ip_data WHERE id IN (SELECT data_id FROM ip_info) ORDER BY id")?
        .query_map([], |r| {
            Ok(IpDataSet { name: r.get(0)?, version: r.get(1)?, date: r.get(2)?, licence: r.get(3)?, credit: r.get(4)? })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

impl crate::case::CaseReader {
    /// What the case knows about one client address (the IP card), or `None` when no event has it.
    pub fn ip_card(&self, ip: &str) -> Result<Option<IpCard>> {
        card(&self.conn, ip.trim())
    }

    /// The IP data sets the case's answers came from, to credit in exports, reports and About.
    pub fn ip_data_sets(&self) -> Result<Vec<IpDataSet>> {
        data_sets(&self.conn)
    }
}

impl crate::case::CaseWriter {
    /// Answers every address in the case again from `intel` (a newer copy of the IP data an
    /// investigator loaded offline), logged in the case log with how many answers changed.
    pub fn reenrich(&mut self, intel: &IpIntel) -> Result<ReenrichReport> {
        let now = self.clock.now_ms();
        let tx = self.conn.transaction()?;
        let report = reenrich(&tx, intel)?;
        crate::case::append_log(
            &tx,
            now,
            &self.operator,
            "ip.reenrich",
            &format!(
                "IP context re-answered for {} addresses from {} ({}); {} changed",
                report.addresses, report.data.name, report.data.date, report.changed
            ),
            &serde_json::json!({ "addresses": report.addresses, "changed": report.changed, "data": report.data, "sha256": intel.data().sha256 }),
            None,
        )?;
        tx.commit()?;
        Ok(report)
    }
}
