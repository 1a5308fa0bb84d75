//! `hubcensus scan SOURCE`: scan one image (local, or in a registry) or layer and print its
//! findings.
//!
//! This is the census's scanner on one image, with no database: a researcher triaging an
//! image, a CI job gating a build, and the project's own end-to-end tests use it. The engine is
//! hubcensus-scan's, the census's own: a local source is opened by hubcensus-image, a
//! `docker://` one by the census's registry client; either way every blob is digest-verified,
//! layers are walked in parallel, upper-layer whiteouts are applied as the census's SQL view
//! applies them, and `--feed` files are matched in memory the way the census matches stored
//! feeds. This module keeps the arguments and the renderers.
//!
//! Exit codes: 0 nothing found, 1 findings, 2 error (the source could not be opened, or a layer
//! or the config could not be scanned completely: an incomplete scan is never "clean").

mod report;
mod sarif;
mod table;

use std::{collections::BTreeMap, io::Write, process::ExitCode};

use anyhow::Context as _;
use hubcensus_image::Source;
use hubcensus_intel::{ExtractLimits, IndicatorExtractor};
use hubcensus_scan::{Engine, Feeds, LocalImage, RemoteImage, ScanTarget};
use hubcensus_types::{Confidence, Platform};

use self::report::Report;
use crate::{
    cli::{MinConfidence, ScanArgs, ScanFormat},
    config::Settings,
    wiring,
};

/// Runs `hubcensus scan`.
pub(crate) fn run(args: &ScanArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    // `--platform` is merged into census.platform by the config layering (and validated there).
    let platform: Platform = settings.census.platform.parse().context("--platform")?;
    let source: Source = args.source.parse()?;
    // Compile the rules (YARA files included) and read the feeds, then open the image (from
    // disk, or resolve it in the registry): a wrong argument or a rule that does not compile
    // is reported before a pull is spent.
    let rules = crate::rules::load(settings, &args.yara)?;
    let feeds = Feeds::load(&args.feed)?;
    let image: Box<dyn ScanTarget> = match &source {
        Source::Docker { reference } => Box::new(remote_image(reference, settings, &platform)?),
        local => Box::new(LocalImage::open(local, &platform).with_context(|| format!("opening {source}"))?),
    };
    let extractor = IndicatorExtractor::new(ExtractLimits::default());
    tracing::info!(
        image = image.name(),
        layers = image.layers().len(),
        platform = image.platform().map(ToString::to_string),
        rules = rules.version(),
        "scanning"
    );
    let engine = Engine {
        rules: &rules,
        extractor: &extractor,
        limits: settings.limits.clone(),
        threads: threads(settings),
    };
    let scan = engine.scan_image(image.as_ref(), &feeds, settings.feeds.nrd_window_days);

    let report = Report::new(
        image.name().to_owned(),
        scan.findings,
        scan.layers,
        min_confidence(args.min_confidence),
        scan.config_error.into_iter().collect(),
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

/// Scan threads: `census.scan_concurrency`, 0 meaning one per core.
fn threads(settings: &Settings) -> usize {
    match settings.census.scan_concurrency {
        0 => std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
        n => usize::try_from(n).unwrap_or(1),
    }
}

/// Resolves a `docker://` reference: the configured `[registry]` (Docker Hub by default, with
/// the `[hub]` account if one is configured) when it names no host, else that host, anonymous.
fn remote_image(
    reference: &hubcensus_image::DockerReference,
    settings: &Settings,
    platform: &Platform,
) -> anyhow::Result<RemoteImage> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the download runtime")?;
    let client = {
        // The gate's client and limiters are built inside the runtime they will run on.
        let _entered = runtime.enter();
        // A scan has no census database: its budgets are this process's own.
        let budgets = crate::budgets::Budgets::local(settings)?;
        let gate = wiring::gate(settings, &budgets)?;
        match reference.host() {
            None => wiring::registry_client(gate, settings, platform.clone(), &budgets)?,
            Some(_) => wiring::registry_client_at(
                gate,
                settings,
                platform.clone(),
                hubcensus_scan::registry_url(reference, settings.net.allow_private_addresses)?,
            ),
        }
    };
    let channel_capacity = usize::try_from(settings.census.channel_capacity).unwrap_or(1);
    Ok(RemoteImage::open(reference, runtime, client, channel_capacity)?)
}
