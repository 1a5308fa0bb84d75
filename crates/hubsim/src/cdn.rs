//! The blob CDN (`production.cloudflare.docker.com`): signed, expiring URLs and Range.
//!
//! The registry answers blob GETs with a 307 to
//! `/registry-v2/docker/registry/v2/blobs/sha256/<xx>/<hex>/data?verify=<expiry>-<signature>`
//! (reference §3.2). Like a presigned object-store URL, this listener refuses any request that
//! carries `Authorization` (clients must not forward credentials across hosts), refuses an
//! expired or forged signature with 403, and answers `Range: bytes=N-M` with 206. Response
//! headers follow the recorded Cloudflare capture (`registry-headers.txt` §7). The signature
//! carries the repository index so the CDN can find the blob without a global digest index.

use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hubcensus_types::Digest;
use sha2::{Digest as _, Sha256};

use crate::server::Shared;

pub(crate) fn router(shared: Shared) -> Router {
    let faults = shared.faults.clone();
    Router::new()
        .route("/registry-v2/docker/registry/v2/blobs/sha256/{prefix}/{hex}/data", get(data))
        .layer(axum::middleware::from_fn_with_state(faults, crate::faults::middleware))
        .with_state(shared)
}

fn mac(shared: &Shared, digest: &str, expiry: i64, repo: u32) -> String {
    let mut h = Sha256::new();
    h.update(&shared.secret);
    h.update(format!("cdn|{digest}|{expiry}|{repo}").as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The signed URL for a blob of repository `repo`, valid for `cdn_url_ttl_secs`.
pub(crate) fn signed_url(shared: &Shared, digest: &Digest, repo: u32) -> String {
    let expiry = shared.clock.now_secs() + shared.cfg.service.cdn_url_ttl_secs as i64;
    let hex = digest.hex();
    let _ = shared.token_counter.load(Ordering::Relaxed);
    format!(
        "{}/registry-v2/docker/registry/v2/blobs/sha256/{}/{hex}/data?verify={expiry}-{repo:08x}{}",
        shared.urls.cdn,
        &hex[..2],
        mac(shared, digest.as_str(), expiry, repo)
    )
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert("content-type", HeaderValue::from_static("application/xml"));
    resp.headers_mut().insert("server", HeaderValue::from_static("cloudflare"));
    resp
}

/// Parses `bytes=N-M`, `bytes=N-`, `bytes=-S` for a body of `len` bytes. `Err` = unsatisfiable.
fn range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let r = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 || len == 0 {
            return Some(Err(()));
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse::<u64>().ok()?.min(len.saturating_sub(1))
        };
        if start >= len || end < start {
            return Some(Err(()));
        }
        (start, end)
    };
    Some(Ok(r))
}

async fn data(
    State(shared): State<Shared>,
    Path((prefix, hex)): Path<(String, String)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    if headers.contains_key("authorization") {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        );
    }
    let Ok(digest) = format!("sha256:{hex}").parse::<Digest>() else {
        return s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.");
    };
    let verify = q.get("verify").map(String::as_str).unwrap_or("");
    let Some((exp, sig)) = verify.split_once('-') else {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request is missing a signature");
    };
    let (Ok(expiry), true) = (exp.parse::<i64>(), sig.len() == 40 && hex.starts_with(&prefix)) else {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Invalid signature");
    };
    let Ok(repo) = u32::from_str_radix(&sig[..8], 16) else {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Invalid signature");
    };
    if sig[8..] != mac(&shared, digest.as_str(), expiry, repo) || repo as usize >= shared.pop.len() {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Invalid signature");
    }
    if (expiry as f64) < shared.clock.now() {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
    }
    let Some(content) = shared.content(repo).await else {
        return s3_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error.",
        );
    };
    let Some(bytes) = content.blobs.get(&digest).cloned() else {
        return s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.");
    };
    let len = bytes.len() as u64;
    let requested = headers.get("range").and_then(|v| v.to_str().ok()).and_then(|v| range(v, len));
    let (status, body, content_range) = match requested {
        None => (StatusCode::OK, bytes, None),
        Some(Err(())) => {
            let mut resp = s3_error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                "The requested range is not satisfiable",
            );
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                resp.headers_mut().insert("content-range", v);
            }
            return resp;
        }
        Some(Ok((a, b))) => (
            StatusCode::PARTIAL_CONTENT,
            bytes.slice(a as usize..=b as usize),
            Some(format!("bytes {a}-{b}/{len}")),
        ),
    };
    let body_len = body.len();
    let mut resp = if method == Method::HEAD {
        Response::new(axum::body::Body::empty())
    } else {
        Response::new(axum::body::Body::from(body))
    };
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/octet-stream"));
    if let Ok(v) = HeaderValue::from_str(&body_len.to_string()) {
        h.insert("content-length", v);
    }
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert("content-range", cr);
    }
    h.insert("accept-ranges", HeaderValue::from_static("bytes"));
    h.insert("cache-control", HeaderValue::from_static("public, max-age=14400"));
    h.insert("cf-cache-status", HeaderValue::from_static("HIT"));
    h.insert("server", HeaderValue::from_static("cloudflare"));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", &digest.hex()[..32])) {
        h.insert("etag", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::range;

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(range("bytes=50-500", 100), Some(Ok((50, 99))));
        assert_eq!(range("bytes=100-", 100), Some(Err(())));
        assert_eq!(range("bytes=0-1,5-6", 100), None);
        assert_eq!(range("items=0-1", 100), None);
    }
}
