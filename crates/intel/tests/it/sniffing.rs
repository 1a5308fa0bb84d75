//! `FeedKind::sniff`: each format is recognised from its bytes; anything else is refused.

use hubcensus_intel::FeedKind;

use crate::samples::*;

#[test]
fn every_sample_is_recognised() {
    let cases = [
        (URLHAUS, FeedKind::Urlhaus),
        (HOSTS, FeedKind::Hosts),
        (NRD_DATED, FeedKind::Nrd),
        (NRD_UNDATED, FeedKind::Nrd), // says so in its comment
        (DOMAINS, FeedKind::Domains),
        (CATEGORY_CSV, FeedKind::CategoryCsv),
        (ADBLOCK, FeedKind::Adblock),
        (VENDOR_CSV, FeedKind::CategoryCsv),
    ];
    for (text, want) in cases {
        assert_eq!(FeedKind::sniff(text.as_bytes()), Some(want), "{text}");
    }
}

#[test]
fn urlhaus_rows_are_recognised_without_the_header() {
    let rows: String = URLHAUS
        .lines()
        .filter(|l| l.starts_with("\"2849501") || l.starts_with("\"2849499"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(FeedKind::sniff(rows.as_bytes()), Some(FeedKind::Urlhaus));
}

#[test]
fn undated_lists_without_a_hint_are_plain_domains() {
    assert_eq!(FeedKind::sniff(b"evil.com\nbad.net\n"), Some(FeedKind::Domains));
    assert_eq!(FeedKind::sniff(b"evil.com 2022-01-01\nbad.net 2022-01-02\n"), Some(FeedKind::Nrd));
}

#[test]
fn non_feeds_are_refused() {
    let cases: &[&[u8]] = &[
        b"",
        b"# only comments\n",
        b"\x7fELF\x02\x01\x01\x00\x00\x00",
        b"PK\x03\x04 domain-names.txt",
        b"\x1f\x8b\x08\x00",
        b"Dear user,\nthis is a letter about evil.com and other things.\nRegards\n",
        b"{\"json\": true}\n",
    ];
    for input in cases {
        assert_eq!(FeedKind::sniff(input), None, "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn adblock_lists_are_recognised_without_their_header() {
    let rules = "! comment\n||evil.com^\n||bad.net^$third-party\n@@||ok.bad.net^\n||x.org^\n";
    assert_eq!(FeedKind::sniff(rules.as_bytes()), Some(FeedKind::Adblock));
}
