//! The budgets a census spends, named for what they are (`hub_api`, `registry_manifests`,
//! `pull_quota`) and keyed by origin (and account): kept in Postgres and shared by every worker
//! of the census when the command has a database and `[budgets] shared` is on, kept in this
//! process otherwise (`hubcensus scan docker://`).
//!
//! Docker Hub counts its limits per account or anonymous address, so N workers pacing
//! themselves alone would spend N times the budget. The gate and the registry client only see
//! `net`'s [`Budget`] trait; this module implements it over `store::budgets`.

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use anyhow::Context as _;
use hubcensus_net::{Budget, BudgetError, BudgetFuture, LocalRate, RateLimitInfo, RateShape, origin_of};
use hubcensus_store::{
    Store, StoreError,
    budgets::{PullTake, QuotaSpec, RateSpec},
};
use parking_lot::Mutex;
use url::Url;

use crate::config::Settings;

/// How long a pull may take between its take and the registry counting it (a concurrency
/// permit and the network: the pull is taken after the manifest rate's wait): the shared pull
/// quota counts its window, and the pulls before the registry's last word, this much longer.
const PULL_IN_FLIGHT: Duration = Duration::from_secs(2);

/// A registry's `ratelimit-remaining` is written to the shared quota when it changed, or at
/// most this often when it did not (every HEAD carries it).
const OBSERVE_EVERY: Duration = Duration::from_secs(1);

/// The budgets of one census identity.
#[derive(Debug, Clone)]
pub(crate) struct Budgets {
    /// Hub API requests (every request to `[hub] url`'s origin).
    pub(crate) hub_api: Arc<dyn Budget>,
    /// Manifest HEADs and GETs to `[registry] url`.
    pub(crate) registry_manifests: Arc<dyn Budget>,
    /// Manifest GETs against the pull quota; `None` when only the registry client's own
    /// accounting applies (no database).
    pub(crate) pull_quota: Option<Arc<dyn Budget>>,
}

impl Budgets {
    /// Budgets kept in this process.
    pub(crate) fn local(settings: &Settings) -> anyhow::Result<Self> {
        let names = Names::new(settings)?;
        Ok(Self {
            hub_api: Arc::new(LocalRate::per_minute(names.hub_api, settings.hub.requests_per_minute)),
            registry_manifests: Arc::new(LocalRate::per_minute(
                names.registry_manifests,
                settings.registry.manifest_requests_per_minute,
            )),
            pull_quota: None,
        })
    }

    /// Budgets in `store`, shared with every worker of the census, spent by `worker`; kept in
    /// this process when `[budgets] shared` is off.
    ///
    /// # Errors
    /// Bad URLs in the settings; the database refusing to create the budget rows.
    pub(crate) async fn for_worker(settings: &Settings, store: &Store, worker: &str) -> anyhow::Result<Self> {
        if !settings.budgets.shared {
            return Self::local(settings);
        }
        let names = Names::new(settings)?;
        let rate = |per_minute: u32| {
            let shape = RateShape::per_minute(per_minute);
            RateSpec { capacity: f64::from(shape.burst), refill_per_sec: shape.refill_per_sec }
        };
        store.ensure_rate_budget(&names.hub_api, rate(settings.hub.requests_per_minute)).await?;
        store
            .ensure_rate_budget(
                &names.registry_manifests,
                rate(settings.registry.manifest_requests_per_minute),
            )
            .await?;
        let quota = QuotaSpec {
            limit: u64::from(settings.registry.pull_quota),
            window: Duration::from_secs(settings.registry.pull_window_secs),
            reserve: u64::from(settings.registry.pull_reserve),
            in_flight: PULL_IN_FLIGHT,
        };
        store
            .ensure_quota_budget(&names.pull_quota, quota)
            .await
            .context("creating the pull-quota budget")?;
        let shared = |name: String| Shared { name, store: store.clone(), worker: worker.to_owned() };
        Ok(Self {
            hub_api: Arc::new(SharedRate(shared(names.hub_api))),
            registry_manifests: Arc::new(SharedRate(shared(names.registry_manifests))),
            pull_quota: Some(Arc::new(SharedQuota {
                shared: shared(names.pull_quota),
                last_told: Mutex::new(None),
            })),
        })
    }
}

/// The budgets' names: what they are, whose origin, and the account when one is configured
/// (Docker Hub counts a logged-in account apart from its anonymous address).
struct Names {
    hub_api: String,
    registry_manifests: String,
    pull_quota: String,
}

