//! The gate: policy checks, per-host waiting, retries, redirects.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::SystemTime,
};

use backon::{ExponentialBuilder, Retryable};
use parking_lot::Mutex;
use reqwest::{
    Method, StatusCode,
    header::{AUTHORIZATION, HeaderMap, HeaderValue, LOCATION},
};
use tokio::sync::OwnedSemaphorePermit;
use url::Url;

use crate::{
    Budget, BudgetError, GateConfig, NetError, RateLimitInfo,
    host::Host,
    origin_of,
    ratelimit::retry_after,
    ssrf::{ForbiddenName, is_forbidden_ip, resolver},
};

/// A request to send through the gate.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Target.
    pub url: Url,
    /// Headers (Accept, Range...). Never put credentials here: use `authorization`.
    pub headers: HeaderMap,
    /// Credentials, sent only to the origin of `url`, never across a redirect to another one.
    pub authorization: Option<HeaderValue>,
    /// Request body (a Hub login's JSON), sent with every attempt; dropped when a 303 turns the
    /// request into a GET.
    pub body: Option<Vec<u8>>,
    /// A budget this request takes from besides its origin's (a registry's manifest requests,
    /// which share the registry's origin with blob downloads that do not count).
    pub budget: Option<Arc<dyn Budget>>,
}

impl Request {
    /// A GET without headers.
    pub fn get(url: Url) -> Self {
        Self {
            method: Method::GET,
            url,
            headers: HeaderMap::new(),
            authorization: None,
            body: None,
            budget: None,
        }
    }

    /// A HEAD without headers.
    pub fn head(url: Url) -> Self {
        Self { method: Method::HEAD, ..Self::get(url) }
    }
}

/// A response that came through the gate. Holds the host's concurrency permit until dropped,
/// so a streamed blob counts against the host's concurrency while it downloads.
#[derive(Debug)]
pub struct Response {
    /// The response (status, headers, body stream).
    pub inner: reqwest::Response,
    /// The URL that answered, after redirects.
    pub final_url: Url,
    /// The rate-limit headers of this response.
    pub rate: RateLimitInfo,
    /// Attempts it took (1 = no retry).
    pub attempts: u32,
    _permit: OwnedSemaphorePermit,
}

/// The HTTP gate. Cheap to clone; clones share hosts, limiters and connections.
#[derive(Debug, Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    config: GateConfig,
    /// Per origin (`scheme://host:port`), never per host name alone.
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    /// 429 responses received: a polite crawler's figure of merit is zero.
    too_many_requests: AtomicU64,
}

/// One attempt's failure, classified for the retry loop.
#[derive(Debug)]
enum Attempt {
    /// Worth retrying with backoff.
    Transient(NetError),
    /// The server set a window: wait for it (if short) or give up.
    RateLimited(Option<SystemTime>),
    /// Not worth retrying.
    Fatal(NetError),
}

