//! `hubcensus discover`: enumerate the sampling frame only — repositories, their exclusions
//! with reasons, and the tags the policy selects — and print the frame.
//!
//! It opens (or resumes) a census run like `census` and works only its `discover` and `tags`
//! stages; the `resolve` jobs it leaves are what a later `census` or `worker` picks up. Exit
//! codes as `census`.

use std::{fmt::Write as _, process::ExitCode, sync::Arc};

use hubcensus_hub::Strategy as HubStrategy;
use hubcensus_pipeline::{RunPlan, RunStart, Until, WorkerId};
use hubcensus_store::status::Frame;
use hubcensus_types::Stage;

use crate::wiring::{crawl_cost, ctrl_c, interrupted, seeds_with, worker};
use crate::{cli::DiscoverArgs, config::Settings};

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
    };
    if let RunStart::Finished { run_id } = census.start(&plan).await? {
        eprintln!("hubcensus: census run {run_id} has finished; `hubcensus census --new` starts another");
    }
    let summary = census.work(&STAGES, Until::Drained, ctrl_c()).await?;
    let frame = store.status(0).await?.frame;
    print!("{}", render(&frame));
    eprintln!("hubcensus: crawl cost: {}", crawl_cost(&census, frame.seen, frame.kept, 0));
    if !summary.drained {
        return Ok(interrupted(&summary));
    }
    Ok(ExitCode::SUCCESS)
}

/// The frame: seen, excluded by reason, kept.
fn render(frame: &Frame) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "repositories seen      {:>10}", frame.seen);
    for (reason, n) in &frame.excluded {
        let _ = writeln!(out, "  excluded: {reason:<20} {n:>6}");
    }
    let _ = writeln!(out, "kept for analysis      {:>10}", frame.kept);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_lists_every_reason() {
        let frame =
            Frame { seen: 12, excluded: vec![("official".into(), 3), ("imageless".into(), 1)], kept: 8 };
        let text = render(&frame);
        assert!(text.contains("repositories seen              12"), "{text}");
        assert!(text.contains("excluded: official"), "{text}");
        assert!(text.contains("kept for analysis               8"), "{text}");
    }
}
