//! A census run and the workers that drain it.
//!
//! [`Census::start`] opens the run: it resumes the open one (a census interrupted and started
//! again continues instead of starting over), or starts a new one — re-arming the queues so
//! the frame is crawled again, known images cost no pull, and only layers scanned under other
//! rules are scanned again — and enqueues the discovery seeds, the typosquat judgement of
//! the run's names and the sweep of repositories no listing described (both wait for
//! discovery to drain). [`Census::work`] then runs the
//! chosen stages in this process until their queues drain (or, following, until cancelled),
//! alongside any number of other workers on other machines sharing the database.

use std::{sync::Arc, time::Instant};

use hubcensus_hub::DiscoveryTask;
use hubcensus_store::{quota::QuotaSnapshot, runs::NewRun, runs::Rearmed, samples::NewSample};
use hubcensus_types::Stage;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{
    PipelineConfig, PipelineError, Progress, Services, WorkerId,
    context::Ctx,
    progress::{Event, Snapshot},
    runner, stages,
};

/// What a run is and how it was drawn.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// The run's record (label, strategies, parameters, URLs, platform).
    pub run: NewRun,
    /// The discovery tasks that seed it.
    pub seeds: Vec<DiscoveryTask>,
    /// Start a new run even when the last one finished (`census --new`).
    pub new_run: bool,
    /// Analyse a probability sample of the frame instead of every kept repository
    /// (`census --sample`). Given again with a larger size for a sampled run, it extends the
    /// sample, keeping the first draw (a finished run is opened again).
    pub sample: Option<NewSample>,
}

/// How [`Census::start`] opened the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStart {
    /// The open run continues.
    Resumed {
        /// Its id.
        run_id: i64,
    },
    /// A new run started.
    Started {
        /// Its id.
        run_id: i64,
        /// Jobs of earlier runs put back in the queues.
        rearmed: Rearmed,
        /// Discovery seeds enqueued.
        seeded: u64,
    },
    /// The last run finished and no new one was asked for: nothing to do.
    Finished {
        /// The finished run.
        run_id: i64,
    },
    /// The run's sample grew (the run was opened again if it had finished); the draw runs
    /// again and keeps the repositories drawn before.
    Extended {
        /// Its id.
        run_id: i64,
        /// The sample size before.
        from: u32,
        /// The sample size now.
        to: u32,
    },
}

impl RunStart {
    /// The run's id.
    pub fn run_id(&self) -> i64 {
        match self {
            RunStart::Resumed { run_id }
            | RunStart::Started { run_id, .. }
            | RunStart::Finished { run_id }
            | RunStart::Extended { run_id, .. } => *run_id,
        }
    }
}

/// When [`Census::work`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// When the stages' queues are empty and nothing is leased anywhere.
    Drained,
    /// Only when cancelled (`worker --follow`).
    Cancelled,
}

/// How a [`Census::work`] call ended.
#[derive(Debug, Clone)]
pub struct WorkSummary {
    /// The queues drained (as opposed to a cancellation).
    pub drained: bool,
    /// Jobs given back on the way out (a cancellation with jobs in flight past the grace).
    pub released: u64,
    /// The final counters.
    pub snapshot: Snapshot,
}

/// One worker of a census.
#[derive(Debug, Clone)]
pub struct Census {
    ctx: Arc<Ctx>,
}

impl Census {
    /// A worker with these services, configuration, identity and progress sink.
    pub fn new(
        services: Services,
        config: PipelineConfig,
        worker: WorkerId,
        progress: Arc<dyn Progress>,
    ) -> Self {
        Self { ctx: Arc::new(Ctx::new(services, config, worker, progress)) }
    }

    /// This worker's identity.
    pub fn worker(&self) -> &WorkerId {
        &self.ctx.worker
    }

    /// The clients and store this worker uses (for their request counters, say).
    pub fn services(&self) -> &Services {
        &self.ctx.services
    }

    /// The rules version every scan records.
    pub fn rules_version(&self) -> &str {
        &self.ctx.rules_version
    }

