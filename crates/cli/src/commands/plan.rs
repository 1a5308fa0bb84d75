//! `hubcensus plan`: how long a sample of N takes, and how precise it will be.
//!
//! Once the frame is discovered, a sample's cost is one Hub API tag listing per repository
//! drawn (and a detail request for one whose status no listing gave), a manifest HEAD per tag
//! and a GET (a pull) per new image. Three budgets pace them: `[hub] requests_per_minute`,
//! `[registry] manifest_requests_per_minute`, and the pull quota per window. The stages run
//! side by side, so the slowest budget sets the time. The pull quota is spent in cycles: the
//! resolve stage pulls until the quota falls to `[registry] pull_reserve`, then waits one
//! window from that moment (`crates/registry/src/quota.rs`: Hub never says when pulls come
//! back), so a cycle is the window plus the time to spend the usable quota.
//!
//! Measured inputs win over configured ones: pulls per image and images per listed repository
//! from what the database holds, and the quota (limit and window) from the registry's own
//! headers as workers last saw them (`status`). Stage rates are not used: a rate measured while
//! a budget binds measures that budget, not what a sample would meet. Precision is the
//! interval `report` will print: Wilson's with the finite population correction at the stated
//! prevalence (`hubcensus-estimate`).

use std::{fmt::Write as _, process::ExitCode, time::Duration};

use anyhow::Context as _;
use hubcensus_estimate::{Z95, half_width, sample_size_for};
use serde::Serialize;

use crate::{
    cli::{PlanArgs, StatusFormat},
    config::Settings,
    format::thousands_u,
};

/// Quota snapshots older than this are from workers long gone.
const QUOTA_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The budgets and measured costs a plan rests on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct Model {
    hub_requests_per_minute: f64,
    manifest_requests_per_minute: f64,
    /// Pulls per window (`None`: unlimited, a paid plan).
    pull_quota: Option<u64>,
    pull_window_secs: f64,
    pull_reserve: u64,
    /// `measured` (a registry said) or `configured`.
    quota_source: &'static str,
    pulls_per_image: f64,
    images_per_repository: f64,
    hub_requests_per_repository: f64,
}

/// How long `repositories` drawn repositories take, budget by budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct Timing {
    repositories: u64,
    pulls: f64,
    hub_api_secs: f64,
    manifest_pacing_secs: f64,
    pull_quota_secs: f64,
    total_secs: f64,
    binding: &'static str,
}

impl Model {
    fn timing(&self, repositories: u64) -> Timing {
        let units = repositories as f64;
        let images = units * self.images_per_repository;
        let pulls = images * self.pulls_per_image;
        let hub_api_secs = 60.0 * units * self.hub_requests_per_repository / self.hub_requests_per_minute;
        // A HEAD per tag and the GETs of new images share the manifest budget.
        let manifest_requests = images * (1.0 + self.pulls_per_image);
        let manifest_pacing_secs = 60.0 * manifest_requests / self.manifest_requests_per_minute;
        let pull_quota_secs = match self.pull_quota {
            Some(limit) if pulls > 0.0 => {
                let usable = limit.saturating_sub(self.pull_reserve).max(1) as f64;
                let pulls_per_sec = self.manifest_requests_per_minute / 60.0 * self.pulls_per_image
                    / (1.0 + self.pulls_per_image);
                let spend = |n: f64| n / pulls_per_sec;
                let cycles = (pulls / usable).ceil();
                (cycles - 1.0) * (self.pull_window_secs + spend(usable))
                    + spend(pulls - (cycles - 1.0) * usable)
            }
            _ => 0.0,
        };
        let (total_secs, binding) = [
            (hub_api_secs, "Hub API requests per minute"),
            (manifest_pacing_secs, "manifest requests per minute"),
            (pull_quota_secs, "pull quota"),
        ]
        .into_iter()
        .fold((0.0, "none"), |best, (secs, name)| if secs > best.0 { (secs, name) } else { best });
        Timing {
            repositories,
            pulls,
            hub_api_secs,
            manifest_pacing_secs,
            pull_quota_secs,
            total_secs,
            binding,
        }
    }

