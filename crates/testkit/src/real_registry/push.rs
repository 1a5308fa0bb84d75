//! Pushing with the distribution API, as `docker push` does: each blob as one monolithic upload
//! (`POST /blobs/uploads/`, then `PUT ?digest=`), then the manifest (`PUT /manifests/REF`),
//! whose digest the registry must echo in `Docker-Content-Digest`.

use hubcensus_types::{Digest, MediaType};
use serde_json::{Value, json};

use super::{SERVICE, TokenRegistry, http};
use crate::layer;

/// The manifest family of a single-platform image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Docker schema 2 (`application/vnd.docker.distribution.manifest.v2+json`).
    Docker,
    /// OCI image manifest (`application/vnd.oci.image.manifest.v1+json`).
    Oci,
}

impl Format {
    /// The manifest's media type.
    pub fn manifest_type(self) -> &'static str {
        match self {
            Self::Docker => MediaType::DOCKER_MANIFEST,
            Self::Oci => MediaType::OCI_MANIFEST,
        }
    }

    /// The config blob's media type.
    pub fn config_type(self) -> &'static str {
        match self {
            Self::Docker => MediaType::DOCKER_CONFIG,
            Self::Oci => MediaType::OCI_CONFIG,
        }
    }
}

/// A layer blob ready to push: its media type, its bytes as stored, and its diff id (the
/// digest of the uncompressed content, for the config's `rootfs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    media_type: String,
    blob: Vec<u8>,
    diff_id: Digest,
}

impl Layer {
    /// A layer of `media_type` holding `content` (a tar, or any other blob), compressed as the
    /// media type says: a type ending in `gzip` is gzipped, one ending in `zstd` is
    /// zstd-compressed, anything else is stored as it is (a plain tar, an in-toto statement).
    pub fn new(media_type: &str, content: &[u8]) -> Self {
        let blob = if media_type.ends_with("gzip") {
            layer::gzip(content)
        } else if media_type.ends_with("zstd") {
            layer::zstd(content)
        } else {
            content.to_vec()
        };
        Self { media_type: media_type.to_owned(), blob, diff_id: Digest::sha256_of(content) }
    }

    /// An OCI gzip layer of `tar`.
    pub fn gzip(tar: &[u8]) -> Self {
        Self::new(MediaType::OCI_LAYER_GZIP, tar)
    }

    /// An OCI zstd layer of `tar`.
    pub fn zstd(tar: &[u8]) -> Self {
        Self::new(MediaType::OCI_LAYER_ZSTD, tar)
    }

    /// The media type in the manifest.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// The bytes as stored and served.
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }

    /// The blob's digest, as the manifest names it.
    pub fn digest(&self) -> Digest {
        Digest::sha256_of(&self.blob)
    }
}

/// A manifest or index the registry accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Its digest, as the registry echoed it.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its exact bytes.
    pub bytes: Vec<u8>,
}

impl Pushed {
    /// Its descriptor (`mediaType`, `digest`, `size`).
    pub fn descriptor(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest.to_string(), "size": self.bytes.len()})
    }

    /// Its descriptor with a `platform` (`os`, `architecture`, and `variant` if any), as an
    /// index entry.
    pub fn for_platform(&self, os: &str, architecture: &str, variant: Option<&str>) -> Value {
        let mut d = self.descriptor();
        d["platform"] = json!({"architecture": architecture, "os": os});
        if let Some(v) = variant {
            d["platform"]["variant"] = v.into();
        }
        d
    }

    /// Its descriptor as BuildKit lists an attestation manifest in an index: platform
    /// `unknown/unknown`, annotated with the image it attests.
    pub fn as_attestation_of(&self, subject: &Digest) -> Value {
        let mut d = self.for_platform("unknown", "unknown", None);
        d["annotations"] = json!({
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": subject.to_string(),
        });
        d
    }
}

/// Pushes blobs and manifests to one repository of a [`TokenRegistry`] with a pull+push token.
#[derive(Debug)]
pub struct Pusher<'a> {
    registry: &'a TokenRegistry,
    http: reqwest::Client,
    token: String,
    name: String,
}

