//! `hubcensus feeds import|list`: threat-intelligence feeds in the census database.
//!
//! A feed is parsed by hubcensus-intel (the same normalisation the scanner applies to what it
//! extracts) and stored whole, with its dates. Nothing is re-applied here: the views
//! (`image_feed_matches` and those built on it) join every stored indicator with every stored
//! entry on each read, so an import changes the next report without downloading or scanning
//! anything again, and a newly-registered-domain list is judged against each image's push date
//! under whatever window the reader chooses.

use std::{fmt::Write as _, path::Path, process::ExitCode};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use hubcensus_intel::{FeedKind as IntelKind, ParsedFeed, parse_category, parse_feed};
use hubcensus_store::{
    feeds::{FeedEntry, FeedImport, FeedRecord},
    report::FeedSummary,
};
use hubcensus_types::Category;

use super::scan::feeds::date_in_name;
use crate::{
    cli::{FeedImportArgs, FeedKind, FeedsCommand, StatusFormat},
    config::Settings,
};

pub(crate) async fn run(settings: &Settings, command: &FeedsCommand) -> anyhow::Result<ExitCode> {
    match command {
        FeedsCommand::Import(args) => import(settings, args).await,
        FeedsCommand::List { format } => list(settings, *format).await,
    }
}

async fn import(settings: &Settings, args: &FeedImportArgs) -> anyhow::Result<ExitCode> {
    let category = args.category.as_deref().map(category_arg).transpose()?;
    let bytes = std::fs::read(&args.file).with_context(|| format!("reading feed {}", args.file.display()))?;
    let name = args.name.clone().unwrap_or_else(|| file_name(&args.file));
    let date = args.date.or_else(|| date_in_name(&name));
    let kind = intel_kind(args.kind);
    let parsed = parse_feed(kind, &bytes, category, date)
        .with_context(|| format!("parsing {} as a {kind} feed", args.file.display()))?;
    refuse_unreadable(&parsed, &args.file)?;
    warn_skipped(&name, &parsed);
    let record = FeedRecord {
        kind: kind.as_str().to_owned(),
        name: name.clone(),
        sha256: parsed.sha256.clone(),
        category: uniform_category(&parsed),
        published_on: date,
    };
    let entries: Vec<FeedEntry> = parsed
        .entries
        .into_iter()
        .map(|e| FeedEntry { kind: e.kind, value: e.value, category: e.category, listed_on: e.listed_on })
        .collect();
    let store = super::open_store(settings).await?;
    let imported = store.import_feed(&record, &entries).await?;
    let window = settings.feeds.nrd_window_days;
    let summaries = store.feed_summaries(window).await?;
    let matched = summaries.iter().find(|f| f.id == imported.feed_id).map_or(0, |f| f.images_matched);
    println!("{}", import_line(&name, &imported, parsed.skipped_total, matched, window));
    Ok(ExitCode::SUCCESS)
}

async fn list(settings: &Settings, format: StatusFormat) -> anyhow::Result<ExitCode> {
    let store = super::open_store(settings).await?;
    let feeds = store.feed_summaries(settings.feeds.nrd_window_days).await?;
    match format {
        StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&feeds)?),
        StatusFormat::Table => print!("{}", render_list(&feeds, settings.feeds.nrd_window_days)),
    }
    Ok(ExitCode::SUCCESS)
}

/// A file with lines but no entry was read with the wrong `--kind` (or is not a feed): storing
/// it would record an empty feed under a sha256 that then blocks the right import.
fn refuse_unreadable(parsed: &ParsedFeed, file: &Path) -> anyhow::Result<()> {
    if parsed.entries.is_empty()
        && let Some(first) = parsed.skipped.first()
    {
        bail!(
            "no entry of {} could be read as a {} feed ({} line(s) skipped; {first}); \
             is --kind right? See docs/feeds.md",
            file.display(),
            parsed.kind,
            parsed.skipped_total
        );
    }
    Ok(())
}

/// How many skipped lines a warning lists by number and reason before it only counts.
const SKIPPED_SHOWN: usize = 5;