    /// Opens the run (see the module documentation).
    ///
    /// # Errors
    /// [`PipelineError::Store`] when the database cannot be reached;
    /// [`PipelineError::Sample`] when `plan.sample` does not fit the run it would apply to.
    pub async fn start(&self, plan: &RunPlan) -> Result<RunStart, PipelineError> {
        let store = self.ctx.store();
        let seeds = stages::seed_jobs(self.ctx.config.max_attempts, &plan.seeds);
        // The typosquat judgement, the sweep of unlisted repositories and a sample's draw join
        // the discovery queue and wait there for it to drain.
        let mut after_discovery = vec![
            stages::names_job(self.ctx.config.max_attempts),
            stages::unlisted_job(self.ctx.config.max_attempts),
        ];
        let latest = store.latest_run().await?;
        let resumes = latest.as_ref().is_some_and(|run| run.finished_at.is_none() || !plan.new_run);
        if let (Some(run), Some(asked), true) = (&latest, &plan.sample, resumes)
            && let Some(extended) = self.extend(run.id, run.finished_at.is_some(), asked).await?
        {
            return Ok(extended);
        }
        let draw = stages::draw_job(self.ctx.config.max_attempts);
        match latest {
            Some(run) if run.finished_at.is_none() => {
                if store.sample(run.id).await?.is_some() {
                    after_discovery.push(draw);
                }
                // Seeding again is a no-op for keys already queued; it completes a start that
                // died between recording the run and seeding it.
                store.enqueue(Stage::Discover, Some(run.id), &seeds).await?;
                store.enqueue(Stage::Discover, Some(run.id), &after_discovery).await?;
                Ok(RunStart::Resumed { run_id: run.id })
            }
            Some(run) if !plan.new_run => Ok(RunStart::Finished { run_id: run.id }),
            previous => {
                let mut new = plan.run.clone();
                new.rules_version = Some(self.ctx.rules_version.clone());
                let run_id = store.start_run(&new).await?;
                if let Some(sample) = &plan.sample {
                    store.create_sample(run_id, sample).await?;
                    after_discovery.push(draw);
                }
                let rearmed = match previous {
                    Some(_) => store.rearm(run_id, &self.ctx.rules_version).await?,
                    None => Rearmed::default(),
                };
                let seeded = store.enqueue(Stage::Discover, Some(run_id), &seeds).await?;
                // A no-op when an earlier run's jobs were re-armed above.
                store.enqueue(Stage::Discover, Some(run_id), &after_discovery).await?;
                Ok(RunStart::Started { run_id, rearmed, seeded })
            }
        }
    }

    /// Applies an asked-for sample to an existing run: an extension when it asks for more of the
    /// same draw (`Some`), nothing when it asks for what the run already has (`None`: resume
    /// as usual), an error when it asks for another design, seed or bands, or for a sample of
    /// a run that analyses every kept repository.
    async fn extend(
        &self,
        run_id: i64,
        finished: bool,
        asked: &NewSample,
    ) -> Result<Option<RunStart>, PipelineError> {
        let store = self.ctx.store();
        let Some(have) = store.sample(run_id).await? else {
            return Err(PipelineError::Sample(format!(
                "census run {run_id} analyses every kept repository; `census --new --sample N` starts a sampled run"
            )));
        };
        if have.design() != asked.design || have.seed() != asked.seed || have.bands() != asked.bands {
            return Err(PipelineError::Sample(format!(
                "census run {run_id} draws a {} sample with seed {} and bands {:?}; an extension must keep them \
                 (`census --new` starts another sample)",
                have.design().as_str(),
                have.seed(),
                have.bands()
            )));
        }
        let from = u32::try_from(have.size).unwrap_or(0);
        if asked.size < from {
            return Err(PipelineError::Sample(format!(
                "census run {run_id} already draws {from} repositories; a sample cannot shrink"
            )));
        }
        if !store.extend_sample(run_id, asked.size).await? {
            return Ok(None);
        }
        if finished {
            store.reopen_run(run_id).await?;
        }
        let draw = stages::draw_job(self.ctx.config.max_attempts);
        if !store.rearm_job(Stage::Discover, &draw.key, run_id).await? {
            store.enqueue(Stage::Discover, Some(run_id), &[draw]).await?;
        }
        Ok(Some(RunStart::Extended { run_id, from, to: asked.size }))
    }

