//! `resolve`: a selected tag → the census platform's image, its layer stack and its config.
//!
//! Pulls are the scarce budget, so a tag whose digest (from Hub's tag listing, or a HEAD) is
//! already a complete image costs no manifest GET: the tag is linked to it. A new image is
//! written in an order that makes the last write the proof of completeness — image row, layer
//! stack, skipped layers, layer jobs, config findings, then `config_scanned` — so a worker that
//! dies half-way leaves an image the next attempt does not take for known. When the pull quota
//! is spent the job is given back and the stage pauses until the window resets. Every run
//! records the image it found behind each tag (`run_images`), known or new, so runs can be
//! reported and compared after the tag has moved on.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hubcensus_image::{Descriptor, MAX_DOCUMENT_BYTES};
use hubcensus_layer::Walker;
use hubcensus_registry::{RegistryError, Resolution, ResolvedImage};
use hubcensus_store::{
    findings::Target,
    images::KnownImage,
    images::{ImageLayer, ImageRecord},
    layers::{LayerOutcome, ScanState},
    queue::Job,
};
use hubcensus_types::{Digest, ExclusionReason, MediaType, RepoRef, Stage};
use serde::{Deserialize, Serialize};

use super::{ScanPayload, enqueue, new_job, payload, record_scan, scan_layer::bare_report, store_failed};
use crate::{
    context::Ctx,
    progress::{Counters, Event},
    runner::Outcome,
};

/// What a `resolve` job carries (its key is `namespace/name:tag`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ResolvePayload {
    /// `namespace/name`.
    pub(crate) repository: String,
    /// Its row.
    pub(crate) repository_id: i64,
    /// The tag.
    pub(crate) tag: String,
    /// Its row.
    pub(crate) tag_id: i64,
    /// What Hub says the tag points at (an index or a manifest).
    pub(crate) tag_digest: Option<String>,
    /// What Hub says the census platform's manifest is.
    pub(crate) platform_digest: Option<String>,
    /// Hub's `tag_last_pushed`: the image's push date (judges newly registered domains).
    pub(crate) pushed_at: Option<DateTime<Utc>>,
}

pub(super) async fn run(ctx: &Ctx, job: &Job) -> Result<Outcome, Outcome> {
    let p: ResolvePayload = payload(job)?;
    let repo: RepoRef =
        p.repository.parse().map_err(|e| Outcome::retry(format!("payload repository: {e}")))?;
    let store = ctx.store();
    if store.is_excluded(p.repository_id).await.map_err(|e| store_failed(&e))?
        || super::outside_sample(ctx, job, p.repository_id).await?
    {
        return Ok(Outcome::Done);
    }
    let candidates: Vec<Digest> =
        [&p.tag_digest, &p.platform_digest].into_iter().flatten().filter_map(|d| d.parse().ok()).collect();
    // Only a complete image (its config recorded last) counts as known. A schema 1 image's
    // config is inside its manifest, so one scanned by other rules is resolved again (one
    // pull) rather than known: no config blob exists to fetch for it.
    let known: HashMap<String, KnownImage> = store
        .known_images(&candidates)
        .await
        .map_err(|e| store_failed(&e))?
        .into_iter()
        .filter(|(_, image)| image.config_scanned)
        .filter(|(_, image)| {
            !image.schema1 || image.rules_version.as_deref() == Some(ctx.rules_version.as_str())
        })
        .collect();
    let is_known = |d: &Digest| known.contains_key(d.as_str());
    // Hub's listing names the platform manifest: a new multi-platform image costs one GET —
    // when the tag still names the index the listing saw (a job re-armed for a new run carries
    // the listing of the run before).
    let listed: Option<Digest> = p.tag_digest.as_deref().and_then(|d| d.parse().ok());
    let hint: Option<Digest> = p.platform_digest.as_deref().and_then(|d| d.parse().ok());
    let registry = &ctx.services.registry;
    let hinted = listed.as_ref().zip(hint.as_ref());
    let resolution = match registry.resolve_with_hint(&repo, &p.tag, &is_known, hinted).await {
        Ok(r) => r,
        Err(e) => return failed(ctx, job, &p, &e).await,
    };
    let image_id = match resolution {
        Resolution::Known { digest } => {
            let Some(image) = known.get(digest.as_str()) else {
                return Err(Outcome::retry(format!("registry called {digest} known, but it is not")));
            };
            rescan_config_if_stale(ctx, &repo, image).await?;
            image.id
        }
        Resolution::Resolved(image) => match record(ctx, job, &p, &repo, image).await? {
            Some(id) => id,
            None => return Ok(Outcome::Done),
        },
    };
    store.set_tag_image(p.tag_id, image_id).await.map_err(|e| store_failed(&e))?;
    if let Some(run_id) = job.run_id {
        store.record_run_image(run_id, p.tag_id, image_id).await.map_err(|e| store_failed(&e))?;
    }
    store.set_tag_error(p.tag_id, None).await.map_err(|e| store_failed(&e))?;
    Counters::add(&ctx.counters.stage(Stage::Resolve).items, 1);
    Ok(Outcome::Done)
}

