//! Lying and broken servers: pagination that loops, never ends, or leaves the host; links in
//! odd spellings; orderings not honoured; bodies that break off; logins that expire; Hub's 429.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, SystemTime},
};

use axum::{
    Json, Router,
    body::Body,
    extract::Query,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use hubcensus_hub::{DiscoveryTask, HubCredentials, HubError, Strategy, TagPolicy, seed_tasks};
use serde_json::{Value, json};

use crate::common::*;

type Params = Query<HashMap<String, String>>;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn entry(ns: &str, name: &str) -> Value {
    json!({"name": name, "namespace": ns, "repository_type": "image", "status": 1,
           "status_description": "active", "is_private": false, "pull_count": 1,
           "content_types": ["image"], "media_types": []})
}

fn page_of(params: &HashMap<String, String>) -> u32 {
    params.get("page").and_then(|p| p.parse().ok()).unwrap_or(1)
}

#[derive(Clone, Default)]
struct Counters {
    hits: Arc<AtomicU32>,
    logins: Arc<AtomicU32>,
    flaky: Arc<AtomicU32>,
    auth_seen: Arc<parking_lot::Mutex<Vec<Option<String>>>>,
}

fn liar(base: &str, elsewhere: String, c: &Counters) -> Router {
    let b = base.to_owned();
    Router::new()
        // page 1 -> 2 -> 1 ...
        .route(
            "/v2/namespaces/loop/repositories",
            get(move |Query(p): Params| {
                let b = b.clone();
                async move {
                    let next = if page_of(&p) == 1 { 2 } else { 1 };
                    Json(json!({"count": 2, "next": format!("{b}/v2/namespaces/loop/repositories?page={next}"),
                                "results": [entry("loop", &format!("r{}", page_of(&p)))]}))
                }
            }),
        )
        // page N -> N+1, forever
        .route(
            "/v2/namespaces/endless/repositories",
            get(|Query(p): Params| async move {
                let n = page_of(&p);
                Json(json!({"count": 1_000_000, "next": format!("/v2/namespaces/endless/repositories?page={}", n + 1),
                            "results": [entry("endless", &format!("r{n}"))]}))
            }),
        )
        // a next link to another server
        .route(
            "/v2/namespaces/away/repositories",
            get(move || {
                let e = elsewhere.clone();
                async move {
                    Json(json!({"count": 2, "next": format!("{e}/v2/namespaces/away/repositories?page=2"),
                                "results": [entry("away", "r1")]}))
                }
            }),
        )
        // a relative link with `&` still escaped, then the end
        .route(
            "/v2/namespaces/relative/repositories",
            get(|Query(p): Params| async move {
                if page_of(&p) == 1 {
                    Json(json!({"count": 2, "next": "/v2/namespaces/relative/repositories?page=2\\u0026page_size=100",
                                "previous": "", "results": [entry("relative", "one")]}))
                } else {
                    Json(json!({"count": 2, "next": null, "results": [entry("relative", "two")]}))
                }
            }),
        )
        // tags in no order at all, 250 of them over three pages
        .route(
            "/v2/namespaces/acme/repositories/app/tags",
            get(|Query(p): Params| async move {
                let page = page_of(&p);
                let results: Vec<Value> = (0..100)
                    .map(|k| (page - 1) * 100 + k)
                    .filter(|i| *i < 250)
                    .map(|i| {
                        let minute = (i * 7_919) % 250;
                        json!({"name": format!("t{minute}"), "tag_last_pushed": format!("2026-01-01T00:{:02}:{:02}Z", minute / 60, minute % 60),
                               "digest": null, "images": []})
                    })
                    .collect();
                let next = (page < 3).then(|| format!("/v2/namespaces/acme/repositories/app/tags?page={}", page + 1));
                Json(json!({"count": 250, "next": next, "results": results}))
            }),
        )
        // a body that breaks off the first time
        .route(
            "/v2/namespaces/flaky/repositories",
            get({
                let c = c.clone();
                move || {
                    let c = c.clone();
                    async move {
                        if c.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                            let chunks: Vec<Result<&'static str, std::io::Error>> =
                                vec![Ok("{\"count\": 1, \"next\": null, \"res"), Err(std::io::Error::other("cut"))];
                            Response::new(Body::from_stream(futures_util::stream::iter(chunks)))
                        } else {
                            Json(json!({"count": 1, "next": null, "results": [entry("flaky", "ok")]})).into_response()
                        }
                    }
                }
            }),
        )
        // only the deprecated login exists; tokens expire after one use
        .route("/v2/auth/token", post(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/v2/users/login",
            post({
                let c = c.clone();
                move |Json(body): Json<Value>| {
                    let c = c.clone();
                    async move {
                        if body["username"] == "u" && body["password"] == "p" {
                            let n = c.logins.fetch_add(1, Ordering::SeqCst) + 1;
                            Json(json!({"token": format!("jwt-{n}")})).into_response()
                        } else {
                            (StatusCode::UNAUTHORIZED, Json(json!({"detail": "Incorrect authentication credentials"})))
                                .into_response()
                        }
                    }
                }
            }),
        )
        .route(
            "/v2/namespaces/members/repositories",
            get({
                let c = c.clone();
                move |headers: HeaderMap| {
                    let c = c.clone();
                    async move {
                        let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
                        c.auth_seen.lock().push(auth.clone());
                        // Only the newest token is valid: the first one has "expired".
                        let valid = format!("Bearer jwt-{}", c.logins.load(Ordering::SeqCst));
                        if auth.as_deref() == Some(valid.as_str()) && valid != "Bearer jwt-1" {
                            Json(json!({"count": 1, "next": null, "results": [entry("members", "secret-app")]})).into_response()
                        } else {
                            StatusCode::UNAUTHORIZED.into_response()
                        }
                    }
                }
            }),
        )
        .layer(axum::middleware::from_fn({
            let c = c.clone();
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                c.hits.fetch_add(1, Ordering::SeqCst);
                next.run(req)
            }
        }))
}

