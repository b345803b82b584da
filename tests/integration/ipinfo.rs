//! IP context in a real case: every client address gets its country, network and class when its
//! batch commits (imports, and cases from before schema 5 when opened), the query fields `country:`,
//! `asn:`, `network:`, `iptype:` and CIDR `ip:` find exactly the events brute force finds, pages carry
//! the answer, the IP card counts what the case holds, and re-answering from another data set is
//! logged with what changed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tidemark_core::model::SortOrder;
use tidemark_core::query::Query;
use tidemark_core::{CaseReader, CaseWriter, ErrorCode, FixedClock};
use tidemark_ipintel::IpIntel;
use tidemark_tests::{import, new_case, TEST_NOW_MS};

/// Addresses with stable, public owners, and special ones.
const ADDRESSES: &[&str] = &[
    "8.8.8.8",              // Google, US (AS15169: Google's own network, public)
    "5.101.96.10",          // DigitalOcean (AS14061): hosting
    "40.92.1.1",            // Microsoft (AS8075)
    "203.0.113.5",          // documentation range: reserved
    "192.168.1.10",         // private
    "2001:4860:4860::8888", // Google over IPv6
];

fn write_records(dir: &Path) -> PathBuf {
    let path = dir.join("ips.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    for (i, ip) in ADDRESSES.iter().enumerate() {
        for j in 0..3 {
            let user = if j == 2 { "mallory@contoso.example" } else { "adele@contoso.example" };
            let client = if ip.contains(':') { format!("[{ip}]:443") } else { format!("{ip}:443") };
            writeln!(
                f,
                r#"{{"CreationTime":"2025-03-0{}T10:0{j}:00","Id":"{i:08x}-0000-4000-8000-{j:012x}","Operation":"MailItemsAccessed","RecordType":50,"UserId":"{user}","MailboxOwnerUPN":"{user}","ClientIP":"{client}","Workload":"Exchange"}}"#,
                i + 1
            )
            .unwrap();
        }
    }
    // One event without any address.
    writeln!(
        f,
        r#"{{"CreationTime":"2025-03-09T10:00:00","Id":"ffffffff-0000-4000-8000-000000000000","Operation":"Send","RecordType":2,"UserId":"adele@contoso.example","Workload":"Exchange"}}"#
    )
    .unwrap();
    path
}

fn case_with_addresses(dir: &Path) -> (PathBuf, CaseWriter) {
    let (path, mut w) = new_case(dir, "ips");
    let file = write_records(dir);
    let report = import(&mut w, &[file]);
    assert_eq!(report.new_events, ADDRESSES.len() as i64 * 3 + 1);
    (path, w)
}

fn ips_of(r: &CaseReader, text: &str) -> Vec<Option<String>> {
    let page = r.page(&Query::parse(text).unwrap(), SortOrder::Asc, None, 1000).unwrap();
    let mut ips: Vec<Option<String>> = page.rows.into_iter().map(|e| e.client_ip).collect();
    ips.dedup();
    ips
}

fn some(ips: &[&str]) -> Vec<Option<String>> {
    ips.iter().map(|s| Some((*s).to_owned())).collect()
}

