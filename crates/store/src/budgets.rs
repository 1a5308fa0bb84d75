//! `budgets`, `budget_spends`, `budget_spenders`: the Hub API rate, the registry's manifest
//! rate and the pull quota, kept here so that every worker of a census, on every machine and
//! across restarts, spends one budget instead of one each.
//!
//! Time is the database's (`clock_timestamp()`), never a worker's: workers on machines whose
//! clocks disagree still refill and count the same. A rate is taken with one atomic `UPDATE …
//! RETURNING` that schedules the request (the taker sleeps the returned wait, it never polls);
//! a pull is taken under the budget row's lock after counting the window, because a pull quota
//! is a sliding window, not a refilling bucket (a bucket of `limit` refilled at `limit/window`
//! would let nearly twice the quota through in one window).

use std::{sync::LazyLock, time::Duration};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Store, StoreError, millis};

/// A rate budget's shape: at most `capacity` at once, refilled at `refill_per_sec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSpec {
    /// The bucket's capacity (the burst).
    pub capacity: f64,
    /// Tokens added per second.
    pub refill_per_sec: f64,
}

/// A pull quota's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSpec {
    /// Pulls per window until the registry says otherwise (`ratelimit-limit` wins).
    pub limit: u64,
    /// The window until the registry says otherwise (`w=` wins).
    pub window: Duration,
    /// Pulls left unspent.
    pub reserve: u64,
    /// How long a pull may be on its way between the take and the registry counting it: the
    /// window is counted this much longer, and pulls taken this long before the registry's
    /// last word are counted against it again, so a pull still in flight is never missed.
    pub in_flight: Duration,
}

/// What taking a pull gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullTake {
    /// One pull is yours.
    Taken,
    /// None left; expected back at `until` (when the budget knows).
    Spent {
        /// When a pull is expected back.
        until: Option<DateTime<Utc>>,
    },
}

/// A budget's state now, for `status`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct BudgetState {
    /// `hub_api https://hub.docker.com`, `pull_quota https://registry-1.docker.io`...
    pub name: String,
    /// `rate` or `quota`.
    pub kind: String,
    /// Rate: requests per minute (capacity plus a minute's refill); quota: pulls per window.
    pub per_window: f64,
    /// The window, in seconds (60 for a rate).
    pub window_secs: f64,
    /// Rate: tokens available now (negative: requests scheduled ahead); quota: pulls that may
    /// be taken now (after the reserve and the registry's last word); `None`: unlimited.
    pub available: Option<f64>,
    /// Quota: pulls taken in the current window.
    pub taken_in_window: Option<i64>,
    /// Quota: what the registry last said was left, and when.
    pub observed_remaining: Option<i64>,
    /// When the registry last said it.
    pub observed_at: Option<DateTime<Utc>>,
    /// Quota: pulls left unspent.
    pub reserve: f64,
    /// Quota: the registry's last manifest answer carried no quota.
    pub unlimited: bool,
}

/// One worker's spending of one budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Spender {
    /// The budget.
    pub budget: String,
    /// The worker.
    pub worker: String,
    /// Requests (or pulls) it took.
    pub spent: i64,
    /// When it last took.
    pub last_seen: DateTime<Utc>,
}

/// The rate take (see [`Store::take_rate`]), composed once: it runs before every request.
static TAKE_RATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH t AS (
             UPDATE budgets b
             SET tokens = LEAST(b.capacity, b.tokens
                             + GREATEST(0, extract(epoch FROM c.now - b.updated_at)) * b.refill_per_sec) - 1,
                 updated_at = GREATEST(b.updated_at, c.now)
             FROM (SELECT clock_timestamp() AS now) c
             WHERE b.name = $1 AND b.kind = 'rate'
             RETURNING b.tokens, b.refill_per_sec
         ), w AS ({})
         SELECT tokens, refill_per_sec FROM t",
        spent_by("t")
    )
});

/// The pull take (see [`Store::take_pull`]), composed once: it runs before every manifest GET.
static TAKE_PULL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH a AS (SELECT * FROM budget_levels WHERE name = $1),
         pull AS (
             INSERT INTO budget_spends (budget, taken_at, worker)
             SELECT name, clock_timestamp(), $2 FROM a WHERE unlimited OR available >= 1
             RETURNING 1
         ), w AS ({})
         SELECT EXISTS (SELECT 1 FROM pull), back_at FROM a",
        spent_by("pull")
    )
});

