//! Live collection in the app: connection profiles, the OS keychain, sign-in, preflight, collection
//! runs and the simulated tenant — adapters over `tidemark-collect`, which does all the work.
//!
//! Network work runs on its own thread with a current-thread Tokio runtime (the engine's progress
//! callbacks are not `Send`), and the command awaits its answer, so the window never stalls. A run
//! writes through its own connection to the case file, page by page; the timeline's reader sees every
//! committed page. One collection or sign-in at a time: a second one is refused with `collect.busy`.
//!
//! Opening the sign-in page goes through tauri-plugin-opener (the system browser). Debug builds take
//! `TIDEMARK_E2E_FOLLOW_SIGN_IN=1`: the end-to-end test's "browser" then follows the page over plain
//! HTTP and signs in with the simulated tenant's published test account; the loopback listener that
//! receives the redirect stays the real one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tauri::{AppHandle, Emitter};
use tidemark_collect::auth::{Auth, BrowserOpener, DevicePrompt, Interaction};
use tidemark_collect::cloud::{Cloud, Endpoints};
use tidemark_collect::http::{Api, RetryPolicy};
use tidemark_collect::preflight::{preflight, Check};
use tidemark_collect::profile::SourceOptions;
use tidemark_collect::run::{RunOptions, RunReport, Runner, CONTENT_TYPES};
use tidemark_collect::secrets::{Keychain, Secret, SecretKind, SecretStore};
use tidemark_collect::view::{CollectDefaults, CollectionOverview, ProfileView, SignInPrompt, SimulatedTenant};
use tidemark_collect::{CollectError, Profile, ProfileStore, SignIn, Source};
use tidemark_core::{CaseReader, CaseWriter, Clock, Error, ErrorBody, ErrorCode, SystemClock};
use tidemark_sim::{RunningSim, SimConfig};

const DAY_MS: i64 = 86_400_000;
/// The profile id the simulated tenant is saved under.
pub const SIM_PROFILE: &str = "simulated-tenant";

fn body(e: &Error) -> ErrorBody {
    ErrorBody::from(e)
}

fn collect_body(e: &CollectError) -> ErrorBody {
    body(&Error::from(e))
}

/// The simulated tenant's clock: its tokens and content rules run on it, so the collector shares it.
#[derive(Debug)]
struct SimTime(Arc<tidemark_sim::server::SimState>);

impl Clock for SimTime {
    fn now_ms(&self) -> i64 {
        self.0.now_ms()
    }
}

/// The collection side of the app. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Collecting(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    profiles: ProfileStore,
    secrets: Arc<dyn SecretStore>,
    sim: Mutex<Option<RunningSim>>,
    /// The running collection's stop switch.
    running: Mutex<Option<Arc<AtomicBool>>>,
    /// The waiting sign-in's cancel switch.
    signing_in: Mutex<Option<Arc<AtomicBool>>>,
    /// Test-only: follow the sign-in page over HTTP with the sim's account (debug builds).
    follow_sign_in: bool,
}

/// Frees a busy slot when dropped, whatever way the work ends.
struct Slot<'a>(&'a Mutex<Option<Arc<AtomicBool>>>);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.lock() {
            *s = None;
        }
    }
}

fn take_slot<'a>(m: &'a Mutex<Option<Arc<AtomicBool>>>, what: &str) -> Result<(Slot<'a>, Arc<AtomicBool>), ErrorBody> {
    let mut s = m.lock().map_err(|_| body(&Error::internal("collection state poisoned")))?;
    if s.is_some() {
        return Err(body(&Error::new(
            ErrorCode::CollectBusy,
            format!("A {what} is already running in Tidemark. Wait for it to finish or stop it first."),
        )));
    }
    let flag = Arc::new(AtomicBool::new(false));
    *s = Some(flag.clone());
    Ok((Slot(m), flag))
}

/// Opens the sign-in page: the system browser, or (tests) an HTTP client that signs in to the sim.
#[derive(Debug)]
struct AppOpener {
    app: AppHandle,
    /// Test-only: (login, password) on the simulated tenant's sign-in page.
    follow: Option<(String, String)>,
}

