//! Shared helpers for Tidemark's integration tests: fixture paths, a fixed clock, fresh case files,
//! a small deterministic UAL generator, and the paths of the binaries under test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tidemark_core::{CaseWriter, FixedClock, FormatRegistry};

/// 2026-01-02T03:04:05Z, the time every test case is "created" at.
pub const TEST_NOW_MS: i64 = 1_767_323_045_000;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// A file under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

/// A built binary in the workspace target directory (`cargo build --workspace` makes them).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/integration-… → target/debug/NAME
    let dir = exe.parent().and_then(Path::parent).expect("target/debug");
    let p = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(p.exists(), "{} is missing: run `cargo build --workspace --all-targets` first", p.display());
    p
}

/// A fresh case in a temporary folder, with the fixed test clock.
pub fn new_case(dir: &Path, name: &str) -> (PathBuf, CaseWriter) {
    let path = dir.join(format!("{name}.tidemark"));
    let w = CaseWriter::create(&path, name, Arc::new(FixedClock(TEST_NOW_MS)), "tester").expect("create case");
    (path, w)
}

/// Imports files with the built-in formats and no progress output.
pub fn import(w: &mut CaseWriter, files: &[PathBuf]) -> tidemark_core::model::ImportReport {
    w.import_files(files, &FormatRegistry::builtin(), &mut |_| {}).expect("import")
}

/// Writes `n` UAL JSONL records whose times collide heavily (many per second, out of order) so time-key
/// sequencing and paging are exercised. Every record has a distinct Id; returns the path.
pub fn write_dense_ual(path: &Path, n: usize, seed: u64) -> PathBuf {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let ops = ["MailItemsAccessed", "Send", "UserLoggedIn", "New-InboxRule", "SoftDelete"];
    for i in 0..n {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let second = (x >> 33) % 600; // 10 minutes: ~n/600 records share each second
        let op = ops[(x >> 20) as usize % ops.len()];
        let user = format!("user{}@contoso.example", (x >> 40) % 17);
        writeln!(
            f,
            r#"{{"CreationTime":"2025-03-01T10:{:02}:{:02}","Id":"{:08x}-0000-4000-8000-{:012x}","Operation":"{op}","RecordType":2,"UserId":"{user}","MailboxOwnerUPN":"{user}","ClientIP":"198.51.100.{}:443","Workload":"Exchange","Item":{{"Subject":"{}Report {i} <b>x</b>","InternetMessageId":"<m{i}@mail.contoso.example>"}}}}"#,
            second / 60,
            second % 60,
            seed,
            i,
            i % 250,
            if i % 3 == 0 { "=SUM(A1)+" } else { "" },
        )
        .expect("write");
    }
    f.flush().expect("flush");
    path.to_path_buf()
}
