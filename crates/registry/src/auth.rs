//! The challenge → token flow, and who may see credentials.
//!
//! The first 401 of a registry teaches its scheme: Bearer with a token realm and service (Docker
//! Hub, distribution with `auth: token`), or Basic. From then on every request for a repository
//! carries a token for `repository:NS/REPO:pull` (or the scope the challenge names), taken from
//! the [`TokenCache`] or fetched once — concurrent tasks wanting the same scope wait for one
//! fetch instead of each asking the token service.
//!
//! Credentials go to the token realm only when its host is the registry's own or the configured
//! auth host, and only over https (or in test mode, where the gate allows loopback): a registry
//! that names a foreign realm gets an anonymous token request, never our account.

use std::{collections::HashMap, sync::Arc};

use base64::Engine as _;
use chrono::Utc;
use hubcensus_net::{Gate, Request};
use parking_lot::Mutex;
use reqwest::{StatusCode, header::HeaderValue};
use url::Url;

use crate::{
    Challenge, Credentials, RegistryError, Scheme, Token, TokenCache, TokenKey,
    http::{read_limited, status_error},
    parse_challenges,
    stats::Counters,
};

/// Token responses are a few kilobytes.
const MAX_TOKEN_BODY: u64 = 256 * 1024;
/// Purge expired tokens when the cache grows past this many (a census touches millions of
/// repositories, each with its own scope).
const PURGE_ABOVE: usize = 4096;

/// The scheme a registry asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Learned {
    Bearer { realm: Url, service: String },
    Basic,
}

/// An `Authorization` value and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Authorization {
    pub(crate) header: HeaderValue,
    /// Granted during this request (a 401 with it is the registry's final word).
    pub(crate) fresh: bool,
    /// The cache key of a bearer token (`None` for Basic).
    key: Option<TokenKey>,
}

/// What the registry said in a 401.
#[derive(Debug, Clone, Default)]
pub(crate) struct Refusal {
    /// The scopes the challenge names (empty: keep ours).
    pub(crate) scopes: Vec<String>,
    /// `error=` of a Bearer challenge (`insufficient_scope`, `invalid_token`).
    pub(crate) error: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Auth {
    gate: Arc<Gate>,
    credentials: Option<Credentials>,
    registry: Url,
    auth_host: Option<String>,
    learned: Mutex<Option<Learned>>,
    tokens: TokenCache,
    flights: Mutex<HashMap<TokenKey, Arc<tokio::sync::Mutex<()>>>>,
    counters: Arc<Counters>,
}

impl Auth {
    pub(crate) fn new(
        gate: Arc<Gate>,
        credentials: Option<Credentials>,
        registry: Url,
        auth_host: Option<String>,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            gate,
            credentials,
            registry,
            auth_host: auth_host.map(|h| h.to_ascii_lowercase()),
            learned: Mutex::new(None),
            tokens: TokenCache::default(),
            flights: Mutex::new(HashMap::new()),
            counters,
        }
    }

