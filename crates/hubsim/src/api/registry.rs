//! The registry (`registry-1.docker.io`): `/v2/`, manifests, blobs, tags/list.
//!
//! Behaviour follows reference §3: a Bearer challenge on `/v2/` and on every resource without a
//! token (`realm`, `service`, and on resources `scope`; `error="insufficient_scope"` when the
//! presented token does not grant it, `invalid_token` when it is expired or forged); 401 — not
//! 404 — for missing and private repositories alike; `MANIFEST_UNKNOWN` for a missing tag or
//! digest; Accept negotiation over the stored manifest (an index or list goes to its linux/amd64
//! entry for clients that do not accept it, a Docker schema2 manifest is down-converted to
//! signed schema1, an OCI manifest cannot be and is `MANIFEST_UNKNOWN`); HEAD without body or
//! quota charge; `Docker-Content-Digest` and `ETag` on every manifest; the pull quota charged on
//! manifest GETs with `ratelimit-*` headers and 429 `TOOMANYREQUESTS` without `Retry-After`;
//! blobs answered with a 307 to a signed, expiring CDN URL.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use hubcensus_types::{Digest, MediaType};

use super::hub::{json_ordered, render};
use super::json_line;
use super::token::{Claims, TokenError, verify};
use crate::population::content::{RepoContent, Stored};
use crate::server::Shared;

pub(crate) fn router(shared: Shared) -> Router {
    let faults = shared.faults.clone();
    Router::new()
        .route("/v2/", get(base))
        .route("/v2", get(base))
        .route("/v2/_catalog", get(catalog))
        .route("/v2/{*rest}", any(resource))
        .layer(axum::middleware::from_fn_with_state(faults, crate::faults::middleware))
        .with_state(shared)
}

fn api_version(resp: &mut Response) {
    resp.headers_mut().insert("docker-distribution-api-version", HeaderValue::from_static("registry/2.0"));
}

fn challenge(shared: &Shared, scope: Option<&str>, error: Option<&str>) -> String {
    let mut v = format!("Bearer realm=\"{}/token\",service=\"registry.docker.io\"", shared.urls.auth);
    if let Some(s) = scope {
        v.push_str(&format!(",scope=\"{s}\""));
    }
    if let Some(e) = error {
        v.push_str(&format!(",error=\"{e}\""));
    }
    v
}

fn unauthorized(shared: &Shared, name: Option<&str>, error: Option<&str>, source: &str) -> Response {
    let detail = match name {
        Some(n) => access_detail("repository", n, "pull"),
        None => serde_json::Value::Null,
    };
    let mut resp = error_body(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "authentication required", &detail);
    let scope = name.map(|n| format!("repository:{n}:pull"));
    if let Ok(v) = HeaderValue::from_str(&challenge(shared, scope.as_deref(), error)) {
        resp.headers_mut().insert("www-authenticate", v);
    }
    if let Ok(v) = HeaderValue::from_str(source) {
        resp.headers_mut().insert("docker-ratelimit-source", v);
    }
    api_version(&mut resp);
    resp
}

/// `[{"Type","Class","Name","Action"}]` in distribution's field order.
fn access_detail(kind: &str, name: &str, action: &str) -> serde_json::Value {
    use serde_json::json;
    serde_json::Value::Array(vec![json_ordered(vec![
        ("Type", json!(kind)),
        ("Class", json!("")),
        ("Name", json!(name)),
        ("Action", json!(action)),
    ])])
}

/// The distribution error envelope, `{"errors":[{"code","message","detail"}]}` in that order,
/// compact with a trailing newline (Go's JSON encoder).
fn error_body(status: StatusCode, code: &str, message: &str, detail: &serde_json::Value) -> Response {
    use serde_json::json;
    let err =
        json_ordered(vec![("code", json!(code)), ("message", json!(message)), ("detail", detail.clone())]);
    let mut body = render(&json_ordered(vec![("errors", serde_json::Value::Array(vec![err]))])).into_bytes();
    body.push(b'\n');
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

fn registry_error(status: StatusCode, code: &str, message: &str, detail: &serde_json::Value) -> Response {
    let mut resp = error_body(status, code, message, detail);
    api_version(&mut resp);
    resp
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get("authorization")?.to_str().ok()?;
    v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))
}

/// The presented token: None (no token), Ok(claims), Err(why it is refused).
fn presented(shared: &Shared, headers: &HeaderMap) -> Option<Result<Claims, TokenError>> {
    bearer(headers).map(|t| verify(&shared.secret, t.trim(), shared.clock.now(), "auth.docker.io"))
}

/// The quota key and the `docker-ratelimit-source` value: the account id for a token with a
/// subject, the client address otherwise.
fn source(claims: Option<&Claims>, peer: &SocketAddr) -> (String, bool) {
    match claims {
        Some(c) if !c.sub.is_empty() => (c.sub.clone(), true),
        _ => (peer.ip().to_string(), false),
    }
}

