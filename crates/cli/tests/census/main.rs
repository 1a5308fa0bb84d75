//! `hubcensus census`, `worker`, `discover` and `status` as processes against hubsim and a real
//! Postgres: the chaos a census on many machines meets — two workers, one killed with SIGKILL
//! mid-run, 5% injected server faults — must still end with exactly hubsim's ground truth.
//!
//! Each test gets a fresh migrated database from `#[sqlx::test]` (it needs `DATABASE_URL`); the
//! simulator runs in the test process on loopback.

// Test helpers outside #[test] functions unwrap too: a panic is the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod budgets;
#[path = "../../../pipeline/tests/census/check.rs"]
mod check;
mod metrics;
mod restart;
mod yara;

use std::{
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use hubcensus_hubsim::{FaultConfig, Sim, SimConfig, Truth, feeds::Feeds, population::Population};
use hubcensus_store::Store;
use sqlx::PgPool;

/// A `hubcensus` command against `sim` and the test database, configured only by environment
/// variables (the way a cluster's job spec configures workers).
fn hubcensus(sim: &Sim, database_url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubcensus"));
    cmd.args(args)
        .env_remove("HUBCENSUS_CONFIG")
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", database_url)
        .env("HUBCENSUS_HUB__URL", sim.hub_url())
        .env("HUBCENSUS_REGISTRY__URL", sim.registry_url())
        .env("HUBCENSUS_REGISTRY__AUTH_URL", format!("{}/token", sim.auth_url()))
        .env("HUBCENSUS_NET__ALLOW_PRIVATE_ADDRESSES", "true")
        // Budgets far above what a test spends (each of hubsim's origins has its own).
        .env("HUBCENSUS_HUB__REQUESTS_PER_MINUTE", "1000000")
        .env("HUBCENSUS_REGISTRY__MANIFEST_REQUESTS_PER_MINUTE", "1000000")
        .env("HUBCENSUS_NET__REQUESTS_PER_MINUTE", "1000000")
        // A killed worker's leases come back within seconds.
        .env("HUBCENSUS_CENSUS__LEASE_SECS", "4")
        .env("HUBCENSUS_CENSUS__HEARTBEAT_SECS", "1")
        .env("HUBCENSUS_CENSUS__IDLE_POLL_MILLIS", "50")
        .env("HUBCENSUS_CENSUS__RETRY_BASE_SECS", "1")
        .env("HUBCENSUS_CENSUS__RETRY_MAX_SECS", "2")
        .env("HUBCENSUS_CENSUS__MAX_ATTEMPTS", "8")
        .env("HUBCENSUS_CENSUS__SCAN_CONCURRENCY", "2")
        .env("HUBCENSUS_NET__MAX_RETRIES", "3");
    cmd
}

/// The URL of the test's database (same server as `DATABASE_URL`, the database sqlx made).
fn database_url(pool: &PgPool) -> String {
    let mut url = url::Url::parse(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    url.set_path(&format!("/{}", pool.connect_options().get_database().unwrap()));
    url.to_string()
}

async fn scalar(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(store.pool()).await.unwrap()
}

/// Waits (polling) until `sql` counts at least `n`, or the child exits, or time runs out.
async fn wait_for(store: &Store, sql: &str, n: i64, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while scalar(store, sql).await < n {
        assert!(child.try_wait().unwrap().is_none(), "the worker exited before `{sql}` reached {n}");
        assert!(Instant::now() < deadline, "`{sql}` never reached {n}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs a child to its end without blocking the runtime that serves hubsim.
async fn finish(child: Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap()
}

/// A worker process that is killed if the test ends (or panics) before [`Reaped::finish`]: a
/// failed assertion must not leave a `hubcensus worker` running against the test database.
struct Reaped(Option<Child>);

impl Reaped {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }

    async fn finish(mut self) -> Output {
        finish(self.0.take().unwrap()).await
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn start_sim(repos: u32, faults: f64) -> (Sim, Truth) {
    let mut cfg = SimConfig::for_tests(23, repos);
    cfg.limits.pulls_anonymous = None;
    cfg.limits.pulls_authenticated = None;
    cfg.faults = FaultConfig { seed: 5, ..FaultConfig::uniform(faults) };
    let truth = {
        let pop = Population::new(&cfg.population);
        tokio::task::spawn_blocking(move || Truth::build(&pop)).await.unwrap()
    };
    (Sim::start(cfg).await.unwrap(), truth)
}

/// Imports hubsim's feeds with `hubcensus feeds import`, as a researcher would.
async fn import_feeds(sim: &Sim, url: &str, dir: &Path) {
    Feeds::generate(sim.population()).write(dir).unwrap();
    for (file, kind, category) in [
        ("urlhaus.csv", "urlhaus", None),
        ("nrd.txt", "nrd", None),
        ("dyndns.txt", "domains", Some("dynamic_dns")),
    ] {
        let path = dir.join(file);
        let mut args = vec!["feeds", "import", "--kind", kind];
        if let Some(c) = category {
            args.extend(["--category", c]);
        }
        args.push(path.to_str().unwrap());
        let child = hubcensus(sim, url, &args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let out = finish(child).await;
        assert!(out.status.success(), "feeds import {file}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn two_workers_one_killed_under_faults_reproduce_the_truth(pool: PgPool) {
    let store = Store::from_pool(pool.clone());
    let url = database_url(&pool);
    let (sim, truth) = start_sim(200, 0.05).await;
    let dir = tempfile::tempdir().unwrap();
    import_feeds(&sim, &url, dir.path()).await;

    let mut first = Reaped(Some(
        hubcensus(&sim, &url, &["census", "--label", "chaos"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    wait_for(&store, "SELECT count(*) FROM layers WHERE scan_state <> 'pending'", 20, first.child()).await;
    let second = Reaped(Some(
        hubcensus(&sim, &url, &["worker", "--id", "second"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    wait_for(&store, "SELECT count(*) FROM layers WHERE scan_state <> 'pending'", 60, first.child()).await;
    let held = scalar(&store, "SELECT count(*) FROM jobs WHERE state = 'leased'").await;
    first.child().kill().unwrap(); // SIGKILL: no cleanup, its leases must expire
    let killed = first.finish().await;
    assert!(!killed.status.success());

    let out = second.finish().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the surviving worker failed: {stderr}");
    assert!(held > 0, "the first worker held leases when it was killed");
    assert!(sim.faults_injected() > 10, "faults were injected: {}", sim.faults_injected());
    check::assert_truth(&store, &truth).await;
    assert_eq!(scalar(&store, "SELECT count(*) FROM census_runs WHERE finished_at IS NOT NULL").await, 1);

    // `status` reports the drained queues and the workers' quota snapshots.
    let out = finish(
        hubcensus(&sim, &url, &["status", "--format", "json"]).stdout(Stdio::piped()).spawn().unwrap(),
    )
    .await;
    assert!(out.status.success());
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stages = status["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 4, "{status:#}");
    assert!(stages.iter().all(|s| s["pending"] == 0 && s["leased"] == 0 && s["parked"] == 0), "{status:#}");
    assert!(!status["activity"]["pull_quota"].as_array().unwrap().is_empty(), "{status:#}");
    // Its frame is the report's, object for object.
    let out = finish(
        hubcensus(&sim, &url, &["report", "--format", "json"]).stdout(Stdio::piped()).spawn().unwrap(),
    )
    .await;
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["frame"], report["frame"]);
    let kept = truth.repositories.iter().filter(|r| r.exclusion.is_none()).count();
    assert_eq!(report["frame"]["repositories_kept"], kept);

    // Running `census` again resumes nothing and changes nothing.
    let layers = scalar(&store, "SELECT sum(scan_count) FROM layers").await;
    let out = finish(hubcensus(&sim, &url, &["census"]).stderr(Stdio::piped()).spawn().unwrap()).await;
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has finished"));
    assert_eq!(scalar(&store, "SELECT sum(scan_count) FROM layers").await, layers);
    sim.shutdown().await;
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn discover_records_the_frame_and_leaves_the_images_to_the_census(pool: PgPool) {
    let store = Store::from_pool(pool.clone());
    let url = database_url(&pool);
    let (sim, truth) = start_sim(150, 0.0).await;
    let out = finish(
        hubcensus(&sim, &url, &["discover"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap(),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let public = truth.repositories.iter().filter(|r| !r.private).count();
    let kept = truth.repositories.iter().filter(|r| r.exclusion.is_none()).count();
    assert!(stdout.contains(&format!("repositories seen{public:>16}")), "{stdout}");
    assert!(stdout.contains(&format!("kept for analysis{kept:>16}")), "{stdout}");
    assert!(stdout.contains("excluded: official"), "{stdout}");
    // Tags are selected, images are left for `census`/`worker`.
    assert_eq!(scalar(&store, "SELECT count(*) FROM images").await, 0);
    assert_eq!(
        scalar(&store, "SELECT count(DISTINCT repository_id) FROM tags WHERE selected").await,
        kept as i64
    );
    assert!(
        scalar(&store, "SELECT count(*) FROM jobs WHERE stage = 'resolve' AND state = 'pending'").await > 0
    );
    sim.shutdown().await;
}

/// What a successful `hubcensus` command printed.
async fn output(sim: &Sim, url: &str, args: &[&str]) -> String {
    let out =
        finish(hubcensus(sim, url, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
            .await;
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Issue #16 from the command line: `census --sample`, a `worker` joining, the report's
/// estimates in every format, and `plan`.
#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_16_a_sampled_census_from_the_command_line(pool: PgPool) {
    let store = Store::from_pool(pool.clone());
    let url = database_url(&pool);
    let (sim, _truth) = start_sim(200, 0.0).await;
    let mut census = Reaped(Some(
        hubcensus(&sim, &url, &["census", "--sample", "40", "--seed", "3", "--strata", "pulls"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    wait_for(&store, "SELECT count(*) FROM census_runs", 1, census.child()).await;
    let worker = Reaped(Some(
        hubcensus(&sim, &url, &["worker", "--id", "joining"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let out = census.finish().await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = worker.finish().await;
    assert_eq!(scalar(&store, "SELECT count(*) FROM sample_repositories").await, 40);
    assert_eq!(
        scalar(
            &store,
            "SELECT count(*) FROM tags t WHERE NOT EXISTS
                 (SELECT 1 FROM sample_repositories sr WHERE sr.repository_id = t.repository_id)"
        )
        .await,
        0,
        "only the sample's tags were listed"
    );

    let report: serde_json::Value =
        serde_json::from_str(&output(&sim, &url, &["report", "--format", "json"]).await).unwrap();
    assert_eq!(report["design"], "stratified");
    assert_eq!(report["sample_size"], 40);
    assert_eq!(report["sample"]["drawn"], 40);
    assert_eq!(report["sample"]["seed"], 3);
    for row in report["categories"].as_array().unwrap() {
        let (low, est, high) = (
            row["ci_low"].as_f64().unwrap(),
            row["estimate"].as_f64().unwrap(),
            row["ci_high"].as_f64().unwrap(),
        );
        assert!(low <= est && est <= high && high > low, "{row}");
    }
    let table = output(&sim, &url, &["report"]).await;
    assert!(table.contains("% of frame [95% CI]") && table.contains("sample outcome"), "{table}");
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    let csv = output(&sim, &url, &["report", "--format", "csv"]).await;
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with("estimate,ci_low,ci_high,estimate_images,ci_low_images,ci_high_images")
    );
    let html = output(&sim, &url, &["report", "--format", "html"]).await;
    assert!(
        html.contains("Estimates for the frame") && html.matches("<path d=").count() == 9,
        "an error bar per category"
    );

    let plan: serde_json::Value =
        serde_json::from_str(&output(&sim, &url, &["plan", "--sample", "80", "--format", "json"]).await)
            .unwrap();
    assert_eq!(plan["sample_size"], 80);
    let done = plan["already_done"].as_u64().unwrap();
    assert!(done > 0 && done <= 40, "{plan}");
    assert!(plan["half_width"].as_f64().unwrap() > 0.0);
    let inverse: serde_json::Value = serde_json::from_str(
        &output(&sim, &url, &["plan", "--half-width", "0.05", "--within", "1h", "--format", "json"]).await,
    )
    .unwrap();
    assert!(inverse["target"]["sample_size_needed"].as_u64().unwrap() > 0, "{inverse}");
    // An extension with another seed is refused, naming what to do.
    let out = finish(
        hubcensus(&sim, &url, &["census", "--sample", "60", "--seed", "4", "--strata", "pulls"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("seed 3"));
    sim.shutdown().await;
}
