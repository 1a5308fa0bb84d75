//! `images` and `image_layers`: resolved platform images and their layer stacks.

use chrono::{DateTime, Utc};
use hubcensus_types::{Digest, MediaType, Platform};

use crate::{Store, StoreError};

/// A resolved platform image.
#[derive(Debug, Clone)]
pub struct ImageRecord {
    /// Digest of the platform manifest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its platform.
    pub platform: Platform,
    /// Digest of its config blob (none for schema 1).
    pub config_digest: Option<Digest>,
    /// `created` from the config.
    pub created: Option<DateTime<Utc>>,
    /// When Hub says it was pushed (the tag's `last_pushed`).
    pub pushed_at: Option<DateTime<Utc>>,
    /// Manifest GETs spent resolving it (the pull-quota cost).
    pub pull_cost: i32,
}

/// One layer of an image, bottom first.
#[derive(Debug, Clone)]
pub struct ImageLayer {
    /// The layer blob's digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Compressed size from the manifest.
    pub size: Option<i64>,
    /// The matching `rootfs.diff_ids` entry (sha256 of the uncompressed tar).
    pub diff_id: Option<Digest>,
}

impl Store {
    /// Inserts an image, or merges into the stored one (earliest push date wins, pull costs
    /// add up). Returns its id.
    pub async fn upsert_image(&self, image: &ImageRecord) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar(
            "INSERT INTO images (digest, media_type, os, architecture, variant, config_digest, created,
                                 pushed_at, pull_cost)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (digest) DO UPDATE SET
                 pushed_at = least(images.pushed_at, EXCLUDED.pushed_at),
                 pull_cost = images.pull_cost + EXCLUDED.pull_cost
             RETURNING id",
        )
        .bind(image.digest.as_str())
        .bind(&image.media_type)
        .bind(&image.platform.os)
        .bind(&image.platform.architecture)
        .bind(image.platform.variant.as_deref().unwrap_or(""))
        .bind(image.config_digest.as_ref().map(Digest::as_str))
        .bind(image.created)
        .bind(image.pushed_at)
        .bind(image.pull_cost)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Records an image's layer stack, creating `layers` rows (state `pending`) for digests
    /// not seen before. Returns the layer ids, bottom first. Idempotent: the stack of an
    /// image is fixed by its digest, so writing it again changes nothing.
    pub async fn set_image_layers(
        &self,
        image_id: i64,
        layers: &[ImageLayer],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(layers.len());
        let mut total: i64 = 0;
        for (position, layer) in layers.iter().enumerate() {
            let layer_id =
                crate::layers::ensure_layer(&mut *tx, &layer.digest, &layer.media_type, layer.size).await?;
            sqlx::query(
                "INSERT INTO image_layers (image_id, position, layer_id, diff_id) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (image_id, position) DO NOTHING",
            )
            .bind(image_id)
            .bind(i32::try_from(position).unwrap_or(i32::MAX))
            .bind(layer_id)
            .bind(layer.diff_id.as_ref().map(Digest::as_str))
            .execute(&mut *tx)
            .await?;
            total = total.saturating_add(layer.size.unwrap_or(0));
            ids.push(layer_id);
        }
        sqlx::query("UPDATE images SET layer_count = $2, compressed_size = $3 WHERE id = $1")
            .bind(image_id)
            .bind(i32::try_from(layers.len()).unwrap_or(i32::MAX))
            .bind(total)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Records that an image's config was scanned with `rules_version`.
    pub async fn mark_config_scanned(&self, image_id: i64, rules_version: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE images SET config_scanned = true, rules_version = $2 WHERE id = $1")
            .bind(image_id)
            .bind(rules_version)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records why an image could not be resolved or scanned fully.
    pub async fn set_image_error(&self, image_id: i64, error: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE images SET error = $2 WHERE id = $1")
            .bind(image_id)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Looks an image up by manifest digest: a digest already known costs no pull.
    pub async fn image_id(&self, digest: &Digest) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM images WHERE digest = $1")
            .bind(digest.as_str())
            .fetch_optional(&self.pool)
            .await?)
    }
}

/// A resolved image as the resolve stage needs to see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KnownImage {
    /// Row id.
    pub id: i64,
    /// The platform manifest digest.
    pub digest: String,
    /// The config's digest: a blob's, or for schema 1 the digest of the `v1Compatibility`
    /// JSON the manifest carries (no blob of that digest exists).
    pub config_digest: Option<String>,
    /// A schema 1 image: its config is inside the manifest.
    pub schema1: bool,
    /// Whether the config was scanned.
    pub config_scanned: bool,
    /// The rules version that scanned it.
    pub rules_version: Option<String>,
}

impl Store {
    /// The images already resolved whose manifest digest is one of `digests`, or that a tag
    /// pointing at one of `digests` (an index) was resolved to: what lets the resolve stage
    /// skip a manifest GET.
    pub async fn known_images(&self, digests: &[Digest]) -> Result<Vec<(String, KnownImage)>, StoreError> {
        let keys: Vec<&str> = digests.iter().map(Digest::as_str).collect();
        Ok(sqlx::query_as::<_, (String, i64, String, Option<String>, bool, Option<String>, bool)>(
            "SELECT i.digest, i.id, i.digest, i.config_digest, i.config_scanned, i.rules_version,
                    i.media_type = ANY($2)
             FROM images i WHERE i.digest = ANY($1)
             UNION
             SELECT DISTINCT t.digest, i.id, i.digest, i.config_digest, i.config_scanned, i.rules_version,
                    i.media_type = ANY($2)
             FROM tags t JOIN images i ON i.id = t.image_id WHERE t.digest = ANY($1)",
        )
        .bind(&keys)
        .bind([MediaType::SCHEMA1, MediaType::SCHEMA1_SIGNED])
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(key, id, digest, config_digest, config_scanned, rules_version, schema1)| {
            (key, KnownImage { id, digest, config_digest, config_scanned, rules_version, schema1 })
        })
        .collect())
    }
}
