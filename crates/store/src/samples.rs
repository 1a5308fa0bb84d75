//! `samples` and `sample_repositories`: a run's probability sample — the draw's parameters and
//! the repositories drawn, each with its stratum and inclusion probability.
//!
//! The draw itself (which repositories) is `hubcensus-estimate`'s; this module stores what it
//! chose, reads the frame it chooses from, and says whether a repository is in a run's sample
//! (what the stages ask before spending Hub API requests or pulls on it).

use chrono::{DateTime, Utc};
use hubcensus_estimate::Design;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, types::Json};

use crate::{Store, StoreError};

/// The parameters of a run's sample, as `census --sample` gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSample {
    /// `Srs` or `Stratified` (a census has no sample).
    pub design: Design,
    /// Repositories to draw (`n`).
    pub size: u32,
    /// The draw key's seed.
    pub seed: u64,
    /// Lower pull-count bounds of the bands after the first (stratified only).
    pub bands: Vec<u64>,
    /// `proportional` or `neyman`.
    pub allocation: String,
    /// Neyman's input: a pilot's prevalence per band.
    pub pilot_prevalence: Option<Vec<f64>>,
}

/// One band of a stratified sample (the whole frame for a simple random sample) at the latest
/// draw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StratumSize {
    /// Band index (0: the fewest pulls).
    pub stratum: u32,
    /// Frame units in the band (`N_h`).
    pub population: u64,
    /// Units drawn from it (`n_h`).
    pub sampled: u64,
}

/// A run's sample as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SampleRow {
    /// The run.
    pub run_id: i64,
    /// `srs` or `stratified`.
    pub design: String,
    /// `n` asked for.
    pub size: i32,
    /// The seed's bits.
    pub seed: i64,
    /// Lower bounds of the bands after the first.
    pub bands: Vec<i64>,
    /// `proportional` or `neyman`.
    pub allocation: String,
    /// Neyman's pilot prevalences.
    pub pilot_prevalence: Option<Vec<f64>>,
    /// Bands at the latest draw.
    pub strata: Json<Vec<StratumSize>>,
    /// The frame's size at the latest draw.
    pub frame_size: Option<i64>,
    /// Draws done (1 + extensions).
    pub draws: i32,
    /// When the latest draw was stored.
    pub drawn_at: Option<DateTime<Utc>>,
}

impl SampleRow {
    /// The design (`Srs` unless stratified).
    pub fn design(&self) -> Design {
        if self.design == "stratified" { Design::Stratified } else { Design::Srs }
    }

    /// The seed as given.
    pub fn seed(&self) -> u64 {
        self.seed as u64
    }

    /// The band bounds as given.
    pub fn bands(&self) -> Vec<u64> {
        self.bands.iter().map(|b| u64::try_from(*b).unwrap_or(0)).collect()
    }
}

/// A frame unit offered to the draw.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FrameUnit {
    /// Repository id.
    pub id: i64,
    /// `namespace/name`: what the draw key hashes.
    pub name: String,
    /// Hub's pull count (0 when unknown).
    pub pull_count: i64,
}

/// A repository the draw chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drawn {
    /// Repository id.
    pub repository_id: i64,
    /// Its band.
    pub stratum: u32,
}

impl Store {
    /// Records a run's sample parameters (a second call for the same run changes nothing).
    pub async fn create_sample(&self, run_id: i64, sample: &NewSample) -> Result<(), StoreError> {
        let bands: Vec<i64> = sample.bands.iter().map(|b| i64::try_from(*b).unwrap_or(i64::MAX)).collect();
        sqlx::query(
            "INSERT INTO samples (run_id, design, size, seed, bands, allocation, pilot_prevalence)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id) DO NOTHING",
        )
        .bind(run_id)
        .bind(sample.design.as_str())
        .bind(i32::try_from(sample.size).unwrap_or(i32::MAX))
        .bind(sample.seed as i64)
        .bind(&bands)
        .bind(&sample.allocation)
        .bind(&sample.pilot_prevalence)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A run's sample, or `None` when the run analyses the whole frame.
    pub async fn sample(&self, run_id: i64) -> Result<Option<SampleRow>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        sample_of(&mut conn, run_id).await
    }