impl BrowserOpener for AppOpener {
    fn open(&self, url: &str) -> Result<(), String> {
        let _ = self.app.emit(
            "sign-in",
            SignInPrompt { kind: "browser".into(), url: Some(url.to_string()), user_code: None, message: None },
        );
        match &self.follow {
            Some((login, password)) => {
                let (url, login, password) = (url.to_string(), login.clone(), password.clone());
                std::thread::spawn(move || {
                    if let Err(e) = follow_sign_in(&url, &login, &password) {
                        eprintln!("tidemark: test sign-in could not follow the page: {e}");
                    }
                });
                Ok(())
            }
            None => {
                use tauri_plugin_opener::OpenerExt;
                self.app.opener().open_url(url, None::<&str>).map_err(|e| e.to_string())
            }
        }
    }
}

/// What a person does in the browser, over plain HTTP: the sign-in page, Accept, then the redirect
/// to Tidemark's loopback listener.
fn follow_sign_in(url: &str, login: &str, password: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let page = http.get(url).send().await.map_err(|e| e.to_string())?.text().await.map_err(|e| e.to_string())?;
        let request_id = page
            .split("name=\"request_id\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .ok_or("the sign-in page has no request_id")?
            .to_string();
        let action = url.split('?').next().unwrap_or(url).to_string();
        let r = http
            .post(&action)
            .form(&[
                ("request_id", request_id.as_str()),
                ("login", login),
                ("password", password),
                ("decision", "approve"),
            ])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or("the sign-in page did not redirect")?
            .to_string();
        http.get(&location).send().await.map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// Shows the device code in the app.
#[derive(Debug)]
struct AppPrompt {
    app: AppHandle,
}

impl DevicePrompt for AppPrompt {
    fn show(&self, user_code: &str, verification_uri: &str, message: &str) {
        let _ = self.app.emit(
            "sign-in",
            SignInPrompt {
                kind: "device-code".into(),
                url: Some(verification_uri.to_string()),
                user_code: Some(user_code.to_string()),
                message: Some(message.to_string()),
            },
        );
    }
}

/// Runs async network work on its own thread and current-thread runtime; awaits its answer.
async fn on_network_thread<T, F, Fut>(f: F) -> Result<T, ErrorBody>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, ErrorBody>>,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("tidemark-collect".into())
        .spawn(move || {
            let out = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt.block_on(f()),
                Err(e) => Err(body(&Error::internal(format!("could not start the network runtime: {e}")))),
            };
            let _ = tx.send(out);
        })
        .map_err(|e| body(&Error::internal(format!("could not start the network thread: {e}"))))?;
    rx.await.map_err(|_| body(&Error::internal("the network thread stopped without an answer")))?
}

impl Collecting {
    /// Profiles in `config_dir/profiles.json`; secrets in the OS keychain (`tidemark-dev` in debug builds).
    pub fn new(config_dir: &Path) -> Self {
        let follow_sign_in =
            cfg!(debug_assertions) && std::env::var_os("TIDEMARK_E2E_FOLLOW_SIGN_IN").is_some_and(|v| v == "1");
        Self(Arc::new(Inner {
            profiles: ProfileStore::at(config_dir.join("profiles.json")),
            secrets: Arc::new(Keychain::default()),
            sim: Mutex::new(None),
            running: Mutex::new(None),
            signing_in: Mutex::new(None),
            follow_sign_in,
        }))
    }

    /// Every saved profile with which secrets the keychain holds.
    pub fn profiles(&self) -> Result<Vec<ProfileView>, ErrorBody> {
        let list = self.0.profiles.list().map_err(|e| collect_body(&e))?;
        Ok(list.into_iter().map(|p| ProfileView::of(p, self.0.secrets.as_ref())).collect())
    }

