//! `hubcensus census`: seed or resume a run, work every stage until the queues drain, then say
//! what it cost. What it shares with `worker` and `discover` is in `crate::wiring`.
//!
//! Exit codes: 0 the queues drained (or there was nothing to resume), 2 an error, 130
//! interrupted by Ctrl-C (run the same command again to continue).

use std::{process::ExitCode, sync::Arc};

use hubcensus_pipeline::{RunPlan, RunStart, Until, WorkerId};
use hubcensus_types::Stage;

use hubcensus_estimate::Design;
use hubcensus_store::samples::NewSample;

use crate::{
    cli::{CensusArgs, Strata},
    config::Settings,
    wiring::{crawl_cost, ctrl_c, interrupted, new_run, seeds, summarise, worker},
};

/// Runs `hubcensus census`.
pub(crate) async fn run(settings: &Settings, args: &CensusArgs) -> anyhow::Result<ExitCode> {
    // Rules first: a YARA file that does not compile must cost nothing but its error.
    let rules = Arc::new(crate::rules::load(settings, &[])?);
    let store = crate::wiring::open_store(settings).await?;
    let metrics = crate::metrics::listen_addr(settings, args.metrics)?;
    let progress =
        crate::metrics::serve(settings, metrics, &store, crate::progress::for_stderr(&Stage::ALL))?;
    let census = worker(settings, rules, store, WorkerId::generate(), progress).await?;
    let plan = RunPlan {
        run: new_run(settings, &args.label),
        seeds: seeds(settings)?,
        new_run: args.new,
        sample: sample(settings, args),
    };
    let start = census.start(&plan).await?;
    match &start {
        RunStart::Finished { run_id } => {
            eprintln!(
                "hubcensus: census run {run_id} has finished; nothing to resume. `hubcensus census --new` \
                 starts another (known images cost no pull, only layers scanned under other rules are scanned again)."
            );
            return Ok(ExitCode::SUCCESS);
        }
        RunStart::Resumed { run_id } => tracing::info!(run = run_id, "resuming the open census"),
        RunStart::Extended { run_id, from, to } => {
            eprintln!(
                "hubcensus: census run {run_id}: the sample grows from {from} to {to} repositories, keeping the first draw"
            );
        }
        RunStart::Started { run_id, rearmed, seeded } => {
            tracing::info!(run = run_id, seeded, ?rearmed, rules = census.rules_version(), "census started");
        }
    }
    let summary = census.work(&Stage::ALL, Until::Drained, ctrl_c()).await?;
    if !summary.drained {
        return Ok(interrupted(&summary));
    }
    census.finish(start.run_id()).await?;
    eprintln!("hubcensus: census run {} finished: {}", start.run_id(), summarise(&summary));
    let status = census.services().store.status(0).await?;
    eprintln!("hubcensus: crawl cost: {}", crawl_cost(&census, &status.frame, status.totals.images));
    Ok(ExitCode::SUCCESS)
}

/// The sample `--sample`, `--seed` and `--strata` ask for, with `[sample]`'s bands and
/// allocation.
fn sample(settings: &Settings, args: &CensusArgs) -> Option<NewSample> {
    let size = args.sample?;
    let s = &settings.sample;
    let stratified = args.strata == Some(Strata::Pulls);
    Some(NewSample {
        design: if stratified { Design::Stratified } else { Design::Srs },
        size,
        seed: args.seed.unwrap_or(s.seed),
        bands: if stratified { s.pull_bands.clone() } else { Vec::new() },
        allocation: s.allocation.as_str().to_owned(),
        pilot_prevalence: (stratified && !s.pilot_prevalence.is_empty()).then(|| s.pilot_prevalence.clone()),
    })
}
