//! Registry, token service and CDN: challenges, scopes, negotiation, redirects, Range.

use hubcensus_types::MediaType;
use serde_json::Value;

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn challenges_scopes_and_401_for_missing_and_private() {
    let sim = start(2_000, |cfg| cfg.service.time_scale = 1.0).await;
    let c = client();
    let reg = sim.registry_url().to_string();
    let r = c.get(format!("{reg}/v2/")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"].to_str().unwrap(),
        format!("Bearer realm=\"{}/token\",service=\"registry.docker.io\"", sim.auth_url())
    );
    let repo = community_repo(&sim, MediaType::DOCKER_MANIFEST);
    let t = token(&c, &sim, &repo).await;
    assert_eq!(c.get(format!("{reg}/v2/")).bearer_auth(&t).send().await.unwrap().status(), 200);

    // The catalog is never available.
    let r = c.get(format!("{reg}/v2/_catalog")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));

    // A token for one repository does not open another: insufficient_scope.
    let other = sim.population().full_name(0);
    let r = c.get(format!("{reg}/v2/{other}/manifests/latest")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let h = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(
        h.contains(&format!("scope=\"repository:{other}:pull\""))
            && h.contains("error=\"insufficient_scope\""),
        "{h}"
    );

    // Missing and private repositories both answer 401, never 404; their tokens grant nothing.
    let private = (0..sim.population().len() as u32)
        .find(|&i| sim.population().repo(i).private)
        .map(|i| sim.population().full_name(i))
        .unwrap();
    for name in ["nosuchuser/nosuchrepo".to_string(), private] {
        let tok = token(&c, &sim, &name).await;
        let r = c.get(format!("{reg}/v2/{name}/manifests/latest")).bearer_auth(&tok).send().await.unwrap();
        assert_eq!(r.status(), 401, "{name}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["errors"][0]["code"], "UNAUTHORIZED");
    }
    // Official images need library/: a bare name is a repository that does not exist.
    let tok = token(&c, &sim, "alpine").await;
    assert_eq!(
        c.get(format!("{reg}/v2/alpine/manifests/latest")).bearer_auth(&tok).send().await.unwrap().status(),
        401
    );

    // A missing tag of an existing repository: 404 MANIFEST_UNKNOWN.
    let r = c.get(format!("{reg}/v2/{repo}/manifests/no-such-tag")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["code"], "MANIFEST_UNKNOWN");

    // A forged token is refused as invalid_token.
    let forged = format!("{t}x");
    let r = c.get(format!("{reg}/v2/{repo}/tags/list")).bearer_auth(&forged).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));

    // Basic credentials: valid ones authenticate (sub = account UUID), wrong ones are refused.
    let r = c
        .get(format!("{}/token?service=registry.docker.io&scope=repository:{repo}:pull", sim.auth_url()))
        .basic_auth("census", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(format!(
            "{}/token?service=registry.docker.io&scope=repository:{repo}:pull&scope=repository:{other}:pull",
            sim.auth_url()
        ))
        .basic_auth("census", Some("census-pat"))
        .send()
        .await
        .unwrap();
    let tok = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    for name in [&repo, &other] {
        let r = c
            .head(format!("{reg}/v2/{name}/manifests/{}", newest_tag(&sim, name)))
            .header("accept", ACCEPT_ALL)
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let src = r.headers()["docker-ratelimit-source"].to_str().unwrap();
        assert_eq!(src.len(), 36, "an account UUID: {src}");
        assert_eq!(r.headers()["ratelimit-limit"], "200;w=21600");
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_expire_on_the_simulated_clock() {
    // 300 simulated seconds pass in 0.3 real seconds.
    let sim = start(400, |cfg| cfg.service.time_scale = 1_000.0).await;
    let c = client();
    let repo = community_repo(&sim, MediaType::DOCKER_MANIFEST);
    let t = token(&c, &sim, &repo).await;
    let url = format!("{}/v2/{repo}/tags/list", sim.registry_url());
    assert_eq!(c.get(&url).bearer_auth(&t).send().await.unwrap().status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(450)).await;
    let r = c.get(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn accept_negotiation_head_and_digests() {
    let sim = start(2_000, |_| {}).await;
    let c = client();
    let reg = sim.registry_url().to_string();

    // OCI index: full Accept gets the index; without index types, the linux/amd64 manifest.
    let repo = community_repo(&sim, MediaType::OCI_INDEX);
    let tag = newest_tag(&sim, &repo);
    let t = token(&c, &sim, &repo).await;
    let (ct, dcd, body) = manifest(&c, &sim, &repo, &tag, &t).await;
    assert_eq!(ct, MediaType::OCI_INDEX);
    assert_eq!(dcd, format!("sha256:{}", sha256_hex(&body)));
    let index: Value = serde_json::from_slice(&body).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries[1]["platform"]["architecture"], "unknown");
    assert_eq!(entries[1]["annotations"]["vnd.docker.reference.type"], "attestation-manifest");
    assert_eq!(entries[1]["annotations"]["vnd.docker.reference.digest"], entries[0]["digest"]);
    let amd64 = entries[0]["digest"].as_str().unwrap();
    let r = c
        .get(format!("{reg}/v2/{repo}/manifests/{tag}"))
        .header("accept", MediaType::OCI_MANIFEST)
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["docker-content-digest"], amd64);
    // The attestation manifest is a real in-toto artifact.
    let att = entries[1]["digest"].as_str().unwrap();
    let (_, _, ab) = manifest(&c, &sim, &repo, att, &t).await;
    let am: Value = serde_json::from_slice(&ab).unwrap();
    assert_eq!(am["layers"][0]["mediaType"], "application/vnd.in-toto+json");
    let statement: Value =
        serde_json::from_slice(&blob(&c, &sim, &repo, am["layers"][0]["digest"].as_str().unwrap(), &t).await)
            .unwrap();
    assert_eq!(statement["subject"][0]["digest"]["sha256"], amd64.trim_start_matches("sha256:"));
    // An OCI manifest cannot be down-converted: a client accepting only Docker types gets MANIFEST_UNKNOWN.
    let r = c
        .get(format!("{reg}/v2/{repo}/manifests/{tag}"))
        .header("accept", MediaType::DOCKER_MANIFEST)
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Docker schema2: a bare client gets a signed schema1 down-conversion.
    let repo = community_repo(&sim, MediaType::DOCKER_MANIFEST);
    let tag = newest_tag(&sim, &repo);
    let t = token(&c, &sim, &repo).await;
    let r = c.get(format!("{reg}/v2/{repo}/manifests/{tag}")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], MediaType::SCHEMA1_SIGNED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["name"], repo);
    assert!(v["signatures"][0]["protected"].is_string());
    assert!(!v["fsLayers"].as_array().unwrap().is_empty());

    // HEAD: digest and length, no body, not charged.
    let (_, dcd, body) = manifest(&c, &sim, &repo, &tag, &t).await;
    let r = c
        .head(format!("{reg}/v2/{repo}/manifests/{tag}"))
        .header("accept", ACCEPT_ALL)
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["docker-content-digest"].to_str().unwrap(), dcd);
    assert_eq!(r.headers()["content-length"].to_str().unwrap(), body.len().to_string());
    assert_eq!(r.headers()["etag"].to_str().unwrap(), format!("\"{dcd}\""));
    assert!(r.bytes().await.unwrap().is_empty());
    // By digest works too.
    let (_, dcd2, body2) = manifest(&c, &sim, &repo, &dcd, &t).await;
    assert_eq!((dcd2, body2), (dcd.clone(), body));

    // Old images: schema1 whatever the client accepts.
    let repo = community_repo(&sim, MediaType::SCHEMA1_SIGNED);
    let t = token(&c, &sim, &repo).await;
    let (ct, _, _) = manifest(&c, &sim, &repo, &newest_tag(&sim, &repo), &t).await;
    assert_eq!(ct, MediaType::SCHEMA1_SIGNED);

    // tags/list is the whole list, sorted, with n/last paging.
    let (s, _, v) = get_json(&c, &format!("{reg}/v2/{repo}/tags/list")).await;
    assert_eq!(s, 401);
    let _ = v;
    let r = c.get(format!("{reg}/v2/{repo}/tags/list")).bearer_auth(&t).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    let tags: Vec<&str> = v["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    let mut sorted = tags.clone();
    sorted.sort_unstable();
    assert_eq!(tags, sorted);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_redirect_to_an_expiring_cdn_that_refuses_authorization() {
    let sim = start(400, |cfg| {
        cfg.service.time_scale = 100.0;
        cfg.service.cdn_url_ttl_secs = 60;
    })
    .await;
    let c = client();
    let repo = community_repo(&sim, MediaType::DOCKER_MANIFEST);
    let t = token(&c, &sim, &repo).await;
    let (_, m) = amd64_manifest(&c, &sim, &repo, &newest_tag(&sim, &repo), &t).await;
    let layer = m["layers"][0]["digest"].as_str().unwrap().to_string();
    let size = m["layers"][0]["size"].as_u64().unwrap();
    let r = c
        .get(format!("{}/v2/{repo}/blobs/{layer}", sim.registry_url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 307);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.contains(&format!(
        "/registry-v2/docker/registry/v2/blobs/sha256/{}/{}/data?verify=",
        &layer[7..9],
        &layer[7..]
    )));
    // Forwarding Authorization to the CDN is refused.
    assert_eq!(c.get(&loc).bearer_auth(&t).send().await.unwrap().status(), 400);
    // Range: 206 with Content-Range.
    let r = c.get(&loc).header("range", "bytes=10-19").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"].to_str().unwrap(), format!("bytes 10-19/{size}"));
    let part = r.bytes().await.unwrap();
    let full = c.get(&loc).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(full.len() as u64, size);
    assert_eq!(&full[10..20], &part[..]);
    assert_eq!(c.get(&loc).header("range", format!("bytes={size}-")).send().await.unwrap().status(), 416);
    // A forged signature is refused; the URL expires (60 simulated seconds = 0.6 s).
    let forged = loc.replace("verify=", "verify=1");
    assert_eq!(c.get(&forged).send().await.unwrap().status(), 403);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(c.get(&loc).send().await.unwrap().status(), 403);
    // Unknown blobs: BLOB_UNKNOWN.
    let t = token(&c, &sim, &repo).await;
    let r = c
        .get(format!("{}/v2/{repo}/blobs/sha256:{}", sim.registry_url(), "0".repeat(64)))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    sim.shutdown().await;
}
