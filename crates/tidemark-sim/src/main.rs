//! The `tidemark-sim` command: `serve` a simulated tenant, `export` it as offline files, print its
//! `answer-key`, or `make-cert` (regenerate the shipped test certificate).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use tidemark_sim::export::{export, write_answer_key, ExportFormat};
use tidemark_sim::{Cloud, FaultSpec, ScenarioSpec, SimConfig, SimServer, Tenant};

#[derive(Parser, Debug)]
#[command(
    name = "tidemark-sim",
    version,
    about = "A simulated Microsoft 365 tenant on loopback, for Tidemark's tests, demos and benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the tenant's identity platform, Management API, Graph audit queries and legacy Activities.
    Serve(ServeArgs),
    /// Write the tenant as offline files (the formats investigators import).
    Export(ExportArgs),
    /// Print the answer key (which records the attacker produced) as JSON.
    AnswerKey(ScenarioArgs),
    /// Generate a new RSA key and self-signed certificate (how `keys/` was made).
    MakeCert {
        /// Folder to write `sim-client-key.pem` and `sim-client-cert.pem` into.
        #[arg(long)]
        out_dir: PathBuf,
        /// Key seed.
        #[arg(long, default_value_t = 2025)]
        seed: u64,
    },
}

#[derive(Args, Debug, Clone)]
struct ScenarioArgs {
    /// Preset: demo (8 mailboxes × 10 days), small (4 × 3), large (2,000 × 30, ≈10 M records).
    #[arg(long, default_value = "demo")]
    scenario: String,
    /// Seed (everything derives from it).
    #[arg(long)]
    seed: Option<u64>,
    /// Number of mailboxes.
    #[arg(long)]
    mailboxes: Option<u32>,
    /// Days of activity.
    #[arg(long)]
    days: Option<u32>,
    /// Average events per mailbox and working day.
    #[arg(long)]
    events_per_day: Option<u32>,
    /// Extra client IPs for ordinary users (repeatable), on top of the documentation ranges.
    #[arg(long = "ip")]
    ips: Vec<String>,
    /// Leave out the business-email-compromise storyline.
    #[arg(long)]
    no_storyline: bool,
    /// A JSON config file (the `SimConfig` structure); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Loopback address to listen on (127.0.0.1 or ::1; anything else is refused).
    #[arg(long)]
    bind: Option<IpAddr>,
    /// Port (0 = any free port).
    #[arg(long)]
    port: Option<u16>,
    /// Cloud whose token audiences to accept: commercial, gcc, gcc-high, dod, china.
    #[arg(long)]
    cloud: Option<String>,
    /// Switch a fault on: KIND[:rate=R,max=N,burst=N,delay_ms=MS,retry_after_s=S] (repeatable).
    /// Kinds: throttle-429, throttle-af429, server-error, token-expiry, malformed-record, duplicate-blobs,
    /// slow-page, connection-reset, eventual-consistency, activities-shutdown, query-failed.
    #[arg(long = "fault")]
    faults: Vec<String>,
    /// Where to write the test certificate and key.
    #[arg(long)]
    state_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ExportArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Output format.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Output file (a folder for mgmt-blobs).
    #[arg(long)]
    out: PathBuf,
    /// Mailbox for retriever-csv (default: the compromised one).
    #[arg(long)]
    mailbox: Option<String>,
    /// Also write the answer key here.
    #[arg(long)]
    answer_key: Option<PathBuf>,
}

