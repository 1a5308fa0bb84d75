//! The command line: global options and one subcommand per job a researcher does.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, builder::TypedValueParser as _};
use hubcensus_intel::FeedKind;

use crate::config::LogFormat;

/// hubcensus — a research census of a container registry.
///
/// Enumerates Docker Hub's public repositories (excluding official, verified-publisher and
/// sponsored-OSS ones, and recording every exclusion), resolves their tags to images, scans every
/// unique layer once for miners, embedded secrets, proxy and hacking tools and suspicious domains,
/// and stores per-image findings in Postgres, so Sysdig's 2022 study can be reproduced and any
/// statistic is one SQL query away.
///
/// Exit codes: 0 success (for `scan`: nothing found), 1 `scan` found something, 2 error.
#[derive(Debug, Parser)]
#[command(name = "hubcensus", version, max_term_width = 100, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Configuration file layered over the built-in defaults (see config/default.toml).
    #[arg(long, global = true, env = "HUBCENSUS_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Postgres URL of the census database (overrides DATABASE_URL and the config file).
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) database_url: Option<String>,
    /// Log line format on stderr. RUST_LOG sets the level (default: info).
    #[arg(long, global = true, value_enum)]
    pub(crate) log_format: Option<LogFormat>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a whole census in this process: discover repositories, select tags, resolve images,
    /// scan each unique layer once, and store the findings. Resumes where an interrupted census
    /// stopped.
    Census(CensusArgs),
    /// Join a running census from any machine that reaches the same database, and work its
    /// queues until they are empty.
    Worker(WorkerArgs),
    /// Enumerate repositories (search shards, namespaces, a names file) into the database,
    /// recording the sampling frame and every exclusion with its reason.
    Discover(DiscoverArgs),
    /// Scan one image or layer and print its findings: `oci:DIR[:TAG]`, `docker-archive:FILE`,
    /// `layer:FILE` or `docker://[HOST/]NS/REPO[:TAG|@DIGEST]`. Needs no database.
    ///
    /// Exit codes: 0 nothing found at or above --min-confidence, 1 findings, 2 an error (a
    /// source that cannot be read, a blob whose digest does not match, a layer that hit a limit).
    Scan(ScanArgs),
    /// Print the Sysdig-style table of a census: per category the images, repositories and
    /// share of analysed images, beside Sysdig's 2022 figures, with the sampling frame.
    Report(ReportArgs),
    /// Show the census's progress: per-stage queue counts, parked errors, the frame, totals.
    Status(StatusArgs),
    /// Plan a sample: how long a sample of N repositories takes under the configured and
    /// measured budgets (Hub API requests per minute, the pull quota per window, pulls per
    /// image), and the 95% interval half-width it gives at a stated prevalence; or the inverse,
    /// the N a half-width needs and whether it fits in a given time.
    Plan(PlanArgs),
    /// Manage threat-intelligence feeds (URLhaus, newly registered domains, hosts files,
    /// category CSVs) stored in the database.
    Feeds(FeedsArgs),
    /// Database maintenance.
    Db(DbArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CensusArgs {
    /// A label stored with the run (e.g. "2026-11 community sample").
    #[arg(long, default_value = "")]
    pub(crate) label: String,
    /// Platform analysed for every tag (overrides census.platform).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub(crate) platform: Option<String>,
    /// Start a new census even though the last one finished: the frame is crawled again,
    /// known images cost no pull, and only layers scanned under other rules are scanned again.
    /// (Without it, an open census is resumed and a finished one is left as it is.)
    #[arg(long)]
    pub(crate) new: bool,
    /// Analyse a simple random sample of N kept repositories instead of all of them, drawn
    /// once discovery has built the whole frame. Given again with a larger N for the same run,
    /// it extends the sample and keeps the repositories drawn before.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) sample: Option<u32>,
    /// The draw's seed (default: sample.seed). The same seed over the same frame draws the
    /// same sample.
    #[arg(long, value_name = "S", requires = "sample")]
    pub(crate) seed: Option<u64>,
    /// Stratify the sample: `pulls` draws within pull-count bands (sample.pull_bands), sharing N
    /// by sample.allocation (proportional, or Neyman from a pilot's prevalences).
    #[arg(long, value_enum, value_name = "BY", requires = "sample")]
    pub(crate) strata: Option<Strata>,
    /// Serve Prometheus metrics at http://IP:PORT/metrics while the census runs (overrides
    /// metrics.listen; loopback only unless metrics.allow_non_loopback).
    #[arg(long, value_name = "IP:PORT")]
    pub(crate) metrics: Option<std::net::SocketAddr>,
}

/// What a stratified sample is stratified by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Strata {
    /// Hub's pull count, in the bands of sample.pull_bands.
    Pulls,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// The sample size to plan (default: the latest run's sample size, else the whole frame).
    #[arg(long, value_name = "N")]
    pub(crate) sample: Option<u64>,
    /// The prevalence the half-width is stated at (default: sample.plan_prevalence, 0.0025).
    #[arg(long, value_name = "P")]
    pub(crate) prevalence: Option<f64>,
    /// The frame's size (default: the database's kept repositories).
    #[arg(long, value_name = "N")]
    pub(crate) frame_size: Option<u64>,
    /// The inverse question: the sample size whose 95% interval has at most this half-width
    /// (a proportion: 0.001 is ±0.1 percentage points).
    #[arg(long, value_name = "H", requires = "within")]
    pub(crate) half_width: Option<f64>,
    /// With --half-width: the time available (`90s`, `45m`, `6h`, `3d`).
    #[arg(long, value_name = "DURATION", requires = "half_width")]
    pub(crate) within: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub(crate) format: StatusFormat,
}

