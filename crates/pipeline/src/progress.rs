//! Progress, reported through a trait so the pipeline never draws anything itself.
//!
//! The worker keeps lock-free counters per stage (what this process did) and, every
//! `progress_interval`, reads the queue sizes from the database (what is left for everyone),
//! and hands a [`Snapshot`] to the [`Progress`] implementation: progress bars on a terminal,
//! log lines elsewhere, nothing in tests. Notable single happenings (a job parked, a stage
//! paused for the pull quota, an item recorded as failed) go through [`Progress::event`].

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime},
};

use hubcensus_store::status::StageCounts;
use hubcensus_types::Stage;
use serde::Serialize;

/// Receives progress. Implementations must be cheap: `update` is called every
/// `progress_interval` and `event` from the stage tasks.
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// The state of the census as this worker sees it.
    fn update(&self, snapshot: &Snapshot);
    /// Something a researcher may want to know about as it happens.
    fn event(&self, event: &Event);
}

/// Progress that goes nowhere (tests, embedding).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _: &Snapshot) {}
    fn event(&self, _: &Event) {}
}

/// A notable happening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A job used its attempts and was parked with its error.
    Parked {
        /// Stage.
        stage: Stage,
        /// Job key.
        key: String,
        /// The last error.
        error: String,
    },
    /// A job failed and will be retried.
    Retrying {
        /// Stage.
        stage: Stage,
        /// Job key.
        key: String,
        /// The error.
        error: String,
        /// The delay before the retry.
        after_secs: u64,
    },
    /// A stage stopped leasing until a budget resets.
    Paused {
        /// Stage.
        stage: Stage,
        /// Until when.
        until: SystemTime,
        /// Why.
        reason: String,
    },
    /// An item's failure was recorded on the item (an image or layer error, an exclusion)
    /// and the census went on.
    ItemFailed {
        /// Stage.
        stage: Stage,
        /// Job key.
        key: String,
        /// What was recorded.
        error: String,
    },
    /// A lease was lost to another worker (this one stalled past its lease): the job's
    /// result was dropped.
    LeaseLost {
        /// Stage.
        stage: Stage,
        /// Job key.
        key: String,
    },
    /// The database could not be reached; the worker keeps trying.
    StoreUnavailable {
        /// The error.
        error: String,
    },
}

/// Counters of one stage in this worker.
#[derive(Debug, Default)]
pub(crate) struct StageCounters {
    pub(crate) done: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) released: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) findings: AtomicU64,
    pub(crate) items: AtomicU64,
}

/// This worker's counters, per stage.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    stages: [StageCounters; 4],
}

impl Counters {
    pub(crate) fn stage(&self, stage: Stage) -> &StageCounters {
        let i = Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0);
        &self.stages[i]
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, elapsed: Duration, queues: &[StageCounts]) -> Snapshot {
        let stages = Stage::ALL
            .iter()
            .map(|&stage| {
                let c = self.stage(stage);
                let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
                StageProgress {
                    stage,
                    done: get(&c.done),
                    failed: get(&c.failed),
                    released: get(&c.released),
                    in_flight: get(&c.in_flight),
                    bytes: get(&c.bytes),
                    findings: get(&c.findings),
                    items: get(&c.items),
                    queue: queues.iter().find(|q| q.stage == stage.as_str()).cloned(),
                }
            })
            .collect();
        Snapshot { elapsed, stages }
    }
}

/// One stage's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageProgress {
    /// The stage.
    pub stage: Stage,
    /// Jobs this worker completed.
    pub done: u64,
    /// Jobs this worker failed (retried or parked).
    pub failed: u64,
    /// Jobs this worker gave back (paused stage, shutdown).
    pub released: u64,
    /// Jobs running in this worker now.
    pub in_flight: u64,
    /// Bytes this worker downloaded for the stage (layer blobs).
    pub bytes: u64,
    /// Findings this worker recorded for the stage.
    pub findings: u64,
    /// What the stage produced: repository listings read (discover), tags selected (tags), images
    /// resolved (resolve), layers scanned (scan_layer).
    pub items: u64,
    /// The stage's queue across all workers, when it was read.
    pub queue: Option<StageCounts>,
}

impl StageProgress {
    /// Jobs of the stage across all workers: done, and total known so far (both `None`
    /// before the queues were read).
    pub fn totals(&self) -> Option<(i64, i64)> {
        self.queue.as_ref().map(|q| (q.done, q.pending + q.leased + q.done + q.parked))
    }
}

/// Everything a progress display needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Time since this worker started.
    pub elapsed: Duration,
    /// Per stage, in pipeline order.
    pub stages: Vec<StageProgress>,
}

impl Snapshot {
    /// One stage's progress.
    pub fn stage(&self, stage: Stage) -> Option<&StageProgress> {
        self.stages.iter().find(|s| s.stage == stage)
    }
}
