//! `--format table`: the report for a person at a terminal, aligned and within 80 columns for
//! any census up to millions of images.

use std::fmt::Write as _;

use hubcensus_store::report::Report;

use super::{ESTIMATE_HEADER, category_cells, estimate_cells, estimate_note, notes, summary};

/// Widest line the page aims for (text wraps to it; the table fits it unless a count has more
/// than seven digits).
const WIDTH: usize = 80;

/// Renders the whole page.
pub(super) fn render(report: &Report) -> String {
    let mut out = String::from("hubcensus report: the census beside Sysdig's 2022 Docker Hub study\n\n");
    let summary = summary(report);
    let terms = summary.iter().map(|(term, _)| term.chars().count()).max().unwrap_or(0) + 2;
    for (term, value) in &summary {
        for (i, line) in wrap(value, WIDTH - terms).into_iter().enumerate() {
            let term = if i == 0 { term.as_str() } else { "" };
            let _ = writeln!(out, "{term:<terms$}{line}");
        }
    }
    out.push('\n');
    let header = ["category", "images", "repos", "%", "exclusive", "deleted", "Sysdig"].map(str::to_owned);
    let mut rows = vec![header];
    rows.extend(category_cells(report));
    for line in align(&rows) {
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
    if let Some(cells) = estimate_cells(report) {
        let mut rows = vec![ESTIMATE_HEADER.map(str::to_owned)];
        rows.extend(cells);
        for line in align(&rows) {
            let _ = writeln!(out, "{line}");
        }
        out.push('\n');
        for line in wrap(&estimate_note(report), WIDTH - 2) {
            let _ = writeln!(out, "{line}");
        }
        out.push('\n');
    }
    for note in notes(report) {
        for line in wrap(&note, WIDTH - 2) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// Lines with the first column left-aligned and the others right-aligned, each as wide as its
/// widest cell, two spaces apart.
fn align<const N: usize>(rows: &[[String; N]]) -> Vec<String> {
    let mut widths = [0; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let mut line = format!("{:<w$}", row[0], w = widths[0]);
            for (cell, w) in row.iter().zip(widths).skip(1) {
                let _ = write!(line, "  {cell:>w$}");
            }
            line
        })
        .collect()
}

/// `text` broken at spaces into lines of at most `width` characters.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_and_the_width() {
        let lines = wrap("one two three four five six", 9);
        assert_eq!(lines, ["one two", "three", "four five", "six"]);
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn columns_align_to_their_widest_cell() {
        let row = |a: &str, b: &str| [a, b, "", "", "", "", ""].map(str::to_owned);
        let lines = align(&[row("category", "images"), row("Crypto mining", "1,234,567")]);
        assert_eq!(lines[0].trim_end(), "category          images");
        assert_eq!(lines[1].trim_end(), "Crypto mining  1,234,567");
    }
}
