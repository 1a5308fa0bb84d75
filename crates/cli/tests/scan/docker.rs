//! `hubcensus scan docker://...` against hubsim on loopback: the binary resolves and streams
//! the image through the census's registry client (token service, index → platform manifest,
//! config, blobs redirected to the CDN), and its findings are checked against hubsim's ground
//! truth. Docker Hub references reach hubsim through `HUBCENSUS_REGISTRY__URL`, the way a
//! researcher points hubcensus at a mirror; `HOST:PORT` references name hubsim's registry
//! directly. And an OCI layout served as a registry (`layout_registry`) must scan exactly like
//! the layout itself — until a blob on the server is tampered with.

use std::{
    collections::BTreeSet,
    path::Path,
    process::{Command, Output},
    sync::Arc,
};

use hubcensus_hubsim::{
    Sim, SimConfig, Truth,
    population::{
        RepoKind,
        content::{Location, PlantedImage, RepoContent},
    },
};
use hubcensus_types::Category;
use serde_json::Value;

use crate::{
    builder::{OciLayout, platform},
    findings, images, json_of, layout_registry,
};

/// Repositories in the simulated population: every threat category is planted at least once
/// however small it is, and a few hundred give clean single- and multi-platform images.
const REPOS: u32 = 300;

async fn start_sim() -> (Sim, Truth) {
    let mut cfg = SimConfig::for_tests(5, REPOS);
    // A few scans per test must never meet the anonymous pull quota.
    cfg.limits.pulls_anonymous = None;
    let sim = Sim::start(cfg).await.unwrap();
    let truth = tokio::task::block_in_place(|| sim.truth());
    (sim, truth)
}

/// `hubcensus scan ARGS...` with hubsim standing in for Docker Hub's registry, configured only by
/// the environment; run off the runtime that serves hubsim.
async fn scan(sim: &Sim, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubcensus"));
    cmd.arg("scan")
        .args(args)
        .env_remove("HUBCENSUS_CONFIG")
        .env("RUST_LOG", "warn")
        .env("HUBCENSUS_REGISTRY__URL", sim.registry_url())
        .env("HUBCENSUS_REGISTRY__AUTH_URL", format!("{}/token", sim.auth_url()))
        .env("HUBCENSUS_NET__ALLOW_PRIVATE_ADDRESSES", "true")
        // Budgets far above what a test spends (each of hubsim's origins has its own).
        .env("HUBCENSUS_REGISTRY__MANIFEST_REQUESTS_PER_MINUTE", "1000000")
        .env("HUBCENSUS_NET__REQUESTS_PER_MINUTE", "1000000")
        .env("HUBCENSUS_CENSUS__SCAN_CONCURRENCY", "2");
    tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().unwrap()
}

async fn json_scan(sim: &Sim, args: &[&str]) -> (i32, Value) {
    let out = scan(sim, args).await;
    (out.status.code().unwrap(), json_of(&out))
}

fn content(sim: &Sim, repository: &str) -> Arc<RepoContent> {
    tokio::task::block_in_place(|| sim.content(repository)).unwrap()
}

/// A planted cryptomining image with at least one item no upper layer deletes (in a layer
/// file or in the config: pool and wallet in ENV, a miner command line...).
fn planted_miner(truth: &Truth) -> &PlantedImage {
    truth
        .images
        .iter()
        .find(|i| {
            i.category == Category::Cryptomining
                && i.items
                    .iter()
                    .any(|it| !matches!(it.location, Location::LayerFile { deleted_in: Some(_), .. }))
        })
        .expect("the population plants a visible cryptominer")
}

/// Clean, analysed image repositories (no plant, no decoy), in population order.
fn clean_repositories(truth: &Truth) -> impl Iterator<Item = &str> {
    truth
        .repositories
        .iter()
        .filter(|r| {
            r.kind == RepoKind::Image
                && !r.private
                && r.exclusion.is_none()
                && r.planted.is_none()
                && !r.decoy
        })
        .map(|r| r.repository.as_str())
}

