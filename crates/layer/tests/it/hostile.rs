//! Hostile layers: each ends in a recorded error or a clean result, in bounded time and memory.

use std::{
    io::{self, Read},
    time::{Duration, Instant},
};

use hubcensus_layer::{LayerError, LayerSource, Limits, SkipReason, Skipped};
use hubcensus_types::Compression;

use crate::support::*;

const TEN_GIB: u64 = 10 * 1024 * 1024 * 1024;
/// The walker's memory target for any layer.
const RSS_CEILING: u64 = 256 * 1024 * 1024;

/// AWS credentials, then 10 GiB of one non-zero byte in one file: the tar stream is generated
/// on demand and compressed while the walker reads it, so neither side ever holds the layer.
fn bomb_tar() -> impl Read {
    let before = Tar::new().file("root/.aws/credentials", AWS_CREDENTIALS).bytes();
    // Without its end marker, so the bomb's entry follows.
    io::Cursor::new(before[..before.len() - 1024].to_vec()).chain(big_entry_then(
        "bomb",
        TEN_GIB,
        b'A',
        Tar::new(),
    ))
}

fn gzip_bomb() -> impl Read {
    flate2::read::GzEncoder::new(bomb_tar(), flate2::Compression::best())
}

fn zstd_bomb() -> impl Read {
    zstd::stream::read::Encoder::new(bomb_tar(), 3).unwrap()
}

/// The layer's own stream breaks the ratio with non-zero content: it cannot be walked past.
fn assert_bomb_keeping_what_came_before(scan: &hubcensus_layer::LayerScan) {
    assert!(matches!(scan.error, Some(LayerError::Bomb { limit: 200, .. })), "{:?}", scan.error);
    assert!(scan.bytes < 64 * 1024 * 1024, "stopped early, read {} bytes", scan.bytes);
    assert!(has(scan, "aws_access_key_id", "root/.aws/credentials"), "{:?}", hits(scan));
}

#[test]
fn gzip_bomb_ends_as_a_bomb_quickly() {
    let started = Instant::now();
    let scan = walker(Limits::default()).scan_layer(gzip_bomb(), subject());
    assert_eq!(scan.compression, Compression::Gzip);
    assert_bomb_keeping_what_came_before(&scan);
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
}

#[test]
fn zstd_bomb_ends_as_a_bomb_quickly() {
    let started = Instant::now();
    let scan = walker(Limits::default()).scan_layer(zstd_bomb(), subject());
    assert_eq!(scan.compression, Compression::Zstd);
    assert_bomb_keeping_what_came_before(&scan);
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
}

#[test]
fn zeros_sprinkled_with_one_byte_a_page_are_still_a_bomb() {
    // Zero runs are exempt from the ratio by whole 4 KiB blocks, so a byte in each block keeps
    // every byte counted: this deflates about as far as zeros do, and is a bomb.
    let page: Vec<u8> = (0..4096).map(|i| u8::from(i == 1000)).collect();
    let content = io::Cursor::new(page.repeat(64 << 8));
    let tar = io::Cursor::new(header("sprinkled", 64 << 20)).chain(content).chain(io::repeat(0).take(1024));
    let layer = gzip_stream(tar);
    let scan = scan(&layer);
    assert!(
        matches!(scan.error, Some(LayerError::Bomb { .. })),
        "{:?} ({} compressed bytes)",
        scan.error,
        layer.len()
    );
}

/// A tar of `size` zeros (a multiple of 64 MiB) in one file, then a miner config, as
/// concatenated gzip members (as pigz and eStargz write them): one 64 MiB member of zeros is
/// compressed once and repeated, so a 10 GiB layer costs 10 MB and no compression time.
fn gzip_zeros(size: u64) -> impl Read {
    const MEMBER: u64 = 64 << 20;
    let member = gzip(&vec![0u8; MEMBER as usize]);
    let head = gzip(&header("var/log/lastlog", size));
    let tail = gzip(&Tar::new().file("etc/xmrig/config.json", XMRIG_CONFIG).bytes());
    let count = usize::try_from(size / MEMBER).unwrap();
    io::Cursor::new(head).chain(io::Cursor::new(member.repeat(count))).chain(io::Cursor::new(tail))
}

