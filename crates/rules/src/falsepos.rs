//! Known false positives: values and places where a rule is right about the bytes but wrong
//! about the threat (documentation keys, test fixtures, distro test keys). They are kept and
//! reported at LOW confidence with the reason, never dropped, so the choice stays auditable and
//! an attacker hiding in `usr/share/doc` is still on record.

use std::collections::HashMap;

use globset::GlobSet;
use regex::bytes::Regex;

/// Why a match is a known false positive, and which rules the entry covers (empty: all).
#[derive(Debug, Clone)]
pub(crate) struct FpEntry {
    pub(crate) reason: String,
    pub(crate) rules: Vec<String>,
    /// The class of a `[[path]]` place (`test`, `documentation`...); `None` for values.
    pub(crate) class: Option<String>,
}

/// Why a match is a known false positive: the entry's reason, and its place class if it is a
/// place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Excuse<'a> {
    pub(crate) reason: &'a str,
    pub(crate) class: Option<&'a str>,
}

impl<'a> From<&'a FpEntry> for Excuse<'a> {
    fn from(e: &'a FpEntry) -> Self {
        Excuse { reason: &e.reason, class: e.class.as_deref() }
    }
}

impl FpEntry {
    fn covers(&self, rule: &str) -> bool {
        self.rules.is_empty() || self.rules.iter().any(|r| r == rule)
    }
}

/// The compiled `known_false_positives.toml`.
#[derive(Debug, Default)]
pub(crate) struct FalsePositives {
    pub(crate) fingerprints: HashMap<String, FpEntry>,
    pub(crate) values: Vec<(Regex, FpEntry)>,
    pub(crate) paths: GlobSet,
    pub(crate) path_entries: Vec<FpEntry>,
    /// The globs of the path entries that cover every rule (documentation).
    pub(crate) every_rule_paths: GlobSet,
}

impl FalsePositives {
    /// Why a match of `rule` is a known false positive, if it is one. `path_hits` are the
    /// indices of `paths` globs that match the file (computed once per file by the caller);
    /// they are not consulted when the place cannot excuse the rule (`place_can_excuse`).
    pub(crate) fn judge(
        &self,
        rule: &str,
        place_can_excuse: bool,
        fingerprint: &str,
        value: &[u8],
        path_hits: &[usize],
    ) -> Option<Excuse<'_>> {
        if let Some(e) = self.fingerprints.get(fingerprint).filter(|e| e.covers(rule)) {
            return Some(e.into());
        }
        if let Some((_, e)) = self.values.iter().find(|(re, e)| e.covers(rule) && re.is_match(value)) {
            return Some(e.into());
        }
        if !place_can_excuse {
            return None;
        }
        path_hits.iter().filter_map(|&i| self.path_entries.get(i)).find(|e| e.covers(rule)).map(Excuse::from)
    }
}
