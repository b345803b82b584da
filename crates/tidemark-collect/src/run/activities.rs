//! The legacy Outlook Activities API, one mailbox per window, paged with `$skip`/`nextLink`; stops
//! with a plain explanation when Microsoft's 2018 shutdown answers.

use super::*;

impl Runner {
    // ----- Legacy Activities API -----------------------------------------------------------------

    pub(super) async fn activities(&mut self, w: &mut CollectionWriter, win: &LedgerWindow) -> Result<Step> {
        if let Some(msg) = self.activities_disabled.clone() {
            w.update_window(
                win.id,
                &WindowUpdate {
                    status: Some("skipped"),
                    error: Some((Code::ActivitiesDisabled.as_str(), &msg)),
                    ..Default::default()
                },
            )?;
            return Ok(Step::Finished);
        }
        let res = self.api.auth().resolved().outlook_resource.clone();
        let top = self.opts.page_size.clamp(1, 1000);
        let base = format!("{}/api/v2.0/Users('{}')/Activities", self.api.auth().resolved().outlook, win.scope);
        let filter = format!("(TimeStamp ge {}) and (TimeStamp lt {})", iso_s(win.start_ms), iso_s(win.end_ms));
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        let skip = win.cursor["skip"].as_u64().unwrap_or(0);
        let url = match win.cursor["next"].as_str() {
            Some(n) => n.to_string(),
            None => format!("{base}?$filter={}&$orderby=TimeStamp%20asc&$top={top}&$skip={skip}", enc(&filter)),
        };
        let f = self.api.send(&Req::get(&url, &res).header("Prefer", "exchange.behavior=\"ActivityAccess\"")).await?;
        if f.status == 403 && f.error_message().contains("is not allowed") {
            self.api.faults.met("activities-shutdown");
            let msg =
                "Microsoft disabled the Outlook Activities API in July 2018: it now refuses every app (\"AppId … \
                       is not allowed\"). The same mailbox activity is in the Unified Audit Log: collect it with the \
                       Management Activity API (last 7 days) or the Graph audit log query (MailItemsAccessed, Send, \
                       SearchQueryInitiatedExchange)."
                    .to_string();
            self.activities_disabled = Some(msg.clone());
            let c = win.cursor.clone();
            self.commit(w, win, &f, "error", None, &c, Some("skipped"), None, Some("Activities API disabled"))?;
            w.update_window(
                win.id,
                &WindowUpdate { error: Some((Code::ActivitiesDisabled.as_str(), &msg)), ..Default::default() },
            )?;
            return Ok(Step::Finished);
        }
        if f.status != 200 {
            return Err(self.refused(&f, "send the mailbox's activities"));
        }
        let v: Value = match serde_json::from_slice(&f.body) {
            Ok(v) => v,
            Err(_) => {
                self.api.faults.met("connection-reset");
                return Ok(Step::More);
            }
        };
        let n = v["value"].as_array().map_or(0, Vec::len) as u64;
        let (cursor, status) = match v["@odata.nextLink"].as_str() {
            Some(next) => (json!({"next": next}), "running"),
            None if n >= u64::from(top) => (json!({"skip": skip + n}), "running"),
            None => (json!({"finished": true}), "done"),
        };
        self.commit(w, win, &f, "records", Some("activities-api-json"), &cursor, Some(status), None, None)?;
        Ok(if status == "done" { Step::Finished } else { Step::More })
    }
}
