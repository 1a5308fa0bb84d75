//! Choosing one manifest from a multi-platform index, as `docker pull` does: the first entry
//! whose platform the wanted one accepts, skipping BuildKit attestation entries
//! (`unknown/unknown`), which are not images at all.

use hubcensus_types::{MediaTypeKind, Platform};

use crate::{
    ImageError, Result,
    document::{Descriptor, Index},
};

/// The index entry for `wanted`.
///
/// Entries without a platform are taken only when they are the index's sole image entry (an
/// OCI layout's own index.json often lists one manifest without a platform).
///
/// # Errors
/// [`ImageError::PlatformNotFound`] naming the platforms the index offers.
pub fn select_manifest<'a>(index: &'a Index, wanted: &Platform) -> Result<&'a Descriptor> {
    let images: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| !d.is_attestation())
        .filter(|d| !matches!(d.media_type().kind(), MediaTypeKind::Other) || d.media_type.is_none())
        .collect();
    if let Some(found) = images.iter().find(|d| d.platform.as_ref().is_some_and(|p| wanted.accepts(p))) {
        return Ok(found);
    }
    if let [only] = images.as_slice()
        && only.platform.is_none()
    {
        return Ok(only);
    }
    let available: Vec<String> = images
        .iter()
        .map(|d| d.platform.as_ref().map_or_else(|| "(none)".into(), Platform::to_string))
        .collect();
    Err(ImageError::PlatformNotFound {
        wanted: wanted.to_string(),
        available: if available.is_empty() { "no image entries".into() } else { available.join(", ") },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(json: &str) -> Index {
        serde_json::from_str(json).unwrap()
    }

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    const D3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

    fn multi_arch() -> Index {
        index(&format!(
            r#"{{"manifests":[
            {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{D3}","platform":{{"os":"unknown","architecture":"unknown"}},
              "annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}},
            {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{D1}","platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},
            {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{D2}","platform":{{"os":"linux","architecture":"amd64"}}}}]}}"#
        ))
    }

    #[test]
    fn picks_the_wanted_platform_and_skips_attestations() {
        let idx = multi_arch();
        assert_eq!(select_manifest(&idx, &Platform::linux_amd64()).unwrap().digest.as_str(), D2);
        let arm: Platform = "linux/arm64".parse().unwrap();
        assert_eq!(select_manifest(&idx, &arm).unwrap().digest.as_str(), D1);
        let s390x: Platform = "linux/s390x".parse().unwrap();
        let err = select_manifest(&idx, &s390x).unwrap_err().to_string();
        assert!(
            err.contains("linux/arm64/v8") && err.contains("linux/amd64") && !err.contains("unknown/unknown"),
            "{err}"
        );
    }

    #[test]
    fn a_sole_entry_without_platform_is_taken() {
        let idx = index(&format!(r#"{{"manifests":[{{"digest":"{D1}"}}]}}"#));
        assert_eq!(select_manifest(&idx, &Platform::linux_amd64()).unwrap().digest.as_str(), D1);
    }
}
