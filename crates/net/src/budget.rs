//! Budgets: what a request spends before it is sent, named for what it is (the Hub API's
//! requests per minute, a registry's manifest requests, the pull quota) and kept wherever the
//! spenders can share it.
//!
//! Docker Hub counts its limits per account (or per anonymous address), not per process: every
//! worker of a census, on every machine, spends the same budgets. So the gate does not own the
//! budget, it asks a [`Budget`] for each request. [`LocalRate`] keeps one in this process (a
//! laptop scan, tests); the CLI wires a Postgres-backed one that all workers share. This crate
//! stays free of any database: it only knows the trait.

use std::{
    error::Error as StdError,
    fmt,
    future::Future,
    num::NonZeroU32,
    pin::Pin,
    sync::Arc,
    time::{Duration, SystemTime},
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::RateLimitInfo;

/// A boxed future a [`Budget`] returns (object-safe async).
pub type BudgetFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A budget requests are taken from before they are sent.
///
/// Contract: [`Budget::take`] returns once one request may be sent now, having waited as long
/// as a rate requires (never spinning), or returns [`BudgetError::Spent`] at once when the
/// budget is gone for longer than it is worth waiting (a pull quota's window is hours): the
/// caller gives the work back until `until`. A take is never given back: a request that was
/// taken and then not sent is lost, which errs on the side of the server.
pub trait Budget: fmt::Debug + Send + Sync {
    /// What the budget is and whose (`hub_api http://127.0.0.1:5000`), for logs and `status`.
    fn name(&self) -> &str;

    /// Takes one request's worth, waiting while a rate requires it.
    ///
    /// # Errors
    /// [`BudgetError::Spent`] when nothing is left until a later time;
    /// [`BudgetError::Unavailable`] when the budget's store cannot be reached.
    fn take(&self) -> BudgetFuture<'_, Result<(), BudgetError>>;

    /// What a response said about the budget (`ratelimit-remaining`): a budget that mirrors a
    /// server-side counter reconciles with it. The default ignores it.
    fn observe<'a>(&'a self, rate: &'a RateLimitInfo) -> BudgetFuture<'a, ()> {
        let _ = rate;
        Box::pin(async {})
    }

    /// The answer to a request this process took from the budget, and what it said: a budget
    /// that mirrors a server-side counter knows the server has now counted that request.
    /// The default is [`Budget::observe`].
    fn answered<'a>(&'a self, rate: &'a RateLimitInfo) -> BudgetFuture<'a, ()> {
        self.observe(rate)
    }
}

/// Why a budget could not be taken from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// Nothing is left: come back at `until` (when known).
    #[error("budget {budget} is spent{}", until.map(|u| format!(" until {}", httpdate::fmt_http_date(u))).unwrap_or_default())]
    Spent {
        /// The budget's name.
        budget: String,
        /// When it is expected back.
        until: Option<SystemTime>,
    },
    /// The budget's store (the database of a shared budget) failed: retry later.
    #[error("budget {budget} is unavailable")]
    Unavailable {
        /// The budget's name.
        budget: String,
        /// What failed.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// Several budgets taken in order as one: a registry's manifest GET waits for the manifest
/// rate, then takes a pull, so the pull is taken just before the request leaves.
#[derive(Debug)]
pub struct BudgetChain {
    name: String,
    budgets: Vec<Arc<dyn Budget>>,
}

impl BudgetChain {
    /// The budgets, taken first to last.
    pub fn new(budgets: Vec<Arc<dyn Budget>>) -> Self {
        let name = budgets.iter().map(|b| b.name()).collect::<Vec<_>>().join(" + ");
        Self { name, budgets }
    }
}

impl Budget for BudgetChain {
    fn name(&self) -> &str {
        &self.name
    }

    fn take(&self) -> BudgetFuture<'_, Result<(), BudgetError>> {
        Box::pin(async move {
            for budget in &self.budgets {
                budget.take().await?;
            }
            Ok(())
        })
    }
}

/// The token-bucket shape of a per-minute rate: a small burst, refilled at what the minute
/// leaves after it. A bucket lets `burst + refill × t` requests through in any span `t`, so no
/// 60-second window ever sees more than `per_minute` (measured: a crawl configured at a
/// server's exact limit, which collected 429s with the full rate as refill, collects none).
/// Every budget of a rate, local or shared, uses this one shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateShape {
    /// Requests that may go at once (the bucket's capacity).
    pub burst: u32,
    /// Tokens added per second.
    pub refill_per_sec: f64,
}

impl RateShape {
    /// The shape of `per_minute` requests a minute: a burst of one second's worth (1 to 10;
    /// a fresh crawler firing a minute's budget in its first second is what abuse limits are
    /// for), the rest spread evenly.
    pub fn per_minute(per_minute: u32) -> Self {
        let per_minute = per_minute.max(1);
        let burst = (per_minute / 60).clamp(1, 10);
        let refill = per_minute.saturating_sub(burst).max(1);
        Self { burst, refill_per_sec: f64::from(refill) / 60.0 }
    }
}

/// A rate kept in this process only (governor): right for one process, or for a budget nobody
/// else spends.
#[derive(Debug)]
pub struct LocalRate {
    name: String,
    limiter: DefaultDirectRateLimiter,
}

impl LocalRate {
    /// `per_minute` requests a minute, shaped by [`RateShape::per_minute`].
    pub fn per_minute(name: impl Into<String>, per_minute: u32) -> Self {
        let shape = RateShape::per_minute(per_minute);
        let period = Duration::from_secs_f64(1.0 / shape.refill_per_sec);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(shape.burst).unwrap_or(NonZeroU32::MIN));
        Self { name: name.into(), limiter: RateLimiter::direct(quota) }
    }
}

impl Budget for LocalRate {
    fn name(&self) -> &str {
        &self.name
    }

    fn take(&self) -> BudgetFuture<'_, Result<(), BudgetError>> {
        Box::pin(async {
            self.limiter.until_ready().await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_minute_sees_more_than_the_rate() {
        for per_minute in [2, 59, 60, 180, 600, 6000] {
            let s = RateShape::per_minute(per_minute);
            let most = f64::from(s.burst) + s.refill_per_sec * 60.0;
            assert!(most <= f64::from(per_minute) + 1e-9, "{per_minute}: {most}");
            assert!(most >= f64::from(per_minute) * 0.98 || per_minute < 60, "{per_minute}: {most}");
        }
    }
}
