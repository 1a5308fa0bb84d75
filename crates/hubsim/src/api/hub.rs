//! The Hub API (`hub.docker.com`): namespace listings, repository detail, tags, login.
//!
//! Shapes follow the recorded fixtures (2025/2026 field sets and orders; `affiliation` is ""
//! in list entries and null in the detail; `variant`/`os_version` null and `features`/
//! `os_features` ""; attestation `unknown/unknown` entries in `images[]`; `full_size` = the
//! first image's size) and the paging rules of reference §1.4: `page_size` at most 100, 404 past
//! the end for page > 1, 200 with `count: 0` for an unknown namespace, and 403 "pagination offset
//! too large for anonymous requests; sign in to page further" at offset ≥ 1000 for anonymous
//! callers. `next`/`previous` are absolute and keep every query parameter, sorted by key.
//! Every route is behind the per-client per-minute limit (`x-ratelimit-*`, 429 with
//! `retry-after` as a Unix epoch) and fault injection.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, OriginalUri, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::token::{Claims, encode, verify};
use super::{hub_error, json};
use crate::population::content::{Tag, TagImage, profile};
use crate::population::{RepoKind, RepoMeta};
use crate::server::Shared;
use crate::time::rfc3339;

pub(crate) fn router(shared: Shared) -> Router {
    let faults = shared.faults.clone();
    Router::new()
        .route("/v2/namespaces/{ns}/repositories", get(list_namespace))
        .route("/v2/namespaces/{ns}/repositories/", get(list_namespace))
        .route("/v2/repositories/{ns}", get(list_namespace))
        .route("/v2/repositories/{ns}/", get(list_namespace))
        .route("/v2/namespaces/{ns}/repositories/{repo}", get(detail))
        .route("/v2/repositories/{ns}/{repo}", get(detail))
        .route("/v2/repositories/{ns}/{repo}/", get(detail))
        .route("/v2/namespaces/{ns}/repositories/{repo}/tags", get(tags))
        .route("/v2/repositories/{ns}/{repo}/tags", get(tags))
        .route("/v2/repositories/{ns}/{repo}/tags/", get(tags))
        .route("/v2/repositories/{name}/tags/", get(library_tags))
        .route("/v2/namespaces/{ns}/repositories/{repo}/tags/{tag}", get(one_tag))
        .route("/v2/repositories/{ns}/{repo}/tags/{tag}", get(one_tag))
        .route("/v2/repositories/{ns}/{repo}/tags/{tag}/", get(one_tag))
        .route("/v2/auth/token", post(login))
        .route("/v2/users/login", post(legacy_login))
        .route("/v2/users/login/", post(legacy_login))
        .route("/api/search/v4", get(super::search::v4))
        .route("/api/search/v3/catalog/search", get(super::search::v3))
        .route("/v2/search/repositories", get(super::search::legacy))
        .route("/v2/search/repositories/", get(super::search::legacy))
        .route("/api/content/v1/products/search", get(|| async { StatusCode::OK }))
        .route(
            "/v1/{*rest}",
            get(|| async { (StatusCode::GONE, "This API is no longer maintained and being removed.") }),
        )
        .fallback(|| async { hub_error(StatusCode::NOT_FOUND, "404: Page Not Found") })
        .layer(axum::middleware::from_fn_with_state(shared.clone(), rate_limit))
        .layer(axum::middleware::from_fn_with_state(faults, crate::faults::middleware))
        .with_state(shared)
}

/// The per-minute Hub API limit (reference §2.2).
async fn rate_limit(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let Some(limit) = shared.cfg.limits.hub_requests_per_minute else {
        return next.run(req).await;
    };
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let st = shared.hub_windows.charge(&ip, limit, 60.0, shared.clock.now(), 1);
    shared.limit_counters.hub(st.allowed);
    let mut resp = if st.allowed {
        next.run(req).await
    } else {
        let mut r = hub_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        if let Ok(v) = HeaderValue::from_str(&(st.reset.ceil() as i64).to_string()) {
            r.headers_mut().insert("retry-after", v);
        }
        r
    };
    let h = resp.headers_mut();
    for (k, v) in [
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", st.remaining.to_string()),
        ("x-ratelimit-reset", (st.reset.ceil() as i64).to_string()),
        ("x-ratelimit-ip", ip),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    resp
}

/// Whether the caller presented a valid Hub login token.
pub(crate) fn hub_user(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let t =
        v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("JWT ")).or_else(|| v.strip_prefix("bearer "))?;
    verify(&shared.secret, t.trim(), shared.clock.now(), "hub.docker.com").ok().map(|c| c.sub)
}