    /// The open run, if any (what `worker` joins).
    ///
    /// # Errors
    /// [`PipelineError::Store`] when the database cannot be reached.
    pub async fn open_run(&self) -> Result<Option<i64>, PipelineError> {
        Ok(self.ctx.store().open_run().await?)
    }

    /// Marks a run finished (its queues drained).
    ///
    /// # Errors
    /// [`PipelineError::Store`] when the database cannot be reached.
    pub async fn finish(&self, run_id: i64) -> Result<(), PipelineError> {
        Ok(self.ctx.store().finish_run(run_id).await?)
    }

    /// Works `stages` until `until`, or until `cancel` fires: then it stops leasing, gives
    /// in-flight jobs the grace period, aborts the rest and releases every lease it still
    /// holds. Database outages while working are waited out, not returned.
    ///
    /// # Errors
    /// [`PipelineError::Store`] when the final release of leases fails (they then expire
    /// after the lease duration and are taken again).
    pub async fn work(
        &self,
        stages: &[Stage],
        until: Until,
        cancel: CancellationToken,
    ) -> Result<WorkSummary, PipelineError> {
        let ctx = &self.ctx;
        let started = Instant::now();
        let stop = CancellationToken::new();
        let background = CancellationToken::new();
        let mut loops = JoinSet::new();
        for &stage in stages {
            loops.spawn(runner::stage_loop(ctx.clone(), stage, stop.clone()));
        }
        let heartbeat = tokio::spawn(runner::keep_leases(ctx.clone(), background.clone()));
        let reporter = tokio::spawn(report_progress(ctx.clone(), started, background.clone()));

        let drained = loop {
            tokio::select! {
                () = cancel.cancelled() => break false,
                () = tokio::time::sleep(ctx.config.idle_poll) => {}
            }
            if until == Until::Drained
                && ctx.in_flight() == 0
                && matches!(ctx.store().unfinished_jobs(stages).await, Ok(0))
            {
                break true;
            }
        };
        stop.cancel();
        while loops.join_next().await.is_some() {}
        background.cancel();
        let _ = heartbeat.await;
        let _ = reporter.await;
        let released = ctx.store().release_all(ctx.owner()).await?;
        let snapshot = snapshot(ctx, started).await;
        ctx.progress.update(&snapshot);
        Ok(WorkSummary { drained, released, snapshot })
    }
}

async fn snapshot(ctx: &Ctx, started: Instant) -> Snapshot {
    let queues = ctx.store().queue_counts().await.unwrap_or_default();
    ctx.counters.snapshot(started.elapsed(), &queues)
}

/// Every `progress_interval`: a snapshot to the progress sink, and this worker's pull quota to
/// the database (what `status` shows).
async fn report_progress(ctx: Arc<Ctx>, started: Instant, stop: CancellationToken) {
    let mut tick = tokio::time::interval(ctx.config.progress_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        ctx.progress.update(&snapshot(&ctx, started).await);
        let q = ctx.services.registry.quota();
        let snapshot = QuotaSnapshot {
            worker: ctx.owner().to_owned(),
            registry: ctx.services.registry.registry_host().to_owned(),
            quota_limit: q.limit.and_then(|n| i64::try_from(n).ok()),
            remaining: q.remaining.and_then(|n| i64::try_from(n).ok()),
            window_secs: q.window.and_then(|w| i64::try_from(w.as_secs()).ok()),
            reset_at: q.reset_at.map(chrono::DateTime::<chrono::Utc>::from),
            pulls_spent: i64::try_from(q.pulls_spent).unwrap_or(i64::MAX),
            updated_at: chrono::Utc::now(),
        };
        if let Err(e) = ctx.store().record_quota(&snapshot).await {
            ctx.progress.event(&Event::StoreUnavailable { error: runner::error_chain(&e) });
        }
    }
}
