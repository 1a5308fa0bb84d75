//! From a tag to what a census scans: HEAD (free) first, GETs only for images not yet known.
//!
//! 1. HEAD the tag. If the caller already knows its digest, stop: no pull spent.
//! 2. GET it by that digest (so the answer is verified against what the HEAD said). When the
//!    registry has no manifest by that digest (the tag moved in between, or the HEAD's header
//!    lied), GET it by the tag, verified by the hash of its bytes.
//! 3. An index or manifest list: record its platforms (attestation entries left out), pick the
//!    wanted one with the image crate's `select_manifest`, GET that manifest by digest — or,
//!    when the caller passes the platform manifest's digest it already has from Docker Hub's tag
//!    listing (`images[].digest`), GET only that one and skip the index: one pull per new image.
//! 4. An image manifest: fetch and verify the config, classify the layers. A non-image artifact
//!    (helm, wasm, model, in-toto) is recorded as such, its config left unfetched.
//! 5. Schema1: layers from `fsLayers` (listed top first, so reversed), the first `history`
//!    entry's `v1Compatibility` as the config.

use hubcensus_image::{Descriptor, ImageError, Index, MAX_DOCUMENT_BYTES, Manifest, select_manifest};
use hubcensus_types::{Digest, MediaType, MediaTypeKind, Platform, RepoRef};
use serde::Deserialize;

use crate::{
    FetchedManifest, RegistryClient, RegistryError, RemoteLayer,
    layers::{artifact_reason, classify},
    manifest::Schema1,
};

/// Indexes of indexes exist but nest once in practice; deeper is a loop or hostile.
const MAX_INDEX_DEPTH: usize = 2;

/// An image config (or, for schema1, the top `v1Compatibility` document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigBlob {
    /// The config's digest (for schema1, the sha256 of the `v1Compatibility` text: schema1 has
    /// no config blob in the registry).
    pub digest: Digest,
    /// The verified bytes.
    pub bytes: Vec<u8>,
}

/// What resolving a tag found.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The index or manifest list the tag points at, for multi-platform images.
    pub index_digest: Option<Digest>,
    /// The platform manifest.
    pub manifest_digest: Digest,
    /// The platform manifest's media type.
    pub media_type: MediaType,
    /// The platform resolved (from the index entry, else from the config).
    pub platform: Option<Platform>,
    /// Every platform the index offers (attestations left out); empty for single manifests and
    /// when the index was skipped thanks to a platform hint.
    pub platforms: Vec<Platform>,
    /// The config, verified; `None` for non-image artifacts.
    pub config: Option<ConfigBlob>,
    /// The layers, bottom first, each with its skip reason if it is not to be scanned.
    pub layers: Vec<RemoteLayer>,
    /// Whether the image is a Docker schema1 manifest.
    pub schema1: bool,
    /// Why this is not an image (helm chart, wasm module, model, in-toto attestation...).
    pub artifact: Option<String>,
}

/// The outcome of [`RegistryClient::resolve`].
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per tag, moved once: boxing buys nothing
pub enum Resolution {
    /// The tag's digest (from a HEAD) is one the caller already has: nothing was pulled.
    Known {
        /// The tag's digest (an index digest for multi-platform images).
        digest: Digest,
    },
    /// A new image, resolved.
    Resolved(ResolvedImage),
}

/// Just the field of a manifest the image crate's lenient type leaves out.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactType {
    #[serde(default)]
    artifact_type: Option<String>,
}

impl RegistryClient {
    /// Resolves `repo:reference` for the configured platform, unless `known(digest)` says the
    /// tag's digest is already known.
    ///
    /// # Errors
    /// Those of [`RegistryClient::get_manifest`] and [`RegistryClient::fetch_blob_bytes`];
    /// [`RegistryError::NoMatchingPlatform`]; [`RegistryError::UnsupportedManifest`];
    /// [`RegistryError::Malformed`] for documents that do not parse.
    pub async fn resolve(
        &self,
        repo: &RepoRef,
        reference: &str,
        known: &(dyn Fn(&Digest) -> bool + Sync),
    ) -> Result<Resolution, RegistryError> {
        self.resolve_with_hint(repo, reference, known, None).await
    }

