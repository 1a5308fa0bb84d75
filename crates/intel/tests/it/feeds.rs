//! Every feed format: entries, categories, dates, skipped lines.

use chrono::NaiveDate;
use std::io::Write as _;

use hubcensus_intel::{FeedEntry, FeedError, FeedKind, FeedOptions, ParsedFeed, parse_feed, parse_feed_file};
use hubcensus_types::{Category, IndicatorKind};

use crate::samples::*;

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn entry(kind: IndicatorKind, value: &str, category: Category, listed_on: Option<NaiveDate>) -> FeedEntry {
    FeedEntry { kind, value: value.to_owned(), category, listed_on }
}

fn skipped_lines(f: &ParsedFeed) -> Vec<usize> {
    f.skipped.iter().map(|s| s.line).collect()
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
        assert_eq!(k.cli_name().parse::<FeedKind>().unwrap(), k);
        assert_eq!(k.to_string(), k.as_str());
        assert!(!k.cli_name().contains('_'), "{k}: CLI names are kebab-case");
        let err = "csv".parse::<FeedKind>().unwrap_err().to_string();
        assert!(err.contains(k.cli_name()), "{err} lists {k}");
    }
    assert_eq!("category-csv".parse::<FeedKind>().unwrap(), FeedKind::CategoryCsv);
    assert_eq!("nrd-archive".parse::<FeedKind>().unwrap(), FeedKind::NrdArchive);
    assert!(matches!("csv".parse::<FeedKind>(), Err(FeedError::UnknownKind { .. })));
}

