//! Opening images from disk: OCI layouts (tags, nested multi-arch indexes, lying blobs,
//! oversized documents), docker save archives and bare layers.

// Test helpers outside #[test] functions unwrap too: a panic is the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{fs, io::Read, path::Path};

use hubcensus_image::{BlobError, Image, ImageError, MAX_DOCUMENT_BYTES, Source};
use hubcensus_types::{Digest, Platform};
use serde_json::{Value, json};

fn write_blob(dir: &Path, bytes: &[u8]) -> Digest {
    let d = Digest::sha256_of(bytes);
    fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    fs::write(dir.join("blobs/sha256").join(d.hex()), bytes).unwrap();
    d
}

fn tar_with(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Writes one image (config + layers) and returns its manifest descriptor.
fn image(dir: &Path, arch: &str, layers: &[Vec<u8>]) -> Value {
    let config = serde_json::to_vec(&json!({ "architecture": arch, "os": "linux", "created": "2024-05-01T00:00:00Z",
        "rootfs": { "type": "layers", "diff_ids": layers.iter().map(|l| Digest::sha256_of(l).to_string()).collect::<Vec<_>>() } }))
    .unwrap();
    let c = write_blob(dir, &config);
    let layer_descs: Vec<Value> = layers
        .iter()
        .map(|l| json!({ "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": write_blob(dir, l), "size": l.len() }))
        .collect();
    let manifest = serde_json::to_vec(&json!({ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": c, "size": config.len() },
        "layers": layer_descs })).unwrap();
    let m = write_blob(dir, &manifest);
    json!({ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m, "size": manifest.len() })
}

fn layout(dir: &Path, entries: &[Value]) {
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&json!({ "schemaVersion": 2, "manifests": entries })).unwrap(),
    )
    .unwrap();
}

fn tagged(mut d: Value, tag: &str) -> Value {
    d["annotations"] = json!({ "org.opencontainers.image.ref.name": tag });
    d
}

fn open(source: &str) -> Result<Image, ImageError> {
    Image::open(&source.parse::<Source>()?, &Platform::linux_amd64())
}

fn read_layer(img: &Image, i: usize) -> Result<Vec<u8>, BlobError> {
    let mut r = img.open_layer(i).unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).map_err(|e| BlobError::Io { name: "x".into(), message: e.to_string() })?;
    r.finish()?;
    Ok(out)
}

#[test]
fn tags_select_images_and_a_nested_index_selects_the_platform() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let amd = image(d, "amd64", &[tar_with(&[("a", b"amd64")])]);
    let arm = image(d, "arm64", &[tar_with(&[("a", b"arm64")])]);
    let mut amd_p = amd.clone();
    amd_p["platform"] = json!({ "os": "linux", "architecture": "amd64" });
    let mut arm_p = arm.clone();
    arm_p["platform"] = json!({ "os": "linux", "architecture": "arm64", "variant": "v8" });
    let index = serde_json::to_vec(&json!({ "schemaVersion": 2, "manifests": [arm_p, amd_p] })).unwrap();
    let idx = json!({ "mediaType": "application/vnd.oci.image.index.v1+json", "digest": write_blob(d, &index), "size": index.len() });
    layout(d, &[tagged(idx, "multi"), tagged(arm.clone(), "arm-only")]);

    let img = open(&format!("oci:{}:multi", d.display())).unwrap();
    assert_eq!(img.platform().unwrap().to_string(), "linux/amd64");
    assert_eq!(img.manifest_digest().unwrap().as_str(), amd["digest"].as_str().unwrap());
    assert!(read_layer(&img, 0).unwrap().windows(5).any(|w| w == b"amd64"));
    assert_eq!(img.config().unwrap().summary.created.as_deref(), Some("2024-05-01T00:00:00Z"));

    let arm_img =
        Image::open(&format!("oci:{}:multi", d.display()).parse().unwrap(), &"linux/arm64".parse().unwrap())
            .unwrap();
    assert_eq!(arm_img.platform().unwrap().to_string(), "linux/arm64/v8");

    let by_digest = open(&format!("oci:{}:{}", d.display(), arm["digest"].as_str().unwrap())).unwrap();
    assert_eq!(by_digest.layers().len(), 1);

    let err = open(&format!("oci:{}", d.display())).unwrap_err();
    assert!(matches!(err, ImageError::Ambiguous { count: 2, .. }), "{err}");
    let err = open(&format!("oci:{}:v9", d.display())).unwrap_err().to_string();
    assert!(err.contains("multi") && err.contains("arm-only"), "{err}");
}

#[test]
fn a_tampered_manifest_or_layer_is_a_digest_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = image(d, "amd64", &[tar_with(&[("etc/x", b"original")])]);
    layout(d, &[tagged(m.clone(), "v1")]);
    let img = open(&format!("oci:{}:v1", d.display())).unwrap();
    let layer = img.layers()[0].digest.clone().unwrap();
    let path = d.join("blobs/sha256").join(layer.hex());
    let mut bytes = fs::read(&path).unwrap();
    let at = bytes.windows(8).position(|w| w == b"original").unwrap();
    bytes[at] = b'O';
    fs::write(&path, &bytes).unwrap();
    assert!(matches!(read_layer(&img, 0), Err(BlobError::DigestMismatch { .. })));

    let mpath = d.join("blobs/sha256").join(m["digest"].as_str().unwrap().trim_start_matches("sha256:"));
    let mut manifest = fs::read(&mpath).unwrap();
    manifest.push(b' ');
    fs::write(&mpath, manifest).unwrap();
    let err = open(&format!("oci:{}:v1", d.display())).unwrap_err();
    assert!(
        matches!(err, ImageError::Blob(BlobError::SizeMismatch { .. } | BlobError::DigestMismatch { .. })),
        "{err}"
    );
}

