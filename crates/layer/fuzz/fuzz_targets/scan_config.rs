//! Any bytes as an image config: a result (possibly with an error), never a panic.
#![no_main]

use std::sync::OnceLock;

use hubcensus_intel::{ExtractLimits, IndicatorExtractor};
use hubcensus_layer::{Limits, Walker};
use hubcensus_rules::RuleSet;
use hubcensus_types::Subject;
use libfuzzer_sys::fuzz_target;

struct Ctx {
    rules: RuleSet,
    extractor: IndicatorExtractor,
}

fn ctx() -> &'static Ctx {
    static CTX: OnceLock<Ctx> = OnceLock::new();
    CTX.get_or_init(|| Ctx {
        rules: RuleSet::builtin().expect("built-in rules"),
        extractor: IndicatorExtractor::new(ExtractLimits::default()),
    })
}

fuzz_target!(|data: &[u8]| {
    let c = ctx();
    let walker = Walker::new(&c.rules, &c.extractor, Limits::default());
    let scan = walker.scan_config(data);
    assert!(scan.findings.iter().all(|f| f.subject == Subject::Config));
    if scan.error.is_some() {
        assert!(scan.findings.is_empty());
    }
});
