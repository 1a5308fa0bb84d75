//! The token service (`auth.docker.io`) and the tokens it issues.
//!
//! `GET /token?service=registry.docker.io&scope=repository:NS/REPO:pull[&scope=...]`, optionally
//! with HTTP Basic credentials, answers `{token, access_token, expires_in: 300, issued_at}` like
//! Docker Hub (fixture `token-response.anonymous.2024-10-03.json`). The token is a JWT-shaped
//! `header.payload.signature` whose payload has Docker's claims (`access[]` with
//! `pull_limit` parameters, `aud`, `iss`, `sub`, `jti`, `nbf`, `iat`, `exp`); it grants the
//! intersection of the requested and the allowed actions — pull on public repositories only —
//! without failing for the rest, and the registry honours exactly what it grants, until it
//! expires on the simulator's clock. The signature is an HMAC-like sha256 keyed by the
//! simulator's secret (clients never verify registry tokens; the registry does).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::server::Shared;
use crate::time::rfc3339_nanos;

/// One granted access entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Access {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) parameters: Option<HashMap<String, String>>,
}

/// Token claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Claims {
    #[serde(default)]
    pub(crate) access: Vec<Access>,
    pub(crate) aud: String,
    pub(crate) exp: i64,
    pub(crate) iat: i64,
    pub(crate) iss: String,
    pub(crate) jti: String,
    pub(crate) nbf: i64,
    pub(crate) sub: String,
}

fn sign(secret: &[u8], data: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret);
    h.update(b".");
    h.update(data.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Encodes and signs claims.
pub(crate) fn encode(secret: &[u8], claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT","kid":"hubsim"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let data = format!("{header}.{payload}");
    let sig = sign(secret, &data);
    format!("{data}.{sig}")
}

/// Why a presented token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenError {
    Malformed,
    BadSignature,
    Expired,
}

/// Verifies a token's signature and lifetime.
pub(crate) fn verify(secret: &[u8], token: &str, now: f64, issuer: &str) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    if sign(secret, &format!("{h}.{p}")) != s {
        return Err(TokenError::BadSignature);
    }
    let raw = URL_SAFE_NO_PAD.decode(p).map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&raw).map_err(|_| TokenError::Malformed)?;
    if claims.iss != issuer {
        return Err(TokenError::BadSignature);
    }
    if (claims.exp as f64) <= now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

/// The account id Docker uses as `sub` and `docker-ratelimit-source` (a UUID).
pub(crate) fn account_uuid(username: &str) -> String {
    let h = Sha256::digest(username.as_bytes());
    let x = hex::encode(&h[..16]);
    format!("{}-{}-{}-{}-{}", &x[..8], &x[8..12], &x[12..16], &x[16..20], &x[20..32])
}

/// Checks `Authorization: Basic` against the configured accounts. `Ok(None)`: anonymous.
pub(crate) fn basic_user(shared: &Shared, headers: &HeaderMap) -> Result<Option<String>, ()> {
    let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(b64) = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")) else {
        return Ok(None);
    };
    let raw = STANDARD.decode(b64.trim()).map_err(|_| ())?;
    let text = String::from_utf8(raw).map_err(|_| ())?;
    let (user, pass) = text.split_once(':').ok_or(())?;
    if shared.cfg.service.accounts.iter().any(|a| a.username == user && a.secret == pass) {
        Ok(Some(user.to_string()))
    } else {
        Err(())
    }
}

#[derive(Debug, Serialize)]
struct TokenResponse {
    token: String,
    access_token: String,
    expires_in: u64,
    issued_at: String,
}

/// `GET /token`.
pub(crate) async fn token(
    State(shared): State<Shared>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let user = match basic_user(&shared, &headers) {
        Ok(u) => u,
        Err(()) => {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"details": "incorrect username or password"})),
            )
                .into_response();
        }
    };
    let service = params.iter().find(|(k, _)| k == "service").map(|(_, v)| v.clone()).unwrap_or_default();
    let pull_limit = match &user {
        None => shared.cfg.limits.pulls_anonymous,
        Some(_) => shared.cfg.limits.pulls_authenticated,
    };
    let mut access = Vec::new();
    for (_, scope) in params.iter().filter(|(k, _)| k == "scope") {
        for one in scope.split(' ') {
            let mut it = one.splitn(3, ':');
            let (Some(kind), Some(name), Some(actions)) = (it.next(), it.next(), it.next()) else {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(serde_json::json!({"details": format!("invalid scope: {one}")})),
                )
                    .into_response();
            };
            let public =
                kind == "repository" && shared.pop.find(name).is_some_and(|i| !shared.pop.repo(i).private);
            let granted: Vec<String> =
                actions.split(',').filter(|a| *a == "pull" && public).map(str::to_string).collect();
            let parameters = pull_limit.map(|l| {
                HashMap::from([
                    ("pull_limit".to_string(), l.to_string()),
                    ("pull_limit_interval".to_string(), shared.cfg.limits.pull_window_secs.to_string()),
                ])
            });
            access.push(Access {
                kind: kind.to_string(),
                name: name.to_string(),
                actions: granted,
                parameters,
            });
        }
    }
    let now = shared.clock.now();
    let iat = now as i64;
    let ttl = shared.cfg.service.token_ttl_secs;
    let n = shared.token_counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let claims = Claims {
        access,
        aud: if service.is_empty() { "registry.docker.io".into() } else { service },
        exp: iat + ttl as i64,
        iat,
        iss: "auth.docker.io".into(),
        jti: format!(
            "dckr_jti_{}",
            &URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{n}-{iat}").as_bytes()))[..28]
        ),
        nbf: iat - 300,
        sub: user.as_deref().map(account_uuid).unwrap_or_default(),
    };
    let token = encode(&shared.secret, &claims);
    axum::Json(TokenResponse {
        access_token: token.clone(),
        token,
        expires_in: ttl,
        issued_at: rfc3339_nanos(now),
    })
    .into_response()
}
