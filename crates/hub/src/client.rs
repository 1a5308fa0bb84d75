//! The Hub client: requests through the gate, the login token, statuses turned into errors.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use hubcensus_net::{Gate, NetError, Request};
use parking_lot::RwLock;
use reqwest::{
    Method, StatusCode,
    header::{ACCEPT, CONTENT_TYPE, HeaderValue},
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::{HubConfig, HubError, wire};

/// The Docker Hub catalog client. Cheap to clone; clones share the gate and the login.
///
/// Every request goes through the [`Gate`] (rate limits, retries, SSRF policy). The login
/// token is attached only to requests for the configured base URL's origin, and the client
/// never follows a `next` link to another origin, so the token cannot leak to another host.
#[derive(Clone)]
pub struct HubClient {
    inner: Arc<Inner>,
}

struct Inner {
    gate: Arc<Gate>,
    config: HubConfig,
    token: RwLock<Option<Arc<SecretString>>>,
    /// Serialises re-logins so a burst of 401s (an expired token) logs in once.
    login_lock: tokio::sync::Mutex<()>,
    /// Requests handed to the gate (its own retries not counted), for the crawl's figures.
    requests: AtomicU64,
}

impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient")
            .field("base_url", &self.inner.config.base_url.as_str())
            .field("logged_in", &self.is_logged_in())
            .finish_non_exhaustive()
    }
}

/// Why reading a body failed.
enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

