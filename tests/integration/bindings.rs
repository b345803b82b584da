//! The UI's TypeScript types are generated from the Rust types; this fails when they drift.
//! Regenerate with `TIDEMARK_BLESS=1 cargo test --workspace bindings`.

use tidemark_tests::repo_root;

#[test]
fn ui_bindings_match_the_rust_types() {
    let path = repo_root().join("ui/src/lib/bindings.ts");
    let generated = tidemark_core::typescript_bindings();
    if std::env::var_os("TIDEMARK_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/lib/bindings.ts is out of date with the Rust types. Run `TIDEMARK_BLESS=1 cargo test --workspace bindings` and commit the result.\n--- generated ---\n{generated}"
    );
}

#[test]
fn ui_collection_bindings_match_the_rust_types() {
    let path = repo_root().join("ui/src/lib/collectBindings.ts");
    let generated = tidemark_collect::typescript_bindings();
    if std::env::var_os("TIDEMARK_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/lib/collectBindings.ts is out of date with the Rust types. Run `TIDEMARK_BLESS=1 cargo test --workspace bindings` and commit the result.\n--- generated ---\n{generated}"
    );
}
