//! Collection benchmark: records/s collected from the simulated tenant (in-process, loopback, no
//! faults) into a fresh case, and the share of wall time spent waiting for the sim versus in Tidemark.
//!
//! `cargo run --release -p tidemark-collect --example bench_collect -- [RECORDS] [SOURCE]`
//! (default 1,000,000 records over Graph audit-log queries; `scripts/bench-collect` runs it).

use std::sync::Arc;
use std::time::Instant;

use tidemark_collect::auth::{Auth, Interaction};
use tidemark_collect::cloud::{Cloud, Endpoints};
use tidemark_collect::http::{Api, RetryPolicy};
use tidemark_collect::profile::SourceOptions;
use tidemark_collect::run::{RunOptions, Runner};
use tidemark_collect::secrets::{MemoryStore, Secret, SecretKind, SecretStore};
use tidemark_collect::{Profile, SignIn, Source};
use tidemark_core::{CaseWriter, Clock};
use tidemark_sim::{RunningSim, ScenarioSpec, SimConfig, Tenant};

#[derive(Debug)]
struct SimTime(Arc<tidemark_sim::server::SimState>);

impl Clock for SimTime {
    fn now_ms(&self) -> i64 {
        self.0.now_ms()
    }
}

fn count(spec: &ScenarioSpec) -> usize {
    let t = Tenant::generate(spec.clone());
    let mut n = 0;
    t.for_each_record(|_, _| n += 1);
    n
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let target: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let source = args.get(2).and_then(|s| Source::parse(s)).unwrap_or(Source::Graph);
    let mut spec = ScenarioSpec::preset("small").expect("preset");
    spec.days = 6;
    spec.events_per_mailbox_day = 165;
    spec.mailboxes = 4;
    let per_mailbox = (count(&spec) as f64 / 4.0).max(1.0);
    spec.mailboxes = ((target as f64 / per_mailbox).round() as u32).max(1);
    let mut cfg = SimConfig { scenario: spec, ..SimConfig::default() };
    cfg.graph_page_size = 1000;
    cfg.content_page_size = 1000;
    cfg.start_ms = Some(cfg.scenario.end_ms + 4 * 3_600_000);
    let sim = RunningSim::spawn(cfg).expect("sim");
    let c = sim.credentials();
    let tenant = Tenant::generate(sim.state.config.scenario.clone());
    eprintln!(
        "sim: {} mailboxes × {} days, collecting with {}",
        tenant.mailboxes.len(),
        tenant.spec.days,
        source.as_str()
    );
    let clock: Arc<dyn Clock> = Arc::new(SimTime(sim.state.clone()));
    let secrets = MemoryStore::default();
    secrets.set("bench", SecretKind::ClientSecret, &Secret::new(c.client_secret.clone())).expect("memory");
    let profile = Profile {
        id: "bench".into(),
        display_name: "bench".into(),
        cloud: Cloud::Global,
        tenant: c.tenant_id.clone(),
        client_id: c.confidential_client_id.clone(),
        sign_in: SignIn::ClientSecret,
        sources: vec![source],
        options: SourceOptions { mailboxes: c.users.clone(), ..SourceOptions::default() },
        endpoints: Endpoints {
            login: Some(c.login_url.clone()),
            management: Some(c.management_url.clone()),
            graph: Some(c.graph_url.clone()),
            outlook: Some(c.outlook_url),
        },
        origin: "simulated-tenant".into(),
    };
    let auth = Auth::new(profile, Arc::new(secrets), clock.clone(), Interaction::default()).expect("auth");
    let api = Arc::new(Api::new(Arc::new(auth), RetryPolicy::default()).expect("api"));
    let dir = std::env::temp_dir().join(format!("tidemark-bench-collect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("bench.tidemark");
    let case = CaseWriter::create(&path, "bench", clock.clone(), "bench").expect("case");
    let opts = RunOptions::new(tenant.start_ms, tenant.spec.end_ms + 3_600_000, vec![source]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let started = Instant::now();
    let (_, report) = rt.block_on(Runner::new(api, clock, opts).start(case, &mut |_| {})).expect("collect");
    let secs = started.elapsed().as_secs_f64();
    let server = report.server_ms as f64 / 1000.0;
    println!(
        "collected {} records ({} new events) in {} pages from {} in {:.1} s: {:.0} records/s",
        report.records,
        report.new_events,
        report.pages,
        source.as_str(),
        secs,
        report.records as f64 / secs
    );
    println!(
        "time waiting for the sim (request → full body, loopback): {:.1} s ({:.0} %); in Tidemark (normalize, hash, compress, write, index): {:.1} s ({:.0} %)",
        server,
        100.0 * server / secs,
        secs - server,
        100.0 * (secs - server) / secs
    );
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("case file: {:.0} MiB", size as f64 / 1_048_576.0);
    let _ = std::fs::remove_dir_all(&dir);
}