#[test]
fn oversized_documents_and_missing_blobs_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let huge = vec![b' '; (MAX_DOCUMENT_BYTES + 10) as usize];
    let big = write_blob(d, &huge);
    layout(
        d,
        &[tagged(
            json!({ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": big, "size": huge.len() }),
            "big",
        )],
    );
    assert!(matches!(open(&format!("oci:{}:big", d.display())).unwrap_err(), ImageError::TooLarge { .. }));

    let missing = Digest::sha256_of(b"not there");
    layout(
        d,
        &[tagged(
            json!({ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": missing, "size": 9 }),
            "gone",
        )],
    );
    assert!(matches!(
        open(&format!("oci:{}:gone", d.display())).unwrap_err(),
        ImageError::Blob(BlobError::Missing(_))
    ));

    let art =
        write_blob(d, br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.artifact.manifest.v1+json"}"#);
    layout(
        d,
        &[tagged(
            json!({ "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": art }),
            "chart",
        )],
    );
    assert!(matches!(
        open(&format!("oci:{}:chart", d.display())).unwrap_err(),
        ImageError::Unsupported { .. }
    ));

    // A layer blob missing from the layout: the image opens, the layer is an error, not a skip.
    let m = image(d, "amd64", &[tar_with(&[("a", b"b")])]);
    layout(d, &[tagged(m, "partial")]);
    let img = open(&format!("oci:{}:partial", d.display())).unwrap();
    fs::remove_file(d.join("blobs/sha256").join(img.layers()[0].digest.as_ref().unwrap().hex())).unwrap();
    assert!(img.layers()[0].skip_reason().is_none());
    assert!(matches!(img.open_layer(0).unwrap_err(), ImageError::Blob(BlobError::Missing(_))));

    // Indexes nested past the bound (a hostile layout) end in a typed error, not a recursion.
    let mut desc = image(d, "amd64", &[]);
    desc["platform"] = json!({ "os": "linux", "architecture": "amd64" });
    for _ in 0..6 {
        let index = serde_json::to_vec(&json!({ "schemaVersion": 2, "manifests": [desc] })).unwrap();
        desc = json!({ "mediaType": "application/vnd.oci.image.index.v1+json", "digest": write_blob(d, &index),
                       "size": index.len(), "platform": { "os": "linux", "architecture": "amd64" } });
    }
    layout(d, &[tagged(desc, "deep")]);
    assert!(matches!(open(&format!("oci:{}:deep", d.display())).unwrap_err(), ImageError::TooDeep(_)));

    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        open(&format!("oci:{}", empty.path().display())).unwrap_err(),
        ImageError::NotOciLayout { .. }
    ));
}

#[test]
fn docker_save_archives_are_read_in_place_and_verified_against_diff_ids() {
    let dir = tempfile::tempdir().unwrap();
    let l0 = tar_with(&[("bin/sh", b"#!shell")]);
    let l1 = tar_with(&[("etc/motd", b"hi")]);
    let config = serde_json::to_vec(&json!({ "architecture": "amd64", "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": [Digest::sha256_of(&l0), Digest::sha256_of(&l1)] } }))
    .unwrap();
    let config_name = format!("{}.json", Digest::sha256_of(&config).hex());
    let manifest = serde_json::to_vec(&json!([{ "Config": config_name, "RepoTags": ["me/app:1"], "Layers": ["aaa/layer.tar", "bbb/layer.tar"] }])).unwrap();
    let archive = tar_with(&[
        ("aaa/layer.tar", &l0),
        ("bbb/layer.tar", &l1),
        (&config_name, &config),
        ("manifest.json", &manifest),
    ]);
    let path = dir.path().join("save.tar");
    fs::write(&path, &archive).unwrap();
    let img = open(&format!("docker-archive:{}", path.display())).unwrap();
    assert_eq!(img.name(), "me/app:1");
    assert_eq!(img.layers().len(), 2);
    assert_eq!(read_layer(&img, 1).unwrap(), l1);
    assert_eq!(img.layers()[0].digest.as_ref().unwrap(), &Digest::sha256_of(&l0));
    assert!(matches!(
        open(&format!("docker-archive:{}:other/app:2", path.display())).unwrap_err(),
        ImageError::TagNotFound { .. }
    ));

    // A layer whose bytes do not hash to its diff id.
    let forged = tar_with(&[
        ("aaa/layer.tar", &l1),
        ("bbb/layer.tar", &l1),
        (&config_name, &config),
        ("manifest.json", &manifest),
    ]);
    fs::write(&path, &forged).unwrap();
    let img = open(&format!("docker-archive:{}", path.display())).unwrap();
    assert!(matches!(read_layer(&img, 0), Err(BlobError::DigestMismatch { .. })));

    let gz = dir.path().join("save.tar.gz");
    fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).unwrap();
    assert!(
        open(&format!("docker-archive:{}", gz.display()))
            .unwrap_err()
            .to_string()
            .contains("decompress it first")
    );
}

#[test]
fn a_bare_layer_gets_its_digest_from_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let blob = tar_with(&[("x", b"y")]);
    let path = dir.path().join("layer.tar");
    fs::write(&path, &blob).unwrap();
    let img = open(&format!("layer:{}", path.display())).unwrap();
    assert!(img.config().is_none());
    let mut r = img.open_layer(0).unwrap();
    std::io::copy(&mut r, &mut std::io::sink()).unwrap();
    assert_eq!(r.finish().unwrap().digest, Digest::sha256_of(&blob));
    let err = open("docker://ghcr.io/org/app:1").unwrap_err();
    assert!(matches!(err, ImageError::NeedsRegistry { .. }), "{err}");
}
