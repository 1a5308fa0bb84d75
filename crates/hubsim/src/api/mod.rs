//! HTTP front ends: Hub API, token service, registry (the CDN is in `crate::cdn`).

pub(crate) mod hub;
pub(crate) mod registry;
pub(crate) mod search;
pub(crate) mod token;

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::server::Shared;

/// The token service router (`auth.docker.io`). Never subject to fault injection.
pub(crate) fn auth_router(shared: Shared) -> Router {
    Router::new().route("/token", get(token::token)).with_state(shared)
}

/// A JSON response with an exact body (compact JSON plus newline, as Go's encoder writes).
pub(crate) fn json_line(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

/// A JSON response (compact, no newline).
pub(crate) fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

/// Hub API error body `{"message":…,"errinfo":{}}`.
pub(crate) fn hub_error(status: StatusCode, message: &str) -> Response {
    json(status, &serde_json::json!({ "message": message, "errinfo": {} }))
}
