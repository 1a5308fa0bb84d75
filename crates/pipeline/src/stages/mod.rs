//! The four stages. Each turns one leased job into database writes and follow-up jobs, and
//! says what became of it ([`Outcome`]): the runner does the queue bookkeeping.
//!
//! | stage | job key | does | enqueues |
//! |---|---|---|---|
//! | `discover` | the task's key (`search_v4:ab:...`, `namespace:x`) | one Hub enumeration task: repositories, sightings, exclusions, description scans | follow-up tasks; a `tags` job per kept repository |
//! | `discover` | `typosquat_names` (one per census) | once discovery has drained: every name judged for typosquatting | — |
//! | `discover` | `unlisted_repositories` (one per census) | once discovery has drained: finds the kept repositories whose Hub status no listing gave | their `tags` jobs |
//! | `discover` | `sample_draw` (one per sampled run) | once discovery has drained: draws the sample from the frame and stores it | the `tags` jobs of the repositories drawn |
//! | `tags` | `namespace/name` | asks the repository's detail when its status is still unknown; lists tags under the tag policy; upserts them | a `resolve` job per selected tag |
//! | `resolve` | `namespace/name:tag` | tag → platform image (no pull for a known digest); image, layers, config scan | a `scan_layer` job per layer, keyed by digest |
//! | `scan_layer` | the layer digest | fetches the blob once, scans it off the runtime, records the outcome | — |
//!
//! In a sampled run (`census --sample`) discovery and the sweep queue no `tags` job: the draw
//! queues those of the sample, and `tags` and `resolve` pass over a repository outside it (a
//! job re-armed from an earlier full census) without a request.

mod discover;
mod resolve;
mod sample;
mod scan_layer;
mod tags;
mod typosquat_names;
mod unlisted;

use std::time::Duration;

use hubcensus_hub::RepoSummary;
use hubcensus_layer::ConfigScan;
use hubcensus_store::{
    StoreError,
    findings::{SeenIndicator, Target},
    queue::{Job, NewJob},
    repositories::RepositoryRecord,
};
use hubcensus_types::Stage;
use serde::{Serialize, de::DeserializeOwned};

use crate::{context::Ctx, progress::Counters, runner::Outcome};

pub(crate) use discover::seed_jobs;
pub(crate) use resolve::ResolvePayload;
pub(crate) use sample::job as draw_job;
pub(crate) use scan_layer::ScanPayload;
pub(crate) use tags::TagsPayload;
pub(crate) use typosquat_names::job as names_job;
pub(crate) use unlisted::job as unlisted_job;

/// Runs one job of `stage`.
pub(crate) async fn run(ctx: &Ctx, stage: Stage, job: &Job) -> Outcome {
    let result = match stage {
        Stage::Discover if job.key == typosquat_names::KEY => typosquat_names::run(ctx).await,
        Stage::Discover if job.key == unlisted::KEY => unlisted::run(ctx, job).await,
        Stage::Discover if job.key == sample::KEY => sample::run(ctx, job).await,
        Stage::Discover => discover::run(ctx, job).await,
        Stage::Tags => tags::run(ctx, job).await,
        Stage::Resolve => resolve::run(ctx, job).await,
        Stage::ScanLayer => scan_layer::run(ctx, job).await,
    };
    result.unwrap_or_else(|e| e)
}

/// Repositories read per page (and `tags` jobs queued, or names scored, per transaction) by the
/// jobs that wait for discovery.
const PAGE: i64 = 5_000;

/// A job of the discovery queue that waits for the rest of discovery: keyed `key`, one per
/// run, with no payload.
fn waiting_job(key: &str, max_attempts: i32) -> NewJob {
    NewJob { key: key.to_owned(), payload: serde_json::json!({}), priority: 0, max_attempts }
}

/// The `tags` jobs of these repositories (id, `namespace/name`).
fn tags_jobs(ctx: &Ctx, repositories: impl IntoIterator<Item = (i64, String)>) -> Vec<NewJob> {
    repositories
        .into_iter()
        .map(|(id, name)| new_job(ctx, name.clone(), &TagsPayload { repository: name, repository_id: id }))
        .collect()
}

