//! `hubcensus feeds import|list`: threat-intelligence feeds in the census database.
//!
//! A feed is parsed by hubcensus-intel (the same normalisation the scanner applies to what it
//! extracts) and stored whole, with its dates. Nothing is re-applied here: the views
//! (`image_feed_matches` and those built on it) join every stored indicator with every stored
//! entry on each read, so an import changes the next report without downloading or scanning
//! anything again, and a newly-registered-domain list is judged against each image's push date
//! under whatever window the reader chooses.

use std::{fmt::Write as _, path::Path, process::ExitCode};

use anyhow::Context as _;
use chrono::NaiveDate;
use hubcensus_intel::{date_in_name, parse_category};
use hubcensus_pipeline::{FeedFile, import_feed};
use hubcensus_store::{feeds::FeedImport, report::FeedSummary};
use hubcensus_types::Category;

use crate::{
    cli::{FeedImportArgs, FeedsCommand, StatusFormat},
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
    let store = crate::wiring::open_store(settings).await?;
    let file = FeedFile { name: &name, kind: args.kind, bytes: &bytes, category, date };
    let imported = import_feed(&store, file).await?;
    if let Some(summary) = &imported.skipped_summary {
        tracing::warn!(feed = %name, "{summary}");
    }
    let window = settings.feeds.nrd_window_days;
    let summaries = store.feed_summaries(window).await?;
    let id = imported.import.feed_id;
    let matched = summaries.iter().find(|f| f.id == id).map_or(0, |f| f.images_matched);
    println!("{}", import_line(&name, &imported.import, imported.skipped_total, matched, window));
    Ok(ExitCode::SUCCESS)
}

async fn list(settings: &Settings, format: StatusFormat) -> anyhow::Result<ExitCode> {
    let store = crate::wiring::open_store(settings).await?;
    let feeds = store.feed_summaries(settings.feeds.nrd_window_days).await?;
    match format {
        StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&feeds)?),
        StatusFormat::Table => print!("{}", render_list(&feeds, settings.feeds.nrd_window_days)),
    }
    Ok(ExitCode::SUCCESS)
}

fn category_arg(raw: &str) -> anyhow::Result<Category> {
    parse_category(raw).with_context(|| {
        format!("--category {raw:?} is not a category (cryptomining, proxy-avoidance, malicious, dynamic-dns, ...)")
    })
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
    fn categories_accept_the_feeds_spellings() {
        assert_eq!(category_arg("dynamic-dns").unwrap(), Category::DynamicDns);
        assert!(category_arg("weird").is_err());
    }
}
