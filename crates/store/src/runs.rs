//! `census_runs`: one row per census, holding the parameters that drew its sample.

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

    /// The most recent run that has not finished, if any: what `hubcensus worker` joins.
    pub async fn open_run(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT max(id) FROM census_runs WHERE finished_at IS NULL")
            .fetch_one(&self.pool)
            .await?)
    }
}
