//! `tidemark collect` and `tidemark profile`: live collection from the command line.
//!
//! Secrets never appear on the command line: `--client-secret -` reads the secret from standard input
//! and stores it in the OS keychain. Exit codes of collection: 0 done · 8 a collection problem
//! (sign-in, permission, throttled, failed windows) · 9 stopped before the end (resume continues).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use tidemark_collect::auth::{Auth, BrowserOpener, DevicePrompt, Interaction};
use tidemark_collect::cloud::{Cloud, Endpoints};
use tidemark_collect::http::{Api, RetryPolicy};
use tidemark_collect::profile::SourceOptions;
use tidemark_collect::run::{Coverage, RunOptions, Runner};
use tidemark_collect::secrets::{Keychain, Secret, SecretKind, SecretStore};
use tidemark_collect::{CollectError, Profile, ProfileStore, SignIn, Source};
use tidemark_core::{CaseReader, CaseWriter, Clock, SystemClock};

/// `tidemark collect` arguments.
#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The case file (create it with `tidemark case new`).
    case: PathBuf,
    /// Connection profile (`tidemark profile list`).
    #[arg(long)]
    profile: Option<String>,
    /// Start of the time range (ISO 8601, e.g. 2025-03-01T00:00:00Z).
    #[arg(long)]
    from: Option<String>,
    /// End of the time range (default: now).
    #[arg(long)]
    to: Option<String>,
    /// Sources: management, graph, activities, entra-signins, entra-audits (repeatable; default: the
    /// profile's).
    #[arg(long = "source")]
    sources: Vec<String>,
    /// Continue the case's unfinished collection where it stopped.
    #[arg(long)]
    resume: bool,
    /// Records per page asked of Graph and Activities (1–1000).
    #[arg(long, default_value_t = 1000)]
    page_size: u32,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// `tidemark profile` commands.
#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Add (or replace) a connection profile; secrets go to the OS keychain.
    Add(Box<ProfileAdd>),
    /// List the profiles.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a profile and its keychain entries.
    Remove {
        /// Profile name.
        id: String,
    },
}

/// `tidemark profile add`.
#[derive(Args, Debug)]
pub struct ProfileAdd {
    /// Profile name (letters, digits, - and _).
    id: String,
    /// Name for people.
    #[arg(long)]
    display_name: Option<String>,
    /// global, gcc, gcc-high, dod or china.
    #[arg(long, default_value = "global")]
    cloud: String,
    /// Tenant domain or GUID.
    #[arg(long)]
    tenant: String,
    /// Client id of the app registration.
    #[arg(long)]
    client_id: String,
    /// browser, device-code, client-secret or certificate.
    #[arg(long)]
    method: String,
    /// Certificate file (PEM with the key, or PFX) for --method certificate.
    #[arg(long)]
    certificate: Option<PathBuf>,
    /// PS256 (default) or RS256.
    #[arg(long, default_value = "PS256")]
    algorithm: String,
    /// `-`: read the client secret (or the PFX password) from standard input into the keychain.
    #[arg(long)]
    client_secret: Option<String>,
    /// Sources: management, graph, activities, entra-signins, entra-audits (repeatable; default:
    /// management and graph).
    #[arg(long = "source")]
    sources: Vec<String>,
    /// Mailboxes for the legacy Activities API (repeatable).
    #[arg(long = "mailbox")]
    mailboxes: Vec<String>,
    /// Graph API version: beta or v1.0.
    #[arg(long)]
    graph_version: Option<String>,
    /// One base URL for every service (the simulated tenant: http://127.0.0.1:PORT).
    #[arg(long)]
    endpoint_base: Option<String>,
}

fn fail(e: &CollectError, verbose: bool) -> u8 {
    eprintln!("tidemark: {}", e.message);
    if let (true, Some(d)) = (verbose, &e.detail) {
        eprintln!("  detail ({}): {d}", e.code.as_str());
    } else if verbose {
        eprintln!("  code: {}", e.code.as_str());
    }
    match e.code {
        tidemark_collect::Code::ProfileInvalid => 2,
        tidemark_collect::Code::Case => 3,
        _ => 8,
    }
}

