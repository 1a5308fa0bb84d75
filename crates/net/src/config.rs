//! What a gate is allowed to do: per-host rates, timeouts, retries, the SSRF switch.

use std::time::Duration;

/// The limits of one host (matched by host name, without port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLimit {
    /// Host name (`hub.docker.com`, `registry-1.docker.io`, `127.0.0.1`).
    pub host: String,
    /// Requests per minute this process allows itself against the host.
    pub requests_per_minute: u32,
    /// Most requests in flight at once (a permit is held until the response body is dropped).
    pub concurrency: u32,
}

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
    /// Limits of known hosts.
    pub hosts: Vec<HostLimit>,
    /// Limits of any other host.
    pub default_limit: HostLimit,
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
            hosts: Vec::new(),
            default_limit: HostLimit { host: String::new(), requests_per_minute: 600, concurrency: 8 },
        }
    }
}
