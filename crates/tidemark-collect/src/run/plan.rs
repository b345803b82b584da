//! Planning a run's windows, and reading its ledger back as a coverage map.

use super::*;

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
/// days, up to 12 h past `to` because content appears after the events it holds); Entra sign-in windows
/// come once per sign-in log ([`entra::signin_scopes`]); what is older than a source's retention is a
/// skipped window that says so.
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
            Source::EntraSignins | Source::EntraAudits => {
                let oldest = now_ms - ENTRA_RETENTION + 5 * 60_000;
                let scopes = if *src == Source::EntraAudits { vec![""] } else { entra::signin_scopes(profile) };
                for scope in scopes {
                    if opts.from_ms < oldest {
                        out.push((
                            PlannedWindow {
                                source: src.as_str().into(),
                                scope: scope.into(),
                                start_ms: opts.from_ms,
                                end_ms: oldest.min(opts.to_ms),
                            },
                            Some((
                                Code::OutsideRetention,
                                "Microsoft Entra ID keeps sign-in and audit logs for 30 days (7 days without an \
                                 Entra ID P1 or P2 licence); this part of the range is older. An export the tenant \
                                 kept (Log Analytics, Sentinel, a storage account) can be imported instead."
                                    .to_string(),
                            )),
                        ));
                    }
                    windows(&mut out, src.as_str(), scope, opts.from_ms.max(oldest), opts.to_ms, step);
                }
            }
        }
    }
    out
}
