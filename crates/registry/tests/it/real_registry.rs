//! The client against a real OCI registry: Debian's `docker-registry` (the CNCF distribution
//! registry, 2.8) with token auth, started by `hubcensus-testkit` (ES256 tokens whose signer
//! distribution verifies, storage in a temporary directory). The test pushes with the kit's own
//! code (monolithic blob uploads, manifest PUTs) a single-platform Docker image, a multi-arch
//! OCI index (amd64 + arm64 + an attestation entry) and an image with a zstd layer, then
//! resolves, pulls and verifies them with `RegistryClient`.
//!
//! Without the binary the test fails with the install command, unless
//! `HUBCENSUS_SKIP_REGISTRY_TESTS=1` (CI installs the package).

use hubcensus_registry::{RegistryClient, RegistryError, Resolution, ResolvedImage};
use hubcensus_testkit::{
    Format, Layer, Pushed, Pusher, TokenIssuer, TokenRegistry, layer, real_registry, registry_available,
};
use hubcensus_types::{MediaType, Platform, RepoRef};
use serde_json::{Value, json};

use crate::common::client;

/// A one-layer image whose config names its architecture in ENV (`HUBCENSUS_ARCH`).
async fn image(pusher: &Pusher<'_>, reference: &str, arch: &str, format: Format, layer: &Layer) -> Pushed {
    let config = json!({
        "architecture": arch, "os": "linux",
        "config": {"Env": ["PATH=/usr/bin", format!("HUBCENSUS_ARCH={arch}")], "Cmd": ["/bin/true"]},
        "history": [{"created_by": "ADD hubcensus.txt /etc/"}],
    });
    pusher.image(reference, format, &config, std::slice::from_ref(layer)).await
}

fn text_layer(media_type: &str, text: &[u8]) -> Layer {
    Layer::new(media_type, &layer::tar_of(&[("etc/hubcensus.txt", text)]))
}

fn resolved(r: Resolution) -> ResolvedImage {
    match r {
        Resolution::Resolved(image) => image,
        Resolution::Known { digest } => panic!("unexpectedly known: {digest}"),
    }
}

