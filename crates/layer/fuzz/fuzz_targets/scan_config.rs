//! Any bytes as an image config: a result (possibly with an error), never a panic.
#![no_main]

use hubcensus_layer::{Limits, Walker};
use hubcensus_types::Subject;
use libfuzzer_sys::fuzz_target;

#[path = "../src/ctx.rs"]
mod ctx;
use ctx::ctx;

fuzz_target!(|data: &[u8]| {
    let c = ctx();
    let walker = Walker::new(&c.rules, &c.extractor, Limits::default());
    let scan = walker.scan_config(data);
    assert!(scan.findings.iter().all(|f| f.subject == Subject::Config));
    if scan.error.is_some() {
        assert!(scan.findings.is_empty());
    }
});