/// "management, graph, activities, entra-signins or entra-audits".
fn source_names() -> String {
    let names: Vec<&str> = Source::ALL.iter().map(|s| s.as_str()).collect();
    match names.split_last() {
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn parse_time(s: &str) -> Result<i64, CollectError> {
    tidemark_core::time::parse_utc_ms(s).ok_or_else(|| {
        CollectError::new(
            tidemark_collect::Code::ProfileInvalid,
            format!("\"{s}\" is not a time Tidemark understands. Use ISO 8601, e.g. 2025-03-01T00:00:00Z."),
        )
    })
}

/// Opens the system browser.
#[derive(Debug)]
struct SystemBrowser;

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        eprintln!("Opening your browser to sign in. If it does not open, visit:\n  {url}");
        let cmd = if cfg!(target_os = "macos") {
            "open"
        } else if cfg!(windows) {
            "explorer"
        } else {
            "xdg-open"
        };
        std::process::Command::new(cmd).arg(url).spawn().map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Prints the device code.
#[derive(Debug)]
struct PrintCode;

impl DevicePrompt for PrintCode {
    fn show(&self, user_code: &str, verification_uri: &str, message: &str) {
        eprintln!("{message}\n  code: {user_code}\n  at:   {verification_uri}");
    }
}

fn print_coverage(c: &[Coverage]) {
    println!(
        "{:<13} {:<28} {:<17} {:<17} {:<8} {:>8} {:>8} {:>6} {:>6}  NOTES",
        "SOURCE", "SCOPE", "FROM", "TO", "STATUS", "SERVER", "RECEIVED", "NEW", "DUP"
    );
    for w in c {
        let faults: Vec<String> = w.faults.iter().map(|(k, v)| format!("{k}×{v}")).collect();
        let mut notes = w.blind_spots.join("; ");
        if !faults.is_empty() {
            notes = format!("{}{}faults met: {}", notes, if notes.is_empty() { "" } else { "; " }, faults.join(", "));
        }
        println!(
            "{:<13} {:<28} {:<17} {:<17} {:<8} {:>8} {:>8} {:>6} {:>6}  {}",
            w.source,
            w.scope.chars().take(28).collect::<String>(),
            &w.start[..16.min(w.start.len())],
            &w.end[..16.min(w.end.len())],
            w.status,
            w.server_count.map(|n| n.to_string()).unwrap_or_else(|| "—".into()),
            w.records,
            w.new_events,
            w.duplicates,
            notes
        );
    }
}

/// `tidemark collect`.
pub fn collect(a: &CollectArgs, operator: &str, verbose: bool) -> Result<u8, tidemark_core::Error> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let case = CaseWriter::open(&a.case, clock.clone(), operator)?;
    let store = ProfileStore::default_location();
    // A resumed run collects what it started with, whichever profile signs in for it.
    let mut run_sources: Option<Vec<Source>> = None;
    let profile = if a.resume {
        let runs = CaseReader::open(&a.case)?.collection_runs()?;
        let last = runs.iter().rev().find(|r| r.status == "running" || r.status == "incomplete");
        run_sources = last.map(|r| r.sources.iter().filter_map(|s| Source::parse(s)).collect());
        match (&a.profile, last) {
            (Some(p), _) => match store.get(p) {
                Ok(p) => p,
                Err(e) => return Ok(fail(&e, verbose)),
            },
            (None, Some(r)) => match serde_json::from_value::<Profile>(r.profile.clone()) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("tidemark: the unfinished run's profile cannot be read ({e}); name one with --profile");
                    return Ok(2);
                }
            },
            (None, None) => {
                eprintln!("tidemark: this case has no unfinished collection to resume.");
                return Ok(8);
            }
        }
    } else {
        let Some(p) = &a.profile else {
            eprintln!("tidemark: name a connection profile with --profile (see `tidemark profile list`).");
            return Ok(2);
        };
        match store.get(p) {
            Ok(p) => p,
            Err(e) => return Ok(fail(&e, verbose)),
        }
    };
    let sources: Vec<Source> = if a.sources.is_empty() {
        run_sources.unwrap_or_else(|| profile.sources.clone())
    } else {
        let mut out = Vec::new();
        for s in &a.sources {
            match Source::parse(s) {
                Some(x) => out.push(x),
                None => {
                    eprintln!("tidemark: \"{s}\" is not a source. Use {}.", source_names());
                    return Ok(2);
                }
            }
        }
        out
    };
    let now = clock.now_ms();
    let (from, to) = if a.resume {
        (0, 0)
    } else {
        let from = match a.from.as_deref().map(parse_time).transpose() {
            Ok(Some(f)) => f,
            Ok(None) => now - 7 * 86_400_000,
            Err(e) => return Ok(fail(&e, verbose)),
        };
        let to = match a.to.as_deref().map(parse_time).transpose() {
            Ok(t) => t.unwrap_or(now),
            Err(e) => return Ok(fail(&e, verbose)),
        };
        (from, to)
    };
    let interaction = Interaction {
        opener: Some(Arc::new(SystemBrowser)),
        prompt: Some(Arc::new(PrintCode)),
        ..Interaction::default()
    };
    // The run's profile names what it collects: a delegated sign-in asks for exactly those permissions.
    let mut profile = profile;
    profile.sources = sources.clone();
    let api = match Auth::new(profile, Arc::new(Keychain::default()), clock.clone(), interaction)
        .and_then(|auth| Api::new(Arc::new(auth), RetryPolicy::default()))
    {
        Ok(api) => Arc::new(api),
        Err(e) => return Ok(fail(&e, verbose)),
    };
    let mut opts = RunOptions::new(from, to, sources);
    opts.page_size = a.page_size;
    let runner = Runner::new(api, clock, opts);
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return Err(tidemark_core::Error::internal(e.to_string())),
    };
    let tty = std::io::stderr().is_terminal();
    let mut last = std::time::Instant::now();
    let mut progress = |p: &tidemark_collect::run::Progress| {
        if tty || last.elapsed().as_secs() >= 2 {
            last = std::time::Instant::now();
            eprint!(
                "{}{} {} — window {}/{}, {} records ({} new), {:.0} records/s{}",
                if tty { "\r" } else { "" },
                p.source,
                p.scope,
                p.windows_done + 1,
                p.windows_total,
                p.records,
                p.new_events,
                p.records_per_s,
                if tty { "   " } else { "\n" }
            );
        }
    };
    let result = rt.block_on(async {
        if a.resume {
            runner.resume(case, &mut progress).await
        } else {
            runner.start(case, &mut progress).await
        }
    });
    if tty {
        eprintln!();
    }
    match result {
        Ok((_, report)) => {
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).map_err(|e| tidemark_core::Error::internal(e.to_string()))?
                );
            } else {
                println!(
                    "Collection run #{}: {} records in {} pages, {} new events, {} duplicates, {} unreadable (kept raw) in {:.1} s",
                    report.run_id,
                    report.records,
                    report.pages,
                    report.new_events,
                    report.duplicates,
                    report.errors,
                    report.elapsed_ms as f64 / 1000.0
                );
                print_coverage(&report.coverage);
            }
            let failed = report.coverage.iter().any(|c| c.status == "failed");
            Ok(if report.stopped_early {
                9
            } else if failed {
                8
            } else {
                0
            })
        }
        Err(e) => Ok(fail(&e, verbose)),
    }
}

