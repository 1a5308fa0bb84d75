//! The gate against real HTTP servers on loopback: SSRF refusal, credentials never crossing
//! origins, retries of transient failures, and 429s that are waited out or handed back but
//! never hot-retried.

#![allow(clippy::unwrap_used)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use hubcensus_net::{Gate, GateConfig, NetError, OriginLimit, Request};
use reqwest::header::HeaderValue;
use url::Url;

#[derive(Clone, Default)]
struct Hits(Arc<AtomicU32>);

impl Hits {
    fn bump(&self) -> u32 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
    fn get(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

async fn serve(router: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

fn loopback_gate() -> Gate {
    Gate::new(GateConfig {
        allow_private_addresses: true,
        retry_base_delay: Duration::from_millis(10),
        retry_max_delay: Duration::from_millis(50),
        max_retries: 3,
        max_rate_limit_wait: Duration::from_secs(5),
        ..GateConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn loopback_and_private_targets_are_refused_by_default() {
    let hits = Hits::default();
    let h = hits.clone();
    let url = serve(Router::new().route("/", get(move || async move { h.bump().to_string() }))).await;
    let gate = Gate::new(GateConfig::default()).unwrap();
    for target in [url.clone(), Url::parse(&format!("http://localhost:{}/", url.port().unwrap())).unwrap()] {
        let err = gate.send(Request::get(target)).await.unwrap_err();
        assert!(matches!(err, NetError::Refused { .. }), "{err}");
    }
    let err = gate
        .send(Request::get(Url::parse("http://169.254.169.254/latest/meta-data").unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::Refused { .. }), "{err}");
    assert_eq!(hits.get(), 0, "nothing reached the server");
    assert!(loopback_gate().send(Request::get(url)).await.is_ok(), "allowed when configured");
}

/// Which server saw which Authorization header.
type Seen = Arc<parking_lot::Mutex<Vec<(String, Option<String>)>>>;

#[tokio::test]
async fn authorization_never_follows_a_redirect_to_another_origin() {
    let seen: Seen = Arc::default();
    let record = |seen: Seen, name: &'static str| {
        move |headers: HeaderMap| async move {
            let auth = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap().to_owned());
            seen.lock().push((name.to_owned(), auth.clone()));
            if name == "cdn" && auth.is_some() {
                return StatusCode::BAD_REQUEST.into_response(); // presigned URLs reject extra auth
            }
            "blob bytes".into_response()
        }
    };
    let cdn = serve(Router::new().route("/blob", get(record(Arc::clone(&seen), "cdn")))).await;
    let cdn_blob = cdn.join("blob?verify=123").unwrap().to_string();
    let registry = serve(
        Router::new()
            .route(
                "/v2/x/blobs/sha",
                get(move || async move {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, cdn_blob)]).into_response()
                }),
            )
            .route(
                "/v2/x/same",
                get(|| async { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, "/v2/x/final")]) }),
            )
            .route("/v2/x/final", get(record(Arc::clone(&seen), "final"))),
    )
    .await;
    let gate = loopback_gate();
    let mut request = Request::get(registry.join("v2/x/blobs/sha").unwrap());
    request.authorization = Some(HeaderValue::from_static("Bearer secret"));
    let response = gate.send(request.clone()).await.unwrap();
    assert_eq!(response.inner.status(), 200);
    assert_eq!(response.final_url.port(), cdn.port());
    assert_eq!(response.inner.text().await.unwrap(), "blob bytes");

    request.url = registry.join("v2/x/same").unwrap();
    gate.send(request).await.unwrap();
    let seen = seen.lock().clone();
    assert_eq!(seen[0], ("cdn".to_owned(), None), "the CDN got no credentials");
    assert_eq!(seen[1], ("final".to_owned(), Some("Bearer secret".to_owned())), "same origin keeps them");
}

