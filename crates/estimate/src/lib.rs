//! What a sample says about the whole frame: design-based estimates with 95% intervals.
//!
//! A census of every kept repository is out of reach for almost every researcher (Docker Hub's
//! pull quota), so what they run is a sample; the report must then say what it estimates for
//! the frame and how uncertain that is. This crate is that arithmetic, kept apart from SQL and
//! rendering so that it can be checked against published worked examples:
//!
//! - [`wilson`]: a simple random sample without replacement of `n` units out of `N`, `x` of
//!   them in the category. The Wilson score interval (Wilson 1927; Newcombe 1998, method 3)
//!   with the finite population correction applied through the effective sample size
//!   `n* = n (N − 1) / (N − n)`: the variance of a proportion under sampling without
//!   replacement is `(1 − f)·p(1 − p)/n` with `1 − f ≈ (N − n)/(N − 1)`, which is the binomial
//!   variance of a sample of `n*`. When `n = N` (a census) `n*` is infinite and the interval is
//!   the observed proportion itself. Wilson's interval stays inside [0, 1] and keeps its
//!   coverage near 0 and 1, where the prevalences of this study live (0.1–0.3%).
//! - [`stratified`]: strata sampled independently (by pull-count band). The estimate is
//!   `p̂ = Σ W_h p̂_h` with `W_h = N_h / N`, its variance
//!   `V̂ = Σ W_h² (1 − f_h) p̂_h (1 − p̂_h) / (n_h − 1)` (Cochran 1977, eq. 5.51), `f_h = n_h / N_h`;
//!   a stratum of one analysed unit uses `n_h` for `n_h − 1` (its variance cannot be estimated;
//!   this is the binomial one). The interval is Wilson's at the effective sample size
//!   `n_eff = p̂ (1 − p̂) / V̂` (Kish's design effect; Korn & Graubard 1998), which keeps it inside
//!   [0, 1] and not empty at a prevalence of 0 or 1, where `V̂` is 0 and `n_eff` falls back to
//!   the sample's size with the whole frame's finite population correction.
//!
//! Every interval is of a proportion of the frame's units; [`Estimate::scaled`] turns it into
//! counts (proportion × frame size). [`frame_estimate`] applies the right one of the two to
//! what a sample yielded, non-response included: units drawn but not analysed (failed, or
//! found out of scope after the draw) are treated as missing at random within their stratum,
//! so each stratum's analysed units stand for `N_h · r_h / n_h` of the frame's.
//!
//! How the sample itself is drawn (a seeded order of the frame, pull-count strata, allocation)
//! is [`draw_key`], [`Selector`] and [`allocate`].
//!
//! How big the frame itself is — how much of Docker Hub discovery saw — is [`chapman`]: a
//! two-source capture–recapture estimate with Seber's variance and Chao's log-normal interval.

#![deny(missing_docs)]

mod capture;
mod draw;
mod plan;

pub use capture::{Chapman, chapman};
pub use draw::{Allocation, Selector, allocate, draw_key, stratum_of};
pub use plan::{expected_interval, half_width, sample_size_for};

use serde::Serialize;

/// The standard normal quantile of a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// How the analysed units were chosen from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Design {
    /// Every unit of the frame.
    Census,
    /// A simple random sample without replacement.
    Srs,
    /// Simple random samples drawn independently within strata.
    Stratified,
}

impl Design {
    /// The id used in JSON and in the database (`census`, `srs`, `stratified`).
    pub fn as_str(self) -> &'static str {
        match self {
            Design::Census => "census",
            Design::Srs => "srs",
            Design::Stratified => "stratified",
        }
    }
}

/// A proportion of the frame and its interval, all in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The point estimate.
    pub estimate: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
}

impl Estimate {
    /// A proportion known exactly (a census): the interval is the point.
    pub fn exact(p: f64) -> Self {
        Self { estimate: p, low: p, high: p }
    }

    /// The same interval as counts of a frame of `size` units.
    pub fn scaled(self, size: u64) -> Estimate {
        let n = size as f64;
        Estimate { estimate: self.estimate * n, low: self.low * n, high: self.high * n }
    }

    /// Half the interval's width.
    pub fn half_width(self) -> f64 {
        (self.high - self.low) / 2.0
    }
}

/// The Wilson score interval of `x` positives among `n` units drawn without replacement from
/// a frame of `population` units (`None`: an infinite frame, no correction), at normal
/// quantile `z`. `n = 0` gives the uninformative [0, 1] around 0.
///
/// # Panics
///
/// Never; `x > n` or `n > population` are clamped (a caller's bookkeeping error must not
/// abort a report).
pub fn wilson(x: u64, n: u64, population: Option<u64>, z: f64) -> Estimate {
    if n == 0 {
        return Estimate { estimate: 0.0, low: 0.0, high: 1.0 };
    }
    let x = x.min(n);
    let p = x as f64 / n as f64;
    let Some(effective) = effective_size(n, population) else {
        return Estimate::exact(p);
    };
    wilson_at(p, effective, z)
}

