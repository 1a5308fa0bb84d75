//! Threat-intelligence feed files in the field's own formats: URLhaus CSV, hosts files,
//! AdBlock-style filter lists, plain and newly-registered domain lists, WhoisDS-style daily NRD
//! archives, and category CSVs (our `domain,category[,date]` and commercial URL-category
//! exports).
//!
//! Every parser turns one file into [`FeedEntry`] values whose `value` is normalised exactly as
//! the extractor normalises what it finds in images (same host, IP and URL functions), so a feed
//! entry and an image indicator are equal when they name the same thing — in memory
//! ([`crate::FeedSet`]) and in SQL (`feed_entries` joined to `indicators`).
//!
//! Feeds come from the internet, so a bad line is never fatal: it is skipped and reported in
//! [`ParsedFeed::skipped`] as a [`SkippedLine`] — its 1-based line number, why, and the value
//! that could not be read — so whoever imports a feed can fix the file, not only count what it
//! lost ([`ParsedFeed::skipped_summary`]). Only input that is not a text feed at all is an
//! error.

mod adblock;
mod archive;
mod category;
mod date;
mod lists;
mod sniff;
mod urlhaus;

use std::{borrow::Cow, collections::HashMap, path::Path};

use chrono::NaiveDate;
use hubcensus_types::{Category, IndicatorKind};
use sha2::{Digest as _, Sha256};

pub use archive::MAX_ARCHIVE_TEXT;
pub use category::parse_category;
pub use date::date_in_name;
pub use urlhaus::SHARED_HOSTING_DOMAINS;

use crate::{
    host::{host_kind, normalise_host, normalise_ip},
    url::{UrlHost, parse_url},
};

/// The format of a feed file. [`as_str`](Self::as_str) is the id stored in `feeds.kind` (and
/// `Display`); [`cli_name`](Self::cli_name) is the kebab-case name on the command line
/// (`--kind category-csv`). `FromStr` accepts either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedKind {
    /// abuse.ch URLhaus CSV (`csv_recent` / `csv_online` downloads).
    Urlhaus,
    /// A newly-registered-domain list: one domain per line, dated per line or per file.
    Nrd,
    /// A WhoisDS-style daily newly-registered-domain archive: a zip holding `domain-names.txt`,
    /// dated by its file name (`2026-11-27.zip`).
    NrdArchive,
    /// A plain list of domains (or hosts, IPs, URLs), one per line, optionally dated.
    Domains,
    /// A hosts file (`0.0.0.0 host` / `127.0.0.1 host`).
    Hosts,
    /// An AdBlock-style filter list (`||domain^`, `||domain^$third-party`).
    Adblock,
    /// A category CSV: `domain,category[,date]`, or a commercial URL-category export with a
    /// header row (`URL,Category,...`) and vendor category names.
    CategoryCsv,
}

impl FeedKind {
    /// Every kind.
    pub const ALL: [FeedKind; 7] = [
        FeedKind::Urlhaus,
        FeedKind::Nrd,
        FeedKind::NrdArchive,
        FeedKind::Domains,
        FeedKind::Hosts,
        FeedKind::Adblock,
        FeedKind::CategoryCsv,
    ];

    /// The canonical id (`category_csv`), stored in `feeds.kind`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FeedKind::Urlhaus => "urlhaus",
            FeedKind::Nrd => "nrd",
            FeedKind::NrdArchive => "nrd_archive",
            FeedKind::Domains => "domains",
            FeedKind::Hosts => "hosts",
            FeedKind::Adblock => "adblock",
            FeedKind::CategoryCsv => "category_csv",
        }
    }

    /// The command-line name (`category-csv`): the id in kebab case.
    pub const fn cli_name(self) -> &'static str {
        match self {
            FeedKind::NrdArchive => "nrd-archive",
            FeedKind::CategoryCsv => "category-csv",
            other => other.as_str(),
        }
    }

    /// Guesses the format from the file's first bytes (see [`sniff`](Self::sniff) rules in
    /// docs/feeds.md). `None` when the bytes are not a feed any parser accepts.
    pub fn sniff(bytes: &[u8]) -> Option<FeedKind> {
        sniff::sniff(bytes)
    }
}

impl std::fmt::Display for FeedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FeedKind {
    type Err = FeedError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FeedKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.cli_name() == s)
            .ok_or_else(|| FeedError::UnknownKind { kind: s.to_owned() })
    }
}

pub use hubcensus_types::FeedEntry;

