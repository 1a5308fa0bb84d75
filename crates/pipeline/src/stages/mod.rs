//! The four stages. Each turns one leased job into database writes and follow-up jobs, and
//! says what became of it ([`Outcome`]): the runner does the queue bookkeeping.
//!
//! | stage | job key | does | enqueues |
//! |---|---|---|---|
//! | `discover` | the task's key (`search_v4:ab:...`, `namespace:x`) | one Hub enumeration task: repositories, sightings, exclusions | follow-up tasks; a `tags` job per kept repository |
//! | `tags` | `namespace/name` | lists tags under the tag policy; upserts them | a `resolve` job per selected tag |
//! | `resolve` | `namespace/name:tag` | tag → platform image (no pull for a known digest); image, layers, config scan | a `scan_layer` job per layer, keyed by digest |
//! | `scan_layer` | the layer digest | fetches the blob once, scans it off the runtime, records the outcome | — |

mod discover;
mod resolve;
mod scan;
mod tags;

use hubcensus_store::{
    StoreError,
    queue::{Job, NewJob},
};
use hubcensus_types::Stage;
use serde::{Serialize, de::DeserializeOwned};

use crate::{context::Ctx, runner::Outcome};

pub(crate) use discover::seed_jobs;
pub(crate) use resolve::ResolvePayload;
pub(crate) use scan::ScanPayload;
pub(crate) use tags::TagsPayload;

/// Runs one job of `stage`.
pub(crate) async fn run(ctx: &Ctx, stage: Stage, job: &Job) -> Outcome {
    let result = match stage {
        Stage::Discover => discover::run(ctx, job).await,
        Stage::Tags => tags::run(ctx, job).await,
        Stage::Resolve => resolve::run(ctx, job).await,
        Stage::ScanLayer => scan::run(ctx, job).await,
    };
    result.unwrap_or_else(|e| e)
}

/// Reads a job's payload. A payload that does not parse was written by another version or by
/// hand: the job fails until it is parked, visible in `status`.
pub(crate) fn payload<T: DeserializeOwned>(job: &Job) -> Result<T, Outcome> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| Outcome::retry(format!("unreadable job payload: {e}")))
}

/// A store error inside a job: the job is retried (the database may be restarting); a bug
/// shows up as a parked job with the error.
pub(crate) fn store_failed(e: &StoreError) -> Outcome {
    Outcome::retry(format!("database: {}", crate::runner::error_chain(e)))
}

/// A job for `stage` with this worker's attempt budget.
pub(crate) fn new_job<P: Serialize>(ctx: &Ctx, key: String, payload: &P) -> NewJob {
    NewJob {
        key,
        payload: serde_json::to_value(payload).unwrap_or_default(),
        priority: 0,
        max_attempts: ctx.config.max_attempts,
    }
}

/// Enqueues follow-up jobs under the parent's run and wakes the stage in this process.
pub(crate) async fn enqueue(ctx: &Ctx, stage: Stage, parent: &Job, jobs: &[NewJob]) -> Result<u64, Outcome> {
    if jobs.is_empty() {
        return Ok(0);
    }
    let new = ctx.store().enqueue(stage, parent.run_id, jobs).await.map_err(|e| store_failed(&e))?;
    if new > 0 {
        ctx.wake(stage);
    }
    Ok(new)
}

/// How long until `t` (zero when it has passed).
pub(crate) fn until(t: std::time::SystemTime) -> std::time::Duration {
    t.duration_since(std::time::SystemTime::now()).unwrap_or_default()
}
