//! What the app's connect wizard and collection screen show, as plain data.
//!
//! The app is a thin adapter: every sentence an investigator reads about clouds, sign-in methods and
//! sources is written here, next to the code that implements them, so the CLI, the app and the docs
//! cannot drift. The types cross into the UI through [`crate::typescript_bindings`].

use serde::Serialize;
use tidemark_core::collect::{CollectionRunInfo, LedgerWindow};
use ts_rs::TS;

use crate::cloud::Cloud;
use crate::profile::{Profile, SignIn, Source};
use crate::run::{coverage, Coverage};
use crate::secrets::{SecretKind, SecretStore};

/// A cloud for the wizard's first step.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Choice {
    /// Id as stored in the profile.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// One sentence on who is in it.
    pub description: String,
}

/// A sign-in method with one plain sentence on when to use it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MethodChoice {
    /// `browser`, `device-code`, `client-secret` or `certificate`.
    #[ts(type = "\"browser\" | \"device-code\" | \"client-secret\" | \"certificate\"")]
    pub id: String,
    /// Name for people.
    pub name: String,
    /// When to use it, in one sentence.
    pub when: String,
    /// The investigator (not the app) signs in.
    pub delegated: bool,
    /// Label of the secret field, or `None` when the method needs none.
    pub secret_label: Option<String>,
}

/// A source for the wizard and the collection screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceChoice {
    /// Id.
    pub id: Source,
    /// Name for people.
    pub name: String,
    /// What it holds and what it needs.
    pub description: String,
    /// How far back it reaches, where that is fixed.
    pub retention_days: Option<u32>,
}

/// Everything the connect wizard offers.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConnectOptions {
    /// Clouds.
    pub clouds: Vec<Choice>,
    /// Sign-in methods.
    pub methods: Vec<MethodChoice>,
    /// Sources.
    pub sources: Vec<SourceChoice>,
}

fn cloud_description(c: Cloud) -> &'static str {
    match c {
        Cloud::Global => "Most tenants: commercial and education Microsoft 365 (login.microsoftonline.com).",
        Cloud::Gcc => "US Government Community Cloud: commercial sign-in, its own Management API host.",
        Cloud::GccHigh => "US Government GCC High (login.microsoftonline.us).",
        Cloud::Dod => "US Department of Defense (login.microsoftonline.us, DoD hosts).",
        Cloud::China => "Microsoft 365 operated by 21Vianet in China (login.chinacloudapi.cn).",
    }
}

