//! Files of zeros (sparse files stored plainly, like a high uid's `lastlog`): they cost neither
//! the compression ratio nor matching, are recorded, and never hide what comes after them.

use std::io::{self, Read};

use hubcensus_layer::{LayerScan, Limits, SkipReason};
use hubcensus_types::Compression;

use crate::{cpu_time::cpu_seconds_in, support::*};

const GIB: u64 = 1 << 30;
/// `struct lastlog` on Linux: a 32-bit time, a 32-byte line and a 256-byte host.
const LASTLOG_RECORD: u64 = 4 + 32 + 256;
const CONFIG_PATH: &str = "etc/xmrig/config.json";

fn miner_after() -> Tar {
    Tar::new().file(CONFIG_PATH, XMRIG_CONFIG)
}

/// The miner config behind the zeros was found, as everything XMRig's config gives away.
fn assert_miner_found(scan: &LayerScan) {
    for rule in ["miner_config", "monero_wallet", "stratum_url"] {
        assert!(has(scan, rule, CONFIG_PATH), "{rule} missing: {:?}", hits(scan));
    }
}

fn zero_filled(scan: &LayerScan) -> Vec<(&str, u64)> {
    scan.skipped
        .iter()
        .filter_map(|s| match s.reason {
            SkipReason::ZeroFilled { bytes } => Some((s.path.as_str(), bytes)),
            _ => None,
        })
        .collect()
}

/// 1 GiB of zeros in `var/log/lastlog`, then a miner config: compressed, then scanned with
/// this process's CPU time measured around the scan alone.
fn scan_a_gib_of_zeros(compress: fn(Box<dyn Read>) -> Vec<u8>) {
    let layer = compress(Box::new(big_entry_then("var/log/lastlog", GIB, 0, miner_after())));
    let w = walker(Limits::default());
    let before = cpu_seconds_in("/proc/self/stat");
    let scan = w.scan_layer(&layer[..], subject());
    let cpu = cpu_seconds_in("/proc/self/stat") - before;
    assert_eq!(scan.error, None, "the layer completes");
    assert_miner_found(&scan);
    assert_eq!(zero_filled(&scan), [("var/log/lastlog", GIB)], "{:?}", scan.skipped);
    assert_eq!(scan.truncated_files, 0, "a file of zeros is not a truncated file");
    assert!(scan.bytes > GIB);
    println!("\ncompressed={}\ncpu_ms={:.0}", layer.len(), cpu * 1000.0);
}

#[test]
#[ignore = "run by a_gib_of_zeros_hides_nothing_and_costs_little in a child process"]
fn child_gib_of_zeros_gzip() {
    scan_a_gib_of_zeros(gzip_stream);
}

#[test]
#[ignore = "run by a_gib_of_zeros_hides_nothing_and_costs_little in a child process"]
fn child_gib_of_zeros_zstd() {
    scan_a_gib_of_zeros(zstd_stream);
}

/// CPU time of scanning a 1 GiB file of zeros and what follows it, in a child process so the
/// figure is the scan's alone (the layer is compressed there first, outside the measurement).
/// Target: under 2 s on one core, in the test profile (the walker unoptimised, its decoders and
/// `memcmp` optimised).
#[test]
fn a_gib_of_zeros_hides_nothing_and_costs_little() {
    if peak_rss().is_none() {
        return; // no /proc: not Linux
    }
    for (name, max_compressed) in
        [("zeros::child_gib_of_zeros_gzip", 2 << 20), ("zeros::child_gib_of_zeros_zstd", 1 << 20)]
    {
        let out = run_child(name);
        let compressed = child_value(&out, "compressed");
        let cpu_ms = child_value(&out, "cpu_ms");
        eprintln!("{name}: {compressed} compressed bytes, {cpu_ms} ms of CPU");
        assert!(compressed < max_compressed, "{name}: a layer of {compressed} bytes");
        assert!(cpu_ms < 2000, "{name}: {cpu_ms} ms of CPU for 1 GiB of zeros");
    }
}