/// A parsed feed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFeed {
    /// Its format.
    pub kind: FeedKind,
    /// Distinct entries by (kind, value, category), in file order; a repeated entry keeps its
    /// earliest date.
    pub entries: Vec<FeedEntry>,
    /// Lines skipped, in file order, each with its line number and why (the first
    /// [`MAX_SKIPPED_RECORDED`]; `skipped_total` counts them all).
    pub skipped: Vec<SkippedLine>,
    /// How many lines were skipped, including those past [`MAX_SKIPPED_RECORDED`].
    pub skipped_total: usize,
    /// The sha256 of the file's bytes, hex: the same file imported twice is one feed.
    pub sha256: String,
}

impl ParsedFeed {
    /// One line for a warning: how many lines were skipped, then the first `shown` of them with
    /// their line numbers and reasons, then how many more (`None` when nothing was skipped).
    ///
    /// `3 line(s) skipped: line 2: a newly_registered_domain line needs a date …: "new.example";
    /// line 5: …; and 1 more`
    pub fn skipped_summary(&self, shown: usize) -> Option<String> {
        if self.skipped_total == 0 {
            return None;
        }
        let listed: Vec<String> = self.skipped.iter().take(shown).map(ToString::to_string).collect();
        let mut out = format!("{} line(s) skipped: {}", self.skipped_total, listed.join("; "));
        let more = self.skipped_total.saturating_sub(listed.len());
        if more > 0 {
            out.push_str(&format!("; and {more} more"));
        }
        Some(out)
    }
}

/// How many skipped lines a warning lists by number and reason before it only counts them:
/// enough to fix a file, few enough to read.
pub const SKIPPED_LINES_SHOWN: usize = 5;

/// A feed line that was not read: where, why, and (bounded, printable) what it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// The 1-based line number (a CSV record's first line).
    pub line: usize,
    /// Why it was skipped, as a sentence fragment (`unreadable date (expected YYYY-MM-DD)`).
    pub reason: String,
    /// The value that could not be read: at most 80 characters, control characters replaced.
    pub value: String,
}

impl std::fmt::Display for SkippedLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {:?}", self.line, self.reason, self.value)
    }
}

/// Why a file cannot be read as a feed at all (bad lines are skipped, not errors).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// The bytes hold NUL bytes or are mostly not UTF-8: a binary or compressed file (a zip is
    /// read as [`FeedKind::NrdArchive`], never as a text format).
    #[error("not a text feed: {reason}")]
    NotText {
        /// What gave it away.
        reason: String,
    },
    /// The kind named by the caller is not one we parse.
    #[error(
        "unknown feed kind {kind:?}: expected urlhaus, nrd, nrd-archive, domains, hosts, adblock or category-csv"
    )]
    UnknownKind {
        /// The name given.
        kind: String,
    },
    /// An NRD archive that is not a readable zip holding a domain list, or whose list exceeds
    /// [`MAX_ARCHIVE_TEXT`].
    #[error("not a newly-registered-domain archive: {reason}")]
    Archive {
        /// What is wrong with it.
        reason: String,
    },
    /// An NRD archive without a date: its domains are dated by the archive's file name
    /// (`2026-11-27.zip`); rename it or give the date.
    #[error(
        "an NRD archive is dated by its file name (YYYY-MM-DD.zip) or by the caller; neither gave a date"
    )]
    Undated,
    /// The file's format was not given and is not recognised (see [`FeedKind::sniff`]).
    #[error(
        "format not recognised: expected a URLhaus CSV, hosts file, AdBlock list, domain list, NRD archive or category CSV"
    )]
    Unrecognised,
    /// The file cannot be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// What the caller knows about a feed file besides its bytes (all optional: see
/// [`parse_feed_file`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedOptions {
    /// The format; `None`: sniffed ([`FeedKind::sniff`]).
    pub kind: Option<FeedKind>,
    /// The category its entries imply, overriding the format's (see [`parse_feed`]).
    pub category: Option<Category>,
    /// The date of entries the file does not date itself; `None`: the first `YYYY-MM-DD` in the
    /// file name, if any.
    pub date: Option<NaiveDate>,
}