/// Writes a newly resolved image; `None` when it is not an image at all (an artifact).
async fn record(
    ctx: &Ctx,
    job: &Job,
    p: &ResolvePayload,
    repo: &RepoRef,
    image: ResolvedImage,
) -> Result<Option<i64>, Outcome> {
    let store = ctx.store();
    if let Some(reason) = &image.artifact {
        // Helm charts, wasm modules, models: the repository holds no image to analyse (left
        // out when the configured frame excludes such repositories).
        if ctx.services.hub.config().exclude.excludes(ExclusionReason::NotImage) {
            store
                .exclude_if_kept(p.repository_id, ExclusionReason::NotImage)
                .await
                .map_err(|e| store_failed(&e))?;
        }
        store.set_tag_error(p.tag_id, Some(reason)).await.map_err(|e| store_failed(&e))?;
        ctx.progress.event(&Event::ItemFailed {
            stage: Stage::Resolve,
            key: job.key.clone(),
            error: format!("not an image: {reason}"),
        });
        return Ok(None);
    }
    let config_bytes = image.config.as_ref().map(|c| c.bytes.clone());
    let summary = config_bytes.as_deref().map(ConfigFacts::read).unwrap_or_default();
    let record = ImageRecord {
        digest: image.manifest_digest.clone(),
        media_type: image.media_type.to_string(),
        platform: image.platform.clone().unwrap_or_else(|| ctx.config.platform.clone()),
        config_digest: image.config.as_ref().map(|c| c.digest.clone()),
        created: summary.created,
        pushed_at: p.pushed_at,
        // The platform manifest's GET, plus the index's when it had to be read.
        pull_cost: if image.platforms.is_empty() { 1 } else { 2 },
    };
    let image_id = store.upsert_image(&record).await.map_err(|e| store_failed(&e))?;
    let stack: Vec<ImageLayer> = image
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| ImageLayer {
            digest: l.descriptor.digest.clone(),
            media_type: l.descriptor.media_type().to_string(),
            size: l.descriptor.size.and_then(|s| i64::try_from(s).ok()),
            diff_id: summary.diff_ids.get(i).cloned(),
        })
        .collect();
    let layer_ids = store.set_image_layers(image_id, &stack).await.map_err(|e| store_failed(&e))?;

    let mut scan_jobs = Vec::new();
    for (layer, layer_id) in image.layers.iter().zip(layer_ids) {
        match &layer.skip {
            Some(reason) => record_skip(ctx, &layer.descriptor.digest, layer_id, reason).await?,
            None => scan_jobs.push(new_job(
                ctx,
                layer.descriptor.digest.to_string(),
                &ScanPayload {
                    repository: repo.to_string(),
                    media_type: layer.descriptor.media_type().to_string(),
                    size: layer.descriptor.size.and_then(|s| i64::try_from(s).ok()),
                },
            )),
        }
    }
    enqueue(ctx, Stage::ScanLayer, job, &scan_jobs).await?;
    if let Some(bytes) = config_bytes {
        scan_config(ctx, image_id, bytes).await?;
    } else {
        // Schema 1 has no config blob: nothing to scan, and nothing left undecided.
        store.mark_config_scanned(image_id, &ctx.rules_version).await.map_err(|e| store_failed(&e))?;
    }
    Ok(Some(image_id))
}

/// A layer the registry client classified as not scannable (foreign, non-distributable, not a
/// layer): recorded as skipped with the reason, once.
async fn record_skip(ctx: &Ctx, digest: &Digest, layer_id: i64, reason: &str) -> Result<(), Outcome> {
    let store = ctx.store();
    let state = store.layer_state(digest).await.map_err(|e| store_failed(&e))?;
    if state.is_some_and(|s| s.scan_state != ScanState::Pending) {
        return Ok(());
    }
    let report = bare_report(LayerOutcome::Skipped { reason: reason.to_owned() }, &ctx.rules_version, 0);
    store.record_layer_scan(layer_id, &report).await.map_err(|e| store_failed(&e))?;
    Ok(())
}

