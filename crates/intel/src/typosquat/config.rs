//! [`TyposquatConfig`]: thresholds, weights and name lists as data (config/typosquat/thresholds.toml).
//!
//! The numbers that decide what is a typosquat are research choices a reader must be able to see
//! and change without reading Rust, so they live in a TOML file; this module only parses and
//! validates it. Field meanings are documented in the file itself and in docs/typosquatting.md.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The thresholds file compiled into the binary.
const BUILTIN: &str = include_str!("../../../../config/typosquat/thresholds.toml");

/// Why a thresholds file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TyposquatError {
    /// The file cannot be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the expected keys.
    #[error("{origin}: {source}")]
    Parse {
        /// Where the text came from (a path, or `builtin`).
        origin: String,
        /// The TOML error, with line and column.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A value is out of its range.
    #[error("{origin}: `{key}` {reason}")]
    Invalid {
        /// Where the text came from.
        origin: String,
        /// The offending key (`weights.edit`).
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Scoring thresholds and name lists, validated. Build it with [`builtin`](Self::builtin) or
/// [`from_path`](Self::from_path); the keys are documented in the TOML file. (It is not
/// `Deserialize` on purpose: every way in goes through validation.)
#[derive(Debug, Clone)]
pub struct TyposquatConfig(pub(crate) Thresholds);

/// The file's contents.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Thresholds {
    pub(crate) targets: TargetRules,
    pub(crate) distance: DistanceRules,
    pub(crate) namespace: NamespaceRules,
    pub(crate) pulls: PullRules,
    pub(crate) weights: Weights,
    pub(crate) decision: Decision,
    pub(crate) affixes: Affixes,
    pub(crate) keyboard: KeyboardRules,
    pub(crate) homoglyphs: Homoglyphs,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetRules {
    pub(crate) popular_official: usize,
    pub(crate) popular_pulls: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DistanceRules {
    pub(crate) one_edit_min_len: usize,
    pub(crate) two_edits_min_len: usize,
    pub(crate) short_min_len: usize,
    pub(crate) min_candidate_len: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NamespaceRules {
    pub(crate) hex_min_len: usize,
    pub(crate) hex_min_digits: usize,
    pub(crate) digits_min: usize,
    pub(crate) digits_share: f64,
    pub(crate) alternations_min: usize,
    pub(crate) unpronounceable_min_len: usize,
    pub(crate) vowel_share_below: f64,
    pub(crate) entropy_min_len: usize,
    pub(crate) entropy_bits: f64,
    pub(crate) entropy_vowel_share_below: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PullRules {
    pub(crate) low_ratio: f64,
    pub(crate) popular_ratio: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Weights {
    pub(crate) edit: f64,
    pub(crate) two_edits: f64,
    pub(crate) typo: f64,
    pub(crate) keyboard: f64,
    pub(crate) homoglyph: f64,
    pub(crate) affix_official: f64,
    pub(crate) affix_generic: f64,
    pub(crate) namespace_claim: f64,
    pub(crate) random_namespace: f64,
    pub(crate) low_pulls: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Decision {
    pub(crate) hit: f64,
    pub(crate) medium: f64,
    pub(crate) high: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Affixes {
    pub(crate) official: Vec<String>,
    pub(crate) generic: Vec<String>,
    pub(crate) namespace_claims: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyboardRules {
    pub(crate) rows: Vec<String>,
    pub(crate) offsets: Vec<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Homoglyphs {
    pub(crate) pairs: Vec<(String, String)>,
}

impl TyposquatConfig {
    /// The thresholds compiled into the binary (config/typosquat/thresholds.toml).
    ///
    /// # Errors
    /// Only if the embedded file is invalid, which the crate's tests rule out.
    pub fn builtin() -> Result<Self, TyposquatError> {
        Self::parse(BUILTIN, "builtin config/typosquat/thresholds.toml")
    }

    /// Reads a thresholds file of the same shape as the built-in one (every key required, so a
    /// misspelt key is an error rather than a silent default).
    ///
    /// # Errors
    /// [`TyposquatError::Io`] if it cannot be read, [`TyposquatError::Parse`] if it is not the
    /// expected TOML, [`TyposquatError::Invalid`] if a value is out of range.
    pub fn from_path(path: &Path) -> Result<Self, TyposquatError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TyposquatError::Io { path: path.to_owned(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, origin: &str) -> Result<Self, TyposquatError> {
        let thresholds: Thresholds = toml::from_str(text)
            .map_err(|e| TyposquatError::Parse { origin: origin.to_owned(), source: Box::new(e) })?;
        thresholds.validate().map_err(|(key, reason)| TyposquatError::Invalid {
            origin: origin.to_owned(),
            key,
            reason,
        })?;
        Ok(Self(thresholds))
    }
}

impl Thresholds {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let w = &self.weights;
        let d = &self.decision;
        let unit: [(&'static str, f64); 17] = [
            ("weights.edit", w.edit),
            ("weights.two_edits", w.two_edits),
            ("weights.typo", w.typo),
            ("weights.keyboard", w.keyboard),
            ("weights.homoglyph", w.homoglyph),
            ("weights.affix_official", w.affix_official),
            ("weights.affix_generic", w.affix_generic),
            ("weights.namespace_claim", w.namespace_claim),
            ("weights.random_namespace", w.random_namespace),
            ("weights.low_pulls", w.low_pulls),
            ("decision.hit", d.hit),
            ("decision.medium", d.medium),
            ("decision.high", d.high),
            ("namespace.digits_share", self.namespace.digits_share),
            ("namespace.vowel_share_below", self.namespace.vowel_share_below),
            ("namespace.entropy_vowel_share_below", self.namespace.entropy_vowel_share_below),
            ("pulls.low_ratio", self.pulls.low_ratio),
        ];
        for (key, value) in unit {
            if !(0.0..=1.0).contains(&value) {
                return Err((key, format!("must lie in 0..=1, is {value}")));
            }
        }
        if d.hit <= 0.0 || d.hit > d.medium || d.medium > d.high {
            return Err(("decision", "needs 0 < hit <= medium <= high".into()));
        }
        if self.pulls.popular_ratio <= self.pulls.low_ratio {
            return Err(("pulls.popular_ratio", "must exceed pulls.low_ratio".into()));
        }
        let dist = &self.distance;
        if !(dist.short_min_len <= dist.one_edit_min_len && dist.one_edit_min_len <= dist.two_edits_min_len) {
            return Err(("distance", "needs short_min_len <= one_edit_min_len <= two_edits_min_len".into()));
        }
        if dist.min_candidate_len == 0 {
            return Err(("distance.min_candidate_len", "must be at least 1".into()));
        }
        let k = &self.keyboard;
        if k.rows.is_empty() || k.rows.len() != k.offsets.len() {
            return Err(("keyboard", "needs one offset per row, and at least one row".into()));
        }
        if k.rows.iter().any(|r| !r.is_ascii()) {
            return Err(("keyboard.rows", "must be ASCII".into()));
        }
        for (from, to) in &self.homoglyphs.pairs {
            if from.is_empty() || to.is_empty() || !from.is_ascii() || !to.is_ascii() || to.len() > from.len()
            {
                return Err((
                    "homoglyphs.pairs",
                    format!(
                        "{from:?} -> {to:?}: both non-empty ASCII, the replacement no longer than the original"
                    ),
                ));
            }
        }
        let words =
            self.affixes.official.iter().chain(&self.affixes.generic).chain(&self.affixes.namespace_claims);
        for word in words {
            if word.is_empty() || !word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
                return Err(("affixes", format!("{word:?}: affixes are lowercase letters and digits")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_thresholds_parse_and_validate() {
        let c = TyposquatConfig::builtin().unwrap().0;
        assert!(c.decision.hit <= c.decision.medium);
        assert!(c.affixes.official.iter().any(|a| a == "official"));
        assert_eq!(c.keyboard.rows.len(), 4);
    }

    #[test]
    fn bad_files_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TyposquatConfig::from_path(&dir.path().join("none.toml"));
        assert!(matches!(missing, Err(TyposquatError::Io { .. })));

        let typo = BUILTIN.replace("popular_official", "popular_oficial");
        assert!(matches!(TyposquatConfig::parse(&typo, "t"), Err(TyposquatError::Parse { .. })));

        let out_of_range = BUILTIN.replace("edit = 0.65", "edit = 1.65");
        let err = TyposquatConfig::parse(&out_of_range, "t").unwrap_err();
        assert!(matches!(err, TyposquatError::Invalid { key: "weights.edit", .. }), "{err}");

        let inverted = BUILTIN.replace("hit = 0.6", "hit = 0.95");
        assert!(matches!(
            TyposquatConfig::parse(&inverted, "t"),
            Err(TyposquatError::Invalid { key: "decision", .. })
        ));

        let path = dir.path().join("t.toml");
        std::fs::write(&path, BUILTIN).unwrap();
        assert!(TyposquatConfig::from_path(&path).is_ok());
    }
}