/// `/var/log/lastlog` as `useradd -u UID` leaves it in an image: one record per uid up to UID,
/// stored by the tar as plain zeros, except for the records written since (`last`, optional).
fn lastlog(uid: u64, last: Option<&[u8]>) -> (u64, Box<dyn Read>) {
    let size = LASTLOG_RECORD * (uid + 1);
    let zeros = fill(0, size - last.map_or(0, |_| LASTLOG_RECORD));
    let record = last.map(|host| {
        let mut r = vec![0u8; LASTLOG_RECORD as usize];
        r[..4].copy_from_slice(&1_700_000_000u32.to_le_bytes());
        r[4..9].copy_from_slice(b"pts/0");
        r[36..36 + host.len()].copy_from_slice(host);
        r
    });
    (size, Box::new(zeros.chain(io::Cursor::new(record.unwrap_or_default()))))
}

fn layer_with_lastlog(uid: u64, last: Option<&[u8]>) -> Vec<u8> {
    let (size, content) = lastlog(uid, last);
    let stream = io::Cursor::new(header("var/log/lastlog", size))
        .chain(content)
        .chain(io::Cursor::new(padding(size)))
        .chain(io::Cursor::new(miner_after().bytes()));
    gzip_stream(stream)
}

#[test]
fn a_lastlog_of_a_high_uid_hides_nothing() {
    // 700,000 × 292 bytes: about 195 MiB, a thousandfold deflated.
    let uid = 700_000;
    let size = LASTLOG_RECORD * (uid + 1);
    let layer = layer_with_lastlog(uid, None);
    assert!((layer.len() as u64) < size / 500, "{} compressed bytes", layer.len());
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert_eq!(scan.compression, Compression::Gzip);
    assert_miner_found(&scan);
    assert_eq!(zero_filled(&scan), [("var/log/lastlog", size)], "{:?}", scan.skipped);
    assert!(!scan.findings.iter().any(|f| f.path == "var/log/lastlog"), "{:?}", hits(&scan));

    // The uid logged in once since: its record is the file's last 292 bytes. Not zero-filled
    // any more, and the host in that record is read like any other content.
    let layer = layer_with_lastlog(uid, Some(b"evil-updates.duckdns.org"));
    let scan = crate::support::scan(&layer);
    assert_eq!(scan.error, None);
    assert_miner_found(&scan);
    assert_eq!(zero_filled(&scan), [], "{:?}", scan.skipped);
    assert_eq!(scan.truncated_files, 1, "bigger than the file budget: head and tail");
    assert!(
        scan.indicators.iter().any(|(i, p)| i.value == "evil-updates.duckdns.org" && p == "var/log/lastlog"),
        "{:?}",
        scan.indicators
    );
}

#[test]
fn small_files_of_zeros_are_not_recorded() {
    let layer = Tar::new()
        .file("var/log/faillog", &[0u8; 32 * 1001])
        .file("var/log/empty", b"")
        .file("etc/xmrig/config.json", XMRIG_CONFIG)
        .bytes();
    let scan = scan(&gzip(&layer));
    assert_eq!(scan.error, None);
    assert_miner_found(&scan);
    assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
}

#[test]
fn zeros_in_a_compressed_file_or_a_zip_member_are_recorded_where_they_lie() {
    let zeros = vec![0u8; 64 << 20];
    let gz = gzip(&zeros);
    let jar = zip(&[("lib/zeros.bin", &zeros), ("config.json", XMRIG_CONFIG)]);
    drop(zeros);
    let layer = Tar::new().file("opt/image.img.gz", &gz).file("app/app.jar", &jar).bytes();
    let scan = scan(&layer);
    assert_eq!(scan.error, None);
    assert!(has(&scan, "miner_config", "app/app.jar!/config.json"), "{:?}", hits(&scan));
    assert_eq!(
        zero_filled(&scan),
        [("opt/image.img.gz", 64 << 20), ("app/app.jar!/lib/zeros.bin", 64 << 20)],
        "{:?}",
        scan.skipped
    );
}