fn cloud_id(c: Cloud) -> String {
    serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The wizard's choices.
pub fn connect_options() -> ConnectOptions {
    ConnectOptions {
        clouds: Cloud::ALL
            .iter()
            .map(|&c| Choice {
                id: cloud_id(c),
                name: c.display_name().to_string(),
                description: cloud_description(c).to_string(),
            })
            .collect(),
        methods: vec![
            MethodChoice {
                id: "browser".into(),
                name: "Sign in with your browser".into(),
                when: "Use this when you have an account in the tenant with audit-log roles: your browser opens \
                       Microsoft's sign-in page, including multi-factor authentication."
                    .into(),
                delegated: true,
                secret_label: None,
            },
            MethodChoice {
                id: "device-code".into(),
                name: "Sign in with a code on another device".into(),
                when: "Use this when no browser can open on this computer: you type a short code on a phone or \
                       another computer. Many tenants block it with Conditional Access."
                    .into(),
                delegated: true,
                secret_label: None,
            },
            MethodChoice {
                id: "client-secret".into(),
                name: "App with a client secret".into(),
                when: "Use this when the tenant's admin created an app registration for you and gave you a \
                       secret: Tidemark signs in as that app and keeps the secret in this computer's keychain."
                    .into(),
                delegated: false,
                secret_label: Some("Client secret".into()),
            },
            MethodChoice {
                id: "certificate".into(),
                name: "App with a certificate".into(),
                when: "Use this when the admin registered a certificate on the app: the most robust choice for \
                       long collections. Pick the PEM or PFX file; a PFX password goes to the keychain."
                    .into(),
                delegated: false,
                secret_label: Some("Certificate password (PFX only)".into()),
            },
        ],
        sources: vec![
            SourceChoice {
                id: Source::Management,
                name: Source::Management.display_name().into(),
                description: "The Unified Audit Log as a feed: every workload, about 7 days back. Needs the \
                              ActivityFeed.Read permission (Office 365 Management APIs)."
                    .into(),
                retention_days: Some(7),
            },
            SourceChoice {
                id: Source::Graph,
                name: Source::Graph.display_name().into(),
                description: "Audit search through Microsoft Graph: up to 180 days (longer with Audit Premium), \
                              filtered by user, operation or IP. Needs AuditLogsQuery.Read.All."
                    .into(),
                retention_days: None,
            },
            SourceChoice {
                id: Source::Activities,
                name: Source::Activities.display_name().into(),
                description: "The 2018 Outlook Activities API, one mailbox at a time. Microsoft disabled it in \
                              July 2018; it answers only in the simulated tenant."
                    .into(),
                retention_days: None,
            },
            SourceChoice {
                id: Source::EntraSignins,
                name: Source::EntraSignins.display_name().into(),
                description: "Who signed in, from where, with which app — interactive, non-interactive (token \
                              refreshes, replayed sessions) and app sign-ins, 30 days back. Needs the Microsoft \
                              Graph permission AuditLog.Read.All (Microsoft also lists Directory.Read.All) and a \
                              Microsoft Entra ID P1 or P2 licence in the tenant."
                    .into(),
                retention_days: Some(30),
            },
            SourceChoice {
                id: Source::EntraAudits,
                name: Source::EntraAudits.display_name().into(),
                description: "Directory changes: security info registered, app consents and permission grants, \
                              roles, passwords, 30 days back. Needs AuditLog.Read.All (Microsoft also lists \
                              Directory.Read.All); no premium licence."
                    .into(),
                retention_days: Some(30),
            },
        ],
    }
}

/// A saved profile and which of its secrets the keychain holds (never the secrets).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ProfileView {
    /// The profile.
    pub profile: Profile,
    /// A client secret or certificate password is in the keychain.
    pub has_secret: bool,
    /// A refresh token is in the keychain: a delegated sign-in happened and is reused silently.
    pub signed_in: bool,
    /// The profile points at the simulated tenant.
    pub simulated: bool,
}

impl ProfileView {
    /// The view of `profile`; a keychain that cannot be read shows as holding nothing.
    pub fn of(profile: Profile, secrets: &dyn SecretStore) -> Self {
        let has = |k| matches!(secrets.get(&profile.id, k), Ok(Some(_)));
        let has_secret = match profile.sign_in {
            SignIn::ClientSecret => has(SecretKind::ClientSecret),
            SignIn::Certificate { .. } => has(SecretKind::CertificatePassword) || has(SecretKind::CertificateKey),
            _ => false,
        };
        let signed_in = profile.sign_in.is_delegated() && has(SecretKind::RefreshToken);
        let simulated = profile.origin == "simulated-tenant";
        ProfileView { profile, has_secret, signed_in, simulated }
    }
}

/// The simulated tenant the app started, and the profile that reaches it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SimulatedTenant {
    /// The saved profile.
    pub profile: ProfileView,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Account to sign in with on the sim's sign-in page.
    pub investigator: String,
    /// Its password (a published test password, not a secret).
    pub password: String,
    /// The scenario's compromised mailbox.
    pub victim: Option<String>,
    /// The sim's own "now" (Unix ms).
    #[ts(type = "number")]
    pub now_ms: i64,
    /// Scenario start (Unix ms).
    #[ts(type = "number")]
    pub from_ms: i64,
    /// Scenario end (Unix ms).
    #[ts(type = "number")]
    pub to_ms: i64,
}

/// The time range the collection screen proposes.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CollectDefaults {
    /// The tenant's "now" (the sim runs its own clock).
    #[ts(type = "number")]
    pub now_ms: i64,
    /// Proposed start.
    #[ts(type = "number")]
    pub from_ms: i64,
    /// Proposed end.
    #[ts(type = "number")]
    pub to_ms: i64,
}

