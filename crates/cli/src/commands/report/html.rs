//! `--format html`: one self-contained page (inline CSS and SVG, no script, no external asset)
//! that can be mailed, archived or opened offline years later and still show the same thing.
//!
//! The chart sets our category mix beside Sysdig's. Absolute counts are not comparable (our
//! census and Sysdig's differ in size), and neither are prevalences (a planted simulator
//! population is far denser than Docker Hub); the *shares of flagged images* are. Sysdig's
//! figures add up to its total (1,777), i.e. they behave as an exclusive split, so ours are the
//! exclusive counts over our flagged images.

use std::fmt::Write as _;

use hubcensus_store::report::{Report, SYSDIG_2022_IMAGES};

use super::{
    ESTIMATE_HEADER, category_cells, estimate_cells, estimate_note, notes, share, summary, thousands,
};

/// Chart geometry, in SVG user units.
const LABEL_WIDTH: f64 = 200.0;
const BAR_AREA: f64 = 440.0;
const VALUE_WIDTH: f64 = 150.0;
const BAR_HEIGHT: f64 = 13.0;
const ROW_GAP: f64 = 12.0;
const TOP: f64 = 34.0;
/// Bar colours: ours, Sysdig's.
const OURS: &str = "#2b6cb0";
const SYSDIG: &str = "#dd8a2e";

pub(super) const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse;margin:1rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tfoot td{font-weight:bold;border-top:2px solid #888}\
figure{margin:1.5rem 0}figcaption,.notes{color:#555;font-size:.9rem}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}\
dt{font-weight:600}dd{margin:0}";

/// Renders the page.
pub(super) fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<title>hubcensus report</title>\n");
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    out.push_str("<h1>hubcensus report</h1>\n<p>The census beside Sysdig's 2022 Docker Hub study.</p>\n");
    frame(&mut out, report);
    table(&mut out, report);
    out.push_str("<figure>\n");
    out.push_str(&chart(report));
    out.push_str(
        "<figcaption>Share of flagged images per category, each image counted once under its first \
         category (exclusive), ours beside Sysdig's 2022 figures as shares of their sum (1,777).\
         </figcaption>\n</figure>\n",
    );
    if let Some(cells) = estimate_cells(report) {
        estimates(&mut out, report, &cells);
    }
    out.push_str("<ul class=\"notes\">\n");
    for note in notes(report) {
        let _ = writeln!(out, "<li>{}</li>", escape(&note));
    }
    out.push_str("</ul>\n</body>\n</html>\n");
    out
}

fn frame(out: &mut String, report: &Report) {
    out.push_str("<h2>Frame and totals</h2>\n<dl>\n");
    for (term, value) in summary(report) {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(&term), escape(&value));
    }
    out.push_str("</dl>\n");
}

