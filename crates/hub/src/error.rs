//! Hub client errors, typed by what the caller does next: wait and retry the task
//! ([`HubError::is_transient`]), record the item and move on, or fix the configuration.

use std::{path::PathBuf, time::SystemTime};

use hubcensus_net::NetError;

/// Why a Hub request or a discovery task failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// Hub's per-minute budget is spent for longer than the gate waits: retry the task after
    /// `until` (Hub sends `retry-after` as a Unix time).
    #[error("Hub API rate limit{}", until.map(|u| format!(" until {}", rfc3339(u))).unwrap_or_default())]
    RateLimited {
        /// When the window resets, if Hub said.
        until: Option<SystemTime>,
    },
    /// Anonymous paging past Hub's offset limit (403 "pagination offset too large"). Tasks turn
    /// this into a note and follow-up shards; a login lifts it.
    #[error("{url}: anonymous paging stops here (log in to page further)")]
    PagingCap {
        /// The page refused.
        url: String,
    },
    /// Any other 403: the item is not ours to read.
    #[error("{url}: forbidden: {message}")]
    Forbidden {
        /// The URL.
        url: String,
        /// Hub's message.
        message: String,
    },
    /// 404: the repository is private or gone (Hub does not say which).
    #[error("{url}: not found")]
    NotFound {
        /// The URL.
        url: String,
    },
    /// The login was refused (bad username or token), or a login was asked for without
    /// credentials: fix the configuration.
    #[error("{url}: login refused: {message}")]
    Unauthorized {
        /// The URL.
        url: String,
        /// Hub's message, or why no login was attempted.
        message: String,
    },
    /// An unexpected status (a 400 for a parameter Hub no longer accepts, a 410 for a retired
    /// endpoint): not worth retrying.
    #[error("{url} answered {status}: {message}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// Hub's message, if any.
        message: String,
    },
    /// The body is not what the endpoint returns (bad JSON, a missing field, too big, a `next`
    /// link to another host). Permanent for this item.
    #[error("{url}: malformed response: {detail}")]
    Malformed {
        /// The URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// A `next` link that was already followed: the listing would never end.
    #[error("pagination loop: {url} was already read")]
    PaginationLoop {
        /// The repeated URL.
        url: String,
    },
    /// A listing longer than the configured page cap.
    #[error("{url}: more than {pages} pages; treated as endless")]
    TooManyPages {
        /// The first URL of the listing.
        url: String,
        /// The cap.
        pages: u32,
    },
    /// A task that cannot run as written (an invalid namespace).
    #[error("invalid task {key}: {reason}")]
    InvalidTask {
        /// The task's key.
        key: String,
        /// Why.
        reason: String,
    },
    /// A names file cannot be read.
    #[error("cannot read names file {path}")]
    NamesFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The gate could not get a response (refused target, transport failure after retries).
    #[error(transparent)]
    Net(NetError),
}

impl HubError {
    /// Whether the same request (or task) may succeed later without any change: job queues
    /// retry these with backoff; everything else is recorded and the work moves on.
    pub fn is_transient(&self) -> bool {
        match self {
            HubError::RateLimited { .. } => true,
            HubError::Net(e) => e.is_transient(),
            _ => false,
        }
    }
}

impl From<NetError> for HubError {
    fn from(e: NetError) -> Self {
        match e {
            NetError::RateLimited { until, .. } => HubError::RateLimited { until },
            other => HubError::Net(other),
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transience_follows_what_the_caller_does() {
        let rate = HubError::from(NetError::RateLimited { host: "hub.docker.com".into(), until: None });
        assert!(matches!(rate, HubError::RateLimited { .. }) && rate.is_transient());
        let status = HubError::from(NetError::Status { url: "u".into(), status: 503, attempts: 6 });
        assert!(status.is_transient());
        assert!(!HubError::NotFound { url: "u".into() }.is_transient());
        assert!(!HubError::PaginationLoop { url: "u".into() }.is_transient());
        assert!(!HubError::from(NetError::InvalidUrl("x".into())).is_transient());
    }
}
