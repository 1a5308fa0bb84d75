//! The client against small lying or unusual registries on loopback: 429 with Hub's epoch
//! Retry-After, a token realm on a foreign host, Basic auth, media-type and size lies, blobs that
//! do not match their descriptor, and an index with entries of unknown types.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use hubcensus_registry::{Credentials, Descriptor, RegistryError, Resolution};
use hubcensus_testkit::layer as testkit;
use hubcensus_types::{Digest, MediaType, RepoRef};
use parking_lot::Mutex;

use crate::common::client;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn repo() -> RepoRef {
    "census/fake".parse().unwrap()
}

/// A registry without auth serving fixed manifests (by tag or digest) and blobs.
#[derive(Clone, Default)]
struct Content {
    manifests: HashMap<String, (String, Vec<u8>)>,
    blobs: HashMap<String, Vec<u8>>,
    /// The `Docker-Content-Digest` a manifest HEAD answers with, whatever the manifest (none
    /// when unset).
    head_digest: Option<String>,
}

impl Content {
    fn manifest(mut self, reference: &str, media_type: &str, bytes: Vec<u8>) -> Self {
        let digest = Digest::sha256_of(&bytes).to_string();
        self.manifests.insert(reference.into(), (media_type.into(), bytes.clone()));
        self.manifests.insert(digest, (media_type.into(), bytes));
        self
    }

    /// Serves `bytes` for `digest` (which need not be their digest: a lying registry).
    fn blob(mut self, digest: &Digest, bytes: Vec<u8>) -> Self {
        self.blobs.insert(digest.to_string(), bytes);
        self
    }

    async fn serve(self) -> String {
        let router = Router::new().route("/v2/{*rest}", any(content_handler)).with_state(Arc::new(self));
        serve(router).await
    }
}

async fn content_handler(State(c): State<Arc<Content>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let head = req.method() == axum::http::Method::HEAD;
    if let Some((_, reference)) = path.rsplit_once("/manifests/") {
        let Some((mt, bytes)) = c.manifests.get(reference) else {
            return (
                StatusCode::NOT_FOUND,
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
            )
                .into_response();
        };
        let mut resp = if head { Body::empty().into_response() } else { bytes.clone().into_response() };
        if let Some(digest) = c.head_digest.as_deref().filter(|_| head) {
            resp.headers_mut().insert("docker-content-digest", HeaderValue::from_str(digest).unwrap());
        }
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_str(mt).unwrap());
        resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        return resp;
    }
    if let Some((_, digest)) = path.rsplit_once("/blobs/")
        && let Some(bytes) = c.blobs.get(digest)
    {
        return bytes.clone().into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}

fn descriptor(media_type: &str, bytes: &[u8]) -> serde_json::Value {
    serde_json::json!({"mediaType": media_type, "digest": Digest::sha256_of(bytes).to_string(), "size": bytes.len()})
}