/// Paging parameters resolved against a total, or the error response to send.
pub(crate) struct Page {
    pub(crate) page: u64,
    pub(crate) size: u64,
    pub(crate) offset: u64,
}

fn parse_u64(params: &BTreeMap<String, String>, key: &str, default: u64) -> Result<u64, Box<Response>> {
    match params.get(key) {
        None => Ok(default),
        Some(v) if v.is_empty() => Ok(default),
        Some(v) => v.parse::<u64>().map_err(|_| {
            Box::new(hub_error(StatusCode::BAD_REQUEST, &format!("{key}: invalid integer {v:?}")))
        }),
    }
}

/// Resolves `page`/`page_size` (default 10, at most 100) and enforces the anonymous offset cap
/// and the past-the-end 404.
pub(crate) fn paginate(
    shared: &Shared,
    params: &BTreeMap<String, String>,
    total: u64,
    anonymous: bool,
) -> Result<Page, Box<Response>> {
    let page = parse_u64(params, "page", 1)?;
    if page == 0 {
        return Err(Box::new(hub_error(StatusCode::BAD_REQUEST, "page: must be greater than or equal to 1")));
    }
    let size = parse_u64(params, "page_size", 10)?.clamp(1, 100);
    let offset = (page - 1) * size;
    if anonymous && shared.cfg.service.anonymous_offset_cap.is_some_and(|cap| offset >= cap) {
        return Err(Box::new(hub_error(
            StatusCode::FORBIDDEN,
            "pagination offset too large for anonymous requests; sign in to page further",
        )));
    }
    if page > 1 && offset >= total {
        return Err(Box::new(hub_error(StatusCode::NOT_FOUND, "404: Page Not Found")));
    }
    Ok(Page { page, size, offset })
}

