//! `--format markdown`: the report as a GitHub-flavoured Markdown section, to paste into a
//! paper's appendix or an issue.

use std::fmt::Write as _;

use hubcensus_store::report::Report;

use super::{ESTIMATE_HEADER, category_cells, estimate_cells, estimate_note, notes, summary};

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
    if let Some(cells) = estimate_cells(report) {
        out.push_str("### Estimates for the frame\n\n");
        let _ = writeln!(out, "| {} |", ESTIMATE_HEADER.join(" | "));
        out.push_str("|---|---:|---:|---:|\n");
        for cells in cells {
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        let _ = writeln!(out, "\n{}\n", estimate_note(report));
    }
    for note in notes(report) {
        let _ = writeln!(out, "- {note}");
    }
    out
}
