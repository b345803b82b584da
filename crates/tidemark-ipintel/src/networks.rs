//! Networks whose owner changes how a sign-in reads: Microsoft's own, cloud and hosting providers,
//! commercial VPN providers.
//!
//! Compiled by us from the organisation names in the bundled ASN data (each entry names the text its
//! owner's name must contain, and a test checks every entry against the data shipped, so a number
//! that changes hands is caught at build time, not in a report). Which providers matter follows the
//! public detection guidance in `shared/docs/detections.md` §1.5: attackers rent servers and VPN exits
//! by the hour; ordinary users sit behind internet providers and mobile networks.
//!
//! Microsoft's networks carry both its service front-ends and machines customers rent in Azure, so a
//! Microsoft address is its own class: a mailbox record whose `ClientIP` is Microsoft's is read as
//! "a Microsoft server", never as the person's own address.

use crate::class::IpClass;

/// One network: its number, class, and the text its owner's name in the data contains.
#[derive(Debug, Clone, Copy)]
pub struct KnownNetwork {
    /// Autonomous system number.
    pub asn: u32,
    /// How an address in it reads.
    pub class: IpClass,
    /// Text the owner's name in the bundled data contains (case-insensitive).
    pub owner: &'static str,
}

const fn n(asn: u32, class: IpClass, owner: &'static str) -> KnownNetwork {
    KnownNetwork { asn, class, owner }
}

use IpClass::{Hosting, Microsoft, Vpn};

/// Every curated network, by number.
pub const KNOWN: &[KnownNetwork] = &[
    // Microsoft (service front-ends, Exchange Online, Azure).
    n(8075, Microsoft, "Microsoft"),
    n(8068, Microsoft, "Microsoft"),
    n(8069, Microsoft, "Microsoft"),
    n(8070, Microsoft, "Microsoft"),
    n(3598, Microsoft, "Microsoft"),
    n(35106, Microsoft, "Microsoft"),
    // Cloud and hosting providers.
    n(16509, Hosting, "Amazon"),
    n(14618, Hosting, "Amazon"),
    n(8987, Hosting, "Amazon"),
    n(396982, Hosting, "Google"),
    n(14061, Hosting, "DigitalOcean"),
    n(393406, Hosting, "DigitalOcean"),
    n(16276, Hosting, "OVH"),
    n(9009, Hosting, "M247"),
    n(16247, Hosting, "M247"),
    n(20473, Hosting, "Constant Company"),
    n(24940, Hosting, "Hetzner"),
    n(51167, Hosting, "Contabo"),
    n(40021, Hosting, "Contabo"),
    n(141995, Hosting, "Contabo"),
    n(60068, Hosting, "Datacamp"),
    n(212238, Hosting, "Datacamp"),
    n(48337, Hosting, "Linode"),
    n(60781, Hosting, "LeaseWeb"),
    n(28753, Hosting, "Leaseweb"),
    n(30633, Hosting, "Leaseweb"),
    n(31898, Hosting, "Oracle"),
    n(45102, Hosting, "Alibaba"),
    n(134963, Hosting, "Alibaba"),
    n(132203, Hosting, "Tencent"),
    n(12876, Hosting, "Scaleway"),
    n(8560, Hosting, "IONOS"),
    n(203020, Hosting, "HostRoyale"),
    n(207990, Hosting, "HostRoyale"),
    n(21859, Hosting, "Zenlayer"),
    n(62240, Hosting, "Clouvider"),
    n(47583, Hosting, "Hostinger"),
    n(40676, Hosting, "Psychz"),
    n(53667, Hosting, "FranTech"),
    n(36007, Hosting, "Kamatera"),
    n(46475, Hosting, "Limestone"),
    n(7979, Hosting, "Servers.com"),
    n(210644, Hosting, "AEZA"),
    n(199524, Hosting, "G-Core"),
    n(202422, Hosting, "G-Core"),
    n(49505, Hosting, "Selectel"),
    n(9123, Hosting, "TIMEWEB"),
    n(3214, Hosting, "xTom"),
    n(26496, Hosting, "GoDaddy"),
    n(25369, Hosting, "Hydra"),
    n(11878, Hosting, "tzulo"),
    // Commercial VPN providers' own networks.
    n(136787, Vpn, "PacketHub"),
    n(147049, Vpn, "PacketHub"),
    n(207137, Vpn, "PacketHub"),
    n(141039, Vpn, "PacketHub"),
    n(39351, Vpn, "31173 Services"),
    n(216025, Vpn, "Mullvad"),
    n(62371, Vpn, "Proton"),
    n(209103, Vpn, "Proton"),
    n(46562, Vpn, "Performive"),
    n(397540, Vpn, "Windscribe"),
];

/// IPv6 blocks registered to Microsoft that the ASN data leaves out (it lists only what is announced
/// on the public internet). Exchange Online's own servers report addresses from them as `ClientIP`
/// (`2603:10a6:…`), so without them a Microsoft server would read as an unknown client. Sources: the
/// registries' allocations (ARIN `2603:1000::/24`, Microsoft Corporation; RIPE `2a01:111::/32`,
/// Microsoft Limited) and Microsoft's published Microsoft 365 endpoint list, which draws its Exchange
/// Online IPv6 ranges from these blocks.
pub const MICROSOFT_V6: &[(u128, u32)] = &[(0x2603_1000 << 96, 24), (0x2a01_0111 << 96, 32)];

/// Whether an IPv6 address falls in one of [`MICROSOFT_V6`].
pub fn microsoft_v6(n: u128) -> bool {
    MICROSOFT_V6.iter().any(|&(net, len)| (n >> (128 - len)) == (net >> (128 - len)))
}

/// The curated entry for a network number, if any.
pub fn known(asn: u32) -> Option<&'static KnownNetwork> {
    KNOWN.iter().find(|k| k.asn == asn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for k in KNOWN {
            assert!(seen.insert(k.asn), "AS{} twice", k.asn);
        }
    }
}
