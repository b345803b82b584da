//! Entra ID directory audits of the simulated tenant (`directoryAudit`), generated per mailbox-hour
//! and rendered as Microsoft Graph returns them.
//!
//! Why: the attacker's persistence (an MFA method, a consent to a mail-reading app) is written to the
//! directory audit log, not to the mailbox records, and an investigator must find it among ordinary
//! directory changes. So people occasionally reset their own password, register security info, and
//! an Exchange service updates their profile, drawn from the seeded stream `(seed, 0xA0D1, mailbox,
//! hour)` in working hours; the storyline's audits ([`super::story`]) are merged into the victim's
//! hours. Values inside `modifiedProperties` are JSON text in strings, as Microsoft writes them.

use serde_json::{json, Value};

use super::{Actor, Tenant};
use crate::prng::{hash_str, mix, Prng};

/// Who started a directory change.
#[derive(Debug, Clone)]
pub enum Initiator {
    /// A user, from an address.
    User {
        /// The user's mailbox.
        mailbox: u32,
        /// Client address.
        ip: String,
    },
    /// An application (a Microsoft service or a tenant app).
    App {
        /// Display name.
        name: &'static str,
        /// Its service principal id.
        sp_id: &'static str,
    },
}

/// One directory audit.
#[derive(Debug, Clone)]
pub struct DirectoryAudit {
    /// `id` (`Directory_…`, `UserManagement_…`, `SSPR_…`).
    pub id: String,
    /// `activityDateTime`, Unix ms.
    pub time_ms: i64,
    /// The mailbox whose hours hold it.
    pub mailbox: u32,
    /// `activityDisplayName`.
    pub activity: &'static str,
    /// `category`.
    pub category: &'static str,
    /// `loggedByService`.
    pub service: &'static str,
    /// `operationType`.
    pub operation_type: &'static str,
    /// `resultReason`.
    pub result_reason: &'static str,
    /// `initiatedBy`.
    pub initiated_by: Initiator,
    /// `targetResources`, as Graph writes them.
    pub targets: Value,
    /// `additionalDetails` as (key, value).
    pub additional: Vec<(&'static str, String)>,
    /// `correlationId`.
    pub correlation_id: String,
    /// Who did it.
    pub actor: Actor,
    /// Storyline stage of an attacker audit.
    pub stage: Option<&'static str>,
}

/// Exchange's own service, which updates user objects as mailboxes change.
const SUBSTRATE: (&str, &str) = ("Microsoft Substrate Management", "7c4f2e9a-1b3d-4a5c-8e6f-0a2b4c6d8e10");

/// An audit id as Microsoft builds them: `{prefix}_{correlation}_{5 characters}_{digits}`.
pub fn audit_id(prefix: &str, correlation: &str, salt: &str) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    let h = hash_str(salt);
    let five: String = (0..5).map(|i| ALNUM[(mix(h ^ i) % ALNUM.len() as u64) as usize] as char).collect();
    format!("{prefix}_{correlation}_{five}_{}", 10_000_000 + mix(h ^ 0xD16) % 89_999_999)
}

/// A `modifiedProperties` entry; values are JSON text, as Microsoft writes them.
pub fn modified(name: &str, old: Option<&str>, new: &str) -> Value {
    json!({"displayName": name, "oldValue": old, "newValue": new})
}

/// A user target.
pub fn user_target(t: &Tenant, mailbox: u32, props: &[Value]) -> Value {
    let mb = &t.mailboxes[mailbox as usize];
    json!({"id": mb.object_id, "displayName": null, "type": "User", "userPrincipalName": mb.upn,
        "groupType": null, "modifiedProperties": props})
}

