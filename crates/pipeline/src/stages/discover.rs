//! `discover`: run one Hub enumeration task (a search shard, a namespace listing, a chunk of a
//! names file) and record what it saw.
//!
//! Every repository seen is upserted with what this endpoint knows (later strategies fill, never
//! erase), its sighting is recorded under the task's key (whose first field names the source
//! that saw it), and its exclusion is set: trust badges
//! (official, verified publisher, sponsored OSS) always win, other reasons only fill an empty
//! slot. Kept repositories get a `tags` job — once Hub's status is known, when the frame
//! excludes inactive repositories: a search hit does not carry it, so its tags wait for the
//! namespace listing that describes it (by default every namespace a search sees is crawled),
//! and the sweep after discovery ([`super::unlisted`]) queues those no listing described (no
//! namespace crawled, a stale search entry); in a sampled run, the draw ([`super::sample`])
//! queues those of the repositories drawn, and discovery none. The task's follow-ups (shards, namespaces seen)
//! become `discover` jobs, deduplicated by key across every worker. What Hub reported for the
//! task's query or listing is recorded beside what it collected (`discovery_tallies`): the
//! frame's coverage per source.
//!
//! Every repository's descriptions — kept or excluded, with images or without: the spam
//! campaigns of image-less repositories live nowhere else — go through the rules and the
//! indicator extraction as text, off the runtime, and what they yield is recorded on the
//! repository as metadata (findings with source `metadata`, indicators with the repository),
//! which the views carry to its images and the feeds judge in SQL. The short description comes
//! with every listing; the full one only from the repository's detail, which is read when
//! [`PipelineConfig::fetch_full_descriptions`](crate::PipelineConfig) asks for it.

use hubcensus_hub::{DiscoveredRepo, DiscoveryTask, HubError, classify};
use hubcensus_layer::{ConfigScan, Walker};
use hubcensus_store::{
    coverage::Tally,
    findings::Target,
    queue::{Job, NewJob},
};
use hubcensus_types::{ExclusionReason, Stage};

use super::{TagsPayload, enqueue, new_job, payload, record_scan, repository_record, store_failed};
use crate::{
    context::{Ctx, Scanner},
    progress::Counters,
    runner::Outcome,
};

/// The discovery jobs for `tasks` (seeds of a run, or a task's follow-ups).
pub(crate) fn seed_jobs(ctx_max_attempts: i32, tasks: &[DiscoveryTask]) -> Vec<NewJob> {
    tasks
        .iter()
        .map(|t| NewJob {
            key: t.key(),
            payload: serde_json::to_value(t).unwrap_or_default(),
            priority: 0,
            max_attempts: ctx_max_attempts,
        })
        .collect()
}

pub(super) async fn run(ctx: &Ctx, job: &Job) -> Result<Outcome, Outcome> {
    let task: DiscoveryTask = payload(job)?;
    let mut outcome = match ctx.services.hub.run(&task).await {
        Ok(o) => o,
        Err(e) => return Ok(failed(&e)),
    };
    for note in &outcome.notes {
        tracing::info!(task = %job.key, "{note}");
    }
    if ctx.config.fetch_full_descriptions
        && let Err(e) = fetch_full_descriptions(ctx, &mut outcome.repositories).await
    {
        return Ok(failed(&e));
    }
    let scans = scan_descriptions(&ctx.services.scanner, &outcome.repositories).await?;
    // A sampled run's tags come from its draw, after discovery.
    let sampled = super::run_is_sampled(ctx, job).await?;
    let mut tags = Vec::new();
    for (repo, scan) in outcome.repositories.iter().zip(scans) {
        if let Some(t) = record(ctx, job, repo, scan).await?
            && !sampled
        {
            tags.push(t);
        }
    }
    if let Some(run_id) = job.run_id {
        let tally = Tally {
            root: task.is_root(),
            reported: outcome.reported,
            collected: outcome.repositories.len() as u64,
        };
        ctx.store().record_tally(run_id, &job.key, tally).await.map_err(|e| store_failed(&e))?;
    }
    Counters::add(&ctx.counters.stage(Stage::Discover).items, outcome.repositories.len() as u64);
    enqueue(ctx, Stage::Tags, job, &tags).await?;
    enqueue(ctx, Stage::Discover, job, &seed_jobs(ctx.config.max_attempts, &outcome.follow_ups)).await?;
    Ok(Outcome::Done)
}

