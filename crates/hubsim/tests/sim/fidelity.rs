//! Field-by-field comparison with recorded Docker Hub responses: key names, key order, JSON
//! types, null versus empty string, exact bytes where the fixture is byte-exact.

use hubcensus_hubsim::Sim;
use hubcensus_hubsim::population::RepoKind;
use hubcensus_hubsim::population::content::tag_media_type;
use hubcensus_types::MediaType;
use serde_json::Value;

use crate::common::*;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Same keys in the same order, and the same JSON type wherever the fixture's value is not null.
fn same_shape(ours_text: &str, fixture_text: &str, what: &str) {
    assert_eq!(raw_keys(ours_text), raw_keys(fixture_text), "{what}: key order");
    let ours: Value = serde_json::from_str(ours_text).unwrap();
    let fix: Value = serde_json::from_str(fixture_text).unwrap();
    for (k, fv) in fix.as_object().unwrap() {
        if !fv.is_null() {
            assert_eq!(kind(&ours[k]), kind(fv), "{what}: type of {k}");
        }
    }
}

/// The raw text of the first element of `results` (or of `images`) in a response body.
fn first_object(text: &str, key: &str) -> String {
    let k = text.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("no {key}"));
    let at = k + text[k..].find('[').unwrap() + 1;
    let mut depth = 0;
    let mut in_str = false;
    let mut esc = false;
    for (i, ch) in text[at..].char_indices() {
        if in_str {
            if esc {
                esc = false;
            } else if ch == '\\' {
                esc = true;
            } else if ch == '"' {
                in_str = false;
            }
            continue;
        }
        match ch {
            '"' => in_str = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return text[at..at + i + 1].to_string();
                }
            }
            _ => {}
        }
    }
    panic!("no object in {key}");
}

