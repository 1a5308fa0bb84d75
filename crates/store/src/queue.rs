//! `jobs`: the leased work queues that let any number of workers share a census.
//!
//! The protocol, which every stage follows:
//!
//! 1. [`Store::enqueue`] adds a job keyed by `(stage, key)`; enqueueing an existing key is a
//!    no-op, which is how a layer digest reached by a thousand images becomes one scan job.
//! 2. [`Store::lease`] hands out up to `n` ready jobs with `FOR UPDATE SKIP LOCKED`, so two
//!    workers never hold the same job. Each lease counts one attempt and expires after the
//!    lease duration unless [`Store::heartbeat`] extends it.
//! 3. The holder ends the job with [`Store::complete`] or [`Store::fail`]. Both check the lease
//!    owner (a fencing check): a worker whose lease expired and was taken over gets
//!    [`StoreError::LeaseLost`] instead of overwriting the new holder's state.
//! 4. A lease that expires (the worker died) is reclaimed by the next `lease` call: back to
//!    `pending`, or `parked` when the job has used all its attempts, with the reason recorded.
//! 5. A job that fails `max_attempts` times is `parked` with its last error for a human to
//!    look at; it is never retried silently forever.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hubcensus_types::Stage;
use serde_json::Value;

use crate::{Store, StoreError, millis, stage_ids};

/// A job a worker holds.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// The job's key within its stage (a digest, a `namespace/name`, a shard).
    pub key: String,
    /// The census run that enqueued it.
    pub run_id: Option<i64>,
    /// Stage-specific input.
    pub payload: Value,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// Attempts allowed before the job is parked.
    pub max_attempts: i32,
    /// When the lease runs out unless renewed.
    pub lease_expires_at: DateTime<Utc>,
}

/// A job to add.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Unique key within the stage.
    pub key: String,
    /// Stage-specific input.
    pub payload: Value,
    /// Lower runs first.
    pub priority: i32,
    /// Attempts allowed before parking.
    pub max_attempts: i32,
}

impl NewJob {
    /// A job with default priority and attempts.
    pub fn new(key: impl Into<String>, payload: Value) -> Self {
        Self { key: key.into(), payload, priority: 0, max_attempts: 5 }
    }
}

/// What [`Store::fail`] did with the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// It will be offered again after the delay.
    Retrying,
    /// It used all its attempts and is parked with its error.
    Parked,
}

impl Store {
    /// Adds jobs to a stage; keys already present are left as they are. Returns how many were
    /// new.
    pub async fn enqueue(
        &self,
        stage: Stage,
        run_id: Option<i64>,
        jobs: &[NewJob],
    ) -> Result<u64, StoreError> {
        let mut new = 0;
        for chunk in jobs.chunks(5_000) {
            let keys: Vec<&str> = chunk.iter().map(|j| j.key.as_str()).collect();
            let payloads: Vec<&Value> = chunk.iter().map(|j| &j.payload).collect();
            let priorities: Vec<i32> = chunk.iter().map(|j| j.priority).collect();
            let attempts: Vec<i32> = chunk.iter().map(|j| j.max_attempts).collect();
            new += sqlx::query(
                "INSERT INTO jobs (stage, key, run_id, payload, priority, max_attempts)
                 SELECT $1, k, $2, p, pr, ma FROM UNNEST($3::text[], $4::jsonb[], $5::int[], $6::int[]) AS t(k, p, pr, ma)
                 ON CONFLICT (stage, key) DO NOTHING",
            )
            .bind(stage.as_str())
            .bind(run_id)
            .bind(&keys)
            .bind(&payloads)
            .bind(&priorities)
            .bind(&attempts)
            .execute(&self.pool)
            .await?
            .rows_affected();
        }
        Ok(new)
    }

