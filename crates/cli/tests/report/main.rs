//! End-to-end tests of `hubcensus report` and `hubcensus feeds`: the binary against a real
//! Postgres database (a fresh one per test from `#[sqlx::test]`, filled through the store's
//! write API), checked against the views it reports on.

// Test helpers outside #[test] functions unwrap too: a panic is the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod census;
mod clusters;
mod feeds;
mod formats;

use std::process::{Command, Output};

use serde_json::Value;
use sqlx::PgPool;

/// The URL of the test's own database: `DATABASE_URL`'s server (where `#[sqlx::test]` creates
/// its databases) with the pool's database name.
fn url_of(pool: &PgPool) -> String {
    let server = std::env::var("DATABASE_URL").expect("DATABASE_URL names the test server");
    let database = pool.connect_options().get_database().expect("sqlx::test names its database").to_owned();
    with_database(&server, &database)
}

/// `url` with its database part replaced by `database` (query parameters kept).
fn with_database(url: &str, database: &str) -> String {
    let (head, query) = url.split_once('?').map_or((url, None), |(h, q)| (h, Some(q)));
    let authority = head.find("://").map_or(0, |i| i + 3);
    let base = head[authority..].find('/').map_or(head, |i| &head[..authority + i]);
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Runs `hubcensus ARGS...` against `pool`'s database, with no config file.
fn hubcensus(pool: &PgPool, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubcensus"))
        .args(args)
        .env("DATABASE_URL", url_of(pool))
        .env_remove("HUBCENSUS_CONFIG")
        .env_remove("HUBCENSUS_DATABASE__URL")
        .env_remove("HUBCENSUS_FEEDS__NRD_WINDOW_DAYS")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs it, insists on exit 0, and returns stdout.
fn stdout_of(pool: &PgPool, args: &[&str]) -> String {
    let out = hubcensus(pool, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "hubcensus {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// `hubcensus report --format json EXTRA...`, parsed.
fn json_report(pool: &PgPool, extra: &[&str]) -> Value {
    let mut args = vec!["report", "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&stdout_of(pool, &args)).unwrap()
}

/// The non-exclusive image count of `category` in a JSON report.
fn images_in(report: &Value, category: &str) -> i64 {
    report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == category)
        .unwrap_or_else(|| panic!("no row for {category}"))["images"]
        .as_i64()
        .unwrap()
}

#[test]
fn database_urls_keep_their_server_and_parameters() {
    assert_eq!(with_database("postgres://u@h:5432/postgres", "t1"), "postgres://u@h:5432/t1");
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
        "postgres://u:p@h/t2?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
}
