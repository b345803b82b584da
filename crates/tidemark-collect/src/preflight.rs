//! Preflight: before collecting, check per source that a token can be had, that the app has the
//! permission, that auditing is on and whether a subscription must be started — as a checklist with
//! plain-language fixes, so the investigator knows what to ask the tenant's admin for.

use serde::Serialize;
use ts_rs::TS;

use crate::error::Code;
use crate::http::{Api, Req};
use crate::profile::Source;

/// One line of the checklist.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
pub struct Check {
    /// Source.
    pub source: String,
    /// `token`, `permission`, `auditing`, `subscription`, `available`.
    pub check: String,
    /// `ok`, `warn` (collection will handle it) or `fail`.
    pub status: String,
    /// What was found.
    pub message: String,
    /// What to do (empty when ok).
    pub fix: String,
}

fn line(source: Source, check: &str, status: &str, message: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        source: source.as_str().into(),
        check: check.into(),
        status: status.into(),
        message: message.into(),
        fix: fix.into(),
    }
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
                out.push(line(src, "token", "fail", e.message.clone(), e.detail.clone().unwrap_or_default()));
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
                        out.push(line(src, check, "fail", format!("{code}: {}", f.error_message()), fix));
                    }
                    Err(e) => out.push(line(src, "permission", "fail", e.message, e.detail.unwrap_or_default())),
                }
            }
            Source::Graph => {
                let v = api.auth().profile().options.graph_version.clone().unwrap_or_else(|| "beta".into());
                match api.send(&Req::get(format!("{}/{v}/security/auditLog/queries", r.graph), &resource)).await {
                    Ok(f) if f.status == 200 => out.push(line(src, "permission", "ok", "AuditLogsQuery.Read.All is granted.", "")),
                    Ok(f) => out.push(line(src, "permission", "fail", format!("HTTP {}: {}", f.status, f.error_message()),
                        "Grant the app Microsoft Graph AuditLogsQuery.Read.All (or AuditLogsQuery-Exchange.Read.All); an administrator must grant admin consent. AuditLog.Read.All is not the same permission.")),
                    Err(e) => out.push(line(src, "permission", "fail", e.message, e.detail.unwrap_or_default())),
                }
            }
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
                    Ok(f) => out.push(line(src, "permission", "fail", format!("HTTP {}: {}", f.status, f.error_message()), "Grant the app Mail.Read on Office 365 Exchange Online.")),
                    Err(e) => out.push(line(src, "available", "fail", e.message, e.detail.unwrap_or_default())),
                }
            }
        }
    }
    let _ = Code::PermissionMissing;
    out
}
