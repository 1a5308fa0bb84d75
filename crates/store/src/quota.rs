//! `worker_quota`: the registry pull quota each worker last saw, so `status` (and any worker)
//! can tell how much of the account's budget the census has left.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Store, StoreError, millis};

/// The pull quota one worker last saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct QuotaSnapshot {
    /// Worker identity.
    pub worker: String,
    /// Registry host.
    pub registry: String,
    /// Pulls allowed per window, when the registry says.
    pub quota_limit: Option<i64>,
    /// Pulls left in the window, when the registry says.
    pub remaining: Option<i64>,
    /// The window, in seconds.
    pub window_secs: Option<i64>,
    /// When the window resets, if known.
    pub reset_at: Option<DateTime<Utc>>,
    /// Manifest GETs this worker spent.
    pub pulls_spent: i64,
    /// When the snapshot was taken.
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// Stores the pull quota `worker` last saw at `registry`.
    pub async fn record_quota(&self, snapshot: &QuotaSnapshot) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO worker_quota (worker, registry, quota_limit, remaining, window_secs, reset_at,
                                       pulls_spent, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, now())
             ON CONFLICT (worker, registry) DO UPDATE SET
                 quota_limit = EXCLUDED.quota_limit, remaining = EXCLUDED.remaining,
                 window_secs = EXCLUDED.window_secs, reset_at = EXCLUDED.reset_at,
                 pulls_spent = EXCLUDED.pulls_spent, updated_at = now()",
        )
        .bind(&snapshot.worker)
        .bind(&snapshot.registry)
        .bind(snapshot.quota_limit)
        .bind(snapshot.remaining)
        .bind(snapshot.window_secs)
        .bind(snapshot.reset_at)
        .bind(snapshot.pulls_spent)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Pull-quota snapshots taken within `max_age`, newest first.
    pub async fn quota_snapshots(&self, max_age: Duration) -> Result<Vec<QuotaSnapshot>, StoreError> {
        Ok(sqlx::query_as::<_, QuotaSnapshot>(
            "SELECT worker, registry, quota_limit, remaining, window_secs, reset_at, pulls_spent, updated_at
             FROM worker_quota
             WHERE updated_at > now() - make_interval(secs => $1::double precision / 1000)
             ORDER BY updated_at DESC",
        )
        .bind(millis(max_age))
        .fetch_all(&self.pool)
        .await?)
    }
}
