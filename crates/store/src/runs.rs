//! `census_runs`: one row per census, holding the parameters that drew its sample; and
//! `run_images`: the image each run found behind each tag, so any run can be reported and two
//! compared (`hubcensus report --run`, `--compare`).

use chrono::{DateTime, Utc};
use hubcensus_types::Stage;
use serde::Serialize;
use serde_json::Value;

use crate::{Store, StoreError};

/// What a census run records about itself when it starts.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// A free-form label (`"2026-11 community sample"`).
    pub label: String,
    /// Enumeration strategies in use (`search_v4`, `namespaces`, `names_file`, ...).
    pub strategy: Vec<String>,
    /// The effective configuration that shapes the sample.
    pub parameters: Value,
    /// Hub API base URL.
    pub hub_url: String,
    /// Registry base URL.
    pub registry_url: String,
    /// Platform analysed (`linux/amd64`).
    pub platform: String,
    /// Version of the rule set in use.
    pub rules_version: Option<String>,
    /// Version of the feeds in use.
    pub feeds_version: Option<String>,
}

impl Store {
    /// Records the start of a run and returns its id.
    pub async fn start_run(&self, run: &NewRun) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar(
            "INSERT INTO census_runs (label, strategy, parameters, hub_url, registry_url, platform,
                                      rules_version, feeds_version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&run.label)
        .bind(&run.strategy)
        .bind(&run.parameters)
        .bind(&run.hub_url)
        .bind(&run.registry_url)
        .bind(&run.platform)
        .bind(&run.rules_version)
        .bind(&run.feeds_version)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Marks a run finished. Finishing twice keeps the first time.
    pub async fn finish_run(&self, run_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE census_runs SET finished_at = coalesce(finished_at, now()) WHERE id = $1")
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Opens a finished run again (a sample extended after its queues drained); a run still
    /// open is left as it is.
    pub async fn reopen_run(&self, run_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE census_runs SET finished_at = NULL WHERE id = $1")
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records that run `run_id` found image `image_id` behind tag `tag_id` (a tag resolved
    /// again in the same run keeps its latest image).
    pub async fn record_run_image(&self, run_id: i64, tag_id: i64, image_id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO run_images (run_id, tag_id, image_id) VALUES ($1, $2, $3)
             ON CONFLICT (run_id, tag_id) DO UPDATE SET image_id = EXCLUDED.image_id, resolved_at = now()",
        )
        .bind(run_id)
        .bind(tag_id)
        .bind(image_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The most recent run that has not finished, if any: what `hubcensus worker` joins.
    pub async fn open_run(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT max(id) FROM census_runs WHERE finished_at IS NULL")
            .fetch_one(&self.pool)
            .await?)
    }
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

impl Store {
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
}
