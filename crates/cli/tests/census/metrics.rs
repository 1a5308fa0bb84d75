//! Issue #17, point 5: `census --metrics` serves Prometheus metrics while it runs, and they
//! move: scraped during a hubsim census, this process's jobs done grow, and the census-wide
//! figures (budgets, findings, bytes scanned) appear. An address off loopback is refused.

use std::{
    io::{Read as _, Write as _},
    net::{SocketAddr, TcpListener, TcpStream},
    process::Stdio,
    time::{Duration, Instant},
};

use sqlx::PgPool;

use crate::{Reaped, database_url, finish, hubcensus, start_sim};

/// The `/metrics` page, or `None` while nothing listens.
async fn scrape(addr: SocketAddr) -> Option<String> {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
        let mut page = String::new();
        stream.read_to_string(&mut page).ok()?;
        Some(page)
    })
    .await
    .unwrap()
}

/// The value of the sample whose name and labels are exactly `series`.
fn value(page: &str, series: &str) -> Option<f64> {
    page.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_census_serves_metrics_that_move(pool: PgPool) {
    let url = database_url(&pool);
    let (sim, _truth) = start_sim(150, 0.0).await;
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();

    let refused = finish(
        hubcensus(&sim, &url, &["census", "--metrics", &format!("0.0.0.0:{}", addr.port())])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
    .await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refusing to serve metrics"));

    let mut census = Reaped(Some(
        hubcensus(&sim, &url, &["census", "--metrics", &addr.to_string()])
            .env("HUBCENSUS_METRICS__REFRESH_SECS", "1")
            .env("HUBCENSUS_CENSUS__PROGRESS_MILLIS", "200")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let done = r#"hubcensus_jobs_done_total{stage="scan_layer"}"#;
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut seen: Vec<f64> = Vec::new();
    let mut last_page = String::new();
    while seen.len() < 2 || seen.first() == seen.last() {
        assert!(Instant::now() < deadline, "the counter never moved: {seen:?}\n{last_page}");
        assert!(
            census.child().try_wait().unwrap().is_none(),
            "the census ended before its metrics moved: {seen:?}"
        );
        if let Some(page) = scrape(addr).await {
            if let Some(v) = value(&page, done).filter(|v| *v > 0.0) {
                seen.push(v);
            }
            last_page = page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "a counter never goes down: {seen:?}");
    // The census-wide figures are read from the database every second.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = scrape(addr).await.unwrap_or_default();
        let budget = page
            .lines()
            .any(|l| l.starts_with(r#"hubcensus_budget_available{budget="hub_api http://127.0.0.1:"#));
        let scanned = value(&page, "hubcensus_census_bytes_scanned").is_some_and(|v| v > 0.0);
        let downloaded = value(&page, "hubcensus_bytes_downloaded_total").is_some_and(|v| v > 0.0);
        let findings = page.lines().any(|l| l.starts_with("hubcensus_census_findings{category="));
        if budget && scanned && downloaded && findings {
            assert!(page.contains(r#"hubcensus_queue_jobs{stage="resolve",state="done"}"#), "{page}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "budget {budget}, scanned {scanned}, downloaded {downloaded}, findings {findings}:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let out = census.finish().await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    sim.shutdown().await;
}
