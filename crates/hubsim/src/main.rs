//! `hubsim`: run the Docker Hub simulator, print its ground truth, write its feeds, bench it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use hubcensus_hubsim::feeds::Feeds;
use hubcensus_hubsim::population::Population;
use hubcensus_hubsim::{FaultConfig, Sim, SimConfig, Truth};

#[derive(Debug, Parser)]
#[command(
    name = "hubsim",
    version,
    about = "A faithful Docker Hub simulator with planted threats and ground truth"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct PopulationArgs {
    /// Configuration file (see config/hubsim/default.toml); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Population seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Number of repositories.
    #[arg(long)]
    repos: Option<u32>,
    /// Share of community repositories search leaves out (0..=1): found only by a namespace
    /// crawl or by name (population.search_hidden).
    #[arg(long, value_name = "SHARE")]
    search_hidden: Option<f64>,
    /// Rounds of change the population has been through (population.epoch; what each round
    /// does is population.epochs in the configuration file).
    #[arg(long, value_name = "K")]
    epoch: Option<u32>,
}

impl PopulationArgs {
    fn load(&self) -> anyhow::Result<SimConfig> {
        let mut cfg = match &self.config {
            Some(p) => SimConfig::from_file(p)?,
            None => SimConfig::default(),
        };
        if let Some(s) = self.seed {
            cfg.population.seed = s;
        }
        if let Some(r) = self.repos {
            cfg.population.repos = r;
        }
        if let Some(h) = self.search_hidden {
            cfg.population.search_hidden = h;
        }
        if let Some(k) = self.epoch {
            cfg.population.epoch = k;
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
    Table,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the hub API, token service, registry and CDN until Ctrl-C.
    Serve {
        #[command(flatten)]
        population: PopulationArgs,
        /// Hub API address; the registry, token service and CDN take the next three ports
        /// (or ephemeral ports when the port is 0).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Allow a non-loopback --listen address.
        #[arg(long)]
        allow_non_loopback: bool,
        /// Simulated seconds per real second (21600: the 6-hour quota window lasts a second).
        #[arg(long)]
        time_scale: Option<f64>,
        /// Total injected fault rate, spread over every fault kind.
        #[arg(long)]
        fault_rate: Option<f64>,
    },
    /// Print the ground truth a census of the population must reproduce.
    Truth {
        #[command(flatten)]
        population: PopulationArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// Write the threat feeds matching the population (urlhaus.csv, nrd.txt, dyndns.txt).
    Feeds {
        #[command(flatten)]
        population: PopulationArgs,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure hub API requests/s and blob MB/s over loopback.
    Bench {
        /// Population seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of repositories.
        #[arg(long, default_value_t = 20_000)]
        repos: u32,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Concurrent connections.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { population, listen, allow_non_loopback, time_scale, fault_rate } => {
            let mut cfg = population.load()?;
            let s = &mut cfg.service;
            s.allow_non_loopback |= allow_non_loopback;
            s.hub_listen = listen;
            let next = |k: u16| {
                let mut a = listen;
                if a.port() != 0 {
                    a.set_port(a.port().saturating_add(k));
                }
                a
            };
            s.registry_listen = next(1);
            s.auth_listen = next(2);
            s.cdn_listen = next(3);
            if let Some(t) = time_scale {
                s.time_scale = t;
            }
            if let Some(r) = fault_rate {
                cfg.faults = FaultConfig { seed: cfg.faults.seed, ..FaultConfig::uniform(r) };
            }
            let sim = Sim::start(cfg).await.context("starting hubsim")?;
            println!(
                "{}",
                serde_json::json!({ "hub": sim.hub_url(), "registry": sim.registry_url(), "auth": sim.auth_url(), "cdn": sim.cdn_url(), "realm": format!("{}/token", sim.auth_url()) })
            );
            tracing::info!(repos = sim.population().len(), "hubsim serving; Ctrl-C stops");
            sim.serve_until_ctrl_c().await;
        }
        Command::Truth { population, format } => {
            let cfg = population.load()?;
            let truth =
                tokio::task::spawn_blocking(move || Truth::build(&Population::new(&cfg.population))).await?;
            match format {
                Format::Json => println!("{}", truth.to_json()),
                Format::Csv => print!("{}", truth.to_csv()),
                Format::Table => print!("{}", truth.table_text()),
            }
        }
        Command::Feeds { population, out } => {
            let cfg = population.load()?;
            let feeds = Feeds::generate(&Population::new(&cfg.population));
            for p in feeds.write(&out).with_context(|| format!("writing feeds to {}", out.display()))? {
                println!("{}", p.display());
            }
        }
        Command::Bench { seed, repos, seconds, concurrency } => {
            let r = hubcensus_hubsim::bench::run(seed, repos, seconds, concurrency).await?;
            println!(
                "hub API: {:.0} requests/s ({} requests, {concurrency} connections)",
                r.hub_requests_per_sec, r.hub_requests
            );
            println!(
                "blobs:   {:.0} MB/s ({} MB of a {} byte layer)",
                r.blob_mb_per_sec,
                r.blob_bytes / 1_000_000,
                r.blob_size
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hubsim: starting the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(Cli::parse())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hubsim: {e:#}");
            ExitCode::from(2)
        }
    }
}
