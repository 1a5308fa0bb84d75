//! The draw of a sampled run: once discovery has drained, choose the sample from the whole
//! frame and queue the `tags` jobs of the repositories drawn — no other.
//!
//! In a sampled run discovery queues no `tags` job (nor does the sweep of unlisted
//! repositories): discovery still builds the whole frame, with Hub API requests and no pulls,
//! and the draw waits for it, so that every repository discovery will ever keep has its
//! chance. The frame is read page by page and offered to a
//! [`Selector`](hubcensus_estimate::Selector) that keeps, per pull-count band, the repositories
//! with the smallest draw keys (a keyed hash of the seed and the name): the same seed over the
//! same frame draws the same sample, and a larger size keeps the first draw. A repository left
//! out after it was drawn (image-less, inactive, gone) stays a unit of the frame it was drawn
//! from, so an extension draws from the same frame.
//!
//! It is one job in the discovery queue (key [`KEY`]), enqueued with the run's seeds in a
//! sampled run and re-armed when the sample is extended; storing a draw twice adds nothing,
//! and queueing a `tags` job twice is one job.

use hubcensus_estimate::{Allocation, Selector, allocate, stratum_of};
use hubcensus_store::{
    queue::{Job, NewJob},
    samples::{Drawn, SampleRow, StratumSize},
};
use hubcensus_types::Stage;

use super::{PAGE, enqueue, store_failed, tags_jobs, waiting_job};
use crate::{context::Ctx, runner::Outcome};

/// The draw's job key in the discovery queue (no discovery task key has this shape).
pub(crate) const KEY: &str = "sample_draw";

/// The draw's job.
pub(crate) fn job(max_attempts: i32) -> NewJob {
    waiting_job(KEY, max_attempts)
}

pub(super) async fn run(ctx: &Ctx, job: &Job) -> Result<Outcome, Outcome> {
    if let Some(wait) = super::wait_for_discovery(ctx).await? {
        return Ok(wait);
    }
    let Some(run_id) = job.run_id else { return Ok(Outcome::Done) };
    let store = ctx.store();
    let Some(sample) = store.sample(run_id).await.map_err(|e| store_failed(&e))? else {
        return Ok(Outcome::Done);
    };
    let (drawn, strata, frame_size) = draw(ctx, run_id, &sample).await?;
    let added = store.record_draw(run_id, &drawn, &strata, frame_size).await.map_err(|e| store_failed(&e))?;
    tracing::info!(
        run = run_id,
        frame = frame_size,
        drawn = drawn.len(),
        added,
        design = sample.design().as_str(),
        "sample drawn"
    );
    let mut after = 0;
    loop {
        let page = store.sample_members(run_id, after, PAGE).await.map_err(|e| store_failed(&e))?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        enqueue(ctx, Stage::Tags, job, &tags_jobs(ctx, page)).await?;
    }
    Ok(Outcome::Done)
}

/// Reads the frame twice (band sizes, then the draw) and chooses the sample; also returns the
/// bands' sizes and the frame's size. Bands only grow on an extension: a band keeps at least
/// what an earlier draw took from it.
async fn draw(
    ctx: &Ctx,
    run_id: i64,
    sample: &SampleRow,
) -> Result<(Vec<Drawn>, Vec<StratumSize>, u64), Outcome> {
    let bands = sample.bands();
    let mut populations = vec![0u64; bands.len() + 1];
    for_each_unit(ctx, run_id, &bands, |_, _, stratum| populations[stratum] += 1).await?;
    let allocation = match (sample.allocation.as_str(), &sample.pilot_prevalence) {
        ("neyman", Some(p)) => Allocation::Neyman(p.clone()),
        _ => Allocation::Proportional,
    };
    let size = u64::try_from(sample.size).unwrap_or(0);
    let mut sizes = allocate(&populations, size, &allocation);
    for earlier in &sample.strata.0 {
        if let Some(s) = sizes.get_mut(earlier.stratum as usize) {
            *s = (*s).max(earlier.sampled);
        }
    }
    let mut selector = Selector::new(sample.seed(), sizes.clone());
    for_each_unit(ctx, run_id, &bands, |id, name, stratum| selector.offer(stratum, name, id)).await?;
    let drawn: Vec<Drawn> = selector
        .finish()
        .into_iter()
        .enumerate()
        .flat_map(|(h, ids)| {
            let stratum = u32::try_from(h).unwrap_or(u32::MAX);
            ids.into_iter().map(move |repository_id| Drawn { repository_id, stratum })
        })
        .collect();
    let strata = populations
        .iter()
        .zip(&sizes)
        .enumerate()
        .map(|(h, (population, sampled))| StratumSize {
            stratum: u32::try_from(h).unwrap_or(u32::MAX),
            population: *population,
            sampled: (*sampled).min(*population),
        })
        .collect();
    Ok((drawn, strata, populations.iter().sum()))
}

/// Calls `f(id, name, band)` for every unit of the run's frame, page by page, in `bands`.
async fn for_each_unit(
    ctx: &Ctx,
    run_id: i64,
    bands: &[u64],
    mut f: impl FnMut(i64, &str, usize),
) -> Result<(), Outcome> {
    let mut after = 0;
    loop {
        let page = ctx.store().draw_frame(run_id, after, PAGE).await.map_err(|e| store_failed(&e))?;
        let Some(last) = page.last() else { return Ok(()) };
        after = last.id;
        for unit in &page {
            let pulls = u64::try_from(unit.pull_count).unwrap_or(0);
            f(unit.id, &unit.name, stratum_of(pulls, bands));
        }
    }
}
