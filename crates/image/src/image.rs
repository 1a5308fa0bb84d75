//! An opened image: its name, the manifest chosen, its config and its layers, and a way to
//! read each layer as a digest-verified stream (from several threads at once).

use std::{
    fs::File,
    io::{BufReader, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use hubcensus_types::{Digest, MediaType, MediaTypeKind, Platform};

use crate::{
    BlobError, ImageError, Result, Source,
    blob::{BlobReader, Expected},
    document::ConfigSummary,
};

/// A layer stream: the blob's bytes as stored (still compressed), hashed on the way.
pub type LayerReader = BlobReader<Box<dyn Read + Send>>;

/// An image opened from a local source, ready to scan.
#[derive(Debug)]
pub struct Image {
    pub(crate) name: String,
    pub(crate) manifest_digest: Option<Digest>,
    pub(crate) platform: Option<Platform>,
    pub(crate) config: Option<Config>,
    pub(crate) layers: Vec<Layer>,
}

/// The image config blob, verified against its descriptor.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config's digest (the image id).
    pub digest: Digest,
    /// The raw JSON, bounded by [`crate::MAX_DOCUMENT_BYTES`], for the config scan.
    pub bytes: Vec<u8>,
    /// The fields a scan needs itself (creation date, platform, diff ids).
    pub summary: ConfigSummary,
}

/// One layer of an image, bottom first.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The digest the source names for the blob; `None` for a bare `layer:FILE`, whose digest
    /// is computed while it is read.
    pub digest: Option<Digest>,
    /// The media type the manifest gives; `None` where the source has none (docker save,
    /// `layer:FILE`): the scanner decides by magic bytes anyway.
    pub media_type: Option<MediaType>,
    /// The size the descriptor gives.
    pub size: Option<u64>,
    pub(crate) location: Location,
}

/// Where a layer's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    /// A whole file (an OCI blob, or `layer:FILE`).
    File(PathBuf),
    /// A member of a tar archive, `size` bytes at `offset`.
    Member { archive: PathBuf, offset: u64, size: u64 },
    /// Not present in the source (a foreign layer whose bytes live at external URLs).
    Absent,
}

impl Layer {
    /// Why this layer is not scanned, if it is not: foreign layers (their bytes live at
    /// external URLs, which a local scan does not fetch) and blobs that are not image layers
    /// (helm charts, wasm, attestations). `None` means scan it — a layer whose blob is missing
    /// from the source is not skipped: opening it fails, and the image's verdict is incomplete.
    pub fn skip_reason(&self) -> Option<String> {
        let media_type = self.media_type.as_ref()?;
        match media_type.kind() {
            MediaTypeKind::Layer(_) => None,
            MediaTypeKind::ForeignLayer => {
                Some(format!("foreign layer ({media_type}): its bytes live at external URLs"))
            }
            _ => Some(format!("not an image layer: media type {media_type}")),
        }
    }

    /// The digest as text, or `None` for a bare layer not read yet.
    pub fn name(&self) -> String {
        match (&self.digest, &self.location) {
            (Some(d), _) => d.to_string(),
            (None, Location::File(p)) => p.display().to_string(),
            (None, Location::Member { archive, offset, .. }) => format!("{}@{offset}", archive.display()),
            (None, Location::Absent) => "(absent)".into(),
        }
    }
}

impl Image {
    /// Opens `source`, choosing `platform` from a multi-platform index.
    ///
    /// # Errors
    /// Any [`ImageError`]: a source that does not exist or parse, a tag or platform not found,
    /// a manifest or config too large, malformed, or not matching its digest.
    pub fn open(source: &Source, platform: &Platform) -> Result<Image> {
        match source {
            Source::Oci { dir, tag } => crate::oci::open(dir, tag.as_deref(), platform),
            Source::DockerArchive { file, reference } => crate::archive::open(file, reference.as_deref()),
            Source::Layer { file } => open_layer_file(file),
            Source::Docker { reference } => {
                Err(ImageError::NeedsRegistry { reference: reference.to_string() })
            }
        }
    }

    /// How to name the image in output: the tag or reference asked for, else the manifest
    /// digest, else the file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The digest of the manifest chosen (for an OCI layout).
    pub fn manifest_digest(&self) -> Option<&Digest> {
        self.manifest_digest.as_ref()
    }

    /// The platform of the manifest chosen from an index, or the config's.
    pub fn platform(&self) -> Option<&Platform> {
        self.platform.as_ref()
    }

    /// The config blob, if the source has one (`layer:FILE` has none).
    pub fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Opens layer `index` for reading. Each call opens the file anew, so threads can read
    /// different layers at once.
    ///
    /// # Errors
    /// [`BlobError::Missing`] for an absent blob or an index out of range; [`ImageError::Io`] when
    /// the file cannot be opened.
    pub fn open_layer(&self, index: usize) -> Result<LayerReader> {
        let layer = self.layers.get(index).ok_or_else(|| BlobError::Missing(format!("layer #{index}")))?;
        let expected = Expected { digest: layer.digest.clone(), size: layer.size };
        let reader: Box<dyn Read + Send> = match &layer.location {
            Location::File(path) => Box::new(BufReader::with_capacity(
                256 * 1024,
                File::open(path).map_err(|e| missing_or_io(path, e, &layer.name()))?,
            )),
            Location::Member { archive, offset, size } => {
                let mut file = File::open(archive).map_err(|e| ImageError::io(archive, e))?;
                file.seek(SeekFrom::Start(*offset)).map_err(|e| ImageError::io(archive, e))?;
                Box::new(BufReader::with_capacity(256 * 1024, file.take(*size)))
            }
            Location::Absent => return Err(BlobError::Missing(layer.name()).into()),
        };
        Ok(BlobReader::new(reader, layer.name(), expected)?)
    }
}

pub(crate) fn missing_or_io(path: &Path, e: std::io::Error, name: &str) -> ImageError {
    if e.kind() == std::io::ErrorKind::NotFound {
        BlobError::Missing(name.to_owned()).into()
    } else {
        ImageError::io(path, e)
    }
}

fn open_layer_file(file: &Path) -> Result<Image> {
    let meta = std::fs::metadata(file).map_err(|e| ImageError::io(file, e))?;
    if !meta.is_file() {
        return Err(ImageError::InvalidSource {
            input: format!("layer:{}", file.display()),
            reason: "not a regular file".into(),
        });
    }
    Ok(Image {
        name: file.display().to_string(),
        manifest_digest: None,
        platform: None,
        config: None,
        layers: vec![Layer {
            digest: None,
            media_type: None,
            size: Some(meta.len()),
            location: Location::File(file.to_owned()),
        }],
    })
}
