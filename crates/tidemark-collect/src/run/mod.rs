//! A collection run: plan windows per source, walk each window page by page, commit every page with
//! its records, events and the window's new cursor in one transaction ([`tidemark_core::collect`]),
//! and report coverage. `resume` reads the ledger and continues each unfinished window from its
//! cursor, so a run killed at any moment ends with exactly the records a run that never stopped gets.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use tidemark_core::collect::{CollectionWriter, LedgerWindow, PageIn, PlannedWindow, WindowUpdate};
use tidemark_core::{CaseWriter, Clock};
use ts_rs::TS;

use crate::error::{Code, CollectError, Result};
use crate::http::{Api, Fetched, Req};
use crate::profile::{Profile, Source};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// The Management API keeps content 7 days; a window may not start earlier.
const MANAGEMENT_RETENTION: i64 = 7 * DAY;
/// Default Management API content types.
pub const CONTENT_TYPES: [&str; 4] =
    ["Audit.Exchange", "Audit.AzureActiveDirectory", "Audit.SharePoint", "Audit.General"];

/// Options of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Start (Unix ms, inclusive).
    pub from_ms: i64,
    /// End (Unix ms, exclusive).
    pub to_ms: i64,
    /// Sources (default: the profile's).
    pub sources: Vec<Source>,
    /// Set to stop between pages; what was stored stays.
    pub cancel: Arc<AtomicBool>,
    /// Graph queries that end `failed` are submitted again this often before the window is split.
    pub query_attempts: u32,
    /// A page with a malformed record is fetched again this often before it is kept as it is.
    pub malformed_refetches: u32,
    /// Graph `$top` and Activities `$top`.
    pub page_size: u32,
    /// Stop after this many pages (tests of resume); `None`: no limit.
    pub max_pages: Option<u64>,
}

impl RunOptions {
    /// Defaults for a time range.
    pub fn new(from_ms: i64, to_ms: i64, sources: Vec<Source>) -> Self {
        RunOptions {
            from_ms,
            to_ms,
            sources,
            cancel: Arc::new(AtomicBool::new(false)),
            query_attempts: 3,
            malformed_refetches: 3,
            page_size: 1000,
            max_pages: None,
        }
    }
}

/// What the run did, for progress lines and the app's collection screen (`collect-progress`).
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(rename = "CollectProgress")]
pub struct Progress {
    /// Source of the current window.
    pub source: String,
    /// Scope of the current window.
    pub scope: String,
    /// Windows finished.
    pub windows_done: usize,
    /// Windows planned.
    pub windows_total: usize,
    /// Pages written by this process.
    #[ts(type = "number")]
    pub pages: u64,
    /// Records received by this process.
    #[ts(type = "number")]
    pub records: i64,
    /// New events stored by this process.
    #[ts(type = "number")]
    pub new_events: i64,
    /// Records per second so far.
    pub records_per_s: f64,
    /// The current window's ledger id.
    #[ts(type = "number")]
    pub window_id: i64,
    /// The current window's start (ISO 8601 UTC).
    pub window_start: String,
    /// The current window's end (ISO 8601 UTC).
    pub window_end: String,
    /// Records received in the current window so far (across runs).
    #[ts(type = "number")]
    pub window_records: i64,
    /// What the server said the current window holds, where the API says it.
    #[ts(type = "number | null")]
    pub window_server_count: Option<i64>,
    /// Seconds left, from the share of windows (and of the current window) done so far.
    pub eta_s: Option<f64>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RunReport {
    /// Run id in the case.
    #[ts(type = "number")]
    pub run_id: i64,
    /// Acquisition of this process.
    #[ts(type = "number")]
    pub acquisition_id: i64,
    /// Records received.
    #[ts(type = "number")]
    pub records: i64,
    /// New events.
    #[ts(type = "number")]
    pub new_events: i64,
    /// Duplicates.
    #[ts(type = "number")]
    pub duplicates: i64,
    /// Unreadable records (kept raw).
    #[ts(type = "number")]
    pub errors: i64,
    /// Pages written.
    #[ts(type = "number")]
    pub pages: u64,
    /// Wall time.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// Time spent waiting for the server.
    #[ts(type = "number")]
    pub server_ms: u64,
    /// Whether the run stopped early (cancel or page limit); `resume` continues it.
    pub stopped_early: bool,
    /// The coverage map.
    pub coverage: Vec<Coverage>,
}

/// One line of the coverage map.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct Coverage {
    /// The window's ledger id.
    #[ts(type = "number")]
    pub window_id: i64,
    /// Source.
    pub source: String,
    /// Scope.
    pub scope: String,
    /// Window start (ISO).
    pub start: String,
    /// Window end (ISO).
    pub end: String,
    /// Ledger status.
    pub status: String,
    /// What the server said it holds.
    #[ts(type = "number | null")]
    pub server_count: Option<i64>,
    /// Received.
    #[ts(type = "number")]
    pub records: i64,
    /// Stored new.
    #[ts(type = "number")]
    pub new_events: i64,
    /// Already in the case.
    #[ts(type = "number")]
    pub duplicates: i64,
    /// Unreadable.
    #[ts(type = "number")]
    pub errors: i64,
    /// Faults met.
    #[ts(type = "{ [key in string]?: number }")]
    pub faults: BTreeMap<String, i64>,
    /// Blind spots: what this window cannot vouch for.
    pub blind_spots: Vec<String>,
}