    /// Saves a new profile or an edit of a saved one; `secret` (client secret or PFX password) goes to
    /// the keychain, and `None` keeps the one there.
    pub fn save(&self, profile: Profile, secret: Option<String>) -> Result<ProfileView, ErrorBody> {
        profile.validate().map_err(|e| collect_body(&e))?;
        if let Some(s) = secret.filter(|s| !s.is_empty()) {
            let kind = match profile.sign_in {
                SignIn::ClientSecret => SecretKind::ClientSecret,
                SignIn::Certificate { .. } => SecretKind::CertificatePassword,
                _ => {
                    return Err(body(&Error::new(
                        ErrorCode::CollectProfileInvalid,
                        "This sign-in method needs no secret: the investigator signs in. Leave the secret empty.",
                    )))
                }
            };
            self.0.secrets.set(&profile.id, kind, &Secret::new(s)).map_err(|e| collect_body(&e))?;
        }
        // An edit that moves the profile to another tenant, app, method or cloud leaves no sign-in behind.
        self.0.profiles.save_edit(&profile, self.0.secrets.as_ref()).map_err(|e| collect_body(&e))?;
        Ok(ProfileView::of(profile, self.0.secrets.as_ref()))
    }

    /// Removes a profile and its keychain entries.
    pub fn remove(&self, id: &str) -> Result<(), ErrorBody> {
        self.0.profiles.remove(id).map_err(|e| collect_body(&e))?;
        for kind in [
            SecretKind::ClientSecret,
            SecretKind::CertificateKey,
            SecretKind::CertificatePassword,
            SecretKind::RefreshToken,
        ] {
            self.0.secrets.delete(id, kind).map_err(|e| collect_body(&e))?;
        }
        Ok(())
    }

    /// Starts the simulated tenant in this process (or reuses the running one) and saves a profile
    /// for it with `method`.
    pub fn start_sim(&self, method: &str) -> Result<SimulatedTenant, ErrorBody> {
        let mut guard = self.0.sim.lock().map_err(|_| body(&Error::internal("simulated tenant state poisoned")))?;
        if guard.is_none() {
            let mut cfg = SimConfig::default();
            // Three hours after the scenario's end: every Management API content blob is available.
            cfg.start_ms = Some(cfg.scenario.end_ms + 3 * 3_600_000);
            cfg.device_code_interval_s = 2;
            let sim = RunningSim::spawn(cfg)
                .map_err(|e| body(&Error::internal(format!("the simulated tenant could not start: {e}"))))?;
            *guard = Some(sim);
        }
        let sim = guard.as_ref().ok_or_else(|| body(&Error::internal("simulated tenant missing")))?;
        let c = sim.credentials();
        let sign_in = match method {
            "browser" => SignIn::Browser { login_hint: None },
            "device-code" => SignIn::DeviceCode,
            "client-secret" => SignIn::ClientSecret,
            "certificate" => {
                // One PEM file with the certificate and its key, as an admin would hand it over.
                let both = Path::new(&c.certificate_path).with_file_name("sim-client-cert-and-key.pem");
                let pem = std::fs::read_to_string(&c.certificate_path)
                    .and_then(|cert| Ok(format!("{cert}\n{}", std::fs::read_to_string(&c.key_path)?)))
                    .and_then(|text| std::fs::write(&both, text))
                    .map_err(|e| body(&Error::io("write the simulated tenant's certificate", &both, &e)));
                pem?;
                SignIn::Certificate { path: Some(both), key_in_keychain: false, algorithm: "PS256".into() }
            }
            other => {
                return Err(body(&Error::new(
                    ErrorCode::CollectProfileInvalid,
                    format!(
                    "\"{other}\" is not a sign-in method. Choose browser, device-code, client-secret or certificate."
                ),
                )))
            }
        };
        let delegated = sign_in.is_delegated();
        let spec = &sim.state.config.scenario;
        let profile = Profile {
            id: SIM_PROFILE.into(),
            display_name: "Simulated tenant (training)".into(),
            cloud: Cloud::Global,
            tenant: c.tenant_id.clone(),
            client_id: if delegated { c.public_client_id.clone() } else { c.confidential_client_id.clone() },
            sign_in,
            sources: vec![Source::Management, Source::Graph, Source::Activities],
            options: SourceOptions { mailboxes: c.victim.clone().into_iter().collect(), ..SourceOptions::default() },
            endpoints: Endpoints {
                login: Some(c.login_url.clone()),
                management: Some(c.management_url.clone()),
                graph: Some(c.graph_url.clone()),
                outlook: Some(c.outlook_url.clone()),
            },
            origin: "simulated-tenant".into(),
        };
        // A new sim (new port) makes an earlier sign-in of the same profile worthless.
        let _ = self.0.secrets.delete(SIM_PROFILE, SecretKind::RefreshToken);
        if matches!(profile.sign_in, SignIn::ClientSecret) {
            self.0
                .secrets
                .set(SIM_PROFILE, SecretKind::ClientSecret, &Secret::new(c.client_secret.clone()))
                .map_err(|e| collect_body(&e))?;
        }
        self.0.profiles.save(&profile).map_err(|e| collect_body(&e))?;
        Ok(SimulatedTenant {
            profile: ProfileView::of(profile, self.0.secrets.as_ref()),
            base_url: c.base_url.clone(),
            investigator: c.investigator.clone(),
            password: c.user_password.clone(),
            victim: c.victim,
            now_ms: sim.state.now_ms(),
            from_ms: spec.end_ms - i64::from(spec.days) * DAY_MS,
            to_ms: spec.end_ms,
        })
    }