#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// A name for this worker in leases and logs (default: host name and process id).
    #[arg(long)]
    pub(crate) id: Option<String>,
    /// Keep working as new jobs arrive instead of exiting when the queues are empty (stop with
    /// Ctrl-C).
    #[arg(long)]
    pub(crate) follow: bool,
    /// Serve Prometheus metrics at http://IP:PORT/metrics while the worker runs (overrides
    /// metrics.listen; loopback only unless metrics.allow_non_loopback).
    #[arg(long, value_name = "IP:PORT")]
    pub(crate) metrics: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub(crate) struct DiscoverArgs {
    /// File of repository names (one namespace/name per line) to add to the frame.
    #[arg(long, value_name = "FILE")]
    pub(crate) names_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// What to scan: `oci:DIR[:TAG]`, `docker-archive:FILE`, `layer:FILE`, `docker://REF`.
    pub(crate) source: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub(crate) format: ScanFormat,
    /// A feed file to match indicators against (URLhaus CSV, hosts file, domain list,
    /// `domain,category[,date]` CSV). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub(crate) feed: Vec<PathBuf>,
    /// Report only findings at or above this confidence.
    #[arg(long, value_enum, default_value_t = MinConfidence::Medium)]
    pub(crate) min_confidence: MinConfidence,
    /// Platform to pick from a multi-arch index.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub(crate) platform: Option<String>,
    /// YARA rules to scan with beside the built-in rules: a rule file, or a directory whose
    /// `*.yar`/`*.yara` files are all taken (e.g. config/rules/yara, the starter set).
    /// Repeatable; adds to `[rules] yara` of the configuration. Findings say
    /// `yara:FILE-STEM:RULE`; metadata `category` and `confidence` decide them.
    #[arg(long, value_name = "FILE|DIR")]
    pub(crate) yara: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ScanFormat {
    Table,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum MinConfidence {
    Low,
    Medium,
    High,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Output format: an aligned table, CSV (one row per category), JSON
    /// ({"frame", "categories", "totals"}), Markdown, or a self-contained HTML page with an SVG
    /// chart of our category mix beside Sysdig's.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub(crate) format: ReportFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Count a newly registered domain when a feed dates it within N days before the image was
    /// pushed (overrides feeds.nrd_window_days). Re-asks the question without re-scanning.
    #[arg(long, value_name = "N")]
    pub(crate) nrd_window_days: Option<u32>,
    /// Print the attribution clusters instead of the category table: images linked by a shared
    /// Monero wallet, mining pool, AWS account, SSH key, GitHub/npm token, domain, non-base layer
    /// or namespace, each with its images, repositories, pulls and categories (formats table,
    /// json, markdown, csv).
    #[arg(long)]
    pub(crate) clusters: bool,
    /// Report census run ID: its images, its coverage, its sample (default: the latest run,
    /// when it recorded the images it resolved; otherwise the whole database).
    #[arg(long, value_name = "ID", conflicts_with_all = ["clusters", "compare"])]
    pub(crate) run: Option<i64>,
    /// Compare two census runs: per category, the images (repository, tag, digest) flagged in
    /// both, only in A, only in B, with totals (every format).
    #[arg(long, num_args = 2, value_names = ["A", "B"], conflicts_with = "clusters")]
    pub(crate) compare: Option<Vec<i64>>,
    /// With --clusters: the N largest clusters, by repositories (0: all of them).
    #[arg(long, value_name = "N", default_value_t = hubcensus_store::clusters::DEFAULT_CLUSTER_LIMIT)]
    pub(crate) limit: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ReportFormat {
    Table,
    Csv,
    Json,
    Markdown,
    Html,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub(crate) format: StatusFormat,
    /// How many parked jobs to list.
    #[arg(long, default_value_t = 10)]
    pub(crate) parked: i64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum StatusFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct FeedsArgs {
    #[command(subcommand)]
    pub(crate) command: FeedsCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FeedsCommand {
    /// Import a feed file with its dates. Feeds are matched against the stored indicators by
    /// the database's views, so the next report reflects it without re-scanning anything.
    /// Importing the same bytes again changes nothing.
    Import(FeedImportArgs),
    /// List the imported feeds and how many images each flags.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
        format: StatusFormat,
    },
}

#[derive(Debug, Args)]
pub(crate) struct FeedImportArgs {
    /// The feed's format (see docs/feeds.md).
    #[arg(long, value_parser = feed_kind())]
    pub(crate) kind: FeedKind,
    /// A name for the feed (default: the file name).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The feed's date: stored as its publication date, and the date of every entry the file
    /// does not date itself (a WhoisDS newly-registered list of that day). Default: a
    /// YYYY-MM-DD in the file name, if any.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(crate) date: Option<chrono::NaiveDate>,
    /// The category of entries whose format implies none (hosts and domain lists: default
    /// malicious_domain; category-CSV lines without one), e.g. dynamic-dns. Ignored for nrd.
    #[arg(long, value_name = "CATEGORY")]
    pub(crate) category: Option<String>,
    /// The feed file.
    pub(crate) file: PathBuf,
}

/// `--kind`: intel's own [`FeedKind`], by its command-line names, which `--help` lists.
fn feed_kind() -> impl clap::builder::TypedValueParser<Value = FeedKind> {
    clap::builder::PossibleValuesParser::new(FeedKind::ALL.map(FeedKind::cli_name))
        .try_map(|s| s.parse::<FeedKind>())
}

#[derive(Debug, Args)]
pub(crate) struct DbArgs {
    #[command(subcommand)]
    pub(crate) command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Apply the schema migrations not yet applied (every command that uses the database does
    /// this too). Running it again is a no-op.
    Migrate,
}
