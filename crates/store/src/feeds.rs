//! `feeds` and `feed_entries`: imported threat-intelligence lists with their dates.

use chrono::NaiveDate;
use hubcensus_types::Category;

use crate::{Store, StoreError};

/// A feed file's identity and defaults.
#[derive(Debug, Clone)]
pub struct FeedRecord {
    /// Its format (`urlhaus`, `nrd`, `domains`, `hosts`, `category_csv`).
    pub kind: String,
    /// A human name (usually the file name).
    pub name: String,
    /// sha256 of the file's bytes: the same file imported twice is one feed.
    pub sha256: String,
    /// The category its entries imply, when uniform.
    pub category: Option<Category>,
    /// The feed's own publication date, when it has one.
    pub published_on: Option<NaiveDate>,
}

pub use hubcensus_types::FeedEntry;

/// Result of importing a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedImport {
    /// The feed's id.
    pub feed_id: i64,
    /// Whether these bytes had been imported before (then nothing was written).
    pub already_imported: bool,
    /// Entries stored for the feed.
    pub entries: u64,
}

impl Store {
    /// Imports a feed and its entries in one transaction. Importing the same bytes again
    /// changes nothing.
    pub async fn import_feed(
        &self,
        feed: &FeedRecord,
        entries: &[FeedEntry],
    ) -> Result<FeedImport, StoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO feeds (kind, name, sha256, category, published_on) VALUES ($1, $2, $3, $4::category, $5)
             ON CONFLICT (sha256) DO NOTHING RETURNING id",
        )
        .bind(&feed.kind)
        .bind(&feed.name)
        .bind(&feed.sha256)
        .bind(feed.category.map(Category::as_str))
        .bind(feed.published_on)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(feed_id) = inserted else {
            let (feed_id, count): (i64, i32) =
                sqlx::query_as("SELECT id, entry_count FROM feeds WHERE sha256 = $1")
                    .bind(&feed.sha256)
                    .fetch_one(&mut *tx)
                    .await?;
            tx.commit().await?;
            return Ok(FeedImport {
                feed_id,
                already_imported: true,
                entries: u64::try_from(count).unwrap_or(0),
            });
        };
        let mut stored = 0;
        for chunk in entries.chunks(10_000) {
            let kinds: Vec<&str> = chunk.iter().map(|e| e.kind.as_str()).collect();
            let values: Vec<&str> = chunk.iter().map(|e| e.value.as_str()).collect();
            let categories: Vec<&str> = chunk.iter().map(|e| e.category.as_str()).collect();
            let dates: Vec<Option<NaiveDate>> = chunk.iter().map(|e| e.listed_on).collect();
            stored += sqlx::query(
                "INSERT INTO feed_entries (feed_id, kind, value, category, listed_on)
                 SELECT $1, k::indicator_kind, v, c::category, d
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::date[]) AS t(k, v, c, d)
                 ON CONFLICT DO NOTHING",
            )
            .bind(feed_id)
            .bind(&kinds)
            .bind(&values)
            .bind(&categories)
            .bind(&dates)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        sqlx::query("UPDATE feeds SET entry_count = $2 WHERE id = $1")
            .bind(feed_id)
            .bind(i32::try_from(stored).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(FeedImport { feed_id, already_imported: false, entries: stored })
    }
}
