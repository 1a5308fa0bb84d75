//! Shared helpers: gates for loopback, clients, simulators, and finding repositories of a kind.

use std::{sync::Arc, time::Duration};

use hubcensus_hubsim::{
    Sim, SimConfig,
    population::{Population, RepoKind, content::tag_media_type},
};
use hubcensus_net::{Gate, GateConfig};
use hubcensus_registry::{RegistryClient, RegistryConfig};
use hubcensus_types::RepoRef;
use url::Url;

pub(crate) const SEED: u64 = 7;

/// A gate for tests: loopback allowed, short retry delays, 429 windows waited up to 5 s.
pub(crate) fn gate() -> Arc<Gate> {
    Arc::new(
        Gate::new(GateConfig {
            allow_private_addresses: true,
            retry_base_delay: Duration::from_millis(10),
            retry_max_delay: Duration::from_millis(50),
            max_retries: 3,
            max_rate_limit_wait: Duration::from_secs(5),
            read_timeout: Duration::from_secs(20),
            ..GateConfig::default()
        })
        .unwrap(),
    )
}

/// A client for `base` with the census defaults (linux/amd64, anonymous, reserve 0).
pub(crate) fn client(base: &str, tweak: impl FnOnce(&mut RegistryConfig)) -> RegistryClient {
    let mut cfg = RegistryConfig::for_registry(Url::parse(base).unwrap());
    cfg.quota_reserve = 0;
    tweak(&mut cfg);
    RegistryClient::new(gate(), cfg)
}

pub(crate) async fn sim(repos: u32, tweak: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut cfg = SimConfig::for_tests(SEED, repos);
    tweak(&mut cfg);
    Sim::start(cfg).await.unwrap()
}

/// The first community (not planted, not excluded) repository matching `pred`.
pub(crate) fn find(sim: &Sim, what: &str, pred: impl Fn(&Population, u32) -> bool) -> RepoRef {
    let pop = sim.population();
    (0..pop.len() as u32)
        .find(|&i| pop.repo(i).plant.is_none() && !pop.repo(i).private && pred(pop, i))
        .map(|i| pop.full_name(i).parse().unwrap())
        .unwrap_or_else(|| panic!("no repository that is {what}"))
}

/// A community image repository whose tags are of `media_type`.
pub(crate) fn image_repo(sim: &Sim, media_type: &str) -> RepoRef {
    find(sim, media_type, |pop, i| {
        pop.exclusion(i).is_none()
            && pop.repo(i).kind == RepoKind::Image
            && tag_media_type(pop, i) == Some(media_type)
    })
}

/// The content the simulator serves for a repository (blocking build, off the runtime thread).
pub(crate) fn content(sim: &Sim, repo: &RepoRef) -> Arc<hubcensus_hubsim::population::content::RepoContent> {
    tokio::task::block_in_place(|| sim.content(&repo.to_string()).unwrap())
}
