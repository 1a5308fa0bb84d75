//! Line-oriented feeds: plain (and newly-registered) domain lists, hosts files, category CSVs.

use chrono::NaiveDate;
use hubcensus_types::Category;

use super::{Ctx, Sink, for_each_record, leading_date, numbered_lines, parse_category};
use crate::host::normalise_ip;

/// Comment markers at the start of a line: shell/hosts `#`, Adblock `!`, C-style `//`.
fn is_comment(line: &str) -> bool {
    line.starts_with('#') || line.starts_with('!') || line.starts_with("//")
}

/// Drops a trailing ` # comment`.
fn strip_inline_comment(line: &str) -> &str {
    line.split_once(" #").or_else(|| line.split_once("\t#")).map_or(line, |(head, _)| head).trim()
}

/// Header words that name the value column (a CSV-ish list exported with a header row).
pub(super) fn is_header_word(field: &str) -> bool {
    matches!(
        field.trim().trim_matches('"').to_ascii_lowercase().as_str(),
        "domain" | "domains" | "host" | "hostname" | "url" | "value" | "indicator" | "name" | "domain_name"
    )
}

/// `domain[,;\t ]YYYY-MM-DD` per line. A line without a date takes the file's date; an NRD
/// line with neither is skipped, because an undated registration can never be judged.
pub(super) fn parse_plain(bytes: &[u8], category: Category, ctx: &Ctx, sink: &mut Sink) {
    let nrd = category == Category::NewlyRegisteredDomain;
    for (n, line) in numbered_lines(bytes) {
        let line = line.trim();
        if line.is_empty() || is_comment(line) {
            continue;
        }
        let line = strip_inline_comment(line);
        let (value, rest) = match line.find([',', ';', '\t', ' ']) {
            Some(i) => (&line[..i], line[i + 1..].trim()),
            None => (line, ""),
        };
        if n == 1 && is_header_word(value) {
            continue;
        }
        let date: Option<NaiveDate> = if rest.is_empty() {
            ctx.default_date
        } else {
            match leading_date(rest) {
                Some(d) => Some(d),
                None => {
                    sink.skip(n, "expected `value` or `value YYYY-MM-DD`", line);
                    continue;
                }
            }
        };
        if nrd && date.is_none() {
            sink.skip(n, "no registration date on the line and none given for the file", line);
            continue;
        }
        sink.push_value(n, value, category, date);
    }
}

/// Names every hosts file maps to itself; not indicators, not worth a warning.
const LOCAL_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "local",
    "broadcasthost",
    "ip6-localhost",
    "ip6-loopback",
    "ip6-localnet",
    "ip6-mcastprefix",
    "ip6-allnodes",
    "ip6-allrouters",
    "ip6-allhosts",
];

/// `ADDRESS name [name...]  # comment`. The address (a sinkhole such as `0.0.0.0`) is not
/// an indicator; the names are. Category: the caller's, else `malicious_domain`.
pub(super) fn parse_hosts(bytes: &[u8], ctx: &Ctx, sink: &mut Sink) {
    let category = ctx.default_category.unwrap_or(Category::MaliciousDomain);
    for (n, line) in numbered_lines(bytes) {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let mut tokens = line.split_ascii_whitespace();
        let Some(addr) = tokens.next() else { continue };
        if normalise_ip(addr).is_none() {
            sink.skip(n, "a hosts line starts with an IP address", line);
            continue;
        }
        let mut names = 0;
        for name in tokens {
            names += 1;
            if LOCAL_NAMES.contains(&name.to_ascii_lowercase().as_str()) || normalise_ip(name).is_some() {
                continue;
            }
            sink.push_value(n, name, category, ctx.default_date);
        }
        if names == 0 {
            sink.skip(n, "an address without a host name", line);
        }
    }
}

/// `value,category[,date]`, RFC 4180 quoting, an optional header row, `#` comments. A line
/// without a category takes the caller's; an unknown category name skips the line.
pub(super) fn parse_category_csv(bytes: &[u8], ctx: &Ctx, sink: &mut Sink) {
    let mut first = true;
    for_each_record(bytes, true, sink, |n, record, sink| {
        let field = |i: usize| record.get(i).map(String::from_utf8_lossy).unwrap_or_default();
        let value = field(0);
        if std::mem::take(&mut first) && is_header_word(&value) {
            return;
        }
        if value.is_empty() {
            return;
        }
        let cat_raw = field(1);
        let category = if cat_raw.is_empty() {
            match ctx.default_category {
                Some(c) => c,
                None => {
                    sink.skip(n, "no category on the line and none given for the file", &value);
                    return;
                }
            }
        } else {
            match parse_category(&cat_raw) {
                Some(c) => c,
                None => {
                    sink.skip(n, "unknown category", &cat_raw);
                    return;
                }
            }
        };
        let date_raw = field(2);
        let date = if date_raw.is_empty() {
            ctx.default_date
        } else {
            match leading_date(&date_raw) {
                Some(d) => Some(d),
                None => {
                    sink.skip(n, "unreadable date (expected YYYY-MM-DD)", &date_raw);
                    return;
                }
            }
        };
        if category == Category::NewlyRegisteredDomain && date.is_none() {
            sink.skip(n, "a newly_registered_domain line needs a date", &value);
            return;
        }
        sink.push_value(n, &value, category, date);
    });
}
