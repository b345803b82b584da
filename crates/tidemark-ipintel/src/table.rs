//! The compact range tables Tidemark looks addresses up in, and how they are built from the
//! `@ip-location-db` CSV files.
//!
//! This file is compiled twice: by `build.rs`, which turns the npm packages' CSVs into the tables
//! embedded in every binary (so nothing is fetched or parsed at run time), and by the library, which
//! builds the same tables from a newer copy of the same files an investigator loads offline. It
//! therefore uses nothing but `std`.
//!
//! Layout (all little-endian, fixed-size records sorted by start, ranges never overlap):
//! - IPv4 networks: `start u32, end u32, asn u32, org u32` (16 bytes);
//! - IPv6 networks: `start u128, end u128, asn u32, org u32` (40 bytes);
//! - IPv4 countries: `start u32, end u32, cc [u8; 2]` (10 bytes);
//! - IPv6 countries: `start u128, end u128, cc [u8; 2]` (34 bytes);
//! - organisation names: `count u32`, `count + 1` offsets `u32`, then the UTF-8 bytes.
//!
//! Adjacent country ranges with the same country are merged (DB-IP splits them by city), which
//! halves the IPv6 country table without changing any answer.

use std::collections::HashMap;

/// Bytes per IPv4 network record.
pub const V4_NET: usize = 16;
/// Bytes per IPv6 network record.
pub const V6_NET: usize = 40;
/// Bytes per IPv4 country record.
pub const V4_CC: usize = 10;
/// Bytes per IPv6 country record.
pub const V6_CC: usize = 34;

/// The five tables, as bytes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tables {
    /// IPv4 networks (ASN and organisation).
    pub v4_net: Vec<u8>,
    /// IPv6 networks.
    pub v6_net: Vec<u8>,
    /// IPv4 countries.
    pub v4_cc: Vec<u8>,
    /// IPv6 countries.
    pub v6_cc: Vec<u8>,
    /// Organisation names.
    pub orgs: Vec<u8>,
}

/// Builds the tables from the contents of `asn-ipv4-num.csv`, `asn-ipv6-num.csv`,
/// `dbip-country-ipv4-num.csv` and `dbip-country-ipv6-num.csv` (`start,end,asn,org` and
/// `start,end,country`, addresses as decimal integers). Errors name the file and line.
pub fn build(asn4: &str, asn6: &str, cc4: &str, cc6: &str) -> Result<Tables, String> {
    let mut orgs = Orgs::default();
    let mut t = Tables::default();
    let mut last: Option<u128> = None;
    for (n, line) in lines(asn4) {
        let (s, e, asn, org) = net_line(line).map_err(|m| format!("asn-ipv4 line {n}: {m}"))?;
        let Some((s, e)) =
            check_order(&mut last, s, e, u32::MAX as u128).map_err(|m| format!("asn-ipv4 line {n}: {m}"))?
        else {
            continue;
        };
        t.v4_net.extend_from_slice(&(s as u32).to_le_bytes());
        t.v4_net.extend_from_slice(&(e as u32).to_le_bytes());
        t.v4_net.extend_from_slice(&asn.to_le_bytes());
        t.v4_net.extend_from_slice(&orgs.id(org).to_le_bytes());
    }
    last = None;
    for (n, line) in lines(asn6) {
        let (s, e, asn, org) = net_line(line).map_err(|m| format!("asn-ipv6 line {n}: {m}"))?;
        let Some((s, e)) = check_order(&mut last, s, e, u128::MAX).map_err(|m| format!("asn-ipv6 line {n}: {m}"))?
        else {
            continue;
        };
        t.v6_net.extend_from_slice(&s.to_le_bytes());
        t.v6_net.extend_from_slice(&e.to_le_bytes());
        t.v6_net.extend_from_slice(&asn.to_le_bytes());
        t.v6_net.extend_from_slice(&orgs.id(org).to_le_bytes());
    }
    t.v4_cc = countries(cc4, u32::MAX as u128, 4).map_err(|m| format!("country-ipv4 {m}"))?;
    t.v6_cc = countries(cc6, u128::MAX, 16).map_err(|m| format!("country-ipv6 {m}"))?;
    t.orgs = orgs.into_bytes();
    Ok(t)
}

