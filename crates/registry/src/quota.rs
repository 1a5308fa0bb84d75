//! Pull-quota accounting from the `ratelimit-*` headers.
//!
//! Docker Hub charges manifest GETs against a quota per address or account
//! (`ratelimit-limit: 100;w=21600`, `ratelimit-remaining: 76;w=21600`) and answers 429
//! `TOOMANYREQUESTS` — without Retry-After and without a reset time — once it is spent. Every
//! registry response (HEADs included, which are free and still carry the headers) updates one
//! shared state, so the scheduler can ask [`PullQuota::may_pull`] before it plans a GET and
//! `get_manifest` refuses to send one that would eat into the configured reserve.
//!
//! Hub's window slides and it never says when pulls come back, so the reset time is an
//! estimate: the window's length after the quota was first seen at or below the reserve. That
//! is conservative (every pull counted then has left the window by that time) and it does not
//! move while the quota stays low, so a client waits once instead of probing with GETs.
//! GETs in flight are subtracted from the last remaining count, so concurrent tasks cannot all
//! spend the last pull above the reserve.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use hubcensus_net::RateLimitInfo;
use parking_lot::Mutex;

/// The window assumed when a quota 429 came without any `ratelimit-*` header: Docker Hub's six
/// hours, so a client that never learns the window still comes back, once, after it.
const DEFAULT_WINDOW: Duration = Duration::from_secs(21_600);

/// A snapshot of the pull quota as this client last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullQuota {
    /// Pulls allowed per window (`ratelimit-limit`); `None` until a response carried it, and for
    /// registries (or paid accounts) without a quota.
    pub limit: Option<u64>,
    /// Pulls left in the window (`ratelimit-remaining`), less the GETs in flight.
    pub remaining: Option<u64>,
    /// The window (`w=`).
    pub window: Option<Duration>,
    /// When the quota is expected back, once it is at or below the reserve (see the module doc).
    pub reset_at: Option<SystemTime>,
    /// Manifest GETs this client completed with a 200 (each may have counted as a pull).
    pub pulls_spent: u64,
    /// The configured reserve.
    pub reserve: u64,
    /// `docker-ratelimit-source`: the address or account the quota is charged to.
    pub source: Option<String>,
}

impl PullQuota {
    /// Whether a manifest GET may be sent now without touching the reserve.
    pub fn may_pull(&self) -> bool {
        self.may_pull_at(SystemTime::now())
    }

    /// [`Self::may_pull`] at a given time.
    pub fn may_pull_at(&self, now: SystemTime) -> bool {
        match self.remaining {
            None => true,
            Some(r) if r > self.reserve => true,
            Some(_) => self.reset_at.is_some_and(|t| now >= t),
        }
    }
}

/// The shared, mutable state behind [`PullQuota`].
#[derive(Debug)]
pub(crate) struct QuotaState {
    limit: Option<u64>,
    remaining: Option<u64>,
    window: Option<Duration>,
    source: Option<String>,
    /// When the quota was first seen at or below the reserve (cleared when it rises again).
    low_since: Option<SystemTime>,
    /// A reset time the server named (a Retry-After on a 429), which wins over the estimate.
    named_reset: Option<SystemTime>,
    pulls_spent: u64,
    in_flight: u64,
    reserve: u64,
}

impl QuotaState {
    pub(crate) fn new(reserve: u64) -> Self {
        Self {
            limit: None,
            remaining: None,
            window: None,
            source: None,
            low_since: None,
            named_reset: None,
            pulls_spent: 0,
            in_flight: 0,
            reserve,
        }
    }

    fn reset_at(&self) -> Option<SystemTime> {
        self.named_reset.or_else(|| Some(self.low_since? + self.window.unwrap_or(DEFAULT_WINDOW)))
    }

    fn effective_remaining(&self) -> Option<u64> {
        self.remaining.map(|r| r.saturating_sub(self.in_flight))
    }

    /// Records that the quota is at or below the reserve. The estimate restarts only once the
    /// previous one has passed (the server still says no), never while it is pending.
    fn mark_low(&mut self, now: SystemTime) {
        let expired = self.reset_at().is_some_and(|t| t <= now);
        if self.low_since.is_none() || expired {
            self.low_since = Some(now);
            if expired {
                self.named_reset = None;
            }
        }
    }

    /// Takes in the rate-limit headers of a registry response.
    pub(crate) fn observe(&mut self, rate: &RateLimitInfo, now: SystemTime) {
        if !rate.pull_quota {
            return;
        }
        self.limit = rate.limit.or(self.limit);
        self.window = rate.window.or(self.window);
        if rate.source.is_some() {
            self.source.clone_from(&rate.source);
        }
        let Some(remaining) = rate.remaining else { return };
        self.remaining = Some(remaining);
        if remaining <= self.reserve {
            self.mark_low(now);
        } else {
            self.low_since = None;
            self.named_reset = None;
        }
    }

