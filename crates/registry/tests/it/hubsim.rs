//! The client against hubsim: Docker Hub's token flow, 401 for missing repositories, token
//! expiry midway, the CDN that rejects Authorization, the pull quota, schema1, BuildKit indexes
//! with attestations, zstd, foreign layers, artifacts and lying digests.

use std::{sync::Arc, time::Duration};

use hubcensus_hubsim::population::{RepoKind, content::uses_zstd};
use hubcensus_net::{Gate, GateConfig, OriginLimit};
use hubcensus_registry::{
    Credentials, RegistryClient, RegistryConfig, RegistryError, Resolution, ResolvedImage,
};
use hubcensus_types::{Digest, MediaType, Platform};
use url::Url;

use crate::common::*;

fn resolved(r: Resolution) -> ResolvedImage {
    match r {
        Resolution::Resolved(image) => image,
        Resolution::Known { digest } => panic!("unexpectedly known: {digest}"),
    }
}

/// Downloads every scannable layer and checks it against its descriptor.
async fn pull_layers(
    client: &hubcensus_registry::RegistryClient,
    repo: &hubcensus_types::RepoRef,
    image: &ResolvedImage,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for layer in image.layers.iter().filter(|l| l.skip.is_none()) {
        let mut blob = client.open_blob(repo, &layer.descriptor).await.unwrap();
        let mut bytes = Vec::new();
        while let Some(chunk) = blob.next_chunk().await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(Digest::sha256_of(&bytes), layer.descriptor.digest);
        assert_eq!(blob.bytes_read(), bytes.len() as u64);
        out.push(bytes);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn token_flow_index_attestations_and_known_digests() {
    let sim = sim(2_000, |_| {}).await;
    let repo = image_repo(&sim, MediaType::OCI_INDEX);
    let content = content(&sim, &repo);
    let tag = &content.tags[0];
    let client = client(sim.registry_url(), |_| {});

    let image = resolved(client.resolve(&repo, &tag.name, &|_| false).await.unwrap());
    assert_eq!(image.index_digest.as_ref(), Some(&tag.digest));
    let amd64 = tag.images.iter().find(|i| i.os == "linux" && i.architecture == "amd64").unwrap();
    assert_eq!(Some(&image.manifest_digest), amd64.digest.as_ref());
    assert_eq!(image.platform, Some(Platform::linux_amd64()));
    // BuildKit's attestation manifests (unknown/unknown) are in the index but not platforms.
    assert!(tag.images.iter().any(|i| i.os == "unknown"), "the index carries attestations");
    assert!(
        !image.platforms.is_empty() && image.platforms.iter().all(|p| !p.is_unknown()),
        "{:?}",
        image.platforms
    );
    assert!(image.platforms.contains(&Platform::linux_amd64()));
    assert!(!image.schema1 && image.artifact.is_none());
    let config = image.config.as_ref().unwrap();
    assert_eq!(Digest::sha256_of(&config.bytes), config.digest, "config verified");
    assert!(image.layers.iter().all(|l| l.skip.is_none()), "{:?}", image.layers);
    // Every layer comes through the CDN redirect, which answers 400 to any Authorization.
    let layers = pull_layers(&client, &repo, &image).await;
    assert_eq!(layers.len(), image.layers.len());

    let s = client.stats();
    // The first HEAD met a 401 (learning the challenge) and went again with a token; every
    // later request carried the token up front.
    assert_eq!((s.token_requests, s.manifest_heads, s.manifest_gets), (1, 2, 2), "{s:?}");
    assert_eq!(s.auth_retries, 1);
    assert_eq!(s.blob_gets as usize, 1 + image.layers.len(), "config and layers");
    let q = client.quota();
    assert_eq!(
        (q.limit, q.pulls_spent, q.window),
        (Some(100), 2, Some(Duration::from_secs(21_600))),
        "{q:?}"
    );
    assert_eq!(q.remaining, Some(98));

    // Known: a HEAD, no GET.
    let index_digest = image.index_digest.clone().unwrap();
    let again = client.resolve(&repo, &tag.name, &|d| *d == index_digest).await.unwrap();
    assert!(matches!(again, Resolution::Known { ref digest } if *digest == index_digest));
    let s2 = client.stats();
    assert_eq!((s2.manifest_heads, s2.manifest_gets, s2.token_requests), (3, 2, 1), "{s2:?}");

    // With the platform digest Hub's tag listing gives, a new index costs one pull.
    let fresh = crate::common::client(sim.registry_url(), |_| {});
    let hint = (image.index_digest.as_ref().unwrap(), amd64.digest.as_ref().unwrap());
    let hinted = resolved(fresh.resolve_with_hint(&repo, &tag.name, &|_| false, Some(hint)).await.unwrap());
    assert_eq!(hinted.manifest_digest, image.manifest_digest);
    assert_eq!(hinted.index_digest, image.index_digest);
    assert_eq!(hinted.config, image.config);
    assert_eq!(hinted.platform, Some(Platform::linux_amd64()), "from the config");
    assert_eq!((fresh.stats().manifest_gets, fresh.quota().pulls_spent), (1, 1));

    // Issue 17: a hint from a listing of another index (the tag re-pushed since) is not used:
    // the tag's own index decides, at two GETs.
    let stale = crate::common::client(sim.registry_url(), |_| {});
    let other: hubcensus_types::Digest = format!("sha256:{}", "0".repeat(64)).parse().unwrap();
    let hint = (&other, amd64.digest.as_ref().unwrap());
    let unhinted = resolved(stale.resolve_with_hint(&repo, &tag.name, &|_| false, Some(hint)).await.unwrap());
    assert_eq!(unhinted.manifest_digest, image.manifest_digest);
    assert_eq!(stale.stats().manifest_gets, 2, "the index, then its amd64 manifest");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_and_private_repositories_are_not_found() {
    let sim = sim(2_000, |_| {}).await;
    let client = client(sim.registry_url(), |_| {});
    let missing = "nosuchuser/nosuchrepo".parse().unwrap();
    let e = client.head_manifest(&missing, "latest").await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { .. }) && e.is_permanent_for_item(), "{e}");
    assert_eq!(client.stats().token_requests, 1, "a freshly granted token refused is final: no second token");

    let pop = sim.population();
    let private = (0..pop.len() as u32).find(|&i| pop.repo(i).private).map(|i| pop.full_name(i)).unwrap();
    let e = client.get_manifest(&private.parse().unwrap(), "latest").await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { .. }), "{e}");
    assert_eq!(client.quota().pulls_spent, 0);

    let repo = image_repo(&sim, MediaType::DOCKER_MANIFEST);
    let e = client.resolve(&repo, "no-such-tag", &|_| false).await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { ref reason, .. } if reason.contains("404")), "{e}");
    let e = client.get_manifest(&repo, "no-such-tag").await.unwrap_err();
    assert!(
        matches!(e, RegistryError::NotFound { ref reason, .. } if reason.contains("ManifestUnknown")),
        "{e}"
    );
    // A reference that is neither a tag nor a digest never reaches the network.
    let before = client.stats();
    let e = client.head_manifest(&repo, "../../etc").await.unwrap_err();
    assert!(matches!(e, RegistryError::Malformed { .. }), "{e}");
    assert_eq!(client.stats(), before);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_that_expires_midway_is_refreshed_once() {
    // 300 simulated seconds of token life pass in two real seconds; the client, trusting
    // `expires_in: 300`, still holds it when it asks for the blobs.
    let sim = sim(2_000, |cfg| {
        cfg.service.time_scale = 150.0;
        cfg.service.cdn_url_ttl_secs = 150 * 600;
    })
    .await;
    let repo = image_repo(&sim, MediaType::DOCKER_MANIFEST);
    let tag = content(&sim, &repo).tags[0].name.clone();
    let client = client(sim.registry_url(), |_| {});
    let image = resolved(client.resolve(&repo, &tag, &|_| false).await.unwrap());
    assert_eq!(client.stats().token_requests, 1);
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    let layers = pull_layers(&client, &repo, &image).await;
    assert!(!layers.is_empty());
    let s = client.stats();
    assert_eq!(s.token_requests, 2, "one refresh after the registry's invalid_token: {s:?}");
    assert_eq!(s.auth_retries, 2, "the first 401 learned the challenge, the second refreshed: {s:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_quota_is_accounted_reserved_and_never_hot_retried() {
    // A 3-second window (Hub's is 21,600 s) so the test can also see the quota come back.
    const WINDOW: Duration = Duration::from_secs(3);
    let sim = sim(2_000, |cfg| {
        cfg.limits.pulls_anonymous = Some(3);
        cfg.limits.pull_window_secs = WINDOW.as_secs();
    })
    .await;
    let repos: Vec<(hubcensus_types::RepoRef, String)> = {
        let pop = sim.population();
        let names: Vec<_> = (0..pop.len() as u32)
            .filter(|&i| {
                pop.exclusion(i).is_none()
                    && pop.repo(i).plant.is_none()
                    && hubcensus_hubsim::population::content::tag_media_type(pop, i)
                        == Some(MediaType::DOCKER_MANIFEST)
            })
            .take(3)
            .map(|i| pop.full_name(i).parse::<hubcensus_types::RepoRef>().unwrap())
            .collect();
        // Built before the window opens, so the steps below take milliseconds.
        names.into_iter().map(|r| (r.clone(), content(&sim, &r).tags[0].name.clone())).collect()
    };
    let client = client(sim.registry_url(), |cfg| cfg.quota_reserve = 1);
    for (repo, tag) in &repos[..2] {
        resolved(client.resolve(repo, tag, &|_| false).await.unwrap());
    }
    let q = client.quota();
    assert_eq!((q.remaining, q.pulls_spent, q.limit, q.window), (Some(1), 2, Some(3), Some(WINDOW)), "{q:?}");
    assert!(!q.may_pull(), "1 left = the reserve");
    let reset = q.reset_at.expect("an estimated reset");
    let now = std::time::SystemTime::now();
    assert!(reset > now && reset <= now + WINDOW, "one window after it was first low: {reset:?}");
    // Refused before sending: the GET counter does not move, HEADs still work.
    let (repo, tag) = &repos[2];
    let gets = client.stats().manifest_gets;
    let e = client.get_manifest(repo, tag).await.unwrap_err();
    assert!(
        matches!(e, RegistryError::QuotaExhausted { reset_at: Some(t) } if t == reset) && e.is_transient(),
        "{e}"
    );
    assert_eq!(client.stats().manifest_gets, gets);
    assert!(client.head_manifest(repo, tag).await.is_ok());

    // Another client on the same address knows nothing and meets the 429 itself, once.
    let other = crate::common::client(sim.registry_url(), |_| {});
    other.get_manifest(repo, tag).await.unwrap();
    let e = other.get_manifest(repo, tag).await.unwrap_err();
    assert!(matches!(e, RegistryError::QuotaExhausted { reset_at: Some(_) }), "{e}");
    let gets = other.stats().manifest_gets;
    let e = other.get_manifest(repo, tag).await.unwrap_err();
    assert!(matches!(e, RegistryError::QuotaExhausted { .. }), "{e}");
    assert_eq!(other.stats().manifest_gets, gets, "no hot retry of a 429");
    assert_eq!(other.quota().remaining, Some(0));

    // Once the window has passed, a free HEAD shows the quota back.
    tokio::time::sleep(WINDOW + Duration::from_millis(200)).await;
    other.head_manifest(repo, tag).await.unwrap();
    assert!(other.quota().may_pull(), "{:?}", other.quota());
    other.get_manifest(repo, tag).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn schema1_images_resolve_with_layers_bottom_first() {
    let sim = sim(2_000, |_| {}).await;
    let repo = find(&sim, "schema1", |pop, i| {
        pop.exclusion(i).is_none() && pop.repo(i).kind == RepoKind::Schema1Image
    });
    let content = content(&sim, &repo);
    let tag = &content.tags[0];
    let client = client(sim.registry_url(), |_| {});
    let image = resolved(client.resolve(&repo, &tag.name, &|_| false).await.unwrap());
    assert!(image.schema1);
    assert_eq!(image.manifest_digest, tag.digest, "the digest covers the JWS payload, as Hub computes it");
    assert_eq!(image.media_type.as_str(), MediaType::SCHEMA1_SIGNED);
    let config = image.config.as_ref().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&config.bytes).unwrap();
    assert!(v.get("config").is_some() && v.get("id").is_some(), "the top v1Compatibility: {v}");
    assert_eq!(image.platform, Some(Platform::linux_amd64()));
    let served: Vec<Digest> = tag.images[0].layers.iter().filter_map(|l| l.digest.clone()).collect();
    let ours: Vec<Digest> = image.layers.iter().map(|l| l.descriptor.digest.clone()).collect();
    assert_eq!(ours, served, "fsLayers are top first; we list bottom first");
    assert!(image.layers.iter().all(|l| l.skip.is_none()));
    pull_layers(&client, &repo, &image).await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn zstd_layers_are_scannable() {
    let sim = sim(2_000, |_| {}).await;
    let repo = find(&sim, "zstd", |pop, i| {
        pop.exclusion(i).is_none() && pop.repo(i).kind == RepoKind::Image && uses_zstd(pop, i)
    });
    let tag = content(&sim, &repo).tags[0].name.clone();
    let client = client(sim.registry_url(), |_| {});
    let image = resolved(client.resolve(&repo, &tag, &|_| false).await.unwrap());
    let zstd: Vec<_> = image
        .layers
        .iter()
        .filter(|l| {
            let mt = l.descriptor.media_type.as_deref().unwrap_or("");
            mt == MediaType::OCI_LAYER_ZSTD || mt == MediaType::DOCKER_LAYER_ZSTD
        })
        .collect();
    assert!(!zstd.is_empty() && zstd.iter().all(|l| l.skip.is_none()), "{:?}", image.layers);
    let bytes = client.fetch_blob_bytes(&repo, &zstd[0].descriptor, 64 << 20).await.unwrap();
    assert_eq!(&bytes[..4], &[0x28, 0xb5, 0x2f, 0xfd], "zstd magic");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_layers_are_skipped_with_the_reason() {
    let sim = sim(2_000, |_| {}).await;
    let mut found = None;
    for media_type in [MediaType::OCI_INDEX, MediaType::DOCKER_LIST] {
        let pop = sim.population();
        for i in 0..pop.len() as u32 {
            if pop.exclusion(i).is_some()
                || pop.repo(i).plant.is_some()
                || hubcensus_hubsim::population::content::tag_media_type(pop, i) != Some(media_type)
            {
                continue;
            }
            let repo: hubcensus_types::RepoRef = pop.full_name(i).parse().unwrap();
            let c = content(&sim, &repo);
            if c.tags[0].images.iter().any(|im| im.os == "windows") {
                found = Some((repo, c.tags[0].name.clone(), media_type));
                break;
            }
        }
        if found.is_some() {
            break;
        }
    }
    let (repo, tag, media_type) = found.expect("a multi-platform image with a windows entry");
    let client = client(sim.registry_url(), |cfg| cfg.platform = "windows/amd64".parse().unwrap());
    let image = resolved(client.resolve(&repo, &tag, &|_| false).await.unwrap());
    let foreign = &image.layers[0];
    let want = if media_type == MediaType::OCI_INDEX { "non-distributable" } else { "foreign layer (urls)" };
    assert_eq!(foreign.skip.as_deref(), Some(want), "{:?}", image.layers);
    assert!(!foreign.descriptor.urls.is_empty());
    assert!(image.layers[1..].iter().all(|l| l.skip.is_none()));
    // The scannable layer downloads; the foreign one is never asked for.
    pull_layers(&client, &repo, &image).await;
    assert_eq!(
        client.stats().blob_gets as usize,
        1 + image.layers.len() - 1,
        "config + the distributable layer"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_and_wasm_are_artifacts() {
    let sim = sim(2_000, |_| {}).await;
    let client = client(sim.registry_url(), |_| {});
    for (kind, word) in [(RepoKind::Helm, "helm chart"), (RepoKind::Wasm, "wasm module")] {
        let repo = find(&sim, "an artifact", |pop, i| pop.repo(i).kind == kind);
        let tag = content(&sim, &repo).tags[0].name.clone();
        let image = resolved(client.resolve(&repo, &tag, &|_| false).await.unwrap());
        assert!(image.artifact.as_deref().is_some_and(|a| a.starts_with(word)), "{:?}", image.artifact);
        assert!(image.config.is_none());
        assert!(image.layers.iter().all(|l| l.skip.is_some()), "{:?}", image.layers);
    }
    assert_eq!(client.stats().blob_gets, 0, "nothing of an artifact is downloaded");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lying_docker_content_digest_is_an_error() {
    let sim = sim(2_000, |cfg| cfg.faults.wrong_digest = 1.0).await;
    let repo = image_repo(&sim, MediaType::OCI_MANIFEST);
    let tag = content(&sim, &repo).tags[0].name.clone();
    let client = client(sim.registry_url(), |_| {});
    let e = client.get_manifest(&repo, &tag).await.unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }) && e.is_transient(), "{e}");
    // HEAD believes the header (it has no body to check), then the GET by that digest fails.
    let e = client.resolve(&repo, &tag, &|_| false).await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { .. } | RegistryError::DigestMismatch { .. }), "{e}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_go_to_the_realm_and_charge_the_account() {
    let sim = sim(2_000, |_| {}).await;
    let repo = image_repo(&sim, MediaType::DOCKER_MANIFEST);
    let tag = content(&sim, &repo).tags[0].name.clone();
    let account = Credentials { username: "census".into(), secret: "census-pat".into() };
    let client = client(sim.registry_url(), |cfg| cfg.credentials = Some(account.clone()));
    client.get_manifest(&repo, &tag).await.unwrap();
    let q = client.quota();
    assert_eq!(q.limit, Some(200), "the authenticated quota: {q:?}");
    let source = q.source.unwrap();
    assert_eq!(source.len(), 36, "an account UUID, not the address: {source}");
    assert!(!format!("{client:?}").contains("census-pat"));

    let wrong = crate::common::client(sim.registry_url(), |cfg| {
        cfg.credentials = Some(Credentials { secret: "wrong".into(), ..account });
    });
    let e = wrong.get_manifest(&repo, &tag).await.unwrap_err();
    assert!(
        matches!(e, RegistryError::Unauthorized { .. }) && !e.is_transient() && !e.is_permanent_for_item(),
        "{e}"
    );
    sim.shutdown().await;
}

/// A token realm on the registry's own host shares that host's concurrency permits (hubsim on
/// loopback; Harbor and GitLab in the field). With one permit, a 401 still held while the token
/// is fetched would wait for itself forever; the client must give it back first.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_realm_on_the_registry_host_does_not_deadlock_one_permit() {
    let sim = sim(300, |_| {}).await;
    let repo = image_repo(&sim, MediaType::OCI_INDEX);
    let tag = content(&sim, &repo).tags[0].name.clone();
    let gate = Arc::new(
        Gate::new(GateConfig {
            allow_private_addresses: true,
            default_limit: OriginLimit {
                requests_per_minute: 60_000,
                concurrency: 1,
                ..GateConfig::default().default_limit
            },
            ..GateConfig::default()
        })
        .unwrap(),
    );
    let mut cfg = RegistryConfig::for_registry(Url::parse(sim.registry_url()).unwrap());
    cfg.quota_reserve = 0;
    let client = RegistryClient::new(gate, cfg);
    let resolution = tokio::time::timeout(Duration::from_secs(20), client.resolve(&repo, &tag, &|_| false))
        .await
        .expect("resolve finished instead of waiting for its own permit");
    assert!(!resolved(resolution.unwrap()).layers.is_empty());
}
