//! Tests against the bundled data: real addresses whose owners are stable public facts, every curated
//! network checked against the owner the data names, and the table builder on small inputs.

use super::*;

fn info(s: &str) -> IpInfo {
    IpIntel::bundled().lookup_str(s).unwrap_or_else(|| panic!("{s} is an address"))
}

#[test]
fn well_known_public_addresses_get_their_country_and_network() {
    let google_dns = info("8.8.8.8");
    assert_eq!(google_dns.asn, Some(15169));
    assert!(google_dns.network.as_deref().unwrap().contains("Google"), "{google_dns:?}");
    assert_eq!(google_dns.country.as_deref(), Some("US"));
    assert_eq!(google_dns.class, IpClass::Public, "Google's own AS 15169 is not rented hosting");

    let cloudflare = info("1.1.1.1");
    assert_eq!(cloudflare.asn, Some(13335));

    let v6 = info("2001:4860:4860::8888");
    assert_eq!(v6.asn, Some(15169));
    assert!(v6.country.is_some());
}

#[test]
fn microsoft_front_ends_are_classed_as_microsoft() {
    // Exchange Online's front-end ranges (40.92.0.0/15, 52.96.0.0/14, 2603:1000::/24 …).
    for ip in ["40.92.1.1", "52.96.10.20", "2603:10a6:208::1", "::ffff:52.97.1.1"] {
        let i = info(ip);
        assert_eq!(i.class, IpClass::Microsoft, "{ip}: {i:?}");
        assert!(i.network.as_deref().unwrap_or("").contains("Microsoft"), "{ip}: {i:?}");
    }
}

#[test]
fn hosting_and_vpn_networks_are_classed() {
    let first_v4_of = |asn: u32| -> Ipv4Addr {
        let t = &IpIntel::bundled().v4_net;
        (0..t.len() / 16)
            .map(|i| &t[i * 16..i * 16 + 16])
            .find(|r| u32::from_le_bytes(r[8..12].try_into().unwrap()) == asn)
            .map(|r| Ipv4Addr::from(u32::from_le_bytes(r[0..4].try_into().unwrap())))
            .unwrap_or_else(|| panic!("AS{asn} has no IPv4 range"))
    };
    let ocean = IpIntel::bundled().lookup(IpAddr::V4(first_v4_of(14061)));
    assert_eq!((ocean.asn, ocean.class), (Some(14061), IpClass::Hosting), "{ocean:?}");
    let nord = IpIntel::bundled().lookup(IpAddr::V4(first_v4_of(136787)));
    assert_eq!(nord.class, IpClass::Vpn, "{nord:?}");
}

#[test]
fn every_curated_network_is_owned_by_whom_the_list_says() {
    let data = IpIntel::bundled();
    for k in KNOWN {
        let owner = data.owner_of(k.asn).unwrap_or_else(|| panic!("AS{} is not in the data", k.asn));
        assert!(
            owner.to_lowercase().contains(&k.owner.to_lowercase()),
            "AS{} is owned by {owner:?}, the list says {:?}",
            k.asn,
            k.owner
        );
    }
}

#[test]
fn special_addresses_say_why_and_have_no_network() {
    let doc = info("203.0.113.9");
    assert_eq!((doc.class, doc.asn, doc.country.as_deref()), (IpClass::Reserved, None, None));
    assert!(doc.note.unwrap().contains("documentation"));
    assert_eq!(info("192.168.1.20").class, IpClass::Private);
    assert_eq!(info("fe80::1%eth0").class, IpClass::Reserved);
}

#[test]
fn host_names_and_garbage_are_not_addresses() {
    let d = IpIntel::bundled();
    for s in ["", "mail.contoso.com", "10.0.0", "1.2.3.4.5", "::g", "<script>"] {
        assert!(d.lookup_str(s).is_none(), "{s}");
    }
}

#[test]
fn the_data_set_names_itself_with_date_licence_and_credit() {
    let d = IpIntel::bundled().data();
    assert_eq!(d.date.len(), 10, "{d:?}");
    assert!(d.date.starts_with("20"), "{d:?}");
    assert_eq!(d.licence, "CC BY 4.0");
    assert!(d.credit.contains("DB-IP") && d.credit.contains("RouteViews"));
    assert_eq!(d.sha256.len(), 64);
    assert!(IpIntel::licence_text().contains("Creative Commons Attribution 4.0"));
    assert_eq!(version_date("2.3.2026061719").as_deref(), Some("2026-06-17"));
    assert_eq!(version_date("1.0.0"), None);
}

