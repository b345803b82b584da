//! The business-email-compromise storyline: a short fixed list of events merged into the victim's
//! mailbox-hours, and the same attack as Entra ID sees it (sign-ins and directory audits).
//!
//! The story, in the order an investigator reconstructs it: a password spray from a rented server
//! against the first mailboxes; a phishing mail; the victim signs in through the attacker's
//! adversary-in-the-middle proxy (OfficeHome, an `axios` user agent, a DigitalOcean address: two wrong
//! passwords, an MFA prompt, success), which captures the session; the attacker replays that session
//! from a VPN exit (non-interactive sign-ins with the same `sessionId`), registers an authenticator
//! app as the victim, consents a mail-reading app (Mail.Read, Mail.ReadWrite, offline_access) whose
//! backend on another hosting network then reads the finance mail, creates an inbox rule, searches,
//! sends the fraudulent invoice, forwards the mailbox and deletes the evidence. Every record of it is
//! fixed by the seed, so the answer key names each one.

use serde_json::json;

use super::audit::{audit_id, modified, user_target, DirectoryAudit, Initiator};
use super::signin::{AppRef, EntraSignIn, SignInKind, EXCHANGE, GRAPH, MY_SIGNINS, OFFICE_HOME, ONE_OUTLOOK_WEB};
use super::*;
use crate::prng::{guid_from, hash_str, mix};

