//! `--format csv`: one header and one row per category, for a spreadsheet. Numbers are raw
//! (no thousands separators); Sysdig's missing figure is an empty cell. The estimate columns
//! are proportions of the frame's analysed units (six places) and counts (one place); for a
//! census they equal the observed share and count.

use hubcensus_store::report::Report;

/// The columns, in order: the JSON field names of a category row.
pub(super) const COLUMNS: [&str; 14] = [
    "category",
    "label",
    "images",
    "repositories",
    "percent",
    "images_exclusive",
    "images_deleted_only",
    "sysdig_2022",
    "estimate",
    "ci_low",
    "ci_high",
    "estimate_images",
    "ci_low_images",
    "ci_high_images",
];

/// Renders the category table.
pub(super) fn render(report: &Report) -> anyhow::Result<String> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for c in &report.categories {
        writer.write_record([
            c.category.as_str().to_owned(),
            c.label.to_owned(),
            c.images.to_string(),
            c.repositories.to_string(),
            format!("{:.3}", c.percent),
            c.images_exclusive.to_string(),
            c.images_deleted_only.to_string(),
            c.sysdig_2022.map(|n| n.to_string()).unwrap_or_default(),
            format!("{:.6}", c.estimate),
            format!("{:.6}", c.ci_low),
            format!("{:.6}", c.ci_high),
            format!("{:.1}", c.estimate_images),
            format!("{:.1}", c.ci_low_images),
            format!("{:.1}", c.ci_high_images),
        ])?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}