#[test]
fn every_address_is_enriched_as_it_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = case_with_addresses(dir.path());
    let c = rusqlite::Connection::open(&path).unwrap();
    let (distinct, known): (i64, i64) = c
        .query_row(
            "SELECT (SELECT count(DISTINCT client_ip) FROM event WHERE client_ip IS NOT NULL), (SELECT count(*) FROM ip_info)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((distinct, known), (ADDRESSES.len() as i64, ADDRESSES.len() as i64));
    let class =
        |ip: &str| -> String { c.query_row("SELECT class FROM ip_info WHERE ip = ?1", [ip], |r| r.get(0)).unwrap() };
    assert_eq!(class("8.8.8.8"), "public");
    assert_eq!(class("5.101.96.10"), "hosting");
    assert_eq!(class("40.92.1.1"), "microsoft");
    assert_eq!(class("203.0.113.5"), "reserved");
    assert_eq!(class("192.168.1.10"), "private");
    let data: (String, String) =
        c.query_row("SELECT licence, date FROM ip_data", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(data.0, "CC BY 4.0");
    assert_eq!(data.1, IpIntel::bundled().data().date);
}

#[test]
fn address_fields_find_exactly_their_events() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = case_with_addresses(dir.path());
    let r = CaseReader::open(&path).unwrap();
    // Brute force: the addresses the bundled data places in the US, in time order.
    let us: Vec<&str> = ADDRESSES
        .iter()
        .copied()
        .filter(|ip| IpIntel::bundled().lookup_str(ip).unwrap().country.as_deref() == Some("US"))
        .collect();
    assert!(us.contains(&"8.8.8.8"));
    assert_eq!(ips_of(&r, "country:US"), some(&us));
    assert_eq!(ips_of(&r, "country:us"), ips_of(&r, "country:US"));
    assert_eq!(ips_of(&r, "asn:15169"), some(&["8.8.8.8", "2001:4860:4860::8888"]));
    assert_eq!(ips_of(&r, "asn:AS14061"), some(&["5.101.96.10"]));
    assert_eq!(ips_of(&r, "network:digitalocean"), some(&["5.101.96.10"]));
    assert_eq!(ips_of(&r, "iptype:hosting"), some(&["5.101.96.10"]));
    assert_eq!(ips_of(&r, "iptype:microsoft"), some(&["40.92.1.1"]));
    assert_eq!(ips_of(&r, "iptype:private OR iptype:reserved"), some(&["203.0.113.5", "192.168.1.10"]));
    assert_eq!(ips_of(&r, "ip:203.0.113.0/24"), some(&["203.0.113.5"]));
    assert_eq!(ips_of(&r, "ip:192.168.0.0/16 actor:mallory"), some(&["192.168.1.10"]));
    assert_eq!(ips_of(&r, "ip:2001:4860::/32"), some(&["2001:4860:4860::8888"]));
    assert_eq!(ips_of(&r, "ip:0.0.0.0/0").len(), 5, "every IPv4 address, no IPv6");
    // Excluding a class keeps the events that have no address.
    let not_ms = ips_of(&r, "-iptype:microsoft");
    assert!(not_ms.contains(&None) && !not_ms.contains(&Some("40.92.1.1".to_owned())), "{not_ms:?}");
    // Counts agree with pages.
    let q = Query::parse("iptype:hosting OR country:US").unwrap();
    assert_eq!(r.count(&q).unwrap().matching, 3 * (us.len() as i64 + 1));
}

#[test]
fn typos_in_address_fields_are_errors_that_say_what_works() {
    for (text, says) in [
        ("country:Netherlands", "two-letter code"),
        ("country:N*", "two-letter code"),
        ("asn:digitalocean", "network number"),
        ("iptype:cloud", "iptype:hosting"),
        ("ip:10.0.0.0/33", "203.0.113.0/24"),
        ("ip:host/8", "address block"),
    ] {
        let e = Query::parse(text).unwrap_err();
        assert_eq!(e.code, ErrorCode::QueryInvalid, "{text}");
        assert!(e.message.contains(says), "{text}: {}", e.message);
    }
}

