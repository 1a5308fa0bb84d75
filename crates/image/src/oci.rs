//! OCI image layouts (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), as skopeo, BuildKit
//! (`--output type=oci`), crane and `docker save` (since Docker 25) write them.

use std::{
    fs::File,
    path::{Path, PathBuf},
};

use hubcensus_types::{Digest, MediaType, MediaTypeKind, Platform};

use crate::{
    ImageError, Result,
    blob::{Expected, MAX_DOCUMENT_BYTES, read_document},
    document::{ConfigSummary, Descriptor, Index, Manifest, REF_NAME, Sniff},
    image::{Config, Image, Layer, Location, missing_or_io},
    select::select_manifest,
};

/// Indexes may nest (an index of indexes); real ones nest once. Deeper means a loop or a
/// hostile layout.
const MAX_INDEX_DEPTH: usize = 4;

/// Opens the image tagged `tag` (or the only image) in the layout at `dir`.
pub(crate) fn open(dir: &Path, tag: Option<&str>, platform: &Platform) -> Result<Image> {
    let layout = Layout { dir: dir.to_owned() };
    layout.check_marker()?;
    let index_path = dir.join("index.json");
    let file = File::open(&index_path).map_err(|e| ImageError::io(&index_path, e))?;
    let (bytes, _) = read_document(
        file,
        "index",
        &index_path.display().to_string(),
        Expected { digest: None, size: None },
        MAX_DOCUMENT_BYTES,
    )?;
    let index: Index = serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::malformed("index", index_path.display().to_string(), e))?;
    let entry = pick_entry(&index, tag, dir)?;
    let name = match tag {
        Some(t) => format!("{}:{t}", dir.display()),
        None => entry
            .annotations
            .get(REF_NAME)
            .map_or_else(|| entry.digest.to_string(), |t| format!("{}:{t}", dir.display())),
    };
    let (manifest_digest, manifest, chosen_platform) = layout.resolve(entry, platform, 0)?;
    let config_desc = &manifest.config;
    let (config_bytes, config_digest) = layout.read_document(config_desc, "config")?;
    let summary: ConfigSummary = serde_json::from_slice(&config_bytes)
        .map_err(|e| ImageError::malformed("config", config_digest.to_string(), e))?;
    let platform = chosen_platform.or_else(|| match (&summary.os, &summary.architecture) {
        (Some(os), Some(arch)) => format!("{os}/{arch}").parse().ok(),
        _ => None,
    });
    let layers = manifest.layers.iter().map(|d| layout.layer(d)).collect();
    Ok(Image {
        name,
        manifest_digest: Some(manifest_digest),
        platform,
        config: Some(Config { digest: config_digest, bytes: config_bytes, summary }),
        layers,
    })
}

/// The index.json entry for `tag`: by `org.opencontainers.image.ref.name`, else by manifest
/// digest; without a tag, the only entry.
fn pick_entry<'a>(index: &'a Index, tag: Option<&str>, dir: &Path) -> Result<&'a Descriptor> {
    let tags: Vec<&str> =
        index.manifests.iter().filter_map(|d| d.annotations.get(REF_NAME)).map(String::as_str).collect();
    let available = || if tags.is_empty() { "no tags".into() } else { tags.join(", ") };
    match tag {
        Some(tag) => index
            .manifests
            .iter()
            .find(|d| d.annotations.get(REF_NAME).is_some_and(|t| t == tag))
            .or_else(|| index.manifests.iter().find(|d| d.digest.as_str() == tag))
            .ok_or_else(|| ImageError::TagNotFound {
                tag: tag.to_owned(),
                source_name: dir.display().to_string(),
                available: available(),
            }),
        None => match index.manifests.as_slice() {
            [only] => Ok(only),
            [] => Err(ImageError::NotOciLayout {
                path: dir.to_owned(),
                reason: "index.json lists no images".into(),
            }),
            many => Err(ImageError::Ambiguous {
                source_name: dir.display().to_string(),
                count: many.len(),
                available: format!("oci:{}:TAG with TAG one of: {}", dir.display(), available()),
            }),
        },
    }
}

struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn check_marker(&self) -> Result<()> {
        let marker = self.dir.join("oci-layout");
        let file = File::open(&marker).map_err(|e| ImageError::NotOciLayout {
            path: self.dir.clone(),
            reason: format!("cannot read oci-layout: {e}"),
        })?;
        let (bytes, _) = read_document(
            file,
            "oci-layout",
            "oci-layout",
            Expected { digest: None, size: None },
            64 * 1024,
        )?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            ImageError::NotOciLayout { path: self.dir.clone(), reason: format!("oci-layout: {e}") }
        })?;
        if value.get("imageLayoutVersion").and_then(|v| v.as_str()).is_none() {
            return Err(ImageError::NotOciLayout {
                path: self.dir.clone(),
                reason: "oci-layout has no imageLayoutVersion".into(),
            });
        }
        Ok(())
    }

    /// The blob path. The digest was validated at parse time (lowercase hex only), so it
    /// cannot climb out of the layout.
    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("blobs").join(digest.algorithm()).join(digest.hex())
    }

    fn read_document(&self, desc: &Descriptor, what: &'static str) -> Result<(Vec<u8>, Digest)> {
        let path = self.blob_path(&desc.digest);
        let file = File::open(&path).map_err(|e| missing_or_io(&path, e, desc.digest.as_str()))?;
        read_document(
            file,
            what,
            desc.digest.as_str(),
            Expected { digest: Some(desc.digest.clone()), size: desc.size },
            MAX_DOCUMENT_BYTES,
        )
    }

    /// Follows `desc` through nested indexes down to an image manifest.
    fn resolve(
        &self,
        desc: &Descriptor,
        platform: &Platform,
        depth: usize,
    ) -> Result<(Digest, Manifest, Option<Platform>)> {
        if depth > MAX_INDEX_DEPTH {
            return Err(ImageError::TooDeep(MAX_INDEX_DEPTH));
        }
        let (bytes, digest) = self.read_document(desc, "manifest")?;
        let kind = match desc.media_type.as_deref() {
            Some(mt) => MediaType::new(mt).kind(),
            None => sniff_kind(&bytes, &digest)?,
        };
        match kind {
            MediaTypeKind::Index => {
                let index: Index = serde_json::from_slice(&bytes)
                    .map_err(|e| ImageError::malformed("index", digest.to_string(), e))?;
                let entry = select_manifest(&index, platform)?;
                let (d, m, p) = self.resolve(entry, platform, depth + 1)?;
                Ok((d, m, p.or_else(|| entry.platform.clone())))
            }
            MediaTypeKind::Manifest => {
                let manifest: Manifest = serde_json::from_slice(&bytes)
                    .map_err(|e| ImageError::malformed("manifest", digest.to_string(), e))?;
                Ok((digest, manifest, desc.platform.clone()))
            }
            _ => Err(ImageError::Unsupported {
                what: "manifest",
                name: digest.to_string(),
                media_type: desc.media_type.clone().unwrap_or_default(),
            }),
        }
    }

    fn layer(&self, desc: &Descriptor) -> Layer {
        let path = self.blob_path(&desc.digest);
        let location = if path.is_file() { Location::File(path) } else { Location::Absent };
        Layer {
            digest: Some(desc.digest.clone()),
            media_type: Some(desc.media_type()),
            size: desc.size,
            location,
        }
    }
}

/// What a document is when its descriptor did not say: its own `mediaType`, else its shape.
fn sniff_kind(bytes: &[u8], digest: &Digest) -> Result<MediaTypeKind> {
    let sniff: Sniff = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::malformed("manifest", digest.to_string(), e))?;
    if let Some(mt) = &sniff.media_type {
        return Ok(MediaType::new(mt).kind());
    }
    Ok(match (sniff.schema_version, sniff.manifests, sniff.config, sniff.fs_layers) {
        (Some(1), ..) | (_, _, _, Some(_)) => MediaTypeKind::Schema1,
        (_, Some(_), _, _) => MediaTypeKind::Index,
        (_, _, Some(_), _) => MediaTypeKind::Manifest,
        _ => MediaTypeKind::Other,
    })
}