impl Tenant {
    /// The directory audits of one mailbox-hour, in (time, id) order.
    pub fn mailbox_hour_audits(&self, mailbox: u32, hour: u32) -> Vec<DirectoryAudit> {
        let mut out = Vec::new();
        let start = self.hour_start(hour);
        let dt = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(start).unwrap_or_default();
        let hod = chrono::Timelike::hour(&dt);
        let weekend = matches!(chrono::Datelike::weekday(&dt), chrono::Weekday::Sat | chrono::Weekday::Sun);
        if (8..=17).contains(&hod) && !weekend {
            let mut r = Prng::for_slot(self.spec.seed, &[0xA0D1, u64::from(mailbox), u64::from(hour)]);
            let mb = &self.mailboxes[mailbox as usize];
            let roll = r.unit();
            let time_ms = start + r.range(0, 3_599_999);
            let corr = r.guid();
            let base = |activity, category, service, operation_type, result_reason, who, targets| DirectoryAudit {
                id: String::new(),
                time_ms,
                mailbox,
                activity,
                category,
                service,
                operation_type,
                result_reason,
                initiated_by: who,
                targets,
                additional: Vec::new(),
                correlation_id: corr.clone(),
                actor: Actor::Owner,
                stage: None,
            };
            let user = Initiator::User { mailbox, ip: mb.office_ip.clone() };
            let a = if roll < 0.004 {
                let mut a = base(
                    "Reset password (self-service)",
                    "UserManagement",
                    "Self-service Password Management",
                    "Update",
                    "Successfully completed reset.",
                    user,
                    json!([user_target(self, mailbox, &[])]),
                );
                a.id = audit_id("SSPR", &corr, &corr);
                Some(a)
            } else if roll < 0.006 {
                let mut a = base(
                    "User registered security info",
                    "UserManagement",
                    "Authentication Methods",
                    "Add",
                    "User registered Authenticator App with Notification and Code",
                    user,
                    json!([user_target(self, mailbox, &[])]),
                );
                a.id = audit_id("UserManagement", &corr, &corr);
                Some(a)
            } else if roll < 0.021 {
                let phone = format!("[\"+44 23 8000 {:04}\"]", r.below(10_000));
                let props = vec![
                    modified("TelephoneNumber", Some("[]"), &phone),
                    modified("Included Updated Properties", None, "\"TelephoneNumber\""),
                ];
                let who = Initiator::App { name: SUBSTRATE.0, sp_id: SUBSTRATE.1 };
                let mut a = base(
                    "Update user",
                    "UserManagement",
                    "Core Directory",
                    "Update",
                    "",
                    who,
                    json!([user_target(self, mailbox, &props)]),
                );
                a.id = audit_id("Directory", &corr, &corr);
                Some(a)
            } else {
                None
            };
            out.extend(a);
        }
        out.extend(
            self.audit_story
                .iter()
                .filter(|a| a.mailbox == mailbox && self.hour_of(a.time_ms) == i64::from(hour))
                .cloned(),
        );
        out.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// Every directory audit of one hour in the whole tenant, in (time, id) order.
    pub fn hour_audits(&self, hour: u32) -> Vec<DirectoryAudit> {
        let mut all = Vec::new();
        for m in 0..self.spec.mailboxes {
            all.extend(self.mailbox_hour_audits(m, hour));
        }
        all.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then_with(|| a.id.cmp(&b.id)));
        all
    }

    /// Calls `f` with every directory audit of the tenant in time order, one hour at a time.
    pub fn for_each_audit(&self, mut f: impl FnMut(&DirectoryAudit)) {
        for h in 0..self.hours {
            for a in self.hour_audits(h) {
                f(&a);
            }
        }
    }

    /// The audit as Microsoft Graph returns it (`directoryAudit`, the same on v1.0 and beta).
    pub fn audit_json(&self, a: &DirectoryAudit) -> Value {
        let initiated = match &a.initiated_by {
            Initiator::User { mailbox, ip } => {
                let mb = &self.mailboxes[*mailbox as usize];
                json!({"app": null, "user": {"id": mb.object_id, "displayName": null, "userPrincipalName": mb.upn,
                    "ipAddress": ip, "userType": null, "homeTenantId": null, "homeTenantName": null}})
            }
            Initiator::App { name, sp_id } => json!({"app": {"appId": null, "displayName": name,
                "servicePrincipalId": sp_id, "servicePrincipalName": null}, "user": null}),
        };
        let details: Vec<Value> = a.additional.iter().map(|(k, v)| json!({"key": k, "value": v})).collect();
        json!({
            "id": a.id,
            "category": a.category,
            "correlationId": a.correlation_id,
            "result": "success",
            "resultReason": a.result_reason,
            "activityDisplayName": a.activity,
            "activityDateTime": crate::wire::iso_ticks(a.time_ms),
            "loggedByService": a.service,
            "operationType": a.operation_type,
            "initiatedBy": initiated,
            "targetResources": a.targets,
            "additionalDetails": details,
        })
    }
}