impl<'a> Pusher<'a> {
    /// Asks the registry's token service for `repository:NAME:pull,push`.
    ///
    /// # Panics
    /// The token service does not answer with a token.
    pub async fn new(registry: &'a TokenRegistry, repository: &str) -> Self {
        let http = http();
        let scope = format!("repository:{repository}:pull,push");
        let mut realm = url::Url::parse(registry.realm()).expect("the realm is a URL");
        realm.query_pairs_mut().append_pair("service", SERVICE).append_pair("scope", &scope);
        let answer: Value = http
            .get(realm)
            .send()
            .await
            .expect("the token service answers")
            .json()
            .await
            .expect("the token service answers JSON");
        let token = answer["token"].as_str().expect("a token in the answer").to_owned();
        Self { registry, http, token, name: repository.to_owned() }
    }

    /// Uploads `bytes` monolithically; returns its descriptor with `mediaType` set.
    ///
    /// # Panics
    /// The registry refuses the upload (its answer is in the message).
    pub async fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let digest = Digest::sha256_of(bytes);
        let base = self.registry.base_url();
        let r = self
            .http
            .post(format!("{base}/v2/{}/blobs/uploads/", self.name))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the registry answers an upload");
        assert_eq!(r.status(), 202, "start upload: {}", self.registry.log());
        let location = r.headers()["location"].to_str().expect("an ASCII Location").to_owned();
        let mut url = url::Url::parse(base).and_then(|b| b.join(&location)).expect("the upload URL");
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let r = self
            .http
            .put(url)
            .bearer_auth(&self.token)
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .expect("the registry answers the upload's end");
        assert_eq!(r.status(), 201, "finish upload of {digest}: {}", r.text().await.unwrap_or_default());
        json!({"mediaType": media_type, "digest": digest.to_string(), "size": bytes.len()})
    }

    /// PUTs `body` (serialised pretty, as some tools do: the digest is of the exact bytes) as
    /// the manifest `reference` (a tag, or its digest) of type `media_type`.
    ///
    /// # Panics
    /// The registry refuses it, or echoes another digest.
    pub async fn manifest(&self, reference: &str, media_type: &str, body: &Value) -> Pushed {
        let bytes = serde_json::to_vec_pretty(body).expect("a JSON manifest");
        let r = self
            .http
            .put(format!("{}/v2/{}/manifests/{reference}", self.registry.base_url(), self.name))
            .bearer_auth(&self.token)
            .header("content-type", media_type)
            .body(bytes.clone())
            .send()
            .await
            .expect("the registry answers a manifest PUT");
        let status = r.status();
        let echoed =
            r.headers().get("docker-content-digest").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(status, 201, "PUT manifest {reference}: {}", r.text().await.unwrap_or_default());
        let digest = Digest::sha256_of(&bytes);
        assert_eq!(echoed.as_deref(), Some(digest.as_str()), "Docker-Content-Digest of {reference}");
        Pushed { digest, media_type: media_type.to_owned(), bytes }
    }

    /// A single-platform image: `config` (its `rootfs` set to the layers' diff ids), the
    /// layers, and the manifest tagged `reference`.
    ///
    /// # Panics
    /// The registry refuses a blob or the manifest.
    pub async fn image(&self, reference: &str, format: Format, config: &Value, layers: &[Layer]) -> Pushed {
        let mut config = config.clone();
        let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.to_string()).collect();
        config["rootfs"] = json!({"type": "layers", "diff_ids": diff_ids});
        let config_bytes = serde_json::to_vec(&config).expect("a JSON config");
        let config = self.blob(format.config_type(), &config_bytes).await;
        let mut descriptors = Vec::with_capacity(layers.len());
        for l in layers {
            descriptors.push(self.blob(&l.media_type, &l.blob).await);
        }
        let manifest = json!({
            "schemaVersion": 2, "mediaType": format.manifest_type(), "config": config, "layers": descriptors,
        });
        self.manifest(reference, format.manifest_type(), &manifest).await
    }

    /// An image index (OCI) or manifest list (Docker) of `media_type` over `entries` (see
    /// [`Pushed::for_platform`]), tagged `reference`.
    ///
    /// # Panics
    /// The registry refuses it (an entry's manifest must have been pushed first).
    pub async fn index(&self, reference: &str, media_type: &str, entries: &[Value]) -> Pushed {
        let index = json!({"schemaVersion": 2, "mediaType": media_type, "manifests": entries});
        self.manifest(reference, media_type, &index).await
    }
}