async fn base(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    match presented(&shared, &headers) {
        Some(Ok(_)) => {
            let mut resp = json_line(StatusCode::OK, &serde_json::json!({}));
            api_version(&mut resp);
            resp
        }
        Some(Err(_)) => unauthorized(&shared, None, Some("invalid_token"), &peer.ip().to_string()),
        None => unauthorized(&shared, None, None, &peer.ip().to_string()),
    }
}

async fn catalog(State(shared): State<Shared>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    let detail = access_detail("registry", "catalog", "*");
    let mut resp = error_body(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "authentication required", &detail);
    if let Ok(v) =
        HeaderValue::from_str(&challenge(&shared, Some("registry:catalog:*"), Some("insufficient_scope")))
    {
        resp.headers_mut().insert("www-authenticate", v);
    }
    if let Ok(v) = HeaderValue::from_str(&peer.ip().to_string()) {
        resp.headers_mut().insert("docker-ratelimit-source", v);
    }
    api_version(&mut resp);
    resp
}

enum Target<'a> {
    Manifest(&'a str),
    Blob(&'a str),
    TagsList,
}

fn split(rest: &str) -> Option<(&str, Target<'_>)> {
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Some((name, Target::TagsList));
    }
    if let Some((name, r)) = rest.rsplit_once("/manifests/") {
        return Some((name, Target::Manifest(r)));
    }
    if let Some((name, d)) = rest.rsplit_once("/blobs/") {
        return Some((name, Target::Blob(d)));
    }
    None
}

async fn resource(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OriginalUri(uri): OriginalUri,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let headers = req.headers().clone();
    let rest = uri.path().trim_start_matches("/v2/").to_string();
    let Some((name, target)) = split(&rest) else {
        return registry_error(StatusCode::NOT_FOUND, "NOT_FOUND", "not found", &serde_json::Value::Null);
    };
    if method != Method::GET && method != Method::HEAD {
        return registry_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "The operation is unsupported.",
            &serde_json::Value::Null,
        );
    }
    let token = presented(&shared, &headers);
    let claims = match token {
        None => return unauthorized(&shared, Some(name), None, &peer.ip().to_string()),
        Some(Err(_)) => {
            return unauthorized(&shared, Some(name), Some("invalid_token"), &peer.ip().to_string());
        }
        Some(Ok(c)) => c,
    };
    let (src, authed) = source(Some(&claims), &peer);
    let granted = claims
        .access
        .iter()
        .any(|a| a.kind == "repository" && a.name == name && a.actions.iter().any(|x| x == "pull"));
    // A token only grants pull on existing public repositories, so "granted" also means "exists".
    let repo = shared.pop.find(name).filter(|&i| !shared.pop.repo(i).private);
    let (true, Some(repo)) = (granted, repo) else {
        return unauthorized(&shared, Some(name), Some("insufficient_scope"), &src);
    };
    let Some(content) = shared.content(repo).await else {
        return registry_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            "unknown error",
            &serde_json::Value::Null,
        );
    };
    match target {
        Target::TagsList => tags_list(name, &content, uri.query().unwrap_or("")),
        Target::Blob(d) => blob(&shared, repo, &content, d, &method),
        Target::Manifest(reference) => {
            manifest(&shared, &content, name, reference, &method, &headers, &src, authed)
        }
    }
}

fn tags_list(name: &str, content: &RepoContent, query: &str) -> Response {
    let mut tags: Vec<&str> = content.tags.iter().map(|t| t.name.as_str()).collect();
    tags.sort_unstable();
    let mut n = None;
    let mut last = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("n", v)) => n = v.parse::<usize>().ok(),
            Some(("last", v)) => last = Some(v.to_string()),
            _ => {}
        }
    }
    if let Some(l) = &last {
        tags.retain(|t| t.as_bytes() > l.as_bytes());
    }
    let mut link = None;
    if let Some(n) = n.filter(|&n| tags.len() > n) {
        tags.truncate(n);
        link = tags.last().map(|l| format!("</v2/{name}/tags/list?last={l}&n={n}>; rel=\"next\""));
    }
    let mut resp = json_line(StatusCode::OK, &serde_json::json!({ "name": name, "tags": tags }));
    if let Some(l) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        resp.headers_mut().insert("link", l);
    }
    api_version(&mut resp);
    resp
}

fn blob(shared: &Shared, repo: u32, content: &RepoContent, digest: &str, method: &Method) -> Response {
    let known = digest.parse::<Digest>().ok().filter(|d| content.blobs.contains_key(d));
    let Some(d) = known else {
        return registry_error(
            StatusCode::NOT_FOUND,
            "BLOB_UNKNOWN",
            "blob unknown to registry",
            &serde_json::Value::String(digest.to_string()),
        );
    };
    let location = crate::cdn::signed_url(shared, &d, repo);
    let body = if method == Method::HEAD {
        String::new()
    } else {
        format!("<a href=\"{location}\">Temporary Redirect</a>.\n\n")
    };
    let mut resp = (StatusCode::TEMPORARY_REDIRECT, body).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert("location", v);
    }
    h.insert("content-type", HeaderValue::from_static("text/html; charset=utf-8"));
    api_version(&mut resp);
    resp
}

