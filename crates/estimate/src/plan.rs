//! Precision planning: how wide the interval of a sample of `n` will be, and how big a sample
//! a wanted width needs, for a category at an assumed prevalence.
//!
//! Both use the interval the report will print ([`crate::wilson`] with the finite population
//! correction), evaluated at the prevalence the researcher expects (Sysdig's 2022 rate for
//! cryptomining, 608 of ~250,000 images, is about 0.25%).

use crate::{Estimate, effective_size, wilson_at};

/// The interval a simple random sample of `n` units from a frame of `population` will give
/// around a category at prevalence `p` (Wilson's at `p` itself, not at a rounded count):
/// the point for a census, [0, 1] for an empty sample.
pub fn expected_interval(p: f64, n: u64, population: u64, z: f64) -> Estimate {
    let p = p.clamp(0.0, 1.0);
    if n == 0 {
        return Estimate { estimate: p, low: 0.0, high: 1.0 };
    }
    match effective_size(n, Some(population)) {
        None => Estimate::exact(p),
        Some(effective) => wilson_at(p, effective, z),
    }
}

/// Half the width of the 95%-style interval (normal quantile `z`) a simple random sample of
/// `n` units from a frame of `population` will give for a category at prevalence `p`.
/// 0 for a census (`n ≥ population`); 0.5 for an empty sample.
pub fn half_width(p: f64, n: u64, population: u64, z: f64) -> f64 {
    if n == 0 {
        return 0.5;
    }
    expected_interval(p, n, population, z).half_width()
}

/// The smallest sample size whose interval's half width at prevalence `p` is at most
/// `target`, from a frame of `population` (the whole frame when nothing smaller does).
///
/// The half width falls as `n` grows (the effective size grows with `n`), so a binary search
/// over `1..=population` finds it.
pub fn sample_size_for(target: f64, p: f64, population: u64, z: f64) -> u64 {
    if population == 0 {
        return 0;
    }
    let (mut lo, mut hi) = (1, population);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if half_width(p, mid, population, z) <= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}
