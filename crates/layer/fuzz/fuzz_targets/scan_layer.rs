//! Any bytes as a layer blob: the walker must return (never panic, hang or blow memory), and a
//! clean result must be consistent with what it reports.
#![no_main]

use hubcensus_layer::{Limits, Walker};
use hubcensus_types::Subject;
use libfuzzer_sys::fuzz_target;

#[path = "../src/ctx.rs"]
mod ctx;
use ctx::ctx;

/// Small limits so the fuzzer explores the limit paths, not the allocator.
fn limits() -> Limits {
    Limits {
        max_layer_bytes: 64 << 20,
        max_entries: 10_000,
        max_file_scan_bytes: 1 << 20,
        layer_timeout_secs: 10,
        ..Limits::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let c = ctx();
    let walker = Walker::new(&c.rules, &c.extractor, limits());
    let scan = walker.scan_layer(data, Subject::Config);
    assert!(scan.compressed_bytes <= data.len() as u64);
    assert!(scan.entries <= 10_000);
    assert!(scan.bytes <= 64 << 20);
    for f in &scan.findings {
        assert!(!f.path.starts_with('/'), "{}", f.path);
        assert!(!f.path.split('/').any(|c| c == ".."), "{}", f.path);
    }
});