    /// [`RegistryClient::resolve`], with the configured platform's manifest digest when the
    /// caller already has it (Docker Hub's tag listing gives it per platform): a multi-platform
    /// tag then costs one manifest GET instead of two. The hint is `(index, manifest)`: the
    /// index digest the listing named for the tag and the platform manifest it named in it. It
    /// is used only when the tag is an index and still that index (a listing read before the
    /// tag was re-pushed names a manifest of the old index, which a registry may still serve by
    /// digest); the hinted manifest is verified against its digest like any other.
    ///
    /// # Errors
    /// As [`RegistryClient::resolve`].
    pub async fn resolve_with_hint(
        &self,
        repo: &RepoRef,
        reference: &str,
        known: &(dyn Fn(&Digest) -> bool + Sync),
        platform_manifest: Option<(&Digest, &Digest)>,
    ) -> Result<Resolution, RegistryError> {
        let head = self.head(repo, reference).await?;
        if let Some(digest) = &head.digest
            && known(digest)
        {
            return Ok(Resolution::Known { digest: digest.clone() });
        }
        if let (Some((listed, hint)), Some(index_digest), MediaTypeKind::Index) =
            (platform_manifest, &head.digest, head.media_type.kind())
            && listed == index_digest
        {
            let fetched = self.get_manifest(repo, hint.as_str()).await?;
            let mut image = self.image(repo, fetched, None).await?;
            image.index_digest = Some(index_digest.clone());
            return Ok(Resolution::Resolved(image));
        }
        let top = match &head.digest {
            Some(digest) => match self.get_manifest(repo, digest.as_str()).await {
                // The tag moved between the HEAD and the GET, or the HEAD's digest header lied:
                // the tag itself still names a manifest, verified by the hash of its bytes.
                Err(RegistryError::NotFound { .. }) if digest.as_str() != reference => {
                    self.get_manifest(repo, reference).await?
                }
                other => other?,
            },
            None => self.get_manifest(repo, reference).await?,
        };
        Ok(Resolution::Resolved(self.resolve_document(repo, top, 0).await?))
    }

    async fn resolve_document(
        &self,
        repo: &RepoRef,
        top: FetchedManifest,
        depth: usize,
    ) -> Result<ResolvedImage, RegistryError> {
        if top.kind() != MediaTypeKind::Index {
            return self.image(repo, top, None).await;
        }
        if depth >= MAX_INDEX_DEPTH {
            return Err(RegistryError::malformed(format!(
                "index {} nests deeper than {MAX_INDEX_DEPTH}",
                top.digest
            )));
        }
        let index: Index = serde_json::from_slice(&top.bytes)
            .map_err(|e| RegistryError::malformed(format!("index {}: {e}", top.digest)))?;
        let platforms = platforms(&index);
        let wanted = &self.config().platform;
        let entry = select_manifest(&index, wanted).map_err(|e| match e {
            ImageError::PlatformNotFound { wanted, available } => {
                RegistryError::NoMatchingPlatform { wanted, available }
            }
            other => RegistryError::malformed(format!("index {}: {other}", top.digest)),
        })?;
        let child = self.get_manifest(repo, entry.digest.as_str()).await?;
        if let Some(size) = entry.size
            && size != child.bytes.len() as u64
        {
            return Err(RegistryError::SizeMismatch {
                digest: entry.digest.clone(),
                expected: size,
                actual: child.bytes.len() as u64,
            });
        }
        let mut image = if child.kind() == MediaTypeKind::Index {
            Box::pin(self.resolve_document(repo, child, depth + 1)).await?
        } else {
            self.image(repo, child, entry.platform.clone()).await?
        };
        image.index_digest = Some(top.digest);
        image.platforms = platforms;
        Ok(image)
    }