    /// Learns the scheme from a 401's `WWW-Authenticate` values (Bearer preferred).
    ///
    /// # Errors
    /// [`RegistryError::Unauthorized`] when no challenge is usable.
    pub(crate) fn learn(&self, www_authenticate: &[&str], url: &Url) -> Result<Refusal, RegistryError> {
        let challenges: Vec<Challenge> = www_authenticate.iter().flat_map(|v| parse_challenges(v)).collect();
        let unusable =
            |reason: &str| RegistryError::Unauthorized { url: url.to_string(), reason: reason.into() };
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == Scheme::Bearer && c.realm().is_some()) {
            let realm_text = bearer.realm().unwrap_or_default();
            let realm = self
                .registry
                .join(realm_text)
                .map_err(|e| unusable(&format!("token realm {realm_text:?} is not a URL: {e}")))?;
            let service = bearer.service().unwrap_or_default().to_owned();
            *self.learned.lock() = Some(Learned::Bearer { realm, service });
            return Ok(Refusal {
                scopes: bearer.scopes().into_iter().map(str::to_owned).collect(),
                error: bearer.params.get("error").cloned(),
            });
        }
        if challenges.iter().any(|c| c.scheme == Scheme::Basic) {
            *self.learned.lock() = Some(Learned::Basic);
            return Ok(Refusal::default());
        }
        Err(unusable("401 without a Bearer or Basic challenge"))
    }

    /// Whether the registry's scheme is known to be Basic.
    pub(crate) fn is_basic(&self) -> bool {
        matches!(*self.learned.lock(), Some(Learned::Basic))
    }

    /// The credentials may be sent to `url`: the registry's or the auth host, over https unless
    /// the gate is in test mode.
    fn may_send_credentials(&self, url: &Url) -> bool {
        let host = url.host_str().map(str::to_ascii_lowercase);
        let host_ok = host.is_some()
            && (host.as_deref() == self.registry.host_str() || host.as_deref() == self.auth_host.as_deref());
        let transport_ok = url.scheme() == "https" || self.gate.config().allow_private_addresses;
        host_ok && transport_ok
    }

    fn basic_header(&self) -> Option<HeaderValue> {
        let c = self.credentials.as_ref()?;
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.secret));
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// The `Authorization` for a request needing `scopes`: a cached token unless `force`, else a
    /// new one; Basic credentials for a Basic registry; `None` while the scheme is unknown or
    /// when a Basic registry gets no credentials from us.
    pub(crate) async fn authorization(
        &self,
        scopes: &[String],
        force: bool,
    ) -> Result<Option<Authorization>, RegistryError> {
        let learned = self.learned.lock().clone();
        match learned {
            None => Ok(None),
            Some(Learned::Basic) => Ok(self
                .basic_header()
                .filter(|_| self.may_send_credentials(&self.registry))
                .map(|header| Authorization { header, fresh: true, key: None })),
            Some(Learned::Bearer { realm, service }) => {
                let key = TokenKey { realm: realm.to_string(), service, scope: scopes.join(" ") };
                if !force && let Some(token) = self.tokens.get(&key, Utc::now()) {
                    return Ok(Some(Authorization { header: bearer(&token)?, fresh: false, key: Some(key) }));
                }
                let token = self.fetch_once(&realm, &key, scopes).await?;
                Ok(Some(Authorization { header: bearer(&token)?, fresh: true, key: Some(key) }))
            }
        }
    }

    /// Forgets a token the registry refused.
    pub(crate) fn invalidate(&self, auth: &Authorization) {
        if let Some(key) = &auth.key {
            self.tokens.invalidate(key);
        }
    }

    /// One token fetch per key at a time; late arrivals take the fetched token.
    async fn fetch_once(
        &self,
        realm: &Url,
        key: &TokenKey,
        scopes: &[String],
    ) -> Result<Token, RegistryError> {
        let flight = Arc::clone(self.flights.lock().entry(key.clone()).or_default());
        let guard = flight.lock().await;
        let result = match self.tokens.get(key, Utc::now()) {
            // Fetched by the task we waited for: just granted, as good as our own.
            Some(token) => Ok(token),
            None => self.fetch(realm, key, scopes).await,
        };
        drop(guard);
        self.flights.lock().remove(key);
        result
    }

    async fn fetch(&self, realm: &Url, key: &TokenKey, scopes: &[String]) -> Result<Token, RegistryError> {
        let mut url = realm.clone();
        {
            let mut query = url.query_pairs_mut();
            if !key.service.is_empty() {
                query.append_pair("service", &key.service);
            }
            for scope in scopes {
                query.append_pair("scope", scope);
            }
        }
        let authorization = self.basic_header().filter(|_| self.may_send_credentials(realm));
        let with_credentials = authorization.is_some();
        Counters::bump(&self.counters.token_requests);
        let mut response = self.gate.send(Request { authorization, ..Request::get(url) }).await?;
        match response.inner.status() {
            s if s.is_success() => {
                let body = read_limited(&mut response, MAX_TOKEN_BODY, "token response").await?;
                let token = Token::parse(&body, Utc::now())
                    .map_err(|e| RegistryError::malformed(format!("token response from {realm}: {e}")))?;
                self.tokens.insert(key.clone(), token.clone());
                if self.tokens.len() > PURGE_ABOVE {
                    self.tokens.purge(Utc::now());
                }
                Ok(token)
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(RegistryError::Unauthorized {
                url: realm.to_string(),
                reason: if with_credentials {
                    "the token service refused the credentials".into()
                } else {
                    "the token service refused an anonymous token".into()
                },
            }),
            _ => Err(status_error(response, "token").await),
        }
    }
}

fn bearer(token: &Token) -> Result<HeaderValue, RegistryError> {
    let mut value = HeaderValue::from_str(&token.bearer())
        .map_err(|_| RegistryError::malformed("token contains characters not allowed in a header"))?;
    value.set_sensitive(true);
    Ok(value)
}
