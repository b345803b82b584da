//! Tidemark's integration tests: one binary, real SQLite files in temporary folders, the real CLI and
//! the real app. What belongs where:
//! - `case_file`: creating/opening cases, schema refusal, immutability of evidence, the case log chain.
//! - `import`: the import pipeline end to end (dedup, malformed records, encodings, unknown formats).
//! - `universal`: every import format, containers (zip, gzip, folders), encodings, per-file reports,
//!   cancelling, and re-normalization of stored evidence giving the stored events.
//! - `search`: counts, keyset paging (every event exactly once), query fields, event detail.
//! - `golden`: every real sample normalizes to its checked-in golden output.
//! - `annotate`: tags (by query and by id), bookmarks, notes, saved searches, their case-log entries;
//!   `tag:`/`is:`/`has:` searches with paging; facets against brute force; histogram buckets.
//! - `rollup`: the rollups behind whole-case and time-range facets and histograms (against counting
//!   every event), estimated facets for large results, the field indexes, upgrading older cases.
//! - `accounts`: per-account baselines ("new for this user") against brute force in any import order
//!   and after an upgrade, `new:` searches, sessions stitched by session id or address and client.
//! - `ipinfo`: IP context (country, network, class) per address, its query fields and IP card,
//!   re-answering from another data set, older cases enriched when opened.
//! - `export`: CSV/JSONL sinks, manifests, formula neutralisation.
//! - `verify`: tamper detection on raw records and the case log.
//! - `cli`: the `tidemark` binary as a user runs it (exit codes, output).
//! - `bindings`: the UI's generated TypeScript types match the Rust types.
//! - `keychain`: the CI keychain wrapper (gnome-keyring under dbus-run-session) works.
//! - `sim`: the simulated Microsoft 365 tenant driven with plain HTTP (identity, Management API, Graph,
//!   legacy Activities, faults, answer key, exports).
//! - `sim_entra`: the sim's Entra ID sign-in and directory audit logs over Graph (paging, filters,
//!   permission and licence errors, faults) and their exports imported with exact counts.
//! - `collect_setup`: live collection set-up against the sim: PFX certificates, the preflight checklist,
//!   Graph windows split on query failures and on the per-query record limit.
//! - `collect_entra`: collecting the Entra ID sign-in and audit logs: exact record sets per log, faults,
//!   SIGKILL and resume, an imported export merging, the story by query (hosting/VPN, one session from
//!   two networks), no licence and no permission in the ledger and the checklist.
//! - `app_e2e`: the real desktop app driven through WebDriver under Xvfb.
//! - `app_collect_e2e`: the real app connects to the in-app simulated tenant with PKCE, collects, and
//!   the timeline shows exactly the sim's records.

mod accounts;
mod annotate;
mod app_collect_e2e;
mod app_e2e;
mod bindings;
mod case_file;
mod cli;
mod collect;
mod collect_entra;
mod collect_setup;
mod export;
mod golden;
mod import;
mod ipinfo;
mod keychain;
mod mailbox;
mod rollup;
mod search;
mod sim;
mod sim_entra;
mod universal;
mod verify;