impl Gate {
    /// Builds a gate (and its HTTP client) from its configuration.
    pub fn new(config: GateConfig) -> Result<Self, NetError> {
        // reqwest is built without a default crypto provider (aws-lc needs a C toolchain we do
        // not want to require); use ring. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .user_agent(&config.user_agent)
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(resolver) = resolver(config.allow_private_addresses) {
            builder = builder.dns_resolver(resolver);
        }
        let client = builder.build().map_err(NetError::Client)?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                config,
                hosts: Mutex::new(HashMap::new()),
                too_many_requests: AtomicU64::new(0),
            }),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &GateConfig {
        &self.inner.config
    }

    /// How many 429 responses this gate (and its clones) received: the pacing is right when it
    /// stays zero.
    pub fn too_many_requests(&self) -> u64 {
        self.inner.too_many_requests.load(Ordering::Relaxed)
    }

    /// Sends a request: policy, pacing, retries and redirects as the crate docs describe.
    /// Any status that is not retried (2xx, 3xx without Location, 4xx other than 408/429) is
    /// returned as a response for the caller to interpret.
    pub async fn send(&self, request: Request) -> Result<Response, NetError> {
        let origin = request.url.origin();
        let mut url = request.url.clone();
        let mut method = request.method.clone();
        let mut body = request.body.as_deref();
        for _ in 0..=self.inner.config.max_redirects {
            self.check_target(&url)?;
            let authorization = if url.origin() == origin { request.authorization.clone() } else { None };
            let response = self
                .send_with_retries(
                    &method,
                    &url,
                    &request.headers,
                    authorization.as_ref(),
                    body,
                    // A redirect to another origin (the CDN) is not charged to the request's budget.
                    request.budget.as_deref().filter(|_| url.origin() == origin),
                )
                .await?;
            let status = response.inner.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                return Ok(response);
            }
            let next = redirect_target(&url, response.inner.headers())?;
            tracing::debug!(from = %url, to = %next, %status, "following redirect");
            if status == StatusCode::SEE_OTHER {
                method = Method::GET;
                body = None;
            }
            url = next;
        }
        Err(NetError::Redirect { url: request.url.to_string(), reason: "too many redirects".into() })
    }

    /// Refuses what the policy forbids before anything is sent: non-HTTP schemes, and IP
    /// literals in forbidden ranges (names are checked by the resolver).
    fn check_target(&self, url: &Url) -> Result<(), NetError> {
        let refuse = |reason: String| Err(NetError::Refused { url: url.to_string(), reason });
        if !matches!(url.scheme(), "http" | "https") {
            return refuse(format!("scheme {} is not http(s)", url.scheme()));
        }
        if self.inner.config.allow_private_addresses {
            return Ok(());
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(d))
                if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") =>
            {
                return refuse("localhost is a loopback name".into());
            }
            Some(url::Host::Domain(_)) => None,
            None => return Err(NetError::InvalidUrl(url.to_string())),
        };
        match ip {
            Some(ip) if is_forbidden_ip(ip) => {
                refuse(format!("{ip} is a loopback, private or link-local address"))
            }
            _ => Ok(()),
        }
    }

    fn host(&self, url: &Url) -> Arc<Host> {
        let origin = origin_of(url);
        let config = &self.inner.config;
        let mut hosts = self.inner.hosts.lock();
        Arc::clone(hosts.entry(origin.clone()).or_insert_with(|| {
            match config.origins.iter().find(|o| o.origin.eq_ignore_ascii_case(&origin)) {
                Some(limit) => Host::new(&origin, limit),
                None => {
                    Host::new(&origin, &crate::OriginLimit { budget: None, ..config.default_limit.clone() })
                }
            }
            .into()
        }))
    }

    async fn send_with_retries(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        authorization: Option<&HeaderValue>,
        body: Option<&[u8]>,
        budget: Option<&dyn Budget>,
    ) -> Result<Response, NetError> {
        let config = &self.inner.config;
        let host = self.host(url);
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(config.retry_base_delay)
            .with_max_delay(config.retry_max_delay)
            .with_max_times(config.max_retries as usize)
            .with_jitter();
        let attempt = || async {
            let n = attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            self.attempt(&host, method, url, headers, authorization, body, budget, n).await
        };
        loop {
            let result = attempt
                .retry(backoff)
                .when(|e| matches!(e, Attempt::Transient(_)))
                .notify(|e, delay| tracing::debug!(%url, ?delay, error = ?e, "retrying"))
                .await;
            match result {
                Ok(response) => return Ok(response),
                Err(Attempt::Transient(e) | Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::RateLimited(until)) => {
                    let wait = until.and_then(|u| u.duration_since(SystemTime::now()).ok());
                    match (until, wait) {
                        // The server named a short window: it is paused for; wait it out, once.
                        (Some(_), Some(wait)) if wait <= config.max_rate_limit_wait => {
                            tracing::info!(
                                host = host.name(),
                                ?wait,
                                "rate limited; waiting for the window to reset"
                            );
                            tokio::time::sleep(wait).await;
                        }
                        (Some(u), None) if u <= SystemTime::now() => {}
                        _ => return Err(NetError::RateLimited { host: host.name().to_owned(), until }),
                    }
                }
            }
        }
    }

    // One attempt's inputs are the request's parts; bundling them would only rename them.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        host: &Host,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        authorization: Option<&HeaderValue>,
        body: Option<&[u8]>,
        budget: Option<&dyn Budget>,
        attempt: u32,
    ) -> Result<Response, Attempt> {
        if let Some(wait) = host.paused_for().filter(|w| *w > self.inner.config.max_rate_limit_wait) {
            return Err(Attempt::RateLimited(Some(SystemTime::now() + wait)));
        }
        let permit = host.ready(budget).await.map_err(|e| match e {
            // A budget that is spent for a while (a pull quota) is the caller's to wait for: it
            // gives its work back rather than hold it here.
            spent @ BudgetError::Spent { .. } => Attempt::Fatal(NetError::Budget(spent)),
            unavailable @ BudgetError::Unavailable { .. } => {
                Attempt::Transient(NetError::Budget(unavailable))
            }
        })?;
        let mut builder = self.inner.client.request(method.clone(), url.clone()).headers(headers.clone());
        if let Some(auth) = authorization {
            builder = builder.header(AUTHORIZATION, auth.clone());
        }
        if let Some(body) = body {
            builder = builder.body(body.to_vec());
        }
        let response = builder.send().await.map_err(|e| classify(url, e, attempt))?;
        let now = SystemTime::now();
        let rate = RateLimitInfo::from_headers(response.headers(), now);
        // The Hub API's per-minute budget is spent: pause the host until it resets rather than
        // collect a 429. (The pull quota is the registry client's to account for: blobs stay free.)
        if let (false, Some(0), Some(reset)) = (rate.pull_quota, rate.remaining, rate.reset_at) {
            host.pause_until(reset);
        }
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.inner.too_many_requests.fetch_add(1, Ordering::Relaxed);
            let until = retry_after(response.headers(), now).or(rate.reset_at.filter(|_| !rate.pull_quota));
            if let Some(until) = until {
                host.pause_until(until);
            }
            tracing::warn!(%url, until = ?until.map(httpdate::fmt_http_date), "429 Too Many Requests");
            return Err(Attempt::RateLimited(until));
        }
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            if let Some(until) = retry_after(response.headers(), now) {
                host.pause_until(until);
            }
            return Err(Attempt::Transient(NetError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                attempts: attempt,
            }));
        }
        Ok(Response { inner: response, final_url: url.clone(), rate, attempts: attempt, _permit: permit })
    }
}

