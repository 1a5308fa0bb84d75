//! `hubcensus scan SOURCE`: scan one image (local, or in a registry) or layer and print its
//! findings.
//!
//! This is the census's scanner on one image, with no database: a researcher triaging an
//! image, a CI job gating a build, and the project's own end-to-end tests use it. A local
//! source is opened by hubcensus-image, a `docker://` one by the census's registry client
//! (`remote`); either way every blob is digest-verified, layers are walked in parallel by
//! hubcensus-layer, upper-layer whiteouts are applied as the census's SQL view applies them, and
//! `--feed` files are matched in memory the way the census matches stored feeds.
//!
//! Exit codes: 0 nothing found, 1 findings, 2 error (the source could not be opened, or a layer
//! or the config could not be scanned completely: an incomplete scan is never "clean").

mod engine;
pub(crate) mod feeds;
mod remote;
mod report;
mod sarif;
mod table;
mod target;

use std::{
    collections::{BTreeMap, HashMap},
    io::Write,
    process::ExitCode,
};

use anyhow::Context as _;
use hubcensus_image::Source;
use hubcensus_intel::{ExtractLimits, IndicatorExtractor};
use hubcensus_layer::Limits;
use hubcensus_rules::RuleSet;
use hubcensus_types::{Confidence, Finding, Indicator, Platform, Subject};

use self::{
    engine::Engine,
    remote::RemoteImage,
    report::Report,
    target::{LocalImage, ScanTarget},
};
use crate::{
    cli::{MinConfidence, ScanArgs, ScanFormat},
    config::Settings,
};

/// Runs `hubcensus scan`.
pub(crate) fn run(args: &ScanArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    // `--platform` is merged into census.platform by the config layering (and validated there).
    let platform: Platform = settings.census.platform.parse().context("--platform")?;
    let source: Source = args.source.parse()?;
    // Read the feeds, then open the image (from disk, or resolve it in the registry): a wrong
    // argument is reported before a pull is spent or the rule set is compiled.
    let feeds = feeds::load(&args.feed)?;
    let image: Box<dyn ScanTarget> = match &source {
        Source::Docker { reference } => Box::new(RemoteImage::open(reference, settings, &platform)?),
        local => Box::new(LocalImage::open(local, &platform).with_context(|| format!("opening {source}"))?),
    };
    let rules = RuleSet::builtin().context("loading the built-in rules")?;
    let extractor = IndicatorExtractor::new(ExtractLimits::default());
    tracing::info!(
        image = image.name(),
        layers = image.layers().len(),
        platform = image.platform().map(ToString::to_string),
        rules = rules.version(),
        "scanning"
    );
    let engine =
        Engine { rules: &rules, extractor: &extractor, limits: limits(settings), threads: threads(settings) };
    let (layers, config) = engine.scan(image.as_ref());

    let mut findings: Vec<Finding> = Vec::new();
    let mut layer_outs = Vec::with_capacity(layers.len());
    // Each indicator with where it was first seen: layers bottom first, then the config.
    let mut seen: HashMap<Indicator, (Subject, String)> = HashMap::new();
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
        let subject = outcome.out.digest.as_deref().and_then(|d| d.parse().ok()).map(Subject::Layer);
        if let Some(subject) = &subject {
            note(subject, outcome.indicators);
        }
        findings.extend(outcome.findings);
        layer_outs.push(outcome.out);
    }
    note(&Subject::Config, config.indicators);
    findings.extend(config.findings);
    let pushed = image.config().and_then(|c| feeds::date_of(c.summary.created.as_deref()));
    findings.extend(feeds.findings(&indicators, &seen, pushed, settings.feeds.nrd_window_days));

    let report = Report::new(
        image.name().to_owned(),
        findings,
        layer_outs,
        min_confidence(args.min_confidence),
        config.error.into_iter().collect(),
    );
    for e in &report.other_errors {
        tracing::error!("{e}");
    }
    let text = match args.format {
        ScanFormat::Table => table::render(&report),
        ScanFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        ScanFormat::Sarif => {
            let descriptions: BTreeMap<String, String> =
                rules.rules().map(|r| (r.id().to_owned(), r.description().to_owned())).collect();
            serde_json::to_string_pretty(&sarif::render(&report, &descriptions))? + "\n"
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => {}
        // `hubcensus scan ... | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::from(report.exit_code()))
}

fn min_confidence(m: MinConfidence) -> Confidence {
    match m {
        MinConfidence::Low => Confidence::Low,
        MinConfidence::Medium => Confidence::Medium,
        MinConfidence::High => Confidence::High,
    }
}

/// The layer limits from `[limits]` (also the census's).
pub(crate) fn limits(settings: &Settings) -> Limits {
    let l = &settings.limits;
    Limits {
        max_layer_bytes: l.max_layer_bytes,
        max_entries: l.max_entries,
        max_compression_ratio: l.max_compression_ratio,
        max_path_length: l.max_path_length,
        max_file_scan_bytes: l.max_file_scan_bytes,
        layer_timeout_secs: l.layer_timeout_secs,
        nested_archive_depth: l.nested_archive_depth,
        ..Limits::default()
    }
}

/// Scan threads: `census.scan_concurrency`, 0 meaning one per core.
fn threads(settings: &Settings) -> usize {
    match settings.census.scan_concurrency {
        0 => std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
        n => usize::try_from(n).unwrap_or(1),
    }
}