fn table(out: &mut String, report: &Report) {
    out.push_str(
        "<h2>Categories</h2>\n<table>\n<thead><tr><th>category</th><th class=\"n\">images</th>\
         <th class=\"n\">repositories</th><th class=\"n\">% of analysed</th><th class=\"n\">exclusive</th>\
         <th class=\"n\">deleted only</th><th class=\"n\">Sysdig 2022</th></tr></thead>\n<tbody>\n",
    );
    let mut rows = category_cells(report);
    let total = rows.pop();
    let row = |out: &mut String, cells: &[String; 7]| {
        let _ = write!(out, "<tr><td>{}</td>", escape(&cells[0]));
        for cell in &cells[1..] {
            let _ = write!(out, "<td class=\"n\">{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    };
    for cells in &rows {
        row(out, cells);
    }
    out.push_str("</tbody>\n<tfoot>");
    if let Some(cells) = &total {
        row(out, cells);
    }
    out.push_str("</tfoot>\n</table>\n");
}

/// A sample's estimates: the table, and a chart of each category's estimated share of the
/// frame with its 95% interval as an error bar, beside Sysdig's figure as a share of the
/// 250,000 images it analysed.
fn estimates(out: &mut String, report: &Report, cells: &[[String; 4]]) {
    out.push_str("<h2>Estimates for the frame</h2>\n<table>\n<thead><tr>");
    for (i, h) in ESTIMATE_HEADER.iter().enumerate() {
        let class = if i == 0 { "" } else { " class=\"n\"" };
        let _ = write!(out, "<th{class}>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in cells {
        let _ = write!(out, "<tr><td>{}</td>", escape(&row[0]));
        for cell in &row[1..] {
            let _ = write!(out, "<td class=\"n\">{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    let _ = writeln!(out, "</tbody>\n</table>\n<p class=\"notes\">{}</p>", escape(&estimate_note(report)));
    out.push_str("<figure>\n");
    out.push_str(&interval_chart(report));
    out.push_str(
        "<figcaption>Estimated share of the frame's analysed repositories per category (non-exclusive), \
         with its 95% interval as an error bar, beside Sysdig's 2022 figure as a share of the 250,000 \
         images it analysed.</figcaption>\n</figure>\n",
    );
}

/// Per category our estimate (a bar and its interval's error bar) and Sysdig's prevalence.
fn interval_chart(report: &Report) -> String {
    let sysdig = |n: i64| 100.0 * n as f64 / SYSDIG_2022_IMAGES as f64;
    let max = report
        .categories
        .iter()
        .flat_map(|c| [100.0 * c.ci_high, c.sysdig_2022.map_or(0.0, sysdig)])
        .fold(f64::MIN_POSITIVE, f64::max);
    let step = 2.0 * BAR_HEIGHT + ROW_GAP;
    #[allow(clippy::cast_precision_loss)] // nine rows
    let height = TOP + step * report.categories.len() as f64;
    let width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"Estimated share of the frame per category with 95% \
         intervals, and Sysdig 2022\" font-family=\"system-ui,sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        svg,
        "<rect x=\"{LABEL_WIDTH}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{OURS}\"/>\
         <text x=\"{}\" y=\"16\">this sample (95% CI)</text>\
         <rect x=\"{}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{SYSDIG}\"/>\
         <text x=\"{}\" y=\"16\">Sysdig 2022</text>",
        LABEL_WIDTH + 16.0,
        LABEL_WIDTH + 160.0,
        LABEL_WIDTH + 176.0
    );
    let x = |pct: f64| LABEL_WIDTH + BAR_AREA * pct / max;
    for (i, c) in report.categories.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)] // nine rows
        let y = TOP + step * i as f64;
        row_label(&mut svg, y, c.label);
        let (pct, low, high) = (100.0 * c.estimate, 100.0 * c.ci_low, 100.0 * c.ci_high);
        let label = format!("{pct:.2}% [{low:.2}, {high:.2}]");
        bar(&mut svg, y, pct, max, OURS, "");
        let mid = y + (BAR_HEIGHT - 1.0) / 2.0;
        let _ = writeln!(
            svg,
            "<path d=\"M{:.1} {:.1}V{:.1}M{:.1} {mid:.1}H{:.1}M{:.1} {:.1}V{:.1}\" stroke=\"#222\" fill=\"none\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            x(low),
            y + 2.0,
            y + BAR_HEIGHT - 3.0,
            x(low),
            x(high),
            x(high),
            y + 2.0,
            y + BAR_HEIGHT - 3.0,
            x(high) + 4.0,
            y + BAR_HEIGHT - 2.0,
            escape(&label)
        );
        let (value, text) = match c.sysdig_2022 {
            Some(n) => (sysdig(n), format!("{:.2}% ({} of 250,000)", sysdig(n), thousands(n))),
            None => (0.0, "no figure".to_owned()),
        };
        bar(&mut svg, y + BAR_HEIGHT, value, max, SYSDIG, &text);
    }
    svg.push_str("</svg>\n");
    svg
}

/// One category of the chart.
struct Row {
    label: &'static str,
    /// Our exclusive count and its share of our flagged images.
    ours: (i64, f64),
    /// Sysdig's figure and its share of 1,777, where it gave one.
    sysdig: Option<(i64, f64)>,
}

/// The horizontal bar chart: per category a bar for us and one for Sysdig, on one scale.
fn chart(report: &Report) -> String {
    let t = &report.totals;
    let rows: Vec<Row> = report
        .categories
        .iter()
        .map(|c| Row {
            label: c.label,
            ours: (c.images_exclusive, share(c.images_exclusive, t.images_flagged)),
            sysdig: c.sysdig_2022.map(|n| (n, share(n, t.sysdig_2022_table_total))),
        })
        .collect();
    let max = rows.iter().flat_map(|r| [r.ours.1, r.sysdig.map_or(0.0, |s| s.1)]).fold(1.0, f64::max);
    let step = 2.0 * BAR_HEIGHT + ROW_GAP;
    #[allow(clippy::cast_precision_loss)] // nine rows
    let height = TOP + step * rows.len() as f64;
    let width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"Share of flagged images per category, ours and \
         Sysdig 2022\" font-family=\"system-ui,sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        svg,
        "<rect x=\"{LABEL_WIDTH}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{OURS}\"/>\
         <text x=\"{}\" y=\"16\">this census</text>\
         <rect x=\"{}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{SYSDIG}\"/>\
         <text x=\"{}\" y=\"16\">Sysdig 2022</text>",
        LABEL_WIDTH + 16.0,
        LABEL_WIDTH + 110.0,
        LABEL_WIDTH + 126.0
    );
    for (i, row) in rows.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)] // nine rows
        let y = TOP + step * i as f64;
        row_label(&mut svg, y, row.label);
        let (images, pct) = row.ours;
        bar(&mut svg, y, pct, max, OURS, &format!("{} ({pct:.1}%)", thousands(images)));
        let (value, text) = match row.sysdig {
            Some((n, pct)) => (pct, format!("{} ({pct:.1}%)", thousands(n))),
            None => (0.0, "no figure".to_owned()),
        };
        bar(&mut svg, y + BAR_HEIGHT, value, max, SYSDIG, &text);
    }
    svg.push_str("</svg>\n");
    svg
}

/// A category's label at the left of its row.
fn row_label(svg: &mut String, y: f64, label: &str) {
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
        LABEL_WIDTH - 8.0,
        y + BAR_HEIGHT + 4.0,
        escape(label)
    );
}

fn bar(svg: &mut String, y: f64, value: f64, max: f64, colour: &str, text: &str) {
    let w = BAR_AREA * value / max;
    let _ = writeln!(
        svg,
        "<rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{colour}\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
        BAR_HEIGHT - 1.0,
        LABEL_WIDTH + w + 4.0,
        y + BAR_HEIGHT - 2.0,
        escape(text)
    );
}

/// Text made safe for HTML and SVG content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    }
}
