//! What the census pipeline asks of the database beyond the table modules: giving one job back
//! without spending an attempt, whether the queues have drained, re-arming a new run, the
//! lookups that decide whether an image costs a pull or a layer needs a scan, pull-quota
//! snapshots, and per-stage rates for `status`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hubcensus_types::{Digest, Stage};
use serde::Serialize;
use serde_json::Value;

use crate::{Store, StoreError};

/// Converts a duration to whole milliseconds for a Postgres interval.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn stage_ids(stages: &[Stage]) -> Vec<&'static str> {
    stages.iter().map(|s| s.as_str()).collect()
}

/// A resolved image as the resolve stage needs to see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KnownImage {
    /// Row id.
    pub id: i64,
    /// The platform manifest digest.
    pub digest: String,
    /// The config blob digest (none for schema 1).
    pub config_digest: Option<String>,
    /// Whether the config was scanned.
    pub config_scanned: bool,
    /// The rules version that scanned it.
    pub rules_version: Option<String>,
}

/// A layer row as the scan stage needs to see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LayerState {
    /// Row id.
    pub id: i64,
    /// Media type from the manifest.
    pub media_type: String,
    /// Compressed size from the manifest.
    pub compressed_size: Option<i64>,
    /// `pending`, `scanned`, `failed` or `skipped`.
    pub scan_state: String,
    /// The rules version of its last scan.
    pub rules_version: Option<String>,
    /// How many scans were recorded for it.
    pub scan_count: i32,
}

/// A census run.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RunRow {
    /// Row id.
    pub id: i64,
    /// The run's label.
    pub label: String,
    /// The configuration that drew its sample.
    pub parameters: Value,
    /// The rules version it started with.
    pub rules_version: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When its queues drained, if they did.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Jobs put back in their queues for a new run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rearmed {
    /// Discovery tasks to run again (the frame is re-crawled).
    pub discover: u64,
    /// Tag listings to run again.
    pub tags: u64,
    /// Tag resolutions to run again (a known digest costs a HEAD, no pull).
    pub resolve: u64,
    /// Layers whose last scan used another rules version.
    pub scan_layer: u64,
}

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

/// Jobs of one stage finished within a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StageRate {
    /// Stage id.
    pub stage: String,
    /// Jobs done within the window.
    pub done: i64,
}

