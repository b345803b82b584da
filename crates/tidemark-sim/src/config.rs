//! How a sim run is configured: scenario, listening address, cloud, faults, paging and timing.
//!
//! The same structure comes from command-line flags or from a JSON config file (`--config`), so a test
//! run can be reproduced exactly from one file.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::faults::FaultSpec;
use crate::scenario::ScenarioSpec;

/// Which Microsoft cloud the sim pretends to be: it decides the token audiences the APIs accept and
/// the login host a client assertion may name. Host names themselves are the client's configuration
/// (per-endpoint base URLs), so one sim serves any cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    /// Commercial (and GCC for Graph/login).
    #[default]
    Commercial,
    /// GCC (Management API on `manage-gcc.office.com`).
    Gcc,
    /// GCC High.
    GccHigh,
    /// DoD.
    Dod,
    /// China (21Vianet).
    China,
}

impl Cloud {
    /// Management Activity API resource (token audience).
    pub fn management_resource(self) -> &'static str {
        match self {
            Cloud::Commercial => "https://manage.office.com",
            Cloud::Gcc => "https://manage-gcc.office.com",
            Cloud::GccHigh => "https://manage.office365.us",
            Cloud::Dod => "https://manage.protection.apps.mil",
            Cloud::China => "https://manage.office.cn",
        }
    }

    /// Microsoft Graph resource.
    pub fn graph_resource(self) -> &'static str {
        match self {
            Cloud::Commercial | Cloud::Gcc => "https://graph.microsoft.com",
            Cloud::GccHigh => "https://graph.microsoft.us",
            Cloud::Dod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// Outlook / Exchange REST resources (the first is the canonical one).
    pub fn outlook_resources(self) -> &'static [&'static str] {
        match self {
            Cloud::Commercial | Cloud::Gcc => &["https://outlook.office365.com", "https://outlook.office.com"],
            Cloud::GccHigh => &["https://outlook.office365.us"],
            Cloud::Dod => &["https://outlook-dod.office365.us"],
            Cloud::China => &["https://partner.outlook.cn"],
        }
    }

    /// The real login host, accepted in client-assertion audiences next to the sim's own URL.
    pub fn login_host(self) -> &'static str {
        match self {
            Cloud::Commercial | Cloud::Gcc => "login.microsoftonline.com",
            Cloud::GccHigh | Cloud::Dod => "login.microsoftonline.us",
            Cloud::China => "login.partner.microsoftonline.cn",
        }
    }
}

/// A sim run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// The tenant to generate.
    pub scenario: ScenarioSpec,
    /// Listening address: must be loopback (`127.0.0.1`, `::1`); anything else is refused.
    pub bind: IpAddr,
    /// Port (0 = any free port).
    pub port: u16,
    /// Which cloud's audiences to accept.
    pub cloud: Cloud,
    /// Faults switched on.
    pub faults: Vec<FaultSpec>,
    /// Simulated "now" at start (Unix ms); default: one hour after the scenario ends.
    pub start_ms: Option<i64>,
    /// Management content listing: entries per page before `NextPageUri`.
    pub content_page_size: usize,
    /// Graph records: default page size (clients may ask for fewer with `$top`).
    pub graph_page_size: usize,
    /// Graph queries: how many status polls answer `running` before the query finishes.
    pub graph_polls_running: u32,
    /// Graph queries: the most records one query may return (`recordCountLimit`). A query whose filters
    /// match more succeeds with `isRecordCountLimitExceeded: true` and serves only the first that many,
    /// so a client must split its window. `None` (the default): no limit (Microsoft's is ≥ 1,000,000).
    pub graph_query_record_limit: Option<u64>,
    /// Whether the tenant has an Entra ID P1 or P2 licence. Without one, Graph refuses sign-in logs
    /// (403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`); directory audits still answer.
    pub entra_premium: bool,
    /// Access-token lifetime in seconds.
    pub token_lifetime_s: i64,
    /// Device-code flow: polling interval in seconds.
    pub device_code_interval_s: i64,
    /// Where `serve` writes the test certificate and key (default: a `tidemark-sim` folder in the temp dir).
    pub state_dir: Option<PathBuf>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            scenario: ScenarioSpec::preset("demo").expect("demo preset"),
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            cloud: Cloud::Commercial,
            faults: Vec::new(),
            start_ms: None,
            content_page_size: 200,
            graph_page_size: 150,
            graph_polls_running: 1,
            graph_query_record_limit: None,
            entra_premium: true,
            token_lifetime_s: 3599,
            device_code_interval_s: 5,
            state_dir: None,
        }
    }
}

impl SimConfig {
    /// A config for a preset scenario with defaults elsewhere.
    pub fn for_scenario(name: &str) -> Option<SimConfig> {
        Some(SimConfig { scenario: ScenarioSpec::preset(name)?, ..SimConfig::default() })
    }
}
