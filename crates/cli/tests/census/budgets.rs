//! Issue #17: many workers, one account. Three worker processes against a hubsim that enforces
//! 600 Hub API requests a minute and a pull quota share one budget through Postgres: together
//! they reach at least 0.9 of the rate, collect no 429 and never exceed the quota (hubsim's own
//! counters say so, over all clients); a worker killed while it holds budget (requests
//! scheduled ahead of it) leaves the others their full rate at once, not a window later.
//!
//! Run with `HUBCENSUS_BUDGETS__SHARED=false` in the environment (the workers inherit it) and
//! each process paces itself alone: the test fails on the 429s.

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use hubcensus_hubsim::{LimitCounts, Sim, SimConfig};
use hubcensus_store::Store;
use sqlx::PgPool;

use crate::{Reaped, database_url, finish, hubcensus, scalar, wait_for};

/// hubsim's Hub API limit, and the census's configured rate.
const HUB_PER_MINUTE: u32 = 600;
/// hubsim's pull quota: pulls per window, and the window (seconds, real time at scale 1).
const PULLS: u32 = 20;
const PULL_WINDOW_SECS: u64 = 10;
/// Each measured span: long enough that a bucket's burst is a small part of it.
const SPAN: Duration = Duration::from_secs(12);

fn worker(sim: &Sim, url: &str, args: &[&str]) -> Reaped {
    Reaped(Some(
        hubcensus(sim, url, args)
            .env("HUBCENSUS_HUB__REQUESTS_PER_MINUTE", HUB_PER_MINUTE.to_string())
            .env("HUBCENSUS_REGISTRY__PULL_QUOTA", PULLS.to_string())
            .env("HUBCENSUS_REGISTRY__PULL_WINDOW_SECS", PULL_WINDOW_SECS.to_string())
            .env("HUBCENSUS_REGISTRY__PULL_RESERVE", "0")
            // Workers that stop at a spent quota come back within the window.
            .env("HUBCENSUS_CENSUS__RETRY_MAX_SECS", "2")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ))
}

/// Hub API requests per second hubsim saw over `SPAN`, and its counters at the end.
async fn measure(sim: &Sim) -> (f64, LimitCounts) {
    let before = sim.limit_counts();
    let start = Instant::now();
    tokio::time::sleep(SPAN).await;
    let after = sim.limit_counts();
    #[allow(clippy::cast_precision_loss)]
    let per_sec = (after.hub_requests - before.hub_requests) as f64 / start.elapsed().as_secs_f64();
    (per_sec, after)
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_17_three_workers_share_one_budget(pool: PgPool) {
    let store = Store::from_pool(pool.clone());
    let url = database_url(&pool);
    let mut cfg = SimConfig::for_tests(31, 600);
    cfg.limits.hub_requests_per_minute = Some(HUB_PER_MINUTE);
    cfg.limits.pulls_anonymous = Some(PULLS);
    cfg.limits.pulls_authenticated = Some(PULLS);
    cfg.limits.pull_window_secs = PULL_WINDOW_SECS;
    let sim = Sim::start(cfg).await.unwrap();
    let rate = f64::from(HUB_PER_MINUTE) / 60.0;

    let mut first = worker(&sim, &url, &["census", "--label", "budgets"]);
    wait_for(&store, "SELECT count(*) FROM census_runs", 1, first.child()).await;
    let second = worker(&sim, &url, &["worker", "--id", "second"]);
    let mut third = worker(&sim, &url, &["worker", "--id", "third"]);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let (three, counts) = measure(&sim).await;
    assert!(three >= 0.9 * rate, "three workers: {three:.2} Hub API requests/s of {rate:.2}; {counts:?}");
    // The third holds budget when it dies: requests scheduled ahead of now (a negative level).
    let ahead = scalar(
        &store,
        "SELECT count(*) FROM budgets WHERE name LIKE 'hub_api %'
           AND tokens + extract(epoch FROM clock_timestamp() - updated_at) * refill_per_sec < 0",
    )
    .await;
    assert!(third.child().try_wait().unwrap().is_none(), "the third worker is still running");
    third.child().kill().unwrap(); // SIGKILL: nothing given back
    let killed = third.finish().await;
    assert!(!killed.status.success());

    let (two, counts) = measure(&sim).await;
    assert!(two >= 0.9 * rate, "after the kill: {two:.2} Hub API requests/s of {rate:.2}; {counts:?}");
    assert_eq!(counts.hub_refused, 0, "no Hub API request over the limit: {counts:?}");
    assert_eq!(counts.pulls_refused, 0, "the pull quota was never exceeded: {counts:?}");
    assert!(counts.pulls >= u64::from(PULLS), "the quota was spent to its limit at least once: {counts:?}");
    eprintln!("three workers {three:.2}/s, two {two:.2}/s of {rate:.2}/s; {counts:?}; budget ahead: {ahead}");

    // `status` shows each budget and who spends it.
    let out = finish(
        hubcensus(&sim, &url, &["status", "--format", "json"]).stdout(Stdio::piped()).spawn().unwrap(),
    )
    .await;
    assert!(out.status.success());
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let budgets = status["activity"]["budgets"].as_array().unwrap();
    let kinds: Vec<&str> =
        budgets.iter().map(|b| b["name"].as_str().unwrap().split(' ').next().unwrap()).collect();
    assert_eq!(kinds, ["hub_api", "pull_quota", "registry_manifests"], "{status:#}");
    let hub_spenders = status["activity"]["budget_spenders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["budget"].as_str().unwrap().starts_with("hub_api"))
        .count();
    assert_eq!(hub_spenders, 3, "{status:#}");

    drop((first, second));
    sim.shutdown().await;
}
