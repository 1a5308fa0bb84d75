//! What a rule reports: one [`Match`] per distinct value a rule confirmed in one scan call.

use std::{collections::BTreeMap, sync::Arc};

use hubcensus_types::{Category, Confidence, Fingerprint};

/// One confirmed rule hit. The layer walker turns it into a `hubcensus_types::Finding` by adding
/// where it was (layer digest or config, path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The rule id.
    pub rule: Arc<str>,
    /// The rule's category.
    pub category: Category,
    /// How sure: the rule's confidence, adjusted by file kind, context and false-positive lists.
    pub confidence: Confidence,
    /// A printable preview: redacted (`hubcensus_types::redact`) for secrets, plain (and
    /// truncated) for public indicators such as a stratum URL or a file path.
    pub preview: String,
    /// sha256 of the matched value (or of its canonical bytes: a decoded key body, an SSH blob).
    pub fingerprint: Fingerprint,
    /// Byte offset of the match in the scanned data (`None` for path and host rules); for
    /// command rules, the index of the argv word the program came from.
    pub offset: Option<u64>,
    /// Extra facts: `aws_account_id`, `ssh_fingerprint`, `key_type`, `wallet_kind`, `pool`,
    /// `keywords`, `false_positive` (why the confidence was lowered)...
    pub detail: BTreeMap<String, String>,
}

/// Longest plain preview, in characters.
const PLAIN_PREVIEW_CHARS: usize = 120;

/// A printable preview of a non-secret value: control characters replaced, long values cut.
pub(crate) fn plain_preview(value: &[u8]) -> String {
    plain_preview_max(value, PLAIN_PREVIEW_CHARS)
}

/// [`plain_preview`], cut at `max` characters.
pub(crate) fn plain_preview_max(value: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(value);
    let mut out: String = text.chars().take(max).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// The preview of a secret value.
pub(crate) fn secret_preview(value: &[u8]) -> String {
    hubcensus_types::redact(&String::from_utf8_lossy(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_printable_and_bounded() {
        assert_eq!(plain_preview(b"stratum+tcp://pool:3333\n"), "stratum+tcp://pool:3333 ");
        let long = vec![b'a'; 500];
        assert_eq!(plain_preview(&long).chars().count(), PLAIN_PREVIEW_CHARS + 1);
        assert!(!secret_preview(b"ghp_abcdefghijklmnopqrstuvwxyz0123456789").contains("klmnop"));
    }
}
