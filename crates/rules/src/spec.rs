//! The rule-file format as serde types: exactly what a `config/rules/*.toml` file may say.
//! Nothing here is checked beyond TOML types; [`crate::compile`] validates and compiles it.
//! `docs/rules.md` documents every field.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A category rule file: `category = "..."` and its `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    pub(crate) category: String,
    #[serde(default, rename = "rule")]
    pub(crate) rules: Vec<RuleSpec>,
}

/// One `[[rule]]`. Exactly one trigger family must be present: `keywords` (content), `run`
/// (content, keyword-less), `paths` alone (path rule), `hosts` (domain suffixes), `commands`
/// (program basenames an image's command starts) or `sha256` (whole-file hashes).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    pub(crate) id: String,
    pub(crate) description: String,
    pub(crate) confidence: String,
    #[serde(default)]
    pub(crate) keywords: Vec<String>,
    #[serde(default)]
    pub(crate) case_insensitive: bool,
    pub(crate) run: Option<RunSpec>,
    #[serde(default)]
    pub(crate) paths: Vec<String>,
    #[serde(default)]
    pub(crate) hosts: Vec<String>,
    #[serde(default)]
    pub(crate) commands: Vec<String>,
    #[serde(default)]
    pub(crate) sha256: Vec<HashSpec>,
    #[serde(default)]
    pub(crate) kinds: Vec<String>,
    pub(crate) regex: Option<String>,
    pub(crate) window: Option<[usize; 2]>,
    pub(crate) validator: Option<String>,
    pub(crate) min_entropy: Option<f64>,
    pub(crate) min_distinct: Option<usize>,
    pub(crate) context: Option<ContextSpec>,
    pub(crate) boost: Option<BoostSpec>,
    pub(crate) secret: Option<bool>,
    #[serde(default)]
    pub(crate) kind_confidence: BTreeMap<String, String>,
    pub(crate) apex_confidence: Option<String>,
    /// The rule's evidence is the thing itself wherever it lies (a miner's config is a miner in
    /// a test folder too): the `[[path]]` places of `known_false_positives.toml` never lower it.
    #[serde(default)]
    pub(crate) place_cannot_excuse: bool,
    /// Globs of paths where a matched value is generated into the image when it is built (SSH
    /// host keys, the snakeoil key): such matches carry `origin = generated_at_build`.
    #[serde(default)]
    pub(crate) generated_at_build: Vec<String>,
}

/// A keyword-less trigger: runs of `charset` characters between `min_len` and `max_len` long.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunSpec {
    pub(crate) charset: String,
    pub(crate) min_len: usize,
    pub(crate) max_len: usize,
}

/// One known file hash.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HashSpec {
    pub(crate) hash: String,
    pub(crate) size: u64,
    pub(crate) name: String,
}

/// A condition on the bytes around a match: `min_distinct` (default 1) of `keywords` (ASCII
/// case-insensitive), or `regex`, within `within` bytes on either side.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContextSpec {
    #[serde(default)]
    pub(crate) keywords: Vec<String>,
    pub(crate) regex: Option<String>,
    pub(crate) within: usize,
    /// How many distinct `keywords` must occur (default 1).
    pub(crate) min_distinct: Option<usize>,
}

/// A context condition that, when it holds, raises the confidence to `confidence`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoostSpec {
    #[serde(default)]
    pub(crate) keywords: Vec<String>,
    pub(crate) regex: Option<String>,
    pub(crate) within: usize,
    pub(crate) confidence: String,
}

/// `known_false_positives.toml`: matches that are real but known to be harmless.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FalsePositiveFile {
    #[serde(default, rename = "fingerprint")]
    pub(crate) fingerprints: Vec<FpFingerprint>,
    #[serde(default, rename = "value")]
    pub(crate) values: Vec<FpValue>,
    #[serde(default, rename = "path")]
    pub(crate) paths: Vec<FpPath>,
}

/// A matched value known by its fingerprint (sha256 of the value, see `docs/rules.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FpFingerprint {
    pub(crate) sha256: String,
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) rules: Vec<String>,
}

/// Matched values of a pattern (`.+EXAMPLE$`) that are documentation placeholders.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FpValue {
    pub(crate) regex: String,
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) rules: Vec<String>,
}

/// Paths (globs) of one class of places where matches are not the thing they name:
/// documentation, tests, fixtures, examples, reference data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FpPath {
    /// `test`, `fixture`, `example`, `documentation` or `reference_data`.
    pub(crate) class: String,
    pub(crate) globs: Vec<String>,
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) rules: Vec<String>,
}