    /// A platform manifest (image, artifact or schema1) to a resolved image.
    async fn image(
        &self,
        repo: &RepoRef,
        fetched: FetchedManifest,
        platform: Option<Platform>,
    ) -> Result<ResolvedImage, RegistryError> {
        match fetched.kind() {
            MediaTypeKind::Manifest => {}
            MediaTypeKind::Schema1 => return schema1(fetched),
            _ => {
                return Err(RegistryError::UnsupportedManifest {
                    media_type: fetched.media_type.to_string(),
                });
            }
        }
        let manifest: Manifest = serde_json::from_slice(&fetched.bytes)
            .map_err(|e| RegistryError::malformed(format!("manifest {}: {e}", fetched.digest)))?;
        let extra: ArtifactType = serde_json::from_slice(&fetched.bytes).unwrap_or_default();
        let artifact = artifact_reason(&manifest, extra.artifact_type.as_deref());
        let config = match artifact {
            Some(_) => None,
            None => {
                let bytes = self.fetch_blob_bytes(repo, &manifest.config, MAX_DOCUMENT_BYTES).await?;
                Some(ConfigBlob { digest: manifest.config.digest.clone(), bytes })
            }
        };
        let platform = platform.or_else(|| config.as_ref().and_then(|c| config_platform(&c.bytes)));
        Ok(ResolvedImage {
            index_digest: None,
            manifest_digest: fetched.digest,
            media_type: fetched.media_type,
            platform,
            platforms: Vec::new(),
            layers: classify(&manifest.layers, artifact.as_deref()),
            config,
            schema1: false,
            artifact,
        })
    }
}

/// The images an index offers, in order: attestation entries and entries of a known non-image
/// media type left out, as `select_manifest` leaves them out.
fn platforms(index: &Index) -> Vec<Platform> {
    let mut out: Vec<Platform> = Vec::new();
    let images = index.manifests.iter().filter(|d| {
        !d.is_attestation()
            && (d.media_type.is_none() || !matches!(d.media_type().kind(), MediaTypeKind::Other))
    });
    for p in images.filter_map(|d| d.platform.as_ref()) {
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

/// `os/architecture[/variant]` as an image config states it.
fn config_platform(config: &[u8]) -> Option<Platform> {
    #[derive(Deserialize)]
    struct Declared {
        #[serde(default)]
        os: Option<String>,
        #[serde(default)]
        architecture: Option<String>,
        #[serde(default)]
        variant: Option<String>,
    }
    let d: Declared = serde_json::from_slice(config).ok()?;
    let mut text = format!("{}/{}", d.os?, d.architecture?);
    if let Some(v) = d.variant.filter(|v| !v.is_empty()) {
        text = format!("{text}/{v}");
    }
    text.parse().ok()
}

/// A schema1 manifest to a resolved image.
fn schema1(fetched: FetchedManifest) -> Result<ResolvedImage, RegistryError> {
    let doc: Schema1 = serde_json::from_slice(&fetched.bytes)
        .map_err(|e| RegistryError::malformed(format!("schema1 manifest {}: {e}", fetched.digest)))?;
    let layers = doc
        .fs_layers
        .iter()
        .rev()
        .map(|l| Descriptor {
            media_type: None,
            digest: l.blob_sum.clone(),
            size: None,
            platform: None,
            annotations: Default::default(),
            urls: Vec::new(),
        })
        .collect::<Vec<_>>();
    let config = doc.history.first().filter(|h| !h.v1_compatibility.is_empty()).map(|h| {
        let bytes = h.v1_compatibility.clone().into_bytes();
        ConfigBlob { digest: Digest::sha256_of(&bytes), bytes }
    });
    let platform = config
        .as_ref()
        .and_then(|c| config_platform(&c.bytes))
        .or_else(|| doc.architecture.as_ref().and_then(|a| format!("linux/{a}").parse().ok()));
    Ok(ResolvedImage {
        index_digest: None,
        manifest_digest: fetched.digest,
        media_type: fetched.media_type,
        platform,
        platforms: Vec::new(),
        config,
        layers: classify(&layers, None),
        schema1: true,
        artifact: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_platform_reads_variant() {
        assert_eq!(
            config_platform(br#"{"os":"linux","architecture":"arm64","variant":"v8"}"#)
                .map(|p| p.to_string()),
            Some("linux/arm64/v8".into())
        );
        assert_eq!(config_platform(br#"{"os":"linux"}"#), None);
    }
}
