//! Read-only summaries: what `hubcensus status` prints and what the report is built from.

use std::time::Duration;

use serde::Serialize;

use crate::{Store, StoreError, coverage::Coverage, frame::FrameCounts, millis};

/// Job counts of one stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StageCounts {
    /// Stage id.
    pub stage: String,
    /// Waiting to be leased.
    pub pending: i64,
    /// Held by a worker.
    pub leased: i64,
    /// Finished.
    pub done: i64,
    /// Out of attempts, waiting for a human.
    pub parked: i64,
}

/// A parked job and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ParkedJob {
    /// Stage id.
    pub stage: String,
    /// Job key.
    pub key: String,
    /// Attempts used.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
}

/// Totals over images, layers and findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Totals {
    /// Census runs recorded.
    pub runs: i64,
    /// Images resolved.
    pub images: i64,
    /// Images fully analysed (config and every layer done).
    pub images_analysed: i64,
    /// Unique layers known.
    pub layers: i64,
    /// Layers scanned to the end.
    pub layers_scanned: i64,
    /// Layers whose scan ended in an error.
    pub layers_failed: i64,
    /// Layers skipped on purpose.
    pub layers_skipped: i64,
    /// Uncompressed bytes scanned.
    pub bytes_scanned: i64,
    /// Findings stored.
    pub findings: i64,
    /// Indicators stored.
    pub indicators: i64,
    /// Feeds imported.
    pub feeds: i64,
}

/// Everything `hubcensus status` shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    /// Per-stage queue counts.
    pub stages: Vec<StageCounts>,
    /// The most recent parked jobs.
    pub parked: Vec<ParkedJob>,
    /// The sampling frame so far (the report's own counts).
    pub frame: FrameCounts,
    /// The latest run's coverage of Docker Hub (the report's own figures; `null` before any run).
    pub coverage: Option<Coverage>,
    /// Totals.
    pub totals: Totals,
}

/// The census-wide figures a metrics scrape shows ([`Store::census_gauges`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CensusGauges {
    /// Uncompressed bytes scanned, all workers.
    pub bytes_scanned: i64,
    /// Findings stored, per category id.
    pub findings_by_category: Vec<(String, i64)>,
}

/// One row of the Sysdig-style table (the `category_counts` view).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CategoryCount {
    /// Category id.
    pub category: String,
    /// Images counted in it.
    pub images: i64,
    /// Repositories those images belong to.
    pub repositories: i64,
    /// Share of analysed images, in percent.
    pub percent: Option<f64>,
    /// Images whose only evidence an upper layer deletes.
    pub images_deleted_only: i64,
    /// Sysdig's 2022 figure.
    pub sysdig_2022: Option<i32>,
}

impl Store {
    /// Collects the status summary. `parked_limit` caps the parked jobs listed.
    pub async fn status(&self, parked_limit: i64) -> Result<Status, StoreError> {
        let stages = self.queue_counts().await?;
        let parked = sqlx::query_as::<_, ParkedJob>(
            "SELECT stage, key, attempts, last_error FROM jobs WHERE state = 'parked'
             ORDER BY updated_at DESC, id DESC LIMIT $1",
        )
        .bind(parked_limit)
        .fetch_all(&self.pool)
        .await?;
        let frame = self.frame().await?;
        let coverage = self.coverage(None).await?;
        let totals = sqlx::query_as::<_, Totals>(
            "SELECT (SELECT count(*) FROM census_runs) AS runs,
                    (SELECT count(*) FROM images) AS images,
                    (SELECT count(*) FROM analysed_images) AS images_analysed,
                    count(*) AS layers,
                    count(*) FILTER (WHERE scan_state = 'scanned') AS layers_scanned,
                    count(*) FILTER (WHERE scan_state = 'failed') AS layers_failed,
                    count(*) FILTER (WHERE scan_state = 'skipped') AS layers_skipped,
                    coalesce(sum(bytes_scanned), 0)::bigint AS bytes_scanned,
                    (SELECT count(*) FROM findings) AS findings,
                    (SELECT count(*) FROM indicators) AS indicators,
                    (SELECT count(*) FROM feeds) AS feeds
             FROM layers",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Status { stages, parked, frame, coverage, totals })
    }

    /// What a metrics scrape shows of the whole census: uncompressed bytes scanned, and
    /// findings per category.
    pub async fn census_gauges(&self) -> Result<CensusGauges, StoreError> {
        let bytes_scanned: i64 =
            sqlx::query_scalar("SELECT coalesce(sum(bytes_scanned), 0)::bigint FROM layers")
                .fetch_one(&self.pool)
                .await?;
        let findings_by_category = sqlx::query_as::<_, (String, i64)>(
            "SELECT category::text, count(*) FROM findings GROUP BY category ORDER BY category",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(CensusGauges { bytes_scanned, findings_by_category })
    }

    /// The Sysdig-style table, one row per category in priority order.
    pub async fn category_counts(&self) -> Result<Vec<CategoryCount>, StoreError> {
        Ok(sqlx::query_as::<_, CategoryCount>(
            "SELECT category::text, images, repositories, percent::float8 AS percent, images_deleted_only, sysdig_2022
             FROM category_counts",
        )
        .fetch_all(&self.pool)
        .await?)
    }
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
}

/// What a census so far says a repository costs: the inputs `hubcensus plan` measures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct MeasuredCosts {
    /// Images resolved.
    pub images: i64,
    /// Manifest GETs spent resolving them (`images.pull_cost` summed).
    pub pulls: i64,
    /// Repositories whose tags were listed (`tags` jobs done): what one drawn repository
    /// costs is measured per listed repository, image-less ones included.
    pub repositories_listed: i64,
    /// Kept repositories whose Hub status no listing gave (each costs a detail request
    /// before its tags).
    pub kept_without_status: i64,
    /// Kept repositories.
    pub kept: i64,
}

impl Store {
    /// Pulls per image, images per listed repository and the share of repositories needing a detail
    /// request, as measured by what the database holds.
    pub async fn measured_costs(&self) -> Result<MeasuredCosts, StoreError> {
        Ok(sqlx::query_as::<_, MeasuredCosts>(
            "SELECT (SELECT count(*) FROM images) AS images,
                    (SELECT coalesce(sum(pull_cost), 0)::bigint FROM images) AS pulls,
                    (SELECT count(*) FROM jobs WHERE stage = 'tags' AND state = 'done') AS repositories_listed,
                    count(*) FILTER (WHERE excluded_reason IS NULL AND status IS NULL) AS kept_without_status,
                    count(*) FILTER (WHERE excluded_reason IS NULL) AS kept
             FROM repositories",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}
