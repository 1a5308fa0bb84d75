//! `scan_layer`: fetch one unique layer blob and scan it, once per census.
//!
//! The job is keyed by the layer digest, so however many images and workers reach a layer,
//! one job exists and one worker holds it. The blob streams from the registry through the
//! scan engine's bounded [`bridge`](hubcensus_scan::bridge) into a blocking thread where
//! [`scan_blob`] walks and verifies it — the policy `hubcensus scan` follows too; the outcome,
//! whiteouts, findings and indicators are written in one transaction (`record_layer_scan`). A layer the scanner
//! cannot finish (a limit, corrupt data) is a recorded layer error and the census goes on; a
//! download that fails is retried, never recorded as the layer's fault.

use std::time::Instant;

use hubcensus_image::{BlobReader, Descriptor, Expected};
use hubcensus_layer::Walker;
use hubcensus_registry::RegistryError;
use hubcensus_scan::{
    BlobScan, PANICKED, Verify,
    bridge::{ChannelReader, PumpEnd, Transferred, pump},
    scan_blob,
};
use hubcensus_store::{
    findings::SeenIndicator,
    layers::{LayerOutcome, LayerReport, LayerScan as StoredScan, ScanState, SkippedFile, SkippedFiles},
    queue::Job,
};
use hubcensus_types::{Digest, MediaType, RepoRef, Stage};
use serde::{Deserialize, Serialize};

use super::{payload, store_failed};
use crate::{
    context::Ctx,
    progress::{Counters, Event},
    runner::Outcome,
};

/// What a `scan_layer` job carries besides its key (the digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ScanPayload {
    /// A repository that has the layer (the blob is fetched under its scope).
    pub(crate) repository: String,
    /// The layer's media type from the manifest.
    pub(crate) media_type: String,
    /// Its size from the manifest.
    pub(crate) size: Option<i64>,
}

pub(super) async fn run(ctx: &Ctx, job: &Job) -> Result<Outcome, Outcome> {
    let p: ScanPayload = payload(job)?;
    let digest: Digest =
        job.key.parse().map_err(|e| Outcome::retry(format!("job key is not a digest: {e}")))?;
    let repo: RepoRef =
        p.repository.parse().map_err(|e| Outcome::retry(format!("payload repository: {e}")))?;
    let store = ctx.store();
    let layer_id = match store.layer_state(&digest).await.map_err(|e| store_failed(&e))? {
        // Already decided under these rules (a re-enqueued key, a raced worker): nothing to do.
        Some(l) if l.scan_state == ScanState::Skipped => return Ok(Outcome::Done),
        Some(l)
            if l.scan_state != ScanState::Pending
                && l.rules_version.as_deref() == Some(&ctx.rules_version) =>
        {
            return Ok(Outcome::Done);
        }
        Some(l) => l.id,
        None => store.ensure_layer(&digest, &p.media_type, p.size).await.map_err(|e| store_failed(&e))?,
    };
    let descriptor = Descriptor {
        media_type: Some(p.media_type.clone()),
        digest: digest.clone(),
        size: p.size.and_then(|s| u64::try_from(s).ok()),
        platform: None,
        annotations: Default::default(),
        urls: Vec::new(),
    };
    let last_attempt = job.attempts >= job.max_attempts;
    let stream = match ctx.services.registry.open_blob(&repo, &descriptor).await {
        Ok(s) => s,
        Err(e) => return Ok(download_failed(ctx, job, layer_id, &e, last_attempt).await),
    };

    let (tx, reader) = ChannelReader::channel(ctx.config.channel_capacity);
    let scanner = ctx.services.scanner.clone();
    let expected = Expected { digest: Some(digest.clone()), size: descriptor.size };
    let declared = MediaType::new(&p.media_type).kind();
    let started = Instant::now();
    let blocking = tokio::task::spawn_blocking(move || {
        let blob = BlobReader::new(reader, digest.to_string(), expected)?;
        let walker = Walker::new(&scanner.rules, &scanner.extractor, scanner.limits.clone());
        Ok(scan_blob(&walker, blob, digest, Some(declared), Verify::IfComplete))
    });
    let transferred = Transferred::default();
    let end = pump(Box::pin(stream.into_stream()), tx, &transferred).await;
    let counters = ctx.counters.stage(Stage::ScanLayer);
    Counters::add(&counters.bytes, transferred.get());
    let blob: Result<BlobScan, BlobFailure> = blocking.await.unwrap_or(Err(BlobFailure::Panicked));

    if let PumpEnd::Failed(e) = end {
        return Ok(download_failed(ctx, job, layer_id, &e, last_attempt).await);
    }
    // A blob that does not hash to its digest may be a flaky CDN: retried, and recorded as the
    // layer's error only when the attempts are used up.
    let verify_error = match &blob {
        Ok(b) => b.verify_error().map(ToString::to_string),
        Err(BlobFailure::Reader(e)) => Some(e.to_string()),
        Err(BlobFailure::Panicked) => None,
    };
    if let Some(error) = verify_error
        && !last_attempt
    {
        return Ok(Outcome::retry(error));
    }
    let report = match blob {
        Ok(blob) => layer_report(blob, &ctx.rules_version),
        Err(failure) => {
            let millis = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
            bare_report(LayerOutcome::Failed { error: failure.to_string() }, &ctx.rules_version, millis)
        }
    };
    let findings = report.findings.len() as u64;
    if let LayerOutcome::Failed { error } = &report.scan.outcome {
        ctx.progress.event(&Event::ItemFailed {
            stage: Stage::ScanLayer,
            key: job.key.clone(),
            error: error.clone(),
        });
    }
    store.record_layer_scan(layer_id, &report).await.map_err(|e| store_failed(&e))?;
    Counters::add(&counters.findings, findings);
    Counters::add(&counters.items, 1);
    Ok(Outcome::Done)
}

