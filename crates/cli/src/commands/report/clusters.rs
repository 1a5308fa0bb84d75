//! `hubcensus report --clusters`: the attribution clusters — flagged images linked by a shared
//! Monero wallet, mining pool, AWS account, SSH key, GitHub/npm token, domain, non-base layer or
//! namespace — each with its images, repositories, pull counts and categories.
//!
//! The clusters are the store's ([`Store::clusters`](hubcensus_store::Store::clusters)), read
//! from the schema's attribution views, so what is printed here is what a researcher's SQL on
//! `attribution_clusters` returns. This module renders them: an aligned listing for a
//! terminal, JSON for programs, Markdown for a write-up, and CSV with one row per cluster member
//! for a spreadsheet. HTML has no cluster page: a listing of members is not a chart.

use std::fmt::Write as _;

use hubcensus_store::clusters::{
    Cluster, ClusterMember, ClusterOptions, ClusterReport, DEFAULT_MAX_CLEAN_IMAGES,
};
use hubcensus_types::Category;

use super::{table::wrap, thousands};
use crate::{
    cli::{ReportArgs, ReportFormat},
    config::Settings,
};

/// The width the table format wraps its prose to, as the category report.
const WIDTH: usize = 80;

/// The columns of `--format csv`, in order: one row per (cluster, image, repository).
pub(super) const CSV_COLUMNS: [&str; 15] = [
    "rank",
    "kind",
    "key",
    "label",
    "images",
    "repositories",
    "namespaces",
    "pull_count",
    "categories",
    "repository",
    "tags",
    "repository_pull_count",
    "image",
    "image_categories",
    "clusters_total",
];

/// Reads the clusters and renders them in the requested format.
pub(super) async fn run(
    settings: &Settings,
    args: &ReportArgs,
    nrd_window_days: u32,
) -> anyhow::Result<String> {
    if matches!(args.format, ReportFormat::Html) {
        anyhow::bail!("report --clusters has no html format: use table, json, markdown or csv");
    }
    let options = ClusterOptions {
        limit: (args.limit > 0).then_some(args.limit),
        max_clean_images: DEFAULT_MAX_CLEAN_IMAGES,
        nrd_window_days,
    };
    let store = crate::wiring::open_store(settings).await?;
    let report = store.clusters(&options).await?;
    render(&report, args.format)
}

/// The clusters in `format` (HTML is refused before the database is read).
fn render(report: &ClusterReport, format: ReportFormat) -> anyhow::Result<String> {
    Ok(match format {
        ReportFormat::Table => table(report),
        ReportFormat::Json => serde_json::to_string_pretty(report)? + "\n",
        ReportFormat::Markdown => markdown(report),
        ReportFormat::Csv => csv(report)?,
        ReportFormat::Html => anyhow::bail!("report --clusters has no html format"),
    })
}

/// What every human-readable format says above the clusters: how many, which, and the
/// thresholds they depend on.
fn preamble(report: &ClusterReport) -> String {
    let shown = report.clusters.len();
    let total = report.clusters_total;
    let which = if i64::try_from(shown).is_ok_and(|n| n == total) {
        format!("{}, most repositories first.", plural(total, "cluster", "clusters"))
    } else {
        format!(
            "The {} largest of {} clusters, most repositories first (--limit 0 shows all).",
            thousands(i64::try_from(shown).unwrap_or(i64::MAX)),
            thousands(total)
        )
    };
    format!(
        "{which} A cluster is a wallet, pool, AWS account, SSH key, token or domain shared by two images \
         or two repositories, or a non-base layer or namespace shared by two repositories. A domain or \
         layer in more than {} unflagged images is common content and links nothing. Flagged: counted \
         in a category, newly registered domains within {} days before the push.",
        report.max_clean_images, report.nrd_window_days
    )
}

/// `n` and the noun in its number: "1 image", "2,000 images".
fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// "3 images, 4 repositories, 2 namespaces, 2,512,170 pulls".
fn sizes(c: &Cluster) -> String {
    format!(
        "{}, {}, {}, {}",
        plural(c.images, "image", "images"),
        plural(c.repositories, "repository", "repositories"),
        plural(c.namespaces, "namespace", "namespaces"),
        plural(c.pull_count, "pull", "pulls")
    )
}