/// The `"version"` of an npm package.json, read without a JSON parser (npm writes one key a line),
/// so the build script can use it too.
pub fn package_version(package_json: &str) -> Option<String> {
    package_json
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"version\":"))
        .map(|v| v.trim().trim_end_matches(',').trim_matches('"').to_owned())
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r'))).filter(|(_, l)| !l.is_empty())
}

/// Checks a range against the one before it. The data is sorted by start; a range that overlaps the
/// previous one (a handful do, where two registries disagree) keeps only its part after it, so the
/// earlier range answers for the overlap and lookups stay a binary search. `None`: nothing is left.
fn check_order(last: &mut Option<u128>, s: u128, e: u128, max: u128) -> Result<Option<(u128, u128)>, String> {
    if s > e || e > max {
        return Err(format!("range {s}–{e} is empty or too large"));
    }
    let s = match *last {
        Some(prev_end) if e <= prev_end => return Ok(None),
        Some(prev_end) if s <= prev_end => prev_end + 1,
        _ => s,
    };
    *last = Some(e);
    Ok(Some((s, e)))
}

fn countries(text: &str, max: u128, width: usize) -> Result<Vec<u8>, String> {
    let mut merged: Vec<(u128, u128, [u8; 2])> = Vec::new();
    let mut last = None;
    for (n, line) in lines(text) {
        let mut parts = line.splitn(3, ',');
        let (s, e, cc) = (parts.next(), parts.next(), parts.next());
        let (Some(s), Some(e), Some(cc)) = (s, e, cc) else {
            return Err(format!("line {n}: expected start,end,country"));
        };
        let s: u128 = s.parse().map_err(|_| format!("line {n}: bad start"))?;
        let e: u128 = e.parse().map_err(|_| format!("line {n}: bad end"))?;
        let Some((s, e)) = check_order(&mut last, s, e, max).map_err(|m| format!("line {n}: {m}"))? else {
            continue;
        };
        let cc = cc.trim().as_bytes();
        if cc.len() != 2 || !cc.iter().all(u8::is_ascii_alphabetic) {
            return Err(format!("line {n}: country is not two letters"));
        }
        let cc = [cc[0].to_ascii_uppercase(), cc[1].to_ascii_uppercase()];
        match merged.last_mut() {
            Some(prev) if prev.2 == cc && prev.1.checked_add(1) == Some(s) => prev.1 = e,
            _ => merged.push((s, e, cc)),
        }
    }
    let mut out = Vec::with_capacity(merged.len() * (2 * width + 2));
    for (s, e, cc) in merged {
        if width == 4 {
            out.extend_from_slice(&(s as u32).to_le_bytes());
            out.extend_from_slice(&(e as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&s.to_le_bytes());
            out.extend_from_slice(&e.to_le_bytes());
        }
        out.extend_from_slice(&cc);
    }
    Ok(out)
}

/// One `start,end,asn,org` line; `org` may be quoted with doubled quotes inside.
fn net_line(line: &str) -> Result<(u128, u128, u32, String), String> {
    let mut parts = line.splitn(4, ',');
    let s = parts.next().ok_or("no start")?.parse::<u128>().map_err(|_| "bad start")?;
    let e = parts.next().ok_or("no end")?.parse::<u128>().map_err(|_| "bad end")?;
    let asn = parts.next().ok_or("no ASN")?.parse::<u32>().map_err(|_| "bad ASN")?;
    let org = parts.next().unwrap_or("");
    let org = match org.strip_prefix('"').and_then(|o| o.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => org.to_owned(),
    };
    Ok((s, e, asn, org))
}

#[derive(Default)]
struct Orgs {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Orgs {
    fn id(&mut self, name: String) -> u32 {
        if let Some(&id) = self.ids.get(&name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    fn into_bytes(self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.names.len() as u32).to_le_bytes());
        let mut offset = 0u32;
        out.extend_from_slice(&offset.to_le_bytes());
        for n in &self.names {
            offset += n.len() as u32;
            out.extend_from_slice(&offset.to_le_bytes());
        }
        for n in &self.names {
            out.extend_from_slice(n.as_bytes());
        }
        out
    }
}
