//! What to do with each layer, and whether a manifest is an image at all.
//!
//! Scannable: gzip, zstd (OCI `+zstd` and BuildKit's Docker `rootfs.diff.tar.zstd`) and plain
//! tar layers, and layers without a media type (schema1; the scanner decides by magic bytes).
//! Skipped, with the reason recorded: foreign layers (their bytes live at external `urls`, which
//! a census never fetches with credentials and does not fetch at all), non-distributable ones,
//! and anything that is not a layer (in-toto statements, helm charts, wasm modules, model
//! weights). A manifest whose config is not an image config, or that declares an
//! `artifactType`, is a non-image artifact as a whole.

use hubcensus_image::{Descriptor, Manifest};
use hubcensus_types::{MediaType, MediaTypeKind};

/// In-toto statements: BuildKit's SBOM and provenance attestations.
const IN_TOTO: &str = "application/vnd.in-toto+json";

/// A layer of a resolved image and, when it is not to be scanned, why.
#[derive(Debug, Clone)]
pub struct RemoteLayer {
    /// The manifest's descriptor (digest, size, media type, urls).
    pub descriptor: Descriptor,
    /// `None` to scan; otherwise the reason it is skipped (`foreign layer (urls)`,
    /// `non-distributable`, `not a layer: <media type>`, `artifact content: <reason>`).
    pub skip: Option<String>,
}

/// Why a layer descriptor is not scanned, or `None` to scan it.
pub(crate) fn skip_reason(desc: &Descriptor) -> Option<String> {
    let mt = desc.media_type.as_deref()?;
    let media_type = MediaType::new(mt);
    match media_type.kind() {
        MediaTypeKind::Layer(_) => None,
        MediaTypeKind::ForeignLayer if media_type.as_str() == MediaType::DOCKER_FOREIGN_LAYER => {
            Some("foreign layer (urls)".into())
        }
        MediaTypeKind::ForeignLayer => Some("non-distributable".into()),
        _ => Some(format!("not a layer: {media_type}")),
    }
}

/// A short name for a non-image media type.
fn describe(mt: &str) -> String {
    let m = mt.to_ascii_lowercase();
    let what = if m.contains("helm") {
        "helm chart"
    } else if m.contains("wasm") {
        "wasm module"
    } else if m.contains("in-toto") {
        "in-toto attestation"
    } else if m.contains("plugin") {
        "docker plugin"
    } else if m.contains("gguf") || m.contains("model") || m.contains(".ai.") {
        "model"
    } else if m.contains("cosign") || m.contains("sigstore") || m.contains("signature") {
        "signature"
    } else {
        "non-image artifact"
    };
    format!("{what} ({mt})")
}

/// Why a manifest is not an image (the `artifact` of a resolved image), or `None` for an image.
pub(crate) fn artifact_reason(manifest: &Manifest, artifact_type: Option<&str>) -> Option<String> {
    if let Some(t) = artifact_type.filter(|t| !t.is_empty()) {
        return Some(describe(t));
    }
    if let Some(mt) = manifest.config.media_type.as_deref()
        && !matches!(MediaType::new(mt).kind(), MediaTypeKind::Config)
    {
        return Some(describe(mt));
    }
    // BuildKit attestation manifests carry an image config type but only in-toto layers.
    let all_in_toto = !manifest.layers.is_empty()
        && manifest
            .layers
            .iter()
            .all(|l| l.media_type.as_deref().is_some_and(|m| MediaType::new(m).as_str() == IN_TOTO));
    all_in_toto.then(|| describe(IN_TOTO))
}

/// The layers of a manifest, classified; an artifact's layers are all skipped.
pub(crate) fn classify(layers: &[Descriptor], artifact: Option<&str>) -> Vec<RemoteLayer> {
    layers
        .iter()
        .map(|d| RemoteLayer {
            descriptor: d.clone(),
            skip: skip_reason(d).or_else(|| artifact.map(|a| format!("artifact content: {a}"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn desc(mt: Option<&str>, urls: &[&str]) -> Descriptor {
        let mut v = serde_json::json!({ "digest": D, "size": 1, "urls": urls });
        if let Some(mt) = mt {
            v["mediaType"] = mt.into();
        }
        serde_json::from_value(v).unwrap()
    }

    fn manifest(config_mt: &str, layer_mts: &[&str]) -> Manifest {
        let layers: Vec<_> =
            layer_mts.iter().map(|m| serde_json::json!({"mediaType": m, "digest": D, "size": 1})).collect();
        serde_json::from_value(serde_json::json!({
            "config": {"mediaType": config_mt, "digest": D, "size": 1}, "layers": layers
        }))
        .unwrap()
    }

    #[test]
    fn every_layer_flavour() {
        for scannable in [
            Some(MediaType::DOCKER_LAYER_GZIP),
            Some(MediaType::DOCKER_LAYER_ZSTD),
            Some(MediaType::OCI_LAYER_ZSTD),
            Some(MediaType::OCI_LAYER),
            Some("application/vnd.docker.image.rootfs.diff.tar"),
            None,
        ] {
            assert_eq!(skip_reason(&desc(scannable, &[])), None, "{scannable:?}");
        }
        assert_eq!(
            skip_reason(&desc(Some(MediaType::DOCKER_FOREIGN_LAYER), &["https://mcr.microsoft.com/x"]))
                .as_deref(),
            Some("foreign layer (urls)")
        );
        assert_eq!(
            skip_reason(&desc(Some("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"), &["u"]))
                .as_deref(),
            Some("non-distributable")
        );
        assert_eq!(
            skip_reason(&desc(Some("application/vnd.in-toto+json"), &[])).as_deref(),
            Some("not a layer: application/vnd.in-toto+json")
        );
    }

    #[test]
    fn artifacts_by_config_type_artifact_type_and_attestation_layers() {
        let image = manifest(MediaType::OCI_CONFIG, &[MediaType::OCI_LAYER_GZIP]);
        assert_eq!(artifact_reason(&image, None), None);
        let helm = manifest(
            "application/vnd.cncf.helm.config.v1+json",
            &["application/vnd.cncf.helm.chart.content.v1.tar+gzip"],
        );
        let reason = artifact_reason(&helm, None).unwrap();
        assert!(reason.starts_with("helm chart"), "{reason}");
        let layers = classify(&helm.layers, Some(&reason));
        assert!(layers[0].skip.as_deref().unwrap().starts_with("not a layer"));
        let wasm =
            manifest("application/vnd.wasm.config.v0+json", &["application/vnd.wasm.content.layer.v1+wasm"]);
        assert!(artifact_reason(&wasm, None).unwrap().starts_with("wasm module"));
        let gguf = manifest("application/vnd.oci.empty.v1+json", &[MediaType::OCI_LAYER]);
        let reason = artifact_reason(&gguf, Some("application/vnd.docker.ai.gguf.v3")).unwrap();
        assert!(reason.starts_with("model"), "{reason}");
        assert!(
            classify(&gguf.layers, Some(&reason))[0].skip.as_deref().unwrap().starts_with("artifact content")
        );
        let attestation = manifest(MediaType::OCI_CONFIG, &[IN_TOTO, IN_TOTO]);
        assert!(artifact_reason(&attestation, None).unwrap().starts_with("in-toto attestation"));
    }
}
