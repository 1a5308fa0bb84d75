//! `report --compare A B`: what changed between two censuses, per category — the images
//! flagged in both runs, only in A, only in B (repository, tag, digest) — with totals, in every
//! format. The sets are the store's ([`Store::compare_runs`](hubcensus_store::Store)); this
//! module only renders them.

use std::fmt::Write as _;

use anyhow::Context as _;
use hubcensus_store::compare::{CategoryComparison, Comparison, FlaggedImage};

use super::html::{STYLE, escape};
use crate::{
    cli::{ReportArgs, ReportFormat},
    config::Settings,
    format::thousands_u,
};

/// The three sets of a category, named as every format names them.
const SETS: [&str; 3] = ["both", "only_a", "only_b"];

pub(super) async fn run(
    settings: &Settings,
    args: &ReportArgs,
    nrd_window_days: u32,
    (a, b): (i64, i64),
) -> anyhow::Result<String> {
    let store = crate::wiring::open_store(settings).await?;
    let comparison = store.compare_runs(nrd_window_days, a, b).await?.with_context(|| {
        format!("no census run {a} or {b} in this database (hubcensus status lists them)")
    })?;
    render(&comparison, args.format)
}

/// The comparison in `format`.
pub(super) fn render(c: &Comparison, format: ReportFormat) -> anyhow::Result<String> {
    Ok(match format {
        ReportFormat::Table => text(c, false),
        ReportFormat::Markdown => text(c, true),
        ReportFormat::Json => serde_json::to_string_pretty(c)? + "\n",
        ReportFormat::Csv => csv(c)?,
        ReportFormat::Html => html(c),
    })
}

fn sets(c: &CategoryComparison) -> [&[FlaggedImage]; 3] {
    [&c.both, &c.only_a, &c.only_b]
}

/// What a set means, for run `a` and `b`.
fn set_label(set: &str, c: &Comparison) -> String {
    match set {
        "both" => format!("in both runs ({} and {})", c.run_a, c.run_b),
        "only_a" => format!("only in run {}", c.run_a),
        _ => format!("only in run {}", c.run_b),
    }
}

fn totals_line(c: &Comparison) -> String {
    let t = &c.totals;
    format!(
        "flagged images: {} in both, {} only in run {}, {} only in run {}",
        thousands_u(t.both),
        thousands_u(t.only_a),
        c.run_a,
        thousands_u(t.only_b),
        c.run_b
    )
}

/// The table (and, with `markdown`, the Markdown page): totals, a count per category, then
/// each non-empty set's images.
fn text(c: &Comparison, markdown: bool) -> String {
    let mut out = String::new();
    let title = format!("hubcensus: run {} compared with run {}", c.run_a, c.run_b);
    if markdown {
        let _ = writeln!(out, "# {title}\n\n{}\n", totals_line(c));
        let _ = writeln!(
            out,
            "| category | both | only in {} | only in {} |\n|---|---:|---:|---:|",
            c.run_a, c.run_b
        );
    } else {
        let _ = writeln!(out, "{title}\n\n{}\n", totals_line(c));
        let _ = writeln!(
            out,
            "{:<26} {:>8} {:>10} {:>10}",
            "category",
            "both",
            format!("only {}", c.run_a),
            format!("only {}", c.run_b)
        );
    }
    for cat in &c.categories {
        let [both, a, b] = sets(cat).map(|s| thousands_u(s.len()));
        if markdown {
            let _ = writeln!(out, "| {} | {both} | {a} | {b} |", cat.label);
        } else {
            let _ = writeln!(out, "{:<26} {both:>8} {a:>10} {b:>10}", cat.label);
        }
    }
    for cat in &c.categories {
        for (set, images) in SETS.iter().zip(sets(cat)).filter(|(_, images)| !images.is_empty()) {
            let heading = format!("{}: {}", cat.label, set_label(set, c));
            if markdown {
                let _ = writeln!(out, "\n## {heading}\n");
            } else {
                let _ = writeln!(out, "\n{heading}");
            }
            for i in images {
                if markdown {
                    let _ = writeln!(out, "- `{}:{}` `{}`", i.repository, i.tag, i.digest);
                } else {
                    let _ = writeln!(out, "  {}:{}  {}", i.repository, i.tag, i.digest);
                }
            }
        }
    }
    out
}

