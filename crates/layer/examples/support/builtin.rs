//! What every layer example scans with: the built-in rules and a default indicator extractor.

use std::process::ExitCode;

use hubcensus_intel::{ExtractLimits, IndicatorExtractor};
use hubcensus_rules::RuleSet;

/// The built-in rule set and an extractor with default limits; on a rules error, says so and
/// gives the exit code to return.
pub(crate) fn rules_and_extractor() -> Result<(RuleSet, IndicatorExtractor), ExitCode> {
    match RuleSet::builtin() {
        Ok(rules) => Ok((rules, IndicatorExtractor::new(ExtractLimits::default()))),
        Err(e) => {
            eprintln!("rules: {e}");
            Err(ExitCode::from(2))
        }
    }
}
