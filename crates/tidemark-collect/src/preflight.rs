//! Preflight: before collecting, check per source that a token can be had, that the app has the
//! permission, that auditing is on, whether a subscription must be started and, for Entra ID sign-in
//! logs, that the tenant has the licence Microsoft requires — as a checklist with plain-language fixes,
//! so the investigator knows what to ask the tenant's admin for.

use serde::Serialize;
use ts_rs::TS;

use crate::error::{Code, CollectError};
use crate::http::{Api, Req};
use crate::profile::Source;

/// One line of the checklist.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
pub struct Check {
    /// Source.
    pub source: String,
    /// `token`, `permission`, `auditing`, `subscription`, `available`, `licence`.
    pub check: String,
    /// `ok`, `warn` (collection will handle it) or `fail`.
    pub status: String,
    /// What was found.
    pub message: String,
    /// What to do (empty when ok).
    pub fix: String,
    /// What the server said, for the tenant's admin or a bug report (empty when nothing more).
    pub detail: String,
}

fn line(source: Source, check: &str, status: &str, message: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        source: source.as_str().into(),
        check: check.into(),
        status: status.into(),
        message: message.into(),
        fix: fix.into(),
        detail: String::new(),
    }
}

/// What to do about a failure, by its code, in plain words.
fn fix_for(code: Code) -> &'static str {
    match code {
        Code::KeychainUnavailable => "Unlock this computer's keychain, then test again.",
        Code::ProfileInvalid => {
            "Correct the connection (tenant, client id, certificate file or secret) and test again."
        }
        Code::SignInFailed => {
            "Check the tenant, the client id and the secret or certificate with the tenant's admin; the details \
             say what Microsoft answered."
        }
        Code::SignInCancelled => "Test again and finish the sign-in.",
        Code::SignInTimeout => "Test again and finish the sign-in within five minutes.",
        Code::PermissionMissing => "Ask the tenant's admin to grant the permission and give admin consent.",
        Code::Network => "Check the network connection, proxy or VPN, then test again.",
        Code::Throttled | Code::ServerUnavailable => "Microsoft's service is busy: wait a few minutes and test again.",
        _ => "Test again; if it fails again, show the details to the tenant's admin.",
    }
}

/// A failed check from an error: a plain fix by code, the server's words as the detail.
fn failed(src: Source, check: &str, e: &CollectError) -> Check {
    let mut c = line(src, check, "fail", e.message.clone(), fix_for(e.code));
    c.detail = e.detail.clone().unwrap_or_default();
    c
}

/// A failed check from an HTTP answer: the status and the server's message go to the detail.
fn refused(src: Source, check: &str, message: &str, fix: &str, status: u16, server: &str) -> Check {
    let mut c = line(src, check, "fail", message, fix);
    c.detail = format!("HTTP {status}: {server}");
    c
}

