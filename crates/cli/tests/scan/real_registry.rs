//! `hubcensus scan docker://127.0.0.1:PORT/NS/REPO...` against a real OCI registry (issue #5):
//! Debian's `docker-registry`, the CNCF distribution registry, with token auth, started by
//! `hubcensus-testkit`. The images are pushed with the kit's distribution-API code:
//!
//! - `census/app:v1`, an OCI index over an attestation entry, a clean linux/arm64 image (plain
//!   tar layer) and the infected linux/amd64 image of [`images::small_multiarch`] (a zstd layer
//!   with a miner, its pool config and a private key; a gzip layer whose whiteout deletes the
//!   key; a CRC-valid GitHub token in ENV);
//! - `census/clean:v1`, a single-platform Docker schema 2 image (one gzip layer).
//!
//! The real binary must authenticate (the token service counts what it issued, and for which
//! scope), pick the platform's image from the index by tag or by the index's digest, scan an
//! image named by its own digest, and report the planted items on the right layers. Without
//! the registry binary the tests fail with the install command, unless
//! `HUBCENSUS_SKIP_REGISTRY_TESTS=1`.

use hubcensus_testkit::{Format, Layer, Pushed, Pusher, TokenRegistry, registry_available};
use hubcensus_types::MediaType;
use serde_json::{Value, json};

use crate::{
    builder::{ImageSpec, TarBuilder},
    docker::{finding_keys, scan_local_registry, scan_loopback},
    find, findings, images,
};

/// The registry and what was pushed to it.
struct Census {
    registry: TokenRegistry,
    index: Pushed,
    amd64: Pushed,
    /// The amd64 image's layers, bottom first.
    amd64_layers: Vec<Layer>,
    arm64_layers: Vec<Layer>,
    clean_layers: Vec<Layer>,
    github_token: String,
}

impl Census {
    /// `docker://127.0.0.1:PORT/REPOSITORY` followed by `:TAG` or `@DIGEST`.
    fn reference(&self, repository_and_target: &str) -> String {
        format!("docker://{}/{repository_and_target}", self.registry.host())
    }
}

/// The spec's layers as the registry stores them, in the spec's compressions.
fn layers(spec: &ImageSpec) -> Vec<Layer> {
    spec.layers.iter().map(|(tar, comp)| Layer::new(comp.media_type(), tar)).collect()
}

async fn push(
    pusher: &Pusher<'_>,
    reference: &str,
    format: Format,
    spec: &ImageSpec,
) -> (Pushed, Vec<Layer>) {
    let layers = layers(spec);
    (pusher.image(reference, format, &spec.config, &layers).await, layers)
}

async fn start() -> Census {
    let registry = TokenRegistry::start().await;
    let images = images::small_multiarch();
    let app = registry.pusher("census/app").await;
    let (amd64, amd64_layers) = push(&app, "amd64", Format::Oci, &images.amd64).await;
    let (arm64, arm64_layers) = push(&app, "arm64", Format::Oci, &images.arm64).await;
    let statement = Layer::new(
        "application/vnd.in-toto+json",
        br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}"#,
    );
    let attestation = app.image("attestation", Format::Oci, &json!({}), &[statement]).await;
    let index = app
        .index(
            "v1",
            MediaType::OCI_INDEX,
            &[
                attestation.as_attestation_of(&amd64.digest),
                arm64.for_platform("linux", "arm64", None),
                amd64.for_platform("linux", "amd64", None),
            ],
        )
        .await;

    let mut tar = TarBuilder::new();
    tar.file("etc/os-release", 0o644, b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
    tar.file("usr/share/doc/README", 0o644, b"nothing to see here\n");
    let clean_layers = vec![Layer::new(MediaType::DOCKER_LAYER_GZIP, &tar.finish())];
    let config = json!({ "architecture": "amd64", "os": "linux", "config": { "Cmd": ["/bin/sh"] } });
    registry.pusher("census/clean").await.image("v1", Format::Docker, &config, &clean_layers).await;

    Census {
        registry,
        index,
        amd64,
        amd64_layers,
        arm64_layers,
        clean_layers,
        github_token: images.github_token,
    }
}

