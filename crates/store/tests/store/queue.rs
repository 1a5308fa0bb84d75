use std::{collections::HashSet, time::Duration};

use hubcensus_store::{
    Store, StoreError,
    queue::{FailOutcome, NewJob},
};
use hubcensus_types::Stage;
use serde_json::json;
use sqlx::PgPool;

const LONG: Duration = Duration::from_secs(300);

fn jobs(n: usize) -> Vec<NewJob> {
    (0..n).map(|i| NewJob::new(format!("sha256:{i:064}"), json!({ "i": i }))).collect()
}

async fn state_of(store: &Store, key: &str) -> (String, i32, Option<String>) {
    sqlx::query_as("SELECT state::text, attempts, last_error FROM jobs WHERE key = $1")
        .bind(key)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn enqueue_is_idempotent_per_stage_and_key(pool: PgPool) {
    let store = Store::from_pool(pool);
    assert_eq!(store.enqueue(Stage::ScanLayer, None, &jobs(10)).await.unwrap(), 10);
    assert_eq!(store.enqueue(Stage::ScanLayer, None, &jobs(12)).await.unwrap(), 2, "only the new keys");
    assert_eq!(store.enqueue(Stage::Resolve, None, &jobs(1)).await.unwrap(), 1, "keys are per stage");
    let leased = store.lease(Stage::ScanLayer, "w1", 100, LONG).await.unwrap();
    assert_eq!(leased.len(), 12);
    for job in &leased {
        store.complete(job.id, "w1").await.unwrap();
    }
    assert_eq!(
        store.enqueue(Stage::ScanLayer, None, &jobs(12)).await.unwrap(),
        0,
        "done jobs are not re-added"
    );
    assert!(store.lease(Stage::ScanLayer, "w1", 100, LONG).await.unwrap().is_empty());
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn concurrent_workers_never_hold_the_same_job(pool: PgPool) {
    let store = Store::from_pool(pool);
    store.enqueue(Stage::ScanLayer, None, &jobs(400)).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let owner = format!("worker-{w}");
            let mut mine = Vec::new();
            loop {
                let batch = store.lease(Stage::ScanLayer, &owner, 7, LONG).await.unwrap();
                if batch.is_empty() {
                    break mine;
                }
                for job in batch {
                    store.complete(job.id, &owner).await.unwrap();
                    mine.push(job.id);
                }
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        for id in t.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "job {id} was leased twice");
        }
    }
    assert_eq!(total, 400, "every job was done exactly once");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn an_expired_lease_is_taken_again_and_the_old_holder_is_fenced_off(pool: PgPool) {
    let store = Store::from_pool(pool);
    store.enqueue(Stage::ScanLayer, None, &jobs(1)).await.unwrap();
    let first = store.lease(Stage::ScanLayer, "dead", 10, Duration::from_millis(200)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempts, 1);
    assert!(
        store.lease(Stage::ScanLayer, "other", 10, LONG).await.unwrap().is_empty(),
        "a live lease is exclusive"
    );

    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = store.lease(Stage::ScanLayer, "alive", 10, LONG).await.unwrap();
    assert_eq!(second.len(), 1, "the expired lease is taken again");
    assert_eq!(second[0].id, first[0].id);
    assert_eq!(second[0].attempts, 2, "attempts count every lease");

    let late = store.complete(first[0].id, "dead").await;
    assert!(matches!(late, Err(StoreError::LeaseLost { .. })), "the old holder cannot complete: {late:?}");
    assert!(store.heartbeat("dead", &[first[0].id], LONG).await.unwrap().is_empty());
    assert_eq!(store.heartbeat("alive", &[second[0].id], LONG).await.unwrap(), vec![second[0].id]);
    store.complete(second[0].id, "alive").await.unwrap();
    assert_eq!(state_of(&store, &second[0].key).await.0, "done");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_job_that_fails_max_attempts_times_is_parked_with_its_error(pool: PgPool) {
    let store = Store::from_pool(pool);
    let job = NewJob { max_attempts: 3, ..NewJob::new("library/evil:latest", json!({})) };
    store.enqueue(Stage::Resolve, None, &[job]).await.unwrap();
    for attempt in 1..=3 {
        let leased = store.lease(Stage::Resolve, "w", 1, LONG).await.unwrap();
        assert_eq!(leased.len(), 1, "attempt {attempt} is offered");
        assert_eq!(leased[0].attempts, attempt);
        let outcome = store
            .fail(leased[0].id, "w", &format!("503 on attempt {attempt}"), Duration::ZERO)
            .await
            .unwrap();
        let want = if attempt < 3 { FailOutcome::Retrying } else { FailOutcome::Parked };
        assert_eq!(outcome, want);
    }
    assert!(
        store.lease(Stage::Resolve, "w", 1, LONG).await.unwrap().is_empty(),
        "parked jobs are not offered"
    );
    let (state, attempts, error) = state_of(&store, "library/evil:latest").await;
    assert_eq!((state.as_str(), attempts), ("parked", 3));
    assert_eq!(error.as_deref(), Some("503 on attempt 3"));

    let status = store.status(10).await.unwrap();
    assert_eq!(status.parked.len(), 1);
    assert_eq!(store.retry_parked(Stage::Resolve).await.unwrap(), 1);
    assert_eq!(
        store.lease(Stage::Resolve, "w", 1, LONG).await.unwrap().len(),
        1,
        "a retried job is offered again"
    );
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_job_whose_worker_keeps_dying_is_parked(pool: PgPool) {
    let store = Store::from_pool(pool);
    let job = NewJob { max_attempts: 2, ..NewJob::new("sha256:bomb", json!({})) };
    store.enqueue(Stage::ScanLayer, None, &[job]).await.unwrap();
    for _ in 0..2 {
        assert_eq!(
            store.lease(Stage::ScanLayer, "crashy", 1, Duration::from_millis(100)).await.unwrap().len(),
            1
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(store.lease(Stage::ScanLayer, "next", 1, LONG).await.unwrap().is_empty());
    let (state, attempts, error) = state_of(&store, "sha256:bomb").await;
    assert_eq!((state.as_str(), attempts), ("parked", 2));
    assert!(error.unwrap().contains("expired"), "the parked job says why");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn failures_wait_for_their_retry_delay_and_release_gives_jobs_back(pool: PgPool) {
    let store = Store::from_pool(pool);
    store.enqueue(Stage::Tags, None, &jobs(2)).await.unwrap();
    let leased = store.lease(Stage::Tags, "w", 2, LONG).await.unwrap();
    store.fail(leased[0].id, "w", "429", Duration::from_secs(3600)).await.unwrap();
    assert_eq!(store.release_all("w").await.unwrap(), 1);
    let again = store.lease(Stage::Tags, "w2", 10, LONG).await.unwrap();
    assert_eq!(again.len(), 1, "the failed job waits out its delay; the released one is back");
    assert_eq!(again[0].id, leased[1].id);
    assert_eq!(again[0].attempts, 1, "a released lease does not count as an attempt");
}
