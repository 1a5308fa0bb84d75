//! Integration tests of hubcensus-intel: one binary, a module per concern.

// Test helpers unwrap too: a panic there is the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod caps;
mod extraction;
mod feeds;
mod matching;
mod samples;
mod sniffing;
mod typosquat;

use hubcensus_intel::{ExtractLimits, IndicatorExtractor, IndicatorSet};

/// Every indicator found in `data`, as `kind=value`, sorted.
pub(crate) fn found(data: &[u8]) -> Vec<String> {
    let x = IndicatorExtractor::new(ExtractLimits::default());
    let mut set = IndicatorSet::default();
    x.extract("p", data, &mut set);
    set.into_vec().into_iter().map(|(i, _)| format!("{}={}", i.kind, i.value)).collect()
}