#[tokio::test(flavor = "multi_thread")]
async fn an_index_with_unknown_entries_resolves_to_the_image() {
    let layer = testkit::gzip(&testkit::tar_of(&[("etc/motd", b"hello\n")]));
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": MediaType::OCI_MANIFEST,
        "config": descriptor(MediaType::OCI_CONFIG, &config),
        "layers": [descriptor(MediaType::OCI_LAYER_GZIP, &layer)],
    }))
    .unwrap();
    let thing = b"{}".to_vec();
    let mut unknown = descriptor("application/vnd.example.thing.v1+json", &thing);
    unknown["platform"] = serde_json::json!({"os": "linux", "architecture": "amd64"});
    let mut attestation = descriptor(MediaType::OCI_MANIFEST, &thing);
    attestation["platform"] = serde_json::json!({"os": "unknown", "architecture": "unknown"});
    attestation["annotations"] = serde_json::json!({"vnd.docker.reference.type": "attestation-manifest"});
    let mut image = descriptor(MediaType::OCI_MANIFEST, &manifest);
    image["platform"] = serde_json::json!({"os": "linux", "architecture": "amd64"});
    let mut arm = descriptor(MediaType::OCI_MANIFEST, &thing);
    arm["platform"] = serde_json::json!({"os": "linux", "architecture": "arm64", "variant": "v8"});
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": MediaType::OCI_INDEX,
        "manifests": [unknown, attestation, image, arm],
    }))
    .unwrap();
    let base = Content::default()
        .manifest("v1", MediaType::OCI_INDEX, index.clone())
        .manifest("x", MediaType::OCI_MANIFEST, manifest.clone())
        .blob(&Digest::sha256_of(&config), config.clone())
        .blob(&Digest::sha256_of(&layer), layer.clone())
        .serve()
        .await;
    let client = client(&base, |_| {});
    let Resolution::Resolved(image) = client.resolve(&repo(), "v1", &|_| false).await.unwrap() else {
        panic!()
    };
    assert_eq!(image.manifest_digest, Digest::sha256_of(&manifest));
    assert_eq!(image.index_digest, Some(Digest::sha256_of(&index)));
    let platforms: Vec<String> = image.platforms.iter().map(ToString::to_string).collect();
    assert_eq!(
        platforms,
        ["linux/arm64/v8", "linux/amd64"].map(String::from).into_iter().rev().collect::<Vec<_>>()
    );
    assert_eq!(image.config.unwrap().bytes, config);
    let bytes = client.fetch_blob_bytes(&repo(), &image.layers[0].descriptor, 1 << 20).await.unwrap();
    assert_eq!(bytes, layer);
    // No registry auth at all: no token was ever asked for.
    assert_eq!(client.stats().token_requests, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_head_digest_the_registry_cannot_serve_falls_back_to_the_tag() {
    // A tag that moved between the HEAD and the GET, or a HEAD whose digest header lies (a
    // flaky proxy; hubsim's wrong-digest fault): the tag itself still names the image.
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": MediaType::OCI_MANIFEST,
        "config": descriptor(MediaType::OCI_CONFIG, &config), "layers": [],
    }))
    .unwrap();
    let stale = Digest::sha256_of(b"a manifest this registry no longer has");
    let mut content = Content::default()
        .manifest("v1", MediaType::OCI_MANIFEST, manifest.clone())
        .blob(&Digest::sha256_of(&config), config);
    content.head_digest = Some(stale.to_string());
    let base = content.serve().await;
    let client = client(&base, |_| {});
    let Resolution::Resolved(image) = client.resolve(&repo(), "v1", &|_| false).await.unwrap() else {
        panic!("the tag resolves")
    };
    assert_eq!(image.manifest_digest, Digest::sha256_of(&manifest), "the digest of what the tag serves");
    // Asked by digest directly, a missing manifest stays missing.
    let err = client.resolve(&repo(), stale.as_str(), &|_| false).await.unwrap_err();
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn media_type_size_and_content_lies() {
    let config = br#"{"os":"linux","architecture":"amd64"}"#.to_vec();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": MediaType::OCI_MANIFEST,
        "config": descriptor(MediaType::OCI_CONFIG, &config), "layers": [],
    }))
    .unwrap();
    let huge =
        format!(r#"{{"schemaVersion":2,"manifests":[],"pad":"{}"}}"#, "x".repeat(5 << 20)).into_bytes();
    let real = b"the real blob content".to_vec();
    let (d_wrong, d_long, d_short) =
        (Digest::sha256_of(b"wrong"), Digest::sha256_of(b"long"), Digest::sha256_of(b"short"));
    let base = Content::default()
        .manifest("index-says-header", MediaType::OCI_INDEX, manifest.clone())
        .manifest("huge", MediaType::OCI_INDEX, huge)
        .blob(&d_wrong, real.clone())
        .blob(&d_long, vec![7; 1 << 20])
        .blob(&d_short, vec![7; 10])
        .serve()
        .await;
    let client = client(&base, |_| {});
    let e = client.get_manifest(&repo(), "index-says-header").await.unwrap_err();
    assert!(matches!(e, RegistryError::MediaTypeMismatch { .. }) && e.is_permanent_for_item(), "{e}");
    let e = client.get_manifest(&repo(), "huge").await.unwrap_err();
    assert!(
        matches!(e, RegistryError::TooLarge { limit, .. } if limit == hubcensus_image::MAX_DOCUMENT_BYTES),
        "{e}"
    );

    let desc = |d: &Digest, size: u64| -> Descriptor {
        serde_json::from_value(serde_json::json!({"mediaType": MediaType::OCI_LAYER_GZIP, "digest": d.to_string(), "size": size})).unwrap()
    };
    // Right size, wrong bytes: the verdict comes last, after every byte was handed out.
    let mut blob = client.open_blob(&repo(), &desc(&d_wrong, real.len() as u64)).await.unwrap();
    let mut items = Vec::new();
    while let Some(item) = blob.next_chunk().await {
        items.push(item);
    }
    assert_eq!(blob.bytes_read(), real.len() as u64);
    let last = items.pop().unwrap().unwrap_err();
    assert!(
        matches!(last, RegistryError::DigestMismatch { ref expected, .. } if *expected == d_wrong),
        "{last}"
    );
    assert!(items.iter().all(Result::is_ok));
    // Longer than promised: stopped at once, not after a megabyte... of a gigabyte.
    let e = client.fetch_blob_bytes(&repo(), &desc(&d_long, 100), 1 << 30).await.unwrap_err();
    assert!(
        matches!(e, RegistryError::SizeMismatch { expected: 100, actual, .. } if actual < (1 << 20)),
        "{e}"
    );
    let e = client.open_blob(&repo(), &desc(&d_short, 100)).await.unwrap().finish().await.unwrap_err();
    assert!(matches!(e, RegistryError::SizeMismatch { expected: 100, actual: 10, .. }), "{e}");
    // A descriptor larger than the bound is refused before any request.
    let gets = client.stats().blob_gets;
    let e = client.fetch_blob_bytes(&repo(), &desc(&d_long, 10 << 20), 1 << 20).await.unwrap_err();
    assert!(matches!(e, RegistryError::TooLarge { .. }), "{e}");
    assert_eq!(client.stats().blob_gets, gets);
    let missing = client.open_blob(&repo(), &desc(&Digest::sha256_of(b"nothing"), 1)).await.unwrap_err();
    assert!(matches!(missing, RegistryError::NotFound { .. }), "{missing}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_with_hubs_epoch_retry_after_is_waited_out_or_handed_back() {
    let hits = Arc::new(AtomicU32::new(0));
    // Whole seconds since the epoch: "now + 2" is between one and two seconds away.
    let wait_secs = Arc::new(AtomicU32::new(2));
    let (h, w) = (hits.clone(), wait_secs.clone());
    let router = Router::new().route(
        "/v2/{*rest}",
        any(move || {
            let (h, w) = (h.clone(), w.clone());
            async move {
                let n = h.fetch_add(1, Ordering::SeqCst);
                if n == 0 {
                    let epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
                        + u64::from(w.load(Ordering::SeqCst));
                    let mut headers = HeaderMap::new();
                    headers.insert("retry-after", HeaderValue::from(epoch));
                    return (StatusCode::TOO_MANY_REQUESTS, headers, "Too Many Requests").into_response();
                }
                empty_index()
            }
        }),
    );
    let base = serve(router).await;
    // A window of a second or two: the gate waits it out and sends once more.
    let client = client(&base, |_| {});
    let started = std::time::Instant::now();
    let head = client.head_manifest(&repo(), "latest").await;
    assert!(head.is_err(), "no Docker-Content-Digest in this fake: {head:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 2, "one 429, one retry after the window");
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    assert!(client.get_manifest(&repo(), "latest").await.is_ok());

    // An hour-long window is handed back, and the paused host is not touched again.
    hits.store(0, Ordering::SeqCst);
    wait_secs.store(3_600, Ordering::SeqCst);
    let client = crate::common::client(&base, |_| {});
    let e = client.head_manifest(&repo(), "latest").await.unwrap_err();
    let RegistryError::RateLimited { until: Some(until), .. } = e else { panic!("{e}") };
    assert!(until > SystemTime::now() + Duration::from_secs(3_000) && e_is_transient(until));
    let e = client.get_manifest(&repo(), "latest").await.unwrap_err();
    let close =
        |t: SystemTime| t.duration_since(until).unwrap_or_else(|e| e.duration()) < Duration::from_secs(2);
    assert!(
        matches!(e, RegistryError::QuotaExhausted { reset_at: Some(t) } if close(t)),
        "a 429 on a GET: {e}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1, "never hot-retried");
}

fn e_is_transient(until: SystemTime) -> bool {
    RegistryError::RateLimited { host: String::new(), until: Some(until) }.is_transient()
}

/// Which Authorization each token request carried.
type Seen = Arc<Mutex<Vec<Option<String>>>>;

/// The empty OCI index every guarded fake serves once let in.
fn empty_index() -> Response {
    let body = serde_json::json!({"schemaVersion": 2, "mediaType": MediaType::OCI_INDEX, "manifests": []});
    let mut resp = serde_json::to_vec(&body).unwrap().into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MediaType::OCI_INDEX));
    resp
}

/// A registry that answers 401 with `challenge` unless the request carries `Authorization:
/// accept`.
async fn guarded_registry(accept: String, challenge: String) -> String {
    let router = Router::new().route(
        "/v2/{*rest}",
        any(move |headers: HeaderMap| {
            let (accept, challenge) = (accept.clone(), challenge.clone());
            async move {
                if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(accept.as_str()) {
                    return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, challenge)], "")
                        .into_response();
                }
                empty_index()
            }
        }),
    );
    serve(router).await
}

