//! Importing a threat-intelligence feed file into the census database: parsed by
//! hubcensus-intel (the normalisation the scanner applies to what it extracts), refused when
//! it was read with the wrong kind, and stored whole with its dates. `hubcensus feeds import`
//! and the census tests call this one function, so what a test imports is what a user imports.

use chrono::NaiveDate;
use hubcensus_intel::{FeedKind, ParsedFeed, SKIPPED_LINES_SHOWN, parse_feed};
use hubcensus_store::{
    Store, StoreError,
    feeds::{FeedImport, FeedRecord},
};
use hubcensus_types::Category;

/// One feed file to import.
#[derive(Debug, Clone, Copy)]
pub struct FeedFile<'a> {
    /// The feed's name (the file name, unless the user gives another).
    pub name: &'a str,
    /// Its format.
    pub kind: FeedKind,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// The category of entries whose format implies none.
    pub category: Option<Category>,
    /// The feed's date: its publication date, and that of every entry it does not date.
    pub date: Option<NaiveDate>,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The feed row and how many entries it holds.
    pub import: FeedImport,
    /// How many lines were skipped.
    pub skipped_total: usize,
    /// The warning a reader needs to fix the file: the first skipped lines with their numbers
    /// and reasons, and how many more ([`ParsedFeed::skipped_summary`]); `None` when none was.
    pub skipped_summary: Option<String>,
}

/// Why a feed file was not imported.
#[derive(Debug, thiserror::Error)]
pub enum FeedImportError {
    /// It is not a feed of this kind at all (binary, compressed, too large).
    #[error("parsing {name} as a {kind} feed")]
    Parse {
        /// The feed's name.
        name: String,
        /// The kind it was read as.
        kind: FeedKind,
        /// Why.
        #[source]
        source: hubcensus_intel::FeedError,
    },
    /// Lines, but no entry: read with the wrong kind (or not a feed). Storing it would record
    /// an empty feed under a sha256 that then blocks the right import.
    #[error(
        "no entry of {name} could be read as a {kind} feed ({skipped} line(s) skipped; line {line}: \
         {reason}); is --kind right? See docs/feeds.md"
    )]
    Unreadable {
        /// The feed's name.
        name: String,
        /// The kind it was read as.
        kind: FeedKind,
        /// Lines skipped.
        skipped: usize,
        /// The first skipped line.
        line: usize,
        /// Why it was skipped.
        reason: String,
    },
    /// The database refused the write.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses `file` and stores it with its entries (the same bytes imported twice are one feed).
///
/// # Errors
/// [`FeedImportError`]: not a feed of this kind, no readable entry, or a database error.
pub async fn import_feed(store: &Store, file: FeedFile<'_>) -> Result<Imported, FeedImportError> {
    let parsed = parse(file)?;
    let record = FeedRecord {
        kind: file.kind.as_str().to_owned(),
        name: file.name.to_owned(),
        sha256: parsed.sha256.clone(),
        category: uniform_category(&parsed),
        published_on: file.date,
    };
    let import = store.import_feed(&record, &parsed.entries).await?;
    Ok(Imported {
        import,
        skipped_total: parsed.skipped_total,
        skipped_summary: parsed.skipped_summary(SKIPPED_LINES_SHOWN),
    })
}

/// Parses `file`, refusing one with lines but no entry.
fn parse(file: FeedFile<'_>) -> Result<ParsedFeed, FeedImportError> {
    let parsed = parse_feed(file.kind, file.bytes, file.category, file.date)
        .map_err(|source| FeedImportError::Parse { name: file.name.to_owned(), kind: file.kind, source })?;
    if parsed.entries.is_empty()
        && let Some(first) = parsed.skipped.first()
    {
        return Err(FeedImportError::Unreadable {
            name: file.name.to_owned(),
            kind: file.kind,
            skipped: parsed.skipped_total,
            line: first.line,
            reason: first.reason.clone(),
        });
    }
    Ok(parsed)
}

/// The category every entry shares, stored on the feed row (`None` when mixed or empty).
fn uniform_category(parsed: &ParsedFeed) -> Option<Category> {
    let first = parsed.entries.first()?.category;
    parsed.entries.iter().all(|e| e.category == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_of_one_category_records_it() {
        let parsed = parse_feed(FeedKind::Domains, b"evil.com\nbad.org\n", None, None).unwrap();
        assert_eq!(uniform_category(&parsed), Some(Category::MaliciousDomain));
        let mixed =
            parse_feed(FeedKind::CategoryCsv, b"a.com,malware\nduckdns.org,ddns\n", None, None).unwrap();
        assert_eq!(uniform_category(&mixed), None);
    }

    #[test]
    fn a_file_read_with_the_wrong_kind_is_refused() {
        let file = |bytes| FeedFile { name: "x.txt", kind: FeedKind::Nrd, bytes, category: None, date: None };
        let err = parse(file(b"not a domain at all\n")).unwrap_err().to_string();
        assert!(err.contains("is --kind right?"), "{err}");
        assert!(parse(file(b"")).is_ok(), "an empty file is an empty feed");
    }
}
