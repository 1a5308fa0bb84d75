//! Guessing a feed's format from its first lines, for `hubcensus scan --feed FILE`.
//!
//! The rules are ordered from most to least specific and each needs a clear majority of the
//! sampled data lines, so a file that fits none is refused (`None`) rather than mis-parsed. A zip
//! is an NRD archive when its domain list sniffs as a domain list.

use super::{
    FeedKind, adblock, archive, check_text, leading_date,
    lists::{is_category_header, is_header_word},
    parse_category, value_entries,
};
use crate::host::normalise_ip;

/// Lines looked at.
const SAMPLE_LINES: usize = 200;
/// Bytes looked at.
const SAMPLE_BYTES: usize = 64 * 1024;

pub(super) fn sniff(bytes: &[u8]) -> Option<FeedKind> {
    if archive::is_zip(bytes) {
        let (head, _) = archive::domain_list(bytes, SAMPLE_BYTES as u64).ok()?;
        return matches!(sniff(&head), Some(FeedKind::Nrd | FeedKind::Domains))
            .then_some(FeedKind::NrdArchive);
    }
    check_text(bytes).ok()?;
    let head = &bytes[..bytes.len().min(SAMPLE_BYTES)];
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> =
        text.lines().map(str::trim).filter(|l| !l.is_empty()).take(SAMPLE_LINES).collect();
    if head.len() < bytes.len() {
        lines.pop(); // possibly cut in the middle
    }
    let (comments, data): (Vec<&str>, Vec<&str>) =
        lines.iter().partition(|l| l.starts_with('#') || l.starts_with('!') || l.starts_with("//"));
    let comment_text = comments.join("\n").to_ascii_lowercase();
    if comment_text.contains("urlhaus") || comment_text.contains("# id,dateadded,url") {
        return Some(FeedKind::Urlhaus);
    }
    if data.first().is_some_and(|l| is_category_header(l)) {
        return Some(FeedKind::CategoryCsv); // a header row naming a value and a category column
    }
    if data.iter().any(|l| adblock::is_header(l)) {
        return Some(FeedKind::Adblock); // `[Adblock Plus 2.0]`
    }
    let data: Vec<&str> = data.into_iter().filter(|l| !is_header_line(l)).collect();
    if data.is_empty() {
        return None;
    }
    let majority = |n: usize| n * 5 >= data.len() * 4; // at least 80%
    if majority(data.iter().filter(|l| l.starts_with("||") || l.starts_with("@@||")).count()) {
        return Some(FeedKind::Adblock);
    }
    if majority(data.iter().filter(|l| is_urlhaus_row(l)).count()) {
        return Some(FeedKind::Urlhaus);
    }
    if majority(data.iter().filter(|l| is_hosts_line(l)).count()) {
        return Some(FeedKind::Hosts);
    }
    if majority(data.iter().filter(|l| is_category_row(l)).count()) {
        return Some(FeedKind::CategoryCsv);
    }
    let plain: Vec<Option<bool>> = data.iter().map(|l| plain_line(l)).collect();
    let values = plain.iter().flatten().count();
    if !majority(values) {
        return None;
    }
    let dated = plain.iter().flatten().filter(|d| **d).count();
    if comment_text.contains("newly registered")
        || comment_text.contains("newly-registered")
        || dated == values
    {
        Some(FeedKind::Nrd)
    } else {
        Some(FeedKind::Domains)
    }
}

fn is_header_line(line: &str) -> bool {
    line.split([',', ';', '\t']).next().is_some_and(is_header_word)
}

/// `"123","2024-01-01 00:00:00","http://...",...`
fn is_urlhaus_row(line: &str) -> bool {
    let fields: Vec<&str> = line.split("\",\"").collect();
    fields.len() >= 8 && fields[2].contains("://") && leading_date(fields[1]).is_some()
}

/// `0.0.0.0 name` / `127.0.0.1 name`.
fn is_hosts_line(line: &str) -> bool {
    let mut t = line.split_ascii_whitespace();
    t.next().is_some_and(|a| normalise_ip(a).is_some()) && t.next().is_some()
}

/// `value,category[,date]` with a category we know.
fn is_category_row(line: &str) -> bool {
    let mut f = line.split(',').map(|s| s.trim().trim_matches('"'));
    let value = f.next().unwrap_or_default();
    let category = f.next();
    category.is_some_and(|c| parse_category(c).is_some()) && value_entries(value).is_some()
}

/// `Some(dated)` when the line is `value[sep date]`, `None` when it is not a list line.
fn plain_line(line: &str) -> Option<bool> {
    let line = line.split_once(" #").map_or(line, |(head, _)| head).trim();
    let (value, rest) = match line.find([',', ';', '\t', ' ']) {
        Some(i) => (&line[..i], line[i + 1..].trim()),
        None => (line, ""),
    };
    value_entries(value)?;
    if rest.is_empty() { Some(false) } else { leading_date(rest).map(|_| true) }
}
