//! `tidemark-collect`: live collection from a Microsoft 365 tenant into a Tidemark case.
//!
//! Investigators need the audit records straight from the tenant, provably complete, and the same
//! events an import of the saved pages would give. So this crate does the network and nothing else:
//! [`profile`] (who to talk to, no secrets), [`secrets`] (the OS keychain), [`auth`] (the four
//! sign-in methods, refreshed silently), [`http`] (retries, `Retry-After`, seedable jitter, a fault
//! log), [`preflight`] (a checklist with fixes) and [`run`] (plan windows, walk the Management
//! Activity API, Graph audit-log queries, the Entra ID sign-in and audit logs and the legacy
//! Activities API page by page). Every page is
//! handed to `tidemark_core::collect`, which stores it verbatim and normalizes its records with the
//! same `tidemark-formats` parsers imports use, in one transaction with the ledger's cursor — so a
//! killed run resumes exactly where it stopped.
//!
//! Network only to the configured tenant's hosts; no telemetry.
#![deny(missing_docs)]

pub mod auth;
pub mod cloud;
pub mod error;
pub mod http;
pub mod preflight;
pub mod profile;
pub mod run;
pub mod secrets;
pub mod view;

pub use error::{Code, CollectError, Result};
pub use profile::{Profile, ProfileStore, SignIn, Source};

/// TypeScript declarations of every type the app's collection commands send or take
/// (`ui/src/lib/collectBindings.ts`; a test checks the committed file is current).
pub fn typescript_bindings() -> String {
    use ts_rs::TS;
    let cfg = ts_rs::Config::default();
    let decls = [
        cloud::Cloud::decl(&cfg),
        cloud::Endpoints::decl(&cfg),
        preflight::Check::decl(&cfg),
        Profile::decl(&cfg),
        SignIn::decl(&cfg),
        Source::decl(&cfg),
        profile::SourceOptions::decl(&cfg),
        run::Coverage::decl(&cfg),
        run::Progress::decl(&cfg),
        run::RunReport::decl(&cfg),
        view::Choice::decl(&cfg),
        view::CollectDefaults::decl(&cfg),
        view::CollectionOverview::decl(&cfg),
        view::ConnectOptions::decl(&cfg),
        view::MethodChoice::decl(&cfg),
        view::ProfileView::decl(&cfg),
        view::RunSummary::decl(&cfg),
        view::SignInPrompt::decl(&cfg),
        view::SimulatedTenant::decl(&cfg),
        view::SourceChoice::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from Rust by ts-rs (tidemark-collect `typescript_bindings`); `cargo test` checks that this file is current.\n\
         // Do not edit by hand: change the Rust types and run `TIDEMARK_BLESS=1 cargo test --workspace bindings`.\n\n",
    );
    for d in decls {
        out.push_str("export ");
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}