fn category_list(categories: &[Category], empty: &str) -> String {
    if categories.is_empty() {
        return empty.to_owned();
    }
    categories.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

/// `sha256:` and the first 12 hex digits: enough to tell images apart on a screen.
fn short_digest(m: &ClusterMember) -> String {
    let digest = m.image.to_string();
    match digest.split_once(':') {
        Some((algorithm, hex)) => format!("{algorithm}:{}", &hex[..hex.len().min(12)]),
        None => digest,
    }
}

fn pulls(m: &ClusterMember) -> String {
    m.pull_count.map_or_else(|| "-".to_owned(), thousands)
}

/// `--format table`.
fn table(report: &ClusterReport) -> String {
    let mut out =
        String::from("hubcensus report --clusters: images linked by what points at one operator\n\n");
    for line in wrap(&preamble(report), WIDTH) {
        let _ = writeln!(out, "{line}");
    }
    if report.clusters.is_empty() {
        out.push_str("\nNo clusters: nothing links two repositories or two images in this census.\n");
    }
    for (rank, c) in report.clusters.iter().enumerate() {
        let _ = writeln!(out, "\n{}. {} {}", rank + 1, c.kind, c.label);
        if c.label != c.key {
            let _ = writeln!(out, "   key         {}", c.key);
        }
        let _ = writeln!(out, "   {}", sizes(c));
        let _ = writeln!(out, "   categories  {}", category_list(&c.categories, "none counted"));
        let rows: Vec<[String; 4]> = c
            .members
            .iter()
            .map(|m| {
                let name = if m.tags.is_empty() {
                    m.repository.to_string()
                } else {
                    format!("{}:{}", m.repository, m.tags.join(","))
                };
                [name, pulls(m), short_digest(m), category_list(&m.categories, "-")]
            })
            .collect();
        let name_w = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
        let pulls_w = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
        for [name, pulls, digest, categories] in rows {
            let _ = writeln!(out, "     {name:<name_w$}  {pulls:>pulls_w$}  {digest}  {categories}");
        }
    }
    out
}

/// `--format markdown`: a section to paste into a write-up.
fn markdown(report: &ClusterReport) -> String {
    let mut out = String::from("## hubcensus attribution clusters\n\n");
    let _ = writeln!(out, "{}", preamble(report));
    if report.clusters.is_empty() {
        out.push_str("\nNo clusters: nothing links two repositories or two images in this census.\n");
    }
    for (rank, c) in report.clusters.iter().enumerate() {
        let _ = writeln!(out, "\n### {}. {} `{}`\n", rank + 1, c.kind, c.label);
        if c.label != c.key {
            let _ = writeln!(out, "- key: `{}`", c.key);
        }
        let _ = writeln!(out, "- {}", sizes(c));
        let _ = writeln!(out, "- categories: {}\n", category_list(&c.categories, "none counted"));
        out.push_str("| repository | tags | pulls | image | categories |\n|---|---|---:|---|---|\n");
        for m in &c.members {
            let _ = writeln!(
                out,
                "| {} | {} | {} | `{}` | {} |",
                m.repository,
                m.tags.join(", "),
                pulls(m),
                m.image,
                category_list(&m.categories, "-")
            );
        }
    }
    out
}

/// `--format csv`: one row per (cluster, image, repository), the cluster's figures repeated on
/// each, raw numbers, lists joined with `;`.
fn csv(report: &ClusterReport) -> anyhow::Result<String> {
    let join = |categories: &[Category]| categories.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(";");
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_COLUMNS)?;
    for (rank, c) in report.clusters.iter().enumerate() {
        for m in &c.members {
            writer.write_record([
                (rank + 1).to_string(),
                c.kind.to_string(),
                c.key.clone(),
                c.label.clone(),
                c.images.to_string(),
                c.repositories.to_string(),
                c.namespaces.to_string(),
                c.pull_count.to_string(),
                join(&c.categories),
                m.repository.to_string(),
                m.tags.join(";"),
                m.pull_count.map(|n| n.to_string()).unwrap_or_default(),
                m.image.to_string(),
                join(&m.categories),
                report.clusters_total.to_string(),
            ])?;
        }
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use hubcensus_store::clusters::ClusterKind;
    use hubcensus_types::{Digest, RepoRef};

    use super::*;

    fn report(limit_hit: bool) -> ClusterReport {
        let member = |repo: &str, seed: &str, pulls: Option<i64>, categories: Vec<Category>| ClusterMember {
            repository: repo.parse::<RepoRef>().unwrap(),
            image: Digest::sha256_of(seed.as_bytes()),
            tags: vec!["latest".into()],
            pull_count: pulls,
            categories,
        };
        let cluster = Cluster {
            kind: ClusterKind::AwsAccount,
            key: "123456789012".into(),
            label: "123456789012".into(),
            images: 2,
            repositories: 2,
            namespaces: 1,
            pull_count: 1_000_005,
            categories: vec![Category::EmbeddedKeys],
            members: vec![
                member("ops/api", "a", Some(1_000_000), vec![Category::EmbeddedKeys]),
                member("ops/worker-with-a-long-name", "b", None, vec![]),
            ],
        };
        ClusterReport {
            clusters_total: if limit_hit { 7 } else { 1 },
            max_clean_images: 20,
            nrd_window_days: 30,
            clusters: vec![cluster],
        }
    }

    #[test]
    fn the_table_aligns_members_and_says_what_was_left_out() {
        let text = table(&report(true));
        assert!(text.contains("The 1 largest of 7 clusters"), "{text}");
        assert!(text.contains("\n1. aws_account 123456789012\n"), "{text}");
        assert!(!text.contains("key  "), "no key line when the label is the key: {text}");
        assert!(text.contains("2 images, 2 repositories, 1 namespace, 1,000,005 pulls"), "{text}");
        let api = text.lines().find(|l| l.contains("ops/api:latest")).unwrap();
        let worker = text.lines().find(|l| l.contains("ops/worker-with-a-long-name:latest")).unwrap();
        assert_eq!(api.find("sha256:"), worker.find("sha256:"), "digests line up:\n{text}");
        assert!(api.contains("1,000,000") && worker.contains("  -  "), "{text}");
        // The prose wraps to the width; member lines are as wide as repository names need.
        assert!(text.lines().take_while(|l| !l.starts_with("1.")).all(|l| l.chars().count() <= WIDTH));
        assert!(table(&report(false)).contains("1 cluster, most repositories first."));
    }

    #[test]
    fn csv_has_one_row_per_member_with_the_cluster_repeated() {
        let text = csv(&report(true)).unwrap();
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), CSV_COLUMNS);
        let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][1], "aws_account");
        assert_eq!(&rows[1][9], "ops/worker-with-a-long-name");
        assert_eq!(&rows[1][11], "", "an unknown pull count is an empty cell");
        assert_eq!(&rows[0][13], "embedded_keys");
    }
}