#[test]
fn ten_gib_of_zeros_end_at_the_size_cap_not_as_a_bomb() {
    // Zeros are no bomb, but they are bytes: the absolute cap still ends a layer that makes
    // the scanner decompress more than it allows. 2 GiB here, to keep the test short.
    let limits = Limits { max_layer_bytes: 2 << 30, ..Limits::default() };
    let started = Instant::now();
    let scan = walker(limits).scan_layer(gzip_zeros(TEN_GIB), subject());
    assert_eq!(scan.error, Some(LayerError::TooLarge { limit: 2 << 30 }));
    assert!(scan.bytes <= 2 << 30);
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    // Under the cap, the same zeros are walked past and what follows them is found.
    let scan = walker(Limits::default()).scan_layer(gzip_zeros(1 << 30), subject());
    assert_eq!(scan.error, None);
    assert!(has(&scan, "miner_config", "etc/xmrig/config.json"), "{:?}", hits(&scan));
}

#[test]
fn a_bomb_in_a_compressed_single_file_is_cut_and_recorded_and_the_walk_goes_on() {
    let text = b"the same line of text, again and again\n".repeat(8 << 20);
    let bomb = zstd(&text);
    drop(text);
    let layer = Tar::new()
        .file("root/.aws/credentials", AWS_CREDENTIALS)
        .file("opt/data.zst", &bomb)
        .file("etc/xmrig/config.json", XMRIG_CONFIG)
        .bytes();
    let started = Instant::now();
    let scan = scan(&layer);
    assert_eq!(scan.error, None, "a bomb inside one file does not end the layer");
    assert!(has(&scan, "aws_access_key_id", "root/.aws/credentials"), "{:?}", hits(&scan));
    assert!(has(&scan, "miner_config", "etc/xmrig/config.json"), "{:?}", hits(&scan));
    assert!(
        matches!(&scan.skipped[..], [s] if s.path == "opt/data.zst"
            && matches!(s.reason, SkipReason::Bomb { limit: 200, compressed, .. } if compressed == bomb.len() as u64)),
        "{:?}",
        scan.skipped
    );
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
}

#[test]
fn a_bomb_in_a_nested_tar_gz_is_cut_keeping_the_entries_before_it() {
    // The credentials, then 1 GiB of one byte: about 1 MB of gzip.
    let creds = Tar::new().file("conf/credentials", AWS_CREDENTIALS).bytes();
    let tar = io::Cursor::new(creds[..creds.len() - 1024].to_vec()).chain(big_entry_then(
        "bomb",
        1 << 30,
        b'z',
        Tar::new(),
    ));
    let inner = gzip_stream(tar);
    let layer =
        gzip(&Tar::new().file("srv/backup.tgz", &inner).file("etc/xmrig/config.json", XMRIG_CONFIG).bytes());
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(has(&scan, "aws_access_key_id", "srv/backup.tgz!/conf/credentials"), "{:?}", hits(&scan));
    assert!(has(&scan, "miner_config", "etc/xmrig/config.json"), "{:?}", hits(&scan));
    assert!(
        matches!(&scan.skipped[..], [s] if s.path == "srv/backup.tgz" && matches!(s.reason, SkipReason::Bomb { .. })),
        "{:?}",
        scan.skipped
    );
}

#[test]
#[ignore = "run by bombs_stay_within_the_memory_target in a child process"]
fn child_bombs() {
    let w = walker(Limits::default());
    let a = w.scan_layer(gzip_bomb(), subject());
    assert!(matches!(a.error, Some(LayerError::Bomb { .. })));
    println!("\ngzip_peak_rss={}", peak_rss().unwrap_or(0));
    let b = w.scan_layer(zstd_bomb(), subject());
    assert!(matches!(b.error, Some(LayerError::Bomb { .. })));
    let c = w.scan_layer(gzip_zeros(1 << 30), subject());
    assert_eq!(c.error, None);
    println!("\npeak_rss={}", peak_rss().unwrap_or(0));
}

#[test]
fn bombs_stay_within_the_memory_target() {
    if peak_rss().is_none() {
        return; // no /proc: not Linux
    }
    let out = run_child("hostile::child_bombs");
    let rss = child_value(&out, "peak_rss");
    assert!(rss > 0 && rss < RSS_CEILING, "peak RSS {rss} bytes");
}

#[test]
fn a_layer_too_large_ends_as_too_large() {
    // Plain tar (ratio 1): only the size limit can stop it.
    let tar = io::Cursor::new(header("big", TEN_GIB)).chain(io::repeat(7).take(TEN_GIB));
    let limits = Limits { max_layer_bytes: 8 << 20, max_file_scan_bytes: 1 << 20, ..Limits::default() };
    let scan = walker(limits).scan_layer(tar, subject());
    assert_eq!(scan.error, Some(LayerError::TooLarge { limit: 8 << 20 }));
    assert_eq!(scan.compression, Compression::None);
}

