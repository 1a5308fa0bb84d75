//! `docker save` archives: a tar holding `manifest.json` (config and layer paths per image),
//! the config JSON and one tar per layer — or, since Docker 25, an OCI layout whose blobs the
//! manifest.json paths point at.
//!
//! The archive is never extracted. One sequential pass records where each member's bytes start
//! (tar stores members contiguously), then each layer is read by seeking to its offset, so
//! threads read layers side by side and nothing touches the disk.

use std::{
    collections::HashMap,
    fs::File,
    io::{BufReader, Read, Seek, SeekFrom},
    path::Path,
};

use hubcensus_types::{Digest, MediaType, Platform};

use crate::{
    ImageError, Result,
    blob::{Expected, MAX_DOCUMENT_BYTES, read_document},
    document::{ArchiveManifest, ConfigSummary},
    image::{Config, Image, Layer, Location},
};

/// Members indexed before giving up: a docker save archive holds a few files per layer, so a
/// million members is hostile, not an image.
const MAX_MEMBERS: usize = 100_000;
/// Longest member path accepted.
const MAX_PATH: usize = 4096;

/// Opens the image named `reference` (a `RepoTags` entry), or the only image, in `file`.
pub(crate) fn open(file: &Path, reference: Option<&str>) -> Result<Image> {
    let members = index_members(file)?;
    let manifest_bytes = read_member(file, &members, "manifest.json", "manifest.json", None)?;
    let manifests: Vec<ArchiveManifest> = serde_json::from_slice(&manifest_bytes.0)
        .map_err(|e| ImageError::malformed("manifest.json", file.display().to_string(), e))?;
    let manifest = pick(&manifests, reference, file)?;
    let config_digest = digest_in_path(&manifest.config);
    let (config_bytes, computed) = read_member(file, &members, &manifest.config, "config", config_digest)?;
    let summary: ConfigSummary = serde_json::from_slice(&config_bytes)
        .map_err(|e| ImageError::malformed("config", manifest.config.clone(), e))?;
    let platform = match (&summary.os, &summary.architecture) {
        (Some(os), Some(arch)) => format!("{os}/{arch}").parse::<Platform>().ok(),
        _ => None,
    };
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (i, path) in manifest.layers.iter().enumerate() {
        let path = normalise(path);
        let member = members.get(&path);
        // A blobs/sha256/<hex> path names the blob's digest. A legacy `<id>/layer.tar` is the
        // uncompressed tar, whose sha256 is the config's diff_id for that position.
        let digest =
            digest_in_path(&path).or_else(|| summary.rootfs.diff_ids.get(i).and_then(|d| d.parse().ok()));
        let foreign = digest.as_ref().and_then(|d| manifest.layer_sources.get(d.as_str()));
        layers.push(match (member, foreign) {
            (Some(&(offset, size)), _) => Layer {
                digest,
                media_type: foreign.map(|d| d.media_type()),
                size: Some(size),
                location: Location::Member { archive: file.to_owned(), offset, size },
            },
            (None, Some(desc)) => Layer {
                digest,
                media_type: Some(desc.media_type()),
                size: desc.size,
                location: Location::Absent,
            },
            (None, None) => Layer {
                digest,
                media_type: Some(MediaType::new(MediaType::OCI_LAYER)),
                size: None,
                location: Location::Absent,
            },
        });
    }
    let name = reference
        .map(str::to_owned)
        .or_else(|| manifest.repo_tags.first().cloned())
        .unwrap_or_else(|| computed.to_string());
    Ok(Image {
        name,
        manifest_digest: None,
        platform,
        config: Some(Config { digest: computed, bytes: config_bytes, summary }),
        layers,
    })
}

fn pick<'a>(
    manifests: &'a [ArchiveManifest],
    reference: Option<&str>,
    file: &Path,
) -> Result<&'a ArchiveManifest> {
    let tags = || {
        let all: Vec<&str> = manifests.iter().flat_map(|m| m.repo_tags.iter().map(String::as_str)).collect();
        if all.is_empty() { "no RepoTags".into() } else { all.join(", ") }
    };
    match (reference, manifests) {
        (Some(r), _) => manifests.iter().find(|m| m.repo_tags.iter().any(|t| t == r)).ok_or_else(|| {
            ImageError::TagNotFound {
                tag: r.to_owned(),
                source_name: file.display().to_string(),
                available: tags(),
            }
        }),
        (None, [only]) => Ok(only),
        (None, []) => {
            Err(ImageError::malformed("manifest.json", file.display().to_string(), "lists no images"))
        }
        (None, many) => Err(ImageError::Ambiguous {
            source_name: file.display().to_string(),
            count: many.len(),
            available: format!("docker-archive:{}:REF with REF one of: {}", file.display(), tags()),
        }),
    }
}

/// `blobs/sha256/<hex>` or `<hex>.json` → the digest those names carry.
fn digest_in_path(path: &str) -> Option<Digest> {
    if let Some(hex) = path.strip_prefix("blobs/sha256/") {
        return format!("sha256:{hex}").parse().ok();
    }
    let hex = path.strip_suffix(".json")?;
    format!("sha256:{hex}").parse().ok()
}

fn normalise(path: &str) -> String {
    path.trim_start_matches("./").trim_start_matches('/').to_owned()
}

/// One pass over the archive: each regular member's path → (data offset, size).
fn index_members(file: &Path) -> Result<HashMap<String, (u64, u64)>> {
    let mut f = File::open(file).map_err(|e| ImageError::io(file, e))?;
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic).map_err(|e| ImageError::io(file, e))?;
    if n >= 2 && magic[..2] == [0x1f, 0x8b] || n == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
        return Err(ImageError::InvalidSource {
            input: format!("docker-archive:{}", file.display()),
            reason: "the archive is compressed; decompress it first (docker save writes a plain tar)".into(),
        });
    }
    f.seek(SeekFrom::Start(0)).map_err(|e| ImageError::io(file, e))?;
    let corrupt = |e: std::io::Error| ImageError::malformed("archive", file.display().to_string(), e);
    let mut archive = tar::Archive::new(BufReader::new(f));
    let mut members = HashMap::new();
    for (count, entry) in archive.entries().map_err(corrupt)?.enumerate() {
        if count >= MAX_MEMBERS {
            return Err(ImageError::malformed(
                "archive",
                file.display().to_string(),
                format!("more than {MAX_MEMBERS} members: not a docker save archive"),
            ));
        }
        let entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let raw = entry.path_bytes();
        if raw.len() > MAX_PATH {
            continue;
        }
        let path = normalise(&String::from_utf8_lossy(&raw));
        members.insert(path, (entry.raw_file_position(), entry.size()));
    }
    Ok(members)
}

fn read_member(
    file: &Path,
    members: &HashMap<String, (u64, u64)>,
    path: &str,
    what: &'static str,
    digest: Option<Digest>,
) -> Result<(Vec<u8>, Digest)> {
    let path = normalise(path);
    let &(offset, size) = members.get(&path).ok_or_else(|| {
        ImageError::malformed("archive", file.display().to_string(), format!("has no member {path}"))
    })?;
    let mut f = File::open(file).map_err(|e| ImageError::io(file, e))?;
    f.seek(SeekFrom::Start(offset)).map_err(|e| ImageError::io(file, e))?;
    read_document(f.take(size), what, &path, Expected { digest, size: Some(size) }, MAX_DOCUMENT_BYTES)
}
