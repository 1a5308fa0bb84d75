//! Per-host state: a rate limiter, a concurrency semaphore, and a pause set by the server.

use std::{
    num::NonZeroU32,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::HostLimit;

/// One host's budget, shared by every request to it from this process.
#[derive(Debug)]
pub(crate) struct Host {
    name: String,
    limiter: DefaultDirectRateLimiter,
    permits: Arc<Semaphore>,
    paused_until: Mutex<Option<Instant>>,
}

impl Host {
    pub(crate) fn new(name: &str, limit: &HostLimit) -> Self {
        let per_minute = limit.requests_per_minute.max(1);
        // Spread the budget evenly: a burst of a few, never the whole minute at once (a fresh
        // crawler firing 180 requests in its first second is what abuse limits are for).
        let burst = (per_minute / 60).clamp(1, 10);
        // A limiter lets `burst + rate × t` requests through in any span t, so the rate is what
        // the minute's budget leaves after the burst: no 60-second window ever sees more than
        // `requests_per_minute` (measured: a crawl configured at a server's exact limit, which
        // collected 429s with the full rate, collects none).
        let refill = per_minute.saturating_sub(burst).max(1);
        let quota = Quota::with_period(Duration::from_secs(60) / refill)
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self {
            name: name.to_owned(),
            limiter: RateLimiter::direct(quota),
            permits: Arc::new(Semaphore::new(limit.concurrency.max(1) as usize)),
            paused_until: Mutex::new(None),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Pauses the host until `until` (a later pause wins over an earlier one).
    pub(crate) fn pause_until(&self, until: SystemTime) {
        let wait = until.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
        let instant = Instant::now() + wait;
        let mut paused = self.paused_until.lock();
        if paused.is_none_or(|p| p < instant) {
            *paused = Some(instant);
        }
    }

    /// How long the host stays paused, if it is.
    pub(crate) fn paused_for(&self) -> Option<Duration> {
        let paused = *self.paused_until.lock();
        paused.and_then(|p| p.checked_duration_since(Instant::now())).filter(|d| !d.is_zero())
    }

    /// Waits for the pause, the rate limiter and a concurrency permit, in that order.
    pub(crate) async fn ready(&self) -> OwnedSemaphorePermit {
        while let Some(wait) = self.paused_for() {
            tokio::time::sleep(wait).await;
        }
        self.limiter.until_ready().await;
        match Arc::clone(&self.permits).acquire_owned().await {
            Ok(permit) => permit,
            Err(_) => unreachable!("a host's semaphore is never closed"),
        }
    }
}