/// Sent (as the app's `sign-in` event) while a sign-in waits for the investigator.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SignInPrompt {
    /// `browser`, `device-code` or `signed-in`.
    #[ts(type = "\"browser\" | \"device-code\" | \"signed-in\"")]
    pub kind: String,
    /// Browser: the page that was opened. Device code: where to type the code.
    pub url: Option<String>,
    /// Device code: the code.
    pub user_code: Option<String>,
    /// Device code: Microsoft's own sentence.
    pub message: Option<String>,
}

/// One collection run for the runs list.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RunSummary {
    /// Run id.
    #[ts(type = "number")]
    pub id: i64,
    /// `running`, `completed`, `incomplete` or `failed`.
    pub status: String,
    /// The profile's name.
    pub profile_name: String,
    /// Requested start (ISO 8601 UTC).
    pub from: String,
    /// Requested end (ISO 8601 UTC).
    pub to: String,
    /// Sources.
    pub sources: Vec<String>,
    /// Records received.
    #[ts(type = "number")]
    pub records: i64,
    /// New events stored.
    #[ts(type = "number")]
    pub new_events: i64,
}

impl RunSummary {
    /// The summary of `run` from its ledger.
    pub fn of(run: &CollectionRunInfo, ledger: &[LedgerWindow]) -> Self {
        let leaves = ledger.iter().filter(|w| w.status != "split");
        let (records, new_events) = leaves.fold((0, 0), |(r, n), w| (r + w.records, n + w.new_events));
        RunSummary {
            id: run.id,
            status: run.status.clone(),
            profile_name: run.profile["display_name"]
                .as_str()
                .or_else(|| run.profile["id"].as_str())
                .unwrap_or("")
                .to_string(),
            from: tidemark_core::time::iso_ms(run.from_ms),
            to: tidemark_core::time::iso_ms(run.to_ms),
            sources: run.sources.clone(),
            records,
            new_events,
        }
    }
}

/// The collection screen's state of the case.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CollectionOverview {
    /// Every run, oldest first.
    pub runs: Vec<RunSummary>,
    /// Coverage of the newest run.
    pub coverage: Vec<Coverage>,
    /// The run the coverage belongs to.
    #[ts(type = "number | null")]
    pub coverage_run_id: Option<i64>,
    /// The newest run is unfinished and can be resumed.
    pub resumable: bool,
    /// A collection runs in this app right now.
    pub running: bool,
}

impl CollectionOverview {
    /// The overview of a case's runs; `ledger_of` reads one run's ledger.
    pub fn of(
        runs: &[CollectionRunInfo],
        mut ledger_of: impl FnMut(i64) -> tidemark_core::Result<Vec<LedgerWindow>>,
        running: bool,
    ) -> tidemark_core::Result<Self> {
        let mut summaries = Vec::with_capacity(runs.len());
        let mut newest = Vec::new();
        for (i, run) in runs.iter().enumerate() {
            let ledger = ledger_of(run.id)?;
            summaries.push(RunSummary::of(run, &ledger));
            if i + 1 == runs.len() {
                newest = ledger;
            }
        }
        let last = runs.last();
        Ok(CollectionOverview {
            runs: summaries,
            coverage: coverage(&newest),
            coverage_run_id: last.map(|r| r.id),
            resumable: !running && last.is_some_and(|r| r.status == "running" || r.status == "incomplete"),
            running,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_says_when_to_use_it_and_only_app_methods_ask_for_a_secret() {
        let o = connect_options();
        assert_eq!(o.methods.len(), 4);
        for m in &o.methods {
            assert!(m.when.starts_with("Use this when"), "{}", m.when);
            assert_eq!(m.secret_label.is_some(), !m.delegated, "{}", m.id);
        }
        assert_eq!(o.clouds.len(), Cloud::ALL.len());
        assert!(o.clouds.iter().any(|c| c.id == "gcc-high"));
        assert_eq!(o.sources.iter().map(|s| s.id).collect::<Vec<_>>(), Source::ALL.to_vec());
    }
}