async fn liars() -> (String, Counters, Counters) {
    let (here, elsewhere) = (Counters::default(), Counters::default());
    // The second server only counts what reaches it.
    let other = serve(liar("", String::new(), &elsewhere)).await;
    // The first needs its own URL for absolute links: bind first, then build.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = liar(&base, other, &here);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, here, elsewhere)
}

fn ns(name: &str) -> DiscoveryTask {
    DiscoveryTask::namespace(name, None)
}

#[tokio::test]
async fn pagination_that_loops_never_ends_or_leaves_the_host_is_an_error() {
    let (base, _, elsewhere) = liars().await;
    let client = client_for(&base, |c| {
        c.max_pages = 5;
        c.credentials = Some(HubCredentials::new("u", "p"));
    });
    client.login().await.unwrap();
    let err = client.run(&ns("loop")).await.unwrap_err();
    assert!(matches!(err, HubError::PaginationLoop { .. }), "{err}");
    let err = client.run(&ns("endless")).await.unwrap_err();
    assert!(matches!(err, HubError::TooManyPages { pages: 5, .. }), "{err}");
    let err = client.run(&ns("away")).await.unwrap_err();
    assert!(
        matches!(err, HubError::Malformed { .. }) && err.to_string().contains("leaves the Hub origin"),
        "{err}"
    );
    assert!(!err.is_transient());
    assert_eq!(elsewhere.hits.load(Ordering::SeqCst), 0, "nothing (and no token) reached the other host");
}

#[tokio::test]
async fn relative_links_with_escaped_ampersands_are_followed() {
    let (base, _, _) = liars().await;
    let outcome = client_for(&base, |_| {}).run(&ns("relative")).await.unwrap();
    let names: Vec<String> = outcome.repositories.iter().map(|r| r.reference.to_string()).collect();
    assert_eq!(names, ["relative/one", "relative/two"]);
}

#[tokio::test]
async fn unordered_tags_are_sorted_here() {
    let (base, _, _) = liars().await;
    let listing =
        client_for(&base, |_| {}).tags(&"acme/app".parse().unwrap(), &TagPolicy::Recent(5)).await.unwrap();
    let names: Vec<&str> = listing.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["t249", "t248", "t247", "t246", "t245"]);
    assert!(
        listing.complete && listing.notes.iter().any(|n| n.contains("not honoured")),
        "{:?}",
        listing.notes
    );
}

#[tokio::test]
async fn a_body_that_breaks_off_is_fetched_again() {
    let (base, here, _) = liars().await;
    let outcome = client_for(&base, |_| {}).run(&ns("flaky")).await.unwrap();
    assert_eq!(outcome.repositories.len(), 1);
    assert_eq!(here.flaky.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn legacy_login_and_renewal_of_an_expired_token() {
    let (base, here, _) = liars().await;
    let wrong = client_for(&base, |c| c.credentials = Some(HubCredentials::new("u", "nope")));
    let err = wrong.login().await.unwrap_err();
    assert!(matches!(err, HubError::Unauthorized { .. }) && err.to_string().contains("Incorrect"), "{err}");
    let none = client_for(&base, |_| {});
    assert!(matches!(none.login().await.unwrap_err(), HubError::Unauthorized { .. }));

    let client = client_for(&base, |c| c.credentials = Some(HubCredentials::new("u", "p")));
    client.login().await.unwrap();
    let outcome = client.run(&ns("members")).await.unwrap();
    assert_eq!(outcome.repositories[0].reference.to_string(), "members/secret-app");
    assert_eq!(here.logins.load(Ordering::SeqCst), 2, "the expired token was renewed once");
    let seen = here.auth_seen.lock().clone();
    assert_eq!(seen, [Some("Bearer jwt-1".to_owned()), Some("Bearer jwt-2".to_owned())]);
    assert!(!format!("{client:?}").contains("jwt"), "the token is not printed");
}

/// hubsim's per-minute limit with Hub's `retry-after` as a Unix time: a gate that will not wait
/// that long hands the task back as transient, with the time to come back.
#[tokio::test]
async fn hub_rate_limit_is_transient_and_says_until_when() {
    let sim = start(300, |c| c.limits.hub_requests_per_minute = Some(3)).await;
    let gate = gate(|g| g.max_rate_limit_wait = Duration::ZERO);
    let client = hubcensus_hub::HubClient::new(
        gate,
        hubcensus_hub::HubConfig::with_base_url(url::Url::parse(sim.hub_url()).unwrap()),
    );
    let seeds = seed_tasks(&[Strategy::Search, Strategy::Namespaces(vec!["library".into()])], 500).unwrap();
    let mut limited = None;
    for task in seeds.iter().cycle().take(10) {
        if let Err(e) = client.run(task).await {
            limited = Some(e);
            break;
        }
    }
    let err = limited.expect("the fourth request is over the limit");
    match &err {
        HubError::RateLimited { until: Some(until) } => {
            let wait = until.duration_since(SystemTime::now()).unwrap_or_default();
            assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(61), "{wait:?}");
        }
        other => panic!("{other}"),
    }
    assert!(err.is_transient());
    sim.shutdown().await;
}