    /// Leases up to `n` ready jobs of `stage` to `owner` for `lease`. Expired leases of the
    /// stage are reclaimed first (requeued, or parked when out of attempts).
    pub async fn lease(
        &self,
        stage: Stage,
        owner: &str,
        n: i64,
        lease: Duration,
    ) -> Result<Vec<Job>, StoreError> {
        self.reclaim_expired(stage).await?;
        let jobs = sqlx::query_as::<_, Job>(
            "WITH ready AS (
                 SELECT id FROM jobs
                 WHERE stage = $1 AND state = 'pending' AND not_before <= now()
                 ORDER BY priority, id
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED
             )
             UPDATE jobs j SET state = 'leased', lease_owner = $3,
                 lease_expires_at = now() + make_interval(secs => $4::double precision / 1000),
                 attempts = j.attempts + 1, updated_at = now()
             FROM ready WHERE j.id = ready.id
             RETURNING j.id, j.key, j.run_id, j.payload, j.attempts, j.max_attempts, j.lease_expires_at",
        )
        .bind(stage.as_str())
        .bind(n)
        .bind(owner)
        .bind(millis(lease))
        .fetch_all(&self.pool)
        .await?;
        Ok(jobs)
    }

    /// Requeues (or parks, when out of attempts) the jobs of `stage` whose lease has expired:
    /// their worker died or stalled. Returns how many were reclaimed.
    pub async fn reclaim_expired(&self, stage: Stage) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE jobs SET
                 state = CASE WHEN attempts >= max_attempts THEN 'parked'::job_state ELSE 'pending'::job_state END,
                 last_error = 'lease held by ' || lease_owner || ' expired during attempt ' || attempts,
                 finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE id IN (
                 SELECT id FROM jobs
                 WHERE stage = $1 AND state = 'leased' AND lease_expires_at < now()
                 FOR UPDATE SKIP LOCKED)",
        )
        .bind(stage.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Extends the leases `owner` still holds among `job_ids`; returns the ids it still holds
    /// (a missing id means the lease was lost and the work should be abandoned).
    pub async fn heartbeat(
        &self,
        owner: &str,
        job_ids: &[i64],
        lease: Duration,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3::double precision / 1000),
                 updated_at = now()
             WHERE id = ANY($1) AND lease_owner = $2 AND state = 'leased'
             RETURNING id",
        )
        .bind(job_ids)
        .bind(owner)
        .bind(millis(lease))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Marks a held job done.
    pub async fn complete(&self, job_id: i64, owner: &str) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
                 finished_at = now(), updated_at = now()
             WHERE id = $1 AND lease_owner = $2 AND state = 'leased'",
        )
        .bind(job_id)
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if done == 1 { Ok(()) } else { Err(StoreError::LeaseLost { job_id, owner: owner.to_owned() }) }
    }

    /// Records a failed attempt of a held job: retried after `retry_after`, or parked with
    /// `error` when it has used all its attempts.
    pub async fn fail(
        &self,
        job_id: i64,
        owner: &str,
        error: &str,
        retry_after: Duration,
    ) -> Result<FailOutcome, StoreError> {
        let parked: Option<bool> = sqlx::query_scalar(
            "UPDATE jobs SET
                 state = CASE WHEN attempts >= max_attempts THEN 'parked'::job_state ELSE 'pending'::job_state END,
                 finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
                 not_before = now() + make_interval(secs => $4::double precision / 1000),
                 last_error = $3, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE id = $1 AND lease_owner = $2 AND state = 'leased'
             RETURNING state = 'parked'",
        )
        .bind(job_id)
        .bind(owner)
        .bind(error)
        .bind(millis(retry_after))
        .fetch_optional(&self.pool)
        .await?;
        match parked {
            Some(true) => Ok(FailOutcome::Parked),
            Some(false) => Ok(FailOutcome::Retrying),
            None => Err(StoreError::LeaseLost { job_id, owner: owner.to_owned() }),
        }
    }

    /// Gives back every job `owner` holds without counting the attempt (a clean shutdown on
    /// Ctrl-C). Returns how many were released.
    pub async fn release_all(&self, owner: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = greatest(attempts - 1, 0), lease_owner = NULL,
                 lease_expires_at = NULL, updated_at = now()
             WHERE lease_owner = $1 AND state = 'leased'",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Puts parked jobs of a stage back in the queue with fresh attempts (after a fix).
    pub async fn retry_parked(&self, stage: Stage) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = 0, not_before = now(), finished_at = NULL, updated_at = now()
             WHERE stage = $1 AND state = 'parked'",
        )
        .bind(stage.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

impl Store {
    /// Gives one held job back without counting the attempt, to be offered again after
    /// `not_before` (a stage that must pause, such as resolve with an exhausted pull quota).
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`] when `owner` no longer holds it.
    pub async fn release_job(
        &self,
        job_id: i64,
        owner: &str,
        not_before: Duration,
    ) -> Result<(), StoreError> {
        let released = sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = greatest(attempts - 1, 0), lease_owner = NULL,
                 lease_expires_at = NULL, not_before = now() + make_interval(secs => $3::double precision / 1000),
                 updated_at = now()
             WHERE id = $1 AND lease_owner = $2 AND state = 'leased'",
        )
        .bind(job_id)
        .bind(owner)
        .bind(millis(not_before))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if released == 1 { Ok(()) } else { Err(StoreError::LeaseLost { job_id, owner: owner.to_owned() }) }
    }

    /// Jobs of `stages` not finished yet (pending, including those waiting for a retry, or
    /// leased by any worker): zero means the census has drained these stages.
    pub async fn unfinished_jobs(&self, stages: &[Stage]) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE stage = ANY($1) AND state IN ('pending', 'leased')",
        )
        .bind(stage_ids(stages))
        .fetch_one(&self.pool)
        .await?)
    }

    /// Puts one finished job of `stage` back in its queue under `run_id` (a job that waits for
    /// discovery and must run again: a sample's draw after an extension). A job still pending
    /// or leased, or parked, is left as it is; returns whether it was re-armed.
    pub async fn rearm_job(&self, stage: Stage, key: &str, run_id: i64) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = 0, not_before = now(), finished_at = NULL,
                 last_error = NULL, run_id = $3, updated_at = now()
             WHERE stage = $1 AND key = $2 AND state = 'done'",
        )
        .bind(stage.as_str())
        .bind(key)
        .bind(run_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Discovery jobs not finished (pending or leased) other than those keyed `except`: the
    /// jobs that wait for discovery to drain (the typosquat judgement, the sweep of unlisted
    /// repositories) wait for zero, and must not wait for each other.
    pub async fn discovery_unfinished(&self, except: &[&str]) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM jobs
             WHERE stage = 'discover' AND state IN ('pending', 'leased') AND key <> ALL($1)",
        )
        .bind(except)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Job counts per stage and state: the progress display's view of every queue (one
    /// aggregate over `jobs`, cheaper than the full `status`).
    pub async fn queue_counts(&self) -> Result<Vec<crate::status::StageCounts>, StoreError> {
        Ok(sqlx::query_as::<_, crate::status::StageCounts>(
            "SELECT stage,
                    count(*) FILTER (WHERE state = 'pending') AS pending,
                    count(*) FILTER (WHERE state = 'leased') AS leased,
                    count(*) FILTER (WHERE state = 'done') AS done,
                    count(*) FILTER (WHERE state = 'parked') AS parked
             FROM jobs GROUP BY stage ORDER BY stage",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
