//! What the commands share, built from the settings in one place so that no command imports
//! another: the database, the HTTP gate and the registry client (one construction, so that
//! `census`, `worker`, `discover` and `scan docker://` pace the same hosts, refuse the same
//! addresses and present credentials to the same places), and the census worker with its run
//! record, seeds, Ctrl-C handling and closing lines.

use std::{process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context as _;
use hubcensus_hub::{
    ExclusionPolicy, HubClient, HubConfig, HubCredentials, Strategy as HubStrategy, TagPolicy, seed_tasks,
};
use hubcensus_intel::{ExtractLimits, IndicatorExtractor, TyposquatConfig};
use hubcensus_net::{Gate, GateConfig, OriginLimit};
use hubcensus_pipeline::{
    Census, PipelineConfig, Progress, Scanner, Services, StageCaps, WorkSummary, WorkerId,
};
use hubcensus_registry::{Credentials, RegistryClient, RegistryConfig};
use hubcensus_rules::RuleSet;
use hubcensus_store::{ConnectOptions, Store, frame::FrameCounts, runs::NewRun};
use hubcensus_types::Platform;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::{
    budgets::Budgets,
    config::{Settings, Strategy, TagPolicy as PolicySetting},
};

/// The gate every request passes: the Hub API's origin takes from `budgets.hub_api`, the
/// registry's origin is held to a concurrency (its manifest requests take from
/// `budgets.registry_manifests` through the registry client), any other origin is paced at
/// `[net] requests_per_minute`.
///
/// # Errors
/// A `hub.url` or `registry.url` that is not a URL with a host; a gate that cannot be built.
pub(crate) fn gate(settings: &Settings, budgets: &Budgets) -> anyhow::Result<Arc<Gate>> {
    Ok(Arc::new(Gate::new(gate_config(settings, budgets)?).context("building the HTTP gate")?))
}

/// The Docker Hub account configured in `[hub]` (username and token), if both are set.
pub(crate) fn hub_account(settings: &Settings) -> Option<(String, String)> {
    match (&settings.hub.username, &settings.hub.token) {
        (Some(user), Some(token)) => Some((user.clone(), token.clone())),
        _ => None,
    }
}

/// The client of the configured registry (`[registry]`: Docker Hub by default), resolving
/// `platform`, with the `[hub]` account if one is configured (it is offered to the registry's
/// own host and `registry.auth_url`'s host only).
///
/// # Errors
/// A `registry.url` or `registry.auth_url` that is not a URL.
pub(crate) fn registry_client(
    gate: Arc<Gate>,
    settings: &Settings,
    platform: Platform,
    budgets: &Budgets,
) -> anyhow::Result<RegistryClient> {
    Ok(RegistryClient::new(
        gate,
        RegistryConfig {
            base_url: Url::parse(&settings.registry.url).context("registry.url")?,
            platform,
            credentials: hub_account(settings).map(|(username, secret)| Credentials { username, secret }),
            auth_host: Url::parse(&settings.registry.auth_url)
                .context("registry.auth_url")?
                .host_str()
                .map(str::to_owned),
            quota_reserve: u64::from(settings.registry.pull_reserve),
            manifest_budget: Some(Arc::clone(&budgets.registry_manifests)),
            pull_budget: budgets.pull_quota.clone(),
        },
    ))
}

/// The client of another registry at `base_url`: anonymous (the Docker Hub account is never
/// offered to a registry the configuration does not name), resolving `platform`.
pub(crate) fn registry_client_at(
    gate: Arc<Gate>,
    settings: &Settings,
    platform: Platform,
    base_url: Url,
) -> RegistryClient {
    RegistryClient::new(
        gate,
        RegistryConfig {
            platform,
            quota_reserve: u64::from(settings.registry.pull_reserve),
            ..RegistryConfig::for_registry(base_url)
        },
    )
}

fn gate_config(settings: &Settings, budgets: &Budgets) -> anyhow::Result<GateConfig> {
    let url = |url: &str, key: &str| -> anyhow::Result<Url> {
        let parsed = Url::parse(url).with_context(|| format!("{key}: {url:?}"))?;
        anyhow::ensure!(parsed.host_str().is_some(), "{key}: {url:?} has no host");
        Ok(parsed)
    };
    let net = &settings.net;
    let registry_concurrency =
        settings.registry.blob_concurrency.max(1) + settings.census.resolve_concurrency.max(1);
    Ok(GateConfig {
        user_agent: net.user_agent.clone(),
        connect_timeout: Duration::from_secs(net.connect_timeout_secs),
        read_timeout: Duration::from_secs(net.read_timeout_secs),
        max_retries: net.max_retries,
        allow_private_addresses: net.allow_private_addresses,
        origins: vec![
            OriginLimit {
                budget: Some(Arc::clone(&budgets.hub_api)),
                ..OriginLimit::per_minute(
                    &url(&settings.hub.url, "hub.url")?,
                    settings.hub.requests_per_minute,
                    settings.census.discover_concurrency.max(1) + settings.census.tags_concurrency.max(1),
                )
            },
            // Unpaced here: manifest requests take from `registry_manifests` (the registry
            // client attaches it), blob requests (each a 307 to the CDN, whose own origin is
            // paced) from nothing but this concurrency.
            OriginLimit::per_minute(&url(&settings.registry.url, "registry.url")?, 0, registry_concurrency),
        ],
        default_limit: OriginLimit {
            requests_per_minute: net.requests_per_minute,
            ..GateConfig::default().default_limit
        },
        ..GateConfig::default()
    })
}

/// Connects to the configured database and brings its schema up to date.
pub(crate) async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let options = ConnectOptions {
        max_connections: settings.database.max_connections,
        acquire_timeout: std::time::Duration::from_secs(settings.database.acquire_timeout_secs),
    };
    Ok(Store::open(settings.database_url()?, &options).await?)
}

