//! The census database.
//!
//! Postgres is the census's only shared state and its distributed engine: the frame, the
//! resolved images, the scanned layers, the findings and the work queues all live in the schema
//! under `migrations/` (embedded here, applied on every connect), and any number of worker
//! processes on any number of machines cooperate through it. This crate is the only code that
//! writes SQL against those tables; each module owns one table group:
//!
//! | module | tables |
//! |---|---|
//! | [`runs`] | `census_runs`, `run_images` (the image each run found behind each tag) |
//! | [`repositories`] | `repositories`, `repository_sightings` |
//! | [`coverage`] | `discovery_tallies`; read-only: collected ÷ reported per source, capture–recapture |
//! | [`tags`] | `tags`, `tag_platforms` |
//! | [`images`] | `images`, `image_layers` |
//! | [`layers`] | `layers`, `layer_whiteouts`, `layer_skipped_files` |
//! | [`findings`] | `findings`, `indicators` |
//! | [`metadata`] | `findings` judged from repository names (typosquatting), and the names judged |
//! | [`feeds`] | `feeds`, `feed_entries` |
//! | [`queue`] | `jobs` |
//! | [`quota`] | `worker_quota` |
//! | [`budgets`] | `budgets`, `budget_spends`, `budget_spenders` (budgets shared by all workers) |
//! | [`samples`] | `samples`, `sample_repositories` (a run's probability sample) |
//! | [`frame`] | read-only: the sampling frame's counts (seen, excluded by reason, kept, analysed) |
//! | [`status`] | read-only summaries over all of them (queue counts, rates, the frame) |
//! | [`report`] | read-only: the report views |
//! | [`compare`] | read-only: two runs' flagged images, per category, in both / only one |
//! | [`clusters`] | read-only: the attribution views (images linked by wallet, key, pool, layer...) |
//!
//! Every write is idempotent: unique constraints and `ON CONFLICT` make a retried or raced
//! write land once, which is what lets a crashed worker's job simply run again.

#![deny(missing_docs)]

pub mod budgets;
pub mod clusters;
pub mod compare;
pub mod coverage;
mod error;
pub mod feeds;
pub mod findings;
pub mod frame;
pub mod images;
pub mod layers;
pub mod metadata;
pub mod queue;
pub mod quota;
pub mod report;
pub mod repositories;
pub mod runs;
pub mod samples;
pub mod status;
pub mod tags;

use std::time::Duration;

use sqlx::{
    ConnectOptions as _, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

pub use error::StoreError;

/// Converts a duration to whole milliseconds for a Postgres interval.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Stage ids for a `stage = ANY($1)` bind.
pub(crate) fn stage_ids(stages: &[hubcensus_types::Stage]) -> Vec<&'static str> {
    stages.iter().map(|s| s.as_str()).collect()
}

/// The schema migrations, embedded at build time from the workspace's `migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// A connection pool to the census database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Most connections this process opens.
    pub max_connections: u32,
    /// How long to wait for a connection before giving up.
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(30) }
    }
}

impl Store {
    /// Connects to `url` without touching the schema.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect: PgConnectOptions = url.parse().map_err(|e| StoreError::BadUrl(redact_url(url), e))?;
        // A report over a big census runs statements of seconds by design; sqlx would warn on
        // each. They stay visible at debug level (RUST_LOG=sqlx=debug) for whoever tunes them.
        let connect = connect.log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(|e| StoreError::Unavailable(redact_url(url), e))?;
        Ok(Self { pool })
    }

    /// Connects and brings the schema up to date: what every command that uses the database
    /// does first.
    pub async fn open(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let store = Self::connect(url, options).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Wraps an existing pool (tests get one from `#[sqlx::test]`).
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Applies the migrations not yet applied; returns how many were applied now (0 when the
    /// schema was already current). Safe to run from many processes at once: sqlx takes an
    /// advisory lock.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = self.applied_migrations().await?;
        MIGRATOR.run(&self.pool).await?;
        let after = self.applied_migrations().await?;
        Ok(after.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await?;
        if !exists {
            return Ok(0);
        }
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// The underlying pool, for queries this crate does not wrap (tests, ad-hoc reports).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// `url` with any password replaced, for error messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact_url("postgres://u:s3cret@db:5432/x"), "postgres://u:***@db:5432/x");
        assert_eq!(redact_url("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(redact_url("postgres:///x?host=/tmp"), "postgres:///x?host=/tmp");
    }
}
