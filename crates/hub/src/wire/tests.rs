//! Every recorded Hub and search response (tests/fixtures, copied from the shared reference)
//! goes through the parsers the client uses.

use std::path::{Path, PathBuf};

use hubcensus_types::{Badge, MediaType, Platform};
use serde_json::Value;

use super::*;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

/// Every complete JSON object inside a text (any nesting level), for the PARTIAL, FRAGMENTS
/// and VIA-WRAPPER files that are not one valid document.
fn complete_objects(text: &str) -> Vec<Value> {
    let bytes = text.as_bytes();
    let (mut stack, mut out) = (Vec::new(), Vec::new());
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                // JSON strings hold no raw newline: a string cut off by a gap ends with its line.
                (_, b'\n') => (in_string, escaped) = (false, false),
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => stack.push(i),
            b'}' => {
                if let Some(start) = stack.pop()
                    && let Ok(v) = serde_json::from_str::<Value>(&text[start..=i])
                {
                    out.push(v);
                }
            }
            _ => {}
        }
    }
    out
}

fn objects_with_key(name: &str, key: &str) -> Vec<Value> {
    let text = String::from_utf8(fixture(name)).unwrap();
    complete_objects(&text).into_iter().filter(|o| o.get(key).is_some()).collect()
}

const FIXTURES: &[&str] = &[
    "hub-403-pagination-offset-too-large.txt",
    "hub-misc-responses.txt",
    "hub-namespace-repository-entry.ollama.2025-03.json",
    "hub-repository-detail.datasette.2023-03-31.json",
    "hub-repository-detail.library-elixir.2018-02.json",
    "hub-repository-detail.library-nginx.2025-09.json",
    "hub-tag-object.nginx-stable-perl.oci-index-with-unknown.2025-09.json",
    "hub-tag-object.ollama-gguf.2025-03.json",
    "hub-tag-object.php-8.3.8-fpm-alpine.docker-manifest-list.2024-07.json",
    "hub-tags-images-empty.node.2025-08-11.PARTIAL.json.txt",
    "hub-tags-images-with-unknown-attestations.portainer-agent.2026-08.json",
    "hub-tags-images.ubuntu-page_size1.2024-10.json",
    "hub-v2-repositories-list.blacklanternsecurity.bbot-test.json",
    "search-products-content-v1.nginx.2021-08.VIA-WRAPPER.txt",
    "search-v1-index-docker-io.mysql.2022-02.PARTIAL.json.txt",
    "search-v1-index-docker-io.q-1a.page2.TRIMMED.json",
    "search-v2-repositories-legacy.moe-hacker-2024-10.json",
    "search-v3-catalog.golang.2024-12.FRAGMENTS.txt",
];

#[test]
fn every_hub_and_search_fixture_is_covered_and_current() {
    let mut here: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("hub-") || n.starts_with("search-"))
        .collect();
    here.sort();
    assert_eq!(here, FIXTURES, "a fixture was added or removed: give it a test below");
    // The shared reference sits beside the repository on developer machines and in CI.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/fixtures");
    if shared.is_dir() {
        for entry in std::fs::read_dir(&shared).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.starts_with("hub-") || name.starts_with("search-") {
                assert!(FIXTURES.contains(&name.as_str()), "{name} is new in the shared reference: copy it");
                assert_eq!(std::fs::read(shared.join(&name)).unwrap(), fixture(&name), "{name} changed");
            }
        }
    }
}

