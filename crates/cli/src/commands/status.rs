//! `hubcensus status`: where a census stands, read from the database.

use std::{fmt::Write as _, process::ExitCode, time::Duration};

use hubcensus_store::{quota::QuotaSnapshot, status::Status};
use serde::Serialize;

use crate::{
    cli::{StatusArgs, StatusFormat},
    config::Settings,
    format::{coverage_lines, frame_lines, human_bytes},
};

/// Rates count the jobs finished within this window.
const RATE_WINDOW: Duration = Duration::from_secs(300);
/// Pull-quota snapshots older than this are from workers long gone.
const QUOTA_MAX_AGE: Duration = Duration::from_secs(6 * 3600);

/// What the workers are doing: jobs finished per minute, and the pull quota they last saw.
#[derive(Debug, Default, Serialize)]
struct Activity {
    /// Jobs done per minute over the last five minutes, per stage.
    rates_per_minute: Vec<(String, f64)>,
    /// Each worker's last pull-quota snapshot, newest first.
    pull_quota: Vec<QuotaSnapshot>,
}

pub(crate) async fn run(settings: &Settings, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let store = crate::wiring::open_store(settings).await?;
    let status = store.status(args.parked).await?;
    #[allow(clippy::cast_precision_loss)] // a rate for display
    let rates_per_minute = store
        .stage_rates(RATE_WINDOW)
        .await?
        .into_iter()
        .map(|r| (r.stage, r.done as f64 * 60.0 / RATE_WINDOW.as_secs_f64()))
        .collect();
    let activity = Activity { rates_per_minute, pull_quota: store.quota_snapshots(QUOTA_MAX_AGE).await? };
    match args.format {
        StatusFormat::Json => {
            let mut value = serde_json::to_value(&status)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("activity".into(), serde_json::to_value(&activity)?);
            }
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        StatusFormat::Table => print!("{}{}", render(&status), render_activity(&activity)),
    }
    Ok(ExitCode::SUCCESS)
}

/// Rates and the pull quota, under the status page.
fn render_activity(a: &Activity) -> String {
    let mut out = String::new();
    if !a.rates_per_minute.is_empty() {
        let _ = writeln!(out, "\njobs per minute (last 5 minutes)");
        for (stage, rate) in &a.rates_per_minute {
            let _ = writeln!(out, "  {stage:<20} {rate:>10.1}");
        }
    }
    if !a.pull_quota.is_empty() {
        let _ = writeln!(out, "\npull quota (last seen per worker)");
        for q in &a.pull_quota {
            let remaining = q.remaining.map_or_else(|| "unlimited".to_owned(), |r| r.to_string());
            let limit = q.quota_limit.map(|l| format!(" of {l}")).unwrap_or_default();
            let reset = q
                .reset_at
                .map(|t| format!(", back at {}", t.format("%Y-%m-%d %H:%M:%SZ")))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} @ {}: {remaining}{limit} left, {} pulls spent{reset} (as of {})",
                q.worker,
                q.registry,
                q.pulls_spent,
                q.updated_at.format("%H:%M:%SZ")
            );
        }
    }
    out
}

/// The human-readable status page.
fn render(s: &Status) -> String {
    let mut out = String::new();
    let t = &s.totals;
    let _ = writeln!(out, "census database: {} run(s)", t.runs);
    let _ = writeln!(out, "\nframe");
    out.push_str(&frame_lines(&s.frame, "  "));
    if let Some(coverage) = &s.coverage {
        let _ = writeln!(out, "\ncoverage of run {}", coverage.run_id);
        for (term, value) in coverage_lines(coverage) {
            // Under its own heading the report's "coverage: " prefix says nothing new.
            let term = term.strip_prefix("coverage: ").unwrap_or(&term);
            let _ = writeln!(out, "  {term}: {value}");
        }
    }
    let _ = writeln!(out, "\nwork queues            pending     leased       done     parked");
    if s.stages.is_empty() {
        let _ = writeln!(out, "  (no jobs yet)");
    }
    for st in &s.stages {
        let _ = writeln!(
            out,
            "  {:<20} {:>9} {:>10} {:>10} {:>10}",
            st.stage, st.pending, st.leased, st.done, st.parked
        );
    }
    let _ =
        writeln!(out, "\nimages                 {:>10} resolved, {} analysed", t.images, t.images_analysed);
    let _ = writeln!(
        out,
        "layers                 {:>10} unique: {} scanned, {} failed, {} skipped",
        t.layers, t.layers_scanned, t.layers_failed, t.layers_skipped
    );
    let _ = writeln!(out, "bytes scanned          {:>10}", human_bytes(t.bytes_scanned));
    let _ = writeln!(out, "findings               {:>10}", t.findings);
    let _ = writeln!(out, "indicators             {:>10}", t.indicators);
    let _ = writeln!(out, "feeds                  {:>10}", t.feeds);
    if !s.parked.is_empty() {
        let _ = writeln!(out, "\nparked jobs (most recent first)");
        for p in &s.parked {
            let err = p.last_error.as_deref().unwrap_or("-");
            let _ = writeln!(out, "  {} {} after {} attempts: {err}", p.stage, p.key, p.attempts);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_empty_census_honestly() {
        let page = render(&Status::default());
        assert!(page.contains("repositories seen               0"));
        assert!(page.contains("(no jobs yet)"));
        assert_eq!(render_activity(&Activity::default()), "");
    }

    #[test]
    fn activity_shows_rates_and_the_quota() {
        let activity = Activity {
            rates_per_minute: vec![("scan_layer".into(), 42.5)],
            pull_quota: vec![QuotaSnapshot {
                worker: "h:1:ab".into(),
                registry: "registry-1.docker.io".into(),
                quota_limit: Some(100),
                remaining: Some(76),
                window_secs: Some(21_600),
                reset_at: None,
                pulls_spent: 24,
                updated_at: chrono::Utc::now(),
            }],
        };
        let page = render_activity(&activity);
        assert!(page.contains("scan_layer                 42.5"), "{page}");
        assert!(page.contains("76 of 100 left, 24 pulls spent"), "{page}");
    }
}
