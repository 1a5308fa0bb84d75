//! Gate errors, typed by what the caller does next.

use std::time::SystemTime;

/// Why a request through the gate did not produce a response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The policy forbids this target (scheme, or a loopback/private/link-local address).
    /// Never retried: record it for the item.
    #[error("refused {url}: {reason}")]
    Refused {
        /// The URL.
        url: String,
        /// Which rule refused it.
        reason: String,
    },
    /// The server rate-limited us. `until` is when its window resets, if it said; without it
    /// (the pull quota's 429 has no Retry-After) the caller's quota accounting decides.
    #[error("rate limited by {host}{}", until.map(|u| format!(" until {}", httpdate::fmt_http_date(u))).unwrap_or_default())]
    RateLimited {
        /// The host.
        host: String,
        /// When the window resets.
        until: Option<SystemTime>,
    },
    /// A transient failure (5xx, 408) that outlasted the retries.
    #[error("{url} answered {status} after {attempts} attempts")]
    Status {
        /// The URL.
        url: String,
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// Connecting, a reset, or a timeout, after the retries.
    #[error("{url}: {kind} after {attempts} attempts")]
    Transport {
        /// The URL.
        url: String,
        /// `timeout`, `connect`, `reset`...
        kind: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// More redirects than allowed, or a redirect without a usable Location.
    #[error("bad redirect from {url}: {reason}")]
    Redirect {
        /// The URL that redirected.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The URL does not parse or has no host.
    #[error("invalid URL {0}")]
    InvalidUrl(String),
    /// A shared budget could not be reached (its database): retry later.
    #[error(transparent)]
    Budget(crate::BudgetError),
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
}

impl NetError {
    /// Whether the same request may succeed later without any change (for job retries).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            NetError::RateLimited { .. }
                | NetError::Status { .. }
                | NetError::Transport { .. }
                | NetError::Budget(_)
        )
    }
}