/// `n* = n (N − 1) / (N − n)`, or `None` when the sample is the whole frame (`n ≥ N`).
fn effective_size(n: u64, population: Option<u64>) -> Option<f64> {
    match population {
        None => Some(n as f64),
        Some(big_n) if n >= big_n => None,
        // N > n ≥ 1 here, so N − 1 ≥ n ≥ 1 and N − n ≥ 1.
        Some(big_n) => Some(n as f64 * (big_n - 1) as f64 / (big_n - n) as f64),
    }
}

/// Wilson's interval around proportion `p` for a binomial sample of (effective) size `n`.
fn wilson_at(p: f64, n: f64, z: f64) -> Estimate {
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At p = 0 (1) the lower (upper) end is exactly 0 (1); rounding must not put it outside.
    let low = if p <= 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let high = if p >= 1.0 { 1.0 } else { (centre + half).min(1.0) };
    Estimate { estimate: p, low, high }
}

/// One stratum of a stratified sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stratum {
    /// Units of the frame in the stratum (`N_h`).
    pub population: u64,
    /// Units drawn and analysed (`n_h`).
    pub sampled: u64,
    /// Analysed units in the category (`x_h`).
    pub positives: u64,
}

/// The stratified estimate of a proportion of the frame, with its interval (see the crate
/// docs for the formulas). Strata with no analysed unit contribute nothing to the estimate
/// (their weight is lost, which the caller reports as non-response); an empty list gives the
/// uninformative [0, 1].
pub fn stratified(strata: &[Stratum], z: f64) -> Estimate {
    let observed: Vec<&Stratum> = strata.iter().filter(|s| s.sampled > 0 && s.population > 0).collect();
    let big_n: u64 = observed.iter().map(|s| s.population).sum();
    if big_n == 0 {
        return Estimate { estimate: 0.0, low: 0.0, high: 1.0 };
    }
    let (mut p, mut variance) = (0.0, 0.0);
    for s in &observed {
        let n_h = s.sampled.min(s.population);
        let w = s.population as f64 / big_n as f64;
        let p_h = s.positives.min(n_h) as f64 / n_h as f64;
        p += w * p_h;
        let fpc = 1.0 - n_h as f64 / s.population as f64;
        let dof = if n_h >= 2 { (n_h - 1) as f64 } else { n_h as f64 };
        variance += w * w * fpc * p_h * (1.0 - p_h) / dof;
    }
    let n: u64 = observed.iter().map(|s| s.sampled.min(s.population)).sum();
    if n >= big_n {
        return Estimate::exact(p);
    }
    let effective = if variance > 0.0 && p > 0.0 && p < 1.0 {
        p * (1.0 - p) / variance
    } else {
        // invariant: n < big_n, so the correction is defined.
        effective_size(n, Some(big_n)).unwrap_or(n as f64)
    };
    wilson_at(p, effective, z)
}

/// What a sample yielded in one stratum (the whole frame is one stratum for a simple random
/// sample or a census).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Units of the frame in the stratum when the sample was drawn (`N_h`).
    pub population: u64,
    /// Units drawn (`n_h`).
    pub drawn: u64,
    /// Drawn units analysed (`r_h`); the others are non-response.
    pub analysed: u64,
    /// Analysed units in the category (`x_h`).
    pub positives: u64,
}

/// A proportion of the frame's analysed units, and how many such units the frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrameEstimate {
    /// The proportion and its interval.
    pub proportion: Estimate,
    /// The frame's analysed units, estimated: `Σ N_h · r_h / n_h` (exact for a census).
    pub units: f64,
}

impl FrameEstimate {
    /// The interval as counts of the frame's analysed units.
    pub fn counts(&self) -> Estimate {
        let n = self.units;
        let p = self.proportion;
        Estimate { estimate: p.estimate * n, low: p.low * n, high: p.high * n }
    }
}

/// The estimate for the frame from what each stratum yielded: for a census the observed
/// proportion (the interval collapses to it); for a simple random sample Wilson's interval with
/// the finite population correction; for a stratified one [`stratified`]. Non-response is
/// missing at random within a stratum: its analysed units stand for `N̂_h = N_h · r_h / n_h`
/// of the frame's analysed units, and the correction uses `r_h` out of `N̂_h`.
pub fn frame_estimate(design: Design, strata: &[Tally], z: f64) -> FrameEstimate {
    let responding = |t: &Tally| -> f64 {
        if t.drawn == 0 { 0.0 } else { t.population as f64 * t.analysed.min(t.drawn) as f64 / t.drawn as f64 }
    };
    let units: f64 = strata.iter().map(responding).sum();
    let whole = |t: &Tally| Stratum {
        // At least the analysed units themselves, whatever the rounding.
        population: (responding(t).round() as u64).max(t.analysed),
        sampled: t.analysed,
        positives: t.positives,
    };
    let proportion = match design {
        Design::Census => {
            let (x, n) = strata.iter().fold((0, 0), |(x, n), t| (x + t.positives, n + t.analysed));
            wilson(x, n, Some(n), z)
        }
        Design::Srs => {
            let (x, r, big_n) = strata
                .iter()
                .map(whole)
                .fold((0, 0, 0), |(x, r, big_n), s| (x + s.positives, r + s.sampled, big_n + s.population));
            wilson(x, r, Some(big_n), z)
        }
        Design::Stratified => stratified(&strata.iter().map(whole).collect::<Vec<_>>(), z),
    };
    FrameEstimate { proportion, units }
}

#[cfg(test)]
mod tests;