#[test]
fn traversal_and_absolute_names_are_recorded_normalised() {
    let layer = Tar::new()
        .raw_file(
            b"../../etc/cron.d/miner",
            b"* * * * * root ./xmrig --donate-level 1 -o stratum+tcp://pool.minexmr.com:4444\n",
        )
        .raw_file(b"/root/.aws/credentials", AWS_CREDENTIALS)
        .bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(has(&scan, "stratum_url", "etc/cron.d/miner"), "{:?}", hits(&scan));
    assert!(has(&scan, "aws_access_key_id", "root/.aws/credentials"), "{:?}", hits(&scan));
    assert!(scan.findings.iter().all(|f| !f.path.starts_with('/') && !f.path.contains("..")));
}

#[test]
fn many_tiny_entries_hit_the_entry_limit() {
    let started = Instant::now();
    let scan = walker(Limits::default()).scan_layer(ManyEntries::new(1_000_001), subject());
    assert_eq!(scan.error, Some(LayerError::TooManyEntries { limit: 1_000_000 }));
    assert_eq!(scan.entries, 1_000_000);
    assert!(started.elapsed() < Duration::from_secs(300), "{:?}", started.elapsed());
}

#[test]
fn entries_up_to_the_limit_scan_clean() {
    // Exactly at the limit is allowed; the whole stream (end marker included) is read.
    let limits = Limits { max_entries: 100_000, ..Limits::default() };
    let scan = walker(limits).scan_layer(ManyEntries::new(100_000), subject());
    assert_eq!(scan.error, None);
    assert_eq!(scan.entries, 100_000);
    assert_eq!(scan.bytes, 100_000 * 512 + 1024);
}

#[test]
fn a_truncated_gzip_stream_is_truncated() {
    let layer = Tar::new().file("etc/a", &[b'a'; 100_000]).file("etc/b", AWS_CREDENTIALS).bytes();
    let gz = gzip(&layer);
    for cut in [gz.len() / 2, gz.len() - 4, 11] {
        let scan = scan(&gz[..cut]);
        assert_eq!(scan.error, Some(LayerError::Truncated), "cut at {cut}");
        assert_eq!(scan.compression, Compression::Gzip);
    }
}

#[test]
fn a_truncated_plain_tar_is_truncated() {
    let layer = Tar::new().file("etc/a", &[b'a'; 10_000]).bytes();
    for cut in [700, 3000, 100] {
        assert_eq!(scan(&layer[..cut]).error, Some(LayerError::Truncated), "cut at {cut}");
    }
}

#[test]
fn a_corrupt_tar_header_is_corrupt_and_keeps_earlier_findings() {
    let mut layer = Tar::new().file("root/.aws/credentials", AWS_CREDENTIALS).file("etc/b", b"x").bytes();
    // The second header starts after the first header and its one data block.
    layer[1024 + 10] ^= 0x55;
    let scan = scan(&layer);
    assert!(
        matches!(&scan.error, Some(LayerError::Corrupt(m)) if m.contains("checksum")),
        "{:?}",
        scan.error
    );
    assert!(has(&scan, "aws_access_key_id", "root/.aws/credentials"));
}

#[test]
fn corrupt_compressed_streams_are_corrupt() {
    let mut gz = gzip(&Tar::new().file("a", &[1u8; 50_000]).bytes());
    let mid = gz.len() / 2;
    gz[mid..mid + 16].fill(0xff);
    assert!(matches!(scan(&gz).error, Some(LayerError::Corrupt(_))), "{:?}", scan(&gz).error);
    let mut zst = zstd(&Tar::new().file("a", &[1u8; 50_000]).bytes());
    let mid = zst.len() / 2;
    zst[mid..].fill(0xaa);
    assert!(matches!(scan(&zst).error, Some(LayerError::Corrupt(_) | LayerError::Truncated)));
    assert!(matches!(scan(b"\xfd7zXZ\x00\x00rest").error, Some(LayerError::Corrupt(m)) if m.contains("xz")));
    assert!(matches!(scan(&[0x42u8; 2048]).error, Some(LayerError::Corrupt(_))));
}