/// Reads and parses a feed file: the format sniffed unless given, the date taken from the file
/// name (`2026-11-27.zip`, `nrd-2022-06-01.txt`) unless given — which is how WhoisDS archives,
/// whose lists carry no dates, get theirs.
///
/// # Errors
/// [`FeedError::Io`] if it cannot be read, [`FeedError::Unrecognised`] if its format is neither
/// given nor recognised, and the errors of [`parse_feed`].
pub fn parse_feed_file(path: &Path, options: FeedOptions) -> Result<ParsedFeed, FeedError> {
    let bytes = std::fs::read(path).map_err(|source| FeedError::Io { path: path.to_owned(), source })?;
    let kind = options.kind.or_else(|| FeedKind::sniff(&bytes)).ok_or(FeedError::Unrecognised)?;
    let date =
        options.date.or_else(|| path.file_name().and_then(|n| archive::date_in_name(&n.to_string_lossy())));
    parse_feed(kind, &bytes, options.category, date)
}

/// Most bytes ever kept in a skipped-line reason (a feed line can be arbitrarily long).
const MAX_REASON_VALUE: usize = 80;
/// Most skipped lines recorded individually; past it, one summary line counts the rest.
pub const MAX_SKIPPED_RECORDED: usize = 1_000;

/// Parses a feed file of a known kind.
///
/// `default_category` overrides the category a format implies (a hosts file of dynamic-DNS
/// providers: `Some(Category::DynamicDns)`); it is ignored for NRD lists (always
/// `newly_registered_domain`) and used for category-CSV lines without a category.
/// `default_date` dates every entry the file does not date itself (an NRD list named
/// `2022-06-01.txt`; a WhoisDS archive named `2026-11-27.zip` — [`parse_feed_file`] reads it
/// from the name).
///
/// [`FeedKind::NrdArchive`] takes the zip's bytes; every other kind takes text.
///
/// # Errors
///
/// [`FeedError::NotText`] when the bytes are not text; for an NRD archive,
/// [`FeedError::Archive`] when it is not a readable zip holding a domain list (or the list is
/// larger than [`MAX_ARCHIVE_TEXT`]) and [`FeedError::Undated`] without `default_date`. Bad
/// lines are skipped and reported in [`ParsedFeed::skipped`].
pub fn parse_feed(
    kind: FeedKind,
    bytes: &[u8],
    default_category: Option<Category>,
    default_date: Option<NaiveDate>,
) -> Result<ParsedFeed, FeedError> {
    let text: Cow<'_, [u8]> = if kind == FeedKind::NrdArchive {
        if default_date.is_none() {
            return Err(FeedError::Undated);
        }
        let (text, complete) = archive::domain_list(bytes, MAX_ARCHIVE_TEXT)?;
        if !complete {
            return Err(FeedError::Archive {
                reason: format!("its domain list exceeds {MAX_ARCHIVE_TEXT} bytes"),
            });
        }
        Cow::Owned(text)
    } else {
        Cow::Borrowed(bytes)
    };
    check_text(&text)?;
    let mut sink = Sink::default();
    let ctx = Ctx { default_category, default_date };
    match kind {
        FeedKind::Urlhaus => urlhaus::parse(&text, &ctx, &mut sink),
        FeedKind::Nrd | FeedKind::NrdArchive => {
            lists::parse_plain(&text, Category::NewlyRegisteredDomain, &ctx, &mut sink);
        }
        FeedKind::Domains => {
            let category = default_category.unwrap_or(Category::MaliciousDomain);
            lists::parse_plain(&text, category, &ctx, &mut sink);
        }
        FeedKind::Hosts => lists::parse_hosts(&text, &ctx, &mut sink),
        FeedKind::Adblock => adblock::parse(&text, &ctx, &mut sink),
        FeedKind::CategoryCsv => lists::parse_category_csv(&text, &ctx, &mut sink),
    }
    // The file's own bytes identify it: the same archive imported twice is one feed.
    Ok(sink.finish(kind, hex::encode(Sha256::digest(bytes))))
}

/// Refuses binaries and compressed files up front: the parsers would only produce noise.
fn check_text(bytes: &[u8]) -> Result<(), FeedError> {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"\x1f\x8b") {
        return Err(FeedError::NotText { reason: "a zip or gzip archive".into() });
    }
    if memchr::memchr(0, head).is_some() {
        return Err(FeedError::NotText { reason: "NUL bytes in the first 64 KiB".into() });
    }
    let bad = String::from_utf8_lossy(head).chars().filter(|c| *c == char::REPLACEMENT_CHARACTER).count();
    if bad * 10 > head.len().max(1) {
        return Err(FeedError::NotText { reason: "mostly not UTF-8".into() });
    }
    Ok(())
}