/// Warns once per feed with skipped lines: how many, the first [`SKIPPED_SHOWN`] with their line
/// numbers and reasons, and how many more — what the reader needs to fix the file.
pub(crate) fn warn_skipped(feed: &str, parsed: &ParsedFeed) {
    if let Some(summary) = parsed.skipped_summary(SKIPPED_SHOWN) {
        tracing::warn!(feed, "{summary}");
    }
}

/// The category every entry shares, stored on the feed row (`None` when mixed or empty).
fn uniform_category(parsed: &ParsedFeed) -> Option<Category> {
    let first = parsed.entries.first()?.category;
    parsed.entries.iter().all(|e| e.category == first).then_some(first)
}

fn category_arg(raw: &str) -> anyhow::Result<Category> {
    parse_category(raw).with_context(|| {
        format!("--category {raw:?} is not a category (cryptomining, proxy-avoidance, malicious, dynamic-dns, ...)")
    })
}

fn intel_kind(kind: FeedKind) -> IntelKind {
    match kind {
        FeedKind::Urlhaus => IntelKind::Urlhaus,
        FeedKind::Nrd => IntelKind::Nrd,
        FeedKind::NrdArchive => IntelKind::NrdArchive,
        FeedKind::Domains => IntelKind::Domains,
        FeedKind::Hosts => IntelKind::Hosts,
        FeedKind::Adblock => IntelKind::Adblock,
        FeedKind::CategoryCsv => IntelKind::CategoryCsv,
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn import_line(name: &str, imported: &FeedImport, skipped: usize, images: i64, window: u32) -> String {
    let id = imported.feed_id;
    if imported.already_imported {
        return format!(
            "feed #{id} {name}: these bytes were imported before ({} entries); nothing changed; \
             it flags {images} image(s)",
            imported.entries
        );
    }
    format!(
        "feed #{id} {name}: {} entries imported, {skipped} line(s) skipped; it flags {images} image(s) \
         now (newly registered domains: {window}-day window)",
        imported.entries
    )
}

fn render_list(feeds: &[FeedSummary], window: u32) -> String {
    if feeds.is_empty() {
        return "no feeds imported (hubcensus feeds import --kind KIND FILE)\n".to_owned();
    }
    let mut out = format!(
        "{:>4}  {:<12}  {:<24}  {:<10}  {:>9}  {:>7}  NAME\n",
        "ID", "KIND", "CATEGORY", "DATE", "ENTRIES", "IMAGES"
    );
    for f in feeds {
        let date = f.published_on.as_ref().map_or_else(|| "-".to_owned(), NaiveDate::to_string);
        let _ = writeln!(
            out,
            "{:>4}  {:<12}  {:<24}  {:<10}  {:>9}  {:>7}  {}",
            f.id,
            f.kind,
            f.category.as_deref().unwrap_or("mixed"),
            date,
            f.entries,
            f.images_matched,
            f.name.chars().map(|c| if c.is_control() { '?' } else { c }).collect::<String>()
        );
    }
    let _ = writeln!(
        out,
        "IMAGES: images whose indicators the feed lists (newly registered: {window}-day window)"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_of_one_category_records_it() {
        let parsed = parse_feed(IntelKind::Domains, b"evil.com\nbad.org\n", None, None).unwrap();
        assert_eq!(uniform_category(&parsed), Some(Category::MaliciousDomain));
        let mixed =
            parse_feed(IntelKind::CategoryCsv, b"a.com,malware\nduckdns.org,ddns\n", None, None).unwrap();
        assert_eq!(uniform_category(&mixed), None);
    }

    #[test]
    fn a_file_read_with_the_wrong_kind_is_refused() {
        let parsed = parse_feed(IntelKind::Nrd, b"not a domain at all\n", None, None).unwrap();
        let err = refuse_unreadable(&parsed, Path::new("x.txt")).unwrap_err().to_string();
        assert!(err.contains("is --kind right?"), "{err}");
        let empty = parse_feed(IntelKind::Nrd, b"", None, None).unwrap();
        assert!(refuse_unreadable(&empty, Path::new("empty.txt")).is_ok());
    }

    #[test]
    fn categories_accept_the_feeds_spellings() {
        assert_eq!(category_arg("dynamic-dns").unwrap(), Category::DynamicDns);
        assert!(category_arg("weird").is_err());
    }
}