impl Names {
    fn new(settings: &Settings) -> anyhow::Result<Self> {
        let origin = |url: &str, key: &str| -> anyhow::Result<String> {
            Ok(origin_of(&Url::parse(url).with_context(|| format!("{key}: {url:?}"))?))
        };
        let who = settings.hub.username.as_ref().map(|u| format!(" as {u}")).unwrap_or_default();
        let hub = origin(&settings.hub.url, "hub.url")?;
        let registry = origin(&settings.registry.url, "registry.url")?;
        Ok(Self {
            hub_api: format!("hub_api {hub}{who}"),
            registry_manifests: format!("registry_manifests {registry}{who}"),
            pull_quota: format!("pull_quota {registry}{who}"),
        })
    }
}

/// A budget row and who spends it.
#[derive(Debug)]
struct Shared {
    name: String,
    store: Store,
    worker: String,
}

impl Shared {
    fn unavailable(&self, e: StoreError) -> BudgetError {
        BudgetError::Unavailable { budget: self.name.clone(), source: Box::new(e) }
    }
}

/// A rate shared through Postgres: each take schedules one request and sleeps until its slot.
#[derive(Debug)]
struct SharedRate(Shared);

impl Budget for SharedRate {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn take(&self) -> BudgetFuture<'_, Result<(), BudgetError>> {
        Box::pin(async move {
            let wait = self
                .0
                .store
                .take_rate(&self.0.name, &self.0.worker)
                .await
                .map_err(|e| self.0.unavailable(e))?;
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            Ok(())
        })
    }
}

/// What a response says of the pull quota: `Some(Some(left))`, `Some(None)` for no quota
/// headers at all (no quota), `None` for quota headers without a count (Hub has sent
/// `ratelimit-remaining: ;w=21600`): nothing to reconcile with.
fn quota_told(rate: &RateLimitInfo) -> Option<Option<u64>> {
    match (rate.pull_quota, rate.remaining) {
        (true, None) => None,
        (true, Some(left)) => Some(Some(left)),
        (false, _) => Some(None),
    }
}

/// The pull quota shared through Postgres, reconciled with the registry's `ratelimit-*`.
#[derive(Debug)]
struct SharedQuota {
    shared: Shared,
    /// The remaining count last written (`None`: no quota), and when.
    last_told: Mutex<Option<(Option<u64>, Instant)>>,
}

impl Budget for SharedQuota {
    fn name(&self) -> &str {
        &self.shared.name
    }

    fn take(&self) -> BudgetFuture<'_, Result<(), BudgetError>> {
        Box::pin(async move {
            let s = &self.shared;
            match s.store.take_pull(&s.name, &s.worker).await.map_err(|e| s.unavailable(e))? {
                PullTake::Taken => Ok(()),
                PullTake::Spent { until } => {
                    Err(BudgetError::Spent { budget: s.name.clone(), until: until.map(SystemTime::from) })
                }
            }
        })
    }

    fn answered<'a>(&'a self, rate: &'a RateLimitInfo) -> BudgetFuture<'a, ()> {
        Box::pin(async move {
            let s = &self.shared;
            let Some(remaining) = quota_told(rate) else { return };
            *self.last_told.lock() = Some((remaining, Instant::now()));
            if let Err(e) = s.store.answer_pull(&s.name, &s.worker, remaining, rate.limit, rate.window).await
            {
                tracing::warn!(budget = %s.name, error = %e, "could not record the registry's pull quota");
            }
        })
    }

    fn observe<'a>(&'a self, rate: &'a RateLimitInfo) -> BudgetFuture<'a, ()> {
        Box::pin(async move {
            let Some(remaining) = quota_told(rate) else { return };
            {
                let mut last = self.last_told.lock();
                if last.is_some_and(|(r, at)| r == remaining && at.elapsed() < OBSERVE_EVERY) {
                    return;
                }
                *last = Some((remaining, Instant::now()));
            }
            let s = &self.shared;
            let told = match remaining {
                Some(r) => s.store.observe_quota(&s.name, r, rate.limit, rate.window).await,
                None => s.store.observe_no_quota(&s.name).await,
            };
            if let Err(e) = told {
                // The registry says it again with its next response; the quota stays guarded by
                // the window count meanwhile.
                tracing::warn!(budget = %s.name, error = %e, "could not record the registry's pull quota");
            }
        })
    }
}
