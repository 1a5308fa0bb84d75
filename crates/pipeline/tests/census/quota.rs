//! An exhausted pull quota pauses the resolve stage: jobs are given back without spending an
//! attempt, nothing is parked, and no manifest GET eats into the reserve.

use std::{sync::Arc, time::Duration};

use hubcensus_pipeline::{Event, Progress, Snapshot, Until};
use hubcensus_store::Store;
use hubcensus_types::Stage;
use parking_lot::Mutex;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::common::{Harness, fast_config, scalar};

/// Keeps every event.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Event>>);

impl Progress for Recorder {
    fn update(&self, _: &Snapshot) {}
    fn event(&self, event: &Event) {
        self.0.lock().push(event.clone());
    }
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_spent_pull_quota_pauses_resolution_without_failing_anything(pool: PgPool) {
    let h = Harness::start(Store::from_pool(pool), 120, |cfg| cfg.limits.pulls_anonymous = Some(30)).await;
    let recorder = Arc::new(Recorder::default());
    let (census, registry) = h.census_with(fast_config(), recorder.clone());
    census.start(&h.plan(false)).await.unwrap();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let events = recorder.clone();
    let watcher = tokio::spawn(async move {
        for _ in 0..600 {
            if events.0.lock().iter().any(|e| matches!(e, Event::Paused { stage: Stage::Resolve, .. })) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Let the other resolutions in flight reach the quota too.
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.cancel();
    });
    let summary = census.work(&Stage::ALL, Until::Drained, cancel).await.unwrap();
    watcher.await.unwrap();
    assert!(!summary.drained, "the census cannot finish on 30 pulls");
    assert!(
        recorder.0.lock().iter().any(|e| matches!(e, Event::Paused { stage: Stage::Resolve, .. })),
        "the resolve stage paused"
    );
    let quota = registry.quota();
    assert!(!quota.may_pull(), "{quota:?}");
    assert!(quota.remaining.is_some_and(|r| r >= quota.reserve), "the reserve was kept: {quota:?}");
    assert_eq!(scalar(&h.store, "SELECT count(*) FROM jobs WHERE state = 'parked'").await, 0);
    assert_eq!(
        scalar(&h.store, "SELECT count(*) FROM jobs WHERE stage = 'resolve' AND last_error IS NOT NULL")
            .await,
        0,
        "a spent quota is not a failure"
    );
    let waiting = scalar(
        &h.store,
        "SELECT count(*) FROM jobs WHERE stage = 'resolve' AND state = 'pending' AND not_before > now() + interval '1 minute'",
    )
    .await;
    assert!(waiting > 0, "released resolutions wait for the quota window");
}
