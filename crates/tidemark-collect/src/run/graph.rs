//! Graph audit-log queries (Purview Audit search): create a query per window, poll it, page its
//! records; a query that keeps failing or exceeds the per-query record limit splits its window.

use super::*;

impl Runner {
    // ----- Graph audit log query -----------------------------------------------------------------

    fn graph_base(&self) -> String {
        let v = self.profile().options.graph_version.clone().unwrap_or_else(|| "beta".to_string());
        format!("{}/{v}/security/auditLog/queries", self.api.auth().resolved().graph)
    }

    fn query_body(&self, win: &LedgerWindow) -> Value {
        let o = &self.profile().options;
        let mut b = json!({
            "@odata.type": "#microsoft.graph.security.auditLogQuery",
            "displayName": format!("Tidemark {} – {}", iso_s(win.start_ms), iso_s(win.end_ms)),
            "filterStartDateTime": iso_s(win.start_ms),
            "filterEndDateTime": iso_s(win.end_ms),
        });
        if !o.record_types.is_empty() {
            b["recordTypeFilters"] = json!(o.record_types);
        }
        if !o.operations.is_empty() {
            b["operationFilters"] = json!(o.operations);
        }
        if !o.users.is_empty() {
            b["userPrincipalNameFilters"] = json!(o.users);
        }
        if !o.ip_addresses.is_empty() {
            b["ipAddressFilters"] = json!(o.ip_addresses);
        }
        if let Some(k) = &o.keyword {
            b["keywordFilter"] = json!(k);
        }
        b
    }

    /// Halves a window whose query kept ending `failed` or matched more records than one query may
    /// return (`over_limit`); a window of an hour or less fails instead, saying which it was.
    async fn split_or_fail(&mut self, w: &mut CollectionWriter, win: &LedgerWindow, over_limit: bool) -> Result<Step> {
        if win.end_ms - win.start_ms > HOUR {
            let mid = win.start_ms + (win.end_ms - win.start_ms) / 2;
            let faults = self.api.faults.drain();
            w.update_window(win.id, &WindowUpdate { faults: Some(&faults), ..Default::default() })?;
            w.split_window(win.id, &[(win.start_ms, mid), (mid, win.end_ms)])?;
            return Ok(Step::Finished);
        }
        Err(CollectError::new(
            Code::QueryFailed,
            if over_limit {
                "This window holds more records than one Graph audit query may return, even at one hour. Narrow the \
                 filters (users, operations, record types) or use the Management API for the last 7 days."
            } else {
                "The Graph audit query for this window kept failing (Microsoft ended it as failed each time). Try \
                 again later or use the Management API for the last 7 days."
            },
        ))
    }

