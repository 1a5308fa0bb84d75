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

/// Column names (lowercase, punctuation as `_`) that hold the listed value, the category and
/// the date in a category CSV with a header row — what vendors' exports call them.
const VALUE_COLUMNS: &[&str] = &[
    "domain",
    "domains",
    "domain_name",
    "host",
    "hostname",
    "fqdn",
    "url",
    "uri",
    "site",
    "value",
    "indicator",
    "name",
    "address",
];
const CATEGORY_COLUMNS: &[&str] = &[
    "category",
    "categories",
    "category_name",
    "url_category",
    "url_categories",
    "classification",
    "categorization",
];
const DATE_COLUMNS: &[&str] = &[
    "date",
    "listed_on",
    "first_seen",
    "firstseen",
    "date_added",
    "dateadded",
    "added",
    "registered",
    "registration_date",
    "creation_date",
    "created",
    "create_date",
];

/// Whether a line is a category CSV's header row: it names a value column and a category
/// column (`domain,category,date`, `URL,Risk,Categories`).
pub(super) fn is_category_header(line: &str) -> bool {
    let names: Vec<String> = line
        .split(',')
        .map(|f| super::category::category_key(f.trim().trim_matches('"')).replace('-', "_"))
        .collect();
    let has = |set: &[&str]| names.iter().any(|n| set.contains(&n.as_str()));
    has(VALUE_COLUMNS) && has(CATEGORY_COLUMNS)
}

/// Where a category CSV keeps its three fields.
#[derive(Debug, Clone, Copy)]
struct Columns {
    value: usize,
    category: Option<usize>,
    date: Option<usize>,
}

/// Without a header: `value,category[,date]`.
const POSITIONAL: Columns = Columns { value: 0, category: Some(1), date: Some(2) };

/// The columns a header row names, or `None` when the record is not a header (no field names a
/// value column).
fn header_columns(record: &csv::ByteRecord) -> Option<Columns> {
    let names: Vec<String> = record
        .iter()
        .map(|f| {
            let key = super::category::category_key(&String::from_utf8_lossy(f));
            key.replace('-', "_")
        })
        .collect();
    let find = |set: &[&str]| names.iter().position(|n| set.contains(&n.as_str()));
    Some(Columns { value: find(VALUE_COLUMNS)?, category: find(CATEGORY_COLUMNS), date: find(DATE_COLUMNS) })
}

/// Category CSVs: our own `value,category[,date]`, and the plain exports of commercial
/// URL-categorisation databases — a header row naming the columns in any order (`URL,Category,
/// First Seen`; extra columns ignored), several categories in one field separated by `;`, `|` or
/// `,`, vendor category names mapped by config/feeds/category_aliases.csv. RFC 4180 quoting,
/// `#` comments. A line without a category takes the caller's; a line none of whose categories
/// we map is skipped (never a guess); categories we do not map beside one we do are ignored.
pub(super) fn parse_category_csv(bytes: &[u8], ctx: &Ctx, sink: &mut Sink) {
    let mut columns: Option<Columns> = None;
    for_each_record(bytes, true, sink, |n, record, sink| {
        let cols = match columns {
            Some(c) => c,
            None => {
                let header = header_columns(record);
                columns = Some(header.unwrap_or(POSITIONAL));
                if header.is_some() {
                    return;
                }
                POSITIONAL
            }
        };
        let field = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(|f| String::from_utf8_lossy(f).trim().to_owned())
                .unwrap_or_default()
        };
        let value = field(Some(cols.value));
        if value.is_empty() {
            return;
        }
        let cat_raw = field(cols.category);
        let categories: Vec<Category> = if cat_raw.is_empty() {
            match ctx.default_category {
                Some(c) => vec![c],
                None => {
                    sink.skip(n, "no category on the line and none given for the file", &value);
                    return;
                }
            }
        } else {
            let mut found: Vec<Category> = Vec::new();
            for c in cat_raw.split([';', '|', ',']).filter_map(parse_category) {
                if !found.contains(&c) {
                    found.push(c);
                }
            }
            if found.is_empty() {
                sink.skip(n, "no category hubcensus maps (config/feeds/category_aliases.csv)", &cat_raw);
                return;
            }
            found
        };
        let date_raw = field(cols.date);
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
        for category in categories {
            if category == Category::NewlyRegisteredDomain && date.is_none() {
                sink.skip(
                    n,
                    "a newly_registered_domain line needs a date (a date column, or one for the whole \
                     file: `feeds import --date`, or YYYY-MM-DD in its name)",
                    &value,
                );
                continue;
            }
            sink.push_value(n, &value, category, date);
        }
    });
}
