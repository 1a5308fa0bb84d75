//! Per-origin state: the budget its requests take from, a concurrency semaphore, and a pause
//! set by the server.

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{Budget, BudgetError, LocalRate, OriginLimit};

/// One origin's limits, shared by every request to it from this process.
#[derive(Debug)]
pub(crate) struct Host {
    name: String,
    /// `None`: unpaced (its requests take from budgets of their own).
    budget: Option<Arc<dyn Budget>>,
    permits: Arc<Semaphore>,
    paused_until: Mutex<Option<Instant>>,
}

impl Host {
    pub(crate) fn new(origin: &str, limit: &OriginLimit) -> Self {
        let budget = limit.budget.clone().or_else(|| {
            (limit.requests_per_minute > 0).then(|| {
                Arc::new(LocalRate::per_minute(origin, limit.requests_per_minute)) as Arc<dyn Budget>
            })
        });
        Self {
            name: origin.to_owned(),
            budget,
            permits: Arc::new(Semaphore::new(limit.concurrency.max(1) as usize)),
            paused_until: Mutex::new(None),
        }
    }

    /// The origin (`https://hub.docker.com`).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Pauses the origin until `until` (a later pause wins over an earlier one).
    pub(crate) fn pause_until(&self, until: SystemTime) {
        let wait = until.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
        let instant = Instant::now() + wait;
        let mut paused = self.paused_until.lock();
        if paused.is_none_or(|p| p < instant) {
            *paused = Some(instant);
        }
    }

    /// How long the origin stays paused, if it is.
    pub(crate) fn paused_for(&self) -> Option<Duration> {
        let paused = *self.paused_until.lock();
        paused.and_then(|p| p.checked_duration_since(Instant::now())).filter(|d| !d.is_zero())
    }

    /// Waits for the pause, then takes from the origin's budget and from the request's own
    /// (`extra`), then waits for a concurrency permit, in that order.
    pub(crate) async fn ready(
        &self,
        extra: Option<&dyn Budget>,
    ) -> Result<OwnedSemaphorePermit, BudgetError> {
        while let Some(wait) = self.paused_for() {
            tokio::time::sleep(wait).await;
        }
        for budget in self.budget.as_deref().into_iter().chain(extra) {
            budget.take().await?;
        }
        match Arc::clone(&self.permits).acquire_owned().await {
            Ok(permit) => Ok(permit),
            Err(_) => unreachable!("a host's semaphore is never closed"),
        }
    }
}
