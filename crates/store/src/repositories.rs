//! `repositories` and `repository_sightings`: the sampling frame.

use chrono::{DateTime, Utc};
use hubcensus_types::{Badge, ExclusionReason, RepoRef};

use crate::{Store, StoreError};

/// What discovery learned about a repository. Fields left `None` keep what is already stored,
/// so a second strategy that sees less (a namespace listing has no badge) never erases what a
/// first one saw.
#[derive(Debug, Clone, Default)]
pub struct RepositoryRecord {
    /// The v4 search badge.
    pub badge: Option<Badge>,
    /// Pull count (an integer from `/v2` endpoints; a rounded lower bound from v4 search).
    pub pull_count: Option<i64>,
    /// Star count.
    pub star_count: Option<i32>,
    /// Hub's `last_updated`.
    pub last_updated: Option<DateTime<Utc>>,
    /// Hub's `date_registered`.
    pub date_registered: Option<DateTime<Utc>>,
    /// Hub's `status_description` (`active`/`inactive`).
    pub status: Option<String>,
    /// `image`, `plugin`, or none.
    pub repository_type: Option<String>,
    /// Hub's `content_types` (`image`, `unrecognized`, ...).
    pub content_types: Option<Vec<String>>,
    /// Short description.
    pub description: Option<String>,
    /// Full description (markdown).
    pub full_description: Option<String>,
}

impl Store {
    /// Inserts or merges a repository and returns its id. Idempotent: the same record written
    /// twice is one row; later non-null values win over stored ones.
    pub async fn upsert_repository(
        &self,
        run_id: Option<i64>,
        reference: &RepoRef,
        repo: &RepositoryRecord,
    ) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar(
            "INSERT INTO repositories (namespace, name, badge, pull_count, star_count, last_updated,
                 date_registered, status, repository_type, content_types, description,
                 full_description, first_run_id)
             VALUES ($1, $2, $3::badge, $4, $5, $6, $7, $8, $9, coalesce($10, '{}'::text[]), $11, $12, $13)
             ON CONFLICT (namespace, name) DO UPDATE SET
                 badge            = coalesce(EXCLUDED.badge, repositories.badge),
                 pull_count       = coalesce(EXCLUDED.pull_count, repositories.pull_count),
                 star_count       = coalesce(EXCLUDED.star_count, repositories.star_count),
                 last_updated     = coalesce(EXCLUDED.last_updated, repositories.last_updated),
                 date_registered  = coalesce(EXCLUDED.date_registered, repositories.date_registered),
                 status           = coalesce(EXCLUDED.status, repositories.status),
                 repository_type  = coalesce(EXCLUDED.repository_type, repositories.repository_type),
                 content_types    = CASE WHEN $10::text[] IS NULL THEN repositories.content_types
                                         ELSE EXCLUDED.content_types END,
                 description      = coalesce(EXCLUDED.description, repositories.description),
                 full_description = coalesce(EXCLUDED.full_description, repositories.full_description),
                 updated_at       = now()
             RETURNING id",
        )
        .bind(reference.namespace())
        .bind(reference.name())
        .bind(repo.badge.map(Badge::as_str))
        .bind(repo.pull_count)
        .bind(repo.star_count)
        .bind(repo.last_updated)
        .bind(repo.date_registered)
        .bind(&repo.status)
        .bind(&repo.repository_type)
        .bind(&repo.content_types)
        .bind(&repo.description)
        .bind(&repo.full_description)
        .bind(run_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Records that `source` (a strategy and shard) saw the repository in this run.
    pub async fn record_sighting(
        &self,
        repository_id: i64,
        run_id: i64,
        source: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO repository_sightings (repository_id, run_id, source) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(repository_id)
        .bind(run_id)
        .bind(source)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets (or clears, with `None`) why a repository is left out of the sample.
    pub async fn set_exclusion(
        &self,
        repository_id: i64,
        reason: Option<ExclusionReason>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE repositories SET excluded_reason = $2::exclusion_reason, updated_at = now() WHERE id = $1",
        )
        .bind(repository_id)
        .bind(reason.map(ExclusionReason::as_str))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Looks a repository up by reference.
    pub async fn repository_id(&self, reference: &RepoRef) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM repositories WHERE namespace = $1 AND name = $2")
            .bind(reference.namespace())
            .bind(reference.name())
            .fetch_optional(&self.pool)
            .await?)
    }
}

impl Store {
    /// Sets why a repository is left out of the sample unless one is already recorded: a
    /// later stage (no tags; only artifacts; the registry refuses it) never overwrites the
    /// reason discovery gave.
    pub async fn exclude_if_kept(
        &self,
        repository_id: i64,
        reason: ExclusionReason,
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
        Ok(self.repository_state(repository_id).await?.excluded.is_some())
    }

    /// What the frame holds for a repository now (a repository not stored reads as kept with
    /// no status).
    pub async fn repository_state(&self, repository_id: i64) -> Result<RepositoryState, StoreError> {
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT excluded_reason::text, status FROM repositories WHERE id = $1")
                .bind(repository_id)
                .fetch_optional(&self.pool)
                .await?;
        let (excluded, status) = row.unwrap_or_default();
        Ok(RepositoryState { excluded: excluded.map(|r| r.parse()).transpose()?, status })
    }

    /// Kept repositories whose Hub status no endpoint has given yet, after `after_id`, at most
    /// `limit`, by id: the search hits no namespace listing or detail described.
    pub async fn kept_without_status(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<(i64, RepoRef)>, StoreError> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, namespace, name FROM repositories
             WHERE excluded_reason IS NULL AND status IS NULL AND id > $1
             ORDER BY id LIMIT $2",
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|(id, ns, name)| Ok((id, RepoRef::new(&ns, &name)?))).collect()
    }
}

/// A repository's place in the frame.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepositoryState {
    /// Why it is left out of the sample, if it is.
    pub excluded: Option<ExclusionReason>,
    /// Hub's `status_description` (`active`/`inactive`), once an endpoint that carries it (a
    /// namespace listing, the repository detail) said; search hits do not.
    pub status: Option<String>,
}
