//! Hub API: pagination, caps, login, search.

use hubcensus_hubsim::population::RepoKind;
use serde_json::Value;

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn namespace_paging_caps_and_login() {
    // 6,000 repositories: the big organisation holds 1,150 (past the anonymous offset cap).
    let sim = start(6_000, |_| {}).await;
    let c = client();
    let hub = sim.hub_url().to_string();
    let big = sim.population().namespaces().iter().find(|n| n.len >= 1_100).unwrap().name.clone();

    // Unknown namespace: 200 with count 0 (legacy and documented paths).
    for path in [
        "/v2/repositories/thisrepositorydoesnotactuallyexist/",
        "/v2/namespaces/thisrepositorydoesnotactuallyexist/repositories",
    ] {
        let (s, _, v) = get_json(&c, &format!("{hub}{path}")).await;
        assert_eq!(s, 200);
        assert_eq!(v, serde_json::json!({"count": 0, "next": null, "previous": null, "results": []}));
    }

    // page_size is capped at 100; next keeps every parameter, sorted by key.
    let (s, _, v) =
        get_json(&c, &format!("{hub}/v2/namespaces/{big}/repositories?page_size=500&ordering=last_updated"))
            .await;
    assert_eq!(s, 200);
    assert_eq!(v["results"].as_array().unwrap().len(), 100);
    let big_ns = sim.population().namespaces().iter().find(|n| n.name == big).unwrap().clone();
    let public =
        (big_ns.first..big_ns.first + big_ns.len).filter(|&i| !sim.population().repo(i).private).count();
    assert!(public > 1_100);
    assert_eq!(v["count"], public);
    assert_eq!(
        v["next"],
        format!("{hub}/v2/namespaces/{big}/repositories?ordering=last_updated&page=2&page_size=500")
    );
    assert!(v["previous"].is_null());
    let first_updated = v["results"][0]["last_updated"].as_str().unwrap().to_string();
    // The observed inversion: -last_updated lists oldest first.
    let (_, _, inv) =
        get_json(&c, &format!("{hub}/v2/namespaces/{big}/repositories?page_size=100&ordering=-last_updated"))
            .await;
    assert!(inv["results"][0]["last_updated"].as_str().unwrap() < first_updated.as_str());

    // Page 10 at 100 is offset 900: fine. Page 11 is offset 1000: 403 for anonymous callers.
    let (s, _, _) =
        get_json(&c, &format!("{hub}/v2/namespaces/{big}/repositories?page=10&page_size=100")).await;
    assert_eq!(s, 200);
    let (s, _, v) =
        get_json(&c, &format!("{hub}/v2/namespaces/{big}/repositories?page=11&page_size=100")).await;
    assert_eq!(s, 403);
    assert_eq!(
        v,
        serde_json::json!({"message": "pagination offset too large for anonymous requests; sign in to page further", "errinfo": {}})
    );

    // Login lifts the cap; a wrong secret does not log in.
    let r = c
        .post(format!("{hub}/v2/auth/token"))
        .json(&serde_json::json!({"identifier": "census", "secret": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(format!("{hub}/v2/auth/token"))
        .json(&serde_json::json!({"identifier": "census", "secret": "census-pat"}))
        .send()
        .await
        .unwrap();
    let jwt = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    let r = c
        .get(format!("{hub}/v2/namespaces/{big}/repositories?page=11&page_size=100"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), 100);
    // Past the end: 404 (page > 1).
    let r = c
        .get(format!("{hub}/v2/namespaces/{big}/repositories?page=13&page_size=100"))
        .header("authorization", format!("JWT {jwt}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Tags past the cap: the big repository has 1,120 tags.
    let big_repo = sim
        .population()
        .full_name(sim.population().namespaces().iter().find(|n| n.len >= 1_100).unwrap().first);
    let (s, _, v) =
        get_json(&c, &format!("{hub}/v2/repositories/{big_repo}/tags/?page=10&page_size=100")).await;
    assert_eq!(s, 200);
    assert_eq!(v["count"], 1_120);
    let (s, _, _) = get_json(
        &c,
        &format!(
            "{hub}/v2/namespaces/{}/repositories/{}/tags?page=11&page_size=100",
            big_repo.split('/').next().unwrap(),
            big_repo.split('/').nth(1).unwrap()
        ),
    )
    .await;
    assert_eq!(s, 403);

    // Walking a whole namespace with next links yields every public repository exactly once.
    let ns = sim.population().namespaces().iter().find(|n| n.len >= 30 && n.len < 100).unwrap().clone();
    let mut url = format!("{hub}/v2/repositories/{}/?page_size=7", ns.name);
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let (s, _, v) = get_json(&c, &url).await;
        assert_eq!(s, 200);
        for r in v["results"].as_array().unwrap() {
            assert!(seen.insert(r["name"].as_str().unwrap().to_string()));
        }
        match v["next"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    let public = (ns.first..ns.first + ns.len).filter(|&i| !sim.population().repo(i).private).count();
    assert_eq!(seen.len(), public);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn search_caps_badges_and_pull_count_strings() {
    let sim = start(6_000, |_| {}).await;
    let c = client();
    let hub = sim.hub_url().to_string();
    let (s, _, v) = get_json(&c, &format!("{hub}/api/search/v4?query=&from=2400&size=100")).await;
    assert_eq!(s, 200);
    assert_eq!(v["results"].as_array().unwrap().len(), 100);
    let (s, _, _) = get_json(&c, &format!("{hub}/api/search/v4?query=&from=2401&size=100")).await;
    assert_eq!(s, 400, "from + size must be <= 2500");
    for badge in ["official", "verified_publisher", "open_source"] {
        let (_, _, v) = get_json(&c, &format!("{hub}/api/search/v4?badges={badge}&size=100")).await;
        let results = v["results"].as_array().unwrap();
        assert!(!results.is_empty(), "{badge}");
        assert!(results.iter().all(|r| r["badge"] == badge));
        assert!(results.iter().all(|r| r["pull_count"].is_string()));
    }
    let (_, _, v) =
        get_json(&c, &format!("{hub}/api/search/v4?badges=none&size=100&sort=updated_at&order=desc")).await;
    let results = v["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["badge"].is_null()));
    let dates: Vec<&str> = results.iter().map(|r| r["updated_at"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]));
    // Official names are bare; community names are ns/repo.
    let (_, _, v) = get_json(&c, &format!("{hub}/api/search/v4?badges=official&size=5")).await;
    assert!(!v["results"][0]["name"].as_str().unwrap().contains('/'));
    // v3 caps its total at 10,000 (the population has fewer, so it reports the real count).
    let (_, _, v) = get_json(&c, &format!("{hub}/api/search/v3/catalog/search?query=&size=3")).await;
    assert!(v["total"].as_u64().unwrap() <= 10_000);
    assert!(v["results"][0]["rate_plans"][0]["repositories"][0]["pull_count"].is_string());
    // Private repositories are never found.
    let private = (0..sim.population().len() as u32).find(|&i| sim.population().repo(i).private).unwrap();
    let name = sim.population().repo(private).name.to_string();
    let (_, _, v) = get_json(&c, &format!("{hub}/api/search/v4?query={name}&size=100")).await;
    assert!(v["results"].as_array().unwrap().iter().all(|r| r["id"] != sim.population().full_name(private)));
    // Imageless repositories: empty media/content types.
    let imageless = (0..sim.population().len() as u32)
        .find(|&i| sim.population().repo(i).kind == RepoKind::Spam)
        .unwrap();
    let (_, _, v) =
        get_json(&c, &format!("{hub}/v2/repositories/{}/", sim.population().full_name(imageless))).await;
    assert_eq!(v["media_types"], serde_json::json!([]));
    assert!(v["description"].as_str().unwrap().contains("https://"));
    sim.shutdown().await;
}

#[tokio::test]
async fn refuses_non_loopback_listen_addresses_unless_allowed() {
    let mut cfg = hubcensus_hubsim::SimConfig::for_tests(SEED, 100);
    cfg.service.registry_listen = "0.0.0.0:0".parse().unwrap();
    let err = hubcensus_hubsim::Sim::start(cfg).await.unwrap_err();
    assert!(matches!(err, hubcensus_hubsim::Error::NonLoopback(_)), "{err}");
    let mut cfg = hubcensus_hubsim::SimConfig::for_tests(SEED, 10);
    cfg.population.repos = 10;
    assert!(matches!(
        hubcensus_hubsim::Sim::start(cfg).await.unwrap_err(),
        hubcensus_hubsim::Error::Config(_)
    ));
}

/// Issue 18: an inactive repository is described as Hub describes one (`status` 0,
/// `status_description` "inactive") by its namespace listing and its detail, its tags were last
/// pulled over six months ago, search still finds it (without a status: v4 hits carry none),
/// and the registry still serves it: only the frame leaves it out.
#[tokio::test(flavor = "multi_thread")]
async fn issue_18_inactive_repositories_are_described_as_hub_does() {
    let sim = start(400, |_| {}).await;
    let pop = sim.population();
    let i = (0..pop.len() as u32).find(|&i| pop.repo(i).inactive).expect("the population has some");
    let active = (0..pop.len() as u32).find(|&i| pop.exclusion(i).is_none()).unwrap();
    let (c, hub) = (client(), sim.hub_url().to_string());
    let anchor = pop.config().anchor_unix;
    let status = |v: &Value| (v["status"].clone(), v["status_description"].clone());

    for (repo, want) in [(i, (0, "inactive")), (active, (1, "active"))] {
        let name = pop.full_name(repo);
        let (ns, repo_name) = name.split_once('/').unwrap();
        let want = (serde_json::json!(want.0), serde_json::json!(want.1));
        let (_, _, detail) =
            get_json(&c, &format!("{hub}/v2/namespaces/{ns}/repositories/{repo_name}")).await;
        assert_eq!(status(&detail), want, "{name}: detail");
        let (_, _, listing) =
            get_json(&c, &format!("{hub}/v2/namespaces/{ns}/repositories?page_size=100")).await;
        let entry =
            listing["results"].as_array().unwrap().iter().find(|e| e["name"] == pop.repo(repo).name.as_ref());
        assert_eq!(status(entry.unwrap()), want, "{name}: listing entry");
    }

    let name = pop.full_name(i);
    let (_, _, tags) = get_json(&c, &format!("{hub}/v2/repositories/{name}/tags?page_size=100")).await;
    for tag in tags["results"].as_array().unwrap() {
        assert_eq!(tag["tag_status"], "inactive", "{tag}");
        let pulled = chrono::DateTime::parse_from_rfc3339(tag["tag_last_pulled"].as_str().unwrap()).unwrap();
        assert!(pulled.timestamp() < anchor - 183 * 86_400, "{tag}");
    }
    let (_, _, found) =
        get_json(&c, &format!("{hub}/api/search/v4?query={}&size=100", pop.repo(i).name)).await;
    let hit = found["results"].as_array().unwrap().iter().find(|r| r["id"] == name.as_str()).unwrap();
    assert!(hit.get("status").is_none() && hit.get("status_description").is_none(), "{hit}");
    let token = token(&c, &sim, &name).await;
    let tag = tags["results"][0]["name"].as_str().unwrap();
    manifest(&c, &sim, &name, tag, &token).await;
    sim.shutdown().await;
}