/// Runs the checks for `sources`, in source order.
pub async fn preflight(api: &Api, sources: &[Source], mailboxes: &[String], content_types: &[String]) -> Vec<Check> {
    let mut out = Vec::new();
    let r = api.auth().resolved().clone();
    for &src in sources {
        let resource = match src {
            Source::Management => r.management_resource.clone(),
            Source::Graph => r.graph_resource.clone(),
            Source::Activities => r.outlook_resource.clone(),
            Source::EntraSignins | Source::EntraAudits => r.graph_resource.clone(),
        };
        if src == Source::Graph && !r.graph_audit_queries {
            out.push(line(
                src,
                "available",
                "fail",
                "Graph audit log queries do not exist in this cloud.",
                "Use the Management Activity API.",
            ));
            continue;
        }
        match api.auth().token(&resource).await {
            Ok(_) => out.push(line(src, "token", "ok", "Signed in.", "")),
            Err(e) => {
                out.push(failed(src, "token", &e));
                continue;
            }
        }
        match src {
            Source::Management => {
                let tenant = api.auth().tenant_id();
                let url = format!("{}/api/v1.0/{tenant}/activity/feed/subscriptions/list", r.management);
                match api.send_json(&Req::get(url, &resource)).await {
                    Ok((f, v)) if f.status == 200 => {
                        out.push(line(src, "permission", "ok", "ActivityFeed.Read is granted.", ""));
                        out.push(line(src, "auditing", "ok", "Unified audit logging answers for this tenant.", ""));
                        for ct in content_types {
                            let on = v.as_array().is_some_and(|a| {
                                a.iter().any(|s| s["contentType"] == ct.as_str() && s["status"] == "enabled")
                            });
                            out.push(if on {
                                line(src, "subscription", "ok", format!("{ct} is subscribed."), "")
                            } else {
                                line(src, "subscription", "warn", format!("{ct} has no subscription yet."),
                                    "Tidemark starts it when collecting; the first content can take up to 12 hours to appear.")
                            });
                        }
                    }
                    Ok((f, _)) => {
                        let code = f.error_code();
                        let (check, fix) = match code.as_str() {
                            "AF10001" => ("permission", "Grant the app the Office 365 Management APIs application permission ActivityFeed.Read; an administrator must then grant admin consent."),
                            "AF20011" | "AF20012" => ("auditing", "Turn on auditing in Microsoft Purview → Audit (\"Start recording user and admin activity\")."),
                            "AF20010" | "AF20013" => ("permission", "The tenant in the profile does not match the sign-in: use the tenant's GUID."),
                            _ => ("permission", "Check the app registration and the tenant."),
                        };
                        let message = match check {
                            "auditing" => "Unified audit logging is off in this tenant.",
                            _ if code == "AF10001" => {
                                "The app may not read the activity feed (ActivityFeed.Read is missing)."
                            }
                            _ => "The Management Activity API refused Tidemark.",
                        };
                        out.push(refused(
                            src,
                            check,
                            message,
                            fix,
                            f.status,
                            &format!("{code}: {}", f.error_message()),
                        ));
                    }
                    Err(e) => out.push(failed(src, "permission", &e)),
                }
            }
            Source::Graph => {
                let v = api.auth().profile().options.graph_version.clone().unwrap_or_else(|| "beta".into());
                match api.send(&Req::get(format!("{}/{v}/security/auditLog/queries", r.graph), &resource)).await {
                    Ok(f) if f.status == 200 => out.push(line(src, "permission", "ok", "AuditLogsQuery.Read.All is granted.", "")),
                    Ok(f) => out.push(refused(src, "permission", "The app may not run audit log queries (AuditLogsQuery.Read.All is missing).",
                        "Grant the app Microsoft Graph AuditLogsQuery.Read.All (or AuditLogsQuery-Exchange.Read.All); an administrator must grant admin consent. AuditLog.Read.All is not the same permission.",
                        f.status, &f.error_message())),
                    Err(e) => out.push(failed(src, "permission", &e)),
                }
            }
            Source::EntraSignins | Source::EntraAudits => out.extend(entra_checks(api, src, &resource).await),
            Source::Activities => {
                let Some(mb) = mailboxes.first() else {
                    out.push(line(src, "available", "fail", "No mailbox is named.", "Name the mailboxes to read."));
                    continue;
                };
                let url = format!("{}/api/v2.0/Users('{mb}')/Activities?$top=1", r.outlook);
                match api.send(&Req::get(url, &resource).header("Prefer", "exchange.behavior=\"ActivityAccess\"")).await {
                    Ok(f) if f.status == 200 => out.push(line(src, "available", "ok", "The Activities API answers.", "")),
                    Ok(f) if f.status == 403 && f.error_message().contains("is not allowed") => out.push(line(src, "available", "fail",
                        "Microsoft disabled the Outlook Activities API in July 2018.",
                        "Collect the same activity from the Unified Audit Log: the Management Activity API or the Graph audit log query.")),
                    Ok(f) => out.push(refused(src, "permission", "The Activities API refused to read the mailbox.", "Grant the app Mail.Read on Office 365 Exchange Online.", f.status, &f.error_message())),
                    Err(e) => out.push(failed(src, "available", &e)),
                }
            }
        }
    }
    out
}

const ENTRA_PERMISSION_FIX: &str = "Ask the tenant's admin to grant the app the Microsoft Graph permission \
     AuditLog.Read.All, together with Directory.Read.All as Microsoft's documentation for the Entra activity \
     reports asks (Application permissions for an app that signs in as itself, Delegated for a person), and to \
     give admin consent. A person who signs in also needs a role that may read these logs: Reports Reader, \
     Security Reader or Global Reader.";

/// The Entra logs: permission (`AuditLog.Read.All`) and, for sign-ins, the Entra ID P1/P2 licence.
async fn entra_checks(api: &Api, src: Source, resource: &str) -> Vec<Check> {
    let r = api.auth().resolved();
    let signins = src == Source::EntraSignins;
    let v1 = api.auth().profile().options.graph_version.as_deref() == Some("v1.0");
    let url = match (signins, v1) {
        (true, true) => format!("{}/v1.0/auditLogs/signIns?$top=1", r.graph),
        (true, false) => format!("{}/beta/auditLogs/signIns?$top=1", r.graph),
        (false, _) => format!("{}/v1.0/auditLogs/directoryAudits?$top=1", r.graph),
    };
    let f = match api.send(&Req::get(url, resource)).await {
        Ok(f) => f,
        Err(e) => return vec![failed(src, "permission", &e)],
    };
    let code = f.error_code();
    let server = format!("{code}: {}", f.error_message());
    match (f.status, code.as_str()) {
        (200, _) => {
            let mut out = vec![line(src, "permission", "ok", "AuditLog.Read.All is granted.", "")];
            if signins {
                out.push(line(src, "licence", "ok", "The tenant has Entra ID P1 or P2: its sign-in logs answer.", ""));
            }
            out
        }
        (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant") => vec![
            line(src, "permission", "ok", "AuditLog.Read.All is granted.", ""),
            refused(
                src,
                "licence",
                "The tenant has no Microsoft Entra ID P1 or P2 licence, and Microsoft serves sign-in logs through \
                 Graph only with one.",
                "Ask the tenant's admin whether an Entra ID P1 or P2 licence (also in Microsoft 365 E3/E5 and \
                 Business Premium) can be assigned. Without it, download the sign-ins from the Entra admin center \
                 (last 7 days) and import the file; the directory audit log needs no such licence.",
                f.status,
                &server,
            ),
        ],
        _ => vec![refused(
            src,
            "permission",
            "The app may not read the Entra ID logs (AuditLog.Read.All is missing).",
            ENTRA_PERMISSION_FIX,
            f.status,
            &server,
        )],
    }
}
