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
    /// Where every rule is a known false positive (documentation): the path entries without
    /// `rules`. Asked for every file, so see [`Places`].
    pub(crate) every_rule_places: Places,
}

/// A set of globs asked of every file of a layer. Globs that are a literal ASCII directory and
/// `/**` (all of today's documentation entries) are checked as prefixes, ignoring ASCII case
/// as the globs do: a `GlobSet` builds a candidate path and runs a regex per call, which cost
/// 7% of a layer scan.
#[derive(Debug, Default)]
pub(crate) struct Places {
    /// `dir/` for each `dir/**` glob whose `dir` is plain ASCII.
    prefixes: Vec<String>,
    /// Every other glob.
    rest: GlobSet,
}

impl Places {
    /// Splits `globs` into prefixes and the rest.
    pub(crate) fn new(globs: &[String]) -> Result<Self, String> {
        let mut prefixes = Vec::new();
        let mut rest = globset::GlobSetBuilder::new();
        for g in globs {
            match g.strip_suffix("/**") {
                Some(dir)
                    if !dir.is_empty()
                        && dir.is_ascii()
                        && !dir.contains(['*', '?', '[', ']', '{', '}', '\\']) =>
                {
                    prefixes.push(format!("{dir}/"));
                }
                _ => {
                    rest.add(crate::compile::glob(g)?);
                }
            }
        }
        Ok(Self { prefixes, rest: rest.build().map_err(|e| e.to_string())? })
    }

    /// Whether `path` is in one of the places.
    pub(crate) fn contains(&self, path: &str) -> bool {
        let under = |dir: &String| path.get(..dir.len()).is_some_and(|head| head.eq_ignore_ascii_case(dir));
        self.prefixes.iter().any(under) || (!self.rest.is_empty() && self.rest.is_match(path))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_agree_with_the_globs_they_stand_for() {
        let globs: Vec<String> =
            ["usr/share/doc/**", "usr/local/share/man/**", "**/testdata/**", "opt/*/docs/**"]
                .map(str::to_owned)
                .to_vec();
        let places = Places::new(&globs).unwrap();
        assert_eq!(places.prefixes, ["usr/share/doc/", "usr/local/share/man/"]);
        let mut set = globset::GlobSetBuilder::new();
        for g in &globs {
            set.add(crate::compile::glob(g).unwrap());
        }
        let set = set.build().unwrap();
        for path in [
            "usr/share/doc/coreutils/THANKS.gz",
            "USR/Share/DOC/x",
            "usr/share/doc/",
            "usr/share/doc",
            "usr/share/docs/x",
            "usr/share/doc2/x",
            "usr/local/share/man/man1/ls.1.gz",
            "srv/usr/share/doc/x",
            "go/src/x/testdata/key.pem",
            "opt/app/docs/readme",
            "opt/app/src/main.rs",
            "",
        ] {
            assert_eq!(places.contains(path), set.is_match(path), "{path:?}");
        }
    }
}
