//! The sweep of unlisted repositories: once discovery has drained, every kept repository whose
//! Hub status no endpoint gave gets its `tags` job.
//!
//! Whether Hub marks a repository inactive is in its namespace listing and in its detail, never
//! in a search hit. When the frame excludes inactive repositories, discovery holds a search
//! hit's tags back until a listing of its namespace describes it and queues them, so that an
//! inactive repository is never resolved. A hit no listing describes would wait for ever: a
//! search entry for a repository deleted or made private since, a census that does not crawl
//! the namespaces it sees, a detail in Hub's 2018 shape. This job queues their tags once
//! discovery is over, and the `tags` stage reads each one's detail before its tags.
//!
//! It is one job in the discovery queue (key [`KEY`]), enqueued with the run's seeds and given
//! back while discovery runs, like the typosquat judgement; queueing a `tags` job twice is one
//! job, so a sweep run twice queues nothing new.

use hubcensus_store::queue::{Job, NewJob};
use hubcensus_types::{ExclusionReason, Stage};

use super::{PAGE, enqueue, store_failed};
use crate::{context::Ctx, runner::Outcome};

/// The sweep's job key in the discovery queue (no discovery task key has this shape).
pub(crate) const KEY: &str = "unlisted_repositories";

/// The sweep's job.
pub(crate) fn job(max_attempts: i32) -> NewJob {
    super::waiting_job(KEY, max_attempts)
}

pub(super) async fn run(ctx: &Ctx, job: &Job) -> Result<Outcome, Outcome> {
    if let Some(wait) = super::wait_for_discovery(ctx).await? {
        return Ok(wait);
    }
    // A frame that keeps inactive repositories held no tags back; a sampled run's draw queues
    // the tags of the repositories drawn (those without a status have their detail read first).
    if !ctx.services.hub.config().exclude.excludes(ExclusionReason::Inactive)
        || super::run_is_sampled(ctx, job).await?
    {
        return Ok(Outcome::Done);
    }
    let mut after = 0;
    loop {
        let page = ctx.store().kept_without_status(after, PAGE).await.map_err(|e| store_failed(&e))?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        let tags = super::tags_jobs(ctx, page.iter().map(|(id, reference)| (*id, reference.to_string())));
        let queued = enqueue(ctx, Stage::Tags, job, &tags).await?;
        tracing::info!(queued, "kept repositories no listing described: their tags, after their detail");
    }
    Ok(Outcome::Done)
}
