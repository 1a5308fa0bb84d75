//! `tags`: list a kept repository's tags under the tag policy, store them, and enqueue a
//! `resolve` job per selected tag.
//!
//! A repository with no tags holds no image (`imageless`); one Hub no longer shows is
//! `unavailable`. Both are recorded as the repository's exclusion, never over a reason
//! discovery already gave. A repository whose Hub status no listing gave (queued by the sweep
//! after discovery, when the frame excludes inactive repositories) has its detail read first:
//! the frame decides on it — inactive, or any other reason the detail shows — before a tag is
//! listed.

use hubcensus_hub::{HubError, RepoSummary, TagSummary, classify};
use hubcensus_store::{
    queue::Job,
    repositories::RepositoryRecord,
    tags::{TagPlatform, TagRecord},
};
use hubcensus_types::{ExclusionReason, RepoRef, Stage};
use serde::{Deserialize, Serialize};

use super::{ResolvePayload, enqueue, new_job, payload, repository_record, store_failed};
use crate::{
    context::Ctx,
    progress::{Counters, Event},
    runner::Outcome,
};

/// What a `tags` job carries (its key is `namespace/name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TagsPayload {
    /// `namespace/name`.
    pub(crate) repository: String,
    /// Its row.
    pub(crate) repository_id: i64,
}

pub(super) async fn run(ctx: &Ctx, job: &Job) -> Result<Outcome, Outcome> {
    let p: TagsPayload = payload(job)?;
    let repo: RepoRef =
        p.repository.parse().map_err(|e| Outcome::retry(format!("payload repository: {e}")))?;
    let store = ctx.store();
    let state = store.repository_state(p.repository_id).await.map_err(|e| store_failed(&e))?;
    if state.excluded.is_some() || super::outside_sample(ctx, job, p.repository_id).await? {
        return Ok(Outcome::Done);
    }
    if super::awaits_status(ctx, state.status.as_deref()) {
        let detail = match ctx.services.hub.repository(&repo).await {
            Ok(detail) => detail,
            Err(e) => return failed(ctx, job, &p, &e).await,
        };
        if let Some(reason) = decide_on_detail(ctx, job, &p, &repo, &detail).await? {
            tracing::debug!(repository = %repo, %reason, "left out on its detail");
            return Ok(Outcome::Done);
        }
    }
    let listing = match ctx.services.hub.tags(&repo, &ctx.config.tag_policy).await {
        Ok(listing) => listing,
        Err(e) => return failed(ctx, job, &p, &e).await,
    };
    for note in &listing.notes {
        tracing::info!(repository = %repo, "{note}");
    }
    let tags = listing.tags;
    if tags.is_empty() {
        // Left out only when the configured frame excludes image-less repositories.
        if ctx.services.hub.config().exclude.excludes(ExclusionReason::Imageless) {
            store
                .exclude_if_kept(p.repository_id, ExclusionReason::Imageless)
                .await
                .map_err(|e| store_failed(&e))?;
        }
        return Ok(Outcome::Done);
    }
    let mut resolve = Vec::with_capacity(tags.len());
    let mut names = Vec::with_capacity(tags.len());
    for tag in &tags {
        let tag_id = store.upsert_tag(p.repository_id, &record(tag)).await.map_err(|e| store_failed(&e))?;
        names.push(tag.name.clone());
        resolve.push(new_job(
            ctx,
            format!("{repo}:{}", tag.name),
            &ResolvePayload {
                repository: repo.to_string(),
                repository_id: p.repository_id,
                tag: tag.name.clone(),
                tag_id,
                tag_digest: tag.digest.as_ref().map(ToString::to_string),
                platform_digest: tag
                    .image_for(&ctx.config.platform)
                    .and_then(|i| i.digest.as_ref())
                    .map(ToString::to_string),
                pushed_at: tag.pushed_at(),
            },
        ));
    }
    store.select_tags(p.repository_id, &names).await.map_err(|e| store_failed(&e))?;
    enqueue(ctx, Stage::Resolve, job, &resolve).await?;
    Counters::add(&ctx.counters.stage(Stage::Tags).items, names.len() as u64);
    Ok(Outcome::Done)
}

/// Records what the detail says about the frame (the descriptions are scanned where discovery
/// reads them, so they are not written here) and excludes the repository when the detail gives
/// a reason; returns that reason.
async fn decide_on_detail(
    ctx: &Ctx,
    job: &Job,
    p: &TagsPayload,
    repo: &RepoRef,
    detail: &RepoSummary,
) -> Result<Option<ExclusionReason>, Outcome> {
    let store = ctx.store();
    let record = RepositoryRecord { description: None, full_description: None, ..repository_record(detail) };
    store.upsert_repository(job.run_id, repo, &record).await.map_err(|e| store_failed(&e))?;
    let Some(reason) = classify(repo, detail, &ctx.services.hub.config().exclude) else {
        return Ok(None);
    };
    store.exclude_if_kept(p.repository_id, reason).await.map_err(|e| store_failed(&e))?;
    Ok(Some(reason))
}

/// The store's record of a Hub tag.
fn record(tag: &TagSummary) -> TagRecord {
    TagRecord {
        name: tag.name.clone(),
        digest: tag.digest.clone(),
        media_type: tag.media_type.as_ref().map(ToString::to_string),
        last_pushed: tag.last_pushed,
        last_updated: tag.last_updated,
        tag_status: tag.status.clone(),
        full_size: tag.full_size.and_then(|s| i64::try_from(s).ok()),
        platforms: tag
            .images
            .iter()
            .filter_map(|i| {
                Some(TagPlatform {
                    platform: i.platform.clone(),
                    digest: i.digest.clone()?,
                    size: i.size.and_then(|s| i64::try_from(s).ok()),
                    last_pushed: i.last_pushed,
                })
            })
            .collect(),
    }
}

async fn failed(ctx: &Ctx, job: &Job, p: &TagsPayload, e: &HubError) -> Result<Outcome, Outcome> {
    let error = crate::runner::error_chain(e);
    match e {
        HubError::RateLimited { until } => Ok(Outcome::Retry { error, after: until.map(super::until) }),
        HubError::NotFound { .. } => {
            // Private or deleted since discovery: Hub does not say which.
            ctx.store()
                .exclude_if_kept(p.repository_id, ExclusionReason::Unavailable)
                .await
                .map_err(|e| store_failed(&e))?;
            ctx.progress.event(&Event::ItemFailed { stage: Stage::Tags, key: job.key.clone(), error });
            Ok(Outcome::Done)
        }
        _ => Ok(Outcome::retry(error)),
    }
}