#[test]
fn hostile_feeds_are_skipped_not_fatal() {
    let mut junk = Vec::new();
    junk.extend_from_slice(b"\"unterminated,quote\nevil.com,malware\n");
    junk.extend_from_slice(&b"x".repeat(1_000_000));
    junk.extend_from_slice(b",malware\n\xff\xfe,malware\n");
    for kind in FeedKind::ALL {
        if kind == FeedKind::NrdArchive {
            // Not a zip at all: an error for the file, never a panic.
            let err = parse_feed(kind, &junk, None, NaiveDate::from_ymd_opt(2026, 11, 27)).unwrap_err();
            assert!(matches!(err, FeedError::Archive { .. }), "{err}");
            continue;
        }
        let f = parse_feed(kind, &junk, None, None).unwrap();
        assert!(f.skipped.iter().all(|s| s.to_string().len() < 400), "{kind}: reasons are bounded");
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

#[test]
fn adblock_lists_give_their_domain_rules() {
    use IndicatorKind::*;
    let f =
        parse_feed(FeedKind::Adblock, ADBLOCK.as_bytes(), Some(Category::Cryptomining), date(2026, 11, 27))
            .unwrap();
    let c = Category::Cryptomining;
    let d = date(2026, 11, 27);
    assert_eq!(
        f.entries,
        [
            entry(Domain, "coinhive-proxy.top", c, d),
            entry(Domain, "evil-miner.xyz", c, d),
            entry(Host, "tracker.bad-domain.net", c, d),
            entry(Ip, "203.0.113.7", c, d),
            entry(Host, "sub.duckdns.org", c, d),
        ]
    );
    // Reported: a path rule, a regex, a narrowing option, a non-host, a wildcard, an address.
    // Silent: the header, `!` comments, the exception (line 8) and the cosmetic rule (line 9).
    assert_eq!(skipped_lines(&f), [10, 11, 12, 14, 15, 16], "{:#?}", f.skipped);
    assert!(f.skipped.iter().any(|s| s.line == 12 && s.reason.contains("option")), "{:?}", f.skipped);
    let default = parse_feed(FeedKind::Adblock, b"||evil.com^\n", None, None).unwrap();
    assert_eq!(default.entries, [entry(Domain, "evil.com", Category::MaliciousDomain, None)]);
}

#[test]
fn commercial_url_category_exports_map_to_our_categories() {
    use Category::*;
    use IndicatorKind::*;
    let f = parse_feed(FeedKind::CategoryCsv, VENDOR_CSV.as_bytes(), None, None).unwrap();
    assert_eq!(
        f.entries,
        [
            entry(Domain, "ngrok-tunnel.io", ProxyAvoidance, date(2026, 10, 1)),
            entry(Url, "http://dl.evil-cdn.top/x.sh", MaliciousDomain, date(2026, 11, 2)),
            entry(Host, "dl.evil-cdn.top", MaliciousDomain, date(2026, 11, 2)),
            entry(Domain, "fresh-reg-domain.com", NewlyRegisteredDomain, date(2026, 11, 20)),
            entry(Domain, "hack-forum.net", HackingTool, None),
            entry(Host, "myhost.duckdns.org", DynamicDns, None),
        ]
    );
    // 8: no category we map; 9: not a domain; 10: a date we cannot read; 11: NRD without a date.
    assert_eq!(skipped_lines(&f), [8, 9, 10, 11], "{:#?}", f.skipped);
    assert!(f.skipped[0].reason.contains("category_aliases.csv"), "{:?}", f.skipped[0]);
    // The file's date dates what the lines do not, which admits the undated NRD line.
    let dated = parse_feed(FeedKind::CategoryCsv, VENDOR_CSV.as_bytes(), None, date(2026, 11, 27)).unwrap();
    assert!(dated.entries.iter().any(|e| e.value == "undated-nrd.com" && e.listed_on == date(2026, 11, 27)));
    assert_eq!(skipped_lines(&dated), [8, 9, 10]);
}

/// A zip as WhoisDS publishes it: `domain-names.txt` at the top level.
fn whoisds_zip(members: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in members {
        zip.start_file(*name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn whoisds_archives_are_dated_by_their_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = whoisds_zip(&[("domain-names.txt", WHOISDS_DOMAINS)]);
    assert_eq!(FeedKind::sniff(&bytes), Some(FeedKind::NrdArchive));
    let d = date(2026, 11, 27);
    let nrd = Category::NewlyRegisteredDomain;
    for name in ["2026-11-27.zip", "domain-names-2026-11-27.zip"] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let f = parse_feed_file(&path, FeedOptions::default()).unwrap();
        assert_eq!(f.kind, FeedKind::NrdArchive);
        assert_eq!(
            f.entries,
            [
                entry(IndicatorKind::Domain, "fresh-example-1.com", nrd, d),
                entry(IndicatorKind::Domain, "fresh-example-2.net", nrd, d),
                entry(IndicatorKind::Domain, "xn--80ak6aa92e.com", nrd, d),
                entry(IndicatorKind::Domain, "shop-fresh.xyz", nrd, d),
                entry(IndicatorKind::Domain, "quick-fresh-4.org", nrd, d),
                entry(IndicatorKind::Domain, "fresh5.online", nrd, d),
                entry(IndicatorKind::Domain, "example-new-6.shop", nrd, d),
                entry(IndicatorKind::Domain, "new7.site", nrd, d),
            ],
            "{name}"
        );
        assert_eq!(skipped_lines(&f), [4, 6], "{:#?}", f.skipped);
        assert_eq!(f.sha256.len(), 64);
    }
    // A date given by the caller wins over the name.
    let path = dir.path().join("2026-11-27.zip");
    let given =
        parse_feed_file(&path, FeedOptions { date: date(2026, 11, 26), ..FeedOptions::default() }).unwrap();
    assert!(given.entries.iter().all(|e| e.listed_on == date(2026, 11, 26)));
    // Without a date anywhere, the archive cannot be judged at all.
    let undated = dir.path().join("domain-names.zip");
    std::fs::write(&undated, &bytes).unwrap();
    assert!(matches!(parse_feed_file(&undated, FeedOptions::default()), Err(FeedError::Undated)));
}

#[test]
fn broken_nrd_archives_are_errors_for_the_file() {
    let d = date(2026, 11, 27);
    // Nested in a folder and named differently: the only .txt member is the list.
    let nested = whoisds_zip(&[("2026-11-27/nrd.txt", "fresh-example-1.com\n"), ("README.md", "# list")]);
    assert_eq!(parse_feed(FeedKind::NrdArchive, &nested, None, d).unwrap().entries.len(), 1);
    // No list: two candidates and no domain-names.txt.
    let ambiguous = whoisds_zip(&[("a.txt", "x.com\n"), ("b.txt", "y.com\n")]);
    assert!(matches!(parse_feed(FeedKind::NrdArchive, &ambiguous, None, d), Err(FeedError::Archive { .. })));
    // Truncated archive.
    let whole = whoisds_zip(&[("domain-names.txt", WHOISDS_DOMAINS)]);
    let cut = &whole[..whole.len() / 2];
    assert!(matches!(parse_feed(FeedKind::NrdArchive, cut, None, d), Err(FeedError::Archive { .. })));
    assert_eq!(FeedKind::sniff(cut), None);
    // A binary inside: refused like any binary feed.
    let binary = whoisds_zip(&[("domain-names.txt", "\0\0\0ELF")]);
    assert!(matches!(parse_feed(FeedKind::NrdArchive, &binary, None, d), Err(FeedError::NotText { .. })));
    // An archive of something else is not sniffed as an NRD archive.
    let other = whoisds_zip(&[("domain-names.txt", "Dear user,\nthis is a letter.\n")]);
    assert_eq!(FeedKind::sniff(&other), None);
    // A missing file is an I/O error naming it.
    let missing =
        parse_feed_file(std::path::Path::new("/nonexistent/2026-11-27.zip"), FeedOptions::default());
    assert!(matches!(missing, Err(FeedError::Io { .. })));
}

#[test]
fn files_of_every_text_format_parse_by_sniffing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, kind) in [
        ("urlhaus.csv", URLHAUS, FeedKind::Urlhaus),
        ("hosts", HOSTS, FeedKind::Hosts),
        ("adblock.txt", ADBLOCK, FeedKind::Adblock),
        ("export.csv", VENDOR_CSV, FeedKind::CategoryCsv),
        ("nrd-2022-06-01.txt", NRD_UNDATED, FeedKind::Nrd),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let f = parse_feed_file(&path, FeedOptions::default()).unwrap();
        assert_eq!(f.kind, kind, "{name}");
        assert!(!f.entries.is_empty(), "{name}");
    }
    // The date in the name dates the undated NRD list.
    let f = parse_feed_file(&dir.path().join("nrd-2022-06-01.txt"), FeedOptions::default()).unwrap();
    assert!(f.entries.iter().all(|e| e.listed_on == date(2022, 6, 1)));
    let junk = dir.path().join("letter.txt");
    std::fs::write(&junk, "Dear user,\nthis is a letter.\n").unwrap();
    assert!(matches!(parse_feed_file(&junk, FeedOptions::default()), Err(FeedError::Unrecognised)));
    let forced = FeedOptions { kind: Some(FeedKind::Domains), ..FeedOptions::default() };
    assert!(parse_feed_file(&junk, forced).is_ok_and(|f| f.entries.is_empty() && !f.skipped.is_empty()));
}
