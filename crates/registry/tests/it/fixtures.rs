//! Every recorded registry response in `tests/fixtures/` (copied unchanged from the project's
//! reference set; see that folder's README), served verbatim by a loopback registry and read
//! through the client's public API: indexes, manifest lists, manifests (byte-exact ones checked
//! against their published digests), an image config, the token response, the 401 and 429
//! bodies, and the recorded rate-limit and challenge headers.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use hubcensus_net::RateLimitInfo;
use hubcensus_registry::{
    ErrorEnvelope, RegistryError, RegistryErrorCode, Resolution, Token, parse_challenges,
};
use hubcensus_types::{Digest, MediaType, MediaTypeKind, Platform, RepoRef};
use parking_lot::Mutex;

use crate::common::client;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// One canned response: status, headers, body.
#[derive(Clone)]
struct Canned {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Canned {
    fn ok(content_type: &str, body: Vec<u8>) -> Self {
        Self { status: StatusCode::OK, headers: vec![("content-type".into(), content_type.into())], body }
    }
}

/// Answers `{method} {path}` from a table; counts every request.
#[derive(Default)]
struct Replay {
    table: Mutex<HashMap<(Method, String), Canned>>,
    hits: Mutex<Vec<String>>,
}

async fn replay(State(r): State<Arc<Replay>>, req: Request) -> Response {
    let key = (req.method().clone(), req.uri().path().to_owned());
    r.hits.lock().push(format!("{} {}", key.0, key.1));
    let canned = {
        let table = r.table.lock();
        // A HEAD is the GET without its body.
        table
            .get(&key)
            .or_else(|| table.get(&(Method::GET, key.1.clone())).filter(|_| key.0 == Method::HEAD))
            .cloned()
    };
    let Some(c) = canned else {
        return (
            StatusCode::NOT_FOUND,
            r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"not in the fixtures"}]}"#,
        )
            .into_response();
    };
    let len = c.body.len();
    let mut resp = if key.0 == Method::HEAD { Body::empty().into_response() } else { c.body.into_response() };
    *resp.status_mut() = c.status;
    for (k, v) in c.headers {
        resp.headers_mut()
            .insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(&v).unwrap());
    }
    resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