    /// The profile by id; a simulated-tenant profile whose sim is not running (the app restarted)
    /// starts the sim again and points the profile at it.
    fn profile(&self, id: &str) -> Result<Profile, ErrorBody> {
        let p = self.0.profiles.get(id).map_err(|e| collect_body(&e))?;
        if p.origin != "simulated-tenant" {
            return Ok(p);
        }
        let base = self.0.sim.lock().ok().and_then(|s| s.as_ref().map(|s| s.credentials().login_url));
        if base.as_deref() != p.endpoints.login.as_deref() {
            let t = self.start_sim(p.sign_in.id())?;
            return Ok(t.profile.profile);
        }
        Ok(p)
    }

    fn clock_for(&self, p: &Profile) -> Arc<dyn Clock> {
        if p.origin == "simulated-tenant" {
            if let Some(state) = self.0.sim.lock().ok().and_then(|s| s.as_ref().map(|s| s.state.clone())) {
                return Arc::new(SimTime(state));
            }
        }
        Arc::new(SystemClock)
    }

    fn api(&self, app: &AppHandle, p: Profile, cancel: Arc<AtomicBool>) -> Result<Arc<Api>, ErrorBody> {
        let follow = if self.0.follow_sign_in {
            self.0
                .sim
                .lock()
                .ok()
                .and_then(|s| s.as_ref().map(|s| s.credentials()))
                .map(|c| (c.investigator, c.user_password))
        } else {
            None
        };
        let interaction = Interaction {
            opener: Some(Arc::new(AppOpener { app: app.clone(), follow })),
            prompt: Some(Arc::new(AppPrompt { app: app.clone() })),
            timeout: Some(Duration::from_secs(300)),
            cancel,
        };
        let clock = self.clock_for(&p);
        let auth = Auth::new(p, self.0.secrets.clone(), clock, interaction).map_err(|e| collect_body(&e))?;
        Api::new(Arc::new(auth), RetryPolicy::default()).map(Arc::new).map_err(|e| collect_body(&e))
    }

    /// The time range to propose: the last 7 days of the tenant's clock (the sim: its scenario).
    pub fn defaults(&self, id: &str) -> Result<CollectDefaults, ErrorBody> {
        let p = self.profile(id)?;
        let now = self.clock_for(&p).now_ms();
        if p.origin == "simulated-tenant" {
            if let Some(spec) = self.0.sim.lock().ok().and_then(|s| s.as_ref().map(|s| s.state.config.scenario.clone()))
            {
                return Ok(CollectDefaults {
                    now_ms: now,
                    from_ms: spec.end_ms - i64::from(spec.days) * DAY_MS,
                    to_ms: spec.end_ms,
                });
            }
        }
        Ok(CollectDefaults { now_ms: now, from_ms: now - 7 * DAY_MS, to_ms: now })
    }

    /// Signs in if needed and checks each source (`sources`: the profile's when `None`).
    pub async fn preflight(
        &self,
        app: AppHandle,
        id: String,
        sources: Option<Vec<Source>>,
    ) -> Result<Vec<Check>, ErrorBody> {
        let this = self.clone();
        let p = self.profile(&id)?;
        on_network_thread(move || async move {
            let (_slot, cancel) = take_slot(&this.0.signing_in, "sign-in")?;
            let sources = sources.unwrap_or_else(|| p.sources.clone());
            let mailboxes = p.options.mailboxes.clone();
            let content_types: Vec<String> = if p.options.content_types.is_empty() {
                CONTENT_TYPES.iter().map(|s| s.to_string()).collect()
            } else {
                p.options.content_types.clone()
            };
            let api = this.api(&app, p, cancel)?;
            let checks = preflight(&api, &sources, &mailboxes, &content_types).await;
            let _ = app
                .emit("sign-in", SignInPrompt { kind: "signed-in".into(), url: None, user_code: None, message: None });
            Ok(checks)
        })
        .await
    }