/// Exit code of a census stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const INTERRUPTED: u8 = 130;

/// What a worker that stopped early says.
pub(crate) fn interrupted(summary: &WorkSummary) -> ExitCode {
    eprintln!(
        "hubcensus: interrupted; {} job(s) released. Run the same command again to continue.",
        summary.released
    );
    ExitCode::from(INTERRUPTED)
}

/// One line on what this worker did.
/// What this process's crawl cost, in the figures Docker Hub's budgets are counted in: Hub API
/// requests per repository seen, token requests per kept repository, manifest GETs (pulls) per
/// new image, and the 429s received (a polite crawl has none). `frame` and `images` are the
/// census database's totals, so the ratios are exact for a census run by one process.
pub(crate) fn crawl_cost(census: &Census, frame: &FrameCounts, images: i64) -> String {
    let services = census.services();
    let hub = services.hub.requests();
    let registry = services.registry.stats();
    let per = |n: u64, of: i64| if of > 0 { n as f64 / of as f64 } else { 0.0 };
    format!(
        "{hub} Hub API requests ({:.2} per repository seen), {} token requests ({:.2} per kept repository), \
         {} manifest HEADs, {} manifest GETs ({:.3} per new image), {} blob GETs, {} responses 429",
        per(hub, frame.repositories_seen),
        registry.token_requests,
        per(registry.token_requests, frame.repositories_kept),
        registry.manifest_heads,
        registry.manifest_gets,
        per(registry.manifest_gets, images),
        registry.blob_gets,
        services.hub.gate().too_many_requests(),
    )
}

pub(crate) fn summarise(summary: &WorkSummary) -> String {
    summary
        .snapshot
        .stages
        .iter()
        .map(|s| format!("{} {} done", s.stage, s.done))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cancellation token fired by the first Ctrl-C; a second Ctrl-C exits at once (leases then
/// expire after `census.lease_secs` and other workers take the jobs).
pub(crate) fn ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let fire = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("hubcensus: stopping: finishing jobs in flight (Ctrl-C again to quit at once)");
            fire.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(INTERRUPTED));
            }
        }
    });
    token
}

/// The run record: what drew this sample.
pub(crate) fn new_run(settings: &Settings, label: &str) -> NewRun {
    NewRun {
        label: label.to_owned(),
        strategy: settings
            .discover
            .strategies
            .iter()
            .map(|s| {
                serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
            })
            .collect(),
        parameters: serde_json::json!({
            "discover": settings.discover,
            "tags": settings.tags,
            "census": settings.census,
            "limits": settings.limits,
        }),
        hub_url: settings.hub.url.clone(),
        registry_url: settings.registry.url.clone(),
        platform: settings.census.platform.clone(),
        rules_version: None,
        feeds_version: None,
    }
}

