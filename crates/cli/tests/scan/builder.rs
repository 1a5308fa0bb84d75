//! Writes images to disk the way real tools do: OCI image layouts (skopeo/BuildKit shape, with
//! multi-arch indexes and attestation entries) and legacy `docker save` archives.

use std::{
    fs,
    path::{Path, PathBuf},
};

use hubcensus_testkit::layer;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comp {
    Plain,
    Gzip,
    Zstd,
}

impl Comp {
    pub(crate) fn media_type(self) -> &'static str {
        match self {
            Comp::Plain => "application/vnd.oci.image.layer.v1.tar",
            Comp::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Comp::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    pub(crate) fn compress(self, tar: &[u8]) -> Vec<u8> {
        match self {
            Comp::Plain => tar.to_vec(),
            Comp::Gzip => layer::gzip(tar),
            Comp::Zstd => layer::zstd(tar),
        }
    }
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// An uncompressed layer tar, built entry by entry.
pub(crate) struct TarBuilder {
    builder: tar::Builder<Vec<u8>>,
}

impl TarBuilder {
    pub(crate) fn new() -> Self {
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        Self { builder }
    }

    pub(crate) fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> &mut Self {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_700_000_000);
        self.builder.append_data(&mut h, path, data).unwrap();
        self
    }

    pub(crate) fn dir(&mut self, path: &str) -> &mut Self {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_mode(0o755);
        h.set_mtime(1_700_000_000);
        self.builder.append_data(&mut h, path, &[][..]).unwrap();
        self
    }

    /// Copies every entry of another tar stream (a Debian package's data.tar), keeping types,
    /// modes and link targets.
    pub(crate) fn append_tar(&mut self, tar_stream: impl std::io::Read) -> &mut Self {
        let mut archive = tar::Archive::new(tar_stream);
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let mut header = entry.header().clone();
            let path = entry.path_bytes().into_owned();
            let path = String::from_utf8_lossy(&path).into_owned();
            match header.entry_type() {
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry.link_name().unwrap().unwrap().into_owned();
                    self.builder.append_link(&mut header, &path, target).unwrap();
                }
                _ => {
                    let mut data = Vec::with_capacity(entry.size() as usize);
                    std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
                    self.builder.append_data(&mut header, &path, &data[..]).unwrap();
                }
            }
        }
        self
    }

    /// Adds a directory tree of the host under `prefix`.
    pub(crate) fn append_tree(&mut self, root: &Path, prefix: &str) -> &mut Self {
        let mut stack = vec![root.to_path_buf()];
        let mut files: Vec<PathBuf> = Vec::new();
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).unwrap() {
                let e = e.unwrap();
                let t = e.file_type().unwrap();
                if t.is_dir() {
                    stack.push(e.path());
                } else if t.is_file() {
                    files.push(e.path());
                }
            }
        }
        files.sort();
        for f in files {
            let rel = f.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel.starts_with('.') {
                continue; // the fetch script's markers
            }
            let data = fs::read(&f).unwrap();
            self.file(&format!("{prefix}/{rel}"), 0o644, &data);
        }
        self
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

/// One image: its config and its layers (uncompressed tars + how to store them).
pub(crate) struct ImageSpec {
    pub(crate) config: Value,
    pub(crate) layers: Vec<(Vec<u8>, Comp)>,
}

impl ImageSpec {
    /// The config with `rootfs.diff_ids` filled in from the layers.
    fn config_bytes(&self) -> Vec<u8> {
        let mut config = self.config.clone();
        let diff_ids: Vec<String> = self.layers.iter().map(|(tar, _)| sha256(tar)).collect();
        config["rootfs"] = json!({ "type": "layers", "diff_ids": diff_ids });
        serde_json::to_vec(&config).unwrap()
    }
}

/// Writes an OCI image layout.
pub(crate) struct OciLayout {
    pub(crate) dir: PathBuf,
}

impl OciLayout {
    pub(crate) fn create(dir: &Path) -> Self {
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Self { dir: dir.to_owned() }
    }

