//! The reviewed expectations (`testdata/realworld/expected.toml`): every medium or high finding
//! the corpus is known to give, each with a human verdict and its reason, and the tools the
//! methodology counts, each with the category it must be found in.
//!
//! The file is the ground truth a reviewer signs, not a snapshot of the scanner's output: a
//! finding the file does not list fails the run until someone decides what it is, and so does
//! a listed one that stopped appearing.

use std::{collections::BTreeSet, path::Path};

use anyhow::{Context, bail};
use hubcensus_types::Category;
use serde::{Deserialize, Serialize};

use crate::corpus::Ecosystem;

/// What a reviewer decided about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// The finding is right: the package is (or carries) what the category means.
    TruePositive,
    /// The finding is wrong; kept here, honestly, until the scanner stops making it.
    FalsePositive,
}

/// One expected medium/high finding, or a family of them: `path` may be a glob
/// (`usr/share/nmap/scripts/*.nse`) where a tool ships hundreds of files of one kind. A glob
/// entry is expected to match at least one finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expectation {
    pub(crate) ecosystem: Ecosystem,
    pub(crate) package: String,
    pub(crate) rule: String,
    pub(crate) path: String,
    pub(crate) verdict: Verdict,
    pub(crate) reason: String,
}

impl Expectation {
    /// Whether `path` is a glob rather than one path.
    pub(crate) fn is_glob(&self) -> bool {
        self.path.contains(['*', '?', '['])
    }
}

impl Expectation {
    pub(crate) fn key(&self) -> Key {
        Key {
            ecosystem: self.ecosystem,
            package: self.package.clone(),
            rule: self.rule.clone(),
            path: self.path.clone(),
        }
    }
}

/// A tool the methodology counts: its package must give at least one medium/high finding in
/// `category`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tool {
    pub(crate) ecosystem: Ecosystem,
    pub(crate) package: String,
    pub(crate) category: Category,
}

/// What identifies a finding across runs. Fingerprints are left out on purpose: keys generated
/// at assembly time differ on every run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub(crate) ecosystem: Ecosystem,
    pub(crate) package: String,
    pub(crate) rule: String,
    pub(crate) path: String,
}

/// The whole file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expected {
    #[serde(default, rename = "tool")]
    pub(crate) tools: Vec<Tool>,
    #[serde(default, rename = "finding")]
    pub(crate) findings: Vec<Expectation>,
    /// The compiled glob of each finding whose path is one (index-aligned with `findings`),
    /// built once by [`Expected::load`].
    #[serde(skip)]
    globs: Vec<Option<globset::GlobMatcher>>,
}

impl Expected {
    /// The expectation that covers a finding of `rule` at `path` in a package: the entry for
    /// that exact path, else the first glob entry that matches it.
    pub(crate) fn find(&self, key: &Key) -> Option<&Expectation> {
        let same =
            |e: &&Expectation| e.ecosystem == key.ecosystem && e.package == key.package && e.rule == key.rule;
        let exact = self.findings.iter().filter(same).find(|e| e.path == key.path);
        exact.or_else(|| {
            self.findings
                .iter()
                .zip(&self.globs)
                .filter(|(e, _)| same(e))
                .find(|(_, g)| g.as_ref().is_some_and(|g| g.is_match(&key.path)))
                .map(|(e, _)| e)
        })
    }

    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text, path)
    }

    /// Parses and checks the file's text (`path` names it in errors), compiling its globs.
    pub(crate) fn parse(text: &str, path: &Path) -> anyhow::Result<Self> {
        let mut expected: Expected =
            toml::from_str(text).with_context(|| format!("parsing {}", path.display()))?;
        let mut seen = BTreeSet::new();
        for e in &expected.findings {
            if e.reason.trim().is_empty() {
                bail!(
                    "{}: {} {} {} {}: the reason is empty",
                    path.display(),
                    e.ecosystem,
                    e.package,
                    e.rule,
                    e.path
                );
            }
            if !seen.insert(e.key()) {
                bail!(
                    "{}: {} {} {} {} is listed twice",
                    path.display(),
                    e.ecosystem,
                    e.package,
                    e.rule,
                    e.path
                );
            }
        }
        expected.globs = expected
            .findings
            .iter()
            .map(|e| e.is_glob().then(|| compile_glob(&e.path)).transpose())
            .collect::<Result<_, _>>()
            .with_context(|| format!("{}: a bad glob", path.display()))?;
        Ok(expected)
    }
}

/// A glob in globset syntax where `*` does not cross `/` and `**` does.
fn compile_glob(glob: &str) -> Result<globset::GlobMatcher, globset::Error> {
    Ok(globset::GlobBuilder::new(glob).literal_separator(true).build()?.compile_matcher())
}