/// The discovery seeds of the configured strategies (and `extra`, e.g. `--names-file`).
pub(crate) fn seeds_with(
    settings: &Settings,
    extra: &[HubStrategy],
) -> anyhow::Result<Vec<hubcensus_hub::DiscoveryTask>> {
    let mut strategies: Vec<HubStrategy> = settings
        .discover
        .strategies
        .iter()
        .map(|s| match s {
            Strategy::SearchV4 => HubStrategy::Search,
            // Every namespace search sees is crawled (HubConfig::crawl_seen_namespaces); this
            // seeds `library`, whose repositories the frame records as official.
            Strategy::Namespaces => HubStrategy::Namespaces(Vec::new()),
            Strategy::NamesFile => {
                HubStrategy::NamesFile(settings.discover.names_file.clone().unwrap_or_default())
            }
            Strategy::LegacySearch => HubStrategy::Legacy,
        })
        .collect();
    strategies.extend_from_slice(extra);
    seed_tasks(&strategies, hubcensus_hub::DEFAULT_NAMES_CHUNK_LINES).context("seeding discovery")
}

pub(crate) fn seeds(settings: &Settings) -> anyhow::Result<Vec<hubcensus_hub::DiscoveryTask>> {
    seeds_with(settings, &[])
}

/// A census worker wired from the settings: gate, clients (logged in when credentials are
/// configured), scanner (over `rules`, from [`crate::rules::load`]), pipeline configuration.
pub(crate) async fn worker(
    settings: &Settings,
    rules: Arc<RuleSet>,
    store: Store,
    id: WorkerId,
    progress: Arc<dyn Progress>,
) -> anyhow::Result<Census> {
    let budgets = Budgets::for_worker(settings, &store, &id.to_string()).await?;
    let gate = crate::wiring::gate(settings, &budgets)?;
    let hub_url = Url::parse(&settings.hub.url).context("hub.url")?;
    let hub_credentials = match crate::wiring::hub_account(settings) {
        Some((user, token)) => Some(HubCredentials::new(&user, &token)),
        None => HubCredentials::from_env_or_docker_config().context("reading Docker Hub credentials")?,
    };
    let hub = HubClient::new(
        gate.clone(),
        HubConfig {
            page_size: settings.hub.page_size,
            credentials: hub_credentials,
            crawl_seen_namespaces: settings.discover.strategies.contains(&Strategy::Namespaces),
            exclude: ExclusionPolicy { reasons: settings.discover.exclude.iter().copied().collect() },
            ..HubConfig::with_base_url(hub_url)
        },
    );
    if hub.config().credentials.is_some() {
        hub.login().await.context("logging in to Docker Hub")?;
    }
    let platform: Platform = settings.census.platform.parse().context("census.platform")?;
    let registry = crate::wiring::registry_client(gate, settings, platform.clone(), &budgets)?;
    let scanner = Scanner {
        rules,
        extractor: Arc::new(IndicatorExtractor::new(ExtractLimits::default())),
        limits: settings.limits.clone(),
        typosquat: Arc::new(TyposquatConfig::builtin().context("loading the built-in typosquat thresholds")?),
    };
    let services = Services { store, hub, registry, scanner };
    Ok(Census::new(services, pipeline_config(settings, platform), id, progress))
}

/// `[census]` and `[tags]` as the pipeline's configuration.
fn pipeline_config(settings: &Settings, platform: Platform) -> PipelineConfig {
    let c = &settings.census;
    let t = &settings.tags;
    let usize_of = |n: u32| usize::try_from(n).unwrap_or(1);
    let scan_layer = match c.scan_concurrency {
        0 => StageCaps::default().scan_layer,
        n => usize_of(n),
    };
    PipelineConfig {
        lease: Duration::from_secs(c.lease_secs),
        heartbeat: Duration::from_secs(c.heartbeat_secs),
        max_attempts: i32::try_from(c.max_attempts).unwrap_or(i32::MAX),
        caps: StageCaps {
            discover: usize_of(c.discover_concurrency),
            tags: usize_of(c.tags_concurrency),
            resolve: usize_of(c.resolve_concurrency),
            scan_layer,
        },
        channel_capacity: usize_of(c.channel_capacity),
        grace: Duration::from_secs(c.grace_secs),
        idle_poll: Duration::from_millis(c.idle_poll_millis),
        retry_base: Duration::from_secs(c.retry_base_secs),
        retry_max: Duration::from_secs(c.retry_max_secs),
        tag_policy: match t.policy {
            PolicySetting::Latest => TagPolicy::Latest,
            PolicySetting::Recent => TagPolicy::Recent(t.recent.min(t.max_per_repository)),
            PolicySetting::All => TagPolicy::All { cap: t.max_per_repository },
        },
        platform,
        progress_interval: Duration::from_millis(c.progress_millis),
        ..PipelineConfig::default()
    }
}
