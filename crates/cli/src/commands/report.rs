//! `hubcensus report`: the Sysdig-style table of a census, read from Postgres.
//!
//! The numbers are the store's ([`Store::report`](hubcensus_store::Store::report)), which reads
//! the schema's views in one snapshot; this module only chooses the newly-registered-domain
//! window and renders: an aligned table for a terminal, CSV for a spreadsheet, JSON for
//! programs, Markdown for a paper's appendix, and a self-contained HTML page with an SVG chart
//! of our category mix beside Sysdig's. `--clusters` reports the attribution clusters instead
//! ([`clusters`]). `--run ID` reports one census run (by default the latest, when it recorded
//! its images); `--compare A B` lists what two runs flagged in common and apart ([`compare`]).

mod clusters;
mod compare;
mod csv;
mod html;
mod markdown;
mod table;

use std::{path::Path, process::ExitCode};

use anyhow::Context as _;
use hubcensus_estimate::Design;
use hubcensus_store::report::Report;

use crate::format::{coverage_lines, human_bytes, thousands, thousands_u};
use crate::{
    cli::{ReportArgs, ReportFormat},
    config::Settings,
};

pub(crate) async fn run(settings: &Settings, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let window = args.nrd_window_days.unwrap_or(settings.feeds.nrd_window_days);
    let text = if args.clusters {
        clusters::run(settings, args, window).await?
    } else if let Some([a, b]) = args.compare.as_deref() {
        compare::run(settings, args, window, (*a, *b)).await?
    } else {
        let store = crate::wiring::open_store(settings).await?;
        let run = match args.run {
            Some(id) => Some(id),
            None => store.default_report_run().await?,
        };
        let report = match run {
            Some(id) => store.run_report(window, id).await?.with_context(|| {
                format!("no census run {id} in this database (hubcensus status lists them)")
            })?,
            None => store.report(window).await?,
        };
        render(&report, args.format)?
    };
    match &args.output {
        Some(path) => write_file(path, &text)?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The report in `format`.
fn render(report: &Report, format: ReportFormat) -> anyhow::Result<String> {
    Ok(match format {
        ReportFormat::Table => table::render(report),
        ReportFormat::Csv => csv::render(report)?,
        ReportFormat::Json => serde_json::to_string_pretty(report)? + "\n",
        ReportFormat::Markdown => markdown::render(report),
        ReportFormat::Html => html::render(report),
    })
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing the report to {}", path.display()))
}

/// Sysdig's figure, or a dash where it gave none.
pub(crate) fn sysdig_cell(figure: Option<i64>) -> String {
    figure.map_or_else(|| "-".to_owned(), thousands)
}

/// `part` as a percentage of `whole` (0 when `whole` is 0).
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
pub(crate) fn share(part: i64, whole: i64) -> f64 {
    if whole == 0 { 0.0 } else { 100.0 * part as f64 / whole as f64 }
}

/// The frame and totals as (term, value) pairs in reading order: what every human-readable
/// format prints above the table, each in its own markup.
pub(crate) fn summary(report: &Report) -> Vec<(String, String)> {
    let (f, t) = (&report.frame, &report.totals);
    let mut items = vec![
        ("repositories seen".to_owned(), thousands(f.repositories_seen)),
        ("excluded".to_owned(), thousands(f.repositories_excluded)),
    ];
    items.extend(
        f.excluded
            .iter()
            .filter(|e| e.repositories > 0)
            .map(|e| (format!("excluded: {}", e.reason), thousands(e.repositories))),
    );
    items.push(("kept".to_owned(), thousands(f.repositories_kept)));
    if let Some(coverage) = &report.coverage {
        items.extend(coverage_lines(coverage));
    }
    items.extend(sample_lines(report));
    items.extend([
        (
            "analysed".to_owned(),
            format!("{} (kept, with an analysed image)", thousands(f.repositories_analysed)),
        ),
        (
            "images".to_owned(),
            format!(
                "{} resolved, {} analysed, {} flagged",
                thousands(t.images),
                thousands(t.images_analysed),
                thousands(t.images_flagged)
            ),
        ),
        (
            "layers".to_owned(),
            format!(
                "{} unique: {} scanned, {} failed, {} skipped, {} pending",
                thousands(t.layers),
                thousands(t.layers_scanned),
                thousands(t.layers_failed),
                thousands(t.layers_skipped),
                thousands(t.layers_pending)
            ),
        ),
        (
            "bytes".to_owned(),
            format!(
                "{} scanned uncompressed; unique layers {} compressed",
                human_bytes(t.bytes_scanned),
                human_bytes(t.bytes_compressed)
            ),
        ),
        (
            "findings".to_owned(),
            format!(
                "{} stored; {} deleted by an upper layer of an image (in {} images); {} images have \
                 deleted evidence only: not flagged, counted apart",
                thousands(t.findings),
                thousands(t.findings_deleted),
                thousands(t.images_with_deleted_findings),
                thousands(t.images_deleted_only)
            ),
        ),
        (
            "feeds".to_owned(),
            format!(
                "{} ({} entries); {} indicators stored",
                thousands(t.feeds),
                thousands(t.feed_entries),
                thousands(t.indicators)
            ),
        ),
    ]);
    items
}

/// What a sample's report says about its draw and non-response, as (term, value) pairs; none
/// for a census.
fn sample_lines(report: &Report) -> Vec<(String, String)> {
    let Some(s) = &report.sample else { return Vec::new() };
    let strata = if report.design == Design::Stratified {
        let bands: Vec<String> = s
            .strata
            .iter()
            .map(|b| {
                let pulls = match b.max_pulls {
                    Some(max) => format!("{}-{}", thousands_u(b.min_pulls), thousands_u(max)),
                    None => format!("{}+", thousands_u(b.min_pulls)),
                };
                format!("{pulls} pulls: {} of {}", thousands_u(b.drawn), thousands_u(b.population))
            })
            .collect();
        format!("; {} allocation by pull count ({})", s.allocation, bands.join(", "))
    } else {
        String::new()
    };
    let excluded: Vec<String> =
        s.excluded.iter().map(|e| format!("{} {}", e.reason, thousands(e.repositories))).collect();
    vec![
        (
            "sample".to_owned(),
            format!(
                "{}: {} of {} kept repositories drawn (seed {}, draw {}){strata}",
                report.design.as_str(),
                thousands(report.sample_size),
                thousands(report.frame_size),
                s.seed,
                s.draws
            ),
        ),
        (
            "sample outcome".to_owned(),
            format!(
                "{} analysed; {} left out after the draw{}; {} not analysed (failed or pending: non-response)",
                thousands_u(s.analysed),
                thousands(s.excluded.iter().map(|e| e.repositories).sum()),
                if excluded.is_empty() { String::new() } else { format!(" ({})", excluded.join(", ")) },
                thousands_u(s.not_analysed)
            ),
        ),
    ]
}

/// The estimates for the frame as text cells, one row per category (label, sample count,
/// estimated share of the frame's analysed repositories with its 95% interval, the same as a
/// count); none for a census, whose intervals collapse to the counts of the category table.
pub(crate) fn estimate_cells(report: &Report) -> Option<Vec<[String; 4]>> {
    if report.design == Design::Census {
        return None;
    }
    Some(
        report
            .categories
            .iter()
            .map(|c| {
                [
                    c.label.to_owned(),
                    thousands_u(c.sample_count),
                    format!("{:.3}% [{:.3}, {:.3}]", 100.0 * c.estimate, 100.0 * c.ci_low, 100.0 * c.ci_high),
                    format!(
                        "{} [{}, {}]",
                        thousands(c.estimate_images.round() as i64),
                        thousands(c.ci_low_images.round() as i64),
                        thousands(c.ci_high_images.round() as i64)
                    ),
                ]
            })
            .collect(),
    )
}

/// The header of [`estimate_cells`]' table.
pub(crate) const ESTIMATE_HEADER: [&str; 4] =
    ["category", "sample", "% of frame [95% CI]", "repositories [95% CI]"];

/// The note under the estimates table.
pub(crate) fn estimate_note(report: &Report) -> String {
    format!(
        "Estimates for the frame of {} kept repositories from a {} sample of {}: sample = analysed \
         repositories drawn with counted evidence of the category; % = the share of the frame's analysed \
         repositories (Wilson score interval with the finite population correction{}); repositories = \
         that share of the frame's analysed repositories (estimated from the analysed share of each \
         stratum's draws: non-response is taken as missing at random within a stratum).",
        thousands(report.frame_size),
        if report.design == Design::Stratified { "stratified" } else { "simple random" },
        thousands(report.sample_size),
        if report.design == Design::Stratified {
            ", stratified: Cochran's variance, Kish's effective size"
        } else {
            ""
        }
    )
}

/// The category table as text cells: one row per category (label, images, repositories,
/// percent, exclusive, deleted only, Sysdig), then the flagged-images total row.
pub(crate) fn category_cells(report: &Report) -> Vec<[String; 7]> {
    let t = &report.totals;
    let mut rows: Vec<[String; 7]> = report
        .categories
        .iter()
        .map(|c| {
            [
                c.label.to_owned(),
                thousands(c.images),
                thousands(c.repositories),
                format!("{:.3}", c.percent),
                thousands(c.images_exclusive),
                thousands(c.images_deleted_only),
                sysdig_cell(c.sysdig_2022),
            ]
        })
        .collect();
    rows.push([
        "flagged images".to_owned(),
        thousands(t.images_flagged),
        String::new(),
        format!("{:.3}", share(t.images_flagged, t.images_analysed)),
        thousands(report.categories.iter().map(|c| c.images_exclusive).sum()),
        thousands(t.images_deleted_only),
        thousands(t.sysdig_2022_table_total),
    ]);
    rows
}

/// The lines every human-readable format prints under the table, in plain text.
pub(crate) fn notes(report: &Report) -> Vec<String> {
    let t = &report.totals;
    vec![
        format!(
            "images: counted in the category (non-exclusive; medium or high confidence, not deleted by \
             an upper layer); %: of the {} analysed images.",
            thousands(t.images_analysed)
        ),
        "exclusive: each flagged image once, under its first category in the order of this table.".to_owned(),
        "deleted: images whose only evidence of the category an upper layer deletes (counted apart)."
            .to_owned(),
        format!(
            "newly registered domains: registered within {} days before the image was pushed.",
            t.nrd_window_days
        ),
        format!(
            "Sysdig 2022: {} malicious images in the 2022 Cloud-Native Threat Report (Sep 2022), the \
             sum of its category table (candid.technology, BleepingComputer's chart); {} in the Nov \
             2022 blog's headline. Its figures add up to its total, so set them beside the exclusive \
             column. Sysdig analysed over 250,000 community Linux images, official and \
             verified-publisher ones excluded.",
            thousands(t.sysdig_2022_table_total),
            thousands(t.sysdig_2022_blog_total)
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_at_a_glance() {
        assert_eq!(sysdig_cell(None), "-");
        assert_eq!(sysdig_cell(Some(608)), "608");
        assert!((share(1, 3) - 33.333).abs() < 0.001);
        assert!(share(5, 0).abs() < f64::EPSILON);
    }
}
