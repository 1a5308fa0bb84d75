//! How big the frame really is: a two-source capture–recapture estimate of the repositories
//! discovery could have seen, from what two strategies each saw and what both saw.
//!
//! Docker Hub says how many hits a search has, never how many repositories exist, so coverage
//! of the frame cannot be read off one source. Two sources that each see part of the population
//! (v4 search, a names dump) and overlap by `m` give the classical dual-system estimate:
//!
//! - **Chapman's estimator** (Chapman 1951; Seber 1982, *The Estimation of Animal Abundance*,
//!   eq. 3.7): `N̂ = (n₁ + 1)(n₂ + 1)/(m + 1) − 1`, nearly unbiased when `n₁ + n₂ ≥ N`, and
//!   defined at `m = 0`, unlike Lincoln–Petersen's `n₁n₂/m`.
//! - **Its variance** (Seber 1970; Seber 1982, eq. 3.8):
//!   `V̂ = (n₁ + 1)(n₂ + 1)(n₁ − m)(n₂ − m) / ((m + 1)²(m + 2))`.
//! - **A log-normal interval** (Chao 1987, *Biometrics* 43:783–791; the interval of Rcapture
//!   and CARE): the unseen `f₀ = N̂ − U`, with `U = n₁ + n₂ − m` the repositories observed, is
//!   taken as log-normal, so the interval is `[U + f₀/C, U + f₀·C]` with
//!   `C = exp(z·√ln(1 + V̂/f₀²))`. It never goes below the observed union (a symmetric
//!   `N̂ ± z√V̂` does when `m` is large) and is skewed upwards as the estimate is.
//!
//! One identity keeps the arithmetic honest: `f₀ = N̂ − U = (n₁ − m)(n₂ − m)/(m + 1)`
//! exactly, so the estimate is never below the union, and when one source saw everything the
//! other did (`m = n₁` or `m = n₂`) the estimate, its variance and its interval all collapse to
//! the union.
//!
//! All of this assumes the two sources are **independent** in a closed population with equal
//! catchability: docs/methodology.md says when discovery's sources are not (a namespace crawl
//! follows the namespaces search found) and which way that biases the estimate.

use serde::Serialize;

/// A two-source capture–recapture estimate of a population's size, with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Chapman {
    /// Units the first source saw (`n₁`).
    pub first: u64,
    /// Units the second source saw (`n₂`).
    pub second: u64,
    /// Units both saw (`m`).
    pub both: u64,
    /// Units either saw (`U = n₁ + n₂ − m`): the floor of any estimate.
    pub observed: u64,
    /// Chapman's `N̂`.
    pub estimate: f64,
    /// Seber's variance of `N̂`.
    pub variance: f64,
    /// Lower end of Chao's log-normal interval (never below `observed`).
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Chapman {
    /// The share of the estimated population the sources saw together (`U / N̂`; 1 when the
    /// estimate is the union, 0 when nothing was seen).
    pub fn coverage(&self) -> f64 {
        if self.estimate <= 0.0 { 0.0 } else { (self.observed as f64 / self.estimate).min(1.0) }
    }
}

/// Chapman's estimate of a population seen `n1` and `n2` times by two sources, `m` units by
/// both, with Seber's variance and Chao's log-normal interval at normal quantile `z` (see the
/// module docs for the formulas).
///
/// `None` when the counts cannot come from two sightings of one population (`m` above `n1` or
/// `n2`): a caller's bookkeeping error, reported rather than estimated around.
pub fn chapman(n1: u64, n2: u64, m: u64, z: f64) -> Option<Chapman> {
    if m > n1 || m > n2 {
        return None;
    }
    let (a, b, k) = (n1 as f64, n2 as f64, m as f64);
    let observed = n1 + n2 - m;
    let union = observed as f64;
    let estimate = (a + 1.0) * (b + 1.0) / (k + 1.0) - 1.0;
    let variance = (a + 1.0) * (b + 1.0) * (a - k) * (b - k) / ((k + 1.0).powi(2) * (k + 2.0));
    // f0 = (n1 − m)(n2 − m)/(m + 1), computed from the counts rather than as a difference of
    // two large floats.
    let unseen = (a - k) * (b - k) / (k + 1.0);
    let (low, high) = if unseen <= 0.0 {
        (union, union)
    } else {
        let c = (z * (1.0 + variance / (unseen * unseen)).ln().sqrt()).exp();
        (union + unseen / c, union + unseen * c)
    };
    Some(Chapman { first: n1, second: n2, both: m, observed, estimate, variance, low, high })
}