#[test]
fn a_zstd_frame_checksum_is_checked_unless_the_caller_checks_a_digest() {
    let (_, zst) = hubcensus_testkit::layer::zstd_changed_in_content();
    // A bare layer: the frame's checksum is the only check of its content.
    let bare = scan(&zst);
    assert!(
        matches!(&bare.error, Some(LayerError::Corrupt(m)) if m.to_lowercase().contains("checksum")),
        "{:?}",
        bare.error
    );
    // A layer whose digest the caller checks (every layer of a manifest): the digest fails, so
    // the frame checksum is not computed a second time over the same bytes.
    let known = LayerSource { declared: None, digest_checked: true };
    let checked = walker(Limits::default()).scan_layer_from(&zst[..], subject(), known);
    assert_eq!(checked.error, None);
    assert_eq!(checked.entries, 1);
}

#[test]
fn non_utf8_names_are_kept_lossily() {
    let layer = Tar::new().raw_file(b"root/.aws/cr\xe9dentials\xff", AWS_CREDENTIALS).bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(has(&scan, "aws_access_key_id", "root/.aws/cr\u{fffd}dentials\u{fffd}"), "{:?}", hits(&scan));
}

#[test]
fn symlink_loops_are_not_followed() {
    let layer = Tar::new()
        .symlink("a", "b")
        .symlink("b", "a")
        .symlink("loop", ".")
        .hardlink("h", "h")
        .device("dev/null")
        .file("etc/ok", b"ok")
        .bytes();
    let started = Instant::now();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert_eq!(scan.entries, 6);
    assert!(scan.findings.is_empty(), "{:?}", hits(&scan));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_empty_layer_is_clean() {
    let scan = scan(b"");
    assert_eq!(scan.error, None);
    assert_eq!((scan.entries, scan.bytes, scan.compressed_bytes), (0, 0, 0));
    assert_eq!(scan.compression, Compression::None);
    // An empty tar (just the end marker), compressed, is clean too.
    let scan = crate::support::scan(&gzip(&[0u8; 1024]));
    assert_eq!((scan.error, scan.entries, scan.bytes), (None, 0, 1024));
}

#[test]
fn nesting_beyond_the_limit_is_scanned_as_bytes_and_recorded() {
    let inner = Tar::new().file("creds", AWS_CREDENTIALS).bytes();
    let level2 = Tar::new().file("l3.tar", &inner).bytes();
    let level1 = Tar::new().file("l2.tar", &level2).bytes();
    let layer = Tar::new().file("l1.tar", &level1).bytes();
    let scan = scan_with(&layer, Limits { nested_archive_depth: 2, ..Limits::default() });
    assert_eq!(scan.error, None);
    // l1.tar and l2.tar are entered; l3.tar is two levels deep already, so it is read as bytes.
    assert!(has(&scan, "aws_access_key_id", "l1.tar!/l2.tar!/l3.tar"), "{:?}", hits(&scan));
    assert!(
        scan.skipped.iter().any(|s| s.path == "l1.tar!/l2.tar!/l3.tar" && s.reason == SkipReason::TooDeep)
    );
    let flat = scan_with(&layer, Limits { nested_archive_depth: 3, ..Limits::default() });
    assert!(has(&flat, "aws_access_key_id", "l1.tar!/l2.tar!/l3.tar!/creds"), "{:?}", hits(&flat));
}

/// A jar of one 512 MiB member of `fill` bytes, then the AWS credentials.
fn zip_bomb(fill: u8) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    w.start_file("bomb.bin", opts).unwrap();
    let chunk = vec![fill; 1 << 20];
    for _ in 0..512 {
        io::Write::write_all(&mut w, &chunk).unwrap();
    }
    w.start_file("creds", opts).unwrap();
    io::Write::write_all(&mut w, AWS_CREDENTIALS).unwrap();
    w.finish().unwrap().into_inner()
}

#[test]
fn a_zip_bomb_member_is_cut_and_its_siblings_and_the_layer_go_on() {
    // 512 MiB of one byte deflate to about 0.5 MiB: a ratio of a thousand for that member.
    let bomb = zip_bomb(b'A');
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    let layer =
        gzip(&Tar::new().file("app/bomb.jar", &bomb).file("etc/xmrig/config.json", XMRIG_CONFIG).bytes());
    let started = Instant::now();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(
        matches!(&scan.skipped[..], [s] if s.path == "app/bomb.jar!/bomb.bin" && matches!(s.reason, SkipReason::Bomb { .. })),
        "{:?}",
        scan.skipped
    );
    assert!(has(&scan, "aws_access_key_id", "app/bomb.jar!/creds"), "{:?}", hits(&scan));
    assert!(has(&scan, "miner_config", "etc/xmrig/config.json"), "{:?}", hits(&scan));
    assert!(started.elapsed() < Duration::from_secs(60));
    // The same member of zeros is no bomb: it is read through, found empty and recorded.
    let scan = crate::support::scan(&gzip(&Tar::new().file("app/zeros.jar", &zip_bomb(0)).bytes()));
    assert_eq!(scan.error, None);
    assert!(
        matches!(&scan.skipped[..], [s] if s.path == "app/zeros.jar!/bomb.bin"
            && s.reason == SkipReason::ZeroFilled { bytes: 512 << 20 }),
        "{:?}",
        scan.skipped
    );
    assert!(has(&scan, "aws_access_key_id", "app/zeros.jar!/creds"), "{:?}", hits(&scan));
}

