//! `--format csv`: one header and one row per category, for a spreadsheet. Numbers are raw
//! (no thousands separators); Sysdig's missing figure is an empty cell.

use hubcensus_store::report::Report;

/// The columns, in order: the JSON field names of a category row.
pub(super) const COLUMNS: [&str; 8] = [
    "category",
    "label",
    "images",
    "repositories",
    "percent",
    "images_exclusive",
    "images_deleted_only",
    "sysdig_2022",
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
        ])?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}
