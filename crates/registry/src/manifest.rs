//! Manifests as the registry serves them: the Accept list, and the checks that make a response
//! trustworthy before anything parses it.
//!
//! A manifest is accepted only when its bytes hash to the digest asked for (a by-digest GET)
//! and to the `Docker-Content-Digest` the registry sent, and when `Content-Type` and the body's
//! own `mediaType` (or, without one, its shape) agree. A signed schema1 manifest's digest covers
//! its JWS payload — the bytes without the `signatures` block — as distribution computes it.

use base64::Engine as _;
use hubcensus_types::{Digest, MediaType, MediaTypeKind};
use serde::Deserialize;

use crate::{RegistryError, hash::digest_like};

/// Every manifest type a census reads, most specific first: without the index types a registry
/// picks a platform for us, without the v2 types Docker Hub down-converts to schema1.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.v1+prettyjws, \
application/vnd.docker.distribution.manifest.v1+json";

/// What a HEAD says about a manifest (free: HEADs do not count against the pull quota).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    /// `Docker-Content-Digest` (for a tag: the index digest of a multi-platform image).
    pub digest: Digest,
    /// `Content-Type`.
    pub media_type: MediaType,
    /// `Content-Length`, if sent.
    pub size: Option<u64>,
}

/// A manifest whose bytes were verified against its digest and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    /// The digest of the bytes (of the JWS payload for signed schema1).
    pub digest: Digest,
    /// The media type, agreed by `Content-Type` and the body.
    pub media_type: MediaType,
    /// The exact bytes served.
    pub bytes: Vec<u8>,
}

impl FetchedManifest {
    /// How a census treats it: index, manifest, schema1 or other.
    pub fn kind(&self) -> MediaTypeKind {
        self.media_type.kind()
    }
}

/// Enough of any manifest-like document to tell what it is.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shape {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    schema_version: Option<u64>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    config: Option<serde_json::Value>,
    #[serde(default)]
    fs_layers: Option<serde_json::Value>,
    #[serde(default)]
    signatures: Option<Vec<Signature>>,
}

#[derive(Debug, Deserialize)]
struct Signature {
    #[serde(default)]
    protected: String,
}

impl Shape {
    fn kind(&self) -> MediaTypeKind {
        match (self.schema_version, &self.fs_layers, &self.manifests, &self.config) {
            (Some(1), ..) | (_, Some(_), _, _) => MediaTypeKind::Schema1,
            (_, _, Some(_), _) => MediaTypeKind::Index,
            (_, _, _, Some(_)) => MediaTypeKind::Manifest,
            _ => MediaTypeKind::Other,
        }
    }
}

/// Content types that say nothing about the document (some registries and proxies send them).
fn is_generic(mt: &MediaType) -> bool {
    matches!(mt.as_str(), "" | "application/json" | "text/plain" | "application/octet-stream")
}

/// Checks a manifest response and returns it verified.
///
/// `expected` is the digest the request named (a by-digest GET), `header_digest` the
/// `Docker-Content-Digest` value.
pub(crate) fn verify(
    what: &str,
    expected: Option<&Digest>,
    content_type: Option<&str>,
    header_digest: Option<&str>,
    bytes: Vec<u8>,
) -> Result<FetchedManifest, RegistryError> {
    let shape: Shape = serde_json::from_slice(&bytes)
        .map_err(|e| RegistryError::malformed(format!("manifest {what}: not a JSON object: {e}")))?;
    let header = MediaType::new(content_type.unwrap_or(""));
    let body_kind = shape.kind();
    let media_type = match (&shape.media_type, is_generic(&header)) {
        (Some(body), false) if MediaType::new(body) != header => {
            return Err(RegistryError::MediaTypeMismatch {
                what: what.to_owned(),
                header: header.to_string(),
                body: body.clone(),
            });
        }
        (Some(body), true) => MediaType::new(body),
        (None, true) => match body_kind {
            MediaTypeKind::Schema1 if shape.signatures.is_some() => MediaType::new(MediaType::SCHEMA1_SIGNED),
            MediaTypeKind::Schema1 => MediaType::new(MediaType::SCHEMA1),
            MediaTypeKind::Index => MediaType::new(MediaType::OCI_INDEX),
            MediaTypeKind::Manifest => MediaType::new(MediaType::OCI_MANIFEST),
            _ => header,
        },
        _ => header,
    };
    // The declared type must also fit the body's shape: an "index" without `manifests` is a lie
    // just as much as a contradicting `mediaType`.
    let declared = media_type.kind();
    if matches!(declared, MediaTypeKind::Index | MediaTypeKind::Manifest | MediaTypeKind::Schema1)
        && body_kind != declared
    {
        return Err(RegistryError::MediaTypeMismatch {
            what: what.to_owned(),
            header: media_type.to_string(),
            body: format!("a document shaped like {body_kind:?}"),
        });
    }
    let like = expected.cloned().or_else(|| header_digest.and_then(|h| h.trim().parse().ok()));
    let like = like.unwrap_or_else(|| Digest::sha256_of(b""));
    let digest = match (declared, shape.signatures.as_deref()) {
        (MediaTypeKind::Schema1, Some([first, ..])) => {
            let payload = jws_payload(&bytes, &first.protected).ok_or_else(|| {
                RegistryError::malformed(format!("manifest {what}: schema1 signature header unreadable"))
            })?;
            digest_like(&like, &payload)
        }
        _ => digest_like(&like, &bytes),
    };
    if let Some(h) = header_digest {
        let claimed: Digest = h.trim().parse().map_err(|e| {
            RegistryError::malformed(format!("manifest {what}: Docker-Content-Digest {h:?}: {e}"))
        })?;
        if claimed != digest {
            return Err(RegistryError::DigestMismatch {
                what: format!("manifest {what}"),
                expected: claimed,
                actual: digest,
            });
        }
    }
    if let Some(e) = expected
        && *e != digest
    {
        return Err(RegistryError::DigestMismatch {
            what: format!("manifest {what}"),
            expected: e.clone(),
            actual: digest,
        });
    }
    Ok(FetchedManifest { digest, media_type, bytes })
}