#[test]
fn long_names_beyond_the_limit_are_cut_and_recorded() {
    let long = format!("d/{}", "x".repeat(5000));
    let layer = Tar::new()
        .file("root/.aws/credentials", AWS_CREDENTIALS)
        .file(&long, AWS_CREDENTIALS)
        .pax_path(&long)
        .file("short", XMRIG_CONFIG)
        .file("etc/after", AWS_CREDENTIALS)
        .bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None, "a long name does not end the layer");
    // A GNU long name that long is not read: the entry keeps its header's 100 bytes.
    let header_name = &long[..100];
    // A pax path is cut to the limit.
    let cut = &long[..4096];
    assert_eq!(
        scan.skipped,
        [
            Skipped { path: header_name.into(), reason: SkipReason::PathTooLong { len: 5002, limit: 4096 } },
            Skipped { path: cut.into(), reason: SkipReason::PathTooLong { len: 5002, limit: 4096 } },
        ]
    );
    assert!(has(&scan, "aws_access_key_id", header_name), "{:?}", hits(&scan));
    assert!(has(&scan, "miner_config", cut), "{:?}", hits(&scan));
    assert!(has(&scan, "aws_access_key_id", "etc/after"), "{:?}", hits(&scan));
}

#[test]
fn the_wall_clock_limit_ends_a_slow_layer() {
    struct Slow(usize);
    impl Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            std::thread::sleep(Duration::from_millis(20));
            self.0 += 1;
            let n = buf.len().min(512);
            buf[..n].fill(0x61);
            Ok(n)
        }
    }
    let limits = Limits { layer_timeout_secs: 1, ..Limits::default() };
    let started = Instant::now();
    let mut source = io::Cursor::new(header("slow", 1 << 30)).chain(Slow(0));
    let scan = walker(limits).scan_layer(&mut source, subject());
    assert_eq!(scan.error, Some(LayerError::Timeout { limit_secs: 1 }));
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn a_failing_source_is_io_and_retryable() {
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(0);
            self.0 -= n;
            Ok(n)
        }
    }
    let gz = gzip(&Tar::new().file("a", &[9u8; 100_000]).bytes());
    let mut source = io::Cursor::new(gz[..gz.len() / 2].to_vec()).chain(Broken(0));
    let scan = walker(Limits::default()).scan_layer(&mut source, subject());
    let err = scan.error.unwrap();
    assert_eq!(err, LayerError::Io("connection reset by peer".into()));
    assert!(err.should_retry());
}

#[test]
fn a_damaged_zip_member_is_recorded_and_its_siblings_are_scanned() {
    let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let deflated =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let text: Vec<u8> = (0..5_000u32).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
    w.start_file("a/first.txt", deflated).unwrap();
    io::Write::write_all(&mut w, &text).unwrap();
    w.start_file("b/stored-creds", stored).unwrap();
    io::Write::write_all(&mut w, AWS_CREDENTIALS).unwrap();
    w.start_file("c/deflated-creds", deflated).unwrap();
    io::Write::write_all(&mut w, AWS_CREDENTIALS).unwrap();
    let mut jar = w.finish().unwrap().into_inner();
    // The first member's deflate data starts after its 30-byte local header and its name;
    // 0xff bytes there are an invalid block header to every inflater.
    let data = 30 + "a/first.txt".len();
    jar[data..data + 16].fill(0xff);
    let scan = scan(&gzip(&Tar::new().file("lib/app.jar", &jar).bytes()));
    assert_eq!(scan.error, None);
    assert!(
        matches!(&scan.skipped[..], [s] if s.path == "lib/app.jar!/a/first.txt"
            && matches!(&s.reason, SkipReason::Unreadable(why) if why.contains("deflate"))),
        "{:?}",
        scan.skipped
    );
    assert!(has(&scan, "aws_access_key_id", "lib/app.jar!/b/stored-creds"), "{:?}", hits(&scan));
    assert!(has(&scan, "aws_access_key_id", "lib/app.jar!/c/deflated-creds"), "{:?}", hits(&scan));
}
