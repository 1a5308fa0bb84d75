//! Findings (what a rule decided, where) and indicators (network names an image references).

use std::{collections::BTreeMap, fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{Category, Confidence, Digest, ParseError, string_enum::string_enum};

/// Where a finding was made.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "digest", rename_all = "snake_case")]
pub enum Subject {
    /// Inside a layer blob, identified by its (compressed) digest.
    Layer(Digest),
    /// In the image config (ENV, Cmd, Entrypoint, labels, history).
    Config,
    /// In the repository's metadata (descriptions).
    Metadata,
}

/// The sha256 of a matched value, hex-encoded. It identifies a secret, wallet or key across
/// images without storing it: two findings with one fingerprint are the same value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of a matched value.
    pub fn of(value: &[u8]) -> Self {
        Self(hex::encode(Sha256::digest(value)))
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Fingerprint {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new("fingerprint", s, "expected 64 lowercase hex digits"))
        }
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> Self {
        f.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One rule decision about one place in an image.
///
/// A finding never holds the matched secret: `preview` is redacted by the rule that made it
/// (see [`redact`]) and `fingerprint` is a one-way hash of the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The category the rule assigns.
    pub category: Category,
    /// The rule id (`github_token`, `xmrig_binary`, ...).
    pub rule: String,
    /// How sure the rule is.
    pub confidence: Confidence,
    /// Where: a layer, the config or the repository metadata.
    pub subject: Subject,
    /// A file path inside the layer (no leading `/`), or a config field (`config.Env[2]`).
    pub path: String,
    /// A redacted, printable preview of what matched.
    pub preview: String,
    /// The sha256 of the matched value.
    pub fingerprint: Fingerprint,
    /// Whether an upper layer of the image deletes the file (set per image, not per layer).
    #[serde(default)]
    pub deleted_in_upper_layer: bool,
    /// Extra facts for clustering: a decoded AWS account id, a pool host, a key type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub detail: BTreeMap<String, String>,
}

string_enum! {
    /// The kind of a network indicator.
    pub enum IndicatorKind("indicator kind") {
        /// A registrable domain (eTLD+1 by the Public Suffix List), lowercased.
        Domain = "domain",
        /// A full host name below a registrable domain, kept when it differs from it.
        Host = "host",
        /// An IPv4 or IPv6 literal.
        Ip = "ip",
        /// A URL with a scheme.
        Url = "url",
    }
}

/// A network name an image references. Stored per layer (deduplicated) so feeds imported later
/// can be matched in SQL without downloading anything again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Indicator {
    /// What kind of name.
    pub kind: IndicatorKind,
    /// The normalised value (lowercased host, canonical IP text, URL as found).
    pub value: String,
}

/// A printable, redacted preview of a secret: its first four and last two characters around a
/// mask, and its length. Short values are masked whole. Control characters are replaced so a
/// preview is always safe to print in a terminal.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    let n = chars.len();
    if n <= 8 {
        return format!("{} (len {n})", "*".repeat(n.max(1)));
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[n - 2..].iter().collect();
    format!("{head}…{tail} (len {n})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_never_shows_the_middle() {
        let token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        let p = redact(token);
        assert_eq!(p, "ghp_…89 (len 40)");
        assert!(!p.contains("abcdef"));
        assert_eq!(redact("hunter2"), "******* (len 7)");
        assert_eq!(redact("\x1b[2Jpasswordxx"), "?[2J…xx (len 14)");
    }

    #[test]
    fn fingerprints_are_stable_sha256() {
        let f = Fingerprint::of(b"abc");
        assert_eq!(f.as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(f.as_str().parse::<Fingerprint>().is_ok());
        assert!("xyz".parse::<Fingerprint>().is_err());
    }
}
