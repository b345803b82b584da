//! `tidemark ip`, `tidemark accounts`, `tidemark sessions` and `tidemark enrich`: who acted from where,
//! on the command line — the same answers as the app's IP card, account list and sessions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use tidemark_core::{CaseReader, CaseWriter, Error, ErrorCode, SystemClock};

use crate::safe;

/// Options of `tidemark sessions`.
#[derive(Debug, Args)]
pub(crate) struct SessionsArgs {
    /// The case file.
    pub(crate) case: PathBuf,
    /// The account (actor), e.g. adele@contoso.com.
    pub(crate) account: String,
    /// Only sessions used from more than one network.
    #[arg(long)]
    pub(crate) replayed: bool,
    /// Print as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

fn json<T: serde::Serialize>(v: &T) -> Result<(), Error> {
    println!("{}", serde_json::to_string_pretty(v).map_err(|e| Error::internal(e.to_string()))?);
    Ok(())
}

/// `tidemark ip CASE IP`: what the case knows about one address.
pub(crate) fn ip(case: &Path, address: &str, as_json: bool) -> Result<u8, Error> {
    let Some(card) = CaseReader::open(case)?.ip_card(address)? else {
        return Err(Error::new(
            ErrorCode::QueryInvalid,
            format!("No event in this case comes from {}. Check the address, or search with ip:.", safe(address)),
        ));
    };
    if as_json {
        json(&card)?;
        return Ok(0);
    }
    println!("{}", safe(&card.ip));
    if let Some(c) = &card.country {
        println!("  Country   {} ({})", card.country_name.as_deref().unwrap_or(c), c);
    }
    if card.network.is_some() || card.asn.is_some() {
        let asn = card.asn.map(|a| format!(" · AS{a}")).unwrap_or_default();
        println!("  Network   {}{asn}", safe(card.network.as_deref().unwrap_or("")));
    }
    let note = card.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default();
    println!("  Kind      {}{note}", card.class_label);
    let span = match (&card.first_seen, &card.last_seen) {
        (Some(f), Some(l)) => format!(", {f} to {l}"),
        _ => String::new(),
    };
    println!("  In case   {} events{span}", card.events);
    for a in &card.accounts {
        println!("  Account   {}", safe(a));
    }
    if let Some(d) = &card.data {
        println!("  Data      {} of {} ({}): {}", d.name, d.date, d.licence, d.credit);
    }
    Ok(0)
}

/// `tidemark accounts CASE`: every account with its span and how much of its baseline is new.
pub(crate) fn accounts(case: &Path, as_json: bool) -> Result<u8, Error> {
    let list = CaseReader::open(case)?.accounts()?;
    if as_json {
        json(&list)?;
        return Ok(0);
    }
    println!("{:<40} {:>9} {:>5} {:>5} {:>5}  FIRST – LAST (UTC)", "ACCOUNT", "EVENTS", "NETS", "IPS", "NEW");
    for a in &list {
        println!(
            "{:<40} {:>9} {:>5} {:>5} {:>5}  {} – {}",
            safe(&a.account),
            a.events,
            a.distinct.get(1).copied().unwrap_or(0),
            a.distinct.get(2).copied().unwrap_or(0),
            a.new_values,
            a.first_time,
            a.last_time
        );
    }
    Ok(0)
}

/// `tidemark sessions CASE ACCOUNT`: the account's sessions, a replayed one marked.
pub(crate) fn sessions(a: &SessionsArgs) -> Result<u8, Error> {
    let mut list = CaseReader::open(&a.case)?.account_sessions(&a.account)?;
    if a.replayed {
        list.retain(|s| s.replayed);
    }
    if a.json {
        json(&list)?;
        return Ok(0);
    }
    if list.is_empty() {
        println!(
            "No sessions{} for {} in this case.",
            if a.replayed { " used from two networks" } else { "" },
            safe(&a.account)
        );
        return Ok(0);
    }
    for s in &list {
        let mark = if s.replayed { "  ** used from several networks (stolen session?)" } else { "" };
        println!("{} – {}  {} events{mark}", s.first_time, s.last_time, s.events);
        let by = s
            .session_id
            .as_deref()
            .map(|id| format!("session {}", safe(id)))
            .unwrap_or_else(|| "address and client".into());
        println!("    grouped by  {by}");
        println!("    addresses   {}", s.ips.iter().map(|i| safe(i)).collect::<Vec<_>>().join(", "));
        if !s.networks.is_empty() {
            println!(
                "    networks    {} ({})",
                s.networks.iter().map(|n| safe(n)).collect::<Vec<_>>().join("; "),
                s.countries.join(", ")
            );
        }
        if !s.clients.is_empty() || !s.apps.is_empty() {
            println!(
                "    clients     {}",
                s.clients.iter().chain(&s.apps).map(|c| safe(c)).collect::<Vec<_>>().join(", ")
            );
        }
        let counts: Vec<String> = s.counts.iter().map(|c| format!("{} {}", c.count, c.action)).collect();
        println!("    actions     {}", counts.join(", "));
        if s.new_values > 0 {
            println!("    new         {} first-time values for this account", s.new_values);
        }
    }
    Ok(0)
}

/// `tidemark enrich CASE --ip-data DIR`: answer every address again from a newer copy of the IP data.
pub(crate) fn enrich(case: &Path, dir: &Path, operator: &str) -> Result<u8, Error> {
    let asn = dir.join("asn");
    let country = dir.join("dbip-country");
    let intel = tidemark_ipintel::IpIntel::from_packages(&asn, &country).map_err(|e| {
        Error::new(
            ErrorCode::ImportUnreadable,
            format!(
                "The IP data in {} could not be read ({e}). Give the folder that holds the unpacked \
                 npm packages as asn/ and dbip-country/ (@ip-location-db/asn and @ip-location-db/dbip-country).",
                dir.display()
            ),
        )
    })?;
    let mut w = CaseWriter::open(case, Arc::new(SystemClock), operator)?;
    let r = w.reenrich(&intel)?;
    println!(
        "Answered {} addresses again from {} of {} ({}); {} changed. Logged in the case log.",
        r.addresses, r.data.name, r.data.date, r.data.licence, r.changed
    );
    Ok(0)
}