/// The detail of every repository seen without a full description, merged into what the
/// listing said, and the frame's decision taken again on the merged record (the detail says
/// what a search hit does not: the status, the content). A repository gone since the listing
/// has none to give.
async fn fetch_full_descriptions(ctx: &Ctx, repos: &mut [DiscoveredRepo]) -> Result<(), HubError> {
    let policy = &ctx.services.hub.config().exclude;
    for repo in repos.iter_mut().filter(|r| r.summary.full_description.is_none()) {
        match ctx.services.hub.repository(&repo.reference).await {
            Ok(detail) => {
                repo.summary.fill_from(&detail);
                repo.exclusion = classify(&repo.reference, &repo.summary, policy);
            }
            Err(HubError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Each repository's descriptions through the rules and the extractor, on a blocking thread;
/// `None` where a repository has no description.
async fn scan_descriptions(
    scanner: &Scanner,
    repos: &[DiscoveredRepo],
) -> Result<Vec<Option<ConfigScan>>, Outcome> {
    let texts: Vec<Vec<(&'static str, String)>> = repos
        .iter()
        .map(|r| {
            [("description", &r.summary.description), ("full_description", &r.summary.full_description)]
                .into_iter()
                .filter_map(|(field, text)| Some((field, text.clone().filter(|t| !t.trim().is_empty())?)))
                .collect()
        })
        .collect();
    if texts.iter().all(Vec::is_empty) {
        return Ok(vec![None; repos.len()]);
    }
    let scanner = scanner.clone();
    tokio::task::spawn_blocking(move || {
        let walker = Walker::new(&scanner.rules, &scanner.extractor, scanner.limits.clone());
        texts
            .iter()
            .map(|fields| {
                let fields: Vec<(&str, &str)> = fields.iter().map(|(f, t)| (*f, t.as_str())).collect();
                (!fields.is_empty()).then(|| walker.scan_metadata(&fields))
            })
            .collect()
    })
    .await
    .map_err(|e| Outcome::retry(format!("the description scanner failed: {e}")))
}

/// Records one repository (and what its descriptions yielded); returns its `tags` job when it
/// is kept.
async fn record(
    ctx: &Ctx,
    job: &Job,
    repo: &DiscoveredRepo,
    scan: Option<ConfigScan>,
) -> Result<Option<NewJob>, Outcome> {
    let store = ctx.store();
    let id = store
        .upsert_repository(job.run_id, &repo.reference, &repository_record(&repo.summary))
        .await
        .map_err(|e| store_failed(&e))?;
    if let Some(run_id) = job.run_id {
        store.record_sighting(id, run_id, &job.key).await.map_err(|e| store_failed(&e))?;
    }
    if let Some(scan) = scan.filter(|s| !s.findings.is_empty() || !s.indicators.is_empty()) {
        record_scan(ctx, Stage::Discover, Target::Repository(id), &scan).await?;
    }
    match repo.exclusion {
        Some(
            reason @ (ExclusionReason::Official
            | ExclusionReason::VerifiedPublisher
            | ExclusionReason::SponsoredOss),
        ) => store.set_exclusion(id, Some(reason)).await.map_err(|e| store_failed(&e))?,
        Some(reason) => {
            store.exclude_if_kept(id, reason).await.map_err(|e| store_failed(&e))?;
        }
        None => {}
    }
    let state = store.repository_state(id).await.map_err(|e| store_failed(&e))?;
    if state.excluded.is_some() || super::awaits_status(ctx, state.status.as_deref()) {
        return Ok(None);
    }
    let name = repo.reference.to_string();
    Ok(Some(new_job(ctx, name.clone(), &TagsPayload { repository: name, repository_id: id })))
}

/// A task that failed: retried when waiting may help; otherwise also retried up to its
/// attempts and then parked, so an incomplete frame shows in `status` with its reason.
fn failed(e: &HubError) -> Outcome {
    let error = crate::runner::error_chain(e);
    match e {
        HubError::RateLimited { until } => Outcome::Retry { error, after: until.map(super::until) },
        _ => Outcome::retry(error),
    }
}
