//! The Office 365 Management Activity API: start the subscription, list a window's content blobs
//! (following `NextPageUri`, listing again for blobs that appear late), fetch each blob, and keep
//! the listing and fetch state in the window's cursor, so a resumed run skips what it has.

use super::*;

impl Runner {
    // ----- Management Activity API ---------------------------------------------------------------

    fn feed(&self) -> String {
        format!("{}/api/v1.0/{}/activity/feed", self.api.auth().resolved().management, self.api.auth().tenant_id())
    }

    async fn ensure_subscription(&mut self, ct: &str) -> Result<()> {
        if self.subscribed.contains(ct) {
            return Ok(());
        }
        let res = self.api.auth().resolved().management_resource.clone();
        // A token first, so the tenant GUID is known when the profile names a domain.
        self.api.auth().token(&res).await?;
        let (f, list) = self.api.send_json(&Req::get(format!("{}/subscriptions/list", self.feed()), &res)).await?;
        if f.status != 200 {
            return Err(self.refused(&f, "list the subscriptions"));
        }
        let enabled = list
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s["contentType"].as_str() == Some(ct) && s["status"] == "enabled"));
        if !enabled {
            let f = self
                .api
                .send(&Req::post(format!("{}/subscriptions/start?contentType={ct}", self.feed()), &res, None))
                .await?;
            if f.status != 200 && f.error_code() != "AF20024" {
                return Err(self.refused(&f, &format!("start the {ct} subscription")));
            }
        }
        self.subscribed.insert(ct.to_string());
        Ok(())
    }

    pub(super) async fn management(&mut self, w: &mut CollectionWriter, win: &LedgerWindow) -> Result<Step> {
        let ct = win.scope.clone();
        self.ensure_subscription(&ct).await?;
        let res = self.api.auth().resolved().management_resource.clone();
        let tenant = self.api.auth().tenant_id();
        let mut c = if win.cursor.is_object() && win.cursor.get("phase").is_some() {
            win.cursor.clone()
        } else {
            json!({"phase": "list", "pending": [], "done": [], "relists": 0, "lost": []})
        };
        let first_list = format!(
            "{}/subscriptions/content?contentType={ct}&startTime={}&endTime={}&PublisherIdentifier={tenant}",
            self.feed(),
            iso_no_zone(win.start_ms),
            iso_no_zone(win.end_ms)
        );
        let phase = c["phase"].as_str().unwrap_or("list").to_string();
        if phase == "list" {
            let url = c["next"].as_str().map(str::to_string).unwrap_or(first_list);
            let (f, v) = self.api.send_json(&Req::get(&url, &res)).await?;
            if f.status != 200 {
                return Err(self.refused(&f, "list the available content"));
            }
            let done: BTreeSet<String> = str_set(&c["done"]);
            let mut pending: Vec<Value> = c["pending"].as_array().cloned().unwrap_or_default();
            let known: BTreeSet<String> = pending.iter().filter_map(|p| p["id"].as_str().map(str::to_string)).collect();
            let relisting = c["relists"].as_i64().unwrap_or(0) > 0;
            for item in v.as_array().cloned().unwrap_or_default() {
                let id = item["contentId"].as_str().unwrap_or_default().to_string();
                if id.is_empty() || done.contains(&id) || known.contains(&id) {
                    continue;
                }
                if relisting {
                    // Content that was not listed the first time: the listing was not yet complete.
                    self.api.faults.met("eventual-consistency");
                }
                pending.push(json!({"id": id, "uri": item["contentUri"]}));
            }
            c["pending"] = Value::Array(pending);
            match f.header("nextpageuri").or_else(|| f.header("nextpageurl")) {
                Some(next) => c["next"] = json!(next),
                None => {
                    c["next"] = Value::Null;
                    c["phase"] = json!("fetch");
                    if relisting {
                        c["relisted_new"] = json!(c["pending"].as_array().map_or(0, Vec::len));
                    }
                }
            }
            self.commit(w, win, &f, "listing", None, &c, Some("running"), None, None)?;
            return Ok(Step::More);
        }
        // fetch
        let mut pending: Vec<Value> = c["pending"].as_array().cloned().unwrap_or_default();
        if pending.is_empty() {
            let relists = c["relists"].as_i64().unwrap_or(0);
            let found_new = c["relisted_new"].as_i64().unwrap_or(1);
            if relists == 0 || (found_new > 0 && relists < 3) {
                // List the window once more: content can appear late in a listing (eventual consistency).
                c["phase"] = json!("list");
                c["relists"] = json!(relists + 1);
                c["relisted_new"] = Value::Null;
                w.update_window(
                    win.id,
                    &WindowUpdate { cursor: Some(&c), status: Some("running"), ..Default::default() },
                )?;
                return Ok(Step::More);
            }
            let lost = c["lost"].as_array().map_or(0, Vec::len);
            let faults = self.api.faults.drain();
            if lost > 0 {
                let msg = format!("{lost} content blob(s) had expired or vanished before they could be fetched");
                w.update_window(
                    win.id,
                    &WindowUpdate {
                        status: Some("failed"),
                        cursor: Some(&c),
                        error: Some((Code::OutsideRetention.as_str(), &msg)),
                        faults: Some(&faults),
                        ..Default::default()
                    },
                )?;
            } else {
                w.update_window(
                    win.id,
                    &WindowUpdate {
                        status: Some("done"),
                        cursor: Some(&c),
                        faults: Some(&faults),
                        ..Default::default()
                    },
                )?;
            }
            return Ok(Step::Finished);
        }
        let item = pending.remove(0);
        let id = item["id"].as_str().unwrap_or_default().to_string();
        let uri = item["uri"].as_str().unwrap_or_default().to_string();
        let sep = if uri.contains('?') { '&' } else { '?' };
        let url = format!("{uri}{sep}PublisherIdentifier={tenant}");
        let f = self.api.send(&Req::get(&url, &res)).await?;
        c["pending"] = Value::Array(pending);
        let mut done = c["done"].as_array().cloned().unwrap_or_default();
        done.push(json!(id));
        c["done"] = Value::Array(done);
        if f.status == 200 {
            if serde_json::from_slice::<Value>(&f.body).map(|v| v.is_array()).unwrap_or(false) {
                // Deliberately not `send_json`: a cut body must be fetched again, not stored as records.
                let out = self.commit(w, win, &f, "records", Some("mgmt-blob"), &c, Some("running"), None, None)?;
                if out.records > 0 && out.new_events == 0 && out.duplicates == out.records {
                    self.api.faults.met("duplicate-blobs");
                    // Counted on the next commit of this window.
                }
            } else {
                self.api.faults.met("connection-reset");
                let mut back = c["pending"].as_array().cloned().unwrap_or_default();
                back.insert(0, item);
                c["pending"] = Value::Array(back);
                let mut done = str_vec(&c["done"]);
                done.retain(|d| d != &id);
                c["done"] = json!(done);
            }
            return Ok(Step::More);
        }
        if matches!(f.error_code().as_str(), "AF20050" | "AF20051") {
            let mut lost = c["lost"].as_array().cloned().unwrap_or_default();
            lost.push(json!(id));
            c["lost"] = Value::Array(lost);
            self.commit(w, win, &f, "error", None, &c, Some("running"), None, Some("content expired or missing"))?;
            return Ok(Step::More);
        }
        Err(self.refused(&f, "send a content blob"))
    }
}
