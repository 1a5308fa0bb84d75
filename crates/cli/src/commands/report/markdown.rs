//! `--format markdown`: the report as a GitHub-flavoured Markdown section, to paste into a
//! paper's appendix or an issue.

use std::fmt::Write as _;

use hubcensus_store::report::Report;

use super::{category_cells, notes, summary};

/// Renders the whole section.
pub(super) fn render(report: &Report) -> String {
    let mut out = String::from("## hubcensus report\n\n### Frame and totals\n\n");
    for (term, value) in summary(report) {
        let _ = writeln!(out, "- {term}: {value}");
    }
    out.push_str("\n### Categories\n\n");
    out.push_str(
        "| category | images | repositories | % of analysed | exclusive | deleted only | Sysdig 2022 |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    // The category rows carry their canonical id; the last row (the total) has none.
    let ids = report.categories.iter().map(|c| Some(c.category)).chain(std::iter::once(None));
    for (cells, id) in category_cells(report).into_iter().zip(ids) {
        let [label, rest @ ..] = cells;
        let label = match id {
            Some(id) => format!("{label} (`{id}`)"),
            None => format!("**{label}**"),
        };
        let _ = writeln!(out, "| {label} | {} |", rest.join(" | "));
    }
    out.push('\n');
    for note in notes(report) {
        let _ = writeln!(out, "- {note}");
    }
    out
}
