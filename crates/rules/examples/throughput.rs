//! Measures `scan_bytes` throughput over real files, one core.
//!
//! ```sh
//! cargo run --release -p hubcensus-rules --example throughput -- /usr/bin /usr/share --rounds=3
//! ```
//!
//! Files are read into memory first (up to 1 GiB in total, at most 64 MiB each) so the figure
//! is the matcher's alone, not the disk's. Time is this thread's CPU time (from
//! /proc/thread-self/stat), so other processes on a busy machine do not skew it; a memchr pass
//! over the same bytes is printed beside it as a yardstick. Files are grouped by kind and
//! scanned `--rounds` times (default 1) for steadier figures. It prints the rule set's build
//! time, CPU MB/s per file kind and overall, and every match at medium or high confidence so
//! noisy rules show up.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Instant,
};

use hubcensus_rules::{FileKind, FileMeta, RuleSet};
use hubcensus_types::Confidence;

#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::cpu_seconds;

const BUDGET: u64 = 1 << 30;
/// Files of one kind: path and content.
type Files<'a> = Vec<(&'a str, &'a [u8])>;
const MAX_FILE: u64 = 64 << 20;

fn walk(dir: &Path, files: &mut Vec<PathBuf>, total: &mut u64) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if *total >= BUDGET {
            return;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            walk(&path, files, total);
        } else if meta.is_file() && meta.len() <= MAX_FILE {
            *total += meta.len();
            files.push(path);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: u32 = args.iter().find_map(|a| a.strip_prefix("--rounds=")?.parse().ok()).unwrap_or(1);
    let dirs: Vec<PathBuf> = args.iter().filter(|a| !a.starts_with("--")).map(PathBuf::from).collect();
    let (t, c) = (Instant::now(), cpu_seconds());
    let rules = RuleSet::builtin()?;
    println!("RuleSet::builtin: wall {:.3} s, cpu {:.2} s", t.elapsed().as_secs_f64(), cpu_seconds() - c);
    println!("{} rules, {}", rules.rules().count(), rules.version());
    for kind in FileKind::ALL {
        println!("prefilter anchors for {:12} {:?}", kind.as_str(), rules.prefilter_anchors(kind));
    }
    let (mut paths, mut total) = (Vec::new(), 0);
    for d in &dirs {
        walk(d, &mut paths, &mut total);
    }
    let files: Vec<(String, Vec<u8>)> = paths
        .iter()
        .filter_map(|p| {
            Some((p.to_string_lossy().trim_start_matches('/').to_owned(), std::fs::read(p).ok()?))
        })
        .collect();
    let bytes: u64 = files.iter().map(|(_, d)| d.len() as u64).sum();
    let (t, c) = (Instant::now(), cpu_seconds());
    let newlines: usize = files.iter().map(|(_, d)| memchr::memchr_iter(b'\n', d).count()).sum();
    let (memchr_wall, memchr_cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    // Files grouped by kind, so each kind's CPU time is read twice per round, not per file.
    let mut by_kind: BTreeMap<&str, (FileKind, Files<'_>)> = BTreeMap::new();
    for (path, data) in &files {
        let kind = FileKind::sniff(data);
        by_kind.entry(kind.as_str()).or_insert_with(|| (kind, Vec::new())).1.push((path, data));
    }
    let mut per_kind: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    let mut found = Vec::new();
    let mut matches = 0;
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    for round in 0..rounds {
        for (name, (kind, list)) in &by_kind {
            let c = cpu_seconds();
            for &(path, data) in list {
                let kind = *kind;
                let file = FileMeta { path, kind, size: data.len() as u64, executable: false };
                found.clear();
                rules.scan_path(&file, &mut found);
                rules.scan_bytes(&file, data, &mut found);
                if round == 0 {
                    matches += found.len();
                    for m in found.iter().filter(|m| m.confidence >= Confidence::Medium) {
                        println!("{:6} {:28} {path}: {}", m.confidence.as_str(), m.rule, m.preview);
                    }
                }
            }
            let e = per_kind.entry(name).or_default();
            e.0 += list.iter().map(|(_, d)| d.len() as u64).sum::<u64>();
            e.1 += cpu_seconds() - c;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_started;
    for (kind, (b, s)) in &per_kind {
        println!(
            "{kind:12} {:>8.1} MB in {s:6.2} s cpu = {:>7.0} MB/s",
            *b as f64 / 1e6,
            *b as f64 / 1e6 / s
        );
    }
    let mb = bytes as f64 / 1e6 * f64::from(rounds);
    println!(
        "total        {mb:>8.1} MB: wall {secs:6.3} s = {:>6.0} MB/s; cpu {cpu:6.2} s = {:>6.0} MB/s; {} files, {} matches",
        mb / secs,
        mb / cpu,
        files.len(),
        matches
    );
    println!(
        "memchr('\\n') yardstick: wall {memchr_wall:6.3} s = {:>6.0} MB/s; cpu {memchr_cpu:6.2} s ({newlines} lines)",
        bytes as f64 / 1e6 / memchr_wall
    );
    Ok(())
}
