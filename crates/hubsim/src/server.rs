//! Starting and stopping the four listeners over one shared state.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cache::ContentCache;
use crate::config::{ConfigError, SimConfig};
use crate::faults::Faults;
use crate::population::Population;
use crate::population::base::BaseLayers;
use crate::population::content::{RepoContent, materialise};
use crate::quota::{LimitCounters, LimitCounts, Windows};
use crate::time::Clock;
use crate::truth::Truth;

/// Errors starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listen address is not loopback and `allow_non_loopback` is off.
    #[error("refusing to listen on non-loopback address {0} (set service.allow_non_loopback to allow it)")]
    NonLoopback(SocketAddr),
    /// A listener could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Base URLs of the four services.
#[derive(Debug, Clone)]
pub(crate) struct Urls {
    pub(crate) hub: String,
    pub(crate) registry: String,
    pub(crate) auth: String,
    pub(crate) cdn: String,
}

/// State shared by every handler.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) cfg: SimConfig,
    pub(crate) pop: Population,
    pub(crate) bases: Arc<BaseLayers>,
    pub(crate) cache: ContentCache,
    pub(crate) clock: Clock,
    pub(crate) secret: Vec<u8>,
    pub(crate) token_counter: AtomicU64,
    pub(crate) pulls: Windows,
    pub(crate) hub_windows: Windows,
    pub(crate) limit_counters: LimitCounters,
    pub(crate) faults: Arc<Faults>,
    pub(crate) urls: Urls,
    /// Repository indices by pull count, descending (search's default order).
    pub(crate) by_pulls: Vec<u32>,
    /// Repository indices by last update, descending.
    pub(crate) by_updated: Vec<u32>,
}

pub(crate) type Shared = Arc<Inner>;

impl Inner {
    /// The materialised content of a repository (built off the async runtime on a miss).
    pub(crate) async fn content(self: &Arc<Self>, repo: u32) -> Option<Arc<RepoContent>> {
        if let Some(c) = self.cache.peek(repo) {
            return Some(c);
        }
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.content_blocking(repo)).await.ok()
    }

    pub(crate) fn content_blocking(&self, repo: u32) -> Arc<RepoContent> {
        self.cache.get(repo, || materialise(&self.pop, &self.bases, repo))
    }
}

