//! Entra ID sign-in logs (`auditLogs/signIns`) and the directory audit log
//! (`auditLogs/directoryAudits`) through Microsoft Graph, window by window.
//!
//! Which sign-ins, and through which version — decided here and shown in the ledger as the window's
//! scope: when the profile pins Graph `v1.0`, one scope, `interactive`, read from `v1.0` (the only
//! log v1.0 has). Otherwise (the default, beta allowed) three scopes, `interactive`,
//! `non-interactive` and `service-principal`, each read from `beta` with
//! `signInEventTypes/any(t: t eq '…')`: beta is the only version with the non-interactive and
//! service-principal logs, and its records carry `sessionId`, `uniqueTokenIdentifier` and the user
//! agent, which tie a stolen session's replay to the sign-in that created it — so the interactive log
//! is read from beta too. Directory audits come from `v1.0` (complete there).
//!
//! A window's filter is `createdDateTime ge START and createdDateTime lt END` (`activityDateTime` for
//! audits), so windows tile the range without overlap. Each page is committed with its records and the
//! next link as the cursor, in one transaction, and normalized by the same `entra-signin-json` /
//! `entra-audit-json` formats an import of the saved pages uses, so a collected sign-in and an
//! imported export of it are one event. A page with a record whose time is not a string (a malformed
//! record) is kept as evidence and fetched again; a tenant without an Entra ID P1/P2 licence skips the
//! sign-in windows with a sentence saying what to ask for, and audits go on.

use super::*;

/// The sign-in scopes a profile collects (see the module documentation).
pub(super) fn signin_scopes(profile: &Profile) -> Vec<&'static str> {
    if v1_only(profile) {
        vec!["interactive"]
    } else {
        vec!["interactive", "non-interactive", "service-principal"]
    }
}

fn v1_only(profile: &Profile) -> bool {
    profile.options.graph_version.as_deref() == Some("v1.0")
}

/// Graph's name of a sign-in scope.
fn event_type(scope: &str) -> &'static str {
    match scope {
        "non-interactive" => "nonInteractiveUser",
        "service-principal" => "servicePrincipal",
        _ => "interactiveUser",
    }
}

const UNLICENSED: &str = "Microsoft serves Entra ID sign-in logs through Graph only to tenants with a Microsoft \
     Entra ID P1 or P2 licence (also part of Microsoft 365 E3/E5 and Business Premium), and this tenant has \
     none. Ask the tenant's admin whether such a licence can be assigned; until then, download the sign-ins \
     from the Entra admin center (Sign-in logs → Download, the last 7 days) and import the file. The \
     mailbox records' UserLoggedIn entries (Management API or Graph audit query) also show sign-ins.";

impl Runner {
    fn entra_first_url(&self, win: &LedgerWindow) -> String {
        let graph = &self.api.auth().resolved().graph;
        let top = self.opts.page_size.clamp(1, 1000);
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        if win.source == "entra-audits" {
            let f =
                format!("activityDateTime ge {} and activityDateTime lt {}", iso_s(win.start_ms), iso_s(win.end_ms));
            return format!("{graph}/v1.0/auditLogs/directoryAudits?$filter={}&$top={top}", enc(&f));
        }
        let mut f = format!("createdDateTime ge {} and createdDateTime lt {}", iso_s(win.start_ms), iso_s(win.end_ms));
        let version = if v1_only(self.profile()) {
            "v1.0"
        } else {
            f.push_str(&format!(" and (signInEventTypes/any(t: t eq '{}'))", event_type(&win.scope)));
            "beta"
        };
        format!("{graph}/{version}/auditLogs/signIns?$filter={}&$top={top}", enc(&f))
    }

    pub(super) async fn entra(&mut self, w: &mut CollectionWriter, win: &LedgerWindow) -> Result<Step> {
        let signins = win.source == "entra-signins";
        if let (true, Some(msg)) = (signins, self.signins_unlicensed.clone()) {
            let error = Some((Code::Refused.as_str(), msg.as_str()));
            w.update_window(win.id, &WindowUpdate { status: Some("skipped"), error, ..Default::default() })?;
            return Ok(Step::Finished);
        }
        let res = self.api.auth().resolved().graph_resource.clone();
        let url = win.cursor["next"].as_str().map(str::to_string).unwrap_or_else(|| self.entra_first_url(win));
        let (f, v) = self.api.send_json(&Req::get(&url, &res)).await?;
        if f.status == 403 && f.error_code() == "Authentication_RequestFromNonPremiumTenantOrB2CTenant" {
            self.signins_unlicensed = Some(UNLICENSED.to_string());
            let c = win.cursor.clone();
            self.commit(w, win, &f, "error", None, &c, Some("skipped"), None, Some("no Entra ID P1/P2 licence"))?;
            w.update_window(
                win.id,
                &WindowUpdate { error: Some((Code::Refused.as_str(), UNLICENSED)), ..Default::default() },
            )?;
            return Ok(Step::Finished);
        }
        if f.status != 200 {
            let what = if signins { "send the sign-in log" } else { "send the directory audit log" };
            return Err(self.refused(&f, what));
        }
        let time_field = if signins { "createdDateTime" } else { "activityDateTime" };
        let malformed = v["value"].as_array().is_some_and(|a| a.iter().any(|r| !r[time_field].is_string()));
        let refetches = win.cursor["refetches"].as_u64().unwrap_or(0);
        if malformed && refetches < u64::from(self.opts.malformed_refetches) {
            self.api.faults.met("malformed-record");
            let mut c = win.cursor.clone();
            if !c.is_object() {
                c = json!({});
            }
            c["refetches"] = json!(refetches + 1);
            // Kept as evidence, read again: the next answer usually has the record whole.
            let note = Some("a record was malformed; page fetched again");
            self.commit(w, win, &f, "error", None, &c, Some("running"), None, note)?;
            return Ok(Step::More);
        }
        let next = v["@odata.nextLink"].as_str().map(str::to_string);
        let (cursor, status) = match next {
            Some(n) => (json!({"next": n}), "running"),
            None => (json!({"finished": true}), "done"),
        };
        let format = if signins { "entra-signin-json" } else { "entra-audit-json" };
        self.commit_records(w, win, &f, format, &cursor, status)
    }
}
