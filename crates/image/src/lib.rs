//! Local image sources for `hubcensus scan`: OCI layouts, docker archives, bare layer blobs.
//!
//! A census fetches images from a registry; a researcher triaging one image, a CI job gating a
//! build, and the tests of this project need the same scan on images that are already on disk.
//! This crate opens them the way skopeo names them — `oci:DIR[:TAG]`, `docker-archive:FILE[:REF]`,
//! `layer:FILE` (and parses `docker://REF` as the docker CLI does; the registry client fetches it) —
//! resolves the platform manifest from a multi-arch index, reads the config, and hands out each
//! layer as a [`LayerReader`] that verifies the blob's sha256 while the scanner streams it.
//! The scan engine (hubcensus-scan) walks those readers and decides the image's verdict.
//!
//! It is synchronous and does no network I/O: the registry client reuses [`select_manifest`]
//! and the documents, the scan engine [`BlobReader`] for registry blobs too.
//!
//! ```no_run
//! use hubcensus_image::{Image, Source};
//! use hubcensus_types::Platform;
//!
//! let source: Source = "oci:./my-image:latest".parse()?;
//! let image = Image::open(&source, &Platform::linux_amd64())?;
//! for (i, layer) in image.layers().iter().enumerate() {
//!     let mut reader = image.open_layer(i)?;
//!     std::io::copy(&mut reader, &mut std::io::sink())?;
//!     println!("{} verified as {}", layer.name(), reader.finish()?.digest);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod archive;
mod blob;
mod document;
mod error;
mod image;
mod oci;
mod select;
mod source;

pub use blob::{BlobReader, Expected, MAX_DOCUMENT_BYTES, Verified};
pub use document::{ArchiveManifest, ConfigSummary, Descriptor, Index, Manifest, REF_NAME, RootFs};
pub use error::{BlobError, ImageError, Result};
pub use image::{Config, Image, Layer, LayerReader};
pub use select::select_manifest;
pub use source::{DockerReference, DockerTarget, Source};
