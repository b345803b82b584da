//! `tidemark-collect`: live collection from a Microsoft 365 tenant into a Tidemark case.
//!
//! Investigators need the audit records straight from the tenant, provably complete, and the same
//! events an import of the saved pages would give. So this crate does the network and nothing else:
//! [`profile`] (who to talk to, no secrets), [`secrets`] (the OS keychain), [`auth`] (the four
//! sign-in methods, refreshed silently), [`http`] (retries, `Retry-After`, seedable jitter, a fault
//! log), [`preflight`] (a checklist with fixes) and [`run`] (plan windows, walk the Management
//! Activity API, Graph audit-log queries and the legacy Activities API page by page). Every page is
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

pub use error::{Code, CollectError, Result};
pub use profile::{Profile, ProfileStore, SignIn, Source};
