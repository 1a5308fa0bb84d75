//! Scanning one opened image, local or remote: its layers on a pool of threads (one [`Walker`]
//! per thread, so walkers keep their reusable buffers to themselves), its config, then the image
//! verdict — which findings upper layers delete — and the matches of `--feed` files.

use std::{
    panic::{self, AssertUnwindSafe},
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
};

use hubcensus_image::{Deletion, mark_deleted};
use hubcensus_intel::IndicatorExtractor;
use hubcensus_layer::{LayerScan, Limits, Walker};
use hubcensus_rules::RuleSet;
use hubcensus_types::{Compression, Digest, Finding, Indicator, MediaType, MediaTypeKind, Subject};

use super::{
    report::LayerOut,
    target::{LayerSpec, ScanTarget},
};

/// What scanning one layer produced, whatever happened to it.
#[derive(Debug)]
pub(crate) struct LayerOutcome {
    pub(crate) out: LayerOut,
    pub(crate) findings: Vec<Finding>,
    whiteouts: Vec<Deletion>,
    pub(crate) indicators: Vec<(Indicator, String)>,
}

/// What scanning the config produced.
#[derive(Debug, Default)]
pub(crate) struct ConfigOutcome {
    pub(crate) findings: Vec<Finding>,
    pub(crate) indicators: Vec<(Indicator, String)>,
    pub(crate) error: Option<String>,
}

/// Scans images with one rule set, extractor and limits.
#[derive(Debug)]
pub(crate) struct Engine<'a> {
    pub(crate) rules: &'a RuleSet,
    pub(crate) extractor: &'a IndicatorExtractor,
    pub(crate) limits: Limits,
    pub(crate) threads: usize,
}

impl Engine<'_> {
    /// Scans every layer (bottom first in the result) and the config, and flags the findings
    /// upper layers delete.
    pub(crate) fn scan(&self, image: &dyn ScanTarget) -> (Vec<LayerOutcome>, ConfigOutcome) {
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
                        // A panic in the walker or a decoder on hostile bytes must cost that
                        // layer only: it becomes the layer's error and the thread goes on.
                        let outcome =
                            panic::catch_unwind(AssertUnwindSafe(|| scan_layer(&walker, image, i, layer)))
                                .unwrap_or_else(|_| {
                                    failed(layer, "the layer scanner panicked on this blob".into())
                                });
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
        let whiteouts: Vec<Vec<Deletion>> =
            outcomes.iter_mut().map(|o| std::mem::take(&mut o.whiteouts)).collect();
        let deletions: Vec<&[Deletion]> = whiteouts.iter().map(Vec::as_slice).collect();
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
        outcome.out.error = None;
        outcome.out.skipped = Some(reason.clone());
        return outcome;
    }
    let mut reader = match image.open_layer(i) {
        Ok(r) => r,
        Err(e) => return failed(layer, crate::error_chain(&e)),
    };
    // A bare layer file's digest is known only once it is read: scan under a provisional
    // subject and name the findings after the verified digest below.
    let provisional = layer.digest.clone().unwrap_or_else(|| Digest::sha256_of(b""));
    let subject = Subject::Layer(provisional);
    let scan: LayerScan = match layer.media_type.as_ref().map(MediaType::kind) {
        Some(MediaTypeKind::Layer(declared)) => walker.scan_layer_declared(&mut reader, subject, declared),
        _ => walker.scan_layer(&mut reader, subject),
    };
    let read = reader.bytes_read();
    let (digest, bytes, verify_error) = match reader.finish() {
        Ok(v) => (Some(v.digest), v.size, None),
        Err(e) => (layer.digest.clone(), layer.size.unwrap_or(read), Some(e.to_string())),
    };
    let mut findings = scan.findings;
    if let Some(d) = &digest {
        for f in &mut findings {
            f.subject = Subject::Layer(d.clone());
        }
    }
    // A digest mismatch says more about the blob than whatever the walker made of it.
    let error = verify_error.or_else(|| scan.error.map(|e| e.to_string()));
    LayerOutcome {
        out: LayerOut {
            digest: digest.map(|d| d.to_string()),
            media_type: media_type(layer, scan.compression),
            bytes,
            entries: scan.entries,
            skipped: None,
            error,
        },
        findings,
        whiteouts: scan.whiteouts.into_iter().map(|w| Deletion { path: w.path, opaque: w.opaque }).collect(),
        indicators: scan.indicators,
    }
}

fn failed(layer: &LayerSpec, error: String) -> LayerOutcome {
    LayerOutcome {
        out: LayerOut {
            digest: layer.digest.as_ref().map(Digest::to_string),
            media_type: layer.media_type.as_ref().map(MediaType::to_string).unwrap_or_default(),
            bytes: layer.size.unwrap_or(0),
            entries: 0,
            skipped: None,
            error: Some(error),
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
