//! Errors of opening an image source, split by what the caller does next: fix the argument
//! (`InvalidSource`, `TagNotFound`, `Ambiguous`, `PlatformNotFound`), use the registry client
//! instead (`NeedsRegistry`), or record the image or blob as broken (`Malformed`, `Blob`, `Io`, ...).

use std::{io, path::PathBuf};

use hubcensus_types::Digest;

/// Why an image source could not be opened or one of its blobs could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The source string does not parse (`oci:DIR[:TAG]`, `docker-archive:FILE[:REF]`,
    /// `layer:FILE`, `docker://REF`).
    #[error("invalid image source {input:?}: {reason}")]
    InvalidSource {
        /// What was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `docker://` sources are not local: they are opened with the registry client
    /// (hubcensus-registry), as `hubcensus scan` does, not with [`crate::Image::open`].
    #[error(
        "docker://{reference}: this crate opens local sources only; open registry images with \
         the registry client (`hubcensus scan docker://...` does)"
    )]
    NeedsRegistry {
        /// The reference after `docker://`.
        reference: String,
    },
    /// A file of the source could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The directory is not an OCI image layout.
    #[error("{path} is not an OCI image layout: {reason}")]
    NotOciLayout {
        /// The directory.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// A manifest, index, config or archive member is larger than the bound we parse.
    #[error("{what} {name} is larger than the {limit}-byte limit")]
    TooLarge {
        /// Which document (`index`, `manifest`, `config`, ...).
        what: &'static str,
        /// Where it lives (a digest or a file name).
        name: String,
        /// The bound, in bytes.
        limit: u64,
    },
    /// A document does not parse as what it claims to be.
    #[error("{what} {name} is malformed: {detail}")]
    Malformed {
        /// Which document.
        what: &'static str,
        /// Where it lives.
        name: String,
        /// The parser's message.
        detail: String,
    },
    /// No image carries the requested tag.
    #[error("no image tagged {tag:?} in {source_name} (available: {available})")]
    TagNotFound {
        /// The tag asked for.
        tag: String,
        /// The layout or archive.
        source_name: String,
        /// The tags there are, comma-separated.
        available: String,
    },
    /// The source holds several images and none was named.
    #[error("{source_name} holds {count} images; name one ({available})")]
    Ambiguous {
        /// The layout or archive.
        source_name: String,
        /// How many images.
        count: usize,
        /// How to name them.
        available: String,
    },
    /// A multi-platform index has no manifest for the wanted platform.
    #[error("no manifest for platform {wanted} (available: {available})")]
    PlatformNotFound {
        /// The platform asked for.
        wanted: String,
        /// The platforms the index offers.
        available: String,
    },
    /// The manifest is of a kind this tool does not scan (schema 1, an artifact).
    #[error("{what} {name} has media type {media_type:?}, which is not a scannable image")]
    Unsupported {
        /// Which document.
        what: &'static str,
        /// Where it lives.
        name: String,
        /// Its media type.
        media_type: String,
    },
    /// Nested indexes deeper than the bound (a loop, or a hostile layout).
    #[error("index nesting deeper than {0} levels")]
    TooDeep(usize),
    /// A blob failed verification or could not be read.
    #[error(transparent)]
    Blob(#[from] BlobError),
}

/// A blob that is missing, unreadable, or not what its descriptor says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The bytes hash to another digest than the descriptor names.
    #[error("blob digest mismatch: expected {expected}, content is {actual}")]
    DigestMismatch {
        /// The digest the descriptor (or path) names.
        expected: Digest,
        /// The digest of the bytes read.
        actual: Digest,
    },
    /// The blob is longer or shorter than its descriptor's size.
    #[error("blob {digest} size mismatch: descriptor says {expected} bytes, read {actual}")]
    SizeMismatch {
        /// The blob.
        digest: String,
        /// The descriptor's size.
        expected: u64,
        /// What was read (a lower bound when the blob is longer).
        actual: u64,
    },
    /// The layout or archive does not contain the blob.
    #[error("blob {0} is missing from the source")]
    Missing(String),
    /// The blob's algorithm cannot be verified here (only sha256 is).
    #[error("blob {0}: only sha256 digests can be verified")]
    UnsupportedAlgorithm(String),
    /// Reading the blob failed.
    #[error("reading blob {name}: {message}")]
    Io {
        /// The blob.
        name: String,
        /// The I/O error's text.
        message: String,
    },
}

/// `Result` with [`ImageError`].
pub type Result<T, E = ImageError> = std::result::Result<T, E>;

impl ImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    pub(crate) fn malformed(
        what: &'static str,
        name: impl Into<String>,
        detail: impl std::fmt::Display,
    ) -> Self {
        Self::Malformed { what, name: name.into(), detail: detail.to_string() }
    }
}