/// The first clean repository whose newest tag offers an image for `os/architecture`.
fn clean_with(sim: &Sim, truth: &Truth, os: &str, architecture: &str) -> (String, String) {
    clean_repositories(truth)
        .find_map(|repo| {
            let c = content(sim, repo);
            let tag = c.tags.first()?;
            tag.images
                .iter()
                .any(|i| i.os == os && i.architecture == architecture)
                .then(|| (repo.to_owned(), tag.name.clone()))
        })
        .unwrap_or_else(|| panic!("no clean {os}/{architecture} image among {REPOS} repositories"))
}

/// Every planted item of `image` is a finding where the truth puts it: layer digest and path
/// (flagged deleted exactly when an upper layer deletes it), or config field.
fn assert_planted_items_found(report: &Value, image: &PlantedImage) {
    let mut missing = Vec::new();
    for item in &image.items {
        let found = findings(report).iter().any(|f| match &item.location {
            Location::LayerFile { layer, path, deleted_in } => {
                f["layer"] == layer.as_str()
                    && f["path"] == path.as_str()
                    && f["deleted_in_upper_layer"] == deleted_in.is_some()
            }
            Location::Config { field } => {
                f["layer"] == "config" && f["path"].as_str().is_some_and(|p| p.starts_with(field.as_str()))
            }
            Location::RepoName { .. } => true,
        });
        if !found {
            missing.push(format!("{} at {:?}", item.technique, item.location));
        }
    }
    assert!(missing.is_empty(), "planted items not found:\n{}\nreport: {report:#}", missing.join("\n"));
}

