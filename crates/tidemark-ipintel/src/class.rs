//! Classes that change how an address reads: a Microsoft front-end is not the client, a rented
//! server is not a home or office line, a private address says nothing about where someone was.
//!
//! Special-purpose ranges come from the IANA special-purpose address registries (RFC 6890 and the
//! RFCs each range names); they win over any network the data may list for them.

use std::net::IpAddr;

use serde::Serialize;

/// What kind of address this is, for an investigator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IpClass {
    /// An ordinary public address (an internet provider, a company, a mobile network).
    Public,
    /// One of Microsoft's own networks: its service front-ends, and machines rented in Azure.
    Microsoft,
    /// A cloud or hosting provider's network: rented servers, rarely where a person sits.
    Hosting,
    /// A commercial VPN provider's network.
    Vpn,
    /// A private address (home, office or company network behind a router).
    Private,
    /// A special-purpose address that is never on the internet (loopback, link-local,
    /// documentation, multicast, carrier-grade NAT…).
    Reserved,
}

impl IpClass {
    /// Every class, in the order a facet lists them.
    pub const ALL: [IpClass; 6] =
        [Self::Public, Self::Microsoft, Self::Hosting, Self::Vpn, Self::Private, Self::Reserved];

    /// The class as stored and searched (`iptype:hosting`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Microsoft => "microsoft",
            Self::Hosting => "hosting",
            Self::Vpn => "vpn",
            Self::Private => "private",
            Self::Reserved => "reserved",
        }
    }

    /// The class from its stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// A short label for people ("Hosting / cloud").
    pub fn label(self) -> &'static str {
        match self {
            Self::Public => "Public",
            Self::Microsoft => "Microsoft network",
            Self::Hosting => "Hosting / cloud",
            Self::Vpn => "Commercial VPN",
            Self::Private => "Private network",
            Self::Reserved => "Reserved",
        }
    }
}

/// A special-purpose range the address falls in, with its class and a sentence for people.
pub fn special(ip: IpAddr) -> Option<(IpClass, &'static str)> {
    match ip {
        IpAddr::V4(v4) => special_v4(u32::from(v4)),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return special_v4(u32::from(v4));
            }
            let n = u128::from(v6);
            V6_SPECIAL.iter().find(|(net, len, ..)| in_prefix(n, *net, *len, 128)).map(|&(_, _, c, why)| (c, why))
        }
    }
}

fn special_v4(n: u32) -> Option<(IpClass, &'static str)> {
    V4_SPECIAL
        .iter()
        .find(|(net, len, ..)| in_prefix(n as u128, *net as u128, *len, 32))
        .map(|&(_, _, c, why)| (c, why))
}

fn in_prefix(n: u128, net: u128, len: u32, bits: u32) -> bool {
    if len == 0 {
        return true;
    }
    let shift = bits - len;
    (n >> shift) == (net >> shift)
}

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

use IpClass::{Private, Reserved};

/// IPv4 special-purpose ranges (IANA registry), most specific first where they nest.
const V4_SPECIAL: &[(u32, u32, IpClass, &str)] = &[
    (v4(0, 0, 0, 0), 8, Reserved, "\"this network\" (RFC 791): not a real source address"),
    (v4(10, 0, 0, 0), 8, Private, "private network (RFC 1918): a home, office or company network behind a router"),
    (
        v4(100, 64, 0, 0),
        10,
        Reserved,
        "shared address space (RFC 6598): a provider's carrier-grade NAT, not the user's public address",
    ),
    (v4(127, 0, 0, 0), 8, Reserved, "loopback (RFC 1122): the machine itself"),
    (v4(169, 254, 0, 0), 16, Reserved, "link-local (RFC 3927): a machine that got no address from its network"),
    (v4(172, 16, 0, 0), 12, Private, "private network (RFC 1918): a home, office or company network behind a router"),
    (v4(192, 0, 0, 0), 24, Reserved, "IETF protocol assignments (RFC 6890)"),
    (
        v4(192, 0, 2, 0),
        24,
        Reserved,
        "documentation range (RFC 5737): used in examples and test data, never on the internet",
    ),
    (v4(192, 88, 99, 0), 24, Reserved, "deprecated 6to4 relay anycast (RFC 7526)"),
    (v4(192, 168, 0, 0), 16, Private, "private network (RFC 1918): a home, office or company network behind a router"),
    (v4(198, 18, 0, 0), 15, Reserved, "benchmarking range (RFC 2544): test equipment, never on the internet"),
    (
        v4(198, 51, 100, 0),
        24,
        Reserved,
        "documentation range (RFC 5737): used in examples and test data, never on the internet",
    ),
    (
        v4(203, 0, 113, 0),
        24,
        Reserved,
        "documentation range (RFC 5737): used in examples and test data, never on the internet",
    ),
    (v4(224, 0, 0, 0), 4, Reserved, "multicast (RFC 5771): not a source address"),
    (v4(240, 0, 0, 0), 4, Reserved, "reserved for future use (RFC 1112), including broadcast"),
];

