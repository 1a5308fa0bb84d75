//! The rules and the extractor every walker target shares, built once per fuzzing process.

use std::sync::OnceLock;

use hubcensus_intel::{ExtractLimits, IndicatorExtractor};
use hubcensus_rules::RuleSet;

pub struct Ctx {
    pub rules: RuleSet,
    pub extractor: IndicatorExtractor,
}

pub fn ctx() -> &'static Ctx {
    static CTX: OnceLock<Ctx> = OnceLock::new();
    CTX.get_or_init(|| Ctx {
        rules: RuleSet::builtin().expect("built-in rules"),
        extractor: IndicatorExtractor::new(ExtractLimits::default()),
    })
}