/// What every parser receives from the caller.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    default_category: Option<Category>,
    default_date: Option<NaiveDate>,
}

/// Collects entries (deduplicated) and skipped lines.
#[derive(Debug, Default)]
struct Sink {
    entries: Vec<FeedEntry>,
    index: HashMap<(IndicatorKind, String, Category), usize>,
    skipped: Vec<SkippedLine>,
    skipped_total: usize,
}

impl Sink {
    fn push(&mut self, kind: IndicatorKind, value: String, category: Category, listed_on: Option<NaiveDate>) {
        let key = (kind, value, category);
        if let Some(&i) = self.index.get(&key) {
            let have = &mut self.entries[i].listed_on;
            *have = match (*have, listed_on) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            return;
        }
        self.index.insert(key.clone(), self.entries.len());
        let (kind, value, category) = key;
        self.entries.push(FeedEntry { kind, value, category, listed_on });
    }

    fn skip(&mut self, line: usize, reason: &str, value: &str) {
        self.skipped_total += 1;
        if self.skipped.len() >= MAX_SKIPPED_RECORDED {
            return;
        }
        let value: String =
            value.chars().take(MAX_REASON_VALUE).map(|c| if c.is_control() { '?' } else { c }).collect();
        self.skipped.push(SkippedLine { line, reason: reason.to_owned(), value });
    }

    /// Adds the entries a value stands for (see [`value_entries`]), or skips the line.
    fn push_value(&mut self, line: usize, raw: &str, category: Category, date: Option<NaiveDate>) {
        match value_entries(raw) {
            Some(values) => {
                for (kind, value) in values {
                    self.push(kind, value, category, date);
                }
            }
            None => self.skip(line, "not a domain, host, IP or URL", raw),
        }
    }

    fn finish(self, kind: FeedKind, sha256: String) -> ParsedFeed {
        ParsedFeed {
            kind,
            entries: self.entries,
            skipped: self.skipped,
            skipped_total: self.skipped_total,
            sha256,
        }
    }
}

/// The entries one listed value stands for, normalised like extracted indicators:
///
/// * a host name → `Domain` when it is its own registrable domain, else `Host` (exact: listing
///   `a.evil.com` says nothing about `b.evil.com`); a leading `*.` or `.` (wildcard notation) is
///   dropped, so `*.duckdns.org` lists the domain `duckdns.org`, which matches every host under it;
/// * an IP literal → `Ip`;
/// * a URL → `Url`, plus its host (or IP) as above.
///
/// `None` when the value is none of these (including names under an unknown suffix).
pub(crate) fn value_entries(raw: &str) -> Option<Vec<(IndicatorKind, String)>> {
    let raw = raw.trim();
    if raw.contains("://") {
        let url = parse_url(raw)?;
        let mut out = vec![(IndicatorKind::Url, url.normalised)];
        out.push(match url.host {
            UrlHost::Ip(ip) => (IndicatorKind::Ip, ip.to_string()),
            UrlHost::Name(name) => (host_kind(&name)?.0, name),
        });
        return Some(out);
    }
    if let Some(ip) = normalise_ip(raw) {
        return Some(vec![(IndicatorKind::Ip, ip)]);
    }
    let name = raw.strip_prefix("*.").or_else(|| raw.strip_prefix('.')).unwrap_or(raw);
    let host = normalise_host(name)?;
    let kind = host_kind(&host)?.0;
    Some(vec![(kind, host)])
}

/// Reads `YYYY-MM-DD` at the start of `s` (a time may follow: `2022-06-01 12:00:00`).
pub(crate) fn leading_date(s: &str) -> Option<NaiveDate> {
    let head = s.trim().get(..10)?;
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

/// Text lines with 1-based numbers, `\r` stripped, lossily decoded (a stray invalid byte
/// spoils one line, which then fails to parse and is reported, not the whole file).
pub(crate) fn numbered_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, std::borrow::Cow<'_, str>)> {
    bytes.split(|b| *b == b'\n').enumerate().map(|(i, line)| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        (i + 1, String::from_utf8_lossy(line))
    })
}