/// A registry whose Bearer realm is `realm`, accepting the token `t`.
async fn bearer_registry(realm: String) -> String {
    guarded_registry("Bearer t".into(), format!(r#"Bearer realm="{realm}",service="fake""#)).await
}

async fn token_service(seen: Seen) -> String {
    let router = Router::new().route(
        "/token",
        any(move |headers: HeaderMap| {
            let seen = seen.clone();
            async move {
                seen.lock().push(headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap().to_owned()));
                axum::Json(serde_json::json!({"token": "t", "expires_in": 300}))
            }
        }),
    );
    serve(router).await
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_never_go_to_a_foreign_realm() {
    let account = Credentials { username: "census".into(), secret: "pat".into() };
    let seen: Seen = Arc::default();
    let auth = token_service(seen.clone()).await;
    // Same host as the registry (another port): the registry's own token service.
    let base = bearer_registry(format!("{auth}/token")).await;
    let client = client(&base, |cfg| cfg.credentials = Some(account.clone()));
    client.get_manifest(&repo(), "latest").await.unwrap();
    assert!(seen.lock()[0].as_deref().is_some_and(|v| v.starts_with("Basic ")), "{:?}", seen.lock());

    // A realm on another host ("localhost" is not "127.0.0.1"): an anonymous token request.
    let foreign = auth.replace("127.0.0.1", "localhost");
    let base = bearer_registry(format!("{foreign}/token")).await;
    let client = crate::common::client(&base, |cfg| cfg.credentials = Some(account.clone()));
    client.get_manifest(&repo(), "latest").await.unwrap();
    assert_eq!(seen.lock().len(), 2);
    assert_eq!(seen.lock()[1], None, "no credentials to a foreign realm");

    // Unless the configuration names that host as the auth host (Docker Hub's auth.docker.io).
    let client = crate::common::client(&base, |cfg| {
        cfg.credentials = Some(account);
        cfg.auth_host = Some("localhost".into());
    });
    client.get_manifest(&repo(), "latest").await.unwrap();
    assert!(seen.lock()[2].is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_challenges_take_the_credentials_directly() {
    let expected =
        format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "census:pat"));
    let base = guarded_registry(expected, r#"Basic realm="Registry Realm""#.into()).await;
    let with = |secret: Option<&str>| {
        client(&base, |cfg| {
            cfg.credentials = secret.map(|s| Credentials { username: "census".into(), secret: s.into() });
        })
    };
    let ok = with(Some("pat"));
    ok.get_manifest(&repo(), "latest").await.unwrap();
    ok.get_manifest(&repo(), "latest").await.unwrap();
    let s = ok.stats();
    assert_eq!(
        (s.token_requests, s.auth_retries, s.manifest_gets),
        (0, 1, 3),
        "one 401, then Basic up front: {s:?}"
    );
    for secret in [None, Some("wrong")] {
        let e = with(secret).get_manifest(&repo(), "latest").await.unwrap_err();
        assert!(matches!(e, RegistryError::Unauthorized { .. }), "{secret:?}: {e}");
    }
}
