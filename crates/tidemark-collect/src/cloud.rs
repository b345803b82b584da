//! Microsoft's clouds and their hosts (formats spec §4.5, §2.1), and the per-endpoint base URLs a
//! profile may override (the simulated tenant serves every service under one loopback listener).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Which Microsoft cloud the tenant lives in. Tokens are not interchangeable across clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    /// Commercial ("Global").
    #[default]
    Global,
    /// US Government Community Cloud (commercial login and Graph; its own Management API host).
    Gcc,
    /// GCC High (US Gov L4).
    GccHigh,
    /// DoD (US Gov L5).
    Dod,
    /// China, operated by 21Vianet.
    China,
}

/// The hosts of one cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hosts {
    /// Identity platform.
    pub login: &'static str,
    /// Microsoft Graph.
    pub graph: &'static str,
    /// Office 365 Management Activity API.
    pub management: &'static str,
    /// Exchange / Outlook REST (legacy Activities).
    pub outlook: &'static str,
    /// Whether Graph audit-log queries exist in this cloud (Global and GCC only).
    pub graph_audit_queries: bool,
}

impl Cloud {
    /// Every cloud, in display order.
    pub const ALL: [Cloud; 5] = [Cloud::Global, Cloud::Gcc, Cloud::GccHigh, Cloud::Dod, Cloud::China];

    /// The host table (§4.5).
    pub fn hosts(self) -> Hosts {
        match self {
            Cloud::Global => Hosts {
                login: "login.microsoftonline.com",
                graph: "graph.microsoft.com",
                management: "manage.office.com",
                outlook: "outlook.office.com",
                graph_audit_queries: true,
            },
            Cloud::Gcc => Hosts {
                login: "login.microsoftonline.com",
                graph: "graph.microsoft.com",
                management: "manage-gcc.office.com",
                outlook: "outlook.office.com",
                graph_audit_queries: true,
            },
            Cloud::GccHigh => Hosts {
                login: "login.microsoftonline.us",
                graph: "graph.microsoft.us",
                management: "manage.office365.us",
                outlook: "outlook.office365.us",
                graph_audit_queries: false,
            },
            Cloud::Dod => Hosts {
                login: "login.microsoftonline.us",
                graph: "dod-graph.microsoft.us",
                management: "manage.protection.apps.mil",
                outlook: "outlook-dod.office365.us",
                graph_audit_queries: false,
            },
            Cloud::China => Hosts {
                login: "login.partner.microsoftonline.cn",
                graph: "microsoftgraph.chinacloudapi.cn",
                management: "manage.office.cn",
                outlook: "partner.outlook.cn",
                graph_audit_queries: false,
            },
        }
    }

    /// A name for people.
    pub fn display_name(self) -> &'static str {
        match self {
            Cloud::Global => "Global (commercial)",
            Cloud::Gcc => "GCC",
            Cloud::GccHigh => "GCC High",
            Cloud::Dod => "DoD",
            Cloud::China => "China (21Vianet)",
        }
    }
}

/// Base URLs of each service. By default `https://{host}` from the cloud's table; a profile may
/// override each one (the simulated tenant: `http://127.0.0.1:PORT/login`, `…/manage`, …). Token
/// audiences always come from the cloud, never from these URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, TS)]
#[serde(default)]
pub struct Endpoints {
    /// Identity platform base (`{login}/{tenant}/oauth2/v2.0/token`).
    pub login: Option<String>,
    /// Management API base (`{management}/api/v1.0/{tenant}/activity/feed`).
    pub management: Option<String>,
    /// Graph base (`{graph}/v1.0/…`).
    pub graph: Option<String>,
    /// Outlook REST base (`{outlook}/api/v2.0/Users('…')/Activities`).
    pub outlook: Option<String>,
}

/// Resolved base URLs and audiences for one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Identity platform base URL.
    pub login: String,
    /// Management API base URL.
    pub management: String,
    /// Graph base URL.
    pub graph: String,
    /// Outlook REST base URL.
    pub outlook: String,
    /// Management API token audience.
    pub management_resource: String,
    /// Graph token audience.
    pub graph_resource: String,
    /// Outlook REST token audience.
    pub outlook_resource: String,
    /// Whether Graph audit queries exist in the cloud.
    pub graph_audit_queries: bool,
}

impl Resolved {
    /// Resolves a cloud with its overrides.
    pub fn new(cloud: Cloud, e: &Endpoints) -> Self {
        let h = cloud.hosts();
        let https = |host: &str| format!("https://{host}");
        let pick =
            |o: &Option<String>, host: &str| o.clone().unwrap_or_else(|| https(host)).trim_end_matches('/').to_string();
        Resolved {
            login: pick(&e.login, h.login),
            management: pick(&e.management, h.management),
            graph: pick(&e.graph, h.graph),
            outlook: pick(&e.outlook, h.outlook),
            management_resource: https(h.management),
            graph_resource: https(h.graph),
            outlook_resource: https(h.outlook),
            graph_audit_queries: h.graph_audit_queries,
        }
    }

    /// Every host the profile may talk to (network only to the configured tenant).
    pub fn hosts(&self) -> Vec<String> {
        [&self.login, &self.management, &self.graph, &self.outlook].iter().filter_map(|u| url_host(u)).collect()
    }
}

/// `host[:port]` of a URL.
pub fn url_host(u: &str) -> Option<String> {
    let rest = u.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next()?.to_ascii_lowercase())
}
