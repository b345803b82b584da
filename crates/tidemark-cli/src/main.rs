//! `tidemark`: the command line over Tidemark's engine.
//!
//! The same code paths as the desktop app, for power users, scripted tests and benchmarks. Output for
//! people goes to stdout (tables) and stderr (progress, errors); `--json` gives machine-readable output.
//! Text from evidence is printed with control characters escaped, so an attacker-written subject cannot
//! drive the terminal.
//!
//! Exit codes (stable): 0 success · 1 verification found damaged evidence · 2 usage error ·
//! 3 case problem (missing, not a case, newer format, exists, busy) · 4 input problem (unreadable, unknown
//! format) · 5 invalid query · 6 export or I/O failure · 7 annotation problem (tag exists or not found, bad
//! name or colour) · 8 collection problem (sign-in, permission, failed windows) · 9 collection stopped
//! before the end (`collect --resume` continues) · 10 internal error.

mod accounts_cmd;
mod collect_cmd;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tidemark_core::annotate::DEFAULT_TAG_COLOR;
use tidemark_core::case::default_operator;
use tidemark_core::export::ExportFormat;
use tidemark_core::export::{parse_profile_text, ExportControl, ExportSpec};
use tidemark_core::facets::FacetPrecision;
use tidemark_core::model::ExportScope;
use tidemark_core::model::{EventRow, SortOrder};
use tidemark_core::{CaseReader, CaseWriter, Error, ErrorCode, FormatRegistry, Query, SystemClock};

