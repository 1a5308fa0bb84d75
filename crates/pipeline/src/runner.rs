//! The queue protocol, the same for every stage: lease up to the stage's free capacity, run
//! each job as a task, turn its [`Outcome`] into `complete` / `fail` / `release`, keep the
//! leases alive with heartbeats, and on shutdown stop leasing and let in-flight jobs finish
//! within the grace period.

use std::{sync::Arc, time::Duration};

use hubcensus_store::{StoreError, queue::FailOutcome, queue::Job};
use hubcensus_types::Stage;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{
    context::Ctx,
    progress::{Counters, Event},
    stages,
};

/// What became of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Its work is written (including a failure recorded on the item): complete it.
    Done,
    /// A transient failure: try again later (after `after`, or the configured backoff).
    Retry {
        /// What went wrong.
        error: String,
        /// A delay the failure itself names (a rate limit's reset).
        after: Option<Duration>,
    },
    /// Not this job's fault and not now: give it back without spending an attempt, and pause
    /// the stage (the pull quota is spent until its window resets).
    Release {
        /// How long the stage waits.
        after: Duration,
        /// Why.
        reason: String,
    },
    /// Not ready yet, while the rest of the stage is (the typosquat judgement waits for
    /// discovery to drain): give it back for `after` without spending an attempt, and let the
    /// stage go on.
    Defer {
        /// How long until it may be leased again.
        after: Duration,
    },
}

impl Outcome {
    pub(crate) fn retry(error: impl std::fmt::Display) -> Self {
        Outcome::Retry { error: error.to_string(), after: None }
    }
}

/// A random number in `0..1` for retry jitter.
fn jitter() -> f64 {
    let r = uuid::Uuid::new_v4().as_u128();
    #[allow(clippy::cast_precision_loss)] // a jitter fraction
    let f = (r % 10_000) as f64 / 10_000.0;
    f
}

