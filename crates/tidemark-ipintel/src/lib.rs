//! Offline IP intelligence: for every IPv4 and IPv6 address, its country, its network (autonomous
//! system number and owner) and its class ([`IpClass`]: Microsoft, hosting, VPN, private, reserved,
//! public).
//!
//! A bare address tells an investigator nothing; "a rented server at DigitalOcean in the Netherlands"
//! is the first lead of most mailbox compromises. The data is open (DB-IP's country and ASN Lite
//! databases, RouteViews and the NRO's statistics, CC BY 4.0, as packaged by `@ip-location-db` on npm)
//! and compiled into every binary at build time by `build.rs`: Tidemark never asks the network about an
//! address. [`DataSet`] names the data and its date so a case can record which data said what, and
//! [`IpIntel::from_packages`] reads a newer copy of the same packages an investigator brings offline.

mod class;
mod networks;
#[allow(dead_code)]
mod table;

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::OnceLock;

use serde::Serialize;

pub use class::IpClass;
pub use networks::{KnownNetwork, KNOWN};

mod meta {
    include!(concat!(env!("OUT_DIR"), "/meta.rs"));
}

/// Which data answered: recorded in the case with every enrichment and credited wherever it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataSet {
    /// Name for people.
    pub name: String,
    /// Package versions (`asn 2.3.2026061719, country 2.3.2026060120`).
    pub version: String,
    /// Date of the data, `YYYY-MM-DD` (the older of the two packages).
    pub date: String,
    /// Licence.
    pub licence: String,
    /// The attribution the licence asks for.
    pub credit: String,
    /// SHA-256 of the compiled tables (hex): the same value means the same answers.
    pub sha256: String,
}

/// What the data says about one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpInfo {
    /// ISO 3166 country code (upper case), if the data has one.
    pub country: Option<String>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// The network's owner, as the data names it.
    pub network: Option<String>,
    /// How the address reads.
    pub class: IpClass,
    /// Why a special-purpose address is special, in words.
    pub note: Option<&'static str>,
}

/// The lookup tables and the data set they came from.
#[derive(Debug)]
pub struct IpIntel {
    v4_net: Cow<'static, [u8]>,
    v6_net: Cow<'static, [u8]>,
    v4_cc: Cow<'static, [u8]>,
    v6_cc: Cow<'static, [u8]>,
    orgs: Cow<'static, [u8]>,
    data: DataSet,
}

const CREDIT: &str = "IP geolocation by DB-IP (db-ip.com); network numbers from RouteViews (routeviews.org), \
                      DB-IP and the NRO (nro.net); packaged by ip-location-db. CC BY 4.0.";