/// `tidemark profile …`.
pub fn profile(cmd: ProfileCommand, verbose: bool) -> Result<u8, tidemark_core::Error> {
    let store = ProfileStore::default_location();
    match cmd {
        ProfileCommand::List { json } => {
            let list = match store.list() {
                Ok(l) => l,
                Err(e) => return Ok(fail(&e, verbose)),
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).map_err(|e| tidemark_core::Error::internal(e.to_string()))?
                );
            } else if list.is_empty() {
                println!(
                    "No profiles yet. Add one with `tidemark profile add NAME --tenant … --client-id … --method …`."
                );
            } else {
                for p in list {
                    let sources: Vec<&str> = p.sources.iter().map(|s| s.as_str()).collect();
                    println!(
                        "{:<16} {:<28} {:<18} {:<14} {}",
                        p.id,
                        p.display_name,
                        p.cloud.display_name(),
                        p.sign_in.id(),
                        sources.join(",")
                    );
                }
            }
            Ok(0)
        }
        ProfileCommand::Remove { id } => match store.remove(&id) {
            Ok(true) => {
                let k = Keychain::default();
                for kind in [
                    SecretKind::ClientSecret,
                    SecretKind::CertificateKey,
                    SecretKind::CertificatePassword,
                    SecretKind::RefreshToken,
                ] {
                    if let Err(e) = k.delete(&id, kind) {
                        eprintln!(
                            "tidemark: the profile was removed, but its keychain entries could not be: {}",
                            e.message
                        );
                        break;
                    }
                }
                println!("Removed profile {id}.");
                Ok(0)
            }
            Ok(false) => {
                eprintln!("tidemark: there is no profile \"{id}\".");
                Ok(2)
            }
            Err(e) => Ok(fail(&e, verbose)),
        },
        ProfileCommand::Add(a) => {
            let cloud = match a.cloud.to_ascii_lowercase().as_str() {
                "global" | "commercial" => Cloud::Global,
                "gcc" => Cloud::Gcc,
                "gcc-high" => Cloud::GccHigh,
                "dod" => Cloud::Dod,
                "china" | "21vianet" => Cloud::China,
                other => {
                    eprintln!("tidemark: unknown cloud {other:?}: use global, gcc, gcc-high, dod or china.");
                    return Ok(2);
                }
            };
            let sign_in = match a.method.as_str() {
                "browser" => SignIn::Browser { login_hint: None },
                "device-code" => SignIn::DeviceCode,
                "client-secret" | "secret" => SignIn::ClientSecret,
                "certificate" => SignIn::Certificate {
                    path: a.certificate.clone(),
                    key_in_keychain: false,
                    algorithm: a.algorithm.clone(),
                },
                other => {
                    eprintln!("tidemark: unknown sign-in method {other:?}: use browser, device-code, client-secret or certificate.");
                    return Ok(2);
                }
            };
            let mut sources = Vec::new();
            for s in if a.sources.is_empty() {
                vec!["management".to_string(), "graph".to_string()]
            } else {
                a.sources.clone()
            } {
                match Source::parse(&s) {
                    Some(x) => sources.push(x),
                    None => {
                        eprintln!("tidemark: \"{s}\" is not a source. Use {}.", source_names());
                        return Ok(2);
                    }
                }
            }
            let endpoints = match &a.endpoint_base {
                Some(b) => {
                    let b = b.trim_end_matches('/');
                    Endpoints {
                        login: Some(format!("{b}/login")),
                        management: Some(format!("{b}/manage")),
                        graph: Some(format!("{b}/graph")),
                        outlook: Some(format!("{b}/outlook")),
                    }
                }
                None => Endpoints::default(),
            };
            let profile = Profile {
                id: a.id.clone(),
                display_name: a.display_name.clone().unwrap_or_else(|| a.id.clone()),
                cloud,
                tenant: a.tenant.clone(),
                client_id: a.client_id.clone(),
                sign_in,
                sources,
                options: SourceOptions {
                    mailboxes: a.mailboxes.clone(),
                    graph_version: a.graph_version.clone(),
                    ..SourceOptions::default()
                },
                endpoints,
                origin: if a.endpoint_base.is_some() { "simulated-tenant".into() } else { "manual".into() },
            };
            // Replacing a profile that signed in elsewhere forgets that sign-in (ProfileStore::save_edit).
            match store.save_edit(&profile, &Keychain::default()) {
                Ok(true) => eprintln!(
                    "tidemark: the profile now signs in to another tenant, app or cloud; its earlier sign-in was forgotten."
                ),
                Ok(false) => {}
                Err(e) => return Ok(fail(&e, verbose)),
            }
            if a.client_secret.as_deref() == Some("-") {
                let mut s = String::new();
                if std::io::stdin().read_to_string(&mut s).is_err() || s.trim().is_empty() {
                    eprintln!("tidemark: no secret was given on standard input.");
                    return Ok(2);
                }
                let kind = if matches!(profile.sign_in, SignIn::Certificate { .. }) {
                    SecretKind::CertificatePassword
                } else {
                    SecretKind::ClientSecret
                };
                if let Err(e) =
                    Keychain::default().set(&profile.id, kind, &Secret::new(s.trim_end_matches(['\r', '\n'])))
                {
                    return Ok(fail(&e, verbose));
                }
            } else if a.client_secret.is_some() {
                eprintln!(
                    "tidemark: secrets are never taken on the command line; use --client-secret - and type or pipe it."
                );
                return Ok(2);
            }
            println!("Saved profile {} in {}.", profile.id, store.path().display());
            Ok(0)
        }
    }
}