/// Calls `each` with every record (and its line number) of a `#`-commented, headerless,
/// flexible CSV. An unreadable record is recorded in `sink` and skipped; an I/O error ends the
/// file. `trim` strips spaces around fields.
fn for_each_record(
    bytes: &[u8],
    trim: bool,
    sink: &mut Sink,
    mut each: impl FnMut(usize, &csv::ByteRecord, &mut Sink),
) {
    let line_of =
        |p: Option<&csv::Position>| p.map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    let mut builder = csv::ReaderBuilder::new();
    builder.has_headers(false).flexible(true).comment(Some(b'#'));
    if trim {
        builder.trim(csv::Trim::All);
    }
    let mut reader = builder.from_reader(bytes);
    for record in reader.byte_records() {
        match record {
            Ok(record) => each(line_of(record.position()), &record, sink),
            Err(e) => {
                sink.skip(line_of(e.position()), "unreadable CSV record", &e.to_string());
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_normalise_like_indicators() {
        assert_eq!(value_entries("Evil.COM."), Some(vec![(IndicatorKind::Domain, "evil.com".into())]));
        assert_eq!(value_entries("a.Evil.com"), Some(vec![(IndicatorKind::Host, "a.evil.com".into())]));
        assert_eq!(value_entries("*.duckdns.org"), Some(vec![(IndicatorKind::Domain, "duckdns.org".into())]));
        assert_eq!(value_entries("1.2.3.4"), Some(vec![(IndicatorKind::Ip, "1.2.3.4".into())]));
        assert_eq!(
            value_entries("http://1.2.3.4:81/bins/x86"),
            Some(vec![
                (IndicatorKind::Url, "http://1.2.3.4:81/bins/x86".into()),
                (IndicatorKind::Ip, "1.2.3.4".into())
            ])
        );
        assert_eq!(value_entries("foo.baz"), None);
        assert_eq!(value_entries("co.uk"), None);
    }

    #[test]
    fn binaries_and_archives_are_refused() {
        assert!(matches!(
            parse_feed(FeedKind::Domains, b"PK\x03\x04....", None, None),
            Err(FeedError::NotText { .. })
        ));
        assert!(matches!(
            parse_feed(FeedKind::Domains, b"a.com\n\0\0", None, None),
            Err(FeedError::NotText { .. })
        ));
        assert!(parse_feed(FeedKind::Domains, b"", None, None).is_ok_and(|f| f.entries.is_empty()));
    }

    #[test]
    fn repeated_entries_keep_their_earliest_date() {
        let f =
            parse_feed(FeedKind::Nrd, b"x.com 2022-06-03\nx.com 2022-06-01\nx.com\n", None, None).unwrap();
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].listed_on, NaiveDate::from_ymd_opt(2022, 6, 1));
    }

    #[test]
    fn skipped_lines_are_bounded_and_all_counted() {
        let junk = "not a domain\n".repeat(MAX_SKIPPED_RECORDED + 5);
        let f = parse_feed(FeedKind::Domains, junk.as_bytes(), None, None).unwrap();
        assert_eq!((f.skipped.len(), f.skipped_total), (MAX_SKIPPED_RECORDED, MAX_SKIPPED_RECORDED + 5));
        assert_eq!(f.skipped.last().map(|s| s.line), Some(MAX_SKIPPED_RECORDED));
        let summary = f.skipped_summary(2).unwrap();
        assert!(summary.starts_with(&format!("{} line(s) skipped: line 1: ", MAX_SKIPPED_RECORDED + 5)));
        assert!(summary.ends_with(&format!("; and {} more", MAX_SKIPPED_RECORDED + 3)), "{summary}");
    }

    #[test]
    fn a_summary_names_each_line_and_its_reason() {
        let csv = "value,category\nnew-domain.com,newly_registered_domain\nok-domain.com,malware\n\
                   bad-domain.com,shopping\nlate-domain.com,nrd,2022-13-45\n";
        let f = parse_feed(FeedKind::CategoryCsv, csv.as_bytes(), None, None).unwrap();
        assert_eq!(f.entries.len(), 1);
        let lines: Vec<usize> = f.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, [2, 4, 5]);
        assert_eq!(f.skipped[0].value, "new-domain.com");
        let summary = f.skipped_summary(2).unwrap();
        assert!(
            summary.starts_with("3 line(s) skipped: line 2: a newly_registered_domain line needs a date"),
            "{summary}"
        );
        assert!(summary.contains("\"new-domain.com\"; line 4: no category hubcensus maps"), "{summary}");
        assert!(summary.ends_with("\"shopping\"; and 1 more"), "{summary}");
        let clean = parse_feed(FeedKind::Domains, b"evil.com\n", None, None).unwrap();
        assert_eq!(clean.skipped_summary(5), None);
    }
}