/// The signed payload of a `prettyjws` schema1 manifest: the first `formatLength` bytes plus
/// the base64url `formatTail`, both named in the protected header (libtrust's JWS format).
fn jws_payload(bytes: &[u8], protected: &str) -> Option<Vec<u8>> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Protected {
        format_length: usize,
        format_tail: String,
    }
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('='));
    let header: Protected = serde_json::from_slice(&b64(protected).ok()?).ok()?;
    let mut payload = bytes.get(..header.format_length)?.to_vec();
    payload.extend_from_slice(&b64(&header.format_tail).ok()?);
    Some(payload)
}

/// A Docker schema1 manifest: layers in `fsLayers` (top first) and, in `history`, one
/// `v1Compatibility` JSON per layer, the first being the image's config.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Schema1 {
    #[serde(default)]
    pub(crate) architecture: Option<String>,
    pub(crate) fs_layers: Vec<Schema1Layer>,
    #[serde(default)]
    pub(crate) history: Vec<Schema1History>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Schema1Layer {
    pub(crate) blob_sum: Digest,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Schema1History {
    #[serde(default)]
    pub(crate) v1_compatibility: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const OCI: &str = MediaType::OCI_MANIFEST;

    fn manifest_bytes() -> Vec<u8> {
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[]}"#.to_vec()
    }

    #[test]
    fn digests_must_agree() {
        let bytes = manifest_bytes();
        let d = Digest::sha256_of(&bytes);
        let ok = verify("a/b:c", Some(&d), Some(OCI), Some(d.as_str()), bytes.clone()).unwrap();
        assert_eq!((&ok.digest, ok.kind()), (&d, MediaTypeKind::Manifest));
        let other = Digest::sha256_of(b"other");
        let e = verify("a/b:c", None, Some(OCI), Some(other.as_str()), bytes.clone()).unwrap_err();
        assert!(matches!(e, RegistryError::DigestMismatch { ref expected, .. } if *expected == other), "{e}");
        let e = verify("a/b@x", Some(&other), Some(OCI), None, bytes.clone()).unwrap_err();
        assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e}");
        let e = verify("a/b:c", None, Some(OCI), Some("md5:abc"), bytes).unwrap_err();
        assert!(matches!(e, RegistryError::Malformed { .. }), "{e}");
    }

    #[test]
    fn media_type_lies_are_errors() {
        let bytes = manifest_bytes();
        let e = verify("a/b:c", None, Some(MediaType::OCI_INDEX), None, bytes.clone()).unwrap_err();
        assert!(matches!(e, RegistryError::MediaTypeMismatch { .. }), "{e}");
        // Without a body mediaType, the shape must fit the header.
        let index = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
        let e = verify("a/b:c", None, Some(MediaType::DOCKER_MANIFEST), None, index.clone()).unwrap_err();
        assert!(matches!(e, RegistryError::MediaTypeMismatch { .. }), "{e}");
        // A generic Content-Type defers to the body, then to its shape.
        assert_eq!(
            verify("x", None, Some("application/json"), None, bytes).unwrap().kind(),
            MediaTypeKind::Manifest
        );
        assert_eq!(verify("x", None, None, None, index).unwrap().kind(), MediaTypeKind::Index);
        // Parameters and case in Content-Type are not a lie.
        let ok = verify(
            "x",
            None,
            Some("Application/Vnd.OCI.Image.Manifest.v1+json; charset=utf-8"),
            None,
            manifest_bytes(),
        );
        assert!(ok.is_ok());
        assert!(matches!(
            verify("x", None, Some(OCI), None, b"[1]".to_vec()),
            Err(RegistryError::Malformed { .. })
        ));
    }

    #[test]
    fn signed_schema1_digest_covers_the_payload() {
        let payload = "{\n   \"schemaVersion\": 1,\n   \"name\": \"a/b\",\n   \"fsLayers\": []\n}";
        let format_length = payload.len() - 2;
        let protected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            r#"{{"formatLength":{format_length},"formatTail":"Cn0","time":"2017-06-01T12:00:00Z"}}"#
        ));
        let signed = format!(
            "{},\n   \"signatures\": [\n      {{\"header\": {{\"alg\": \"ES256\"}}, \"signature\": \"x\", \"protected\": \"{protected}\"}}\n   ]\n}}",
            &payload[..format_length]
        );
        let d = Digest::sha256_of(payload.as_bytes());
        let m =
            verify("a/b:old", None, Some(MediaType::SCHEMA1_SIGNED), Some(d.as_str()), signed.into_bytes())
                .unwrap();
        assert_eq!((&m.digest, m.kind()), (&d, MediaTypeKind::Schema1));
        let bad = b"{\"schemaVersion\":1,\"fsLayers\":[],\"signatures\":[{\"protected\":\"!!\"}]}".to_vec();
        assert!(matches!(
            verify("x", None, Some(MediaType::SCHEMA1_SIGNED), None, bad),
            Err(RegistryError::Malformed { .. })
        ));
    }
}