/// (rule, layer, path, fingerprint) of every finding: what two scans of one image must share.
pub(crate) fn finding_keys(report: &Value) -> BTreeSet<(String, String, String, String)> {
    findings(report)
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_owned();
            (s("rule"), s("layer"), s("path"), s("fingerprint"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_cryptominer_is_found_in_the_registry_and_exits_1() {
    let (sim, truth) = start_sim().await;
    let image = planted_miner(&truth);
    let reference = format!("docker://{}:{}", image.repository, image.tag);
    let (code, report) = json_scan(&sim, &["--format", "json", "--min-confidence", "low", &reference]).await;
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["image"], format!("{}:{}", image.repository, image.tag));
    assert!(report["categories"].as_array().unwrap().contains(&"cryptomining".into()), "{report:#}");
    assert_planted_items_found(&report, image);
    // Every layer of the linux/amd64 image was streamed, verified and walked.
    let layers = report["layers"].as_array().unwrap();
    assert!(layers.len() >= 2, "base and application layers: {report:#}");
    for l in layers {
        assert!(l["error"].is_null() && l["skipped"].is_null(), "{l}");
        assert!(l["bytes"].as_u64().unwrap() > 0 && l["entries"].as_u64().unwrap() > 0, "{l}");
    }
    // The same scan in the other output formats keeps the exit code.
    let sarif = scan(&sim, &["--format", "sarif", &reference]).await;
    assert_eq!(sarif.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    let table = scan(&sim, &[&reference]).await;
    assert_eq!(table.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&table.stdout).contains("cryptomining"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_named_by_host_and_port_serves_the_same_image_by_digest() {
    let (sim, truth) = start_sim().await;
    let image = planted_miner(&truth);
    let by_tag = format!("docker://{}:{}", image.repository, image.tag);
    let (code, via_hub) = json_scan(&sim, &["--format", "json", &by_tag]).await;
    assert_eq!(code, 1);
    // hubsim's registry named in the reference itself: plain HTTP on loopback (allowed by the
    // environment), anonymous, the token realm and CDN taken from the registry's answers.
    let host = sim.registry_url().strip_prefix("http://").unwrap();
    let by_digest = format!("docker://{host}/{}@{}", image.repository, image.manifest_digest);
    let (code, direct) = json_scan(&sim, &["--format", "json", &by_digest]).await;
    assert_eq!(code, 1, "{direct:#}");
    assert_eq!(direct["image"], by_digest.strip_prefix("docker://").unwrap());
    assert_eq!(finding_keys(&direct), finding_keys(&via_hub));
    assert_eq!(direct["layers"], via_hub["layers"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_image_exits_0_and_platforms_pick_their_own_layers() {
    let (sim, truth) = start_sim().await;
    let (repo, tag) = clean_with(&sim, &truth, "linux", "arm64");
    let reference = format!("docker://{repo}:{tag}");
    let (code, amd64) = json_scan(&sim, &["--format", "json", &reference]).await;
    assert_eq!(code, 0, "{amd64:#}");
    assert_eq!(findings(&amd64).len(), 0);
    assert_eq!(amd64["categories"], serde_json::json!([]));

    let (code, arm64) = json_scan(&sim, &["--format", "json", "--platform", "linux/arm64", &reference]).await;
    assert_eq!(code, 0, "{arm64:#}");
    let digests = |r: &Value| -> Vec<String> {
        r["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap().to_owned()).collect()
    };
    // The layers hubsim lists for the tag's arm64 image, in order, are the ones scanned.
    let c = content(&sim, &repo);
    let listed = c.tags[0].images.iter().find(|i| i.os == "linux" && i.architecture == "arm64").unwrap();
    let expected: Vec<String> =
        listed.layers.iter().filter_map(|l| l.digest.as_ref().map(ToString::to_string)).collect();
    assert_eq!(digests(&arm64), expected);
    // The base layers are per architecture (the application layer may be shared).
    assert_ne!(digests(&amd64)[0], expected[0], "arm64's base layer is not amd64's");
    for l in arm64["layers"].as_array().unwrap() {
        assert!(l["error"].is_null() && l["entries"].as_u64().unwrap() > 0, "{l}");
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_layer_is_listed_as_skipped_with_its_reason() {
    let (sim, truth) = start_sim().await;
    let (repo, tag) = clean_with(&sim, &truth, "windows", "amd64");
    let (code, report) = json_scan(
        &sim,
        &["--format", "json", "--platform", "windows/amd64", &format!("docker://{repo}:{tag}")],
    )
    .await;
    assert_eq!(code, 0, "a skipped foreign layer leaves the verdict complete: {report:#}");
    let layers = report["layers"].as_array().unwrap();
    let skipped: Vec<&Value> = layers.iter().filter(|l| !l["skipped"].is_null()).collect();
    assert_eq!(skipped.len(), 1, "{report:#}");
    assert_eq!(skipped[0]["skipped"], "foreign layer (urls)");
    assert_eq!(skipped[0]["entries"], 0);
    assert!(layers.iter().any(|l| l["skipped"].is_null() && l["entries"].as_u64().unwrap() > 0));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_repositories_and_bad_references_exit_2_with_a_reason() {
    let (sim, _truth) = start_sim().await;
    let host = sim.registry_url().strip_prefix("http://").unwrap().to_owned();
    for (source, wanted) in [
        // Hub's quirk, which hubsim keeps: a missing repository is a 401, read as not found.
        ("docker://nobody/does-not-exist:latest".to_owned(), "nobody/does-not-exist:latest not found"),
        (format!("docker://{host}/nobody/does-not-exist:v1"), "nobody/does-not-exist:v1 not found"),
        ("docker://a/b/c".to_owned(), "Docker Hub repositories are NAME or NAMESPACE/NAME"),
        (format!("docker://{host}/app"), "addresses repositories as NAMESPACE/NAME"),
        ("docker://ns/app:v1@sha256:00".to_owned(), "expected 64 hex digits"),
    ] {
        let out = scan(&sim, &[&source]).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{source}: {stderr}");
        assert!(stderr.contains(wanted), "{source}: {stderr}");
        assert!(out.stdout.is_empty(), "{source}: nothing on stdout");
    }
    // Without private addresses allowed, a loopback registry is refused before anything is sent.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubcensus"));
    cmd.args(["scan", &format!("docker://{host}/ns/app:v1")]).env_remove("HUBCENSUS_CONFIG");
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
    sim.shutdown().await;
}

/// [`images::small_multiarch`] as a layout tagged `v1`: an index over an attestation, the clean
/// linux/arm64 image and the infected linux/amd64 one. Returns the amd64 layer digests, bottom
/// first.
fn write_layout(dir: &Path) -> Vec<String> {
    let images = images::small_multiarch();
    let layout = OciLayout::create(dir);
    let (amd64, digests) = layout.image(&images.amd64);
    let (arm64, _) = layout.image(&images.arm64);
    let attestation = layout.attestation(amd64["digest"].as_str().unwrap());
    let index = layout.index_blob(&[
        attestation,
        platform(&arm64, "linux", "arm64"),
        platform(&amd64, "linux", "amd64"),
    ]);
    layout.tag_all(vec![(index, "v1")]);
    digests
}

/// `hubcensus scan` with only the environment that lets it reach a loopback registry, run off
/// the runtime that serves the registry (or its token service).
pub(crate) async fn scan_loopback(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubcensus"));
    cmd.arg("scan")
        .args(args)
        .env_remove("HUBCENSUS_CONFIG")
        .env("RUST_LOG", "warn")
        .env("HUBCENSUS_NET__ALLOW_PRIVATE_ADDRESSES", "true");
    tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().unwrap()
}

/// [`scan_loopback`]'s exit code and JSON report.
pub(crate) async fn scan_local_registry(args: &[&str]) -> (i32, Value) {
    let out = scan_loopback(args).await;
    (out.status.code().unwrap(), json_of(&out))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layout_served_as_a_registry_scans_exactly_like_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path());
    let host = layout_registry::serve(dir.path().to_owned()).await;
    let local = format!("oci:{}:v1", dir.path().display());
    let remote = format!("docker://{host}/acme/app:v1");
    for (platform, want) in [("linux/amd64", 1), ("linux/arm64", 0)] {
        let args = |source: &str| {
            ["--format", "json", "--min-confidence", "low", "--platform", platform, source].map(str::to_owned)
        };
        let (local_code, mut from_layout) =
            scan_local_registry(&args(&local).iter().map(String::as_str).collect::<Vec<_>>()).await;
        let (remote_code, mut from_registry) =
            scan_local_registry(&args(&remote).iter().map(String::as_str).collect::<Vec<_>>()).await;
        assert_eq!((local_code, remote_code), (want, want), "{platform}: {from_registry:#}");
        assert_eq!(from_registry["image"], format!("{host}/acme/app:v1"));
        from_layout["image"] = Value::Null;
        from_registry["image"] = Value::Null;
        assert_eq!(from_registry, from_layout, "{platform}: the same report from either source");
    }
    let (_, amd64) = scan_local_registry(&["--format", "json", &remote]).await;
    let key =
        findings(&amd64).iter().find(|f| f["rule"] == "private_key").expect("the deleted key is reported");
    assert_eq!(key["deleted_in_upper_layer"], true);
    assert!(findings(&amd64).iter().any(|f| f["path"] == "usr/local/bin/xmrig"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_lies_about_a_layer_is_an_error_for_that_layer_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let digests = write_layout(dir.path());
    let layout = OciLayout { dir: dir.path().to_owned() };
    let path = layout.blob_path(&digests[1]);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff; // the gzip trailer: the stream may still decode, the digest cannot match
    std::fs::write(&path, bytes).unwrap();
    let host = layout_registry::serve(dir.path().to_owned()).await;
    let (code, report) =
        scan_local_registry(&["--format", "json", &format!("docker://{host}/acme/app:v1")]).await;
    assert_eq!(code, 2, "{report:#}");
    let error = report["layers"][1]["error"].as_str().expect("the lying layer records its error");
    assert!(error.contains("digest mismatch"), "{error}");
    assert!(report["layers"][0]["error"].is_null(), "{report:#}");
    assert!(findings(&report).iter().any(|f| f["path"] == "usr/local/bin/xmrig"), "other layers still count");
}