/// Each layer of the report: the pushed layer's digest, media type and size, scanned whole.
fn assert_layers_scanned(report: &Value, pushed: &[Layer]) {
    let layers = report["layers"].as_array().unwrap();
    let got: Vec<(&str, &str, u64)> = layers
        .iter()
        .map(|l| {
            assert!(l["error"].is_null() && l["skipped"].is_null(), "{l}");
            assert!(l["entries"].as_u64().unwrap() > 0, "{l}");
            (l["digest"].as_str().unwrap(), l["media_type"].as_str().unwrap(), l["bytes"].as_u64().unwrap())
        })
        .collect();
    let digests: Vec<String> = pushed.iter().map(|l| l.digest().to_string()).collect();
    let want: Vec<(&str, &str, u64)> = pushed
        .iter()
        .zip(&digests)
        .map(|(l, d)| (d.as_str(), l.media_type(), l.blob().len() as u64))
        .collect();
    assert_eq!(got, want, "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_image_behind_token_auth_is_found_by_tag_and_by_digest() {
    if !registry_available() {
        return;
    }
    let census = start().await;
    let issued_before = census.registry.tokens_issued();
    let by_tag = census.reference("census/app:v1");
    let (code, report) = scan_local_registry(&["--format", "json", &by_tag]).await;
    assert_eq!(code, 1, "findings: {report:#}\nregistry log:\n{}", census.registry.log());
    assert_eq!(report["image"], format!("{}/census/app:v1", census.registry.host()));

    // The scan authenticated: distribution demanded a token and the token service issued one
    // for pulling this repository (the pushes asked for pull,push).
    assert!(census.registry.tokens_issued() > issued_before, "no token was issued for the scan");
    let scopes = census.registry.issuer().scopes();
    assert!(scopes.contains(&"repository:census/app:pull".to_owned()), "{scopes:?}");

    // linux/amd64 from the index: its two layers, zstd then gzip, streamed and walked whole.
    assert_layers_scanned(&report, &census.amd64_layers);
    let (lower, upper) = (census.amd64_layers[0].digest(), census.amd64_layers[1].digest());
    assert_eq!(census.amd64_layers[0].media_type(), MediaType::OCI_LAYER_ZSTD);
    assert_eq!(census.amd64_layers[1].media_type(), MediaType::OCI_LAYER_GZIP);
    let expected: &[(&str, &str, &str, &str, bool)] = &[
        ("cryptomining", "miner_strings", "usr/local/bin/xmrig", lower.as_str(), false),
        ("cryptomining", "stratum_url", "opt/miner/config.json", lower.as_str(), false),
        ("cryptomining", "monero_wallet", "opt/miner/config.json", lower.as_str(), false),
        ("embedded_keys", "private_key", "root/.ssh/id_rsa", lower.as_str(), true),
        ("embedded_keys", "github_token", "config.Env[1]", "config", false),
    ];
    for &(category, rule, path, layer, deleted) in expected {
        let f = find(&report, rule, path).unwrap_or_else(|| panic!("no {rule} at {path}: {report:#}"));
        assert_eq!(
            (f["category"].as_str(), f["layer"].as_str(), f["deleted_in_upper_layer"].as_bool()),
            (Some(category), Some(layer), Some(deleted)),
            "{f}"
        );
    }
    assert!(findings(&report).iter().all(|f| f["layer"] != upper.as_str()), "the upper layer is clean");
    assert!(!report.to_string().contains(&census.github_token), "the token is printed in clear");
    assert_eq!(report["categories"], json!(["cryptomining", "embedded_keys"]));

    // The amd64 manifest named by its digest is the same image, the same report.
    let by_digest = census.reference(&format!("census/app@{}", census.amd64.digest));
    let (code, direct) = scan_local_registry(&["--format", "json", &by_digest]).await;
    assert_eq!(code, 1, "{direct:#}");
    assert_eq!(direct["image"], by_digest.strip_prefix("docker://").unwrap());
    assert_eq!(finding_keys(&direct), finding_keys(&report));
    assert_eq!(direct["layers"], report["layers"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_flag_picks_the_clean_arm64_image_by_tag_and_by_index_digest() {
    if !registry_available() {
        return;
    }
    let census = start().await;
    let by_tag = census.reference("census/app:v1");
    let by_index = census.reference(&format!("census/app@{}", census.index.digest));
    for reference in [&by_tag, &by_index] {
        let (code, report) =
            scan_local_registry(&["--format", "json", "--platform", "linux/arm64", reference]).await;
        assert_eq!(code, 0, "{reference}: {report:#}");
        assert_layers_scanned(&report, &census.arm64_layers);
        assert_eq!(census.arm64_layers[0].media_type(), MediaType::OCI_LAYER, "a plain tar layer");
        assert_eq!(findings(&report).len(), 0, "{report:#}");
    }
    // The index by digest, default platform: the infected amd64 image.
    let (code, report) = scan_local_registry(&["--format", "json", &by_index]).await;
    assert_eq!(code, 1, "{report:#}");
    assert_layers_scanned(&report, &census.amd64_layers);
    // A platform the index does not offer is an error naming the ones it does.
    let out = scan_loopback(&["--platform", "linux/s390x", &by_tag]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("linux/arm64, linux/amd64"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_docker_image_exits_0_and_a_missing_tag_exits_2() {
    if !registry_available() {
        return;
    }
    let census = start().await;
    // By address, and by the name `localhost` (the token realm stays 127.0.0.1).
    let port = census.registry.host().rsplit_once(':').unwrap().1;
    for host in [census.registry.host().to_owned(), format!("localhost:{port}")] {
        let reference = format!("docker://{host}/census/clean:v1");
        let (code, report) =
            scan_local_registry(&["--format", "json", "--min-confidence", "low", &reference]).await;
        assert_eq!(code, 0, "{reference}: {report:#}");
        assert_eq!(report["image"], format!("{host}/census/clean:v1"));
        assert_layers_scanned(&report, &census.clean_layers);
        assert_eq!(report["layers"][0]["media_type"], MediaType::DOCKER_LAYER_GZIP);
        assert_eq!(findings(&report).len(), 0, "{report:#}");
        assert_eq!(report["categories"], json!([]));
    }

    for (reference, wanted) in [
        ("census/clean:v2", "census/clean:v2 not found"),
        ("census/nothing:v1", "census/nothing:v1 not found"),
    ] {
        let out = scan_loopback(&[&census.reference(reference)]).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{reference}: {stderr}");
        assert!(stderr.contains(wanted), "{reference}: {stderr}");
        assert!(out.stdout.is_empty(), "{reference}: nothing on stdout");
    }
}