/// A running simulator. Dropping it without [`Sim::shutdown`] leaves the listeners running
/// until the runtime stops.
#[derive(Debug)]
pub struct Sim {
    shared: Shared,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

async fn bind(addr: SocketAddr, allow: bool) -> Result<TcpListener, Error> {
    if !addr.ip().is_loopback() && !allow {
        return Err(Error::NonLoopback(addr));
    }
    TcpListener::bind(addr).await.map_err(|source| Error::Bind { addr, source })
}

fn url_of(l: &TcpListener) -> String {
    l.local_addr().map(|a| format!("http://{a}")).unwrap_or_default()
}

impl Sim {
    /// Validates the configuration, builds the population's metadata and starts the four
    /// listeners (hub, registry, auth, cdn).
    pub async fn start(cfg: SimConfig) -> Result<Sim, Error> {
        cfg.validate()?;
        let s = &cfg.service;
        let allow = s.allow_non_loopback;
        let hub = bind(s.hub_listen, allow).await?;
        let registry = bind(s.registry_listen, allow).await?;
        let auth = bind(s.auth_listen, allow).await?;
        let cdn = bind(s.cdn_listen, allow).await?;
        let urls =
            Urls { hub: url_of(&hub), registry: url_of(&registry), auth: url_of(&auth), cdn: url_of(&cdn) };
        let pcfg = cfg.population.clone();
        let pop = tokio::task::spawn_blocking(move || Population::new(&pcfg)).await.map_err(|e| {
            Error::Config(ConfigError::Invalid(format!("building the population failed: {e}")))
        })?;
        let mut by_pulls: Vec<u32> = (0..pop.len() as u32).collect();
        by_pulls.sort_by_key(|&i| (std::cmp::Reverse(pop.repo(i).pull_count), i));
        let mut by_updated: Vec<u32> = (0..pop.len() as u32).collect();
        by_updated.sort_by_key(|&i| (std::cmp::Reverse(pop.repo(i).updated), i));
        let secret =
            hubcensus_types::Digest::sha256_of(format!("hubsim-secret-{}", cfg.population.seed).as_bytes())
                .hex()
                .as_bytes()
                .to_vec();
        let shared = Arc::new(Inner {
            bases: BaseLayers::shared(cfg.population.seed, cfg.population.anchor_unix),
            cache: ContentCache::new(cfg.service.cache_repos),
            clock: Clock::new(cfg.service.time_scale),
            secret,
            token_counter: AtomicU64::new(0),
            pulls: Windows::default(),
            hub_windows: Windows::default(),
            limit_counters: LimitCounters::default(),
            faults: Arc::new(Faults::new(cfg.faults.clone())),
            urls,
            by_pulls,
            by_updated,
            pop,
            cfg,
        });
        let (stop, rx) = watch::channel(false);
        let routers: [(TcpListener, Router); 4] = [
            (hub, crate::api::hub::router(shared.clone())),
            (registry, crate::api::registry::router(shared.clone())),
            (auth, crate::api::auth_router(shared.clone())),
            (cdn, crate::cdn::router(shared.clone())),
        ];
        let mut tasks = Vec::new();
        for (listener, router) in routers {
            let mut rx = rx.clone();
            tasks.push(tokio::spawn(async move {
                let svc = router.into_make_service_with_connect_info::<SocketAddr>();
                let _ = axum::serve(listener, svc)
                    .with_graceful_shutdown(async move {
                        let _ = rx.wait_for(|v| *v).await;
                    })
                    .await;
            }));
        }
        Ok(Sim { shared, stop, tasks })
    }

    /// Hub API base URL (`https://hub.docker.com` in production).
    pub fn hub_url(&self) -> &str {
        &self.shared.urls.hub
    }

    /// Registry base URL (`https://registry-1.docker.io`).
    pub fn registry_url(&self) -> &str {
        &self.shared.urls.registry
    }

    /// Token service base URL (`https://auth.docker.io`); the realm is `{auth_url}/token`.
    pub fn auth_url(&self) -> &str {
        &self.shared.urls.auth
    }

    /// Blob CDN base URL (`https://production.cloudflare.docker.com`).
    pub fn cdn_url(&self) -> &str {
        &self.shared.urls.cdn
    }

    /// What the Hub API limit and the pull quota saw so far, over every client: requests,
    /// pulls, and how many of each were refused for being over the limit.
    pub fn limit_counts(&self) -> LimitCounts {
        self.shared.limit_counters.snapshot()
    }

    /// The configuration in force.
    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    /// The population.
    pub fn population(&self) -> &Population {
        &self.shared.pop
    }

    /// The content of a repository by `namespace/name`, built if needed (blocking: call from
    /// `spawn_blocking` or a synchronous test).
    pub fn content(&self, full_name: &str) -> Option<Arc<RepoContent>> {
        let i = self.shared.pop.find(full_name)?;
        Some(self.shared.content_blocking(i))
    }

    /// The ground truth of the population (blocking: builds every planted repository).
    pub fn truth(&self) -> Truth {
        Truth::build_with(&self.shared.pop, &|i| self.shared.content_blocking(i))
    }

    /// Number of faults injected so far.
    pub fn faults_injected(&self) -> u64 {
        self.shared.faults.injected()
    }

    /// Number of repositories currently materialised in the cache.
    pub fn cached_repositories(&self) -> usize {
        self.shared.cache.len()
    }

    /// Stops the listeners and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Serves until the process receives Ctrl-C, then shuts down.
    pub async fn serve_until_ctrl_c(self) {
        let _ = tokio::signal::ctrl_c().await;
        self.shutdown().await;
    }
}
