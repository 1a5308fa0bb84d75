//! The census report: Sysdig's 2022 table reproduced from the views, with the sampling frame
//! and the totals a reader needs to judge it, read in one consistent snapshot.
//!
//! Every number comes from the views in `migrations/` (`category_counts`,
//! `image_primary_category`, `image_findings`, `image_feed_matches`, `analysed_images`), never
//! from a second implementation, so the report and a researcher's own SQL cannot disagree.
//! Feed matching happens inside those views, which is why importing a feed changes the next
//! report without re-scanning anything. The newly-registered-domain window is the session
//! setting `hubcensus.nrd_window_days` that `image_feed_matches` reads; [`Store::report`] sets
//! it for its own transaction only.

use chrono::{DateTime, NaiveDate, Utc};
use hubcensus_types::Category;
use serde::Serialize;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::{
    Store, StoreError,
    frame::{FrameCounts, frame_counts},
};

/// Malicious images in Sysdig's November 2022 blog headline ("Analysis on Docker Hub malicious
/// images", as relayed by BleepingComputer, cloud7.news and candid.technology).
pub const SYSDIG_2022_BLOG_TOTAL: i64 = 1_652;

/// Malicious images in Sysdig's 2022 Cloud-Native Threat Report (September 2022); also the sum
/// of the per-category figures (608 + 281 + 266 + 134 + 129 + 38 + 33 + 288), which is why the
/// report sets its category table beside this total rather than the blog's.
pub const SYSDIG_2022_TABLE_TOTAL: i64 = 1_777;

/// The newly-registered-domain window the views use when nothing sets one (their own
/// `coalesce(..., 30)`), in days before an image's push date.
pub const DEFAULT_NRD_WINDOW_DAYS: u32 = 30;

/// The whole report: `{"frame": …, "categories": […], "totals": …}` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The sampling frame: what discovery saw, what it left out and why, what was analysed.
    pub frame: FrameCounts,
    /// One row per category, in the fixed priority order ([`Category::ALL`]).
    pub categories: Vec<CategoryRow>,
    /// Images, layers, bytes, findings and the baselines the table is compared with.
    pub totals: ReportTotals,
}

/// One row of the Sysdig-style table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryRow {
    /// The canonical category id.
    pub category: Category,
    /// The label Sysdig's table used.
    pub label: &'static str,
    /// Images counted in the category (non-exclusive: an image is in every category it has
    /// counted evidence for).
    pub images: i64,
    /// Repositories whose tags point at those images.
    pub repositories: i64,
    /// `images` as a share of the analysed images, in percent (0 when none were analysed).
    pub percent: f64,
    /// Exclusive count: flagged images whose first category in the priority order is this one.
    /// These add up to [`ReportTotals::images_flagged`].
    pub images_exclusive: i64,
    /// Images whose only medium/high evidence of this category an upper layer deletes: counted
    /// apart, never in `images`.
    pub images_deleted_only: i64,
    /// Sysdig's 2022 figure for the category (`None` where it gave none: typosquatting).
    pub sysdig_2022: Option<i64>,
}

/// Totals over the census, and the parameters and baselines the table depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ReportTotals {
    /// Images resolved.
    pub images: i64,
    /// Images fully analysed (config scanned, no layer pending): the denominator of `percent`.
    pub images_analysed: i64,
    /// Images with counted evidence in at least one category.
    pub images_flagged: i64,
    /// Images not flagged whose only medium/high evidence an upper layer deletes.
    pub images_deleted_only: i64,
    /// Unique layers known.
    pub layers: i64,
    /// Layers scanned to the end.
    pub layers_scanned: i64,
    /// Layers whose scan ended in a recorded error (what was found before it counts).
    pub layers_failed: i64,
    /// Layers skipped on purpose (foreign, not a layer).
    pub layers_skipped: i64,
    /// Layers not scanned yet.
    pub layers_pending: i64,
    /// Uncompressed tar bytes scanned.
    pub bytes_scanned: i64,
    /// Compressed bytes of the unique layers (what a census downloads once each).
    pub bytes_compressed: i64,
    /// Findings stored (each decided once per layer, config or repository).
    pub findings: i64,
    /// (image, finding) pairs where an upper layer of that image deletes the finding's path.
    pub findings_deleted: i64,
    /// Images with at least one such deleted finding.
    pub images_with_deleted_findings: i64,
    /// Indicators stored.
    pub indicators: i64,
    /// Feeds imported.
    pub feeds: i64,
    /// Feed entries stored.
    pub feed_entries: i64,
    /// The newly-registered-domain window this report used, in days before the push.
    pub nrd_window_days: i32,
    /// Sysdig's blog headline total ([`SYSDIG_2022_BLOG_TOTAL`]).
    pub sysdig_2022_blog_total: i64,
    /// Sysdig's Threat Report total, the sum of its table ([`SYSDIG_2022_TABLE_TOTAL`]).
    pub sysdig_2022_table_total: i64,
}

/// One imported feed and what it flags today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct FeedSummary {
    /// The feed's id.
    pub id: i64,
    /// Its format (`urlhaus`, `nrd`, `domains`, `hosts`, `category_csv`).
    pub kind: String,
    /// Its name.
    pub name: String,
    /// The category its entries imply, when uniform.
    pub category: Option<String>,
    /// The feed's own date.
    pub published_on: Option<NaiveDate>,
    /// When it was imported.
    pub imported_at: DateTime<Utc>,
    /// Entries stored.
    pub entries: i64,
    /// Images whose indicators it lists (newly registered domains within the window only).
    pub images_matched: i64,
}

