//! The sampling frame's counts: what discovery saw, what it left out and why, what it kept and
//! how much of that was analysed.
//!
//! `hubcensus status` shows them while a census runs and `hubcensus report` prints them above
//! the table: both read them here, with one function, so the two can never disagree about the
//! denominator Sysdig's percentages rested on without describing it.

use hubcensus_types::ExclusionReason;
use serde::Serialize;
use sqlx::PgConnection;

use crate::{Store, StoreError};

/// The frame's counts. In JSON: `{"repositories_seen", "repositories_excluded", "excluded":
/// [{"reason", "repositories"}], "repositories_kept", "repositories_analysed"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FrameCounts {
    /// Repositories discovery saw, kept or excluded.
    pub repositories_seen: i64,
    /// Repositories left out of the sample, all reasons together.
    pub repositories_excluded: i64,
    /// Every exclusion reason in the schema's order, zeros included (a stable shape).
    pub excluded: Vec<Exclusion>,
    /// Repositories kept in the sample.
    pub repositories_kept: i64,
    /// Kept repositories with at least one fully analysed image.
    pub repositories_analysed: i64,
}

/// Repositories left out for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    /// The reason (`official`, `verified_publisher`, ... `inactive` ...).
    pub reason: ExclusionReason,
    /// How many repositories.
    pub repositories: i64,
}

impl Store {
    /// The frame's counts now.
    pub async fn frame(&self) -> Result<FrameCounts, StoreError> {
        let mut conn = self.pool.acquire().await?;
        frame_counts(&mut conn).await
    }
}

/// The frame's counts, read on `conn` (the report passes its snapshot transaction).
pub(crate) async fn frame_counts(conn: &mut PgConnection) -> Result<FrameCounts, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT r.reason::text, count(repo.id)
         FROM unnest(enum_range(NULL::exclusion_reason)) WITH ORDINALITY AS r(reason, ord)
         LEFT JOIN repositories repo ON repo.excluded_reason = r.reason
         GROUP BY r.reason, r.ord ORDER BY r.ord",
    )
    .fetch_all(&mut *conn)
    .await?;
    let excluded = rows
        .into_iter()
        .map(|(reason, repositories)| Ok(Exclusion { reason: reason.parse()?, repositories }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let (seen, kept, analysed): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE excluded_reason IS NULL),
                (SELECT count(DISTINCT t.repository_id)
                 FROM tags t
                 JOIN analysed_images a ON a.id = t.image_id
                 JOIN repositories r ON r.id = t.repository_id
                 WHERE r.excluded_reason IS NULL)
         FROM repositories",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(FrameCounts {
        repositories_seen: seen,
        repositories_excluded: excluded.iter().map(|e| e.repositories).sum(),
        excluded,
        repositories_kept: kept,
        repositories_analysed: analysed,
    })
}
