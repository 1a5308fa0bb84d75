//! Manifest, index and config documents, written byte-for-byte the way the pushing tools wrote
//! them.
//!
//! A registry serves stored bytes, and a digest is the sha256 of those exact bytes, so the
//! simulator must fix formatting once and serve it verbatim: Docker's distribution code writes
//! schema2 manifests and manifest lists with three-space indentation (the docker-17-era fixture),
//! BuildKit writes OCI manifests and indexes with two spaces in Go struct field order, and
//! schema1 manifests are JWS-signed with the payload digest computed without the signature.

use std::collections::BTreeMap;

use bytes::Bytes;
use hubcensus_types::{Digest, MediaType};
use serde::Serialize;

/// A content descriptor in OCI field order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OciDescriptor {
    #[serde(rename = "mediaType")]
    pub(crate) media_type: String,
    pub(crate) digest: String,
    pub(crate) size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) urls: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) annotations: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) platform: Option<PlatformJson>,
}

/// A content descriptor in Docker distribution field order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DockerDescriptor {
    #[serde(rename = "mediaType")]
    pub(crate) media_type: String,
    pub(crate) size: u64,
    pub(crate) digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) urls: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) platform: Option<PlatformJson>,
}

/// An index / list entry's platform.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PlatformJson {
    pub(crate) architecture: String,
    pub(crate) os: String,
    #[serde(rename = "os.version", skip_serializing_if = "Option::is_none")]
    pub(crate) os_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) variant: Option<String>,
}

#[derive(Serialize)]
struct OciManifest<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u8,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    #[serde(rename = "artifactType", skip_serializing_if = "Option::is_none")]
    artifact_type: Option<&'a str>,
    config: &'a OciDescriptor,
    layers: &'a [OciDescriptor],
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<&'a BTreeMap<String, String>>,
}

#[derive(Serialize)]
struct OciIndex<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u8,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    manifests: &'a [OciDescriptor],
}

#[derive(Serialize)]
struct DockerManifest<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u8,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    config: &'a DockerDescriptor,
    layers: &'a [DockerDescriptor],
}

#[derive(Serialize)]
struct DockerList<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u8,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    manifests: &'a [DockerDescriptor],
}

fn pretty<T: Serialize>(value: &T, indent: &[u8]) -> Bytes {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(indent);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    // Serialising plain structs of strings and numbers into a Vec cannot fail.
    let _ = value.serialize(&mut ser);
    Bytes::from(out)
}

/// A BuildKit OCI image manifest (two-space indent).
pub(crate) fn oci_manifest(
    config: &OciDescriptor,
    layers: &[OciDescriptor],
    artifact_type: Option<&str>,
    annotations: Option<&BTreeMap<String, String>>,
) -> Bytes {
    pretty(
        &OciManifest {
            schema_version: 2,
            media_type: MediaType::OCI_MANIFEST,
            artifact_type,
            config,
            layers,
            annotations,
        },
        b"  ",
    )
}

/// A BuildKit OCI image index (two-space indent).
pub(crate) fn oci_index(manifests: &[OciDescriptor]) -> Bytes {
    pretty(&OciIndex { schema_version: 2, media_type: MediaType::OCI_INDEX, manifests }, b"  ")
}

/// A Docker schema2 manifest (three-space indent).
pub(crate) fn docker_manifest(config: &DockerDescriptor, layers: &[DockerDescriptor]) -> Bytes {
    pretty(
        &DockerManifest { schema_version: 2, media_type: MediaType::DOCKER_MANIFEST, config, layers },
        b"   ",
    )
}

/// A Docker manifest list (three-space indent).
pub(crate) fn docker_list(manifests: &[DockerDescriptor]) -> Bytes {
    pretty(&DockerList { schema_version: 2, media_type: MediaType::DOCKER_LIST, manifests }, b"   ")
}

/// Input for a schema1 manifest: one entry per non-empty layer, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct Schema1Layer {
    pub(crate) blob: Digest,
    pub(crate) created: String,
    pub(crate) created_by: String,
}

fn b64url(data: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, data)
}