fn config_from(a: &ScenarioArgs) -> Result<SimConfig, String> {
    let mut cfg = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            serde_json::from_str::<SimConfig>(&text).map_err(|e| format!("{} is not a sim config: {e}", p.display()))?
        }
        None => SimConfig::default(),
    };
    if a.config.is_none() || a.scenario != "demo" {
        let preset = ScenarioSpec::preset(&a.scenario)
            .ok_or_else(|| format!("unknown scenario {:?}: expected demo, small or large", a.scenario))?;
        cfg.scenario = preset;
    }
    let s = &mut cfg.scenario;
    if let Some(x) = a.seed {
        s.seed = x;
    }
    if let Some(x) = a.mailboxes {
        s.mailboxes = x;
    }
    if let Some(x) = a.days {
        s.days = x;
    }
    if let Some(x) = a.events_per_day {
        s.events_per_mailbox_day = x;
    }
    s.extra_ips.extend(a.ips.iter().cloned());
    if a.no_storyline {
        s.storyline = false;
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve(&a),
        Command::Export(a) => run_export(&a),
        Command::AnswerKey(a) => config_from(&a).and_then(|cfg| {
            let t = Tenant::generate(cfg.scenario);
            let key = t.answer_key().ok_or("this scenario has no storyline")?;
            println!("{}", serde_json::to_string_pretty(&key).map_err(|e| e.to_string())?);
            Ok(())
        }),
        Command::MakeCert { out_dir, seed } => make_cert(&out_dir, seed),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tidemark-sim: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(a: &ServeArgs) -> Result<(), String> {
    let started = Instant::now();
    let mut cfg = config_from(&a.scenario)?;
    if let Some(b) = a.bind {
        cfg.bind = b;
    }
    if let Some(p) = a.port {
        cfg.port = p;
    }
    if let Some(c) = &a.cloud {
        cfg.cloud = serde_json::from_value::<Cloud>(serde_json::Value::from(c.as_str()))
            .map_err(|_| format!("unknown cloud {c:?}: expected commercial, gcc, gcc-high, dod or china"))?;
    }
    for f in &a.faults {
        cfg.faults.push(FaultSpec::parse(f)?);
    }
    if a.state_dir.is_some() {
        cfg.state_dir = a.state_dir.clone();
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let server = SimServer::bind(cfg).await.map_err(|e| e.to_string())?;
        let st = server.state();
        let c = st.credentials();
        let faults: Vec<String> = st.config.faults.iter().map(|f| f.kind.name()).collect();
        println!(
            "Tidemark simulated tenant \"{}\" (seed {}) listening on {}",
            st.tenant.spec.name, st.tenant.spec.seed, c.base_url
        );
        println!("  login (identity platform): {}/{{tenant}}/oauth2/v2.0/token", c.login_url);
        println!("  management activity api:   {}/api/v1.0/{}/activity/feed", c.management_url, c.tenant_id);
        println!("  graph:                     {}/v1.0  and  {}/beta", c.graph_url, c.graph_url);
        println!("  entra logs (graph):        {}/v1.0/auditLogs/signIns, …/directoryAudits", c.graph_url);
        println!("  outlook (legacy):          {}/api/v2.0/Users('{{upn}}')/Activities", c.outlook_url);
        println!("  admin:                     {}/faults, /clock, /answer-key, /credentials", c.admin_url);
        println!("tenant id:                 {} ({})", c.tenant_id, c.tenant_domain);
        println!("public client id:          {}", c.public_client_id);
        println!("confidential client id:    {}", c.confidential_client_id);
        println!("client secret:             {}", c.client_secret);
        println!("certificate:               {} (key {})", c.certificate_path, c.key_path);
        println!("certificate x5t / x5t#S256: {} / {}", c.certificate_x5t, c.certificate_x5t_s256);
        println!("users (password {}):  {}", c.user_password, c.users.join(", "));
        if let Some(v) = &c.victim {
            println!("compromised mailbox:       {v}");
        }
        println!(
            "faults:                    {}",
            if faults.is_empty() { "none".to_string() } else { faults.join(", ") }
        );
        println!("ready in {} ms; Ctrl-C stops", started.elapsed().as_millis());
        server
            .run(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| e.to_string())
    })
}

fn run_export(a: &ExportArgs) -> Result<(), String> {
    let cfg = config_from(&a.scenario)?;
    let t = Tenant::generate(cfg.scenario);
    let summary = export(&t, a.format, &a.out, a.mailbox.as_deref()).map_err(|e| format!("export failed: {e}"))?;
    println!(
        "wrote {} records ({} distinct) to {} file(s) under {}",
        summary.records,
        summary.distinct,
        summary.files.len(),
        a.out.display()
    );
    if let Some(p) = &a.answer_key {
        if write_answer_key(&t, p).map_err(|e| format!("cannot write {}: {e}", p.display()))? {
            println!("answer key: {}", p.display());
        }
    }
    Ok(())
}

fn make_cert(dir: &std::path::Path, seed: u64) -> Result<(), String> {
    let (key, cert) = tidemark_sim::certificate::make_self_signed("Tidemark simulated tenant test client", seed)
        .map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("sim-client-key.pem"), key).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("sim-client-cert.pem"), cert).map_err(|e| e.to_string())?;
    println!("wrote {}", dir.display());
    Ok(())
}