    pub(super) async fn graph(&mut self, w: &mut CollectionWriter, win: &LedgerWindow) -> Result<Step> {
        if !self.api.auth().resolved().graph_audit_queries {
            w.update_window(
                win.id,
                &WindowUpdate {
                    status: Some("skipped"),
                    error: Some((
                        Code::Refused.as_str(),
                        "Graph audit log queries do not exist in this cloud; use the Management Activity API.",
                    )),
                    ..Default::default()
                },
            )?;
            return Ok(Step::Finished);
        }
        let res = self.api.auth().resolved().graph_resource.clone();
        let mut c = if win.cursor.get("phase").is_some() {
            win.cursor.clone()
        } else {
            json!({"phase": "create", "attempts": 0, "refetches": 0})
        };
        let phase = c["phase"].as_str().unwrap_or("create").to_string();
        match phase.as_str() {
            "create" => {
                let attempts = c["attempts"].as_i64().unwrap_or(0);
                if attempts >= i64::from(self.opts.query_attempts) {
                    return self.split_or_fail(w, win, false).await;
                }
                let (f, v) =
                    self.api.send_json(&Req::post(self.graph_base(), &res, Some(self.query_body(win)))).await?;
                if f.status != 201 && f.status != 200 {
                    return Err(self.refused(&f, "run an audit log query"));
                }
                c["query_id"] = v["id"].clone();
                c["phase"] = json!("poll");
                c["attempts"] = json!(attempts + 1);
                c["polls"] = json!(0);
                self.commit(w, win, &f, "query", None, &c, Some("running"), None, Some("query created"))?;
                Ok(Step::More)
            }
            "poll" => {
                let id = c["query_id"].as_str().unwrap_or_default().to_string();
                let polls = c["polls"].as_u64().unwrap_or(0);
                let (f, v) = self.api.send_json(&Req::get(format!("{}/{id}", self.graph_base()), &res)).await?;
                if f.status == 404 {
                    c["phase"] = json!("create");
                    w.update_window(win.id, &WindowUpdate { cursor: Some(&c), ..Default::default() })?;
                    return Ok(Step::More);
                }
                if f.status != 200 {
                    return Err(self.refused(&f, "report on the audit log query"));
                }
                match v["status"].as_str().unwrap_or_default() {
                    "succeeded" => {
                        if v["isRecordCountLimitExceeded"].as_bool() == Some(true) {
                            return self.split_or_fail(w, win, true).await;
                        }
                        let top = self.opts.page_size.clamp(1, 1000);
                        c["phase"] = json!("records");
                        c["next"] = json!(format!("{}/{id}/records?$top={top}", self.graph_base()));
                        let count = v["approximateReturnedRecordCount"].as_i64();
                        self.commit(w, win, &f, "query", None, &c, Some("running"), count, Some("query succeeded"))?;
                        Ok(Step::More)
                    }
                    "failed" | "cancelled" => {
                        self.api.faults.met("query-failed");
                        c["phase"] = json!("create");
                        self.commit(
                            w,
                            win,
                            &f,
                            "query",
                            None,
                            &c,
                            Some("running"),
                            None,
                            Some("query failed; submitted again"),
                        )?;
                        Ok(Step::More)
                    }
                    _ => {
                        let wait = Duration::from_millis((200u64 << polls.min(7)).min(30_000));
                        tokio::time::sleep(wait).await;
                        c["polls"] = json!(polls + 1);
                        w.update_window(win.id, &WindowUpdate { cursor: Some(&c), ..Default::default() })?;
                        Ok(Step::More)
                    }
                }
            }
            _ => {
                let url = c["next"].as_str().unwrap_or_default().to_string();
                let (f, v) = self.api.send_json(&Req::get(&url, &res)).await?;
                if f.status == 404 {
                    c = json!({"phase": "create", "attempts": c["attempts"], "refetches": 0});
                    w.update_window(win.id, &WindowUpdate { cursor: Some(&c), ..Default::default() })?;
                    return Ok(Step::More);
                }
                if f.status != 200 {
                    return Err(self.refused(&f, "send the query's records"));
                }
                let malformed = v["value"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|r| !r["auditData"].is_object() && r.get("auditData").is_some()));
                let refetches = c["refetches"].as_u64().unwrap_or(0);
                if malformed && refetches < u64::from(self.opts.malformed_refetches) {
                    self.api.faults.met("malformed-record");
                    c["refetches"] = json!(refetches + 1);
                    // Kept as evidence, read again: the next answer usually has the record whole.
                    self.commit(
                        w,
                        win,
                        &f,
                        "error",
                        None,
                        &c,
                        Some("running"),
                        None,
                        Some("a record was malformed; page fetched again"),
                    )?;
                    return Ok(Step::More);
                }
                c["refetches"] = json!(0);
                let next = v["@odata.nextLink"].as_str().map(str::to_string);
                let status = if next.is_some() { "running" } else { "done" };
                c["next"] = next.map(Value::String).unwrap_or(Value::Null);
                if next_is_none(&c) {
                    c["phase"] = json!("finished");
                }
                self.commit_records(w, win, &f, "graph-auditlog-json", &c, status)
            }
        }
    }
}