    /// Stops waiting for the investigator to sign in.
    pub fn cancel_sign_in(&self) {
        if let Some(f) = self.0.signing_in.lock().ok().and_then(|s| s.clone()) {
            f.store(true, Ordering::Relaxed);
        }
    }

    /// Stops the running collection after its current page; what was stored stays.
    pub fn cancel(&self) {
        if let Some(f) = self.0.running.lock().ok().and_then(|s| s.clone()) {
            f.store(true, Ordering::Relaxed);
        }
    }

    /// Whether a collection runs now.
    pub fn is_running(&self) -> bool {
        self.0.running.lock().map(|s| s.is_some()).unwrap_or(false)
    }

    /// Collects into the case at `case_path`, emitting `collect-progress` after every page.
    /// `resume`: continue the case's newest unfinished run (its own profile, range and sources).
    #[allow(clippy::too_many_arguments, reason = "the two entry points share one body")]
    pub async fn collect(
        &self,
        app: AppHandle,
        case_path: PathBuf,
        operator: String,
        profile_id: Option<String>,
        range: Option<(i64, i64)>,
        sources: Option<Vec<Source>>,
        resume: bool,
    ) -> Result<RunReport, ErrorBody> {
        let this = self.clone();
        let profile = match (&profile_id, resume) {
            (Some(id), _) => self.profile(id)?,
            (None, true) => {
                let reader = CaseReader::open(&case_path).map_err(|e| body(&e))?;
                let runs = reader.collection_runs().map_err(|e| body(&e))?;
                let last =
                    runs.iter().rev().find(|r| r.status == "running" || r.status == "incomplete").ok_or_else(|| {
                        body(&Error::new(
                            ErrorCode::CollectNothingToResume,
                            "This case has no unfinished collection to resume.",
                        ))
                    })?;
                let p: Profile =
                    serde_json::from_value(last.profile.clone()).map_err(|e| {
                        body(&Error::new(
                        ErrorCode::CollectProfileInvalid,
                        "The unfinished collection's connection cannot be read. Start a new collection instead.",
                    )
                    .with_detail(e.to_string()))
                    })?;
                match self.profile(&p.id) {
                    Ok(saved) => saved,
                    Err(_) => p,
                }
            }
            (None, false) => {
                return Err(body(&Error::new(ErrorCode::CollectProfileInvalid, "Choose a connection to collect from.")))
            }
        };
        on_network_thread(move || async move {
            let (_slot, cancel) = take_slot(&this.0.running, "collection")?;
            let case = CaseWriter::open(&case_path, Arc::new(SystemClock), &operator).map_err(|e| body(&e))?;
            let clock = this.clock_for(&profile);
            let (from, to) = range.unwrap_or((0, 0));
            let sources = sources.unwrap_or_else(|| profile.sources.clone());
            let api = this.api(&app, profile, cancel.clone())?;
            let mut opts = RunOptions::new(from, to, sources);
            opts.cancel = cancel;
            let runner = Runner::new(api, clock, opts);
            let mut progress = |p: &tidemark_collect::run::Progress| {
                let _ = app.emit("collect-progress", p);
            };
            let out =
                if resume { runner.resume(case, &mut progress).await } else { runner.start(case, &mut progress).await };
            out.map(|(_, report)| report).map_err(|e| collect_body(&e))
        })
        .await
    }

    /// Runs, the newest run's coverage, and whether it can be resumed.
    pub fn overview(&self, case_path: &Path) -> Result<CollectionOverview, ErrorBody> {
        let reader = CaseReader::open(case_path).map_err(|e| body(&e))?;
        let runs = reader.collection_runs().map_err(|e| body(&e))?;
        CollectionOverview::of(&runs, |id| reader.collection_ledger(id), self.is_running()).map_err(|e| body(&e))
    }
}