    pub(crate) fn blob(&self, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let path = self.dir.join("blobs/sha256").join(&digest["sha256:".len()..]);
        fs::write(path, bytes).unwrap();
        digest
    }

    pub(crate) fn blob_path(&self, digest: &str) -> PathBuf {
        self.dir.join("blobs/sha256").join(&digest["sha256:".len()..])
    }

    /// Writes the image's blobs and manifest; returns the manifest descriptor and the layer
    /// digests (bottom first).
    pub(crate) fn image(&self, image: &ImageSpec) -> (Value, Vec<String>) {
        let config = image.config_bytes();
        let config_digest = self.blob(&config);
        let mut layers = Vec::new();
        let mut digests = Vec::new();
        for (tar, comp) in &image.layers {
            let blob = comp.compress(tar);
            let digest = self.blob(&blob);
            layers.push(json!({ "mediaType": comp.media_type(), "digest": digest, "size": blob.len() }));
            digests.push(digest);
        }
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len() },
            "layers": layers,
        }))
        .unwrap();
        let digest = self.blob(&manifest);
        (
            json!({ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": manifest.len() }),
            digests,
        )
    }

    /// A BuildKit-style provenance attestation manifest for `subject` (not an image).
    pub(crate) fn attestation(&self, subject: &str) -> Value {
        let statement = self.blob(br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}"#);
        let config = self.blob(b"{}");
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2 },
            "layers": [{ "mediaType": "application/vnd.in-toto+json", "digest": statement, "size": 97,
                         "annotations": { "in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2" } }],
        }))
        .unwrap();
        let digest = self.blob(&manifest);
        json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": manifest.len(),
            "platform": { "os": "unknown", "architecture": "unknown" },
            "annotations": { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": subject },
        })
    }

    /// Writes a nested image index (blob) over `entries` and returns its descriptor.
    pub(crate) fn index_blob(&self, entries: &[Value]) -> Value {
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": entries,
        }))
        .unwrap();
        let digest = self.blob(&index);
        json!({ "mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": index.len() })
    }

    /// Writes the top-level index.json with `(descriptor, tag)` entries.
    pub(crate) fn tag_all(&self, tagged: Vec<(Value, &str)>) {
        let manifests: Vec<Value> = tagged
            .into_iter()
            .map(|(mut d, tag)| {
                d["annotations"] = json!({ "org.opencontainers.image.ref.name": tag });
                d
            })
            .collect();
        let index = json!({ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests });
        fs::write(self.dir.join("index.json"), serde_json::to_vec_pretty(&index).unwrap()).unwrap();
    }
}

pub(crate) fn platform(descriptor: &Value, os: &str, arch: &str) -> Value {
    let mut d = descriptor.clone();
    d["platform"] = json!({ "os": os, "architecture": arch });
    d
}

/// Writes a legacy `docker save` archive: `<id>/layer.tar` (uncompressed), `<config>.json`,
/// `manifest.json` — the format Docker wrote before version 25.
pub(crate) fn docker_archive(path: &Path, image: &ImageSpec, repo_tag: &str) {
    let config = image.config_bytes();
    let config_name = format!("{}.json", &sha256(&config)["sha256:".len()..]);
    let mut out = TarBuilder::new();
    let mut layer_paths = Vec::new();
    for (i, (tar, _)) in image.layers.iter().enumerate() {
        let id = &sha256(format!("layer-{i}").as_bytes())["sha256:".len()..];
        out.dir(&format!("{id}/"));
        out.file(&format!("{id}/VERSION"), 0o644, b"1.0");
        out.file(&format!("{id}/layer.tar"), 0o644, tar);
        layer_paths.push(format!("{id}/layer.tar"));
    }
    out.file(&config_name, 0o644, &config);
    let manifest = json!([{ "Config": config_name, "RepoTags": [repo_tag], "Layers": layer_paths }]);
    out.file("manifest.json", 0o644, &serde_json::to_vec(&manifest).unwrap());
    out.file("repositories", 0o644, b"{}");
    fs::write(path, out.finish()).unwrap();
}
