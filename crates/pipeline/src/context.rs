//! What every stage of one worker shares: the clients, the scanner, the configuration, the
//! counters, the leases it holds and the stages it has paused.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use hubcensus_hub::HubClient;
use hubcensus_intel::{IndicatorExtractor, TyposquatConfig};
use hubcensus_layer::Limits;
use hubcensus_registry::RegistryClient;
use hubcensus_rules::RuleSet;
use hubcensus_store::Store;
use hubcensus_types::Stage;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{PipelineConfig, Progress, WorkerId, progress::Counters};

/// The rule set, indicator extractor, limits and typosquat thresholds every scan and judgement
/// of this worker uses.
#[derive(Debug, Clone)]
pub struct Scanner {
    /// The rules (their version is recorded with every scan).
    pub rules: Arc<RuleSet>,
    /// The indicator extractor.
    pub extractor: Arc<IndicatorExtractor>,
    /// Hard limits per layer.
    pub limits: Limits,
    /// The thresholds repository names are judged by (`TyposquatConfig::builtin()` unless a
    /// researcher gives others).
    pub typosquat: Arc<TyposquatConfig>,
}

/// The clients and scanner a worker needs.
#[derive(Debug, Clone)]
pub struct Services {
    /// The census database.
    pub store: Store,
    /// Docker Hub's catalog API.
    pub hub: HubClient,
    /// The registry.
    pub registry: RegistryClient,
    /// The scanner.
    pub scanner: Scanner,
}

/// One worker's shared state.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) services: Services,
    pub(crate) config: PipelineConfig,
    pub(crate) worker: WorkerId,
    pub(crate) progress: Arc<dyn Progress>,
    pub(crate) counters: Counters,
    /// The rules version every scan records (what a later census compares to re-scan).
    pub(crate) rules_version: String,
    wake: [Notify; 4],
    paused: Mutex<[Option<Instant>; 4]>,
    held: Mutex<HashMap<i64, CancellationToken>>,
}

fn index(stage: Stage) -> usize {
    Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0)
}

impl Ctx {
    pub(crate) fn new(
        services: Services,
        config: PipelineConfig,
        worker: WorkerId,
        progress: Arc<dyn Progress>,
    ) -> Self {
        let rules_version = services.scanner.rules.version().to_owned();
        Self {
            services,
            config,
            worker,
            progress,
            counters: Counters::default(),
            rules_version,
            wake: Default::default(),
            paused: Mutex::new([None; 4]),
            held: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.services.store
    }

    pub(crate) fn owner(&self) -> &str {
        self.worker.as_str()
    }

    /// Wakes `stage`'s loop in this process (work was just enqueued for it).
    pub(crate) fn wake(&self, stage: Stage) {
        self.wake[index(stage)].notify_one();
    }

    pub(crate) fn woken(&self, stage: Stage) -> &Notify {
        &self.wake[index(stage)]
    }

    /// Stops `stage` from leasing for `for_`.
    pub(crate) fn pause(&self, stage: Stage, for_: Duration) {
        let until = Instant::now() + for_;
        let mut paused = self.paused.lock();
        let slot = &mut paused[index(stage)];
        if slot.is_none_or(|t| t < until) {
            *slot = Some(until);
        }
    }

    /// How much longer `stage` is paused, if it is.
    pub(crate) fn paused_for(&self, stage: Stage) -> Option<Duration> {
        let mut paused = self.paused.lock();
        let slot = &mut paused[index(stage)];
        match *slot {
            Some(until) if until > Instant::now() => Some(until - Instant::now()),
            Some(_) => {
                *slot = None;
                None
            }
            None => None,
        }
    }

    /// Registers a leased job; the token is cancelled if the lease is lost.
    pub(crate) fn hold(&self, job_id: i64) -> CancellationToken {
        let token = CancellationToken::new();
        self.held.lock().insert(job_id, token.clone());
        token
    }

    pub(crate) fn release_hold(&self, job_id: i64) {
        self.held.lock().remove(&job_id);
    }

    pub(crate) fn held_ids(&self) -> Vec<i64> {
        self.held.lock().keys().copied().collect()
    }

    /// The heartbeat found `job_id` no longer ours: abandon its work. Returns false when the
    /// job had already ended here (it completed between the heartbeat's snapshot and its
    /// update: nothing was lost).
    pub(crate) fn lose(&self, job_id: i64) -> bool {
        let token = self.held.lock().remove(&job_id);
        token.map(|t| t.cancel()).is_some()
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.held.lock().len()
    }
}