/// A signed (`prettyjws`) schema1 manifest and its digest (sha256 of the payload without the
/// signature block, as the registry computes it). `config` is the top layer's image config.
pub(crate) fn schema1(
    name: &str,
    tag: &str,
    arch: &str,
    layers: &[Schema1Layer],
    config: &serde_json::Value,
    signing_seed: u64,
) -> (Digest, Bytes) {
    let mut ids = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let mut h = <sha2::Sha256 as sha2::Digest>::new();
        sha2::Digest::update(&mut h, l.blob.as_str().as_bytes());
        sha2::Digest::update(&mut h, (i as u64).to_le_bytes());
        ids.push(hex::encode(sha2::Digest::finalize(h)));
    }
    let mut history = Vec::new();
    for (i, l) in layers.iter().enumerate().rev() {
        let mut v = if i + 1 == layers.len() {
            let mut top = config.clone();
            if let Some(obj) = top.as_object_mut() {
                obj.remove("rootfs");
                obj.remove("history");
            }
            top
        } else {
            serde_json::json!({ "container_config": { "Cmd": [l.created_by] } })
        };
        if let Some(obj) = v.as_object_mut() {
            obj.insert("id".into(), ids[i].clone().into());
            if i > 0 {
                obj.insert("parent".into(), ids[i - 1].clone().into());
            }
            obj.insert("created".into(), l.created.clone().into());
        }
        history.push(serde_json::json!({ "v1Compatibility": v.to_string() }));
    }
    let fs_layers: Vec<serde_json::Value> =
        layers.iter().rev().map(|l| serde_json::json!({ "blobSum": l.blob.as_str() })).collect();
    #[derive(Serialize)]
    struct Unsigned<'a> {
        #[serde(rename = "schemaVersion")]
        schema_version: u8,
        name: &'a str,
        tag: &'a str,
        architecture: &'a str,
        #[serde(rename = "fsLayers")]
        fs_layers: Vec<serde_json::Value>,
        history: Vec<serde_json::Value>,
    }
    let unsigned =
        pretty(&Unsigned { schema_version: 1, name, tag, architecture: arch, fs_layers, history }, b"   ");
    let digest = Digest::sha256_of(&unsigned);
    let format_length = unsigned.len() - 2;
    let mut rng = crate::rng::Rng::new(signing_seed, "schema1-sig", 0);
    let protected = b64url(
        format!(
            "{{\"formatLength\":{format_length},\"formatTail\":\"Cn0\",\"time\":\"2017-06-01T12:00:00Z\"}}"
        )
        .as_bytes(),
    );
    let kid: Vec<String> = (0..12).map(|_| rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 4)).collect();
    let sig = b64url(&rng.bytes::<64>());
    let x = b64url(&rng.bytes::<32>());
    let y = b64url(&rng.bytes::<32>());
    let mut signed = unsigned[..format_length].to_vec();
    signed.extend_from_slice(
        format!(
            ",\n   \"signatures\": [\n      {{\n         \"header\": {{\n            \"jwk\": {{\n               \"crv\": \"P-256\",\n               \"kid\": \"{}\",\n               \"kty\": \"EC\",\n               \"x\": \"{x}\",\n               \"y\": \"{y}\"\n            }},\n            \"alg\": \"ES256\"\n         }},\n         \"signature\": \"{sig}\",\n         \"protected\": \"{protected}\"\n      }}\n   ]\n}}",
            kid.join(":")
        )
        .as_bytes(),
    );
    (digest, Bytes::from(signed))
}

/// The payload bytes of a signed schema1 manifest (what its digest covers).
#[cfg(test)]
pub(crate) fn schema1_payload(signed: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(signed).ok()?;
    let at = text.find("\"protected\": \"")? + "\"protected\": \"".len();
    let end = text[at..].find('"')? + at;
    let raw =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &text[at..end]).ok()?;
    let header: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    let len = usize::try_from(header.get("formatLength")?.as_u64()?).ok()?;
    let mut out = signed.get(..len)?.to_vec();
    out.extend_from_slice(b"\n}");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema1_digest_covers_the_payload_without_signatures() {
        let layers = vec![Schema1Layer {
            blob: Digest::sha256_of(b"x"),
            created: "2017-01-01T00:00:00Z".into(),
            created_by: "/bin/sh -c #(nop) ADD file:abc in / ".into(),
        }];
        let cfg = serde_json::json!({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["bash"]}});
        let (digest, signed) = schema1("library/x", "latest", "amd64", &layers, &cfg, 1);
        let payload = schema1_payload(&signed).unwrap();
        assert_eq!(Digest::sha256_of(&payload), digest);
        let v: serde_json::Value = serde_json::from_slice(&signed).unwrap();
        assert_eq!(v["schemaVersion"], 1);
        assert_eq!(v["fsLayers"][0]["blobSum"], layers[0].blob.as_str());
        assert!(v["signatures"][0]["protected"].is_string());
    }

    #[test]
    fn docker_manifests_use_three_space_indent_in_distribution_order() {
        let c = DockerDescriptor {
            media_type: MediaType::DOCKER_CONFIG.into(),
            size: 3,
            digest: "sha256:aa".into(),
            urls: None,
            platform: None,
        };
        let text = String::from_utf8(docker_manifest(&c, &[]).to_vec()).unwrap();
        assert!(text.starts_with("{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n   \"config\": {\n      \"mediaType\""));
        assert!(text.contains("\"size\": 3,\n      \"digest\""));
    }
}