fn community_image(sim: &Sim, media_type: &str) -> String {
    let pop = sim.population();
    (0..pop.len() as u32)
        .find(|&i| {
            pop.exclusion(i).is_none()
                && pop.repo(i).kind == RepoKind::Image
                && tag_media_type(pop, i) == Some(media_type)
                && pop.repo(i).plant.is_none()
        })
        .map(|i| pop.full_name(i))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn hub_shapes_match_recorded_responses() {
    let sim = start(400, |_| {}).await;
    let c = client();
    let repo = community_image(&sim, MediaType::OCI_INDEX);
    let (ns, name) = repo.split_once('/').unwrap();

    // Namespace listing: envelope and entry.
    let text = c
        .get(format!("{}/v2/namespaces/{ns}/repositories", sim.hub_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(raw_keys(&text), ["count", "next", "previous", "results"]);
    let envelope = fixture("hub-v2-repositories-list.blacklanternsecurity.bbot-test.json");
    assert_eq!(raw_keys(&text), raw_keys(&envelope));
    same_shape(
        &first_object(&text, "results"),
        &fixture("hub-namespace-repository-entry.ollama.2025-03.json"),
        "namespace entry",
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["results"][0]["affiliation"], "", "list entries carry affiliation \"\"");

    // Repository detail.
    let text = c
        .get(format!("{}/v2/repositories/{ns}/{name}/", sim.hub_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let nginx = fixture("hub-repository-detail.library-nginx.2025-09.json");
    same_shape(&text, &nginx, "detail");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["affiliation"].is_null() && v["source"].is_null());
    assert_eq!(v["immutable_tags_settings"], serde_json::json!({"enabled": false, "rules": [".*"]}));

    // Tags: the 2026 tag object (images last) with attestation entries after each platform.
    let text = c
        .get(format!("{}/v2/repositories/{ns}/{name}/tags?page_size=1", sim.hub_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let portainer = fixture("hub-tags-images-with-unknown-attestations.portainer-agent.2026-08.json");
    let ours_tag = first_object(&text, "results");
    let fix_tag = first_object(&portainer, "results");
    same_shape(&ours_tag, &fix_tag, "tag object");
    same_shape(&first_object(&ours_tag, "images"), &first_object(&fix_tag, "images"), "image entry");
    let tag: Value = serde_json::from_str(&ours_tag).unwrap();
    let images = tag["images"].as_array().unwrap();
    assert_eq!(images[0]["architecture"], "amd64");
    assert_eq!(images[1]["architecture"], "unknown");
    assert_eq!(images[1]["os"], "unknown");
    assert_eq!(tag["full_size"], images[0]["size"], "full_size is the first image's size");
    let gguf: Value = serde_json::from_str(&fixture("hub-tag-object.ollama-gguf.2025-03.json")).unwrap();
    for k in ["variant", "os_version"] {
        assert!(gguf["images"][0][k].is_null());
        assert!(images[1][k].is_null(), "{k} is null");
    }
    for k in ["features", "os_features"] {
        assert_eq!(images[0][k], "", "{k} is an empty string");
    }
    assert_eq!(tag["media_type"], MediaType::OCI_INDEX);

    // Legacy search: previous is "" on the first page; pull_count an integer.
    let text = c
        .get(format!("{}/v2/search/repositories/?query=&page_size=1", sim.hub_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let legacy = fixture("search-v2-repositories-legacy.moe-hacker-2024-10.json");
    same_shape(&text, &legacy, "legacy search");
    same_shape(&first_object(&text, "results"), &first_object(&legacy, "results"), "legacy search result");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["previous"], "");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_shapes_match_recorded_responses() {
    let sim = start(400, |_| {}).await;
    let c = client();
    // Token response.
    let text = c
        .get(format!(
            "{}/token?service=registry.docker.io&scope=repository:library/alpine:pull",
            sim.auth_url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    same_shape(&text, &fixture("token-response.anonymous.2024-10-03.json"), "token");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["token"], v["access_token"]);
    assert_eq!(v["expires_in"], 300);
    assert!(v["issued_at"].as_str().unwrap().len() == "2024-10-03T01:11:09.171382002Z".len());

    // The 401: exactly the 157 bytes charliecloud captured for library/alpine.
    let r = c.get(format!("{}/v2/library/alpine/manifests/latest", sim.registry_url())).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"].to_str().unwrap(),
        format!(
            "Bearer realm=\"{}/token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\"",
            sim.auth_url()
        )
    );
    assert!(r.headers().contains_key("docker-ratelimit-source"));
    assert!(!r.headers().contains_key("ratelimit-limit"), "a 401 carries no ratelimit-* headers");
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), 157);
    // Same bytes as the recorded body's compact form (distribution's key order), for alpine.
    let recorded = fixture("registry-401-unauthorized.bbot-test.json")
        .replace("blacklanternsecurity/helloworld", "library/alpine");
    let compact: String = {
        let mut out = String::new();
        let mut in_str = false;
        for ch in recorded.chars() {
            if ch == '"' {
                in_str = !in_str;
            }
            if in_str || !ch.is_whitespace() {
                out.push(ch);
            }
        }
        out + "\n"
    };
    assert_eq!(std::str::from_utf8(&body).unwrap(), compact);
    let fix: Value = serde_json::from_str(&fixture("registry-401-unauthorized.bbot-test.json")).unwrap();
    let ours: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(keys(&ours["errors"][0]), keys(&fix["errors"][0]));
    assert_eq!(keys(&ours["errors"][0]["detail"][0]), keys(&fix["errors"][0]["detail"][0]));

    // Manifest formatting: BuildKit OCI (2 spaces) and Docker schema2 (3 spaces), served verbatim.
    for (mt, fixture_name) in [
        (MediaType::OCI_MANIFEST, "manifest-oci-alpine-3.23.4-arm64v8-official.2026-04.json"),
        (MediaType::DOCKER_MANIFEST, "manifest-schema2-docker-ubuntu-17.10-amd64.raw.json"),
    ] {
        let repo = community_image(&sim, mt);
        let t = token(&c, &sim, &repo).await;
        let tag = newest_tag(&sim, &repo);
        let (ct, _, body) = manifest(&c, &sim, &repo, &tag, &t).await;
        assert_eq!(ct, mt);
        let ours = String::from_utf8(body).unwrap();
        let fix = fixture(fixture_name);
        let prefix: String = fix.lines().take(4).collect::<Vec<_>>().join("\n");
        let ours_prefix: String = ours.lines().take(4).collect::<Vec<_>>().join("\n");
        assert_eq!(
            ours_prefix.replace(MediaType::OCI_CONFIG, "X").replace(MediaType::DOCKER_CONFIG, "X"),
            prefix.replace(MediaType::OCI_CONFIG, "X").replace(MediaType::DOCKER_CONFIG, "X"),
            "{mt}"
        );
        assert_eq!(
            raw_keys(&first_object(&ours, "layers")),
            raw_keys(&first_object(&fix, "layers")),
            "{mt} descriptor order"
        );
        assert!(!ours.ends_with('\n'), "no trailing newline");
    }
    sim.shutdown().await;
}

/// Issue #18: a repository's detail carries `categories[]` objects (`{name, slug}`, those
/// keys) as Docker Hub's does — some repositories have them, others an empty list.
#[tokio::test(flavor = "multi_thread")]
async fn repository_detail_carries_hub_categories() {
    let sim = start(200, |_| {}).await;
    let c = client();
    let nginx: Value =
        serde_json::from_str(&fixture("hub-repository-detail.library-nginx.2025-09.json")).unwrap();
    let want: Vec<String> = nginx["categories"][0].as_object().unwrap().keys().cloned().collect();
    let pop = sim.population();
    let (mut with, mut without) = (0, 0);
    for i in (0..pop.len() as u32)
        .filter(|&i| pop.exclusion(i).is_none() && pop.repo(i).kind == RepoKind::Image)
        .take(12)
    {
        let text = c
            .get(format!("{}/v2/repositories/{}/", sim.hub_url(), pop.full_name(i)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let categories = v["categories"].as_array().unwrap();
        if categories.is_empty() {
            without += 1;
        }
        for category in categories {
            with += 1;
            let keys: Vec<String> = category.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys, want, "{text}");
            let slug = category["slug"].as_str().unwrap();
            assert!(!category["name"].as_str().unwrap().is_empty());
            assert!(slug.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'), "{slug}");
        }
    }
    assert!(with > 0 && without > 0, "some repositories are categorised, some not: {with} / {without}");
}
