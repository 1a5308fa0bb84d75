//! The JSON documents of an image, parsed leniently: only the fields a scan needs, unknown
//! fields ignored, `null` where a list or map is expected read as empty.
//!
//! We do not use the `oci-spec` crate here: it models every field with builders and strict
//! enums, while a census meets documents from every tool that ever pushed to Docker Hub (Docker
//! manifest lists, BuildKit attestations, nulls where arrays belong). A descriptor's digest is
//! still parsed strictly into [`Digest`], because it becomes a file path and a database key.

use std::collections::BTreeMap;

use hubcensus_types::{Digest, MediaType, Platform};
use serde::{Deserialize, Deserializer};

/// The annotation an OCI layout uses to tag an index entry.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The annotation BuildKit puts on attestation manifests in an index.
const DOCKER_REFERENCE_TYPE: &str = "vnd.docker.reference.type";

/// A content descriptor (OCI image spec §descriptor; Docker's manifest list entries).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type; Docker archives and some old tools omit it.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The content digest.
    pub digest: Digest,
    /// The size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// The platform of an index entry.
    #[serde(default)]
    pub platform: Option<Platform>,
    /// Annotations (tags in an OCI layout's index.json).
    #[serde(default, deserialize_with = "null_default")]
    pub annotations: BTreeMap<String, String>,
    /// External URLs of a foreign layer.
    #[serde(default, deserialize_with = "null_default")]
    pub urls: Vec<String>,
}

impl Descriptor {
    /// The media type, or the empty type when absent.
    pub fn media_type(&self) -> MediaType {
        MediaType::new(self.media_type.as_deref().unwrap_or(""))
    }

    /// Whether this index entry is an attestation or other non-image entry (BuildKit marks
    /// them `unknown/unknown` and annotates them), which platform selection must skip.
    pub fn is_attestation(&self) -> bool {
        self.platform.as_ref().is_some_and(Platform::is_unknown)
            || self.annotations.get(DOCKER_REFERENCE_TYPE).is_some_and(|v| v == "attestation-manifest")
    }
}

/// An OCI image index or Docker manifest list.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// `application/vnd.oci.image.index.v1+json` or the Docker list type, if stated.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The entries.
    #[serde(default, deserialize_with = "null_default")]
    pub manifests: Vec<Descriptor>,
}

/// An OCI image manifest or Docker schema 2 manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// The media type, if stated.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, bottom first.
    #[serde(default, deserialize_with = "null_default")]
    pub layers: Vec<Descriptor>,
}

/// Just enough of any manifest-like document to tell what it is when the descriptor did not say.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Sniff {
    #[serde(default)]
    pub(crate) media_type: Option<String>,
    #[serde(default)]
    pub(crate) schema_version: Option<u32>,
    #[serde(default)]
    pub(crate) manifests: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) config: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) fs_layers: Option<serde_json::Value>,
}

/// The parts of an image config a scan needs beyond what the layer crate reads itself.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfigSummary {
    /// When the image was built (RFC 3339), used as its push date for newly-registered-domain
    /// feeds when nothing better is known.
    #[serde(default)]
    pub created: Option<String>,
    /// The platform the config declares.
    #[serde(default)]
    pub os: Option<String>,
    /// The architecture the config declares.
    #[serde(default)]
    pub architecture: Option<String>,
    /// The uncompressed layer digests.
    #[serde(default, deserialize_with = "null_default")]
    pub rootfs: RootFs,
}

/// `rootfs` of an image config.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RootFs {
    /// `diff_ids`: sha256 of each layer's uncompressed tar, bottom first.
    #[serde(default, deserialize_with = "null_default")]
    pub diff_ids: Vec<String>,
}

/// One image of a `docker save` archive's `manifest.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArchiveManifest {
    /// Path of the config JSON inside the archive.
    pub config: String,
    /// `repo:tag` names of the image.
    #[serde(default, deserialize_with = "null_default")]
    pub repo_tags: Vec<String>,
    /// Paths of the layer tars inside the archive, bottom first.
    #[serde(default, deserialize_with = "null_default")]
    pub layers: Vec<String>,
    /// Descriptors of foreign layers, keyed by digest.
    #[serde(default, deserialize_with = "null_default")]
    pub layer_sources: BTreeMap<String, Descriptor>,
}

/// Treats JSON `null` as the type's default (an empty list or map).
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_nulls_and_unknown_fields() {
        let index: Index = serde_json::from_str(
            r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":7,
            "annotations":null,"platform":{"os":"unknown","architecture":"unknown"},"x-extra":1}]}"#,
        )
        .unwrap();
        assert!(index.manifests[0].is_attestation());
        let manifest: Manifest = serde_json::from_str(
            r#"{"config":{"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"layers":null}"#,
        )
        .unwrap();
        assert!(manifest.layers.is_empty());
    }

    #[test]
    fn a_digest_that_could_escape_the_blob_dir_is_rejected() {
        let r = serde_json::from_str::<Descriptor>(r#"{"digest":"sha256:../../../../etc/passwd"}"#);
        assert!(r.is_err());
    }
}
