//! Every feed format: entries, categories, dates, skipped lines.

use chrono::NaiveDate;
use hubcensus_intel::{FeedEntry, FeedError, FeedKind, ParsedFeed, parse_feed};
use hubcensus_types::{Category, IndicatorKind};

use crate::samples::*;

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn entry(kind: IndicatorKind, value: &str, category: Category, listed_on: Option<NaiveDate>) -> FeedEntry {
    FeedEntry { kind, value: value.to_owned(), category, listed_on }
}

fn skipped_lines(f: &ParsedFeed) -> Vec<usize> {
    f.skipped.iter().map(|(n, _)| *n).collect()
}

#[test]
fn urlhaus_lists_urls_and_hosts_dated_by_dateadded() {
    use IndicatorKind::*;
    let f = parse_feed(FeedKind::Urlhaus, URLHAUS.as_bytes(), None, None).unwrap();
    let m = Category::MaliciousDomain;
    assert_eq!(
        f.entries,
        [
            entry(Url, "http://115.55.237.166:44515/i", m, date(2024, 5, 14)),
            entry(Ip, "115.55.237.166", m, date(2024, 5, 14)),
            // shared hosting: the URL only, never raw.githubusercontent.com itself
            entry(Url, "https://raw.githubusercontent.com/bad/repo/main/x.exe", m, date(2024, 5, 14)),
            entry(Url, "http://dl.evil-cdn.top/bins/sora.x86", m, date(2024, 5, 13)),
            entry(Host, "dl.evil-cdn.top", m, date(2024, 5, 13)),
            entry(Url, "http://miner-drop.com/xmrig", m, date(2024, 5, 13)),
            entry(Domain, "miner-drop.com", m, date(2024, 5, 13)),
        ]
    );
    assert_eq!(skipped_lines(&f), [13, 14], "{:?}", f.skipped);
    assert_eq!(f.kind, FeedKind::Urlhaus);
    assert_eq!(f.sha256.len(), 64);
}

#[test]
fn hosts_files_list_names_not_sinkholes() {
    use IndicatorKind::*;
    let f =
        parse_feed(FeedKind::Hosts, HOSTS.as_bytes(), Some(Category::DynamicDns), date(2022, 1, 1)).unwrap();
    let c = Category::DynamicDns;
    let d = date(2022, 1, 1);
    assert_eq!(
        f.entries,
        [
            entry(Domain, "evil.com", c, d),
            entry(Host, "ads.tracker.net", c, d),
            entry(Host, "a.b.co.uk", c, d),
            entry(Host, "c.b.co.uk", c, d),
        ]
    );
    assert_eq!(skipped_lines(&f), [8, 9], "{:?}", f.skipped);
    let plain = parse_feed(FeedKind::Hosts, HOSTS.as_bytes(), None, None).unwrap();
    assert!(plain.entries.iter().all(|e| e.category == Category::MaliciousDomain && e.listed_on.is_none()));
}

#[test]
fn nrd_lists_take_line_dates_with_any_separator() {
    let f = parse_feed(FeedKind::Nrd, NRD_DATED.as_bytes(), Some(Category::MaliciousDomain), None).unwrap();
    let got: Vec<(&str, Option<NaiveDate>, Category)> =
        f.entries.iter().map(|e| (e.value.as_str(), e.listed_on, e.category)).collect();
    let n = Category::NewlyRegisteredDomain; // the caller's category never overrides NRD
    assert_eq!(
        got,
        [
            ("x-new.com", date(2022, 5, 30), n),
            ("y-new.com", date(2022, 5, 31), n),
            ("z-new.com", date(2022, 5, 29), n),
            ("w-new.com", date(2022, 5, 28), n),
        ]
    );
    assert_eq!(skipped_lines(&f), [5]);
}

#[test]
fn nrd_lists_without_dates_need_the_file_date() {
    let f = parse_feed(FeedKind::Nrd, NRD_UNDATED.as_bytes(), None, date(2022, 6, 1)).unwrap();
    assert_eq!(f.entries.len(), 2);
    assert!(f.entries.iter().all(|e| e.listed_on == date(2022, 6, 1)));
    let undated = parse_feed(FeedKind::Nrd, NRD_UNDATED.as_bytes(), None, None).unwrap();
    assert!(undated.entries.is_empty());
    assert_eq!(skipped_lines(&undated), [2, 3]);
}

