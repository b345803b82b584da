//! Compiles the offline IP data into the tables every Tidemark binary embeds.
//!
//! The data comes from two npm packages (`@ip-location-db/asn` and `@ip-location-db/dbip-country`,
//! CC BY 4.0) that `scripts/setup` installs into `data/node_modules` with `npm ci`, exactly as locked
//! in `data/package-lock.json`. Nothing is downloaded here and nothing is fetched at run time. Set
//! `TIDEMARK_IP_DATA` to a folder holding `asn/` and `dbip-country/` package folders to build from
//! another copy.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[path = "src/table.rs"]
#[allow(dead_code)]
mod table;

fn main() {
    println!("cargo:rerun-if-env-changed=TIDEMARK_IP_DATA");
    let root = match std::env::var_os("TIDEMARK_IP_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("data/node_modules/@ip-location-db"),
    };
    let asn = root.join("asn");
    let cc = root.join("dbip-country");
    let read = |p: PathBuf| -> String {
        println!("cargo:rerun-if-changed={}", p.display());
        std::fs::read_to_string(&p).unwrap_or_else(|e| {
            panic!(
                "\n\nThe offline IP data is not installed ({}: {e}).\nRun scripts/setup, or: \
                 npm ci --prefix crates/tidemark-ipintel/data\n\n",
                p.display()
            )
        })
    };
    let tables = table::build(
        &read(asn.join("asn-ipv4-num.csv")),
        &read(asn.join("asn-ipv6-num.csv")),
        &read(cc.join("dbip-country-ipv4-num.csv")),
        &read(cc.join("dbip-country-ipv6-num.csv")),
    )
    .unwrap_or_else(|e| panic!("the IP data could not be read: {e}"));

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let mut digest = Sha256::new();
    for (name, bytes) in [
        ("v4_net.bin", &tables.v4_net),
        ("v6_net.bin", &tables.v6_net),
        ("v4_cc.bin", &tables.v4_cc),
        ("v6_cc.bin", &tables.v6_cc),
        ("orgs.bin", &tables.orgs),
    ] {
        digest.update(bytes);
        std::fs::write(out.join(name), bytes).expect("write table");
    }
    let sha = digest.finalize().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    let asn_version = version(&read(asn.join("package.json")));
    let cc_version = version(&read(cc.join("package.json")));
    let licences = ["DBIP-LICENSE", "ROUTEVIEWS-LICENSE", "NRO_LICENSE", "MODIFICATIONS"]
        .iter()
        .map(|f| read(asn.join(f)))
        .chain(std::iter::once(read(cc.join("DBIP-LICENSE"))))
        .collect::<Vec<_>>()
        .join("\n\n");
    let meta = format!(
        "pub const ASN_VERSION: &str = {asn_version:?};\npub const COUNTRY_VERSION: &str = {cc_version:?};\n\
         pub const TABLES_SHA256: &str = {sha:?};\npub const LICENCE_TEXT: &str = {licences:?};\n"
    );
    std::fs::write(out.join("meta.rs"), meta).expect("write meta");
}

/// The `"version"` of a package.json, or a stop that says which file lacks it.
fn version(package_json: &str) -> String {
    table::package_version(package_json).unwrap_or_else(|| panic!("no version in the IP data's package.json"))
}
