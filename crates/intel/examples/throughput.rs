//! Measures extraction speed over real files and prints what was found.
//!
//! `cargo run --release -p hubcensus-intel --example throughput -- /usr/bin /usr/share/doc`
//! prints MB/s per directory (this thread's CPU time, from /proc/thread-self/stat, so a busy
//! machine does not skew it; `--rounds=N` repeats the extraction for steadier figures) and,
//! with `--dump`, every indicator (kind, value, first path), which is how the bare-name
//! filters in `extract.rs` were checked against real binaries.

use std::{path::Path, time::Instant};

use hubcensus_intel::{ExtractLimits, IndicatorExtractor, IndicatorSet};

#[path = "../../rules/examples/support/cpu_time.rs"]
mod cpu_time;
use cpu_time::cpu_seconds;

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&e.path(), files);
        } else if ft.is_file() {
            files.push(e.path());
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dump = args.iter().any(|a| a == "--dump");
    let rounds: u32 = args.iter().find_map(|a| a.strip_prefix("--rounds=")?.parse().ok()).unwrap_or(1);
    let extractor =
        IndicatorExtractor::new(ExtractLimits { max_indicators: usize::MAX, ..ExtractLimits::default() });
    for dir in args.iter().filter(|a| !a.starts_with("--")) {
        let mut files = Vec::new();
        walk(Path::new(dir), &mut files);
        let blobs: Vec<(String, Vec<u8>)> = files
            .iter()
            .filter_map(|p| std::fs::read(p).ok().map(|b| (p.display().to_string(), b)))
            .collect();
        let bytes: usize = blobs.iter().map(|(_, b)| b.len()).sum();
        let (start, cpu) = (Instant::now(), cpu_seconds());
        let mut set = IndicatorSet::with_cap(usize::MAX);
        for round in 0..rounds {
            if round > 0 {
                // Each round starts from an empty set, as each layer does.
                set = IndicatorSet::with_cap(usize::MAX);
            }
            for (path, data) in &blobs {
                extractor.extract(path, data, &mut set);
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        #[allow(clippy::cast_precision_loss)]
        let mb = bytes as f64 / 1e6 * f64::from(rounds);
        println!(
            "{dir}: {} files, {mb:.1} MB: wall {secs:.2} s, cpu {cpu:.2} s = {:.0} MB/s, {} distinct indicators",
            blobs.len(),
            mb / cpu,
            set.len()
        );
        if dump {
            for (ind, path) in set.into_vec() {
                println!("{}\t{}\t{path}", ind.kind, ind.value);
            }
        }
    }
}
