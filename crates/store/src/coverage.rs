//! `discovery_tallies`, and the frame's coverage read from them and `repository_sightings`:
//! how much of what Hub reports discovery collected, per source, and how big the frame really
//! is by capture–recapture between two sources.
//!
//! Docker Hub never says how many repositories exist, and search under-reports (a cap, an index
//! that lags), so "we saw N repositories" alone does not tell a reader how complete a census
//! is. Two figures do, and `report` and `status` print both from here:
//!
//! - per source, what it collected beside what Hub reported for it (the seed searches'
//!   `total`, the crawled namespaces' `count`, the names file's names);
//! - for each pair of sources that both saw something, Chapman's estimate of the population
//!   from their overlap ([`hubcensus_estimate::chapman`]), with its interval. Names Hub does
//!   not know (`unavailable`: private or gone) are left out of those counts: they are not part
//!   of the population either source samples.

use hubcensus_estimate::{Chapman, Z95, chapman};
use serde::Serialize;
use sqlx::PgConnection;

use crate::{Store, StoreError};

/// Discovery strategies in the order reports list them (the prefixes of task keys).
pub const SOURCES: [&str; 4] = ["search_v4", "namespace", "names_file", "legacy_search"];

/// What one discovery task reported and collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Whether its reported total counts towards its source's (see `hubcensus_hub`'s
    /// `DiscoveryTask::is_root`).
    pub root: bool,
    /// What Hub said the task's query or listing holds.
    pub reported: Option<u64>,
    /// Repositories the task collected.
    pub collected: u64,
}

/// The frame's coverage in one run. In JSON: `{"run_id", "sources": [{"source", "tasks",
/// "reported", "collected", "ratio"}], "estimates": [{"first_source", "second_source",
/// "independent", "first", "second", "both", "observed", "estimate", "variance", "low",
/// "high"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// The run.
    pub run_id: i64,
    /// One row per source that ran, in [`SOURCES`] order.
    pub sources: Vec<SourceCoverage>,
    /// One capture–recapture estimate per pair of sources that both saw repositories.
    pub estimates: Vec<FrameEstimate>,
}

/// One source's collected ÷ reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceCoverage {
    /// The strategy (`search_v4`, `namespace`, `names_file`, `legacy_search`).
    pub source: String,
    /// Tasks of the source recorded (shards, listings, chunks).
    pub tasks: i64,
    /// What Hub reported for the source: the sum over its root tasks (`null` when none said).
    pub reported: Option<i64>,
    /// Distinct repositories the source saw in the run.
    pub collected: i64,
    /// `collected / reported` (`null` without a reported total, or when it is 0).
    pub ratio: Option<f64>,
}

/// Chapman's estimate of the frame's size from two sources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameEstimate {
    /// The first source (`n₁` = `first`).
    pub first_source: String,
    /// The second source (`n₂` = `second`).
    pub second_source: String,
    /// Whether the pair can be taken as independent (one of them is a names file). A namespace
    /// crawl follows the namespaces search saw, and both searches read one index: such pairs
    /// are positively dependent and their estimate leans towards the union, too low
    /// (docs/methodology.md).
    pub independent: bool,
    /// The estimate, its counts and its interval.
    #[serde(flatten)]
    pub chapman: Chapman,
}

impl Store {
    /// Records what a discovery task reported and collected in `run_id`; a task run again
    /// (a retry, a re-armed run) replaces its row.
    pub async fn record_tally(&self, run_id: i64, task_key: &str, tally: Tally) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO discovery_tallies (run_id, task_key, root, reported, collected)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (run_id, task_key) DO UPDATE
             SET root = EXCLUDED.root, reported = EXCLUDED.reported, collected = EXCLUDED.collected,
                 recorded_at = now()",
        )
        .bind(run_id)
        .bind(task_key)
        .bind(tally.root)
        .bind(tally.reported.map(|r| i64::try_from(r).unwrap_or(i64::MAX)))
        .bind(i32::try_from(tally.collected).unwrap_or(i32::MAX))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The coverage of run `run_id`, or of the latest run when `None`; `None` before any run.
    pub async fn coverage(&self, run_id: Option<i64>) -> Result<Option<Coverage>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        coverage_of(&mut conn, run_id).await
    }
}

