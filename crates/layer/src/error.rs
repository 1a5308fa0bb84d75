//! Why a layer scan ended early.
//!
//! Each variant is something the census records for the layer and then moves on from; the split
//! follows what the caller does next: limit breaches ([`LayerError::is_limit`]) and malformed
//! streams are final for that digest (scanning it again gives the same answer), while
//! [`LayerError::Io`] is a failure of the byte source (the network), worth retrying.

use std::io;

/// Why a layer scan stopped before the end of the layer. Whatever was found before the error is
/// kept in the [`crate::LayerScan`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    /// The layer's non-zero decompressed output grew beyond `limit` times the compressed bytes
    /// read. Zero blocks do not count, and nested files that broke the ratio on their own were
    /// cut and recorded instead ([`crate::SkipReason::Bomb`]).
    #[error(
        "decompression bomb: {bytes} non-zero bytes from {compressed} compressed bytes (ratio above {limit})"
    )]
    Bomb {
        /// Non-zero uncompressed bytes judged: the layer's tar stream's and those of nested
        /// files that kept to their own ratio.
        bytes: u64,
        /// Compressed bytes read from the source.
        compressed: u64,
        /// The configured ratio.
        limit: u32,
    },
    /// More tar entries (nested members included) than the limit.
    #[error("more than {limit} entries")]
    TooManyEntries {
        /// The configured maximum.
        limit: u64,
    },
    /// The scan took longer than the wall-clock limit.
    #[error("scan took longer than {limit_secs} s")]
    Timeout {
        /// The configured limit in seconds.
        limit_secs: u64,
    },
    /// More uncompressed bytes than the limit.
    #[error("more than {limit} uncompressed bytes")]
    TooLarge {
        /// The configured maximum.
        limit: u64,
    },
    /// The stream is not a valid compressed tar: bad magic, bad checksum, a corrupt deflate or
    /// zstd frame, an oversized pax header.
    #[error("corrupt layer: {0}")]
    Corrupt(String),
    /// The stream ended in the middle of a compressed frame, a tar header or a file.
    #[error("layer stream ended early")]
    Truncated,
    /// Reading the source failed (the blob download, a file).
    #[error("reading the layer failed: {0}")]
    Io(String),
}

impl LayerError {
    /// A stable id for the database and JSON output (`bomb`, `too_many_entries`, ...).
    pub const fn kind(&self) -> &'static str {
        match self {
            LayerError::Bomb { .. } => "bomb",
            LayerError::TooManyEntries { .. } => "too_many_entries",
            LayerError::Timeout { .. } => "timeout",
            LayerError::TooLarge { .. } => "too_large",
            LayerError::Corrupt(_) => "corrupt",
            LayerError::Truncated => "truncated",
            LayerError::Io(_) => "io",
        }
    }

    /// Whether this is a breach of one of the [`crate::Limits`] (as opposed to a malformed or
    /// failing stream).
    pub const fn is_limit(&self) -> bool {
        matches!(
            self,
            LayerError::Bomb { .. }
                | LayerError::TooManyEntries { .. }
                | LayerError::Timeout { .. }
                | LayerError::TooLarge { .. }
        )
    }

    /// Whether scanning the same bytes again could succeed: only a failing source qualifies.
    /// Everything else is a property of the layer itself.
    pub const fn should_retry(&self) -> bool {
        matches!(self, LayerError::Io(_))
    }

    /// Classifies an error from a decoder or the tar reader when no limit and no source error
    /// was recorded: the stream itself is short or malformed.
    pub(crate) fn from_stream(e: &io::Error) -> Self {
        let text = e.to_string();
        // The tar crate reports short reads as plain "other" errors with these messages.
        let tar_short = text.contains("failed to read entire block") || text.contains("unexpected EOF");
        if e.kind() == io::ErrorKind::UnexpectedEof || tar_short {
            LayerError::Truncated
        } else {
            LayerError::Corrupt(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_errors_split_into_truncated_and_corrupt() {
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "early eof");
        assert_eq!(LayerError::from_stream(&eof), LayerError::Truncated);
        let tar_eof = io::Error::other("failed to read entire block");
        assert_eq!(LayerError::from_stream(&tar_eof), LayerError::Truncated);
        let bad = io::Error::new(io::ErrorKind::InvalidData, "invalid distance too far back");
        assert!(matches!(LayerError::from_stream(&bad), LayerError::Corrupt(m) if m.contains("distance")));
    }

    #[test]
    fn only_source_failures_are_retried() {
        assert!(LayerError::Io("reset".into()).should_retry());
        assert!(!LayerError::Truncated.should_retry());
        assert!(LayerError::Timeout { limit_secs: 1 }.is_limit());
        assert!(!LayerError::Corrupt("x".into()).is_limit());
    }
}