impl Tenant {
    pub(super) fn build_storyline(&self) -> Vec<SimEvent> {
        let Some(v) = self.victim else { return Vec::new() };
        let mb = &self.mailboxes[v as usize];
        let day = self.spec.days.saturating_sub(2);
        let base = self.hour_start(day * 24);
        let mut r = Prng::for_slot(self.spec.seed, &[0xBEC, u64::from(v)]);
        let at = |h: i64, m: i64, s: i64, ms: i64| base + h * HOUR_MS + m * 60_000 + s * 1000 + ms;
        let mut k: u32 = 0x8000;
        // An item id names the hour whose events reference the message, so `Tenant::message` finds it.
        let mut mail = |r: &mut Prng, time: i64, hour: u32, subject: &str, from: &str, folder: &str| -> Mail {
            k += 1;
            Mail {
                item_id: encode_item_id(v, hour, k, r.next_u64()),
                internet_message_id: format!("<{:016x}@{}>", r.next_u64(), domain_of(from)),
                subject: subject.to_string(),
                from: from.to_string(),
                to: mb.upn.clone(),
                folder: folder.to_string(),
                size: 20_000 + r.below(200_000) as u32,
                has_attachment: true,
                received_ms: time,
            }
        };
        let phish_time = at(8, 47, 12, 310);
        let phish = mail(&mut r, phish_time, day * 24 + 8, PHISH_SUBJECT, "accounts@docs-sign.example", "\\Inbox");
        let finance: Vec<Mail> = (0..6)
            .map(|i| {
                let t = base - i64::from(i + 1) * 26 * HOUR_MS;
                let subj = ["Invoice 4471 – Q1 services", "Wire instructions for March", "Payment run approval"]
                    [i as usize % 3];
                let mut m = mail(&mut r, t, day * 24 + 9, subj, "billing@contoso-supplies.example", "\\Inbox");
                m.received_ms = t;
                m
            })
            .collect();
        let fraud_time = at(10, 25, 3, 12);
        let mut fraud = mail(&mut r, fraud_time, day * 24 + 10, FRAUD_SUBJECT, &mb.upn, "\\Sent Items");
        fraud.to = "billing@contoso-supplies.example".into();
        let owner_session = Prng::for_slot(self.spec.seed, &[u64::from(v), u64::from(day), 0x5E55]).guid();
        let session = self.attacker_session.clone();
        let ev = |r: &mut Prng, t: i64, actor: Actor, stage: &'static str, client: Client, kind: Kind| {
            let (ip, ua, sess) = match (actor, client) {
                (Attacker, Client::RogueApp) => (ATTACKER_APP_IP, ROGUE_APP_UA, &session),
                // The proxy signs in; the stolen session is then used from the attacker's own network.
                (Attacker, _) if matches!(kind, Kind::SignIn) => (ATTACKER_IP, AITM_UA, &session),
                (Attacker, _) => (ATTACKER_REPLAY_IP, ATTACKER_UA, &session),
                _ => (mb.office_ip.as_str(), OWA_UA, &owner_session),
            };
            SimEvent {
                time_ms: t,
                id: r.guid(),
                mailbox: v,
                actor,
                stage: Some(stage),
                ip: ip.to_string(),
                port: r.range(49152, 65535) as u16,
                session: sess.clone(),
                client,
                user_agent: ua.to_string(),
                kind,
            }
        };
        use Actor::{Attacker, External, Owner};
        let mut s = vec![
            ev(&mut r, phish_time, External, "phishing-delivery", Client::Transport, Kind::Delivered(phish.clone())),
            ev(&mut r, at(9, 2, 40, 77), Owner, "phish-opened", Client::Owa, Kind::Read(vec![phish.clone()])),
            ev(&mut r, at(9, 5, 31, 902), Attacker, "aitm-sign-in", Client::Owa, Kind::SignIn),
            ev(
                &mut r,
                at(9, 11, 5, 433),
                Attacker,
                "inbox-rule",
                Client::Owa,
                Kind::NewInboxRule {
                    name: INBOX_RULE_NAME.to_string(),
                    words: "invoice;wire;payment".into(),
                    move_to: "RSS Subscriptions",
                },
            ),
        ];
        for (i, chunk) in finance.chunks(2).enumerate() {
            let t = at(9, 20 + 7 * i as i64, 14, 120 * i as i64);
            s.push(ev(&mut r, t, Attacker, "app-bind-finance-mail", Client::RogueApp, Kind::Read(chunk.to_vec())));
        }
        for (i, q) in ["invoice", "wire", "payment"].iter().enumerate() {
            let t = at(10, 2 + 2 * i as i64, 3, 250);
            s.push(ev(&mut r, t, Attacker, "search", Client::Owa, Kind::Search((*q).to_string())));
        }
        s.push(ev(
            &mut r,
            at(10, 10, 41, 5),
            Attacker,
            "attachment-open",
            Client::Owa,
            Kind::AttachmentOpened(finance[0].clone()),
        ));
        s.push(ev(
            &mut r,
            at(10, 10, 44, 610),
            Attacker,
            "attachment-open",
            Client::Owa,
            Kind::Read(vec![finance[0].clone()]),
        ));
        s.push(ev(&mut r, fraud_time, Attacker, "fraudulent-send", Client::Owa, Kind::Send(fraud.clone())));
        s.push(ev(
            &mut r,
            at(10, 31, 19, 0),
            Attacker,
            "forwarding",
            Client::Owa,
            Kind::SetForwarding(format!("smtp:{FORWARDING_ADDRESS}")),
        ));
        let mut sent_copy = fraud;
        sent_copy.folder = "\\Sent Items".into();
        s.push(ev(
            &mut r,
            at(10, 40, 2, 0),
            Attacker,
            "evidence-deletion",
            Client::Owa,
            Kind::Delete(vec![sent_copy.clone()], "SoftDelete"),
        ));
        let mut deleted = sent_copy;
        deleted.folder = "\\Deleted Items".into();
        s.push(ev(
            &mut r,
            at(10, 41, 30, 0),
            Attacker,
            "evidence-deletion",
            Client::Owa,
            Kind::Delete(vec![deleted], "HardDelete"),
        ));
        s.push(ev(
            &mut r,
            at(10, 42, 8, 0),
            Attacker,
            "evidence-deletion",
            Client::Owa,
            Kind::Delete(vec![phish], "HardDelete"),
        ));
        s
    }

    /// The attack as Entra ID logs it: sign-ins and directory audits (see the module documentation).
    /// Built after [`Tenant::build_storyline`]: the proxy's successful sign-in is the mailbox records'
    /// `UserLoggedIn`, at the same instant and from the same address.
    pub(super) fn build_entra_story(&self) -> (Vec<EntraSignIn>, Vec<DirectoryAudit>) {
        let Some(v) = self.victim else { return (Vec::new(), Vec::new()) };
        let day = self.spec.days.saturating_sub(2);
        let base = self.hour_start(day * 24);
        let at = |h: i64, m: i64, s: i64, ms: i64| base + h * HOUR_MS + m * 60_000 + s * 1000 + ms;
        let Some(login) = self.storyline.iter().find(|e| e.stage == Some("aitm-sign-in")) else {
            return (Vec::new(), Vec::new());
        };
        let seed = self.spec.seed;
        let gid = |k: u64| guid_from(mix(seed ^ 0xE27A ^ k.wrapping_mul(0x9E37)), mix(hash_str(&login.id) ^ k));
        let session = self.attacker_session.clone();
        let sign_in = |k: u64, t: i64, kind: SignInKind, mailbox: u32, stage: &'static str| EntraSignIn {
            id: gid(k),
            time_ms: t,
            kind,
            mailbox: Some(mailbox),
            app: OFFICE_HOME,
            resource: EXCHANGE,
            ip: ATTACKER_IP.to_string(),
            user_agent: AITM_UA.to_string(),
            client_app_used: "Browser",
            os: "",
            browser: "",
            error_code: 0,
            mfa: false,
            session: session.clone(),
            token_id: signin::token_id_of(&gid(k)),
            correlation_id: gid(k + 10_000),
            incoming_token_type: "none",
            actor: Actor::Attacker,
            stage: Some(stage),
        };
        let mut si = Vec::new();
        // The spray: one wrong password per account, three seconds apart, no session.
        for m in 0..self.spec.mailboxes.min(40) {
            let t = at(8, 31, 3 * i64::from(m), (mix(seed ^ u64::from(m)) % 900) as i64);
            let mut x = sign_in(100 + u64::from(m), t, SignInKind::Interactive, m, "password-spray");
            x.error_code = 50126;
            x.session = String::new();
            si.push(x);
        }
        // Through the proxy: two wrong passwords, the MFA prompt, then success (the UAL's UserLoggedIn).
        for (k, t, code) in
            [(1, at(9, 4, 41, 207), 50126), (2, at(9, 4, 58, 611), 50126), (3, at(9, 5, 14, 330), 50074)]
        {
            let mut x = sign_in(k, t, SignInKind::Interactive, v, "aitm-sign-in");
            x.error_code = code;
            x.mfa = code == 50074;
            if code == 50126 {
                x.session = String::new();
            }
            si.push(x);
        }
        let mut ok = sign_in(4, login.time_ms, SignInKind::Interactive, v, "aitm-sign-in");
        ok.id = signin::guid_of_event(&login.id);
        ok.correlation_id = signin::correlation_of_event(&login.id);
        ok.mfa = true;
        ok.token_id = self.attacker_token_id();
        si.push(ok);
        // The stolen session, replayed from the attacker's VPN exit in their own browser.
        let replay = |k: u64, t: i64, kind: SignInKind, app: AppRef, resource: AppRef, stage: &'static str| {
            let mut x = sign_in(k, t, kind, v, stage);
            x.ip = ATTACKER_REPLAY_IP.to_string();
            x.user_agent = ATTACKER_UA.to_string();
            x.os = "Linux";
            x.browser = "Chrome 121.0.0";
            x.app = app;
            x.resource = resource;
            x
        };
        for (k, t) in
            [(5, at(9, 6, 48, 120)), (6, at(9, 40, 12, 514)), (7, at(10, 1, 30, 702)), (8, at(10, 24, 55, 96))]
        {
            si.push(replay(k, t, SignInKind::NonInteractive, ONE_OUTLOOK_WEB, EXCHANGE, "session-replay"));
        }
        si.push(replay(9, at(9, 7, 55, 403), SignInKind::Interactive, MY_SIGNINS, GRAPH, "mfa-registration"));
        si.push(replay(
            10,
            at(9, 15, 40, 218),
            SignInKind::Interactive,
            (ROGUE_APP_ID, ROGUE_APP_NAME),
            GRAPH,
            "oauth-consent",
        ));
        // The consented app's backend redeems its refresh token before reading mail.
        let mut app = sign_in(11, at(9, 19, 58, 331), SignInKind::NonInteractive, v, "app-mail-access");
        app.ip = ATTACKER_APP_IP.to_string();
        app.user_agent = ROGUE_APP_UA.to_string();
        app.app = (ROGUE_APP_ID, ROGUE_APP_NAME);
        app.resource = GRAPH;
        app.client_app_used = "Mobile Apps and Desktop clients";
        app.incoming_token_type = "refreshToken";
        si.push(app);
        (si, self.audit_story_for(v, &at(9, 8, 31, 512), &at(9, 16, 2, 140)))
    }

    fn audit_story_for(&self, v: u32, mfa_at: &i64, consent_at: &i64) -> Vec<DirectoryAudit> {
        let mb = &self.mailboxes[v as usize];
        let seed = self.spec.seed;
        let corr = |k: u64| guid_from(mix(seed ^ 0xA0D17 ^ k), mix(seed.rotate_left(9) ^ k));
        let user = Initiator::User { mailbox: v, ip: ATTACKER_REPLAY_IP.to_string() };
        #[allow(clippy::too_many_arguments)]
        let audit = |k: u64,
                     t: i64,
                     activity: &'static str,
                     category: &'static str,
                     service: &'static str,
                     op: &'static str,
                     reason: &'static str,
                     who: Initiator,
                     targets: serde_json::Value,
                     stage: &'static str| {
            let prefix = if service == "Authentication Methods" { "UserManagement" } else { "Directory" };
            let c = corr(if k >= 3 { 3 } else { k });
            DirectoryAudit {
                id: audit_id(prefix, &c, &format!("{seed}|{k}")),
                time_ms: t,
                mailbox: v,
                activity,
                category,
                service,
                operation_type: op,
                result_reason: reason,
                initiated_by: who,
                targets,
                additional: Vec::new(),
                correlation_id: c,
                actor: Actor::Attacker,
                stage: Some(stage),
            }
        };
        let phone_app = "[{\"DeviceName\":\"Pixel 7\",\"DeviceToken\":\"APA91bH-sim\",\"DeviceTag\":\"SoftwareTokenActivated\",\"PhoneAppVersion\":\"6.2404.2444\",\"OathTokenTimeDrift\":0,\"NotificationType\":\"GCM\",\"AuthenticationType\":3}]";
        let scopes = " Mail.Read Mail.ReadWrite offline_access User.Read";
        let rogue = |props| {
            json!({"id": ROGUE_SP_ID, "displayName": ROGUE_APP_NAME, "type": "ServicePrincipal",
            "userPrincipalName": null, "groupType": null, "modifiedProperties": props})
        };
        let permissions = format!(
            "\"[] => [[Id: {grant}, ClientId: {ROGUE_SP_ID}, PrincipalId: {oid}, ResourceId: {GRAPH_SP_ID}, ConsentType: Principal, Scope: {scopes}, CreatedDateTime: , LastModifiedDateTime ]]; \"",
            grant = "Y2xpZW50LXJvZ3VlLWdyYW50LXNpbXVsYXRlZA",
            oid = mb.object_id
        );
        let mut out = vec![
            audit(
                1,
                *mfa_at,
                "User registered security info",
                "UserManagement",
                "Authentication Methods",
                "Add",
                "User registered Authenticator App with Notification and Code",
                user.clone(),
                json!([user_target(self, v, &[])]),
                "mfa-registration",
            ),
            audit(
                2,
                mfa_at + 1_873,
                "Update user",
                "UserManagement",
                "Core Directory",
                "Update",
                "",
                Initiator::App { name: "Azure MFA StrongAuthenticationService", sp_id: MFA_SERVICE_SP_ID },
                json!([user_target(
                    self,
                    v,
                    &[
                        modified("StrongAuthenticationPhoneAppDetail", Some("[]"), phone_app),
                        modified("Included Updated Properties", None, "\"StrongAuthenticationPhoneAppDetail\""),
                    ]
                )]),
                "mfa-registration",
            ),
            audit(
                3,
                *consent_at,
                "Add service principal",
                "ApplicationManagement",
                "Core Directory",
                "Add",
                "",
                user.clone(),
                json!([rogue(vec![
                    modified("AccountEnabled", Some("[]"), "[true]"),
                    modified("AppPrincipalId", Some("[]"), &format!("[\"{ROGUE_APP_ID}\"]")),
                    modified("DisplayName", Some("[]"), &format!("[\"{ROGUE_APP_NAME}\"]")),
                    modified("ServicePrincipalName", Some("[]"), &format!("[\"{ROGUE_APP_ID}\"]")),
                ])]),
                "oauth-consent",
            ),
            audit(
                4,
                consent_at + 391,
                "Add delegated permission grant",
                "ApplicationManagement",
                "Core Directory",
                "Assign",
                "",
                user.clone(),
                json!([
                    {"id": GRAPH_SP_ID, "displayName": null, "type": "ServicePrincipal", "userPrincipalName": null,
                     "groupType": null, "modifiedProperties": [
                        modified("DelegatedPermissionGrant.Scope", Some("\"\""), &format!("\"{scopes}\"")),
                        modified("DelegatedPermissionGrant.ClientId", None, &format!("\"{ROGUE_SP_ID}\"")),
                        modified("DelegatedPermissionGrant.ConsentType", None, "\"Principal\""),
                        modified("ServicePrincipal.ObjectID", None, &format!("\"{GRAPH_SP_ID}\"")),
                     ]},
                    rogue(vec![]),
                ]),
                "oauth-consent",
            ),
            audit(
                5,
                consent_at + 802,
                "Consent to application",
                "ApplicationManagement",
                "Core Directory",
                "Assign",
                "",
                user,
                json!([rogue(vec![
                    modified("ConsentContext.IsAdminConsent", None, "\"False\""),
                    modified("ConsentContext.IsAppOnly", None, "\"False\""),
                    modified("ConsentContext.OnBehalfOfAll", None, "\"False\""),
                    modified("ConsentContext.Tags", None, "\"WindowsAzureActiveDirectoryIntegratedApp\""),
                    modified("ConsentAction.Permissions", None, &permissions),
                    modified("ConsentAction.Reason", None, "\"\""),
                    modified(
                        "TargetId.ServicePrincipalNames",
                        None,
                        &format!("\"{ROGUE_APP_ID};https://mailarchiverpro.example\"")
                    ),
                ])]),
                "oauth-consent",
            ),
        ];
        for a in out.iter_mut().filter(|a| matches!(a.initiated_by, Initiator::User { .. })) {
            a.additional = vec![("User-Agent", ATTACKER_UA.to_string())];
            if a.category == "ApplicationManagement" {
                a.additional.push(("AppId", ROGUE_APP_ID.to_string()));
            }
        }
        out
    }

    /// Which records the attacker produced.
    pub fn answer_key(&self) -> Option<AnswerKey> {
        let victim = self.victim()?;
        let mut records = Vec::new();
        for e in self.storyline.iter().filter(|e| e.actor == Actor::Attacker) {
            let stage = e.stage.unwrap_or_default().to_string();
            if let Some(r) = self.ual_record(e) {
                records.push(AnswerEntry {
                    source: "ual".into(),
                    id: e.id.clone(),
                    time: r["CreationTime"].as_str().unwrap_or_default().to_string(),
                    operation: r["Operation"].as_str().unwrap_or_default().to_string(),
                    stage: stage.clone(),
                });
            }
            for a in self.activities(e) {
                records.push(AnswerEntry {
                    source: "activity".into(),
                    id: a.id.clone(),
                    time: crate::wire::iso_ms(a.timestamp_ms),
                    operation: a.id_type.to_string(),
                    stage: stage.clone(),
                });
            }
        }
        for s in &self.signin_story {
            let kind = if s.kind == SignInKind::NonInteractive { "Non-interactive sign-in" } else { "Sign-in" };
            records.push(AnswerEntry {
                source: "signin".into(),
                id: s.id.clone(),
                time: crate::wire::iso_ticks(s.time_ms),
                operation: match s.error_code {
                    0 => kind.to_string(),
                    code => format!("{kind} ({code})"),
                },
                stage: s.stage.unwrap_or_default().to_string(),
            });
        }
        for a in &self.audit_story {
            records.push(AnswerEntry {
                source: "directory-audit".into(),
                id: a.id.clone(),
                time: crate::wire::iso_ticks(a.time_ms),
                operation: a.activity.to_string(),
                stage: a.stage.unwrap_or_default().to_string(),
            });
        }
        records.sort();
        Some(AnswerKey {
            seed: self.spec.seed,
            victim: victim.upn.clone(),
            attacker_ips: vec![ATTACKER_IP.to_string(), ATTACKER_REPLAY_IP.to_string(), ATTACKER_APP_IP.to_string()],
            attacker_session: self.attacker_session.clone(),
            attacker_token: self.attacker_token_id(),
            rogue_app_id: ROGUE_APP_ID.to_string(),
            forwarding_address: FORWARDING_ADDRESS.to_string(),
            inbox_rule: INBOX_RULE_NAME.to_string(),
            records,
        })
    }

    /// `uniqueTokenIdentifier` of the token the attacker's proxied sign-in was issued.
    pub fn attacker_token_id(&self) -> String {
        signin::token_id_of(&format!("{}|aitm-token", self.attacker_session))
    }
}
