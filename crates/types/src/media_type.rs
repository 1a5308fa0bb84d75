//! Media types of manifests, configs and layers, and what a census does with each.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A media type exactly as the registry sent it. Unknown types are kept verbatim (artifacts on
/// Hub carry all kinds); [`MediaType::kind`] says how a census treats it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MediaType(String);

/// What a media type means to the crawler and the scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaTypeKind {
    /// OCI image index or Docker manifest list: pick a platform.
    Index,
    /// OCI image manifest or Docker schema 2 manifest.
    Manifest,
    /// Docker schema 1 (signed or not): old images, layers listed in `fsLayers`.
    Schema1,
    /// An image config blob (OCI or Docker).
    Config,
    /// A layer we can scan, with its compression.
    Layer(Compression),
    /// A foreign or non-distributable layer: its bytes live at external URLs.
    ForeignLayer,
    /// Anything else: helm charts, wasm, models, in-toto attestations, plugin configs.
    Other,
}

/// How a layer's tar stream is compressed, according to its media type. The scanner still
/// checks magic bytes: registries lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip (DEFLATE).
    Gzip,
    /// Zstandard.
    Zstd,
}

impl MediaType {
    /// OCI image index.
    pub const OCI_INDEX: &'static str = "application/vnd.oci.image.index.v1+json";
    /// OCI image manifest.
    pub const OCI_MANIFEST: &'static str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image config.
    pub const OCI_CONFIG: &'static str = "application/vnd.oci.image.config.v1+json";
    /// Docker manifest list.
    pub const DOCKER_LIST: &'static str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Docker schema 2 manifest.
    pub const DOCKER_MANIFEST: &'static str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker image config.
    pub const DOCKER_CONFIG: &'static str = "application/vnd.docker.container.image.v1+json";
    /// Docker schema 1, signed.
    pub const SCHEMA1_SIGNED: &'static str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /// Docker schema 1, unsigned.
    pub const SCHEMA1: &'static str = "application/vnd.docker.distribution.manifest.v1+json";
    /// Docker gzip layer.
    pub const DOCKER_LAYER_GZIP: &'static str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// Docker foreign gzip layer.
    pub const DOCKER_FOREIGN_LAYER: &'static str =
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    /// BuildKit's non-standard Docker zstd layer.
    pub const DOCKER_LAYER_ZSTD: &'static str = "application/vnd.docker.image.rootfs.diff.tar.zstd";
    /// OCI plain tar layer.
    pub const OCI_LAYER: &'static str = "application/vnd.oci.image.layer.v1.tar";
    /// OCI gzip layer.
    pub const OCI_LAYER_GZIP: &'static str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// OCI zstd layer.
    pub const OCI_LAYER_ZSTD: &'static str = "application/vnd.oci.image.layer.v1.tar+zstd";

    /// Wraps a media type string. Parameters (`; charset=...`) are dropped and case is folded,
    /// as HTTP says media types are case-insensitive.
    pub fn new(s: &str) -> Self {
        let essence = s.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        Self(essence)
    }

    /// The media type text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How a census treats this media type.
    pub fn kind(&self) -> MediaTypeKind {
        let s = self.0.as_str();
        match s {
            Self::OCI_INDEX | Self::DOCKER_LIST => MediaTypeKind::Index,
            Self::OCI_MANIFEST | Self::DOCKER_MANIFEST => MediaTypeKind::Manifest,
            Self::SCHEMA1 | Self::SCHEMA1_SIGNED => MediaTypeKind::Schema1,
            Self::OCI_CONFIG | Self::DOCKER_CONFIG => MediaTypeKind::Config,
            Self::DOCKER_FOREIGN_LAYER => MediaTypeKind::ForeignLayer,
            _ if s.starts_with("application/vnd.oci.image.layer.nondistributable.") => {
                MediaTypeKind::ForeignLayer
            }
            Self::DOCKER_LAYER_GZIP | Self::OCI_LAYER_GZIP => MediaTypeKind::Layer(Compression::Gzip),
            Self::DOCKER_LAYER_ZSTD | Self::OCI_LAYER_ZSTD => MediaTypeKind::Layer(Compression::Zstd),
            Self::OCI_LAYER | "application/vnd.docker.image.rootfs.diff.tar" => {
                MediaTypeKind::Layer(Compression::None)
            }
            _ => MediaTypeKind::Other,
        }
    }
}

impl From<&str> for MediaType {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_layer_flavour() {
        let k = |s: &str| MediaType::new(s).kind();
        assert_eq!(k(MediaType::DOCKER_LAYER_ZSTD), MediaTypeKind::Layer(Compression::Zstd));
        assert_eq!(k(MediaType::OCI_LAYER_ZSTD), MediaTypeKind::Layer(Compression::Zstd));
        assert_eq!(
            k("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"),
            MediaTypeKind::ForeignLayer
        );
        assert_eq!(k(MediaType::DOCKER_FOREIGN_LAYER), MediaTypeKind::ForeignLayer);
        assert_eq!(k("application/vnd.in-toto+json"), MediaTypeKind::Other);
        assert_eq!(k("Application/Vnd.OCI.Image.Index.v1+json; charset=utf-8"), MediaTypeKind::Index);
        assert_eq!(k(MediaType::SCHEMA1_SIGNED), MediaTypeKind::Schema1);
    }
}
