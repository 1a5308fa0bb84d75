//! What can go wrong opening an image or a feed for a scan, typed by what the caller does: a
//! source or a feed it cannot use is the user's to fix; a layer that cannot be opened becomes
//! that layer's error and the scan goes on.

use std::path::PathBuf;

use hubcensus_image::{BlobError, ImageError};
use hubcensus_intel::FeedError as ParseError;
use hubcensus_registry::RegistryError;

/// An image, or one of its layers, that cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A local source or its blob cannot be read.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// A blob's reader cannot be set up (an unsupported digest algorithm).
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// The registry refused or failed a request for a layer.
    #[error(transparent)]
    Registry(Box<RegistryError>),
    /// The runtime that runs a registry image's downloads cannot start.
    #[error("starting the download runtime")]
    Runtime(#[source] std::io::Error),
    /// A `docker://` reference that cannot be resolved.
    #[error("resolving docker://{reference} at {registry}")]
    Resolve {
        /// The reference.
        reference: String,
        /// The registry's base URL.
        registry: String,
        /// Why.
        #[source]
        source: Box<RegistryError>,
    },
    /// The reference names an artifact (helm chart, wasm module...), not an image.
    #[error("docker://{reference} is not an image: {reason}")]
    NotAnImage {
        /// The reference.
        reference: String,
        /// What it is instead.
        reason: String,
    },
    /// The registry client answered "known" though the engine knows no image.
    #[error("docker://{reference}: the registry client reported a known image")]
    KnownImage {
        /// The reference.
        reference: String,
    },
    /// A Docker Hub reference has no host to build a registry URL from.
    #[error("a Docker Hub reference names no host")]
    NoHost,
    /// A host that does not make a URL.
    #[error("registry host {host:?}")]
    RegistryUrl {
        /// The host.
        host: String,
        /// Why.
        #[source]
        source: url::ParseError,
    },
    /// A layer index the image does not have.
    #[error("the image has no layer #{0}")]
    NoLayer(usize),
}

impl From<RegistryError> for ScanError {
    fn from(e: RegistryError) -> Self {
        Self::Registry(Box::new(e))
    }
}

/// A `--feed` file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// It cannot be read.
    #[error("reading feed {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Its format is none the feed parsers know.
    #[error(
        "feed {}: format not recognised (expected a URLhaus CSV, a hosts file, a domain list or a \
         domain,category[,date] CSV; see docs/feeds.md)",
        path.display()
    )]
    Unrecognised {
        /// The file.
        path: PathBuf,
    },
    /// It does not parse as the format it was sniffed as.
    #[error("parsing feed {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: ParseError,
    },
}