const fn v6(hi: u64) -> u128 {
    (hi as u128) << 64
}

/// IPv6 special-purpose ranges (IANA registry). IPv4-mapped addresses are looked up as IPv4.
const V6_SPECIAL: &[(u128, u32, IpClass, &str)] = &[
    (0, 128, Reserved, "unspecified address (RFC 4291): not a real source address"),
    (1, 128, Reserved, "loopback (RFC 4291): the machine itself"),
    (
        0x0064_ff9b_0000_0000_0000_0000_0000_0000,
        96,
        Reserved,
        "NAT64 translation prefix (RFC 6052): an IPv4 address seen through a translator",
    ),
    (v6(0x0100_0000_0000_0000), 64, Reserved, "discard-only range (RFC 6666)"),
    (
        v6(0x2001_0db8_0000_0000),
        32,
        Reserved,
        "documentation range (RFC 3849): used in examples and test data, never on the internet",
    ),
    (v6(0x2001_0000_0000_0000), 32, Reserved, "Teredo tunnelling (RFC 4380): the real address is hidden inside"),
    (v6(0xfc00_0000_0000_0000), 7, Private, "unique local address (RFC 4193): a private IPv6 network"),
    (v6(0xfe80_0000_0000_0000), 10, Reserved, "link-local (RFC 4291): valid only on one network segment"),
    (v6(0xff00_0000_0000_0000), 8, Reserved, "multicast (RFC 4291): not a source address"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<IpClass> {
        special(s.parse().unwrap()).map(|(c, _)| c)
    }

    #[test]
    fn special_ranges_are_classed_and_public_ones_are_not() {
        assert_eq!(class("10.1.2.3"), Some(Private));
        assert_eq!(class("172.31.255.255"), Some(Private));
        assert_eq!(class("172.32.0.1"), None);
        assert_eq!(class("192.168.0.1"), Some(Private));
        assert_eq!(class("100.64.0.1"), Some(Reserved));
        assert_eq!(class("100.128.0.1"), None);
        assert_eq!(class("203.0.113.77"), Some(Reserved));
        assert_eq!(class("198.51.100.1"), Some(Reserved));
        assert_eq!(class("127.0.0.1"), Some(Reserved));
        assert_eq!(class("8.8.8.8"), None);
        assert_eq!(class("::ffff:10.0.0.1"), Some(Private));
        assert_eq!(class("::1"), Some(Reserved));
        assert_eq!(class("::"), Some(Reserved));
        assert_eq!(class("fd12:3456::1"), Some(Private));
        assert_eq!(class("fe80::1"), Some(Reserved));
        assert_eq!(class("2001:db8::1"), Some(Reserved));
        assert_eq!(class("2a01:111:f400::1"), None);
        assert!(special("192.0.2.1".parse().unwrap()).unwrap().1.contains("documentation"));
    }

    #[test]
    fn classes_round_trip_their_names() {
        for c in IpClass::ALL {
            assert_eq!(IpClass::parse(c.as_str()), Some(c));
        }
        assert_eq!(IpClass::parse("HOSTING"), Some(IpClass::Hosting));
        assert_eq!(IpClass::parse("cloud"), None);
    }
}
