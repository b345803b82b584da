//! Entra ID sign-ins of the simulated tenant, generated from the same mailbox-hours as the mailbox
//! records, and rendered as Microsoft Graph `signIn` objects (v1.0 and beta).
//!
//! Why derived from the mailbox-hours: an investigator lines the sign-in log up with the mailbox
//! records, so a person's sign-ins must come from the addresses, sessions and clients their mail
//! activity shows. Each owner's `UserLoggedIn` event is one interactive sign-in (sometimes after a
//! wrong password, 50126, or an MFA interrupt, 50074); each client the owner used in an hour
//! refreshed its token once before (a non-interactive sign-in). Extras are drawn from their own
//! seeded stream, `(seed, 0x5161, mailbox, hour)`, so the mailbox records stay what they were. A
//! backup service signs in as itself every six hours (a service-principal sign-in, tenant-level).
//! The attacker's sign-ins are a fixed list ([`super::story`]) merged into the hours like the rest.

use serde_json::{json, Value};

use super::{Actor, Client, Kind, Tenant};
use crate::prng::{guid_from, hash_str, mix, Prng};

/// Which of Entra's sign-in logs a sign-in belongs to (beta `signInEventTypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignInKind {
    /// A person typed or approved something.
    Interactive,
    /// A client redeemed a refresh token or session on the person's behalf.
    NonInteractive,
    /// An application signed in as itself.
    ServicePrincipal,
}

impl SignInKind {
    /// Every kind.
    pub const ALL: [SignInKind; 3] =
        [SignInKind::Interactive, SignInKind::NonInteractive, SignInKind::ServicePrincipal];

    /// The Graph enum name (`interactiveUser`, `nonInteractiveUser`, `servicePrincipal`).
    pub fn graph_name(self) -> &'static str {
        match self {
            SignInKind::Interactive => "interactiveUser",
            SignInKind::NonInteractive => "nonInteractiveUser",
            SignInKind::ServicePrincipal => "servicePrincipal",
        }
    }

    /// The kind of a Graph enum name (case-insensitive).
    pub fn from_graph(name: &str) -> Option<SignInKind> {
        SignInKind::ALL.into_iter().find(|k| k.graph_name().eq_ignore_ascii_case(name.trim()))
    }
}

/// An application as sign-ins name it: (app id, display name).
pub type AppRef = (&'static str, &'static str);

/// OfficeHome, the Microsoft 365 portal (`4765445b-…`), which AiTM kits proxy.
pub const OFFICE_HOME: AppRef = ("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome");
/// Outlook on the web since 2024 (MC711020).
pub const ONE_OUTLOOK_WEB: AppRef = ("9199bf20-a13f-4107-85dc-02114787ef48", "One Outlook Web");
/// Windows Outlook.
pub const MICROSOFT_OFFICE: AppRef = ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office");
/// Outlook for iOS and Android.
pub const OUTLOOK_MOBILE: AppRef = ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile");
/// The security-info registration page.
pub const MY_SIGNINS: AppRef = ("19db86c3-b2b9-44cc-b339-36da233a3be2", "My Signins");
/// Exchange Online, the resource mail clients sign in to.
pub const EXCHANGE: AppRef = ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online");
/// Microsoft Graph as a resource.
pub const GRAPH: AppRef = ("00000003-0000-0000-c000-000000000000", "Microsoft Graph");
/// The backup service's application (client) id.
pub const BACKUP_APP_ID: &str = "6b0d9a4e-2f1c-4e7a-9b3d-8c5f1e2a7d40";
/// Its service principal in this tenant.
pub const BACKUP_SP_ID: &str = "a3c9e1f7-5b2d-4f8a-9e6c-1d7b3f5a9c02";
/// The backup service's registered name.
pub const BACKUP_APP_NAME: &str = "Fabrikam Mail Backup";
/// Where the backup service runs (an Azure address: Microsoft's network).
pub const BACKUP_APP_IP: &str = "20.77.12.41";

