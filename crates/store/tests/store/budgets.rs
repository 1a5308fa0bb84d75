//! Budgets shared through Postgres (issue #17): concurrent takers never get more than a quota
//! holds, the registry's word caps it, a rate schedules each taker its own slot, and a
//! restarted worker finds the level the others left.

use std::time::Duration;

use hubcensus_store::{
    Store,
    budgets::{PullTake, QuotaSpec, RateSpec},
};
use sqlx::PgPool;

const QUOTA: &str = "pull_quota http://127.0.0.1:5000";
const RATE: &str = "hub_api http://127.0.0.1:5001";

fn quota(limit: u64, reserve: u64) -> QuotaSpec {
    QuotaSpec { limit, window: Duration::from_secs(3600), reserve, in_flight: Duration::from_secs(5) }
}

async fn take_many(store: &Store, n: usize) -> usize {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.take_pull(QUOTA, &format!("w{}", i % 3)).await.unwrap() })
        })
        .collect();
    let mut taken = 0;
    for t in tasks {
        if t.await.unwrap() == PullTake::Taken {
            taken += 1;
        }
    }
    taken
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn concurrent_takers_never_exceed_the_quota(pool: PgPool) {
    let store = Store::from_pool(pool);
    store.ensure_quota_budget(QUOTA, quota(12, 2)).await.unwrap();
    assert_eq!(take_many(&store, 40).await, 10, "12 less the reserve of 2, however many ask at once");
    match store.take_pull(QUOTA, "late").await.unwrap() {
        PullTake::Spent { until } => {
            // When the oldest pull leaves the window (an hour, plus the in-flight margin).
            let wait = until.expect("a spent window says when it frees") - chrono::Utc::now();
            assert!((3595..=3606).contains(&wait.num_seconds()), "{wait}");
        }
        PullTake::Taken => panic!("took past the quota"),
    }
    // A restart (the same budget ensured again) gives nothing back.
    store.ensure_quota_budget(QUOTA, quota(12, 2)).await.unwrap();
    assert_eq!(take_many(&store, 5).await, 0);
    let spenders = store.budget_spenders(Duration::from_secs(60)).await.unwrap();
    assert_eq!(spenders.iter().map(|s| s.spent).sum::<i64>(), 10);
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn the_registry_word_caps_the_quota_and_no_quota_frees_it(pool: PgPool) {
    let store = Store::from_pool(pool);
    store.ensure_quota_budget(QUOTA, quota(100, 1)).await.unwrap();
    // Another client of the account spent most of it: the registry says 4 are left.
    store.observe_quota(QUOTA, 4, Some(100), Some(Duration::from_secs(3600))).await.unwrap();
    assert_eq!(take_many(&store, 10).await, 3, "4 left less the reserve");
    let level = &store.budgets().await.unwrap()[0];
    assert_eq!((level.available, level.taken_in_window), (Some(0.0), Some(3)), "{level:?}");
    // A registry without a quota (a paid plan) limits nothing until it reports one again.
    store.observe_no_quota(QUOTA).await.unwrap();
    assert_eq!(take_many(&store, 10).await, 10);
    store.observe_quota(QUOTA, 0, None, None).await.unwrap();
    assert_eq!(take_many(&store, 3).await, 0);
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_rate_schedules_each_taker_its_own_slot(pool: PgPool) {
    let store = Store::from_pool(pool);
    // A burst of 2, then one every 100 ms.
    store.ensure_rate_budget(RATE, RateSpec { capacity: 2.0, refill_per_sec: 10.0 }).await.unwrap();
    let mut waits = Vec::new();
    for i in 0..6 {
        waits.push(store.take_rate(RATE, &format!("w{}", i % 2)).await.unwrap());
    }
    assert_eq!(waits[..2], [Duration::ZERO, Duration::ZERO], "the burst goes at once: {waits:?}");
    for (k, wait) in waits[2..].iter().enumerate() {
        let slot = 0.1 * (k + 1) as f64;
        assert!((wait.as_secs_f64() - slot).abs() < 0.05, "take {} waits ~{slot}s: {waits:?}", k + 2);
    }
    // A restarted worker finds the debt the others left (its next take waits behind them), and
    // the level recovers by elapsed database time: a taker that died holding slots leaks them
    // for no longer than they take to refill.
    store.ensure_rate_budget(RATE, RateSpec { capacity: 2.0, refill_per_sec: 10.0 }).await.unwrap();
    assert!(store.take_rate(RATE, "restarted").await.unwrap() >= Duration::from_millis(400));
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(store.take_rate(RATE, "later").await.unwrap(), Duration::ZERO);
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn an_answered_pull_is_not_counted_twice(pool: PgPool) {
    let store = Store::from_pool(pool);
    store.ensure_quota_budget(QUOTA, quota(10, 0)).await.unwrap();
    assert_eq!(store.take_pull(QUOTA, "w").await.unwrap(), PullTake::Taken);
    assert_eq!(store.take_pull(QUOTA, "w").await.unwrap(), PullTake::Taken);
    // The first GET's answer says 9 left (it counted that pull, not yet the second).
    store.answer_pull(QUOTA, "w", Some(9), Some(10), None).await.unwrap();
    let level = &store.budgets().await.unwrap()[0];
    assert_eq!(level.available, Some(8.0), "9 less the pull still in flight: {level:?}");
    store.answer_pull(QUOTA, "w", Some(8), Some(10), None).await.unwrap();
    let level = &store.budgets().await.unwrap()[0];
    assert_eq!(level.available, Some(8.0), "both answered and counted once: {level:?}");
}
