//! Limits: the registry pull quota and the Hub API rate limit.
//!
//! Docker Hub runs two independent limiters (reference §2): a pull quota per client over a
//! six-hour window, charged on manifest GETs only and reported as `ratelimit-limit:
//! 100;w=21600` / `ratelimit-remaining: N;w=21600` with `docker-ratelimit-source`; and a Hub
//! API limit per minute reported as `x-ratelimit-limit/remaining/reset`, answered with 429 and a
//! `retry-after` that is a Unix epoch, not a number of seconds. Both windows run on the
//! simulator's accelerated clock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// What the limits saw: the simulator's side of the truth about a crawler's politeness (a
/// client's own counters cannot show what several clients spent together).
#[derive(Debug, Default)]
pub(crate) struct LimitCounters {
    hub_requests: AtomicU64,
    hub_refused: AtomicU64,
    pulls: AtomicU64,
    pulls_refused: AtomicU64,
}

/// What the simulator's limits saw ([`crate::Sim::limit_counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitCounts {
    /// Hub API requests received (refused ones included).
    pub hub_requests: u64,
    /// Hub API requests answered 429 (over the per-minute limit).
    pub hub_refused: u64,
    /// Manifest GETs charged to a pull quota and served.
    pub pulls: u64,
    /// Manifest GETs refused with 429 `TOOMANYREQUESTS` (the quota was spent).
    pub pulls_refused: u64,
}

impl LimitCounters {
    pub(crate) fn hub(&self, allowed: bool) {
        self.hub_requests.fetch_add(1, Ordering::Relaxed);
        if !allowed {
            self.hub_refused.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn pull(&self, allowed: bool) {
        let counter = if allowed { &self.pulls } else { &self.pulls_refused };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> LimitCounts {
        LimitCounts {
            hub_requests: self.hub_requests.load(Ordering::Relaxed),
            hub_refused: self.hub_refused.load(Ordering::Relaxed),
            pulls: self.pulls.load(Ordering::Relaxed),
            pulls_refused: self.pulls_refused.load(Ordering::Relaxed),
        }
    }
}

/// A fixed-window counter per key.
#[derive(Debug, Default)]
pub(crate) struct Windows {
    map: Mutex<HashMap<String, (f64, u32)>>,
}

/// The state of one key's window after a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WindowState {
    /// Whether the request is within the limit.
    pub(crate) allowed: bool,
    /// Requests left in the window after this one.
    pub(crate) remaining: u32,
    /// When the window resets (simulated Unix seconds).
    pub(crate) reset: f64,
}

impl Windows {
    /// Charges `cost` (0 = just look) to `key` under `limit` per `window` seconds at `now`.
    pub(crate) fn charge(&self, key: &str, limit: u32, window: f64, now: f64, cost: u32) -> WindowState {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now - *start < window);
        }
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now - entry.0 >= window {
            *entry = (now, 0);
        }
        let allowed = entry.1 + cost <= limit;
        if allowed {
            entry.1 += cost;
        }
        WindowState { allowed, remaining: limit.saturating_sub(entry.1), reset: entry.0 + window }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_and_reset() {
        let w = Windows::default();
        assert!(w.charge("a", 2, 10.0, 0.0, 1).allowed);
        let s = w.charge("a", 2, 10.0, 1.0, 1);
        assert!(s.allowed && s.remaining == 0);
        assert!(!w.charge("a", 2, 10.0, 2.0, 1).allowed);
        assert!(w.charge("a", 2, 10.0, 2.0, 0).allowed);
        assert!(w.charge("b", 2, 10.0, 2.0, 1).allowed);
        assert!(w.charge("a", 2, 10.0, 10.5, 1).allowed);
    }
}