/// One row per (category, set, image); the totals are the distinct images of each set.
fn csv(c: &Comparison) -> anyhow::Result<String> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(["run_a", "run_b", "category", "set", "repository", "tag", "digest"])?;
    let (a, b) = (c.run_a.to_string(), c.run_b.to_string());
    for cat in &c.categories {
        for (set, images) in SETS.iter().zip(sets(cat)) {
            for i in images {
                writer.write_record([
                    &a,
                    &b,
                    cat.category.as_str(),
                    set,
                    &i.repository,
                    &i.tag,
                    &i.digest,
                ])?;
            }
        }
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

fn html(c: &Comparison) -> String {
    let mut out = String::new();
    let title = format!("hubcensus: run {} compared with run {}", c.run_a, c.run_b);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p>{}</p>",
        escape(&title),
        escape(&title),
        escape(&totals_line(c))
    );
    let _ = writeln!(
        out,
        "<table>\n<thead><tr><th>category</th><th class=\"n\">both</th><th class=\"n\">only in {}</th>\
         <th class=\"n\">only in {}</th></tr></thead>\n<tbody>",
        c.run_a, c.run_b
    );
    for cat in &c.categories {
        let [both, a, b] = sets(cat).map(|s| thousands_u(s.len()));
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{both}</td><td class=\"n\">{a}</td><td class=\"n\">{b}</td></tr>",
            escape(cat.label)
        );
    }
    out.push_str("</tbody>\n</table>\n");
    for cat in &c.categories {
        for (set, images) in SETS.iter().zip(sets(cat)).filter(|(_, images)| !images.is_empty()) {
            let _ = writeln!(
                out,
                "<h2>{}: {}</h2>\n<table>\n<thead><tr><th>repository</th><th>tag</th><th>digest</th></tr></thead>\n<tbody>",
                escape(cat.label),
                escape(&set_label(set, c))
            );
            for i in images {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                    escape(&i.repository),
                    escape(&i.tag),
                    escape(&i.digest)
                );
            }
            out.push_str("</tbody>\n</table>\n");
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use hubcensus_store::compare::ComparisonTotals;
    use hubcensus_types::Category;

    use super::*;

    fn image(repo: &str) -> FlaggedImage {
        FlaggedImage { repository: repo.into(), tag: "latest".into(), digest: format!("sha256:{repo}") }
    }

    fn comparison() -> Comparison {
        let categories = Category::ALL
            .iter()
            .map(|&category| CategoryComparison {
                category,
                label: category.sysdig_label(),
                both: if category == Category::Cryptomining { vec![image("a/kept")] } else { vec![] },
                only_a: if category == Category::Cryptomining { vec![image("a/cleaned")] } else { vec![] },
                only_b: if category == Category::HackingTool { vec![image("b/<new>")] } else { vec![] },
            })
            .collect();
        Comparison {
            run_a: 1,
            run_b: 2,
            categories,
            totals: ComparisonTotals { both: 1, only_a: 1, only_b: 1 },
        }
    }

    #[test]
    fn every_format_lists_each_set_with_its_images() {
        let c = comparison();
        let table = render(&c, ReportFormat::Table).unwrap();
        assert!(table.contains("flagged images: 1 in both, 1 only in run 1, 1 only in run 2"), "{table}");
        assert!(
            table.contains("Crypto mining: only in run 1\n  a/cleaned:latest  sha256:a/cleaned"),
            "{table}"
        );
        let md = render(&c, ReportFormat::Markdown).unwrap();
        assert!(md.contains("## Hacking: only in run 2\n\n- `b/<new>:latest`"), "{md}");
        let csv = render(&c, ReportFormat::Csv).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 4, "{csv}");
        assert_eq!(rows[1], "1,2,cryptomining,both,a/kept,latest,sha256:a/kept");
        let html = render(&c, ReportFormat::Html).unwrap();
        assert!(html.contains("<td>b/&lt;new&gt;</td>"), "{html}");
        let json: serde_json::Value = serde_json::from_str(&render(&c, ReportFormat::Json).unwrap()).unwrap();
        assert_eq!(json["totals"]["only_b"], 1);
        assert_eq!(json["categories"][0]["only_a"][0]["repository"], "a/cleaned");
    }
}
