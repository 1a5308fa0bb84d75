//! Typosquatting: repository names that imitate official images or popular publishers.
//!
//! Malicious images are often found by *name*: `vibersastra/golang`, `c43602f9cc95/openjdk`,
//! `700888880a0/golang` (Sysdig 2022, Aqua Nautilus 2021), and Liu et al. (USENIX Security 2022)
//! showed people really do pull mistyped names. A census sees every repository name, so it can
//! score each against the names worth imitating:
//!
//! * **targets** ([`Target`]): the official images (config/typosquat/official.txt, most pulled
//!   first) and, at run time, the popular publishers and library repositories the census has seen,
//!   with their pull counts ([`TyposquatScorer::add_target`]);
//! * **signals** ([`Technique`]): an edit (Damerau–Levenshtein 1, or 2 for long names), a
//!   keyboard slip, a look-alike (`rn`/`m`, `1`/`l`/`i`, `0`/`o`, `vv`/`w`, `cl`/`d`), an affix
//!   (`-official`, `offical-`, `-latest`, `docker-`), a machine-generated namespace around an exact
//!   official name, and a pull count far below the imitated one;
//! * **decision**: each signal found is evidence with a weight; weights combine as independent
//!   evidence and a score at or above the threshold is a hit, with a confidence. All thresholds,
//!   weights and word lists are data (config/typosquat/thresholds.toml, [`TyposquatConfig`]).
//!
//! An official image's exact name in its own `library/` namespace is never a hit, and neither is
//! the exact name under an ordinary namespace (`bitnami/nginx`, `linuxserver/nginx`): that takes
//! other evidence. docs/typosquatting.md gives every rule with its reason and the measured
//! precision on hubsim's planted typosquats and on 200 real popular names.

mod config;
mod edit;
mod keyboard;
mod look;
mod namespace;
mod scorer;

use hubcensus_types::{Confidence, RepoRef};

pub use config::{TyposquatConfig, TyposquatError};
pub use scorer::TyposquatScorer;

/// The official image names compiled into the binary, most pulled first.
const OFFICIAL: &str = include_str!("../../../../config/typosquat/official.txt");

/// A name worth imitating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The repository (`library/nginx` for an official image).
    pub repo: RepoRef,
    /// Its pull count, when known (a census knows it; the built-in list does not).
    pub pull_count: Option<i64>,
}

impl Target {
    /// The official images of config/typosquat/official.txt, in the file's order (most pulled
    /// first), without pull counts.
    pub fn official_images() -> Vec<Target> {
        OFFICIAL
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .filter_map(|name| RepoRef::new("library", name).ok())
            .map(|repo| Target { repo, pull_count: None })
            .collect()
    }
}

/// A signal that a name imitates another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Technique {
    /// One or two characters inserted, left out, swapped or replaced (`ngnix`, `pyhton`).
    EditDistance,
    /// A key next to the intended one on a QWERTY keyboard (`nfinx`, `redid`).
    Keyboard,
    /// Characters that look alike (`rnariadb`, `pyth0n`, `a1pine`).
    Homoglyph,
    /// A word attached that claims authenticity or reads like a tag (`nginx-official`,
    /// `offical-redis`, `docker-python`), or a namespace claiming to be official.
    Affix,
    /// The name under a namespace that looks machine-generated (`c43602f9cc95/openjdk`).
    RandomNamespace,
    /// Pulled far less often than the name it imitates (supporting evidence only).
    LowPullCount,
}

impl Technique {
    /// The canonical id (`edit_distance`), usable in rule ids (`typosquat:edit_distance`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Technique::EditDistance => "edit_distance",
            Technique::Keyboard => "keyboard",
            Technique::Homoglyph => "homoglyph",
            Technique::Affix => "affix",
            Technique::RandomNamespace => "random_namespace",
            Technique::LowPullCount => "low_pull_count",
        }
    }
}

impl std::fmt::Display for Technique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of evidence behind a hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// What kind of signal.
    pub technique: Technique,
    /// Its weight (thresholds.toml `[weights]`).
    pub weight: f64,
    /// What was seen, for a reader (`name "ngnix" swaps two letters of "nginx"`).
    pub detail: String,
}

/// A repository name judged to imitate a target.
#[derive(Debug, Clone, PartialEq)]
pub struct TyposquatHit {
    /// The repository it imitates.
    pub imitates: RepoRef,
    /// The strongest signal (never [`Technique::LowPullCount`]).
    pub technique: Technique,
    /// Combined evidence, `1 - Π(1 - weight)`, in `0..=1`.
    pub score: f64,
    /// From the score, by thresholds.toml `[decision]`.
    pub confidence: Confidence,
    /// Every signal found, strongest first.
    pub evidence: Vec<Evidence>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_official_list_is_valid_and_ordered_by_popularity() {
        let targets = Target::official_images();
        assert!(targets.len() >= 160, "{}", targets.len());
        let names: Vec<&str> = targets.iter().map(|t| t.repo.name()).collect();
        assert_eq!(&names[..3], ["nginx", "alpine", "ubuntu"]);
        let lines = OFFICIAL.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).count();
        assert_eq!(lines, targets.len(), "every line is a valid repository name");
        let unique: std::collections::HashSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "no duplicates");
        assert!(targets.iter().all(|t| t.repo.is_official()));
    }
}
