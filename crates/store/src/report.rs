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
use hubcensus_estimate::{Design, Tally, Z95, frame_estimate};
use hubcensus_types::{Category, ExclusionReason};
use serde::Serialize;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::{
    Store, StoreError,
    coverage::{Coverage, coverage_of},
    frame::{Exclusion, FrameCounts, frame_counts},
    samples::{SampleRow, Yield, sample_of, sample_yield},
};

/// Images Sysdig's 2022 study analysed ("over 250,000" community Linux images): the
/// denominator that turns its category figures into prevalences beside a sample's estimates.
pub const SYSDIG_2022_IMAGES: i64 = 250_000;

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

/// The whole report: `{"run_id", "design", "sample_size", "frame_size", "frame": …, "coverage": …,
/// "categories": […], "totals": …, "sample": …}` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The run the report is scoped to (`null`: the whole database).
    pub run_id: Option<i64>,
    /// How the analysed repositories were chosen: the latest run's design (`census` when it
    /// drew no sample).
    pub design: Design,
    /// Repositories drawn (a census: the kept repositories, all of them).
    pub sample_size: i64,
    /// Repositories in the frame the sample was drawn from (a census: the kept repositories).
    pub frame_size: i64,
    /// The sampling frame: what discovery saw, what it left out and why, what was analysed.
    pub frame: FrameCounts,
    /// How much of Docker Hub the latest run's discovery saw: collected ÷ reported per source
    /// and capture–recapture estimates of the frame's size (`null` before any run).
    pub coverage: Option<Coverage>,
    /// One row per category, in the fixed priority order ([`Category::ALL`]).
    pub categories: Vec<CategoryRow>,
    /// Images, layers, bytes, findings and the baselines the table is compared with.
    pub totals: ReportTotals,
    /// The draw and what became of the repositories drawn (`null` for a census).
    pub sample: Option<SampleSummary>,
}

/// A sample's draw and its non-response: every repository drawn is analysed, left out of the
/// frame after the draw (with the reason), or not analysed (failed, or still pending).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSummary {
    /// The draw key's seed.
    pub seed: u64,
    /// `proportional` or `neyman` (stratified samples).
    pub allocation: String,
    /// Draws stored (1, plus one per extension).
    pub draws: i32,
    /// When the latest draw was stored (`null` while discovery runs).
    pub drawn_at: Option<DateTime<Utc>>,
    /// Repositories drawn.
    pub drawn: u64,
    /// Drawn repositories with an analysed image: the units the estimates rest on.
    pub analysed: u64,
    /// Drawn repositories found out of the frame after the draw, by reason.
    pub excluded: Vec<Exclusion>,
    /// Drawn repositories still in the frame without an analysed image (failed or pending):
    /// the non-response.
    pub not_analysed: u64,
    /// Per pull-count band (one band for a simple random sample).
    pub strata: Vec<SampleStratum>,
}