/// Scans a config off the runtime and records its findings, then marks it scanned (the write
/// that makes the image complete).
async fn scan_config(ctx: &Ctx, image_id: i64, bytes: Vec<u8>) -> Result<(), Outcome> {
    let scanner = ctx.services.scanner.clone();
    let scan = tokio::task::spawn_blocking(move || {
        Walker::new(&scanner.rules, &scanner.extractor, scanner.limits.clone()).scan_config(&bytes)
    })
    .await
    .map_err(|e| Outcome::retry(format!("the config scanner failed: {e}")))?;
    record_scan(ctx, Stage::Resolve, Target::Image(image_id), &scan).await?;
    let store = ctx.store();
    if let Some(e) = scan.error {
        store.set_image_error(image_id, &format!("config: {e}")).await.map_err(|e| store_failed(&e))?;
    }
    store.mark_config_scanned(image_id, &ctx.rules_version).await.map_err(|e| store_failed(&e))
}

/// A known image whose config was scanned with other rules: its config blob is fetched (blob
/// GETs cost no pull) and scanned again.
async fn rescan_config_if_stale(ctx: &Ctx, repo: &RepoRef, image: &KnownImage) -> Result<(), Outcome> {
    if image.rules_version.as_deref() == Some(ctx.rules_version.as_str()) {
        return Ok(());
    }
    let Some(digest) = image.config_digest.as_deref().and_then(|d| d.parse::<Digest>().ok()) else {
        return ctx
            .store()
            .mark_config_scanned(image.id, &ctx.rules_version)
            .await
            .map_err(|e| store_failed(&e));
    };
    let descriptor = Descriptor {
        media_type: Some(MediaType::DOCKER_CONFIG.to_owned()),
        digest,
        size: None,
        platform: None,
        annotations: Default::default(),
        urls: Vec::new(),
    };
    let bytes = ctx
        .services
        .registry
        .fetch_blob_bytes(repo, &descriptor, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|e| Outcome::retry(format!("config blob: {}", crate::runner::error_chain(&e))))?;
    scan_config(ctx, image.id, bytes).await
}

/// A resolution that failed: a budget to wait for, a transient failure to retry, or a
/// permanent one recorded on the tag.
async fn failed(ctx: &Ctx, job: &Job, p: &ResolvePayload, e: &RegistryError) -> Result<Outcome, Outcome> {
    let error = crate::runner::error_chain(e);
    match e {
        RegistryError::QuotaExhausted { reset_at } => {
            // No reset time: what is left of the quota above the reserve is held by GETs in
            // flight (the client's own accounting), whose answers say within a request's time
            // whether pulls are left; a 429 or a low count always comes with an estimate. So
            // look again after an idle poll, not after a guessed window (issue #16: a 300 s
            // guess here stalled every cycle of a binding quota).
            let after = reset_at.map_or(ctx.config.idle_poll, super::until);
            return Ok(Outcome::Release { after, reason: error });
        }
        RegistryError::RateLimited { until: Some(t), .. } => {
            return Ok(Outcome::Retry { error, after: Some(super::until(*t)) });
        }
        _ => {}
    }
    if !e.is_permanent_for_item() {
        return Ok(Outcome::retry(error));
    }
    ctx.store().set_tag_error(p.tag_id, Some(&error)).await.map_err(|e| store_failed(&e))?;
    ctx.progress.event(&Event::ItemFailed { stage: Stage::Resolve, key: job.key.clone(), error });
    Ok(Outcome::Done)
}

/// What the resolve stage reads from a config: its creation time and its layers' diff ids.
#[derive(Debug, Default, PartialEq, Eq)]
struct ConfigFacts {
    created: Option<DateTime<Utc>>,
    diff_ids: Vec<Digest>,
}

impl ConfigFacts {
    /// Lenient: a config that does not parse yields nothing here (the config scan records why).
    fn read(bytes: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return Self::default();
        };
        let created = value
            .get("created")
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        let diff_ids = value
            .pointer("/rootfs/diff_ids")
            .and_then(|v| v.as_array())
            .map(|ids| ids.iter().filter_map(|d| d.as_str()?.parse().ok()).collect())
            .unwrap_or_default();
        Self { created, diff_ids }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_facts_are_read_leniently() {
        let d = Digest::sha256_of(b"x");
        let json = format!(
            r#"{{"created":"2024-05-01T10:00:00.123Z","rootfs":{{"type":"layers","diff_ids":["{d}","bogus"]}}}}"#
        );
        let facts = ConfigFacts::read(json.as_bytes());
        assert_eq!(facts.created.map(|t| t.to_rfc3339()), Some("2024-05-01T10:00:00.123+00:00".into()));
        assert_eq!(facts.diff_ids, vec![d]);
        assert_eq!(ConfigFacts::read(b"not json"), ConfigFacts::default());
        assert_eq!(ConfigFacts::read(b"{\"created\":null}"), ConfigFacts::default());
    }
}
