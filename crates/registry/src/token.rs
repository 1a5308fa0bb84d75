//! Bearer tokens from the token service, cached per scope and refreshed early.
//!
//! Docker Hub's tokens live 300 s and are bound to one repository scope; a census resolving
//! thousands of repositories asks for one token per repository and reuses it for the manifest
//! HEAD, the GETs and the blob redirects of that repository. Expiry is computed from the time
//! the token was **received** plus `expires_in`, not from the server's `issued_at`, so a skewed
//! local clock cannot make us use an expired token; the token is treated as expired a margin
//! before that (a tenth of its life, at most 30 s), so a long blob download started with it does
//! not hit the deadline midway.

use std::{collections::HashMap, fmt, time::Duration};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::Deserialize;

/// The distribution spec's default lifetime when `expires_in` is absent.
const DEFAULT_EXPIRES_IN: u64 = 60;
/// Upper bound on the early-refresh margin.
const MAX_MARGIN: Duration = Duration::from_secs(30);

/// A token response that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not JSON, or not an object.
    #[error("token response is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    /// Neither `token` nor `access_token` is present and non-empty.
    #[error("token response carries neither token nor access_token")]
    Missing,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// A bearer token and when to stop using it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    value: String,
    /// Received time + lifetime.
    pub expires_at: DateTime<Utc>,
    /// The lifetime the service granted.
    pub lifetime: Duration,
}

impl Token {
    /// Parses a token-service response received at `received_at`.
    pub fn parse(body: &[u8], received_at: DateTime<Utc>) -> Result<Self, TokenError> {
        let raw: TokenResponse = serde_json::from_slice(body)?;
        let value = raw
            .token
            .filter(|t| !t.is_empty())
            .or(raw.access_token.filter(|t| !t.is_empty()))
            .ok_or(TokenError::Missing)?;
        // A zero or absurd lifetime is clamped: zero would make every request fetch a token.
        let secs = raw.expires_in.unwrap_or(DEFAULT_EXPIRES_IN).clamp(1, 86_400);
        let lifetime = Duration::from_secs(secs);
        let expires_at = received_at + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(86_400));
        Ok(Self { value, expires_at, lifetime })
    }

    /// The `Authorization` header value.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.value)
    }

    /// Whether the token should still be used at `now` (expiry minus the refresh margin).
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        let margin = (self.lifetime / 10).min(MAX_MARGIN);
        let margin = chrono::Duration::from_std(margin).unwrap_or_default();
        now + margin < self.expires_at
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").field("value", &"<redacted>").field("expires_at", &self.expires_at).finish()
    }
}

/// What a token is for: the token service (realm and service) and the scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// Token service URL.
    pub realm: String,
    /// `service` parameter.
    pub service: String,
    /// Scope (`repository:library/nginx:pull`).
    pub scope: String,
}

/// Tokens by key. Shared by all tasks of a worker.
#[derive(Debug, Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<TokenKey, Token>>,
}

impl TokenCache {
    /// A fresh token for `key`, if one is cached.
    pub fn get(&self, key: &TokenKey, now: DateTime<Utc>) -> Option<Token> {
        let mut tokens = self.tokens.lock();
        match tokens.get(key) {
            Some(t) if t.is_fresh(now) => Some(t.clone()),
            Some(_) => {
                tokens.remove(key);
                None
            }
            None => None,
        }
    }

    /// Caches a token.
    pub fn insert(&self, key: TokenKey, token: Token) {
        self.tokens.lock().insert(key, token);
    }

    /// Drops a token the registry rejected (a 401 despite it).
    pub fn invalidate(&self, key: &TokenKey) {
        self.tokens.lock().remove(key);
    }

    /// Drops expired tokens (call now and then: a census touches millions of scopes).
    pub fn purge(&self, now: DateTime<Utc>) {
        self.tokens.lock().retain(|_, t| t.is_fresh(now));
    }

    /// Tokens held.
    pub fn len(&self) -> usize {
        self.tokens.lock().len()
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn docker_hub_response_is_read_and_never_printed() {
        // The shape of reference/fixtures/token-response.anonymous.2024-10-03.json.
        let body = br#"{"token":"eyJhbGciOi.payload.sig","access_token":"eyJhbGciOi.payload.sig","expires_in":300,"issued_at":"2024-10-03T01:11:09.171382002Z"}"#;
        let t = Token::parse(body, at("2026-11-28T12:00:00Z")).unwrap();
        assert_eq!(t.bearer(), "Bearer eyJhbGciOi.payload.sig");
        assert_eq!(t.expires_at, at("2026-11-28T12:05:00Z"), "received time + expires_in, not issued_at");
        assert!(!format!("{t:?}").contains("eyJ"));
        // Only access_token; no expires_in → the spec's 60 s.
        let t = Token::parse(br#"{"access_token":"abc"}"#, at("2026-11-28T12:00:00Z")).unwrap();
        assert_eq!(t.expires_at, at("2026-11-28T12:01:00Z"));
        assert!(matches!(Token::parse(br#"{"token":""}"#, Utc::now()), Err(TokenError::Missing)));
        assert!(Token::parse(b"<html>", Utc::now()).is_err());
    }

    #[test]
    fn cache_refreshes_before_expiry_and_per_scope() {
        let cache = TokenCache::default();
        let key = |scope: &str| TokenKey {
            realm: "https://auth.docker.io/token".into(),
            service: "registry.docker.io".into(),
            scope: scope.into(),
        };
        let t0 = at("2026-11-28T12:00:00Z");
        cache.insert(
            key("repository:a/b:pull"),
            Token::parse(br#"{"token":"t","expires_in":300}"#, t0).unwrap(),
        );
        assert!(cache.get(&key("repository:a/b:pull"), t0 + chrono::Duration::seconds(200)).is_some());
        assert!(cache.get(&key("repository:a/c:pull"), t0).is_none(), "tokens are bound to their scope");
        // 300 s life → 30 s margin: at 271 s it is refreshed, not used.
        assert!(cache.get(&key("repository:a/b:pull"), t0 + chrono::Duration::seconds(271)).is_none());
        assert!(cache.is_empty(), "a stale token is dropped");
    }
}
