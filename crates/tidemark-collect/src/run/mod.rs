//! A collection run: plan windows per source, walk each window page by page, commit every page with
//! its records, events and the window's new cursor in one transaction ([`tidemark_core::collect`]),
//! and report coverage. `resume` reads the ledger and continues each unfinished window from its
//! cursor, so a run killed at any moment ends with exactly the records a run that never stopped gets.
//!
//! One module per source: [`management`] (Management Activity API), [`graph`] (Graph audit-log
//! queries), [`activities`] (legacy Outlook Activities), [`entra`] (Entra ID sign-in and audit logs
//! through Graph); [`plan`] cuts the range into windows and reads the ledger back as coverage.

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
/// Entra ID keeps sign-ins and directory audits 30 days (with a P1/P2 licence).
const ENTRA_RETENTION: i64 = 30 * DAY;
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

mod activities;
mod entra;
mod graph;
mod management;
mod plan;

pub use plan::{coverage, plan};

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
    /// Set when the tenant has no Entra ID P1/P2 licence: the remaining sign-in windows are skipped.
    signins_unlicensed: Option<String>,
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
            signins_unlicensed: None,
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
                    "entra-signins" | "entra-audits" => self.entra(&mut w, &current).await,
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

    /// Commits a page of records whose cursor says whether more follow (`status` `running` or
    /// `done`). A record the previous page already brought means the log moved between pages
    /// (eventual consistency): counted as a fault of the window, written with its last page.
    fn commit_records(
        &mut self,
        w: &mut CollectionWriter,
        win: &LedgerWindow,
        f: &Fetched,
        format: &str,
        cursor: &Value,
        status: &str,
    ) -> Result<Step> {
        let out = self.commit(w, win, f, "records", Some(format), cursor, Some(status), None, None)?;
        if out.duplicates > 0 {
            self.api.faults.met("eventual-consistency");
            if status == "done" {
                let faults = self.api.faults.drain();
                w.update_window(win.id, &WindowUpdate { faults: Some(&faults), ..Default::default() })?;
            }
        }
        Ok(if status == "done" { Step::Finished } else { Step::More })
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
            "Authentication_MSGraphPermissionMissing" | "Authorization_RequestDenied" => (
                Code::PermissionMissing,
                "The app registration lacks the Microsoft Graph permission AuditLog.Read.All, which the Entra ID \
                 sign-in and audit logs need (Microsoft also lists Directory.Read.All). Add it in Entra → API \
                 permissions, then an administrator must grant admin consent."
                    .to_string(),
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
