//! This machine's own files are clean: nothing in its executables, libraries, documentation
//! or certificate store may fire at HIGH confidence. This is the false-positive budget. The one
//! exception is by design: a key generated on this machine at install time (Debian's snakeoil
//! key) is a real private key, reported with `origin = generated_at_build`.

use std::path::Path;

use hubcensus_rules::{FileKind, FileMeta, SNIFF_LEN};
use hubcensus_types::Confidence;

use crate::rules;

/// Bytes read per file: the layer walker scans big files as head + tail windows too.
const MAX_READ: usize = 8 << 20;
/// Bytes scanned per directory tree, to keep the test quick in debug builds.
const BUDGET: u64 = 48 << 20;

fn scan_tree(root: &Path, budget: &mut u64, high: &mut Vec<String>, files: &mut usize) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if *budget == 0 {
            return;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        let rel = path.to_string_lossy().trim_start_matches('/').to_owned();
        if meta.is_dir() {
            scan_tree(&path, budget, high, files);
            continue;
        }
        if !meta.is_file() {
            continue;
        }
        let Ok(mut data) = std::fs::read(&path) else { continue };
        data.truncate(MAX_READ);
        *budget = budget.saturating_sub(data.len() as u64);
        *files += 1;
        let kind = FileKind::sniff(&data[..data.len().min(SNIFF_LEN)]);
        let file = FileMeta { path: &rel, kind, size: meta.len(), executable: false };
        let mut out = Vec::new();
        rules().scan_path(&file, &mut out);
        rules().scan_bytes(&file, &data, &mut out);
        let generated =
            |m: &&hubcensus_rules::Match| m.detail.get("origin").is_some_and(|o| o == "generated_at_build");
        for m in out.iter().filter(|m| m.confidence == Confidence::High && !generated(m)) {
            high.push(format!("{rel}: {} {} {:?}", m.rule, m.preview, m.detail));
        }
    }
}

const ROOTS: [&str; 4] = ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/share/doc", "/etc/ssl"];

fn assert_clean(budget_per_root: u64) {
    let mut high = Vec::new();
    let mut files = 0;
    for root in ROOTS {
        let mut budget = budget_per_root;
        scan_tree(Path::new(root), &mut budget, &mut high, &mut files);
    }
    assert!(files > 100, "scanned only {files} files");
    assert!(high.is_empty(), "{} HIGH matches on clean system files:\n{}", high.len(), high.join("\n"));
}

#[test]
fn nothing_high_fires_on_this_machines_files() {
    assert_clean(BUDGET);
}

/// Every file of the same trees (about 1.5 GB here): run it in release builds,
/// `cargo test --release -p hubcensus-rules -- --ignored`.
#[test]
#[ignore = "slow in debug builds; run with --release -- --ignored"]
fn nothing_high_fires_on_any_of_this_machines_files() {
    assert_clean(u64::MAX);
}