/// [`Store::coverage`] on `conn` (the report passes its snapshot transaction).
pub(crate) async fn coverage_of(
    conn: &mut PgConnection,
    run_id: Option<i64>,
) -> Result<Option<Coverage>, StoreError> {
    let run: Option<i64> = match run_id {
        Some(id) => {
            sqlx::query_scalar("SELECT id FROM census_runs WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
        }
        None => sqlx::query_scalar("SELECT max(id) FROM census_runs").fetch_one(&mut *conn).await?,
    };
    let Some(run_id) = run else { return Ok(None) };
    let rows: Vec<(String, i64, Option<i64>, i64)> = sqlx::query_as(
        "WITH t AS (
             SELECT strategy, count(*) AS tasks, sum(reported) FILTER (WHERE root)::bigint AS reported
             FROM discovery_tallies WHERE run_id = $1 GROUP BY strategy),
         s AS (
             SELECT strategy, count(DISTINCT repository_id) AS collected
             FROM repository_sightings WHERE run_id = $1 GROUP BY strategy)
         SELECT coalesce(t.strategy, s.strategy), coalesce(t.tasks, 0), t.reported,
                coalesce(s.collected, 0)
         FROM t FULL JOIN s ON s.strategy = t.strategy",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    let sources = in_source_order(rows.into_iter().map(|(source, tasks, reported, collected)| {
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        let ratio = reported.filter(|&r| r > 0).map(|r| collected as f64 / r as f64);
        SourceCoverage { source, tasks, reported, collected, ratio }
    }));
    let estimates = estimates(conn, run_id).await?;
    Ok(Some(Coverage { run_id, sources, estimates }))
}

/// Chapman's estimate for every pair of sources that both saw a repository of the population.
async fn estimates(conn: &mut PgConnection, run_id: i64) -> Result<Vec<FrameEstimate>, StoreError> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "WITH s AS (
             SELECT DISTINCT rs.strategy, rs.repository_id
             FROM repository_sightings rs JOIN repositories r ON r.id = rs.repository_id
             WHERE rs.run_id = $1 AND r.excluded_reason IS DISTINCT FROM 'unavailable')
         SELECT a.strategy, b.strategy, count(b.repository_id)
         FROM s a LEFT JOIN s b ON b.repository_id = a.repository_id
         GROUP BY a.strategy, b.strategy",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    let count = |a: &str, b: &str| {
        rows.iter().find(|(x, y, _)| x == a && y == b).map_or(0, |r| u64::try_from(r.2).unwrap_or(0))
    };
    let mut out = Vec::new();
    for (i, first) in SOURCES.iter().enumerate() {
        for second in &SOURCES[i + 1..] {
            let (n1, n2) = (count(first, first), count(second, second));
            if n1 == 0 || n2 == 0 {
                continue;
            }
            if let Some(chapman) = chapman(n1, n2, count(first, second), Z95) {
                out.push(FrameEstimate {
                    first_source: (*first).to_owned(),
                    second_source: (*second).to_owned(),
                    independent: independent(first, second),
                    chapman,
                });
            }
        }
    }
    Ok(out)
}

/// Whether two sources sample the population independently. Only a names file (a dump made
/// outside Hub's search) is: a namespace crawl lists the namespaces a search saw, and the two
/// searches read one index, so a repository that index leaves out is missed by all three.
fn independent(first: &str, second: &str) -> bool {
    first != second && (first == "names_file" || second == "names_file")
}

/// Rows sorted by [`SOURCES`], unknown strategies last by name.
fn in_source_order(rows: impl Iterator<Item = SourceCoverage>) -> Vec<SourceCoverage> {
    let mut rows: Vec<SourceCoverage> = rows.collect();
    rows.sort_by_key(|r| {
        (SOURCES.iter().position(|s| *s == r.source).unwrap_or(SOURCES.len()), r.source.clone())
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crawl_depends_on_the_searches_it_follows() {
        assert!(!independent("search_v4", "namespace"));
        assert!(!independent("namespace", "legacy_search"));
        assert!(independent("search_v4", "names_file"));
        assert!(independent("namespace", "names_file"));
        assert!(!independent("search_v4", "legacy_search"), "one index");
    }
}
