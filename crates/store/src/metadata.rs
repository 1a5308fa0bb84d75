//! What the census judges from repository metadata rather than content: the names the
//! typosquat judgement protects and scores, and its verdicts.
//!
//! Description findings and indicators are written like any other subject's
//! ([`Store::record_findings`] with [`Target::Repository`]); the typosquat verdicts are
//! different in one way: a name is judged against targets (pull counts, the most-pulled
//! publishers) that change between runs, so each batch *replaces* the repositories' earlier
//! verdicts instead of adding to them. Everything else about them is an ordinary `metadata`
//! finding, which the views count for every image of the repository.

use hubcensus_types::{Category, Finding};

use crate::{
    Store, StoreError,
    findings::{Target, insert_findings},
};

/// A repository as the typosquat judgement sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NamedRepository {
    /// Its row.
    pub id: i64,
    /// Namespace (`library` for official images).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Pull count, when Hub said.
    pub pull_count: Option<i64>,
}

impl Store {
    /// The names worth imitating that the census has seen: every official image (the
    /// `library` namespace or the official badge) and the `publishers` most-pulled repositories
    /// of verified publishers and sponsored open-source projects, each with its pull count.
    pub async fn typosquat_targets(&self, publishers: i64) -> Result<Vec<NamedRepository>, StoreError> {
        Ok(sqlx::query_as::<_, NamedRepository>(
            "SELECT id, namespace, name, pull_count FROM repositories WHERE is_official
             UNION ALL
             (SELECT id, namespace, name, pull_count FROM repositories
              WHERE NOT is_official AND (is_verified_publisher OR is_sponsored_oss)
              ORDER BY pull_count DESC NULLS LAST, id LIMIT $1)
             ORDER BY id",
        )
        .bind(publishers)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Up to `limit` repositories after row `after` (by id) whose names are judged: every
    /// repository not excluded for a trust badge (official, verified publisher, sponsored
    /// open source) — those are what others imitate.
    pub async fn typosquat_candidates(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<NamedRepository>, StoreError> {
        Ok(sqlx::query_as::<_, NamedRepository>(
            "SELECT id, namespace, name, pull_count FROM repositories
             WHERE id > $1 AND NOT is_official AND NOT is_verified_publisher AND NOT is_sponsored_oss
               AND (excluded_reason IS NULL
                    OR excluded_reason NOT IN ('official', 'verified_publisher', 'sponsored_oss'))
             ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Replaces the typosquatting verdicts of the repositories `judged` with `hits` (each a
    /// repository id and its finding), in one transaction: a repository judged clean loses an
    /// earlier verdict, one judged again keeps one row. Returns how many findings were written.
    pub async fn replace_typosquat_findings(
        &self,
        judged: &[i64],
        hits: &[(i64, Finding)],
        rules_version: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM findings WHERE repository_id = ANY($1) AND source = 'metadata' AND category = $2::category",
        )
        .bind(judged)
        .bind(Category::Typosquatting.as_str())
        .execute(&mut *tx)
        .await?;
        let mut written = 0;
        for (repository_id, finding) in hits {
            written += insert_findings(
                &mut tx,
                Target::Repository(*repository_id),
                std::slice::from_ref(finding),
                rules_version,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(written)
    }
}