/// One sign-in.
#[derive(Debug, Clone)]
pub struct EntraSignIn {
    /// The sign-in id (`id`, the portal's "Request ID").
    pub id: String,
    /// `createdDateTime`, Unix ms.
    pub time_ms: i64,
    /// Which log.
    pub kind: SignInKind,
    /// The user's mailbox (none for a service principal).
    pub mailbox: Option<u32>,
    /// The client application.
    pub app: AppRef,
    /// What it signed in to.
    pub resource: AppRef,
    /// Client address.
    pub ip: String,
    /// User agent (empty for service principals).
    pub user_agent: String,
    /// `clientAppUsed`.
    pub client_app_used: &'static str,
    /// `deviceDetail.operatingSystem`.
    pub os: &'static str,
    /// `deviceDetail.browser`.
    pub browser: &'static str,
    /// `status.errorCode` (0: success).
    pub error_code: u32,
    /// Whether MFA was part of this sign-in (`authenticationRequirement`).
    pub mfa: bool,
    /// `sessionId` (beta; empty when the sign-in made none).
    pub session: String,
    /// `uniqueTokenIdentifier` (beta).
    pub token_id: String,
    /// `correlationId`.
    pub correlation_id: String,
    /// `incomingTokenType` (beta): `none`, `refreshToken`, `primaryRefreshToken`.
    pub incoming_token_type: &'static str,
    /// Who made it.
    pub actor: Actor,
    /// Storyline stage of an attacker sign-in.
    pub stage: Option<&'static str>,
}

/// Place names and network numbers of the addresses the scenario uses (what Entra would write).
fn place(ip: &str) -> (&'static str, &'static str, &'static str, u32) {
    use super::{ATTACKER_APP_IP, ATTACKER_IP, ATTACKER_REPLAY_IP};
    match ip {
        ATTACKER_IP => ("London", "England", "GB", 14061),
        ATTACKER_REPLAY_IP => ("Slough", "England", "GB", 136787),
        ATTACKER_APP_IP => ("Milan", "Lombardy", "IT", 9009),
        BACKUP_APP_IP => ("London", "England", "GB", 8075),
        ip if ip.starts_with("31.49.") => ("Southampton", "England", "GB", 2856),
        ip if ip.starts_with("80.5.") => ("Portsmouth", "England", "GB", 5089),
        ip if ip.starts_with("2a02:c7f:") => ("Winchester", "England", "GB", 5607),
        _ => ("", "", "", 0),
    }
}

fn failure_text(code: u32) -> (&'static str, &'static str) {
    match code {
        0 => ("Other.", ""),
        50126 => (
            "Error validating credentials due to invalid username or password.",
            "The user didn't enter the right credentials.",
        ),
        50074 => ("Strong Authentication is required.", "The user is required to perform multifactor authentication."),
        _ => ("Other.", ""),
    }
}

fn guid_of(parent: &str, k: u64) -> String {
    let h = hash_str(parent);
    guid_from(mix(h ^ k.wrapping_mul(0x51)), mix(h.rotate_left(23) ^ k))
}

/// The id of the interactive sign-in behind a mailbox `UserLoggedIn` event: also the UAL record's
/// `IntraSystemId`, as Microsoft writes the sign-in's request id there.
pub fn guid_of_event(event_id: &str) -> String {
    guid_of(event_id, 1)
}

/// The `correlationId` of that sign-in: also the UAL record's `InterSystemsId`.
pub fn correlation_of_event(event_id: &str) -> String {
    guid_of(event_id, 2)
}

