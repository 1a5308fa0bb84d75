//! What the engine scans, wherever the image lives: its layers bottom first (with the reason a
//! layer is not scanned), a digest-verified reader per layer, and its config. A local source
//! (hubcensus-image) and a registry image ([`RemoteImage`](crate::RemoteImage)) both present themselves this way, so every
//! source goes through the same engine and gives the same output.

use hubcensus_image::{Config, Image, LayerReader, Source};

use crate::ScanError;
use hubcensus_types::{Digest, MediaType, Platform};

/// One layer as the engine sees it.
#[derive(Debug, Clone)]
pub struct LayerSpec {
    /// The digest the source names; `None` for a bare `layer:FILE` until it is read.
    pub digest: Option<Digest>,
    /// The media type the manifest gives, if any (the walker decides by magic bytes anyway).
    pub media_type: Option<MediaType>,
    /// The size the descriptor gives.
    pub size: Option<u64>,
    /// Why the layer is not scanned (foreign, non-distributable, not a layer), or `None`.
    pub skip: Option<String>,
}

/// An image ready to scan.
pub trait ScanTarget: Sync {
    /// How to name the image in output.
    fn name(&self) -> &str;
    /// The platform chosen or declared, for the log.
    fn platform(&self) -> Option<&Platform>;
    /// The layers, bottom first.
    fn layers(&self) -> &[LayerSpec];
    /// The config, if the image has one.
    fn config(&self) -> Option<&Config>;
    /// A reader over layer `index`'s blob as stored, hashed on the way (its `finish` verifies
    /// size and digest). Called from several scan threads at once.
    ///
    /// # Errors
    /// The blob cannot be opened (missing from the source, refused by the registry...): that
    /// layer's error.
    fn open_layer(&self, index: usize) -> Result<LayerReader, ScanError>;
}

/// An image opened from a local source (`oci:`, `docker-archive:`, `layer:`).
#[derive(Debug)]
pub struct LocalImage {
    image: Image,
    layers: Vec<LayerSpec>,
}

impl LocalImage {
    /// Opens `source`, choosing `platform` from a multi-platform index.
    ///
    /// # Errors
    /// Those of [`Image::open`].
    pub fn open(source: &Source, platform: &Platform) -> hubcensus_image::Result<Self> {
        let image = Image::open(source, platform)?;
        let layers = image
            .layers()
            .iter()
            .map(|l| LayerSpec {
                digest: l.digest.clone(),
                media_type: l.media_type.clone(),
                size: l.size,
                skip: l.skip_reason(),
            })
            .collect();
        Ok(Self { image, layers })
    }
}

impl ScanTarget for LocalImage {
    fn name(&self) -> &str {
        self.image.name()
    }

    fn platform(&self) -> Option<&Platform> {
        self.image.platform()
    }

    fn layers(&self) -> &[LayerSpec] {
        &self.layers
    }

    fn config(&self) -> Option<&Config> {
        self.image.config()
    }

    fn open_layer(&self, index: usize) -> Result<LayerReader, ScanError> {
        Ok(self.image.open_layer(index)?)
    }
}