#[tokio::test]
async fn transient_failures_are_retried_and_give_up_at_the_cap() {
    let hits = Hits::default();
    let h = hits.clone();
    let flaky = move || {
        let n = h.bump();
        async move { if n < 3 { StatusCode::SERVICE_UNAVAILABLE.into_response() } else { "ok".into_response() } }
    };
    let always = Hits::default();
    let a = always.clone();
    let url = serve(Router::new().route("/flaky", get(flaky)).route(
        "/down",
        get(move || {
            a.bump();
            async { StatusCode::BAD_GATEWAY }
        }),
    ))
    .await;
    let gate = loopback_gate();
    let response = gate.send(Request::get(url.join("flaky").unwrap())).await.unwrap();
    assert_eq!((response.inner.status().as_u16(), response.attempts), (200, 3));

    let err = gate.send(Request::get(url.join("down").unwrap())).await.unwrap_err();
    assert!(matches!(err, NetError::Status { status: 502, attempts: 4, .. }), "{err}");
    assert_eq!(always.get(), 4, "one try and max_retries (3) retries");
}

fn epoch_in(secs: u64) -> String {
    (SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + secs).to_string()
}

#[tokio::test]
async fn a_429_with_an_epoch_retry_after_is_waited_out_not_hot_retried() {
    let times = Arc::new(parking_lot::Mutex::new(Vec::<Instant>::new()));
    let t = Arc::clone(&times);
    let handler = move || {
        let mut times = t.lock();
        times.push(Instant::now());
        let first = times.len() == 1;
        async move {
            if first {
                // Hub's style: retry-after carries a Unix timestamp.
                (StatusCode::TOO_MANY_REQUESTS, [("retry-after", epoch_in(2))]).into_response()
            } else {
                "ok".into_response()
            }
        }
    };
    let url = serve(Router::new().route("/search", get(handler))).await;
    let response = loopback_gate().send(Request::get(url.join("search").unwrap())).await.unwrap();
    assert_eq!(response.inner.status(), 200);
    let times = times.lock();
    assert_eq!(times.len(), 2, "exactly one retry, after the window");
    assert!(
        times[1] - times[0] >= Duration::from_millis(900),
        "waited for the window: {:?}",
        times[1] - times[0]
    );
}

#[tokio::test]
async fn a_long_or_unnamed_429_is_handed_back_and_pauses_the_host() {
    let hits = Hits::default();
    let (h1, h2) = (hits.clone(), hits.clone());
    let url = serve(
        Router::new()
            .route(
                "/quota",
                // The registry's pull-quota 429: no Retry-After at all.
                get(move || {
                    h1.bump();
                    async {
                        (
                            StatusCode::TOO_MANY_REQUESTS,
                            [("ratelimit-remaining", "0;w=21600")],
                            "TOOMANYREQUESTS",
                        )
                    }
                }),
            )
            .route(
                "/api",
                get(move || {
                    h2.bump();
                    async { (StatusCode::TOO_MANY_REQUESTS, [("retry-after", epoch_in(3600))]) }
                }),
            ),
    )
    .await;
    let gate = loopback_gate();
    let err = gate.send(Request::get(url.join("quota").unwrap())).await.unwrap_err();
    assert!(matches!(err, NetError::RateLimited { until: None, .. }), "{err}");
    assert_eq!(hits.get(), 1, "not retried");

    let err = gate.send(Request::get(url.join("api").unwrap())).await.unwrap_err();
    assert!(matches!(err, NetError::RateLimited { until: Some(_), .. }), "{err}");
    assert_eq!(hits.get(), 2);
    // The host is now paused for an hour: the next request fails fast without touching it.
    let err = gate.send(Request::get(url.join("quota").unwrap())).await.unwrap_err();
    assert!(matches!(err, NetError::RateLimited { until: Some(_), .. }), "{err}");
    assert_eq!(hits.get(), 2, "a paused host is not contacted");
}