async fn start(replay_table: Arc<Replay>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().fallback(any(replay)).with_state(replay_table);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

impl Replay {
    fn put(&self, method: Method, path: &str, canned: Canned) {
        self.table.lock().insert((method, path.to_owned()), canned);
    }

    /// Serves `bytes` as manifest `reference` and under its own digest, with the
    /// `Docker-Content-Digest` a registry sends.
    fn manifest(&self, repo: &RepoRef, reference: &str, media_type: &str, bytes: &[u8]) -> Digest {
        let digest = Digest::sha256_of(bytes);
        let mut canned = Canned::ok(media_type, bytes.to_vec());
        canned.headers.push(("docker-content-digest".into(), digest.to_string()));
        for r in [reference.to_owned(), digest.to_string()] {
            self.put(Method::GET, &format!("/v2/{repo}/manifests/{r}"), canned.clone());
        }
        digest
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_indexes_and_manifests_resolve() {
    let table = Arc::new(Replay::default());
    let alpine: RepoRef = "alpine".parse().unwrap();
    let index = fixture("index-oci-alpine-3.23.4-official-with-attestations.2026-04.json");
    let arm64 = fixture("manifest-oci-alpine-3.23.4-arm64v8-official.2026-04.json");
    table.manifest(&alpine, "3.23.4", MediaType::OCI_INDEX, &index);
    let arm64_digest = table.manifest(&alpine, "arm64", MediaType::OCI_MANIFEST, &arm64);
    let ubuntu: RepoRef = "ubuntu".parse().unwrap();
    let list = fixture("manifest-list-docker-ubuntu-17.10.dependabot.json");
    let amd64 = fixture("manifest-schema2-docker-ubuntu-17.10-amd64.raw.json");
    table.manifest(&ubuntu, "17.10", MediaType::DOCKER_LIST, &list);
    let amd64_digest = table.manifest(&ubuntu, "17.10-amd64", MediaType::DOCKER_MANIFEST, &amd64);
    table.manifest(&ubuntu, "latest", MediaType::OCI_INDEX, &fixture("index-oci-ubuntu-latest.2024-10.json"));
    table.manifest(
        &ubuntu,
        "platform",
        MediaType::OCI_MANIFEST,
        &fixture("manifest-oci-ubuntu-platform.2024-10.json"),
    );
    let base = start(table.clone()).await;

    // The byte-exact captures hash to the digests Docker Hub published for them.
    assert_eq!(arm64_digest.hex(), "378c4c5418f7493bd500ad21ffb43818d0689daaad43e3261859fb417d1481a0");
    assert_eq!(amd64_digest.hex(), "9c4bf7dbb981591d4a1169138471afe4bf5ff5418841d00e30a7ba372e38d6c1");
    let plain = client(&base, |_| {});
    let m = plain.get_manifest(&alpine, arm64_digest.as_str()).await.unwrap();
    assert_eq!((m.kind(), m.bytes.len()), (MediaTypeKind::Manifest, arm64.len()));
    for (repo, tag, kind) in [
        (&alpine, "3.23.4", MediaTypeKind::Index),
        (&ubuntu, "17.10", MediaTypeKind::Index),
        (&ubuntu, "latest", MediaTypeKind::Index),
        (&ubuntu, "platform", MediaTypeKind::Manifest),
        (&ubuntu, "17.10-amd64", MediaTypeKind::Manifest),
    ] {
        assert_eq!(plain.get_manifest(repo, tag).await.unwrap().kind(), kind, "{repo}:{tag}");
    }

    // Index → platform: the arm64/v8 entry of alpine's index (attestations skipped), fetched by
    // digest and verified; the walk stops at its config, which no fixture holds.
    let arm = client(&base, |cfg| cfg.platform = "linux/arm64/v8".parse().unwrap());
    let e = arm.resolve(&alpine, "3.23.4", &|_| false).await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { ref what, .. } if what.contains("2ffb2ff4aab3")), "{e}");
    assert!(table.hits.lock().iter().any(|h| h.ends_with(arm64_digest.as_str())));
    // The Docker list's amd64 entry is the byte-exact schema2 manifest.
    let e = plain.resolve(&ubuntu, "17.10", &|_| false).await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { ref what, .. } if what.contains("e211a66937c6")), "{e}");
    // A platform the index does not offer names those it does, attestations left out.
    let windows = client(&base, |cfg| cfg.platform = "windows/amd64".parse().unwrap());
    let e = windows.resolve(&alpine, "3.23.4", &|_| false).await.unwrap_err();
    let RegistryError::NoMatchingPlatform { available, .. } = &e else { panic!("{e}") };
    assert_eq!(available.split(", ").count(), 8, "{available}");
    assert!(!available.contains("unknown") && e.is_permanent_for_item(), "{available}");
    // Known digests cost a HEAD only.
    let index_digest = Digest::sha256_of(&index);
    let hits_before = table.hits.lock().len();
    let known = plain.resolve(&alpine, "3.23.4", &|d| *d == index_digest).await.unwrap();
    assert!(matches!(known, Resolution::Known { ref digest } if *digest == index_digest), "{known:?}");
    assert_eq!(table.hits.lock()[hits_before..], [format!("HEAD /v2/{alpine}/manifests/3.23.4")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recorded_image_config_is_read() {
    let table = Arc::new(Replay::default());
    let repo: RepoRef = "library/ubuntu".parse().unwrap();
    let config = fixture("image-config-ubuntu-24.04-arm64.2024-10.json");
    let config_digest = Digest::sha256_of(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": MediaType::OCI_MANIFEST,
        "config": {"mediaType": MediaType::OCI_CONFIG, "digest": config_digest.to_string(), "size": config.len()},
        "layers": [],
    }))
    .unwrap();
    let digest = table.manifest(&repo, "24.04", MediaType::OCI_MANIFEST, &manifest);
    table.put(
        Method::GET,
        &format!("/v2/{repo}/blobs/{config_digest}"),
        Canned::ok("application/octet-stream", config.clone()),
    );
    let base = start(table).await;
    let client = client(&base, |_| {});
    let Resolution::Resolved(image) = client.resolve(&repo, "24.04", &|_| false).await.unwrap() else {
        panic!()
    };
    assert_eq!(image.config.unwrap().bytes, config);
    assert_eq!(
        image.platform,
        Some("linux/arm64/v8".parse::<Platform>().unwrap()),
        "os/architecture/variant"
    );
    assert_eq!(image.manifest_digest, digest);
}