impl HubClient {
    /// A client over `gate` with `config`. Anonymous until [`HubClient::login`].
    pub fn new(gate: Arc<Gate>, config: HubConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                gate,
                config,
                token: RwLock::new(None),
                login_lock: tokio::sync::Mutex::new(()),
                requests: AtomicU64::new(0),
            }),
        }
    }

    /// The gate this client sends through (shared with the registry client in a census), for
    /// its counters.
    pub fn gate(&self) -> &Gate {
        &self.inner.gate
    }

    /// The configuration in force.
    pub fn config(&self) -> &HubConfig {
        &self.inner.config
    }

    /// Requests this client (and its clones) handed to the gate so far, logins included and the
    /// gate's own retries not: the figure behind "requests per repository".
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// Whether a login token is held (anonymous paging limits do not apply).
    pub fn is_logged_in(&self) -> bool {
        self.inner.token.read().is_some()
    }

    /// Logs in with the configured credentials: `POST /v2/auth/token {identifier, secret}`,
    /// falling back to the deprecated `POST /v2/users/login` where the first is missing. The
    /// token lifts the anonymous paging limit; it lives ten minutes and is renewed on a 401.
    ///
    /// # Errors
    ///
    /// [`HubError::Unauthorized`] when no credentials are configured or Hub refuses them;
    /// [`HubError::Malformed`] when the answer holds no token; gate errors otherwise.
    pub async fn login(&self) -> Result<(), HubError> {
        let creds = self.inner.config.credentials.as_ref().ok_or_else(|| HubError::Unauthorized {
            url: self.url("/v2/auth/token").to_string(),
            message: "no Hub credentials configured".into(),
        })?;
        let url = self.url("/v2/auth/token");
        let (status, body) = self.post_json(&url, creds.token_body()).await?;
        let (url, status, body) = if matches!(status, StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED)
        {
            let legacy = self.url("/v2/users/login");
            let (status, body) = self.post_json(&legacy, creds.legacy_body()).await?;
            (legacy, status, body)
        } else {
            (url, status, body)
        };
        match status {
            s if s.is_success() => {
                let token = wire::login_token(&body).ok_or_else(|| HubError::Malformed {
                    url: url.to_string(),
                    detail: "login answer without a token".into(),
                })?;
                *self.inner.token.write() = Some(Arc::new(SecretString::from(token)));
                tracing::info!(user = %creds.username, "logged in to Docker Hub");
                Ok(())
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(HubError::Unauthorized { url: url.to_string(), message: wire::error_message(&body) })
            }
            s => Err(HubError::Status {
                url: url.to_string(),
                status: s.as_u16(),
                message: wire::error_message(&body),
            }),
        }
    }

    /// `path` (and nothing else) on the base URL.
    pub(crate) fn url(&self, path: &str) -> Url {
        let base = &self.inner.config.base_url;
        let mut url = base.clone();
        url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
        url.set_query(None);
        url
    }

    /// Whether `url` is on Hub's origin (the only one that sees the login token, and the only
    /// one a `next` link may lead to).
    pub(crate) fn is_hub(&self, url: &Url) -> bool {
        url.origin() == self.inner.config.base_url.origin()
    }

    /// GETs a JSON body: 2xx bodies are returned; 401 (with a login) renews the token once;
    /// other statuses become typed errors. A body that breaks off is fetched again.
    pub(crate) async fn get(&self, url: &Url) -> Result<Vec<u8>, HubError> {
        let mut relogged = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.inner.token.read().clone();
            let mut request = Request::get(url.clone());
            request.headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
            request.authorization = self.authorization(url, token.as_deref());
            self.inner.requests.fetch_add(1, Ordering::Relaxed);
            let response = self.inner.gate.send(request).await?;
            let status = response.inner.status();
            let body = match read_body(response.inner, self.inner.config.max_body_bytes).await {
                Ok(body) => body,
                Err(BodyError::TooLarge) => {
                    return Err(HubError::Malformed {
                        url: url.to_string(),
                        detail: format!("body larger than {} bytes", self.inner.config.max_body_bytes),
                    });
                }
                Err(BodyError::Transport(source)) if attempt > self.inner.config.body_retries => {
                    return Err(HubError::Net(NetError::Transport {
                        url: url.to_string(),
                        kind: "body",
                        attempts: attempt,
                        source,
                    }));
                }
                Err(BodyError::Transport(e)) => {
                    tracing::debug!(%url, error = %e, "body broke off; fetching again");
                    continue;
                }
            };
            match status {
                s if s.is_success() => return Ok(body),
                StatusCode::UNAUTHORIZED if token.is_some() && !relogged => {
                    relogged = true;
                    self.relogin(token).await?;
                }
                StatusCode::UNAUTHORIZED => {
                    return Err(HubError::Unauthorized {
                        url: url.to_string(),
                        message: wire::error_message(&body),
                    });
                }
                StatusCode::FORBIDDEN => {
                    let message = wire::error_message(&body);
                    return Err(if wire::is_paging_cap_message(&message) {
                        HubError::PagingCap { url: url.to_string() }
                    } else {
                        HubError::Forbidden { url: url.to_string(), message }
                    });
                }
                StatusCode::NOT_FOUND => return Err(HubError::NotFound { url: url.to_string() }),
                s => {
                    return Err(HubError::Status {
                        url: url.to_string(),
                        status: s.as_u16(),
                        message: wire::error_message(&body),
                    });
                }
            }
        }
    }

    /// Logs in again unless another request already did since `stale` was read.
    async fn relogin(&self, stale: Option<Arc<SecretString>>) -> Result<(), HubError> {
        let _guard = self.inner.login_lock.lock().await;
        let current = self.inner.token.read().clone();
        let renewed = match (&current, &stale) {
            (Some(c), Some(s)) => !Arc::ptr_eq(c, s),
            _ => false,
        };
        if renewed { Ok(()) } else { self.login().await }
    }

    fn authorization(&self, url: &Url, token: Option<&SecretString>) -> Option<HeaderValue> {
        let token = token.filter(|_| self.is_hub(url))?;
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    async fn post_json(&self, url: &Url, body: Vec<u8>) -> Result<(StatusCode, Vec<u8>), HubError> {
        let mut request = Request::get(url.clone());
        request.method = Method::POST;
        request.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        request.headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        request.body = Some(body);
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let response = self.inner.gate.send(request).await?;
        let status = response.inner.status();
        match read_body(response.inner, self.inner.config.max_body_bytes).await {
            Ok(body) => Ok((status, body)),
            Err(BodyError::TooLarge) => {
                Err(HubError::Malformed { url: url.to_string(), detail: "login answer too large".into() })
            }
            Err(BodyError::Transport(source)) => Err(HubError::Net(NetError::Transport {
                url: url.to_string(),
                kind: "body",
                attempts: 1,
                source,
            })),
        }
    }
}

/// Reads a body, refusing more than `max` bytes (whatever Content-Length claims).
async fn read_body(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
