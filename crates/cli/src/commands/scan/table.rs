//! `--format table`: one line per finding, then one per layer, for a person at a terminal.

use std::fmt::Write as _;

use super::report::{CONFIG_LAYER, Report};

/// Renders `report` as text.
pub(crate) fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "image {}", clean(&report.image));
    if report.findings.is_empty() {
        let _ = writeln!(out, "\nno findings");
    } else {
        let _ =
            writeln!(out, "\n{:<7} {:<24} {:<28} {:<14} PATH / PREVIEW", "CONF", "CATEGORY", "RULE", "LAYER");
        for f in &report.findings {
            let layer = if f.layer == CONFIG_LAYER { CONFIG_LAYER.to_owned() } else { short(&f.layer) };
            let deleted = if f.deleted_in_upper_layer { "  [deleted in an upper layer]" } else { "" };
            let _ = writeln!(
                out,
                "{:<7} {:<24} {:<28} {:<14} {}  {}{deleted}",
                f.confidence.as_str(),
                f.category.as_str(),
                clean(&f.rule),
                layer,
                clean(&f.path),
                clean(&f.preview),
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{:<3} {:<14} {:<52} {:>12} {:>9}  STATUS",
        "#", "LAYER", "MEDIA TYPE", "BYTES", "ENTRIES"
    );
    for (i, l) in report.layers.iter().enumerate() {
        let status = match (&l.skipped, &l.error) {
            (_, Some(e)) => format!("error: {}", clean(e)),
            (Some(s), None) => format!("skipped: {}", clean(s)),
            (None, None) => "scanned".to_owned(),
        };
        let digest = l.digest.as_deref().map_or_else(|| "?".to_owned(), short);
        let _ = writeln!(
            out,
            "{i:<3} {digest:<14} {:<52} {:>12} {:>9}  {status}",
            clean(&l.media_type),
            l.bytes,
            l.entries
        );
        for f in &l.skipped_files {
            let _ = writeln!(out, "    file not (fully) scanned: {}: {}", clean(&f.path), clean(&f.detail));
        }
        let more = (l.files_skipped as usize).saturating_sub(l.skipped_files.len());
        if more > 0 {
            let _ = writeln!(out, "    and {more} more file(s) not (fully) scanned");
        }
    }
    for e in &report.other_errors {
        let _ = writeln!(out, "error: {}", clean(e));
    }
    let categories: Vec<&str> = report.categories.iter().map(|c| c.as_str()).collect();
    let _ = writeln!(
        out,
        "\ncategories: {}",
        if categories.is_empty() { "none".to_owned() } else { categories.join(", ") }
    );
    out
}

/// `sha256:0123456789ab…` → `0123456789ab`.
fn short(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.chars().take(12).collect()
}

/// Paths and previews come from the image: never let them drive the terminal.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}