/// A `uniqueTokenIdentifier`: 22 URL-safe base64 characters, as Entra writes them.
pub fn token_id_of(parent: &str) -> String {
    use base64::Engine;
    let h = hash_str(parent);
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&mix(h ^ 0x70C).to_le_bytes());
    b[8..].copy_from_slice(&mix(h ^ 0x7E7).to_le_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn client_parts(c: Client) -> (AppRef, &'static str, &'static str, &'static str, &'static str) {
    match c {
        Client::Outlook => (MICROSOFT_OFFICE, "Mobile Apps and Desktop clients", "Windows10", "", "refreshToken"),
        Client::Mobile => (OUTLOOK_MOBILE, "Mobile Apps and Desktop clients", "Ios", "", "refreshToken"),
        _ => (ONE_OUTLOOK_WEB, "Browser", "Windows10", "Edge 122.0.0", "none"),
    }
}

impl Tenant {
    /// The sign-ins of one mailbox-hour: the owner's own (see the module documentation) and the
    /// storyline's for that mailbox, in (time, id) order.
    pub fn mailbox_hour_signins(&self, mailbox: u32, hour: u32) -> Vec<EntraSignIn> {
        let start = self.hour_start(hour);
        let mut r = Prng::for_slot(self.spec.seed, &[0x5161, u64::from(mailbox), u64::from(hour)]);
        let mut out = Vec::new();
        let mut first_use: Vec<(Client, i64, String, String, String)> = Vec::new();
        for e in self.mailbox_hour(mailbox, hour).into_iter().filter(|e| e.actor == Actor::Owner) {
            if matches!(e.kind, Kind::SignIn) {
                let mut si = EntraSignIn {
                    id: guid_of_event(&e.id),
                    time_ms: e.time_ms,
                    kind: SignInKind::Interactive,
                    mailbox: Some(mailbox),
                    app: OFFICE_HOME,
                    resource: EXCHANGE,
                    ip: e.ip.clone(),
                    user_agent: e.user_agent.clone(),
                    client_app_used: "Browser",
                    os: "Windows10",
                    browser: "Edge 122.0.0",
                    error_code: 0,
                    mfa: false,
                    session: e.session.clone(),
                    token_id: token_id_of(&e.id),
                    correlation_id: correlation_of_event(&e.id),
                    incoming_token_type: "none",
                    actor: Actor::Owner,
                    stage: None,
                };
                let earlier = |r: &mut Prng, t: i64| (t - r.range(8_000, 75_000)).max(start);
                if r.chance(0.08) {
                    let mut f = si.clone();
                    f.id = guid_of(&e.id, 3);
                    f.time_ms = earlier(&mut r, e.time_ms);
                    f.error_code = 50126;
                    f.session = String::new();
                    f.token_id = token_id_of(&f.id);
                    out.push(f);
                }
                if r.chance(0.15) {
                    let mut f = si.clone();
                    f.id = guid_of(&e.id, 4);
                    f.time_ms = earlier(&mut r, e.time_ms);
                    f.error_code = 50074;
                    f.mfa = true;
                    f.token_id = token_id_of(&f.id);
                    out.push(f);
                    si.mfa = true;
                }
                out.push(si);
                continue;
            }
            if matches!(e.client, Client::Transport | Client::RogueApp) {
                continue;
            }
            match first_use.iter_mut().find(|u| u.0 == e.client) {
                Some(u) if u.1 <= e.time_ms => {}
                Some(u) => *u = (e.client, e.time_ms, e.ip.clone(), e.user_agent.clone(), e.session.clone()),
                None => first_use.push((e.client, e.time_ms, e.ip.clone(), e.user_agent.clone(), e.session.clone())),
            }
        }
        first_use.sort_by_key(|u| u.1);
        for (client, t, ip, ua, session) in first_use {
            let (app, used, os, browser, incoming) = client_parts(client);
            let key = format!("{}|{mailbox}|{hour}|{}", self.spec.seed, app.0);
            out.push(EntraSignIn {
                id: guid_of(&key, 5),
                time_ms: (t - r.range(2_000, 90_000)).max(start),
                kind: SignInKind::NonInteractive,
                mailbox: Some(mailbox),
                app,
                resource: EXCHANGE,
                ip,
                user_agent: ua,
                client_app_used: used,
                os,
                browser,
                error_code: 0,
                mfa: false,
                session,
                token_id: token_id_of(&key),
                correlation_id: guid_of(&key, 6),
                incoming_token_type: incoming,
                actor: Actor::Owner,
                stage: None,
            });
        }
        out.extend(
            self.signin_story
                .iter()
                .filter(|s| s.mailbox == Some(mailbox) && self.hour_of(s.time_ms) == i64::from(hour))
                .cloned(),
        );
        out.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// The tenant-level sign-ins of an hour: the backup service's, every six hours.
    fn service_signins(&self, hour: u32) -> Vec<EntraSignIn> {
        if hour % 6 != 1 {
            return Vec::new();
        }
        let mut r = Prng::for_slot(self.spec.seed, &[0x5161, 0x5E, u64::from(hour)]);
        let key = format!("{}|sp|{hour}", self.spec.seed);
        vec![EntraSignIn {
            id: guid_of(&key, 7),
            time_ms: self.hour_start(hour) + 5 * 60_000 + r.range(0, 50 * 60_000),
            kind: SignInKind::ServicePrincipal,
            mailbox: None,
            app: (BACKUP_APP_ID, BACKUP_APP_NAME),
            resource: GRAPH,
            ip: BACKUP_APP_IP.to_string(),
            user_agent: String::new(),
            client_app_used: "",
            os: "",
            browser: "",
            error_code: 0,
            mfa: false,
            session: String::new(),
            token_id: token_id_of(&key),
            correlation_id: guid_of(&key, 8),
            incoming_token_type: "none",
            actor: Actor::Owner,
            stage: None,
        }]
    }

    /// Every sign-in of one hour in the whole tenant, in (time, id) order.
    pub fn hour_signins(&self, hour: u32) -> Vec<EntraSignIn> {
        let mut all = self.service_signins(hour);
        for m in 0..self.spec.mailboxes {
            all.extend(self.mailbox_hour_signins(m, hour));
        }
        all.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then_with(|| a.id.cmp(&b.id)));
        all
    }

    /// Calls `f` with every sign-in of the tenant in time order, one hour at a time.
    pub fn for_each_signin(&self, mut f: impl FnMut(&EntraSignIn)) {
        for h in 0..self.hours {
            for s in self.hour_signins(h) {
                f(&s);
            }
        }
    }

    /// The sign-in as Microsoft Graph returns it: `beta` adds the properties only beta has
    /// (`signInEventTypes`, `sessionId`, `uniqueTokenIdentifier`, `userAgent`, `authenticationDetails`, …).
    pub fn signin_json(&self, s: &EntraSignIn, beta: bool) -> Value {
        let (city, state, country, asn) = place(&s.ip);
        let mb = s.mailbox.map(|m| &self.mailboxes[m as usize]);
        let sp = s.kind == SignInKind::ServicePrincipal;
        let (reason, details) = failure_text(s.error_code);
        let details = match (s.error_code, s.mfa) {
            (0, true) if s.kind == SignInKind::Interactive => "MFA completed in Azure AD",
            (0, false) if s.kind == SignInKind::Interactive => "MFA requirement satisfied by claim in the token",
            _ => details,
        };
        let mut v = json!({
            "id": s.id,
            "createdDateTime": crate::wire::iso_ticks(s.time_ms),
            "userDisplayName": mb.map(|m| m.display_name.clone()),
            "userPrincipalName": mb.map(|m| m.upn.clone()),
            "userId": mb.map(|m| m.object_id.clone()),
            "appId": s.app.0,
            "appDisplayName": s.app.1,
            "ipAddress": s.ip,
            "clientAppUsed": s.client_app_used,
            "correlationId": s.correlation_id,
            "conditionalAccessStatus": if sp { "notApplied" } else { "success" },
            "isInteractive": s.kind == SignInKind::Interactive,
            "riskDetail": "none",
            "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": "none",
            "riskState": "none",
            "riskEventTypes": [],
            "riskEventTypes_v2": [],
            "resourceDisplayName": s.resource.1,
            "resourceId": s.resource.0,
            "status": {"errorCode": s.error_code, "failureReason": reason, "additionalDetails": details},
            "deviceDetail": {"deviceId": "", "displayName": "", "operatingSystem": s.os, "browser": s.browser,
                "isCompliant": false, "isManaged": false, "trustType": ""},
            "location": {"city": city, "state": state, "countryOrRegion": country,
                "geoCoordinates": {"altitude": null, "latitude": null, "longitude": null}},
            "appliedConditionalAccessPolicies": if sp { json!([]) } else { json!([{
                "id": "5e2c7a1b-3d4f-4a6b-8c9d-0e1f2a3b4c5d", "displayName": "Require MFA from outside the office",
                "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [],
                "result": if s.mfa { "success" } else { "notApplied" }}]) },
        });
        if !beta {
            return v;
        }
        let extra = json!({
            "originalRequestId": s.id,
            "tokenIssuerName": "",
            "tokenIssuerType": "AzureAD",
            "clientCredentialType": if sp { "clientSecret" } else { "none" },
            "processingTimeInMilliseconds": 80 + hash_str(&s.id) % 400,
            "resourceTenantId": self.tenant_id,
            "homeTenantId": self.tenant_id,
            "homeTenantName": "",
            "authenticationMethodsUsed": [],
            "authenticationRequirement": if s.mfa { "multiFactorAuthentication" } else { "singleFactorAuthentication" },
            "signInIdentifier": mb.map(|m| m.upn.clone()).unwrap_or_default(),
            "signInEventTypes": [s.kind.graph_name()],
            "servicePrincipalId": if sp { BACKUP_SP_ID } else { "" },
            "servicePrincipalName": if sp { Value::from(s.app.1) } else { Value::Null },
            "userType": if sp { "" } else { "member" },
            "flaggedForReview": false,
            "isTenantRestricted": false,
            "autonomousSystemNumber": asn,
            "crossTenantAccessType": "none",
            "authenticationProtocol": "none",
            "incomingTokenType": s.incoming_token_type,
            "originalTransferMethod": "none",
            "sessionId": s.session,
            "uniqueTokenIdentifier": s.token_id,
            "userAgent": s.user_agent,
            "authenticationDetails": self.auth_details(s),
            "authenticationRequirementPolicies": [],
            "sessionLifetimePolicies": [],
        });
        if let (Value::Object(v), Value::Object(x)) = (&mut v, extra) {
            v.extend(x);
        }
        v
    }

    fn auth_details(&self, s: &EntraSignIn) -> Value {
        if s.kind != SignInKind::Interactive {
            return json!([]);
        }
        let at = crate::wire::iso_seconds_z(s.time_ms);
        let password = match s.error_code {
            50126 => json!({"authenticationStepDateTime": at, "authenticationMethod": "Password",
                "authenticationMethodDetail": "Password in the cloud", "succeeded": false,
                "authenticationStepResultDetail": "Invalid username or password or Invalid on-premise username or password.",
                "authenticationStepRequirement": "Primary authentication"}),
            _ => json!({"authenticationStepDateTime": at, "authenticationMethod": "Password",
                "authenticationMethodDetail": "Password in the cloud", "succeeded": true,
                "authenticationStepResultDetail": "Correct password", "authenticationStepRequirement": "Primary authentication"}),
        };
        let mut steps = vec![password];
        if s.mfa && s.error_code == 0 {
            steps.push(json!({"authenticationStepDateTime": at, "authenticationMethod": "Mobile app notification",
                "authenticationMethodDetail": null, "succeeded": true, "authenticationStepResultDetail": "MFA successfully completed",
                "authenticationStepRequirement": "Multifactor authentication"}));
        }
        json!(steps)
    }
}