#[test]
fn pages_and_the_detail_carry_the_answer_and_the_card_counts_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = case_with_addresses(dir.path());
    let r = CaseReader::open(&path).unwrap();
    let page = r.page(&Query::parse("5.101.96.10").unwrap(), SortOrder::Asc, None, 10).unwrap();
    assert_eq!(page.rows.len(), 3);
    let ip = page.rows[0].ip.clone().expect("the row carries the IP context");
    assert_eq!((ip.asn, ip.class.as_str()), (Some(14061), "hosting"));
    assert!(ip.network.unwrap().contains("DigitalOcean"));
    let detail = r.event(&page.rows[0].id).unwrap();
    assert_eq!(detail.event.ip, page.rows[0].ip);
    let none = r.page(&Query::parse("op:Send").unwrap(), SortOrder::Asc, None, 10).unwrap();
    assert_eq!(none.rows[0].ip, None);

    let card = r.ip_card("5.101.96.10").unwrap().expect("a card");
    assert_eq!(card.events, 3);
    assert_eq!(card.accounts, vec!["adele@contoso.example", "mallory@contoso.example"]);
    assert_eq!(card.first_seen.as_deref(), Some("2025-03-02T10:00:00.000Z"));
    assert_eq!(card.last_seen.as_deref(), Some("2025-03-02T10:02:00.000Z"));
    assert_eq!(card.class_label, "Hosting / cloud");
    assert!(card.country_name.is_some(), "{card:?}");
    assert_eq!(card.data.unwrap().licence, "CC BY 4.0");
    let doc = r.ip_card("203.0.113.5").unwrap().unwrap();
    assert!(doc.note.unwrap().contains("documentation"));
    assert!(r.ip_card("198.51.100.200").unwrap().is_none(), "no event has it");
    assert_eq!(r.ip_data_sets().unwrap().len(), 1);
}

#[test]
fn another_data_set_re_answers_every_address_and_the_log_says_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = case_with_addresses(dir.path());
    // A "newer" copy in which 8.8.8.8 moved to another country and network, and nothing else is known.
    let (asn, cc) = (dir.path().join("asn"), dir.path().join("cc"));
    std::fs::create_dir_all(&asn).unwrap();
    std::fs::create_dir_all(&cc).unwrap();
    let g = u32::from(std::net::Ipv4Addr::new(8, 8, 8, 0));
    std::fs::write(asn.join("asn-ipv4-num.csv"), format!("{},{},64512,Example Transit\n", g, g + 255)).unwrap();
    std::fs::write(asn.join("asn-ipv6-num.csv"), "").unwrap();
    std::fs::write(asn.join("package.json"), "{\n  \"version\": \"2.3.2027020100\"\n}\n").unwrap();
    std::fs::write(cc.join("dbip-country-ipv4-num.csv"), format!("{},{},NL\n", g, g + 255)).unwrap();
    std::fs::write(cc.join("dbip-country-ipv6-num.csv"), "").unwrap();
    std::fs::write(cc.join("package.json"), "{\n  \"version\": \"2.3.2027020100\"\n}\n").unwrap();
    let newer = IpIntel::from_packages(&asn, &cc).unwrap();
    let report = w.reenrich(&newer).unwrap();
    assert_eq!(report.addresses, ADDRESSES.len() as i64);
    // 8.8.8.8, 5.101.96.10 and 40.92.1.1 and the IPv6 address changed; the special ones did not.
    assert_eq!(report.changed, 4);
    assert_eq!(report.data.date, "2027-02-01");
    let r = CaseReader::open(&path).unwrap();
    assert_eq!(ips_of(&r, "country:NL"), some(&["8.8.8.8"]));
    assert_eq!(r.ip_data_sets().unwrap().len(), 1, "only the newer data answers now");
    let log = r.log_entries().unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.action, "ip.reenrich");
    assert!(last.summary.contains("4 changed"), "{}", last.summary);
}

#[test]
fn a_case_from_before_ip_context_is_enriched_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = case_with_addresses(dir.path());
    drop(w);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("DROP TABLE ip_info; DROP TABLE ip_data; DROP TABLE account_first; DROP TABLE account; PRAGMA user_version = 4;")
            .unwrap();
    }
    drop(CaseWriter::open(&path, Arc::new(FixedClock(TEST_NOW_MS)), "t").unwrap());
    let r = CaseReader::open(&path).unwrap();
    assert_eq!(ips_of(&r, "iptype:hosting"), some(&["5.101.96.10"]));
    let c = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = c.query_row("SELECT count(*) FROM ip_info", [], |r| r.get(0)).unwrap();
    assert_eq!(n, ADDRESSES.len() as i64);
}