// The import pipeline allocates per record on one thread and frees on another; glibc's allocator
// serialises that on arena locks, mimalloc does not (ARCHITECTURE.md, "Import pipeline").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "tidemark",
    version,
    about = "Microsoft 365 mailbox-activity forensics: case files, import, search, export, verify"
)]
struct Cli {
    /// Name recorded in the case log as the operator (default: your OS user name).
    #[arg(long, global = true)]
    operator: Option<String>,
    /// Print technical detail with errors.
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a case or show what is in one.
    Case {
        #[command(subcommand)]
        command: CaseCommand,
    },
    /// Import files (or folders of files) into a case.
    Import {
        /// The case file.
        case: PathBuf,
        /// Files or folders to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search a case and print matching events in time order.
    Search {
        /// The case file.
        case: PathBuf,
        /// What to look for, e.g. `actor:adele op:MailItemsAccessed -ip:10.0.0.1 "wire transfer"` (empty: everything).
        #[arg(default_value = "")]
        query: String,
        /// Most rows to print.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Newest first.
        #[arg(long)]
        desc: bool,
        /// Print rows as JSON lines, then the count.
        #[arg(long)]
        json: bool,
    },
    /// Show one event with its original records and provenance.
    Show {
        /// The case file.
        case: PathBuf,
        /// Event id (from `search`).
        event: String,
    },
    /// Export events (a query's, chosen ids, the bookmarked or a tag's) with a manifest beside the file.
    Export {
        /// The case file.
        case: PathBuf,
        /// Which events, with --scope query (empty: all).
        #[arg(long, default_value = "")]
        query: String,
        /// query, bookmarked, tag:NAME or ids:ID,ID,…
        #[arg(long, default_value = "query")]
        scope: String,
        /// csv, jsonl, xlsx or html.
        #[arg(long, default_value = "csv")]
        format: String,
        /// A profile (timeline, full, network, messages) or column names separated by commas
        /// (default: full; timeline for html).
        #[arg(long)]
        columns: Option<String>,
        /// Time zone of every time: UTC, local, or an IANA name such as Europe/Berlin.
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Collect audit records from a Microsoft 365 tenant into a case, checkpointed page by page
    /// (`--resume` continues an interrupted run exactly where it stopped).
    Collect(collect_cmd::CollectArgs),
    /// Connection profiles for `collect` (no secrets in them; secrets go to the OS keychain).
    Profile {
        #[command(subcommand)]
        command: collect_cmd::ProfileCommand,
    },
    /// Recompute every raw record's SHA-256 and check the case log's hash chain.
    Verify {
        /// The case file.
        case: PathBuf,
        /// Also normalize every raw record again and check that the stored events are what it gives.
        #[arg(long)]
        events: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Put a tag on every event a query matches (creating the tag if it is new), or take it off.
    Tag {
        /// The case file.
        case: PathBuf,
        /// Tag name (what `tag:` finds it by).
        name: String,
        /// Which events, e.g. `op:New-InboxRule actor:adele` (`""` for all).
        #[arg(long)]
        query: String,
        /// Colour of a new tag, #rrggbb.
        #[arg(long)]
        color: Option<String>,
        /// Take the tag off the matching events instead.
        #[arg(long)]
        remove: bool,
    },
    /// List the tags with their colours and event counts.
    Tags {
        /// The case file.
        case: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The most frequent actors, mailboxes, actions, operations, IPs, clients, apps, workloads and sources
    /// among the events a query matches.
    Facets {
        /// The case file.
        case: PathBuf,
        /// Which events (empty: all).
        #[arg(default_value = "")]
        query: String,
        /// Values per field.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Estimate counts from a sample when more than 50,000 events match (as the app does first),
        /// instead of counting every one.
        #[arg(long)]
        estimate: bool,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// What the case knows about one IP address: country, network, kind, events and accounts.
    Ip {
        /// The case file.
        case: PathBuf,
        /// The address, as events give it.
        address: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every account (actor) with its span, networks, addresses and how many values were new for it.
    Accounts {
        /// The case file.
        case: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// One account's sessions: sign-ins and the activity that followed, a session used from two networks marked.
    Sessions(accounts_cmd::SessionsArgs),
    /// Answer every IP address in the case again from a newer copy of the IP data (offline).
    Enrich {
        /// The case file.
        case: PathBuf,
        /// Folder with the unpacked npm packages `asn/` and `dbip-country/` (@ip-location-db).
        #[arg(long)]
        ip_data: PathBuf,
    },
    /// Print the case log (chain of custody).
    Log {
        /// The case file.
        case: PathBuf,
    },
    /// What happened in one mailbox, session by session (reads with reading-pane durations, typed
    /// searches, attachments, sends, rules, forwarding), or one of the five legacy Magic Unicorn reports.
    Mailbox {
        /// The case file.
        case: PathBuf,
        /// The mailbox (UPN), e.g. victim@contoso.com.
        upn: String,
        /// Earliest time (UTC), e.g. 2018-05-14 or 2018-05-14T10:00.
        #[arg(long)]
        from: Option<String>,
        /// Latest time (UTC); a bare date means the whole day.
        #[arg(long)]
        to: Option<String>,
        /// A legacy report instead of the stream: logons, reads-by-time, reads-by-item, searches, attachments.
        #[arg(long)]
        report: Option<String>,
        /// Write the report as CSV to this file (recorded in the case log).
        #[arg(long, requires = "report")]
        csv: Option<PathBuf>,
        /// Most entries (or report rows) to print.
        #[arg(long, default_value_t = 500)]
        limit: usize,
        /// Print entries (or rows) and sessions as JSON lines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum CaseCommand {
    /// Create a new, empty case file.
    New {
        /// Where to create it (ends in .tidemark).
        path: PathBuf,
        /// Case name.
        #[arg(long)]
        name: String,
    },
    /// Show a case's name, counts, time span and acquisitions.
    Info {
        /// The case file.
        path: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn exit_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::CaseNotFound
        | ErrorCode::CaseNotACase
        | ErrorCode::CaseNewerSchema
        | ErrorCode::CaseExists
        | ErrorCode::CaseNoneOpen
        | ErrorCode::CaseBusy => 3,
        ErrorCode::ImportUnreadable | ErrorCode::ImportUnknownFormat | ErrorCode::ImportCancelled => 4,
        ErrorCode::QueryInvalid | ErrorCode::QuerySuperseded => 5,
        ErrorCode::ExportFailed | ErrorCode::Io | ErrorCode::EventNotFound => 6,
        ErrorCode::ExportCancelled => 6,
        ErrorCode::ExportInvalid => 2,
        ErrorCode::TagExists
        | ErrorCode::TagNotFound
        | ErrorCode::NoteNotFound
        | ErrorCode::SavedSearchExists
        | ErrorCode::SavedSearchNotFound
        | ErrorCode::AnnotationInvalid => 7,
        ErrorCode::CollectProfileInvalid => 2,
        ErrorCode::CollectCase => 3,
        ErrorCode::CollectKeychainUnavailable
        | ErrorCode::CollectSignInFailed
        | ErrorCode::CollectSignInCancelled
        | ErrorCode::CollectSignInTimeout
        | ErrorCode::CollectPermissionMissing
        | ErrorCode::CollectAuditingOff
        | ErrorCode::CollectOutsideRetention
        | ErrorCode::CollectThrottled
        | ErrorCode::CollectServerUnavailable
        | ErrorCode::CollectNetwork
        | ErrorCode::CollectBadResponse
        | ErrorCode::CollectRefused
        | ErrorCode::CollectActivitiesDisabled
        | ErrorCode::CollectQueryFailed
        | ErrorCode::CollectNothingToResume
        | ErrorCode::CollectBusy => 8,
        ErrorCode::CollectCancelled => 9,
        ErrorCode::Internal => 10,
    }
}

/// Escapes control characters so evidence text cannot move the cursor or recolour the terminal.
pub(crate) fn safe(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }).collect()
}

fn cell(s: &str, width: usize) -> String {
    let s = safe(s);
    let n = s.chars().count();
    if n > width {
        let cut: String = s.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        format!("{s}{}", " ".repeat(width - n))
    }
}

fn print_table(rows: &[EventRow]) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} {} {} {} {} SUBJECT",
        cell("TIME (UTC)", 24),
        cell("ACTION", 12),
        cell("OPERATION", 26),
        cell("ACTOR", 32),
        cell("IP", 22),
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{} {} {} {} {} {}",
            cell(&r.time, 24),
            cell(&r.action, 12),
            cell(&r.operation, 26),
            cell(r.actor.as_deref().unwrap_or("—"), 32),
            cell(r.client_ip.as_deref().unwrap_or("—"), 22),
            cell(r.subject.as_deref().unwrap_or(""), 60).trim_end()
        );
    }
}

fn progress_bar(total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bar:40} {bytes}/{total_bytes} {msg} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}

/// Parses `--scope`: `query` (with `--query`), `bookmarked`, `tag:NAME` or `ids:ID,ID,…`.
fn export_scope(scope: &str, query: String) -> Result<ExportScope, Error> {
    let s = scope.trim();
    if s.eq_ignore_ascii_case("query") {
        return Ok(ExportScope::Query { query });
    }
    if s.eq_ignore_ascii_case("bookmarked") || s.eq_ignore_ascii_case("bookmarks") {
        return Ok(ExportScope::Bookmarked);
    }
    if let Some(tag) = s.strip_prefix("tag:") {
        return Ok(ExportScope::Tagged { tag: tag.to_owned() });
    }
    if let Some(ids) = s.strip_prefix("ids:") {
        return Ok(ExportScope::Selection { ids: ids.split(',').map(|i| i.trim().to_owned()).collect() });
    }
    Err(Error::new(
        ErrorCode::ExportInvalid,
        format!("\"{s}\" is not an export scope. Use query, bookmarked, tag:NAME or ids:ID,ID,…"),
    ))
}

fn rows_bar(total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} rows {msg} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}