#[test]
fn a_loaded_copy_of_the_packages_answers_like_the_bundled_one() {
    let dir = tempfile_dir();
    let asn = dir.join("asn");
    let cc = dir.join("cc");
    std::fs::create_dir_all(&asn).unwrap();
    std::fs::create_dir_all(&cc).unwrap();
    let v4 = |a: [u8; 4]| u32::from_be_bytes(a);
    std::fs::write(
        asn.join("asn-ipv4-num.csv"),
        format!(
            "{},{},64500,\"Example \"\"Hosting\"\", Inc.\"\n{},{},64501,Plain ISP\n",
            v4([1, 0, 0, 0]),
            v4([1, 0, 0, 255]),
            v4([1, 0, 1, 0]),
            v4([1, 0, 1, 255])
        ),
    )
    .unwrap();
    std::fs::write(asn.join("asn-ipv6-num.csv"), "").unwrap();
    std::fs::write(asn.join("package.json"), "{\n  \"version\": \"2.3.2027010100\"\n}\n").unwrap();
    std::fs::write(
        cc.join("dbip-country-ipv4-num.csv"),
        format!(
            "{},{},NL\n{},{},NL\n{},{},fr\n",
            v4([1, 0, 0, 0]),
            v4([1, 0, 0, 127]),
            v4([1, 0, 0, 128]),
            v4([1, 0, 0, 255]),
            v4([1, 0, 1, 0]),
            v4([1, 0, 1, 255])
        ),
    )
    .unwrap();
    std::fs::write(cc.join("dbip-country-ipv6-num.csv"), "").unwrap();
    std::fs::write(cc.join("package.json"), "{\n  \"version\": \"2.3.2026123100\"\n}\n").unwrap();
    let d = IpIntel::from_packages(&asn, &cc).unwrap();
    assert_eq!(d.v4_cc.len(), 2 * 10, "adjacent NL ranges merge");
    let a = d.lookup_str("1.0.0.200").unwrap();
    assert_eq!(
        (a.asn, a.network.as_deref(), a.country.as_deref()),
        (Some(64500), Some("Example \"Hosting\", Inc."), Some("NL"))
    );
    let b = d.lookup_str("1.0.1.7").unwrap();
    assert_eq!((b.asn, b.country.as_deref()), (Some(64501), Some("FR")));
    let none = d.lookup_str("1.0.2.1").unwrap();
    assert_eq!((none.asn, none.country, none.class), (None, None, IpClass::Public));
    assert_eq!(d.data().date, "2026-12-31");

    std::fs::write(cc.join("dbip-country-ipv4-num.csv"), "0,9,NL\n5,20,FR\n6,8,DE\n").unwrap();
    let overlapping = IpIntel::from_packages(&asn, &cc).unwrap();
    let cc_of = |s: &str| overlapping.lookup_str(s).unwrap().country;
    assert_eq!((cc_of("0.0.0.5"), cc_of("0.0.0.10")), (None, None), "0/8 is reserved before any data");
    assert_eq!(overlapping.v4_cc.len(), 2 * 10, "the overlap is clipped, the covered range dropped");
    assert_eq!(find(&overlapping.v4_cc, 10, 4, 7).map(|r| r[8..].to_vec()), Some(b"NL".to_vec()));
    assert_eq!(find(&overlapping.v4_cc, 10, 4, 15).map(|r| r[8..].to_vec()), Some(b"FR".to_vec()));
    std::fs::write(cc.join("dbip-country-ipv4-num.csv"), "5,4,NL\n").unwrap();
    let err = IpIntel::from_packages(&asn, &cc).unwrap_err();
    assert!(err.contains("country-ipv4 line 1"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let d =
        std::env::temp_dir().join(format!("tidemark-ipintel-{}-{:?}", std::process::id(), std::thread::current().id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn cidr_blocks_become_key_ranges() {
    let (lo, hi) = cidr_range("203.0.113.77/24").unwrap();
    assert_eq!(lo, v4_key(Ipv4Addr::new(203, 0, 113, 0)));
    assert_eq!(hi, v4_key(Ipv4Addr::new(203, 0, 113, 255)));
    let mapped = address_key("::ffff:203.0.113.5".parse().unwrap());
    assert!(lo <= mapped && mapped <= hi, "an IPv4-mapped address falls in the IPv4 block");
    let (lo6, hi6) = cidr_range("2001:db8::/32").unwrap();
    let inside = address_key("2001:db8:ffff::1".parse().unwrap());
    let outside = address_key("2001:db9::1".parse().unwrap());
    assert!(lo6 <= inside && inside <= hi6 && !(lo6 <= outside && outside <= hi6));
    assert_eq!(cidr_range("0.0.0.0/0").unwrap().1, v4_key(Ipv4Addr::new(255, 255, 255, 255)));
    assert!(cidr_range("10.0.0.0/33").is_none());
    assert!(cidr_range("10.0.0.0").is_none());
    assert!(cidr_range("host/8").is_none());
}