/// Records a take by `$2` of budget `$1` for each row of the CTE `from` (the take's own
/// statement, so the count and the take are one atomic write).
fn spent_by(from: &str) -> String {
    format!(
        "INSERT INTO budget_spenders (budget, worker, spent, last_seen)
         SELECT $1, $2, 1, clock_timestamp() FROM {from}
         ON CONFLICT (budget, worker) DO UPDATE
         SET spent = budget_spenders.spent + 1, last_seen = EXCLUDED.last_seen"
    )
}

/// The registry's new word `new`: the lower of it and the last one when that is under half a
/// second old (words race: an older, higher count written after a newer answer must not undo
/// it), else `new` itself.
fn fresh_min(new: &str) -> String {
    format!(
        "CASE WHEN observed_at > clock_timestamp() - interval '500 milliseconds'
              THEN LEAST(observed_remaining, {new}::bigint) ELSE {new}::bigint END"
    )
}

impl Store {
    /// Creates the rate budget `name` or updates its shape (the level is kept: a restarted
    /// worker finds what the others left).
    pub async fn ensure_rate_budget(&self, name: &str, spec: RateSpec) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO budgets (name, kind, capacity, refill_per_sec, window_secs, tokens)
             VALUES ($1, 'rate', $2, $3, 60, $2)
             ON CONFLICT (name) DO UPDATE SET capacity = EXCLUDED.capacity,
                 refill_per_sec = EXCLUDED.refill_per_sec, kind = 'rate'",
        )
        .bind(name)
        .bind(spec.capacity)
        .bind(spec.refill_per_sec)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes one request from the rate budget `name` for `worker`: the time to wait before
    /// sending it (zero when the bucket had a token). One atomic statement; concurrent takers
    /// are serialised by the row lock and each gets its own slot.
    pub async fn take_rate(&self, name: &str, worker: &str) -> Result<Duration, StoreError> {
        let (tokens, refill): (f64, f64) = sqlx::query_as(&TAKE_RATE)
            .bind(name)
            .bind(worker)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::UnknownBudget(name.to_owned()))?;
        if tokens >= 0.0 || refill <= 0.0 {
            return Ok(Duration::ZERO);
        }
        Ok(Duration::try_from_secs_f64(-tokens / refill).unwrap_or(Duration::MAX))
    }

    /// Creates the pull quota `name` or updates its configured shape; a limit and window the
    /// registry reported ([`Store::observe_quota`]) are kept over the configured ones.
    pub async fn ensure_quota_budget(&self, name: &str, spec: QuotaSpec) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO budgets (name, kind, capacity, refill_per_sec, window_secs, reserve, in_flight_secs, tokens)
             VALUES ($1, 'quota', $2, 0, $3, $4, $5, $2)
             ON CONFLICT (name) DO UPDATE SET reserve = EXCLUDED.reserve, in_flight_secs = EXCLUDED.in_flight_secs,
                 capacity = CASE WHEN budgets.observed_at IS NULL THEN EXCLUDED.capacity ELSE budgets.capacity END,
                 window_secs = CASE WHEN budgets.observed_at IS NULL THEN EXCLUDED.window_secs
                                    ELSE budgets.window_secs END",
        )
        .bind(name)
        .bind(spec.limit as f64)
        .bind(spec.window.as_secs_f64().max(1.0))
        .bind(spec.reserve as f64)
        .bind(spec.in_flight.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes one pull from the quota `name` for `worker`, or says when one is expected back
    /// (what may be taken is the `budget_levels` view's `available`: the registry's last word
    /// less the pulls taken since, or the configured limit less the window's pulls).
    ///
    /// The budget row is locked first, so the count that follows (a new statement, a new
    /// snapshot) sees every pull committed before it: two workers never take the last one.
    pub async fn take_pull(&self, name: &str, worker: &str) -> Result<PullTake, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT 1 FROM budgets WHERE name = $1 AND kind = 'quota' FOR UPDATE")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::UnknownBudget(name.to_owned()))?;
        let (taken, until): (bool, Option<DateTime<Utc>>) =
            sqlx::query_as(&TAKE_PULL).bind(name).bind(worker).fetch_one(&mut *tx).await?;
        // Pulls that left every window long ago count for nothing: forget them.
        sqlx::query(
            "DELETE FROM budget_spends s USING budgets b
             WHERE s.budget = $1 AND b.name = s.budget
               AND s.taken_at < clock_timestamp() - make_interval(secs => 2 * b.window_secs + b.in_flight_secs)",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(if taken { PullTake::Taken } else { PullTake::Spent { until } })
    }

    /// Reconciles the quota `name` with what the registry said: `remaining` now (and its limit
    /// and window, when it said them), so the budget never allows more than the registry has
    /// left, whatever other clients of the account spent.
    pub async fn observe_quota(
        &self,
        name: &str,
        remaining: u64,
        limit: Option<u64>,
        window: Option<Duration>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            &"UPDATE budgets SET observed_remaining = {FRESH_MIN}, observed_at = clock_timestamp(), unlimited = false,
                 capacity = COALESCE($3, capacity), window_secs = COALESCE($4, window_secs)
             WHERE name = $1 AND kind = 'quota'"
                .replace("{FRESH_MIN}", &fresh_min("$2")),
        )
        .bind(name)
        .bind(i64::try_from(remaining).unwrap_or(i64::MAX))
        .bind(limit.map(|l| l as f64))
        .bind(window.map(|w| w.as_secs_f64().max(1.0)))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the answer to a pull `worker` took: the oldest of its pulls in flight is marked
    /// answered, and the registry's `remaining` (counting that pull) becomes the budget's last
    /// word at the same instant, so the pull is not counted against it twice. `None`: the
    /// answer carried no quota.
    pub async fn answer_pull(
        &self,
        name: &str,
        worker: &str,
        remaining: Option<u64>,
        limit: Option<u64>,
        window: Option<Duration>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            &"WITH answered AS (
                 UPDATE budget_spends SET answered_at = clock_timestamp()
                 WHERE ctid = (SELECT ctid FROM budget_spends
                               WHERE budget = $1 AND worker = $2 AND answered_at IS NULL
                               ORDER BY taken_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING answered_at
             )
             UPDATE budgets SET
                 observed_remaining = CASE WHEN $3 IS NULL THEN observed_remaining
                                           ELSE {FRESH_MIN} END,
                 observed_at = CASE WHEN $3 IS NULL THEN observed_at
                                    ELSE COALESCE((SELECT answered_at FROM answered), clock_timestamp()) END,
                 unlimited = $3 IS NULL,
                 capacity = COALESCE($4, capacity), window_secs = COALESCE($5, window_secs)
             WHERE name = $1 AND kind = 'quota'"
                .replace("{FRESH_MIN}", &fresh_min("$3")),
        )
        .bind(name)
        .bind(worker)
        .bind(remaining.map(|r| i64::try_from(r).unwrap_or(i64::MAX)))
        .bind(limit.map(|l| l as f64))
        .bind(window.map(|w| w.as_secs_f64().max(1.0)))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that the registry answered a manifest request without any quota (a paid plan,
    /// a registry without one): pulls are not limited until it reports one again.
    pub async fn observe_no_quota(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE budgets SET unlimited = true WHERE name = $1 AND kind = 'quota' AND NOT unlimited",
        )
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every budget's state now.
    pub async fn budgets(&self) -> Result<Vec<BudgetState>, StoreError> {
        Ok(sqlx::query_as::<_, BudgetState>(
            "SELECT name, kind, per_window, window_secs, available, taken_in_window, observed_remaining,
                    observed_at, reserve, unlimited
             FROM budget_levels ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Who spent each budget, most recent first; workers not seen within `max_age` are left out.
    pub async fn budget_spenders(&self, max_age: Duration) -> Result<Vec<Spender>, StoreError> {
        Ok(sqlx::query_as::<_, Spender>(
            "SELECT budget, worker, spent, last_seen FROM budget_spenders
             WHERE last_seen > clock_timestamp() - make_interval(secs => $1::double precision / 1000)
             ORDER BY budget, last_seen DESC",
        )
        .bind(millis(max_age))
        .fetch_all(&self.pool)
        .await?)
    }
}