fn iso(ms: i64) -> String {
    tidemark_core::time::iso_ms(ms)
}

fn iso_s(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn iso_no_zone(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// The coverage map of a ledger.
pub fn coverage(ledger: &[LedgerWindow]) -> Vec<Coverage> {
    ledger
        .iter()
        .filter(|w| w.status != "split")
        .map(|w| {
            let mut blind = Vec::new();
            match w.status.as_str() {
                "skipped" | "failed" => blind.push(format!(
                    "{}: {}",
                    w.error_code.clone().unwrap_or_default(),
                    w.error.clone().unwrap_or_default()
                )),
                "planned" | "running" => blind.push("not collected yet: resume the run".to_string()),
                _ => {}
            }
            if let Some(n) = w.server_count {
                if n > w.records - w.duplicates.min(w.records) + w.duplicates && n > w.records {
                    blind.push(format!("the server reported {n} records, {} were received", w.records));
                }
            }
            if w.throttled > 0 {
                blind.push(format!(
                    "{} MailItemsAccessed record(s) say Exchange throttled auditing (IsThrottled): reads after them \
                     in that session were not recorded one by one",
                    w.throttled
                ));
            }
            Coverage {
                window_id: w.id,
                source: w.source.clone(),
                scope: w.scope.clone(),
                start: iso(w.start_ms),
                end: iso(w.end_ms),
                status: w.status.clone(),
                server_count: w.server_count,
                records: w.records,
                new_events: w.new_events,
                duplicates: w.duplicates,
                errors: w.errors,
                faults: w.faults.clone(),
                blind_spots: blind,
            }
        })
        .collect()
}

/// Plans the windows of a run. Management windows are by `contentCreated` (≤ 24 h, inside the last 7
/// days, up to 12 h past `to` because content appears after the events it holds); what is older than
/// the retention is a skipped window that says so.
pub fn plan(profile: &Profile, opts: &RunOptions, now_ms: i64) -> Vec<(PlannedWindow, Option<(Code, String)>)> {
    let mut out = Vec::new();
    let hours = i64::from(profile.options.window_hours.unwrap_or(24).clamp(1, 24 * 31));
    let step = hours * HOUR;
    fn windows(
        out: &mut Vec<(PlannedWindow, Option<(Code, String)>)>,
        source: &str,
        scope: &str,
        a: i64,
        b: i64,
        step: i64,
    ) {
        let mut s = a;
        while s < b {
            let e = (s + step).min(b);
            out.push((PlannedWindow { source: source.into(), scope: scope.into(), start_ms: s, end_ms: e }, None));
            s = e;
        }
    }
    for src in &opts.sources {
        match src {
            Source::Management => {
                let cts: Vec<String> = if profile.options.content_types.is_empty() {
                    CONTENT_TYPES.iter().map(|s| s.to_string()).collect()
                } else {
                    profile.options.content_types.clone()
                };
                let oldest = now_ms - MANAGEMENT_RETENTION + 5 * 60_000;
                let end = (opts.to_ms + 12 * HOUR).min(now_ms);
                for ct in &cts {
                    let start = opts.from_ms.max(oldest);
                    if opts.from_ms < oldest {
                        out.push((
                            PlannedWindow {
                                source: "management".into(),
                                scope: ct.clone(),
                                start_ms: opts.from_ms,
                                end_ms: oldest.min(opts.to_ms),
                            },
                            Some((
                                Code::OutsideRetention,
                                "The Management Activity API keeps content for 7 days; this part of the range is \
                                 older. Use the Graph audit log query (180 days or more) for it."
                                    .to_string(),
                            )),
                        ));
                    }
                    windows(&mut out, "management", ct, start, end, DAY);
                }
            }
            Source::Graph => windows(&mut out, "graph", "", opts.from_ms, opts.to_ms, step),
            Source::Activities => {
                for mb in &profile.options.mailboxes {
                    windows(&mut out, "activities", mb, opts.from_ms, opts.to_ms, step);
                }
            }
        }
    }
    out
}

/// Drives one run.
#[derive(Debug)]
pub struct Runner {
    api: Arc<Api>,
    clock: Arc<dyn Clock>,
    opts: RunOptions,
    started: Instant,
    pages: u64,
    subscribed: BTreeSet<String>,
    activities_disabled: Option<String>,
}

enum Step {
    /// The window goes on.
    More,
    /// The window is finished (its last commit set its status).
    Finished,
}

fn stop_early(e: &CollectError) -> bool {
    matches!(e.code, Code::Cancelled)
}

impl Runner {
    /// A runner.
    pub fn new(api: Arc<Api>, clock: Arc<dyn Clock>, opts: RunOptions) -> Self {
        Runner {
            api,
            clock,
            opts,
            started: Instant::now(),
            pages: 0,
            subscribed: BTreeSet::new(),
            activities_disabled: None,
        }
    }

    fn profile(&self) -> &Profile {
        self.api.auth().profile()
    }

    /// Starts a new run in `case` and collects it.
    pub async fn start(self, case: CaseWriter, progress: &mut dyn FnMut(&Progress)) -> Result<(CaseWriter, RunReport)> {
        let now = self.clock.now_ms();
        let planned = plan(self.profile(), &self.opts, now);
        let windows: Vec<PlannedWindow> = planned.iter().map(|(w, _)| w.clone()).collect();
        let sources: Vec<String> = self.opts.sources.iter().map(|s| s.as_str().to_string()).collect();
        let profile_json = serde_json::to_value(self.profile()).unwrap_or(Value::Null);
        let mut w =
            CollectionWriter::start(case, &profile_json, self.opts.from_ms, self.opts.to_ms, &sources, &windows)?;
        let ledger = w.ledger()?;
        for (lw, (_, skip)) in ledger.iter().zip(&planned) {
            if let Some((code, msg)) = skip {
                w.update_window(
                    lw.id,
                    &WindowUpdate { status: Some("skipped"), error: Some((code.as_str(), msg)), ..Default::default() },
                )?;
            }
        }
        self.drive(w, progress).await
    }

    /// Continues the newest unfinished run of `case`.
    pub async fn resume(
        self,
        case: CaseWriter,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(CaseWriter, RunReport)> {
        let Some(w) = CollectionWriter::resume(case, None)? else {
            return Err(CollectError::new(Code::NothingToResume, "This case has no unfinished collection to resume."));
        };
        self.drive(w, progress).await
    }

    async fn drive(
        mut self,
        mut w: CollectionWriter,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(CaseWriter, RunReport)> {
        let mut stopped_early = false;
        let mut fatal: Option<CollectError> = None;
        'outer: loop {
            let ledger = w.ledger()?;
            let total = ledger.iter().filter(|l| l.status != "split").count();
            let done = ledger.iter().filter(|l| matches!(l.status.as_str(), "done" | "failed" | "skipped")).count();
            let Some(win) = ledger.into_iter().find(|l| matches!(l.status.as_str(), "planned" | "running")) else {
                break;
            };
            // The window as the ledger has it: read once after each page, for the progress line and the next page.
            let mut current = win.clone();
            loop {
                if self.opts.cancel.load(Ordering::Relaxed) || self.opts.max_pages.is_some_and(|m| self.pages >= m) {
                    stopped_early = true;
                    break 'outer;
                }
                let step = match current.source.as_str() {
                    "management" => self.management(&mut w, &current).await,
                    "graph" => self.graph(&mut w, &current).await,
                    "activities" => self.activities(&mut w, &current).await,
                    other => Err(CollectError::new(Code::ProfileInvalid, format!("unknown source {other}"))),
                };
                let t = w.totals();
                let secs = self.started.elapsed().as_secs_f64().max(1e-3);
                let now_window = w.ledger()?.into_iter().find(|l| l.id == win.id).unwrap_or_else(|| current.clone());
                let within = match now_window.server_count {
                    Some(n) if n > 0 => (now_window.records as f64 / n as f64).min(1.0),
                    _ => 0.0,
                };
                let share = if total == 0 { 1.0 } else { (done as f64 + within) / total as f64 };
                let eta_s = (share > 0.0 && self.pages >= 2).then(|| secs * (1.0 - share) / share);
                progress(&Progress {
                    source: current.source.clone(),
                    scope: current.scope.clone(),
                    windows_done: done,
                    windows_total: total,
                    pages: self.pages,
                    records: t.records,
                    new_events: t.new_events,
                    records_per_s: t.records as f64 / secs,
                    window_id: win.id,
                    window_start: iso(win.start_ms),
                    window_end: iso(win.end_ms),
                    window_records: now_window.records,
                    window_server_count: now_window.server_count,
                    eta_s,
                });
                current = now_window;
                match step {
                    Ok(Step::More) => {}
                    Ok(Step::Finished) => break,
                    Err(e) if stop_early(&e) => {
                        stopped_early = true;
                        break 'outer;
                    }
                    Err(e) if e.code == Code::Case => {
                        fatal = Some(e);
                        break 'outer;
                    }
                    Err(e) => {
                        // The window failed for good: its code and message go into the ledger.
                        let faults = self.api.faults.drain();
                        let msg = match &e.detail {
                            Some(d) => format!("{} ({d})", e.message),
                            None => e.message.clone(),
                        };
                        w.update_window(
                            win.id,
                            &WindowUpdate {
                                status: Some("failed"),
                                error: Some((e.code.as_str(), &msg)),
                                faults: Some(&faults),
                                ..Default::default()
                            },
                        )?;
                        if matches!(
                            e.code,
                            Code::SignInFailed
                                | Code::SignInCancelled
                                | Code::SignInTimeout
                                | Code::KeychainUnavailable
                        ) {
                            fatal = Some(e);
                            break 'outer;
                        }
                        break;
                    }
                }
            }
        }
        let ledger = w.ledger()?;
        let t = w.totals();
        let (run_id, acquisition_id) = (w.run().id, w.acquisition_id());
        let error_text = fatal.as_ref().map(|e| e.message.clone());
        let case = w.finish(if stopped_early {
            Some("stopped before the end; `tidemark collect --resume` continues")
        } else {
            error_text.as_deref()
        })?;
        if let Some(e) = fatal {
            return Err(e);
        }
        Ok((
            case,
            RunReport {
                run_id,
                acquisition_id,
                records: t.records,
                new_events: t.new_events,
                duplicates: t.duplicates,
                errors: t.errors,
                pages: self.pages,
                elapsed_ms: self.started.elapsed().as_millis() as u64,
                server_ms: self.api.server_us.load(Ordering::Relaxed) / 1000,
                stopped_early,
                coverage: coverage(&ledger),
            },
        ))
    }

    #[allow(clippy::too_many_arguments, reason = "one call site per page kind; a struct would only rename them")]
    fn commit(
        &mut self,
        w: &mut CollectionWriter,
        win: &LedgerWindow,
        f: &Fetched,
        kind: &str,
        format: Option<&str>,
        cursor: &Value,
        status: Option<&str>,
        server_count: Option<i64>,
        note: Option<&str>,
    ) -> Result<tidemark_core::collect::PageOut> {
        let faults = self.api.faults.drain();
        let out = w.page(&PageIn {
            window_id: win.id,
            kind,
            url: &f.url,
            status: f.status,
            headers: &f.headers,
            body: &f.body,
            format,
            cursor,
            server_count,
            faults: &faults,
            note,
            window_status: status,
        })?;
        self.pages += 1;
        Ok(out)
    }

    fn refused(&self, f: &Fetched, what: &str) -> CollectError {
        let code = f.error_code();
        let msg = f.error_message();
        let (c, text) = match code.as_str() {
            "AF10001" => (
                Code::PermissionMissing,
                "The app registration lacks the Office 365 Management APIs permission ActivityFeed.Read (Application). \
                 Add it in Entra → App registrations → API permissions, then an administrator must grant admin consent."
                    .to_string(),
            ),
            "AF20011" | "AF20012" => (
                Code::AuditingOff,
                "Unified audit logging is not on for this tenant. Turn it on in Microsoft Purview → Audit (\"Start \
                 recording user and admin activity\"); records appear from then on."
                    .to_string(),
            ),
            "AF20030" | "AF20055" | "AF20051" => (
                Code::OutsideRetention,
                "Microsoft refused the time window: the Management API serves the last 7 days only.".to_string(),
            ),
            "Forbidden" if f.status == 403 => (
                Code::PermissionMissing,
                "The app registration lacks the Microsoft Graph permission AuditLogsQuery.Read.All (or \
                 AuditLogsQuery-Exchange.Read.All). Add it in Entra → API permissions, then an administrator must grant \
                 admin consent. (AuditLog.Read.All is a different permission and does not help.)"
                    .to_string(),
            ),
            _ => (Code::Refused, format!("Microsoft refused to {what}.")),
        };
        CollectError::new(c, text).with_detail(format!("HTTP {} {code}: {msg}", f.status))
    }

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

    async fn management(&mut self, w: &mut CollectionWriter, win: &LedgerWindow) -> Result<Step> {
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

    async fn graph(&mut self, w: &mut CollectionWriter, win: &LedgerWindow) -> Result<Step> {
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
                let out =
                    self.commit(w, win, &f, "records", Some("graph-auditlog-json"), &c, Some(status), None, None)?;
                if out.duplicates > 0 {
                    self.api.faults.met("eventual-consistency");
                    if status == "done" {
                        let faults = self.api.faults.drain();
                        w.update_window(win.id, &WindowUpdate { faults: Some(&faults), ..Default::default() })?;
                    }
                }
                Ok(if status == "done" { Step::Finished } else { Step::More })
            }
        }
    }

    // ----- Legacy Activities API -----------------------------------------------------------------

    async fn activities(&mut self, w: &mut CollectionWriter, win: &LedgerWindow) -> Result<Step> {
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

fn next_is_none(c: &Value) -> bool {
    c["next"].is_null()
}

fn str_set(v: &Value) -> BTreeSet<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn str_vec(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}