/// The download could not start or broke off: retried when that may help; otherwise (the blob
/// is gone, the registry refuses it for good) recorded as the layer's error.
async fn download_failed(
    ctx: &Ctx,
    job: &Job,
    layer_id: i64,
    e: &RegistryError,
    last_attempt: bool,
) -> Outcome {
    let error = crate::runner::error_chain(e);
    if e.is_permanent_for_item() || (last_attempt && !matches!(e, RegistryError::Net(_))) {
        let report =
            bare_report(LayerOutcome::Failed { error: format!("download: {error}") }, &ctx.rules_version, 0);
        ctx.progress.event(&Event::ItemFailed { stage: Stage::ScanLayer, key: job.key.clone(), error });
        return match ctx.store().record_layer_scan(layer_id, &report).await {
            Ok(_) => Outcome::Done,
            Err(e) => store_failed(&e),
        };
    }
    if let RegistryError::RateLimited { until: Some(t), .. } = e {
        return Outcome::Retry { error, after: Some(super::until(*t)) };
    }
    Outcome::retry(error)
}

/// The record of a layer decided without reading its content (skipped, or failed before the
/// walker saw a byte).
pub(super) fn bare_report(outcome: LayerOutcome, rules_version: &str, millis: i32) -> LayerReport {
    LayerReport {
        scan: StoredScan {
            outcome,
            bytes_scanned: 0,
            entries_scanned: 0,
            truncated_files: 0,
            rules_version: rules_version.to_owned(),
            millis,
        },
        whiteouts: Vec::new(),
        findings: Vec::new(),
        indicators: Vec::new(),
        skipped_files: SkippedFiles::default(),
    }
}

/// Why the blocking half produced no [`BlobScan`].
#[derive(Debug, thiserror::Error)]
enum BlobFailure {
    /// The blob's reader could not be set up (a digest algorithm other than sha256).
    #[error(transparent)]
    Reader(#[from] hubcensus_image::BlobError),
    /// The blocking task itself failed.
    #[error("{PANICKED}")]
    Panicked,
}

/// The database record of one blob's scan.
fn layer_report(blob: BlobScan, rules_version: &str) -> LayerReport {
    let millis = i32::try_from(blob.elapsed.as_millis()).unwrap_or(i32::MAX);
    let outcome = match blob.error() {
        Some(error) => LayerOutcome::Failed { error },
        None => LayerOutcome::Scanned,
    };
    let Some(scan) = blob.scan else {
        return bare_report(outcome, rules_version, millis);
    };
    LayerReport {
        scan: StoredScan {
            outcome,
            bytes_scanned: i64::try_from(scan.bytes).unwrap_or(i64::MAX),
            entries_scanned: i64::try_from(scan.entries).unwrap_or(i64::MAX),
            truncated_files: i32::try_from(scan.truncated_files).unwrap_or(i32::MAX),
            rules_version: rules_version.to_owned(),
            millis,
        },
        whiteouts: scan.whiteouts,
        findings: scan.findings,
        indicators: scan
            .indicators
            .into_iter()
            .map(|(indicator, first_path)| SeenIndicator { indicator, first_path })
            .collect(),
        skipped_files: SkippedFiles {
            kept: scan
                .skipped
                .into_iter()
                .map(|s| SkippedFile {
                    reason: s.reason.kind().to_owned(),
                    detail: s.reason.to_string(),
                    path: s.path,
                })
                .collect(),
            total: i32::try_from(scan.skipped_total).unwrap_or(i32::MAX),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hubcensus_layer::{LayerScan, SkipReason, Skipped};
    use hubcensus_scan::BlobScan;
    use hubcensus_types::Compression;

    use super::*;

    #[test]
    fn the_report_carries_the_files_a_complete_scan_skipped() {
        let zero_file =
            Skipped { path: "var/log/lastlog".into(), reason: SkipReason::ZeroFilled { bytes: 1 << 30 } };
        let scan = LayerScan {
            findings: Vec::new(),
            findings_truncated: false,
            indicators: Vec::new(),
            indicators_truncated: false,
            whiteouts: Vec::new(),
            compression: Compression::Gzip,
            declared_compression: None,
            compressed_bytes: 1 << 20,
            bytes: (1 << 30) + 4096,
            entries: 300,
            truncated_files: 0,
            skipped: vec![zero_file],
            skipped_total: 300,
            error: None,
            elapsed: Duration::from_millis(900),
        };
        let blob = BlobScan {
            scan: Some(scan),
            verified: None,
            bytes_read: 1 << 20,
            elapsed: Duration::from_millis(900),
        };
        let report = layer_report(blob, "r1");
        assert_eq!(report.scan.outcome, LayerOutcome::Scanned, "a skipped file does not fail the layer");
        assert_eq!(report.skipped_files.total, 300);
        let [f] = &report.skipped_files.kept[..] else { panic!("{:?}", report.skipped_files) };
        assert_eq!((f.path.as_str(), f.reason.as_str()), ("var/log/lastlog", "zero_filled"));
        assert!(f.detail.contains("1073741824 bytes of zeros"), "{}", f.detail);
    }
}
