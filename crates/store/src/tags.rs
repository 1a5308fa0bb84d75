//! `tags` and `tag_platforms`: what each kept repository's tags point at.

use chrono::{DateTime, Utc};
use hubcensus_types::{Digest, Platform};

use crate::{Store, StoreError};

/// A tag as Hub's tags endpoint describes it.
#[derive(Debug, Clone, Default)]
pub struct TagRecord {
    /// Tag name.
    pub name: String,
    /// Digest of what the tag points at (an index or a manifest), when Hub gives it.
    pub digest: Option<Digest>,
    /// Media type of that manifest or index.
    pub media_type: Option<String>,
    /// `tag_last_pushed`.
    pub last_pushed: Option<DateTime<Utc>>,
    /// `last_updated`.
    pub last_updated: Option<DateTime<Utc>>,
    /// `tag_status` (`active`/`inactive`).
    pub tag_status: Option<String>,
    /// `full_size` (sum of compressed layers).
    pub full_size: Option<i64>,
    /// Per-platform manifest digests (Hub's `images[]`).
    pub platforms: Vec<TagPlatform>,
}

/// One entry of a tag's `images[]`.
#[derive(Debug, Clone)]
pub struct TagPlatform {
    /// The platform (attestations are `unknown/unknown`).
    pub platform: Platform,
    /// The platform manifest's digest.
    pub digest: Digest,
    /// Compressed size.
    pub size: Option<i64>,
    /// When this platform image was last pushed.
    pub last_pushed: Option<DateTime<Utc>>,
}

impl Store {
    /// Inserts or updates a tag and its platforms; returns the tag id. Idempotent.
    pub async fn upsert_tag(&self, repository_id: i64, tag: &TagRecord) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let tag_id: i64 = sqlx::query_scalar(
            "INSERT INTO tags (repository_id, name, digest, media_type, last_pushed, last_updated,
                               tag_status, full_size)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (repository_id, name) DO UPDATE SET
                 digest = EXCLUDED.digest, media_type = EXCLUDED.media_type,
                 last_pushed = EXCLUDED.last_pushed, last_updated = EXCLUDED.last_updated,
                 tag_status = EXCLUDED.tag_status, full_size = EXCLUDED.full_size
             RETURNING id",
        )
        .bind(repository_id)
        .bind(&tag.name)
        .bind(tag.digest.as_ref().map(Digest::as_str))
        .bind(&tag.media_type)
        .bind(tag.last_pushed)
        .bind(tag.last_updated)
        .bind(&tag.tag_status)
        .bind(tag.full_size)
        .fetch_one(&mut *tx)
        .await?;
        for p in &tag.platforms {
            sqlx::query(
                "INSERT INTO tag_platforms (tag_id, os, architecture, variant, digest, size, last_pushed)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (tag_id, digest) DO UPDATE SET size = EXCLUDED.size, last_pushed = EXCLUDED.last_pushed",
            )
            .bind(tag_id)
            .bind(&p.platform.os)
            .bind(&p.platform.architecture)
            .bind(p.platform.variant.as_deref().unwrap_or(""))
            .bind(p.digest.as_str())
            .bind(p.size)
            .bind(p.last_pushed)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(tag_id)
    }

    /// Marks which tags of a repository the tag policy selected (all others unselected).
    pub async fn select_tags(&self, repository_id: i64, names: &[String]) -> Result<(), StoreError> {
        sqlx::query("UPDATE tags SET selected = (name = ANY($2)) WHERE repository_id = $1")
            .bind(repository_id)
            .bind(names)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Links a tag to the image resolved for the census platform.
    pub async fn set_tag_image(&self, tag_id: i64, image_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE tags SET image_id = $2 WHERE id = $1")
            .bind(tag_id)
            .bind(image_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Store {
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