impl IpIntel {
    /// The data compiled into this build.
    pub fn bundled() -> &'static IpIntel {
        static BUNDLED: OnceLock<IpIntel> = OnceLock::new();
        BUNDLED.get_or_init(|| IpIntel {
            v4_net: Cow::Borrowed(include_bytes!(concat!(env!("OUT_DIR"), "/v4_net.bin"))),
            v6_net: Cow::Borrowed(include_bytes!(concat!(env!("OUT_DIR"), "/v6_net.bin"))),
            v4_cc: Cow::Borrowed(include_bytes!(concat!(env!("OUT_DIR"), "/v4_cc.bin"))),
            v6_cc: Cow::Borrowed(include_bytes!(concat!(env!("OUT_DIR"), "/v6_cc.bin"))),
            orgs: Cow::Borrowed(include_bytes!(concat!(env!("OUT_DIR"), "/orgs.bin"))),
            data: data_set(meta::ASN_VERSION, meta::COUNTRY_VERSION, meta::TABLES_SHA256.to_owned()),
        })
    }

    /// Reads a newer copy of the `@ip-location-db/asn` and `@ip-location-db/dbip-country` packages
    /// (their unpacked folders), e.g. brought on a USB stick; nothing is fetched.
    pub fn from_packages(asn_dir: &Path, country_dir: &Path) -> Result<IpIntel, String> {
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("could not read {}: {e}", p.display()));
        let t = table::build(
            &read(&asn_dir.join("asn-ipv4-num.csv"))?,
            &read(&asn_dir.join("asn-ipv6-num.csv"))?,
            &read(&country_dir.join("dbip-country-ipv4-num.csv"))?,
            &read(&country_dir.join("dbip-country-ipv6-num.csv"))?,
        )?;
        let version = |dir: &Path| -> Result<String, String> {
            table::package_version(&read(&dir.join("package.json"))?)
                .ok_or_else(|| format!("{} has no version", dir.join("package.json").display()))
        };
        let sha = table_digest(&t);
        Ok(IpIntel {
            data: data_set(&version(asn_dir)?, &version(country_dir)?, sha),
            v4_net: Cow::Owned(t.v4_net),
            v6_net: Cow::Owned(t.v6_net),
            v4_cc: Cow::Owned(t.v4_cc),
            v6_cc: Cow::Owned(t.v6_cc),
            orgs: Cow::Owned(t.orgs),
        })
    }

    /// Which data this is.
    pub fn data(&self) -> &DataSet {
        &self.data
    }

    /// The licence texts of the bundled data, to show in About.
    pub fn licence_text() -> &'static str {
        meta::LICENCE_TEXT
    }

    /// Looks an address up. IPv4-mapped IPv6 addresses are looked up as IPv4.
    pub fn lookup(&self, ip: IpAddr) -> IpInfo {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        if let Some((class, note)) = class::special(ip) {
            return IpInfo { country: None, asn: None, network: None, class, note: Some(note) };
        }
        let (net, cc) = match ip {
            IpAddr::V4(a) => {
                let n = u32::from(a) as u128;
                (find(&self.v4_net, table::V4_NET, 4, n), find(&self.v4_cc, table::V4_CC, 4, n))
            }
            IpAddr::V6(a) => {
                let n = u128::from(a);
                (find(&self.v6_net, table::V6_NET, 16, n), find(&self.v6_cc, table::V6_CC, 16, n))
            }
        };
        let (asn, network) = match net {
            Some(rec) => {
                let at = rec.len() - 8;
                let asn = u32::from_le_bytes(rec[at..at + 4].try_into().expect("4 bytes"));
                let org = u32::from_le_bytes(rec[at + 4..].try_into().expect("4 bytes"));
                (Some(asn).filter(|&a| a != 0), self.org(org).filter(|o| !o.is_empty()))
            }
            None => (None, None),
        };
        let country = cc.map(|rec| String::from_utf8_lossy(&rec[rec.len() - 2..]).into_owned());
        if let (None, IpAddr::V6(a)) = (asn, ip) {
            if networks::microsoft_v6(u128::from(a)) {
                let note = "Microsoft's registered IPv6 block (used by Exchange Online's own servers)";
                let network = Some("Microsoft Corporation".to_owned());
                return IpInfo { country, asn: Some(8075), network, class: IpClass::Microsoft, note: Some(note) };
            }
        }
        let class = asn.and_then(networks::known).map(|k| k.class).unwrap_or(IpClass::Public);
        IpInfo { country, asn, network, class, note: None }
    }

    /// Looks up an address given as text; `None` when it is not an address.
    pub fn lookup_str(&self, s: &str) -> Option<IpInfo> {
        parse_ip(s).map(|ip| self.lookup(ip))
    }

    /// The organisation names of a network number as the data names them (for checks and the UI).
    pub fn owner_of(&self, asn: u32) -> Option<String> {
        let v4 = self.v4_net.chunks_exact(table::V4_NET);
        let v6 = self.v6_net.chunks_exact(table::V6_NET);
        v4.chain(v6).find_map(|rec| {
            let at = rec.len() - 8;
            let a = u32::from_le_bytes(rec[at..at + 4].try_into().expect("4 bytes"));
            (a == asn).then(|| self.org(u32::from_le_bytes(rec[at + 4..].try_into().expect("4 bytes"))))?
        })
    }

    fn org(&self, id: u32) -> Option<String> {
        let o = &self.orgs;
        let count = u32::from_le_bytes(o.get(0..4)?.try_into().ok()?);
        if id >= count {
            return None;
        }
        let off = |i: u32| -> Option<usize> {
            let at = 4 + 4 * i as usize;
            Some(u32::from_le_bytes(o.get(at..at + 4)?.try_into().ok()?) as usize)
        };
        let base = 4 + 4 * (count as usize + 1);
        let (s, e) = (off(id)?, off(id + 1)?);
        o.get(base + s..base + e).map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// The record of `table` (records of `size` bytes, starting with `start` and `end` of `width` bytes)
/// whose range holds `n`.
fn find(table: &[u8], size: usize, width: usize, n: u128) -> Option<&[u8]> {
    let count = table.len() / size;
    let read = |i: usize, at: usize| -> u128 {
        let b = &table[i * size + at..i * size + at + width];
        if width == 4 {
            u32::from_le_bytes(b.try_into().expect("4 bytes")) as u128
        } else {
            u128::from_le_bytes(b.try_into().expect("16 bytes"))
        }
    };
    // First record starting after n; the one before it is the only candidate.
    let (mut lo, mut hi) = (0usize, count);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if read(mid, 0) <= n {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let i = lo.checked_sub(1)?;
    (read(i, width) >= n).then(|| &table[i * size..(i + 1) * size])
}

fn data_set(asn_version: &str, country_version: &str, sha256: String) -> DataSet {
    let date = [asn_version, country_version].iter().filter_map(|v| version_date(v)).min().unwrap_or_default();
    DataSet {
        name: "DB-IP Lite country and ASN data (ip-location-db)".to_owned(),
        version: format!("asn {asn_version}, country {country_version}"),
        date,
        licence: "CC BY 4.0".to_owned(),
        credit: CREDIT.to_owned(),
        sha256,
    }
}

/// `2.3.2026061719` → `2026-06-17` (ip-location-db puts the data's date and hour in the patch version).
fn version_date(v: &str) -> Option<String> {
    let stamp = v.rsplit('.').next()?;
    if stamp.len() < 8 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{}-{}-{}", &stamp[0..4], &stamp[4..6], &stamp[6..8]))
}

fn table_digest(t: &table::Tables) -> String {
    // The bundled tables are hashed with SHA-256 at build time; a loaded copy is identified by the
    // same kind of digest so two copies of the same data compare equal.
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [&t.v4_net, &t.v6_net, &t.v4_cc, &t.v6_cc, &t.orgs] {
        h.update(part);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses an address as found in an event's `client_ip`: IPv4, IPv6, IPv4-mapped IPv6, with an
/// optional IPv6 zone (`fe80::1%eth0`). Host names and anything else give `None`.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = s.split_once('%').map_or(s, |(a, _)| a);
    s.parse().ok()
}

/// A 16-byte key that orders every address: IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), so an IPv4
/// CIDR range is one contiguous key range. Stored beside each address in the case for `ip:` ranges.
pub fn address_key(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.to_ipv4_mapped().map(|v4| v4.to_ipv6_mapped()).unwrap_or(a).octets(),
    }
}

/// The first and last [`address_key`] of a CIDR block (`203.0.113.0/24`, `2001:db8::/32`), or `None`
/// when the text is not one. Host bits set in the address are ignored, as routers do.
pub fn cidr_range(s: &str) -> Option<([u8; 16], [u8; 16])> {
    let (addr, len) = s.trim().split_once('/')?;
    let len: u32 = len.parse().ok()?;
    let (n, bits): (u128, u32) = match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => (u128::from(a.to_ipv6_mapped()), 32),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (u128::from(v4.to_ipv6_mapped()), 32),
            None => (u128::from(a), 128),
        },
    };
    if len > bits {
        return None;
    }
    let host_bits = bits - len;
    let mask: u128 = if host_bits == 0 { 0 } else { (1u128 << host_bits) - 1 };
    let first = n & !mask;
    let last = n | mask;
    Some((Ipv6Addr::from(first).octets(), Ipv6Addr::from(last).octets()))
}

/// An IPv4 address as a key, for tests and callers that build ranges by hand.
pub fn v4_key(a: Ipv4Addr) -> [u8; 16] {
    address_key(IpAddr::V4(a))
}

#[cfg(test)]
mod tests;

/// The English short name of an ISO 3166-1 alpha-2 country code (`NL` → `Netherlands`).
pub fn country_name(code: &str) -> Option<&'static str> {
    isocountry::CountryCode::for_alpha2_caseless(code.trim()).ok().map(|c| c.name())
}