#[test]
fn exports_carry_the_ip_columns_and_credit_the_data() {
    use std::sync::atomic::AtomicBool;
    use tidemark_core::export::{parse_profile_text, ExportControl, ExportFormat, ExportSpec};
    use tidemark_core::model::ExportScope;
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = case_with_addresses(dir.path());
    let r = CaseReader::open(&path).unwrap();
    let profile = parse_profile_text("network");
    let scope = ExportScope::Query { query: "iptype:hosting".to_owned() };
    let spec = ExportSpec::new(scope, ExportFormat::Csv, Some(&profile), "UTC").unwrap();
    let out = dir.path().join("hosting.csv");
    let cancel = AtomicBool::new(false);
    let res =
        r.export_events(&spec, &out, &FixedClock(TEST_NOW_MS), ExportControl { cancel: &cancel }, &mut |_| {}).unwrap();
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.contains("client_ip,ip_country,ip_network,ip_asn,ip_kind,"), "{header}");
    let row = lines.next().unwrap();
    assert!(row.contains("5.101.96.10") && row.contains("DigitalOcean") && row.contains(",14061,hosting,"), "{row}");
    assert_eq!(res.manifest.ip_data.len(), 1);
    assert_eq!(res.manifest.ip_data[0].licence, "CC BY 4.0");
    assert!(res.manifest.ip_data[0].credit.contains("DB-IP"));
}

#[test]
fn country_and_network_facets_count_the_addresses_events() {
    use tidemark_core::facets::FacetPrecision;
    use tidemark_core::model::FacetField;
    let dir = tempfile::tempdir().unwrap();
    let (path, _w) = case_with_addresses(dir.path());
    let r = CaseReader::open(&path).unwrap();
    for text in ["", "actor:mallory", "op:MailItemsAccessed -iptype:private"] {
        let q = Query::parse(text).unwrap();
        let rows = r.page(&q, SortOrder::Asc, None, 1000).unwrap().rows;
        let facets = r.facets(&q, 20, FacetPrecision::Exact).unwrap();
        for (field, of) in [
            (
                FacetField::Country,
                (|e: &tidemark_core::model::EventRow| e.ip.as_ref().and_then(|i| i.country.clone())) as fn(&_) -> _,
            ),
            (FacetField::Network, |e: &tidemark_core::model::EventRow| e.ip.as_ref().and_then(|i| i.network.clone())),
        ] {
            let facet = facets.fields.iter().find(|f| f.field == field).expect("derived facet");
            let mut want: std::collections::BTreeMap<String, i64> = Default::default();
            let mut empty = 0;
            for e in &rows {
                match of(e) {
                    Some(v) => *want.entry(v).or_default() += 1,
                    None => empty += 1,
                }
            }
            let got: std::collections::BTreeMap<String, i64> =
                facet.values.iter().map(|v| (v.value.clone(), v.count)).collect();
            assert_eq!(got, want, "{text} {field:?}");
            assert_eq!(facet.empty, empty, "{text} {field:?}");
            // Each value's filter finds exactly its events.
            for v in &facet.values {
                let narrowed = if text.is_empty() { v.filter.clone() } else { format!("{text} {}", v.filter) };
                let n = r.count(&Query::parse(&narrowed).unwrap()).unwrap().matching;
                assert!(n >= v.count, "{narrowed}: {n} < {}", v.count);
            }
        }
    }
    let all = r.facets(&Query::all(), 20, FacetPrecision::Exact).unwrap();
    let network = all.fields.iter().find(|f| f.field == FacetField::Network).unwrap();
    assert!(network.values.iter().any(|v| v.value.contains("DigitalOcean") && v.count == 3), "{network:?}");
}