/// The next URL of a redirect, resolved against the current one.
fn redirect_target(url: &Url, headers: &HeaderMap) -> Result<Url, NetError> {
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| NetError::Redirect { url: url.to_string(), reason: "no Location header".into() })?;
    url.join(location).map_err(|e| NetError::Redirect {
        url: url.to_string(),
        reason: format!("bad Location {location:?}: {e}"),
    })
}

/// Sorts a transport error into refused (the resolver's SSRF guard), transient or fatal.
fn classify(url: &Url, error: reqwest::Error, attempts: u32) -> Attempt {
    let mut source: Option<&dyn std::error::Error> = Some(&error);
    while let Some(e) = source {
        if let Some(forbidden) = e.downcast_ref::<ForbiddenName>() {
            return Attempt::Fatal(NetError::Refused { url: url.to_string(), reason: forbidden.to_string() });
        }
        source = e.source();
    }
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_request() || error.is_body() {
        "reset"
    } else {
        return Attempt::Fatal(NetError::Transport {
            url: url.to_string(),
            kind: "request",
            attempts,
            source: error,
        });
    };
    Attempt::Transient(NetError::Transport { url: url.to_string(), kind, attempts, source: error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_resolve_relative_locations() {
        let base = Url::parse("https://registry-1.docker.io/v2/library/nginx/blobs/sha256:ab").unwrap();
        let mut h = HeaderMap::new();
        h.insert(LOCATION, HeaderValue::from_static("/cdn/x?verify=1"));
        assert_eq!(
            redirect_target(&base, &h).unwrap().as_str(),
            "https://registry-1.docker.io/cdn/x?verify=1"
        );
        h.insert(LOCATION, HeaderValue::from_static("https://production.cloudflare.docker.com/b?verify=2"));
        assert_eq!(redirect_target(&base, &h).unwrap().host_str(), Some("production.cloudflare.docker.com"));
        assert!(redirect_target(&base, &HeaderMap::new()).is_err());
    }
}