impl Store {
    /// Gives one held job back without counting the attempt, to be offered again after
    /// `not_before` (a stage that must pause, such as resolve with an exhausted pull quota).
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`] when `owner` no longer holds it.
    pub async fn release_job(
        &self,
        job_id: i64,
        owner: &str,
        not_before: Duration,
    ) -> Result<(), StoreError> {
        let released = sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = greatest(attempts - 1, 0), lease_owner = NULL,
                 lease_expires_at = NULL, not_before = now() + make_interval(secs => $3::double precision / 1000),
                 updated_at = now()
             WHERE id = $1 AND lease_owner = $2 AND state = 'leased'",
        )
        .bind(job_id)
        .bind(owner)
        .bind(millis(not_before))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if released == 1 { Ok(()) } else { Err(StoreError::LeaseLost { job_id, owner: owner.to_owned() }) }
    }

    /// Jobs of `stages` not finished yet (pending, including those waiting for a retry, or
    /// leased by any worker): zero means the census has drained these stages.
    pub async fn unfinished_jobs(&self, stages: &[Stage]) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE stage = ANY($1) AND state IN ('pending', 'leased')",
        )
        .bind(stage_ids(stages))
        .fetch_one(&self.pool)
        .await?)
    }

    /// The most recent run, finished or not.
    pub async fn latest_run(&self) -> Result<Option<RunRow>, StoreError> {
        Ok(sqlx::query_as::<_, RunRow>(
            "SELECT id, label, parameters, rules_version, started_at, finished_at FROM census_runs
             ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Re-arms the queues for a new run: finished discovery, tag and resolve jobs go back to
    /// `pending` under `run_id` (the frame is crawled again; known digests cost no pull), and a
    /// finished layer scan only when that layer was last scanned with another rules version
    /// than `rules_version` — a later census with new rules re-scans what the rules could
    /// change and nothing else. Parked jobs stay parked (`retry_parked` is a human's call).
    pub async fn rearm(&self, run_id: i64, rules_version: &str) -> Result<Rearmed, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut counts = Rearmed::default();
        for (stage, slot) in [
            (Stage::Discover, &mut counts.discover),
            (Stage::Tags, &mut counts.tags),
            (Stage::Resolve, &mut counts.resolve),
        ] {
            *slot = sqlx::query(
                "UPDATE jobs SET state = 'pending', attempts = 0, not_before = now(), finished_at = NULL,
                     last_error = NULL, run_id = $2, updated_at = now()
                 WHERE stage = $1 AND state = 'done'",
            )
            .bind(stage.as_str())
            .bind(run_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        counts.scan_layer = sqlx::query(
            "UPDATE jobs j SET state = 'pending', attempts = 0, not_before = now(), finished_at = NULL,
                 last_error = NULL, run_id = $1, updated_at = now()
             FROM layers l
             WHERE j.stage = 'scan_layer' AND j.state = 'done' AND l.digest = j.key
               AND l.scan_state IN ('scanned', 'failed')
               AND l.rules_version IS DISTINCT FROM $2",
        )
        .bind(run_id)
        .bind(rules_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(counts)
    }

    /// The images already resolved whose manifest digest is one of `digests`, or that a tag
    /// pointing at one of `digests` (an index) was resolved to: what lets the resolve stage
    /// skip a manifest GET.
    pub async fn known_images(&self, digests: &[Digest]) -> Result<Vec<(String, KnownImage)>, StoreError> {
        let keys: Vec<&str> = digests.iter().map(Digest::as_str).collect();
        Ok(sqlx::query_as::<_, (String, i64, String, Option<String>, bool, Option<String>)>(
            "SELECT i.digest, i.id, i.digest, i.config_digest, i.config_scanned, i.rules_version
             FROM images i WHERE i.digest = ANY($1)
             UNION
             SELECT DISTINCT t.digest, i.id, i.digest, i.config_digest, i.config_scanned, i.rules_version
             FROM tags t JOIN images i ON i.id = t.image_id WHERE t.digest = ANY($1)",
        )
        .bind(&keys)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(key, id, digest, config_digest, config_scanned, rules_version)| {
            (key, KnownImage { id, digest, config_digest, config_scanned, rules_version })
        })
        .collect())
    }

    /// A layer by digest.
    pub async fn layer_state(&self, digest: &Digest) -> Result<Option<LayerState>, StoreError> {
        Ok(sqlx::query_as::<_, LayerState>(
            "SELECT id, media_type, compressed_size, scan_state::text AS scan_state, rules_version, scan_count
             FROM layers WHERE digest = $1",
        )
        .bind(digest.as_str())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Sets why a repository is left out of the sample unless one is already recorded: a
    /// later stage (no tags; only artifacts; the registry refuses it) never overwrites the
    /// reason discovery gave.
    pub async fn exclude_if_kept(
        &self,
        repository_id: i64,
        reason: hubcensus_types::ExclusionReason,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE repositories SET excluded_reason = $2::exclusion_reason, updated_at = now()
             WHERE id = $1 AND excluded_reason IS NULL",
        )
        .bind(repository_id)
        .bind(reason.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Whether a repository is excluded from the sample.
    pub async fn is_excluded(&self, repository_id: i64) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar("SELECT excluded_reason IS NOT NULL FROM repositories WHERE id = $1")
            .bind(repository_id)
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or(false))
    }

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

    /// Jobs finished per stage within the last `window`.
    pub async fn stage_rates(&self, window: Duration) -> Result<Vec<StageRate>, StoreError> {
        Ok(sqlx::query_as::<_, StageRate>(
            "SELECT stage, count(*) AS done FROM jobs
             WHERE state = 'done' AND finished_at > now() - make_interval(secs => $1::double precision / 1000)
             GROUP BY stage ORDER BY stage",
        )
        .bind(millis(window))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Job counts per stage and state: the progress display's view of every queue (one
    /// aggregate over `jobs`, cheaper than the full `status`).
    pub async fn queue_counts(&self) -> Result<Vec<crate::status::StageCounts>, StoreError> {
        Ok(sqlx::query_as::<_, crate::status::StageCounts>(
            "SELECT stage,
                    count(*) FILTER (WHERE state = 'pending') AS pending,
                    count(*) FILTER (WHERE state = 'leased') AS leased,
                    count(*) FILTER (WHERE state = 'done') AS done,
                    count(*) FILTER (WHERE state = 'parked') AS parked
             FROM jobs GROUP BY stage ORDER BY stage",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records why a tag could not be resolved to an image (cleared by a later success).
    pub async fn set_tag_error(&self, tag_id: i64, error: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE tags SET resolve_error = $2 WHERE id = $1")
            .bind(tag_id)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
