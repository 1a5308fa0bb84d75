//! `hubcensus status`: where a census stands, read from the database.

use std::{fmt::Write as _, process::ExitCode, time::Duration};

use hubcensus_store::{
    budgets::{BudgetState, Spender},
    quota::QuotaSnapshot,
    status::Status,
};
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

/// What the workers are doing: jobs finished per minute, the budgets they share and who spends
/// them, and the pull quota each last saw.
#[derive(Debug, Default, Serialize)]
struct Activity {
    /// Jobs done per minute over the last five minutes, per stage.
    rates_per_minute: Vec<(String, f64)>,
    /// The budgets shared through the database, as they stand now.
    budgets: Vec<BudgetState>,
    /// Who spent each budget (workers seen within the quota's snapshot age).
    budget_spenders: Vec<Spender>,
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
    let activity = Activity {
        rates_per_minute,
        budgets: store.budgets().await?,
        budget_spenders: store.budget_spenders(QUOTA_MAX_AGE).await?,
        pull_quota: store.quota_snapshots(QUOTA_MAX_AGE).await?,
    };
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
    if !a.budgets.is_empty() {
        let _ = writeln!(out, "\nbudgets (shared by every worker)");
    }
    for b in &a.budgets {
        let _ = writeln!(out, "  {}", b.name);
        let _ = writeln!(out, "    {}", budget_line(b));
        for s in a.budget_spenders.iter().filter(|s| s.budget == b.name) {
            let _ = writeln!(
                out,
                "    {:<40} {:>10} spent, last at {}",
                s.worker,
                s.spent,
                s.last_seen.format("%Y-%m-%d %H:%M:%SZ")
            );
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

/// A budget's state in one line: its rate or window, and what is left now.
fn budget_line(b: &BudgetState) -> String {
    let Some(available) = b.available else {
        return "no quota: the registry's last manifest answer carried none".into();
    };
    if b.kind == "rate" {
        return format!(
            "{:.0} requests/min, {available:.1} available now{}",
            b.per_window,
            if available < 0.0 { " (requests scheduled ahead)" } else { "" }
        );
    }
    let registry = match (b.observed_remaining, b.observed_at) {
        (Some(r), Some(at)) => format!(", registry said {r} left at {}", at.format("%H:%M:%SZ")),
        _ => String::new(),
    };
    format!(
        "{:.0} pulls per {:.0} s window: {} taken in the window{registry}, reserve {:.0}, {:.0} available now",
        b.per_window,
        b.window_secs,
        b.taken_in_window.unwrap_or(0),
        b.reserve,
        available.max(0.0)
    )
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
        let now = chrono::Utc::now();
        let activity = Activity {
            rates_per_minute: vec![("scan_layer".into(), 42.5)],
            budgets: vec![
                BudgetState {
                    name: "hub_api https://hub.docker.com".into(),
                    kind: "rate".into(),
                    per_window: 180.0,
                    window_secs: 60.0,
                    available: Some(2.5),
                    taken_in_window: None,
                    observed_remaining: None,
                    observed_at: None,
                    reserve: 0.0,
                    unlimited: false,
                },
                BudgetState {
                    name: "pull_quota https://registry-1.docker.io".into(),
                    kind: "quota".into(),
                    per_window: 100.0,
                    window_secs: 21_600.0,
                    available: Some(19.0),
                    taken_in_window: Some(76),
                    observed_remaining: Some(24),
                    observed_at: Some(now),
                    reserve: 5.0,
                    unlimited: false,
                },
            ],
            budget_spenders: vec![Spender {
                budget: "hub_api https://hub.docker.com".into(),
                worker: "h:1:ab".into(),
                spent: 1234,
                last_seen: now,
            }],
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
        assert!(page.contains("180 requests/min, 2.5 available now"), "{page}");
        assert!(
            page.contains("100 pulls per 21600 s window: 76 taken in the window, registry said 24 left"),
            "{page}"
        );
        assert!(page.contains("h:1:ab") && page.contains("1234 spent"), "{page}");
    }
}
