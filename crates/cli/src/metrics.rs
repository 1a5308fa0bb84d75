//! Prometheus metrics for long runs: `census` and `worker` serve `/metrics` on a loopback
//! address (`--metrics ADDR` or `[metrics] listen`) so a census that runs for days can be
//! watched and alerted on without anyone running `status`.
//!
//! What this process did comes from the pipeline's own progress snapshots (it reports through
//! the `Progress` trait, which this module wraps): jobs done, failed and parked per stage, bytes
//! downloaded. What the whole census stands at comes from the database every
//! `[metrics] refresh_secs`: queue sizes, bytes scanned, findings per category, and each
//! shared budget's level. The exporter is `metrics-exporter-prometheus` behind the `metrics`
//! facade; nothing else in the workspace knows about it.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use hubcensus_pipeline::{Event, Progress, Snapshot};
use hubcensus_store::Store;
use metrics::{counter, gauge};
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::config::Settings;

/// Where to serve metrics: the flag over `[metrics] listen`; `None` when neither is set. A
/// non-loopback address is refused unless `[metrics] allow_non_loopback` is on: the
/// endpoint has no authentication and shows what the census found.
///
/// # Errors
/// An address that does not parse, or one off loopback without the switch.
pub(crate) fn listen_addr(
    settings: &Settings,
    flag: Option<SocketAddr>,
) -> anyhow::Result<Option<SocketAddr>> {
    let configured = settings.metrics.listen.trim();
    let addr = match flag {
        Some(addr) => addr,
        None if configured.is_empty() => return Ok(None),
        None => {
            configured.parse().with_context(|| format!("metrics.listen: {configured:?} is not IP:PORT"))?
        }
    };
    if !addr.ip().is_loopback() {
        anyhow::ensure!(
            settings.metrics.allow_non_loopback,
            "refusing to serve metrics on {addr}, off loopback: the endpoint has no authentication \
             (set metrics.allow_non_loopback to allow it)"
        );
        tracing::warn!(%addr, "serving metrics off loopback, without authentication");
    }
    Ok(Some(addr))
}

/// Starts serving metrics on `addr` (when given) and returns `progress` wrapped so that every
/// snapshot and event also updates them; without an address, `progress` unchanged.
///
/// # Errors
/// The listener cannot be bound, or a recorder is already installed.
pub(crate) fn serve(
    settings: &Settings,
    addr: Option<SocketAddr>,
    store: &Store,
    progress: Arc<dyn Progress>,
) -> anyhow::Result<Arc<dyn Progress>> {
    let Some(addr) = addr else { return Ok(progress) };
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .with_context(|| format!("serving metrics on {addr}"))?;
    tracing::info!(%addr, "serving Prometheus metrics at /metrics");
    let refresh = Duration::from_secs(settings.metrics.refresh_secs.max(1));
    tokio::spawn(refresh_census(store.clone(), refresh));
    Ok(Arc::new(MetricsProgress { inner: progress }))
}

/// Every `every`: the census-wide figures from the database (a failed read is logged and
/// tried again next time: metrics never stop a census).
async fn refresh_census(store: Store, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match store.census_gauges().await {
            Ok(g) => {
                gauge!("hubcensus_census_bytes_scanned").set(g.bytes_scanned as f64);
                for (category, n) in g.findings_by_category {
                    gauge!("hubcensus_census_findings", "category" => category).set(n as f64);
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: reading the census totals"),
        }
        match store.budgets().await {
            Ok(budgets) => {
                for b in budgets {
                    let labels = [("budget", b.name.clone()), ("kind", b.kind.clone())];
                    // An unlimited quota has no level: leave the series out rather than lie.
                    if let Some(available) = b.available {
                        gauge!("hubcensus_budget_available", &labels).set(available);
                    }
                    gauge!("hubcensus_budget_per_window", &labels).set(b.per_window);
                    gauge!("hubcensus_budget_window_seconds", &labels).set(b.window_secs);
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: reading the budgets"),
        }
    }
}

/// The progress sink that also records metrics.
#[derive(Debug)]
struct MetricsProgress {
    inner: Arc<dyn Progress>,
}

impl Progress for MetricsProgress {
    fn update(&self, snapshot: &Snapshot) {
        let mut downloaded = 0;
        for s in &snapshot.stages {
            let stage = s.stage.as_str();
            counter!("hubcensus_jobs_done_total", "stage" => stage).absolute(s.done);
            counter!("hubcensus_jobs_failed_total", "stage" => stage).absolute(s.failed);
            counter!("hubcensus_findings_recorded_total", "stage" => stage).absolute(s.findings);
            gauge!("hubcensus_jobs_in_flight", "stage" => stage).set(s.in_flight as f64);
            if let Some(q) = &s.queue {
                for (state, n) in
                    [("pending", q.pending), ("leased", q.leased), ("done", q.done), ("parked", q.parked)]
                {
                    gauge!("hubcensus_queue_jobs", "stage" => stage, "state" => state).set(n as f64);
                }
            }
            downloaded += s.bytes;
        }
        counter!("hubcensus_bytes_downloaded_total").absolute(downloaded);
        self.inner.update(snapshot);
    }

    fn event(&self, event: &Event) {
        if let Event::Parked { stage, .. } = event {
            counter!("hubcensus_jobs_parked_total", "stage" => stage.as_str()).increment(1);
        }
        self.inner.event(event);
    }
}
