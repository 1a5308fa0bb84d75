//! A census reproduces hubsim's ground truth, also when it is interrupted and resumed.

use std::sync::Arc;

use hubcensus_pipeline::{NoProgress, PipelineConfig, RunStart, StageCaps, Until};
use hubcensus_store::Store;
use hubcensus_types::Stage;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    check::assert_truth,
    common::{Harness, fast_config, scalar},
};

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn an_interrupted_census_resumes_and_reproduces_the_truth(pool: PgPool) {
    let h = Harness::start(Store::from_pool(pool), 300, |_| {}).await;
    let (first, _) = h.census(fast_config());
    let run = first.start(&h.plan(false)).await.unwrap();
    assert!(matches!(run, RunStart::Started { seeded: 2, .. }), "{run:?}");

    // Ctrl-C once some layers are scanned: in-flight jobs finish, nothing stays leased.
    let cancel = CancellationToken::new();
    let store = h.store.clone();
    let trigger = cancel.clone();
    let watcher = tokio::spawn(async move {
        while scalar(&store, "SELECT count(*) FROM layers WHERE scan_state <> 'pending'").await < 30 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        trigger.cancel();
    });
    let interrupted = first.work(&Stage::ALL, Until::Drained, cancel).await.unwrap();
    watcher.await.unwrap();
    assert!(!interrupted.drained);
    assert_eq!(scalar(&h.store, "SELECT count(*) FROM jobs WHERE state = 'leased'").await, 0);
    let pending = scalar(&h.store, "SELECT count(*) FROM jobs WHERE state = 'pending'").await;
    assert!(pending > 0, "the census was interrupted before its end");

    // Started again, it continues the same run.
    let (second, _) = h.census(fast_config());
    let again = second.start(&h.plan(false)).await.unwrap();
    assert_eq!(again, RunStart::Resumed { run_id: run.run_id() });
    let done = second.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap();
    assert!(done.drained);
    second.finish(run.run_id()).await.unwrap();
    assert_eq!(scalar(&h.store, "SELECT count(*) FROM census_runs").await, 1);
    assert_truth(&h.store, &h.truth).await;
}

/// Search alone, no namespace crawled: no listing ever describes a repository, so discovery
/// holds every kept one's tags back and the sweep after discovery queues them; the `tags` stage
/// reads each one's detail first. The frame is still exactly the truth (imageless, not-image and
/// inactive repositories left out on their detail), and nothing the truth leaves out is resolved.
#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_18_a_census_by_search_alone_decides_on_the_details(pool: PgPool) {
    let h = Harness::start(Store::from_pool(pool), 300, |_| {}).await;
    let (census, _) =
        h.census_hub(fast_config(), Arc::new(NoProgress), |hub| hub.crawl_seen_namespaces = false);
    let run = census.start(&h.plan(false)).await.unwrap();
    let done = census.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap();
    assert!(done.drained);
    census.finish(run.run_id()).await.unwrap();
    assert_eq!(
        scalar(&h.store, "SELECT count(*) FROM jobs WHERE stage = 'discover' AND key LIKE 'namespace:%'")
            .await,
        0,
        "no namespace was listed"
    );
    assert_eq!(
        scalar(
            &h.store,
            "SELECT count(*) FROM repositories WHERE excluded_reason IS NULL AND status IS NULL"
        )
        .await,
        0,
        "every kept repository's status was read from its detail"
    );
    assert_truth(&h.store, &h.truth).await;
}

/// Tag listings racing ahead of the namespace listings (one discovery task at a time, eight tag
/// listings): a search hit's tags still wait until its namespace's listing has said whether Hub
/// marks it inactive, so no inactive repository is resolved.
#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_18_tags_racing_ahead_of_the_listings_still_wait_for_the_status(pool: PgPool) {
    let h = Harness::start(Store::from_pool(pool), 300, |_| {}).await;
    let config = PipelineConfig {
        caps: StageCaps { discover: 1, tags: 8, resolve: 6, scan_layer: 2 },
        ..fast_config()
    };
    let (census, _) = h.census(config);
    let run = census.start(&h.plan(false)).await.unwrap();
    let done = census.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap();
    assert!(done.drained);
    census.finish(run.run_id()).await.unwrap();
    assert_truth(&h.store, &h.truth).await;
}