/// One band of a sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SampleStratum {
    /// Band index.
    pub stratum: u32,
    /// Fewest pulls in the band.
    pub min_pulls: u64,
    /// Most pulls in the band (`null`: no upper bound).
    pub max_pulls: Option<u64>,
    /// Frame repositories in the band at the draw (`N_h`).
    pub population: u64,
    /// Repositories drawn from it (`n_h`).
    pub drawn: u64,
    /// Of them, analysed (`r_h`).
    pub analysed: u64,
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
    /// Analysed units of the sample in the category: the `x` the estimate rests on (a census:
    /// `images`; a sample: repositories drawn and analysed with counted evidence).
    pub sample_count: u64,
    /// The share of the frame's analysed units in the category (a census: `images` over the
    /// analysed images; a sample: the design's estimate over analysed repositories).
    pub estimate: f64,
    /// Lower end of its 95% interval (equal to `estimate` for a census).
    pub ci_low: f64,
    /// Upper end of its 95% interval.
    pub ci_high: f64,
    /// The estimate as a count of the frame's analysed units (a census: `images`).
    pub estimate_images: f64,
    /// Lower end of the count's 95% interval.
    pub ci_low_images: f64,
    /// Upper end of the count's 95% interval.
    pub ci_high_images: f64,
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
    /// The report of the whole database, with newly registered domains judged within
    /// `nrd_window_days` before each image's push; the frame's coverage and the sample are the
    /// latest run's. All queries run in one read-only repeatable-read transaction, so the
    /// numbers agree with each other even while workers keep writing. An empty census gives a
    /// report of zeros.
    pub async fn report(&self, nrd_window_days: u32) -> Result<Report, StoreError> {
        self.report_scoped(nrd_window_days, None).await
    }

    /// The report of run `run_id`: the category table and the analysed images are those the
    /// run resolved (`run_images`), the coverage and the sample the run's own; the frame's
    /// counts and the layer totals stay the database's (layers are shared by every run).
    /// `None` when no such run exists.
    pub async fn run_report(&self, nrd_window_days: u32, run_id: i64) -> Result<Option<Report>, StoreError> {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM census_runs WHERE id = $1)")
            .bind(run_id)
            .fetch_one(&self.pool)
            .await?;
        if !exists {
            return Ok(None);
        }
        self.report_scoped(nrd_window_days, Some(run_id)).await.map(Some)
    }

    /// The run `hubcensus report` shows by default: the latest, when it recorded the images it
    /// resolved (a census older than `run_images` did not, and is reported whole).
    pub async fn default_report_run(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT r.id FROM census_runs r
             WHERE r.id = (SELECT max(id) FROM census_runs)
               AND EXISTS (SELECT 1 FROM run_images ri WHERE ri.run_id = r.id)",
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn report_scoped(&self, nrd_window_days: u32, run_id: Option<i64>) -> Result<Report, StoreError> {
        let mut tx = self.snapshot(nrd_window_days).await?;
        if let Some(run) = run_id {
            sqlx::query("SELECT set_config('hubcensus.run_id', $1, true)")
                .bind(run.to_string())
                .execute(&mut *tx)
                .await?;
        }
        let frame = frame_counts(&mut tx).await?;
        let coverage = coverage_of(&mut tx, run_id).await?;
        let mut categories = categories(&mut tx).await?;
        let totals = totals(&mut tx).await?;
        let latest: Option<i64> = match run_id {
            Some(run) => Some(run),
            None => sqlx::query_scalar("SELECT max(id) FROM census_runs").fetch_one(&mut *tx).await?,
        };
        let sample = match latest {
            Some(run) => sample_of(&mut tx, run).await?,
            None => None,
        };
        let report = match sample {
            None => {
                // A census: every estimate is the count itself.
                let analysed = u64::try_from(totals.images_analysed).unwrap_or(0);
                for c in &mut categories {
                    let all = Tally {
                        population: analysed,
                        drawn: analysed,
                        analysed,
                        positives: u64::try_from(c.images).unwrap_or(0),
                    };
                    set_estimate(c, Design::Census, &[all]);
                }
                Report {
                    run_id,
                    design: Design::Census,
                    sample_size: frame.repositories_kept,
                    frame_size: frame.repositories_kept,
                    frame,
                    coverage,
                    categories,
                    totals,
                    sample: None,
                }
            }
            Some(row) => {
                let yielded = sample_yield(&mut tx, row.run_id).await?;
                let summary = summarise(&row, &yielded)?;
                for c in &mut categories {
                    let tallies: Vec<Tally> = summary
                        .strata
                        .iter()
                        .map(|s| Tally {
                            population: s.population,
                            drawn: s.drawn,
                            analysed: s.analysed,
                            positives: yielded
                                .positives
                                .iter()
                                .find(|(h, cat, _)| *h == s.stratum && cat == c.category.as_str())
                                .map_or(0, |p| p.2),
                        })
                        .collect();
                    set_estimate(c, row.design(), &tallies);
                }
                Report {
                    run_id,
                    design: row.design(),
                    sample_size: i64::try_from(summary.drawn).unwrap_or(i64::MAX),
                    frame_size: row.frame_size.unwrap_or(0),
                    frame,
                    coverage,
                    categories,
                    totals,
                    sample: Some(summary),
                }
            }
        };
        tx.commit().await?;
        Ok(report)
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

/// Fills a category row's estimate and interval from what each stratum yielded.
fn set_estimate(c: &mut CategoryRow, design: Design, tallies: &[Tally]) {
    let e = frame_estimate(design, tallies, Z95);
    let counts = e.counts();
    c.sample_count = tallies.iter().map(|t| t.positives).sum();
    (c.estimate, c.ci_low, c.ci_high) = (e.proportion.estimate, e.proportion.low, e.proportion.high);
    (c.estimate_images, c.ci_low_images, c.ci_high_images) = (counts.estimate, counts.low, counts.high);
}

/// The draw's parameters and what became of the repositories drawn, per band.
fn summarise(row: &SampleRow, yielded: &Yield) -> Result<SampleSummary, StoreError> {
    let bands = row.bands();
    let strata: Vec<SampleStratum> = row
        .strata
        .0
        .iter()
        .map(|s| {
            let h = s.stratum as usize;
            let (drawn, analysed) =
                yielded.strata.iter().find(|(band, ..)| *band == s.stratum).map_or((0, 0), |t| (t.1, t.2));
            SampleStratum {
                stratum: s.stratum,
                min_pulls: if h == 0 { 0 } else { bands.get(h - 1).copied().unwrap_or(0) },
                max_pulls: bands.get(h).map(|b| b.saturating_sub(1)),
                population: s.population,
                drawn,
                analysed,
            }
        })
        .collect();
    let excluded = yielded
        .excluded
        .iter()
        .map(|(reason, n)| {
            Ok(Exclusion {
                reason: reason.parse::<ExclusionReason>()?,
                repositories: i64::try_from(*n).unwrap_or(i64::MAX),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let drawn: u64 = yielded.strata.iter().map(|s| s.1).sum();
    let analysed: u64 = yielded.strata.iter().map(|s| s.2).sum();
    let out: u64 = yielded.excluded.iter().map(|e| e.1).sum();
    Ok(SampleSummary {
        seed: row.seed(),
        allocation: row.allocation.clone(),
        draws: row.draws,
        drawn_at: row.drawn_at,
        drawn,
        analysed,
        excluded,
        not_analysed: drawn.saturating_sub(analysed + out),
        strata,
    })
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
                // Filled by the design's estimator once the totals are read.
                sample_count: 0,
                estimate: 0.0,
                ci_low: 0.0,
                ci_high: 0.0,
                estimate_images: 0.0,
                ci_low_images: 0.0,
                ci_high_images: 0.0,
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