/// `next` / `previous` links: absolute, every parameter kept, sorted by key.
pub(crate) fn links(
    base: &str,
    path: &str,
    params: &BTreeMap<String, String>,
    page: &Page,
    total: u64,
) -> (Value, Value) {
    let link = |p: u64| {
        let mut q = params.clone();
        q.insert("page".into(), p.to_string());
        q.entry("page_size".into()).or_insert_with(|| page.size.to_string());
        let query: Vec<String> = q.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        Value::String(format!("{base}{path}?{}", query.join("&")))
    };
    let next = if page.offset + page.size < total { link(page.page + 1) } else { Value::Null };
    let prev = if page.page > 1 { link(page.page - 1) } else { Value::Null };
    (next, prev)
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn categories(meta: &RepoMeta, seed: u64, i: u32) -> Value {
    const CATS: &[(&str, &str)] = &[
        ("Web servers", "web-servers"),
        ("Developer Tools", "developer-tools"),
        ("Databases & storage", "databases-and-storage"),
        ("Languages & Frameworks", "languages-and-frameworks"),
        ("Monitoring & observability", "monitoring-and-observability"),
        ("Machine Learning & AI", "machine-learning-and-ai"),
        ("Networking", "networking"),
        ("Security", "security"),
    ];
    if !meta.kind.has_tags() || !(seed ^ u64::from(i)).is_multiple_of(3) {
        return json!([]);
    }
    let (name, slug) = CATS[((seed.wrapping_add(u64::from(i))) % CATS.len() as u64) as usize];
    json!([{ "name": name, "slug": slug }])
}

/// `status`: 1 active, 0 inactive (docker/hub-mcp's repository schema: "Valid status are
/// `active` (1) and `inactive` (0)").
fn status(meta: &RepoMeta) -> Value {
    json!(if meta.inactive { 0 } else { 1 })
}

/// `status_description`, the text of `status`.
fn status_description(meta: &RepoMeta) -> Value {
    json!(if meta.inactive { "inactive" } else { "active" })
}

fn storage_size(shared: &Shared, i: u32) -> u64 {
    let m = shared.pop.repo(i);
    if !m.kind.has_tags() {
        return 0;
    }
    let per = match profile(&shared.pop, i).base {
        crate::population::base::Base::Alpine => 3_600_000,
        _ => 30_000_000,
    };
    per * u64::from(m.tags.min(8)) + u64::from(m.tags) * 7_919
}

fn content_types(shared: &Shared, i: u32) -> (Vec<&'static str>, Vec<&'static str>) {
    let p = profile(&shared.pop, i);
    let m = shared.pop.repo(i);
    if !m.kind.has_tags() {
        return (vec![], vec![]);
    }
    let media = p.format.listing_media_types();
    let content = vec![p.format.content_type()];
    (media, content)
}

fn description(shared: &Shared, i: u32) -> String {
    let m = shared.pop.repo(i);
    let mut r = crate::rng::Rng::new(shared.pop.seed(), "description", u64::from(i));
    match m.kind {
        RepoKind::Spam => crate::population::names::spam_description(&mut r),
        _ if m.ns == 0 => format!("Official build of {}.", m.name),
        _ => crate::population::names::description(&mut r, &m.name),
    }
}

pub(crate) fn short_description(shared: &Shared, i: u32) -> String {
    description(shared, i)
}

fn list_entry(shared: &Shared, i: u32) -> Value {
    let m = shared.pop.repo(i);
    let ns = &shared.pop.namespace_of(i).name;
    let (media, content) = content_types(shared, i);
    let last_updated = if m.kind.has_tags() { Value::String(rfc3339(m.updated, 6)) } else { Value::Null };
    json_ordered(vec![
        ("name", json!(m.name)),
        ("namespace", json!(ns)),
        ("repository_type", if m.kind.has_tags() { json!("image") } else { Value::Null }),
        ("status", status(m)),
        ("status_description", status_description(m)),
        ("description", json!(description(shared, i))),
        ("is_private", json!(m.private)),
        ("star_count", json!(m.star_count)),
        ("pull_count", json!(m.pull_count)),
        ("last_updated", last_updated),
        ("last_modified", json!(rfc3339(m.updated.max(m.registered + 3_600) - 1_800, 6))),
        ("date_registered", json!(rfc3339(m.registered, 6))),
        ("affiliation", json!("")),
        ("media_types", json!(media)),
        ("content_types", json!(content)),
        ("categories", categories(m, shared.pop.seed(), i)),
        ("storage_size", json!(storage_size(shared, i))),
    ])
}

/// Builds an ordered object as a raw JSON value (keeps order when embedded).
pub(crate) fn json_ordered(pairs: Vec<(&'static str, Value)>) -> Value {
    // serde_json::Value sorts object keys (the workspace does not enable `preserve_order`); to
    // keep Hub's order the object is carried as its serialised text inside a NUL-prefixed
    // Value::String marker, which `render` splices back in. Generated strings never hold NUL.
    let fields: Vec<String> =
        pairs.into_iter().map(|(k, v)| format!("{}:{}", Value::String(k.to_string()), render(&v))).collect();
    Value::String(format!("\u{0}RAW{{{}}}", fields.join(",")))
}

/// Serialises a value, splicing ordered objects back in.
pub(crate) fn render(value: &Value) -> String {
    match value {
        Value::String(s) if s.starts_with("\u{0}RAW") => s["\u{0}RAW".len()..].to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(render).collect::<Vec<_>>().join(",")),
        Value::Object(o) => {
            let parts: Vec<String> =
                o.iter().map(|(k, v)| format!("{}:{}", Value::String(k.clone()), render(v))).collect();
            format!("{{{}}}", parts.join(","))
        }
        other => other.to_string(),
    }
}

/// A response from an ordered envelope.
pub(crate) fn ordered_response(status: StatusCode, pairs: Vec<(&'static str, Value)>) -> Response {
    let body = render(&json_ordered(pairs));
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

fn query_map(q: Vec<(String, String)>) -> BTreeMap<String, String> {
    q.into_iter().collect()
}

async fn list_namespace(
    State(shared): State<Shared>,
    Path(ns): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let params = query_map(q);
    let user = hub_user(&shared, &headers);
    let mut repos: Vec<u32> = match shared.pop.find_namespace(&ns) {
        Some(n) => {
            let nsx = &shared.pop.namespaces()[n as usize];
            (nsx.first..nsx.first + nsx.len)
                .filter(|&i| !shared.pop.repo(i).private && !shared.pop.repo(i).gone)
                .collect()
        }
        None => Vec::new(),
    };
    if let Some(name) = params.get("name").filter(|n| !n.is_empty()) {
        repos.retain(|&i| shared.pop.repo(i).name.contains(name.as_str()));
    }
    sort_repos(&shared, &mut repos, params.get("ordering").map(String::as_str));
    let total = repos.len() as u64;
    let page = match paginate(&shared, &params, total, user.is_none()) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (next, prev) = links(&shared.urls.hub, uri.path(), &params, &page, total);
    let results: Vec<Value> = repos
        .iter()
        .skip(page.offset as usize)
        .take(page.size as usize)
        .map(|&i| list_entry(&shared, i))
        .collect();
    ordered_response(
        StatusCode::OK,
        vec![("count", json!(total)), ("next", next), ("previous", prev), ("results", Value::Array(results))],
    )
}

/// Hub's orderings, including the observed inversion: `-last_updated` lists oldest first.
fn sort_repos(shared: &Shared, repos: &mut [u32], ordering: Option<&str>) {
    let p = &shared.pop;
    match ordering {
        Some("name") => repos.sort_by(|a, b| p.repo(*a).name.cmp(&p.repo(*b).name)),
        Some("-name") => repos.sort_by(|a, b| p.repo(*b).name.cmp(&p.repo(*a).name)),
        Some("-last_updated") => repos.sort_by_key(|&i| (p.repo(i).updated, i)),
        Some("pull_count") => repos.sort_by_key(|&i| (std::cmp::Reverse(p.repo(i).pull_count), i)),
        Some("-pull_count") => repos.sort_by_key(|&i| (p.repo(i).pull_count, i)),
        _ => repos.sort_by_key(|&i| (std::cmp::Reverse(p.repo(i).updated), i)),
    }
}

fn find_repo(shared: &Shared, ns: &str, repo: &str, user: Option<&String>) -> Option<u32> {
    let i = shared.pop.find(&format!("{ns}/{repo}"))?;
    (!shared.pop.repo(i).private || user.is_some()).then_some(i).filter(|&i| !shared.pop.repo(i).private)
}

async fn detail(
    State(shared): State<Shared>,
    Path((ns, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let user = hub_user(&shared, &headers);
    let Some(i) = find_repo(&shared, &ns, &repo, user.as_ref()) else {
        return hub_error(StatusCode::NOT_FOUND, "object not found");
    };
    let m = shared.pop.repo(i);
    let (media, content) = content_types(&shared, i);
    let user_name = if m.ns == 0 { "library".to_string() } else { ns.clone() };
    let hub_user_name = if m.ns == 0 { "stackbrew".to_string() } else { ns.clone() };
    let desc = description(&shared, i);
    let mut r = crate::rng::Rng::new(shared.pop.seed(), "full-description", u64::from(i));
    let full = if desc.is_empty() {
        String::new()
    } else {
        format!("# {}\n\n{desc}\n\n{}", m.name, crate::population::files::prose(&mut r, 4))
    };
    ordered_response(
        StatusCode::OK,
        vec![
            ("user", json!(user_name)),
            ("name", json!(m.name)),
            ("namespace", json!(ns)),
            ("repository_type", if m.kind.has_tags() { json!("image") } else { Value::Null }),
            ("status", status(m)),
            ("status_description", status_description(m)),
            ("description", json!(desc)),
            ("is_private", json!(m.private)),
            ("is_automated", json!(false)),
            ("star_count", json!(m.star_count)),
            ("pull_count", json!(m.pull_count)),
            ("last_updated", if m.kind.has_tags() { json!(rfc3339(m.updated, 6)) } else { Value::Null }),
            ("last_modified", json!(rfc3339(m.updated.max(m.registered + 3_600) - 1_800, 6))),
            ("date_registered", json!(rfc3339(m.registered, 6))),
            ("collaborator_count", json!(0)),
            ("affiliation", Value::Null),
            ("hub_user", json!(hub_user_name)),
            ("has_starred", json!(false)),
            ("full_description", json!(full)),
            (
                "permissions",
                json_ordered(vec![("read", json!(true)), ("write", json!(false)), ("admin", json!(false))]),
            ),
            ("media_types", json!(media)),
            ("content_types", json!(content)),
            ("categories", categories(m, shared.pop.seed(), i)),
            (
                "immutable_tags_settings",
                json_ordered(vec![("enabled", json!(false)), ("rules", json!([".*"]))]),
            ),
            ("storage_size", json!(storage_size(&shared, i))),
            ("source", Value::Null),
        ],
    )
}

fn image_json(img: &TagImage, with_layers: bool, anchor: i64) -> Value {
    let mut pairs = vec![
        ("architecture", json!(img.architecture)),
        ("features", json!("")),
        ("variant", img.variant.clone().map(Value::String).unwrap_or(Value::Null)),
        ("digest", img.digest.as_ref().map(|d| Value::String(d.to_string())).unwrap_or(Value::Null)),
        ("os", json!(img.os)),
        ("os_features", json!("")),
        ("os_version", img.os_version.clone().map(Value::String).unwrap_or(Value::Null)),
        ("size", json!(img.size)),
        ("status", json!(if anchor - img.pulled < 30 * 86_400 { "active" } else { "inactive" })),
        ("last_pulled", json!(rfc3339(img.pulled, 9))),
        ("last_pushed", json!(rfc3339(img.pushed, 9))),
    ];
    if with_layers && !img.layers.is_empty() {
        let layers: Vec<Value> = img
            .layers
            .iter()
            .map(|l| {
                let mut p = Vec::new();
                if let Some(d) = &l.digest {
                    p.push(("digest", json!(d.to_string())));
                }
                p.push(("size", json!(l.size)));
                p.push(("instruction", json!(l.instruction)));
                json_ordered(p)
            })
            .collect();
        pairs.push(("layers", Value::Array(layers)));
    }
    json_ordered(pairs)
}

fn tag_json(shared: &Shared, repo: u32, t: &Tag, with_layers: bool) -> Value {
    let anchor = shared.pop.config().anchor_unix;
    let creator = 10_000_000 + u64::from(shared.pop.repo(repo).ns) * 13 % 9_000_000;
    let updater = if shared.pop.repo(repo).ns == 0 {
        "doijanky".to_string()
    } else {
        shared.pop.namespace_of(repo).name.clone()
    };
    let images: Vec<Value> = t.images.iter().map(|img| image_json(img, with_layers, anchor)).collect();
    let full_size = t.images.first().map(|i| i.size).unwrap_or(0);
    json_ordered(vec![
        ("creator", json!(creator)),
        ("id", json!(t.id)),
        ("last_updated", json!(rfc3339(t.pushed, 6))),
        ("last_updater", json!(creator)),
        ("last_updater_username", json!(updater)),
        ("name", json!(t.name)),
        ("repository", json!(shared.pop.repo_id(repo))),
        ("full_size", json!(full_size)),
        ("v2", json!(true)),
        ("tag_status", json!(if anchor - t.pulled < 30 * 86_400 { "active" } else { "inactive" })),
        ("tag_last_pulled", json!(rfc3339(t.pulled, 9))),
        ("tag_last_pushed", json!(rfc3339(t.pushed, 6))),
        ("media_type", json!(t.media_type)),
        ("content_type", json!(t.content_type)),
        ("digest", json!(t.digest.to_string())),
        ("images", Value::Array(images)),
    ])
}

async fn tags_of(
    shared: Shared,
    ns: String,
    repo: String,
    params: BTreeMap<String, String>,
    path: String,
    headers: HeaderMap,
    link_path: Option<String>,
) -> Response {
    let user = hub_user(&shared, &headers);
    let Some(i) = find_repo(&shared, &ns, &repo, user.as_ref()) else {
        return hub_error(StatusCode::NOT_FOUND, "object not found");
    };
    let total_hint = u64::from(shared.pop.repo(i).tags);
    // Cheap checks before building anything.
    let unfiltered = params.get("name").is_none_or(|n| n.is_empty());
    if let (Err(r), true) = (paginate(&shared, &params, total_hint, user.is_none()), unfiltered) {
        return *r;
    }
    let Some(content) = shared.content(i).await else {
        return hub_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    };
    let mut tags: Vec<&Tag> = content.tags.iter().collect();
    if let Some(name) = params.get("name").filter(|n| !n.is_empty()) {
        tags.retain(|t| t.name.contains(name.as_str()));
    }
    match params.get("ordering").map(String::as_str) {
        Some("-last_updated") => tags.sort_by_key(|t| t.pushed),
        Some("name") => tags.sort_by(|a, b| a.name.cmp(&b.name)),
        Some("-name") => tags.sort_by(|a, b| b.name.cmp(&a.name)),
        _ => tags.sort_by_key(|t| std::cmp::Reverse(t.pushed)),
    }
    let total = tags.len() as u64;
    let page = match paginate(&shared, &params, total, user.is_none()) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (next, prev) = links(&shared.urls.hub, link_path.as_deref().unwrap_or(&path), &params, &page, total);
    let results: Vec<Value> = tags
        .iter()
        .skip(page.offset as usize)
        .take(page.size as usize)
        .map(|t| tag_json(&shared, i, t, false))
        .collect();
    ordered_response(
        StatusCode::OK,
        vec![("count", json!(total)), ("next", next), ("previous", prev), ("results", Value::Array(results))],
    )
}

async fn tags(
    State(shared): State<Shared>,
    Path((ns, repo)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    // The 2024 capture: legacy-path links for official images drop `library/`.
    let link_path = (ns == "library" && uri.path().starts_with("/v2/repositories/"))
        .then(|| format!("/v2/repositories/{repo}/tags/"));
    tags_of(shared, ns, repo, query_map(q), uri.path().to_string(), headers, link_path).await
}

/// `/v2/repositories/{name}/tags/` — the namespace-less form official-image links use.
async fn library_tags(
    State(shared): State<Shared>,
    Path(name): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    tags_of(shared, "library".into(), name, query_map(q), uri.path().to_string(), headers, None).await
}

async fn one_tag(
    State(shared): State<Shared>,
    Path((ns, repo, tag)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let user = hub_user(&shared, &headers);
    let Some(i) = find_repo(&shared, &ns, &repo, user.as_ref()) else {
        return hub_error(StatusCode::NOT_FOUND, "object not found");
    };
    let Some(content) = shared.content(i).await else {
        return hub_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    };
    match content.tag(&tag) {
        Some(t) => {
            let body = render(&tag_json(&shared, i, t, true));
            let mut resp = (StatusCode::OK, body).into_response();
            resp.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
            resp
        }
        None => hub_error(StatusCode::NOT_FOUND, "object not found"),
    }
}

fn issue_hub_token(shared: &Shared, user: &str) -> String {
    let now = shared.clock.now() as i64;
    let claims = Claims {
        access: Vec::new(),
        aud: "hub.docker.com".into(),
        exp: now + shared.cfg.service.hub_token_ttl_secs as i64,
        iat: now,
        iss: "hub.docker.com".into(),
        jti: format!("hub-{now}-{user}"),
        nbf: now,
        sub: user.to_string(),
    };
    encode(&shared.secret, &claims)
}

fn check_login(shared: &Shared, user: Option<&str>, secret: Option<&str>) -> Option<String> {
    let (u, s) = (user?, secret?);
    shared.cfg.service.accounts.iter().any(|a| a.username == u && a.secret == s).then(|| u.to_string())
}

/// `POST /v2/auth/token {identifier, secret}` → `{access_token}`.
async fn login(State(shared): State<Shared>, body: axum::body::Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match check_login(&shared, v["identifier"].as_str(), v["secret"].as_str()) {
        Some(u) => json(StatusCode::OK, &json!({ "access_token": issue_hub_token(&shared, &u) })),
        None => hub_error(StatusCode::UNAUTHORIZED, "Incorrect authentication credentials"),
    }
}

/// Deprecated `POST /v2/users/login {username, password}` → `{token}`.
async fn legacy_login(State(shared): State<Shared>, body: axum::body::Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match check_login(&shared, v["username"].as_str(), v["password"].as_str()) {
        Some(u) => json(StatusCode::OK, &json!({ "token": issue_hub_token(&shared, &u) })),
        None => hub_error(StatusCode::UNAUTHORIZED, "Incorrect authentication credentials"),
    }
}

/// ConnectInfo must be present for the limiter; this keeps the import used in every build.
#[allow(dead_code)]
fn _peer(_: ConnectInfo<SocketAddr>) {}
