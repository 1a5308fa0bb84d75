//! What a gate is allowed to do: per-origin budgets, timeouts, retries, the SSRF switch.

use std::{sync::Arc, time::Duration};

use url::Url;

use crate::Budget;

/// The limits of one origin: scheme, host and port, so that services sharing a host (hubsim's
/// four on 127.0.0.1, or a registry and its token service behind one name) never share a
/// budget by accident.
#[derive(Debug, Clone)]
pub struct OriginLimit {
    /// The origin as [`origin_of`] spells it (`https://hub.docker.com`, `http://127.0.0.1:5000`).
    pub origin: String,
    /// What every request to the origin takes from before it is sent. `None`: a rate of
    /// `requests_per_minute` kept in this process ([`crate::LocalRate`]).
    pub budget: Option<Arc<dyn Budget>>,
    /// Requests per minute when no `budget` is given; `0` leaves the origin unpaced (its
    /// requests are charged to budgets of their own, like a registry's manifest requests).
    pub requests_per_minute: u32,
    /// Most requests in flight at once (a permit is held until the response body is dropped).
    pub concurrency: u32,
}

impl OriginLimit {
    /// An origin paced at `requests_per_minute` in this process.
    pub fn per_minute(url: &Url, requests_per_minute: u32, concurrency: u32) -> Self {
        Self { origin: origin_of(url), budget: None, requests_per_minute, concurrency }
    }
}

/// The origin of a URL in one canonical spelling (`scheme://host[:port]`, the default port
/// left out): the key of the gate's limits and of shared budgets.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Requests a minute to an origin the configuration does not name (a CDN, a token service).
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 600;

/// Gate configuration. The CLI builds it from `[net]`, `[hub]` and `[registry]`.
#[derive(Debug, Clone)]
pub struct GateConfig {
    /// Sent with every request.
    pub user_agent: String,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time a response may stay silent (between reads of the body, too).
    pub read_timeout: Duration,
    /// Retries of a transient failure (5xx, 408, reset, timeout) before giving up.
    pub max_retries: u32,
    /// First backoff delay; doubled per retry, with jitter.
    pub retry_base_delay: Duration,
    /// Longest single backoff delay.
    pub retry_max_delay: Duration,
    /// A 429 whose window resets within this time is waited out and retried; a longer one is
    /// returned to the caller as [`crate::NetError::RateLimited`].
    pub max_rate_limit_wait: Duration,
    /// Redirect hops followed before giving up.
    pub max_redirects: u32,
    /// Allow loopback, private and link-local targets (tests, the demo). Off for real crawls.
    pub allow_private_addresses: bool,
    /// Limits of known origins.
    pub origins: Vec<OriginLimit>,
    /// Limits of any other origin (its `origin` and `budget` are ignored: each origin gets its
    /// own rate of `requests_per_minute`).
    pub default_limit: OriginLimit,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            user_agent: concat!("hubcensus/", env!("CARGO_PKG_VERSION")).into(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            max_retries: 5,
            retry_base_delay: Duration::from_millis(200),
            retry_max_delay: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(120),
            max_redirects: 5,
            allow_private_addresses: false,
            origins: Vec::new(),
            default_limit: OriginLimit {
                origin: String::new(),
                budget: None,
                requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
                concurrency: 8,
            },
        }
    }
}