#[test]
fn plain_domain_lists_accept_wildcards_ips_and_urls() {
    use IndicatorKind::*;
    let f = parse_feed(FeedKind::Domains, DOMAINS.as_bytes(), Some(Category::ProxyAvoidance), None).unwrap();
    let p = Category::ProxyAvoidance;
    assert_eq!(
        f.entries,
        [
            entry(Domain, "evil-one.com", p, None),
            entry(Domain, "duckdns.org", p, None),
            entry(Host, "sub.evil-two.net", p, None),
            entry(Ip, "203.0.113.9", p, None),
            entry(Url, "http://evil-three.com/payload", p, None),
            entry(Domain, "evil-three.com", p, None),
            entry(Domain, "evil-four.com", p, None),
        ]
    );
    assert_eq!(skipped_lines(&f), [7]);
    let default = parse_feed(FeedKind::Domains, b"evil-one.com\n", None, None).unwrap();
    assert_eq!(default.entries[0].category, Category::MaliciousDomain);
}

#[test]
fn category_csvs_map_vendor_names() {
    use Category::*;
    let f = parse_feed(FeedKind::CategoryCsv, CATEGORY_CSV.as_bytes(), None, None).unwrap();
    let got: Vec<(&str, Category, Option<NaiveDate>)> =
        f.entries.iter().map(|e| (e.value.as_str(), e.category, e.listed_on)).collect();
    assert_eq!(
        got,
        [
            ("ngrok.io", ProxyAvoidance, date(2022, 1, 1)),
            ("evil.com", MaliciousDomain, None),
            ("new-site.com", NewlyRegisteredDomain, date(2022, 5, 20)),
            ("hack-tools.com", HackingTool, None),
            ("mine-pool.com", Cryptomining, None),
        ]
    );
    // line 3: empty category and no default; 6: NRD without a date; 9: unknown category
    assert_eq!(skipped_lines(&f), [3, 6, 9], "{:?}", f.skipped);
    let with_default =
        parse_feed(FeedKind::CategoryCsv, CATEGORY_CSV.as_bytes(), Some(DynamicDns), None).unwrap();
    assert!(with_default.entries.iter().any(|e| e.value == "duckdns.org" && e.category == DynamicDns));
}

#[test]
fn identical_bytes_hash_identically_and_kinds_round_trip() {
    let a = parse_feed(FeedKind::Domains, b"evil.com\n", None, None).unwrap();
    let b = parse_feed(FeedKind::Hosts, b"evil.com\n", None, None).unwrap();
    assert_eq!(a.sha256, b.sha256);
    assert_eq!(a.sha256, "181c7605d00bdbd1ba331e8b2bc27ea3ac8e4bd62d743cd4cb4646747a16a4c9");
    for k in FeedKind::ALL {
        assert_eq!(k.as_str().parse::<FeedKind>().unwrap(), k);
    }
    assert!(matches!("csv".parse::<FeedKind>(), Err(FeedError::UnknownKind { .. })));
}

#[test]
fn hostile_feeds_are_skipped_not_fatal() {
    let mut junk = Vec::new();
    junk.extend_from_slice(b"\"unterminated,quote\nevil.com,malware\n");
    junk.extend_from_slice(&b"x".repeat(1_000_000));
    junk.extend_from_slice(b",malware\n\xff\xfe,malware\n");
    for kind in FeedKind::ALL {
        let f = parse_feed(kind, &junk, None, None).unwrap();
        assert!(f.skipped.iter().all(|(_, why)| why.len() < 400), "{kind}: reasons are bounded");
    }
}

#[test]
fn the_shipped_sample_feed_parses_cleanly() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/feeds/categories.csv");
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(FeedKind::sniff(&bytes), Some(FeedKind::CategoryCsv));
    let f = parse_feed(FeedKind::CategoryCsv, &bytes, None, None).unwrap();
    assert!(f.skipped.is_empty(), "{:?}", f.skipped);
    assert!(f.entries.len() >= 40);
    assert!(f.entries.iter().all(|e| e.kind == IndicatorKind::Domain), "every line is a registrable domain");
    assert!(f.entries.iter().any(|e| e.value == "duckdns.org" && e.category == Category::DynamicDns));
}
