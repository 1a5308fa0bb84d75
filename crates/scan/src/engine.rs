//! Scanning one opened image, local or remote: its layers on a pool of threads (one [`Walker`]
//! per thread, so walkers keep their reusable buffers to themselves), its config, then the image
//! verdict — which findings upper layers delete — and the matches of in-memory feeds.

use std::{
    panic::{self, AssertUnwindSafe},
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
};

use hubcensus_intel::IndicatorExtractor;
use hubcensus_layer::{Limits, Walker};
use hubcensus_rules::RuleSet;
use hubcensus_types::{Compression, Digest, Finding, Indicator, MediaType, Subject, Whiteout, error_chain};
use serde::Serialize;

use crate::{
    Feeds, PANICKED, Verify,
    blob::scan_blob,
    feeds,
    target::{LayerSpec, ScanTarget},
    verdict::mark_deleted,
};

/// One layer of a scanned image, in the shape `hubcensus scan --format json` prints it (its
/// keys are a contract: docs/scan.md).
#[derive(Debug, Clone, Serialize)]
pub struct LayerResult {
    /// The blob digest (computed while reading for a bare `layer:FILE`); `null` only when the
    /// blob could not be read at all.
    pub digest: Option<String>,
    /// The media type the manifest gives, else the one the content's magic bytes show.
    pub media_type: String,
    /// The blob's size in bytes (as stored: compressed).
    pub bytes: u64,
    /// Tar entries walked (nested archive members included).
    pub entries: u64,
    /// Why the layer was not scanned (foreign layer, not a layer), or `null`.
    pub skipped: Option<String>,
    /// Why the scan of this layer failed or stopped early (digest mismatch, corrupt stream, a
    /// limit), or `null`. Findings made before the failure are kept.
    pub error: Option<String>,
    /// How many files inside the layer the scan did not (fully) read: files of zeros, nested
    /// bombs cut, archives too deep, too big or corrupt, paths cut. The walk went on past each.
    pub files_skipped: u32,
    /// The first of them (the scanner keeps 256), each with its reason.
    pub skipped_files: Vec<SkippedFile>,
}

/// A file inside a layer the scan did not (fully) read.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFile {
    /// Its path inside the layer.
    pub path: String,
    /// A stable id: `zero_filled`, `bomb`, `too_deep`, `too_big`, `corrupt`, `unreadable`,
    /// `path_too_long`.
    pub reason: &'static str,
    /// The reason for a person, with its figures.
    pub detail: String,
}

impl From<hubcensus_layer::Skipped> for SkippedFile {
    fn from(s: hubcensus_layer::Skipped) -> Self {
        Self { reason: s.reason.kind(), detail: s.reason.to_string(), path: s.path }
    }
}

/// What scanning one layer produced, whatever happened to it.
#[derive(Debug)]
pub struct LayerOutcome {
    /// The layer's record.
    pub result: LayerResult,
    /// Its findings.
    pub findings: Vec<Finding>,
    whiteouts: Vec<Whiteout>,
    /// Its distinct indicators, each with the first path that referenced it.
    pub indicators: Vec<(Indicator, String)>,
}

/// What scanning the config produced.
#[derive(Debug, Default)]
pub struct ConfigOutcome {
    /// Its findings.
    pub findings: Vec<Finding>,
    /// Its distinct indicators, each with the first path that referenced it.
    pub indicators: Vec<(Indicator, String)>,
    /// Why the config could not be scanned completely.
    pub error: Option<String>,
}

/// A whole image scanned: every layer's record, every finding (whiteouts applied, feed
/// matches added), and the config's error.
#[derive(Debug)]
pub struct ImageScan {
    /// Every layer, bottom first, scanned, skipped or failed.
    pub layers: Vec<LayerResult>,
    /// Layer findings (bottom first), config findings, then feed matches.
    pub findings: Vec<Finding>,
    /// Why the config could not be scanned completely.
    pub config_error: Option<String>,
}

/// Scans images with one rule set, extractor and limits.
#[derive(Debug)]
pub struct Engine<'a> {
    /// The rules.
    pub rules: &'a RuleSet,
    /// The indicator extractor.
    pub extractor: &'a IndicatorExtractor,
    /// Hard limits per layer.
    pub limits: Limits,
    /// Layers scanned at once.
    pub threads: usize,
}