fn run(cli: Cli) -> Result<u8, Error> {
    let verbose = cli.verbose;
    let operator = cli.operator.clone().unwrap_or_else(default_operator);
    let clock = Arc::new(SystemClock);
    match cli.command {
        Command::Collect(a) => return collect_cmd::collect(&a, &operator, verbose),
        Command::Profile { command } => return collect_cmd::profile(command, verbose),
        Command::Case { command: CaseCommand::New { path, name } } => {
            let w = CaseWriter::create(&path, &name, clock, &operator)?;
            println!("Created case \"{}\" at {}", safe(name.trim()), w.path().display());
        }
        Command::Case { command: CaseCommand::Info { path, json } } => {
            drop(CaseWriter::open(&path, clock, &operator)?); // upgrades an older file, refuses a newer one
            let s = CaseReader::open(&path)?.summary()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s).map_err(|e| Error::internal(e.to_string()))?);
            } else {
                println!("Case:        {}", safe(&s.name));
                println!("File:        {}", s.path);
                println!("Created:     {} (Tidemark {})", s.created_at, s.tool_version);
                println!("Events:      {}", s.events);
                println!(
                    "Raw records: {} ({} duplicates, {} malformed, all kept)",
                    s.raw_records, s.duplicates, s.malformed
                );
                match (&s.first_time, &s.last_time) {
                    (Some(a), Some(b)) => println!("Span:        {a} – {b}"),
                    _ => println!("Span:        (no events yet)"),
                }
                println!("Acquisitions:");
                if s.acquisitions.is_empty() {
                    println!("  none yet — add data with `tidemark import {} FILE...`", s.path);
                }
                for a in &s.acquisitions {
                    println!(
                        "  #{} {} {} by {} at {}: {} read, {} new, {} duplicates, {} malformed [{}]",
                        a.id,
                        a.kind,
                        a.source,
                        safe(&a.operator),
                        a.started_at,
                        a.records_read,
                        a.events_new,
                        a.duplicates,
                        a.malformed,
                        a.status
                    );
                    for f in &a.files {
                        println!("      {} ({} bytes) sha256 {}", safe(&f.path), f.size, f.sha256);
                    }
                }
            }
        }
        Command::Import { case, files, json } => {
            let mut w = CaseWriter::open(&case, clock, &operator)?;
            let registry = FormatRegistry::builtin();
            let mut bar: Option<ProgressBar> = None;
            let report = w.import_files(&files, &registry, &mut |p| {
                if bar.is_none() && p.bytes_total > 0 {
                    bar = progress_bar(p.bytes_total);
                }
                if let Some(b) = &bar {
                    b.set_position(p.bytes_done);
                    b.set_message(format!("{} records, {}/s — {}", p.records, p.records_per_s, safe(&p.current_file)));
                }
            })?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&report).map_err(|e| Error::internal(e.to_string()))?);
            } else {
                let secs = report.elapsed_ms as f64 / 1000.0;
                println!(
                    "Imported {} file(s) in {:.1} s: {} records read, {} new events, {} duplicates, {} malformed ({:.0} records/s)",
                    report.files.len(),
                    secs,
                    report.read,
                    report.new_events,
                    report.duplicates,
                    report.malformed,
                    report.read as f64 / secs.max(0.001)
                );
                for f in &report.files {
                    println!(
                        "  {} — {} ({}), {} bytes, sha256 {}",
                        safe(&f.path),
                        f.format_name,
                        f.encoding,
                        f.size,
                        f.sha256
                    );
                    println!(
                        "      {} records: {} new, {} duplicates, {} malformed; {} to {}",
                        f.records,
                        f.new_events,
                        f.duplicates,
                        f.malformed,
                        f.first_time.as_deref().unwrap_or("-"),
                        f.last_time.as_deref().unwrap_or("-")
                    );
                    for m in &f.malformed_at {
                        println!("      malformed at {}", safe(m));
                    }
                }
                if verbose {
                    println!(
                        "  stages busy: worker (split, hash, compress, normalize) {:.2} s, writer (SQLite) {:.2} s, \
                         of which IP context and baselines {:.2} s",
                        report.worker_busy_ms as f64 / 1000.0,
                        report.writer_busy_ms as f64 / 1000.0,
                        report.context_busy_ms as f64 / 1000.0
                    );
                }
                if report.malformed > 0 {
                    println!("Malformed records are kept raw in the case. First ones:");
                    for m in &report.malformed_samples {
                        println!("  {}: {}", safe(&m.locator), safe(&m.error));
                    }
                }
            }
        }
        Command::Search { case, query, limit, desc, json } => {
            let r = CaseReader::open(&case)?;
            let q = Query::parse(&query)?;
            let count = r.count(&q)?;
            let sort = if desc { SortOrder::Desc } else { SortOrder::Asc };
            let mut rows = Vec::new();
            let mut after = None;
            while rows.len() < limit {
                let page = r.page(&q, sort, after.as_deref(), (limit - rows.len()).min(1000))?;
                rows.extend(page.rows);
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            if json {
                let mut out = std::io::stdout().lock();
                for row in &rows {
                    let _ =
                        writeln!(out, "{}", serde_json::to_string(row).map_err(|e| Error::internal(e.to_string()))?);
                }
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "matching": count.matching, "total": count.total, "shown": rows.len() })
                );
            } else {
                print_table(&rows);
                println!("{} of {} events match; {} shown.", count.matching, count.total, rows.len());
            }
        }
        Command::Show { case, event } => {
            let d = CaseReader::open(&case)?.event(&event)?;
            println!(
                "{}",
                safe(&serde_json::to_string_pretty(&d.event).map_err(|e| Error::internal(e.to_string()))?)
                    .replace("\\u{a}", "\n")
            );
            println!("record key: {}", safe(&d.record_key));
            for (i, raw) in d.raw.iter().enumerate() {
                println!(
                    "--- occurrence {} of {}: {} (acquisition #{}, sha256 {}, {} bytes)",
                    i + 1,
                    d.raw.len(),
                    safe(&raw.locator),
                    raw.acquisition_id,
                    raw.sha256,
                    raw.size
                );
                println!("{}", safe(&raw.verbatim));
            }
        }
        Command::Export { case, query, scope, format, columns, tz, out } => {
            let format = ExportFormat::parse(&format)?;
            let scope = export_scope(&scope, query)?;
            let profile = columns.as_deref().map(parse_profile_text);
            let spec = ExportSpec::new(scope, format, profile.as_ref(), &tz)?;
            let r = CaseReader::open(&case)?;
            let cancel = std::sync::atomic::AtomicBool::new(false);
            let mut bar: Option<ProgressBar> = None;
            let result = r.export_events(&spec, &out, clock.as_ref(), ExportControl { cancel: &cancel }, &mut |p| {
                if bar.is_none() && p.total > 0 {
                    bar = rows_bar(p.total);
                }
                if let Some(b) = &bar {
                    b.set_position(p.rows);
                    let pace = format!("{}/s", p.rows_per_s);
                    b.set_message(if p.finishing { "finishing the file".to_owned() } else { pace });
                }
            })?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let mut w = CaseWriter::open(&case, clock, &operator)?;
            w.record_export(&result)?;
            let m = &result.manifest;
            let f = &m.files[0];
            println!(
                "Exported {} events ({}) as {} in {} to {} (sha256 {})",
                m.rows,
                safe(&m.scope_description),
                m.format.as_str(),
                m.time_zone,
                f.path,
                f.sha256
            );
            for s in &f.sheets {
                println!("  sheet {}: {} rows", s.name, s.rows);
            }
            println!("Manifest: {} (sha256 {})", result.manifest_path, result.manifest_sha256);
        }
        Command::Verify { case, events, json } => {
            let r = CaseReader::open(&case)?;
            let bar = progress_bar(0);
            let report = r.verify(&mut |done, total| {
                if let Some(b) = &bar {
                    b.set_length(total);
                    b.set_position(done);
                }
            })?;
            let derived = if events {
                Some(r.renormalize(&FormatRegistry::builtin(), &mut |done, total| {
                    if let Some(b) = &bar {
                        b.set_length(total);
                        b.set_position(done);
                    }
                })?)
            } else {
                None
            };
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let derived_ok = derived.as_ref().is_none_or(|d| d.issues.is_empty());
            if let Some(d) = &derived {
                if !json {
                    if d.issues.is_empty() {
                        println!("OK: {} raw records normalize again to exactly the stored events.", d.checked);
                    } else {
                        println!("DIFFERENT: stored events differ from a fresh normalization of their raw records:");
                        for i in &d.issues {
                            println!("  raw record {} (event {:?}): {}", i.raw_id, i.event_id, safe(&i.problem));
                        }
                    }
                }
            }
            let mut w = CaseWriter::open(&case, clock, &operator)?;
            w.log(
                "verify",
                &format!(
                    "Verified {} raw records and {} log entries: {}",
                    report.raw_checked,
                    report.log_checked,
                    if report.ok() { "all intact".to_owned() } else { format!("{} problems", report.raw_issues.len() + report.log_issues.len()) }
                ),
                &serde_json::json!({ "raw_checked": report.raw_checked, "raw_issues": report.raw_issues, "log_issues": report.log_issues }),
                None,
            )?;
            if json {
                let mut v = serde_json::to_value(&report).map_err(|e| Error::internal(e.to_string()))?;
                v["events"] = serde_json::to_value(&derived).map_err(|e| Error::internal(e.to_string()))?;
                println!("{}", serde_json::to_string_pretty(&v).map_err(|e| Error::internal(e.to_string()))?);
            } else if report.ok() {
                println!(
                    "OK: {} raw records match their SHA-256; the case log ({} entries) is intact.",
                    report.raw_checked, report.log_checked
                );
            } else {
                println!(
                    "DAMAGED: {} of {} raw records and {} case-log entries fail verification.",
                    report.raw_issues.len(),
                    report.raw_checked,
                    report.log_issues.len()
                );
                for i in &report.raw_issues {
                    println!(
                        "  raw record {} (acquisition #{}, {}): {}",
                        i.raw_id,
                        i.acquisition_id,
                        safe(&i.locator),
                        i.problem
                    );
                }
                for i in &report.log_issues {
                    println!("  case log entry {}: {}", i.id, i.problem);
                }
                println!("Keep this file as it is and compare it with your original exports; re-import from the originals into a new case if needed.");
            }
            return Ok(if report.ok() && derived_ok { 0 } else { 1 });
        }
        Command::Mailbox { case, upn, from, to, report, csv, limit, json } => {
            let args = MailboxArgs { upn, from, to, report, csv, limit, json };
            mailbox_command(&case, &args, clock, &operator)?;
        }
        Command::Tag { case, name, query, color, remove } => {
            let q = Query::parse(&query)?;
            let mut w = CaseWriter::open(&case, clock, &operator)?;
            let existing = w.reader()?.tag_by_name(&name)?;
            let tag = match existing {
                Some(t) => t,
                None if remove => {
                    return Err(Error::new(
                        ErrorCode::TagNotFound,
                        format!("There is no tag named \"{}\". List the tags with `tidemark tags`.", safe(name.trim())),
                    ))
                }
                None => w.create_tag(&name, color.as_deref().unwrap_or(DEFAULT_TAG_COLOR))?,
            };
            let change = if remove { w.untag_query(tag.id, &query, &q)? } else { w.tag_query(tag.id, &query, &q)? };
            println!(
                "Tag \"{}\" {} {} events; {} events carry it now.",
                safe(&change.tag.name),
                if remove { "taken off" } else { "put on" },
                change.changed,
                change.tag.events
            );
        }
        Command::Tags { case, json } => {
            let tags = CaseReader::open(&case)?.tags()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tags).map_err(|e| Error::internal(e.to_string()))?);
            } else if tags.is_empty() {
                println!("No tags yet — add one with `tidemark tag CASE NAME --query QUERY`.");
            } else {
                for t in &tags {
                    println!("{} {} {} events", t.color, cell(&t.name, 32), t.events);
                }
            }
        }
        Command::Facets { case, query, top, estimate, json } => {
            let q = Query::parse(&query)?;
            let precision = if estimate { FacetPrecision::FAST } else { FacetPrecision::Exact };
            let f = CaseReader::open(&case)?.facets(&q, top, precision)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&f).map_err(|e| Error::internal(e.to_string()))?);
            } else {
                println!("{} events match.", f.matching);
                if let Some(sample) = &f.sample {
                    println!("Counts are estimates from {} of them, spread evenly over the result.", sample.events);
                }
                for facet in &f.fields {
                    let name = serde_json::to_value(facet.field).ok().and_then(|v| v.as_str().map(str::to_owned));
                    println!(
                        "\n{} — {} distinct, {} empty",
                        name.unwrap_or_default().to_uppercase(),
                        facet.distinct,
                        facet.empty
                    );
                    for v in &facet.values {
                        println!("  {:>9}  {}", v.count, safe(&v.value));
                    }
                    if facet.other > 0 {
                        println!("  {:>9}  (other values)", facet.other);
                    }
                }
            }
        }
        Command::Ip { case, address, json } => return accounts_cmd::ip(&case, &address, json),
        Command::Accounts { case, json } => return accounts_cmd::accounts(&case, json),
        Command::Sessions(a) => return accounts_cmd::sessions(&a),
        Command::Enrich { case, ip_data } => return accounts_cmd::enrich(&case, &ip_data, &operator),
        Command::Log { case } => {
            for e in CaseReader::open(&case)?.log_entries()? {
                println!(
                    "{} #{} {} [{}] {}{}",
                    e.time,
                    e.id,
                    safe(&e.operator),
                    e.action,
                    safe(&e.summary),
                    e.sha256.map(|s| format!(" sha256 {s}")).unwrap_or_default()
                );
            }
        }
    }
    Ok(0)
}

