//! `hubcensus worker`: join the open census from any machine that reaches the same database.
//!
//! A worker runs the same stages and the same code as `census`; it only does not open a run.
//! Any number of them share the queues through leases, so adding machines is starting more
//! workers. Exit codes as `census`.

use std::{process::ExitCode, sync::Arc};

use hubcensus_pipeline::{Until, WorkerId};
use hubcensus_types::Stage;

use crate::wiring::{ctrl_c, interrupted, summarise, worker};
use crate::{cli::WorkerArgs, config::Settings};

/// Runs `hubcensus worker`.
pub(crate) async fn run(settings: &Settings, args: &WorkerArgs) -> anyhow::Result<ExitCode> {
    // Rules first: a YARA file that does not compile must cost nothing but its error.
    let rules = Arc::new(crate::rules::load(settings, &[])?);
    let store = crate::wiring::open_store(settings).await?;
    let id = args.id.as_deref().map_or_else(WorkerId::generate, WorkerId::named);
    let metrics = crate::metrics::listen_addr(settings, args.metrics)?;
    let progress =
        crate::metrics::serve(settings, metrics, &store, crate::progress::for_stderr(&Stage::ALL))?;
    let census = worker(settings, rules, store, id, progress).await?;
    let Some(run_id) = census.open_run().await? else {
        anyhow::bail!("no census is open in this database: start one with `hubcensus census`");
    };
    tracing::info!(run = run_id, worker = %census.worker(), "joining the census");
    let until = if args.follow { Until::Cancelled } else { Until::Drained };
    let summary = census.work(&Stage::ALL, until, ctrl_c()).await?;
    if !summary.drained {
        return Ok(if args.follow { ExitCode::SUCCESS } else { interrupted(&summary) });
    }
    // Whichever process sees the queues drain closes the run (finishing twice keeps the first).
    census.finish(run_id).await?;
    eprintln!("hubcensus: the census queues are empty; this worker: {}", summarise(&summary));
    Ok(ExitCode::SUCCESS)
}
