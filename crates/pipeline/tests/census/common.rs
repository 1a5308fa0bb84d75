//! The test kit: a hubsim population, a migrated database, and census workers wired to both
//! over loopback.

use std::{sync::Arc, time::Duration};

use hubcensus_hub::{HubClient, HubConfig, Strategy, seed_tasks};
use hubcensus_hubsim::{Sim, SimConfig, Truth, feeds::Feeds};
use hubcensus_intel::{ExtractLimits, FeedKind, IndicatorExtractor, TyposquatConfig};
use hubcensus_layer::Limits;
use hubcensus_net::{Gate, GateConfig, OriginLimit};
use hubcensus_pipeline::{
    Census, FeedFile, NoProgress, PipelineConfig, Progress, RunPlan, Scanner, Services, StageCaps, WorkerId,
    import_feed,
};
use hubcensus_registry::{RegistryClient, RegistryConfig};
use hubcensus_rules::RuleSet;
use hubcensus_store::{Store, runs::NewRun};
use hubcensus_types::{Category, Platform};
use url::Url;

/// Seed of every population here.
pub(crate) const SEED: u64 = 11;

/// A simulator, a database and the truth a census of it must reproduce.
pub(crate) struct Harness {
    pub(crate) sim: Sim,
    pub(crate) store: Store,
    pub(crate) truth: Truth,
    scanner: Scanner,
}

impl Harness {
    /// Starts hubsim with `repos` repositories (`tweak` adjusts its configuration), imports its
    /// feeds, and builds the truth.
    pub(crate) async fn start(store: Store, repos: u32, tweak: impl FnOnce(&mut SimConfig)) -> Self {
        // reqwest is built without a default crypto provider (docs/decisions/0001-http-gate.md).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut cfg = SimConfig::for_tests(SEED, repos);
        // Hub's pull quota (100 per 6 hours) would pause the census for hours: tests that
        // exercise it set their own.
        cfg.limits.pulls_anonymous = None;
        cfg.limits.pulls_authenticated = None;
        tweak(&mut cfg);
        let sim = Sim::start(cfg).await.unwrap();
        let truth = {
            let pop = hubcensus_hubsim::population::Population::new(&sim.config().population);
            tokio::task::spawn_blocking(move || Truth::build(&pop)).await.unwrap()
        };
        let feeds = Feeds::generate(sim.population());
        import(&store, "urlhaus.csv", FeedKind::Urlhaus, &feeds.urlhaus_csv, None).await;
        import(&store, "nrd.txt", FeedKind::Nrd, &feeds.nrd, None).await;
        import(&store, "dyndns.txt", FeedKind::Domains, &feeds.dyndns, Some(Category::DynamicDns)).await;
        let scanner = Scanner {
            rules: Arc::new(RuleSet::builtin().unwrap()),
            extractor: Arc::new(IndicatorExtractor::new(ExtractLimits::default())),
            limits: Limits::default(),
            typosquat: Arc::new(TyposquatConfig::builtin().unwrap()),
        };
        Self { sim, store, truth, scanner }
    }

    /// A worker with its own gate and clients (so its pull count is its own).
    pub(crate) fn census(&self, config: PipelineConfig) -> (Census, RegistryClient) {
        self.census_with(config, Arc::new(NoProgress))
    }

    /// [`Harness::census`] reporting to `progress`.
    pub(crate) fn census_with(
        &self,
        config: PipelineConfig,
        progress: Arc<dyn Progress>,
    ) -> (Census, RegistryClient) {
        self.census_hub(config, progress, |_| {})
    }

    /// [`Harness::census_with`], the hub client configured by `tweak`.
    pub(crate) fn census_hub(
        &self,
        config: PipelineConfig,
        progress: Arc<dyn Progress>,
        tweak: impl FnOnce(&mut HubConfig),
    ) -> (Census, RegistryClient) {
        let gate = Arc::new(
            Gate::new(GateConfig {
                allow_private_addresses: true,
                retry_base_delay: Duration::from_millis(5),
                retry_max_delay: Duration::from_millis(50),
                // Every origin (hubsim's four services) paced far above what a test spends.
                default_limit: OriginLimit {
                    requests_per_minute: 1_000_000,
                    concurrency: 64,
                    ..GateConfig::default().default_limit
                },
                ..GateConfig::default()
            })
            .unwrap(),
        );
        let mut hub_config = HubConfig::with_base_url(Url::parse(self.sim.hub_url()).unwrap());
        tweak(&mut hub_config);
        let hub = HubClient::new(gate.clone(), hub_config);
        let registry = RegistryClient::new(
            gate,
            RegistryConfig::for_registry(Url::parse(self.sim.registry_url()).unwrap()),
        );
        let services = Services {
            store: self.store.clone(),
            hub,
            registry: registry.clone(),
            scanner: self.scanner.clone(),
        };
        (Census::new(services, config, WorkerId::generate(), progress), registry)
    }

    /// The plan of a community census by v4 search and namespace crawl.
    pub(crate) fn plan(&self, new_run: bool) -> RunPlan {
        RunPlan {
            run: NewRun {
                label: "test".into(),
                strategy: vec!["search".into()],
                parameters: serde_json::json!({"seed": SEED}),
                hub_url: self.sim.hub_url().into(),
                registry_url: self.sim.registry_url().into(),
                platform: "linux/amd64".into(),
                rules_version: None,
                feeds_version: None,
            },
            seeds: seed_tasks(&[Strategy::Search], 500).unwrap(),
            new_run,
            sample: None,
        }
    }
}

/// A configuration that polls fast and retries soon, for a small population.
pub(crate) fn fast_config() -> PipelineConfig {
    PipelineConfig {
        lease: Duration::from_secs(60),
        heartbeat: Duration::from_secs(5),
        caps: StageCaps { discover: 2, tags: 4, resolve: 6, scan_layer: 2 },
        grace: Duration::from_secs(10),
        idle_poll: Duration::from_millis(50),
        retry_base: Duration::from_millis(100),
        retry_max: Duration::from_secs(1),
        progress_interval: Duration::from_millis(200),
        platform: Platform::linux_amd64(),
        ..PipelineConfig::default()
    }
}

/// Imports a feed as `hubcensus feeds import` does: through the same library function.
pub(crate) async fn import(
    store: &Store,
    name: &str,
    kind: FeedKind,
    text: &str,
    category: Option<Category>,
) {
    let file = FeedFile { name, kind, bytes: text.as_bytes(), category, date: None };
    let imported = import_feed(store, file).await.unwrap();
    assert!(imported.import.entries > 0, "{name} has entries");
}

/// `SELECT count(*)`-style scalar.
pub(crate) async fn scalar(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(store.pool()).await.unwrap()
}
