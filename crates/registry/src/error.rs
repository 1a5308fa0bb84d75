//! Registry errors, typed by what the caller does next: wait (quota, rate limit), retry the
//! item later (network, interrupted or corrupted transfer), record the item as unusable
//! (missing, unsupported, malformed, too large), or stop the run (credentials refused).

use std::time::SystemTime;

use hubcensus_net::NetError;
use hubcensus_types::Digest;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The repository, tag or blob does not exist — or, on Docker Hub, is private: Hub answers
    /// 401 for both even with a freshly granted token, and never 404 for a repository.
    #[error("{what} not found: {reason}")]
    NotFound {
        /// `repo:reference` or `repo@digest`.
        what: String,
        /// What the registry said.
        reason: String,
    },
    /// Authentication failed: the token service refused the credentials, the registry demands
    /// credentials we do not have, or it rejected a freshly issued token as invalid.
    #[error("unauthorized at {url}: {reason}")]
    Unauthorized {
        /// The URL that refused.
        url: String,
        /// Why.
        reason: String,
    },
    /// The pull quota is spent down to the configured reserve (checked before sending), or the
    /// registry answered 429 `TOOMANYREQUESTS` on a manifest GET.
    #[error("pull quota exhausted{}", reset_at.map(|t| format!(" until {}", httpdate_fmt(t))).unwrap_or_default())]
    QuotaExhausted {
        /// When the quota should be back, if known (Docker Hub does not say; estimated as the
        /// window length after the quota was first seen spent).
        reset_at: Option<SystemTime>,
    },
    /// A host rate-limited us for longer than the gate waits by itself.
    #[error("rate limited by {host}{}", until.map(|t| format!(" until {}", httpdate_fmt(t))).unwrap_or_default())]
    RateLimited {
        /// The host.
        host: String,
        /// When its window resets, if it said.
        until: Option<SystemTime>,
    },
    /// Content does not hash to the digest its descriptor, its reference or the registry's
    /// `Docker-Content-Digest` names.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was checked (`manifest repo:tag`, `blob sha256:...`).
        what: String,
        /// The digest promised.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// A blob is longer or shorter than its descriptor says.
    #[error("size mismatch for {digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The blob.
        digest: Digest,
        /// The descriptor's size.
        expected: u64,
        /// Bytes received (at least; the download stops one chunk past the promise).
        actual: u64,
    },
    /// `Content-Type` and the body's own `mediaType` disagree: the registry lies about what it
    /// sent, and parsing it as either would be a guess.
    #[error("media type mismatch for {what}: Content-Type {header}, body says {body}")]
    MediaTypeMismatch {
        /// The manifest.
        what: String,
        /// The `Content-Type` header.
        header: String,
        /// The body's `mediaType`.
        body: String,
    },
    /// A manifest of a type this client does not resolve (an artifact manifest, an unknown type).
    #[error("unsupported manifest media type {media_type:?}")]
    UnsupportedManifest {
        /// The media type.
        media_type: String,
    },
    /// The index has no entry for the wanted platform.
    #[error("no manifest for platform {wanted}; the index offers {available}")]
    NoMatchingPlatform {
        /// The wanted platform.
        wanted: String,
        /// What the index offers (attestations left out).
        available: String,
    },
    /// A response does not parse as what it must be (manifest JSON, token response, reference).
    #[error("malformed {what}")]
    Malformed {
        /// What, where and why.
        what: String,
    },
    /// A document exceeds the bound it is read under.
    #[error("{what} is larger than the {limit}-byte limit")]
    TooLarge {
        /// What.
        what: String,
        /// The bound.
        limit: u64,
    },
    /// The registry answered a status this operation cannot use (400, 403, 405...).
    #[error("{url} answered {status}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// The registry's error codes and messages, if it sent the spec's envelope.
        detail: String,
    },
    /// The body stopped or failed midway (a reset, a read timeout, a truncated response).
    #[error("transfer of {what} interrupted")]
    Interrupted {
        /// What was being read.
        what: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The gate did not produce a response.
    #[error(transparent)]
    Net(#[from] NetError),
}

fn httpdate_fmt(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .map_or_else(|| format!("{secs}"), |d| d.to_rfc3339())
}

impl RegistryError {
    /// Whether the same operation may succeed later unchanged: quota and rate limits (after
    /// their window), network failures, interrupted transfers, and corrupted content (a digest
    /// or size mismatch is what a flaky proxy or an injected fault produces; a registry that
    /// lies every time runs out of the caller's bounded attempts).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::QuotaExhausted { .. }
            | Self::RateLimited { .. }
            | Self::Interrupted { .. }
            | Self::DigestMismatch { .. }
            | Self::SizeMismatch { .. } => true,
            Self::Net(e) => e.is_transient(),
            _ => false,
        }
    }

    /// Whether retrying cannot help this item and its outcome should be recorded as final:
    /// missing, not for our platform, unsupported, malformed, too large, refused by policy.
    /// Neither this nor [`Self::is_transient`] holds for [`Self::Unauthorized`], which is a
    /// matter for the run (credentials), not for one item.
    pub fn is_permanent_for_item(&self) -> bool {
        match self {
            Self::NotFound { .. }
            | Self::MediaTypeMismatch { .. }
            | Self::UnsupportedManifest { .. }
            | Self::NoMatchingPlatform { .. }
            | Self::Malformed { .. }
            | Self::TooLarge { .. }
            | Self::Status { .. } => true,
            Self::Net(e) => {
                matches!(e, NetError::Refused { .. } | NetError::Redirect { .. } | NetError::InvalidUrl(_))
            }
            _ => false,
        }
    }

    pub(crate) fn malformed(what: impl Into<String>) -> Self {
        Self::Malformed { what: what.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_is_exclusive() {
        let d = Digest::sha256_of(b"");
        let cases = [
            RegistryError::QuotaExhausted { reset_at: None },
            RegistryError::DigestMismatch { what: "x".into(), expected: d.clone(), actual: d },
            RegistryError::NotFound { what: "a/b:c".into(), reason: "401".into() },
            RegistryError::NoMatchingPlatform { wanted: "linux/amd64".into(), available: "".into() },
            RegistryError::Unauthorized { url: "u".into(), reason: "r".into() },
            RegistryError::Net(NetError::Refused { url: "u".into(), reason: "private".into() }),
            RegistryError::Net(NetError::RateLimited { host: "h".into(), until: None }),
        ];
        let got: Vec<(bool, bool)> =
            cases.iter().map(|e| (e.is_transient(), e.is_permanent_for_item())).collect();
        assert_eq!(
            got,
            [
                (true, false),
                (true, false),
                (false, true),
                (false, true),
                (false, false),
                (false, true),
                (true, false)
            ]
        );
        let text = RegistryError::QuotaExhausted { reset_at: Some(SystemTime::UNIX_EPOCH) }.to_string();
        assert!(text.contains("1970-01-01"), "{text}");
    }
}