/// Leases and runs `stage`'s jobs until `stop` is cancelled, then waits for the jobs in
/// flight up to the grace period and aborts the rest (their leases are released by the
/// caller; every job's writes are transactional or idempotent, so an abort leaves nothing
/// half-written).
pub(crate) async fn stage_loop(ctx: Arc<Ctx>, stage: Stage, stop: CancellationToken) {
    let cap = ctx.config.caps.of(stage);
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut store_failures: u32 = 0;
    loop {
        while tasks.try_join_next().is_some() {}
        if stop.is_cancelled() {
            break;
        }
        if let Some(wait) = ctx.paused_for(stage) {
            tokio::select! {
                () = tokio::time::sleep(wait.min(ctx.config.idle_poll * 10)) => {}
                () = stop.cancelled() => {}
            }
            continue;
        }
        let free = cap.saturating_sub(tasks.len());
        if free == 0 {
            tokio::select! {
                _ = tasks.join_next() => {}
                () = stop.cancelled() => {}
            }
            continue;
        }
        let n = i64::try_from(free).unwrap_or(1);
        match ctx.store().lease(stage, ctx.owner(), n, ctx.config.lease).await {
            Ok(jobs) if jobs.is_empty() => {
                store_failures = 0;
                tokio::select! {
                    () = tokio::time::sleep(ctx.config.idle_poll) => {}
                    () = ctx.woken(stage).notified() => {}
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                    () = stop.cancelled() => {}
                }
            }
            Ok(jobs) => {
                store_failures = 0;
                for job in jobs {
                    let token = ctx.hold(job.id);
                    Counters::add(&ctx.counters.stage(stage).in_flight, 1);
                    tasks.spawn(run_one(ctx.clone(), stage, job, token));
                }
            }
            Err(e) => {
                // The database went away (restart, network): keep trying, slower each time.
                store_failures = store_failures.saturating_add(1);
                tracing::warn!(stage = %stage, error = %error_chain(&e), "leasing failed; retrying");
                ctx.progress.event(&Event::StoreUnavailable { error: error_chain(&e) });
                let wait = ctx.config.idle_poll.saturating_mul(store_failures.min(30));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stop.cancelled() => {}
                }
            }
        }
    }
    let drained =
        tokio::time::timeout(ctx.config.grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::info!(stage = %stage, jobs = tasks.len(), "grace period over; abandoning jobs in flight");
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

/// Runs one job and records its outcome, unless its lease is lost first.
async fn run_one(ctx: Arc<Ctx>, stage: Stage, job: Job, lost: CancellationToken) {
    let counters = ctx.counters.stage(stage);
    let outcome = tokio::select! {
        outcome = stages::run(&ctx, stage, &job) => Some(outcome),
        () = lost.cancelled() => None,
    };
    ctx.release_hold(job.id);
    counters.in_flight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    let Some(outcome) = outcome else {
        ctx.progress.event(&Event::LeaseLost { stage, key: job.key.clone() });
        return;
    };
    if let Err(e) = record(&ctx, stage, &job, outcome).await {
        match e {
            StoreError::LeaseLost { .. } => {
                ctx.progress.event(&Event::LeaseLost { stage, key: job.key.clone() });
            }
            // The lease runs out and the job is done again: its writes are idempotent.
            e => {
                tracing::warn!(stage = %stage, key = %job.key, error = %error_chain(&e), "could not record a job's outcome");
            }
        }
    }
}

async fn record(ctx: &Ctx, stage: Stage, job: &Job, outcome: Outcome) -> Result<(), StoreError> {
    let counters = ctx.counters.stage(stage);
    let store = ctx.store();
    match outcome {
        Outcome::Done => {
            store.complete(job.id, ctx.owner()).await?;
            Counters::add(&counters.done, 1);
        }
        Outcome::Retry { error, after } => {
            let delay = after.unwrap_or_else(|| ctx.config.retry_delay(job.attempts, jitter()));
            Counters::add(&counters.failed, 1);
            tracing::debug!(stage = %stage, key = %job.key, attempt = job.attempts, %error, "job failed");
            match store.fail(job.id, ctx.owner(), &error, delay).await? {
                FailOutcome::Parked => {
                    tracing::warn!(stage = %stage, key = %job.key, %error, "job parked after {} attempts", job.attempts);
                    ctx.progress.event(&Event::Parked { stage, key: job.key.clone(), error });
                }
                FailOutcome::Retrying => ctx.progress.event(&Event::Retrying {
                    stage,
                    key: job.key.clone(),
                    error,
                    after_secs: delay.as_secs(),
                }),
            }
        }
        Outcome::Release { after, reason } => {
            ctx.pause(stage, after);
            store.release_job(job.id, ctx.owner(), after).await?;
            Counters::add(&counters.released, 1);
            ctx.progress.event(&Event::Paused { stage, until: std::time::SystemTime::now() + after, reason });
        }
        Outcome::Defer { after } => store.release_job(job.id, ctx.owner(), after).await?,
    }
    Ok(())
}

/// Renews the leases of the jobs in flight every heartbeat until `stop`; a job whose lease
/// another worker took over is abandoned.
pub(crate) async fn keep_leases(ctx: Arc<Ctx>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(ctx.config.heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        let ids = ctx.held_ids();
        if ids.is_empty() {
            continue;
        }
        match ctx.store().heartbeat(ctx.owner(), &ids, ctx.config.lease).await {
            Ok(kept) => {
                for id in ids.into_iter().filter(|id| !kept.contains(id)) {
                    if ctx.lose(id) {
                        tracing::warn!(job = id, "lease lost to another worker; abandoning the job");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), "heartbeat failed; leases renew at the next one");
                ctx.progress.event(&Event::StoreUnavailable { error: error_chain(&e) });
            }
        }
    }
}

pub(crate) use hubcensus_types::error_chain;
