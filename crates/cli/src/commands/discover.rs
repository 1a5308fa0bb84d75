//! `hubcensus discover`: enumerate the sampling frame only — repositories, their exclusions
//! with reasons, and the tags the policy selects — and print the frame.
//!
//! It opens (or resumes) a census run like `census` and works only its `discover` and `tags`
//! stages; the `resolve` jobs it leaves are what a later `census` or `worker` picks up. Exit
//! codes as `census`.

use std::{process::ExitCode, sync::Arc};

use hubcensus_hub::Strategy as HubStrategy;
use hubcensus_pipeline::{RunPlan, RunStart, Until, WorkerId};
use hubcensus_types::Stage;

use crate::wiring::{crawl_cost, ctrl_c, interrupted, seeds_with, worker};
use crate::{cli::DiscoverArgs, config::Settings, format::frame_lines};

const STAGES: [Stage; 2] = [Stage::Discover, Stage::Tags];

/// Runs `hubcensus discover`.
pub(crate) async fn run(settings: &Settings, args: &DiscoverArgs) -> anyhow::Result<ExitCode> {
    // The run it opens records the rules version, YARA files included.
    let rules = Arc::new(crate::rules::load(settings, &[])?);
    let store = crate::wiring::open_store(settings).await?;
    let census =
        worker(settings, rules, store.clone(), WorkerId::generate(), crate::progress::for_stderr(&STAGES))
            .await?;
    let extra: Vec<HubStrategy> = args.names_file.iter().cloned().map(HubStrategy::NamesFile).collect();
    let plan = RunPlan {
        run: hubcensus_store::runs::NewRun {
            label: "discover".into(),
            ..crate::wiring::new_run(settings, "")
        },
        seeds: seeds_with(settings, &extra)?,
        new_run: false,
        sample: None,
    };
    if let RunStart::Finished { run_id } = census.start(&plan).await? {
        eprintln!("hubcensus: census run {run_id} has finished; `hubcensus census --new` starts another");
    }
    let summary = census.work(&STAGES, Until::Drained, ctrl_c()).await?;
    let frame = store.frame().await?;
    print!("{}", frame_lines(&frame, ""));
    eprintln!("hubcensus: crawl cost: {}", crawl_cost(&census, &frame, 0));
    if !summary.drained {
        return Ok(interrupted(&summary));
    }
    Ok(ExitCode::SUCCESS)
}