    /// A 429 on a manifest GET: nothing is left.
    pub(crate) fn exhausted(&mut self, until: Option<SystemTime>, now: SystemTime) {
        self.remaining = Some(0);
        self.mark_low(now);
        if until.is_some() {
            self.named_reset = until;
        }
    }

    pub(crate) fn snapshot(&self) -> PullQuota {
        PullQuota {
            limit: self.limit,
            remaining: self.effective_remaining(),
            window: self.window,
            reset_at: self.effective_remaining().filter(|r| *r <= self.reserve).and_then(|_| self.reset_at()),
            pulls_spent: self.pulls_spent,
            reserve: self.reserve,
            source: self.source.clone(),
        }
    }
}

/// Permission to send one manifest GET; returns its slot when dropped.
#[derive(Debug)]
pub(crate) struct PullTicket {
    state: Arc<Mutex<QuotaState>>,
    spent: bool,
}

impl PullTicket {
    /// Reserves a GET if the quota allows one now; otherwise the expected reset time.
    pub(crate) fn take(state: &Arc<Mutex<QuotaState>>, now: SystemTime) -> Result<Self, Option<SystemTime>> {
        let mut s = state.lock();
        let snapshot = s.snapshot();
        if !snapshot.may_pull_at(now) {
            return Err(snapshot.reset_at);
        }
        s.in_flight += 1;
        Ok(Self { state: Arc::clone(state), spent: false })
    }

    /// The GET was answered with a manifest: it counted.
    pub(crate) fn spent(mut self) {
        self.spent = true;
    }
}

impl Drop for PullTicket {
    fn drop(&mut self) {
        let mut s = self.state.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        if self.spent {
            s.pulls_spent += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn info(remaining: u64) -> RateLimitInfo {
        RateLimitInfo {
            limit: Some(100),
            remaining: Some(remaining),
            window: Some(Duration::from_secs(21_600)),
            pull_quota: true,
            source: Some("192.0.2.1".into()),
            ..RateLimitInfo::default()
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    #[test]
    fn reserve_in_flight_and_estimated_reset() {
        let state = Arc::new(Mutex::new(QuotaState::new(2)));
        assert!(state.lock().snapshot().may_pull_at(at(0)), "unknown quota: pull");
        // The Hub API's per-minute headers are not the pull quota.
        state.lock().observe(&RateLimitInfo { remaining: Some(0), ..RateLimitInfo::default() }, at(0));
        assert!(state.lock().snapshot().may_pull_at(at(0)));

        state.lock().observe(&info(4), at(0));
        let a = PullTicket::take(&state, at(0)).unwrap();
        let b = PullTicket::take(&state, at(0)).unwrap();
        // 4 remaining - 2 in flight = 2 = the reserve: a third GET must wait for those two
        // (no reset time: their answers will tell).
        assert_eq!(PullTicket::take(&state, at(0)).unwrap_err(), None);
        a.spent();
        drop(b);
        let q = state.lock().snapshot();
        assert_eq!((q.pulls_spent, q.remaining, q.source.as_deref()), (1, Some(4), Some("192.0.2.1")));

        // The server says 2 left = the reserve: refused until one window after it was first low.
        state.lock().observe(&info(2), at(0));
        assert_eq!(PullTicket::take(&state, at(0)).unwrap_err(), Some(at(21_600)));
        // Still low an hour later: the estimate does not move.
        state.lock().observe(&info(1), at(3_600));
        assert_eq!(state.lock().snapshot().reset_at, Some(at(21_600)));
        assert!(!state.lock().snapshot().may_pull_at(at(3_600)));
        // Past the estimate one GET may probe; if the server still says no, a new wait starts.
        assert!(state.lock().snapshot().may_pull_at(at(21_600)));
        state.lock().exhausted(None, at(21_700));
        assert_eq!(state.lock().snapshot().reset_at, Some(at(21_700 + 21_600)));
        // A HEAD showing the quota back clears it.
        state.lock().observe(&info(50), at(22_000));
        let q = state.lock().snapshot();
        assert!(q.may_pull_at(at(22_000)) && q.reset_at.is_none());
    }

    #[test]
    fn a_429_without_headers_assumes_hubs_window() {
        let state = Arc::new(Mutex::new(QuotaState::new(0)));
        state.lock().exhausted(None, at(0));
        assert_eq!(state.lock().snapshot().reset_at, Some(at(21_600)));
    }

    #[test]
    fn a_named_reset_wins() {
        let state = Arc::new(Mutex::new(QuotaState::new(0)));
        state.lock().exhausted(Some(at(90)), at(0));
        let q = state.lock().snapshot();
        assert_eq!((q.remaining, q.reset_at), (Some(0), Some(at(90))));
        assert!(!q.may_pull_at(at(89)) && q.may_pull_at(at(90)));
    }
}