/// The discovery-queue jobs that wait for the rest of discovery to drain. Each waits for every
/// other discovery job but these, so that they never wait for each other.
const AFTER_DISCOVERY: [&str; 3] = [typosquat_names::KEY, unlisted::KEY, sample::KEY];

/// How many idle polls a job that waits for discovery lets pass before it looks again.
const DISCOVERY_WAIT_POLLS: u32 = 10;

/// `Some(Defer)` while discovery (other than the jobs that wait for it) is unfinished: a job
/// that needs the whole frame is given back, without spending an attempt, to look again later.
async fn wait_for_discovery(ctx: &Ctx) -> Result<Option<Outcome>, Outcome> {
    let unfinished =
        ctx.store().discovery_unfinished(&AFTER_DISCOVERY).await.map_err(|e| store_failed(&e))?;
    let after: Duration = ctx.config.idle_poll * DISCOVERY_WAIT_POLLS;
    Ok((unfinished > 0).then_some(Outcome::Defer { after }))
}

/// Whether a kept repository's tags wait for Hub's status: the frame excludes inactive
/// repositories and no endpoint that carries the status (a namespace listing, the detail) has
/// described it yet. Its namespace's listing queues the tags when it describes it; the sweep
/// after discovery, those of the rest.
pub(crate) fn awaits_status(ctx: &Ctx, status: Option<&str>) -> bool {
    status.is_none() && ctx.services.hub.config().exclude.excludes(hubcensus_types::ExclusionReason::Inactive)
}

/// Whether the job's run draws a sample (its `tags` jobs then come from the draw alone).
pub(crate) async fn run_is_sampled(ctx: &Ctx, job: &Job) -> Result<bool, Outcome> {
    let Some(run_id) = job.run_id else { return Ok(false) };
    Ok(ctx.store().sample(run_id).await.map_err(|e| store_failed(&e))?.is_some())
}

/// Whether a repository is outside the job's run's sample: its `tags` or `resolve` job is
/// then passed over (a job re-armed from an earlier full census). A run without a sample
/// leaves nothing out.
pub(crate) async fn outside_sample(ctx: &Ctx, job: &Job, repository_id: i64) -> Result<bool, Outcome> {
    let Some(run_id) = job.run_id else { return Ok(false) };
    let member = ctx.store().sample_member(run_id, repository_id).await.map_err(|e| store_failed(&e))?;
    Ok(member == Some(false))
}

/// The store's record of what Hub said about a repository.
pub(crate) fn repository_record(s: &RepoSummary) -> RepositoryRecord {
    RepositoryRecord {
        badge: s.badge,
        pull_count: s.pull_count.and_then(|n| i64::try_from(n).ok()),
        star_count: s.star_count.and_then(|n| i32::try_from(n).ok()),
        last_updated: s.last_updated,
        date_registered: s.date_registered,
        status: s.status.clone(),
        repository_type: s.repository_type.clone(),
        content_types: s.content_types.clone(),
        description: s.description.clone(),
        full_description: s.full_description.clone(),
    }
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

/// Writes what a config or metadata scan found about `target` (one transaction; a repeated
/// write adds nothing) and counts the new findings under `stage`.
pub(crate) async fn record_scan(
    ctx: &Ctx,
    stage: Stage,
    target: Target,
    scan: &ConfigScan,
) -> Result<(), Outcome> {
    let indicators: Vec<SeenIndicator> = scan
        .indicators
        .iter()
        .map(|(indicator, first_path)| SeenIndicator {
            indicator: indicator.clone(),
            first_path: first_path.clone(),
        })
        .collect();
    let new = ctx
        .store()
        .record_findings(target, &scan.findings, &indicators, &ctx.rules_version)
        .await
        .map_err(|e| store_failed(&e))?;
    Counters::add(&ctx.counters.stage(stage).findings, new);
    Ok(())
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