    /// Raises a run's sample size to `size` (a smaller one changes nothing); returns whether
    /// it grew.
    pub async fn extend_sample(&self, run_id: i64, size: u32) -> Result<bool, StoreError> {
        let grown = sqlx::query("UPDATE samples SET size = $2 WHERE run_id = $1 AND size < $2")
            .bind(run_id)
            .bind(i32::try_from(size).unwrap_or(i32::MAX))
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(grown > 0)
    }

    /// Whether `repository_id` is in run `run_id`'s sample: `None` when the run has no sample
    /// (every kept repository is analysed).
    pub async fn sample_member(&self, run_id: i64, repository_id: i64) -> Result<Option<bool>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sample_repositories WHERE run_id = s.run_id AND repository_id = $2)
             FROM samples s WHERE s.run_id = $1",
        )
        .bind(run_id)
        .bind(repository_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The frame a draw chooses from, after `after_id`, at most `limit`, by id: the kept
    /// repositories and those already drawn (a repository left out after it was drawn —
    /// image-less, inactive — stays a unit of the frame it was drawn from, so an extension
    /// redraws from the same frame).
    pub async fn draw_frame(
        &self,
        run_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<FrameUnit>, StoreError> {
        self.page(
            "SELECT r.id, r.namespace || '/' || r.name AS name, coalesce(r.pull_count, 0) AS pull_count
             FROM repositories r
             WHERE r.id > $2
               AND (r.excluded_reason IS NULL
                    OR EXISTS (SELECT 1 FROM sample_repositories sr WHERE sr.run_id = $1 AND sr.repository_id = r.id))
             ORDER BY r.id LIMIT $3",
            run_id,
            after_id,
            limit,
        )
        .await
    }

    /// Stores a draw in one transaction: the repositories drawn (those already in the sample
    /// keep their draw number), every member's inclusion probability `n_h / N_h` from
    /// `strata`, and the draw's bands and frame size. Returns how many repositories the sample
    /// gained.
    pub async fn record_draw(
        &self,
        run_id: i64,
        drawn: &[Drawn],
        strata: &[StratumSize],
        frame_size: u64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let draw: i32 =
            sqlx::query_scalar("UPDATE samples SET draws = draws + 1 WHERE run_id = $1 RETURNING draws")
                .bind(run_id)
                .fetch_one(&mut *tx)
                .await?;
        let probability = |stratum: u32| {
            strata
                .iter()
                .find(|s| s.stratum == stratum)
                .filter(|s| s.population > 0)
                .map_or(1.0, |s| (s.sampled as f64 / s.population as f64).min(1.0))
        };
        let ids: Vec<i64> = drawn.iter().map(|d| d.repository_id).collect();
        let bands: Vec<i32> = drawn.iter().map(|d| i32::try_from(d.stratum).unwrap_or(i32::MAX)).collect();
        let probabilities: Vec<f64> = drawn.iter().map(|d| probability(d.stratum)).collect();
        let mut added = 0;
        for ((ids, bands), probabilities) in
            ids.chunks(5_000).zip(bands.chunks(5_000)).zip(probabilities.chunks(5_000))
        {
            added += sqlx::query(
                "INSERT INTO sample_repositories (run_id, repository_id, stratum, inclusion_probability, draw)
                 SELECT $1, id, stratum, p, $5 FROM UNNEST($2::bigint[], $3::int[], $4::float8[]) AS t(id, stratum, p)
                 ON CONFLICT (run_id, repository_id) DO NOTHING",
            )
            .bind(run_id)
            .bind(ids)
            .bind(bands)
            .bind(probabilities)
            .bind(draw)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        for s in strata {
            sqlx::query(
                "UPDATE sample_repositories SET inclusion_probability = $3 WHERE run_id = $1 AND stratum = $2",
            )
            .bind(run_id)
            .bind(i32::try_from(s.stratum).unwrap_or(i32::MAX))
            .bind(probability(s.stratum))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE samples SET strata = $2, frame_size = $3, drawn_at = now() WHERE run_id = $1")
            .bind(run_id)
            .bind(Json(strata))
            .bind(i64::try_from(frame_size).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(added)
    }

    /// The sample's members after `after_id`, at most `limit`, by id, with their names: the
    /// repositories whose tags the draw queues.
    pub async fn sample_members(
        &self,
        run_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        self.page(
            "SELECT r.id, r.namespace || '/' || r.name FROM sample_repositories sr
             JOIN repositories r ON r.id = sr.repository_id
             WHERE sr.run_id = $1 AND r.id > $2 AND r.excluded_reason IS NULL
             ORDER BY r.id LIMIT $3",
            run_id,
            after_id,
            limit,
        )
        .await
    }

    /// One page of a query keyed by run (`$1`), after an id (`$2`), at most `limit` rows (`$3`).
    async fn page<T>(
        &self,
        sql: &'static str,
        run_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        Ok(sqlx::query_as::<_, T>(sql).bind(run_id).bind(after_id).bind(limit).fetch_all(&self.pool).await?)
    }
}

/// The sample of run `run_id`, read on `conn` (the report passes its snapshot).
pub(crate) async fn sample_of(conn: &mut PgConnection, run_id: i64) -> Result<Option<SampleRow>, StoreError> {
    Ok(sqlx::query_as::<_, SampleRow>(
        "SELECT run_id, design, size, seed, bands, allocation, pilot_prevalence, strata, frame_size, draws,
                drawn_at
         FROM samples WHERE run_id = $1",
    )
    .bind(run_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// What a sample yielded, per band: drawn, analysed (a member with an analysed image, not left
/// out since), and per category the analysed members with a counted image in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Yield {
    /// `(stratum, drawn, analysed)`.
    pub(crate) strata: Vec<(u32, u64, u64)>,
    /// `(stratum, category, members)`.
    pub(crate) positives: Vec<(u32, String, u64)>,
    /// `(reason, members)` left out of the frame after they were drawn.
    pub(crate) excluded: Vec<(String, u64)>,
}

/// Reads what run `run_id`'s sample yielded, on `conn`.
pub(crate) async fn sample_yield(conn: &mut PgConnection, run_id: i64) -> Result<Yield, StoreError> {
    const MEMBERS: &str = "WITH m AS (
             SELECT sr.repository_id, sr.stratum, r.excluded_reason
             FROM sample_repositories sr JOIN repositories r ON r.id = sr.repository_id
             WHERE sr.run_id = $1),
         analysed AS (
             SELECT DISTINCT m.repository_id, t.image_id
             FROM m JOIN tags t ON t.repository_id = m.repository_id
             JOIN analysed_images a ON a.id = t.image_id
             WHERE m.excluded_reason IS NULL)";
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let band = |s: i32| u32::try_from(s).unwrap_or(0);
    let strata: Vec<(i32, i64, i64)> = sqlx::query_as(&format!(
        "{MEMBERS}
         SELECT m.stratum, count(*),
                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM analysed a WHERE a.repository_id = m.repository_id))
         FROM m GROUP BY m.stratum ORDER BY m.stratum"
    ))
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    let positives: Vec<(i32, String, i64)> = sqlx::query_as(&format!(
        "{MEMBERS}
         SELECT m.stratum, ic.category::text, count(DISTINCT m.repository_id)
         FROM m JOIN analysed a ON a.repository_id = m.repository_id
         JOIN image_categories ic ON ic.image_id = a.image_id AND ic.counted
         GROUP BY 1, 2"
    ))
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    let excluded: Vec<(String, i64)> = sqlx::query_as(
        "SELECT r.excluded_reason::text, count(*)
         FROM sample_repositories sr JOIN repositories r ON r.id = sr.repository_id
         WHERE sr.run_id = $1 AND r.excluded_reason IS NOT NULL
         GROUP BY 1 ORDER BY 1",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Yield {
        strata: strata.into_iter().map(|(s, d, a)| (band(s), count(d), count(a))).collect(),
        positives: positives.into_iter().map(|(s, c, n)| (band(s), c, count(n))).collect(),
        excluded: excluded.into_iter().map(|(r, n)| (r, count(n))).collect(),
    })
}
