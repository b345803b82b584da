//! `tidemark-sim`: a simulated Microsoft 365 tenant on loopback.
//!
//! No machine that builds Tidemark reaches Microsoft, and investigators need a safe place to learn the
//! tool, so the sim stands in for every service Tidemark talks to, on the wire: the identity platform
//! ([`identity`]), the Office 365 Management Activity API ([`management`]), Graph audit-log queries
//! ([`graph`]), Entra ID sign-in and audit logs over Graph ([`entra`]) and the legacy Outlook
//! Activities API ([`outlook`]) — paths, headers, status codes, error
//! bodies, paging and timing rules as described in `shared/docs/m365-formats.md`. The tenant's data is a
//! seeded [`scenario`] with a business-email-compromise storyline and an answer key; [`faults`] make the
//! services misbehave on purpose; [`export`] writes the same tenant as the offline files importers read.
//!
//! Invariant: the sim never listens beyond loopback ([`server::SimServer::bind`] refuses other addresses).
//!
//! ```no_run
//! let sim = tidemark_sim::RunningSim::spawn(tidemark_sim::SimConfig::for_scenario("small").unwrap()).unwrap();
//! println!("{}", sim.base_url());
//! ```

#![allow(
    clippy::result_large_err,
    reason = "handlers return a ready Microsoft-shaped Response as their error value; it is built once per failed request"
)]

pub mod admin;
pub mod certificate;
pub mod clock;
pub mod config;
pub mod entra;
pub mod export;
pub mod faults;
pub mod graph;
pub mod identity;
pub mod management;
pub mod odata;
pub mod outlook;
pub mod prng;
pub mod scenario;
pub mod server;
pub mod wire;

pub use config::{Cloud, SimConfig};
pub use faults::{FaultKind, FaultSpec};
pub use scenario::{ScenarioSpec, Tenant};
pub use server::{Credentials, RunningSim, SimError, SimServer};