/// Media types the client's Accept headers name (all `Accept` headers, comma lists, params cut).
fn accepted(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("accept")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

enum Negotiated<'a> {
    Serve { digest: Digest, media_type: &'static str, bytes: bytes::Bytes, is_index: bool },
    Unknown(&'a str),
    OciNotAccepted,
}

fn negotiate<'a>(content: &'a RepoContent, reference: &'a str, accept: &[String]) -> Negotiated<'a> {
    let top = if reference.starts_with("sha256:") {
        reference.parse::<Digest>().ok().filter(|d| content.manifests.contains_key(d))
    } else {
        content.tag(reference).map(|t| t.digest.clone())
    };
    let Some(mut digest) = top else { return Negotiated::Unknown(reference) };
    let ok = |mt: &str| accept.iter().any(|a| a == mt);
    for _ in 0..3 {
        let Some(stored): Option<&Stored> = content.manifests.get(&digest) else {
            return Negotiated::Unknown(reference);
        };
        let mt = stored.media_type;
        let is_index = mt == MediaType::OCI_INDEX || mt == MediaType::DOCKER_LIST;
        if mt == MediaType::SCHEMA1_SIGNED || ok(mt) {
            return Negotiated::Serve { digest, media_type: mt, bytes: stored.bytes.clone(), is_index };
        }
        if is_index {
            match &stored.amd64_child {
                Some(child) => {
                    digest = child.clone();
                    continue;
                }
                None => return Negotiated::Unknown(reference),
            }
        }
        if let (true, Some((d, b))) = (mt == MediaType::DOCKER_MANIFEST, &stored.schema1) {
            {
                return Negotiated::Serve {
                    digest: d.clone(),
                    media_type: MediaType::SCHEMA1_SIGNED,
                    bytes: b.clone(),
                    is_index: false,
                };
            }
        }
        return Negotiated::OciNotAccepted;
    }
    Negotiated::Unknown(reference)
}

#[allow(clippy::too_many_arguments)]
fn manifest(
    shared: &Shared,
    content: &RepoContent,
    name: &str,
    reference: &str,
    method: &Method,
    headers: &HeaderMap,
    src: &str,
    authed: bool,
) -> Response {
    let limits = &shared.cfg.limits;
    let limit = if authed { limits.pulls_authenticated } else { limits.pulls_anonymous };
    let accept = accepted(headers);
    let neg = negotiate(content, reference, &accept);
    let (digest, media_type, bytes, is_index) = match neg {
        Negotiated::Serve { digest, media_type, bytes, is_index } => (digest, media_type, bytes, is_index),
        Negotiated::Unknown(r) => {
            let detail = if r.starts_with("sha256:") {
                serde_json::Value::String(format!("unknown manifest digest={r}"))
            } else {
                serde_json::Value::String(format!("unknown tag={r}"))
            };
            let _ = name;
            return registry_error(StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN", "manifest unknown", &detail);
        }
        Negotiated::OciNotAccepted => {
            return registry_error(
                StatusCode::NOT_FOUND,
                "MANIFEST_UNKNOWN",
                "OCI manifest found, but accept header does not support OCI manifests",
                &serde_json::Value::Null,
            );
        }
    };
    let charge = u32::from(*method == Method::GET && (limits.index_get_counts || !is_index));
    let state = limit.map(|l| {
        (l, shared.pulls.charge(src, l, limits.pull_window_secs as f64, shared.clock.now(), charge))
    });
    if let Some((_, st)) = state.filter(|_| charge > 0) {
        shared.limit_counters.pull(st.allowed);
    }
    let window = limits.pull_window_secs;
    let mut resp = if let Some((_, st)) = state.filter(|(_, st)| !st.allowed) {
        let _ = st;
        let msg = if authed {
            "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"
        } else {
            "You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit"
        };
        registry_error(StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS", msg, &serde_json::Value::Null)
    } else {
        let len = bytes.len();
        let body =
            if *method == Method::HEAD { axum::body::Body::empty() } else { axum::body::Body::from(bytes) };
        let mut resp = Response::new(body);
        let h = resp.headers_mut();
        h.insert("content-type", HeaderValue::from_static(media_type));
        if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
            h.insert("content-length", v);
        }
        if let Ok(v) = HeaderValue::from_str(digest.as_str()) {
            h.insert("docker-content-digest", v);
        }
        if let Ok(v) = HeaderValue::from_str(&format!("\"{digest}\"")) {
            h.insert("etag", v);
        }
        api_version(&mut resp);
        resp
    };
    let h = resp.headers_mut();
    if let Some((l, st)) = state {
        if let Ok(v) = HeaderValue::from_str(&format!("{l};w={window}")) {
            h.insert("ratelimit-limit", v);
        }
        if let Ok(v) = HeaderValue::from_str(&format!("{};w={window}", st.remaining)) {
            h.insert("ratelimit-remaining", v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(src) {
        h.insert("docker-ratelimit-source", v);
    }
    resp
}

#[allow(dead_code)]
fn _assert_send(_: Arc<RepoContent>) {}