    /// The largest sample (at most `frame`) whose remaining work fits in `secs`, given `done`
    /// repositories already analysed.
    fn largest_within(&self, secs: f64, frame: u64, done: u64) -> u64 {
        let (mut lo, mut hi) = (done.min(frame), frame);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.timing(mid - done.min(mid)).total_secs <= secs {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }
}

/// The whole plan, as JSON.
#[derive(Debug, Serialize)]
struct Plan {
    frame_size: u64,
    sample_size: u64,
    /// Repositories of the latest run's sample already processed (their pulls are spent).
    already_done: u64,
    prevalence: f64,
    /// Half the 95% interval's width at `prevalence` for a sample of `sample_size`.
    half_width: f64,
    interval: [f64; 2],
    model: Model,
    timing: Timing,
    target: Option<Target>,
}

/// The inverse question's answer.
#[derive(Debug, Serialize)]
struct Target {
    half_width: f64,
    within_secs: f64,
    sample_size_needed: u64,
    secs_needed: f64,
    fits: bool,
    largest_sample_within: u64,
    half_width_within: f64,
}

pub(crate) async fn run(settings: &Settings, args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let store = crate::wiring::open_store(settings).await?;
    let costs = store.measured_costs().await?;
    let report = store.report(settings.feeds.nrd_window_days).await?;
    let quota = store
        .quota_snapshots(QUOTA_MAX_AGE)
        .await?
        .into_iter()
        .find_map(|q| Some((u64::try_from(q.quota_limit?).ok()?, q.window_secs?)));
    let ratio = |n: i64, d: i64, default: f64| if n > 0 && d > 0 { n as f64 / d as f64 } else { default };
    let model = Model {
        hub_requests_per_minute: f64::from(settings.hub.requests_per_minute),
        manifest_requests_per_minute: f64::from(settings.registry.manifest_requests_per_minute.max(1)),
        pull_quota: Some(quota.map_or(u64::from(settings.registry.pull_quota), |q| q.0)),
        pull_window_secs: quota.map_or(settings.registry.pull_window_secs as f64, |q| q.1 as f64),
        pull_reserve: u64::from(settings.registry.pull_reserve),
        quota_source: if quota.is_some() { "measured" } else { "configured" },
        pulls_per_image: ratio(costs.pulls, costs.images, 1.0),
        images_per_repository: ratio(costs.images, costs.repositories_listed, 1.0),
        hub_requests_per_repository: 1.0 + ratio(costs.kept_without_status, costs.kept, 0.0),
    };
    let frame = args.frame_size.unwrap_or_else(|| match &report.sample {
        Some(_) => u64::try_from(report.frame_size).unwrap_or(0),
        None => u64::try_from(costs.kept).unwrap_or(0),
    });
    let already_done = report.sample.as_ref().map_or(0, |s| {
        s.analysed + s.excluded.iter().map(|e| u64::try_from(e.repositories).unwrap_or(0)).sum::<u64>()
    });
    let sample_size = args
        .sample
        .or_else(|| report.sample.as_ref().map(|_| u64::try_from(report.sample_size).unwrap_or(0)))
        .unwrap_or(frame)
        .min(frame);
    let prevalence = args.prevalence.unwrap_or(settings.sample.plan_prevalence);
    anyhow::ensure!((0.0..=1.0).contains(&prevalence), "--prevalence is a proportion in [0, 1]");
    let hw = half_width(prevalence, sample_size, frame, Z95);
    let target = match (args.half_width, &args.within) {
        (Some(h), Some(within)) => {
            anyhow::ensure!(h > 0.0 && h < 0.5, "--half-width is a proportion in (0, 0.5)");
            let within_secs =
                parse_duration(within).with_context(|| format!("--within {within:?}"))?.as_secs_f64();
            let needed = sample_size_for(h, prevalence, frame, Z95);
            let secs_needed = model.timing(needed.saturating_sub(already_done)).total_secs;
            let largest = model.largest_within(within_secs, frame, already_done);
            Some(Target {
                half_width: h,
                within_secs,
                sample_size_needed: needed,
                secs_needed,
                fits: secs_needed <= within_secs,
                largest_sample_within: largest,
                half_width_within: half_width(prevalence, largest, frame, Z95),
            })
        }
        _ => None,
    };
    let centre = hubcensus_estimate::expected_interval(prevalence, sample_size, frame, Z95);
    let plan = Plan {
        frame_size: frame,
        sample_size,
        already_done: already_done.min(sample_size),
        prevalence,
        half_width: hw,
        interval: [centre.low, centre.high],
        model,
        timing: model.timing(sample_size.saturating_sub(already_done)),
        target,
    };
    match args.format {
        StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
        StatusFormat::Table => print!("{}", render(&plan)),
    }
    Ok(ExitCode::SUCCESS)
}

fn render(p: &Plan) -> String {
    let m = &p.model;
    let t = &p.timing;
    let mut out = String::new();
    let quota = m.pull_quota.map_or_else(
        || "unlimited".to_owned(),
        |q| {
            format!(
                "{q} per {} ({}), reserve {}",
                human_duration(m.pull_window_secs),
                m.quota_source,
                m.pull_reserve
            )
        },
    );
    let lines = [
        ("frame", format!("{} repositories", thousands_u(p.frame_size))),
        (
            "sample",
            format!(
                "{} repositories ({} already done)",
                thousands_u(p.sample_size),
                thousands_u(p.already_done)
            ),
        ),
        (
            "precision",
            format!(
                "±{:.4} (95% half-width) at prevalence {:.4}: interval about [{:.4}, {:.4}]",
                p.half_width, p.prevalence, p.interval[0], p.interval[1]
            ),
        ),
        (
            "budgets",
            format!(
                "Hub API {}/min; manifests {}/min; pull quota {quota}",
                m.hub_requests_per_minute, m.manifest_requests_per_minute
            ),
        ),
        (
            "measured",
            format!(
                "{:.3} pulls per image, {:.3} images per listed repository, {:.3} Hub API requests per repository",
                m.pulls_per_image, m.images_per_repository, m.hub_requests_per_repository
            ),
        ),
        (
            "time",
            format!(
                "{} for {} repositories ({:.0} pulls): Hub API {}, manifest pacing {}, pull quota {}; bound by {}",
                human_duration(t.total_secs),
                thousands_u(t.repositories),
                t.pulls,
                human_duration(t.hub_api_secs),
                human_duration(t.manifest_pacing_secs),
                human_duration(t.pull_quota_secs),
                t.binding
            ),
        ),
    ];
    for (term, value) in lines {
        let _ = writeln!(out, "{term:<11}{value}");
    }
    if let Some(target) = &p.target {
        let _ = writeln!(
            out,
            "{:<11}±{} needs {} repositories, {}: {} within {}; {} repositories fit (±{:.4})",
            "target",
            target.half_width,
            thousands_u(target.sample_size_needed),
            human_duration(target.secs_needed),
            if target.fits { "fits" } else { "does not fit" },
            human_duration(target.within_secs),
            thousands_u(target.largest_sample_within),
            target.half_width_within
        );
    }
    out
}

/// `90s`, `45m`, `6h`, `3d` (or plain seconds).
fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let (number, unit) =
        text.split_at(text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len()));
    let n: f64 = number.parse().context("a number followed by s, m, h or d")?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        other => anyhow::bail!("unknown unit {other:?}: use s, m, h or d"),
    };
    anyhow::ensure!(n.is_finite() && n >= 0.0, "a duration is not negative");
    Ok(Duration::from_secs_f64(n * scale))
}