/// The header lines of block `n` of `registry-headers.txt` (`name: value` lines, or the
/// `"name": "value",` lines of a JSON dump), names lowercased.
fn header_block(n: usize) -> Vec<(String, String)> {
    let text = String::from_utf8(fixture("registry-headers.txt")).unwrap();
    let is_start = |l: &str| {
        l.strip_prefix("## ")
            .and_then(|r| r.split_once(". "))
            .is_some_and(|(d, _)| d.parse::<usize>().is_ok())
    };
    let mut lines = text.lines().skip_while(|l| !l.starts_with(&format!("## {n}. "))).skip(1);
    let mut out = Vec::new();
    for line in lines.by_ref().take_while(|l| !is_start(l)) {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with("HTTP/") || line.starts_with("GET:") {
            continue;
        }
        let Some((k, v)) = line.split_once(": ") else { continue };
        let (k, v) = if line.starts_with('"') {
            (k.trim_matches('"'), v.trim().trim_end_matches(',').trim_matches('"'))
        } else {
            (k, v.trim())
        };
        if !k.is_empty() && !k.contains(' ') {
            out.push((k.to_ascii_lowercase(), v.to_owned()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_rate_limit_headers_drive_the_quota() {
    // Block 1: a 200 to a HEAD with `ratelimit-remaining: 0;w=21600` from an IPv6 /64.
    let headers = header_block(1);
    assert!(headers.iter().any(|(k, v)| k == "ratelimit-remaining" && v == "0;w=21600"), "{headers:?}");
    let table = Arc::new(Replay::default());
    let repo: RepoRef = "library/alpine".parse().unwrap();
    table.put(
        Method::HEAD,
        &format!("/v2/{repo}/manifests/latest"),
        Canned {
            status: StatusCode::OK,
            headers: headers.into_iter().filter(|(k, _)| k != "content-length").collect(),
            body: Vec::new(),
        },
    );
    // Block 5's garbled values and block 3's absent ones leave the quota unknown.
    let garbled = header_block(5).into_iter().take(2).collect::<Vec<_>>();
    assert_eq!(garbled[0], ("ratelimit-limit".into(), ";w=21600".into()));
    let block3: Vec<_> = header_block(3)
        .into_iter()
        .filter(|(k, _)| k.starts_with("docker-ratelimit") || k == "content-type")
        .collect();
    table.put(
        Method::HEAD,
        &format!("/v2/{repo}/manifests/garbled"),
        Canned { status: StatusCode::OK, headers: [garbled, block3].concat(), body: Vec::new() },
    );
    let base = start(table.clone()).await;

    let client = client(&base, |_| {});
    let head = client.head_manifest(&repo, "latest").await.unwrap();
    assert_eq!(head.digest.hex(), "c2d41d2ba6d8b7b4a3ffec621578eb4d9a0909df29dfa2f6fd8a2e5fd0836aed");
    assert_eq!(head.media_type.as_str(), MediaType::DOCKER_MANIFEST);
    let q = client.quota();
    assert_eq!(
        (q.limit, q.remaining, q.source.as_deref()),
        (Some(100), Some(0), Some("2001:41d0:801:2000::"))
    );
    assert!(!q.may_pull());
    let hits = table.hits.lock().len();
    assert!(matches!(client.get_manifest(&repo, "latest").await, Err(RegistryError::QuotaExhausted { .. })));
    assert_eq!(table.hits.lock().len(), hits, "refused before sending");

    let other = crate::common::client(&base, |_| {});
    other.head_manifest(&repo, "garbled").await.unwrap_err(); // no digest in these blocks
    let q = other.quota();
    assert_eq!((q.limit, q.remaining), (None, None));
    assert_eq!(q.source.as_deref(), Some("78ffd34a-5c31-4cdb-9281-74f2526563db"));
    assert!(q.may_pull());

    // The same parser the gate uses reads block 4's authenticated quota.
    let mut map = reqwest::header::HeaderMap::new();
    for (k, v) in header_block(4) {
        map.insert(reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
    }
    let info = RateLimitInfo::from_headers(&map, std::time::SystemTime::now());
    assert_eq!((info.limit, info.remaining, info.pull_quota), (Some(200), Some(200), true));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recorded_challenge_token_and_error_bodies() {
    // Block 2's challenge, with the realm pointed at this test's token service.
    let challenge = header_block(2).into_iter().find(|(k, _)| k == "www-authenticate").unwrap().1;
    let parsed = parse_challenges(&challenge);
    assert_eq!(parsed[0].realm(), Some("https://auth.docker.io/token"));
    assert_eq!(parsed[0].scopes(), ["repository:library/alpine:pull"]);
    let token_body = fixture("token-response.anonymous.2024-10-03.json");
    let token = Token::parse(&token_body, chrono::Utc::now()).unwrap();
    assert!(!format!("{token:?}").contains("eyJ"));

    let table = Arc::new(Replay::default());
    let base = start(table.clone()).await;
    let local = challenge.replace("https://auth.docker.io", &base);
    let unauthorized = fixture("registry-401-unauthorized.bbot-test.json");
    let envelope = ErrorEnvelope::parse(&unauthorized).unwrap();
    assert!(envelope.has(&RegistryErrorCode::Unauthorized));
    let repo: RepoRef = "library/alpine".parse().unwrap();
    let path = format!("/v2/{repo}/manifests/latest");
    let refuse = |challenge: String| Canned {
        status: StatusCode::UNAUTHORIZED,
        headers: vec![
            ("www-authenticate".into(), challenge),
            ("content-type".into(), "application/json".into()),
        ],
        body: unauthorized.clone(),
    };
    table.put(Method::GET, "/token", Canned::ok("application/json", token_body));
    let base_client = client(&base, |_| {});
    // The token the fixture carries is sent, and the registry still says UNAUTHORIZED with
    // insufficient_scope: Docker Hub's answer for a repository that is missing or private.
    table.put(Method::GET, &path, refuse(format!(r#"{local},error="insufficient_scope""#)));
    let e = base_client.get_manifest(&repo, "latest").await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { .. }), "{e}");
    let hits = table.hits.lock().clone();
    assert_eq!(hits.iter().filter(|h| h.starts_with("GET /token")).count(), 1, "{hits:?}");
    assert_eq!(hits.iter().filter(|h| h.ends_with("manifests/latest")).count(), 2, "{hits:?}");

    // The 429 bodies: the envelope's TOOMANYREQUESTS, the 2020 `{"message"}` shape, both 429s.
    let text = String::from_utf8(fixture("registry-429-toomanyrequests.txt")).unwrap();
    let bodies: Vec<&str> = text.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(bodies.len(), 2);
    assert!(ErrorEnvelope::parse(bodies[0].as_bytes()).unwrap().has(&RegistryErrorCode::TooManyRequests));
    assert!(ErrorEnvelope::parse(bodies[1].as_bytes()).is_none());
    for body in bodies {
        let table = Arc::new(Replay::default());
        table.put(
            Method::GET,
            &path,
            Canned { status: StatusCode::TOO_MANY_REQUESTS, headers: vec![], body: body.as_bytes().to_vec() },
        );
        let base = start(table.clone()).await;
        let client = client(&base, |_| {});
        let e = client.get_manifest(&repo, "latest").await.unwrap_err();
        assert!(matches!(e, RegistryError::QuotaExhausted { reset_at: Some(_) }), "{e}");
        assert!(matches!(
            client.get_manifest(&repo, "latest").await,
            Err(RegistryError::QuotaExhausted { .. })
        ));
        assert_eq!(table.hits.lock().len(), 1, "a quota 429 is not retried");
    }
}