async fn pull_all(client: &RegistryClient, repo: &RepoRef, image: &ResolvedImage) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for layer in image.layers.iter().filter(|l| l.skip.is_none()) {
        let blob = client.open_blob(repo, &layer.descriptor).await.unwrap();
        let mut stream = std::pin::pin!(blob.into_stream());
        let mut bytes = Vec::new();
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        out.push(bytes);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn push_then_resolve_pull_and_verify_against_distribution() {
    if !registry_available() {
        return;
    }
    let registry = TokenRegistry::start().await;
    // The registry really verifies: a well-formed token from an unknown signer is refused.
    let forged = TokenIssuer::new().token(real_registry::SERVICE, &["repository:census/single:pull".into()]);
    let r = real_registry::http()
        .get(format!("{}/v2/census/single/tags/list", registry.base_url()))
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a token signed by a key outside rootcertbundle");

    // 1. A single-platform Docker schema2 image.
    let single: RepoRef = "census/single".parse().unwrap();
    let pusher = registry.pusher(&single.to_string()).await;
    let single_layer = text_layer(MediaType::DOCKER_LAYER_GZIP, b"single-platform image\n");
    let single_digest = image(&pusher, "v1", "amd64", Format::Docker, &single_layer).await.digest;

    // 2. A multi-arch OCI index: amd64, arm64, and a BuildKit-style attestation entry.
    let multi: RepoRef = "census/multi".parse().unwrap();
    let pusher = registry.pusher(&multi.to_string()).await;
    let amd64_layer = text_layer(MediaType::OCI_LAYER_GZIP, b"amd64\n");
    let arm64_layer = text_layer(MediaType::OCI_LAYER_GZIP, b"arm64\n");
    let amd64 = image(&pusher, "amd64", "amd64", Format::Oci, &amd64_layer).await;
    let arm64 = image(&pusher, "arm64", "arm64", Format::Oci, &arm64_layer).await;
    let statement = Layer::new(
        "application/vnd.in-toto+json",
        br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document"}"#,
    );
    let attestation = image(&pusher, "att", "unknown", Format::Oci, &statement).await;
    let index = pusher
        .index(
            "latest",
            MediaType::OCI_INDEX,
            &[
                amd64.for_platform("linux", "amd64", None),
                attestation.as_attestation_of(&amd64.digest),
                arm64.for_platform("linux", "arm64", Some("v8")),
            ],
        )
        .await;
    let index_digest = index.digest;

    // 3. An image whose layer is zstd.
    let zstd_repo: RepoRef = "census/zstd".parse().unwrap();
    let pusher = registry.pusher(&zstd_repo.to_string()).await;
    let zstd_layer = text_layer(MediaType::OCI_LAYER_ZSTD, b"zstd layer\n");
    let zstd_digest = image(&pusher, "v1", "amd64", Format::Oci, &zstd_layer).await.digest;

    // Pull them back through the client: anonymous, token flow against distribution's verifier.
    let client = client(registry.base_url(), |_| {});
    let issued_before = registry.tokens_issued();

    let image = resolved(client.resolve(&single, "v1", &|_| false).await.unwrap());
    assert_eq!((&image.manifest_digest, image.index_digest.as_ref()), (&single_digest, None));
    assert_eq!(image.media_type.as_str(), MediaType::DOCKER_MANIFEST);
    assert_eq!(image.platform, Some(Platform::linux_amd64()), "from the config");
    let config: Value = serde_json::from_slice(&image.config.as_ref().unwrap().bytes).unwrap();
    assert_eq!(config["config"]["Env"][1], "HUBCENSUS_ARCH=amd64");
    assert_eq!(pull_all(&client, &single, &image).await, [single_layer.blob()]);

    let image = resolved(client.resolve(&multi, "latest", &|_| false).await.unwrap());
    assert_eq!(image.index_digest.as_ref(), Some(&index_digest));
    assert_eq!(image.manifest_digest, amd64.digest);
    let platforms: Vec<String> = image.platforms.iter().map(ToString::to_string).collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"], "the attestation entry is not a platform");
    assert_eq!(pull_all(&client, &multi, &image).await, [amd64_layer.blob()]);
    let arm = crate::common::client(registry.base_url(), |cfg| cfg.platform = "linux/arm64".parse().unwrap());
    let image = resolved(arm.resolve(&multi, "latest", &|_| false).await.unwrap());
    assert_eq!(image.manifest_digest, arm64.digest);
    assert_eq!(pull_all(&arm, &multi, &image).await, [arm64_layer.blob()]);
    // The attestation manifest itself, asked for by digest, is an artifact.
    let att = resolved(client.resolve(&multi, attestation.digest.as_str(), &|_| false).await.unwrap());
    assert!(att.artifact.as_deref().is_some_and(|a| a.starts_with("in-toto")), "{:?}", att.artifact);
    assert!(att.config.is_none() && att.layers.iter().all(|l| l.skip.is_some()));

    let image = resolved(client.resolve(&zstd_repo, "v1", &|_| false).await.unwrap());
    assert_eq!(image.manifest_digest, zstd_digest);
    assert_eq!(image.layers[0].descriptor.media_type.as_deref(), Some(MediaType::OCI_LAYER_ZSTD));
    assert!(image.layers[0].skip.is_none());
    let pulled = pull_all(&client, &zstd_repo, &image).await;
    assert_eq!(pulled, [zstd_layer.blob()]);
    let tar = zstd::stream::decode_all(pulled[0].as_slice()).unwrap();
    assert!(tar.windows(11).any(|w| w == b"zstd layer\n"));

    // Known digests cost a HEAD; missing tags and repositories are NotFound (distribution says 404).
    assert!(matches!(
        client.resolve(&multi, "latest", &|d| *d == index_digest).await.unwrap(),
        Resolution::Known { digest } if digest == index_digest
    ));
    let e = client.head_manifest(&multi, "no-such-tag").await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { .. }), "{e}");
    let e = client.get_manifest(&"census/nothing".parse().unwrap(), "v1").await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { .. }), "{e}");

    // One token per repository scope (the arm64 client has its own cache), none refreshed.
    let s = client.stats();
    assert_eq!(s.token_requests, 4, "single, multi, zstd, nothing: {s:?}");
    assert_eq!(registry.tokens_issued() - issued_before, 5);
    assert_eq!(client.quota().limit, None, "distribution sends no pull-quota headers");
}
