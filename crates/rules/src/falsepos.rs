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
    /// The reason a match of `rule` is a known false positive, if it is one. `path_hits` are
    /// the indices of `paths` globs that match the file (computed once per file by the caller).
    pub(crate) fn judge(
        &self,
        rule: &str,
        fingerprint: &str,
        value: &[u8],
        path_hits: &[usize],
    ) -> Option<&str> {
        if let Some(e) = self.fingerprints.get(fingerprint).filter(|e| e.covers(rule)) {
            return Some(&e.reason);
        }
        if let Some((_, e)) = self.values.iter().find(|(re, e)| e.covers(rule) && re.is_match(value)) {
            return Some(&e.reason);
        }
        path_hits
            .iter()
            .filter_map(|&i| self.path_entries.get(i))
            .find(|e| e.covers(rule))
            .map(|e| e.reason.as_str())
    }
}