impl Engine<'_> {
    /// Scans `image` whole: [`Engine::scan`], then `feeds` matched against every indicator,
    /// each located where it was first seen (layers bottom first, then the config), and dated
    /// for newly-registered-domain feeds by the config's creation date.
    pub fn scan_image(&self, image: &dyn ScanTarget, feeds: &Feeds, nrd_window_days: u32) -> ImageScan {
        let (layers, config) = self.scan(image);
        let mut findings: Vec<Finding> = Vec::new();
        let mut results = Vec::with_capacity(layers.len());
        // Each indicator with where it was first seen: layers bottom first, then the config.
        // Up to the indicator cap per layer go through this map: foldhash, not SipHash.
        let mut seen: foldhash::HashMap<Indicator, (Subject, String)> = foldhash::HashMap::default();
        let mut indicators: Vec<Indicator> = Vec::new();
        let mut note = |subject: &Subject, list: Vec<(Indicator, String)>| {
            for (indicator, path) in list {
                if let std::collections::hash_map::Entry::Vacant(slot) = seen.entry(indicator) {
                    indicators.push(slot.key().clone());
                    slot.insert((subject.clone(), path));
                }
            }
        };
        for outcome in layers {
            let subject = outcome.result.digest.as_deref().and_then(|d| d.parse().ok()).map(Subject::Layer);
            if let Some(subject) = &subject {
                note(subject, outcome.indicators);
            }
            findings.extend(outcome.findings);
            results.push(outcome.result);
        }
        note(&Subject::Config, config.indicators);
        findings.extend(config.findings);
        let pushed = image.config().and_then(|c| feeds::date_of(c.summary.created.as_deref()));
        findings.extend(feeds.findings(&indicators, &seen, pushed, nrd_window_days));
        ImageScan { layers: results, findings, config_error: config.error }
    }

    /// Scans every layer (bottom first in the result) and the config, and flags the findings
    /// upper layers delete.
    pub fn scan(&self, image: &dyn ScanTarget) -> (Vec<LayerOutcome>, ConfigOutcome) {
        let layers = image.layers();
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<LayerOutcome>>> = layers.iter().map(|_| Mutex::new(None)).collect();
        let threads = self.threads.clamp(1, layers.len().max(1));
        thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let walker = Walker::new(self.rules, self.extractor, self.limits.clone());
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(layer) = layers.get(i) else { break };
                        // A panic opening a blob must cost that layer only, as one in the
                        // walker does (`scan_blob`): it becomes the layer's error.
                        let outcome =
                            panic::catch_unwind(AssertUnwindSafe(|| scan_layer(&walker, image, i, layer)))
                                .unwrap_or_else(|_| failed(layer, PANICKED.into()));
                        if let Some(slot) = slots.get(i)
                            && let Ok(mut slot) = slot.lock()
                        {
                            *slot = Some(outcome);
                        }
                    }
                });
            }
        });
        let mut outcomes: Vec<LayerOutcome> = slots
            .into_iter()
            .zip(layers)
            .map(|(slot, layer)| {
                slot.into_inner()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| failed(layer, "no result was recorded for this layer".into()))
            })
            .collect();
        let config = self.scan_config(image);
        let whiteouts: Vec<Vec<Whiteout>> =
            outcomes.iter_mut().map(|o| std::mem::take(&mut o.whiteouts)).collect();
        let deletions: Vec<&[Whiteout]> = whiteouts.iter().map(Vec::as_slice).collect();
        let mut findings: Vec<&mut [Finding]> =
            outcomes.iter_mut().map(|o| o.findings.as_mut_slice()).collect();
        mark_deleted(&mut findings, &deletions);
        (outcomes, config)
    }

    fn scan_config(&self, image: &dyn ScanTarget) -> ConfigOutcome {
        let Some(config) = image.config() else {
            return ConfigOutcome::default();
        };
        let walker = Walker::new(self.rules, self.extractor, self.limits.clone());
        let Ok(scan) = panic::catch_unwind(AssertUnwindSafe(|| walker.scan_config(&config.bytes))) else {
            return ConfigOutcome {
                error: Some(format!("config {}: the config scanner panicked", config.digest)),
                ..ConfigOutcome::default()
            };
        };
        ConfigOutcome {
            findings: scan.findings,
            indicators: scan.indicators,
            error: scan.error.map(|e| format!("config {}: {e}", config.digest)),
        }
    }
}

/// Scans layer `i`: skipped, unreadable, or walked through a digest-verifying reader.
fn scan_layer(walker: &Walker<'_>, image: &dyn ScanTarget, i: usize, layer: &LayerSpec) -> LayerOutcome {
    if let Some(reason) = &layer.skip {
        let mut outcome = failed(layer, String::new());
        outcome.result.error = None;
        outcome.result.skipped = Some(reason.clone());
        return outcome;
    }
    let reader = match image.open_layer(i) {
        Ok(r) => r,
        Err(e) => return failed(layer, error_chain(&e)),
    };
    // A bare layer file's digest is known only once it is read: scan under a provisional one.
    let provisional = layer.digest.clone().unwrap_or_else(|| Digest::sha256_of(b""));
    let declared = layer.media_type.as_ref().map(MediaType::kind);
    let blob = scan_blob(walker, reader, provisional, declared, Verify::Always);
    let error = blob.error();
    let Some(scan) = blob.scan else {
        return failed(layer, PANICKED.into());
    };
    let (digest, bytes) = match blob.verified {
        Some(Ok(v)) => (Some(v.digest), v.size),
        _ => (layer.digest.clone(), layer.size.unwrap_or(blob.bytes_read)),
    };
    LayerOutcome {
        result: LayerResult {
            digest: digest.map(|d| d.to_string()),
            media_type: media_type(layer, scan.compression),
            bytes,
            entries: scan.entries,
            skipped: None,
            error,
            files_skipped: scan.skipped_total,
            skipped_files: scan.skipped.into_iter().map(SkippedFile::from).collect(),
        },
        findings: scan.findings,
        whiteouts: scan.whiteouts,
        indicators: scan.indicators,
    }
}

fn failed(layer: &LayerSpec, error: String) -> LayerOutcome {
    LayerOutcome {
        result: LayerResult {
            digest: layer.digest.as_ref().map(Digest::to_string),
            media_type: layer.media_type.as_ref().map(MediaType::to_string).unwrap_or_default(),
            bytes: layer.size.unwrap_or(0),
            entries: 0,
            skipped: None,
            error: Some(error),
            files_skipped: 0,
            skipped_files: Vec::new(),
        },
        findings: Vec::new(),
        whiteouts: Vec::new(),
        indicators: Vec::new(),
    }
}

/// The manifest's media type, else the OCI type matching what the magic bytes showed.
fn media_type(layer: &LayerSpec, compression: Compression) -> String {
    if let Some(mt) = &layer.media_type {
        return mt.to_string();
    }
    match compression {
        Compression::None => MediaType::OCI_LAYER,
        Compression::Gzip => MediaType::OCI_LAYER_GZIP,
        Compression::Zstd => MediaType::OCI_LAYER_ZSTD,
    }
    .to_owned()
}