/// `tidemark mailbox`'s options.
struct MailboxArgs {
    upn: String,
    from: Option<String>,
    to: Option<String>,
    report: Option<String>,
    csv: Option<PathBuf>,
    limit: usize,
    json: bool,
}

fn to_json(v: serde_json::Result<String>) -> Result<String, Error> {
    v.map_err(|e| Error::internal(e.to_string()))
}

/// The mailbox activity view or a legacy report, printed or written as CSV.
fn mailbox_command(
    case: &std::path::Path,
    a: &MailboxArgs,
    clock: Arc<SystemClock>,
    operator: &str,
) -> Result<(), Error> {
    use tidemark_core::mailbox::MailboxScope;
    use tidemark_core::model::ReportKind;
    let scope = MailboxScope::parse(&a.upn, a.from.as_deref(), a.to.as_deref())?;
    let kind = a.report.as_deref().map(ReportKind::parse).transpose()?;
    let r = CaseReader::open(case)?;
    let mut out = std::io::stdout().lock();
    if let (Some(kind), Some(path)) = (kind, &a.csv) {
        let written = r.mailbox_report_csv(&scope, kind, path)?;
        CaseWriter::open(case, clock, operator)?.record_report_export(&scope, &written)?;
        let _ = writeln!(
            out,
            "Wrote {} rows of the {} report to {} (sha256 {})",
            written.rows,
            kind.as_str(),
            written.path,
            written.sha256
        );
        return Ok(());
    }
    if let Some(kind) = kind {
        let mut after: Option<String> = None;
        let mut shown = 0;
        loop {
            let page = r.mailbox_report(&scope, kind, after.as_deref(), (a.limit - shown).clamp(1, 1000))?;
            if shown == 0 && !a.json {
                let _ = writeln!(out, "{}", page.columns.join("\t"));
            }
            for row in &page.rows {
                if a.json {
                    let _ = writeln!(out, "{}", to_json(serde_json::to_string(row))?);
                } else {
                    let cells: Vec<String> = row.cells.iter().map(|c| safe(c)).collect();
                    let group = row.group.as_deref().map(|g| format!("{}\t", safe(g))).unwrap_or_default();
                    let _ = writeln!(out, "{group}{}", cells.join("\t"));
                }
            }
            shown += page.rows.len();
            match page.next {
                Some(n) if shown < a.limit => after = Some(n),
                _ => break,
            }
        }
        return Ok(());
    }
    let mut after: Option<String> = None;
    let mut shown = 0;
    let mut sessions = std::collections::BTreeMap::new();
    loop {
        let page = r.mailbox_page(&scope, after.as_deref(), (a.limit - shown).clamp(1, 1000))?;
        for e in &page.entries {
            if a.json {
                let _ = writeln!(out, "{}", to_json(serde_json::to_string(e))?);
                continue;
            }
            let mut what = e.subject.as_deref().map(safe).unwrap_or_default();
            if let Some(s) = &e.sender {
                what.push_str(&format!(" — from {}", safe(s)));
            }
            if let Some(t) = &e.search {
                what = format!("typed {} ⇒ searched \"{}\"", safe(&t.progression), safe(&t.query));
            }
            if let Some(p) = &e.pane {
                what.push_str(&match p.duration_ms {
                    Some(ms) => format!(" [{} {:.1} s]", p.marker, ms as f64 / 1000.0),
                    None => format!(" [{} unpaired]", p.marker),
                });
            }
            if let Some(d) = &e.detail {
                what.push_str(&format!(" ({})", safe(d)));
            }
            let _ = writeln!(
                out,
                "{} {} {} {} {} {}",
                cell(&e.time, 24),
                cell(&format!("s{}", &e.session[e.session.len().saturating_sub(6)..]), 8),
                cell(&e.action, 11),
                cell(&e.operation, 26),
                cell(e.client_ip.as_deref().unwrap_or("—"), 16),
                what.trim()
            );
        }
        for s in page.sessions {
            sessions.insert((s.first_ms, s.id.clone()), s);
        }
        shown += page.entries.len();
        match page.next {
            Some(n) if shown < a.limit => after = Some(n),
            _ => break,
        }
    }
    for s in sessions.values() {
        if a.json {
            let _ = writeln!(out, "{}", to_json(serde_json::to_string(s))?);
            continue;
        }
        let counts: Vec<String> = s.counts.iter().map(|c| format!("{} {}", c.count, c.action)).collect();
        let _ = writeln!(
            out,
            "session s{} ({}{}): {} – {}, IP {}, {} {}: {}",
            &s.id[s.id.len().saturating_sub(6)..],
            s.kind,
            s.session_id.as_deref().map(|i| format!(" {}", safe(i))).unwrap_or_default(),
            s.first_time,
            s.last_time,
            if s.ips.is_empty() { "—".to_owned() } else { safe(&s.ips.join(", ")) },
            safe(s.client.as_deref().unwrap_or("no client")),
            safe(s.app.as_deref().unwrap_or("")),
            counts.join(", ")
        );
    }
    if !a.json {
        let _ = writeln!(out, "{shown} entries shown.");
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = cli.verbose;
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("tidemark: {}", e.message);
            if let (true, Some(d)) = (verbose, &e.detail) {
                eprintln!("  detail ({}): {d}", e.code.as_str());
            }
            ExitCode::from(exit_code(e.code))
        }
    }
}