#[test]
fn anonymous_paging_403_bodies() {
    let text = String::from_utf8(fixture("hub-403-pagination-offset-too-large.txt")).unwrap();
    let bodies: Vec<Value> =
        complete_objects(&text).into_iter().filter(|o| o.get("message").is_some()).collect();
    assert_eq!(bodies.len(), 2, "harbor's and dotCMS's bodies");
    for body in bodies {
        let message = error_message(body.to_string().as_bytes());
        assert!(is_paging_cap_message(&message), "{message}");
    }
    assert!(!is_paging_cap_message(&error_message(br#"{"message":"object not found","errinfo":{}}"#)));
}

#[test]
fn missing_namespace_is_an_empty_page() {
    let pages = objects_with_key("hub-misc-responses.txt", "count");
    let page = list_page(pages[0].to_string().as_bytes()).unwrap();
    assert_eq!((page.count, page.next, page.results.len()), (Some(0), None, 0));
}

#[test]
fn namespace_entries_2022_and_2025() {
    let page = list_page(&fixture("hub-v2-repositories-list.blacklanternsecurity.bbot-test.json")).unwrap();
    assert_eq!((page.count, page.next.as_deref()), (Some(2), None));
    let repos: Vec<_> = page.results.into_iter().map(|v| repo_entry(v).unwrap()).collect();
    assert_eq!(repos[1].0.to_string(), "blacklanternsecurity/testimage");
    assert_eq!(repos[1].1.content_types.as_deref(), Some(&["image".to_owned()][..]));
    assert_eq!(repos[0].1.badge, None, "listings carry no badge");

    let (r, s) = repo_entry(json("hub-namespace-repository-entry.ollama.2025-03.json")).unwrap();
    assert_eq!(r.to_string(), "ollama/ollama");
    assert_eq!(s.pull_count, Some(13_256_501));
    assert_eq!(s.status.as_deref(), Some("active"));
    assert_eq!(s.media_types.as_ref().map(Vec::len), Some(4));
    assert_eq!(s.last_updated.unwrap().to_rfc3339(), "2025-03-04T04:01:22.754331+00:00");
}

#[test]
fn repository_details_2018_2023_2025() {
    let (r, s) = repo_entry(json("hub-repository-detail.library-elixir.2018-02.json")).unwrap();
    assert_eq!(r.to_string(), "library/elixir");
    assert_eq!(s.badge, Some(Badge::Official));
    assert_eq!((s.status, s.content_types), (None, None), "the 2018 shape has neither");

    let (r, s) = repo_entry(json("hub-repository-detail.datasette.2023-03-31.json")).unwrap();
    assert_eq!(r.to_string(), "datasetteproject/datasette");
    assert_eq!((s.pull_count, s.star_count), (Some(72_673), Some(7)));

    let (r, s) = repo_entry(json("hub-repository-detail.library-nginx.2025-09.json")).unwrap();
    assert_eq!(r.to_string(), "library/nginx");
    assert_eq!(s.content_types, Some(vec!["image".to_owned(), "unrecognized".to_owned()]));
    assert!(s.full_description.unwrap().len() > 10_000);
}

#[test]
fn tag_objects_of_every_shape() {
    let amd64 = Platform::linux_amd64();
    let t = tag(json("hub-tag-object.nginx-stable-perl.oci-index-with-unknown.2025-09.json")).unwrap();
    assert_eq!(t.images.len(), 16);
    assert_eq!(t.images.iter().filter(|i| i.platform.is_unknown()).count(), 8);
    assert_eq!(
        t.image_for(&amd64).unwrap().digest.as_ref().unwrap().as_str(),
        "sha256:ae4329260d61f2cd8376d7dde32ecbd36a26da2f87eda80284ad888968e6f280"
    );
    assert!(t.images[0].last_pushed.unwrap().timestamp_subsec_nanos() > 0, "nanoseconds");

    let t = tag(json("hub-tag-object.ollama-gguf.2025-03.json")).unwrap();
    assert_eq!(t.images[0].last_pushed.unwrap().to_rfc3339(), "2024-01-16T20:54:52+00:00");
    assert_eq!(t.media_type, Some(MediaType::new(MediaType::OCI_INDEX)));

    let t = tag(json("hub-tag-object.php-8.3.8-fpm-alpine.docker-manifest-list.2024-07.json")).unwrap();
    assert_eq!(t.media_type, Some(MediaType::new(MediaType::DOCKER_LIST)));
    assert_eq!(t.images.len(), 8);
    assert!(t.image_for(&"linux/arm/v7".parse().unwrap()).is_some());

    let results = objects_with_key("hub-tags-images-empty.node.2025-08-11.PARTIAL.json.txt", "tag_status");
    let t = tag(results[0].clone()).unwrap();
    assert_eq!(t.name, "22.18.0-slim");
    assert!(t.images.is_empty() && t.image_for(&amd64).is_none());
    assert!(t.digest.is_some());
}

#[test]
fn tag_pages_with_links_in_both_spellings() {
    let page = list_page(&fixture("hub-tags-images-with-unknown-attestations.portainer-agent.2026-08.json"))
        .unwrap();
    assert_eq!(page.count, Some(1729));
    assert!(page.next.unwrap().ends_with("tags?ordering=last_updated&page=2&page_size=1"));
    let t = tag(page.results[0].clone()).unwrap();
    assert_eq!(t.name, "alpine-sts");
    assert!(t.images.iter().any(|i| i.platform.is_unknown()), "images as the last key");

    let page = list_page(&fixture("hub-tags-images.ubuntu-page_size1.2024-10.json")).unwrap();
    assert_eq!(
        page.next.as_deref(),
        Some("https://hub.docker.com/v2/repositories/ubuntu/tags/?page=2&page_size=1")
    );
    assert_eq!(tag(page.results[0].clone()).unwrap().name, "devel");
}

#[test]
fn legacy_and_v1_search() {
    let page = list_page(&fixture("search-v2-repositories-legacy.moe-hacker-2024-10.json")).unwrap();
    assert_eq!(page.count, Some(10_000));
    assert!(page.next.is_some());
    let (r, s) = legacy_hit(page.results[0].clone()).unwrap();
    assert_eq!((r.to_string(), s.badge), ("library/ubuntu".to_owned(), Some(Badge::Official)));
    assert_eq!(s.pull_count, Some(9_419_966_493));

    let page = list_page(&fixture("search-v1-index-docker-io.q-1a.page2.TRIMMED.json")).unwrap();
    assert_eq!(page.count, Some(229));
    let hits: Vec<_> = page.results.into_iter().map(|v| legacy_hit(v).unwrap()).collect();
    assert_eq!(hits.len(), 12);
    assert_eq!(hits[0].0.to_string(), "1ain2/hello");
    assert!(hits.iter().all(|(_, s)| s.badge.is_none()), "no badge is known for community hits");

    let hits = objects_with_key("search-v1-index-docker-io.mysql.2022-02.PARTIAL.json.txt", "is_official");
    assert!(hits.len() >= 3);
    let (r, s) = legacy_hit(hits[0].clone()).unwrap();
    assert_eq!(
        (r.to_string(), s.badge, s.pull_count),
        ("library/mysql".into(), Some(Badge::Official), Some(3_282_532_963))
    );
}

#[test]
fn v3_and_products_search_results() {
    // v3 fragments: the complete `rate_plans[].repositories[]` objects, with string pull counts.
    let repos = objects_with_key("search-v3-catalog.golang.2024-12.FRAGMENTS.txt", "namespace");
    assert!(!repos.is_empty());
    let (r, s) = repo_entry(repos[0].clone()).unwrap();
    assert_eq!(r.to_string(), "okteto/golang");
    assert_eq!(s.pull_count, Some(500_000), "\"500K+\" is a lower bound");

    // products search: `source` where v4 has `badge`, pull counts "10M+" and "".
    let hits: Vec<Hit> = objects_with_key("search-products-content-v1.nginx.2021-08.VIA-WRAPPER.txt", "slug")
        .into_iter()
        .map(|v| search_hit(v).unwrap())
        .collect();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].reference.to_string(), "library/nginx");
    assert_eq!(
        (hits[0].summary.badge, hits[0].summary.pull_count),
        (Some(Badge::Official), Some(10_000_000))
    );
    assert_eq!(hits[1].reference.to_string(), "bitnami/nginx-ingress-controller");
    assert_eq!((hits[1].summary.badge, hits[1].summary.pull_count), (Some(Badge::VerifiedPublisher), None));
}

#[test]
fn v4_hits_as_documented() {
    let hit = search_hit(serde_json::json!({
        "id": "8f2a", "name": "acme/tool", "slug": "acme/tool", "type": "image",
        "publisher": {"id": "x", "name": "ACME Corp"}, "badge": null, "pull_count": "2.7K",
        "star_count": 3, "updated_at": "2026-08-01T10:00:00Z"
    }))
    .unwrap();
    assert_eq!(hit.reference.to_string(), "acme/tool", "the namespace is not the publisher's display name");
    assert_eq!((hit.summary.badge, hit.summary.pull_count), (Some(Badge::None), Some(2_700)));
    let hit = search_hit(serde_json::json!({"name": "nginx", "badge": "official"})).unwrap();
    assert_eq!(hit.reference.to_string(), "library/nginx");
    let hit = search_hit(serde_json::json!({"name": "a/b", "badge": "gold_star"})).unwrap();
    assert_eq!((hit.summary.badge, hit.unknown_badge.as_deref()), (None, Some("gold_star")));
    assert!(search_hit(serde_json::json!({"name": "Not A Repo"})).is_err());
}

#[test]
fn rounded_counts() {
    for (s, n) in
        [("523", Some(523)), ("2.7K", Some(2_700)), ("10K+", Some(10_000)), ("1B+", Some(1_000_000_000))]
    {
        assert_eq!(rounded_count(s), n, "{s}");
    }
    assert_eq!(rounded_count(""), None);
    assert_eq!(rounded_count("lots"), None);
}
