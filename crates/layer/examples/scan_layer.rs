//! Scans layer files with the built-in rules and prints what a census would record, plus the
//! cost of the scan against plain decompression of the same file in the same run.
//!
//! ```text
//! cargo run --release -p hubcensus-layer --example scan_layer -- LAYER.tar.gz [...]
//! tar cf - /usr | cargo run --release -p hubcensus-layer --example scan_layer -- -
//! ```
//!
//! `-` scans standard input once, without the decompress-only pass (a pipe cannot be read twice).
//!
//! For each file: one pass that only decompresses (the floor any scanner pays), then the walker
//! over the same bytes; the ratio of the two is the scan overhead (the design target is at most
//! 1.15 on a gzip layer). Ends with the peak RSS of the process.

#[path = "support/builtin.rs"]
mod builtin;

use std::{
    fs::File,
    io::{self, BufReader, Read},
    process::ExitCode,
    time::Instant,
};

use hubcensus_layer::{Limits, Walker};
use hubcensus_types::{Digest, Subject};

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: scan_layer LAYER [LAYER...]");
        return ExitCode::from(2);
    }
    let (rules, extractor) = match builtin::rules_and_extractor() {
        Ok(parts) => parts,
        Err(code) => return code,
    };
    let walker = Walker::new(&rules, &extractor, Limits::default());
    for path in &paths {
        if let Err(e) = one(&walker, path) {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    }
    println!("peak_rss_mib {:.1}", peak_rss_kib() as f64 / 1024.0);
    ExitCode::SUCCESS
}

fn one(walker: &Walker<'_>, path: &str) -> io::Result<()> {
    let subject = Subject::Layer(Digest::sha256_of(path.as_bytes()));
    let (decompressed, floor, scan, took) = if path == "-" {
        let started = Instant::now();
        let scan = walker.scan_layer(io::stdin().lock(), subject);
        (0, std::time::Duration::ZERO, scan, started.elapsed())
    } else {
        let started = Instant::now();
        let decompressed = decompress_only(path)?;
        let floor = started.elapsed();
        let started = Instant::now();
        let scan = walker.scan_layer(File::open(path)?, subject);
        (decompressed, floor, scan, started.elapsed())
    };

    println!("{path}");
    println!("  compression        {:?}", scan.compression);
    println!("  compressed bytes   {}", scan.compressed_bytes);
    println!("  tar bytes          {} (decompress-only pass: {decompressed})", scan.bytes);
    println!("  entries            {}", scan.entries);
    println!("  truncated files    {}", scan.truncated_files);
    println!("  skipped            {}", scan.skipped_total);
    println!("  whiteouts          {}", scan.whiteouts.len());
    println!("  findings           {}", scan.findings.len());
    println!("  indicators         {} (truncated: {})", scan.indicators.len(), scan.indicators_truncated);
    println!("  error              {:?}", scan.error);
    println!(
        "  decompress only    {:.2} s ({:.0} MB/s of tar)",
        floor.as_secs_f64(),
        mbps(decompressed, floor.as_secs_f64())
    );
    println!(
        "  scan               {:.2} s ({:.0} MB/s of tar)",
        took.as_secs_f64(),
        mbps(scan.bytes, took.as_secs_f64())
    );
    println!("  scan / decompress  {:.2}", took.as_secs_f64() / floor.as_secs_f64());
    let mut by_rule = std::collections::BTreeMap::<&str, usize>::new();
    for f in &scan.findings {
        *by_rule.entry(f.rule.as_str()).or_default() += 1;
    }
    for (rule, n) in by_rule {
        println!("    {rule:<32} {n}");
    }
    Ok(())
}

fn mbps(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}

/// Decompresses with the same backends the walker uses (ISA-L for gzip, zstd), discarding the
/// output.
fn decompress_only(path: &str) -> io::Result<u64> {
    let mut input = BufReader::with_capacity(256 * 1024, File::open(path)?);
    let mut magic = [0u8; 4];
    input.read_exact(&mut magic)?;
    let input = BufReader::with_capacity(256 * 1024, (&magic[..]).chain(input));
    let mut reader: Box<dyn Read> = match magic {
        [0x1f, 0x8b, ..] => Box::new(hubcensus_gzip::GzipDecoder::new(input)),
        [0x28, 0xb5, 0x2f, 0xfd] => Box::new(zstd::stream::read::Decoder::with_buffer(input)?),
        _ => Box::new(input),
    };
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        match reader.read(&mut buf)? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