/// `2 h 05 min`, `45 s`, `3.2 days`.
fn human_duration(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7_200.0 {
        format!("{:.1} min", secs / 60.0)
    } else if secs < 172_800.0 {
        format!("{:.1} h", secs / 3600.0)
    } else {
        format!("{:.1} days", secs / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(quota: Option<u64>) -> Model {
        Model {
            hub_requests_per_minute: 180.0,
            manifest_requests_per_minute: 120.0,
            pull_quota: quota,
            pull_window_secs: 21_600.0,
            pull_reserve: 5,
            quota_source: "configured",
            pulls_per_image: 1.0,
            images_per_repository: 1.0,
            hub_requests_per_repository: 1.0,
        }
    }

    #[test]
    fn an_anonymous_quota_binds_in_six_hour_cycles() {
        // 1,000 repositories, 1 image and 1 pull each: 1,000 pulls at 95 usable per window.
        // Pacing: HEAD + GET per image at 120/min = 60 pulls/min, so 95 pulls take 95 s.
        // Cycles: ceil(1000 / 95) = 11; 10 full cycles of (21,600 + 95) s, then 50 pulls (50 s):
        // 216,950 + 50 = 217,000 s. Hub API: 1,000 / 180 per minute = 333.3 s.
        let t = model(Some(100)).timing(1_000);
        assert!((t.pull_quota_secs - 217_000.0).abs() < 1e-6, "{t:?}");
        assert!((t.hub_api_secs - 1000.0 / 3.0).abs() < 1e-6);
        assert!((t.manifest_pacing_secs - 1000.0).abs() < 1e-6);
        assert_eq!(t.binding, "pull quota");
        // Within one window the quota does not bind: pacing does (90 pulls, 90 s).
        let t = model(Some(100)).timing(90);
        assert_eq!((t.pull_quota_secs, t.binding), (90.0, "manifest requests per minute"));
        // Unlimited (a paid plan): the Hub API and manifest pacing only.
        let t = model(None).timing(1_000);
        assert_eq!((t.pull_quota_secs, t.total_secs), (0.0, 1000.0));
    }

    #[test]
    fn the_largest_sample_within_a_time_is_the_inverse() {
        let m = model(Some(100));
        // Two cycles fit in 12 h (2 × 21,695 s is more; one cycle and a part is less).
        let n = m.largest_within(12.0 * 3600.0, 100_000, 0);
        assert!(m.timing(n).total_secs <= 12.0 * 3600.0);
        assert!(m.timing(n + 1).total_secs > 12.0 * 3600.0);
        assert_eq!(n, 95 + 95, "two windows' usable pulls: {n}");
        // Done repositories cost nothing again.
        assert_eq!(m.largest_within(0.0, 1000, 40), 40);
    }

    #[test]
    fn durations_read_and_print() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("6h").unwrap(), Duration::from_secs(21_600));
        assert_eq!(parse_duration("1.5d").unwrap(), Duration::from_secs(129_600));
        assert!(parse_duration("3 weeks").is_err());
        assert_eq!(human_duration(45.0), "45 s");
        assert_eq!(human_duration(21_600.0), "6.0 h");
    }
}
