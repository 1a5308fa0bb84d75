//! Request counters, so a census (and its benchmark) can show what it cost: token requests per
//! repository, manifest GETs per new image, 401 round trips.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a client has sent so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistryStats {
    /// Requests to a token service.
    pub token_requests: u64,
    /// Manifest HEADs (free).
    pub manifest_heads: u64,
    /// Manifest GETs sent (each may count against the pull quota; 401s before a token do not).
    pub manifest_gets: u64,
    /// Blob GETs (configs and layers; free).
    pub blob_gets: u64,
    /// Requests answered 401 and sent again with a new token or credentials.
    pub auth_retries: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) token_requests: AtomicU64,
    pub(crate) manifest_heads: AtomicU64,
    pub(crate) manifest_gets: AtomicU64,
    pub(crate) blob_gets: AtomicU64,
    pub(crate) auth_retries: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> RegistryStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RegistryStats {
            token_requests: get(&self.token_requests),
            manifest_heads: get(&self.manifest_heads),
            manifest_gets: get(&self.manifest_gets),
            blob_gets: get(&self.blob_gets),
            auth_retries: get(&self.auth_retries),
        }
    }
}
