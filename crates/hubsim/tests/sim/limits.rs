//! Pull quota, Hub API limit, fault injection.

use hubcensus_hubsim::FaultConfig;
use hubcensus_types::MediaType;
use serde_json::Value;

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn pull_quota_counts_manifest_gets_only_and_resets() {
    // A 3-pull window of 21,600 simulated seconds that lasts 2.16 real seconds.
    let sim = start(400, |cfg| {
        cfg.limits.pulls_anonymous = Some(3);
        cfg.service.time_scale = 10_000.0;
        cfg.service.token_ttl_secs = 100_000;
    })
    .await;
    let c = client();
    let reg = sim.registry_url().to_string();
    let repo = community_repo(&sim, MediaType::DOCKER_MANIFEST);
    let tag = newest_tag(&sim, &repo);
    let t = token(&c, &sim, &repo).await;
    let url = format!("{reg}/v2/{repo}/manifests/{tag}");
    for left in [2, 1, 0] {
        let r = c.get(&url).header("accept", ACCEPT_ALL).bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["ratelimit-limit"], "3;w=21600");
        assert_eq!(r.headers()["ratelimit-remaining"].to_str().unwrap(), format!("{left};w=21600"));
        assert_eq!(r.headers()["docker-ratelimit-source"], "127.0.0.1");
    }
    // HEAD is free and still answers (remaining 0, 200).
    let r = c.head(&url).header("accept", ACCEPT_ALL).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["ratelimit-remaining"], "0;w=21600");
    // Blobs are free: the layer still redirects to the CDN.
    let m: serde_json::Value = serde_json::from_slice(&tokio::task::block_in_place(|| {
        let content = sim.content(&repo).unwrap();
        content.manifests[&content.tags[0].digest].bytes.to_vec()
    }))
    .unwrap();
    let layer = m["layers"][0]["digest"].as_str().unwrap();
    let r = c.get(format!("{reg}/v2/{repo}/blobs/{layer}")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 307);
    // The fourth GET: 429 TOOMANYREQUESTS, no Retry-After.
    let r = c.get(&url).header("accept", ACCEPT_ALL).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(!r.headers().contains_key("retry-after"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["code"], "TOOMANYREQUESTS");
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("pull rate limit"));
    // The window ends and the quota is back.
    tokio::time::sleep(std::time::Duration::from_millis(2_400)).await;
    let r = c.get(&url).header("accept", ACCEPT_ALL).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["ratelimit-remaining"], "2;w=21600");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hub_api_limit_answers_429_with_an_epoch_retry_after() {
    let sim = start(400, |cfg| cfg.limits.hub_requests_per_minute = Some(5)).await;
    let c = client();
    let url = format!("{}/v2/repositories/library/", sim.hub_url());
    for left in (0..5).rev() {
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-ratelimit-limit"], "5");
        assert_eq!(r.headers()["x-ratelimit-remaining"].to_str().unwrap(), left.to_string());
    }
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let retry: i64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let reset: i64 = r.headers()["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!(retry > now && retry <= now + 61, "retry-after is a Unix epoch: {retry} vs {now}");
    assert_eq!(retry, reset);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_faults() {
    // Every request fails with 503.
    let sim = start(400, |cfg| cfg.faults = FaultConfig { status_503: 1.0, ..FaultConfig::default() }).await;
    let c = client();
    assert_eq!(
        c.get(format!("{}/v2/repositories/library/", sim.hub_url())).send().await.unwrap().status(),
        503
    );
    assert_eq!(c.get(format!("{}/v2/", sim.registry_url())).send().await.unwrap().status(), 503);
    // The token service is never faulted.
    assert_eq!(
        c.get(format!("{}/token?service=registry.docker.io", sim.auth_url())).send().await.unwrap().status(),
        200
    );
    assert!(sim.faults_injected() >= 2);
    sim.shutdown().await;

    // Truncated bodies: the client sees an error, never a short "success".
    let sim = start(400, |cfg| cfg.faults = FaultConfig { truncate: 1.0, ..FaultConfig::default() }).await;
    let r = c.get(format!("{}/v2/repositories/library/", sim.hub_url())).send().await.unwrap();
    let promised: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
    assert!(promised > 100);
    assert!(r.bytes().await.is_err());
    sim.shutdown().await;

    // Resets: no usable response.
    let sim = start(400, |cfg| cfg.faults = FaultConfig { reset: 1.0, ..FaultConfig::default() }).await;
    let r = c.get(format!("{}/v2/repositories/library/", sim.hub_url())).send().await;
    assert!(r.is_err() || r.unwrap().bytes().await.is_err());
    sim.shutdown().await;

    // A lying registry: Docker-Content-Digest does not match the bytes.
    let sim =
        start(400, |cfg| cfg.faults = FaultConfig { wrong_digest: 1.0, ..FaultConfig::default() }).await;
    let repo = community_repo(&sim, MediaType::DOCKER_MANIFEST);
    let t = token(&c, &sim, &repo).await;
    let r = c
        .get(format!("{}/v2/{repo}/manifests/{}", sim.registry_url(), newest_tag(&sim, &repo)))
        .header("accept", ACCEPT_ALL)
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    let dcd = r.headers()["docker-content-digest"].to_str().unwrap().to_string();
    let body = r.bytes().await.unwrap();
    assert_ne!(dcd, format!("sha256:{}", sha256_hex(&body)));
    sim.shutdown().await;

    // A 5% mix over many requests: some fail, most succeed, deterministically.
    let sim = start(400, |cfg| cfg.faults = FaultConfig { seed: 9, ..FaultConfig::uniform(0.05) }).await;
    let mut ok = 0;
    for _ in 0..200 {
        let Ok(r) = c.get(format!("{}/v2/repositories/library/", sim.hub_url())).send().await else {
            continue;
        };
        if r.status() == 200 && r.bytes().await.is_ok() {
            ok += 1;
        }
    }
    assert!((170..200).contains(&ok), "{ok} of 200 succeeded");
    sim.shutdown().await;
}