#[tokio::test]
async fn the_per_host_rate_is_respected() {
    let url = serve(Router::new().route("/", get(|| async { "ok" }))).await;
    let gate = Gate::new(GateConfig {
        allow_private_addresses: true,
        origins: vec![OriginLimit::per_minute(&url, 600, 4)],
        ..GateConfig::default()
    })
    .unwrap();
    let start = Instant::now();
    for _ in 0..21 {
        gate.send(Request::get(url.clone())).await.unwrap();
    }
    // 600/min = one every 100 ms after a burst of 10: 21 requests need at least ~1 s.
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "21 requests at 10/s took only {elapsed:?}");
}

#[tokio::test]
async fn x_ratelimit_remaining_zero_pauses_until_reset() {
    let times = Arc::new(parking_lot::Mutex::new(Vec::<Instant>::new()));
    let t = Arc::clone(&times);
    let url = serve(
        Router::new().route(
            "/",
            get(move |State(()): State<()>| {
                t.lock().push(Instant::now());
                async move {
                    (
                        [
                            ("x-ratelimit-limit", "180".to_owned()),
                            ("x-ratelimit-remaining", "0".to_owned()),
                            ("x-ratelimit-reset", epoch_in(2)),
                        ],
                        "ok",
                    )
                }
            })
            .with_state(()),
        ),
    )
    .await;
    let gate = loopback_gate();
    gate.send(Request::get(url.clone())).await.unwrap();
    gate.send(Request::get(url)).await.unwrap();
    let times = times.lock();
    assert!(times[1] - times[0] >= Duration::from_millis(900), "the second request waited for the reset");
}

/// Issue #17: limits are per origin (scheme, host and port). hubsim's four services all listen
/// on 127.0.0.1: the Hub API's pacing must not throttle the registry, token service or CDN.
#[tokio::test]
async fn two_origins_on_one_host_keep_their_own_limits() {
    let slow = serve(Router::new().route("/", get(|| async { "ok" }))).await;
    let fast = serve(Router::new().route("/", get(|| async { "ok" }))).await;
    assert_eq!(slow.host_str(), fast.host_str());
    let gate = Gate::new(GateConfig {
        allow_private_addresses: true,
        // 60/min: a burst of 1, then one a second.
        origins: vec![OriginLimit::per_minute(&slow, 60, 4)],
        default_limit: OriginLimit { requests_per_minute: 600_000, ..GateConfig::default().default_limit },
        ..GateConfig::default()
    })
    .unwrap();
    gate.send(Request::get(slow.clone())).await.unwrap();
    let start = Instant::now();
    for _ in 0..50 {
        gate.send(Request::get(fast.clone())).await.unwrap();
    }
    assert!(start.elapsed() < Duration::from_millis(500), "the other port waited: {:?}", start.elapsed());
    gate.send(Request::get(slow)).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(900), "the paced origin kept its pace");
}

/// A request's own budget (a registry's manifest requests) is taken besides its origin's, and
/// not on a redirect to another origin (a blob's CDN).
#[tokio::test]
async fn a_requests_own_budget_is_taken_on_its_origin_only() {
    let cdn = serve(Router::new().route("/blob", get(|| async { "blob" }))).await;
    let target = cdn.join("blob").unwrap().to_string();
    let registry = serve(Router::new().route(
        "/",
        get(move || {
            let target = target.clone();
            async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]) }
        }),
    ))
    .await;
    let gate = loopback_gate();
    let manifests: Arc<dyn hubcensus_net::Budget> =
        Arc::new(hubcensus_net::LocalRate::per_minute("registry_manifests", 60));
    let start = Instant::now();
    for _ in 0..2 {
        let response = gate
            .send(Request { budget: Some(Arc::clone(&manifests)), ..Request::get(registry.clone()) })
            .await;
        assert_eq!(response.unwrap().inner.text().await.unwrap(), "blob");
    }
    // 60/min is a burst of 1: the second request waited about a second for its own budget,
    // and only once (its redirect to the other origin took nothing).
    let elapsed = start.elapsed();
    assert!((Duration::from_millis(900)..Duration::from_millis(1900)).contains(&elapsed), "{elapsed:?}");
}