#[derive(sqlx::FromRow)]
struct CategoryDbRow {
    category: String,
    images: i64,
    repositories: i64,
    percent: f64,
    images_exclusive: i64,
    images_deleted_only: i64,
    sysdig_2022: Option<i64>,
}

impl Store {
    /// The report, with newly registered domains judged within `nrd_window_days` before each
    /// image's push. All queries run in one read-only repeatable-read transaction, so the
    /// numbers agree with each other even while workers keep writing. An empty census gives a
    /// report of zeros.
    pub async fn report(&self, nrd_window_days: u32) -> Result<Report, StoreError> {
        let mut tx = self.snapshot(nrd_window_days).await?;
        let frame = frame_counts(&mut tx).await?;
        let categories = categories(&mut tx).await?;
        let totals = totals(&mut tx).await?;
        tx.commit().await?;
        Ok(Report { frame, categories, totals })
    }

    /// Every imported feed, oldest first, with the images it flags under `nrd_window_days`.
    pub async fn feed_summaries(&self, nrd_window_days: u32) -> Result<Vec<FeedSummary>, StoreError> {
        let mut tx = self.snapshot(nrd_window_days).await?;
        let feeds = sqlx::query_as::<_, FeedSummary>(
            "SELECT f.id, f.kind, f.name, f.category::text AS category, f.published_on, f.imported_at,
                    f.entry_count::bigint AS entries, coalesce(m.images, 0) AS images_matched
             FROM feeds f
             LEFT JOIN (SELECT feed_id, count(DISTINCT image_id) AS images
                        FROM image_feed_matches GROUP BY feed_id) m ON m.feed_id = f.id
             ORDER BY f.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(feeds)
    }

    /// A read-only snapshot with the NRD window set for this transaction only (`set_config`
    /// with `is_local`), so a pooled connection never carries it into someone else's query.
    pub(crate) async fn snapshot(
        &self,
        nrd_window_days: u32,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        sqlx::query("SELECT set_config('hubcensus.nrd_window_days', $1, true)")
            .bind(nrd_window_days.to_string())
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

async fn categories(conn: &mut PgConnection) -> Result<Vec<CategoryRow>, StoreError> {
    let rows = sqlx::query_as::<_, CategoryDbRow>(
        "WITH exclusive AS (SELECT category, count(*) AS images FROM image_primary_category GROUP BY category)
         SELECT c.category::text AS category, c.images, c.repositories,
                coalesce(c.percent, 0)::float8 AS percent,
                coalesce(e.images, 0) AS images_exclusive, c.images_deleted_only,
                c.sysdig_2022::bigint AS sysdig_2022
         FROM category_counts c
         LEFT JOIN exclusive e ON e.category = c.category
         ORDER BY array_position(enum_range(NULL::category), c.category)",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let category: Category = r.category.parse()?;
            Ok(CategoryRow {
                category,
                label: category.sysdig_label(),
                images: r.images,
                repositories: r.repositories,
                percent: r.percent,
                images_exclusive: r.images_exclusive,
                images_deleted_only: r.images_deleted_only,
                sysdig_2022: r.sysdig_2022,
            })
        })
        .collect()
}

async fn totals(conn: &mut PgConnection) -> Result<ReportTotals, StoreError> {
    Ok(sqlx::query_as::<_, ReportTotals>(
        "WITH deleted AS (
             SELECT count(*) AS pairs, count(DISTINCT image_id) AS images
             FROM image_findings WHERE deleted_in_upper_layer)
         SELECT (SELECT count(*) FROM images) AS images,
                (SELECT count(*) FROM analysed_images) AS images_analysed,
                (SELECT count(*) FROM image_primary_category) AS images_flagged,
                (SELECT count(DISTINCT fi.image_id) FROM image_findings fi
                 WHERE fi.deleted_in_upper_layer AND fi.confidence >= 'medium'
                   AND NOT EXISTS (SELECT 1 FROM image_primary_category p WHERE p.image_id = fi.image_id))
                    AS images_deleted_only,
                count(l.id) AS layers,
                count(l.id) FILTER (WHERE l.scan_state = 'scanned') AS layers_scanned,
                count(l.id) FILTER (WHERE l.scan_state = 'failed') AS layers_failed,
                count(l.id) FILTER (WHERE l.scan_state = 'skipped') AS layers_skipped,
                count(l.id) FILTER (WHERE l.scan_state = 'pending') AS layers_pending,
                coalesce(sum(l.bytes_scanned), 0)::bigint AS bytes_scanned,
                coalesce(sum(l.compressed_size), 0)::bigint AS bytes_compressed,
                (SELECT count(*) FROM findings) AS findings,
                (SELECT pairs FROM deleted) AS findings_deleted,
                (SELECT images FROM deleted) AS images_with_deleted_findings,
                (SELECT count(*) FROM indicators) AS indicators,
                (SELECT count(*) FROM feeds) AS feeds,
                (SELECT count(*) FROM feed_entries) AS feed_entries,
                current_setting('hubcensus.nrd_window_days')::int AS nrd_window_days,
                $1::bigint AS sysdig_2022_blog_total,
                $2::bigint AS sysdig_2022_table_total
         FROM layers l",
    )
    .bind(SYSDIG_2022_BLOG_TOTAL)
    .bind(SYSDIG_2022_TABLE_TOTAL)
    .fetch_one(&mut *conn)
    .await?)
}
