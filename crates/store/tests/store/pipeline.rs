//! The pipeline's queries: releasing one job, re-arming a new run, the scan counter, quota
//! snapshots and rates.

use std::time::Duration;

use hubcensus_store::{
    Store, StoreError,
    layers::{LayerOutcome, LayerReport, LayerScan},
    queue::NewJob,
    quota::QuotaSnapshot,
    runs::NewRun,
};
use hubcensus_types::Stage;
use serde_json::json;
use sqlx::PgPool;

use crate::common::digest;

const LONG: Duration = Duration::from_secs(300);

fn report(rules: &str) -> LayerReport {
    LayerReport {
        scan: LayerScan {
            outcome: LayerOutcome::Scanned,
            bytes_scanned: 10,
            entries_scanned: 1,
            truncated_files: 0,
            rules_version: rules.into(),
            millis: 1,
        },
        whiteouts: Vec::new(),
        findings: Vec::new(),
        indicators: Vec::new(),
        skipped_files: Default::default(),
    }
}

fn run() -> NewRun {
    NewRun {
        label: String::new(),
        strategy: Vec::new(),
        parameters: json!({}),
        hub_url: "http://hub".into(),
        registry_url: "http://registry".into(),
        platform: "linux/amd64".into(),
        rules_version: None,
        feeds_version: None,
    }
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_released_job_keeps_its_attempts_and_waits(pool: PgPool) {
    let store = Store::from_pool(pool);
    store.enqueue(Stage::Resolve, None, &[NewJob::new("a/b:latest", json!({}))]).await.unwrap();
    let job = store.lease(Stage::Resolve, "w1", 1, LONG).await.unwrap().remove(0);
    assert!(matches!(store.release_job(job.id, "w2", LONG).await, Err(StoreError::LeaseLost { .. })));
    store.release_job(job.id, "w1", Duration::from_secs(3600)).await.unwrap();
    let (state, attempts): (String, i32) =
        sqlx::query_as("SELECT state::text, attempts FROM jobs").fetch_one(store.pool()).await.unwrap();
    assert_eq!((state.as_str(), attempts), ("pending", 0));
    assert!(store.lease(Stage::Resolve, "w1", 1, LONG).await.unwrap().is_empty(), "not before its time");
    assert_eq!(store.unfinished_jobs(&[Stage::Resolve]).await.unwrap(), 1);
    assert_eq!(store.unfinished_jobs(&[Stage::Discover, Stage::Tags]).await.unwrap(), 0);
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn scans_are_counted_and_a_new_run_rearms_only_stale_layers(pool: PgPool) {
    let store = Store::from_pool(pool);
    let fresh = digest("fresh");
    let stale = digest("stale");
    let mut ids = Vec::new();
    for d in [&fresh, &stale] {
        let id = store.ensure_layer(d, "application/vnd.oci.image.layer.v1.tar+gzip", Some(5)).await.unwrap();
        // A known digest reached again is not a scan.
        assert_eq!(
            store.ensure_layer(d, "application/vnd.oci.image.layer.v1.tar+gzip", None).await.unwrap(),
            id
        );
        ids.push(id);
    }
    store.record_layer_scan(ids[0], &report("v2")).await.unwrap();
    store.record_layer_scan(ids[1], &report("v1")).await.unwrap();
    assert_eq!(store.layer_state(&fresh).await.unwrap().unwrap().scan_count, 1);

    let run_id = store.start_run(&run()).await.unwrap();
    let jobs: Vec<NewJob> = [&fresh, &stale].iter().map(|d| NewJob::new(d.to_string(), json!({}))).collect();
    store.enqueue(Stage::ScanLayer, Some(run_id), &jobs).await.unwrap();
    store.enqueue(Stage::Discover, Some(run_id), &[NewJob::new("search", json!({}))]).await.unwrap();
    for stage in [Stage::ScanLayer, Stage::Discover] {
        for job in store.lease(stage, "w", 10, LONG).await.unwrap() {
            store.complete(job.id, "w").await.unwrap();
        }
    }
    let next = store.start_run(&run()).await.unwrap();
    let rearmed = store.rearm(next, "v2").await.unwrap();
    assert_eq!((rearmed.discover, rearmed.scan_layer), (1, 1), "{rearmed:?}");
    let again = store.lease(Stage::ScanLayer, "w", 10, LONG).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].key, stale.to_string());
    assert_eq!(again[0].run_id, Some(next));
    store.record_layer_scan(ids[1], &report("v2")).await.unwrap();
    assert_eq!(store.layer_state(&stale).await.unwrap().unwrap().scan_count, 2);
    assert_eq!(store.latest_run().await.unwrap().unwrap().id, next);
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn quota_snapshots_and_rates_are_kept_per_worker(pool: PgPool) {
    let store = Store::from_pool(pool);
    let mut q = QuotaSnapshot {
        worker: "h:1:a".into(),
        registry: "registry-1.docker.io".into(),
        quota_limit: Some(100),
        remaining: Some(90),
        window_secs: Some(21_600),
        reset_at: None,
        pulls_spent: 10,
        updated_at: chrono::Utc::now(),
    };
    store.record_quota(&q).await.unwrap();
    q.remaining = Some(80);
    q.pulls_spent = 20;
    store.record_quota(&q).await.unwrap();
    let seen = store.quota_snapshots(LONG).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].remaining, seen[0].pulls_spent), (Some(80), 20));

    store.enqueue(Stage::Tags, None, &[NewJob::new("a/b", json!({}))]).await.unwrap();
    let job = store.lease(Stage::Tags, "w", 1, LONG).await.unwrap().remove(0);
    store.complete(job.id, "w").await.unwrap();
    let rates = store.stage_rates(Duration::from_secs(60)).await.unwrap();
    assert_eq!(rates.len(), 1);
    assert_eq!((rates[0].stage.as_str(), rates[0].done), ("tags", 1));
}
